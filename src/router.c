/* The router: construction from parts, introspection, the routing rule and feedback updates. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Similarities are computed this many clusters at a time into a stack buffer, feeding a running
   top-p selection, so that routing needs no heap memory whatever the number of clusters. */
#define AV_SIM_CHUNK 256u
/* The int8 path quantises the query this many dimensions at a time on the stack. */
#define AV_Q8_CHUNK 4096u
#define AV_INT8_MAX 127.0

/* ---------------------------------------------------------------------------------------------
 * Allocation
 * ------------------------------------------------------------------------------------------- */
int av__router_alloc(av_router **out, size_t dim, size_t k, size_t m, uint32_t top_p,
                     uint32_t centroid_type)
{
    *out = NULL;
    if (dim == 0 || dim > AV_MAX_DIM || k == 0 || k > AV_MAX_CLUSTERS || m == 0 ||
        m > AV_MAX_MODELS)
        return av__fail(AV_ELIMIT, "dim=%zu n_clusters=%zu n_models=%zu outside the limits", dim,
                        k, m);
    if (top_p == 0 || top_p > k || top_p > AV_MAX_TOP_P)
        return av__fail(AV_EINVAL, "top_p=%u must be in 1..min(n_clusters=%zu, %u)", top_p, k,
                        AV_MAX_TOP_P);
    if (centroid_type > AV_CENTROIDS_INT8)
        return av__fail(AV_EINVAL, "unknown centroid type %u", centroid_type);
    av_router *r = calloc(1, sizeof *r);
    if (!r)
        return av__fail(AV_ENOMEM, "router");
    r->dim = dim;
    r->k = k;
    r->m = m;
    r->top_p = top_p;
    r->centroid_type = centroid_type;
    r->kern = av__kernels();
    pthread_mutex_init(&r->lock, NULL);
    size_t kd = k * dim, km = k * m; /* cannot overflow: both bounded by the limits above */
    bool ok = true;
    switch (centroid_type) {
    case AV_CENTROIDS_F32:
        ok = (r->centroids = av__aligned_alloc(kd * sizeof(float))) != NULL;
        break;
    case AV_CENTROIDS_F16:
        ok = (r->centroids_f16 = av__aligned_alloc(kd * sizeof(uint16_t))) != NULL;
        break;
    default:
        ok = (r->centroids_i8 = av__aligned_alloc(kd)) != NULL &&
             (r->centroid_scale = av__aligned_alloc(k * sizeof(float))) != NULL;
        break;
    }
    ok = ok && (r->names = calloc(m, sizeof *r->names)) != NULL;
    ok = ok && (r->count = calloc(km, sizeof(double))) != NULL;
    ok = ok && (r->sum_score = calloc(km, sizeof(double))) != NULL;
    ok = ok && (r->sum_cost = calloc(km, sizeof(double))) != NULL;
    ok = ok && (r->g_count = calloc(m, sizeof(double))) != NULL;
    ok = ok && (r->g_score = calloc(m, sizeof(double))) != NULL;
    ok = ok && (r->g_cost = calloc(m, sizeof(double))) != NULL;
    ok = ok && (r->norm = av__aligned_alloc(km * 2 * sizeof(uint64_t))) != NULL;
    ok = ok && (r->seq = av__aligned_alloc(k * sizeof(uint32_t))) != NULL;
    ok = ok && (r->gmean_cost = av__aligned_alloc(m * sizeof(uint64_t))) != NULL;
    if (!ok) {
        av_router_free(r);
        return av__fail(AV_ENOMEM, "router arrays for k=%zu, m=%zu, dim=%zu", k, m, dim);
    }
    for (size_t i = 0; i < km * 2; i++)
        atomic_init(&r->norm[i], 0);
    for (size_t j = 0; j < k; j++)
        atomic_init(&r->seq[j], 0);
    for (size_t i = 0; i < m; i++)
        atomic_init(&r->gmean_cost[i], 0);
    *out = r;
    return AV_OK;
}

