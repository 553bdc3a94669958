/* Online learning: av_profile_update_ex (decay by half-life, spreading over top-p clusters) and
   av_router_add_model on a router that other threads keep routing with. */
#include "avengers/avengers.h"
#include "harness.h"
#include "tiny.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>



static void stats(const av_router *r, size_t j, size_t i, double *n, double *s, double *q)
{
    av_router_cluster_stats(r, j, i, n, s, q);
}

TEST(test_update_ex_default_is_update)
{
    av_router *a = tiny_router(1), *b = tiny_router(1);
    REQUIRE(a && b);
    const float q[] = {1, 0.2f};
    av_update_options o = AV_UPDATE_OPTIONS_INIT;
    for (int i = 0; i < 5; i++) {
        REQUIRE(av_profile_update(a, q, 2, 1, 0.25f, 3.0f) == AV_OK);
        REQUIRE(av_profile_update_ex(b, q, 2, 1, 0.25f, 3.0f, &o) == AV_OK);
        REQUIRE(av_profile_update_ex(b, q, 2, 0, 0.5f, 1.0f, NULL) == AV_OK);
        REQUIRE(av_profile_update(a, q, 2, 0, 0.5f, 1.0f) == AV_OK);
    }
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < 2; i++) {
            double n1, s1, q1, n2, s2, q2;
            stats(a, j, i, &n1, &s1, &q1);
            stats(b, j, i, &n2, &s2, &q2);
            CHECK(n1 == n2 && s1 == s2 && q1 == q2);
        }
    av_router_free(a);
    av_router_free(b);
}

TEST(test_decay_half_life)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    const float q0[] = {1, 0.1f};
    av_update_options o = AV_UPDATE_OPTIONS_INIT;
    o.half_life = 4;
    /* After u updates every earlier outcome weighs 2^(-u/4); the update itself weighs 1. */
    for (int u = 0; u < 8; u++)
        REQUIRE(av_profile_update_ex(r, q0, 2, 0, 1.0f, 0.5f, &o) == AV_OK);
    double lam = pow(2.0, -1.0 / 4.0), n, s, c;
    double exp_n = 10 * pow(lam, 8), exp_s = 2 * pow(lam, 8), exp_c = 1 * pow(lam, 8);
    for (int u = 0; u < 8; u++) { /* update u is scaled by the 7-u later updates */
        exp_n += pow(lam, 7 - u);
        exp_s += pow(lam, 7 - u);
        exp_c += 0.5 * pow(lam, 7 - u);
    }
    stats(r, 0, 0, &n, &s, &c);
    CHECK_NEAR(n, exp_n, 1e-12);
    CHECK_NEAR(s, exp_s, 1e-12);
    CHECK_NEAR(c, exp_c, 1e-12);
    /* other clusters and models decay too: 8 updates = two half-lives */
    stats(r, 1, 1, &n, &s, &c);
    CHECK_NEAR(n, 10 * 0.25, 1e-12);
    CHECK_NEAR(s, 9 * 0.25, 1e-12);
    /* old evidence fades: large was better in cluster 0 (0.9 vs 0.2); after 8 updates small's
       mean is (0.5 + 4.71) / (2.5 + 4.71) = 0.72 < 0.9, after 40 it is above 0.99 */
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 1);
    for (int u = 0; u < 32; u++)
        REQUIRE(av_profile_update_ex(r, q0, 2, 0, 1.0f, 0.5f, &o) == AV_OK);
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 0);
    o.half_life = -1;
    CHECK_EQ_INT(av_profile_update_ex(r, q0, 2, 0, 1.0f, 0.5f, &o), AV_EINVAL);
    av_router_free(r);
}

TEST(test_update_spread_over_top_p)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    const float q[] = {1, 0.5f}; /* nearest c0, then c1 */
    av_update_options o = AV_UPDATE_OPTIONS_INIT;
    o.top_p = 2;
    REQUIRE(av_profile_update_ex(r, q, 2, 1, 1.0f, 2.0f, &o) == AV_OK);
    double n, s, c;
    stats(r, 0, 1, &n, &s, &c);
    CHECK_NEAR(n, 10.5, 1e-15);
    CHECK_NEAR(s, 9.5, 1e-15);
    CHECK_NEAR(c, 11, 1e-15);
    stats(r, 1, 1, &n, &s, &c);
    CHECK_NEAR(n, 10.5, 1e-15);
    stats(r, 2, 1, &n, &s, &c);
    CHECK(n == 0);
    /* softmax shares follow the similarities */
    o.weighting = AV_WEIGHTING_SOFTMAX;
    o.temperature = 0.1f;
    o.weight = 2;
    REQUIRE(av_profile_update_ex(r, q, 2, 0, 1.0f, 1.0f, &o) == AV_OK);
    double s0 = 1 / sqrt(1.25), s1 = 0.5 / sqrt(1.25), e = exp((s1 - s0) / (double)0.1f);
    stats(r, 0, 0, &n, &s, &c);
    CHECK_NEAR(n, 10 + 2 / (1 + e), 1e-6);
    stats(r, 1, 0, &n, &s, &c);
    CHECK_NEAR(n, 10 + 2 * e / (1 + e), 1e-6);
    o.top_p = 4;
    CHECK_EQ_INT(av_profile_update_ex(r, q, 2, 0, 1.0f, 1.0f, &o), AV_EINVAL);
    av_router_free(r);
}

