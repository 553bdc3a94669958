/* k-means and statistics as a map-reduce (docs/SCALING.md, "Training on large logs"): the
   public partial steps (sample membership, the sample's k-means, Lloyd's map and reduce in exact
   fixed point, k-means|| seeding, the statistics' map) and the SAMPLED trainer that composes them
   over the builder's rows, threaded over chunks of rows.

   Exactness: a row's cluster depends on the row, the centroids and the SIMD backend only (the
   multi-query kernel's per-pair arithmetic is the single-query kernel's); every normalised
   component and squared distance is rounded once to an int64 multiple of 2^-32, so sums,
   counts and inertia are exact integers whatever the blocks and the order of merging. */
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GOLDEN 0x9E3779B97F4A7C15ull
/* Hash domains: the uniform sample and the k-means|| picks never share a stream. */
#define DOMAIN_SAMPLE 0x53414D504C45ull /* "SAMPLE" */
#define DOMAIN_PICK 0x4B4D5050ull       /* "KMPP" */
/* An upper bound of one row's squared distance in fixed-point units: rows have norm 1 and
   centres squared norm <= AV_KMEANS_MAX_CENTRE_SQNORM, so d2 <= (1 + sqrt(1.01))^2 < 4.0125; the
   float formula adds a few ulps; 4.03 * 2^32 < 2^34.02. */
#define D2_MAX_FIXED ((int64_t)(4.03 * AV_KMEANS_FIXED_ONE))

/* ---- counter-based hashing ---- */
static inline uint64_t mix64(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ull;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* splitmix64's output at position i of the stream keyed by (seed, domain). */
static inline uint64_t stream_key(uint64_t seed, uint64_t domain)
{
    return mix64(seed ^ mix64(domain));
}
static inline uint64_t stream_at(uint64_t key, uint64_t i)
{
    return mix64(key + (i + 1) * GOLDEN);
}

/* ---- fixed point ---- */
/* v * 2^32 truncated toward zero: the product is exact in double (a float's 24 bits, scaled) and
   C's conversion truncates on every platform (and vectorises), so each value carries an error
   below one unit, 2^-32. */
static inline int64_t fixed(float v)
{
    return (int64_t)((double)v * AV_KMEANS_FIXED_ONE);
}

/* ---- workspace and the nearest centroid of a block of normalised rows ---- */
typedef struct km_ws {
    const av_kernels *K;
    size_t k, d, sub;
    float *G;    /* sub x k */
    float *xsq;  /* sub: the rows' squared norms (sqnorm8), for nearest_xs() */
    float *buf;  /* sub x d: normalised rows */
    int32_t *lab;
    float *d2;
    /* the bounded passes: rows left to search (rbuf, their sub-block index ridx), and the
       sub-block's labels and squared distances (olab, od2) */
    float *rbuf;
    size_t *ridx;
    int32_t *olab;
    float *od2;
    float *gv; /* k */
} km_ws;

static void ws_free(km_ws *w)
{
    av__aligned_free(w->G);
    free(w->xsq);
    av__aligned_free(w->buf);
    free(w->lab);
    free(w->d2);
    av__aligned_free(w->rbuf);
    free(w->ridx);
    free(w->olab);
    free(w->od2);
    free(w->gv);
    memset(w, 0, sizeof *w);
}

static int ws_init(km_ws *w, const av_kernels *K, size_t k, size_t d)
{
    memset(w, 0, sizeof *w);
    w->K = K ? K : av__kernels();
    w->k = k;
    w->d = d;
    size_t sub = (size_t)65536 / k;
    w->sub = sub < 1 ? 1 : sub > 128 ? 128 : sub;
    w->G = av__aligned_alloc(w->sub * k * sizeof(float));
    w->xsq = malloc(w->sub * sizeof(float));
    w->buf = av__aligned_alloc(w->sub * d * sizeof(float));
    w->lab = malloc(w->sub * sizeof(int32_t));
    w->d2 = malloc(w->sub * sizeof(float));
    w->rbuf = av__aligned_alloc(w->sub * d * sizeof(float));
    w->ridx = malloc(w->sub * sizeof(size_t));
    w->olab = malloc(w->sub * sizeof(int32_t));
    w->od2 = malloc(w->sub * sizeof(float));
    w->gv = malloc(k * sizeof(float));
    if (!w->G || !w->xsq || !w->buf || !w->lab || !w->d2 || !w->rbuf || !w->ridx || !w->olab ||
        !w->od2 || !w->gv) {
        ws_free(w);
        return av__fail(AV_ENOMEM, "k-means block buffers (k=%zu, dim=%zu)", k, d);
    }
    return AV_OK;
}

void av__kmeans_sqnorms(const float *C, size_t k, size_t d, float *csq)
{
    for (size_t j = 0; j < k; j++)
        csq[j] = av__sqnorm8_scalar(C + j * d, d); /* every backend's sqnorm8 (kernels.h) */
}

/* Nearest of the k centroids for nb <= w->sub normalised rows X whose squared norms (sqnorm8,
   kernels.h) are in w->xsq: w->lab, w->d2 (and their dot products in w->G). */
static void nearest_xs(km_ws *w, const float *C, const float *csq, const float *X, size_t nb)
{
    size_t k = w->k, d = w->d;
    const av_kernels *K = w->K;
    K->dots_f32_multi(C, d, k, d, X, d, nb, w->G, k);
    for (size_t i = 0; i < nb; i++)
        w->lab[i] = (int32_t)K->argmin_d2(w->G + i * k, csq, k, w->xsq[i], &w->d2[i]);
}

/* The same, the squared norms taken here. */
static void nearest(km_ws *w, const float *C, const float *csq, const float *X, size_t nb)
{
    for (size_t i = 0; i < nb; i++)
        w->xsq[i] = w->K->sqnorm8(X + i * w->d, w->d);
    nearest_xs(w, C, csq, X, nb);
}

/* Lloyd's map of m assigned rows X (w->lab, w->d2). */
static void lloyd_add(const km_ws *w, const float *X, size_t m, int64_t *sums, int64_t *counts,
                      int64_t *inertia, int32_t *labels)
{
    size_t d = w->d;
    for (size_t i = 0; i < m; i++) {
        size_t j = (size_t)w->lab[i];
        int64_t *s = sums + j * d;
        w->K->fixed_add(s, X + i * d, d); /* s[t] += fixed(x[t]) */
        counts[j]++;
        *inertia += fixed(w->d2[i]);
        if (labels)
            labels[i] = (int32_t)j;
    }
}

/* The statistics' sums of n labelled rows, in row order: one outcome per model with both a
   score and a cost; rows labelled -1 are skipped (tuning's held-out rows). */
void av__kmeans_stats_add(const int32_t *lab, size_t n, const float *scores, const float *costs,
                          size_t m, double *cnt, double *ss, double *sc)
{
    for (size_t r = 0; r < n; r++) {
        if (lab[r] < 0)
            continue;
        size_t j = (size_t)lab[r];
        const float *s = scores + r * m, *c = costs + r * m;
        for (size_t q = 0; q < m; q++) {
            if (isnan(s[q]) || isnan(c[q]))
                continue;
            cnt[j * m + q] += 1.0;
            ss[j * m + q] += (double)s[q];
            sc[j * m + q] += (double)c[q];
        }
    }
}

/* ---- argument checks ---- */
static int check_shape(size_t k, size_t dim, const char *what)
{
    if (k == 0 || k > AV_MAX_CLUSTERS || dim == 0 || dim > AV_MAX_DIM)
        return av__fail(AV_ELIMIT, "%s: %zu centres of dimension %zu (1..%u, 1..%u)", what, k,
                        dim, AV_MAX_CLUSTERS, AV_MAX_DIM);
    return AV_OK;
}

static int check_centres(const float *C, size_t k, size_t dim, const char *what)
{
    if (!C)
        return av__fail(AV_EINVAL, "%s: centroids is NULL", what);
    int rc = check_shape(k, dim, what);
    if (rc)
        return rc;
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t t = 0; t < dim; t++) {
            double v = C[j * dim + t];
            if (!isfinite(v))
                return av__fail(AV_EINVAL, "%s: centroid %zu, component %zu is %g", what, j, t, v);
            s += v * v;
        }
        if (s > AV_KMEANS_MAX_CENTRE_SQNORM)
            return av__fail(AV_EINVAL, "%s: centroid %zu has squared norm %g, above %g (centroids "
                                       "live in the normalised rows' unit ball)",
                            what, j, s, AV_KMEANS_MAX_CENTRE_SQNORM);
    }
    return AV_OK;
}

/* rows may be NULL only when n is 0. */
static int check_rows(const float *rows, size_t n, const char *what)
{
    if (n > 0 && !rows)
        return av__fail(AV_EINVAL, "%s: rows is NULL", what);
    if (n > AV_KMEANS_MAX_ROWS)
        return av__fail(AV_ELIMIT, "%s: %zu rows in one call (at most %u)", what, n,
                        AV_KMEANS_MAX_ROWS);
    return AV_OK;
}

