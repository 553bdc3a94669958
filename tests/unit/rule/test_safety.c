/* Safe deviation from the best single model: a hand-built router where a model beats the
   baseline in one cluster on few outcomes. The expected standard errors, gains and lower bounds
   are computed here from the documented formulas (a cell's mean score varies p (1 - p) / n, p the
   Beta(1 + s, 1 + n - s) posterior mean; the gain in globally normalised units), independently of
   the library. */
#include "avengers/avengers.h"
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Two clusters on the unit axes; models "base" (index 0) and "alt", every cost 1.
     cluster 0: base 1000 outcomes, score sum 600;  alt n0 outcomes, score sum 0.7 * n0
     cluster 1: base 1000 outcomes, score sum 600;  alt 1000 outcomes, score sum 300 */
static av_router *router(double n0)
{
    const char *names[] = {"base", "alt"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {1000, n0, 1000, 1000};
    const double ss[] = {600, 0.7 * n0, 600, 300};
    const double sc[] = {1000, n0, 1000, 1000};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 2, 2, names, C, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

/* The standard error of a cell's plain mean: p (1 - p) / n with p the Beta(1 + s, 1 + n - s)
   posterior mean (docs/EVALUATION.md, "Safe routing"). */
static double mean_se(double n, double s)
{
    double p = (1 + s) / (n + 2);
    return sqrt(p * (1 - p) / n);
}

static const float Q0[2] = {1, 0}; /* a query in cluster 0 */

static int32_t route_safety(const av_router *r, double safety, float alpha, av_route_result *res)
{
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = alpha;
    if (safety >= 0.0 || isnan(safety)) { /* negative: the router's */
        o.flags |= AV_ROUTE_SAFETY;
        o.safety = safety;
    }
    return av_route_ex(r, Q0, 2, &o, res);
}

TEST(test_gain_and_its_lower_bound)
{
    av_router *r = router(10);
    REQUIRE(r);
    /* global means: base 0.6, alt (7 + 300) / 1010; at alpha 1 the gain of alt in cluster 0 is
       (0.7 - 0.6) / (0.6 - alt's global mean), its error sqrt(se_alt^2 + se_base^2) over the
       same range */
    double galt = 307.0 / 1010.0, range = 0.6 - galt;
    double se_alt = mean_se(10, 7), se_base = mean_se(1000, 600);
    double gain = (0.7 - 0.6) / range, se = sqrt(se_alt * se_alt + se_base * se_base) / range;
    double es[2], ese[2];
    av_route_result res = AV_ROUTE_RESULT_INIT;
    res.expected_score = es;
    res.expected_score_se = ese;
    res.models_cap = 2;
    /* the rule alone (safety 0, the paper's): alt; the gain is reported all the same */
    CHECK_EQ_INT(route_safety(r, 0.0, 1.0f, &res), 1);
    CHECK_EQ_INT(av_route(r, Q0, 2, 1.0f), 1);
    CHECK_EQ_INT(res.baseline, 0);
    CHECK_EQ_INT(res.deviated, 1);
    CHECK_EQ_INT(res.guarded, 0);
    CHECK_NEAR(res.gain, gain, 1e-12);
    CHECK_NEAR(res.gain_lcb, gain, 1e-12);
    CHECK_NEAR(es[1], 0.7, 1e-12);
    CHECK_NEAR(ese[1], se_alt, 1e-12);
    CHECK_NEAR(ese[0], se_base, 1e-12);
    /* half a standard error: still alt; one: the baseline */
    CHECK(gain - 0.5 * se > 0 && gain - 1.0 * se < 0);
    CHECK_EQ_INT(route_safety(r, 0.5, 1.0f, &res), 1);
    CHECK_NEAR(res.gain_lcb, gain - 0.5 * se, 1e-12);
    CHECK_EQ_INT(res.deviated, 1);
    CHECK_EQ_INT(route_safety(r, 1.0, 1.0f, &res), 0);
    CHECK_NEAR(res.gain_lcb, gain - se, 1e-12);
    CHECK_EQ_INT(res.guarded, 1);
    CHECK_EQ_INT(res.deviated, 0);
    CHECK_EQ_INT(res.model, 0);
    av_router_free(r);
}

TEST(test_evidence_lets_the_router_deviate)
{
    /* 1000 outcomes of alt in cluster 0: its error is small, three standard errors still pass */
    av_router *r = router(1000);
    REQUIRE(r);
    av_route_result res = AV_ROUTE_RESULT_INIT;
    CHECK_EQ_INT(route_safety(r, 3.0, 1.0f, &res), 1);
    CHECK(res.gain_lcb > 0);
    /* +inf keeps the baseline whatever the evidence */
    CHECK_EQ_INT(route_safety(r, INFINITY, 1.0f, &res), 0);
    CHECK_EQ_INT(res.guarded, 1);
    av_router_free(r);
}

TEST(test_router_setting_saved_and_loaded)
{
    av_router *r = router(10);
    REQUIRE(r);
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    CHECK(e.safety == 0.0);
    e.kappa = 0.0;
    /* setting the paper's values explicitly changes no byte of the file */
    void *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    REQUIRE(av_router_save_buffer(r, &a, &na) == AV_OK);
    REQUIRE(av_router_set_estimator(r, &e) == AV_OK);
    REQUIRE(av_router_save_buffer(r, &b, &nb) == AV_OK);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    /* safety 1 as the router's default: av_route keeps to the baseline, and so does the loaded
       copy; a request may still override it */
    e.safety = 1.0;
    REQUIRE(av_router_set_estimator(r, &e) == AV_OK);
    CHECK_EQ_INT(av_route(r, Q0, 2, 1.0f), 0);
    REQUIRE(av_router_save_buffer(r, &a, &na) == AV_OK);
    av_router *l = NULL;
    REQUIRE(av_router_load_buffer(&l, a, na) == AV_OK);
    av_estimator_options g = AV_ESTIMATOR_OPTIONS_INIT;
    REQUIRE(av_router_get_estimator(l, &g) == AV_OK);
    CHECK(g.safety == 1.0);
    CHECK_EQ_INT(av_route(l, Q0, 2, 1.0f), 0);
    CHECK_EQ_INT(route_safety(l, 0.0, 1.0f, NULL), 1);
    CHECK_EQ_INT(route_safety(l, -1.0, 1.0f, NULL), 0); /* negative: the router's */
    av_router_free(l);
    free(a);
    /* +inf survives the file too */
    e.safety = INFINITY;
    REQUIRE(av_router_set_estimator(r, &e) == AV_OK);
    REQUIRE(av_router_save_buffer(r, &a, &na) == AV_OK);
    REQUIRE(av_router_load_buffer(&l, a, na) == AV_OK);
    REQUIRE(av_router_get_estimator(l, &g) == AV_OK);
    CHECK(isinf(g.safety) && g.safety > 0);
    av_router_free(l);
    free(a);
    av_router_free(r);
}

TEST(test_bad_values_refused)
{
    av_router *r = router(10);
    REQUIRE(r);
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    e.safety = -0.5;
    CHECK_EQ_INT(av_router_set_estimator(r, &e), AV_EINVAL);
    e.safety = NAN;
    CHECK_EQ_INT(av_router_set_estimator(r, &e), AV_EINVAL);
    av_estimator_options g = AV_ESTIMATOR_OPTIONS_INIT;
    REQUIRE(av_router_get_estimator(r, &g) == AV_OK);
    CHECK(g.safety == 0.0); /* refused calls change nothing */
    CHECK_EQ_INT(route_safety(r, NAN, 1.0f, NULL), AV_EINVAL);
    av_router_free(r);
}

TEST(test_infinite_safety_is_the_best_single_model_per_alpha)
{
    /* with costs in play: alt is cheaper in cluster 1's copy below, so the baseline changes with
       alpha; at safety +inf every query goes to the baseline of its alpha, which is the argmax of
       alpha * p~ + (1 - alpha) * (1 - q~) over the global means, normalised across the models */
    const char *names[] = {"base", "alt"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {100, 100, 100, 100}, ss[] = {60, 70, 60, 20}, sc[] = {100, 10, 100, 10};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 2, 2, names, C, cnt, ss, sc, 1) == AV_OK);
    /* global means: base (0.6, 1), alt (0.45, 0.1): normalised base (1, 0), alt (0, 1); utility
       base alpha, alt 1 - alpha: base for alpha > 0.5, alt below, tie at 0.5 (the cheaper: alt) */
    const float Q1[2] = {0, 1};
    for (int a = 0; a <= 20; a++) {
        float alpha = (float)a / 20.0f;
        int32_t want = alpha > 0.5f ? 0 : 1;
        av_route_result res = AV_ROUTE_RESULT_INIT;
        av_route_options o = AV_ROUTE_OPTIONS_INIT;
        o.alpha = alpha;
        o.flags = AV_ROUTE_SAFETY;
        o.safety = INFINITY;
        CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, &res), want);
        CHECK_EQ_INT(res.baseline, want);
        CHECK_EQ_INT(av_route_ex(r, Q1, 2, &o, NULL), want);
    }
    av_router_free(r);
}

