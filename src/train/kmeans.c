/* k-means as scikit-learn's KMeans does it: greedy k-means++ seeding (2 + ln k local trials per
   step), Lloyd iterations whose distance blocks are ||x||^2 + ||c||^2 - 2 X C^T with the squared
   norms precomputed, relocation of empty clusters to the points farthest from their centres,
   tolerance relative to the data's mean variance, and n_init restarts keeping the lowest inertia.
   Deterministic for a seed (own PRNG), distance engine and backend.

   The X C^T blocks come from the library's multi-query SIMD kernel, whose value for a row and a
   centre does not depend on the block, so that after the first assignment the rows whose centre a
   bound proves unchanged are not searched (scale.c's group bounds; the full search's result bit
   for bit). Since 1.4.1 this is the default everywhere: with the bounds it took 0.4-0.6x the time of
   cblas_sgemm blocks in every shape measured (docs/PERFORMANCE.md), whose per-element results
   depend on the block's shape so that no search can be skipped. AV_KMEANS_GEMM=blas still takes
   cblas_sgemm (OpenBLAS builds; up to 1.4 the default on CPUs that OpenBLAS recognises). A build
   without OpenBLAS (AV_NO_BLAS: `make NO_BLAS=1`) gives the same results as a BLAS build. */
#include "train/train.h"

#ifndef AV_NO_BLAS
#include <cblas.h>
#endif
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows of X per distance block: bounds the distance buffer to AV_KM_BLOCK * k floats. */
#define AV_KM_BLOCK 2048u

typedef struct km_work {
    const float *X;
    size_t n, d, k;
    float *xsq;     /* n: squared norms of the rows */
    float *G;       /* AV_KM_BLOCK x max(k, trials): dot products */
    float *csq;     /* k */
    double *sums;   /* k x d */
    double *cnt;    /* k */
    float *mind;    /* n: squared distance to the assigned centre */
    bool blas;      /* distance blocks from cblas_sgemm (else the SIMD multi-query kernel) */
    /* Bounded assignment (kernel path only: sgemm's per-element results depend on the block's
       shape, the kernels' do not): scale.c's group bounds, the same results bit for bit. */
    bool bounded, have; /* in use; lo holds the last assignment's bounds */
    size_t T, gs;       /* groups of centroids */
    float *lo;          /* n x T */
    double *gdrift;     /* T: the largest move of a centroid of the group at the last update */
    float *C_prev;      /* k x d */
    float *rbuf;        /* AV_KM_BLOCK x d: rows searched in full */
    size_t *ridx;       /* AV_KM_BLOCK */
    float *gv;          /* k: one row's values */
    double eps;
} km_work;

/* The library's kernels with the bounded search, unless AV_KMEANS_GEMM=blas asks for cblas_sgemm
   (a build with OpenBLAS). */
static bool use_blas(void)
{
#ifndef AV_NO_BLAS
    const char *force = getenv("AV_KMEANS_GEMM");
    return force && strcmp(force, "blas") == 0;
#else
    return false;
#endif
}

/* Squared distances of rows [r0, r0+nb) to the `kc` centres C (kc x d) into G (nb x kc). */
static void block_dist(const km_work *w, size_t r0, size_t nb, const float *C, const float *csq,
                       size_t kc, float *G)
{
    float scale = -2.0f;
#ifndef AV_NO_BLAS
    if (w->blas) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)kc, (int)w->d, -2.0f,
                    w->X + r0 * w->d, (int)w->d, C, (int)w->d, 0.0f, G, (int)kc);
        scale = 1.0f; /* sgemm applied the -2 */
    } else
#endif
    {
        av__kernels()->dots_f32_multi(C, w->d, kc, w->d, w->X + r0 * w->d, w->d, nb, G, kc);
    }
    for (size_t i = 0; i < nb; i++) {
        float xs = w->xsq[r0 + i];
        float *g = G + i * kc;
        for (size_t j = 0; j < kc; j++) {
            float v = scale * g[j] + xs + csq[j];
            g[j] = v > 0.0f ? v : 0.0f; /* rounding can make a tiny distance negative */
        }
    }
}

