/* av_route_batch: decisions identical to av_route (the blocked multi-query path computes the same
   similarities bit for bit), on the real fixture and on random data with exact ties, for every
   backend this CPU runs and every centroid type; strides; bad rows; extreme magnitudes. */
#include "internal.h" /* first: it declares the experimental interfaces too */
#include "harness.h"
#include "testdata.h"

#include <stdint.h>

/* Allocation counter: this test is linked with -Wl,--wrap=malloc,... (mk/tests.mk), so every
   allocation made by the library (and this file) passes through these wrappers. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
static long g_allocs;
void *__wrap_malloc(size_t n)
{
    g_allocs++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b)
{
    g_allocs++;
    return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n)
{
    g_allocs++;
    return __real_realloc(p, n);
}
#ifdef _WIN32
/* Windows: the library's aligned memory comes from _aligned_malloc (src/base/platform.c), wrapped
   instead of posix_memalign (mk/windows.mk). */
void *__real__aligned_malloc(size_t n, size_t align);
void *__wrap__aligned_malloc(size_t n, size_t align);
void *__wrap__aligned_malloc(size_t n, size_t align)
{
    g_allocs++;
    return __real__aligned_malloc(n, align);
}
#else
int __real_posix_memalign(void **p, size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    g_allocs++;
    return __real_posix_memalign(p, align, n);
}
#endif

static const char *const BACKENDS[] = {"scalar", "avx2", "avx512", "avx512vnni", "neon"};
#define N_BACKENDS (sizeof BACKENDS / sizeof BACKENDS[0])

static uint64_t lcg = 777;
static float urand(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static av_router *fixture_router(td_fixture *fx)
{
    av_builder *b = NULL;
    if (av_builder_new(&b, fx->d, fx->m, (const char *const *)fx->names) != AV_OK)
        return NULL;
    for (size_t i = 0; i < fx->n; i++)
        av_builder_add(b, TD_EMB(fx, i), fx->d, TD_SCORES(fx, i), TD_COSTS(fx, i));
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    av_router *r = NULL;
    av_builder_fit(b, &o, &r);
    av_builder_free(b);
    return r;
}

/* Compare av_route_batch with a loop of av_route for every available backend. Returns the number
   of differing rows. */
static size_t compare(av_router *r, const float *rows, size_t n, size_t stride, float alpha)
{
    size_t d = av_router_dim(r), diff = 0;
    int32_t *got = malloc(n * sizeof(int32_t));
    if (!got)
        return n;
    const av_kernels *orig = r->ix.kern;
    for (size_t b = 0; b < N_BACKENDS; b++) {
        const av_kernels *k = av__kernels_by_name(BACKENDS[b]);
        if (!k)
            continue;
        r->ix.kern = k;
        int rc = av_route_batch(r, rows, n, d, stride, alpha, got);
        for (size_t i = 0; i < n; i++) {
            int32_t want = av_route(r, rows + i * stride, d, alpha);
            if (got[i] != want) {
                if (diff < 5)
                    fprintf(stderr, "  %s row %zu: batch %d, av_route %d\n", k->name, i,
                            (int)got[i], (int)want);
                diff++;
            }
            if (want < 0 && rc == AV_OK)
                diff++; /* an error row must make the call fail */
        }
    }
    r->ix.kern = orig;
    free(got);
    return diff;
}

TEST(test_batch_identical_on_fixture)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *r32 = fixture_router(&fx);
    REQUIRE(r32);
    const float alphas[] = {0.0f, 0.3f, 0.5f, 1.0f};
    size_t stride = fx.d + 3; /* rows with padding */
    float *pad = malloc(fx.n * stride * sizeof(float));
    REQUIRE(pad);
    for (size_t i = 0; i < fx.n; i++)
        for (size_t t = 0; t < stride; t++)
            pad[i * stride + t] = t < fx.d ? TD_EMB(&fx, i)[t] : NAN; /* padding is never read */
    for (int type = 0; type <= 2; type++) {
        av_router *r = NULL;
        REQUIRE(av_router_convert(&r, r32, (av_centroid_type)type) == AV_OK);
        for (size_t a = 0; a < 4; a++) {
            CHECK_EQ_INT(compare(r, (const float *)fx.emb.data, fx.n, fx.d, alphas[a]), 0);
            CHECK_EQ_INT(compare(r, pad, fx.n, stride, alphas[a]), 0);
        }
        av_router_free(r);
    }
    /* the same decisions as a plain loop of the default backend, and all models are used */
    int32_t *out = malloc(fx.n * sizeof(int32_t));
    REQUIRE(out);
    CHECK_EQ_INT(av_route_batch(r32, (const float *)fx.emb.data, fx.n, fx.d, fx.d, 0.7f, out),
                 AV_OK);
    size_t used[16] = {0};
    for (size_t i = 0; i < fx.n; i++)
        used[out[i]]++;
    size_t distinct = 0;
    for (size_t i = 0; i < fx.m; i++)
        distinct += used[i] > 0;
    CHECK(distinct >= 2);
    free(out);
    free(pad);
    av_router_free(r32);
    td_free_fixture(&fx);
}

