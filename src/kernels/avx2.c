/* AVX2 + FMA + F16C kernels. Compiled with target attributes so the file builds with any x86-64
   flags; dispatch.c only calls it when the CPU has the features.

   Register blocking: every load of the query feeds AV2_ROWS centroid rows (and in the batch kernel
   every load of a centroid feeds AV2_MQ queries), with one 8-lane accumulator per (query, row) pair,
   so AV2_ROWS independent FMA chains hide the FMA latency. A pair is always summed the same way:
   one accumulator over t in steps of 8, a masked final step, then hsum256. So the single-query and
   batch kernels give identical bits for a pair whatever the blocking. */
#if defined(__x86_64__) || defined(__i386__)
#include "kernels/kernels.h"

#include <immintrin.h>
#include <math.h>

#define AV_TARGET __attribute__((target("avx2,fma,f16c")))
#define AV_INLINE static inline __attribute__((always_inline))
#define W 8u        /* floats per vector */
#define AV2_ROWS 8u /* rows per block of the single-query kernels */
#define AV2_MQ 8u   /* queries per block of the batch kernel */
/* rows per tile step of the batch kernel: 8 accumulators, the query loads folded into the FMAs */
#define AV2_MROWS 1u
#define AV_I8_STEP 32u

/* mask_tbl + 8 - r selects the first r lanes (r in 1..7) for maskload. */
static const int32_t mask_tbl[2 * W] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

AV_TARGET AV_INLINE float hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

AV_TARGET AV_INLINE int32_t hsum256_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* NQ queries x R rows, float32. R and NQ are compile-time constants at every call site, so the
   loops unroll and the accumulators live in registers. */
AV_TARGET AV_INLINE void blk_f32(const float *C, size_t ld, size_t d, const float *Q, size_t ldq,
                                 float *out, size_t ldo, const unsigned R, const unsigned NQ)
{
    __m256 acc[AV2_MQ][AV2_ROWS];
#pragma GCC unroll 8
    for (unsigned i = 0; i < NQ; i++)
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++)
            acc[i][r] = _mm256_setzero_ps();
    size_t t = 0;
    for (; t + W <= d; t += W) {
        __m256 qv[AV2_MQ];
#pragma GCC unroll 8
        for (unsigned i = 0; i < NQ; i++)
            qv[i] = _mm256_loadu_ps(Q + i * ldq + t);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m256 c = _mm256_loadu_ps(C + r * ld + t);
#pragma GCC unroll 8
            for (unsigned i = 0; i < NQ; i++)
                acc[i][r] = _mm256_fmadd_ps(c, qv[i], acc[i][r]);
        }
    }
    if (t < d) {
        __m256i m = _mm256_loadu_si256((const __m256i *)(mask_tbl + W - (d - t)));
        __m256 qv[AV2_MQ];
#pragma GCC unroll 8
        for (unsigned i = 0; i < NQ; i++)
            qv[i] = _mm256_maskload_ps(Q + i * ldq + t, m);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m256 c = _mm256_maskload_ps(C + r * ld + t, m);
#pragma GCC unroll 8
            for (unsigned i = 0; i < NQ; i++)
                acc[i][r] = _mm256_fmadd_ps(c, qv[i], acc[i][r]);
        }
    }
#pragma GCC unroll 8
    for (unsigned i = 0; i < NQ; i++)
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++)
            out[i * ldo + r] = hsum256(acc[i][r]);
}

AV_TARGET static void avx2_dots_f32(const float *C, size_t ld, size_t k, size_t d, const float *q,
                                    float *out)
{
    size_t j = 0;
    for (; j + AV2_ROWS <= k; j += AV2_ROWS)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, AV2_ROWS, 1);
    if (j + 4 <= k) {
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, 4, 1);
        j += 4;
    }
    for (; j < k; j++)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, 1, 1);
}

/* Batch kernel, tiled over d: for AV2_MQ queries and a group of AV2_GROUP rows, the dimensions
   are swept a tile at a time (the queries' tile stays in L1 while every row of the group streams
   past it), with each pair's accumulator kept in `acc` between tiles. A pair still sees the same
   FMAs in the same order as in blk_f32 (full steps in ascending t, then the masked tail), so the
   result is bit for bit the single-query kernel's. */
#define AV2_TILE 512u
#define AV2_GROUP 64u

