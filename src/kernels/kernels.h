/* The kernels layer: SIMD similarity kernels over plain arrays and their dispatch. */
#ifndef AV_KERNELS_H
#define AV_KERNELS_H

#include "base/base.h"

/* ---- SIMD kernels (kernels/) ---- */
/* out[j] = dot(C + j*ld, q) over d elements, for j < k (ld >= d is the row stride in elements).
   Rows of a router's centroids start 64-byte aligned when ld is a multiple of 16. */
typedef void (*av_dots_f32_fn)(const float *C, size_t ld, size_t k, size_t d, const float *q,
                               float *out);
/* Same for float16 rows (IEEE binary16 bit patterns). */
typedef void (*av_dots_f16_fn)(const uint16_t *C, size_t ld, size_t k, size_t d, const float *q,
                               float *out);
/* int8 rows: out[j] = sum_t C[j*ld+t]*q8[t] computed exactly in integers (callers apply the row
   and query scales). */
typedef void (*av_dots_i8_fn)(const int8_t *C, size_t ld, size_t k, size_t d, const int8_t *q8,
                              int32_t *out);
/* nq queries (query i at Q + i*ldq): out[i*ldo + j] = dot(C + j*ld, Q + i*ldq), bit for bit what
   dots_f32 gives for that query (same per-pair summation order; av_route_batch relies on it). */
typedef void (*av_dots_f32_multi_fn)(const float *C, size_t ld, size_t k, size_t d,
                                     const float *Q, size_t ldq, size_t nq, float *out,
                                     size_t ldo);
/* max over t of the IEEE bit pattern of |q[t]| (exact, so identical on every backend): 0 means a
   zero vector, >= 0x7F800000 an Inf or NaN somewhere. */
typedef uint32_t (*av_absmax_bits_fn)(const float *q, size_t d);
/* q8[t] = round-half-even(q[t] * mul) (one float multiply; identical on every backend). */
typedef void (*av_quant_i8_fn)(const float *q, size_t d, float mul, int8_t *q8);
/* int8 rows against a float query: out[j] = sum_t (float)C[j*ld+t] * q[t] (int8 re-scoring). */
typedef void (*av_dots_i8f_fn)(const int8_t *C, size_t ld, size_t k, size_t d, const float *q,
                               float *out);

/* Row kernels of the sampled k-means passes (train/scale.c). Each rounds every element the same
   way in the same order as its scalar definition below, or is exact, so every backend gives the
   scalar result bit for bit (tests/unit/kernels/test_rowkern.c).
   sqnorm8: a[t % 8] += (double)x[t] * x[t] for t in order (each product is exact in double), then
   (float)(((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))). */
typedef float (*av_sqnorm8_fn)(const float *x, size_t d);
/* sqnorm8's end, shared by the backends: lanes a[0..7] hold the sums of the elements before t (a
   multiple of 8); the squares of x[t..d) are added, then the lanes in the fixed order. */
static inline float av__sqnorm8_finish(double *a, const float *x, size_t t, size_t d)
{
    for (unsigned u = 0; t < d; t++, u++)
        a[u] += (double)x[t] * x[t];
    return (float)(((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])));
}
/* dst[t] = (float)((double)src[t] * inv). */
typedef void (*av_scale_f64_fn)(float *dst, const float *src, size_t d, double inv);
/* scale_f64 and then sqnorm8 of dst, returned: one pass over the row (the passes over borrowed
   rows normalise each row and need its squared norm). */
typedef float (*av_scale_sqnorm8_fn)(float *dst, const float *src, size_t d, double inv);
/* s[t] += (int64_t)((double)x[t] * 2^32), truncated toward zero; requires |x[t]| <= 2^18 (the
   scaled value below 2^50). 2^32 is AV_KMEANS_FIXED_ONE, the sampled k-means' fixed-point unit. */
#define AV_KERN_FIXED_ONE 4294967296.0
/* SIMD truncation of an integral double below 2^51 in magnitude to int64 (AVX2 and AVX-512F have
   no packed double-to-int64 conversion): add 2^52 + 2^51 (exact: the exponent stays 52) and
   subtract the bit patterns. */
#define AV_KERN_I64_MAGIC 6755399441055744.0
typedef void (*av_fixed_add_fn)(int64_t *s, const float *x, size_t d);
/* s[t] += (double)x[t] for t < d (full-batch k-means' centroid sums, train/kmeans.c): each
   element one exact conversion and one double addition, so every backend is the scalar loop. */