static void row_sqnorms(const float *A, size_t n, size_t d, float *out)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t t = 0; t < d; t++)
            s += (double)A[i * d + t] * A[i * d + t];
        out[i] = (float)s;
    }
}

/* Index of the first cumulative weight exceeding target (numpy's searchsorted, side='left'). */
static size_t search_cumsum(const double *cum, size_t n, double target)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n ? lo : n - 1;
}

static int kmeanspp(km_work *w, av_rng *g, float *C)
{
    size_t n = w->n, d = w->d, k = w->k;
    size_t trials = 2 + (size_t)log((double)k);
    float *closest = malloc(n * sizeof(float));
    float *cand_d = malloc(trials * n * sizeof(float));
    double *cum = malloc(n * sizeof(double));
    float *cand_c = malloc(trials * d * sizeof(float));
    float *cand_sq = malloc(trials * sizeof(float));
    size_t *cand_id = malloc(trials * sizeof(size_t));
    if (!closest || !cand_d || !cum || !cand_c || !cand_sq || !cand_id) {
        free(closest), free(cand_d), free(cum), free(cand_c), free(cand_sq), free(cand_id);
        return av__fail(AV_ENOMEM, "k-means++ buffers for %zu rows", n);
    }
    size_t first = (size_t)(av__rng_uniform(g) * (double)n);
    if (first >= n)
        first = n - 1;
    memcpy(C, w->X + first * d, d * sizeof(float));
    float c0sq;
    row_sqnorms(C, 1, d, &c0sq);
    for (size_t r0 = 0; r0 < n; r0 += AV_KM_BLOCK) {
        size_t nb = n - r0 < AV_KM_BLOCK ? n - r0 : AV_KM_BLOCK;
        block_dist(w, r0, nb, C, &c0sq, 1, closest + r0);
    }
    double pot = 0;
    for (size_t i = 0; i < n; i++)
        pot += closest[i];
    for (size_t c = 1; c < k; c++) {
        double acc = 0;
        for (size_t i = 0; i < n; i++)
            cum[i] = (acc += closest[i]);
        for (size_t t = 0; t < trials; t++) {
            cand_id[t] = search_cumsum(cum, n, av__rng_uniform(g) * pot);
            memcpy(cand_c + t * d, w->X + cand_id[t] * d, d * sizeof(float));
        }
        row_sqnorms(cand_c, trials, d, cand_sq);
        /* Distances of every row to every candidate, in blocks (rows x trials). */
        for (size_t r0 = 0; r0 < n; r0 += AV_KM_BLOCK) {
            size_t nb = n - r0 < AV_KM_BLOCK ? n - r0 : AV_KM_BLOCK;
            block_dist(w, r0, nb, cand_c, cand_sq, trials, w->G);
            for (size_t i = 0; i < nb; i++)
                for (size_t t = 0; t < trials; t++) {
                    float v = w->G[i * trials + t];
                    float cl = closest[r0 + i];
                    cand_d[t * n + r0 + i] = v < cl ? v : cl;
                }
        }
        size_t best = 0;
        double best_pot = INFINITY;
        for (size_t t = 0; t < trials; t++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += cand_d[t * n + i];
            if (s < best_pot) {
                best_pot = s;
                best = t;
            }
        }
        pot = best_pot;
        memcpy(closest, cand_d + best * n, n * sizeof(float));
        memcpy(C + c * d, cand_c + best * d, d * sizeof(float));
    }
    free(closest), free(cand_d), free(cum), free(cand_c), free(cand_sq), free(cand_id);
    return AV_OK;
}

/* The kernel path's squared distance from a dot product (block_dist's expression, scale -2). */
static inline float kdist(float g, float xs, float cs)
{
    float v = -2.0f * g + xs + cs;
    return v > 0.0f ? v : 0.0f;
}

/* Row `row` by its bounds (centre a in the last assignment): scale.c's search (true with its
   centre and squared distance when at most half of its groups needed searching). */