AV_TARGET AV_INLINE void tile_f32(const float *C, size_t ld, size_t t0, size_t t1, const float *Q,
                                  size_t ldq, __m256 (*acc)[AV2_MQ], const unsigned R)
{
    __m256 a[AV2_MROWS][AV2_MQ];
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
#pragma GCC unroll 8
        for (unsigned i = 0; i < AV2_MQ; i++)
            a[r][i] = acc[r][i];
    for (size_t t = t0; t < t1; t += W) {
        /* one row per step: the query loads fold into the FMAs (8 accumulators + 1 row) */
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m256 c = _mm256_loadu_ps(C + r * ld + t);
#pragma GCC unroll 8
            for (unsigned i = 0; i < AV2_MQ; i++)
                a[r][i] = _mm256_fmadd_ps(c, _mm256_loadu_ps(Q + i * ldq + t), a[r][i]);
        }
    }
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
#pragma GCC unroll 8
        for (unsigned i = 0; i < AV2_MQ; i++)
            acc[r][i] = a[r][i];
}

AV_TARGET static void avx2_dots_f32_multi(const float *C, size_t ld, size_t k, size_t d,
                                          const float *Q, size_t ldq, size_t nq, float *out,
                                          size_t ldo)
{
    size_t dfull = d - d % W, i = 0;
    __m256 acc[AV2_GROUP][AV2_MQ];
    for (; i + AV2_MQ <= nq; i += AV2_MQ) {
        const float *Qi = Q + i * ldq;
        for (size_t g0 = 0; g0 < k; g0 += AV2_GROUP) {
            size_t gk = k - g0 < AV2_GROUP ? k - g0 : AV2_GROUP;
            const float *Cg = C + g0 * ld;
            for (size_t j = 0; j < gk; j++)
                for (unsigned u = 0; u < AV2_MQ; u++)
                    acc[j][u] = _mm256_setzero_ps();
            for (size_t t0 = 0; t0 < dfull; t0 += AV2_TILE) {
                size_t t1 = dfull - t0 < AV2_TILE ? dfull : t0 + AV2_TILE;
                size_t j = 0;
                for (; j + AV2_MROWS <= gk; j += AV2_MROWS)
                    tile_f32(Cg + j * ld, ld, t0, t1, Qi, ldq, acc + j, AV2_MROWS);
                for (; j < gk; j++)
                    tile_f32(Cg + j * ld, ld, t0, t1, Qi, ldq, acc + j, 1);
            }
            __m256i m = _mm256_loadu_si256((const __m256i *)(mask_tbl + W - (d - dfull)));
            for (size_t j = 0; j < gk; j++)
                for (unsigned u = 0; u < AV2_MQ; u++) {
                    __m256 a = acc[j][u];
                    if (dfull < d)
                        a = _mm256_fmadd_ps(_mm256_maskload_ps(Cg + j * ld + dfull, m),
                                            _mm256_maskload_ps(Qi + u * ldq + dfull, m), a);
                    out[(i + u) * ldo + g0 + j] = hsum256(a);
                }
        }
    }
    for (; i < nq; i++)
        avx2_dots_f32(C, ld, k, d, Q + i * ldq, out + i * ldo);
}

/* R rows of float16, one query: each converted row vector feeds its own accumulator. */
AV_TARGET AV_INLINE void blk_f16(const uint16_t *C, size_t ld, size_t d, const float *q,
                                 float *out, const unsigned R)
{
    __m256 acc[AV2_ROWS];
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    size_t t = 0;
    for (; t + W <= d; t += W) {
        __m256 qv = _mm256_loadu_ps(q + t);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m256 c = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(C + r * ld + t)));
            acc[r] = _mm256_fmadd_ps(c, qv, acc[r]);
        }
    }
    if (t < d) {
        size_t n = d - t;
        __m256i m = _mm256_loadu_si256((const __m256i *)(mask_tbl + W - n));
        __m256 qv = _mm256_maskload_ps(q + t, m);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            uint16_t tmp[W] = {0};
            for (size_t u = 0; u < n; u++)
                tmp[u] = C[r * ld + t + u];
            __m256 c = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)tmp));
            acc[r] = _mm256_fmadd_ps(c, qv, acc[r]);
        }
    }
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        out[r] = hsum256(acc[r]);
}

AV_TARGET static void avx2_dots_f16(const uint16_t *C, size_t ld, size_t k, size_t d,
                                    const float *q, float *out)
{
    size_t j = 0;
    for (; j + AV2_ROWS <= k; j += AV2_ROWS)
        blk_f16(C + j * ld, ld, d, q, out + j, AV2_ROWS);
    for (; j < k; j++)
        blk_f16(C + j * ld, ld, d, q, out + j, 1);
}

