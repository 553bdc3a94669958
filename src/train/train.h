/* The train layer: k-means, the builder and tuning. Depends on the eval layer (tuning scores its
   candidates with the evaluation's metrics) and the router layer. */
#ifndef AV_TRAIN_H
#define AV_TRAIN_H

#include "eval/eval.h"

/* ---- k-means (kmeans.c) ---- */
typedef struct av_kmeans_result {
    float *centroids; /* k x d, aligned */
    int32_t *labels;  /* n */
    double inertia;
    uint32_t n_iter;
    bool blas;        /* the distance blocks came from cblas_sgemm (else the SIMD kernels) */
    double mean_var;  /* av__kmeans_mean_variance of the rows (tol's scale) */
} av_kmeans_result;
/* X: n x d row-major (already normalised). The distances come from the library's SIMD kernels
   with the bounded search (since 1.4.1), or from cblas_sgemm with AV_KMEANS_GEMM=blas. */
AV_HIDDEN int av__kmeans(const float *X, size_t n, size_t d, const av_fit_options *o,
                         av_kmeans_result *res);
AV_HIDDEN void av__kmeans_result_free(av_kmeans_result *res);
/* Mean over dimensions of the per-dimension variance (scikit-learn's scale for tol). */
AV_HIDDEN double av__kmeans_mean_variance(const float *X, size_t n, size_t d);
/* The bounds that let k-means skip searches with the same result (scale.c, docs/SCALING.md
   "Bounded passes"): AV_KMEANS_BOUNDS is not "off"; groups of centroids (T of gs, the last may
   be shorter); a float <= v; a lower bound on a true distance whose squared value was computed
   as v within eps; eps for normalised rows of dimension d and centroids of computed squared norm
   <= csq_max (< 0: d too large for a bound). */
AV_HIDDEN bool av__km_bounds_wanted(void);
AV_HIDDEN void av__km_bounds_groups(size_t k, size_t *T, size_t *gs);
AV_HIDDEN float av__km_down(double v);
AV_HIDDEN float av__km_lower_of(float v, double eps);
AV_HIDDEN double av__km_d2_error_bound(size_t d, float csq_max);
/* The eps of a pass over centroids with computed squared norms csq (k): their largest. */
AV_HIDDEN double av__km_pass_eps(const float *csq, size_t k, size_t d);
/* Groups of gs centroids (T in all): each group's largest move from C_prev to C (true distance,
   rounded up); a row's group bounds from its computed values v (k) and its centre a, for the
   groups in mask (all: NULL); and the filter of a row whose centre's value plus eps is thr: the
   bounds lowered by the moves (kept where they prove the group farther), the mask of the groups
   that must be searched and their number. */
AV_HIDDEN void av__km_group_drift(const float *C_prev, const float *C, size_t k, size_t d,
                                  size_t gs, size_t T, double *gdrift);
AV_HIDDEN void av__km_group_bounds(const float *v, size_t k, size_t a, size_t gs, size_t T,
                                   double eps, float *lo, const uint64_t *mask);
AV_HIDDEN uint64_t av__km_group_filter(float *lo, const double *gdrift, size_t T, double thr,
                                       size_t *nfail);
/* One row's search by its bounds, for FULL's assignments (kmeans.c) and SAMPLED's passes
   (scale.c): row x, its squared norm xs as the full search computes it, its centroid a at the
   last assignment and its group bounds lo, against the k centroids C (rows of d) with computed
   squared norms csq, each group moved by at most gdrift since, eps the pass's error bound; v is
   k floats of workspace. True when at most half of the T groups needed searching (*nfail of them):
   then *lab and *d2 are the full search's centroid and squared distance bit for bit and lo is
   renewed. False when the row must be searched in full (lo then holds nothing of use). */
AV_HIDDEN bool av__km_bounded_search(const av_kernels *K, const float *C, const float *csq,
                                     size_t k, size_t d, size_t gs, size_t T,
                                     const double *gdrift, double eps, const float *x, float xs,
                                     size_t a, float *lo, float *v, int32_t *lab, float *d2,
                                     size_t *nfail);

