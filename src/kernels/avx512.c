/* AVX-512F/BW kernels, compiled with target attributes; used only when the CPU has them.
   Same structure as avx2.c (see there): one 16-lane accumulator per (query, row) pair, rows blocked
   so that one query load feeds AV5_ROWS rows, a masked final step, then a fixed reduction, so the
   single-query and batch kernels agree bit for bit. */
#if defined(__x86_64__) || defined(__i386__)
#include "kernels/kernels.h"

#include <immintrin.h>
#include <math.h>

#define AV_TARGET __attribute__((target("avx512f,avx512bw,f16c,fma")))
#define AV_INLINE static inline __attribute__((always_inline))
#define W 16u        /* floats per vector */
#define AV5_ROWS 8u  /* rows per block of the single-query kernels */
#define AV5_MQ 4u    /* queries per block of the batch kernel */
#define AV5_MROWS 4u /* rows per tile step of the batch kernel: 16 accumulators of 32 registers */
#define AV_I8_STEP 64u

AV_TARGET AV_INLINE __mmask16 tail16(size_t n)
{
    return (__mmask16)((1u << n) - 1u);
}

/* A fixed reduction tree (not _mm512_reduce_add_ps, whose order is the compiler's choice). */
AV_TARGET AV_INLINE float hsum512(__m512 v)
{
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

AV_TARGET AV_INLINE void blk_f32(const float *C, size_t ld, size_t d, const float *Q, size_t ldq,
                                 float *out, size_t ldo, const unsigned R, const unsigned NQ)
{
    __m512 acc[AV5_MQ][AV5_ROWS];
#pragma GCC unroll 8
    for (unsigned i = 0; i < NQ; i++)
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++)
            acc[i][r] = _mm512_setzero_ps();
    size_t t = 0;
    for (; t + W <= d; t += W) {
        __m512 qv[AV5_MQ];
#pragma GCC unroll 8
        for (unsigned i = 0; i < NQ; i++)
            qv[i] = _mm512_loadu_ps(Q + i * ldq + t);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m512 c = _mm512_loadu_ps(C + r * ld + t);
#pragma GCC unroll 8
            for (unsigned i = 0; i < NQ; i++)
                acc[i][r] = _mm512_fmadd_ps(c, qv[i], acc[i][r]);
        }
    }
    if (t < d) {
        __mmask16 m = tail16(d - t);
        __m512 qv[AV5_MQ];
#pragma GCC unroll 8
        for (unsigned i = 0; i < NQ; i++)
            qv[i] = _mm512_maskz_loadu_ps(m, Q + i * ldq + t);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m512 c = _mm512_maskz_loadu_ps(m, C + r * ld + t);
#pragma GCC unroll 8
            for (unsigned i = 0; i < NQ; i++)
                acc[i][r] = _mm512_fmadd_ps(c, qv[i], acc[i][r]);
        }
    }
#pragma GCC unroll 8
    for (unsigned i = 0; i < NQ; i++)
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++)
            out[i * ldo + r] = hsum512(acc[i][r]);
}

AV_TARGET static void avx512_dots_f32(const float *C, size_t ld, size_t k, size_t d,
                                      const float *q, float *out)
{
    size_t j = 0;
    for (; j + AV5_ROWS <= k; j += AV5_ROWS)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, AV5_ROWS, 1);
    if (j + 4 <= k) {
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, 4, 1);
        j += 4;
    }
    for (; j < k; j++)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, 1, 1);
}

/* Batch kernel tiled over d, as in avx2.c (see there): the same per-pair FMA sequence as blk_f32,
   so the same bits, with the queries' tile in L1 while a group of rows streams past it. */
#define AV5_TILE 512u
#define AV5_GROUP 64u