/* An accumulated fixed-point distance total that n more rows cannot overflow. */
static int check_cost(const int64_t *acc, size_t n, const char *what, const char *name)
{
    if (*acc < 0)
        return av__fail(AV_EINVAL, "%s: %s=%lld is negative", what, name, (long long)*acc);
    if (*acc > INT64_MAX - (int64_t)n * D2_MAX_FIXED)
        return av__fail(AV_ELIMIT, "%s: %s=%lld cannot take %zu more rows without overflowing "
                                   "int64 (at most %u rows per total)",
                        what, name, (long long)*acc, n, AV_KMEANS_MAX_ROWS);
    return AV_OK;
}

static int check_counts(const int64_t *counts, size_t k, size_t n, const char *what)
{
    uint64_t tot = 0;
    for (size_t j = 0; j < k; j++) {
        if (counts[j] < 0)
            return av__fail(AV_EINVAL, "%s: counts[%zu]=%lld is negative", what, j,
                            (long long)counts[j]);
        tot += (uint64_t)counts[j];
        if (tot > AV_KMEANS_MAX_ROWS)
            break;
    }
    if (tot + n > AV_KMEANS_MAX_ROWS)
        return av__fail(AV_ELIMIT, "%s: %llu rows counted + %zu is above the %u rows one "
                                   "fixed-point total may hold",
                        what, (unsigned long long)tot, n, AV_KMEANS_MAX_ROWS);
    return AV_OK;
}

/* Normalise rows [r0, r0+m) of raw `rows` into w->buf; the row's global index in the message. */
/* Rows normalised a block at a time: the kernels sum several rows' squares at once (each row's
   additions in order, so the sums are av__normalize's) and scale each row. */
enum { NORM_BLOCK = 64 };

static size_t norm_block(const av_kernels *K, float *out, const float *X, size_t n, size_t d,
                         double *inv)
{
    double ss[NORM_BLOCK];
    for (size_t r0 = 0; r0 < n; r0 += NORM_BLOCK) {
        size_t m = n - r0 < NORM_BLOCK ? n - r0 : NORM_BLOCK;
        K->sumsq_rows(X + r0 * d, d, m, d, ss);
        for (size_t i = 0; i < m; i++) {
            if (!(ss[i] > 0.0) || !isfinite(ss[i])) /* zero, or a NaN or Inf somewhere */
                return r0 + i;
            double v = 1.0 / sqrt(ss[i]);
            if (inv)
                inv[r0 + i] = v;
            if (out)
                K->scale_f64(out + (r0 + i) * d, X + (r0 + i) * d, d, v);
        }
    }
    return n;
}

size_t av__inv_norms(const float *X, size_t n, size_t d, double *inv)
{
    return norm_block(av__kernels(), NULL, X, n, d, inv);
}

size_t av__normalize_rows(float *out, const float *X, size_t n, size_t d)
{
    return norm_block(av__kernels(), out, X, n, d, NULL);
}

static int normalise_into(km_ws *w, const float *rows, size_t r0, size_t m, const char *what)
{
    size_t bad = norm_block(w->K, w->buf, rows + r0 * w->d, m, w->d, NULL);
    if (bad < m)
        return av__fail(AV_EVECTOR, "%s: row %zu is zero, NaN or infinite", what, r0 + bad);
    return AV_OK;
}

/* The public maps' common walk: the k centres' squared norms, then the raw rows in sub-blocks,
   normalised and assigned (w->lab, w->d2), each handed to fn(ctx, w, r0, m). A bad row stops the
   walk with AV_EVECTOR naming it (fn has then seen only the rows before its sub-block). */
typedef void (*block_fn)(void *ctx, const km_ws *w, size_t r0, size_t m);

static int each_block(const av_kernels *K, const float *C, size_t k, size_t dim,
                      const float *rows, size_t n, const char *what, block_fn fn, void *ctx)
{
    km_ws w;
    int rc = ws_init(&w, K, k, dim);
    if (rc)
        return rc;
    float *csq = malloc(k * sizeof(float));
    if (!csq) {
        ws_free(&w);
        return av__fail(AV_ENOMEM, "%s: %zu centres", what, k);
    }
    av__kmeans_sqnorms(C, k, dim, csq);
    for (size_t r0 = 0; r0 < n && rc == AV_OK; r0 += w.sub) {
        size_t m = n - r0 < w.sub ? n - r0 : w.sub;
        if ((rc = normalise_into(&w, rows, r0, m, what)) == AV_OK) {
            nearest(&w, C, csq, w.buf, m);
            fn(ctx, &w, r0, m);
        }
    }
    free(csq);
    ws_free(&w);
    return rc;
}

/* ---- public: plan, sample ---- */
int av__kmeans_plan(const av_fit_options *o, size_t n, uint32_t *alg, size_t *sample,
                    uint32_t *passes)
{
    uint32_t a = o->algorithm;
    if (a == AV_KMEANS_AUTO)
        a = n <= AV_KMEANS_AUTO_MAX_ROWS ? AV_KMEANS_FULL : AV_KMEANS_SAMPLED;
    size_t s = o->sample_size ? o->sample_size : AV_KMEANS_DEFAULT_SAMPLE((size_t)o->n_clusters);
    if (alg)
        *alg = a;
    if (sample)
        *sample = s < n ? s : n;
    if (passes)
        *passes = o->max_passes ? o->max_passes : AV_KMEANS_DEFAULT_PASSES;
    return AV_OK;
}

AV_API int av_kmeans_plan(const av_fit_options *opts, size_t n_total, uint32_t *algorithm,
                          size_t *sample_size, uint32_t *max_passes)
{
    av_fit_options o;
    int rc = av__read_fit_options(opts, &o);
    if (rc)
        return rc;
    return av__kmeans_plan(&o, n_total, algorithm, sample_size, max_passes);
}

AV_API uint64_t av_kmeans_member_seed(uint64_t seed, uint32_t member)
{
    return seed + (uint64_t)member * GOLDEN;
}

/* The 53-bit threshold of a Bernoulli(sample/n) draw; UINT64_MAX = every row. */
static uint64_t sample_threshold(size_t n_total, size_t sample)
{
    if (sample >= n_total)
        return UINT64_MAX;
    return (uint64_t)((double)sample / (double)n_total * 9007199254740992.0);
}

static inline bool in_sample(uint64_t key, uint64_t thr, size_t i)
{
    return thr == UINT64_MAX || (stream_at(key, i) >> 11) < thr;
}

AV_API int av_kmeans_sample_mask(uint64_t seed, size_t n_total, size_t sample_size, size_t row0,
                                 size_t n, uint8_t *mask, size_t *n_selected)
{
    if (n_selected)
        *n_selected = 0;
    if (row0 > n_total || n > n_total - row0)
        return av__fail(AV_ERANGE, "rows [%zu, %zu + %zu) are not within the log's %zu rows", row0,
                        row0, n, n_total);
    if (sample_size == 0)
        return av__fail(AV_EINVAL, "sample_size is 0");
    uint64_t key = stream_key(seed, DOMAIN_SAMPLE), thr = sample_threshold(n_total, sample_size);
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        bool in = in_sample(key, thr, row0 + i);
        c += in;
        if (mask)
            mask[i] = in;
    }
    if (n_selected)
        *n_selected = c;
    return AV_OK;
}

/* ---- public: the sample's k-means ---- */
int av__kmeans_fit_sample_norm(const float *X, size_t n, size_t d, const av_fit_options *o,
                               float *C, double *inertia, double *shift_tol)
{
    av_kmeans_result km;
    av_fit_options os = *o;
    if (os.n_init > AV_KMEANS_SAMPLE_MAX_INIT) /* the passes over every row refine the result */
        os.n_init = AV_KMEANS_SAMPLE_MAX_INIT;
    int rc = av__kmeans(X, n, d, &os, &km);
    if (rc)
        return rc;
    memcpy(C, km.centroids, (size_t)o->n_clusters * d * sizeof(float));
    if (inertia)
        *inertia = km.inertia;
    if (shift_tol)
        *shift_tol = km.mean_var * (double)o->tol;
    av__kmeans_result_free(&km);
    return AV_OK;
}

