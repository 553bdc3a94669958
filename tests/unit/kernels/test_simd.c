/* SIMD backends against the scalar reference: every backend that av__kernels_by_name() reports
   for this CPU runs (the others are skipped and named), on random data of many shapes including
   odd dimensions, within the tolerance documented in docs/PERFORMANCE.md; the batch kernel equal
   to the single-query kernel bit for bit; int8 sums, validation and quantisation exact; routing
   decisions on the real fixture identical to scalar except counted near-ties; AV_SIMD override. */
#include "internal.h" /* first: it declares the experimental interfaces too */
#include "harness.h"
#include "testdata.h"

#include <math.h>
#include <stdint.h>

/* docs/PERFORMANCE.md: |dot_backend - dot_scalar| <= AV_TOL_REL * sum_t |c_t q_t|. */
#define AV_TOL_REL 1e-5

static const char *const BACKENDS[] = {"scalar", "avx2", "avx512", "avx512vnni", "neon",
                                       "wasm-simd128"};
#define N_BACKENDS (sizeof BACKENDS / sizeof BACKENDS[0])
static const char *self_path = "build/tests/test_simd";

/* Deterministic uniform floats in [-1, 1) (64-bit LCG, high bits). */
static uint64_t lcg_state = 12345;
static float urand(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* sqnorm8's definition (kernels.h), computed here: lane t % 8 sums the exact squares in order,
   then the lanes in the fixed tree. */
static float sqnorm8_def(const float *x, size_t d)
{
    double a[8] = {0};
    for (size_t t = 0; t < d; t++)
        a[t % 8] += (double)x[t] * (double)x[t];
    return (float)(((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])));
}

static size_t available(const av_kernels **ks)
{
    size_t n = 0;
    for (size_t b = 0; b < N_BACKENDS; b++) {
        const av_kernels *k = av__kernels_by_name(BACKENDS[b]);
        if (k)
            ks[n++] = k;
    }
    return n;
}

TEST(test_backends_listed)
{
    const av_kernels *ks[N_BACKENDS];
    size_t n = available(ks);
    CHECK(n >= 1);
    CHECK(ks[0] == &av__kernels_scalar);
    printf("     backends run:");
    for (size_t i = 0; i < n; i++)
        printf(" %s", ks[i]->name);
    printf("; skipped (not on this CPU or build):");
    for (size_t b = 0; b < N_BACKENDS; b++)
        if (!av__kernels_by_name(BACKENDS[b]))
            printf(" %s", BACKENDS[b]);
    printf("; active: %s\n", av_simd_backend());
    CHECK(av__kernels_by_name("sse9") == NULL);
    CHECK(av__kernels_by_name(NULL) == NULL);
    /* the active backend is one of the available ones */
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found = found || strcmp(ks[i]->name, av_simd_backend()) == 0;
    CHECK(found);
}

static const size_t DIMS[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 384, 1000, 4096};
static const size_t KS[] = {1, 3, 4, 5, 8, 9, 13, 64};
#define N_DIMS (sizeof DIMS / sizeof DIMS[0])
#define N_KS (sizeof KS / sizeof KS[0])
#define PAD 5 /* row stride = d + PAD: kernels must honour ld */

