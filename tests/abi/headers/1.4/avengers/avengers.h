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

#define AV_VERSION_MAJOR 1
#define AV_VERSION_MINOR 4
#define AV_VERSION_PATCH 0
#define AV_VERSION_NUMBER (AV_VERSION_MAJOR * 10000 + AV_VERSION_MINOR * 100 + AV_VERSION_PATCH)
#define AV_VERSION_STRING "1.4.0"

/* Exported functions. On Windows a program using avengers.dll (through its import library)
 * includes this header as it is (AV_API is dllimport); a program linking the static library
 * defines AV_STATIC before including it (or with -DAV_STATIC); the library itself is compiled
 * with AV_BUILDING_DLL for the DLL and AV_STATIC for the static library (docs/INSTALL.md). */
#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(AV_BUILDING_DLL)
#define AV_API __declspec(dllexport)
#elif defined(AV_STATIC)
#define AV_API
#else
#define AV_API __declspec(dllimport)
#endif
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
    X(ENOTSUP, -17, "not supported by this build or CPU")                         \
    X(ECANCELED, -18, "cancelled by the caller's callback")

typedef enum av_error {
    AV_OK = 0,
#define AV_ERRNO_ENUM_(name, value, text) AV_##name = (value),
    AV_ERRNO_MAP(AV_ERRNO_ENUM_)
#undef AV_ERRNO_ENUM_
    AV_ERRNO_LAST_ = -18
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
/* Clusterings in an ensemble router (av_fit_options.members; 1 = the paper). */
#define AV_MAX_MEMBERS 16u

/* ---------------------------------------------------------------------------------------------
 * Routers. A router is immutable apart from its statistics: av_route and the introspection calls
 * are safe from any number of threads, concurrently with av_profile_update (see docs/THREADING.md).
 * ------------------------------------------------------------------------------------------- */
typedef struct av_router av_router;
typedef struct av_builder av_builder;
struct av_fit_progress;

/* Load a router file (docs/FORMAT.md). Every file is treated as hostile: sizes are checked against
   the file size before allocation and every byte is covered by a CRC32. */
AV_API int av_router_load(av_router **out, const char *path);
AV_API int av_router_load_buffer(av_router **out, const void *data, size_t size);
/* Write the router atomically: a temporary file in the same directory, fsync, rename, fsync of the
   directory. The old file is either kept whole or replaced whole. A symbolic link is written
   through (its target is replaced); a path that is not a regular file is refused (AV_EIO). Safe
   during av_profile_update and av_router_add_model (one consistent snapshot). */
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
   Keys and values are UTF-8 without control characters (values may hold tab, LF and CR), else
   AV_EINVAL; at most 1024 entries. The metadata is the user's: the library reads nothing back from
   it, and the keys it used in 0.x (kappa, weighting, temperature, guard, guard_margin,
   normalisation, centroid_hash, members) are refused (AV_EINVAL). av_router_meta returns NULL for
   an absent key. */
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
   otherwise the first row's error code. Similarities come from a multi-query SIMD kernel (each
   centroid load feeds several queries) whose per-pair arithmetic is av_route's, so decisions match
   exactly. A large batch is split among up to AV_NUM_THREADS threads (environment variable, read
   once; default: the online CPUs), one per 2^24 multiply-adds of work, started and joined within
   the call; smaller batches run on the calling thread without allocating. The split never changes
   a decision. The library changes no process-wide setting (docs/PERFORMANCE.md). */
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
    /* Cross-validated choice of n_clusters, top_p, kappa and weighting (av_tune_options, an
       experimental interface: see AV_STATIC_LINKING_ONLY); NULL (default) = fit exactly these
       options. */
    struct av_tune_options *tune;
    /* --- appended in 0.2 --- */
    /* An ensemble of `members` independent clusterings (k-means with seeds
       derived from `seed`), n_clusters each. A query uses its top_p nearest clusters in every
       member and the paper's sum runs over all of them (members * top_p <= AV_MAX_TOP_P). The
       router has members * n_clusters clusters (av_router_members). Default 1 = the paper (0 is
       read as 1). */
    uint32_t members;
    /* --- appended in 1.2 --- */
    /* Always 0 (else AV_EINVAL). These four bytes were the 1.0/1.1 layout's tail padding, which
       those libraries never read: an option placed here would be ignored by them silently
       instead of refused (docs/ABI.md, rule 3; tests/abi/check_layout.py). */
    uint32_t reserved0;
    /* k-means algorithm (docs/SCALING.md, "Training on large logs"): AV_KMEANS_AUTO (default:
       FULL up to AV_KMEANS_AUTO_MAX_ROWS rows, SAMPLED above), AV_KMEANS_FULL (full-batch Lloyd
       with n_init k-means++ restarts over every row, the only algorithm before 1.2) or
       AV_KMEANS_SAMPLED (that k-means, with at most AV_KMEANS_SAMPLE_MAX_INIT restarts, on a
       deterministic uniform sample, then Lloyd passes over every row in exact fixed point until
       av_kmeans_converged or max_passes, then one statistics pass). */
    uint32_t algorithm;
    uint32_t sample_size; /* SAMPLED: expected rows of the sample; 0 = AV_KMEANS_DEFAULT_SAMPLE(k) */
    uint32_t max_passes;  /* SAMPLED: Lloyd passes over every row; 0 = AV_KMEANS_DEFAULT_PASSES */
    uint32_t reserved1;   /* always 0 (else AV_EINVAL): explicit, so that the struct has no padding
                             past the 1.1 layout for an older library to find non-zero */
    /* Progress of the SAMPLED path with an estimate of the time left (struct av_fit_progress, an
       experimental interface: see AV_STATIC_LINKING_ONLY), called on the fitting thread with
       progress_user after the sample's k-means, after each pass and after the statistics pass;
       may be NULL (default). Independent of `verbose`. */
    void (*pass_progress)(void *user, const struct av_fit_progress *p);
} av_fit_options;

/* av_fit_options.algorithm */
#define AV_KMEANS_AUTO 0u
#define AV_KMEANS_FULL 1u
#define AV_KMEANS_SAMPLED 2u
/* AUTO runs FULL on at most this many rows (so every result on smaller logs, the bundled data's
   included, is what it was before 1.2), SAMPLED above. */
#define AV_KMEANS_AUTO_MAX_ROWS 50000u
/* SAMPLED's defaults: a sample of max(20000, 100 k) rows (at most all of them; 10000 in 1.2), 20
   passes. */
