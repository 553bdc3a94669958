/* av_route_ex: equality with av_route under default options, constraints, explanation, soft
   weights, shrinkage, the guard, embedder identity, exploration; estimator defaults persisted. */
#include "avengers/avengers.h"
#include "harness.h"
#include "tiny.h"
#include "testdata.h"

#include <stdint.h>



TEST(test_options_init)
{
    av_route_options o, d = AV_ROUTE_OPTIONS_INIT;
    memset(&o, 0xAB, sizeof o);
    av_route_options_init(&o);
    /* field by field: memcmp would read the padding, which an initializer leaves undefined */
    CHECK(o.struct_size == d.struct_size && o.alpha == d.alpha && o.top_p == d.top_p &&
          o.weighting == d.weighting && o.temperature == d.temperature && o.kappa == d.kappa &&
          o.flags == d.flags && o.guard_margin == d.guard_margin && o.model_mask == d.model_mask &&
          o.embedder_id == d.embedder_id && o.normalisation == d.normalisation);
    CHECK_EQ_INT(o.struct_size, sizeof(av_route_options));
    CHECK(o.kappa < 0 && o.top_p == 0 && o.model_mask == NULL && o.flags == 0);
    av_route_result res;
    av_route_result_init(&res);
    CHECK_EQ_INT(res.struct_size, sizeof(av_route_result));
    CHECK(res.ranked == NULL && res.model == -1);
    av_estimator_options e;
    av_estimator_options_init(&e);
    CHECK(e.kappa == 0 && e.weighting == AV_WEIGHTING_HARD && e.guard == 0);
}

TEST(test_explanation_hand_computed)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    const float q[] = {1, 0.9f};
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    int32_t ranked[4];
    double rs[4], ms[2], es[2], ec[2], cw[2], csup[2];
    uint32_t cl[2];
    float cs[2];
    av_route_result res = AV_ROUTE_RESULT_INIT;
    res.ranked = ranked, res.ranked_scores = rs, res.ranked_cap = 4;
    res.model_scores = ms, res.expected_score = es, res.expected_cost = ec, res.models_cap = 2;
    res.clusters = cl, res.cluster_sims = cs, res.cluster_weights = cw, res.cluster_support = csup;
    res.clusters_cap = 2;
    o.alpha = 0.75f;
    /* clusters 0 and 1 both give small x = 1-a, large x = a: sums 0.5 and 1.5 */
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    CHECK_EQ_INT(res.model, 1);
    CHECK_EQ_INT(res.n_models, 2);
    CHECK_EQ_INT(res.n_feasible, 2);
    CHECK_EQ_INT(res.n_ranked, 2);
    CHECK(ranked[0] == 1 && ranked[1] == 0);
    CHECK_NEAR(rs[0], 1.5, 1e-12);
    CHECK_NEAR(rs[1], 0.5, 1e-12);
    CHECK_NEAR(ms[0], 0.5, 1e-12);
    CHECK_NEAR(es[0], (0.2 + 0.8) / 2, 1e-12);
    CHECK_NEAR(es[1], 0.9, 1e-12);
    CHECK_NEAR(ec[0], 0.1, 1e-12);
    CHECK_NEAR(ec[1], 1.0, 1e-12);
    CHECK_EQ_INT(res.n_clusters, 2);
    CHECK(cl[0] == 0 && cl[1] == 1);
    double nq = sqrt(1.0 + 0.81);
    CHECK_NEAR(cs[0], 1.0 / nq, 1e-6);
    CHECK_NEAR(cs[1], 0.9 / nq, 1e-6);
    CHECK_NEAR(res.best_similarity, 1.0 / nq, 1e-6);
    CHECK(cw[0] == 1.0 && cw[1] == 1.0);
    CHECK(csup[0] == 10 && csup[1] == 10);
    CHECK_NEAR(res.support, 20, 0);
    CHECK_EQ_INT(res.guarded, 0);
    /* a small ranked capacity is respected */
    res.ranked_cap = 1;
    ranked[1] = 77;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    CHECK_EQ_INT(res.n_ranked, 1);
    CHECK_EQ_INT(ranked[1], 77);
    /* no result at all is fine */
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, NULL), 1);
    av_router_free(r);
}

