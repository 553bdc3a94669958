/* AArch64 Advanced SIMD (NEON) kernels; an empty translation unit elsewhere. Advanced SIMD is
   mandatory on AArch64, so no target attribute is needed. Same structure as avx2.c: one 4-lane
   accumulator per (query, row) pair, rows blocked so that one query load feeds NE_ROWS rows, a
   scalar tail added after a fixed reduction, so single-query and batch kernels agree bit for bit. */
#if defined(__aarch64__)
#include "kernels/kernels.h"

#include <arm_neon.h>
#include <math.h>
#include <string.h>

#define AV_INLINE static inline __attribute__((always_inline))
#define W 4u        /* floats per vector */
#define NE_ROWS 8u  /* rows per block of the single-query kernels */
#define NE_MQ 4u    /* queries per block of the batch kernel */
#define NE_MROWS 4u /* rows per block of the batch kernel: 16 accumulators of 32 registers */
#define NE_I8_STEP 16u

AV_INLINE float hsum(float32x4_t v)
{
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
}

AV_INLINE void blk_f32(const float *C, size_t ld, size_t d, const float *Q, size_t ldq, float *out,
                       size_t ldo, const unsigned R, const unsigned NQ)
{
    float32x4_t acc[NE_MQ][NE_ROWS];
    for (unsigned i = 0; i < NQ; i++)
        for (unsigned r = 0; r < R; r++)
            acc[i][r] = vdupq_n_f32(0.0f);
    size_t t = 0;
    for (; t + W <= d; t += W) {
        float32x4_t qv[NE_MQ];
        for (unsigned i = 0; i < NQ; i++)
            qv[i] = vld1q_f32(Q + i * ldq + t);
        for (unsigned r = 0; r < R; r++) {
            float32x4_t c = vld1q_f32(C + r * ld + t);
            for (unsigned i = 0; i < NQ; i++)
                acc[i][r] = vfmaq_f32(acc[i][r], c, qv[i]);
        }
    }
    if (t < d) { /* the tail through zero-padded copies: the same fused step as the body */
        float cq[W] = {0};
        for (unsigned i = 0; i < NQ; i++) {
            memcpy(cq, Q + i * ldq + t, (d - t) * sizeof(float));
            float32x4_t qv = vld1q_f32(cq);
            for (unsigned r = 0; r < R; r++) {
                float cc[W] = {0};
                memcpy(cc, C + r * ld + t, (d - t) * sizeof(float));
                acc[i][r] = vfmaq_f32(acc[i][r], vld1q_f32(cc), qv);
            }
        }
    }
    for (unsigned i = 0; i < NQ; i++)
        for (unsigned r = 0; r < R; r++)
            out[i * ldo + r] = hsum(acc[i][r]);
}

static void neon_dots_f32(const float *C, size_t ld, size_t k, size_t d, const float *q, float *out)
{
    size_t j = 0;
    for (; j + NE_ROWS <= k; j += NE_ROWS)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, NE_ROWS, 1);
    for (; j < k; j++)
        blk_f32(C + j * ld, ld, d, q, 0, out + j, 0, 1, 1);
}

static void neon_dots_f32_multi(const float *C, size_t ld, size_t k, size_t d, const float *Q,
                                size_t ldq, size_t nq, float *out, size_t ldo)
{
    size_t i = 0;
    for (; i + NE_MQ <= nq; i += NE_MQ) {
        size_t j = 0;
        for (; j + NE_MROWS <= k; j += NE_MROWS)
            blk_f32(C + j * ld, ld, d, Q + i * ldq, ldq, out + i * ldo + j, ldo, NE_MROWS, NE_MQ);
        for (; j < k; j++)
            blk_f32(C + j * ld, ld, d, Q + i * ldq, ldq, out + i * ldo + j, ldo, 1, NE_MQ);
    }
    for (; i < nq; i++)
        neon_dots_f32(C, ld, k, d, Q + i * ldq, out + i * ldo);
}

