/*
 * libavengers: cost-aware LLM routing (Avengers-Pro) as an embeddable C library.
 *
 * The stable API comes first. Everything in this header is covered by the ABI policy in docs/ABI.md:
 * functions are never removed or changed in signature (a changed behaviour gets a new `_v2` name),
 * error codes are never renumbered, and options structs only grow at the end (their first field is
 * their size, and the library reads no more of a caller's struct than that size says).
 *
 * Conventions: out-parameters come first; 0 is success and negative values are AV_E* codes; after a
 * failure, av_last_error() gives this thread's detailed message. Sizes are size_t; model indices are
 * int32_t where a negative value is an error code. av_*_free(NULL) is a no-op.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef AVENGERS_H
#define AVENGERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AV_VERSION_MAJOR 0
#define AV_VERSION_MINOR 1
#define AV_VERSION_PATCH 0
#define AV_VERSION_NUMBER (AV_VERSION_MAJOR * 10000 + AV_VERSION_MINOR * 100 + AV_VERSION_PATCH)
#define AV_VERSION_STRING "0.1.0"

#if defined(_WIN32) && defined(AV_BUILDING_DLL)
#define AV_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define AV_API __attribute__((visibility("default")))
#else
#define AV_API
#endif

/* ---------------------------------------------------------------------------------------------
 * Errors. One list generates the enum and av_strerror(); codes are never renumbered, new codes are
 * appended with the next free number.
 * ------------------------------------------------------------------------------------------- */
#define AV_ERRNO_MAP(X)                                                              \
    X(EINVAL, -1, "invalid argument")                                                \
    X(ENOMEM, -2, "out of memory")                                                   \
    X(EIO, -3, "I/O error")                                                          \
    X(EFORMAT, -4, "malformed router file")                                          \
    X(ECHECKSUM, -5, "router file checksum mismatch")                                \
    X(EVERSION, -6, "unsupported router file version")                               \
    X(EDIM, -7, "embedding dimension does not match the router")                     \
    X(EVECTOR, -8, "embedding is zero, NaN or infinite")                             \
    X(EALPHA, -9, "alpha is outside [0, 1] or NaN")                                  \
    X(EMODEL, -10, "model index out of range")                                       \
    X(EVALUE, -11, "score or cost is not a finite number")                           \
    X(ERANGE, -12, "index or size out of range")                                     \
    X(EEMPTY, -13, "not enough data")                                                \
    X(ENOMODEL, -14, "no model satisfies the request's constraints")                 \
    X(EMISMATCH, -15, "routers or embedders are incompatible")                       \
    X(ELIMIT, -16, "size exceeds a library limit")                                   \
    X(ENOTSUP, -17, "not supported by this build or CPU")

typedef enum av_error {
    AV_OK = 0,
#define AV_ERRNO_ENUM_(name, value, text) AV_##name = (value),
    AV_ERRNO_MAP(AV_ERRNO_ENUM_)
#undef AV_ERRNO_ENUM_
    AV_ERRNO_LAST_ = -17
} av_error;

/* Static text for a code; "unknown error" for a code this version does not know. Thread-safe. */
AV_API const char *av_strerror(int code);
/* This thread's detail about its last failure (file, field, value). Never NULL; "" if none. */
AV_API const char *av_last_error(void);
/* MAJOR*10000 + MINOR*100 + PATCH of the library actually linked; equal to AV_VERSION_NUMBER when
   header and library match. */
AV_API unsigned av_version_number(void);
AV_API const char *av_version_string(void);

/* Hard limits, checked on every input (files, parts, builders). */
#define AV_MAX_DIM 65536u
#define AV_MAX_CLUSTERS 65536u
#define AV_MAX_MODELS 256u
#define AV_MAX_TOP_P 64u
#define AV_MAX_NAME 255u

/* ---------------------------------------------------------------------------------------------
 * Routers. A router is immutable apart from its statistics: av_route and the introspection calls
 * are safe from any number of threads, concurrently with av_profile_update (see docs/THREADING.md).
 * ------------------------------------------------------------------------------------------- */