#define AV_KMEANS_DEFAULT_SAMPLE(k) ((k) * 100u > 20000u ? (k) * 100u : 20000u)
#define AV_KMEANS_DEFAULT_PASSES 20u
/* SAMPLED's k-means on the sample restarts min(n_init, this) times. */
#define AV_KMEANS_SAMPLE_MAX_INIT 3u

#define AV_FIT_OPTIONS_INIT                                                                   \
    { (uint32_t)sizeof(av_fit_options), 60u, 4u, 10u, 300u, 1e-4f, 42u, AV_CENTROIDS_F32, 0u, \
      NULL, NULL, NULL, NULL, 1u, 0u, AV_KMEANS_AUTO, 0u, 0u, 0u, NULL }
AV_API void av_fit_options_init_sized(av_fit_options *opts, size_t size);
#define av_fit_options_init(opts) av_fit_options_init_sized((opts), sizeof *(opts))

AV_API int av_builder_new(av_builder **out, size_t dim, size_t n_models,
                          const char *const *model_names);
/* scores and costs hold n_models values; a NaN score or cost means "no outcome for that model".
   The embedding is copied and L2-normalised. */
AV_API int av_builder_add(av_builder *b, const float *embedding, size_t dim, const float *scores,
                          const float *costs);
AV_API size_t av_builder_n_rows(const av_builder *b);
/* k-means++ / Lloyd with n_init restarts, then per-cluster statistics. Distance blocks come from
   cblas_sgemm (OpenBLAS threads: OPENBLAS_NUM_THREADS), or from the library's SIMD kernels when
   OpenBLAS runs a generic pre-AVX kernel set on this CPU (AV_KMEANS_GEMM=blas|simd forces either;
   docs/PERFORMANCE.md). The builder stays valid and can be fitted again with other options. */
AV_API int av_builder_fit(av_builder *b, const av_fit_options *opts, av_router **out);
AV_API void av_builder_free(av_builder *b);

/* Inertia (sum of squared distances of the normalised training rows to their centroids) of the last
   successful av_builder_fit (of an ensemble: the mean over its members), or a negative value if
   none. */
AV_API double av_builder_inertia(const av_builder *b);

/* ---------------------------------------------------------------------------------------------
 * SIMD. The kernel is chosen once per process (thread-safely) from the CPU, or forced with the
 * environment variable AV_SIMD=scalar|avx2|avx512|avx512vnni|neon (falls back, with a warning on
 * stderr, if the CPU lacks it). Every router records the backend it was loaded with.
 * ------------------------------------------------------------------------------------------- */
AV_API const char *av_simd_backend(void);
AV_API const char *av_router_simd_backend(const av_router *r);

/* ---------------------------------------------------------------------------------------------
 * Compact centroids and conversion (docs/PERFORMANCE.md)
 * ------------------------------------------------------------------------------------------- */
/* The storage type of r's centroids (an av_centroid_type value), or a negative code. float16 needs
   half the memory of float32 and int8 (one float scale per row, the query quantised to int8 per
   call) a quarter; routing agrees with float32 on at least 99.5% of the bundled llmrouter9 queries
   (docs/PERFORMANCE.md gives the measured figures). */
AV_API int av_router_centroid_type(const av_router *r);
/* A new router with r's models, statistics, top_p and metadata and its centroids re-encoded as
   `type` from r's values; r is unchanged. Allowed: float32 to any type, any type to itself or to
   float32 (exact for float16, value*scale for int8). float16 <-> int8 gives AV_ENOTSUP: re-quantise
   from the float32 router instead. The metadata gains converted_from (AV_ELIMIT when the metadata
   is full), the centroid hash follows the new storage. Safe while other threads route with r. */
AV_API int av_router_convert(av_router **out, const av_router *r, av_centroid_type type);

/* ---------------------------------------------------------------------------------------------
 * Replay evaluation (docs/EVALUATION.md)
 * ------------------------------------------------------------------------------------------- */
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
AV_API void av_replay_init_sized(av_replay *replay, size_t size);
#define av_replay_init(replay) av_replay_init_sized((replay), sizeof *(replay))

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
AV_API void av_eval_options_init_sized(av_eval_options *opts, size_t size);
#define av_eval_options_init(opts) av_eval_options_init_sized((opts), sizeof *(opts))

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

/* ---------------------------------------------------------------------------------------------
 * Options of the rule beyond the paper: per-request control, estimates, online learning, merging
 * ------------------------------------------------------------------------------------------- */
/* Everything here is opt-in: a router whose estimator defaults were never set, routed with default
   options, decides exactly as the paper's rule (av_route). docs/EVALUATION.md reports what each
   option buys on the bundled data. */

/* Cluster weighting. */
#define AV_WEIGHTING_ROUTER 0u  /* (route options only) the router's default */
#define AV_WEIGHTING_HARD 1u    /* the paper: each of the top-p clusters counts once */
#define AV_WEIGHTING_SOFTMAX 2u /* weights softmax(similarity / temperature) over the top-p */

/* Normalisation of the per-cluster means before they are summed over the clusters used. */
#define AV_NORMALISE_ROUTER 0u  /* (route options only) the router's default */
#define AV_NORMALISE_CLUSTER 1u /* the paper: min-max across the models within each cluster */
#define AV_NORMALISE_GLOBAL 2u  /* one min-max range for every cluster, that of the models' global
                                   means: the sum over clusters is then a weighted mean of expected
                                   score and cost, so a cluster where the models are nearly equal
                                   no longer counts as much as one where they differ widely */

/* av_route_options.flags */
#define AV_ROUTE_MAX_COST (1u << 0)  /* only models whose expected cost <= max_expected_cost */
#define AV_ROUTE_MIN_SCORE (1u << 1) /* only models whose expected score >= min_expected_score */
#define AV_ROUTE_GUARD_ON (1u << 2)  /* force the no-worse-than-best-single guard on */
#define AV_ROUTE_GUARD_OFF (1u << 3) /* force it off (default: the router's setting) */
#define AV_ROUTE_EXPLORE (1u << 4)   /* Thompson sampling from a Beta posterior, seeded */
#define AV_ROUTE_SAFETY (1u << 5)    /* use av_route_options.safety instead of the router's */