AV_TARGET AV_INLINE void tile_f32(const float *C, size_t ld, size_t t0, size_t t1, const float *Q,
                                  size_t ldq, __m512 (*acc)[AV5_MQ], const unsigned R)
{
    __m512 a[AV5_MROWS][AV5_MQ];
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
#pragma GCC unroll 8
        for (unsigned i = 0; i < AV5_MQ; i++)
            a[r][i] = acc[r][i];
    for (size_t t = t0; t < t1; t += W) {
        __m512 qv[AV5_MQ];
#pragma GCC unroll 8
        for (unsigned i = 0; i < AV5_MQ; i++)
            qv[i] = _mm512_loadu_ps(Q + i * ldq + t);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m512 c = _mm512_loadu_ps(C + r * ld + t);
#pragma GCC unroll 8
            for (unsigned i = 0; i < AV5_MQ; i++)
                a[r][i] = _mm512_fmadd_ps(c, qv[i], a[r][i]);
        }
    }
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
#pragma GCC unroll 8
        for (unsigned i = 0; i < AV5_MQ; i++)
            acc[r][i] = a[r][i];
}

AV_TARGET static void avx512_dots_f32_multi(const float *C, size_t ld, size_t k, size_t d,
                                            const float *Q, size_t ldq, size_t nq, float *out,
                                            size_t ldo)
{
    size_t dfull = d - d % W, i = 0;
    __m512 acc[AV5_GROUP][AV5_MQ];
    for (; i + AV5_MQ <= nq; i += AV5_MQ) {
        const float *Qi = Q + i * ldq;
        for (size_t g0 = 0; g0 < k; g0 += AV5_GROUP) {
            size_t gk = k - g0 < AV5_GROUP ? k - g0 : AV5_GROUP;
            const float *Cg = C + g0 * ld;
            for (size_t j = 0; j < gk; j++)
                for (unsigned u = 0; u < AV5_MQ; u++)
                    acc[j][u] = _mm512_setzero_ps();
            for (size_t t0 = 0; t0 < dfull; t0 += AV5_TILE) {
                size_t t1 = dfull - t0 < AV5_TILE ? dfull : t0 + AV5_TILE;
                size_t j = 0;
                for (; j + AV5_MROWS <= gk; j += AV5_MROWS)
                    tile_f32(Cg + j * ld, ld, t0, t1, Qi, ldq, acc + j, AV5_MROWS);
                for (; j < gk; j++)
                    tile_f32(Cg + j * ld, ld, t0, t1, Qi, ldq, acc + j, 1);
            }
            __mmask16 m = tail16(d - dfull);
            for (size_t j = 0; j < gk; j++)
                for (unsigned u = 0; u < AV5_MQ; u++) {
                    __m512 a = acc[j][u];
                    if (dfull < d)
                        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, Cg + j * ld + dfull),
                                            _mm512_maskz_loadu_ps(m, Qi + u * ldq + dfull), a);
                    out[(i + u) * ldo + g0 + j] = hsum512(a);
                }
        }
    }
    for (; i < nq; i++)
        avx512_dots_f32(C, ld, k, d, Q + i * ldq, out + i * ldo);
}

AV_TARGET AV_INLINE void blk_f16(const uint16_t *C, size_t ld, size_t d, const float *q,
                                 float *out, const unsigned R)
{
    __m512 acc[AV5_ROWS];
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        acc[r] = _mm512_setzero_ps();
    size_t t = 0;
    for (; t + W <= d; t += W) {
        __m512 qv = _mm512_loadu_ps(q + t);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m512 c = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(C + r * ld + t)));
            acc[r] = _mm512_fmadd_ps(c, qv, acc[r]);
        }
    }
    if (t < d) {
        __mmask16 m = tail16(d - t);
        __m512 qv = _mm512_maskz_loadu_ps(m, q + t);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m512i h16 = _mm512_maskz_loadu_epi16((__mmask32)m, C + r * ld + t);
            __m256i h = _mm512_castsi512_si256(h16);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtph_ps(h), qv, acc[r]);
        }
    }
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        out[r] = hsum512(acc[r]);
}

