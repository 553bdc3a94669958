/* XXH64 (Yann Collet's xxHash, 64-bit variant, as specified in the xxHash repository's
   doc/xxhash_spec.md), streaming: the centroid hash (src/index/centroids.c) feeds it the shape and
   the storage in pieces. Eight bytes per step, words read little-endian, so every machine gives
   the same value for the same bytes. */
#include "base/base.h"

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t round64(uint64_t acc, uint64_t in)
{
    return rotl(acc + in * P2, 31) * P1;
}

static inline uint64_t merge64(uint64_t h, uint64_t v)
{
    return (h ^ round64(0, v)) * P1 + P4;
}

void av__xxh64_init(av_xxh64 *s, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->v[0] = seed + P1 + P2;
    s->v[1] = seed + P2;
    s->v[2] = seed;
    s->v[3] = seed - P1;
}

/* Whole 32-byte stripes of p: returns the bytes consumed (a multiple of 32). */
static size_t stripes(uint64_t v[4], const unsigned char *p, size_t n)
{
    uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = round64(a, av__get64(p + i));
        b = round64(b, av__get64(p + i + 8));
        c = round64(c, av__get64(p + i + 16));
        d = round64(d, av__get64(p + i + 24));
    }
    v[0] = a, v[1] = b, v[2] = c, v[3] = d;
    return i;
}

void av__xxh64_update(av_xxh64 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->total += n;
    if (s->fill) { /* complete the buffered stripe first */
        size_t take = 32 - s->fill < n ? 32 - s->fill : n;
        memcpy(s->buf + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 32)
            return;
        stripes(s->v, s->buf, 32);
        s->fill = 0;
    }
    size_t used = stripes(s->v, p, n);
    memcpy(s->buf, p + used, n - used);
    s->fill = n - used;
}

uint64_t av__xxh64_final(const av_xxh64 *s)
{
    uint64_t h;
    if (s->total >= 32) {
        const uint64_t *v = s->v;
        h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
        for (int i = 0; i < 4; i++)
            h = merge64(h, v[i]);
    } else {
        h = s->v[2] + P5; /* v[2] is the seed */
    }
    h += s->total;
    const unsigned char *p = s->buf;
    size_t n = s->fill, i = 0;
    for (; i + 8 <= n; i += 8)
        h = rotl(h ^ round64(0, av__get64(p + i)), 27) * P1 + P4;
    if (i + 4 <= n) {
        h = rotl(h ^ ((uint64_t)av__get32(p + i) * P1), 23) * P2 + P3;
        i += 4;
    }
    for (; i < n; i++)
        h = rotl(h ^ (p[i] * P5), 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}
