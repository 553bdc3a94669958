/* The SAMPLED trainer's bounded passes (docs/SCALING.md, "Bounded passes"): rows whose cluster a
   bound proves unchanged are not searched, and the result must be the unbounded trainer's bit for
   bit. Expectations, for data shapes chosen to exercise every path (one group of centroids, a
   short last group, groups of more than 8, structure and none, copied / borrowed / source rows in
   one builder, several chunks on two threads, an ensemble, one centroid, one dimension): the
   router saved with bounds equals the one saved with AV_KMEANS_BOUNDS=off byte for byte; every
   pass reports the same inertia and shift; with bounds off every pass searches every row; with bounds on the first pass does, and on
   clustered data the later passes search fewer. The same checks run again in child processes on
   every other SIMD backend this CPU has (AV_SIMD is read once per process). */
#include "internal.h"
#include "harness.h"
#include "saved_bytes.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *self_path = "build/tests/unit/train/test_bounds";

static void set_env(const char *name, const char *value)
{
#ifdef _WIN32
    _putenv_s(name, value ? value : "");
#else
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
#endif
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 11;
}

static float unif(uint64_t *x) /* [-0.5, 0.5) */
{
    return (float)((double)lcg(x) / 9007199254740992.0) - 0.5f;
}

/* n rows of dimension d around `centres` random directions (noise relative to 1; centres 0:
   no structure), two models whose scores depend on the row's centre; a few exact duplicates. */
typedef struct data {
    size_t n, d;
    float *E, *S, *C;
} data;

static data make_data(size_t n, size_t d, size_t centres, float noise, uint64_t seed)
{
    data D = {n, d, malloc(n * d * sizeof(float)), malloc(n * 2 * sizeof(float)),
              malloc(n * 2 * sizeof(float))};
    float *mu = malloc((centres ? centres : 1) * d * sizeof(float));
    uint64_t x = seed;
    for (size_t c = 0; c < centres * d; c++)
        mu[c] = unif(&x);
    for (size_t i = 0; i < n; i++) {
        size_t c = centres ? (size_t)(lcg(&x) % centres) : 0;
        for (size_t t = 0; t < d; t++)
            D.E[i * d + t] = (centres ? mu[c * d + t] : 0.0f) + noise * unif(&x);
        if (i % 97 == 3 && i > 0) /* an exact duplicate of the row before */
            memcpy(D.E + i * d, D.E + (i - 1) * d, d * sizeof(float));
        D.S[i * 2] = (float)(c % 3) / 2.0f;
        D.S[i * 2 + 1] = 0.75f;
        D.C[i * 2] = 0.1f;
        D.C[i * 2 + 1] = 1.0f + (float)(c % 5);
    }
    free(mu);
    return D;
}

static void free_data(data *D)
{
    free(D->E), free(D->S), free(D->C);
}

/* A row source over the data's rows [off, off + n). */
typedef struct src_ctx {
    const data *D;
    size_t off;
} src_ctx;

static int src_read(void *user, size_t row0, size_t n, float *emb, float *scores, float *costs)
{
    const src_ctx *s = user;
    size_t d = s->D->d, r = s->off + row0;
    memcpy(emb, s->D->E + r * d, n * d * sizeof(float));
    memcpy(scores, s->D->S + r * 2, n * 2 * sizeof(float));
    memcpy(costs, s->D->C + r * 2, n * 2 * sizeof(float));
    return 0;
}

/* What the passes reported. */
enum { MAX_EV = 64 };
typedef struct trace {
    int n;
    uint32_t stage[MAX_EV], pass[MAX_EV];
    double inertia[MAX_EV], shift[MAX_EV];
    size_t searched[MAX_EV], rows[MAX_EV];
} trace;

static void on_pass(void *user, const av_fit_progress *p)
{
    trace *t = user;
    if (t->n >= MAX_EV || p->struct_size < offsetof(av_fit_progress, rows_searched) +
                                               sizeof p->rows_searched)
        return;
    t->stage[t->n] = p->stage;
    t->pass[t->n] = p->pass;
    t->inertia[t->n] = p->inertia;
    t->shift[t->n] = p->shift;
    t->searched[t->n] = p->rows_searched;
    t->rows[t->n] = p->n_rows;
    t->n++;
}

/* How the rows enter the builder: copied, borrowed, or a third each copied / borrowed / source. */
enum { COPIED, BORROWED, MIXED };