/* Per-request options of av_route_ex. Zero/negative "router" values take the router's defaults. */
typedef struct av_route_options {
    uint32_t struct_size;       /* sizeof(av_route_options) */
    float alpha;                /* performance weight in [0, 1]; default 0.5 */
    uint32_t top_p;             /* clusters used; 0 (default) = the router's top_p */
    uint32_t weighting;         /* AV_WEIGHTING_*; default AV_WEIGHTING_ROUTER */
    float temperature;          /* softmax temperature (> 0); 0 (default) = the router's */
    double kappa;               /* shrinkage strength (>= 0); negative (default -1) = the router's */
    uint32_t flags;             /* AV_ROUTE_* */
    double max_expected_cost;   /* with AV_ROUTE_MAX_COST */
    double min_expected_score;  /* with AV_ROUTE_MIN_SCORE */
    double guard_margin;        /* with AV_ROUTE_GUARD_ON; negative (default -1) = the router's */
    const uint8_t *model_mask;  /* NULL (default): every model; else model i is allowed iff
                                   i < model_mask_len and model_mask[i] != 0 */
    size_t model_mask_len;
    const char *embedder_id;    /* if set and the router records one, they must be equal */
    uint64_t explore_seed;      /* with AV_ROUTE_EXPLORE: the draw is a function of this seed */
    uint32_t normalisation;     /* AV_NORMALISE_*; default AV_NORMALISE_ROUTER */
    /* --- appended in 1.1 --- */
    double safety;              /* with AV_ROUTE_SAFETY: the safe deviation for this request
                                   (av_estimator_options.safety); default 0 */
} av_route_options;

#define AV_ROUTE_OPTIONS_INIT                                                                     \
    { (uint32_t)sizeof(av_route_options), 0.5f, 0u, AV_WEIGHTING_ROUTER, 0.0f, -1.0, 0u, 0.0, 0.0, \
      -1.0, NULL, 0u, NULL, 0u, AV_NORMALISE_ROUTER, 0.0 }
AV_API void av_route_options_init_sized(av_route_options *opts, size_t size);
#define av_route_options_init(opts) av_route_options_init_sized((opts), sizeof *(opts))

/* The decision and its explanation. The caller owns the struct and every array; each array may be
   NULL, and receives at most its capacity of entries. */
typedef struct av_route_result {
    uint32_t struct_size;     /* sizeof(av_route_result) */
    int32_t model;            /* out: the chosen model */
    size_t n_models;          /* out: models the decision considered (the router's count then) */
    size_t n_feasible;        /* out: models allowed by the mask and the limits */
    /* Ranked feasible models, best first, and their routing scores. */
    int32_t *ranked;
    double *ranked_scores;
    size_t ranked_cap;
    size_t n_ranked;          /* out: entries written */
    /* Per model (index = model): routing score and the expected score and cost for this query
       (the cluster-weighted means used by the rule, shrunk when kappa > 0). */
    double *model_scores;
    double *expected_score;
    double *expected_cost;
    size_t models_cap;
    /* The clusters used, most similar first: index, cosine similarity, weight, and support (the
       largest number of outcomes any model has there). */
    uint32_t *clusters;
    float *cluster_sims;
    double *cluster_weights;
    double *cluster_support;
    size_t clusters_cap;
    size_t n_clusters;        /* out: clusters used (may exceed clusters_cap) */
    float best_similarity;    /* out: cosine similarity to the nearest centroid */
    double support;           /* out: outcomes of the chosen model in the clusters used */
    uint32_t guarded;         /* out: 1 when the guard or the safety rule replaced the rule's
                                 choice by the baseline */
    /* --- appended in 1.1 --- */
    double *expected_score_se; /* per model (models_cap): standard error of expected_score */
    int32_t baseline;         /* out: the best single model for this alpha (the safety rule's
                                 baseline), -1 when none is allowed */
    uint32_t deviated;        /* out: 1 when the decision is not the baseline */
    double gain;              /* out: the rule's choice's estimated utility gain over the baseline
                                 (globally normalised units; 0 when they are the same model) */
    double gain_lcb;          /* out: gain minus safety standard errors of it */
} av_route_result;

#define AV_ROUTE_RESULT_INIT                                                                    \
    { (uint32_t)sizeof(av_route_result), -1, 0u, 0u, NULL, NULL, 0u, 0u, NULL, NULL, NULL, 0u, \
      NULL, NULL, NULL, NULL, 0u, 0u, 0.0f, 0.0, 0u, NULL, -1, 0u, 0.0, 0.0 }
AV_API void av_route_result_init_sized(av_route_result *res, size_t size);
#define av_route_result_init(res) av_route_result_init_sized((res), sizeof *(res))

/* Route with per-request options and explain the decision. Returns the chosen model (>= 0, also
   in res->model when res is not NULL) or a negative code: AV_ENOMODEL when no model satisfies the
   mask and limits, AV_EMISMATCH when opts->embedder_id differs from the router's embedder_id.
   With default options (alpha set) the decision equals av_route's. res may be NULL. */
AV_API int32_t av_route_ex(const av_router *r, const float *embedding, size_t dim,
                           const av_route_options *opts, av_route_result *res);

/* The router's estimator defaults, used by av_route and av_route_ex and stored in the file's
   settings section (docs/FORMAT.md). All-default = the paper. */
typedef struct av_estimator_options {
    uint32_t struct_size; /* sizeof(av_estimator_options) */
    double kappa;         /* shrinkage of cluster means toward the model's global mean; default 0 */
    uint32_t weighting;   /* AV_WEIGHTING_HARD (default) or AV_WEIGHTING_SOFTMAX */
    float temperature;    /* softmax temperature; default 0.05 */
    uint32_t guard;       /* 1: route like the best single model unless the rule's choice beats it
                             by guard_margin (in the globally normalised utility); default 0 */
    double guard_margin;  /* default 0 */
    uint32_t normalisation; /* AV_NORMALISE_CLUSTER (default, the paper) or AV_NORMALISE_GLOBAL */
    /* --- appended in 1.1 --- */
    double safety;        /* safe deviation from the best single model, in standard errors
                             (>= 0, +inf allowed): for each alpha the baseline is the model with
                             the best utility over all training outcomes; a query is routed
                             elsewhere only when the rule's choice's estimated utility gain over
                             the baseline, minus `safety` standard errors of that gain, is above
                             guard_margin. 0 (default) = the rule alone (the paper's); +inf = always
                             the baseline. docs/EVALUATION.md, "Safe routing". */
} av_estimator_options;

#define AV_ESTIMATOR_OPTIONS_INIT \
    { (uint32_t)sizeof(av_estimator_options), 0.0, AV_WEIGHTING_HARD, 0.05f, 0u, 0.0, \
      AV_NORMALISE_CLUSTER, 0.0 }