/* int8: |q| (unsigned, computed once per step for all rows) times c with q's sign (signed) through
   maddubs. Stored values are in [-127, 127] (av__router_int8_derive maps a file's -128 to -127,
   which sign_epi8 could not negate) and |q| <= 127, so each pair sum stays below 2^15: nothing
   saturates and the integer sums are exact. */
AV_TARGET AV_INLINE void blk_i8(const int8_t *C, size_t ld, size_t d, const int8_t *q8,
                                int32_t *out, const unsigned R)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[AV2_ROWS];
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++)
        acc[r] = _mm256_setzero_si256();
    size_t t = 0;
    for (; t + AV_I8_STEP <= d; t += AV_I8_STEP) {
        __m256i qv = _mm256_loadu_si256((const __m256i *)(q8 + t));
        __m256i qa = _mm256_abs_epi8(qv);
#pragma GCC unroll 8
        for (unsigned r = 0; r < R; r++) {
            __m256i c = _mm256_loadu_si256((const __m256i *)(C + r * ld + t));
            __m256i p = _mm256_maddubs_epi16(qa, _mm256_sign_epi8(c, qv));
            acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(p, ones));
        }
    }
#pragma GCC unroll 8
    for (unsigned r = 0; r < R; r++) {
        int32_t s = hsum256_epi32(acc[r]);
        for (size_t u = t; u < d; u++)
            s += (int32_t)C[r * ld + u] * (int32_t)q8[u];
        out[r] = s;
    }
}

AV_TARGET static void avx2_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d,
                                   const int8_t *q8, int32_t *out)
{
    size_t j = 0;
    for (; j + 4 <= k; j += 4)
        blk_i8(C + j * ld, ld, d, q8, out + j, 4);
    for (; j < k; j++)
        blk_i8(C + j * ld, ld, d, q8, out + j, 1);
}

AV_TARGET static uint32_t avx2_absmax_bits(const float *q, size_t d)
{
    const __m256i absm = _mm256_set1_epi32(0x7FFFFFFF);
    __m256i m0 = _mm256_setzero_si256(), m1 = _mm256_setzero_si256();
    size_t t = 0;
    for (; t + 2 * W <= d; t += 2 * W) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(q + t));
        __m256i b = _mm256_loadu_si256((const __m256i *)(q + t + W));
        m0 = _mm256_max_epu32(m0, _mm256_and_si256(a, absm));
        m1 = _mm256_max_epu32(m1, _mm256_and_si256(b, absm));
    }
    m0 = _mm256_max_epu32(m0, m1);
    __m128i s = _mm_max_epu32(_mm256_castsi256_si128(m0), _mm256_extracti128_si256(m0, 1));
    s = _mm_max_epu32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_max_epu32(s, _mm_shuffle_epi32(s, 0xB1));
    uint32_t m = (uint32_t)_mm_cvtsi128_si32(s);
    for (; t < d; t++) {
        uint32_t x;
        __builtin_memcpy(&x, q + t, sizeof x);
        x &= 0x7FFFFFFFu;
        m = x > m ? x : m;
    }
    return m;
}

AV_TARGET static void avx2_quant_i8(const float *q, size_t d, float mul, int8_t *q8)
{
    const __m256 mv = _mm256_set1_ps(mul);
    size_t t = 0;
    for (; t + 4 * W <= d; t += 4 * W) {
        /* cvtps rounds half to even (the default MXCSR mode); values are within +-127. */
        __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(q + t), mv));
        __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(q + t + W), mv));
        __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(q + t + 2 * W), mv));
        __m256i e = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(q + t + 3 * W), mv));
        __m256i ab = _mm256_packs_epi32(a, b), ce = _mm256_packs_epi32(c, e);
        __m256i v = _mm256_packs_epi16(ab, ce);
        /* the packs work within 128-bit lanes: restore element order */
        v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q8 + t), v);
    }
    for (; t < d; t++)
        q8[t] = (int8_t)_mm_cvtss_si32(_mm_set_ss(q[t] * mul));
}

/* int8 row x float query, one row at a time (only the few re-scored candidates come here): four
   accumulators so that the FMA latency is hidden within the row. */