/* ---- the map-reduce steps and the SAMPLED trainer (scale.c) ---- */
/* Rows per chunk of the SAMPLED trainer's threaded passes (the statistics merge per chunk, in
   chunk order), and the largest default block of a row source (builder.c), so that a default
   block divides a chunk. */
#define AV_KMEANS_CHUNK_ROWS 32768u
/* A row source of the builder (av_builder_add_source): the caller's callback, read in blocks of
   `block` rows (the last may be shorter), each checked against the hash of its first read. */
typedef struct av_source_seg {
    av_row_source src; /* the library's copy */
    size_t m, block, n_blocks;
    uint64_t *hash;   /* n_blocks: XXH64 of a block's embeddings, scores and costs bytes */
    av_mutex *lock;   /* the builder's read lock; NULL for an AV_ROW_SOURCE_CONCURRENT source */
} av_source_seg;
/* Room for one block of a source: block x dim embeddings, block x m scores and costs. */
typedef struct av_source_buf {
    float *X, *scores, *costs;
} av_source_buf;
/* Error text of a failed read, formatted by the thread that read (perhaps not the caller's). */
typedef struct av_source_err {
    char text[256];
} av_source_err;
AV_HIDDEN int av__source_buf_alloc(av_source_buf *b, size_t rows, size_t dim, size_t m);
AV_HIDDEN void av__source_buf_free(av_source_buf *b);
/* Block `blk` of s (rows [blk * block, ...)) into buf, through read, under the lock; its hash
   compared with the first read's. AV_ECANCELED (read returned non-zero) or AV_EIO (the rows
   changed) with the text in *err; nothing is reported through av__fail (any thread may call). */
AV_HIDDEN int av__source_read(const av_source_seg *s, size_t blk, const av_source_buf *buf,
                              av_source_err *err);
AV_HIDDEN size_t av__source_block_rows(const av_source_seg *s, size_t blk);

/* Rows in segments: a builder's copied rows (normalised), borrowed arrays (raw) and row sources
   (raw, read block by block: X, scores and costs NULL). */
typedef struct av_row_seg {
    const float *X; /* n x dim */
    bool normalised;
    const double *inv; /* raw rows: 1 / norm of each row, as av__normalize computes it (av__inv_norms) */
    const float *scores, *costs; /* n x m */
    size_t n;
    const av_source_seg *source;
} av_row_seg;
typedef struct av_rows {
    size_t n, dim, m, n_seg;
    const av_row_seg *seg;
    size_t max_block; /* the largest block of the sources (0: no source) */
} av_rows;
typedef struct av_fit_clock {
    double start; /* av__now() at the start of the fit */
} av_fit_clock;
typedef struct av_sampled_info {
    double inertia; /* of the statistics pass (every row to its final centroid) */
    uint32_t passes;
    size_t sample_rows;
    uint64_t searched; /* rows searched among all k (passes and statistics; the others bounded) */
} av_sampled_info;
AV_HIDDEN double av__now(void);
/* The inverse norms of n raw rows of dimension d (1 / sqrt of av__normalize's sum, bit for bit),
   summed several rows at a time by the kernels (sumsq_rows); and the rows normalised into out as
   av__normalize writes them. Both return the index of the first zero, NaN or infinite row (the
   rows before it done), or n. */
AV_HIDDEN size_t av__inv_norms(const float *X, size_t n, size_t d, double *inv);
AV_HIDDEN size_t av__normalize_rows(float *out, const float *X, size_t n, size_t d);
/* dst = src * inv as av__normalize writes it, for inv from av__inv_norms (bit for bit). */
static inline void av__scale_row(float *dst, const float *src, size_t d, double inv)
{
    for (size_t t = 0; t < d; t++)
        dst[t] = (float)((double)src[t] * inv);
}
/* o validated (av__read_fit_options). */
AV_HIDDEN int av__read_fit_options(const av_fit_options *in, av_fit_options *o);
AV_HIDDEN int av__kmeans_plan(const av_fit_options *o, size_t n, uint32_t *alg, size_t *sample,
                              uint32_t *passes);