static bool km_bounded_row(km_work *w, const float *C, size_t row, int32_t *lab, float *d2)
{
    size_t nfail;
    return av__km_bounded_search(av__kernels(), C, w->csq, w->k, w->d, w->gs, w->T, w->gdrift,
                                 w->eps, w->X + row * w->d, w->xsq[row], (size_t)*lab,
                                 w->lo + row * w->T, w->gv, lab, d2, &nfail);
}

/* assign() with bounds: the labels and distances the full search gives, bit for bit. */
static void assign_bounded(km_work *w, const float *C, int32_t *labels)
{
    size_t n = w->n, k = w->k, d = w->d;
    w->eps = av__km_pass_eps(w->csq, k, d);
    for (size_t r0 = 0; r0 < n; r0 += AV_KM_BLOCK) {
        size_t nb = n - r0 < AV_KM_BLOCK ? n - r0 : AV_KM_BLOCK, nre = 0;
        if (w->have) {
            for (size_t i = 0; i < nb; i++)
                if (!km_bounded_row(w, C, r0 + i, &labels[r0 + i], &w->mind[r0 + i])) {
                    memcpy(w->rbuf + nre * d, w->X + (r0 + i) * d, d * sizeof(float));
                    w->ridx[nre++] = r0 + i;
                }
            if (nre == 0)
                continue;
            av__kernels()->dots_f32_multi(C, d, k, d, w->rbuf, d, nre, w->G, k);
        } else {
            av__kernels()->dots_f32_multi(C, d, k, d, w->X + r0 * d, d, nb, w->G, k);
            for (size_t i = 0; i < nb; i++)
                w->ridx[nre++] = r0 + i;
        }
        for (size_t r = 0; r < nre; r++) {
            size_t row = w->ridx[r];
            float *g = w->G + r * k;
            for (size_t j = 0; j < k; j++)
                g[j] = kdist(g[j], w->xsq[row], w->csq[j]);
            size_t b = 0;
            for (size_t j = 1; j < k; j++)
                if (g[j] < g[b])
                    b = j;
            labels[row] = (int32_t)b;
            w->mind[row] = g[b];
            av__km_group_bounds(g, k, b, w->gs, w->T, w->eps, w->lo + row * w->T, NULL);
        }
    }
    w->have = true;
}

/* E-step: labels and distances to the nearest centre (ties: lower index). */
static void assign(km_work *w, const float *C, int32_t *labels)
{
    size_t n = w->n, k = w->k;
    row_sqnorms(C, k, w->d, w->csq);
    if (w->bounded) {
        assign_bounded(w, C, labels);
        return;
    }
    for (size_t r0 = 0; r0 < n; r0 += AV_KM_BLOCK) {
        size_t nb = n - r0 < AV_KM_BLOCK ? n - r0 : AV_KM_BLOCK;
        block_dist(w, r0, nb, C, w->csq, k, w->G);
        for (size_t i = 0; i < nb; i++) {
            const float *g = w->G + i * k;
            size_t b = 0;
            for (size_t j = 1; j < k; j++)
                if (g[j] < g[b])
                    b = j;
            labels[r0 + i] = (int32_t)b;
            w->mind[r0 + i] = g[b];
        }
    }
}

/* M-step: means of the assigned rows; an empty cluster takes the row farthest from its centre
   (scikit-learn's relocation), each such row used once. Returns the total squared centre shift. */
