/* Budgets: expected mean score and cost at an alpha (training statistics and replay), and the
   alphas that a cost budget or an accuracy target call for, on hand-computed routers. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "avengers/avengers.h"
#include "harness.h"
#include "tiny.h"

#include <math.h>
#include <stdint.h>


/* test_router's tiny router. Each cluster's centroid routes to: alpha <= 0.5 small everywhere
   (ties go to the cheaper model), alpha >= 0.6 large everywhere. Per-cluster means of the chosen
   model: small (0.2, 0.1), (0.8, 0.1), (0.5, 0.1); large (0.9, 1.0) in clusters 0 and 1 and its
   global means (0.9, 1.0) in cluster 2. Every cluster holds 10 queries. */

TEST(test_expected_mean_training)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    double s, c;
    CHECK_EQ_INT(av_router_expected_mean(r, 0.0f, NULL, 0, 0, NULL, NULL, &s, &c), AV_OK);
    CHECK_NEAR(s, (0.2 + 0.8 + 0.5) / 3, 1e-12);
    CHECK_NEAR(c, 0.1, 1e-12);
    CHECK_EQ_INT(av_router_expected_mean(r, 0.5f, NULL, 0, 0, NULL, NULL, &s, &c), AV_OK);
    CHECK_NEAR(c, 0.1, 1e-12);
    CHECK_EQ_INT(av_router_expected_mean(r, 0.6f, NULL, 0, 0, NULL, NULL, &s, &c), AV_OK);
    CHECK_NEAR(s, 0.9, 1e-12);
    CHECK_NEAR(c, 1.0, 1e-12);
    CHECK_EQ_INT(av_router_expected_mean(r, 1.5f, NULL, 0, 0, NULL, NULL, &s, &c), AV_EALPHA);
    av_router_free(r);
}

TEST(test_alpha_for_budget_and_accuracy)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    float a = -1;
    /* within 0.5: only small-everywhere alphas (0..0.5); all equal, the first is kept */
    CHECK_EQ_INT(av_router_alpha_for_budget(r, 0.5, NULL, 0, 0, NULL, NULL, 11, &a), AV_OK);
    CHECK(a == 0.0f);
    /* within 1.0: large everywhere has the best score; the first such alpha is 0.6 */
    CHECK_EQ_INT(av_router_alpha_for_budget(r, 1.0, NULL, 0, 0, NULL, NULL, 11, &a), AV_OK);
    CHECK(a == 0.6f);
    CHECK_EQ_INT(av_router_alpha_for_budget(r, 0.05, NULL, 0, 0, NULL, NULL, 11, &a), AV_ENOMODEL);
    /* the inverse: 0.5 is reached at alpha 0 (cost 0.1); 0.8 needs large (cost 1) */
    CHECK_EQ_INT(av_router_alpha_for_accuracy(r, 0.5, NULL, 0, 0, NULL, NULL, 11, &a), AV_OK);
    CHECK(a == 0.0f);
    CHECK_EQ_INT(av_router_alpha_for_accuracy(r, 0.8, NULL, 0, 0, NULL, NULL, 11, &a), AV_OK);
    CHECK(a == 0.6f);
    CHECK_EQ_INT(av_router_alpha_for_accuracy(r, 0.95, NULL, 0, 0, NULL, NULL, 11, &a),
                 AV_ENOMODEL);
    CHECK_EQ_INT(av_router_alpha_for_budget(r, NAN, NULL, 0, 0, NULL, NULL, 11, &a), AV_EINVAL);
    CHECK_EQ_INT(av_router_alpha_for_budget(r, 1, NULL, 0, 0, NULL, NULL, 1, &a), AV_EINVAL);
    av_router_free(r);
}

TEST(test_replay_set)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    /* three queries, one per cluster; logged outcomes: small (1, 0.2), large (0, 2) */
    const float E[] = {1, 0.1f, 0.1f, 1, -1, 0.1f};
    const float S[] = {1, 0, 1, 0, 1, 0}, C[] = {0.2f, 2, 0.2f, 2, 0.2f, 2};
    double s, c;
    CHECK_EQ_INT(av_router_expected_mean(r, 1.0f, E, 3, 2, S, C, &s, &c), AV_OK);
    CHECK_NEAR(s, 0, 0);
    CHECK_NEAR(c, 2, 1e-6);
    CHECK_EQ_INT(av_router_expected_mean(r, 0.0f, E, 3, 2, S, C, &s, &c), AV_OK);
    CHECK_NEAR(s, 1, 0);
    CHECK_NEAR(c, 0.2, 1e-6);
    /* an unlogged cost is the router's estimate for the query: large in cluster 2 -> 1.0 */
    const float C2[] = {0.2f, 2, 0.2f, 2, 0.2f, NAN};
    CHECK_EQ_INT(av_router_expected_mean(r, 1.0f, E, 3, 2, S, C2, &s, &c), AV_OK);
    CHECK_NEAR(c, (2 + 2 + 1.0) / 3, 1e-6);
    float a;
    CHECK_EQ_INT(av_router_alpha_for_budget(r, 1.0, E, 3, 2, S, C, 11, &a), AV_OK);
    CHECK(a == 0.0f); /* large costs 2 on this replay: over budget */
    CHECK_EQ_INT(av_router_alpha_for_accuracy(r, 0.5, E, 3, 2, S, C, 11, &a), AV_OK);
    CHECK(a == 0.0f);
    CHECK_EQ_INT(av_router_expected_mean(r, 1.0f, E, 3, 3, S, C, &s, &c), AV_EDIM);
    CHECK_EQ_INT(av_router_expected_mean(r, 1.0f, E, 0, 2, S, C, &s, &c), AV_EEMPTY);
    av_router_free(r);
}

