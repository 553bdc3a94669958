/* Internal declarations shared by the library's source files. Not installed. */
#ifndef AV_INTERNAL_H
#define AV_INTERNAL_H

/* The library implements its experimental interfaces too; a white-box test includes this header
   before the public one, or the public one would already have left them out. */
#if defined(AVENGERS_H) && !defined(AV_STATIC_LINKING_ONLY)
#error "include internal.h before avengers/avengers.h (or define AV_STATIC_LINKING_ONLY)"
#endif
#ifndef AV_STATIC_LINKING_ONLY
#define AV_STATIC_LINKING_ONLY
#endif
#include "avengers/avengers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define AV_HIDDEN __attribute__((visibility("hidden")))
#define AV_ALIGN 64u

/* ---- errors (error.c) ---- */
/* Record a detail message for this thread and return code (so callers write `return av__fail(...)`). */
AV_HIDDEN int av__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add context to this thread's last failure ("<context>: <detail>"; fmt NULL adds none) and
   report it under `code` (the same code, or a re-coding such as AV_EINVAL -> AV_EFORMAT in the
   loader). The code's text is never repeated inside the message. */
AV_HIDDEN int av__fail_context(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
AV_HIDDEN void av__clear_error(void);

/* Little-endian integers in byte buffers (the file format, the settings section). */
static inline void av__put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void av__put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void av__put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t av__get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t av__get32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t av__get64(const unsigned char *p)
{
    return (uint64_t)av__get32(p) | ((uint64_t)av__get32(p + 4) << 32);
}

/* Doubles as their IEEE bit patterns and back (the table's atomics, the settings section). */
static inline uint64_t av__f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}
static inline double av__bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* ---- memory (util.c) ---- */
AV_HIDDEN void *av__aligned_alloc(size_t size);
AV_HIDDEN void av__aligned_free(void *p);
/* a*b with overflow check: false on overflow. */
AV_HIDDEN bool av__mul_ok(size_t a, size_t b, size_t *out);
/* L2-normalise src (length d) into dst. Returns AV_OK or AV_EVECTOR (zero, NaN, Inf). The norm is
   accumulated in double so that every backend normalises identically. */
AV_HIDDEN int av__normalize(float *dst, const float *src, size_t d);
AV_HIDDEN char *av__strdup(const char *s);
/* n bytes of s are valid UTF-8 without control characters (tab, LF and CR allowed with
   allow_space: metadata values). Names, metadata keys and values are checked on every path. */
AV_HIDDEN bool av__text_ok(const char *s, size_t n, bool allow_space);
/* Metadata numbers, formatted (one double argument) and parsed in the C locale (util.c). */
AV_HIDDEN int av__set_meta_number(struct av_router *r, const char *key, const char *fmt, double v);
AV_HIDDEN double av__strtod_c(const char *s, char **end);

/* ---- SIMD kernels (simd/) ---- */
/* out[j] = dot(C + j*ld, q) over d elements, for j < k (ld >= d is the row stride in elements).
   Rows of a router's centroids start 64-byte aligned when ld is a multiple of 16. */
typedef void (*av_dots_f32_fn)(const float *C, size_t ld, size_t k, size_t d, const float *q,
                               float *out);
/* Same for float16 rows (IEEE binary16 bit patterns). */
typedef void (*av_dots_f16_fn)(const uint16_t *C, size_t ld, size_t k, size_t d, const float *q,
                               float *out);
/* int8 rows: out[j] = sum_t C[j*ld+t]*q8[t] computed exactly in integers (callers apply the row
   and query scales). */
typedef void (*av_dots_i8_fn)(const int8_t *C, size_t ld, size_t k, size_t d, const int8_t *q8,
                              int32_t *out);
/* nq queries (query i at Q + i*ldq): out[i*ldo + j] = dot(C + j*ld, Q + i*ldq), bit for bit what
   dots_f32 gives for that query (same per-pair summation order; av_route_batch relies on it). */