static void neon_dots_f16(const uint16_t *C, size_t ld, size_t k, size_t d, const float *q,
                          float *out)
{
    for (size_t j = 0; j < k; j++) {
        const uint16_t *row = C + j * ld;
        float32x4_t acc = vdupq_n_f32(0.0f);
        size_t t = 0;
        for (; t + W <= d; t += W) {
            float16x4_t h = vreinterpret_f16_u16(vld1_u16(row + t));
            acc = vfmaq_f32(acc, vcvt_f32_f16(h), vld1q_f32(q + t));
        }
        float s = hsum(acc);
        for (; t < d; t++)
            s += av__f16_to_f32(row[t]) * q[t];
        out[j] = s;
    }
}

static void neon_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d, const int8_t *q8,
                         int32_t *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        int32x4_t acc = vdupq_n_s32(0);
        size_t t = 0;
        for (; t + NE_I8_STEP <= d; t += NE_I8_STEP) {
            int8x16_t c = vld1q_s8(row + t), qv = vld1q_s8(q8 + t);
            int16x8_t lo = vmull_s8(vget_low_s8(c), vget_low_s8(qv));
            int16x8_t hi = vmull_s8(vget_high_s8(c), vget_high_s8(qv));
            acc = vpadalq_s16(acc, lo);
            acc = vpadalq_s16(acc, hi);
        }
        int32_t s = vaddvq_s32(acc);
        for (; t < d; t++)
            s += (int32_t)row[t] * (int32_t)q8[t];
        out[j] = s;
    }
}

static uint32_t neon_absmax_bits(const float *q, size_t d)
{
    const uint32x4_t absm = vdupq_n_u32(0x7FFFFFFFu);
    uint32x4_t m = vdupq_n_u32(0);
    size_t t = 0;
    for (; t + W <= d; t += W)
        m = vmaxq_u32(m, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(q + t)), absm));
    uint32_t r = vmaxvq_u32(m);
    for (; t < d; t++) {
        uint32_t x;
        memcpy(&x, q + t, sizeof x);
        x &= 0x7FFFFFFFu;
        r = x > r ? x : r;
    }
    return r;
}

static void neon_quant_i8(const float *q, size_t d, float mul, int8_t *q8)
{
    size_t t = 0;
    for (; t + W <= d; t += W) {
        int32x4_t v = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(q + t), mul)); /* round half even */
        int16x4_t h = vmovn_s32(v);
        int8x8_t b = vmovn_s16(vcombine_s16(h, h));
        q8[t] = vget_lane_s8(b, 0);
        q8[t + 1] = vget_lane_s8(b, 1);
        q8[t + 2] = vget_lane_s8(b, 2);
        q8[t + 3] = vget_lane_s8(b, 3);
    }
    for (; t < d; t++)
        q8[t] = (int8_t)lrintf(q[t] * mul);
}

static void neon_dots_i8f(const int8_t *C, size_t ld, size_t k, size_t d, const float *q,
                          float *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
        size_t t = 0;
        for (; t + 2 * W <= d; t += 2 * W) {
            int16x8_t h = vmovl_s8(vld1_s8(row + t));
            float32x4_t c0 = vcvtq_f32_s32(vmovl_s16(vget_low_s16(h)));
            float32x4_t c1 = vcvtq_f32_s32(vmovl_s16(vget_high_s16(h)));
            a0 = vfmaq_f32(a0, c0, vld1q_f32(q + t));
            a1 = vfmaq_f32(a1, c1, vld1q_f32(q + t + W));
        }
        float s = hsum(vaddq_f32(a0, a1));
        for (; t < d; t++)
            s += (float)row[t] * q[t];
        out[j] = s;
    }
}

const av_kernels av__kernels_neon = {"neon",           neon_dots_f32,    neon_dots_f16,
                                     neon_dots_i8,     neon_dots_f32_multi,
                                     neon_absmax_bits, neon_quant_i8,    neon_dots_i8f,
    av__sqnorm8_scalar, av__scale_f64_scalar, av__fixed_add_scalar, av__argmin_d2_scalar,
    av__crc32_scalar, av__add_f64_scalar, av__sqdev_f64_scalar,
    av__sumsq_rows_scalar, av__scale_sqnorm8_scalar};
#else
typedef int av_neon_unused_; /* ISO C forbids an empty translation unit */
#endif