AV_API void av_router_free(av_router *r)
{
    if (!r)
        return;
    av__aligned_free(r->centroids);
    av__aligned_free(r->centroids_f16);
    av__aligned_free(r->centroids_i8);
    av__aligned_free(r->centroid_scale);
    if (r->names)
        for (size_t i = 0; i < r->m; i++)
            free(r->names[i]);
    free(r->names);
    free(r->count);
    free(r->sum_score);
    free(r->sum_cost);
    free(r->g_count);
    free(r->g_score);
    free(r->g_cost);
    av__aligned_free((void *)r->norm);
    av__aligned_free((void *)r->seq);
    av__aligned_free((void *)r->gmean_cost);
    for (size_t i = 0; i < r->n_meta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    free(r->meta);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* ---------------------------------------------------------------------------------------------
 * Normalised rows and their publication (per-cluster seqlock; docs/THREADING.md)
 * ------------------------------------------------------------------------------------------- */
static uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Row j of the paper's table: for each model the min-max normalised mean score p~ and 1 - q~ (the
   normalised mean cost), a model without outcomes in the cluster taking its global means. When all
   models are equal the normalised value is 0 for every model: a constant cannot move the argmax. */
static void compute_row(const av_router *r, size_t j, double *row)
{
    size_t m = r->m;
    double pmin = INFINITY, pmax = -INFINITY, qmin = INFINITY, qmax = -INFINITY;
    for (size_t i = 0; i < m; i++) {
        size_t ji = j * m + i;
        double p, q;
        if (r->count[ji] > 0.0) {
            p = r->sum_score[ji] / r->count[ji];
            q = r->sum_cost[ji] / r->count[ji];
        } else {
            p = r->g_score[i] / r->g_count[i];
            q = r->g_cost[i] / r->g_count[i];
        }
        row[2 * i] = p;
        row[2 * i + 1] = q;
        pmin = fmin(pmin, p);
        pmax = fmax(pmax, p);
        qmin = fmin(qmin, q);
        qmax = fmax(qmax, q);
    }
    double pr = pmax - pmin, qr = qmax - qmin;
    for (size_t i = 0; i < m; i++) {
        double pn = pr > 0.0 ? (row[2 * i] - pmin) / pr : 0.0;
        double qn = qr > 0.0 ? (row[2 * i + 1] - qmin) / qr : 0.0;
        row[2 * i] = pn;
        row[2 * i + 1] = 1.0 - qn;
    }
}

static void publish_row(av_router *r, size_t j, const double *row)
{
    size_t w = 2 * r->m;
    uint32_t s = atomic_load_explicit(&r->seq[j], memory_order_relaxed);
    atomic_store_explicit(&r->seq[j], s + 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < w; i++)
        atomic_store_explicit(&r->norm[j * w + i], dbits(row[i]), memory_order_relaxed);
    atomic_store_explicit(&r->seq[j], s + 2u, memory_order_release);
}

/* A consistent copy of row j: retried while a writer is inside it (writers touch 2m words). */
static void read_row(const av_router *r, size_t j, double *row)
{
    size_t w = 2 * r->m;
    _Atomic uint64_t *src = r->norm + j * w;
    for (;;) {
        uint32_t s1 = atomic_load_explicit(&r->seq[j], memory_order_acquire);
        if (s1 & 1u)
            continue;
        for (size_t i = 0; i < w; i++)
            row[i] = bitsd(atomic_load_explicit(&src[i], memory_order_relaxed));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&r->seq[j], memory_order_relaxed) == s1)
            return;
    }
}

static void refresh_model_globals(av_router *r, size_t i)
{
    double c = r->g_count[i] > 0.0 ? r->g_cost[i] / r->g_count[i] : 0.0;
    atomic_store_explicit(&r->gmean_cost[i], dbits(c), memory_order_relaxed);
}

