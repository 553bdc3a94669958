/* The router: allocation, construction from parts, introspection, metadata, and the two entry points
   of the paper's rule (av_route, av_profile_update). Similarity search lives in the index layer
   (index/), the statistics and their normalised table in the stats layer (stats/). */
#include "router/router.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Allocation
 * ------------------------------------------------------------------------------------------- */
int av__router_alloc(av_router **out, size_t dim, size_t k, size_t m, uint32_t top_p,
                     uint32_t centroid_type)
{
    int rc;
    *out = NULL;
    if (dim == 0 || dim > AV_MAX_DIM || k == 0 || k > AV_MAX_CLUSTERS || m == 0 ||
        m > AV_MAX_MODELS)
        return av__fail(AV_ELIMIT, "dim=%zu n_clusters=%zu n_models=%zu outside the limits", dim,
                        k, m);
    /* The limits allow k*dim float32 centroids past 4 GiB: with a 32-bit size_t that product must
       be refused, not wrapped (the statistics' k*m planes stay far below it). */
    size_t kd, bytes;
    if (!av__mul_ok(k, dim, &kd) || !av__mul_ok(kd, sizeof(float), &bytes))
        return av__fail(AV_ELIMIT, "%zu centroids of dimension %zu do not fit this platform's "
                                   "address space", k, dim);
    if ((rc = av__check_top_p(k, 1, top_p)) != AV_OK)
        return rc;
    if (centroid_type > AV_CENTROIDS_INT8)
        return av__fail(AV_EINVAL, "unknown centroid type %u", centroid_type);
    av_router *r = calloc(1, sizeof *r);
    if (!r)
        return av__fail(AV_ENOMEM, "router");
    r->top_p = top_p;
    /* the paper's settings until av_router_set_estimator or the file say otherwise */
    r->est.weighting = AV_WEIGHTING_HARD;
    r->est.temperature = AV_DEFAULT_TEMPERATURE;
    r->est.normalisation = AV_NORMALISE_CLUSTER;
    av__mutex_init(&r->lock);
    bool ok = av__index_alloc(&r->ix, dim, k, centroid_type) == AV_OK;
    ok = ok && (r->names = calloc(m, sizeof *r->names)) != NULL;
    ok = ok && av__stats_alloc(&r->st, k, m) == AV_OK;
    if (!ok) {
        av_router_free(r);
        return av__fail(AV_ENOMEM, "router arrays for k=%zu, m=%zu, dim=%zu", k, m, dim);
    }
    *out = r;
    return AV_OK;
}

int av__router_set_members(av_router *r, size_t members)
{
    if (members == 0 || members > AV_MAX_MEMBERS || r->ix.k % members != 0)
        return av__fail(AV_EINVAL, "members=%zu must be in 1..%u and divide n_clusters=%zu",
                        members, AV_MAX_MEMBERS, r->ix.k);
    int rc = av__check_top_p(r->ix.k, members, r->top_p);
    if (rc)
        return rc;
    r->ix.members = members;
    return AV_OK;
}

int av__router_refresh_stats(av_router *r)
{
    size_t empty = 0;
    if (av__stats_refresh(&r->st, r->est.kappa, &empty) != AV_OK)
        return av__fail(AV_EEMPTY, "model %zu (%s) has no outcome in any cluster", empty,
                        r->names[empty] ? r->names[empty] : "?");
    return AV_OK;
}

int av__router_refresh_all(av_router *r)
{
    int rc = av__router_refresh_stats(r);
    if (rc == AV_OK) {
        av__index_hash(&r->ix, r->ix.centroid_hash);
        atomic_store_explicit(&r->ix.hash_ready, true, memory_order_release);
    }
    return rc;
}

const av_table *av__table(const av_router *r)
{
    return av__stats_table(&r->st);
}

int av__retire_locked(av_router *r, void *p)
{
    void **g = realloc(r->retired, (r->n_retired + 1) * sizeof *g);
    if (!g)
        return av__fail(AV_ENOMEM, "retired list");
    r->retired = g;
    g[r->n_retired++] = p;
    return AV_OK;
}

