/* Centroid storage: allocation, encoding float32 centroids as float16 or int8 with row and
   dimension scales, decoding, and the storage's hash. docs/PERFORMANCE.md has the accuracy
   figures. */
#include "index/index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AV_INT8_MAX 127.0f
/* The largest finite float16 (a larger value would be stored as infinity). */
#define AV_F16_MAX 65504.0f

int av__index_alloc(av_index *ix, size_t dim, size_t k, uint32_t centroid_type)
{
    size_t kd = k * dim; /* bounded by the router limits: cannot overflow */
    memset(ix, 0, sizeof *ix);
    ix->dim = dim;
    ix->k = k;
    ix->members = 1;
    ix->centroid_type = centroid_type;
    ix->kern = av__kernels();
    bool ok;
    switch (centroid_type) {
    case AV_CENTROIDS_F32:
        ok = (ix->centroids = av__aligned_alloc(kd * sizeof(float))) != NULL;
        break;
    case AV_CENTROIDS_F16:
        ok = (ix->centroids_f16 = av__aligned_alloc(kd * sizeof(uint16_t))) != NULL;
        break;
    default:
        ok = (ix->centroids_i8 = av__aligned_alloc(kd)) != NULL &&
             (ix->centroid_scale = av__aligned_alloc(k * sizeof(float))) != NULL &&
             (ix->centroid_colscale = av__aligned_alloc(dim * sizeof(float))) != NULL;
        break;
    }
    if (!ok) {
        av__index_free(ix);
        return AV_ENOMEM;
    }
    return AV_OK;
}

void av__index_free(av_index *ix)
{
    if (!ix->borrowed) {
        av__aligned_free(ix->centroids);
        av__aligned_free(ix->centroids_f16);
        av__aligned_free(ix->centroids_i8);
    }
    av__unmap(ix->map, ix->map_len);
    ix->borrowed = false;
    ix->map = NULL;
    av__aligned_free(ix->centroid_scale);
    av__aligned_free(ix->centroid_colscale);
    ix->centroids = NULL;
    ix->centroids_f16 = NULL;
    ix->centroids_i8 = NULL;
    ix->centroid_scale = ix->centroid_colscale = NULL;
}

int av__check_top_p(size_t k, size_t members, size_t p)
{
    size_t kb = members ? k / members : 0;
    if (p == 0 || p > kb || members * p > AV_MAX_TOP_P) {
        if (members > 1)
            return av__fail(AV_EINVAL, "top_p=%zu must be in 1..min(clusters per member=%zu, "
                                       "%u / members=%zu)", p, kb, AV_MAX_TOP_P, members);
        return av__fail(AV_EINVAL, "top_p=%zu must be in 1..min(n_clusters=%zu, %u)", p, k,
                        AV_MAX_TOP_P);
    }
    return AV_OK;
}

void av__index_centroid(const av_index *ix, size_t j, float *out)
{
    size_t d = ix->dim, base = j * d;
    switch (ix->centroid_type) {
    case AV_CENTROIDS_F32:
        memcpy(out, ix->centroids + base, d * sizeof(float));
        break;
    case AV_CENTROIDS_F16:
        for (size_t t = 0; t < d; t++)
            out[t] = av__f16_to_f32(ix->centroids_f16[base + t]);
        break;
    default:
        for (size_t t = 0; t < d; t++)
            out[t] = (float)ix->centroids_i8[base + t] * ix->centroid_scale[j] *
                     ix->centroid_colscale[t];
        break;
    }
}

void av__index_int8_derive(av_index *ix)
{
    size_t d = ix->dim;
    /* The kernels negate stored values (sign_epi8), which -128 does not survive: a file's -128
       (never written by this library) is read as -127. */
    for (size_t t = 0; t < ix->k * d; t++)
        if (ix->centroids_i8[t] == INT8_MIN)
            ix->centroids_i8[t] = -INT8_MAX;
}

/* int8: each dimension is first divided by its largest |value| over the clusters (a per-dimension
   scale: embeddings such as SVD projections have dimensions of very different spread, and one scale
   per row would quantise the small ones coarsely), then each row by max/127, so every stored value
   lies in [-127, 127]. A value decodes as i8 * row scale * dimension scale. */