AV_API int av_kmeans_fit_sample(const float *rows, size_t n, size_t dim, const av_fit_options *opts,
                                float *centroids, double *inertia, double *shift_tol)
{
    if (!centroids)
        return av__fail(AV_EINVAL, "av_kmeans_fit_sample: centroids is NULL");
    av_fit_options o;
    int rc = av__read_fit_options(opts, &o);
    if (rc)
        return rc;
    if ((rc = check_rows(rows, n, "av_kmeans_fit_sample")) != AV_OK ||
        (rc = check_shape(o.n_clusters, dim, "av_kmeans_fit_sample")) != AV_OK)
        return rc;
    if (n < o.n_clusters)
        return av__fail(AV_EEMPTY, "%zu rows cannot make %u clusters", n, o.n_clusters);
    size_t bytes;
    if (!av__mul_ok(n, dim * sizeof(float), &bytes))
        return av__fail(AV_ELIMIT, "%zu rows of dimension %zu", n, dim);
    float *X = av__aligned_alloc(bytes);
    if (!X)
        return av__fail(AV_ENOMEM, "a copy of %zu rows", n);
    size_t bad = av__normalize_rows(X, rows, n, dim);
    if (bad < n) {
        av__aligned_free(X);
        return av__fail(AV_EVECTOR, "av_kmeans_fit_sample: row %zu is zero, NaN or infinite", bad);
    }
    rc = av__kmeans_fit_sample_norm(X, n, dim, &o, centroids, inertia, shift_tol);
    av__aligned_free(X);
    return rc;
}

/* ---- public: Lloyd's map and reduce ---- */
typedef struct step_ctx {
    int64_t *sums, *counts, inertia;
    int32_t *labels;
} step_ctx;

static void step_fn(void *ctx, const km_ws *w, size_t r0, size_t m)
{
    step_ctx *c = ctx;
    lloyd_add(w, w->buf, m, c->sums, c->counts, &c->inertia, c->labels ? c->labels + r0 : NULL);
}

int av__kmeans_block_step_k(const av_kernels *K, const float *C, size_t k, size_t dim,
                            const float *rows, size_t n, int64_t *sums, int64_t *counts,
                            int64_t *inertia, int32_t *labels)
{
    static const char what[] = "av_kmeans_block_step";
    int rc;
    if ((rc = check_centres(C, k, dim, what)) != AV_OK || (rc = check_rows(rows, n, what)) != AV_OK)
        return rc;
    if (!sums || !counts || !inertia)
        return av__fail(AV_EINVAL, "%s: sums, counts or inertia is NULL", what);
    if ((rc = check_counts(counts, k, n, what)) != AV_OK ||
        (rc = check_cost(inertia, n, what, "inertia")) != AV_OK)
        return rc;
    if (n == 0)
        return AV_OK;
    /* into zeroed accumulators first, so that a bad row changes none of the caller's */
    step_ctx c = {calloc(k * dim, sizeof(int64_t)), calloc(k, sizeof(int64_t)), 0, labels};
    if (!c.sums || !c.counts)
        rc = av__fail(AV_ENOMEM, "%s: accumulators for %zu x %zu", what, k, dim);
    else if ((rc = each_block(K, C, k, dim, rows, n, what, step_fn, &c)) == AV_OK) {
        for (size_t i = 0; i < k * dim; i++)
            sums[i] += c.sums[i];
        for (size_t j = 0; j < k; j++)
            counts[j] += c.counts[j];
        *inertia += c.inertia;
    }
    free(c.sums), free(c.counts);
    return rc;
}

AV_API int av_kmeans_block_step(const float *centroids, size_t k, size_t dim, const float *rows,
                                size_t n, int64_t *sums, int64_t *counts, int64_t *inertia,
                                int32_t *labels)
{
    return av__kmeans_block_step_k(NULL, centroids, k, dim, rows, n, sums, counts, inertia,
                                   labels);
}

double av__kmeans_finish(float *C, size_t k, size_t d, const int64_t *sums, const int64_t *counts)
{
    double shift = 0;
    for (size_t j = 0; j < k; j++) {
        if (counts[j] <= 0)
            continue; /* an empty cluster keeps its centroid */
        double cnt = (double)counts[j];
        for (size_t t = 0; t < d; t++) {
            float v = (float)(((double)sums[j * d + t] / AV_KMEANS_FIXED_ONE) / cnt);
            double dv = (double)v - C[j * d + t];
            shift += dv * dv;
            C[j * d + t] = v;
        }
    }
    return shift;
}

AV_API int av_kmeans_finish_step(float *centroids, size_t k, size_t dim, const int64_t *sums,
                                 const int64_t *counts, double *shift)
{
    static const char what[] = "av_kmeans_finish_step";
    int rc;
    if ((rc = check_centres(centroids, k, dim, what)) != AV_OK)
        return rc;
    if (!sums || !counts)
        return av__fail(AV_EINVAL, "%s: sums or counts is NULL", what);
    if ((rc = check_counts(counts, k, 0, what)) != AV_OK)
        return rc;
    /* a mean of normalised components is within [-1, 1]: larger sums were not made by the map */
    for (size_t j = 0; j < k; j++)
        for (size_t t = 0; t < dim; t++) {
            int64_t s = sums[j * dim + t];
            uint64_t mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
            if (mag > (uint64_t)counts[j] << 32)
                return av__fail(AV_EINVAL, "%s: |sums[%zu]| is above counts[%zu] * 2^32 (not a "
                                           "sum of normalised components)",
                                what, j * dim + t, j);
        }
    double s = av__kmeans_finish(centroids, k, dim, sums, counts);
    if (shift)
        *shift = s;
    return AV_OK;
}

bool av__kmeans_pass_converged(double shift, double shift_tol, int64_t prev_inertia,
                               int64_t inertia, float tol)
{
    if (shift <= shift_tol)
        return true;
    return prev_inertia >= 0 && (double)(prev_inertia - inertia) <= (double)tol * (double)inertia;
}

AV_API int av_kmeans_converged(double shift, double shift_tol, int64_t prev_inertia,
                               int64_t inertia, float tol)
{
    return av__kmeans_pass_converged(shift, shift_tol, prev_inertia, inertia, tol);
}

/* ---- public: k-means|| ---- */
static void cost_fn(void *ctx, const km_ws *w, size_t r0, size_t m)
{
    (void)r0;
    int64_t *acc = ctx;
    for (size_t i = 0; i < m; i++)
        *acc += fixed(w->d2[i]);
}

int av__kmeans_parallel_cost_k(const av_kernels *K, const float *centres, size_t nc, size_t dim,
                               const float *rows, size_t n, int64_t *cost)
{
    static const char what[] = "av_kmeans_parallel_cost";
    int rc;
    if ((rc = check_centres(centres, nc, dim, what)) != AV_OK ||
        (rc = check_rows(rows, n, what)) != AV_OK)
        return rc;
    if (!cost)
        return av__fail(AV_EINVAL, "%s: cost is NULL", what);
    if ((rc = check_cost(cost, n, what, "cost")) != AV_OK || n == 0)
        return rc;
    int64_t acc = 0;
    if ((rc = each_block(K, centres, nc, dim, rows, n, what, cost_fn, &acc)) == AV_OK)
        *cost += acc;
    return rc;
}

AV_API int av_kmeans_parallel_cost(const float *centres, size_t n_centres, size_t dim,
                                   const float *rows, size_t n, int64_t *cost)
{
    return av__kmeans_parallel_cost_k(NULL, centres, n_centres, dim, rows, n, cost);
}

typedef struct pick_ctx {
    uint64_t key;
    size_t row0, count;
    double l, phi;
    uint8_t *picked;
} pick_ctx;

static void pick_fn(void *ctx, const km_ws *w, size_t r0, size_t m)
{
    pick_ctx *c = ctx;
    for (size_t i = 0; i < m; i++) {
        double p = c->l * (double)fixed(w->d2[i]) / c->phi;
        double u = (double)(stream_at(c->key, c->row0 + r0 + i) >> 11) * 0x1.0p-53;
        bool in = u < p;
        c->count += in;
        if (c->picked)
            c->picked[r0 + i] = in;
    }
}

int av__kmeans_parallel_pick_k(const av_kernels *K, const float *centres, size_t nc, size_t dim,
                               const float *rows, size_t n, size_t row0, uint64_t seed,
                               uint32_t round, double l, int64_t phi, uint8_t *picked,
                               size_t *n_picked)
{
    static const char what[] = "av_kmeans_parallel_pick";
    int rc;
    if (n_picked)
        *n_picked = 0;
    if ((rc = check_centres(centres, nc, dim, what)) != AV_OK ||
        (rc = check_rows(rows, n, what)) != AV_OK)
        return rc;
    if (!(l > 0.0) || !isfinite(l))
        return av__fail(AV_EINVAL, "%s: l=%g must be finite and > 0", what, l);
    if (phi <= 0)
        return av__fail(AV_EINVAL, "%s: phi=%lld must be > 0 (the round's total cost)", what,
                        (long long)phi);
    if (row0 > SIZE_MAX - n)
        return av__fail(AV_ERANGE, "%s: row0=%zu + n=%zu overflows", what, row0, n);
    if (n == 0)
        return AV_OK;
    pick_ctx c = {stream_key(seed ^ mix64((uint64_t)round + 1), DOMAIN_PICK), row0, 0, l,
                  (double)phi, picked};
    if ((rc = each_block(K, centres, nc, dim, rows, n, what, pick_fn, &c)) == AV_OK && n_picked)
        *n_picked = c.count;
    return rc;
}