/* Calibration for a share of calls. Three models, costs 0.1, 0.55, 1 (normalised 0, 0.5, 1 in
   every cluster); cluster 0 (30 queries): scores 0.2, 0.2, 0.8, so "dear" wins for alpha > 0.5;
   cluster 1 (10 queries): scores 0.2, 0.74, 0.8 (mid normalised 0.9), so "dear" beats mid only
   for alpha > 0.5 / (1.5 - 0.9) = 0.833. On the grid 0, 0.1, ..., 1 dear's share is 0 up to 0.5,
   30/40 from 0.6 to 0.8 and 1 from 0.9. */
TEST(test_alpha_for_share)
{
    const char *names[] = {"cheap", "mid", "dear"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {30, 30, 30, 10, 10, 10};
    const double ss[] = {30 * 0.2, 30 * 0.2, 30 * 0.8, 10 * 0.2, 10 * 0.74, 10 * 0.8};
    const double sc[] = {30 * 0.1, 30 * 0.55, 30 * 1.0, 10 * 0.1, 10 * 0.55, 10 * 1.0};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 2, 3, names, C, cnt, ss, sc, 1) == AV_OK);
    const uint8_t dear[] = {0, 0, 1};
    float a = -1;
    double got = -1;
    CHECK_EQ_INT(av_router_alpha_for_share(r, dear, 3, 0.5, NULL, 0, 0, 11, &a, &got), AV_OK);
    CHECK(a == 0.6f);
    CHECK_NEAR(got, 0.75, 1e-12);
    CHECK_EQ_INT(av_router_alpha_for_share(r, dear, 3, 0.8, NULL, 0, 0, 11, &a, &got), AV_OK);
    CHECK(a == 0.9f);
    CHECK_NEAR(got, 1.0, 1e-12);
    CHECK_EQ_INT(av_router_alpha_for_share(r, dear, 3, 0.0, NULL, 0, 0, 11, &a, &got), AV_OK);
    CHECK(a == 0.0f && got == 0.0);
    /* a set of two: cheap or mid take everything below 0.6 and cluster 1 up to 0.8 */
    const uint8_t cheap_mid[] = {1, 1};
    CHECK_EQ_INT(av_router_alpha_for_share(r, cheap_mid, 2, 1.0, NULL, 0, 0, 11, &a, &got), AV_OK);
    CHECK(a == 0.0f && got == 1.0);
    /* a replay set: two queries of cluster 1, one of cluster 0: dear's share 1/3 from 0.6 */
    const float E[] = {0, 1, 0.1f, 1, 1, 0};
    CHECK_EQ_INT(av_router_alpha_for_share(r, dear, 3, 0.3, E, 3, 2, 11, &a, &got), AV_OK);
    CHECK(a == 0.6f);
    CHECK_NEAR(got, 1.0 / 3.0, 1e-12);
    /* an unreachable target gives the closest share: mid takes cluster 1 from alpha 0.4 (where
       0.9 alpha + 0.5 (1 - alpha) > 1 - alpha) to 0.8, a share of 10/40 */
    const uint8_t mid[] = {0, 1, 0};
    CHECK_EQ_INT(av_router_alpha_for_share(r, mid, 3, 0.5, NULL, 0, 0, 11, &a, &got), AV_OK);
    CHECK(a == 0.4f);
    CHECK_NEAR(got, 0.25, 1e-12);
    /* errors */
    const uint8_t none[] = {0, 0, 0};
    CHECK_EQ_INT(av_router_alpha_for_share(r, none, 3, 0.5, NULL, 0, 0, 11, &a, &got), AV_EINVAL);
    CHECK_EQ_INT(av_router_alpha_for_share(r, dear, 3, 1.5, NULL, 0, 0, 11, &a, &got), AV_EINVAL);
    CHECK_EQ_INT(av_router_alpha_for_share(r, dear, 3, NAN, NULL, 0, 0, 11, &a, &got), AV_EINVAL);
    const uint8_t four[] = {0, 0, 1, 1};
    CHECK_EQ_INT(av_router_alpha_for_share(r, four, 4, 0.5, NULL, 0, 0, 11, &a, &got), AV_EMODEL);
    CHECK_EQ_INT(av_router_alpha_for_share(r, dear, 3, 0.5, E, 3, 3, 11, &a, &got), AV_EDIM);
    av_router_free(r);
}

TH_MAIN(T(test_expected_mean_training), T(test_alpha_for_budget_and_accuracy), T(test_replay_set),
        T(test_alpha_for_share))