static av_router *fit(const data *D, int how, uint32_t k, uint32_t sample, uint32_t members,
                      bool bounds, trace *t, src_ctx *sc)
{
    static const char *const names[] = {"a", "b"};
    av_builder *b = NULL;
    av_router *r = NULL;
    if (av_builder_new(&b, D->d, 2, names) != AV_OK)
        return NULL;
    size_t third = D->n / 3;
    bool ok = true;
    if (how == COPIED) {
        for (size_t i = 0; i < D->n && ok; i++)
            ok = av_builder_add(b, D->E + i * D->d, D->d, D->S + i * 2, D->C + i * 2) == AV_OK;
    } else if (how == BORROWED) {
        ok = av_builder_add_borrowed(b, D->E, D->n, D->d, D->S, D->C) == AV_OK;
    } else {
        for (size_t i = 0; i < third && ok; i++)
            ok = av_builder_add(b, D->E + i * D->d, D->d, D->S + i * 2, D->C + i * 2) == AV_OK;
        ok = ok && av_builder_add_borrowed(b, D->E + third * D->d, third, D->d, D->S + third * 2,
                                           D->C + third * 2) == AV_OK;
        *sc = (src_ctx){D, 2 * third};
        av_row_source s;
        av_row_source_init(&s);
        s.n_rows = D->n - 2 * third;
        s.dim = D->d;
        s.read = src_read;
        s.user = sc;
        s.block_rows = 512;
        ok = ok && av_builder_add_source(b, &s) == AV_OK;
    }
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = k;
    o.top_p = k < 4 ? k : 4;
    o.algorithm = AV_KMEANS_SAMPLED;
    o.sample_size = sample;
    o.members = members;
    o.n_init = 2;
    o.seed = 7;
    o.pass_progress = on_pass;
    o.progress_user = t;
    memset(t, 0, sizeof *t);
    set_env("AV_KMEANS_BOUNDS", bounds ? NULL : "off");
    if (ok && av_builder_fit(b, &o, &r) != AV_OK)
        r = NULL;
    set_env("AV_KMEANS_BOUNDS", NULL);
    av_builder_free(b);
    return r;
}

/* Bounded and unbounded fits of the same rows: same bytes, same passes; returns the rows the
   bounded passes after the first searched over the rows those passes visited (0..1). */
static double compare(const data *D, int how, uint32_t k, uint32_t sample, uint32_t members)
{
    trace on, off;
    src_ctx s1, s2;
    av_router *rb = fit(D, how, k, sample, members, true, &on, &s1);
    av_router *ru = fit(D, how, k, sample, members, false, &off, &s2);
    double frac = -1.0;
    CHECK(rb != NULL);
    CHECK(ru != NULL);
    if (rb && ru) {
        /* the two fits may straddle a second: the creation time is not the trainer's result */
        CHECK(av_router_set_meta(rb, "created", "-") == AV_OK);
        CHECK(av_router_set_meta(ru, "created", "-") == AV_OK);
        CHECK(same_bytes(rb, ru));
        CHECK_EQ_INT(on.n, off.n);
        size_t later = 0, visited = 0;
        for (int i = 0; i < on.n && i < off.n; i++) {
            CHECK_EQ_INT(on.stage[i], off.stage[i]);
            CHECK_EQ_INT(on.pass[i], off.pass[i]);
            CHECK(on.inertia[i] == off.inertia[i]);
            CHECK(on.shift[i] == off.shift[i]);
            if (off.stage[i] == AV_FIT_STAGE_SAMPLE) {
                CHECK_EQ_INT(on.searched[i], 0);
                CHECK_EQ_INT(off.searched[i], 0);
                continue;
            }
            CHECK_EQ_INT(off.searched[i], D->n); /* unbounded: every row, every pass */
            CHECK(on.searched[i] <= D->n);
            if (on.stage[i] == AV_FIT_STAGE_PASS && on.pass[i] == 1) {
                CHECK_EQ_INT(on.searched[i], D->n); /* nothing known yet */
            } else {
                later += on.searched[i];
                visited += D->n;
            }
        }
        CHECK(off.n >= 3); /* the sample, at least one pass, the statistics */
        frac = visited ? (double)later / (double)visited : -1.0;
    }
    av_router_free(rb);
    av_router_free(ru);
    return frac;
}

TEST(test_same_router_one_group)
{
    data D = make_data(3000, 13, 6, 0.35f, 1); /* k = 6 < 8: a single group */
    double f = compare(&D, COPIED, 6, 200, 1);
    CHECK(f >= 0.0 && f < 0.5);
    free_data(&D);
}

TEST(test_same_router_short_last_group)
{
    data D = make_data(4000, 40, 70, 0.3f, 2); /* k = 70: 9 groups, the last of 6 */
    double f = compare(&D, BORROWED, 70, 700, 1);
    CHECK(f >= 0.0 && f < 0.9);
    free_data(&D);
}