typedef void (*av_dots_f32_multi_fn)(const float *C, size_t ld, size_t k, size_t d,
                                     const float *Q, size_t ldq, size_t nq, float *out,
                                     size_t ldo);
/* max over t of the IEEE bit pattern of |q[t]| (exact, so identical on every backend): 0 means a
   zero vector, >= 0x7F800000 an Inf or NaN somewhere. */
typedef uint32_t (*av_absmax_bits_fn)(const float *q, size_t d);
/* q8[t] = round-half-even(q[t] * mul) (one float multiply; identical on every backend). */
typedef void (*av_quant_i8_fn)(const float *q, size_t d, float mul, int8_t *q8);
/* int8 rows against a float query: out[j] = sum_t (float)C[j*ld+t] * q[t] (int8 re-scoring). */
typedef void (*av_dots_i8f_fn)(const int8_t *C, size_t ld, size_t k, size_t d, const float *q,
                               float *out);

typedef struct av_kernels {
    const char *name;
    av_dots_f32_fn dots_f32;
    av_dots_f16_fn dots_f16;
    av_dots_i8_fn dots_i8;
    av_dots_f32_multi_fn dots_f32_multi;
    av_absmax_bits_fn absmax_bits;
    av_quant_i8_fn quant_i8;
    av_dots_i8f_fn dots_i8f;
} av_kernels;

/* The active kernel set, resolved once (pthread_once) from the CPU and AV_SIMD. */
AV_HIDDEN const av_kernels *av__kernels(void);
/* A specific backend by name ("scalar", "avx2", "avx512", "neon"), or NULL if not compiled in or
   not supported by this CPU. Tests and bench compare backends through it (they link the static
   library, so hidden symbols are visible to them). */
AV_HIDDEN const av_kernels *av__kernels_by_name(const char *name);
AV_HIDDEN extern const av_kernels av__kernels_scalar;

/* float16 <-> float32, round to nearest even (scalar reference, used by converters). */
AV_HIDDEN uint16_t av__f32_to_f16(float f);
AV_HIDDEN float av__f16_to_f32(uint16_t h);

/* ---- the routing table and the estimator state (profile.c, settings.c) ---- */
/* The routing table: per cluster a row of AV_ROW_WORDS*m 64-bit words (bit patterns of doubles):
   first the paper's 2*m normalised values (p~_i, 1-q~_i) interleaved, then the raw statistics
   (count_i, sum_score_i, sum_cost_i) interleaved, all under the cluster's seqlock; and per model
   its global mean score and mean cost (relaxed atomics). A table is never resized: adding a model
   publishes a new table and retires the old one (freed at av_router_free). */
#define AV_ROW_NORM 2u
#define AV_ROW_RAW 3u
#define AV_ROW_WORDS (AV_ROW_NORM + AV_ROW_RAW)
/* Default softmax temperature of cluster weights (cosine similarities are in [-1, 1]). */
#define AV_DEFAULT_TEMPERATURE 0.05f
typedef struct av_table {
    size_t m;                /* models this table covers; routing uses this, never r->m */
    _Atomic uint64_t *rows;  /* k x AV_ROW_WORDS*m */
    _Atomic uint32_t *seq;   /* k */
    _Atomic uint64_t *gmean; /* 2m: global mean score, global mean cost */
    struct av_table *older;  /* retired predecessor (freed with the router) */
} av_table;

/* Cluster weighting (values of av_route_options.weighting / av_estimator_options.weighting). */
typedef struct av_estimator_state {
    double kappa;        /* shrinkage prior strength; 0 = the paper */
    uint32_t weighting;  /* AV_WEIGHTING_HARD (the paper) or AV_WEIGHTING_SOFTMAX */
    float temperature;   /* softmax temperature (> 0) */
    uint32_t guard;      /* 1: the no-worse-than-best-single guard is on */
    double guard_margin; /* in normalised utility units */
    uint32_t normalisation; /* AV_NORMALISE_CLUSTER (the paper) or AV_NORMALISE_GLOBAL */
    void **retired;      /* arrays replaced by av_router_add_model (names), freed with the router */
    size_t n_retired;
} av_estimator_state;

