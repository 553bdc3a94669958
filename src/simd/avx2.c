/* AVX2 + FMA + F16C kernels. Compiled with target attributes so the file builds with any x86-64
   flags; dispatch.c only calls it when the CPU has the features. */
#if defined(__x86_64__) || defined(__i386__)
#include "internal.h"

#include <immintrin.h>

#define AV_TARGET __attribute__((target("avx2,fma,f16c")))

AV_TARGET static inline float hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

AV_TARGET static void avx2_dots_f32(const float *C, size_t ld, size_t k, size_t d, const float *q, float *out)
{
    for (size_t j = 0; j < k; j++) {
        const float *row = C + j * ld;
        __m256 acc = _mm256_setzero_ps();
        size_t t = 0;
        for (; t + 8 <= d; t += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(row + t), _mm256_loadu_ps(q + t), acc);
        float s = hsum256(acc);
        for (; t < d; t++)
            s += row[t] * q[t];
        out[j] = s;
    }
}

AV_TARGET static void avx2_dots_f16(const uint16_t *C, size_t ld, size_t k, size_t d, const float *q, float *out)
{
    for (size_t j = 0; j < k; j++) {
        const uint16_t *row = C + j * ld;
        __m256 acc = _mm256_setzero_ps();
        size_t t = 0;
        for (; t + 8 <= d; t += 8) {
            __m256 c = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + t)));
            acc = _mm256_fmadd_ps(c, _mm256_loadu_ps(q + t), acc);
        }
        float s = hsum256(acc);
        for (; t < d; t++)
            s += av__f16_to_f32(row[t]) * q[t];
        out[j] = s;
    }
}

AV_TARGET static void avx2_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d, const int8_t *q8, int32_t *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        __m256i acc = _mm256_setzero_si256();
        size_t t = 0;
        for (; t + 16 <= d; t += 16) {
            __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + t)));
            __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q8 + t)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
        }
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        int64_t s = _mm_cvtsi128_si32(s4);
        for (; t < d; t++)
            s += (int32_t)row[t] * (int32_t)q8[t];
        out[j] = (int32_t)s;
    }
}

const av_kernels av__kernels_avx2 = {"avx2", avx2_dots_f32, avx2_dots_f16, avx2_dots_i8};
#else
typedef int av_avx2_unused_; /* ISO C forbids an empty translation unit */
#endif
