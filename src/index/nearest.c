/* Similarity of a query to every centroid with the index's SIMD kernels, the running top-p
   selection, and blocks of queries for batched routing. The hot path (docs/PERFORMANCE.md) allocates nothing, takes no
   lock and makes no system call: similarities are computed a chunk of clusters at a time into a
   stack buffer that feeds a running top-p selection, whatever the number of clusters.

   The query is used as given (not normalised): dividing every similarity by the same positive norm
   cannot change which clusters are the most similar, and skipping it saves a pass over the query.
   Validation (zero, NaN, Inf) is one exact integer pass (absmax_bits). Queries of extreme magnitude
   are scaled by a power of two first, which is exact, so products neither underflow nor overflow. */
#include "index/index.h"

#include <math.h>
#include <string.h>

/* Similarities are computed this many clusters at a time into a stack buffer. */
#define AV_SIM_CHUNK 256u
/* The int8 path quantises the query this many dimensions at a time on the stack. */
#define AV_Q8_CHUNK 4096u
/* The scaled (extreme-magnitude) path copies the query this many dimensions at a time. */
#define AV_QS_CHUNK 1024u
#define AV_INT8_MAX 127.0f
/* Bit pattern of +Inf: absmax bits at or above it mean an Inf or NaN component. */
#define AV_F32_INF_BITS 0x7F800000u
/* A query whose largest |component| lies outside [2^-AV_SAFE_EXP, 2^AV_SAFE_EXP] is scaled by a
   power of two: products with centroid values of ordinary size then stay normal floats. */
#define AV_SAFE_EXP 32
/* int8 routers re-score this many times top_p candidates with the float query (docs/PERFORMANCE.md:
   on llmrouter9 a factor of 2 already reaches the agreement of the unquantised query). */
#define AV_I8_RESCORE_FACTOR 2u

/* A validated query, prepared for the router's centroid type. float32/float16: the query as given,
   times a power of two when its magnitude is extreme. int8: the query times the per-dimension
   scales (qs), times a power of two if needed, and its int8 quantisation (q8); both are whole when
   dim <= AV_Q8_CHUNK, otherwise recomputed a chunk at a time. */
typedef struct qprep {
    const float *q;
    float scale;      /* power of two applied to the query (int8: to q * colscale) */
    float qmul;       /* int8: 127 / max|q * colscale * scale| */
    double qunit;     /* int8: 1 / qmul, the value of one query step */
    const float *qs;  /* int8, whole: q[t] * colscale[t] * scale */
    const int8_t *q8; /* int8, whole: round(qs * qmul) */
} qprep;

/* Stack buffers an int8 query needs while it is routed. */
typedef struct qbufs {
    float qs[AV_Q8_CHUNK];
    int8_t q8[AV_Q8_CHUNK];
} qbufs;

/* ---------------------------------------------------------------------------------------------
 * Validation and preparation
 * ------------------------------------------------------------------------------------------- */
static int check_query(const av_index *ix, const float *q, float *amax)
{
    uint32_t bits = ix->kern->absmax_bits(q, ix->dim);
    if (bits == 0)
        return av__fail(AV_EVECTOR, "all %zu components are 0", ix->dim);
    if (bits >= AV_F32_INF_BITS) { /* the error path: find the component to name it */
        size_t t = 0;
        while (t + 1 < ix->dim && isfinite(q[t]))
            t++;
        return av__fail(AV_EVECTOR, "component %zu is %s", t, isnan(q[t]) ? "NaN" : "infinite");
    }
    memcpy(amax, &bits, sizeof *amax);
    return AV_OK;
}

static bool extreme(float amax)
{
    return amax < ldexpf(1.0f, -AV_SAFE_EXP) || amax > ldexpf(1.0f, AV_SAFE_EXP);
}

/* The power of two that brings amax into [0.5, 1), or 1 when amax is of ordinary size. */
static float pow2_scale(float amax)
{
    if (!extreme(amax))
        return 1.0f;
    int e;
    (void)frexpf(amax, &e); /* amax = f * 2^e, f in [0.5, 1) */
    return ldexpf(1.0f, -e);
}

/* qs[0..dc) = q[t0..t0+dc) * colscale * scale: the query in the int8 rows' dimension units. */
static void scaled_chunk(const av_index *ix, const qprep *p, size_t t0, size_t dc,
                         float *restrict qs)
{
    const float *restrict cs = ix->centroid_colscale + t0;
    const float *restrict q = p->q + t0;
    if (p->scale == 1.0f)
        for (size_t t = 0; t < dc; t++)
            qs[t] = q[t] * cs[t];
    else
        for (size_t t = 0; t < dc; t++)
            qs[t] = q[t] * cs[t] * p->scale;
}