/* ---- the router (router.c) ---- */
#define AV_MAX_META 1024u
#define AV_MAX_META_VALUE 65536u

typedef struct av_meta_kv {
    char *key;
    char *value;
} av_meta_kv;

struct av_router {
    size_t dim, k, m;
    /* Ensemble: `members` independent clusterings of k / members clusters each,
       member b owning clusters [b*k/members, (b+1)*k/members). A query uses its top_p clusters in
       every member (av__router_nearest); 1 = the paper's single clustering. */
    size_t members;
    uint32_t top_p;
    uint32_t centroid_type; /* av_centroid_type */
    /* Centroids: exactly one of these is in use, per centroid_type, 64-byte aligned. */
    float *centroids;        /* k x dim */
    uint16_t *centroids_f16; /* k x dim */
    int8_t *centroids_i8;    /* k x dim */
    float *centroid_scale;   /* k, for int8 */
    /* int8 only. Per-dimension scales (file format 1.1; all 1 for a 1.0 file): a value
       decodes as i8 * centroid_scale[j] * centroid_colscale[t]. */
    float *centroid_colscale; /* dim */
    char **names;            /* m */

    /* Statistics (k x m each, cluster-major) and per-model global totals. Guarded by `lock`
       (writers and non-hot-path readers); av_route never takes it. */
    double *count, *sum_score, *sum_cost;
    double *g_count, *g_score, *g_cost; /* m */

    /* What the routing paths read: the normalised table (per cluster the paper's 2*m values and the
       raw statistics under a per-cluster seqlock, plus global means), published as a whole through
       an atomic pointer so that av_router_add_model can replace it (profile.c, docs/THREADING.md). */
    struct av_table *_Atomic table;
    av_estimator_state est; /* estimator defaults, retired arrays (the block above) */

    av_meta_kv *meta; /* the user's: the library keeps nothing here that it reads back */
    size_t n_meta;
    char centroid_hash[17]; /* derived from the centroids (av__centroid_hash) */

    const av_kernels *kern;
    pthread_mutex_t lock;
};

/* av_router_set_meta: validated text, at most AV_MAX_META entries besides the centroid hash. */
AV_HIDDEN int av__meta_set(av_router *r, const char *key, const char *value);
/* Allocate a router with every array sized; statistics zeroed. */
AV_HIDDEN int av__router_alloc(av_router **out, size_t dim, size_t k, size_t m, uint32_t top_p,
                               uint32_t centroid_type);
/* Recompute global totals and every normalised row from the statistics. Caller holds the lock or
   owns the router exclusively. Fails with AV_EEMPTY if a model has no outcome at all. */
AV_HIDDEN int av__router_refresh_all(av_router *r);
/* Common argument checks of the routing entry points: non-NULL, dim, alpha in [0,1]. */
AV_HIDDEN int av__check_route_args(const av_router *r, const void *emb, size_t dim, float alpha);
/* Validate names: non-NULL, 1..AV_MAX_NAME bytes, unique. */
AV_HIDDEN int av__check_names(const char *const *names, size_t m);
/* Validate the query q (raw, length dim) and find its p most similar clusters in each member of
   the ensemble: members * p entries (av__n_sel), member by member, each member's most similar
   first (ties: lower index). tsim (may be NULL) receives their similarities to the normalised
   query. */
AV_HIDDEN int av__router_nearest(const av_router *r, const float *q, size_t p, uint32_t *tidx,
                                 float *tsim);
