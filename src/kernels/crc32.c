/* CRC-32 of zlib's crc32 (the reflected polynomial 0xEDB88320), the same value bit for bit:
   zlib's own function (the scalar backend and every short piece), and on x86 a carry-less
   multiplication version with PCLMULQDQ (SSE4.1) and one with VPCLMULQDQ on 512-bit vectors
   (AVX-512), which the x86 backends' tables name.

   The method is that of Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
   Instruction" (Intel white paper, 2009), in its bit-reflected form. The message is a polynomial
   over GF(2); its CRC is the remainder of a division by P(x). Instead of dividing as it goes, the
   loop keeps a few 128-bit lanes of running remainder and "folds" each over the next stretch of
   message: a lane that lies D bits before the bytes it is added to is replaced by its low half
   times x^(D+32) mod P and its high half times x^(D-32) mod P (two carry-less 64 x 33-bit
   products), which leaves the CRC unchanged. At the end the lanes are folded into one, that lane
   to 64 and then 32 bits (x^96 and x^64 mod P), and Barrett's reduction (mu = floor(x^64 / P))
   gives the remainder. Each constant below is x^n mod P written as tools/crc32_constants.py prints
   it: reversed over 32 bits and shifted left once (the reflected product of two 33-bit values is
   one bit short), mu and P reversed over 33 bits. The running CRC is zlib's (the complement of
   the remainder state), so calls chain: crc(crc(0, a), b) is the CRC of a then b. Loads are
   unaligned; pieces shorter than a fold step are handed to zlib. */
#include "kernels/kernels.h"

#include <limits.h>
#include <zlib.h>

uint32_t av__crc32_scalar(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    uLong z = crc;
    while (n > 0) { /* zlib takes uInt lengths */
        uInt chunk = n > UINT_MAX ? UINT_MAX : (uInt)n;
        z = crc32(z, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)z;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AV_TARGET_CLMUL __attribute__((target("pclmul,sse4.1")))
#define AV_TARGET_VCLMUL __attribute__((target("avx512f,avx512bw,avx512vl,vpclmulqdq,pclmul,sse4.1")))
#define AV_INLINE static inline __attribute__((always_inline))

/* x^n mod P (tools/crc32_constants.py), by the fold distance D they serve: low half x^(D+32),
   high half x^(D-32). */
#define K_544 0x154442bd4ull  /* D = 512: four 128-bit lanes, 64 bytes per step */
#define K_480 0x1c6e41596ull
#define K_160 0x1751997d0ull  /* D = 128: one lane, 16 bytes */
#define K_96 0x0ccaa009eull   /* also the 128 -> 64-bit step */
#define K_2080 0x11542778aull /* D = 2048: four 512-bit vectors, 256 bytes */
#define K_2016 0x1322d1430ull
#define K_416 0x03db1ecdcull /* D = 384 and 256: a 512-bit vector's lanes 0 and 1 onto lane 3 */
#define K_352 0x174359406ull
#define K_288 0x0f1da05aaull
#define K_224 0x15a546366ull
#define K_64 0x163cd6124ull   /* the 64 -> 32-bit step */
#define K_MU 0x1f7011641ull   /* Barrett: floor(x^64 / P) */
#define K_POLY 0x1db710641ull /* P */

AV_TARGET_CLMUL AV_INLINE __m128i pair(uint64_t lo, uint64_t hi)
{
    return _mm_set_epi32((int)(uint32_t)(hi >> 32), (int)(uint32_t)hi, (int)(uint32_t)(lo >> 32),
                         (int)(uint32_t)lo);
}

/* x folded over D bits (k = pair(x^(D+32), x^(D-32))), plus the lane y it lands on. */
AV_TARGET_CLMUL AV_INLINE __m128i fold(__m128i x, __m128i k, __m128i y)
{
    __m128i a = _mm_clmulepi64_si128(x, k, 0x00), b = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(a, b), y);
}

/* One 128-bit lane of running remainder x, followed by n more bytes at p: the zlib CRC. */
AV_TARGET_CLMUL AV_INLINE uint32_t finish(__m128i x, const unsigned char *p, size_t n)
{
    const __m128i k128 = pair(K_160, K_96);
    for (; n >= 16; n -= 16, p += 16)
        x = fold(x, k128, _mm_loadu_si128((const __m128i *)(const void *)p));
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    /* 128 -> 64 bits: the low half times x^96, plus the high half */
    x = _mm_xor_si128(_mm_clmulepi64_si128(x, k128, 0x10), _mm_srli_si128(x, 8));
    /* 64 -> 32 bits: the low word times x^64, plus the rest */
    x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, mask32), pair(K_64, 0), 0x00),
                      _mm_srli_si128(x, 4));
    /* Barrett: q = (low word * mu) mod x^32, remainder = x + q * P, in the second word */
    const __m128i bar = pair(K_POLY, K_MU);
    __m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x, mask32), bar, 0x10), mask32);
    x = _mm_xor_si128(x, _mm_clmulepi64_si128(q, bar, 0x00));
    uint32_t crc = ~(uint32_t)_mm_extract_epi32(x, 1);
    return n ? av__crc32_scalar(crc, p, n) : crc;
}