TEST(test_dots_f32_and_f16_vs_scalar)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nb = available(ks);
    size_t maxd = 4096, maxk = 64;
    float *C = malloc((maxd + PAD) * maxk * sizeof(float));
    uint16_t *H = malloc((maxd + PAD) * maxk * sizeof(uint16_t));
    float *q = malloc(maxd * sizeof(float));
    float ref[64], out[64], refh[64], outh[64], refi[64], outi[64];
    int8_t *I = malloc((maxd + PAD) * maxk);
    REQUIRE(C && H && q && I);
    size_t cases = 0;
    double worst = 0.0;
    for (size_t di = 0; di < N_DIMS; di++)
        for (size_t ki = 0; ki < N_KS; ki++) {
            size_t d = DIMS[di], k = KS[ki], ld = d + PAD;
            for (size_t t = 0; t < ld * k; t++) {
                C[t] = urand();
                H[t] = av__f32_to_f16(C[t]);
                I[t] = (int8_t)(C[t] * 127.0f);
            }
            for (size_t t = 0; t < d; t++)
                q[t] = urand();
            av__kernels_scalar.dots_f32(C, ld, k, d, q, ref);
            av__kernels_scalar.dots_f16(H, ld, k, d, q, refh);
            av__kernels_scalar.dots_i8f(I, ld, k, d, q, refi);
            for (size_t b = 1; b < nb; b++) {
                ks[b]->dots_i8f(I, ld, k, d, q, outi);
                for (size_t j = 0; j < k; j++) {
                    double scale = 0;
                    for (size_t t = 0; t < d; t++)
                        scale += fabs((double)I[j * ld + t] * q[t]);
                    CHECK(fabs((double)outi[j] - refi[j]) <= AV_TOL_REL * scale + 1e-30);
                }
                ks[b]->dots_f32(C, ld, k, d, q, out);
                ks[b]->dots_f16(H, ld, k, d, q, outh);
                for (size_t j = 0; j < k; j++) {
                    double scale = 0, scaleh = 0;
                    for (size_t t = 0; t < d; t++) {
                        scale += fabs((double)C[j * ld + t] * q[t]);
                        scaleh += fabs((double)av__f16_to_f32(H[j * ld + t]) * q[t]);
                    }
                    double e = fabs((double)out[j] - ref[j]) / scale;
                    double eh = fabs((double)outh[j] - refh[j]) / scaleh;
                    worst = fmax(worst, fmax(e, eh));
                    if (!(e <= AV_TOL_REL) || !(eh <= AV_TOL_REL)) {
                        fprintf(stderr, "  %s d=%zu k=%zu j=%zu: f32 %g vs %g, f16 %g vs %g\n",
                                ks[b]->name, d, k, j, (double)out[j], (double)ref[j],
                                (double)outh[j], (double)refh[j]);
                        CHECK(e <= AV_TOL_REL && eh <= AV_TOL_REL);
                    }
                }
                cases++;
            }
        }
    printf("     %zu backend x shape cases, worst relative deviation %.3g (tolerance %g)\n", cases,
           worst, AV_TOL_REL);
    /* the scalar reference itself against a double-precision dot */
    for (size_t j = 0; j < 8; j++) {
        size_t d = 1000;
        double exact = 0, scale = 0;
        for (size_t t = 0; t < d; t++) {
            exact += (double)C[j * d + t] * q[t];
            scale += fabs((double)C[j * d + t] * q[t]);
        }
        av__kernels_scalar.dots_f32(C + j * d, d, 1, d, q, ref);
        CHECK(fabs(ref[0] - exact) <= AV_TOL_REL * scale);
    }
    free(C);
    free(H);
    free(I);
    free(q);
}

TEST(test_multi_equals_single_bitwise)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nb = available(ks);
    const size_t dims[] = {1, 7, 17, 100, 384, 1000};
    const size_t kks[] = {13, 70}; /* within one group of centroids, and across two (64 + 6) */
    const size_t nqmax = 11;
    for (size_t ki = 0; ki < sizeof kks / sizeof kks[0]; ki++)
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
            size_t kk = kks[ki], ldo = kk + 3, d = dims[di], ld = d + 3, ldq = d + 1;
            float *C = malloc(ld * kk * sizeof(float)), *Q = malloc(ldq * nqmax * sizeof(float));
            float *single = malloc(kk * sizeof(float)), *multi = malloc(nqmax * ldo * sizeof(float));
            REQUIRE(C && Q && single && multi);
            for (size_t t = 0; t < ld * kk; t++)
                C[t] = urand();
            for (size_t t = 0; t < ldq * nqmax; t++)
                Q[t] = urand();
            for (size_t b = 0; b < nb; b++)
                for (size_t nq = 1; nq <= nqmax; nq++) {
                    ks[b]->dots_f32_multi(C, ld, kk, d, Q, ldq, nq, multi, ldo);
                    for (size_t i = 0; i < nq; i++) {
                        ks[b]->dots_f32(C, ld, kk, d, Q + i * ldq, single);
                        if (memcmp(single, multi + i * ldo, kk * sizeof(float)) != 0) {
                            fprintf(stderr, "  %s k=%zu d=%zu nq=%zu query %zu differs\n",
                                    ks[b]->name, kk, d, nq, i);
                            CHECK(0);
                        }
                    }
                }
            free(C), free(Q), free(single), free(multi);
        }
}