int av__router_refresh_all(av_router *r)
{
    size_t k = r->k, m = r->m;
    for (size_t i = 0; i < m; i++) {
        double c = 0, s = 0, q = 0;
        for (size_t j = 0; j < k; j++) {
            c += r->count[j * m + i];
            s += r->sum_score[j * m + i];
            q += r->sum_cost[j * m + i];
        }
        r->g_count[i] = c;
        r->g_score[i] = s;
        r->g_cost[i] = q;
        if (!(c > 0.0))
            return av__fail(AV_EEMPTY, "model %zu (%s) has no outcome in any cluster", i,
                            r->names[i] ? r->names[i] : "?");
        refresh_model_globals(r, i);
    }
    double row[2 * AV_MAX_MODELS];
    for (size_t j = 0; j < k; j++) {
        compute_row(r, j, row);
        publish_row(r, j, row);
    }
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Introspection
 * ------------------------------------------------------------------------------------------- */
AV_API size_t av_router_dim(const av_router *r)
{
    return r ? r->dim : 0;
}

AV_API size_t av_router_n_clusters(const av_router *r)
{
    return r ? r->k : 0;
}

AV_API size_t av_router_n_models(const av_router *r)
{
    return r ? r->m : 0;
}

AV_API size_t av_router_top_p(const av_router *r)
{
    return r ? r->top_p : 0;
}

AV_API const char *av_router_simd_backend(const av_router *r)
{
    return r ? r->kern->name : NULL;
}

AV_API const char *av_router_model_name(const av_router *r, size_t model)
{
    if (!r || model >= r->m)
        return NULL;
    return r->names[model];
}

AV_API int32_t av_router_model_index(const av_router *r, const char *name)
{
    if (!r || !name)
        return av__fail(AV_EINVAL, "router or name is NULL");
    for (size_t i = 0; i < r->m; i++)
        if (strcmp(r->names[i], name) == 0)
            return (int32_t)i;
    return av__fail(AV_EMODEL, "no model named '%s'", name);
}

AV_API int av_router_set_top_p(av_router *r, uint32_t top_p)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    if (top_p == 0 || top_p > r->k || top_p > AV_MAX_TOP_P)
        return av__fail(AV_EINVAL, "top_p=%u must be in 1..min(n_clusters=%zu, %u)", top_p, r->k,
                        AV_MAX_TOP_P);
    r->top_p = top_p;
    return AV_OK;
}

AV_API int av_router_get_centroid(const av_router *r, size_t cluster, float *out, size_t dim)
{
    if (!r || !out)
        return av__fail(AV_EINVAL, "router or output is NULL");
    if (dim != r->dim)
        return av__fail(AV_EDIM, "dim=%zu, router has %zu", dim, r->dim);
    if (cluster >= r->k)
        return av__fail(AV_ERANGE, "cluster %zu of %zu", cluster, r->k);
    size_t base = cluster * r->dim;
    switch (r->centroid_type) {
    case AV_CENTROIDS_F32:
        memcpy(out, r->centroids + base, dim * sizeof(float));
        break;
    case AV_CENTROIDS_F16:
        for (size_t t = 0; t < dim; t++)
            out[t] = av__f16_to_f32(r->centroids_f16[base + t]);
        break;
    default:
        for (size_t t = 0; t < dim; t++)
            out[t] = (float)r->centroids_i8[base + t] * r->centroid_scale[cluster];
        break;
    }
    return AV_OK;
}

AV_API int av_router_cluster_stats(const av_router *r, size_t cluster, size_t model, double *count,
                                   double *sum_score, double *sum_cost)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    if (cluster >= r->k)
        return av__fail(AV_ERANGE, "cluster %zu of %zu", cluster, r->k);
    if (model >= r->m)
        return av__fail(AV_EMODEL, "model %zu of %zu", model, r->m);
    av_router *w = (av_router *)r; /* the lock is the only mutable part of a const router */
    pthread_mutex_lock(&w->lock);
    size_t ji = cluster * r->m + model;
    if (count)
        *count = r->count[ji];
    if (sum_score)
        *sum_score = r->sum_score[ji];
    if (sum_cost)
        *sum_cost = r->sum_cost[ji];
    pthread_mutex_unlock(&w->lock);
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Construction from parts
 * ------------------------------------------------------------------------------------------- */
static int check_names(const char *const *names, size_t m)
{
    if (!names)
        return av__fail(AV_EINVAL, "model_names is NULL");
    for (size_t i = 0; i < m; i++) {
        if (!names[i])
            return av__fail(AV_EINVAL, "model name %zu is NULL", i);
        size_t n = strlen(names[i]);
        if (n == 0 || n > AV_MAX_NAME)
            return av__fail(AV_EINVAL, "model name %zu has length %zu (1..%u)", i, n, AV_MAX_NAME);
        for (size_t h = 0; h < i; h++)
            if (strcmp(names[h], names[i]) == 0)
                return av__fail(AV_EINVAL, "model name '%s' appears twice", names[i]);
    }
    return AV_OK;
}

int av__check_names(const char *const *names, size_t m)
{
    return check_names(names, m);
}

