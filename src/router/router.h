/* The router layer: a router's lifecycle, routing (single, explained, batched), feedback, model
   addition, merging, metadata and settings. A router is an index (centroids) and statistics (the
   published table) under one lock, with model names, routing settings and the user's metadata. */
#ifndef AV_ROUTER_H
#define AV_ROUTER_H

#include "rule/rule.h"

#define AV_MAX_META 1024u
#define AV_MAX_META_VALUE 65536u

typedef struct av_meta_kv {
    char *key;
    char *value;
} av_meta_kv;

struct av_router {
    av_index ix;   /* centroids and their hash; the query's clusters come from here */
    av_stats st;   /* statistics and the published table; st.m is the model count */
    uint32_t top_p;
    char **names;  /* st.m, published with the count by av_router_add_model (av__models_now) */
    av_estimator_state est; /* routing settings (the estimator defaults) */
    void **retired; /* arrays replaced by av_router_add_model (names), freed with the router */
    size_t n_retired;
    av_price *prices; /* AV_MAX_MODELS entries once a price was set (unit AV_PRICE_NONE for a model
                         without one), else NULL; read and written under the lock */
    av_meta_kv *meta; /* the user's: the library keeps nothing here that it reads back */
    size_t n_meta;
    av_mutex lock;       /* writers and non-routing readers; av_route never takes it */
};

/* Allocate a router with every array sized; statistics zeroed, the paper's settings. */
AV_HIDDEN int av__router_alloc(av_router **out, size_t dim, size_t k, size_t m, uint32_t top_p,
                               uint32_t centroid_type);
/* Recompute global totals, the centroid hash and every normalised row. Caller holds the lock or
   owns the router exclusively. Fails with AV_EEMPTY if a model has no outcome at all. */
AV_HIDDEN int av__router_refresh_all(av_router *r);
/* The same but the centroid hash, for a loader that computed it while reading (io/format.c). */
AV_HIDDEN int av__router_refresh_stats(av_router *r);
/* Make r an ensemble of `members` clusterings (k divisible by it, top_p within the limits). */
AV_HIDDEN int av__router_set_members(av_router *r, size_t members);
/* Validate names: non-NULL, 1..AV_MAX_NAME bytes of valid text, unique. */
AV_HIDDEN int av__check_names(const char *const *names, size_t m);
/* Common argument checks of the routing entry points: non-NULL, dim, alpha in [0,1]. */
AV_HIDDEN int av__check_route_args(const av_router *r, const void *emb, size_t dim, float alpha);
/* The current table (acquire load). */
AV_HIDDEN const av_table *av__table(const av_router *r);
/* The model count and name array as published by av_router_add_model (acquire loads). Loaded
   after a table, the array has at least that table's m names. */
AV_HIDDEN size_t av__models_now(const av_router *r, char *const **names);
/* av_router_set_meta without the reserved-key check: validated text, at most AV_MAX_META entries. */
AV_HIDDEN int av__meta_set(av_router *r, const char *key, const char *value);
/* A metadata number formatted (fmt has one double conversion) in the C locale. */
AV_HIDDEN int av__set_meta_number(av_router *r, const char *key, const char *fmt, double v);
/* Retire a pointer to be freed at av_router_free. Caller holds the lock. */
AV_HIDDEN int av__retire_locked(av_router *r, void *p);
/* Model i's price record (av_router_set_price), or NULL when none was set. Caller holds the lock
   or owns the router. */
AV_HIDDEN const av_price *av__price_of(const av_router *r, size_t i);
/* Store a validated price for model i (the loader): AV_ENOMEM only. */
AV_HIDDEN int av__price_store(av_router *r, size_t i, const av_price *p);
/* Whether p is a valid price (unit PER_QUERY or PER_TOKEN, every value finite and >= 0, the
   effective cost per query finite); the cost per query into *per_query. */
AV_HIDDEN bool av__price_ok(const av_price *p, double *per_query);
/* Model i's cost per query: its price's when one was set, else its learned mean cost (0 without
   any). Caller holds the lock. */
AV_HIDDEN double av__price_per_query_locked(const av_router *r, size_t i);
/* A copy of r (one snapshot of its models, statistics, metadata and settings) whose centroids,
   of storage `type`, are encoded from the float32 values C (k x dim). */
AV_HIDDEN int av__router_clone(av_router **out, const av_router *r, uint32_t type,
                               const float *C);
/* The router's settings for a request (its defaults when o is NULL), validated. */
AV_HIDDEN int av__router_settings(const av_router *r, const av_route_options *o, av_settings *s);
/* One decision at alpha over table t, with the query's clusters already found (idx, sims): the
   general path of av_route and av_route_ex; res (may be NULL) receives the explanation.
   (Evaluation, budgets and tuning prepare once and decide per alpha themselves, over one table
   pinned for the whole call.) */
AV_HIDDEN int32_t av__route_one(const av_router *r, const av_table *t, const av_settings *st,
                                const uint32_t *idx, const float *sims, double alpha,
                                av_route_result *res);
/* Threads a call may start: AV_NUM_THREADS if set (1..AV_MAX_BATCH_THREADS), else the online
   CPUs; resolved once per process. av_route_batch and the SAMPLED k-means passes use it. */
#define AV_MAX_BATCH_THREADS 64u
AV_HIDDEN unsigned av__threads_default(void);
/* av_route_batch with an explicit thread count (tests compare counts). */
AV_HIDDEN int av__route_batch_threads(const av_router *r, const float *embeddings, size_t n,
                                      size_t dim, size_t row_stride, float alpha,
                                      int32_t *out_models, unsigned threads);

#endif