TEST(test_int8_exact_and_quantisation)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nb = available(ks);
    const size_t dims[] = {1, 15, 31, 32, 33, 63, 64, 65, 100, 384, 4096};
    int8_t *C = malloc(4100 * 9), q8[4096], q8r[4096];
    float *q = malloc(4096 * sizeof(float));
    int32_t ref[9], out[9];
    REQUIRE(C && q);
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        size_t d = dims[di], ld = d + 4;
        for (size_t t = 0; t < ld * 9; t++)
            C[t] = (int8_t)(urand() * 127.5f); /* stored values are -127..127 */
        C[0] = -127;
        for (size_t t = 0; t < d; t++)
            q8[t] = (int8_t)(urand() * 127.0f);
        q8[0] = -127; /* the extreme products -127 * -127 and 127 * -127 */
        C[ld] = 127;
        q8[1 % d] = -127;
        av__kernels_scalar.dots_i8(C, ld, 9, d, q8, ref);
        for (size_t b = 1; b < nb; b++) {
            ks[b]->dots_i8(C, ld, 9, d, q8, out);
            CHECK(memcmp(ref, out, sizeof ref) == 0);
        }
        /* quantisation: random values plus exact halfway cases (x.5 after the multiply) */
        for (size_t t = 0; t < d; t++)
            q[t] = urand();
        if (d >= 4) {
            q[1] = 2.5f / 100.0f, q[2] = -3.5f / 100.0f, q[3] = 1.0f;
        }
        float mul = 100.0f;
        av__kernels_scalar.quant_i8(q, d, mul, q8r);
        for (size_t b = 1; b < nb; b++) {
            memset(q8, 0x55, sizeof q8);
            ks[b]->quant_i8(q, d, mul, q8);
            CHECK(memcmp(q8, q8r, d) == 0);
        }
    }
    /* round half to even on an exact halfway product: 0.5*5 = 2.5 -> 2, 0.5*7 = 3.5 -> 4 */
    const float hw[] = {0.5f, -0.5f, 1.5f};
    int8_t o[3];
    for (size_t b = 0; b < nb; b++) {
        ks[b]->quant_i8(hw, 3, 5.0f, o);
        CHECK(o[0] == 2 && o[1] == -2 && o[2] == 8);
    }
    free(C);
    free(q);
}

TEST(test_absmax_bits_exact)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nb = available(ks);
    float v[1000];
    for (size_t d = 1; d <= 1000; d += 37) {
        for (size_t t = 0; t < d; t++)
            v[t] = urand() * 3.0f;
        uint32_t ref = av__kernels_scalar.absmax_bits(v, d);
        float fr;
        memcpy(&fr, &ref, 4);
        float mx = 0;
        for (size_t t = 0; t < d; t++)
            mx = fmaxf(mx, fabsf(v[t]));
        CHECK(fr == mx);
        for (size_t b = 1; b < nb; b++) {
            CHECK_EQ_INT(ks[b]->absmax_bits(v, d), ref);
            float keep = v[d - 1];
            v[d - 1] = NAN; /* in the tail as well as in the body */
            CHECK(ks[b]->absmax_bits(v, d) >= 0x7F800000u);
            v[d - 1] = -INFINITY;
            CHECK(ks[b]->absmax_bits(v, d) >= 0x7F800000u);
            v[d - 1] = keep;
        }
    }
    memset(v, 0, sizeof v);
    v[5] = -0.0f;
    for (size_t b = 0; b < nb; b++)
        CHECK_EQ_INT(ks[b]->absmax_bits(v, 1000), 0);
}