TEST(test_add_model)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    const float q0[] = {1, 0.1f};
    CHECK_EQ_INT(av_router_add_model(r, "new", 0.95, 0.05, 5), 2);
    CHECK_EQ_INT(av_router_n_models(r), 3);
    CHECK(strcmp(av_router_model_name(r, 2), "new") == 0);
    CHECK_EQ_INT(av_router_model_index(r, "new"), 2);
    double n, s, c;
    for (size_t j = 0; j < 3; j++) {
        stats(r, j, 2, &n, &s, &c);
        CHECK(n == 5);
        CHECK_NEAR(s, 5 * 0.95, 1e-12);
        CHECK_NEAR(c, 5 * 0.05, 1e-12);
    }
    /* its prior (best score, lowest cost) wins everywhere */
    CHECK_EQ_INT(av_route(r, q0, 2, 0.5f), 2);
    /* and feedback moves it: 100 failures in cluster 0 */
    for (int i = 0; i < 100; i++)
        REQUIRE(av_profile_update(r, q0, 2, 2, 0.0f, 0.05f) == AV_OK);
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 1);
    /* the file keeps it */
    void *buf;
    size_t sz;
    REQUIRE(av_router_save_buffer(r, &buf, &sz) == AV_OK);
    av_router *l = NULL;
    REQUIRE(av_router_load_buffer(&l, buf, sz) == AV_OK);
    av_free(buf);
    CHECK_EQ_INT(av_router_n_models(l), 3);
    CHECK_EQ_INT(av_route(l, q0, 2, 1.0f), 1);
    av_router_free(l);
    /* errors */
    CHECK_EQ_INT(av_router_add_model(r, "new", 0.5, 1, 1), AV_EINVAL);
    CHECK_EQ_INT(av_router_add_model(r, "x", 0.5, 1, 0), AV_EVALUE);
    CHECK_EQ_INT(av_router_add_model(r, "x", 0.5, -1, 1), AV_EVALUE);
    CHECK_EQ_INT(av_router_add_model(r, "", 0.5, 1, 1), AV_EINVAL);
    CHECK_EQ_INT(av_router_add_model(NULL, "x", 0.5, 1, 1), AV_EINVAL);
    av_router_free(r);
}

/* Readers route continuously while a writer adds models and feeds outcomes: every decision is a
   valid index of a model that existed, and nothing crashes or tears (run under TSan/ASan in the
   sanitizer targets). */
typedef struct live_ctx {
    av_router *r;
    atomic_int stop;
    atomic_long routed, bad;
} live_ctx;

static void *reader(void *p)
{
    live_ctx *c = p;
    const float qs[3][2] = {{1, 0.1f}, {0.1f, 1}, {-1, 0.1f}};
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    double es[8];
    av_route_result res = AV_ROUTE_RESULT_INIT;
    res.expected_score = es, res.models_cap = 8;
    for (long i = 0; !atomic_load(&c->stop); i++) {
        int32_t m = av_route(c->r, qs[i % 3], 2, (float)(i % 11) / 10.0f);
        o.alpha = 1.0f;
        int32_t x = av_route_ex(c->r, qs[(i + 1) % 3], 2, &o, &res);
        if (m < 0 || m >= 8 || x < 0 || (size_t)x >= res.n_models || res.n_models > 8)
            atomic_fetch_add(&c->bad, 1);
        atomic_fetch_add(&c->routed, 1);
    }
    return NULL;
}

TEST(test_add_model_live)
{
    live_ctx c;
    c.r = tiny_router(2);
    REQUIRE(c.r);
    atomic_init(&c.stop, 0);
    atomic_init(&c.routed, 0);
    atomic_init(&c.bad, 0);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, reader, &c) == 0);
    const float q[] = {0.1f, 1};
    char name[16];
    for (int k = 0; k < 6; k++) {
        snprintf(name, sizeof name, "m%d", k);
        CHECK_EQ_INT(av_router_add_model(c.r, name, 0.5 + 0.05 * k, 1.0, 2), 2 + k);
        for (int u = 0; u < 200; u++)
            CHECK_EQ_INT(av_profile_update(c.r, q, 2, 2 + k, (float)(u % 2), 1.0f), AV_OK);
    }
    /* make sure readers ran during the additions */
    while (atomic_load(&c.routed) < 1000)
        ;
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ_INT(atomic_load(&c.bad), 0);
    CHECK_EQ_INT(av_router_n_models(c.r), 8);
    av_router_free(c.r);
}

TH_MAIN(T(test_update_ex_default_is_update), T(test_decay_half_life),
        T(test_update_spread_over_top_p), T(test_add_model), T(test_add_model_live))