AV_API void av_estimator_options_init_sized(av_estimator_options *opts, size_t size);
#define av_estimator_options_init(opts) av_estimator_options_init_sized((opts), sizeof *(opts))
/* Set the defaults (republishes the table; not thread-safe against concurrent routing: call before
   sharing the router). Saved in the file's settings section, which a reader that does not know it
   refuses (a 0.x library cannot route with them, so it does not load such a file). */
AV_API int av_router_set_estimator(av_router *r, const av_estimator_options *opts);
AV_API int av_router_get_estimator(const av_router *r, av_estimator_options *opts);
/* Clusterings in the router's ensemble (av_fit_options.members): 1 for the paper's router. Member
   b owns clusters [b * n / members, (b + 1) * n / members) of the n = av_router_n_clusters; a
   query uses its top_p nearest clusters in every member, and av_profile_update adds the outcome to
   the nearest cluster of every member. 0 for NULL. */
AV_API size_t av_router_members(const av_router *r);

/* Online learning. */
typedef struct av_update_options {
    uint32_t struct_size;   /* sizeof(av_update_options) */
    double half_life;       /* > 0: all evidence is scaled by 2^(-1/half_life) before this
                               outcome is added (a half-life counted in updates); 0 = no decay */
    uint32_t top_p;         /* spread the outcome over this many nearest clusters; default 1 */
    uint32_t weighting;     /* with top_p > 1: AV_WEIGHTING_HARD (equal shares) or SOFTMAX */
    float temperature;      /* for SOFTMAX; 0 = the router's */
    double weight;          /* total weight of this outcome; default 1 */
} av_update_options;

#define AV_UPDATE_OPTIONS_INIT \
    { (uint32_t)sizeof(av_update_options), 0.0, 1u, AV_WEIGHTING_HARD, 0.0f, 1.0 }
AV_API void av_update_options_init_sized(av_update_options *opts, size_t size);
#define av_update_options_init(opts) av_update_options_init_sized((opts), sizeof *(opts))
/* av_profile_update with options. With default options it is exactly av_profile_update. */
AV_API int av_profile_update_ex(av_router *r, const float *embedding, size_t dim, int32_t model,
                                float score, float cost, const av_update_options *opts);

/* Add a model to a router that other threads keep routing with (docs/THREADING.md): it starts
   with prior_weight outcomes of prior_score and prior_cost in every cluster and learns from
   av_profile_update. Returns its index (the previous model count) or a negative code. */
AV_API int32_t av_router_add_model(av_router *r, const char *name, double prior_score,
                                   double prior_cost, double prior_weight);

/* Merging. Both routers must share dimension, clusters, centroid storage and its hash, and the
   same set of model names (in any order); the statistics of src are added to dst (doubles). For a
   model with a price in dst (av_router_set_price), src's costs are first brought to that price as
   setting it on src would rescale them (since 1.3; the same price: unchanged). */
AV_API int av_profile_merge(av_router *dst, const av_router *src);
/* The hash of the router's centroids (16 hex digits: XXH64 of the shape, storage type, member
   count and stored bytes; FNV-1a 64 of the same bytes before 1.2: docs/FORMAT.md), computed,
   never read from a file. NULL for NULL. */
AV_API const char *av_router_centroid_hash(const av_router *r);

/* ---------------------------------------------------------------------------------------------
 * Experimental: not yet frozen. Declared only where AV_STATIC_LINKING_ONLY is defined before this
 * header is included (as zstd's ZSTD_STATIC_LINKING_ONLY); outside the ABI baselines, so these may
 * change in any minor release (docs/ABI.md). Tuning and budgets are still being revised: tuning
 * on larger logs, and budgets on the evaluation's replay sets with an explicit column count.
 * ------------------------------------------------------------------------------------------- */
#ifdef AV_STATIC_LINKING_ONLY
/* av_tune_progress.stage */
#define AV_TUNE_STAGE_FIT 0u    /* a fold's router (n_clusters) is about to be fitted */
#define AV_TUNE_STAGE_SCORED 1u /* that router's candidates have been scored on the held-out fold */
#define AV_TUNE_STAGE_FINAL 2u  /* the chosen candidate is about to be fitted on all rows */

/* What av_tune_options.progress receives (valid during the call only). Fits: one router per fold
   and candidate n_clusters (with shared clustering, one clustering per candidate n_clusters, then
   its FIT stage reports fold 0 and each fold's SCORED stage follows), then the final fit; scores:
   (candidate, fold) pairs. */
typedef struct av_tune_progress {
    uint32_t struct_size; /* sizeof(av_tune_progress) of the library that filled it */
    uint32_t stage;       /* AV_TUNE_STAGE_* */
    uint32_t fold;        /* 0-based fold of a FIT or SCORED stage (n_folds at FINAL) */
    uint32_t n_folds;
    uint32_t n_clusters;  /* k of the router being fitted or scored (of the winner at FINAL) */
    size_t fits_done;     /* routers fitted so far */
    size_t n_fits;        /* fold routers + 1 */
    size_t scores_done;   /* (candidate, fold) pairs scored so far */
    size_t n_scores;      /* n_candidates * n_folds */
    size_t n_candidates;
    /* --- appended in 1.2 --- */
    /* Successive halving (av_tune_options.halving): the rung (0-based) and the number of rungs
       (1 without halving: every candidate on the full folds); the rows the rung's folds are
       drawn from and the candidates it scores. With halving, n_fits and n_scores count the rungs
       still to come at their most (the costliest k values alive, ceil(1/eta) of the candidates):
       upper bounds that fall as candidates are dropped, exact at FINAL. */
    uint32_t rung;
    uint32_t n_rungs;
    size_t rung_rows;
    size_t rung_candidates;
    /* Wall-clock seconds since the tuning started, and an estimate of the seconds left: the time
       measured so far per unit of k-means work (rows x k x members x restarts of every fit done)
       times the work of the fits still to come, the final fit included (bounded as n_fits is);
       negative before the first fit has been timed. */
    double seconds_elapsed;
    double seconds_left;
} av_tune_progress;

/* Cross-validated tuning (docs/EVALUATION.md). Pass it in av_fit_options.tune: av_builder_fit
   then picks, by n_folds-fold cross-validation on the builder's rows alone, the candidate
   (n_clusters, members, top_p, kappa, weighting/temperature, normalisation) with the largest
   area under the accuracy-cost curve of an alpha sweep (or another objective) among those whose
   held-out score at alpha 1 is not below the best single model's; unless the winner beats what
   the single models alone reach by two standard errors across the folds, the router falls back
   to the best single model for each alpha (safety +inf). It fits the choice on all rows and
   records it in the metadata (tuned_*). NULL lists mean "only the fit options' value" (kappa 0,
   hard weighting, safety 0). Deterministic for the fit seed. */
