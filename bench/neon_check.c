/* The NEON kernels against the scalar reference, built with an AArch64 cross compiler and run under
   qemu-user (`make neon-cross-check`, mk/bench.mk), so that src/kernels/neon.c is executed on an x86
   development machine too. Same checks and tolerance as tests/unit/kernels/test_simd.c: float kernels within
   1e-5 of sum |c q|, the batch kernel bit-identical to the single-query kernel, int8 sums,
   validation and quantisation exact. Links only the SIMD files (no BLAS, no zlib). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-5
#define PAD 3

static uint64_t lcg = 4242;
static float urand(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

int main(void)
{
    const av_kernels *n = av__kernels_by_name("neon"), *s = &av__kernels_scalar;
    int failed = 0, passed = 0;
    if (!n) {
        printf("neon backend not available in this build\n0 passed, 1 failed\n");
        return 1;
    }
    const size_t dims[] = {1, 3, 4, 7, 8, 15, 16, 17, 100, 384, 1000, 4096};
    const size_t ks[] = {1, 3, 8, 9, 13};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            size_t d = dims[di], k = ks[ki], ld = d + PAD, nq = 6;
            float *C = malloc(ld * k * 4), *Q = malloc(ld * nq * 4), a[16], b[16], mo[6 * 16];
            uint16_t *H = malloc(ld * k * 2);
            int8_t *I = malloc(ld * k), *q8 = malloc(ld), q8b[4096 + PAD];
            int32_t ia[16], ib[16];
            int bad = 0;
            for (size_t t = 0; t < ld * k; t++) {
                C[t] = urand();
                H[t] = av__f32_to_f16(C[t]);
                I[t] = (int8_t)(C[t] * 127.0f);
            }
            for (size_t t = 0; t < ld * nq; t++)
                Q[t] = urand();
            for (size_t t = 0; t < d; t++)
                q8[t] = (int8_t)(Q[t] * 127.0f);
            /* float rows, float16 rows, int8 rows x float query: within the tolerance */
            for (int kind = 0; kind < 3; kind++) {
                if (kind == 0) {
                    s->dots_f32(C, ld, k, d, Q, a);
                    n->dots_f32(C, ld, k, d, Q, b);
                } else if (kind == 1) {
                    s->dots_f16(H, ld, k, d, Q, a);
                    n->dots_f16(H, ld, k, d, Q, b);
                } else {
                    s->dots_i8f(I, ld, k, d, Q, a);
                    n->dots_i8f(I, ld, k, d, Q, b);
                }
                for (size_t j = 0; j < k; j++) {
                    double scale = 0;
                    for (size_t t = 0; t < d; t++) {
                        double c = kind == 0 ? C[j * ld + t]
                                   : kind == 1 ? av__f16_to_f32(H[j * ld + t])
                                               : I[j * ld + t];
                        scale += fabs(c * Q[t]);
                    }
                    if (!(fabs((double)a[j] - b[j]) <= TOL * scale + 1e-30)) {
                        printf("  kind %d d=%zu k=%zu j=%zu: %g vs %g\n", kind, d, k, j,
                               (double)a[j], (double)b[j]);
                        bad = 1;
                    }
                }
            }
            /* batch kernel == single-query kernel, bit for bit */
            n->dots_f32_multi(C, ld, k, d, Q, ld, nq, mo, 16);
            for (size_t i = 0; i < nq; i++) {
                n->dots_f32(C, ld, k, d, Q + i * ld, b);
                if (memcmp(b, mo + i * 16, k * 4) != 0) {
                    printf("  multi d=%zu k=%zu query %zu differs\n", d, k, i);
                    bad = 1;
                }
            }
            /* exact parts */
            s->dots_i8(I, ld, k, d, q8, ia);
            n->dots_i8(I, ld, k, d, q8, ib);
            bad |= memcmp(ia, ib, k * 4) != 0;
            bad |= s->absmax_bits(Q, d) != n->absmax_bits(Q, d);
            s->quant_i8(Q, d, 100.0f, q8);
            n->quant_i8(Q, d, 100.0f, q8b);
            bad |= memcmp(q8, q8b, d) != 0;
            Q[d - 1] = NAN;
            bad |= n->absmax_bits(Q, d) < 0x7F800000u;
            if (bad) {
                printf("FAIL d=%zu k=%zu\n", d, k);
                failed++;
            } else {
                passed++;
            }
            free(C), free(Q), free(H), free(I), free(q8);
        }
    printf("neon vs scalar: %d shapes\n%d passed, %d failed\n", passed + failed, passed, failed);
    return failed != 0;
}