TEST(test_same_router_without_structure)
{
    data D = make_data(3000, 24, 0, 1.0f, 3); /* noise: many near-ties, few rows pruned */
    double f = compare(&D, BORROWED, 20, 300, 1);
    CHECK(f >= 0.0);
    free_data(&D);
}

TEST(test_same_router_large_groups)
{
    data D = make_data(6000, 8, 600, 0.2f, 4); /* k = 600: groups of 10 */
    double f = compare(&D, COPIED, 600, 3000, 1);
    CHECK(f >= 0.0);
    free_data(&D);
}

TEST(test_same_router_mixed_rows_ensemble)
{
    data D = make_data(3600, 17, 12, 0.4f, 5);
    double f = compare(&D, MIXED, 12, 400, 2);
    CHECK(f >= 0.0 && f < 0.9);
    free_data(&D);
}

TEST(test_same_router_two_threads_many_chunks)
{
    data D = make_data(70000, 6, 16, 0.3f, 6); /* three chunks of 32,768 rows */
    set_env("AV_NUM_THREADS", "2");
    double f = compare(&D, BORROWED, 16, 2000, 1);
    set_env("AV_NUM_THREADS", NULL);
    CHECK(f >= 0.0 && f < 0.9);
    free_data(&D);
}

TEST(test_same_router_tiny_shapes)
{
    data D1 = make_data(1500, 5, 3, 0.5f, 7); /* k = 1: no other centroid, every row bounded */
    double f = compare(&D1, BORROWED, 1, 100, 1);
    CHECK(f >= 0.0 && f < 0.01);
    free_data(&D1);
    data D2 = make_data(1500, 1, 0, 1.0f, 8); /* d = 1: every row is -1 or +1, exact ties */
    f = compare(&D2, COPIED, 2, 100, 1);
    CHECK(f >= 0.0);
    free_data(&D2);
}

/* FULL k-means with bounds (its kernel path: AV_KMEANS_GEMM=simd here, always without BLAS)
   against AV_KMEANS_BOUNDS=off: the same router and inertia, over n_init restarts. */
static void compare_full(const data *D, uint32_t k, uint32_t n_init)
{
    static const char *const names[] = {"a", "b"};
    av_router *r[2] = {NULL, NULL};
    double inertia[2] = {-1, -1};
    set_env("AV_KMEANS_GEMM", "simd");
    for (int off = 0; off < 2; off++) {
        av_builder *b = NULL;
        if (av_builder_new(&b, D->d, 2, names) != AV_OK)
            break;
        bool ok = av_builder_add_borrowed(b, D->E, D->n, D->d, D->S, D->C) == AV_OK;
        av_fit_options o;
        av_fit_options_init(&o);
        o.n_clusters = k;
        o.top_p = k < 4 ? k : 4;
        o.algorithm = AV_KMEANS_FULL;
        o.n_init = n_init;
        o.seed = 11;
        set_env("AV_KMEANS_BOUNDS", off ? "off" : NULL);
        if (ok && av_builder_fit(b, &o, &r[off]) == AV_OK)
            inertia[off] = av_builder_inertia(b);
        set_env("AV_KMEANS_BOUNDS", NULL);
        av_builder_free(b);
    }
    set_env("AV_KMEANS_GEMM", NULL);
    CHECK(r[0] != NULL && r[1] != NULL);
    if (r[0] && r[1]) {
        CHECK(av_router_set_meta(r[0], "created", "-") == AV_OK);
        CHECK(av_router_set_meta(r[1], "created", "-") == AV_OK);
        CHECK(same_bytes(r[0], r[1]));
        CHECK(inertia[0] == inertia[1] && inertia[0] > 0);
    }
    av_router_free(r[0]);
    av_router_free(r[1]);
}

TEST(test_same_router_full_kernel_path)
{
    data D1 = make_data(3000, 40, 70, 0.3f, 9); /* 9 groups, the last of 6 */
    compare_full(&D1, 70, 3);
    free_data(&D1);
    data D2 = make_data(2500, 13, 0, 1.0f, 10); /* no structure */
    compare_full(&D2, 24, 2);
    free_data(&D2);
    /* 300 rows, every other one a duplicate: clusters empty out and are relocated */
    data D3 = make_data(300, 6, 5, 0.05f, 11);
    for (size_t i = 1; i < D3.n; i += 2)
        memcpy(D3.E + i * D3.d, D3.E + (i - 1) * D3.d, D3.d * sizeof(float));
    compare_full(&D3, 60, 2);
    free_data(&D3);
}

/* k-means takes the kernel path (with its bounds) whatever OpenBLAS offers, unless
   AV_KMEANS_GEMM=blas, and the public av_kmeans_fit_sample is FULL on that path: the same
   centroids bit for bit as the builder's FULL fit of the same raw rows. */