typedef struct av_tune_options {
    uint32_t struct_size;         /* sizeof(av_tune_options) */
    const uint32_t *n_clusters;   /* candidates */
    size_t n_n_clusters;
    const uint32_t *top_p;
    size_t n_top_p;
    const double *kappa;
    size_t n_kappa;
    const float *temperatures;    /* softmax candidates (hard weighting is always a candidate) */
    size_t n_temperatures;
    uint32_t n_folds;             /* default 5 */
    uint32_t n_alphas;            /* alpha grid points for the AUC; default 21 */
    uint32_t n_init;              /* k-means restarts inside the folds; default 2 */
    uint32_t guard;               /* 1: also turn the guard on in the result (margin below) */
    double guard_margin;
    double unused0;               /* ignored, never written (0.x wrote the winner's AUC here:
                                     options are inputs only since 1.0; the AUC is the router's
                                     metadata tuned_cv_auc) */
    uint32_t global_normalisation; /* 1: AV_NORMALISE_GLOBAL is a candidate beside the paper's */
    /* --- appended in 0.2 --- */
    const uint32_t *members;      /* ensemble sizes (av_fit_options.members); NULL = the fit
                                     options' value. The folds fit the largest once per k and
                                     score smaller ensembles on its first members. */
    size_t n_members;
    /* --- appended in 1.1 --- */
    const double *safety;         /* safe-deviation levels (av_estimator_options.safety, >= 0);
                                     NULL = 0 only */
    size_t n_safety;
    uint32_t objective;           /* AV_TUNE_AUC (default), AV_TUNE_ACCURACY (held-out score at
                                     alpha 1), AV_TUNE_COSTSAVE (cost saved at target_fraction of
                                     the best single model's held-out score) */
    uint32_t reserved0;           /* (named in 1.2) always 0, else AV_EINVAL: padding of the 1.1
                                     layout made explicit, past the 1.0 layout's end (where 1.0
                                     refuses a non-zero byte and a compiler need not zero padding) */
    double target_fraction;       /* AV_TUNE_COSTSAVE's target; 0 = 1.0 */
    /* Called on the fitting thread before each fold's router is fitted, after its candidates are
       scored, and before the winner is fitted on all rows (whose k-means progress then goes to
       av_fit_options.progress); may be NULL. A non-zero return stops the tuning at once:
       av_builder_fit returns AV_ECANCELED (since 1.2; 1.1 returned AV_EINVAL) and
       av_last_error() says after how many fits the callback cancelled. */
    int (*progress)(void *user, const av_tune_progress *p);
    void *progress_user;
    /* --- appended in 1.2 --- */
    /* Successive halving (docs/EVALUATION.md, "Tuning on many rows"): rung 0 scores every
       candidate by cross-validation on a subsample of the rows and keeps the best 1/eta of the
       candidates and of the n_clusters values (whose fold fits they share); each following rung
       multiplies the rows by eta until the last rung, on all rows with exactly the folds, choice,
       one-standard-error rule and honest test of tuning without halving, scores the survivors. 0 (default) = automatic: eta 3 above AV_TUNE_HALVING_AUTO_ROWS rows, off at
       or below; 1 = off; 2..AV_TUNE_MAX_ETA = that eta. */
    uint32_t halving;
    uint32_t reserved1;           /* always 0, else AV_EINVAL (no padding past the 1.1 layout) */
    /* Rows of rung 0 at least (rungs are added while all rows / eta^rungs reaches it); 0 = the
       default AV_TUNE_HALVING_MIN_ROWS. Raised, if needed, so that the folds of rung 0 leave
       every competing candidate at least 10 rows per cluster (below which tuning never picks a
       candidate). */
    size_t halving_min_rows;
    /* --- appended in 1.3 --- */
    /* One clustering per rung and k instead of one per fold (docs/EVALUATION.md, "Shared
       clustering"): k-means (which reads embeddings only) runs once on all the rung's rows, and
       each fold's router takes those centroids with statistics (the supervised part) from its
       training rows only; the held-out rows' embeddings, never their scores, shape the clusters.
       0 (default) = automatic: on above AV_TUNE_SHARED_AUTO_ROWS rows, off at or below; 1 = off
       (a clustering per fold, as 1.2); 2 = on. */
    uint32_t shared_clustering;
    uint32_t reserved2;           /* always 0, else AV_EINVAL (no tail padding) */
} av_tune_options;

/* Tuning objectives (av_tune_options.objective). */
#define AV_TUNE_AUC 0u
#define AV_TUNE_ACCURACY 1u
#define AV_TUNE_COSTSAVE 2u
/* Successive halving (av_tune_options.halving): on automatically above this many rows; the
   largest eta; the default least rows of rung 0. */
#define AV_TUNE_HALVING_AUTO_ROWS 40000u
#define AV_TUNE_MAX_ETA 16u
#define AV_TUNE_HALVING_MIN_ROWS 4000u
/* Shared clustering (av_tune_options.shared_clustering): on automatically above this many rows. */
#define AV_TUNE_SHARED_AUTO_ROWS 40000u

#define AV_TUNE_OPTIONS_INIT \
    { (uint32_t)sizeof(av_tune_options), NULL, 0u, NULL, 0u, NULL, 0u, NULL, 0u, 5u, 21u, 2u, 0u, \
      0.0, 0.0, 0u, NULL, 0u, NULL, 0u, AV_TUNE_AUC, 0u, 0.0, NULL, NULL, 0u, 0u, 0u, 0u, 0u }
AV_API void av_tune_options_init_sized(av_tune_options *opts, size_t size);
#define av_tune_options_init(opts) av_tune_options_init_sized((opts), sizeof *(opts))
/* The candidate lists `avengers train --tune` uses (k 60, 120, 200, 300; members 1, 4; top_p 2,
   4, 8; kappa 0, 4, 16; hard weights; per-cluster or global normalisation: 144 candidates).
   Pointers to static constant arrays (temperatures NULL). Writes only fields within
   opts->struct_size (so set it first, e.g. with av_tune_options_init). */
AV_API void av_tune_options_default_grid(av_tune_options *opts);

/* Budgets. The mean score and cost per query of routing at alpha with the router's defaults:
   on a replay set (n rows of embeddings; scores and costs n x n_models row-major in the router's
   model order, either may be NULL; a missing value counts as the router's estimate for that
   query), or, with embeddings NULL, on the training statistics (each cluster's centroid is routed
   and the cluster contributes its own means of the chosen model, weighted by its query count). */
