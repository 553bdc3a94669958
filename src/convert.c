/* Centroid storage: encoding float32 centroids as float16 or int8 with a per-row scale, and
   av_router_convert (a copy of a router with its centroids re-encoded). docs/PERFORMANCE.md has the
   accuracy figures. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AV_INT8_MAX 127.0f
/* The largest finite float16 (a larger value would be stored as infinity). */
#define AV_F16_MAX 65504.0f

static const char *type_name(uint32_t t)
{
    return t == AV_CENTROIDS_F32 ? "f32" : t == AV_CENTROIDS_F16 ? "f16" : "int8";
}

void av__router_int8_derive(av_router *r)
{
    size_t d = r->dim;
    /* The kernels negate stored values (sign_epi8), which -128 does not survive: a file's -128
       (never written by this library) is read as -127. */
    for (size_t t = 0; t < r->k * d; t++)
        if (r->centroids_i8[t] == INT8_MIN)
            r->centroids_i8[t] = -INT8_MAX;
}

/* int8: each dimension is first divided by its largest |value| over the clusters (a per-dimension
   scale: embeddings such as SVD projections have dimensions of very different spread, and one scale
   per row would quantise the small ones coarsely), then each row by max/127, so every stored value
   lies in [-127, 127]. A value decodes as i8 * row scale * dimension scale. */
static void encode_int8(av_router *r, const float *C)
{
    size_t k = r->k, d = r->dim;
    for (size_t t = 0; t < d; t++) {
        float amax = 0.0f;
        for (size_t j = 0; j < k; j++)
            amax = fmaxf(amax, fabsf(C[j * d + t]));
        r->centroid_colscale[t] = amax > 0.0f ? amax : 1.0f;
    }
    for (size_t j = 0; j < k; j++) {
        float amax = 0.0f;
        for (size_t t = 0; t < d; t++)
            amax = fmaxf(amax, fabsf(C[j * d + t] / r->centroid_colscale[t]));
        float s = amax / AV_INT8_MAX;
        r->centroid_scale[j] = s;
        for (size_t t = 0; t < d; t++)
            r->centroids_i8[j * d + t] =
                s > 0.0f ? (int8_t)lrintf(C[j * d + t] / r->centroid_colscale[t] / s) : 0;
    }
}

void av__centroid_hash(const av_router *r, char out[17])
{
    /* FNV-1a 64 over the shape, the storage type and the stored centroid bytes in little-endian
       order (what the file holds), so equal files give equal hashes on every machine. */
    const uint64_t prime = 0x100000001B3ull;
    uint64_t h = 0xCBF29CE484222325ull;
    uint64_t hdr[3] = {r->dim, r->k, r->centroid_type};
    for (int w = 0; w < 3; w++)
        for (int b = 0; b < 8; b++) {
            h ^= (hdr[w] >> (8 * b)) & 0xFFu;
            h *= prime;
        }
    for (int b = 0; r->members > 1 && b < 8; b++) { /* ensembles only: older hashes stay valid */
        h ^= ((uint64_t)r->members >> (8 * b)) & 0xFFu;
        h *= prime;
    }
    size_t n = r->k * r->dim;
    for (size_t t = 0; t < n; t++) {
        uint32_t u;
        int nb;
        switch (r->centroid_type) {
        case AV_CENTROIDS_F32:
            memcpy(&u, &r->centroids[t], 4);
            nb = 4;
            break;
        case AV_CENTROIDS_F16:
            u = r->centroids_f16[t];
            nb = 2;
            break;
        default:
            u = (uint8_t)r->centroids_i8[t];
            nb = 1;
            break;
        }
        for (int b = 0; b < nb; b++) {
            h ^= (u >> (8 * b)) & 0xFFu;
            h *= prime;
        }
    }
    if (r->centroid_type == AV_CENTROIDS_INT8)
        for (size_t j = 0; j < r->k; j++) {
            uint32_t u;
            memcpy(&u, &r->centroid_scale[j], 4);
            for (int b = 0; b < 4; b++) {
                h ^= (u >> (8 * b)) & 0xFFu;
                h *= prime;
            }
        }
    if (r->centroid_type == AV_CENTROIDS_INT8) /* per-dimension scales (speed, format 1.1) */
        for (size_t t = 0; t < r->dim; t++) {
            uint32_t u;
            memcpy(&u, &r->centroid_colscale[t], 4);
            for (int b = 0; b < 4; b++) {
                h ^= (u >> (8 * b)) & 0xFFu;
                h *= prime;
            }
        }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

AV_API const char *av_router_centroid_hash(const av_router *r)
{
    return r ? r->centroid_hash : NULL;
}

/* Fill the router's centroid storage (of its type) from float32 centroids. */
int av__router_set_centroids(av_router *r, const float *C)
{
    size_t k = r->k, d = r->dim;
    switch (r->centroid_type) {
    case AV_CENTROIDS_F32:
        memcpy(r->centroids, C, k * d * sizeof(float));
        break;
    case AV_CENTROIDS_F16:
        for (size_t t = 0; t < k * d; t++)
            if (!(fabsf(C[t]) <= AV_F16_MAX))
                return av__fail(AV_ERANGE, "centroid %zu has the value %g at %zu, beyond float16's "
                                           "range (+-%g)", t / d, (double)C[t], t % d,
                                (double)AV_F16_MAX);
        for (size_t t = 0; t < k * d; t++)
            r->centroids_f16[t] = av__f32_to_f16(C[t]);
        break;
    default:
        encode_int8(r, C);
        break;
    }
    return AV_OK;
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
    return (int)r->centroid_type;
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
    if (!allowed(r->centroid_type, (uint32_t)type))
        return av__fail(AV_ENOTSUP,
                        "cannot convert %s centroids to %s: re-quantising already rounded values "
                        "compounds the error; convert the float32 router instead",
                        type_name(r->centroid_type), type_name((uint32_t)type));
    /* The float values to encode: the source's own values (exact for f32 and f16; int8 decodes
       to value * row scale, what its similarities use). */
    size_t k = r->k, d = r->dim;
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
        rc = av_router_set_meta(n, "converted_from", type_name(r->centroid_type));
    if (rc == AV_OK) /* the stored centroids changed: so does their hash */
        av__centroid_hash(n, n->centroid_hash);
    if (rc != AV_OK) {
        av_router_free(n);
        return rc;
    }
    *out = n;
    return AV_OK;
}