/* Random routers with duplicated centroids (exact ties: the lower index must win in both paths)
   and queries equal to centroids, for odd shapes and batch sizes that leave partial blocks. */
TEST(test_batch_identical_random_with_ties)
{
    const size_t dims[] = {1, 7, 17, 100, 1000}, ks[] = {1, 5, 64, 257};
    const char *names[] = {"a", "b", "c", "d", "e"};
    for (size_t di = 0; di < 5; di++)
        for (size_t ki = 0; ki < 4; ki++) {
            size_t d = dims[di], k = ks[ki], m = 5, n = 37;
            float *C = malloc(k * d * sizeof(float)), *Q = malloc(n * d * sizeof(float));
            double *cnt = malloc(k * m * sizeof(double)), *ss = malloc(k * m * sizeof(double)),
                   *sc = malloc(k * m * sizeof(double));
            REQUIRE(C && Q && cnt && ss && sc);
            for (size_t t = 0; t < k * d; t++)
                C[t] = urand();
            if (k > 3) /* clusters 1 and 3 identical to 0 */
                for (size_t t = 0; t < d; t++)
                    C[d + t] = C[3 * d + t] = C[t];
            for (size_t t = 0; t < k * m; t++) {
                cnt[t] = 1 + (t % 3);
                ss[t] = cnt[t] * (0.5f + 0.5f * urand());
                sc[t] = cnt[t] * (1.0f + urand());
            }
            for (size_t i = 0; i < n; i++)
                for (size_t t = 0; t < d; t++)
                    Q[i * d + t] = i % 4 == 0 ? C[((i / 4) % k) * d + t] : urand();
            uint32_t p = k < 4 ? (uint32_t)k : 4;
            av_router *r = NULL;
            REQUIRE(av_router_from_parts(&r, d, k, m, names, C, cnt, ss, sc, p) == AV_OK);
            CHECK_EQ_INT(compare(r, Q, n, d, 0.5f), 0);
            CHECK_EQ_INT(compare(r, Q, n, d, 1.0f), 0);
            av_router_free(r);
            free(C), free(Q), free(cnt), free(ss), free(sc);
        }
}

/* Splitting a batch among threads changes nothing: every row is routed on its own. */
TEST(test_batch_threads_identical)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *r = fixture_router(&fx);
    REQUIRE(r);
    size_t n = fx.n, d = fx.d;
    float *Q = malloc(n * d * sizeof(float));
    int32_t *ref = malloc(n * sizeof(int32_t)), *got = malloc(n * sizeof(int32_t));
    REQUIRE(Q && ref && got);
    memcpy(Q, fx.emb.data, n * d * sizeof(float));
    Q[700 * d + 3] = NAN; /* a bad row in a later slice */
    for (size_t i = 0; i < n; i++)
        ref[i] = av_route(r, Q + i * d, d, 0.4f);
    const unsigned counts[] = {1, 2, 3, 5, 64, 1000};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        memset(got, 0x7F, n * sizeof(int32_t));
        int rc = av__route_batch_threads(r, Q, n, d, d, 0.4f, got, counts[c]);
        CHECK_EQ_INT(rc, AV_EVECTOR);
        CHECK(strstr(av_last_error(), "row 700") != NULL);
        CHECK(memcmp(ref, got, n * sizeof(int32_t)) == 0);
    }
    /* and the public call (its default thread count) agrees */
    CHECK_EQ_INT(av_route_batch(r, Q, n, d, d, 0.4f, got), AV_EVECTOR);
    CHECK(memcmp(ref, got, n * sizeof(int32_t)) == 0);
    free(Q), free(ref), free(got);
    av_router_free(r);
    td_free_fixture(&fx);
}

