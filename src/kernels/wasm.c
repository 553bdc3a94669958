/* WebAssembly SIMD128 kernels (Emscripten with -msimd128); an empty translation unit elsewhere.
   SIMD128 is a compile-time feature of the module (a runtime without it refuses to load the
   module), so the backend is chosen at compile time: a build with -msimd128 has it, one without
   has the scalar kernels alone. Same structure as neon.c: one 4-lane accumulator per (query, row)
   pair, rows blocked so that one query load feeds WA_ROWS rows, a fixed reduction, so that the
   single-query and batch kernels agree bit for bit. SIMD128 has no fused multiply-add (that is in
   the later relaxed-SIMD proposal): each step is a multiply then an add, each rounded. */
#if defined(__wasm_simd128__)
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>
#include <wasm_simd128.h>

#define AV_INLINE static inline __attribute__((always_inline))
#define W 4u        /* floats per vector */
#define WA_ROWS 8u  /* rows per block of the single-query kernels */
#define WA_MQ 4u    /* queries per block of the batch kernel */
#define WA_MROWS 4u /* rows per block of the batch kernel */
#define WA_I8_STEP 16u

AV_INLINE float hsum(v128_t v)
{
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 2)) +
           (wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 3));
}

AV_INLINE v128_t madd(v128_t acc, v128_t a, v128_t b)
{
    return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
}

AV_INLINE void blk_f32(const float *C, size_t ld, size_t d, const float *Q, size_t ldq, float *out,
                       size_t ldo, const unsigned R, const unsigned NQ)
{
    v128_t acc[WA_MQ][WA_ROWS];
    for (unsigned i = 0; i < NQ; i++)
        for (unsigned r = 0; r < R; r++)
            acc[i][r] = wasm_f32x4_splat(0.0f);
    size_t t = 0;
    for (; t + W <= d; t += W) {
        v128_t qv[WA_MQ];
        for (unsigned i = 0; i < NQ; i++)
            qv[i] = wasm_v128_load(Q + i * ldq + t);
        for (unsigned r = 0; r < R; r++) {
            v128_t c = wasm_v128_load(C + r * ld + t);
            for (unsigned i = 0; i < NQ; i++)
                acc[i][r] = madd(acc[i][r], c, qv[i]);
        }
    }
    if (t < d) { /* the tail through zero-padded copies: the same step as the body */
        for (unsigned i = 0; i < NQ; i++) {
            float cq[W] = {0};
            memcpy(cq, Q + i * ldq + t, (d - t) * sizeof(float));
            v128_t qv = wasm_v128_load(cq);
            for (unsigned r = 0; r < R; r++) {
                float cc[W] = {0};
                memcpy(cc, C + r * ld + t, (d - t) * sizeof(float));
                acc[i][r] = madd(acc[i][r], wasm_v128_load(cc), qv);
            }
        }
    }
    for (unsigned i = 0; i < NQ; i++)
        for (unsigned r = 0; r < R; r++)
            out[i * ldo + r] = hsum(acc[i][r]);
}

static void wasm_dots_f32(const float *C, size_t ld, size_t k, size_t d, const float *q, float *out)
{
    size_t j = 0;
    for (; j + WA_ROWS <= k; j += WA_ROWS)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, WA_ROWS, 1);
    for (; j < k; j++)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, 1, 1);
}

static void wasm_dots_f32_multi(const float *C, size_t ld, size_t k, size_t d, const float *Q,
                                size_t ldq, size_t nq, float *out, size_t ldo)
{
    size_t i = 0;
    for (; i + WA_MQ <= nq; i += WA_MQ) {
        size_t j = 0;
        for (; j + WA_MROWS <= k; j += WA_MROWS)
            blk_f32(C + j * ld, ld, d, Q + i * ldq, ldq, out + i * ldo + j, ldo, WA_MROWS, WA_MQ);
        for (; j < k; j++)
            blk_f32(C + j * ld, ld, d, Q + i * ldq, ldq, out + i * ldo + j, ldo, 1, WA_MQ);
    }
    for (; i < nq; i++)
        wasm_dots_f32(C, ld, k, d, Q + i * ldq, out + i * ldo);
}