typedef struct av_router av_router;
typedef struct av_builder av_builder;

/* Load a router file (docs/FORMAT.md). Every file is treated as hostile: sizes are checked against
   the file size before allocation and every byte is covered by a CRC32. */
AV_API int av_router_load(av_router **out, const char *path);
AV_API int av_router_load_buffer(av_router **out, const void *data, size_t size);
/* Write the router atomically: a temporary file in the same directory, fsync, rename, fsync of the
   directory. The old file is either kept whole or replaced whole. Safe during av_profile_update. */
AV_API int av_router_save(const av_router *r, const char *path);
/* Serialise into a malloc'ed buffer that the caller frees with av_free(). */
AV_API int av_router_save_buffer(const av_router *r, void **data, size_t *size);
AV_API void av_free(void *p);
AV_API void av_router_free(av_router *r);

AV_API size_t av_router_dim(const av_router *r);
AV_API size_t av_router_n_clusters(const av_router *r);
AV_API size_t av_router_n_models(const av_router *r);
AV_API size_t av_router_top_p(const av_router *r);
/* NULL when model is out of range. The string lives as long as the router. */
AV_API const char *av_router_model_name(const av_router *r, size_t model);
/* Index of the model with that name, or AV_EMODEL. */
AV_API int32_t av_router_model_index(const av_router *r, const char *name);
AV_API int av_router_get_centroid(const av_router *r, size_t cluster, float *out, size_t dim);
AV_API int av_router_cluster_stats(const av_router *r, size_t cluster, size_t model, double *count,
                                   double *sum_score, double *sum_cost);
/* Set the default top_p used by av_route (1..min(n_clusters, AV_MAX_TOP_P)). Not thread-safe
   against concurrent routing: call before sharing the router. */
AV_API int av_router_set_top_p(av_router *r, uint32_t top_p);

/* Free-form metadata stored in the file (training options, seed, creation time, embedder id).
   Keys and values are UTF-8 without NUL. av_router_meta returns NULL for an absent key. */
AV_API const char *av_router_meta(const av_router *r, const char *key);
AV_API size_t av_router_meta_count(const av_router *r);
AV_API int av_router_meta_at(const av_router *r, size_t i, const char **key, const char **value);
/* Not thread-safe against concurrent av_router_meta* readers: set metadata before sharing. */
AV_API int av_router_set_meta(av_router *r, const char *key, const char *value);

/* A router from parts computed elsewhere (faiss, Spark, another run). centroids: n_clusters x dim,
   row-major. counts, sum_scores, sum_costs: n_clusters x n_models, row-major (cluster-major). Every
   model needs at least one outcome somewhere (its global mean stands in where a cluster has none). */
AV_API int av_router_from_parts(av_router **out, size_t dim, size_t n_clusters, size_t n_models,
                                const char *const *model_names, const float *centroids,
                                const double *counts, const double *sum_scores,
                                const double *sum_costs, uint32_t top_p);

/* The paper's rule with the router's top_p: the embedding is L2-normalised, the top_p clusters with
   the largest dot product with their centroid are taken (ties: lower cluster index), and the model
   maximising sum_j alpha*p~_ij + (1-alpha)*(1-q~_ij) wins (ties: lower global mean cost, then lower
   index). Returns the model index (>= 0) or a negative code. No allocation, no lock. */
AV_API int32_t av_route(const av_router *r, const float *embedding, size_t dim, float alpha);

/* Route n embeddings (row i at embeddings + i*row_stride floats, row_stride >= dim) with the same
   rule; decisions are identical to calling av_route per row on the same backend. out_models[i] is
   the model or, for a bad row, its negative code; the return value is 0 when every row routed and
   otherwise the first row's error code. Similarities are computed in blocks with cblas_sgemm; the
   thread count is OpenBLAS's own (OPENBLAS_NUM_THREADS / openblas_set_num_threads). */