TEST(test_batch_bad_rows_and_arguments)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *r = fixture_router(&fx);
    REQUIRE(r);
    size_t n = 20, d = fx.d;
    float *Q = malloc(n * d * sizeof(float));
    int32_t out[20];
    REQUIRE(Q);
    memcpy(Q, fx.emb.data, n * d * sizeof(float));
    memset(Q + 5 * d, 0, d * sizeof(float)); /* zero row */
    Q[11 * d + 7] = NAN;                     /* NaN row */
    Q[12 * d + d - 1] = INFINITY;            /* Inf in the last component */
    int rc = av_route_batch(r, Q, n, d, d, 0.5f, out);
    CHECK_EQ_INT(rc, AV_EVECTOR);
    CHECK(strstr(av_last_error(), "row 5") != NULL);
    CHECK_EQ_INT(out[5], AV_EVECTOR);
    CHECK_EQ_INT(out[11], AV_EVECTOR);
    CHECK_EQ_INT(out[12], AV_EVECTOR);
    for (size_t i = 0; i < n; i++)
        if (i != 5 && i != 11 && i != 12)
            CHECK_EQ_INT(out[i], av_route(r, Q + i * d, d, 0.5f));
    CHECK_EQ_INT(av_route_batch(r, Q, n, d + 1, d + 1, 0.5f, out), AV_EDIM);
    CHECK_EQ_INT(av_route_batch(r, Q, n, d, d - 1, 0.5f, out), AV_EINVAL);
    CHECK_EQ_INT(av_route_batch(r, Q, n, d, d, 1.5f, out), AV_EALPHA);
    CHECK_EQ_INT(av_route_batch(r, Q, n, d, d, 0.5f, NULL), AV_EINVAL);
    CHECK_EQ_INT(av_route_batch(NULL, Q, n, d, d, 0.5f, out), AV_EINVAL);
    CHECK_EQ_INT(av_route_batch(r, Q, 0, d, d, 0.5f, out), AV_OK); /* nothing to do */
    free(Q);
    av_router_free(r);
    td_free_fixture(&fx);
}

/* Scaling a query by a power of two is exact, so tiny and huge versions of a query route like the
   query itself, in both paths, for every centroid type. */
TEST(test_batch_extreme_magnitudes)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *r32 = fixture_router(&fx);
    REQUIRE(r32);
    size_t n = 24, d = fx.d;
    const float factors[] = {0x1p-100f, 0x1p-60f, 0x1p60f, 0x1p100f};
    float *Q = malloc(n * d * sizeof(float));
    REQUIRE(Q);
    for (int type = 0; type <= 2; type++) {
        av_router *r = NULL;
        REQUIRE(av_router_convert(&r, r32, (av_centroid_type)type) == AV_OK);
        for (size_t f = 0; f < 4; f++) {
            for (size_t i = 0; i < n; i++)
                for (size_t t = 0; t < d; t++)
                    Q[i * d + t] = TD_EMB(&fx, i)[t] * (i % 2 ? factors[f] : 1.0f);
            CHECK_EQ_INT(compare(r, Q, n, d, 0.5f), 0);
            for (size_t i = 1; i < n; i += 2)
                CHECK_EQ_INT(av_route(r, Q + i * d, d, 0.5f), av_route(r, TD_EMB(&fx, i), d, 0.5f));
        }
        av_router_free(r);
    }
    free(Q);
    av_router_free(r32);
    td_free_fixture(&fx);
}

/* The hot path allocates nothing: av_route and av_route_batch on valid rows, every centroid type
   and backend, after one warm-up call (the first call resolves the SIMD backend). */
TEST(test_hot_path_allocates_nothing)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *r32 = fixture_router(&fx);
    REQUIRE(r32);
    size_t n = 64, d = fx.d;
    int32_t out[64];
    const float *Q = (const float *)fx.emb.data;
    for (int type = 0; type <= 2; type++) {
        av_router *r = NULL;
        REQUIRE(av_router_convert(&r, r32, (av_centroid_type)type) == AV_OK);
        const av_kernels *orig = r->ix.kern;
        for (size_t b = 0; b < N_BACKENDS; b++) {
            const av_kernels *k = av__kernels_by_name(BACKENDS[b]);
            if (!k)
                continue;
            r->ix.kern = k;
            (void)av_route(r, Q, d, 0.5f);
            long before = g_allocs;
            for (size_t i = 0; i < n; i++)
                out[i] = av_route(r, Q + i * d, d, 0.5f);
            CHECK(av_route_batch(r, Q, n, d, d, 0.5f, out) == AV_OK);
            CHECK(out[0] >= 0);
            if (g_allocs != before)
                fprintf(stderr, "  %s, type %d: %ld allocations\n", k->name, type,
                        g_allocs - before);
            CHECK_EQ_INT(g_allocs - before, 0);
        }
        r->ix.kern = orig;
        av_router_free(r);
    }
    /* the counter works: a conversion allocates */
    long before = g_allocs;
    av_router *x = NULL;
    REQUIRE(av_router_convert(&x, r32, AV_CENTROIDS_F16) == AV_OK);
    CHECK(g_allocs > before);
    av_router_free(x);
    av_router_free(r32);
    td_free_fixture(&fx);
}

TH_MAIN(T(test_hot_path_allocates_nothing), T(test_batch_identical_on_fixture), T(test_batch_identical_random_with_ties),
        T(test_batch_threads_identical), T(test_batch_bad_rows_and_arguments),
        T(test_batch_extreme_magnitudes))