static double update_centres(km_work *w, const int32_t *labels, float *C)
{
    size_t n = w->n, d = w->d, k = w->k;
    memset(w->sums, 0, k * d * sizeof(double));
    memset(w->cnt, 0, k * sizeof(double));
    av_add_f64_fn add = av__kernels()->add_f64; /* s[t] += x[t], the same doubles on every backend */
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)labels[i];
        add(w->sums + j * d, w->X + i * d, d);
        w->cnt[j] += 1.0;
    }
    for (size_t j = 0; j < k; j++) {
        if (w->cnt[j] > 0.0)
            continue;
        size_t far = 0;
        float fd = -1.0f;
        for (size_t i = 0; i < n; i++)
            if (w->mind[i] > fd) {
                fd = w->mind[i];
                far = i;
            }
        w->mind[far] = -1.0f; /* not chosen twice */
        size_t old = (size_t)labels[far];
        const float *x = w->X + far * d;
        if (w->cnt[old] > 1.0) {
            for (size_t t = 0; t < d; t++)
                w->sums[old * d + t] -= x[t];
            w->cnt[old] -= 1.0;
        }
        for (size_t t = 0; t < d; t++)
            w->sums[j * d + t] = x[t];
        w->cnt[j] = 1.0;
    }
    double shift = 0;
    for (size_t j = 0; j < k; j++) {
        float *c = C + j * d;
        for (size_t t = 0; t < d; t++) {
            float v = (float)(w->sums[j * d + t] / w->cnt[j]);
            double dv = (double)v - c[t];
            shift += dv * dv;
            c[t] = v;
        }
    }
    return shift;
}

static double exact_inertia(const km_work *w, const float *C, const int32_t *labels)
{
    double s = 0;
    for (size_t i = 0; i < w->n; i++) {
        const float *x = w->X + i * w->d, *c = C + (size_t)labels[i] * w->d;
        for (size_t t = 0; t < w->d; t++) {
            double dv = (double)x[t] - c[t];
            s += dv * dv;
        }
    }
    return s;
}

/* Mean over dimensions of the per-dimension variance, scikit-learn's scale for tol. */
double av__kmeans_mean_variance(const float *X, size_t n, size_t d)
{
    /* 64 dimensions at a time, row by row (the rows are contiguous): each dimension's sums are
       still taken over the rows in order, so the doubles are a column-by-column walk's. */
    enum { COLS = 64 };
    const av_kernels *K = av__kernels(); /* exact per element: the scalar loops' doubles */
    double tot = 0;
    for (size_t t0 = 0; t0 < d; t0 += COLS) {
        size_t nc = d - t0 < COLS ? d - t0 : COLS;
        double mu[COLS] = {0}, ss[COLS] = {0};
        for (size_t i = 0; i < n; i++)
            K->add_f64(mu, X + i * d + t0, nc);
        for (size_t c = 0; c < nc; c++)
            mu[c] /= (double)n;
        for (size_t i = 0; i < n; i++)
            K->sqdev_f64(ss, X + i * d + t0, mu, nc);
        for (size_t c = 0; c < nc; c++)
            tot += ss[c] / (double)n;
    }
    return tot / (double)d;
}

void av__kmeans_result_free(av_kmeans_result *res)
{
    av__aligned_free(res->centroids);
    free(res->labels);
    res->centroids = NULL;
    res->labels = NULL;
}