TEST(test_masked_out_baseline)
{
    /* Three models, every cost 1. "top" is the best single model, but the request forbids it: the
       baseline is then the best of the allowed ones by the same global utility, and no decision
       names the forbidden model.
         cluster 0: top 100 outcomes, sum 80; mid 100, sum 60; low 5, sum 4.5 (0.9 on few)
         cluster 1: top 100, sum 80;          mid 100, sum 60; low 100, sum 40
       global means: top 0.8, mid 0.6, low 44.5 / 105 */
    const char *names[] = {"top", "mid", "low"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {100, 100, 5, 100, 100, 100}, ss[] = {80, 60, 4.5, 80, 60, 40};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 2, 3, names, C, cnt, ss, cnt, 1) == AV_OK);
    const uint8_t mask[3] = {0, 1, 1};
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = 1.0f;
    o.model_mask = mask;
    o.model_mask_len = 3;
    av_route_result res = AV_ROUTE_RESULT_INIT;
    /* the rule alone, among mid and low: low's 0.9 in cluster 0 wins; the baseline is mid */
    CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, &res), 2);
    CHECK_EQ_INT(res.baseline, 1);
    CHECK_EQ_INT(res.deviated, 1);
    /* the gain in globally normalised units (the range spans every model, forbidden ones too):
       (0.9 - 0.6) / (0.8 - 44.5 / 105) */
    double glow = 44.5 / 105.0, range = 0.8 - glow;
    CHECK_NEAR(res.gain, 0.3 / range, 1e-9);
    /* +inf: the allowed baseline, never the forbidden best single model */
    o.flags |= AV_ROUTE_SAFETY;
    o.safety = INFINITY;
    CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, &res), 1);
    CHECK_EQ_INT(res.guarded, 1);
    CHECK_EQ_INT(res.baseline, 1);
    /* one standard error: low's 5 outcomes are too few (independent computation of the bound) */
    double se = sqrt(pow(mean_se(5, 4.5), 2) + pow(mean_se(100, 60), 2)) / range;
    CHECK(0.3 / range - se > 0); /* one SE passes ... */
    o.safety = 1.0;
    CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, &res), 2);
    CHECK_NEAR(res.gain_lcb, 0.3 / range - se, 1e-9);
    int32_t k = (int32_t)floor((0.3 / range) / se) + 1; /* ... and the first whole number that
                                                           does not */
    o.safety = (double)k;
    CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, &res), 1);
    /* only the forbidden model allowed away: a mask of "top" alone routes to top, baseline top */
    const uint8_t only_top[3] = {1, 0, 0};
    o.model_mask = only_top;
    o.safety = INFINITY;
    CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, &res), 0);
    CHECK_EQ_INT(res.baseline, 0);
    CHECK_EQ_INT(res.deviated, 0);
    av_router_free(r);
}