AV_API int av_router_from_parts(av_router **out, size_t dim, size_t n_clusters, size_t n_models,
                                const char *const *model_names, const float *centroids,
                                const double *counts, const double *sum_scores,
                                const double *sum_costs, uint32_t top_p)
{
    if (!out)
        return av__fail(AV_EINVAL, "out is NULL");
    *out = NULL;
    if (!centroids || !counts || !sum_scores || !sum_costs)
        return av__fail(AV_EINVAL, "centroids or statistics are NULL");
    av_router *r;
    int rc = av__router_alloc(&r, dim, n_clusters, n_models, top_p, AV_CENTROIDS_F32);
    if (rc)
        return rc;
    if ((rc = check_names(model_names, n_models)) != AV_OK)
        goto fail;
    for (size_t i = 0; i < n_models; i++)
        if (!(r->names[i] = av__strdup(model_names[i]))) {
            rc = av__fail(AV_ENOMEM, "model names");
            goto fail;
        }
    size_t kd = n_clusters * dim, km = n_clusters * n_models;
    for (size_t t = 0; t < kd; t++)
        if (!isfinite(centroids[t])) {
            rc = av__fail(AV_EVALUE, "centroid %zu has a non-finite value at %zu", t / dim, t % dim);
            goto fail;
        }
    for (size_t t = 0; t < km; t++) {
        double c = counts[t], s = sum_scores[t], q = sum_costs[t];
        if (!isfinite(c) || !isfinite(s) || !isfinite(q) || c < 0.0 || q < 0.0 ||
            (c == 0.0 && (s != 0.0 || q != 0.0))) {
            rc = av__fail(AV_EVALUE,
                          "statistics of cluster %zu, model %zu are invalid (count=%g, "
                          "sum_score=%g, sum_cost=%g)",
                          t / n_models, t % n_models, c, s, q);
            goto fail;
        }
    }
    memcpy(r->centroids, centroids, kd * sizeof(float));
    memcpy(r->count, counts, km * sizeof(double));
    memcpy(r->sum_score, sum_scores, km * sizeof(double));
    memcpy(r->sum_cost, sum_costs, km * sizeof(double));
    if ((rc = av__router_refresh_all(r)) != AV_OK)
        goto fail;
    *out = r;
    return AV_OK;
fail:
    av_router_free(r);
    return rc;
}

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

/* ---------------------------------------------------------------------------------------------
 * Scoring
 * ------------------------------------------------------------------------------------------- */
int32_t av__score_models(const av_router *r, const uint32_t *clusters, const double *weights,
                         size_t p, double alpha, double *scores)
{
    size_t m = r->m;
    double acc[AV_MAX_MODELS] = {0};
    double row[2 * AV_MAX_MODELS];
    double beta = 1.0 - alpha;
    for (size_t c = 0; c < p; c++) {
        read_row(r, clusters[c], row);
        double w = weights ? weights[c] : 1.0;
        for (size_t i = 0; i < m; i++)
            acc[i] += w * (alpha * row[2 * i] + beta * row[2 * i + 1]);
    }
    size_t best = 0;
    double best_cost = bitsd(atomic_load_explicit(&r->gmean_cost[0], memory_order_relaxed));
    for (size_t i = 1; i < m; i++) {
        if (acc[i] > acc[best]) {
            best = i;
            best_cost = bitsd(atomic_load_explicit(&r->gmean_cost[i], memory_order_relaxed));
        } else if (acc[i] == acc[best]) {
            double ci = bitsd(atomic_load_explicit(&r->gmean_cost[i], memory_order_relaxed));
            if (ci < best_cost) {
                best = i;
                best_cost = ci;
            }
        }
    }
    if (scores)
        memcpy(scores, acc, m * sizeof(double));
    return (int32_t)best;
}

static int check_route_args(const av_router *r, const void *emb, size_t dim, float alpha)
{
    if (!r || !emb)
        return av__fail(AV_EINVAL, "router or embedding is NULL");
    if (dim != r->dim)
        return av__fail(AV_EDIM, "embedding has dim %zu, router expects %zu", dim, r->dim);
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return av__fail(AV_EALPHA, "alpha=%g", (double)alpha);
    return AV_OK;
}

AV_API int32_t av_route(const av_router *r, const float *embedding, size_t dim, float alpha)
{
    int rc = check_route_args(r, embedding, dim, alpha);
    if (rc)
        return rc;
    uint32_t idx[AV_MAX_TOP_P];
    if ((rc = nearest(r, embedding, r->top_p, idx, NULL)) != AV_OK)
        return rc;
    return av__score_models(r, idx, NULL, r->top_p, (double)alpha, NULL);
}