AV_API int av_route_batch(const av_router *r, const float *embeddings, size_t n, size_t dim,
                          size_t row_stride, float alpha, int32_t *out_models);

/* Feedback: the observed score and cost of sending this query to that model. It adds one outcome to
   the statistics of the query's nearest cluster. Safe while other threads call av_route. */
AV_API int av_profile_update(av_router *r, const float *embedding, size_t dim, int32_t model,
                             float score, float cost);

/* ---------------------------------------------------------------------------------------------
 * Training.
 * ------------------------------------------------------------------------------------------- */
/* Storage of centroids in memory and in the file. */
typedef enum av_centroid_type {
    AV_CENTROIDS_F32 = 0,
    AV_CENTROIDS_F16 = 1,
    AV_CENTROIDS_INT8 = 2 /* one float scale per row, the query quantised per call */
} av_centroid_type;

typedef struct av_fit_options {
    uint32_t struct_size; /* sizeof(av_fit_options); set by av_fit_options_init */
    uint32_t n_clusters;  /* default 60 (the paper) */
    uint32_t top_p;       /* default 4 (the paper) */
    uint32_t n_init;      /* default 10 k-means++ restarts; the lowest inertia wins */
    uint32_t max_iter;    /* default 300 */
    float tol;            /* default 1e-4, relative to the data's variance, as scikit-learn */
    uint64_t seed;        /* default 42 */
    /* --- appended in 0.1 --- */
    uint32_t centroid_type;  /* av_centroid_type; default AV_CENTROIDS_F32 */
    uint32_t verbose;        /* 0 quiet (default); 1 progress lines through progress() */
    const char *embedder_id; /* free-form id of the embedding model, stored in the file; may be NULL */
    /* Optional progress callback (restart is 0-based); may be NULL. */
    void (*progress)(void *user, uint32_t restart, uint32_t n_init, uint32_t iteration,
                     double inertia);
    void *progress_user;
} av_fit_options;

#define AV_FIT_OPTIONS_INIT                                                                   \
    { (uint32_t)sizeof(av_fit_options), 60u, 4u, 10u, 300u, 1e-4f, 42u, AV_CENTROIDS_F32, 0u, \
      NULL, NULL, NULL }
AV_API void av_fit_options_init(av_fit_options *opts);

AV_API int av_builder_new(av_builder **out, size_t dim, size_t n_models,
                          const char *const *model_names);
/* scores and costs hold n_models values; a NaN score or cost means "no outcome for that model".
   The embedding is copied and L2-normalised. */
AV_API int av_builder_add(av_builder *b, const float *embedding, size_t dim, const float *scores,
                          const float *costs);
AV_API size_t av_builder_n_rows(const av_builder *b);
/* k-means++ / Lloyd (cblas_sgemm) with n_init restarts, then per-cluster statistics. The builder
   stays valid and can be fitted again with other options. */
AV_API int av_builder_fit(av_builder *b, const av_fit_options *opts, av_router **out);
AV_API void av_builder_free(av_builder *b);

/* Inertia (sum of squared distances of the normalised training rows to their centroids) of the last
   successful av_builder_fit, or a negative value if none. */
AV_API double av_builder_inertia(const av_builder *b);

/* ---------------------------------------------------------------------------------------------
 * SIMD. The kernel is chosen once per process (thread-safely) from the CPU, or forced with the
 * environment variable AV_SIMD=scalar|avx2|avx512|neon (falls back, with a warning on stderr, if the
 * CPU lacks it). Every router records the backend it was loaded with.
 * ------------------------------------------------------------------------------------------- */
AV_API const char *av_simd_backend(void);
AV_API const char *av_router_simd_backend(const av_router *r);

/* ---------------------------------------------------------------------------------------------
 * Compact centroids and conversion (docs/PERFORMANCE.md)
 * ------------------------------------------------------------------------------------------- */
/* [speed: section start] */
/* [speed: section end] */