AV_API int av_router_expected_mean(const av_router *r, float alpha, const float *embeddings,
                                   size_t n, size_t dim, const float *scores, const float *costs,
                                   double *mean_score, double *mean_cost);
/* Among the alphas of a grid of n_grid points (0 = 101: 0, 0.01, ..., 1) whose expected mean cost
   is <= budget, the one with the best expected mean score (ties: the cheaper, then the smaller
   alpha). AV_ENOMODEL when no alpha stays within the budget. */
AV_API int av_router_alpha_for_budget(const av_router *r, double budget, const float *embeddings,
                                      size_t n, size_t dim, const float *scores, const float *costs,
                                      uint32_t n_grid, float *alpha);
/* The inverse: the alpha (same grid) with the lowest expected mean cost among those whose expected
   mean score is >= target (ties: the better score, then the smaller alpha); AV_ENOMODEL when no
   alpha reaches it. */
AV_API int av_router_alpha_for_accuracy(const av_router *r, double target, const float *embeddings,
                                        size_t n, size_t dim, const float *scores,
                                        const float *costs, uint32_t n_grid, float *alpha);
/* Calibration for a share of calls (RouteLLM's strong-model percentage): the smallest alpha of the
   grid at which the models of the set (models[i] != 0 for i < n_models: at least one) receive at
   least `share` (in [0, 1]) of the queries, on the replay set's embeddings or, with embeddings
   NULL, on the training statistics (as above). When no alpha reaches it, the alpha whose share is
   the closest. achieved (may be NULL) receives that alpha's share. The router's defaults route. */
AV_API int av_router_alpha_for_share(const av_router *r, const uint8_t *models, size_t n_models,
                                     double share, const float *embeddings, size_t n, size_t dim,
                                     uint32_t n_grid, float *alpha, double *achieved);
/* The 0.x entry point (see the end of this header). */
AV_API void(av_tune_options_init)(av_tune_options *opts);

/* Prices (docs/API.md, "Prices"). A model's price as a cost per query, or per input and output
   token with the mean token counts of that model's queries (its cost per query is then
   input_price * input_tokens + output_price * output_tokens). */
#define AV_PRICE_NONE 0u      /* av_router_get_price only: no price was set for the model */
#define AV_PRICE_PER_QUERY 1u
#define AV_PRICE_PER_TOKEN 2u
typedef struct av_price {
    uint32_t struct_size;  /* sizeof(av_price); set by av_price_init */
    uint32_t unit;         /* AV_PRICE_PER_QUERY (default) or AV_PRICE_PER_TOKEN */
    double cost_per_query; /* PER_QUERY: the price of one query (finite, >= 0). From
                              av_router_get_price: the effective cost per query (with
                              AV_PRICE_NONE, the model's learned mean cost per query) */
    double input_price;    /* PER_TOKEN: price of one input token (finite, >= 0) */
    double output_price;   /* PER_TOKEN: price of one output token */
    double input_tokens;   /* PER_TOKEN: mean input tokens per query of this model (>= 0) */
    double output_tokens;  /* PER_TOKEN: mean output tokens per query */
} av_price;

#define AV_PRICE_INIT { (uint32_t)sizeof(av_price), AV_PRICE_PER_QUERY, 0.0, 0.0, 0.0, 0.0, 0.0 }
AV_API void av_price_init_sized(av_price *price, size_t size);
#define av_price_init(price) av_price_init_sized((price), sizeof *(price))
/* Set a model's price on a live router without retraining: every cost sum of the model (all
   clusters of every ensemble member) is multiplied by new / old, where new is the price's cost
   per query and old the price set before (else the model's current mean cost per query), so that
   costs learned at the old price are rescaled; the global means and the published table follow.
   When old is 0 every cell's cost sum becomes its count times new. The price is kept and saved in
   the file (docs/FORMAT.md, section 6) as the old price of the next call. factor (may be NULL)
   receives new / old (NaN when old is 0). Takes the router's lock as av_profile_update does: safe
   while other threads route. AV_EMODEL, AV_EVALUE (a price not finite or negative), AV_EINVAL,
   AV_ELIMIT (a rescaled sum beyond the statistics limits: nothing changes). */
AV_API int av_router_set_price(av_router *r, int32_t model, const av_price *price, double *factor);
/* The model's price: as set (unit PER_QUERY or PER_TOKEN, cost_per_query the effective cost per
   query), or unit AV_PRICE_NONE with cost_per_query the model's learned mean cost per query. */
AV_API int av_router_get_price(const av_router *r, int32_t model, av_price *price);
/* ---- Training on large logs: k-means and statistics as a map-reduce (docs/SCALING.md) ----
   The SAMPLED trainer is a composition of the calls below; a driver (Dask, Spark, threads) that
   composes them the same way gets the same centroids and statistics, bit for bit.
   Conventions: `rows` are raw embeddings (n x dim, row-major), normalised by the call exactly as
   av_builder_add normalises them (a zero, NaN or infinite row is AV_EVECTOR, naming it, and the
   call then changes nothing); `centroids` and `centres` are used as given and live in the
   normalised space (every squared norm at most AV_KMEANS_MAX_CENTRE_SQNORM, else AV_EINVAL).
   A row's nearest centroid is the smallest float32 squared distance ||x||^2 + ||c||^2 - 2 x.c with
   x.c from the library's SIMD kernel (ties: lower index), whatever the block: it depends on the
   row, the centroids and the SIMD backend only. Sums, counts and inertia are int64 in fixed point
   (one unit = 2^-32, AV_KMEANS_FIXED_ONE): each normalised component and each squared distance is
   truncated toward zero to whole units once (an error below 2^-32 each), so accumulation is exact and independent of block layout and
   merge order. Every accumulator (one merged total) may hold at most AV_KMEANS_MAX_ROWS rows:
   components are at most 1 (2^32 units) and squared distances at most 4.03 (< 2^34.02 units),
   so no sum can exceed 2^63 - 1; calls refuse (AV_ELIMIT) to go past it. */
#define AV_KMEANS_FIXED_ONE 4294967296.0
#define AV_KMEANS_MAX_ROWS (1u << 28)
#define AV_KMEANS_MAX_CENTRE_SQNORM 1.01

/* What av_fit_options.pass_progress receives (valid during the call only). */
#define AV_FIT_STAGE_SAMPLE 0u /* k-means on the sample done (inertia: the sample's) */
#define AV_FIT_STAGE_PASS 1u   /* a Lloyd pass over every row done (inertia: to the centroids
                                  the rows were assigned to; shift: of the update) */