AV_API int av_route_batch(const av_router *r, const float *embeddings, size_t n, size_t dim,
                          size_t row_stride, float alpha, int32_t *out_models)
{
    int rc = check_route_args(r, embeddings, dim, alpha);
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

/* ---------------------------------------------------------------------------------------------
 * Feedback
 * ------------------------------------------------------------------------------------------- */
/* Add an outcome (weight w) for model i in cluster j and republish what changed. Caller holds the
   lock. A model's global means move with every outcome, so clusters where it has no outcome of
   its own (and which therefore use those means) are republished too. */
void av__add_outcome_locked(av_router *r, size_t j, size_t i, double w, double score, double cost)
{
    size_t m = r->m, ji = j * m + i;
    r->count[ji] += w;
    r->sum_score[ji] += w * score;
    r->sum_cost[ji] += w * cost;
    r->g_count[i] += w;
    r->g_score[i] += w * score;
    r->g_cost[i] += w * cost;
    refresh_model_globals(r, i);
    double row[2 * AV_MAX_MODELS];
    for (size_t c = 0; c < r->k; c++) {
        if (c == j || !(r->count[c * m + i] > 0.0)) {
            compute_row(r, c, row);
            publish_row(r, c, row);
        }
    }
}

AV_API int av_profile_update(av_router *r, const float *embedding, size_t dim, int32_t model,
                             float score, float cost)
{
    int rc = check_route_args(r, embedding, dim, 0.0f);
    if (rc)
        return rc;
    if (model < 0 || (size_t)model >= r->m)
        return av__fail(AV_EMODEL, "model %d of %zu", (int)model, r->m);
    if (!isfinite(score) || !isfinite(cost) || cost < 0.0f)
        return av__fail(AV_EVALUE, "score=%g cost=%g (finite, cost >= 0)", (double)score,
                        (double)cost);
    uint32_t j;
    if ((rc = nearest(r, embedding, 1, &j, NULL)) != AV_OK)
        return rc;
    pthread_mutex_lock(&r->lock);
    av__add_outcome_locked(r, j, (size_t)model, 1.0, (double)score, (double)cost);
    pthread_mutex_unlock(&r->lock);
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Metadata
 * ------------------------------------------------------------------------------------------- */
AV_API const char *av_router_meta(const av_router *r, const char *key)
{
    if (!r || !key)
        return NULL;
    for (size_t i = 0; i < r->n_meta; i++)
        if (strcmp(r->meta[i].key, key) == 0)
            return r->meta[i].value;
    return NULL;
}

AV_API size_t av_router_meta_count(const av_router *r)
{
    return r ? r->n_meta : 0;
}

AV_API int av_router_meta_at(const av_router *r, size_t i, const char **key, const char **value)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    if (i >= r->n_meta)
        return av__fail(AV_ERANGE, "metadata entry %zu of %zu", i, r->n_meta);
    if (key)
        *key = r->meta[i].key;
    if (value)
        *value = r->meta[i].value;
    return AV_OK;
}

AV_API int av_router_set_meta(av_router *r, const char *key, const char *value)
{
    if (!r || !key || !value)
        return av__fail(AV_EINVAL, "router, key or value is NULL");
    size_t kl = strlen(key), vl = strlen(value);
    if (kl == 0 || kl > AV_MAX_NAME || vl > AV_MAX_META_VALUE)
        return av__fail(AV_ELIMIT, "metadata key length %zu (1..%u), value length %zu (<= %u)", kl,
                        AV_MAX_NAME, vl, AV_MAX_META_VALUE);
    char *v = av__strdup(value);
    if (!v)
        return av__fail(AV_ENOMEM, "metadata value");
    for (size_t i = 0; i < r->n_meta; i++)
        if (strcmp(r->meta[i].key, key) == 0) {
            free(r->meta[i].value);
            r->meta[i].value = v;
            return AV_OK;
        }
    if (r->n_meta >= AV_MAX_META) {
        free(v);
        return av__fail(AV_ELIMIT, "more than %u metadata entries", AV_MAX_META);
    }
    av_meta_kv *grown = realloc(r->meta, (r->n_meta + 1) * sizeof *grown);
    char *k = av__strdup(key);
    if (!grown || !k) {
        if (grown)
            r->meta = grown;
        free(k);
        free(v);
        return av__fail(AV_ENOMEM, "metadata entry");
    }
    r->meta = grown;
    r->meta[r->n_meta].key = k;
    r->meta[r->n_meta].value = v;
    r->n_meta++;
    return AV_OK;
}