AV_TARGET static void avx512_dots_f16(const uint16_t *C, size_t ld, size_t k, size_t d,
                                      const float *q, float *out)
{
    size_t j = 0;
    for (; j + AV5_ROWS <= k; j += AV5_ROWS)
        blk_f16(C + j * ld, ld, d, q, out + j, AV5_ROWS);
    for (; j < k; j++)
        blk_f16(C + j * ld, ld, d, q, out + j, 1);
}

/* int8 as in avx2.c: |q| (unsigned) x (c with q's sign) through maddubs, exact for values in
   [-127, 127]. AVX-512 has no sign_epi8: c is negated under the mask of q's sign bits, computed
   once per step for all rows. */
AV_TARGET AV_INLINE void blk_i8(const int8_t *C, size_t ld, size_t d, const int8_t *q8,
                                int32_t *out, const unsigned R)
{
    const __m512i ones = _mm512_set1_epi16(1);
    const __m512i zero = _mm512_setzero_si512();
    __m512i acc[AV5_ROWS];
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        acc[r] = _mm512_setzero_si512();
    size_t t = 0;
    for (; t < d; t += AV_I8_STEP) {
        __mmask64 m = d - t >= AV_I8_STEP ? ~(__mmask64)0 : (((__mmask64)1 << (d - t)) - 1u);
        __m512i qv = _mm512_maskz_loadu_epi8(m, q8 + t);
        __m512i qa = _mm512_abs_epi8(qv);
        __mmask64 neg = _mm512_movepi8_mask(qv);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m512i c = _mm512_maskz_loadu_epi8(m, C + r * ld + t);
            __m512i s = _mm512_mask_sub_epi8(c, neg, zero, c);
            __m512i p = _mm512_maddubs_epi16(qa, s);
            acc[r] = _mm512_add_epi32(acc[r], _mm512_madd_epi16(p, ones));
        }
    }
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        out[r] = _mm512_reduce_add_epi32(acc[r]); /* integers: any order is exact */
}

AV_TARGET static void avx512_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d,
                                     const int8_t *q8, int32_t *out)
{
    size_t j = 0;
    for (; j + 4 <= k; j += 4)
        blk_i8(C + j * ld, ld, d, q8, out + j, 4);
    for (; j < k; j++)
        blk_i8(C + j * ld, ld, d, q8, out + j, 1);
}

/* With AVX512-VNNI, vpdpbusd does |q| x (c with q's sign), the pair sums and the accumulation in
   one instruction (4 products per 32-bit lane, no saturation): the same exact integer sums. */
#define AV_TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni,f16c,fma")))

AV_TARGET_VNNI AV_INLINE void blk_i8_vnni(const int8_t *C, size_t ld, size_t d, const int8_t *q8,
                                          int32_t *out, const unsigned R)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i acc[AV5_ROWS];
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        acc[r] = _mm512_setzero_si512();
    for (size_t t = 0; t < d; t += AV_I8_STEP) {
        __mmask64 m = d - t >= AV_I8_STEP ? ~(__mmask64)0 : (((__mmask64)1 << (d - t)) - 1u);
        __m512i qv = _mm512_maskz_loadu_epi8(m, q8 + t);
        __m512i qa = _mm512_abs_epi8(qv);
        __mmask64 neg = _mm512_movepi8_mask(qv);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m512i c = _mm512_maskz_loadu_epi8(m, C + r * ld + t);
            acc[r] = _mm512_dpbusd_epi32(acc[r], qa, _mm512_mask_sub_epi8(c, neg, zero, c));
        }
    }
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        out[r] = _mm512_reduce_add_epi32(acc[r]);
}

AV_TARGET_VNNI static void avx512vnni_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d,
                                              const int8_t *q8, int32_t *out)
{
    size_t j = 0;
    for (; j + AV5_ROWS <= k; j += AV5_ROWS)
        blk_i8_vnni(C + j * ld, ld, d, q8, out + j, AV5_ROWS);
    for (; j < k; j++)
        blk_i8_vnni(C + j * ld, ld, d, q8, out + j, 1);
}