/* Routing decisions of every backend on the fixture, for each centroid type, against scalar. A
   decision may differ only at a near-tie: where the scalar similarities at the top-p boundary
   (p-th vs (p+1)-th) differ by less than the tolerance, or where the top-p set is the same but
   its order differs (the scoring sums in that order) and the best two model scores are within
   1e-12. Near-ties are counted and printed. */
TEST(test_route_backends_on_fixture)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, fx.d, fx.m, (const char *const *)fx.names) == AV_OK);
    for (size_t i = 0; i < fx.n; i++)
        REQUIRE(av_builder_add(b, TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i)) ==
                AV_OK);
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 2;
    av_router *r32 = NULL;
    REQUIRE(av_builder_fit(b, &o, &r32) == AV_OK);
    const av_kernels *ks[N_BACKENDS];
    size_t nb = available(ks);
    const float alphas[] = {0.0f, 0.5f, 1.0f};
    size_t p = av_router_top_p(r32), k = av_router_n_clusters(r32);
    float *sims = malloc(k * sizeof(float));
    REQUIRE(sims);
    for (int type = AV_CENTROIDS_F32; type <= AV_CENTROIDS_INT8; type++) {
        av_router *r = NULL;
        REQUIRE(av_router_convert(&r, r32, (av_centroid_type)type) == AV_OK);
        size_t diffs = 0, near = 0, decisions = 0;
        const av_kernels *orig = r->ix.kern;
        for (size_t i = 0; i < fx.n; i++) {
            const float *q = TD_EMB(&fx, i);
            r->ix.kern = &av__kernels_scalar;
            int32_t ref[3];
            uint32_t tref[AV_MAX_TOP_P];
            REQUIRE(av__index_nearest(&r->ix, q, p, tref, NULL) == AV_OK);
            for (int a = 0; a < 3; a++)
                ref[a] = av_route(r, q, fx.d, alphas[a]);
            av__index_sims(&r->ix, q, sims);
            for (size_t bk = 1; bk < nb; bk++) {
                r->ix.kern = ks[bk];
                uint32_t tb[AV_MAX_TOP_P];
                REQUIRE(av__index_nearest(&r->ix, q, p, tb, NULL) == AV_OK);
                for (int a = 0; a < 3; a++) {
                    int32_t got = av_route(r, q, fx.d, alphas[a]);
                    decisions++;
                    if (got == ref[a])
                        continue;
                    diffs++;
                    /* the boundary margin in scalar similarities */
                    float sp = sims[tref[p - 1]], next = -INFINITY;
                    for (size_t j = 0; j < k; j++) {
                        bool in = false;
                        for (size_t u = 0; u < p; u++)
                            in = in || tref[u] == j;
                        if (!in && sims[j] > next)
                            next = sims[j];
                    }
                    bool boundary = (double)sp - next < AV_TOL_REL;
                    bool same_set = true;
                    for (size_t u = 0; u < p; u++) {
                        bool f = false;
                        for (size_t v = 0; v < p; v++)
                            f = f || tb[v] == tref[u];
                        same_set = same_set && f;
                    }
                    double sc[AV_MAX_MODELS] = {0}, row[AV_ROW_NORM * AV_MAX_MODELS];
                    const av_table *tab = av__table(r);
                    for (size_t u = 0; u < p; u++) { /* the rule's sums over the clusters */
                        av__table_read(tab, tref[u], 0, AV_ROW_NORM * tab->m, row);
                        av__rule_add(row, 1.0, alphas[a], tab->m, sc);
                    }
                    double s1 = sc[ref[a]], s2 = sc[got];
                    bool score_tie = same_set && fabs(s1 - s2) < 1e-12;
                    if (boundary || score_tie)
                        near++;
                    else
                        CHECK(boundary || score_tie);
                }
            }
        }
        r->ix.kern = orig;
        printf("     %s centroids: %zu decisions compared with scalar, %zu differ, %zu of them "
               "near-ties\n",
               type == 0 ? "f32" : type == 1 ? "f16" : "int8", decisions, diffs, near);
        av_router_free(r);
    }
    free(sims);
    av_router_free(r32);
    av_builder_free(b);
    td_free_fixture(&fx);
}