AV_API void av_router_free(av_router *r)
{
    if (!r)
        return;
    av__index_free(&r->ix);
    if (r->names)
        for (size_t i = 0; i < r->st.m; i++)
            free(r->names[i]);
    free(r->names);
    av__stats_free(&r->st);
    for (size_t i = 0; i < r->n_retired; i++)
        free(r->retired[i]);
    free(r->retired);
    for (size_t i = 0; i < r->n_meta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    free(r->meta);
    free(r->prices);
    av__mutex_destroy(&r->lock);
    free(r);
}

/* ---------------------------------------------------------------------------------------------
 * Introspection
 * ------------------------------------------------------------------------------------------- */
AV_API size_t av_router_dim(const av_router *r)
{
    return r ? r->ix.dim : 0;
}

AV_API size_t av_router_n_clusters(const av_router *r)
{
    return r ? r->ix.k : 0;
}

/* The model count and name array as published by av_router_add_model, which stores the grown
   array and then the count (release). The count is loaded first (acquire): the array loaded after
   it is then at least as new, so it has at least that many names. (The other order could pair an
   old array with a new count, one name short.) */
size_t av__models_now(const av_router *r, char *const **names)
{
    size_t m = __atomic_load_n(&r->st.m, __ATOMIC_ACQUIRE);
    if (names)
        *names = __atomic_load_n(&r->names, __ATOMIC_ACQUIRE);
    return m;
}

AV_API size_t av_router_members(const av_router *r)
{
    return r ? r->ix.members : 0;
}

AV_API size_t av_router_n_models(const av_router *r)
{
    return r ? av__models_now(r, NULL) : 0;
}

AV_API size_t av_router_top_p(const av_router *r)
{
    return r ? r->top_p : 0;
}

AV_API const char *av_router_simd_backend(const av_router *r)
{
    return r ? r->ix.kern->name : NULL;
}

AV_API const char *av_router_model_name(const av_router *r, size_t model)
{
    char *const *names;
    if (!r || model >= av__models_now(r, &names))
        return NULL;
    return names[model];
}

AV_API int32_t av_router_model_index(const av_router *r, const char *name)
{
    if (!r || !name)
        return av__fail(AV_EINVAL, "router or name is NULL");
    char *const *names;
    size_t m = av__models_now(r, &names);
    for (size_t i = 0; i < m; i++)
        if (strcmp(names[i], name) == 0)
            return (int32_t)i;
    return av__fail(AV_EMODEL, "no model named '%s'", name);
}

AV_API int av_router_set_top_p(av_router *r, uint32_t top_p)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    int rc = av__check_top_p(r->ix.k, r->ix.members, top_p);
    if (rc)
        return rc;
    r->top_p = top_p;
    return AV_OK;
}

AV_API int av_router_get_centroid(const av_router *r, size_t cluster, float *out, size_t dim)
{
    if (!r || !out)
        return av__fail(AV_EINVAL, "router or output is NULL");
    if (dim != r->ix.dim)
        return av__fail(AV_EDIM, "dim=%zu, router has %zu", dim, r->ix.dim);
    if (cluster >= r->ix.k)
        return av__fail(AV_ERANGE, "cluster %zu of %zu", cluster, r->ix.k);
    av__index_centroid(&r->ix, cluster, out);
    return AV_OK;
}

AV_API int av_router_cluster_stats(const av_router *r, size_t cluster, size_t model, double *count,
                                   double *sum_score, double *sum_cost)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    if (cluster >= r->ix.k)
        return av__fail(AV_ERANGE, "cluster %zu of %zu", cluster, r->ix.k);
    av_router *w = (av_router *)r; /* the lock is the only mutable part of a const router */
    av__mutex_lock(&w->lock);
    if (model >= r->st.m) { /* read under the lock: av_router_add_model grows it */
        size_t m = r->st.m;
        av__mutex_unlock(&w->lock);
        return av__fail(AV_EMODEL, "model %zu of %zu", model, m);
    }
    size_t ji = cluster * r->st.m + model;
    if (count)
        *count = r->st.count[ji];
    if (sum_score)
        *sum_score = r->st.sum_score[ji];
    if (sum_cost)
        *sum_cost = r->st.sum_cost[ji];
    av__mutex_unlock(&w->lock);
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
        if (!av__text_ok(names[i], n, false))
            return av__fail(AV_EINVAL, "model name %zu is not UTF-8 text without control "
                                       "characters", i);
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
        if (!av__stat_ok(c, s, q, AV_STAT_MAX_MEAN)) {
            rc = av__fail(AV_EVALUE,
                          "statistics of cluster %zu, model %zu are invalid (count=%g, "
                          "sum_score=%g, sum_cost=%g: finite, 0 <= count <= %g, cost sum >= 0, "
                          "|mean| <= %g)",
                          t / n_models, t % n_models, c, s, q, AV_STAT_MAX_COUNT,
                          AV_STAT_MAX_MEAN);
            goto fail;
        }
    }
    memcpy(r->ix.centroids, centroids, kd * sizeof(float));
    memcpy(r->st.count, counts, km * sizeof(double));
    memcpy(r->st.sum_score, sum_scores, km * sizeof(double));
    memcpy(r->st.sum_cost, sum_costs, km * sizeof(double));
    if ((rc = av__router_refresh_all(r)) != AV_OK)
        goto fail;
    *out = r;
    return AV_OK;
fail:
    av_router_free(r);
    return rc;
}