AV_API int av_kmeans_parallel_pick(const float *centres, size_t n_centres, size_t dim,
                                   const float *rows, size_t n, size_t row0, uint64_t seed,
                                   uint32_t round, double l, int64_t phi, uint8_t *picked,
                                   size_t *n_picked)
{
    return av__kmeans_parallel_pick_k(NULL, centres, n_centres, dim, rows, n, row0, seed, round, l,
                                      phi, picked, n_picked);
}

/* Squared distance in double (the reduce works on a few hundred centres: plain loops). */
static double dist2(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t t = 0; t < d; t++) {
        double v = (double)a[t] - b[t];
        s += v * v;
    }
    return s;
}

/* One weighted k-means++ seeding then weighted Lloyd: C (k x d), returns the weighted inertia. */
static double weighted_run(const float *P, const double *wt, size_t n, size_t d, size_t k,
                           const av_fit_options *o, double tol, av_rng *g, float *C, double *best,
                           size_t *lab, double *sums)
{
    double tot = 0;
    for (size_t i = 0; i < n; i++)
        tot += wt[i];
    /* first centre: weight-proportional */
    double u = av__rng_uniform(g) * tot, acc = 0;
    size_t first = n - 1;
    for (size_t i = 0; i < n; i++)
        if ((acc += wt[i]) > u && wt[i] > 0) {
            first = i;
            break;
        }
    memcpy(C, P + first * d, d * sizeof(float));
    for (size_t i = 0; i < n; i++)
        best[i] = dist2(P + i * d, C, d);
    for (size_t c = 1; c < k; c++) {
        double pot = 0;
        for (size_t i = 0; i < n; i++)
            pot += wt[i] * best[i];
        size_t pick = n;
        if (pot > 0) {
            double v = av__rng_uniform(g) * pot;
            acc = 0;
            for (size_t i = 0; i < n; i++)
                if (wt[i] > 0 && best[i] > 0 && (acc += wt[i] * best[i]) > v) {
                    pick = i;
                    break;
                }
        }
        if (pick == n) /* rounding at the end, or every point already a centre: farthest */
            for (size_t i = 0; i < n; i++)
                if (wt[i] > 0 && (pick == n || best[i] > best[pick]))
                    pick = i;
        memcpy(C + c * d, P + pick * d, d * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            double v = dist2(P + i * d, C + c * d, d);
            if (v < best[i])
                best[i] = v;
        }
    }
    double inertia = 0;
    for (uint32_t it = 0; it < o->max_iter; it++) {
        inertia = 0;
        for (size_t i = 0; i < n; i++) {
            size_t b = 0;
            double bv = INFINITY;
            for (size_t j = 0; j < k; j++) {
                double v = dist2(P + i * d, C + j * d, d);
                if (v < bv) {
                    bv = v;
                    b = j;
                }
            }
            lab[i] = b;
            inertia += wt[i] * bv;
        }
        memset(sums, 0, (k * d + k) * sizeof(double));
        double *cw = sums + k * d;
        for (size_t i = 0; i < n; i++) {
            for (size_t t = 0; t < d; t++)
                sums[lab[i] * d + t] += wt[i] * P[i * d + t];
            cw[lab[i]] += wt[i];
        }
        double shift = 0;
        for (size_t j = 0; j < k; j++) {
            if (!(cw[j] > 0))
                continue;
            for (size_t t = 0; t < d; t++) {
                float v = (float)(sums[j * d + t] / cw[j]);
                double dv = (double)v - C[j * d + t];
                shift += dv * dv;
                C[j * d + t] = v;
            }
        }
        if (shift <= tol)
            break;
    }
    /* the inertia of the final centroids */
    inertia = 0;
    for (size_t i = 0; i < n; i++) {
        double bv = INFINITY;
        for (size_t j = 0; j < k; j++) {
            double v = dist2(P + i * d, C + j * d, d);
            bv = v < bv ? v : bv;
        }
        inertia += wt[i] * bv;
    }
    return inertia;
}

AV_API int av_kmeans_parallel_reduce(const float *centres, size_t n_centres, size_t dim,
                                     const double *weights, const av_fit_options *opts,
                                     float *centroids)
{
    static const char what[] = "av_kmeans_parallel_reduce";
    av_fit_options o;
    int rc = av__read_fit_options(opts, &o);
    if (rc)
        return rc;
    if ((rc = check_centres(centres, n_centres, dim, what)) != AV_OK)
        return rc;
    if (!weights || !centroids)
        return av__fail(AV_EINVAL, "%s: weights or centroids is NULL", what);
    size_t k = o.n_clusters, pos = 0;
    double tot = 0;
    for (size_t i = 0; i < n_centres; i++) {
        if (!(weights[i] >= 0) || !isfinite(weights[i]))
            return av__fail(AV_EINVAL, "%s: weights[%zu]=%g must be finite and >= 0", what, i,
                            weights[i]);
        pos += weights[i] > 0;
        tot += weights[i];
    }
    if (pos < k)
        return av__fail(AV_EEMPTY, "%s: %zu centres with a positive weight cannot make %zu "
                                   "clusters", what, pos, k);
    /* tol relative to the weighted mean variance over dimensions, as the other paths */
    double var = 0;
    for (size_t t = 0; t < dim; t++) {
        double mu = 0, ss = 0;
        for (size_t i = 0; i < n_centres; i++)
            mu += weights[i] * centres[i * dim + t];
        mu /= tot;
        for (size_t i = 0; i < n_centres; i++) {
            double v = centres[i * dim + t] - mu;
            ss += weights[i] * v * v;
        }
        var += ss / tot;
    }
    double tol = var / (double)dim * (double)o.tol;
    float *C = malloc(k * dim * sizeof(float));
    double *best = malloc(n_centres * sizeof(double));
    size_t *lab = malloc(n_centres * sizeof(size_t));
    double *sums = malloc((k * dim + k) * sizeof(double));
    if (!C || !best || !lab || !sums) {
        rc = av__fail(AV_ENOMEM, "%s", what);
        goto done;
    }
    av_rng g;
    av__rng_seed(&g, o.seed);
    double best_inertia = INFINITY;
    for (uint32_t run = 0; run < o.n_init; run++) {
        double in = weighted_run(centres, weights, n_centres, dim, k, &o, tol, &g, C, best, lab,
                                 sums);
        if (in < best_inertia) {
            best_inertia = in;
            memcpy(centroids, C, k * dim * sizeof(float));
        }
    }
done:
    free(C), free(best), free(lab), free(sums);
    return rc;
}

AV_API int av_kmeans_normalize(const float *rows, size_t n, size_t dim, float *out)
{
    int rc;
    if ((rc = check_rows(rows, n, "av_kmeans_normalize")) != AV_OK)
        return rc;
    if (!out && n > 0)
        return av__fail(AV_EINVAL, "av_kmeans_normalize: out is NULL");
    if (dim == 0 || dim > AV_MAX_DIM)
        return av__fail(AV_ELIMIT, "av_kmeans_normalize: dim=%zu (1..%u)", dim, AV_MAX_DIM);
    size_t bad = av__normalize_rows(out, rows, n, dim);
    if (bad < n)
        return av__fail(AV_EVECTOR, "av_kmeans_normalize: row %zu is zero, NaN or infinite", bad);
    return AV_OK;
}

/* ---- public: the statistics' map ---- */
int av__check_outcomes(const float *scores, const float *costs, size_t n, size_t m,
                       const char *what)
{
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < m; i++) {
            float s = scores[r * m + i], c = costs[r * m + i];
            if (isinf(s) || isinf(c) || (!isnan(c) && c < 0.0f))
                return av__fail(AV_EVALUE, "%s: row %zu, model %zu: score=%g cost=%g", what, r,
                                i, (double)s, (double)c);
        }
    return AV_OK;
}

typedef struct label_ctx {
    int32_t *lab;
    int64_t inertia;
} label_ctx;

static void label_fn(void *ctx, const km_ws *w, size_t r0, size_t m)
{
    label_ctx *c = ctx;
    memcpy(c->lab + r0, w->lab, m * sizeof(int32_t));
    for (size_t i = 0; i < m; i++)
        c->inertia += fixed(w->d2[i]);
}

int av__kmeans_labels_norm(const float *C, size_t k, size_t d, const float *X, size_t n,
                           int32_t *labels)
{
    km_ws w;
    int rc = ws_init(&w, NULL, k, d);
    float *csq = rc ? NULL : malloc(k * sizeof(float));
    if (!rc && !csq)
        rc = av__fail(AV_ENOMEM, "squared norms of %zu centroids", k);
    if (!rc) {
        av__kmeans_sqnorms(C, k, d, csq);
        for (size_t r0 = 0; r0 < n; r0 += w.sub) {
            size_t m = n - r0 < w.sub ? n - r0 : w.sub;
            nearest(&w, C, csq, X + r0 * d, m);
            memcpy(labels + r0, w.lab, m * sizeof(int32_t));
        }
    }
    free(csq);
    ws_free(&w); /* zeroed by a failed ws_init */
    return rc;
}