/* AV_SIMD is read once per process: run this binary again with it set. */
static int child_backend(const char *env, char *out, size_t n)
{
    char cmd[1024];
#ifdef _WIN32
    /* no `VAR=value command` in cmd.exe: the child inherits this process's environment */
    if (_putenv_s("AV_SIMD", env) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "\"%s\" --print-backend 2>&1", self_path);
    FILE *f = _popen(cmd, "r");
#else
    const char *runner = getenv("AV_TEST_RUNNER"); /* an emulator (qemu-user) runs the binary */
    snprintf(cmd, sizeof cmd, "AV_SIMD=%s %s %s --print-backend 2>&1", env, runner ? runner : "",
             self_path);
    FILE *f = popen(cmd, "r");
#endif
    if (!f)
        return -1;
    size_t got = fread(out, 1, n - 1, f);
    out[got] = '\0';
#ifdef _WIN32
    _putenv_s("AV_SIMD", "");
    return _pclose(f);
#else
    return pclose(f);
#endif
}

TEST(test_env_override)
{
    char out[1024];
    REQUIRE(child_backend("scalar", out, sizeof out) == 0);
    CHECK(strstr(out, "backend=scalar router=scalar") != NULL);
    CHECK(strstr(out, "libavengers:") == NULL); /* no warning */
    const av_kernels *ks[N_BACKENDS];
    size_t nb = available(ks);
    for (size_t b = 0; b < nb; b++) {
        char want[64];
        REQUIRE(child_backend(ks[b]->name, out, sizeof out) == 0);
        snprintf(want, sizeof want, "backend=%s ", ks[b]->name);
        CHECK(strstr(out, want) != NULL);
    }
    /* an unavailable or unknown backend falls back with a warning */
    for (size_t b = 0; b < N_BACKENDS + 1; b++) {
        const char *name = b < N_BACKENDS ? BACKENDS[b] : "sse9";
        if (av__kernels_by_name(name))
            continue;
        REQUIRE(child_backend(name, out, sizeof out) == 0);
        CHECK(strstr(out, "libavengers: AV_SIMD=") != NULL);
        char want[64];
        snprintf(want, sizeof want, "backend=%s ", av_simd_backend()); /* the best one */
        CHECK(strstr(out, want) != NULL);
    }
}

/* The row kernels of the sampled k-means passes: every backend equals the definitions of
   kernels.h bit for bit (computed here independently: long double sums, trunc, a plain scan). */
