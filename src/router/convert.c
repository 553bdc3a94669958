/* Centroid storage conversion: av_router_convert (a copy of a router with its centroids
   re-encoded), the storage type and the centroid hash. */
#include "router/router.h"

#include <stdio.h>
#include <stdlib.h>

static const char *type_name(uint32_t t)
{
    return t == AV_CENTROIDS_F32 ? "f32" : t == AV_CENTROIDS_F16 ? "f16" : "int8";
}

AV_API const char *av_router_centroid_hash(const av_router *r)
{
    if (!r)
        return NULL;
    av_router *w = (av_router *)r; /* the lock and the hash computed once are the mutable parts */
    if (!atomic_load_explicit(&w->ix.hash_ready, memory_order_acquire)) {
        av__mutex_lock(&w->lock); /* a loaded router: hashed on the first request, once */
        if (!atomic_load_explicit(&w->ix.hash_ready, memory_order_relaxed)) {
            av__index_hash(&w->ix, w->ix.centroid_hash);
            atomic_store_explicit(&w->ix.hash_ready, true, memory_order_release);
        }
        av__mutex_unlock(&w->lock);
    }
    return r->ix.centroid_hash;
}

/* Conversions allowed from each type: to itself and to anything wider. f16 and int8 are not
   converted into each other: re-quantising values that were already rounded compounds two
   roundings; convert from the float32 router instead. */
static bool allowed(uint32_t from, uint32_t to)
{
    return from == to || to == AV_CENTROIDS_F32 || from == AV_CENTROIDS_F32;
}

AV_API int av_router_centroid_type(const av_router *r)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    return (int)r->ix.centroid_type;
}

AV_API int av_router_convert(av_router **out, const av_router *r, av_centroid_type type)
{
    if (!out)
        return av__fail(AV_EINVAL, "out is NULL");
    *out = NULL;
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    if ((unsigned)type > AV_CENTROIDS_INT8)
        return av__fail(AV_EINVAL, "unknown centroid type %u", (unsigned)type);
    if (!allowed(r->ix.centroid_type, (uint32_t)type))
        return av__fail(AV_ENOTSUP,
                        "cannot convert %s centroids to %s: re-quantising already rounded values "
                        "compounds the error; convert the float32 router instead",
                        type_name(r->ix.centroid_type), type_name((uint32_t)type));
    /* The float values to encode: the source's own values (exact for f32 and f16; int8 decodes
       to value * row scale, what its similarities use). */
    size_t k = r->ix.k, d = r->ix.dim;
    float *C = av__aligned_alloc(k * d * sizeof(float));
    if (!C)
        return av__fail(AV_ENOMEM, "%zu x %zu centroids", k, d);
    for (size_t j = 0; j < k; j++)
        (void)av_router_get_centroid(r, j, C + j * d, d);
    /* Everything else (models, statistics, top_p, members, metadata, settings) is copied, in one
       snapshot of the router (av__router_clone), and the centroids are stored anew. */
    av_router *n = NULL;
    int rc = av__router_clone(&n, r, (uint32_t)type, C);
    av__aligned_free(C);
    if (rc == AV_OK && (uint32_t)type != AV_CENTROIDS_F32 && !av_router_meta(n, "converted_from"))
        rc = av_router_set_meta(n, "converted_from", type_name(r->ix.centroid_type));
    if (rc != AV_OK) {
        av_router_free(n);
        return rc;
    }
    *out = n;
    return AV_OK;
}