int av__kmeans_stats_block_k(const av_kernels *K, const float *C, size_t k, size_t dim,
                             const float *rows, size_t n, const float *scores, const float *costs,
                             size_t m, double *counts, double *sum_scores, double *sum_costs,
                             int64_t *inertia)
{
    static const char what[] = "av_kmeans_stats_block";
    int rc;
    if ((rc = check_centres(C, k, dim, what)) != AV_OK || (rc = check_rows(rows, n, what)) != AV_OK)
        return rc;
    if (m == 0 || m > AV_MAX_MODELS)
        return av__fail(AV_ELIMIT, "%s: n_models=%zu (1..%u)", what, m, AV_MAX_MODELS);
    if ((n > 0 && (!scores || !costs)) || !counts || !sum_scores || !sum_costs)
        return av__fail(AV_EINVAL, "%s: scores, costs, counts, sum_scores or sum_costs is NULL",
                        what);
    if (inertia && (rc = check_cost(inertia, n, what, "inertia")) != AV_OK)
        return rc;
    if (n == 0)
        return AV_OK;
    if ((rc = av__check_outcomes(scores, costs, n, m, what)) != AV_OK)
        return rc;
    /* labels first (a bad row changes nothing), then the sums in row order */
    label_ctx c = {malloc(n * sizeof(int32_t)), 0};
    if (!c.lab)
        return av__fail(AV_ENOMEM, "%s: labels of %zu rows", what, n);
    if ((rc = each_block(K, C, k, dim, rows, n, what, label_fn, &c)) == AV_OK) {
        av__kmeans_stats_add(c.lab, n, scores, costs, m, counts, sum_scores, sum_costs);
        if (inertia)
            *inertia += c.inertia;
    }
    free(c.lab);
    return rc;
}

AV_API int av_kmeans_stats_block(const float *centroids, size_t k, size_t dim, const float *rows,
                                 size_t n, const float *scores, const float *costs,
                                 size_t n_models, double *counts, double *sum_scores,
                                 double *sum_costs, int64_t *inertia)
{
    return av__kmeans_stats_block_k(NULL, centroids, k, dim, rows, n, scores, costs, n_models,
                                    counts, sum_scores, sum_costs, inertia);
}

/* ---- the trainer's bounded passes ----
   Most rows keep their cluster from one pass to the next. A pass may skip the search over all k
   centroids for a row when a bound proves the search would pick the same cluster (Hamerly's one
   lower bound per row, "Making k-means even faster", SDM 2010), provided the bound also covers
   float rounding: then the pass's labels, sums, counts and inertia are bit for bit those of the
   unbounded pass, which is what the public partial steps compute.

   Bounds are kept per group of centroids (contiguous indices; Ding et al., "Yinyang K-Means",
   ICML 2015): one centroid that keeps moving then spoils only its group's bound.

   For a normalised row x and a centroid c with true squared distance r^2 = |x - c|^2, the
   computed value v = -2 fl(x.c) + fl(|x|^2) + fl(|c|^2) (float32, clamped at 0) is within eps of
   r^2 (d2_error_bound: the dot product's rounding, gamma_(d+2) |x| |c| for any summation order,
   twice over, plus the squared norms' and the two additions' roundings). After a search, a
   group's lo = sqrt(smallest v in the group, the chosen centroid a left out, - eps) is a lower
   bound on the true distance to those centroids. When centroid j moves by delta_j, the triangle
   inequality keeps lo - max_{j in group} delta_j a lower bound. In the next pass the chosen
   centroid's computed v_a (one dot product, the kernel's own arithmetic: the inertia needs it
   anyway) is compared with each group: if v_a + eps < lo^2, every v_j of the group is
   >= lo^2 - eps > v_a. Groups that fail are searched with the kernels (their v_j bit for bit the
   full search's), and the smallest over a and the searched groups, ties to the lower index, is
   the full search's answer because every other v_j is strictly larger. A row that fails in more
   than half of its groups is searched in full with the block kernel. AV_KMEANS_BOUNDS=off
   searches every row (the same results, slower). */
typedef struct km_bounds {
    int32_t *lab;   /* [n] the row's cluster in the last pass */
    float *lo;      /* [n x T] lower bound on its true distance to the group's other centroids */
    size_t T, gs;   /* groups, centroids per group (the last may have fewer) */
    double *gdrift; /* [T] the largest true distance a centroid of the group moved at the last
                       update (rounded up) */
    float *C_prev;  /* k x d: the centroids before the update */
    double eps;     /* of the current pass's centroids */
    bool have;      /* lab and lo are of the previous pass */
} km_bounds;

bool av__km_bounds_wanted(void)
{
    const char *v = getenv("AV_KMEANS_BOUNDS");
    return !(v && strcmp(v, "off") == 0);
}

/* Groups of at least 8 centroids, at most 64 groups. */
void av__km_bounds_groups(size_t k, size_t *T, size_t *gs)
{
    size_t g = (k + 63) / 64;
    g = g < 8 ? 8 : g;
    *gs = g;
    *T = (k + g - 1) / g;
}

/* A float <= v (v >= 0, below FLT_MAX): v lowered by 2^-23 relative, then rounded to nearest,
   which moves it up by at most 2^-24 relative. */
float av__km_down(double v)
{
    return (float)(v * (1.0 - 0x1p-23));
}

/* A lower bound on a true distance whose squared value is computed as v (within eps). */
float av__km_lower_of(float v, double eps)
{
    double l2 = (double)v - eps;
    return l2 > 0.0 ? av__km_down(sqrt(l2)) : 0.0f;
}

/* An upper bound of |computed - true| squared distance between a normalised row (squared norm
   <= 1 + 1e-6: each component of x / |x| rounded once) and centroids whose computed squared norms
   are at most csq_max; < 0 when the dimension is too large for the bound to mean anything. */
double av__km_d2_error_bound(size_t d, float csq_max)
{
    const double u = 0x1p-24;
    double nd = (double)d + 2.0;
    if (nd * u >= 0.01)
        return -1.0;
    double gam = nd * u / (1.0 - nd * u);
    double A2 = 1.0 + 1e-6, B2 = (double)csq_max * (1.0 + 4.0 * u) + 1e-30;
    double A = sqrt(A2), B = sqrt(B2), G = A * B * (1.0 + gam); /* |fl(x.c)| <= G */
    double e = 2.0 * gam * A * B                      /* -2 x.c */
               + 1.01 * u * (A2 + B2)                 /* |x|^2, |c|^2 rounded to float */
               + u * (2.0 * G + A2) + u * (2.0 * G + 2.0 * A2 + B2); /* the two additions */
    return 2.0 * e; /* twice the bound, to spare */
}

double av__km_pass_eps(const float *csq, size_t k, size_t d)
{
    float mx = 0.0f;
    for (size_t j = 0; j < k; j++)
        mx = csq[j] > mx ? csq[j] : mx;
    return av__km_d2_error_bound(d, mx);
}

void av__km_group_drift(const float *C_prev, const float *C, size_t k, size_t d, size_t gs,
                        size_t T, double *gdrift)
{
    for (size_t q = 0; q < T; q++)
        gdrift[q] = 0.0;
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t t = 0; t < d; t++) {
            double dv = (double)C[j * d + t] - (double)C_prev[j * d + t];
            s += dv * dv;
        }
        double dj = s > 0 ? sqrt(s) * (1.0 + 1e-9) : 0.0; /* the sum's rounding, and more */
        if (dj > gdrift[j / gs])
            gdrift[j / gs] = dj;
    }
}

/* The least of v[0..n) (INFINITY if n is 0) in four independent chains: the values are never
   NaN, so the order of the comparisons does not change the result (a zero's sign may differ,
   which av__km_lower_of does not see). */
static inline float min_run(const float *v, size_t n)
{
    float m0 = INFINITY, m1 = INFINITY, m2 = INFINITY, m3 = INFINITY;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        m0 = v[j] < m0 ? v[j] : m0;
        m1 = v[j + 1] < m1 ? v[j + 1] : m1;
        m2 = v[j + 2] < m2 ? v[j + 2] : m2;
        m3 = v[j + 3] < m3 ? v[j + 3] : m3;
    }
    for (; j < n; j++)
        m0 = v[j] < m0 ? v[j] : m0;
    m0 = m1 < m0 ? m1 : m0;
    m2 = m3 < m2 ? m3 : m2;
    return m2 < m0 ? m2 : m0;
}

