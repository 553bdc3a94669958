/* Similarity of a query to every centroid with the router's SIMD kernels, and the running top-p
   selection. No heap memory: similarities are computed a chunk of clusters at a time on the stack. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* Similarities are computed this many clusters at a time into a stack buffer, feeding a running
   top-p selection, so that routing needs no heap memory whatever the number of clusters. */
#define AV_SIM_CHUNK 256u
/* The int8 path quantises the query this many dimensions at a time on the stack. */
#define AV_Q8_CHUNK 4096u
#define AV_INT8_MAX 127.0

/* ---------------------------------------------------------------------------------------------
 * Similarities and top-p
 * ------------------------------------------------------------------------------------------- */
/* Insert (sim, j) into the sorted top list if it ranks; clusters arrive in increasing index, so an
   equal similarity never displaces an earlier (lower-index) cluster. */
static inline void top_insert(float *tsim, uint32_t *tidx, size_t *n, size_t p, float s, uint32_t j)
{
    if (*n == p && !(s > tsim[p - 1]))
        return;
    size_t pos = *n < p ? (*n)++ : p - 1;
    while (pos > 0 && s > tsim[pos - 1]) {
        tsim[pos] = tsim[pos - 1];
        tidx[pos] = tidx[pos - 1];
        pos--;
    }
    tsim[pos] = s;
    tidx[pos] = j;
}

void av__top_p(const float *sims, size_t k, size_t p, uint32_t *idx)
{
    float tsim[AV_MAX_TOP_P];
    size_t n = 0;
    for (size_t j = 0; j < k; j++)
        top_insert(tsim, idx, &n, p, sims[j], (uint32_t)j);
}

/* Raw (unnormalised-query) similarities of clusters [j0, j0+kc) into out. */
static void chunk_sims(const av_router *r, const float *q, const int8_t *q8_full, double qscale,
                       size_t j0, size_t kc, float *out)
{
    size_t d = r->dim;
    switch (r->centroid_type) {
    case AV_CENTROIDS_F32:
        r->kern->dots_f32(r->centroids + j0 * d, d, kc, d, q, out);
        break;
    case AV_CENTROIDS_F16:
        r->kern->dots_f16(r->centroids_f16 + j0 * d, d, kc, d, q, out);
        break;
    default: {
        /* The query is quantised in chunks of AV_Q8_CHUNK dims (q8_full holds the first chunk
           when d fits in it); integer partial sums are exact, so chunking changes nothing. */
        int64_t acc[AV_SIM_CHUNK] = {0};
        int32_t part[AV_SIM_CHUNK];
        int8_t q8[AV_Q8_CHUNK];
        for (size_t t0 = 0; t0 < d; t0 += AV_Q8_CHUNK) {
            size_t dc = d - t0 < AV_Q8_CHUNK ? d - t0 : AV_Q8_CHUNK;
            const int8_t *qq = q8_full;
            if (!qq || t0 > 0) {
                for (size_t t = 0; t < dc; t++)
                    q8[t] = (int8_t)lrint((double)q[t0 + t] / qscale);
                qq = q8;
            }
            r->kern->dots_i8(r->centroids_i8 + j0 * d + t0, d, kc, dc, qq, part);
            for (size_t j = 0; j < kc; j++)
                acc[j] += part[j];
        }
        for (size_t j = 0; j < kc; j++)
            out[j] = (float)((double)acc[j] * (double)r->centroid_scale[j0 + j] * qscale);
        break;
    }
    }
}

/* Validate the query and find its top-p clusters. inv_norm receives 1/||q|| so that callers can
   report cosine-scaled similarities; tsim (may be NULL) the raw similarities times inv_norm. */
static int nearest(const av_router *r, const float *q, size_t p, uint32_t *tidx, float *tsim_out)
{
    size_t d = r->dim;
    double ss = 0.0, amax = 0.0;
    for (size_t t = 0; t < d; t++) {
        double v = (double)q[t];
        ss += v * v;
        amax = fmax(amax, fabs(v));
    }
    if (!(ss > 0.0) || !isfinite(ss))
        return av__fail(AV_EVECTOR, "the embedding's squared norm is %g", ss);
    double inv = 1.0 / sqrt(ss);
    double qscale = amax / AV_INT8_MAX;
    int8_t q8[AV_Q8_CHUNK];
    const int8_t *q8p = NULL;
    if (r->centroid_type == AV_CENTROIDS_INT8 && d <= AV_Q8_CHUNK) {
        for (size_t t = 0; t < d; t++)
            q8[t] = (int8_t)lrint((double)q[t] / qscale);
        q8p = q8;
    }
    float buf[AV_SIM_CHUNK], tsim[AV_MAX_TOP_P];
    size_t n = 0;
    for (size_t j0 = 0; j0 < r->k; j0 += AV_SIM_CHUNK) {
        size_t kc = r->k - j0 < AV_SIM_CHUNK ? r->k - j0 : AV_SIM_CHUNK;
        chunk_sims(r, q, q8p, qscale, j0, kc, buf);
        for (size_t j = 0; j < kc; j++)
            top_insert(tsim, tidx, &n, p, buf[j], (uint32_t)(j0 + j));
    }
    if (tsim_out)
        for (size_t i = 0; i < p; i++)
            tsim_out[i] = (float)((double)tsim[i] * inv);
    return AV_OK;
}

void av__router_sims(const av_router *r, const float *qn, float *sims)
{
    for (size_t j0 = 0; j0 < r->k; j0 += AV_SIM_CHUNK) {
        size_t kc = r->k - j0 < AV_SIM_CHUNK ? r->k - j0 : AV_SIM_CHUNK;
        double amax = 0.0;
        for (size_t t = 0; t < r->dim; t++)
            amax = fmax(amax, fabs((double)qn[t]));
        chunk_sims(r, qn, NULL, amax > 0.0 ? amax / AV_INT8_MAX : 1.0, j0, kc, sims + j0);
    }
}

int av__router_nearest(const av_router *r, const float *q, size_t p, uint32_t *tidx, float *tsim)
{
    return nearest(r, q, p, tidx, tsim);
}

AV_API int av_route_batch(const av_router *r, const float *embeddings, size_t n, size_t dim,
                          size_t row_stride, float alpha, int32_t *out_models)
{
    int rc = av__check_route_args(r, embeddings, dim, alpha);
    if (rc)
        return rc;
    if (!out_models)
        return av__fail(AV_EINVAL, "out_models is NULL");
    if (row_stride < dim)
        return av__fail(AV_EINVAL, "row_stride=%zu is smaller than dim=%zu", row_stride, dim);
    int first = AV_OK;
    for (size_t i = 0; i < n; i++) {
        int32_t m = av_route(r, embeddings + i * row_stride, dim, alpha);
        out_models[i] = m;
        if (m < 0 && first == AV_OK)
            first = m;
    }
    return first;
}