#define AV_FIT_STAGE_STATS 2u  /* the statistics pass done (inertia: the final one) */
typedef struct av_fit_progress {
    uint32_t struct_size; /* sizeof(av_fit_progress) of the library that filled it */
    uint32_t stage;       /* AV_FIT_STAGE_* */
    uint32_t member;      /* 0-based clustering of an ensemble */
    uint32_t members;
    uint32_t pass;        /* passes done (1-based at PASS) */
    uint32_t max_passes;
    size_t n_rows;        /* all rows */
    size_t sample_rows;   /* rows in the sample */
    double inertia;
    double shift;         /* total squared centroid shift of the pass (PASS) */
    double shift_tol;     /* the passes stop when shift <= shift_tol */
    double elapsed;       /* seconds since the fit started */
    double eta;           /* estimated seconds left for the whole fit (every member), assuming
                             every remaining pass runs; < 0 when not yet known */
    /* --- appended in 1.4 (read only when struct_size covers it) --- */
    size_t rows_searched; /* PASS, STATS: rows whose nearest centroid this pass searched among
                             all k; the others' clusters were proved unchanged by bounds (the
                             same result, docs/SCALING.md "Bounded passes"); 0 at SAMPLE */
} av_fit_progress;

/* The plan av_builder_fit follows for n_total rows with these options (NULL = defaults):
   *algorithm is AV_KMEANS_FULL or AV_KMEANS_SAMPLED (AUTO resolved), *sample_size the expected
   sample rows (min(n_total, sample_size or AV_KMEANS_DEFAULT_SAMPLE(n_clusters))) and
   *max_passes the pass limit. Any output may be NULL. */
AV_API int av_kmeans_plan(const av_fit_options *opts, size_t n_total, uint32_t *algorithm,
                          size_t *sample_size, uint32_t *max_passes);
/* The sample's seed for member `member` of an ensemble (0 for one clustering): the fit seed +
   member * 0x9E3779B97F4A7C15 (mod 2^64), the seed that member's k-means uses too. */
AV_API uint64_t av_kmeans_member_seed(uint64_t seed, uint32_t member);
/* Sample membership of rows [row0, row0 + n) of a log of n_total rows: row i is in the sample iff
   a counter-based hash of (seed, i) is below sample_size / n_total (all rows when sample_size >=
   n_total). mask[i - row0] = 1 or 0 (mask may be NULL); *n_selected (may be NULL) = rows selected.
   The sample is the selected rows in row order. */
AV_API int av_kmeans_sample_mask(uint64_t seed, size_t n_total, size_t sample_size, size_t row0,
                                 size_t n, uint8_t *mask, size_t *n_selected);
/* Full-batch k-means (k-means++ and Lloyd as AV_KMEANS_FULL, with min(n_init,
   AV_KMEANS_SAMPLE_MAX_INIT) restarts) of n raw rows with opts' n_clusters, n_init, max_iter,
   tol and seed (opts->seed as given: pass
   av_kmeans_member_seed(seed, member) for a member). Writes centroids (n_clusters x dim), the
   rows' inertia (may be NULL) and shift_tol = tol * (mean over dimensions of the normalised rows'
   variance), the passes' stopping threshold (may be NULL). Rows are copied; use it on a sample. */
AV_API int av_kmeans_fit_sample(const float *rows, size_t n, size_t dim, const av_fit_options *opts,
                                float *centroids, double *inertia, double *shift_tol);
/* Lloyd's map: each row's nearest of the k centroids (k x dim) is found and its normalised
   components ADDED to sums[j*dim + t], 1 to counts[j] and its squared distance to *inertia (all
   fixed point); labels (n, may be NULL) receive the clusters. */
AV_API int av_kmeans_block_step(const float *centroids, size_t k, size_t dim, const float *rows,
                                size_t n, int64_t *sums, int64_t *counts, int64_t *inertia,
                                int32_t *labels);
/* Lloyd's reduce: centroids (k x dim, in: the pass's centroids, out: the new ones) become
   sums / counts, computed as (float)(((double)sums[j*dim+t] / 2^32) / (double)counts[j]); a
   cluster with no row keeps its centroid. *shift (may be NULL) = sum over j, t of (new - old)^2
   in double, in that order. */
AV_API int av_kmeans_finish_step(float *centroids, size_t k, size_t dim, const int64_t *sums,
                                 const int64_t *counts, double *shift);
/* The passes' stopping rule, 1 when the pass is the last: shift <= shift_tol, or, from the second
   pass on (prev_inertia >= 0: the previous pass's block-step inertia; -1 for the first), an
   inertia that improved on the previous pass's by at most tol (av_fit_options.tol) of itself:
   (double)(prev_inertia - inertia) <= (double)tol * (double)inertia. */
AV_API int av_kmeans_converged(double shift, double shift_tol, int64_t prev_inertia,
                               int64_t inertia, float tol);
/* k-means|| seeding (Bahmani et al. 2012, as Spark MLlib runs it), map steps. Cost: ADDS to
   *cost the rows' squared distances to their nearest of the n_centres centres (fixed point).
   Pick: row i (global index row0 + i) is picked iff the hash of (seed, round, i), uniform in
   [0, 1) with 53 bits, is below min(1, l * d2_i / phi), d2_i its fixed-point squared distance
   to the nearest centre and phi > 0 the round's total cost; picked (n, may be NULL) gets 1 or 0
   and *n_picked (may be NULL) the count. The picked rows, normalised (av_kmeans_normalize),
   join the centres. */
AV_API int av_kmeans_parallel_cost(const float *centres, size_t n_centres, size_t dim,
                                   const float *rows, size_t n, int64_t *cost);
AV_API int av_kmeans_parallel_pick(const float *centres, size_t n_centres, size_t dim,
                                   const float *rows, size_t n, size_t row0, uint64_t seed,
                                   uint32_t round, double l, int64_t phi, uint8_t *picked,
                                   size_t *n_picked);
/* k-means||'s reduce: n_centres weighted centres (weights >= 0, e.g. the counts of a
   av_kmeans_block_step pass with the centres as centroids; at least n_clusters with a positive
   weight) to opts->n_clusters centroids: weighted k-means++ (opts->seed, n_init restarts) then
   weighted Lloyd (max_iter, tol relative to the weighted variance), lowest weighted inertia kept. */
AV_API int av_kmeans_parallel_reduce(const float *centres, size_t n_centres, size_t dim,
                                     const double *weights, const av_fit_options *opts,
                                     float *centroids);