TEST(test_constraints)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    const float q[] = {1, 0.9f};
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    av_route_result res = AV_ROUTE_RESULT_INIT;
    o.alpha = 1.0f;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    /* expected costs: small 0.1, large 1.0 */
    o.flags = AV_ROUTE_MAX_COST;
    o.max_expected_cost = 0.5;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 0);
    CHECK_EQ_INT(res.n_feasible, 1);
    o.max_expected_cost = 1.0; /* inclusive */
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    /* expected scores: small 0.5, large 0.9 */
    o.alpha = 0.0f;
    o.flags = AV_ROUTE_MIN_SCORE;
    o.min_expected_score = 0.6;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    o.flags = AV_ROUTE_MIN_SCORE | AV_ROUTE_MAX_COST;
    o.max_expected_cost = 0.5;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), AV_ENOMODEL);
    CHECK_EQ_INT(res.model, -1);
    CHECK_EQ_INT(res.n_feasible, 0);
    /* the mask */
    const uint8_t only_small[] = {1, 0}, none[] = {0, 0};
    o.flags = 0;
    o.alpha = 1.0f;
    o.model_mask = only_small;
    o.model_mask_len = 2;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 0);
    o.model_mask_len = 1; /* model 1 beyond the mask: not allowed either */
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 0);
    o.model_mask = none;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), AV_ENOMODEL);
    /* bad options */
    o.model_mask = NULL;
    o.alpha = 1.5f;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), AV_EALPHA);
    o.alpha = 0.5f;
    o.top_p = 4;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), AV_EINVAL);
    o.top_p = 0;
    o.weighting = 9;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), AV_EINVAL);
    o.weighting = 0;
    o.struct_size = 8;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), AV_EINVAL);
    o.struct_size = sizeof o;
    res.struct_size = 4;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), AV_EINVAL);
    const float z[] = {0, 0};
    CHECK_EQ_INT(av_route_ex(r, z, 2, &o, NULL), AV_EVECTOR);
    CHECK_EQ_INT(av_route_ex(r, q, 3, &o, NULL), AV_EDIM);
    CHECK_EQ_INT(av_route_ex(NULL, q, 2, &o, NULL), AV_EINVAL);
    av_router_free(r);
}

/* Two clusters that disagree: c0 favours m0, c1 favours m1 (alpha 1); m1 is cheaper, so the hard
   top-2 tie goes to m1, while softmax weights follow the nearer cluster. */
static av_router *split_router(void)
{
    const char *names[] = {"m0", "m1"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {1, 1, 1, 1}, ss[] = {1, 0, 0, 1}, sc[] = {2, 1, 2, 1};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 2, 2, names, C, cnt, ss, sc, 2) == AV_OK ? r : NULL;
}

TEST(test_softmax_weighting)
{
    av_router *r = split_router();
    REQUIRE(r);
    const float qa[] = {1, 0.5f}, qb[] = {0.5f, 1};
    CHECK_EQ_INT(av_route(r, qa, 2, 1.0f), 1); /* tie -> cheaper */
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = 1.0f;
    o.weighting = AV_WEIGHTING_SOFTMAX;
    o.temperature = 0.1f;
    double cw[2];
    av_route_result res = AV_ROUTE_RESULT_INIT;
    res.cluster_weights = cw, res.clusters_cap = 2;
    CHECK_EQ_INT(av_route_ex(r, qa, 2, &o, &res), 0);
    double s0 = 1 / sqrt(1.25), s1 = 0.5 / sqrt(1.25);
    double e = exp((s1 - s0) / (double)0.1f);
    CHECK_NEAR(cw[0], 1 / (1 + e), 1e-6);
    CHECK_NEAR(cw[1], e / (1 + e), 1e-6);
    CHECK_EQ_INT(av_route_ex(r, qb, 2, &o, &res), 1);
    /* as the router's default, av_route follows it */
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.weighting = AV_WEIGHTING_SOFTMAX;
    eo.temperature = 0.1f;
    CHECK_EQ_INT(av_router_set_estimator(r, &eo), AV_OK);
    CHECK_EQ_INT(av_route(r, qa, 2, 1.0f), 0);
    CHECK_EQ_INT(av_route(r, qb, 2, 1.0f), 1);
    /* and a request can still ask for the paper's hard weights */
    o.weighting = AV_WEIGHTING_HARD;
    CHECK_EQ_INT(av_route_ex(r, qa, 2, &o, NULL), 1);
    av_router_free(r);
}