/* How many clusters a query with top_p p uses: p in every member. */
static inline size_t av__n_sel(const av_router *r, size_t p)
{
    return r->members * p;
}
/* AV_OK when p is a valid top_p for r: 1..k/members, and members * p <= AV_MAX_TOP_P. */
AV_HIDDEN int av__check_top_p(size_t k, size_t members, size_t p);
/* Make r an ensemble of `members` clusterings (k divisible by it, top_p within the rule above). */
AV_HIDDEN int av__router_set_members(av_router *r, size_t members);
/* Limits on the statistics, so that every mean, range and weighted sum the rule computes from them
   is finite and every state a successful call leaves saves and loads (docs/SECURITY.md). A cell
   (count c, score sum s, cost sum q) is valid when all three are finite, 0 <= c <=
   AV_STAT_MAX_COUNT, q >= 0, |s| <= max_mean * c and q <= max_mean * c (so c = 0 means no
   outcome at all). Calls that change statistics check AV_STAT_MAX_MEAN (the float range of
   av_profile_update's scores and costs) and fail with AV_ELIMIT, changing nothing; the loader
   accepts up to AV_STAT_MAX_MEAN_LOAD, which leaves room for the rounding of later decays. */
#define AV_STAT_MAX_COUNT 1e18
#define AV_STAT_MAX_MEAN 3.4028234663852886e38
#define AV_STAT_MAX_MEAN_LOAD 1e39
/* Decay (av_update_options.half_life): a cell whose count falls below AV_DECAY_MIN_CELL is
   dropped whole (count and sums 0), and a model whose total count would fall below
   AV_DECAY_MIN_MODEL is not decayed further, so a model never loses its last evidence to
   underflow and a decayed router always loads. */
#define AV_DECAY_MIN_CELL 1e-250
#define AV_DECAY_MIN_MODEL 1e-200
AV_HIDDEN bool av__stat_ok(double c, double s, double q, double max_mean);
/* Recompute model i's global totals as sums over the clusters in index order: the same bits as the
   loader computes, so that a router and its saved copy decide alike. Caller holds the lock. */
AV_HIDDEN void av__model_totals_locked(av_router *r, size_t i);
/* Whether adding an outcome of weight w (score, cost) to cell (j, i) keeps it valid. */
AV_HIDDEN bool av__outcome_fits_locked(const av_router *r, size_t j, size_t i, double w,
                                       double score, double cost);
/* Add an outcome of weight w for model i in cluster j, republishing the affected rows. The caller
   holds r->lock and has checked av__outcome_fits_locked. */
AV_HIDDEN void av__add_outcome_locked(av_router *r, size_t j, size_t i, double w, double score,
                                      double cost);
/* Similarities of the normalised query to every centroid (length k), with the router's kernel. */
AV_HIDDEN void av__router_sims(const av_router *r, const float *qn, float *sims);
/* Top-p selection: the p indices with the largest sims (ties: lower index), most similar first. */
AV_HIDDEN void av__top_p(const float *sims, size_t k, size_t p, uint32_t *idx);

/* A copy of r (one snapshot of its models, statistics, metadata and settings) whose centroids,
   of storage `type`, are encoded from the float32 values C (k x dim). */
AV_HIDDEN int av__router_clone(av_router **out, const av_router *r, uint32_t type,
                               const float *C);
/* Fill the router's centroid storage (of its centroid_type) from float32 centroids (convert.c). */
AV_HIDDEN int av__router_set_centroids(av_router *r, const float *C);
/* ---- speed (convert.c) ---- */
/* int8 routers, after loading: map a stored -128 to -127 (the kernels negate stored values). */
AV_HIDDEN void av__router_int8_derive(av_router *r);
/* av_route_batch with an explicit thread count (nearest.c; tests compare counts). */
AV_HIDDEN int av__route_batch_threads(const av_router *r, const float *embeddings, size_t n,
                                      size_t dim, size_t row_stride, float alpha,
                                      int32_t *out_models, unsigned threads);

/* ---- extensible structs (sized.c, docs/ABI.md) ---- */
/* The size of a struct's layout that ends with `member` (padded as the compiler pads the struct),
   for the sizes of earlier layouts below. Members are only ever appended after the previous
   layout's size, never into its tail padding, so these stay what older callers' sizeof was. */