int av__kmeans(const float *X, size_t n, size_t d, const av_fit_options *o, av_kmeans_result *res)
{
    size_t k = o->n_clusters;
    memset(res, 0, sizeof *res);
    if (k == 0 || n < k)
        return av__fail(AV_EEMPTY, "%zu rows cannot make %zu clusters", n, k);
    size_t trials = 2 + (size_t)log((double)k);
    size_t gcols = k > trials ? k : trials;
    /* the largest arrays below (k*d doubles, trials*n floats, n doubles) must fit a size_t, which
       may be 32 bits wide even though n*d floats did */
    size_t kd, tn, bytes;
    if (!av__mul_ok(k, d, &kd) || !av__mul_ok(kd, sizeof(double), &bytes) ||
        !av__mul_ok(trials, n, &tn) || !av__mul_ok(tn, sizeof(float), &bytes) ||
        !av__mul_ok(n, sizeof(double), &bytes))
        return av__fail(AV_ELIMIT, "k-means of %zu rows of dimension %zu into %zu clusters does "
                                   "not fit this platform's address space", n, d, k);
    km_work w = {.X = X, .n = n, .d = d, .k = k, .blas = use_blas()}; /* the rest zero */
    w.xsq = malloc(n * sizeof(float));
    w.G = malloc((size_t)AV_KM_BLOCK * gcols * sizeof(float));
    w.csq = malloc(k * sizeof(float));
    w.sums = malloc(k * d * sizeof(double));
    w.cnt = malloc(k * sizeof(double));
    w.mind = malloc(n * sizeof(float));
    float *C = av__aligned_alloc(k * d * sizeof(float));
    int32_t *labels = malloc(n * sizeof(int32_t));
    int32_t *prev = malloc(n * sizeof(int32_t));
    res->centroids = av__aligned_alloc(k * d * sizeof(float));
    res->labels = malloc(n * sizeof(int32_t));
    int rc = AV_OK;
    if (!w.xsq || !w.G || !w.csq || !w.sums || !w.cnt || !w.mind || !C || !labels || !prev ||
        !res->centroids || !res->labels) {
        rc = av__fail(AV_ENOMEM, "k-means buffers for n=%zu, k=%zu, d=%zu", n, k, d);
        goto done;
    }
    res->blas = w.blas;
    row_sqnorms(X, n, d, w.xsq);
    if (!w.blas && av__km_bounds_wanted() && av__km_d2_error_bound(d, 1.0f) > 0.0) {
        /* bounds need rows of norm 1 (as the builder's are) and memory; without, full search */
        float xmax = 0.0f;
        for (size_t i = 0; i < n; i++)
            xmax = w.xsq[i] > xmax ? w.xsq[i] : xmax;
        size_t lo_n;
        av__km_bounds_groups(k, &w.T, &w.gs);
        if (xmax <= 1.0f + 1e-6f && av__mul_ok(n, w.T * sizeof(float), &lo_n)) {
            w.lo = malloc(lo_n);
            w.gdrift = malloc(w.T * sizeof(double));
            w.C_prev = malloc(k * d * sizeof(float));
            w.rbuf = malloc((size_t)AV_KM_BLOCK * d * sizeof(float));
            w.ridx = malloc((size_t)AV_KM_BLOCK * sizeof(size_t));
            w.gv = malloc(k * sizeof(float));
            w.bounded = w.lo && w.gdrift && w.C_prev && w.rbuf && w.ridx && w.gv;
        }
    }
    res->mean_var = av__kmeans_mean_variance(X, n, d);
    double tol = res->mean_var * (double)o->tol;
    av_rng g;
    av__rng_seed(&g, o->seed);
    res->inertia = INFINITY;
    uint32_t n_init = o->n_init ? o->n_init : 1;
    for (uint32_t run = 0; run < n_init; run++) {
        if ((rc = kmeanspp(&w, &g, C)) != AV_OK)
            goto done;
        w.have = false; /* a new seeding: nothing known */
        assign(&w, C, labels);
        uint32_t it = 0;
        for (; it < o->max_iter; it++) {
            memcpy(prev, labels, n * sizeof(int32_t));
            if (w.bounded)
                memcpy(w.C_prev, C, k * d * sizeof(float));
            double shift = update_centres(&w, labels, C);
            if (w.bounded)
                av__km_group_drift(w.C_prev, C, k, d, w.gs, w.T, w.gdrift);
            assign(&w, C, labels);
            if (o->progress && o->verbose)
                o->progress(o->progress_user, run, n_init, it + 1, exact_inertia(&w, C, labels));
            if (memcmp(prev, labels, n * sizeof(int32_t)) == 0 || shift <= tol) {
                it++;
                break;
            }
        }
        double inertia = exact_inertia(&w, C, labels);
        if (inertia < res->inertia) {
            res->inertia = inertia;
            res->n_iter = it;
            memcpy(res->centroids, C, k * d * sizeof(float));
            memcpy(res->labels, labels, n * sizeof(int32_t));
        }
    }
done:
    free(w.xsq), free(w.G), free(w.csq), free(w.sums), free(w.cnt), free(w.mind);
    free(w.lo), free(w.gdrift), free(w.C_prev), free(w.rbuf), free(w.ridx), free(w.gv);
    av__aligned_free(C);
    free(labels), free(prev);
    if (rc != AV_OK)
        av__kmeans_result_free(res);
    return rc;
}