AV_TARGET static void avx2_dots_i8f(const int8_t *C, size_t ld, size_t k, size_t d,
                                    const float *q, float *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
               a3 = _mm256_setzero_ps();
        size_t t = 0;
        for (; t + 4 * W <= d; t += 4 * W) {
            __m128i b = _mm_loadu_si128((const __m128i *)(row + t));
            __m128i b2 = _mm_loadu_si128((const __m128i *)(row + t + 2 * W));
            __m256 c0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
            __m256 c1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
            __m256 c2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b2));
            __m256 c3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b2, 8)));
            a0 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(q + t), a0);
            a1 = _mm256_fmadd_ps(c1, _mm256_loadu_ps(q + t + W), a1);
            a2 = _mm256_fmadd_ps(c2, _mm256_loadu_ps(q + t + 2 * W), a2);
            a3 = _mm256_fmadd_ps(c3, _mm256_loadu_ps(q + t + 3 * W), a3);
        }
        float s = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        for (; t < d; t++)
            s += (float)row[t] * q[t];
        out[j] = s;
    }
}

/* ---- row kernels of the sampled k-means passes (kernels.h: bit for bit the scalar ones) ---- */
AV_TARGET static float avx2_sqnorm8(const float *x, size_t d)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd(); /* lanes 0-3 and 4-7 */
    size_t t = 0;
    for (; t + 8 <= d; t += 8) {
        __m256 v = _mm256_loadu_ps(x + t);
        __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        __m256d b = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        lo = _mm256_add_pd(lo, _mm256_mul_pd(a, a)); /* the products are exact */
        hi = _mm256_add_pd(hi, _mm256_mul_pd(b, b));
    }
    double a[8];
    _mm256_storeu_pd(a, lo);
    _mm256_storeu_pd(a + 4, hi);
    return av__sqnorm8_finish(a, x, t, d);
}

AV_TARGET static void avx2_scale_f64(float *dst, const float *src, size_t d, double inv)
{
    __m256d s = _mm256_set1_pd(inv);
    size_t t = 0;
    for (; t + 4 <= d; t += 4)
        _mm_storeu_ps(dst + t, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(src + t)), s)));
    av__scale_f64_scalar(dst + t, src + t, d - t, inv);
}

/* Each scaled element is squared from its float, as sqnorm8 does: lo and hi hold a[0..3] and
   a[4..7]. */
AV_TARGET static float avx2_scale_sqnorm8(float *dst, const float *src, size_t d, double inv)
{
    __m256d s = _mm256_set1_pd(inv), lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    size_t t = 0;
    for (; t + 8 <= d; t += 8) {
        __m128 ya = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(src + t)), s));
        __m128 yb = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(src + t + 4)), s));
        _mm_storeu_ps(dst + t, ya);
        _mm_storeu_ps(dst + t + 4, yb);
        __m256d a = _mm256_cvtps_pd(ya), b = _mm256_cvtps_pd(yb);
        lo = _mm256_add_pd(lo, _mm256_mul_pd(a, a)); /* the products are exact */
        hi = _mm256_add_pd(hi, _mm256_mul_pd(b, b));
    }
    av__scale_f64_scalar(dst + t, src + t, d - t, inv);
    double a[8];
    _mm256_storeu_pd(a, lo);
    _mm256_storeu_pd(a + 4, hi);
    return av__sqnorm8_finish(a, dst, t, d);
}

AV_TARGET static void avx2_fixed_add(int64_t *s, const float *x, size_t d)
{
    const __m256d one = _mm256_set1_pd(AV_KERN_FIXED_ONE),
                  magic = _mm256_set1_pd(AV_KERN_I64_MAGIC);
    const __m256i magic_bits = _mm256_castpd_si256(magic);
    size_t t = 0;
    for (; t + 4 <= d; t += 4) {
        __m256d v = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + t)), one);
        v = _mm256_round_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256i q = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(v, magic)), magic_bits);
        __m256i *p = (__m256i *)(s + t);
        _mm256_storeu_si256(p, _mm256_add_epi64(_mm256_loadu_si256(p), q));
    }
    av__fixed_add_scalar(s + t, x + t, d - t);
}

AV_TARGET static void avx2_add_f64(double *s, const float *x, size_t d)
{
    size_t t = 0;
    for (; t + 4 <= d; t += 4)
        _mm256_storeu_pd(s + t, _mm256_add_pd(_mm256_loadu_pd(s + t),
                                              _mm256_cvtps_pd(_mm_loadu_ps(x + t))));
    av__add_f64_scalar(s + t, x + t, d - t);
}