void av__km_group_bounds(const float *v, size_t k, size_t a, size_t gs, size_t T, double eps,
                         float *lo, const uint64_t *mask)
{
    for (size_t q = 0; q < T; q++) {
        if (mask && !(*mask >> q & 1u))
            continue;
        size_t j0 = q * gs, j1 = j0 + gs < k ? j0 + gs : k;
        float s;
        if (a >= j0 && a < j1) { /* the assigned centroid is left out */
            float l = min_run(v + j0, a - j0), r = min_run(v + a + 1, j1 - a - 1);
            s = r < l ? r : l;
        } else {
            s = min_run(v + j0, j1 - j0);
        }
        lo[q] = s == INFINITY ? INFINITY : av__km_lower_of(s, eps);
    }
}

uint64_t av__km_group_filter(float *lo, const double *gdrift, size_t T, double thr,
                             size_t *nfail)
{
    uint64_t fail = 0;
    *nfail = 0;
    for (size_t q = 0; q < T; q++) {
        double l = (double)lo[q] - gdrift[q];
        if (l > 0.0 && thr < l * l * (1.0 - 1e-9)) {
            lo[q] = av__km_down(l);
        } else {
            fail |= (uint64_t)1 << q;
            (*nfail)++;
        }
    }
    return fail;
}

/* The bounds of row r of the last nearest() call (cluster w->lab[r]) into lo, from the search's
   values (recomputed into w->gv, within eps). */
static void bounds_after_search(const km_bounds *b, const km_ws *w, size_t r, const float *csq,
                                float *lo)
{
    size_t k = w->k;
    const float *gr = w->G + r * k;
    for (size_t j = 0; j < k; j++)
        w->gv[j] = -2.0f * gr[j] + w->xsq[r] + csq[j];
    av__km_group_bounds(w->gv, k, (size_t)w->lab[r], b->gs, b->T, b->eps, lo, NULL);
}

bool av__km_bounded_search(const av_kernels *K, const float *C, const float *csq, size_t k,
                           size_t d, size_t gs, size_t T, const double *gdrift, double eps,
                           const float *x, float xs, size_t a, float *lo, float *v, int32_t *lab,
                           float *d2, size_t *nfail)
{
    float ga, va;
    K->dots_f32(C + a * d, d, 1, d, x, &ga);
    K->argmin_d2(&ga, csq + a, 1, xs, &va); /* the search's value for a */
    uint64_t fail = av__km_group_filter(lo, gdrift, T, (double)va + eps, nfail);
    if (*nfail * 2 > T)
        return false;
    size_t best = a;
    float bv = va;
    for (size_t q = 0; q < T; q++) {
        if (!(fail >> q & 1u))
            continue;
        size_t j0 = q * gs, gk = j0 + gs < k ? gs : k - j0;
        K->dots_f32(C + j0 * d, d, gk, d, x, v + j0);
        float gv;
        size_t jj = K->argmin_d2(v + j0, csq + j0, gk, xs, &gv); /* its first smallest */
        if (gv < bv || (gv == bv && j0 + jj < best)) {
            bv = gv;
            best = j0 + jj;
        }
        for (size_t j = j0; j < j0 + gk; j++)
            v[j] = -2.0f * v[j] + xs + csq[j]; /* within eps: the bounds' values */
    }
    if (*nfail) {
        av__km_group_bounds(v, k, best, gs, T, eps, lo, &fail);
        size_t qa = a / gs;
        if (best != a && !(fail >> qa & 1u)) { /* a joins its group's other centroids */
            float la = av__km_lower_of(va, eps);
            lo[qa] = la < lo[qa] ? la : lo[qa];
        }
    }
    *lab = (int32_t)best;
    *d2 = bv;
    return true;
}

/* The clusters and squared distances of q normalised rows X (rows g.. of all rows, their squared
   norms in w->xsq) into w->olab and w->od2, as nearest() would give them, the bounds renewed.
   Returns the rows searched in full; *part counts the groups searched in the others. */
static size_t assign_bounded(km_bounds *b, km_ws *w, const float *C, const float *csq,
                             const float *X, size_t g, size_t q, size_t *part)
{
    size_t d = w->d, T = b->T, nre = 0;
    if (!b->have) { /* nothing known yet: every row searched, in place */
        nearest_xs(w, C, csq, X, q);
        for (size_t i = 0; i < q; i++) {
            w->olab[i] = w->lab[i];
            w->od2[i] = w->d2[i];
            bounds_after_search(b, w, i, csq, b->lo + (g + i) * T);
        }
        return q;
    }
    for (size_t i = 0; i < q; i++) {
        const float *x = X + i * d;
        size_t nfail;
        if (av__km_bounded_search(w->K, C, csq, w->k, d, b->gs, T, b->gdrift, b->eps, x,
                                  w->xsq[i], (size_t)b->lab[g + i], b->lo + (g + i) * T, w->gv,
                                  &w->olab[i], &w->od2[i], &nfail)) {
            *part += nfail;
        } else {
            memcpy(w->rbuf + nre * d, x, d * sizeof(float));
            w->xsq[nre] = w->xsq[i]; /* nre <= i: entries not read yet stay in place */
            w->ridx[nre++] = i;
        }
    }
    if (nre == 0)
        return 0;
    nearest_xs(w, C, csq, w->rbuf, nre);
    for (size_t r = 0; r < nre; r++) {
        size_t i = w->ridx[r];
        w->olab[i] = w->lab[r];
        w->od2[i] = w->d2[r];
        bounds_after_search(b, w, r, csq, b->lo + (g + i) * T);
    }
    return nre;
}

/* The error bound of a pass over centroids with squared norms csq. */
static void set_eps(km_bounds *b, const float *csq, size_t k, size_t d)
{
    if (b)
        b->eps = av__km_pass_eps(csq, k, d);
}

/* s[t] -= fixed(x[t]): fixed() truncates toward zero, so this undoes fixed_add exactly. */
static void fixed_sub(int64_t *s, const float *x, size_t d)
{
    for (size_t t = 0; t < d; t++)
        s[t] -= fixed(x[t]);
}

/* ---- the SAMPLED trainer over the builder's rows ---- */
static double now_s(void)
{
    return av__seconds();
}

/* A chunk: rows [r0, r0+n) of segment seg (never across segments). */
typedef struct km_chunk {
    size_t seg, r0, n;
    size_t g; /* index of its first row among all rows */
} km_chunk;

typedef struct km_pass {
    const av_rows *src;
    const km_chunk *chunks;
    size_t n_chunks;
    const float *C;
    const float *csq;
    size_t k;
    bool stats;
    /* Lloyd: one accumulator per thread; statistics: one per chunk (merged in chunk order) */
    int64_t *sums, *counts, *inertia; /* [thread] */
    double *st;                       /* [chunk] x 3 x k x m */
    int64_t *st_inertia;              /* [chunk] */
    km_bounds *bd;                    /* NULL: every row searched */
    uint64_t *searched;               /* [thread] rows searched in full this pass */
    uint64_t *part;                   /* [thread] groups searched in the other rows */
    av_mutex lock;
    size_t next;
    int rc;
    char err[sizeof(av_source_err)]; /* the first failure's text */
} km_pass;

typedef struct km_thread {
    km_pass *p;
    size_t t;
    av_thread tid;
    bool started;
} km_thread;

/* The first failure of a pass's threads (the others stop at their next chunk). */
static void pass_fail(km_pass *p, int rc, const char *text)
{
    av__mutex_lock(&p->lock);
    if (p->rc == AV_OK) {
        p->rc = rc;
        snprintf(p->err, sizeof p->err, "%s", text);
    }
    av__mutex_unlock(&p->lock);
}

/* The pass's map over nb rows of chunk ci, rows g.. of all rows: X normalised (inv NULL) or raw
   with each row's inverse norm (normalised into w->buf, sub-block by sub-block). */