/* n raw rows normalised exactly as av_builder_add normalises them, into out (n x dim). */
AV_API int av_kmeans_normalize(const float *rows, size_t n, size_t dim, float *out);
/* The statistics' map: each row's nearest centroid (as in av_kmeans_block_step) receives, for
   every model with both a score and a cost (NaN = no outcome; an infinite value or a negative
   cost is AV_EVALUE, as av_builder_add), 1 in counts[j*n_models + i] and the score and cost in
   sum_scores and sum_costs (doubles, added in row order). *inertia (may be NULL) receives the
   rows' squared distances (fixed point). The totals are av_router_from_parts's arrays. */
AV_API int av_kmeans_stats_block(const float *centroids, size_t k, size_t dim, const float *rows,
                                 size_t n, const float *scores, const float *costs,
                                 size_t n_models, double *counts, double *sum_scores,
                                 double *sum_costs, int64_t *inertia);
/* Rows the builder reads in place instead of copying: n rows (embeddings n x dim, scores and
   costs n x n_models, row-major), checked as av_builder_add checks them (a bad row: nothing is
   added), kept by pointer until av_builder_free; the caller keeps them alive and unchanged until
   then. The SAMPLED path streams them block by block (normalising on the fly); FULL and tuning
   read a normalised copy. Rows keep their order among the builder's rows. */
AV_API int av_builder_add_borrowed(av_builder *b, const float *embeddings, size_t n, size_t dim,
                                   const float *scores, const float *costs);
/* Rows read through a callback, for logs that are not one array in memory (a database cursor,
   Parquet row groups, a compressed file, a Python generator): n_rows rows of dimension dim, read
   by read(user, row0, n, embeddings, scores, costs), which fills rows [row0, row0 + n) of the
   source (0-based, n <= block_rows) into embeddings (n x dim), scores and costs (n x n_models),
   row-major float32 (NaN = no outcome, as av_builder_add) and returns 0, or non-zero to stop the
   call that asked for them. Reads are by random access and come again on every pass of a fit:
   read must return the same values, bit for bit, every time it is asked for the same rows. */
typedef struct av_row_source {
    uint32_t struct_size; /* sizeof(av_row_source); set by av_row_source_init */
    uint32_t flags;       /* AV_ROW_SOURCE_*; default 0 */
    size_t n_rows;
    size_t dim;           /* must equal the builder's */
    int (*read)(void *user, size_t row0, size_t n, float *embeddings, float *scores,
                float *costs);
    void *user;
    size_t block_rows;    /* rows per read; 0 (default) = the library's choice: the largest power
                             of two whose rows fit in AV_ROW_SOURCE_BLOCK_BYTES, at most 32,768 */
} av_row_source;
/* av_row_source.flags: read may be called from several threads at once (a thread-safe source,
   e.g. pread on a file). Without it the builder never lets two calls of its sources' read
   overlap (they may still come from different threads, one at a time). */
#define AV_ROW_SOURCE_CONCURRENT 1u
#define AV_ROW_SOURCE_BLOCK_BYTES (4u << 20)
#define AV_ROW_SOURCE_INIT { (uint32_t)sizeof(av_row_source), 0u, 0u, 0u, NULL, NULL, 0u }
AV_API void av_row_source_init_sized(av_row_source *src, size_t size);
#define av_row_source_init(src) av_row_source_init_sized((src), sizeof *(src))
/* Add a row source (copied: src itself need not outlive the call; read and user must stay valid
   until av_builder_free). The source is read once, block by block, on the calling thread, and
   every row checked as av_builder_add checks it (a bad row: nothing added, the row named in the
   message); the builder keeps only each row's inverse norm and one 64-bit hash per block, so its
   memory does not grow with the rows' size. av_builder_fit reads the blocks again: SAMPLED once to
   gather its sample and once per pass (the statistics pass included) per ensemble member, on the
   calling thread and on the threads it starts for the passes (AV_NUM_THREADS), each into its own
   buffer of block_rows rows; FULL and tuning copy every row once, normalised, on the calling
   thread (as for borrowed rows; the copy then replaces the source). A block that hashes
   differently from its first read is refused with AV_EIO, never used. A non-zero return of read
   makes av_builder_add_source or av_builder_fit return AV_ECANCELED, av_last_error() naming the
   rows and the value returned; the builder is left as it was. Rows keep their order among the
   builder's rows, and give the same router as the same rows copied. Returns 0, AV_EINVAL (NULL
   b, src or read, struct_size too small, unknown flags), AV_EDIM, AV_EVECTOR, AV_EVALUE,
   AV_ECANCELED, AV_ELIMIT, AV_ENOMEM. Thread-safety: exclusive (per builder). */
AV_API int av_builder_add_source(av_builder *b, const av_row_source *src);
/* av_router_load with the file memory-mapped read-only (private mapping, since 1.2): the same
   checks in the same order and the same router, but the centroid values are used in place in the
   mapping, so processes that load the same file share its pages (the page cache) instead of each
   holding a copy. The mapping lives until av_router_free. Where the values cannot be used in
   place (a big-endian machine, an int8 file holding -128, a misaligned section) they are copied
   and the mapping released, as av_router_load would. The file must not be truncated or written
   in place while a router maps it (the library's own saves replace a file by rename, which leaves
   a mapped router its old pages): a truncation makes routing fault (SIGBUS), and bytes written in
   place would change the centroids after they were checked (docs/SECURITY.md). */
AV_API int av_router_load_mapped(av_router **out, const char *path);
#endif /* AV_STATIC_LINKING_ONLY */

/* ---------------------------------------------------------------------------------------------
 * Entry points of programs built against a 0.x header, whose av_*_init were functions that wrote
 * the library's own sizeof into the caller's struct. They cannot know the caller's size, so they
 * write the layout of 0.1.0 (the smallest a released header declared) and set struct_size to it:
 * members appended since keep their defaults. New code calls the av_*_init macros above, which
 * pass the caller's sizeof (docs/ABI.md).
 * ------------------------------------------------------------------------------------------- */
AV_API void(av_fit_options_init)(av_fit_options *opts);
AV_API void(av_replay_init)(av_replay *replay);
AV_API void(av_eval_options_init)(av_eval_options *opts);
AV_API void(av_route_options_init)(av_route_options *opts);
AV_API void(av_route_result_init)(av_route_result *res);
AV_API void(av_estimator_options_init)(av_estimator_options *opts);
AV_API void(av_update_options_init)(av_update_options *opts);

#ifdef __cplusplus
}
#endif
#endif /* AVENGERS_H */
