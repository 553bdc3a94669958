/* Small shared helpers: overflow-checked sizes, normalisation, text checks, the PRNG (aligned memory
   and C-locale numbers, which differ by platform, are in platform.c). */
#include "base/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Strict UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF). Control characters
   (C0, DEL, C1) are refused, except tab, line feed and carriage return where allow_space is set:
   names end up in terminals, JSON and log lines, where a control byte is an escape sequence. */
bool av__text_ok(const char *s, size_t n, bool allow_space)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            bool space = c == '\t' || c == '\n' || c == '\r';
            if ((c < 0x20 && !(allow_space && space)) || c == 0x7F)
                return false;
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, cp = c & 0x1Fu, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, cp = c & 0x0Fu, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, cp = c & 0x07u, min = 0x10000;
        else
            return false; /* a continuation byte, an overlong lead (C0, C1) or beyond U+10FFFF */
        if (n - i < len)
            return false;
        for (size_t t = 1; t < len; t++) {
            if ((p[i + t] & 0xC0u) != 0x80u)
                return false;
            cp = (cp << 6) | (p[i + t] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu) ||
            (cp >= 0x80u && cp <= 0x9Fu))
            return false;
        i += len;
    }
    return true;
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
