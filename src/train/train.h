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
} av_kmeans_result;
/* X: n x d row-major (already normalised). */
AV_HIDDEN int av__kmeans(const float *X, size_t n, size_t d, const av_fit_options *o,
                         av_kmeans_result *res);
AV_HIDDEN void av__kmeans_result_free(av_kmeans_result *res);

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
/* av_builder_fit with o->tune set (validated options). */
AV_HIDDEN int av__builder_fit_tuned(av_builder *b, const av_fit_options *o, av_router **out);

#endif