static void encode_int8(av_index *ix, const float *C)
{
    size_t k = ix->k, d = ix->dim;
    for (size_t t = 0; t < d; t++) {
        float amax = 0.0f;
        for (size_t j = 0; j < k; j++)
            amax = fmaxf(amax, fabsf(C[j * d + t]));
        ix->centroid_colscale[t] = amax > 0.0f ? amax : 1.0f;
    }
    for (size_t j = 0; j < k; j++) {
        float amax = 0.0f;
        for (size_t t = 0; t < d; t++)
            amax = fmaxf(amax, fabsf(C[j * d + t] / ix->centroid_colscale[t]));
        float s = amax / AV_INT8_MAX;
        ix->centroid_scale[j] = s;
        for (size_t t = 0; t < d; t++)
            ix->centroids_i8[j * d + t] =
                s > 0.0f ? (int8_t)lrintf(C[j * d + t] / ix->centroid_colscale[t] / s) : 0;
    }
}

/* n values of `width` bytes (2 or 4) from host-order storage, fed as their little-endian bytes:
   the array itself on a little-endian machine, converted in small blocks elsewhere. */
static void hash_le(av_xxh64 *s, const void *a, size_t n, size_t width)
{
    if (width == 1 || av__host_le()) {
        av__xxh64_update(s, a, n * width);
        return;
    }
    unsigned char blk[4096];
    const unsigned char *p = a;
    while (n > 0) {
        size_t c = n < sizeof blk / width ? n : sizeof blk / width;
        for (size_t t = 0; t < c; t++) {
            if (width == 2) {
                uint16_t h;
                memcpy(&h, p + 2 * t, 2);
                av__put16(blk + 2 * t, h);
            } else {
                uint32_t u;
                memcpy(&u, p + 4 * t, 4);
                av__put32(blk + 4 * t, u);
            }
        }
        av__xxh64_update(s, blk, c * width);
        p += c * width;
        n -= c;
    }
}

/* XXH64 (seed 0) of the same bytes FNV-1a 64 hashed up to 1.1 (docs/FORMAT.md, "The centroid
   hash"): dim, k, the storage type and, for an ensemble, the member count as u64 little-endian;
   the stored centroid values little-endian (what the file holds); for int8 the row scales, then
   the per-dimension scales. Equal storage gives equal hashes on every machine. */
static void hash_begin(av_xxh64 *s, size_t dim, size_t k, uint32_t type, size_t members)
{
    unsigned char hdr[32];
    av__put64(hdr, dim);
    av__put64(hdr + 8, k);
    av__put64(hdr + 16, type);
    av__put64(hdr + 24, members);
    av__xxh64_init(s, 0);
    av__xxh64_update(s, hdr, members > 1 ? 32 : 24); /* ensembles only, as before */
}

static void hash_end(const av_index *ix, const av_xxh64 *values, char out[17])
{
    av_xxh64 s = *values;
    if (ix->centroid_type == AV_CENTROIDS_INT8) {
        hash_le(&s, ix->centroid_scale, ix->k, 4);
        hash_le(&s, ix->centroid_colscale, ix->dim, 4);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)av__xxh64_final(&s));
}

void av__index_hash(const av_index *ix, char out[17])
{
    av_xxh64 s;
    hash_begin(&s, ix->dim, ix->k, ix->centroid_type, ix->members);
    size_t n = ix->k * ix->dim;
    switch (ix->centroid_type) {
    case AV_CENTROIDS_F32:
        hash_le(&s, ix->centroids, n, 4);
        break;
    case AV_CENTROIDS_F16:
        hash_le(&s, ix->centroids_f16, n, 2);
        break;
    default:
        hash_le(&s, ix->centroids_i8, n, 1);
        break;
    }
    hash_end(ix, &s, out);
}

int av__index_set_centroids(av_index *ix, const float *C)
{
    size_t k = ix->k, d = ix->dim;
    switch (ix->centroid_type) {
    case AV_CENTROIDS_F32:
        memcpy(ix->centroids, C, k * d * sizeof(float));
        break;
    case AV_CENTROIDS_F16:
        for (size_t t = 0; t < k * d; t++)
            if (!(fabsf(C[t]) <= AV_F16_MAX))
                return av__fail(AV_ERANGE, "centroid %zu has the value %g at %zu, beyond float16's "
                                           "range (+-%g)", t / d, (double)C[t], t % d,
                                (double)AV_F16_MAX);
        for (size_t t = 0; t < k * d; t++)
            ix->centroids_f16[t] = av__f32_to_f16(C[t]);
        break;
    default:
        encode_int8(ix, C);
        break;
    }
    return AV_OK;
}