/* c0: a 1 outcome of score 1; b 100 outcomes, mean 0.8. c1: a 99 outcomes summing 29.7; b 100,
   sum 50. Costs all 1 (so only scores matter). Global means: a 30.7/100, b 130/200. */
static av_router *shrink_router(void)
{
    const char *names[] = {"a", "b"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {1, 100, 99, 100}, ss[] = {1, 80, 29.7, 50}, sc[] = {1, 100, 99, 100};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 2, 2, names, C, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

TEST(test_shrinkage)
{
    av_router *r = shrink_router();
    REQUIRE(r);
    const float q[] = {1, 0.1f};
    CHECK_EQ_INT(av_route(r, q, 2, 1.0f), 0); /* the paper: a's single lucky outcome wins */
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = 1.0f;
    o.kappa = 10;
    double es[2];
    av_route_result res = AV_ROUTE_RESULT_INIT;
    res.expected_score = es, res.models_cap = 2;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    double ga = 30.7 / 100, gb = 130.0 / 200;
    CHECK_NEAR(es[0], (1 + 10 * ga) / 11, 1e-12);
    CHECK_NEAR(es[1], (80 + 10 * gb) / 110, 1e-12);
    o.kappa = 0; /* explicit 0 = the paper */
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 0);
    CHECK_NEAR(es[0], 1.0, 1e-12);
    /* the router's default kappa changes av_route, and survives a save/load */
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.kappa = 10;
    CHECK_EQ_INT(av_router_set_estimator(r, &eo), AV_OK);
    CHECK_EQ_INT(av_route(r, q, 2, 1.0f), 1);
    void *buf;
    size_t n;
    REQUIRE(av_router_save_buffer(r, &buf, &n) == AV_OK);
    av_router *l = NULL;
    REQUIRE(av_router_load_buffer(&l, buf, n) == AV_OK);
    av_free(buf);
    av_estimator_options got = AV_ESTIMATOR_OPTIONS_INIT;
    CHECK_EQ_INT(av_router_get_estimator(l, &got), AV_OK);
    CHECK(got.kappa == 10 && got.weighting == AV_WEIGHTING_HARD && got.guard == 0);
    CHECK_EQ_INT(av_route(l, q, 2, 1.0f), 1);
    av_router_free(l);
    /* invalid estimator values */
    eo.kappa = -1;
    CHECK_EQ_INT(av_router_set_estimator(r, &eo), AV_EINVAL);
    eo.kappa = 0;
    eo.temperature = 0;
    CHECK_EQ_INT(av_router_set_estimator(r, &eo), AV_EINVAL);
    av_router_free(r);
}

TEST(test_guard)
{
    av_router *r = shrink_router();
    REQUIRE(r);
    const float q[] = {1, 0.1f};
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = 1.0f;
    o.flags = AV_ROUTE_GUARD_ON;
    /* best single model at alpha 1: b. On this query: a expects 1.0, b 0.8, in units of the
       global score range (gb - ga): advantage (1.0 - 0.8) / (0.65 - 0.307) = 0.583 */
    double adv = (1.0 - 0.8) / (130.0 / 200 - 30.7 / 100);
    av_route_result res = AV_ROUTE_RESULT_INIT;
    o.guard_margin = adv - 0.01;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 0);
    CHECK_EQ_INT(res.guarded, 0);
    o.guard_margin = adv + 0.01;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    CHECK_EQ_INT(res.guarded, 1);
    /* as the router's default */
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.guard = 1;
    eo.guard_margin = adv + 0.01;
    CHECK_EQ_INT(av_router_set_estimator(r, &eo), AV_OK);
    CHECK_EQ_INT(av_route(r, q, 2, 1.0f), 1);
    o.flags = AV_ROUTE_GUARD_OFF;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, NULL), 0);
    o.flags = AV_ROUTE_GUARD_OFF | AV_ROUTE_GUARD_ON;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, NULL), AV_EINVAL);
    av_router_free(r);
}