/* ---------------------------------------------------------------------------------------------
 * Replay evaluation (docs/EVALUATION.md)
 * ------------------------------------------------------------------------------------------- */
/* [eval: section start] */
/* Replay evaluation: route logged queries again with a router and read the outcomes that were
   recorded for every model, for a list of alphas, beside every single model and the oracle.
   docs/EVALUATION.md defines every figure. Deterministic: the same inputs give the same bits. */

/* Element type of the replay's score and cost matrices. */
typedef enum av_value_type {
    AV_VALUES_F32 = 0,
    AV_VALUES_F64 = 1
} av_value_type;

/* A replay: n queries with their embeddings and, for each of n_models columns, the observed score
   and cost (row-major, n x n_models; NaN = no outcome for that model on that row). Columns are
   matched to the router's models by name (model_names); with model_names NULL the columns must be
   exactly the router's models in the router's order. Extra columns are ignored. */
typedef struct av_replay {
    uint32_t struct_size;     /* sizeof(av_replay); set by av_replay_init */
    uint32_t value_type;      /* av_value_type of scores and costs; default AV_VALUES_F32 */
    size_t n;                 /* rows */
    size_t dim;               /* embedding dimension (must equal the router's) */
    size_t row_stride;        /* floats between consecutive embeddings (>= dim; 0 means dim) */
    const float *embeddings;  /* n rows */
    size_t n_models;          /* columns of scores and costs */
    const char *const *model_names; /* n_models names, or NULL (see above) */
    const void *scores;       /* n x n_models */
    const void *costs;        /* n x n_models, >= 0 where present */
} av_replay;

#define AV_REPLAY_INIT \
    { (uint32_t)sizeof(av_replay), AV_VALUES_F32, 0u, 0u, 0u, NULL, 0u, NULL, NULL, NULL }
AV_API void av_replay_init(av_replay *replay);

/* Evaluation options. alphas NULL means the default sweep 0, 0.05, ..., 1 (21 values). Each alpha
   is rounded to float before use, as av_route's parameter is, so that decisions are identical. */
typedef struct av_eval_options {
    uint32_t struct_size;  /* sizeof(av_eval_options); set by av_eval_options_init */
    uint32_t top_p;        /* 0 (default) = the router's top_p */
    const double *alphas;  /* n_alphas values in [0, 1], or NULL for the default sweep */
    size_t n_alphas;
    double target_fraction; /* default 0.9: av_eval_metrics.cost_save_at_target is measured at
                               this fraction of the best single model's mean score */
} av_eval_options;

#define AV_EVAL_OPTIONS_INIT { (uint32_t)sizeof(av_eval_options), 0u, NULL, 0u, 0.9 }
AV_API void av_eval_options_init(av_eval_options *opts);

/* The outcome of an evaluation; read it with the accessors below, free with av_eval_result_free. */
typedef struct av_eval_result av_eval_result;

/* One operating point. For a router setting (av_eval_alpha): the rows whose routed model has an
   outcome (n_scored) give the means; rows whose routed model has none are counted in n_missing and
   left out of every mean and total. For a single model: the rows where it has an outcome. For the
   oracle: the rows where any model has one. */
typedef struct av_eval_point {
    uint32_t struct_size; /* set by the caller to sizeof(av_eval_point) */
    double alpha;         /* the alpha used (as a float); NaN for single models and the oracle */
    double mean_score;    /* NaN when n_scored is 0 */
    double mean_cost;     /* NaN when n_scored is 0 */
    double total_cost;
    size_t n_scored;
    size_t n_missing;
} av_eval_point;

/* Headline metrics (docs/EVALUATION.md gives the exact definitions and their sources). Scores and
   costs are in the data's units (a score of 1 = 100 %); a metric that does not exist for this data
   (e.g. no alpha reaches the best single model) is NaN. */