static void pass_rows(km_pass *p, km_ws *w, size_t t, size_t ci, const float *X, const double *inv,
                      const float *scores, const float *costs, size_t g, size_t nb)
{
    size_t k = p->k, d = p->src->dim, m = p->src->m;
    km_bounds *b = p->bd;
    for (size_t off = 0; off < nb; off += w->sub) {
        size_t q = nb - off < w->sub ? nb - off : w->sub;
        const float *Xb = X + off * d;
        /* each row's squared norm as it is normalised (one pass over the row) */
        if (inv) {
            for (size_t i = 0; i < q; i++) /* av__scale_row, then sqnorm8 */
                w->xsq[i] = w->K->scale_sqnorm8(w->buf + i * d, Xb + i * d, d, inv[off + i]);
            Xb = w->buf;
        } else {
            for (size_t i = 0; i < q; i++)
                w->xsq[i] = w->K->sqnorm8(Xb + i * d, d);
        }
        if (!b) {
            p->searched[t] += q;
            nearest_xs(w, p->C, p->csq, Xb, q);
            if (p->stats) {
                double *st = p->st + ci * 3 * k * m;
                av__kmeans_stats_add(w->lab, q, scores + off * m, costs + off * m, m, st,
                                     st + k * m, st + 2 * k * m);
                for (size_t i = 0; i < q; i++)
                    p->st_inertia[ci] += fixed(w->d2[i]);
            } else {
                lloyd_add(w, Xb, q, p->sums + t * k * d, p->counts + t * k, &p->inertia[t], NULL);
            }
            continue;
        }
        size_t part = 0; /* groups searched in rows not searched in full */
        p->searched[t] += assign_bounded(b, w, p->C, p->csq, Xb, g + off, q, &part);
        p->part[t] += part;
        if (p->stats) {
            double *st = p->st + ci * 3 * k * m;
            av__kmeans_stats_add(w->olab, q, scores + off * m, costs + off * m, m, st, st + k * m,
                                 st + 2 * k * m);
            for (size_t i = 0; i < q; i++)
                p->st_inertia[ci] += fixed(w->od2[i]);
            continue;
        }
        /* Lloyd's map as changes: the totals of the previous pass are kept, so a row that stays
           adds nothing (integer sums: the same totals as summing every row again) */
        int64_t *sums = p->sums + t * k * d, *counts = p->counts + t * k;
        for (size_t i = 0; i < q; i++) {
            int32_t j = w->olab[i], old = b->have ? b->lab[g + off + i] : -1;
            const float *x = Xb + i * d;
            if (j != old) {
                w->K->fixed_add(sums + (size_t)j * d, x, d);
                counts[j]++;
                if (old >= 0) {
                    fixed_sub(sums + (size_t)old * d, x, d);
                    counts[old]--;
                }
                b->lab[g + off + i] = j;
            }
            p->inertia[t] += fixed(w->od2[i]);
        }
    }
}

/* A chunk of a row source: its blocks read into buf (each checked against its first read). */
static int pass_source(km_pass *p, km_ws *w, size_t t, size_t ci, const av_source_buf *buf)
{
    const km_chunk *c = &p->chunks[ci];
    const av_row_seg *s = &p->src->seg[c->seg];
    const av_source_seg *so = s->source;
    for (size_t blk = c->r0 / so->block; blk * so->block < c->r0 + c->n; blk++) {
        av_source_err err;
        int rc = av__source_read(so, blk, buf, &err);
        if (rc) {
            pass_fail(p, rc, err.text);
            return rc;
        }
        pass_rows(p, w, t, ci, buf->X, s->inv + blk * so->block, buf->scores, buf->costs,
                  c->g + (blk * so->block - c->r0), av__source_block_rows(so, blk));
    }
    return AV_OK;
}

static void *pass_thread(void *arg)
{
    km_thread *th = arg;
    km_pass *p = th->p;
    const av_rows *src = p->src;
    size_t d = src->dim, m = src->m;
    km_ws w;
    av_source_buf buf = {0};
    if (ws_init(&w, NULL, p->k, d) != AV_OK ||
        (src->max_block && av__source_buf_alloc(&buf, src->max_block, d, m) != AV_OK)) {
        pass_fail(p, AV_ENOMEM, "k-means pass buffers");
        ws_free(&w);
        return NULL;
    }
    for (;;) {
        av__mutex_lock(&p->lock);
        size_t ci = p->next++;
        bool stop = p->rc != AV_OK;
        av__mutex_unlock(&p->lock);
        if (stop || ci >= p->n_chunks)
            break;
        const km_chunk *c = &p->chunks[ci];
        const av_row_seg *s = &src->seg[c->seg];
        if (s->source) {
            if (pass_source(p, &w, th->t, ci, &buf) != AV_OK)
                break;
        } else {
            size_t r = c->r0;
            pass_rows(p, &w, th->t, ci, s->X + r * d, s->normalised ? NULL : s->inv + r,
                      s->scores + r * m, s->costs + r * m, c->g, c->n);
        }
    }
    av__source_buf_free(&buf);
    ws_free(&w);
    return NULL;
}

/* The pass's searches among the k centroids in rows' worth (a row searched in some groups counts
   for their share of the centroids), the threads' counters then zeroed. */
static uint64_t take_searched(km_pass *p, unsigned threads)
{
    uint64_t full = 0, part = 0;
    for (unsigned t = 0; t < threads; t++) {
        full += p->searched[t];
        part += p->part[t];
        p->searched[t] = p->part[t] = 0;
    }
    return p->bd ? full + part * p->bd->gs / p->k : full;
}

/* One pass over every row: Lloyd's map (sums, counts, inertia) or the statistics. */
static int run_pass(km_pass *p, unsigned threads)
{
    km_thread th[AV_MAX_BATCH_THREADS];
    p->next = 0;
    p->rc = AV_OK;
    for (unsigned t = 0; t < threads; t++) {
        th[t] = (km_thread){.p = p, .t = t, .started = false};
        th[t].started = t > 0 && av__thread_start(&th[t].tid, pass_thread, &th[t]) == 0;
    }
    pass_thread(&th[0]); /* the threads that did not start leave their chunks to the others */
    for (unsigned t = 1; t < threads; t++)
        if (th[t].started)
            av__thread_join(&th[t].tid);
    if (p->rc)
        return av__fail(p->rc, "%s", p->err);
    return AV_OK;
}

/* Rows per chunk of a segment: AV_KMEANS_CHUNK_ROWS, or for a row source the whole blocks that fit
   in it (at least one), so that a chunk's reads are whole blocks. */
static size_t chunk_rows(const av_row_seg *s)
{
    if (!s->source)
        return AV_KMEANS_CHUNK_ROWS;
    size_t b = s->source->block;
    return b >= AV_KMEANS_CHUNK_ROWS ? b : AV_KMEANS_CHUNK_ROWS / b * b;
}

/* The sample's rows of a row source whose first row is row g0 of all rows: the blocks holding
   at least one read (and checked), those rows normalised into S + *ns * d. */
static int gather_source(const av_row_seg *sg, uint64_t key, uint64_t thr, size_t g0, size_t d,
                         const av_source_buf *buf, float *S, size_t *ns)
{
    const av_source_seg *so = sg->source;
    for (size_t blk = 0; blk < so->n_blocks; blk++) {
        size_t r0 = blk * so->block, nb = av__source_block_rows(so, blk), i = 0;
        while (i < nb && !in_sample(key, thr, g0 + r0 + i))
            i++;
        if (i == nb)
            continue;
        av_source_err err;
        int rc = av__source_read(so, blk, buf, &err);
        if (rc)
            return av__fail(rc, "%s", err.text);
        for (; i < nb; i++)
            if (in_sample(key, thr, g0 + r0 + i))
                av__scale_row(S + (*ns)++ * d, buf->X + i * d, d, sg->inv[r0 + i]);
    }
    return AV_OK;
}

