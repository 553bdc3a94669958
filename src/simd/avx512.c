/* AVX-512F/BW kernels, compiled with target attributes; used only when the CPU has them. */
#if defined(__x86_64__) || defined(__i386__)
#include "internal.h"

#include <immintrin.h>

#define AV_TARGET __attribute__((target("avx512f,avx512bw,f16c,fma")))

AV_TARGET static void avx512_dots_f32(const float *C, size_t ld, size_t k, size_t d, const float *q, float *out)
{
    for (size_t j = 0; j < k; j++) {
        const float *row = C + j * ld;
        __m512 acc = _mm512_setzero_ps();
        size_t t = 0;
        for (; t + 16 <= d; t += 16)
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(row + t), _mm512_loadu_ps(q + t), acc);
        if (t < d) {
            __mmask16 m = (__mmask16)((1u << (d - t)) - 1u);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + t), _mm512_maskz_loadu_ps(m, q + t), acc);
        }
        out[j] = _mm512_reduce_add_ps(acc);
    }
}

AV_TARGET static void avx512_dots_f16(const uint16_t *C, size_t ld, size_t k, size_t d, const float *q, float *out)
{
    for (size_t j = 0; j < k; j++) {
        const uint16_t *row = C + j * ld;
        __m512 acc = _mm512_setzero_ps();
        size_t t = 0;
        for (; t + 16 <= d; t += 16) {
            __m512 c = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + t)));
            acc = _mm512_fmadd_ps(c, _mm512_loadu_ps(q + t), acc);
        }
        float s = _mm512_reduce_add_ps(acc);
        for (; t < d; t++)
            s += av__f16_to_f32(row[t]) * q[t];
        out[j] = s;
    }
}

AV_TARGET static void avx512_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d, const int8_t *q8, int32_t *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        __m512i acc = _mm512_setzero_si512();
        size_t t = 0;
        for (; t + 32 <= d; t += 32) {
            __m512i a = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(row + t)));
            __m512i b = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(q8 + t)));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
        }
        int64_t s = _mm512_reduce_add_epi32(acc);
        for (; t < d; t++)
            s += (int32_t)row[t] * (int32_t)q8[t];
        out[j] = (int32_t)s;
    }
}

const av_kernels av__kernels_avx512 = {"avx512", avx512_dots_f32, avx512_dots_f16, avx512_dots_i8};
#else
typedef int av_avx512_unused_;
#endif