/* Three clusters, all used (top_p 3), equal costs, alpha 1. Clusters 0 and 2 barely prefer B
   (0.52 vs 0.50), cluster 1 strongly prefers A (0.9 vs 0.1). The paper's per-cluster min-max
   makes each cluster a full vote: B wins 2 to 1. With the global normalisation the sum is the
   expected score: A (0.5 + 0.9 + 0.5) / 3 = 0.633 against B (0.52 + 0.1 + 0.52) / 3 = 0.38. */
TEST(test_global_normalisation)
{
    const char *names[] = {"A", "B"};
    const float C[] = {1, 0, 0, 1, -1, 0};
    const double cnt[] = {10, 10, 10, 10, 10, 10}, ss[] = {5, 5.2, 9, 1, 5, 5.2},
                 sc[] = {10, 10, 10, 10, 10, 10};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 3, 2, names, C, cnt, ss, sc, 3) == AV_OK);
    const float q[] = {1, 0.5f};
    CHECK_EQ_INT(av_route(r, q, 2, 1.0f), 1);
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = 1.0f;
    double ms[2];
    av_route_result res = AV_ROUTE_RESULT_INIT;
    res.model_scores = ms, res.models_cap = 2;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 1);
    CHECK_NEAR(ms[0], 1.0, 1e-12); /* one full vote */
    CHECK_NEAR(ms[1], 2.0, 1e-12);
    o.normalisation = AV_NORMALISE_GLOBAL;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, &res), 0);
    /* global range of the scores: 19/30 - 11.4/30; A's sum (0.5 + 0.9 + 0.5 - 3 * 11.4/30) / range */
    double lo = 11.4 / 30, range = 19.0 / 30 - lo;
    CHECK_NEAR(ms[0], (1.9 - 3 * lo) / range + 0, 1e-9);
    CHECK_NEAR(ms[1], (1.14 - 3 * lo) / range, 1e-9);
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.normalisation = AV_NORMALISE_GLOBAL;
    REQUIRE(av_router_set_estimator(r, &eo) == AV_OK);
    CHECK_EQ_INT(av_route(r, q, 2, 1.0f), 0);
    CHECK(av_router_meta(r, "normalisation") == NULL); /* a typed setting of the file */
    void *buf;
    size_t n;
    REQUIRE(av_router_save_buffer(r, &buf, &n) == AV_OK);
    av_router *l = NULL;
    REQUIRE(av_router_load_buffer(&l, buf, n) == AV_OK);
    av_free(buf);
    CHECK_EQ_INT(av_route(l, q, 2, 1.0f), 0);
    o.normalisation = AV_NORMALISE_CLUSTER; /* a request can still ask for the paper's */
    CHECK_EQ_INT(av_route_ex(l, q, 2, &o, NULL), 1);
    o.normalisation = 7;
    CHECK_EQ_INT(av_route_ex(l, q, 2, &o, NULL), AV_EINVAL);
    eo.normalisation = 7;
    CHECK_EQ_INT(av_router_set_estimator(l, &eo), AV_EINVAL);
    /* a caller compiled against the first, shorter av_route_options: the appended field is not
       read (the router's global default applies) */
    av_route_options old = AV_ROUTE_OPTIONS_INIT;
    old.alpha = 1.0f;
    old.normalisation = AV_NORMALISE_CLUSTER;
    old.struct_size = (uint32_t)offsetof(av_route_options, normalisation);
    CHECK_EQ_INT(av_route_ex(l, q, 2, &old, NULL), 0);
    av_router_free(l);
    av_router_free(r);
}

TEST(test_embedder_id)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    const float q[] = {1, 0};
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.embedder_id = "e5-small";
    CHECK(av_route_ex(r, q, 2, &o, NULL) >= 0); /* the router records none */
    REQUIRE(av_router_set_meta(r, "embedder_id", "bge-m3") == AV_OK);
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, NULL), AV_EMISMATCH);
    CHECK(strstr(av_last_error(), "bge-m3") != NULL);
    o.embedder_id = "bge-m3";
    CHECK(av_route_ex(r, q, 2, &o, NULL) >= 0);
    av_router_free(r);
}

/* One cluster; m0 100 outcomes of mean 0.6, m1 2 outcomes of mean 0.5, equal costs. Thompson
   sampling at alpha 1 picks m1 when its Beta(2, 2) draw beats m0's Beta(61, 41) draw. */