TEST(test_exploration_under_safety)
{
    /* Thompson draws (AV_ROUTE_EXPLORE) with safety: at 0 the draw decides exactly as without the
       flag; at +inf every draw is overruled by the baseline; in between a decision is either the
       draw's model or the baseline, and leaves the baseline only with a positive lower bound. */
    av_router *r = router(10);
    REQUIRE(r);
    int picked_alt = 0, picked_base = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        av_route_options o = AV_ROUTE_OPTIONS_INIT;
        o.alpha = 1.0f;
        o.flags = AV_ROUTE_EXPLORE;
        o.explore_seed = seed;
        int32_t draw = av_route_ex(r, Q0, 2, &o, NULL);
        REQUIRE(draw == 0 || draw == 1);
        picked_alt += draw == 1;
        picked_base += draw == 0;
        o.flags |= AV_ROUTE_SAFETY;
        o.safety = 0.0;
        CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, NULL), draw);
        o.safety = INFINITY;
        CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, NULL), 0);
        o.safety = 0.5;
        av_route_result res = AV_ROUTE_RESULT_INIT;
        int32_t d = av_route_ex(r, Q0, 2, &o, &res);
        CHECK(d == draw || d == 0);
        CHECK_EQ_INT(res.baseline, 0);
        if (d == 1)
            CHECK(res.gain_lcb > 0);
    }
    /* the draws do explore: alt's Beta(8, 4) against base's Beta(601, 401) wins most, not all */
    CHECK(picked_alt > 100 && picked_base > 10);
    av_router_free(r);
}

TH_MAIN(T(test_gain_and_its_lower_bound), T(test_evidence_lets_the_router_deviate),
        T(test_router_setting_saved_and_loaded), T(test_bad_values_refused),
        T(test_infinite_safety_is_the_best_single_model_per_alpha), T(test_masked_out_baseline),
        T(test_exploration_under_safety))