static void wasm_dots_f16(const uint16_t *C, size_t ld, size_t k, size_t d, const float *q,
                          float *out)
{
    for (size_t j = 0; j < k; j++) { /* no half-precision conversion in SIMD128 */
        const uint16_t *row = C + j * ld;
        v128_t acc = wasm_f32x4_splat(0.0f);
        size_t t = 0;
        for (; t + W <= d; t += W) {
            v128_t c = wasm_f32x4_make(av__f16_to_f32(row[t]), av__f16_to_f32(row[t + 1]),
                                       av__f16_to_f32(row[t + 2]), av__f16_to_f32(row[t + 3]));
            acc = madd(acc, c, wasm_v128_load(q + t));
        }
        float s = hsum(acc);
        for (; t < d; t++)
            s += av__f16_to_f32(row[t]) * q[t];
        out[j] = s;
    }
}

static void wasm_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d, const int8_t *q8,
                         int32_t *out)
{
    for (size_t j = 0; j < k; j++) { /* exact: int16 products summed pairwise into int32 */
        const int8_t *row = C + j * ld;
        v128_t acc = wasm_i32x4_splat(0);
        size_t t = 0;
        for (; t + WA_I8_STEP <= d; t += WA_I8_STEP) {
            v128_t c = wasm_v128_load(row + t), qv = wasm_v128_load(q8 + t);
            acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(c),
                                                           wasm_i16x8_extend_low_i8x16(qv)));
            acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(c),
                                                           wasm_i16x8_extend_high_i8x16(qv)));
        }
        int32_t s = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
                    wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
        for (; t < d; t++)
            s += (int32_t)row[t] * (int32_t)q8[t];
        out[j] = s;
    }
}

static uint32_t wasm_absmax_bits(const float *q, size_t d)
{
    const v128_t absm = wasm_u32x4_splat(0x7FFFFFFFu);
    v128_t m = wasm_u32x4_splat(0);
    size_t t = 0;
    for (; t + W <= d; t += W)
        m = wasm_u32x4_max(m, wasm_v128_and(wasm_v128_load(q + t), absm));
    uint32_t r = 0;
    for (unsigned l = 0; l < W; l++) {
        uint32_t x = (uint32_t)wasm_i32x4_extract_lane(m, 0);
        m = wasm_i32x4_shuffle(m, m, 1, 2, 3, 0);
        r = x > r ? x : r;
    }
    for (; t < d; t++) {
        uint32_t x;
        memcpy(&x, q + t, sizeof x);
        x &= 0x7FFFFFFFu;
        r = x > r ? x : r;
    }
    return r;
}

static void wasm_quant_i8(const float *q, size_t d, float mul, int8_t *q8)
{
    const v128_t m = wasm_f32x4_splat(mul);
    size_t t = 0;
    for (; t + W <= d; t += W) { /* f32x4.nearest rounds half to even, as lrintf does */
        v128_t v = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(q + t), m)));
        q8[t] = (int8_t)wasm_i32x4_extract_lane(v, 0);
        q8[t + 1] = (int8_t)wasm_i32x4_extract_lane(v, 1);
        q8[t + 2] = (int8_t)wasm_i32x4_extract_lane(v, 2);
        q8[t + 3] = (int8_t)wasm_i32x4_extract_lane(v, 3);
    }
    for (; t < d; t++)
        q8[t] = (int8_t)lrintf(q[t] * mul);
}

static void wasm_dots_i8f(const int8_t *C, size_t ld, size_t k, size_t d, const float *q,
                          float *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = wasm_f32x4_splat(0.0f);
        size_t t = 0;
        for (; t + 2 * W <= d; t += 2 * W) {
            v128_t h = wasm_i16x8_extend_low_i8x16(wasm_v128_load64_zero(row + t));
            v128_t c0 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(h));
            v128_t c1 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(h));
            a0 = madd(a0, c0, wasm_v128_load(q + t));
            a1 = madd(a1, c1, wasm_v128_load(q + t + W));
        }
        float s = hsum(wasm_f32x4_add(a0, a1));
        for (; t < d; t++)
            s += (float)row[t] * q[t];
        out[j] = s;
    }
}

const av_kernels av__kernels_wasm_simd128 = {
    "wasm-simd128",   wasm_dots_f32,    wasm_dots_f16,
    wasm_dots_i8,     wasm_dots_f32_multi, wasm_absmax_bits,
    wasm_quant_i8,    wasm_dots_i8f,
    av__sqnorm8_scalar, av__scale_f64_scalar, av__fixed_add_scalar, av__argmin_d2_scalar,
    av__crc32_scalar, av__add_f64_scalar, av__sqdev_f64_scalar,
    av__sumsq_rows_scalar, av__scale_sqnorm8_scalar};
#else
typedef int av_wasm_unused_; /* ISO C forbids an empty translation unit */
#endif