AV_TARGET static uint32_t avx512_absmax_bits(const float *q, size_t d)
{
    const __m512i absm = _mm512_set1_epi32(0x7FFFFFFF);
    __m512i m0 = _mm512_setzero_si512(), m1 = _mm512_setzero_si512();
    size_t t = 0;
    for (; t + 2 * W <= d; t += 2 * W) {
        m0 = _mm512_max_epu32(m0, _mm512_and_si512(_mm512_loadu_si512(q + t), absm));
        m1 = _mm512_max_epu32(m1, _mm512_and_si512(_mm512_loadu_si512(q + t + W), absm));
    }
    for (; t < d; t += W) {
        __mmask16 m = d - t >= W ? (__mmask16)0xFFFF : tail16(d - t);
        m0 = _mm512_max_epu32(m0, _mm512_and_si512(_mm512_maskz_loadu_epi32(m, q + t), absm));
    }
    return (uint32_t)_mm512_reduce_max_epu32(_mm512_max_epu32(m0, m1));
}

AV_TARGET static void avx512_quant_i8(const float *q, size_t d, float mul, int8_t *q8)
{
    const __m512 mv = _mm512_set1_ps(mul);
    for (size_t t = 0; t < d; t += W) {
        __mmask16 m = d - t >= W ? (__mmask16)0xFFFF : tail16(d - t);
        /* cvtps rounds half to even (default MXCSR); values are within +-127. */
        __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, q + t), mv));
        _mm512_mask_cvtepi32_storeu_epi8(q8 + t, m, v);
    }
}

/* int8 row x float query (re-scoring a few candidates): two accumulators, masked tail. */
AV_TARGET static void avx512_dots_i8f(const int8_t *C, size_t ld, size_t k, size_t d,
                                      const float *q, float *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        size_t t = 0;
        for (; t + 2 * W <= d; t += 2 * W) {
            __m128i b0 = _mm_loadu_si128((const __m128i *)(row + t));
            __m128i b1 = _mm_loadu_si128((const __m128i *)(row + t + W));
            __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b0));
            __m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b1));
            a0 = _mm512_fmadd_ps(c0, _mm512_loadu_ps(q + t), a0);
            a1 = _mm512_fmadd_ps(c1, _mm512_loadu_ps(q + t + W), a1);
        }
        for (; t < d; t += W) {
            __mmask16 m = d - t >= W ? (__mmask16)0xFFFF : tail16(d - t);
            __m128i b = _mm512_castsi512_si128(_mm512_maskz_loadu_epi8((__mmask64)m, row + t));
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)),
                                 _mm512_maskz_loadu_ps(m, q + t), a0);
        }
        out[j] = hsum512(_mm512_add_ps(a0, a1));
    }
}

/* ---- row kernels of the sampled k-means passes (kernels.h: bit for bit the scalar ones) ---- */
AV_TARGET static float avx512_sqnorm8(const float *x, size_t d)
{
    __m512d a8 = _mm512_setzero_pd(); /* lane u holds a[u] */
    size_t t = 0;
    for (; t + 8 <= d; t += 8) {
        __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + t));
        a8 = _mm512_add_pd(a8, _mm512_mul_pd(v, v)); /* the products are exact */
    }
    double a[8];
    _mm512_storeu_pd(a, a8);
    return av__sqnorm8_finish(a, x, t, d);
}

AV_TARGET static void avx512_scale_f64(float *dst, const float *src, size_t d, double inv)
{
    __m512d s = _mm512_set1_pd(inv);
    size_t t = 0;
    for (; t + 8 <= d; t += 8)
        _mm256_storeu_ps(dst + t,
                         _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(src + t)), s)));
    av__scale_f64_scalar(dst + t, src + t, d - t, inv);
}

