/* Small shared helpers: aligned memory, overflow-checked sizes, normalisation, the PRNG. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void *av__aligned_alloc(size_t size)
{
    void *p = NULL;
    if (size == 0)
        size = AV_ALIGN;
    if (posix_memalign(&p, AV_ALIGN, size) != 0)
        return NULL;
    return p;
}

void av__aligned_free(void *p)
{
    free(p);
}

bool av__mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

int av__normalize(float *dst, const float *src, size_t d)
{
    double ss = 0.0;
    for (size_t t = 0; t < d; t++) {
        double v = (double)src[t];
        ss += v * v;
    }
    /* A NaN or Inf anywhere makes ss non-finite; a zero vector makes it 0. */
    if (!(ss > 0.0) || !isfinite(ss))
        return AV_EVECTOR;
    double inv = 1.0 / sqrt(ss);
    for (size_t t = 0; t < d; t++)
        dst[t] = (float)((double)src[t] * inv);
    return AV_OK;
}

char *av__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

AV_API void av_free(void *p)
{
    free(p);
}

/* splitmix64 expands the seed into xoshiro256** state (the generators' authors' recommendation). */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void av__rng_seed(av_rng *g, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        g->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t av__rng_next(av_rng *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double av__rng_uniform(av_rng *g)
{
    return (double)(av__rng_next(g) >> 11) * 0x1.0p-53;
}