int av__fit_sampled(const av_rows *src, const av_fit_options *o, uint32_t member,
                    av_fit_clock *clk, float *C, double *counts, double *sum_scores,
                    double *sum_costs, av_sampled_info *info)
{
    size_t n = src->n, d = src->dim, k = o->n_clusters, m = src->m;
    uint32_t alg, max_passes;
    size_t sample;
    av__kmeans_plan(o, n, &alg, &sample, &max_passes);
    uint64_t seed = av_kmeans_member_seed(o->seed, member);
    memset(info, 0, sizeof *info);
    double t0 = now_s();
    /* (a) the sample, in row order */
    uint64_t key = stream_key(seed, DOMAIN_SAMPLE), thr = sample_threshold(n, sample);
    size_t ns = 0;
    for (size_t s = 0, g = 0; s < src->n_seg; s++)
        for (size_t i = 0; i < src->seg[s].n; i++, g++)
            ns += in_sample(key, thr, g);
    if (ns < k)
        return av__fail(AV_EEMPTY, "the sample of %zu rows cannot make %zu clusters (raise "
                                   "sample_size)", ns, k);
    /* The sample's rows and, once its k-means is done, the bounds (docs/SCALING.md, "Bounded
       passes"; without their memory every row is searched) share one allocation, so that the
       bounds reuse the pages the sample touched instead of faulting in fresh ones: on the
       virtual machines we measure on, a fresh 4 KiB page costs 15-25 us, and the 36 MB of bounds
       at 1M rows and k = 60 were 0.1-0.2 s of the first pass. Small pages: the bounds on pages
       advised as huge made the statistics pass 2-4x slower there (base.h). */
    km_bounds bd = {0};
    size_t s_bytes = ns * d * sizeof(float), lab_bytes = 0, region = s_bytes;
    bool bounds = av__km_bounds_wanted() && av__km_d2_error_bound(d, 1.0f) > 0.0;
    if (bounds) {
        size_t lo_bytes;
        av__km_bounds_groups(k, &bd.T, &bd.gs);
        lab_bytes = ((n ? n : 1) * sizeof(int32_t) + 63) & ~(size_t)63; /* lo 64-byte aligned */
        bounds = av__mul_ok(n ? n : 1, bd.T * sizeof(float), &lo_bytes) &&
                 lab_bytes + lo_bytes > lab_bytes;
        if (bounds && lab_bytes + lo_bytes > region)
            region = lab_bytes + lo_bytes;
    }
    float *S = av__aligned_alloc_small_pages(region);
    if (!S && region > s_bytes) { /* no memory for the bounds: every row searched */
        bounds = false;
        S = av__aligned_alloc_small_pages(s_bytes);
    }
    size_t n_chunks = 0;
    for (size_t s = 0; s < src->n_seg; s++)
        n_chunks += (src->seg[s].n + chunk_rows(&src->seg[s]) - 1) / chunk_rows(&src->seg[s]);
    unsigned threads = av__threads_default();
    if (threads > n_chunks)
        threads = n_chunks ? (unsigned)n_chunks : 1u;
    km_chunk *chunks = malloc((n_chunks ? n_chunks : 1) * sizeof(km_chunk));
    km_pass p = {0};
    av__mutex_init(&p.lock); /* destroyed at the end: the statistics pass uses it too */
    p.sums = calloc((size_t)threads * k * d, sizeof(int64_t));
    p.counts = calloc((size_t)threads * k, sizeof(int64_t));
    p.inertia = calloc(threads, sizeof(int64_t));
    p.st = calloc((n_chunks ? n_chunks : 1) * 3 * k * m, sizeof(double));
    p.st_inertia = calloc(n_chunks ? n_chunks : 1, sizeof(int64_t));
    p.searched = calloc(threads, sizeof(uint64_t));
    p.part = calloc(threads, sizeof(uint64_t));
    int64_t *tot_sums = calloc(k * d, sizeof(int64_t)), *tot_counts = calloc(k, sizeof(int64_t));
    float *csq = malloc(k * sizeof(float));
    if (bounds) {
        bd.gdrift = malloc(bd.T * sizeof(double));
        bd.C_prev = malloc(k * d * sizeof(float));
        bounds = bd.gdrift && bd.C_prev;
    }
    av_source_buf buf = {0};
    int rc = AV_OK;
    if (!S || !chunks || !p.sums || !p.counts || !p.inertia || !p.st || !p.st_inertia ||
        !p.searched || !p.part || !tot_sums || !tot_counts || !csq) {
        rc = av__fail(AV_ENOMEM, "SAMPLED k-means buffers (%zu sample rows, %zu chunks)", ns,
                      n_chunks);
        goto done;
    }
    if (src->max_block && (rc = av__source_buf_alloc(&buf, src->max_block, d, m)) != AV_OK)
        goto done;
    ns = 0;
    for (size_t s = 0, g = 0, ci = 0; s < src->n_seg; g += src->seg[s++].n) {
        const av_row_seg *sg = &src->seg[s];
        if (sg->source)
            rc = gather_source(sg, key, thr, g, d, &buf, S, &ns);
        else
            for (size_t i = 0; i < sg->n; i++)
                if (in_sample(key, thr, g + i)) {
                    if (sg->normalised)
                        memcpy(S + ns * d, sg->X + i * d, d * sizeof(float));
                    else
                        av__scale_row(S + ns * d, sg->X + i * d, d, sg->inv[i]);
                    ns++;
                }
        if (rc)
            goto done;
        size_t cr = chunk_rows(sg);
        for (size_t r0 = 0; r0 < sg->n; r0 += cr)
            chunks[ci++] = (km_chunk){s, r0, sg->n - r0 < cr ? sg->n - r0 : cr, g + r0};
    }
    av__source_buf_free(&buf);
    /* (b) full-batch k-means on the sample */
    av_fit_options os = *o;
    os.seed = seed;
    os.progress = NULL;
    double shift_tol, inertia;
    if ((rc = av__kmeans_fit_sample_norm(S, ns, d, &os, C, &inertia, &shift_tol)) != AV_OK)
        goto done;
    if (bounds) { /* the sample's pages become the bounds */
        bd.lab = (int32_t *)(void *)S;
        bd.lo = (float *)(void *)((char *)S + lab_bytes);
        p.bd = &bd;
    } else {
        av__aligned_free(S);
        S = NULL;
    }
    info->sample_rows = ns;
    av_fit_progress pr = {sizeof pr, AV_FIT_STAGE_SAMPLE, member, o->members, 0, max_passes, n,
                          ns, inertia, 0.0, shift_tol, 0.0, -1.0, 0};
    double t_sample = now_s() - t0;
    if (o->pass_progress) {
        pr.elapsed = now_s() - clk->start;
        o->pass_progress(o->progress_user, &pr);
    }
    /* (c) Lloyd passes over every row */
    p.src = src;
    p.chunks = chunks;
    p.n_chunks = n_chunks;
    p.C = C;
    p.csq = csq;
    p.k = k;
    double t_pass = 0;
    uint32_t pass = 0;
    int64_t prev_inertia = -1;
    for (; pass < max_passes;) {
        double tp = now_s();
        /* the threads' accumulators: the pass's sums, or with bounds its changes to the totals */
        memset(p.sums, 0, (size_t)threads * k * d * sizeof(int64_t));
        memset(p.counts, 0, (size_t)threads * k * sizeof(int64_t));
        memset(p.inertia, 0, threads * sizeof(int64_t));
        if (!p.bd) {
            memset(tot_sums, 0, k * d * sizeof(int64_t));
            memset(tot_counts, 0, k * sizeof(int64_t));
        }
        av__kmeans_sqnorms(C, k, d, csq);
        set_eps(p.bd, csq, k, d);
        p.stats = false;
        if ((rc = run_pass(&p, threads)) != AV_OK)
            break;
        for (unsigned t = 0; t < threads; t++) {
            for (size_t i = 0; i < k * d; i++)
                tot_sums[i] += p.sums[t * k * d + i];
            for (size_t j = 0; j < k; j++)
                tot_counts[j] += p.counts[t * k + j];
            if (t > 0)
                p.inertia[0] += p.inertia[t];
        }
        uint64_t searched = take_searched(&p, threads);
        if (p.bd)
            memcpy(bd.C_prev, C, k * d * sizeof(float));
        double shift = av__kmeans_finish(C, k, d, tot_sums, tot_counts);
        if (p.bd) {
            av__km_group_drift(bd.C_prev, C, k, d, bd.gs, bd.T, bd.gdrift);
            bd.have = true;
        }
        info->searched += searched;
        pass++;
        t_pass = (t_pass * (pass - 1) + (now_s() - tp)) / pass;
        if (o->pass_progress) {
            pr.stage = AV_FIT_STAGE_PASS;
            pr.pass = pass;
            pr.inertia = (double)p.inertia[0] / AV_KMEANS_FIXED_ONE;
            pr.shift = shift;
            pr.rows_searched = (size_t)searched;
            pr.elapsed = now_s() - clk->start;
            /* this member's remaining passes and statistics pass, then the other members */
            double per_member = t_sample + (max_passes + 1) * t_pass;
            pr.eta = (double)(max_passes - pass + 1) * t_pass +
                     (double)(o->members - member - 1) * per_member;
            o->pass_progress(o->progress_user, &pr);
        }
        if (av__kmeans_pass_converged(shift, shift_tol, prev_inertia, p.inertia[0], o->tol))
            break;
        prev_inertia = p.inertia[0];
    }
    if (rc)
        goto done;
    info->passes = pass;
    /* (d) the statistics in one pass, merged in chunk order */
    av__kmeans_sqnorms(C, k, d, csq);
    set_eps(p.bd, csq, k, d);
    p.stats = true;
    if ((rc = run_pass(&p, threads)) != AV_OK)
        goto done;
    uint64_t searched_stats = take_searched(&p, threads);
    info->searched += searched_stats;
    int64_t fin = 0;
    for (size_t ci = 0; ci < n_chunks; ci++) {
        const double *st = p.st + ci * 3 * k * m;
        for (size_t i = 0; i < k * m; i++) {
            counts[i] += st[i];
            sum_scores[i] += st[k * m + i];
            sum_costs[i] += st[2 * k * m + i];
        }
        fin += p.st_inertia[ci];
    }
    info->inertia = (double)fin / AV_KMEANS_FIXED_ONE;
    if (o->pass_progress) {
        pr.stage = AV_FIT_STAGE_STATS;
        pr.inertia = info->inertia;
        pr.rows_searched = (size_t)searched_stats;
        pr.elapsed = now_s() - clk->start;
        pr.eta = (double)(o->members - member - 1) * (t_sample + (max_passes + 1) * t_pass);
        o->pass_progress(o->progress_user, &pr);
    }
done:
    av__mutex_destroy(&p.lock);
    av__aligned_free(S);
    av__source_buf_free(&buf);
    free(chunks), free(p.sums), free(p.counts), free(p.inertia), free(p.st), free(p.st_inertia);
    free(p.searched), free(p.part), free(tot_sums), free(tot_counts);
    free(bd.gdrift), free(bd.C_prev); /* bd.lab and bd.lo are in S */
    free(csq);
    return rc;
}

double av__now(void)
{
    return now_s();
}
