/* Budgets: expected mean score and cost at an alpha (training statistics and replay), and the
   alphas that a cost budget or an accuracy target call for, on hand-computed routers. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "avengers/avengers.h"
#include "harness.h"
#include "tiny.h"

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

TH_MAIN(T(test_expected_mean_training), T(test_alpha_for_budget_and_accuracy), T(test_replay_set))
