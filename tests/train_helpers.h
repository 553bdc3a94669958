/* Helpers of the SAMPLED trainer's tests (tests/unit/train/test_scale.c, test_source.c): the
   bundled data's fixture, fit options, a builder of copied rows and the comparison of two routers
   (centroids and statistics bit for bit). Include after harness.h and testdata.h. Inline, so that
   a test may use some of them only. */
#ifndef AV_TEST_TRAIN_HELPERS_H
#define AV_TEST_TRAIN_HELPERS_H

static td_fixture g_fx;
static int g_loaded;

static void free_fixture(void)
{
    td_free_fixture(&g_fx);
}

static inline int fixture(void)
{
    if (!g_loaded) {
        g_loaded = td_load_fixture(&g_fx) == 0 ? 1 : -1;
        atexit(free_fixture);
    }
    return g_loaded == 1;
}

static inline void fit_opts(av_fit_options *o, uint32_t k, uint32_t alg, uint32_t sample)
{
    av_fit_options_init(o);
    o->n_clusters = k;
    o->top_p = 2;
    o->n_init = 2;
    o->algorithm = alg;
    o->sample_size = sample;
}

static inline av_builder *copied_builder(size_t n)
{
    av_builder *b = NULL;
    if (av_builder_new(&b, g_fx.d, g_fx.m, (const char *const *)g_fx.names) != AV_OK)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (av_builder_add(b, TD_EMB(&g_fx, i), g_fx.d, TD_SCORES(&g_fx, i), TD_COSTS(&g_fx, i))) {
            av_builder_free(b);
            return NULL;
        }
    return b;
}

static inline void check_same_router(const av_router *a, const av_router *b)
{
    size_t k = av_router_n_clusters(a), d = av_router_dim(a), m = av_router_n_models(a);
    REQUIRE(k == av_router_n_clusters(b) && d == av_router_dim(b) && m == av_router_n_models(b));
    float *ca = malloc(d * sizeof(float)), *cb = malloc(d * sizeof(float));
    size_t diff = 0, sdiff = 0;
    for (size_t j = 0; j < k; j++) {
        av_router_get_centroid(a, j, ca, d);
        av_router_get_centroid(b, j, cb, d);
        diff += memcmp(ca, cb, d * sizeof(float)) != 0;
        for (size_t i = 0; i < m; i++) {
            double x[3], y[3];
            av_router_cluster_stats(a, j, i, &x[0], &x[1], &x[2]);
            av_router_cluster_stats(b, j, i, &y[0], &y[1], &y[2]);
            sdiff += memcmp(x, y, sizeof x) != 0;
        }
    }
    CHECK_EQ_INT(diff, 0);
    CHECK_EQ_INT(sdiff, 0);
    free(ca), free(cb);
}

/* Decisions of the two routers that differ on every third fixture row at alpha 0, 0.5, 1. */
static inline size_t decisions_differ(const av_router *a, const av_router *b)
{
    size_t dd = 0;
    for (size_t q = 0; q < g_fx.n; q += 3)
        for (int k = 0; k <= 2; k++)
            dd += av_route(a, TD_EMB(&g_fx, q), g_fx.d, 0.5f * (float)k) !=
                  av_route(b, TD_EMB(&g_fx, q), g_fx.d, 0.5f * (float)k);
    return dd;
}

/* b1 and b2 (the same rows) fitted with SAMPLED (a sample of 400) and with FULL, k = 10: the same
   routers, decisions, inertia and passes. */
static inline void check_same_fits(av_builder *b1, av_builder *b2)
{
    uint32_t algs[] = {AV_KMEANS_SAMPLED, AV_KMEANS_FULL};
    for (int a = 0; a < 2; a++) {
        av_fit_options o;
        fit_opts(&o, 10, algs[a], 400);
        av_router *r1 = NULL, *r2 = NULL;
        REQUIRE(av_builder_fit(b1, &o, &r1) == AV_OK);
        if (av_builder_fit(b2, &o, &r2) != AV_OK) {
            av_router_free(r1);
            REQUIRE(0);
        }
        check_same_router(r1, r2);
        CHECK_EQ_INT(decisions_differ(r1, r2), 0);
        CHECK(av_builder_inertia(b1) == av_builder_inertia(b2));
        CHECK(strcmp(av_router_meta(r1, "n_iter"), av_router_meta(r2, "n_iter")) == 0);
        av_router_free(r1), av_router_free(r2);
    }
}

#endif