AV_TARGET static void avx2_sqdev_f64(double *s, const float *x, const double *mu, size_t d)
{
    size_t t = 0;
    for (; t + 4 <= d; t += 4) {
        __m256d v = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + t)), _mm256_loadu_pd(mu + t));
        _mm256_storeu_pd(s + t, _mm256_add_pd(_mm256_loadu_pd(s + t), _mm256_mul_pd(v, v)));
    }
    av__sqdev_f64_scalar(s + t, x + t, mu + t, d - t);
}

/* Four rows at a time, one per lane: four columns of the four rows loaded and transposed, then
   added column by column, so each lane adds its row's squares in order. */
AV_TARGET static void avx2_sumsq_rows(const float *X, size_t ld, size_t n, size_t d, double *ss)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *x = X + i * ld;
        __m256d acc = _mm256_setzero_pd();
        size_t t = 0;
        for (; t + 4 <= d; t += 4) {
            __m128 c0 = _mm_loadu_ps(x + t), c1 = _mm_loadu_ps(x + ld + t),
                   c2 = _mm_loadu_ps(x + 2 * ld + t), c3 = _mm_loadu_ps(x + 3 * ld + t);
            _MM_TRANSPOSE4_PS(c0, c1, c2, c3); /* c0: column t of the four rows, ... */
            __m256d v = _mm256_cvtps_pd(c0);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(v, v)); /* the products are exact */
            v = _mm256_cvtps_pd(c1);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(v, v));
            v = _mm256_cvtps_pd(c2);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(v, v));
            v = _mm256_cvtps_pd(c3);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(v, v));
        }
        for (; t < d; t++) {
            __m256d v = _mm256_cvtps_pd(_mm_setr_ps(x[t], x[ld + t], x[2 * ld + t], x[3 * ld + t]));
            acc = _mm256_add_pd(acc, _mm256_mul_pd(v, v));
        }
        _mm256_storeu_pd(ss + i, acc);
    }
    av__sumsq_rows_scalar(X + i * ld, ld, n - i, d, ss + i);
}

AV_TARGET static size_t avx2_argmin_d2(const float *g, const float *csq, size_t k, float xs,
                                       float *best)
{
    if (k < 16)
        return av__argmin_d2_scalar(g, csq, k, xs, best);
    const __m256 m2 = _mm256_set1_ps(-2.0f), x = _mm256_set1_ps(xs), z = _mm256_setzero_ps();
    __m256 mn = _mm256_set1_ps(INFINITY);
    size_t j = 0;
    for (; j + 8 <= k; j += 8) {
        __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(m2, _mm256_loadu_ps(g + j)), x),
                                 _mm256_loadu_ps(csq + j));
        mn = _mm256_min_ps(mn, _mm256_max_ps(v, z)); /* max(v, 0): v > 0 ? v : 0 */
    }
    float lanes[8], bv;
    _mm256_storeu_ps(lanes, mn);
    bv = lanes[0];
    for (unsigned u = 1; u < 8; u++)
        bv = lanes[u] < bv ? lanes[u] : bv;
    float tail;
    size_t tj = av__argmin_d2_scalar(g + j, csq + j, k - j, xs, &tail);
    if (j < k && tail < bv) { /* the tail holds the strict minimum: its first index wins */
        *best = tail;
        return j + tj;
    }
    /* the first index whose value equals the minimum */
    const __m256 b8 = _mm256_set1_ps(bv);
    for (size_t i = 0; i + 8 <= j; i += 8) {
        __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(m2, _mm256_loadu_ps(g + i)), x),
                                 _mm256_loadu_ps(csq + i));
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_max_ps(v, z), b8, _CMP_EQ_OQ));
        if (mask) {
            *best = bv;
            return i + (size_t)__builtin_ctz((unsigned)mask);
        }
    }
    *best = bv; /* not reached for finite inputs; the minimum is among the blocks */
    return 0;
}

const av_kernels av__kernels_avx2 = {"avx2",           avx2_dots_f32,    avx2_dots_f16,
                                     avx2_dots_i8,     avx2_dots_f32_multi,
                                     avx2_absmax_bits, avx2_quant_i8,    avx2_dots_i8f,
                                     avx2_sqnorm8,     avx2_scale_f64,   avx2_fixed_add,
                                     avx2_argmin_d2,   av__crc32_x86,    avx2_add_f64,
                                     avx2_sqdev_f64,   avx2_sumsq_rows,
                                     avx2_scale_sqnorm8};
#else
typedef int av_avx2_unused_; /* ISO C forbids an empty translation unit */
#endif