/* Each scaled element is squared from its float, as sqnorm8 does: lane u of a8 is a[u]. */
AV_TARGET static float avx512_scale_sqnorm8(float *dst, const float *src, size_t d, double inv)
{
    __m512d s = _mm512_set1_pd(inv), a8 = _mm512_setzero_pd();
    size_t t = 0;
    for (; t + 8 <= d; t += 8) {
        __m256 y = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(src + t)), s));
        _mm256_storeu_ps(dst + t, y);
        __m512d v = _mm512_cvtps_pd(y);
        a8 = _mm512_add_pd(a8, _mm512_mul_pd(v, v)); /* the products are exact */
    }
    av__scale_f64_scalar(dst + t, src + t, d - t, inv);
    double a[8];
    _mm512_storeu_pd(a, a8);
    return av__sqnorm8_finish(a, dst, t, d);
}

AV_TARGET static void avx512_fixed_add(int64_t *s, const float *x, size_t d)
{
    const __m512d one = _mm512_set1_pd(AV_KERN_FIXED_ONE),
                  magic = _mm512_set1_pd(AV_KERN_I64_MAGIC);
    const __m512i magic_bits = _mm512_castpd_si512(magic);
    size_t t = 0;
    for (; t + 8 <= d; t += 8) {
        __m512d v = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + t)), one);
        v = _mm512_roundscale_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m512i q = _mm512_sub_epi64(_mm512_castpd_si512(_mm512_add_pd(v, magic)), magic_bits);
        _mm512_storeu_si512(s + t, _mm512_add_epi64(_mm512_loadu_si512(s + t), q));
    }
    av__fixed_add_scalar(s + t, x + t, d - t);
}

AV_TARGET static void avx512_add_f64(double *s, const float *x, size_t d)
{
    size_t t = 0;
    for (; t + 8 <= d; t += 8)
        _mm512_storeu_pd(s + t, _mm512_add_pd(_mm512_loadu_pd(s + t),
                                              _mm512_cvtps_pd(_mm256_loadu_ps(x + t))));
    av__add_f64_scalar(s + t, x + t, d - t);
}

AV_TARGET static void avx512_sqdev_f64(double *s, const float *x, const double *mu, size_t d)
{
    size_t t = 0;
    for (; t + 8 <= d; t += 8) {
        __m512d v = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + t)), _mm512_loadu_pd(mu + t));
        _mm512_storeu_pd(s + t, _mm512_add_pd(_mm512_loadu_pd(s + t), _mm512_mul_pd(v, v)));
    }
    av__sqdev_f64_scalar(s + t, x + t, mu + t, d - t);
}

/* Eight rows at a time, one per lane: eight columns of the eight rows loaded and transposed, then
   added column by column, so each lane adds its row's squares in order. */