TEST(test_sample_kernel_path)
{
    data D = make_data(2000, 24, 30, 0.2f, 12);
    const uint32_t k = 30;
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = k;
    o.top_p = 4;
    o.n_init = 2;
    o.seed = 5;
    float *C = malloc(k * D.d * sizeof(float)), *Xn = malloc(D.n * D.d * sizeof(float));
    double inertia = -1, tol = -1;
    CHECK_EQ_INT(av_kmeans_fit_sample(D.E, D.n, D.d, &o, C, &inertia, &tol), AV_OK);
    /* the builder's FULL, from the same raw rows */
    static const char *const names[] = {"a", "b"};
    av_builder *b = NULL;
    av_router *r = NULL;
    CHECK_EQ_INT(av_builder_new(&b, D.d, 2, names), AV_OK);
    CHECK_EQ_INT(av_builder_add_borrowed(b, D.E, D.n, D.d, D.S, D.C), AV_OK);
    av_fit_options of = o;
    of.algorithm = AV_KMEANS_FULL;
    CHECK_EQ_INT(av_builder_fit(b, &of, &r), AV_OK);
    if (r) {
        float *cj = malloc(D.d * sizeof(float));
        size_t bad = 0;
        for (size_t j = 0; j < k; j++) {
            av__index_centroid(&r->ix, j, cj);
            bad += memcmp(cj, C + j * D.d, D.d * sizeof(float)) != 0;
        }
        free(cj);
        CHECK_EQ_INT((int)bad, 0);
        CHECK(av_builder_inertia(b) == inertia);
    }
    av_router_free(r);
    av_builder_free(b);
    /* the kernel path by default, and the override */
    for (size_t i = 0; i < D.n; i++) { /* unit rows, as the trainer's are */
        double s = 0;
        for (size_t t = 0; t < D.d; t++)
            s += (double)D.E[i * D.d + t] * D.E[i * D.d + t];
        for (size_t t = 0; t < D.d; t++)
            Xn[i * D.d + t] = (float)(D.E[i * D.d + t] / sqrt(s));
    }
    av_kmeans_result km;
    CHECK_EQ_INT(av__kmeans(Xn, D.n, D.d, &o, &km), AV_OK);
    CHECK(!km.blas);
    av__kmeans_result_free(&km);
    set_env("AV_KMEANS_GEMM", "blas");
    CHECK_EQ_INT(av__kmeans(Xn, D.n, D.d, &o, &km), AV_OK);
#ifdef AV_NO_BLAS
    CHECK(!km.blas); /* nothing to force */
#else
    CHECK(km.blas);
#endif
    av__kmeans_result_free(&km);
    set_env("AV_KMEANS_GEMM", NULL);
    free(C), free(Xn);
    free_data(&D);
}

/* The checks above on every other SIMD backend, each in a child process. */
TEST(test_every_backend)
{
    static const char *const names[] = {"scalar", "avx2", "avx512", "avx512vnni", "neon",
                                        "wasm-simd128"};
    const char *active = av_simd_backend();
    int ran = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(names[i], active) == 0 || !av__kernels_by_name(names[i]))
            continue;
        char cmd[1024];
#ifdef _WIN32
        _putenv_s("AV_SIMD", names[i]);
        snprintf(cmd, sizeof cmd, "\"%s\" test_same_router >NUL 2>&1", self_path);
        int rc = system(cmd);
        _putenv_s("AV_SIMD", "");
#else
        const char *runner = getenv("AV_TEST_RUNNER");
        snprintf(cmd, sizeof cmd, "AV_SIMD=%s %s %s test_same_router >/dev/null 2>&1", names[i],
                 runner ? runner : "", self_path);
        int rc = system(cmd);
#endif
        if (rc != 0)
            fprintf(stderr, "  backend %s: the bounded passes differ (run AV_SIMD=%s %s)\n",
                    names[i], names[i], self_path);
        CHECK_EQ_INT(rc, 0);
        ran++;
    }
    printf("  (%d other backend%s checked)\n", ran, ran == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
    static const th_test tests[] = {T(test_same_router_one_group),
                                    T(test_same_router_short_last_group),
                                    T(test_same_router_without_structure),
                                    T(test_same_router_large_groups),
                                    T(test_same_router_mixed_rows_ensemble),
                                    T(test_same_router_two_threads_many_chunks),
                                    T(test_same_router_tiny_shapes),
                                    T(test_same_router_full_kernel_path),
                                    T(test_sample_kernel_path),
                                    T(test_every_backend)};
    self_path = argv[0];
    return th_run(tests, sizeof tests / sizeof tests[0], argc, argv);
}
