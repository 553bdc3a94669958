/* Merging the statistics of routers that share centroids (the reduce step of distributed feedback
   aggregation, docs/SCALING.md). Statistics are sums and counts, so merging is addition. */
#include "router/router.h"

#include <stdlib.h>
#include <string.h>

/* Check that src can be merged into dst; map[i] receives dst's index of src's model i. The caller
   holds dst's lock (its model set can grow under av_router_add_model otherwise); src's statistics
   and names were copied under src's. */
static int check_compatible(const av_router *dst, const av_router *src, size_t m,
                            char *const *src_names, size_t *map)
{
    if (dst->ix.dim != src->ix.dim || dst->ix.k != src->ix.k)
        return av__fail(AV_EMISMATCH, "dim/n_clusters %zu/%zu vs %zu/%zu", dst->ix.dim, dst->ix.k,
                        src->ix.dim, src->ix.k);
    if (dst->ix.members != src->ix.members)
        return av__fail(AV_EMISMATCH, "ensembles of %zu and %zu clusterings", dst->ix.members,
                        src->ix.members);
    if (dst->ix.centroid_type != src->ix.centroid_type)
        return av__fail(AV_EMISMATCH, "centroid storage types differ (%u vs %u)",
                        dst->ix.centroid_type, src->ix.centroid_type);
    char hd[17], hs[17];
    av__index_hash(&dst->ix, hd);
    av__index_hash(&src->ix, hs);
    if (strcmp(hd, hs) != 0)
        return av__fail(AV_EMISMATCH, "the centroids differ (hash %s vs %s)", hd, hs);
    const char *ed = av_router_meta(dst, "embedder_id"), *es = av_router_meta(src, "embedder_id");
    if (ed && es && strcmp(ed, es) != 0)
        return av__fail(AV_EMISMATCH, "embedders differ ('%s' vs '%s')", ed, es);
    if (dst->st.m != m)
        return av__fail(AV_EMISMATCH, "%zu models vs %zu", dst->st.m, m);
    for (size_t i = 0; i < m; i++) {
        size_t h = 0;
        while (h < dst->st.m && strcmp(dst->names[h], src_names[i]) != 0)
            h++;
        if (h == dst->st.m)
            return av__fail(AV_EMISMATCH, "model '%s' is not in the destination", src_names[i]);
        map[i] = h;
    }
    return AV_OK;
}

AV_API int av_profile_merge(av_router *dst, const av_router *src)
{
    if (!dst || !src)
        return av__fail(AV_EINVAL, "router is NULL");
    if (dst == src)
        return av__fail(AV_EINVAL, "a router cannot be merged into itself");
    av_router *s = (av_router *)src; /* its lock is the only mutable part */
    /* Snapshot src under its lock, then check and add under dst's: never both locks at once, so
       two merges in opposite directions cannot deadlock. src's names are retired, never freed,
       before src itself, so the array read under its lock stays valid. */
    av__mutex_lock(&s->lock);
    size_t m = src->st.m, km = src->ix.k * m, map[AV_MAX_MODELS];
    char *const *src_names = src->names;
    double *snap = malloc(3 * km * sizeof(double)), src_q[AV_MAX_MODELS];
    if (snap) {
        memcpy(snap, src->st.count, km * sizeof(double));
        memcpy(snap + km, src->st.sum_score, km * sizeof(double));
        memcpy(snap + 2 * km, src->st.sum_cost, km * sizeof(double));
    }
    for (size_t i = 0; i < m; i++) /* the basis of src's costs, per model */
        src_q[i] = av__price_per_query_locked(src, i);
    av__mutex_unlock(&s->lock);
    if (!snap)
        return av__fail(AV_ENOMEM, "merge snapshot");
    av__mutex_lock(&dst->lock);
    int rc = check_compatible(dst, src, m, src_names, map);
    /* A model with a price in dst: src's costs are brought to that price first, as
       av_router_set_price(src, model, dst's price) would rescale them (by dst's cost per query
       over src's; a model without any cost in src gets dst's price per outcome). Identical
       prices give the factor 1 exactly. A model without a price in dst: src's costs as they are. */
    double f[AV_MAX_MODELS], per_outcome[AV_MAX_MODELS];
    for (size_t i = 0; i < m && rc == AV_OK; i++) {
        f[i] = 1.0;
        per_outcome[i] = -1.0;
        if (av__price_of(dst, map[i])) {
            double q = av__price_per_query_locked(dst, map[i]);
            if (src_q[i] > 0.0)
                f[i] = q / src_q[i];
            else
                per_outcome[i] = q;
        }
    }
    /* The sums go into the snapshot first (in dst's model order) and are checked against the
       statistics limits, so that a merge that would overflow them changes nothing. */
    for (size_t j = 0; j < dst->ix.k && rc == AV_OK; j++) {
        double tmp[3 * AV_MAX_MODELS];
        for (size_t i = 0; i < m; i++) {
            size_t from = j * m + i, to = j * m + map[i];
            double add_q = per_outcome[i] >= 0.0 ? snap[from] * per_outcome[i]
                                                 : snap[2 * km + from] * f[i];
            double c = dst->st.count[to] + snap[from], sc = dst->st.sum_score[to] + snap[km + from],
                   q = dst->st.sum_cost[to] + add_q;
            if (!av__stat_ok(c, sc, q, AV_STAT_MAX_MEAN))
                rc = av__fail(AV_ELIMIT, "merged statistics of cluster %zu, model '%s' exceed the "
                                         "limits (count=%g, sum_score=%g, sum_cost=%g)",
                              j, dst->names[map[i]], c, sc, q);
            tmp[3 * map[i]] = c;
            tmp[3 * map[i] + 1] = sc;
            tmp[3 * map[i] + 2] = q;
        }
        for (size_t h = 0; h < m; h++) {
            snap[j * m + h] = tmp[3 * h];
            snap[km + j * m + h] = tmp[3 * h + 1];
            snap[2 * km + j * m + h] = tmp[3 * h + 2];
        }
    }
    if (rc != AV_OK) {
        av__mutex_unlock(&dst->lock);
        free(snap);
        return rc;
    }
    memcpy(dst->st.count, snap, km * sizeof(double));
    memcpy(dst->st.sum_score, snap + km, km * sizeof(double));
    memcpy(dst->st.sum_cost, snap + 2 * km, km * sizeof(double));
    /* Global totals are recomputed as sums over clusters (as at load), not incremented, so that
       they do not depend on the order of merges beyond the cluster sums themselves. */
    for (size_t i = 0; i < m; i++)
        av__stats_totals_locked(&dst->st, i);
    av__stats_republish_locked(&dst->st, dst->est.kappa);
    av__mutex_unlock(&dst->lock);
    free(snap);
    return AV_OK;
}