AV_TARGET static void avx512_sumsq_rows(const float *X, size_t ld, size_t n, size_t d, double *ss)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float *x = X + i * ld;
        __m512d acc = _mm512_setzero_pd();
        size_t t = 0;
        for (; t + 8 <= d; t += 8) {
            __m256 r[8], u[8], c[8];
            for (unsigned q = 0; q < 8; q++)
                r[q] = _mm256_loadu_ps(x + q * ld + t);
            for (unsigned q = 0; q < 8; q += 2) {
                u[q] = _mm256_unpacklo_ps(r[q], r[q + 1]);
                u[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
            }
            __m256 s0 = _mm256_shuffle_ps(u[0], u[2], 0x44), s1 = _mm256_shuffle_ps(u[0], u[2], 0xEE),
                   s2 = _mm256_shuffle_ps(u[1], u[3], 0x44), s3 = _mm256_shuffle_ps(u[1], u[3], 0xEE),
                   s4 = _mm256_shuffle_ps(u[4], u[6], 0x44), s5 = _mm256_shuffle_ps(u[4], u[6], 0xEE),
                   s6 = _mm256_shuffle_ps(u[5], u[7], 0x44), s7 = _mm256_shuffle_ps(u[5], u[7], 0xEE);
            c[0] = _mm256_permute2f128_ps(s0, s4, 0x20); /* column t of the eight rows */
            c[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
            c[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
            c[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
            c[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
            c[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
            c[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
            c[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
            for (unsigned q = 0; q < 8; q++) {
                __m512d v = _mm512_cvtps_pd(c[q]);
                acc = _mm512_add_pd(acc, _mm512_mul_pd(v, v)); /* the products are exact */
            }
        }
        for (; t < d; t++) {
            __m512d v = _mm512_cvtps_pd(_mm256_setr_ps(x[t], x[ld + t], x[2 * ld + t], x[3 * ld + t],
                                                       x[4 * ld + t], x[5 * ld + t],
                                                       x[6 * ld + t], x[7 * ld + t]));
            acc = _mm512_add_pd(acc, _mm512_mul_pd(v, v));
        }
        _mm512_storeu_pd(ss + i, acc);
    }
    av__sumsq_rows_scalar(X + i * ld, ld, n - i, d, ss + i);
}

AV_TARGET static size_t avx512_argmin_d2(const float *g, const float *csq, size_t k, float xs,
                                         float *best)
{
    if (k < 32)
        return av__argmin_d2_scalar(g, csq, k, xs, best);
    const __m512 m2 = _mm512_set1_ps(-2.0f), x = _mm512_set1_ps(xs), z = _mm512_setzero_ps();
    __m512 mn = _mm512_set1_ps(INFINITY);
    size_t j = 0;
    for (; j + 16 <= k; j += 16) {
        __m512 v = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(m2, _mm512_loadu_ps(g + j)), x),
                                 _mm512_loadu_ps(csq + j));
        mn = _mm512_min_ps(mn, _mm512_max_ps(v, z)); /* max(v, 0): v > 0 ? v : 0 */
    }
    float lanes[16], bv;
    _mm512_storeu_ps(lanes, mn);
    bv = lanes[0];
    for (unsigned u = 1; u < 16; u++)
        bv = lanes[u] < bv ? lanes[u] : bv;
    float tail;
    size_t tj = av__argmin_d2_scalar(g + j, csq + j, k - j, xs, &tail);
    if (j < k && tail < bv) { /* the tail holds the strict minimum: its first index wins */
        *best = tail;
        return j + tj;
    }
    const __m512 b16 = _mm512_set1_ps(bv); /* the first index whose value is the minimum */
    for (size_t i = 0; i + 16 <= j; i += 16) {
        __m512 v = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(m2, _mm512_loadu_ps(g + i)), x),
                                 _mm512_loadu_ps(csq + i));
        __mmask16 mask = _mm512_cmp_ps_mask(_mm512_max_ps(v, z), b16, _CMP_EQ_OQ);
        if (mask) {
            *best = bv;
            return i + (size_t)__builtin_ctz((unsigned)mask);
        }
    }
    *best = bv; /* not reached: the minimum is among the blocks */
    return 0;
}

const av_kernels av__kernels_avx512 = {"avx512",           avx512_dots_f32,    avx512_dots_f16,
                                       avx512_dots_i8,     avx512_dots_f32_multi,
                                       avx512_absmax_bits, avx512_quant_i8,    avx512_dots_i8f,
                                       avx512_sqnorm8,     avx512_scale_f64,   avx512_fixed_add,
                                       avx512_argmin_d2,   av__crc32_x86_512,  avx512_add_f64,
                                       avx512_sqdev_f64,   avx512_sumsq_rows,
                                       avx512_scale_sqnorm8};
/* The same with the VNNI int8 kernel, for CPUs that have AVX512-VNNI (dispatch.c). */
const av_kernels av__kernels_avx512vnni = {"avx512vnni",       avx512_dots_f32,
                                           avx512_dots_f16,    avx512vnni_dots_i8,
                                           avx512_dots_f32_multi, avx512_absmax_bits,
                                           avx512_quant_i8,    avx512_dots_i8f,
                                           avx512_sqnorm8,     avx512_scale_f64,
                                           avx512_fixed_add,   avx512_argmin_d2,
                                           av__crc32_x86_512,  avx512_add_f64,
                                           avx512_sqdev_f64,   avx512_sumsq_rows,
                                           avx512_scale_sqnorm8};
#else
typedef int av_avx512_unused_;
#endif