AV_HIDDEN void av__kmeans_sqnorms(const float *C, size_t k, size_t d, float *csq);
AV_HIDDEN int av__kmeans_fit_sample_norm(const float *X, size_t n, size_t d,
                                         const av_fit_options *o, float *C, double *inertia,
                                         double *shift_tol);
AV_HIDDEN double av__kmeans_finish(float *C, size_t k, size_t d, const int64_t *sums,
                                   const int64_t *counts);
AV_HIDDEN bool av__kmeans_pass_converged(double shift, double shift_tol, int64_t prev_inertia,
                                         int64_t inertia, float tol);
AV_HIDDEN int av__check_outcomes(const float *scores, const float *costs, size_t n, size_t m,
                                 const char *what);
/* The public steps with an explicit kernel set (NULL = the process's; tests compare backends). */
AV_HIDDEN int av__kmeans_block_step_k(const av_kernels *K, const float *C, size_t k, size_t dim,
                                      const float *rows, size_t n, int64_t *sums,
                                      int64_t *counts, int64_t *inertia, int32_t *labels);
AV_HIDDEN int av__kmeans_parallel_cost_k(const av_kernels *K, const float *centres, size_t nc,
                                         size_t dim, const float *rows, size_t n, int64_t *cost);
AV_HIDDEN int av__kmeans_parallel_pick_k(const av_kernels *K, const float *centres, size_t nc,
                                         size_t dim, const float *rows, size_t n, size_t row0,
                                         uint64_t seed, uint32_t round, double l, int64_t phi,
                                         uint8_t *picked, size_t *n_picked);
AV_HIDDEN int av__kmeans_stats_block_k(const av_kernels *K, const float *C, size_t k, size_t dim,
                                       const float *rows, size_t n, const float *scores,
                                       const float *costs, size_t m, double *counts,
                                       double *sum_scores, double *sum_costs, int64_t *inertia);
/* Each of n normalised rows X' nearest of the k centroids C, as av_kmeans_stats_block finds it
   for the same rows raw. */
AV_HIDDEN int av__kmeans_labels_norm(const float *C, size_t k, size_t d, const float *X, size_t n,
                                     int32_t *labels);
/* av_kmeans_stats_block's sums over n labelled rows in row order (rows labelled -1 skipped). */
AV_HIDDEN void av__kmeans_stats_add(const int32_t *lab, size_t n, const float *scores,
                                    const float *costs, size_t m, double *cnt, double *ss,
                                    double *sc);
/* SAMPLED k-means of member `member` over src, then its statistics ADDED into counts, sum_scores,
   sum_costs (k x m); C receives the k x dim centroids. */
AV_HIDDEN int av__fit_sampled(const av_rows *src, const av_fit_options *o, uint32_t member,
                              av_fit_clock *clk, float *C, double *counts, double *sum_scores,
                              double *sum_costs, av_sampled_info *info);

/* The builder's rows (builder.c), for cross-validation (tune.c). X rows are normalised. */
typedef struct av_builder_view {
    size_t n, dim, m;
    const float *X, *scores, *costs;
    const char *const *names;
} av_builder_view;
AV_HIDDEN void av__builder_view(const av_builder *b, av_builder_view *v);
/* The normalised rows (2m doubles each) of the k clusters of table t for shrinkage kappa and the
   per-cluster or global normalisation, as the rule computes them per query: the cache tuning
   scores its candidates on (av__rule_prepare's `cached`). */
AV_HIDDEN void av__tune_rows(const av_table *t, double kappa, bool global, size_t k, double *out);
/* For tests: the router that shared clustering scores fold `fold` with (o->tune's n_folds and
   n_init; o's n_clusters, members and seed): the clustering of all the builder's rows (copied,
   not borrowed ones) with the statistics of the rows outside the fold; fold_of (n) receives each
   row's fold. */
AV_HIDDEN int av__tune_shared_fold(av_builder *b, const av_fit_options *o, uint32_t fold,
                                   uint32_t *fold_of, av_router **out);
/* av_builder_fit with o->tune set (validated options). */
AV_HIDDEN int av__builder_fit_tuned(av_builder *b, const av_fit_options *o, av_router **out);

#endif