TEST(test_row_kernels_exact)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nb = available(ks);
    const size_t dims[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 100, 384, 1023};
    float x[1024], y[1024], g[300], csq[300];
    int64_t s0[1024], s1[1024];
    double f0[1024], f1[1024];
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        size_t d = dims[di];
        for (int rep = 0; rep < 20; rep++) {
            for (size_t t = 0; t < d; t++)
                x[t] = urand() * (rep % 3 == 0 ? 1.0f : 0.05f);
            float want = sqnorm8_def(x, d); /* the defined lane sums (products exact in double) */
            double inv = 1.0 / (0.5 + (double)(rep + 1) / 7.0);
            for (size_t t = 0; t < d; t++)
                s0[t] = (int64_t)(rep * 1000003) - (int64_t)t * 77;
            for (size_t b = 0; b < nb; b++) {
                float got = ks[b]->sqnorm8(x, d);
                CHECK(memcmp(&got, &want, sizeof got) == 0);
                ks[b]->scale_f64(y, x, d, inv);
                size_t bad = 0;
                for (size_t t = 0; t < d; t++)
                    bad += y[t] != (float)((long double)x[t] * inv);
                CHECK(bad == 0);
                /* scale_sqnorm8: the same row, and the lane sums of its squares */
                {
                    float z[1024], wz = sqnorm8_def(y, d);
                    float gz = ks[b]->scale_sqnorm8(z, x, d, inv);
                    CHECK(memcmp(&gz, &wz, sizeof gz) == 0);
                    CHECK(memcmp(z, y, d * sizeof *z) == 0);
                }
                memcpy(s1, s0, d * sizeof *s1);
                ks[b]->fixed_add(s1, x, d);
                bad = 0;
                for (size_t t = 0; t < d; t++)
                    bad += s1[t] != s0[t] + (int64_t)truncl((long double)x[t] * 4294967296.0L);
                CHECK(bad == 0);
                /* add_f64: one double addition per element onto a running sum */
                for (size_t t = 0; t < d; t++)
                    f0[t] = (double)(rep - 10) / 3.0 + (double)t * 1e-3;
                memcpy(f1, f0, d * sizeof *f1);
                ks[b]->add_f64(f1, x, d);
                ks[b]->add_f64(f1, y, d);
                bad = 0;
                for (size_t t = 0; t < d; t++) {
                    volatile double want2 = f0[t] + (double)x[t]; /* rounded to double */
                    want2 = want2 + (double)y[t];
                    bad += f1[t] != want2;
                }
                CHECK(bad == 0);
                /* sqdev_f64: (x - mu)^2 rounded, then added (never one fused operation) */
                memcpy(f1, f0, d * sizeof *f1);
                ks[b]->sqdev_f64(f1, x, f0, d);
                bad = 0;
                for (size_t t = 0; t < d; t++) {
                    volatile double v = (double)x[t] - f0[t];
                    volatile double sq = v * v;
                    volatile double want3 = f0[t] + sq;
                    bad += f1[t] != want3;
                }
                CHECK(bad == 0);
            }
        }
    }
    /* sqnorm8 and scale_sqnorm8 on a row whose float depends on the order of the lane sums: lanes
       0 and 4 make 1 + 2^-24 (a tie between two floats) and lanes 1 and 5 hold 2^-53 each
       (elements 1, 9, 5, 13 of 2^-27), which the defined order adds to each other first, keeping
       2^-52 and rounding the float up; adding a lane 1 or 5 to lane 0 first loses it (random rows
       cannot tell the orders apart: the double sums differ far below a float's last bit) */
    {
        float z[40] = {0}, zy[40];
        z[0] = 1.0f;
        z[4] = 0x1p-12f;
        z[1] = z[9] = z[5] = z[13] = 0x1p-27f;
        for (size_t d = 16; d <= 40; d += 8) {
            float want = sqnorm8_def(z, d);
            CHECK(want == 1.0f + 0x1p-23f); /* the definition keeps the 2^-52 */
            for (size_t b = 0; b < nb; b++) {
                float g1 = ks[b]->sqnorm8(z, d), g2 = ks[b]->scale_sqnorm8(zy, z, d, 1.0);
                CHECK(memcmp(&g1, &want, sizeof want) == 0);
                CHECK(memcmp(&g2, &want, sizeof want) == 0);
            }
        }
    }
    /* sumsq_rows: each row's sum in order (av__normalize's), for row counts around the SIMD
       widths, a row stride larger than d, and values from subnormal to large */
    {
        enum { NR = 21, LD = 1031 };
        static float X[NR * LD];
        double got[NR];
        const size_t ds[] = {1, 5, 8, 17, 384, 1024};
        for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++)
            for (size_t n = 0; n <= NR; n += (n < 10 ? 1 : 11)) {
                size_t d = ds[di];
                for (size_t i = 0; i < NR * LD; i++)
                    X[i] = urand() * (i % 7 == 0 ? 1e-40f : i % 5 == 0 ? 3e18f : 1.0f);
                for (size_t b = 0; b < nb; b++) {
                    ks[b]->sumsq_rows(X, LD, n, d, got);
                    size_t bad = 0;
                    for (size_t i = 0; i < n; i++) {
                        volatile double s = 0.0;
                        for (size_t t = 0; t < d; t++)
                            s = s + (double)X[i * LD + t] * (double)X[i * LD + t];
                        bad += got[i] != s;
                    }
                    CHECK(bad == 0);
                }
            }
    }
    /* fixed_add at the edges of its range: +-1, tiny values, values just below an integer */
    const float edge[] = {1.0f, -1.0f, 0.0f, -0.0f, 1e-12f, -1e-12f, 0.99999994f, -0.99999994f,
                          2.3283064e-10f, -2.3283064e-10f, 3.0f, -262144.0f};
    for (size_t b = 0; b < nb; b++) {
        int64_t acc[12] = {0};
        ks[b]->fixed_add(acc, edge, 12);
        size_t bad = 0;
        for (size_t t = 0; t < 12; t++)
            bad += acc[t] != (int64_t)truncl((long double)edge[t] * 4294967296.0L);
        CHECK(bad == 0);
    }
    /* argmin_d2: ties go to the first index; clamped negatives are 0; every k and position */
    for (size_t k = 0; k <= 300; k += (k < 40 ? 1 : 37)) {
        for (int rep = 0; rep < 6; rep++) {
            float xs = 1.0f + urand() * 1e-3f;
            for (size_t j = 0; j < k; j++) {
                g[j] = 0.3f * urand();
                csq[j] = 1.0f + 0.01f * urand();
            }
            if (k > 2 && rep >= 2) { /* a duplicated minimum, later and earlier */
                size_t j1 = (size_t)(rep * 7919) % k, j2 = (size_t)(rep * 104729 + 3) % k;
                g[j1] = g[j2] = 0.9f;
                csq[j1] = csq[j2] = 1.0f;
            }
            if (k > 0 && rep == 5) /* everything clamps to 0: index 0 */
                for (size_t j = 0; j < k; j++)
                    g[j] = 5.0f, csq[j] = 1.0f;
            size_t wj = 0;
            float wv = INFINITY;
            for (size_t j = 0; j < k; j++) {
                float v = (-2.0f * g[j] + xs) + csq[j];
                if (!(v > 0.0f))
                    v = 0.0f;
                if (v < wv)
                    wv = v, wj = j;
            }
            for (size_t b = 0; b < nb; b++) {
                float bv = -1.0f;
                size_t j = ks[b]->argmin_d2(g, csq, k, xs, &bv);
                CHECK(j == wj);
                CHECK(memcmp(&bv, &wv, sizeof bv) == 0);
            }
        }
    }
}

static const th_test TESTS[] = {
    T(test_backends_listed),         T(test_dots_f32_and_f16_vs_scalar),
    T(test_multi_equals_single_bitwise), T(test_int8_exact_and_quantisation),
    T(test_absmax_bits_exact),       T(test_route_backends_on_fixture),
    T(test_env_override),            T(test_row_kernels_exact),
};

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc > 1 && strcmp(argv[1], "--print-backend") == 0) {
        const char *names[] = {"x"};
        const float c[] = {1};
        const double one[] = {1};
        av_router *r = NULL;
        if (av_router_from_parts(&r, 1, 1, 1, names, c, one, one, one, 1) != AV_OK)
            return 1;
        printf("backend=%s router=%s\n", av_simd_backend(), av_router_simd_backend(r));
        av_router_free(r);
        return 0;
    }
    return th_run(TESTS, sizeof TESTS / sizeof TESTS[0], argc, argv);
}