#define AV_SIZE_THROUGH(type, member)                                                          \
    ((offsetof(type, member) + sizeof(((type *)0)->member) + _Alignof(type) - 1) /              \
     _Alignof(type) * _Alignof(type))
/* Every extensible struct: its name, its smallest accepted size (the first layout that ever
   existed) and the layout of 0.1.0 (what the 0.x init entry points write). */
#define AV_EXTENSIBLE_STRUCTS(X)                                                                \
    X(fit_options, av_fit_options, AV_FIT_OPTIONS_INIT, AV_SIZE_THROUGH(av_fit_options, seed),  \
      AV_SIZE_THROUGH(av_fit_options, tune))                                                    \
    X(replay, av_replay, AV_REPLAY_INIT, AV_SIZE_THROUGH(av_replay, costs),                     \
      AV_SIZE_THROUGH(av_replay, costs))                                                        \
    X(eval_options, av_eval_options, AV_EVAL_OPTIONS_INIT,                                      \
      offsetof(av_eval_options, n_alphas) + sizeof(size_t),                                     \
      AV_SIZE_THROUGH(av_eval_options, target_fraction))                                        \
    X(route_options, av_route_options, AV_ROUTE_OPTIONS_INIT,                                   \
      offsetof(av_route_options, normalisation), AV_SIZE_THROUGH(av_route_options, normalisation)) \
    X(route_result, av_route_result, AV_ROUTE_RESULT_INIT,                                      \
      AV_SIZE_THROUGH(av_route_result, guarded), AV_SIZE_THROUGH(av_route_result, guarded))     \
    X(estimator_options, av_estimator_options, AV_ESTIMATOR_OPTIONS_INIT,                       \
      offsetof(av_estimator_options, normalisation),                                            \
      AV_SIZE_THROUGH(av_estimator_options, normalisation))                                     \
    X(tune_options, av_tune_options, AV_TUNE_OPTIONS_INIT,                                      \
      offsetof(av_tune_options, global_normalisation),                                          \
      AV_SIZE_THROUGH(av_tune_options, global_normalisation))                                   \
    X(update_options, av_update_options, AV_UPDATE_OPTIONS_INIT,                                \
      AV_SIZE_THROUGH(av_update_options, weight), AV_SIZE_THROUGH(av_update_options, weight))
#define AV_MIN_SIZE_DECL_(name, type, init, min, v01) AV_##name##_MIN_SIZE_ = (min),
/* Outputs only (the caller sets struct_size): at least struct_size itself. */
#define AV_EVAL_OUTPUT_MIN_SIZE sizeof(uint32_t)

/* Defaults into a caller's struct of `given` bytes: min(given, own) bytes of defaults, zeros past
   own, struct_size = given. Writes nothing when given cannot hold struct_size. */
AV_HIDDEN void av__struct_init(void *caller, size_t given, const void *defaults, size_t own);
/* A caller's input struct (its struct_size first) into dst, which holds the defaults and is `own`
   bytes: min(caller, own) bytes are copied; a struct_size below `min` or a non-zero byte past own
   (an option of a newer version) is AV_EINVAL naming the struct and the offset. dst->struct_size
   becomes own. */
AV_HIDDEN int av__struct_in(void *dst, size_t own, const void *src, size_t min, const char *what);
/* An output struct into the caller's: min(caller, own) bytes after struct_size (which stays the
   caller's), zeros past own; AV_EINVAL below min. */
AV_HIDDEN int av__struct_out(void *caller, const void *src, size_t own, size_t min,
                             const char *what);
/* The smallest accepted sizes, by name: AV_fit_options_MIN_SIZE_ ... */
enum { AV_EXTENSIBLE_STRUCTS(AV_MIN_SIZE_DECL_) AV_MIN_SIZE_END_ };