int av__router_clone(av_router **out, const av_router *r, uint32_t type, const float *C)
{
    av_router *w = (av_router *)r; /* the lock is the only mutable part of a const router */
    av_router *n = NULL;
    av__mutex_lock(&w->lock); /* statistics, names, count and metadata change together */
    size_t m = r->st.m, km = r->ix.k * m;
    int rc = av__router_alloc(&n, r->ix.dim, r->ix.k, m, r->top_p, type);
    if (rc == AV_OK)
        rc = av__router_set_members(n, r->ix.members);
    for (size_t i = 0; rc == AV_OK && i < m; i++)
        if (!(n->names[i] = av__strdup(r->names[i])))
            rc = av__fail(AV_ENOMEM, "model names");
    for (size_t i = 0; rc == AV_OK && i < r->n_meta; i++)
        rc = av__meta_set(n, r->meta[i].key, r->meta[i].value);
    if (rc == AV_OK) {
        memcpy(n->st.count, r->st.count, km * sizeof(double));
        memcpy(n->st.sum_score, r->st.sum_score, km * sizeof(double));
        memcpy(n->st.sum_cost, r->st.sum_cost, km * sizeof(double));
        n->est = r->est; /* the settings */
        for (size_t i = 0; rc == AV_OK && i < m; i++)
            if (av__price_of(r, i))
                rc = av__price_store(n, i, av__price_of(r, i));
    }
    av__mutex_unlock(&w->lock);
    if (rc == AV_OK)
        rc = av__index_set_centroids(&n->ix, C);
    if (rc == AV_OK && type == AV_CENTROIDS_INT8)
        av__index_int8_derive(&n->ix);
    if (rc == AV_OK) /* totals, the published table and the centroid hash, as at load */
        rc = av__router_refresh_all(n);
    if (rc != AV_OK) {
        av_router_free(n);
        return rc;
    }
    *out = n;
    return AV_OK;
}

int av__check_route_args(const av_router *r, const void *emb, size_t dim, float alpha)
{
    if (!r || !emb)
        return av__fail(AV_EINVAL, "router or embedding is NULL");
    if (dim != r->ix.dim)
        return av__fail(AV_EDIM, "embedding has dim %zu, router expects %zu", dim, r->ix.dim);
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return av__fail(AV_EALPHA, "alpha=%g", (double)alpha);
    return AV_OK;
}

AV_API int av_profile_update(av_router *r, const float *embedding, size_t dim, int32_t model,
                             float score, float cost)
{
    int rc = av__check_route_args(r, embedding, dim, 0.0f);
    if (rc)
        return rc;
    size_t m = av__models_now(r, NULL); /* only grows: an index valid now stays valid */
    if (model < 0 || (size_t)model >= m)
        return av__fail(AV_EMODEL, "model %d of %zu", (int)model, m);
    if (!isfinite(score) || !isfinite(cost) || cost < 0.0f)
        return av__fail(AV_EVALUE, "score=%g cost=%g (finite, cost >= 0)", (double)score,
                        (double)cost);
    /* the nearest cluster of every member of an ensemble (one for the paper's router), so that
       each member's statistics keep counting every outcome once */
    uint32_t j[AV_MAX_MEMBERS];
    if ((rc = av__index_nearest(&r->ix, embedding, 1, j, NULL)) != AV_OK)
        return rc;
    av__mutex_lock(&r->lock);
    for (size_t b = 0; b < r->ix.members; b++)
        if (!av__stats_fits_locked(&r->st, j[b], (size_t)model, 1.0, (double)score, (double)cost)) {
            av__mutex_unlock(&r->lock);
            return av__fail(AV_ELIMIT, "model %d in cluster %u would exceed the statistics "
                                       "limits (count <= %g, |mean| <= %g)", (int)model,
                            j[b], AV_STAT_MAX_COUNT, AV_STAT_MAX_MEAN);
        }
    for (size_t b = 0; b < r->ix.members; b++)
        av__stats_add_locked(&r->st, r->est.kappa, j[b], (size_t)model, 1.0, (double)score, (double)cost);
    av__mutex_unlock(&r->lock);
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
    if (av__settings_legacy_key(key) >= 0)
        return av__fail(AV_EINVAL, "metadata key '%s' is reserved: the routing settings are set "
                                   "with av_router_set_estimator, the centroid hash and member "
                                   "count are derived", key);
    return av__meta_set(r, key, value);
}

int av__meta_set(av_router *r, const char *key, const char *value)
{
    if (!r || !key || !value)
        return av__fail(AV_EINVAL, "router, key or value is NULL");
    size_t kl = strlen(key), vl = strlen(value);
    if (kl == 0 || kl > AV_MAX_NAME || vl > AV_MAX_META_VALUE)
        return av__fail(AV_ELIMIT, "metadata key length %zu (1..%u), value length %zu (<= %u)", kl,
                        AV_MAX_NAME, vl, AV_MAX_META_VALUE);
    if (!av__text_ok(key, kl, false))
        return av__fail(AV_EINVAL, "metadata key is not UTF-8 text without control characters");
    if (!av__text_ok(value, vl, true))
        return av__fail(AV_EINVAL, "metadata value of '%s' is not UTF-8 text without control "
                                   "characters (tab, LF and CR are allowed)", key);
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

int av__set_meta_number(av_router *r, const char *key, const char *fmt, double v)
{
    char buf[64];
    av__format_c(buf, sizeof buf, fmt, v);
    return av__meta_set(r, key, buf);
}
