/* Scalar reference kernels: the definition every SIMD backend is tested against (docs/PERFORMANCE.md
   gives the tolerance). Eight independent accumulators (summed pairwise at the end) so that the
   compiler can pipeline them and so that the summation order resembles the 8-lane SIMD kernels.
   The batch kernel is the single-query kernel per query, so both give identical bits. */
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

#define LANES 8
/* Absolute-value mask of an IEEE binary32 bit pattern, and the smallest pattern of Inf/NaN. */
#define AV_F32_ABS_MASK 0x7FFFFFFFu

static float dot_f32(const float *a, const float *b, size_t d)
{
    float acc[LANES] = {0};
    size_t t = 0;
    for (; t + LANES <= d; t += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += a[t + l] * b[t + l];
    for (; t < d; t++)
        acc[t % LANES] += a[t] * b[t];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static void scalar_dots_f32(const float *C, size_t ld, size_t k, size_t d, const float *q,
                            float *out)
{
    for (size_t j = 0; j < k; j++)
        out[j] = dot_f32(C + j * ld, q, d);
}

static void scalar_dots_f32_multi(const float *C, size_t ld, size_t k, size_t d, const float *Q,
                                  size_t ldq, size_t nq, float *out, size_t ldo)
{
    for (size_t i = 0; i < nq; i++)
        scalar_dots_f32(C, ld, k, d, Q + i * ldq, out + i * ldo);
}

static void scalar_dots_f16(const uint16_t *C, size_t ld, size_t k, size_t d, const float *q,
                            float *out)
{
    for (size_t j = 0; j < k; j++) {
        const uint16_t *row = C + j * ld;
        float acc[LANES] = {0};
        size_t t = 0;
        for (; t + LANES <= d; t += LANES)
            for (int l = 0; l < LANES; l++)
                acc[l] += av__f16_to_f32(row[t + l]) * q[t + l];
        for (; t < d; t++)
            acc[t % LANES] += av__f16_to_f32(row[t]) * q[t];
        out[j] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

static void scalar_dots_i8(const int8_t *C, size_t ld, size_t k, size_t d, const int8_t *q8,
                           int32_t *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        int32_t acc = 0; /* exact: |sum| <= 128*127*AV_MAX_DIM < 2^31 */
        for (size_t t = 0; t < d; t++)
            acc += (int32_t)row[t] * (int32_t)q8[t];
        out[j] = acc;
    }
}

static uint32_t scalar_absmax_bits(const float *q, size_t d)
{
    uint32_t m = 0;
    for (size_t t = 0; t < d; t++) {
        uint32_t x;
        memcpy(&x, q + t, sizeof x);
        x &= AV_F32_ABS_MASK;
        m = x > m ? x : m;
    }
    return m;
}

static void scalar_quant_i8(const float *q, size_t d, float mul, int8_t *q8)
{
    /* One float multiply, then round half to even (the default rounding mode, as the SIMD
       conversions do): every backend quantises to the same bytes. */
    for (size_t t = 0; t < d; t++)
        q8[t] = (int8_t)lrintf(q[t] * mul);
}

static void scalar_dots_i8f(const int8_t *C, size_t ld, size_t k, size_t d, const float *q,
                            float *out)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *row = C + j * ld;
        float acc[LANES] = {0};
        size_t t = 0;
        for (; t + LANES <= d; t += LANES)
            for (int l = 0; l < LANES; l++)
                acc[l] += (float)row[t + l] * q[t + l];
        for (; t < d; t++)
            acc[t % LANES] += (float)row[t] * q[t];
        out[j] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

float av__sqnorm8_scalar(const float *x, size_t d)
{
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t t = 0;
    for (; t + 8 <= d; t += 8)
        for (unsigned u = 0; u < 8; u++)
            a[u] += (double)x[t + u] * x[t + u];
    return av__sqnorm8_finish(a, x, t, d);
}

void av__scale_f64_scalar(float *dst, const float *src, size_t d, double inv)
{
    for (size_t t = 0; t < d; t++)
        dst[t] = (float)((double)src[t] * inv);
}

float av__scale_sqnorm8_scalar(float *dst, const float *src, size_t d, double inv)
{
    av__scale_f64_scalar(dst, src, d, inv);
    return av__sqnorm8_scalar(dst, d);
}

void av__fixed_add_scalar(int64_t *s, const float *x, size_t d)
{
    for (size_t t = 0; t < d; t++)
        s[t] += (int64_t)((double)x[t] * AV_KERN_FIXED_ONE);
}

void av__add_f64_scalar(double *s, const float *x, size_t d)
{
    for (size_t t = 0; t < d; t++)
        s[t] += (double)x[t];
}

void av__sqdev_f64_scalar(double *s, const float *x, const double *mu, size_t d)
{
    for (size_t t = 0; t < d; t++) {
        double v = (double)x[t] - mu[t];
        s[t] += v * v; /* ISO C mode: no contraction into an FMA */
    }
}

void av__sumsq_rows_scalar(const float *X, size_t ld, size_t n, size_t d, double *ss)
{
    for (size_t i = 0; i < n; i++) {
        const float *x = X + i * ld;
        double s = 0.0;
        for (size_t t = 0; t < d; t++) {
            double v = (double)x[t];
            s += v * v;
        }
        ss[i] = s;
    }
}

size_t av__argmin_d2_scalar(const float *g, const float *csq, size_t k, float xs, float *best)
{
    size_t b = 0;
    float bv = INFINITY;
    for (size_t j = 0; j < k; j++) {
        float v = -2.0f * g[j] + xs + csq[j];
        v = v > 0.0f ? v : 0.0f;
        if (v < bv) {
            bv = v;
            b = j;
        }
    }
    *best = bv;
    return b;
}

const av_kernels av__kernels_scalar = {"scalar",          scalar_dots_f32,    scalar_dots_f16,
                                       scalar_dots_i8,    scalar_dots_f32_multi,
                                       scalar_absmax_bits, scalar_quant_i8,  scalar_dots_i8f,
                                       av__sqnorm8_scalar, av__scale_f64_scalar,
                                       av__fixed_add_scalar, av__argmin_d2_scalar,
                                       av__crc32_scalar,   av__add_f64_scalar,
                                       av__sqdev_f64_scalar, av__sumsq_rows_scalar,
                                       av__scale_sqnorm8_scalar};

/* IEEE 754 binary16 conversions, round to nearest even; NaN stays NaN, overflow becomes Inf. */
uint16_t av__f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xFFu;
    uint32_t mant = x & 0x7FFFFFu;
    if (exp == 0xFFu) /* Inf or NaN */
        return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0u));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) { /* subnormal or zero in half precision */
        if (e < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (half & 1u)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u)))
        half++; /* may carry into the exponent, which is the correct rounding */
    return (uint16_t)half;
}

float av__f16_to_f32(uint16_t h)
{
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t exp = ((uint32_t)h >> 10) & 0x1Fu;
    uint32_t mant = (uint32_t)h & 0x3FFu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while ((mant & 0x400u) == 0);
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
        }
    } else if (exp == 0x1Fu) {
        x = sign | 0x7F800000u | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}