/* ---- the rule (rule.c): every decision of the library ---- */
/* The settings of one decision: the router's defaults, overridden per request. */
typedef struct av_settings {
    uint32_t p;           /* clusters per member */
    uint32_t weighting;   /* AV_WEIGHTING_HARD or _SOFTMAX */
    double temperature;   /* softmax temperature (> 0) */
    double kappa;         /* shrinkage toward the global means */
    uint32_t norm;        /* AV_NORMALISE_CLUSTER or _GLOBAL */
    uint32_t guard;       /* the no-worse-than-best-single guard */
    double guard_margin;
    uint32_t flags;       /* AV_ROUTE_* */
    double max_cost, min_score;
    const uint8_t *mask;
    size_t mask_len;
    uint64_t explore_seed;
} av_settings;
/* The router's defaults with top_p p. */
AV_HIDDEN void av__settings_default(const av_router *r, uint32_t p, av_settings *s);
/* The defaults overridden by a request's options, validated. */
AV_HIDDEN int av__settings_resolve(const av_router *r, const av_route_options *o, av_settings *s);
/* True when s is the paper's rule as the published table holds it (hard weights, the router's
   kappa, per-cluster normalisation, no guard, limits, mask or exploration): the fast path. */
AV_HIDDEN bool av__settings_paper(const av_router *r, const av_settings *s);
/* lo, hi of v[0..m). */
AV_HIDDEN void av__minmax(const double *v, size_t m, double *lo, double *hi);
/* acc[i] += w * (alpha * nrow[2i] + (1 - alpha) * nrow[2i + 1]): the rule's one sum. */
AV_HIDDEN void av__rule_add(const double *nrow, double w, double alpha, size_t m, double *acc);
/* The argmax with the paper's tie rule (higher sum, then lower global mean cost, then lower
   index) over models allowed by mask (NULL = all). Returns -1 when none is allowed. */
AV_HIDDEN int32_t av__argmax_tie(const av_table *t, const double *acc, const uint8_t *allowed);
/* Raw softmax weights of the members * p clusters (selected p per member, sims member by member):
   1 each, or exp((sim - the member's best) / temp); wsum[b] receives member b's total. */
AV_HIDDEN void av__member_weights(size_t members, size_t p, const float *sims, bool softmax,
                                  double temp, double *w, double *wsum);
/* The routing weights: 1 each (hard), or the softmax within each member normalised so that every
   member weighs 1 / members. */
AV_HIDDEN void av__cluster_weights(size_t members, size_t p, const float *sims, bool softmax,
                                   double temp, double *w);
/* The paper's rule over ns clusters, streamed from the table `pinned` (NULL: the current one). */
AV_HIDDEN int32_t av__rule_paper(const av_router *r, const av_table *pinned,
                                 const uint32_t *clusters, size_t ns, double alpha);
/* A query prepared for the rule, for any number of alphas. */
typedef struct av_prepared {
    const av_table *t;
    size_t m, ns;
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    double w[AV_MAX_TOP_P];        /* routing weights */
    double support[AV_MAX_TOP_P];  /* largest outcome count of any model in each cluster */
    double ep[AV_MAX_MODELS], eq[AV_MAX_MODELS]; /* expected score and cost of each model */
    double gp[AV_MAX_MODELS], gq[AV_MAX_MODELS]; /* global means */
    uint8_t allowed[AV_MAX_MODELS];
    size_t n_feasible;
    float best_sim;
    double *rows;                  /* ns x 2m normalised rows (the caller's scratch) */
} av_prepared;
/* Scratch doubles of av_prepared.rows for ns clusters and m models. */
#define AV_RULE_ROWS(ns, m) ((ns) * 2u * (m))
/* Prepare the query whose members * s->p clusters are idx (similarities sims, member by member,
   as av__router_nearest gives them) over table t. cached (may be NULL): normalised rows of every
   cluster, 2m doubles each, to use instead of recomputing them (tuning, which needs no expected
   values: with cached rows only the rows and weights are prepared, every model allowed). */
AV_HIDDEN void av__rule_prepare(const av_router *r, const av_table *t, const av_settings *s,
                                size_t members, const uint32_t *idx, const float *sims,
                                const double *cached, double *rows, av_prepared *q);
