/* The index layer: centroid storage (float32, float16 or int8 with row and dimension scales), its
   hash, and the nearest-cluster search with the SIMD kernels. Depends on kernels and base; it
   knows nothing of models, statistics or the rule. */
#ifndef AV_INDEX_H
#define AV_INDEX_H

#include "kernels/kernels.h"

#include <stdatomic.h>

/* k clusters of dimension dim, as `members` independent clusterings of k / members clusters each
   (member b owns clusters [b*k/members, (b+1)*k/members); 1 = the paper's single clustering). */
typedef struct av_index {
    size_t dim, k, members;
    uint32_t centroid_type; /* av_centroid_type */
    /* Exactly one storage is in use, per centroid_type, 64-byte aligned. */
    float *centroids;        /* k x dim */
    uint16_t *centroids_f16; /* k x dim */
    int8_t *centroids_i8;    /* k x dim */
    float *centroid_scale;   /* k, for int8 */
    /* int8 only. Per-dimension scales (file format 1.1; all 1 for a 1.0 file): a value decodes as
       i8 * centroid_scale[j] * centroid_colscale[t]. */
    float *centroid_colscale; /* dim */
    /* av__index_hash of the storage, kept by the owner once hash_ready (stored with release order
       after the string): a loaded router's is computed on its first request
       (av_router_centroid_hash, under the router's lock), since nothing else reads it and hashing
       the values would be most of a load's work */
    char centroid_hash[17];
    atomic_bool hash_ready;
    const av_kernels *kern;
    /* The values array (centroids, centroids_f16 or centroids_i8; the scales are always owned)
       points into memory the index does not own: a read-only file mapping (av_router_load_mapped),
       which is map, map_len bytes and unmapped by av__index_free once set. */
    bool borrowed;
    void *map;
    size_t map_len;
} av_index;

/* Storage for k x dim centroids of the given type (validated by the caller), and its release
   (a borrowed values array is not freed; a mapping is unmapped). */
AV_HIDDEN int av__index_alloc(av_index *ix, size_t dim, size_t k, uint32_t centroid_type);
AV_HIDDEN void av__index_free(av_index *ix);
/* AV_OK when p is a valid top_p: 1..k/members, and members * p <= AV_MAX_TOP_P. */
AV_HIDDEN int av__check_top_p(size_t k, size_t members, size_t p);
/* Fill the storage (of its type) from float32 centroids C (k x dim); AV_ERANGE for a value beyond
   float16's range. */
AV_HIDDEN int av__index_set_centroids(av_index *ix, const float *C);
/* int8, after loading: map a stored -128 to -127 (the kernels negate stored values). */
AV_HIDDEN void av__index_int8_derive(av_index *ix);
/* Centroid j decoded to float32 (dim values). */
AV_HIDDEN void av__index_centroid(const av_index *ix, size_t j, float *out);
/* 16 hex digits (+ NUL) of the XXH64 hash of the storage, its type and shape (docs/FORMAT.md). */
AV_HIDDEN void av__index_hash(const av_index *ix, char out[17]);

/* The values array in use (centroids, centroids_f16 or centroids_i8, per centroid_type). */
static inline const void *av__index_values(const av_index *ix)
{
    switch (ix->centroid_type) {
    case AV_CENTROIDS_F32:
        return ix->centroids;
    case AV_CENTROIDS_F16:
        return ix->centroids_f16;
    default:
        return ix->centroids_i8;
    }
}

/* How many clusters a query with top_p p uses: p in every member. */
static inline size_t av__n_sel(const av_index *ix, size_t p)
{
    return ix->members * p;
}
/* Validate the query q (raw, length dim: AV_EVECTOR for zero, NaN, Inf) and find its p most
   similar clusters in each member: members * p entries, member by member, each member's most
   similar first (ties: lower index). tsim (may be NULL) receives their similarities to the
   normalised query. */
AV_HIDDEN int av__index_nearest(const av_index *ix, const float *q, size_t p, uint32_t *tidx,
                                float *tsim);
/* Similarities of the normalised query to every centroid (length k), with the index's kernel
   (NaN for every cluster when the query is invalid). */
AV_HIDDEN void av__index_sims(const av_index *ix, const float *qn, float *sims);
/* Top-p selection: the p indices with the largest sims (ties: lower index), most similar first. */
AV_HIDDEN void av__top_p(const float *sims, size_t k, size_t p, uint32_t *idx);

/* Blocks of queries for batched routing: at most AV_BATCH_Q rows. A block is plain when the index
   is float32 and every row is valid and of ordinary magnitude; the nearest clusters of a plain
   block (tidx[i] for row i) come from the multi-query kernel, bit for bit what av__index_nearest
   gives for each row. */
#define AV_BATCH_Q 8u
AV_HIDDEN bool av__index_block_plain(const av_index *ix, const float *rows, size_t stride,
                                     size_t nb);
AV_HIDDEN void av__index_nearest_block(const av_index *ix, const float *rows, size_t stride,
                                       size_t nb, size_t p, uint32_t tidx[][AV_MAX_TOP_P]);

#endif