typedef void (*av_add_f64_fn)(double *s, const float *x, size_t d);
/* s[t] += v * v with v = (double)x[t] - mu[t] (a multiply and an add, never fused): k-means'
   mean variance, the same doubles on every backend. */
typedef void (*av_sqdev_f64_fn)(double *s, const float *x, const double *mu, size_t d);
/* ss[i] = (((0 + x0*x0) + x1*x1) + ...) over the d values of row i (at X + i*ld), in double, in
   order: av__normalize's sum (each product is exact in double, so a fused multiply-add rounds as
   the separate add does). The SIMD backends take several rows at once, one per lane, so each row's
   additions keep their order. */
typedef void (*av_sumsq_rows_fn)(const float *X, size_t ld, size_t n, size_t d, double *ss);
/* The nearest of k squared distances v_j = max(((-2 * g[j]) + xs) + csq[j], 0) (float, in that
   order): the first j with the smallest v_j (0 when k = 0), its v_j in *best. */
typedef size_t (*av_argmin_d2_fn)(const float *g, const float *csq, size_t k, float xs,
                                  float *best);
/* zlib's crc32(crc, p, n), bit for bit (kernels/crc32.c): the running CRC of the bytes before, or
   0 for none, continued over n bytes (unaligned). */
typedef uint32_t (*av_crc32_fn)(uint32_t crc, const void *p, size_t n);

typedef struct av_kernels {
    const char *name;
    av_dots_f32_fn dots_f32;
    av_dots_f16_fn dots_f16;
    av_dots_i8_fn dots_i8;
    av_dots_f32_multi_fn dots_f32_multi;
    av_absmax_bits_fn absmax_bits;
    av_quant_i8_fn quant_i8;
    av_dots_i8f_fn dots_i8f;
    av_sqnorm8_fn sqnorm8;
    av_scale_f64_fn scale_f64;
    av_fixed_add_fn fixed_add;
    av_argmin_d2_fn argmin_d2;
    av_crc32_fn crc32;
    av_add_f64_fn add_f64;
    av_sqdev_f64_fn sqdev_f64;
    av_sumsq_rows_fn sumsq_rows;
    av_scale_sqnorm8_fn scale_sqnorm8;
} av_kernels;

/* The active kernel set, resolved once (av__once) from the CPU and AV_SIMD. */
AV_HIDDEN const av_kernels *av__kernels(void);
/* A specific backend by name ("scalar", "avx2", "avx512", "neon", "wasm-simd128"), or NULL if not compiled in or
   not supported by this CPU. Tests and bench compare backends through it (they link the static
   library, so hidden symbols are visible to them). */
AV_HIDDEN const av_kernels *av__kernels_by_name(const char *name);
AV_HIDDEN extern const av_kernels av__kernels_scalar;
/* The scalar row kernels (the definitions; backends without their own use these). */
AV_HIDDEN float av__sqnorm8_scalar(const float *x, size_t d);
AV_HIDDEN void av__scale_f64_scalar(float *dst, const float *src, size_t d, double inv);
AV_HIDDEN float av__scale_sqnorm8_scalar(float *dst, const float *src, size_t d, double inv);
AV_HIDDEN void av__fixed_add_scalar(int64_t *s, const float *x, size_t d);
AV_HIDDEN void av__add_f64_scalar(double *s, const float *x, size_t d);
AV_HIDDEN void av__sqdev_f64_scalar(double *s, const float *x, const double *mu, size_t d);
AV_HIDDEN void av__sumsq_rows_scalar(const float *X, size_t ld, size_t n, size_t d, double *ss);
AV_HIDDEN size_t av__argmin_d2_scalar(const float *g, const float *csq, size_t k, float xs,
                                      float *best);
/* CRC-32 (kernels/crc32.c): zlib's own (the scalar backend's, and the others' without their own);
   on x86 PCLMULQDQ where the CPU has it (the avx2 backend) and VPCLMULQDQ on 512-bit vectors where
   it has that (the avx512 backends), each falling back to the next when the CPU lacks it. */
AV_HIDDEN uint32_t av__crc32_scalar(uint32_t crc, const void *p, size_t n);
#if defined(__x86_64__) || defined(__i386__)
AV_HIDDEN uint32_t av__crc32_x86(uint32_t crc, const void *p, size_t n);
AV_HIDDEN uint32_t av__crc32_x86_512(uint32_t crc, const void *p, size_t n);
#endif

/* float16 <-> float32, round to nearest even (scalar reference, used by converters). */
AV_HIDDEN uint16_t av__f32_to_f16(float f);
AV_HIDDEN float av__f16_to_f32(uint16_t h);

#endif