/* The decision at alpha: the model (or -1 when none is feasible); acc (m) receives the routing
   scores, *guarded whether the guard replaced the rule's choice. */
AV_HIDDEN int32_t av__rule_decide(const av_prepared *q, const av_settings *s, double alpha,
                                  double *acc, uint32_t *guarded);
/* Feasible models best first (the guard's choice leads when it replaced the rule's). */
AV_HIDDEN void av__rule_rank(const av_prepared *q, const double *acc, int32_t chosen,
                             uint32_t guarded, int32_t *out, size_t *n_out);
/* One decision at alpha over table t, with the query's clusters already found (idx, sims): the
   general path of av_route and av_route_ex; res (may be NULL) receives the explanation.
   (Evaluation, budgets and tuning prepare once and decide per alpha themselves, over one table
   pinned for the whole call.) */
AV_HIDDEN int32_t av__route_one(const av_router *r, const av_table *t, const av_settings *st,
                                const uint32_t *idx, const float *sims, double alpha,
                                av_route_result *res);
/* The model count and name array as published by av_router_add_model (acquire loads). Loaded
   after a table, the array has at least that table's m names. */
AV_HIDDEN size_t av__models_now(const av_router *r, char *const **names);

/* ---- files (file.c) ---- */
/* Read a regular file of at most max_size bytes whole into a malloc'ed buffer. */
AV_HIDDEN int av__file_read(const char *path, uint64_t max_size, unsigned char **data,
                            size_t *size);
/* Replace the regular file at path (or the one a symbolic link there points to) atomically with
   data: temporary file, fsync, rename, directory fsync; every failure is reported (AV_EIO). */
AV_HIDDEN int av__file_replace(const char *path, const unsigned char *data, size_t size);

/* ---- file format (format.c) ---- */
AV_HIDDEN int av__router_serialize(const av_router *r, unsigned char **data, size_t *size);
AV_HIDDEN int av__router_deserialize(av_router **out, const unsigned char *data, size_t size);
AV_HIDDEN uint32_t av__crc32(const unsigned char *data, size_t n);

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

/* ---- PRNG (util.c): splitmix64-seeded xoshiro256**, identical on every machine ---- */
typedef struct av_rng {
    uint64_t s[4];
} av_rng;
AV_HIDDEN void av__rng_seed(av_rng *g, uint64_t seed);
AV_HIDDEN uint64_t av__rng_next(av_rng *g);
AV_HIDDEN double av__rng_uniform(av_rng *g); /* [0, 1) with 53 bits */

/* ---- tables, estimator state, tuning ---- */
/* Allocate the router's first table (av__router_alloc) and free every table and retired array
   (av_router_free). */
AV_HIDDEN int av__table_init(av_router *r);
AV_HIDDEN void av__tables_free(av_router *r);
/* The current table (acquire load). */
AV_HIDDEN const av_table *av__table(const av_router *r);
/* A consistent copy of words [off, off+n) of cluster j's row (seqlock retry loop). */
AV_HIDDEN void av__table_read(const av_table *t, size_t j, size_t off, size_t n, double *out);
/* Global mean score (what=0) or cost (what=1) of model i in table t. */
AV_HIDDEN double av__table_gmean(const av_table *t, size_t i, int what);
/* Min-max normalise means p, q (length m) into out (2m: p~_i, 1-q~_i), the paper's table row. */
AV_HIDDEN void av__normalise_means(const double *p, const double *q, size_t m, double *out);
/* The global normalisation: p, q normalised with the min-max ranges of the global means gp, gq. */
AV_HIDDEN void av__normalise_global(const double *p, const double *q, const double *gp,
                                    const double *gq, size_t m, double *out);
/* Shrunk (kappa > 0) or plain means from raw (count, sum_s, sum_c) words and global means. */
AV_HIDDEN void av__means_from_raw(const double *raw, const double *gp, const double *gq, size_t m,
                                  double kappa, double *p, double *q);
