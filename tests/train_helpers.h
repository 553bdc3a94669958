/* Helpers of the SAMPLED trainer's tests (tests/unit/train/test_scale.c, test_source.c): the
   bundled data's fixture, fit options, a builder of copied rows and the comparison of two routers
   (centroids and statistics bit for bit). Include after harness.h and testdata.h. */
#ifndef AV_TEST_TRAIN_HELPERS_H
#define AV_TEST_TRAIN_HELPERS_H

static td_fixture g_fx;
static int g_loaded;

static void free_fixture(void)
{
    td_free_fixture(&g_fx);
}

static int fixture(void)
{
    if (!g_loaded) {
        g_loaded = td_load_fixture(&g_fx) == 0 ? 1 : -1;
        atexit(free_fixture);
    }
    return g_loaded == 1;
}

static void fit_opts(av_fit_options *o, uint32_t k, uint32_t alg, uint32_t sample)
{
    av_fit_options_init(o);
    o->n_clusters = k;
    o->top_p = 2;
    o->n_init = 2;
    o->algorithm = alg;
    o->sample_size = sample;
}

static av_builder *copied_builder(size_t n)
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

static void check_same_router(const av_router *a, const av_router *b)
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

#endif
