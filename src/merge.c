/* Merging the statistics of routers that share centroids (the reduce step of distributed feedback
   aggregation, docs/SCALING.md). Statistics are sums and counts, so merging is addition. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Check that src can be merged into dst; map[i] receives dst's index of src's model i. */
static int check_compatible(const av_router *dst, const av_router *src, size_t *map)
{
    if (dst->dim != src->dim || dst->k != src->k)
        return av__fail(AV_EMISMATCH, "dim/n_clusters %zu/%zu vs %zu/%zu", dst->dim, dst->k,
                        src->dim, src->k);
    if (dst->members != src->members)
        return av__fail(AV_EMISMATCH, "ensembles of %zu and %zu clusterings", dst->members,
                        src->members);
    if (dst->centroid_type != src->centroid_type)
        return av__fail(AV_EMISMATCH, "centroid storage types differ (%u vs %u)",
                        dst->centroid_type, src->centroid_type);
    char hd[17], hs[17];
    av__centroid_hash(dst, hd);
    av__centroid_hash(src, hs);
    if (strcmp(hd, hs) != 0)
        return av__fail(AV_EMISMATCH, "the centroids differ (hash %s vs %s)", hd, hs);
    const char *ed = av_router_meta(dst, "embedder_id"), *es = av_router_meta(src, "embedder_id");
    if (ed && es && strcmp(ed, es) != 0)
        return av__fail(AV_EMISMATCH, "embedders differ ('%s' vs '%s')", ed, es);
    if (dst->m != src->m)
        return av__fail(AV_EMISMATCH, "%zu models vs %zu", dst->m, src->m);
    for (size_t i = 0; i < src->m; i++) {
        size_t h = 0;
        while (h < dst->m && strcmp(dst->names[h], src->names[i]) != 0)
            h++;
        if (h == dst->m)
            return av__fail(AV_EMISMATCH, "model '%s' is not in the destination", src->names[i]);
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
    /* Snapshot src under its lock, then add under dst's: never both locks at once, so two merges
       in opposite directions cannot deadlock. */
    pthread_mutex_lock(&s->lock);
    size_t m = src->m, km = src->k * m, map[AV_MAX_MODELS];
    int rc = check_compatible(dst, src, map);
    double *snap = rc == AV_OK ? malloc(3 * km * sizeof(double)) : NULL;
    if (rc == AV_OK && !snap)
        rc = av__fail(AV_ENOMEM, "merge snapshot");
    if (rc == AV_OK) {
        memcpy(snap, src->count, km * sizeof(double));
        memcpy(snap + km, src->sum_score, km * sizeof(double));
        memcpy(snap + 2 * km, src->sum_cost, km * sizeof(double));
    }
    pthread_mutex_unlock(&s->lock);
    if (rc)
        return rc;
    pthread_mutex_lock(&dst->lock);
    if (dst->m != m) { /* a model was added to dst meanwhile */
        pthread_mutex_unlock(&dst->lock);
        free(snap);
        return av__fail(AV_EMISMATCH, "the destination's models changed during the merge");
    }
    for (size_t j = 0; j < dst->k; j++)
        for (size_t i = 0; i < m; i++) {
            size_t from = j * m + i, to = j * m + map[i];
            dst->count[to] += snap[from];
            dst->sum_score[to] += snap[km + from];
            dst->sum_cost[to] += snap[2 * km + from];
        }
    /* Global totals are recomputed as sums over clusters (as at load), not incremented, so that
       they do not depend on the order of merges beyond the cluster sums themselves. */
    for (size_t i = 0; i < m; i++) {
        double c = 0, sc = 0, q = 0;
        for (size_t j = 0; j < dst->k; j++) {
            c += dst->count[j * m + i];
            sc += dst->sum_score[j * m + i];
            q += dst->sum_cost[j * m + i];
        }
        dst->g_count[i] = c;
        dst->g_score[i] = sc;
        dst->g_cost[i] = q;
    }
    av__republish_all_locked(dst);
    pthread_mutex_unlock(&dst->lock);
    free(snap);
    return AV_OK;
}