/* PCLMULQDQ: four lanes over 64 bytes per step. */
AV_TARGET_CLMUL static uint32_t crc32_clmul(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (n < 64)
        return av__crc32_scalar(crc, p, n);
    const __m128i *v = (const __m128i *)(const void *)p;
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128(v), _mm_cvtsi32_si128((int)~crc));
    __m128i x1 = _mm_loadu_si128(v + 1), x2 = _mm_loadu_si128(v + 2), x3 = _mm_loadu_si128(v + 3);
    p += 64;
    n -= 64;
    const __m128i k512 = pair(K_544, K_480), k128 = pair(K_160, K_96);
    for (; n >= 64; n -= 64, p += 64) {
        v = (const __m128i *)(const void *)p;
        x0 = fold(x0, k512, _mm_loadu_si128(v));
        x1 = fold(x1, k512, _mm_loadu_si128(v + 1));
        x2 = fold(x2, k512, _mm_loadu_si128(v + 2));
        x3 = fold(x3, k512, _mm_loadu_si128(v + 3));
    }
    x1 = fold(x0, k128, x1);
    x2 = fold(x1, k128, x2);
    x3 = fold(x2, k128, x3);
    return finish(x3, p, n);
}

/* A 512-bit vector's four lanes times the constants k (lane by lane), each lane's two products
   summed. */
AV_TARGET_VCLMUL AV_INLINE __m512i vfold(__m512i x, __m512i k, __m512i y)
{
    __m512i a = _mm512_clmulepi64_epi128(x, k, 0x00), b = _mm512_clmulepi64_epi128(x, k, 0x11);
    return _mm512_ternarylogic_epi64(a, b, y, 0x96); /* a ^ b ^ y */
}

AV_TARGET_VCLMUL AV_INLINE __m512i vpair(uint64_t lo, uint64_t hi)
{
    return _mm512_set_epi64((long long)hi, (long long)lo, (long long)hi, (long long)lo,
                            (long long)hi, (long long)lo, (long long)hi, (long long)lo);
}

/* VPCLMULQDQ: four 512-bit vectors (sixteen lanes) over 256 bytes per step, then one vector over
   64 bytes, then its four lanes onto one and the 128-bit code's tail. */
AV_TARGET_VCLMUL static uint32_t crc32_vclmul(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (n < 256)
        return crc32_clmul(crc, p, n);
    const __m512i *v = (const __m512i *)(const void *)p;
    __m512i z0 = _mm512_xor_si512(_mm512_loadu_si512(v), _mm512_castsi128_si512(
                                                              _mm_cvtsi32_si128((int)~crc)));
    __m512i z1 = _mm512_loadu_si512(v + 1), z2 = _mm512_loadu_si512(v + 2);
    __m512i z3 = _mm512_loadu_si512(v + 3);
    p += 256;
    n -= 256;
    const __m512i k2048 = vpair(K_2080, K_2016), k512 = vpair(K_544, K_480);
    for (; n >= 256; n -= 256, p += 256) {
        v = (const __m512i *)(const void *)p;
        z0 = vfold(z0, k2048, _mm512_loadu_si512(v));
        z1 = vfold(z1, k2048, _mm512_loadu_si512(v + 1));
        z2 = vfold(z2, k2048, _mm512_loadu_si512(v + 2));
        z3 = vfold(z3, k2048, _mm512_loadu_si512(v + 3));
    }
    z1 = vfold(z0, k512, z1);
    z2 = vfold(z1, k512, z2);
    z3 = vfold(z2, k512, z3);
    for (; n >= 64; n -= 64, p += 64)
        z3 = vfold(z3, k512, _mm512_loadu_si512((const void *)p));
    /* lanes 0, 1, 2 lie 384, 256 and 128 bits before lane 3: folded onto it (lane 3's constants
       are zero) */
    const __m512i klanes = _mm512_set_epi64(0, 0, (long long)K_96, (long long)K_160,
                                            (long long)K_224, (long long)K_288, (long long)K_352,
                                            (long long)K_416);
    __m512i t = vfold(z3, klanes, _mm512_setzero_si512());
    __m128i x = _mm_xor_si128(_mm512_extracti32x4_epi32(z3, 3), _mm512_castsi512_si128(t));
    x = _mm_xor_si128(x, _mm_xor_si128(_mm512_extracti32x4_epi32(t, 1),
                                       _mm512_extracti32x4_epi32(t, 2)));
    return finish(x, p, n);
}

/* The x86 backends' CRC: the widest carry-less multiply this CPU has. The avx2 backend does not
   require PCLMULQDQ, nor avx512 VPCLMULQDQ (Skylake-X has AVX-512 without it), so the check is made
   here (a load and a test of the CPU model libgcc filled in). */
uint32_t av__crc32_x86(uint32_t crc, const void *data, size_t n)
{
    if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1"))
        return crc32_clmul(crc, data, n);
    return av__crc32_scalar(crc, data, n);
}

uint32_t av__crc32_x86_512(uint32_t crc, const void *data, size_t n)
{
    if (__builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        return crc32_vclmul(crc, data, n);
    return av__crc32_x86(crc, data, n);
}
#endif