TEST(test_exploration)
{
    const char *names[] = {"m0", "m1"};
    const float C[] = {1, 0};
    const double cnt[] = {100, 2}, ss[] = {60, 1}, sc[] = {100, 2};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 1, 2, names, C, cnt, ss, sc, 1) == AV_OK);
    const float q[] = {1, 0};
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = 1.0f;
    o.flags = AV_ROUTE_EXPLORE;
    enum { N = 4000 };
    int m1 = 0;
    for (int s = 0; s < N; s++) {
        o.explore_seed = (uint64_t)s;
        int32_t a = av_route_ex(r, q, 2, &o, NULL), b = av_route_ex(r, q, 2, &o, NULL);
        CHECK(a == b); /* a function of the seed */
        m1 += a == 1;
    }
    /* P(X1 > X0) = integral of f0(x) (1 - F1(x)) dx, F1(x) = 3x^2 - 2x^3 (Beta(2, 2)) */
    double pr = 0, h = 1e-4, lb = lgamma(61) + lgamma(41) - lgamma(102);
    for (double x = h / 2; x < 1; x += h)
        pr += exp(60 * log(x) + 40 * log(1 - x) - lb) * (1 - (3 * x * x - 2 * x * x * x)) * h;
    CHECK(pr > 0.2 && pr < 0.5);
    CHECK_NEAR((double)m1 / N, pr, 0.03);
    /* without exploration the mean wins always */
    o.flags = 0;
    CHECK_EQ_INT(av_route_ex(r, q, 2, &o, NULL), 0);
    av_router_free(r);
}

static av_router *fit_fixture(const td_fixture *fx, uint32_t k)
{
    av_builder *b = NULL;
    if (av_builder_new(&b, fx->d, fx->m, (const char *const *)fx->names) != AV_OK)
        return NULL;
    for (size_t i = 0; i < fx->n; i++)
        if (((const uint8_t *)fx->split.data)[i])
            av_builder_add(b, TD_EMB(fx, i), fx->d, TD_SCORES(fx, i), TD_COSTS(fx, i));
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = k;
    o.n_init = 1;
    av_router *r = NULL;
    av_builder_fit(b, &o, &r);
    av_builder_free(b);
    return r;
}

TEST(test_default_equals_route_on_fixture)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *r = fit_fixture(&fx, 30);
    REQUIRE(r);
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    size_t same = 0, total = 0, same_k = 0;
    for (int a = 0; a <= 20; a++) {
        o.alpha = (float)a / 20.0f;
        for (size_t i = 0; i < fx.n; i++, total++)
            same += av_route_ex(r, TD_EMB(&fx, i), fx.d, &o, NULL) ==
                    av_route(r, TD_EMB(&fx, i), fx.d, o.alpha);
    }
    CHECK_EQ_INT(same, total);
    /* with a router default kappa both follow it; kappa 0 per request = the paper's table */
    av_router *p = fit_fixture(&fx, 30);
    REQUIRE(p);
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.kappa = 5;
    REQUIRE(av_router_set_estimator(r, &eo) == AV_OK);
    size_t differ = 0;
    total = 0;
    for (int a = 0; a <= 10; a++) {
        o.alpha = (float)a / 10.0f;
        for (size_t i = 0; i < fx.n; i++, total++) {
            const float *e = TD_EMB(&fx, i);
            o.kappa = -1;
            int32_t x = av_route_ex(r, e, fx.d, &o, NULL);
            same_k += x == av_route(r, e, fx.d, o.alpha);
            differ += x != av_route(p, e, fx.d, o.alpha);
            o.kappa = 0;
            same += av_route_ex(r, e, fx.d, &o, NULL) == av_route(p, e, fx.d, o.alpha);
        }
    }
    CHECK_EQ_INT(same_k, total);
    CHECK_EQ_INT(same - (21 * fx.n), total);
    CHECK(differ > 0); /* kappa 5 changes some decisions */
    av_router_free(p);
    av_router_free(r);
    td_free_fixture(&fx);
}

TH_MAIN(T(test_options_init), T(test_explanation_hand_computed), T(test_constraints),
        T(test_softmax_weighting), T(test_shrinkage), T(test_guard), T(test_global_normalisation), T(test_embedder_id),
        T(test_exploration), T(test_default_equals_route_on_fixture))