typedef struct av_eval_metrics {
    uint32_t struct_size;      /* set by the caller to sizeof(av_eval_metrics) */
    int32_t best_model;        /* the best single model (highest mean score; ties: cheaper, lower index) */
    double best_score;         /* its mean score */
    double best_cost;          /* its mean cost */
    double perf_gain;          /* max over alphas of mean score - best_score */
    double cost_save;          /* 1 - (cheapest alpha reaching best_score) mean cost / best_cost */
    double cost_save_at_target; /* the same at target_fraction * best_score */
    double pareto_dist;        /* mean distance of the router's points to the joint frontier */
    double auc;                /* area under the router's accuracy-cost curve, costs / max_cost */
    double max_cost;           /* the cost scale of pareto_dist and auc: the largest single-model
                                  mean cost */
    double target_fraction;
} av_eval_metrics;

/* Evaluate r on every row of the replay. Each query is routed once to its top-p clusters, then
   scored for every alpha with the same code as av_route, so decision (row, alpha) equals
   av_route(r, row, alpha) on the same SIMD backend. No allocation per query. Fails with
   AV_EMODEL (a router model missing from model_names), AV_EVECTOR (a bad embedding: the row is
   named in av_last_error), AV_EVALUE (an infinite score or cost, or a negative cost), AV_EALPHA,
   AV_EDIM, AV_EEMPTY (no rows). */
AV_API int av_eval_run(av_eval_result **out, const av_router *r, const av_replay *replay,
                       const av_eval_options *opts);
/* The same on the subset of rows given by their indices (duplicates count twice). */
AV_API int av_eval_run_rows(av_eval_result **out, const av_router *r, const av_replay *replay,
                            const size_t *rows, size_t n_rows, const av_eval_options *opts);
/* For tuning loops: evaluate on rows and return only av_eval_metrics.auc (NaN allowed). */
AV_API int av_eval_subset_auc(double *auc, const av_router *r, const av_replay *replay,
                              const size_t *rows, size_t n_rows, const av_eval_options *opts);
AV_API void av_eval_result_free(av_eval_result *res);

AV_API size_t av_eval_n_rows(const av_eval_result *res);
AV_API size_t av_eval_n_alphas(const av_eval_result *res);
/* The router's models, in the router's order (the model indices used by every accessor). */
AV_API size_t av_eval_n_models(const av_eval_result *res);
AV_API const char *av_eval_model_name(const av_eval_result *res, size_t model);
/* The router at alphas[i]. */
AV_API int av_eval_alpha(const av_eval_result *res, size_t i, av_eval_point *out);
/* Share of the rows (all rows, with or without an outcome) routed to model at alphas[i]. */
AV_API int av_eval_alpha_share(const av_eval_result *res, size_t i, size_t model, double *share);
AV_API int av_eval_model(const av_eval_result *res, size_t model, av_eval_point *out);
/* The oracle: per row the model with the highest score among those with an outcome, the cheapest
   among equal scores (then the lower index). */
AV_API int av_eval_oracle(const av_eval_result *res, av_eval_point *out);
AV_API int av_eval_metrics_get(const av_eval_result *res, av_eval_metrics *out);

/* Pareto-optimal points among the router settings and the single models (no other point has a
   score >= and a cost <= with one of them strictly better), sorted by cost then score. */
typedef enum av_eval_point_kind {
    AV_EVAL_ROUTER = 0, /* index is the alpha's position */
    AV_EVAL_MODEL = 1   /* index is the model */
} av_eval_point_kind;
AV_API size_t av_eval_frontier_count(const av_eval_result *res);
AV_API int av_eval_frontier_at(const av_eval_result *res, size_t i, uint32_t *kind, size_t *index);
/* [eval: section end] */

/* ---------------------------------------------------------------------------------------------
 * Beyond the paper: per-request control, estimates, budgets, online learning, merging
 * ------------------------------------------------------------------------------------------- */
/* [beyond: section start] */
/* [beyond: section end] */

#ifdef __cplusplus
}
#endif
#endif /* AVENGERS_H */