static void prepare(const av_index *ix, const float *q, float amax, qbufs *bufs, qprep *p)
{
    p->q = q;
    p->scale = 1.0f;
    p->qs = NULL;
    p->q8 = NULL;
    if (ix->centroid_type != AV_CENTROIDS_INT8) {
        p->scale = pow2_scale(amax);
        return;
    }
    size_t d = ix->dim;
    float m = 0.0f;
    if (d <= AV_Q8_CHUNK) {
        scaled_chunk(ix, p, 0, d, bufs->qs);
        uint32_t bits = ix->kern->absmax_bits(bufs->qs, d);
        memcpy(&m, &bits, sizeof m);
    } else {
        for (size_t t = 0; t < d; t++)
            m = fmaxf(m, fabsf(q[t] * ix->centroid_colscale[t]));
    }
    /* q * colscale can underflow to zero for a tiny query: scale q itself first (exact). */
    if (!(m > 0.0f) || extreme(m)) {
        p->scale = pow2_scale(m > 0.0f ? m : amax);
        if (!(m > 0.0f))
            p->scale = ldexpf(1.0f, AV_SAFE_EXP);
        m = 0.0f;
        for (size_t t = 0; t < d; t++)
            m = fmaxf(m, fabsf(q[t] * ix->centroid_colscale[t] * p->scale));
        if (d <= AV_Q8_CHUNK)
            scaled_chunk(ix, p, 0, d, bufs->qs);
    }
    if (!(m > 0.0f)) /* cannot happen for valid scales; keep the arithmetic defined */
        m = 1.0f;
    p->qmul = AV_INT8_MAX / m;
    p->qunit = (double)m / AV_INT8_MAX;
    if (d <= AV_Q8_CHUNK) {
        ix->kern->quant_i8(bufs->qs, d, p->qmul, bufs->q8);
        p->qs = bufs->qs;
        p->q8 = bufs->q8;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Similarities of one query to clusters [j0, j0+kc)
 * ------------------------------------------------------------------------------------------- */
/* float32 or float16 rows, the query scaled by a power of two in chunks (rare path). */
static void scaled_sims(const av_index *ix, const qprep *p, size_t j0, size_t kc, float *out)
{
    size_t d = ix->dim;
    float qs[AV_QS_CHUNK], part[AV_SIM_CHUNK];
    for (size_t t0 = 0; t0 < d; t0 += AV_QS_CHUNK) {
        size_t dc = d - t0 < AV_QS_CHUNK ? d - t0 : AV_QS_CHUNK;
        for (size_t t = 0; t < dc; t++)
            qs[t] = p->q[t0 + t] * p->scale;
        float *dst = t0 == 0 ? out : part;
        if (ix->centroid_type == AV_CENTROIDS_F32)
            ix->kern->dots_f32(ix->centroids + j0 * d + t0, d, kc, dc, qs, dst);
        else
            ix->kern->dots_f16(ix->centroids_f16 + j0 * d + t0, d, kc, dc, qs, dst);
        if (t0 > 0)
            for (size_t j = 0; j < kc; j++)
                out[j] += part[j];
    }
}

/* int8 x int8 approximate similarities (of the scaled query): exact integer sums times the row
   scale and the query step. */
static void i8_sims(const av_index *ix, const qprep *p, size_t j0, size_t kc, float *out)
{
    size_t d = ix->dim;
    int32_t part[AV_SIM_CHUNK];
    if (p->q8) {
        ix->kern->dots_i8(ix->centroids_i8 + j0 * d, d, kc, d, p->q8, part);
        for (size_t j = 0; j < kc; j++)
            out[j] = (float)((double)part[j] * (double)ix->centroid_scale[j0 + j] * p->qunit);
        return;
    }
    /* Long queries: quantise AV_Q8_CHUNK dimensions at a time. Integer partial sums are exact,
       so the chunking changes nothing. */
    int64_t acc[AV_SIM_CHUNK] = {0};
    qbufs b;
    for (size_t t0 = 0; t0 < d; t0 += AV_Q8_CHUNK) {
        size_t dc = d - t0 < AV_Q8_CHUNK ? d - t0 : AV_Q8_CHUNK;
        scaled_chunk(ix, p, t0, dc, b.qs);
        ix->kern->quant_i8(b.qs, dc, p->qmul, b.q8);
        ix->kern->dots_i8(ix->centroids_i8 + j0 * d + t0, d, kc, dc, b.q8, part);
        for (size_t j = 0; j < kc; j++)
            acc[j] += part[j];
    }
    for (size_t j = 0; j < kc; j++)
        out[j] = (float)((double)acc[j] * (double)ix->centroid_scale[j0 + j] * p->qunit);
}

/* The float query (scaled) against the decoded int8 rows idx[0..n): the similarities an int8
   router stands for, without the query's quantisation error. */
static void i8_exact(const av_index *ix, const qprep *p, const uint32_t *idx, size_t n, float *out)
{
    size_t d = ix->dim;
    if (p->qs) {
        for (size_t c = 0; c < n; c++) {
            ix->kern->dots_i8f(ix->centroids_i8 + (size_t)idx[c] * d, d, 1, d, p->qs, out + c);
            out[c] *= ix->centroid_scale[idx[c]];
        }
        return;
    }
    float qs[AV_Q8_CHUNK], part;
    for (size_t c = 0; c < n; c++)
        out[c] = 0.0f;
    for (size_t t0 = 0; t0 < d; t0 += AV_Q8_CHUNK) {
        size_t dc = d - t0 < AV_Q8_CHUNK ? d - t0 : AV_Q8_CHUNK;
        scaled_chunk(ix, p, t0, dc, qs);
        for (size_t c = 0; c < n; c++) {
            ix->kern->dots_i8f(ix->centroids_i8 + (size_t)idx[c] * d + t0, d, 1, dc, qs, &part);
            out[c] += part;
        }
    }
    for (size_t c = 0; c < n; c++)
        out[c] *= ix->centroid_scale[idx[c]];
}

static void chunk_sims(const av_index *ix, const qprep *p, size_t j0, size_t kc, float *out)
{
    size_t d = ix->dim;
    if (ix->centroid_type == AV_CENTROIDS_INT8)
        i8_sims(ix, p, j0, kc, out);
    else if (p->scale != 1.0f)
        scaled_sims(ix, p, j0, kc, out);
    else if (ix->centroid_type == AV_CENTROIDS_F32)
        ix->kern->dots_f32(ix->centroids + j0 * d, d, kc, d, p->q, out);
    else
        ix->kern->dots_f16(ix->centroids_f16 + j0 * d, d, kc, d, p->q, out);
}

/* ---------------------------------------------------------------------------------------------
 * Top-p
 * ------------------------------------------------------------------------------------------- */
/* Insert (sim, j) into the sorted top list if it ranks; clusters arrive in increasing index, so an
   equal similarity never displaces an earlier (lower-index) cluster. Most clusters fail the first
   comparison, so the selection costs about one compare per cluster. */
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

static void top_scan(const float *buf, size_t kc, size_t j0, float *tsim, uint32_t *tidx,
                     size_t *n, size_t p)
{
    size_t j = 0;
    for (; j < kc && *n < p; j++)
        top_insert(tsim, tidx, n, p, buf[j], (uint32_t)(j0 + j));
    for (; j < kc; j++)
        if (buf[j] > tsim[p - 1])
            top_insert(tsim, tidx, n, p, buf[j], (uint32_t)(j0 + j));
}

void av__top_p(const float *sims, size_t k, size_t p, uint32_t *idx)
{
    float tsim[AV_MAX_TOP_P];
    size_t n = 0;
    top_scan(sims, k, 0, tsim, idx, &n, p);
}

/* ---------------------------------------------------------------------------------------------
 * Single query
 * ------------------------------------------------------------------------------------------- */
static int nearest(const av_index *ix, const float *q, size_t p, uint32_t *tidx, float *tsim_out)
{
    float amax;
    int rc = check_query(ix, q, &amax);
    if (rc)
        return rc;
    qbufs bufs;
    qprep qp;
    prepare(ix, q, amax, &bufs, &qp);
    bool i8 = ix->centroid_type == AV_CENTROIDS_INT8;
    size_t kb = ix->k / ix->members;
    /* int8: the AV_I8_RESCORE_FACTOR*p best by int8 x int8 are candidates, re-scored with the
       float query; their best p are the result. */
    size_t pc = i8 ? p * AV_I8_RESCORE_FACTOR : p;
    if (pc > kb)
        pc = kb;
    float buf[AV_SIM_CHUNK], tsim[AV_MAX_TOP_P], csim[AV_I8_RESCORE_FACTOR * AV_MAX_TOP_P];
    uint32_t cidx[AV_I8_RESCORE_FACTOR * AV_MAX_TOP_P];
    /* each member of an ensemble (one for the paper's router) selects among its own clusters */
    for (size_t b = 0; b < ix->members; b++) {
        size_t lo = b * kb, hi = lo + kb, n = 0;
        uint32_t *sel = i8 ? cidx : tidx + b * p;
        float *ssel = i8 ? csim : tsim + b * p;
        for (size_t j0 = lo; j0 < hi; j0 += AV_SIM_CHUNK) {
            size_t kc = hi - j0 < AV_SIM_CHUNK ? hi - j0 : AV_SIM_CHUNK;
            chunk_sims(ix, &qp, j0, kc, buf);
            top_scan(buf, kc, j0, ssel, sel, &n, pc);
        }
        if (i8) {
            /* candidates in index order, so that equal re-scored similarities keep the lower
               index */
            for (size_t a = 1; a < pc; a++)
                for (size_t c = a; c > 0 && cidx[c] < cidx[c - 1]; c--) {
                    uint32_t t = cidx[c];
                    cidx[c] = cidx[c - 1];
                    cidx[c - 1] = t;
                }
            float ex[AV_I8_RESCORE_FACTOR * AV_MAX_TOP_P];
            i8_exact(ix, &qp, cidx, pc, ex);
            n = 0;
            for (size_t c = 0; c < pc; c++)
                top_insert(tsim + b * p, tidx + b * p, &n, p, ex[c], cidx[c]);
        }
    }
    if (tsim_out) {
        /* Cosine-scaled similarities for callers that report them: the norm in double, as
           av__normalize computes it (off the plain routing path). */
        double ss = 0.0;
        for (size_t t = 0; t < ix->dim; t++)
            ss += (double)q[t] * (double)q[t];
        double f = 1.0 / (sqrt(ss) * (double)qp.scale);
        for (size_t i = 0; i < ix->members * p; i++)
            tsim_out[i] = (float)((double)tsim[i] * f);
    }
    return AV_OK;
}

int av__index_nearest(const av_index *ix, const float *q, size_t p, uint32_t *tidx, float *tsim)
{
    return nearest(ix, q, p, tidx, tsim);
}

void av__index_sims(const av_index *ix, const float *qn, float *sims)
{
    float amax;
    if (check_query(ix, qn, &amax) != AV_OK) {
        for (size_t j = 0; j < ix->k; j++)
            sims[j] = NAN;
        return;
    }
    qbufs bufs;
    qprep qp;
    prepare(ix, qn, amax, &bufs, &qp);
    for (size_t j0 = 0; j0 < ix->k; j0 += AV_SIM_CHUNK) {
        size_t kc = ix->k - j0 < AV_SIM_CHUNK ? ix->k - j0 : AV_SIM_CHUNK;
        if (ix->centroid_type == AV_CENTROIDS_INT8) { /* what int8 routing re-scores with */
            uint32_t idx[AV_SIM_CHUNK];
            for (size_t j = 0; j < kc; j++)
                idx[j] = (uint32_t)(j0 + j);
            i8_exact(ix, &qp, idx, kc, sims + j0);
        } else {
            chunk_sims(ix, &qp, j0, kc, sims + j0);
        }
        if (qp.scale != 1.0f)
            for (size_t j = 0; j < kc; j++)
                sims[j0 + j] /= qp.scale;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Blocks of queries (batched routing)
 * ------------------------------------------------------------------------------------------- */
bool av__index_block_plain(const av_index *ix, const float *rows, size_t stride, size_t nb)
{
    if (ix->centroid_type != AV_CENTROIDS_F32)
        return false;
    for (size_t i = 0; i < nb; i++) {
        float amax;
        uint32_t bits = ix->kern->absmax_bits(rows + i * stride, ix->dim);
        if (bits == 0 || bits >= AV_F32_INF_BITS)
            return false;
        memcpy(&amax, &bits, sizeof amax);
        if (extreme(amax))
            return false;
    }
    return true;
}

/* Similarities of all the rows to each chunk of clusters from the multi-query kernel (each
   centroid load feeds several queries), then per row the same top-p selection as nearest(). The
   multi-query kernel's per-pair arithmetic is the single-query kernel's, so the similarities, hence
   the selections, are identical bit for bit. */
void av__index_nearest_block(const av_index *ix, const float *rows, size_t stride, size_t nb,
                             size_t p, uint32_t tidx[][AV_MAX_TOP_P])
{
    size_t d = ix->dim, kb = ix->k / ix->members;
    float buf[AV_BATCH_Q * AV_SIM_CHUNK];
    float tsim[AV_BATCH_Q][AV_MAX_TOP_P];
    for (size_t b = 0; b < ix->members; b++) { /* as nearest(): each member on its own clusters */
        size_t lo = b * kb, hi = lo + kb, n[AV_BATCH_Q] = {0};
        for (size_t j0 = lo; j0 < hi; j0 += AV_SIM_CHUNK) {
            size_t kc = hi - j0 < AV_SIM_CHUNK ? hi - j0 : AV_SIM_CHUNK;
            ix->kern->dots_f32_multi(ix->centroids + j0 * d, d, kc, d, rows, stride, nb, buf,
                                     AV_SIM_CHUNK);
            for (size_t i = 0; i < nb; i++)
                top_scan(buf + i * AV_SIM_CHUNK, kc, j0, tsim[i] + b * p, tidx[i] + b * p, &n[i],
                         p);
        }
    }
}