/* A new, empty table for m models (NULL when out of memory), and its publication: filled from the
   statistics (whose layout must already be r->m == t->m models), then made current; the old table
   is retired. Publication cannot fail. Caller holds r->lock. */
AV_HIDDEN av_table *av__table_new(size_t k, size_t m);
AV_HIDDEN void av__table_discard(av_table *t); /* a table never published; NULL is a no-op */
AV_HIDDEN void av__table_publish_locked(av_router *r, av_table *t);
/* Republish every row and global mean from the statistics. Caller holds the lock. */
AV_HIDDEN void av__republish_all_locked(av_router *r);
/* ---- routing settings (settings.c) ---- */
/* Whether r's settings differ from the paper's, so that the file needs its settings section. */
AV_HIDDEN bool av__settings_stored(const av_router *r);
/* The settings section: its size, its bytes, and reading one (AV_EFORMAT; AV_EVERSION for a
   setting that changes decisions and is unknown to this version). */
AV_HIDDEN size_t av__settings_bytes(void);
AV_HIDDEN void av__settings_write(const av_router *r, unsigned char *out);
AV_HIDDEN int av__settings_read(av_router *r, const unsigned char *p, size_t n);
/* 0.x kept the settings (and derived values) as metadata: the index of such a key (0..5 the
   settings kappa, weighting, temperature, guard, guard_margin, normalisation; 6 centroid_hash,
   7 members), or -1. Those keys are reserved: av_router_set_meta refuses them. */
AV_HIDDEN int av__settings_legacy_key(const char *key);
/* Apply the settings of a 0.x file, values[i] the metadata value of legacy key i (or NULL). */
AV_HIDDEN int av__settings_read_legacy(av_router *r, char *const *values);
#define AV_LEGACY_KEYS 8
/* 16 hex digits (+ NUL) of the FNV-1a 64 hash of the centroid storage, its type and shape. */
AV_HIDDEN void av__centroid_hash(const av_router *r, char out[17]);
/* Retire a pointer to be freed at av_router_free. Caller holds the lock. */
AV_HIDDEN int av__retire_locked(av_router *r, void *p);
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

/* ---- eval (eval.c, eval_metrics.c) ---- */
struct av_eval_result {
    size_t n_rows, m, n_alphas, top_p;
    double target_fraction;
    char **names;              /* m, the router's model names */
    double *alphas;            /* n_alphas, rounded to float like av_route's parameter */
    double *a_score, *a_cost;  /* n_alphas: sums over rows whose routed model has an outcome */
    size_t *a_n, *a_miss;      /* n_alphas: rows with / without that outcome */
    size_t *a_count;           /* n_alphas x m: rows routed to each model */
    double *m_score, *m_cost;  /* m: single-model sums over rows with that model's outcome */
    size_t *m_n;               /* m */
    double o_score, o_cost;    /* oracle sums */
    size_t o_n, o_miss;
    av_eval_metrics metrics;
    size_t n_front;            /* Pareto frontier, sorted by cost then score */
    uint32_t *front_kind;      /* av_eval_point_kind */
    size_t *front_index;
};
/* Compute the metrics and the frontier of a filled result (eval_metrics.c). */
AV_HIDDEN int av__eval_finish(av_eval_result *res);
/* Pareto mask over n points: on[i] = 1 when no point has score >= and cost <= with one strictly
   better. NaN points are never on the frontier. Returns the number of points on it. */
AV_HIDDEN size_t av__pareto_mask(const double *cost, const double *score, size_t n,
                                 unsigned char *on);
/* Area under the step curve A(x) = max{score_i : cost_i / scale <= x} (0 where empty) over
   x in [0, 1]; NaN points are skipped; scale <= 0 means every cost counts as 0. O(n^2), for the
   few points of an alpha sweep. */
AV_HIDDEN double av__step_auc(const double *cost, const double *score, size_t n, double scale);

#endif
