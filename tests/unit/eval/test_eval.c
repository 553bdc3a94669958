/* Replay evaluation: figures of hand-computed replays (single models, oracle with ties, missing
   outcomes, frontier, PerfGain/CostSave/ParetoDist/AUC), argument errors, and decisions identical
   to av_route on the real fixture tests/data/llm9. */
#include "internal.h" /* first: it declares the experimental interfaces too */
#include "harness.h"
#include "testdata.h"

#include <stdint.h>

#define EXACT 0.0
#define TIGHT 1e-12

static av_eval_point point(void)
{
    av_eval_point p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    return p;
}

/* One cluster, three models A, B, C with (mean score, mean cost) A (0.6, 2), B (0.2, 1), C (0.9, 3).
   p~ = (4/7, 0, 1), 1-q~ = (0.5, 1, 0); x(a) = (a*4/7 + (1-a)/2, 1-a, a):
   alpha 0 -> B; alpha 0.5 -> A (0.536 > 0.5 = 0.5); alpha 1 -> C. */
static const char *const ABC[] = {"A", "B", "C"};
static av_router *one_cluster_router(void)
{
    const float C[] = {1, 0};
    const double cnt[] = {10, 10, 10}, ss[] = {6, 2, 9}, sc[] = {20, 10, 30};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 1, 3, ABC, C, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

/* Four rows (score, cost) per model A, B, C; NaN = no outcome:
     r0: A (1, 2)    B (0, 1)      C (1, 3)    oracle A: tie on 1 with C, A cheaper
     r1: A (0, 2)    B (0, 1)      C (0, 3)    oracle B: all 0, B cheapest
     r2: A (-, -)    B (1, 1)      C (0, 3)    oracle B
     r3: A (1, 4)    B (score -)   C (1, 3)    oracle C: tie with A, C cheaper; B missing as a whole
   Single models: A rows 0,1,3: 2/3, cost 8/3; B rows 0,1,2: 1/3, cost 1; C: 1/2, cost 3.
   Oracle: 3/4, cost 7/4. Router: alpha 0 -> B: rows 0-2 (1/3, cost 1), row 3 missing;
   alpha 0.5 -> A: rows 0,1,3 (2/3, 8/3), row 2 missing; alpha 1 -> C: all rows (1/2, 3). */
static const float ROWS4_EMB[] = {1, 0.1f, 1, 0.2f, 1, -0.1f, 2, 0};
#define N4 4
static void rows4(float *s, float *c)
{
    const float sv[] = {1, 0, 1, 0, 0, 0, NAN, 1, 0, 1, NAN, 1};
    const float cv[] = {2, 1, 3, 2, 1, 3, NAN, 1, 3, 4, 1, 3};
    memcpy(s, sv, sizeof sv);
    memcpy(c, cv, sizeof cv);
}

TEST(test_single_oracle_missing)
{
    av_router *r = one_cluster_router();
    REQUIRE(r);
    float s[12], c[12];
    rows4(s, c);
    av_replay rp = AV_REPLAY_INIT;
    rp.n = N4;
    rp.dim = 2;
    rp.embeddings = ROWS4_EMB;
    rp.n_models = 3;
    rp.scores = s;
    rp.costs = c;
    const double alphas[] = {0.0, 0.5, 1.0};
    av_eval_options o = AV_EVAL_OPTIONS_INIT;
    o.alphas = alphas;
    o.n_alphas = 3;
    av_eval_result *res = NULL;
    REQUIRE(av_eval_run(&res, r, &rp, &o) == AV_OK);
    CHECK_EQ_INT(av_eval_n_rows(res), 4);
    CHECK_EQ_INT(av_eval_n_alphas(res), 3);
    CHECK(strcmp(av_eval_model_name(res, 2), "C") == 0);

    av_eval_point p = point();
    REQUIRE(av_eval_model(res, 0, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 2.0 / 3.0, TIGHT);
    CHECK_NEAR(p.mean_cost, 8.0 / 3.0, TIGHT);
    CHECK_EQ_INT(p.n_scored, 3);
    CHECK_EQ_INT(p.n_missing, 1);
    CHECK(isnan(p.alpha));
    REQUIRE(av_eval_model(res, 1, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 1.0 / 3.0, TIGHT);
    CHECK_NEAR(p.mean_cost, 1.0, TIGHT);
    CHECK_EQ_INT(p.n_scored, 3); /* row 3 has B's cost but not its score: no outcome */
    REQUIRE(av_eval_model(res, 2, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 0.5, TIGHT);
    CHECK_NEAR(p.total_cost, 12.0, TIGHT);

    REQUIRE(av_eval_oracle(res, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 0.75, TIGHT);
    CHECK_NEAR(p.mean_cost, 7.0 / 4.0, TIGHT);
    CHECK_EQ_INT(p.n_scored, 4);

    REQUIRE(av_eval_alpha(res, 0, &p) == AV_OK);
    CHECK_NEAR(p.alpha, 0.0, EXACT);
    CHECK_NEAR(p.mean_score, 1.0 / 3.0, TIGHT);
    CHECK_NEAR(p.total_cost, 3.0, TIGHT);
    CHECK_EQ_INT(p.n_scored, 3);
    CHECK_EQ_INT(p.n_missing, 1);
    REQUIRE(av_eval_alpha(res, 1, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 2.0 / 3.0, TIGHT);
    CHECK_NEAR(p.mean_cost, 8.0 / 3.0, TIGHT);
    CHECK_EQ_INT(p.n_missing, 1);
    REQUIRE(av_eval_alpha(res, 2, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 0.5, TIGHT);
    CHECK_NEAR(p.mean_cost, 3.0, TIGHT);
    CHECK_EQ_INT(p.n_missing, 0);
    double share = -1;
    /* shares count every routed row, with or without an outcome */
    CHECK(av_eval_alpha_share(res, 0, 1, &share) == AV_OK && share == 1.0);
    CHECK(av_eval_alpha_share(res, 1, 0, &share) == AV_OK && share == 1.0);
    CHECK(av_eval_alpha_share(res, 1, 2, &share) == AV_OK && share == 0.0);

    av_eval_metrics mt;
    memset(&mt, 0, sizeof mt);
    mt.struct_size = sizeof mt;
    REQUIRE(av_eval_metrics_get(res, &mt) == AV_OK);
    CHECK_EQ_INT(mt.best_model, 0);
    CHECK_NEAR(mt.perf_gain, 0.0, EXACT); /* alpha 0.5 equals A bit for bit */
    CHECK_NEAR(mt.cost_save, 0.0, EXACT);
    CHECK_NEAR(mt.max_cost, 3.0, TIGHT);
    av_eval_result_free(res);

    /* The same replay as doubles gives the same figures; a subset by row indices too. */
    double sd[12], cd[12];
    for (int i = 0; i < 12; i++) {
        sd[i] = s[i];
        cd[i] = c[i];
    }
    rp.value_type = AV_VALUES_F64;
    rp.scores = sd;
    rp.costs = cd;
    const size_t rows[] = {3, 0};
    REQUIRE(av_eval_run_rows(&res, r, &rp, rows, 2, &o) == AV_OK);
    REQUIRE(av_eval_model(res, 0, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 1.0, EXACT);
    CHECK_NEAR(p.mean_cost, 3.0, EXACT); /* (4 + 2) / 2 */
    REQUIRE(av_eval_oracle(res, &p) == AV_OK);
    CHECK_NEAR(p.mean_cost, 2.5, EXACT); /* C (3) and A (2) */
    av_eval_result_free(res);
    av_router_free(r);
}

/* Two clusters on the unit axes, models cheap, mid, big (docs/EVALUATION.md walks through it):
     cluster 0: cheap (0.9, 1), mid (0.5, 5), big (0.95, 10) -> cheap for alpha <= 0.9, else big
     cluster 1: cheap (0.1, 1), mid (0.5, 5), big (0.9, 10)  -> alpha 0: cheap, 0.5: mid, 0.8, 1: big
   Rows r0, r1 in cluster 0 and r2, r3 in cluster 1, outcomes (score, cost):
     r0: cheap (1,1) mid (0,5) big (0,10);  r1: cheap (1,1) mid (1,5) big (1,10)
     r2: cheap (0,1) mid (1,5) big (1,10);  r3: cheap (0,1) mid (0,5) big (1,10)
   Singles: cheap (0.5, 1), mid (0.5, 5), big (0.75, 10) = best. Router: alpha 0 (0.5, 1),
   0.5 (0.75, 3), 0.8 (1.0, 5.5), 1 (0.75, 10). PerfGain 0.25; CostSave 1 - 3/10 = 0.7 (alpha 0.5);
   at 90 % (0.675) also alpha 0.5. Frontier: alpha 0 = cheap (1, 0.5), alpha 0.5, alpha 0.8.
   ParetoDist: only alpha 1 is off it, nearest alpha 0.8: sqrt(0.45^2 + 0.25^2) / 4.
   AUC over cost/10: 0.5 * 0.2 + 0.75 * 0.25 + 1.0 * 0.45 = 0.7375. */
static const char *const CMB[] = {"cheap", "mid", "big"};
static av_router *two_cluster_router(void)
{
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {20, 20, 20, 20, 20, 20};
    const double ss[] = {18, 10, 19, 2, 10, 18};
    const double sc[] = {20, 100, 200, 20, 100, 200};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 2, 3, CMB, C, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

static const float EMB2[] = {1, 0.1f, 1, -0.1f, 0.1f, 1, -0.1f, 1};
static const float S2[] = {1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1};
static const float C2[] = {1, 5, 10, 1, 5, 10, 1, 5, 10, 1, 5, 10};

TEST(test_metrics_and_frontier)
{
    av_router *r = two_cluster_router();
    REQUIRE(r);
    /* columns in another order than the router's, matched by name, plus an extra column */
    const char *names[] = {"big", "extra", "cheap", "mid"};
    float s[16], c[16];
    for (int i = 0; i < 4; i++) {
        s[i * 4 + 0] = S2[i * 3 + 2];
        s[i * 4 + 1] = 0.123f;
        s[i * 4 + 2] = S2[i * 3 + 0];
        s[i * 4 + 3] = S2[i * 3 + 1];
        c[i * 4 + 0] = C2[i * 3 + 2];
        c[i * 4 + 1] = 99;
        c[i * 4 + 2] = C2[i * 3 + 0];
        c[i * 4 + 3] = C2[i * 3 + 1];
    }
    av_replay rp = AV_REPLAY_INIT;
    rp.n = 4;
    rp.dim = 2;
    rp.embeddings = EMB2;
    rp.n_models = 4;
    rp.model_names = names;
    rp.scores = s;
    rp.costs = c;
    const double alphas[] = {0.0, 0.5, 0.8, 1.0};
    av_eval_options o = AV_EVAL_OPTIONS_INIT;
    o.alphas = alphas;
    o.n_alphas = 4;
    av_eval_result *res = NULL;
    REQUIRE(av_eval_run(&res, r, &rp, &o) == AV_OK);
    const double want_s[] = {0.5, 0.75, 1.0, 0.75}, want_c[] = {1, 3, 5.5, 10};
    for (size_t a = 0; a < 4; a++) {
        av_eval_point p = point();
        REQUIRE(av_eval_alpha(res, a, &p) == AV_OK);
        CHECK_NEAR(p.mean_score, want_s[a], TIGHT);
        CHECK_NEAR(p.mean_cost, want_c[a], TIGHT);
    }
    av_eval_point p = point();
    REQUIRE(av_eval_oracle(res, &p) == AV_OK);
    CHECK_NEAR(p.mean_score, 1.0, TIGHT);
    CHECK_NEAR(p.mean_cost, 4.25, TIGHT); /* cheap, cheap, mid, big */
    av_eval_metrics mt = {.struct_size = sizeof mt};
    REQUIRE(av_eval_metrics_get(res, &mt) == AV_OK);
    CHECK_EQ_INT(mt.best_model, 2);
    CHECK_NEAR(mt.best_score, 0.75, TIGHT);
    CHECK_NEAR(mt.best_cost, 10, TIGHT);
    CHECK_NEAR(mt.perf_gain, 0.25, TIGHT);
    CHECK_NEAR(mt.cost_save, 0.7, TIGHT);
    CHECK_NEAR(mt.cost_save_at_target, 0.7, TIGHT);
    CHECK_NEAR(mt.target_fraction, 0.9, EXACT);
    CHECK_NEAR(mt.max_cost, 10, TIGHT);
    CHECK_NEAR(mt.pareto_dist, sqrt(0.45 * 0.45 + 0.25 * 0.25) / 4, TIGHT);
    CHECK_NEAR(mt.auc, 0.7375, TIGHT);

    /* frontier: alpha 0 and cheap tie at (1, 0.5); router before model; then alpha 0.5, 0.8 */
    REQUIRE(av_eval_frontier_count(res) == 4);
    const uint32_t kinds[] = {AV_EVAL_ROUTER, AV_EVAL_MODEL, AV_EVAL_ROUTER, AV_EVAL_ROUTER};
    const size_t idx[] = {0, 0, 1, 2};
    for (size_t t = 0; t < 4; t++) {
        uint32_t k = 9;
        size_t i = 9;
        CHECK(av_eval_frontier_at(res, t, &k, &i) == AV_OK);
        CHECK_EQ_INT(k, kinds[t]);
        CHECK_EQ_INT(i, idx[t]);
    }
    CHECK_EQ_INT(av_eval_frontier_at(res, 4, NULL, NULL), AV_ERANGE);
    av_eval_result_free(res);

    /* target 0.6 * 0.75 = 0.45: alpha 0 (0.5) reaches it at cost 1 -> 1 - 1/10 */
    o.target_fraction = 0.6;
    REQUIRE(av_eval_run(&res, r, &rp, &o) == AV_OK);
    REQUIRE(av_eval_metrics_get(res, &mt) == AV_OK);
    CHECK_NEAR(mt.cost_save_at_target, 0.9, TIGHT);
    av_eval_result_free(res);

    /* only alphas that never reach the best model: CostSave is NaN, PerfGain negative */
    const double low[] = {0.0};
    o.alphas = low;
    o.n_alphas = 1;
    o.target_fraction = 0.9;
    REQUIRE(av_eval_run(&res, r, &rp, &o) == AV_OK);
    REQUIRE(av_eval_metrics_get(res, &mt) == AV_OK);
    CHECK(isnan(mt.cost_save));
    CHECK(isnan(mt.cost_save_at_target));
    CHECK_NEAR(mt.perf_gain, -0.25, TIGHT);
    CHECK_NEAR(mt.auc, 0.5 * 0.9, TIGHT);
    av_eval_result_free(res);

    /* the subset AUC entry point equals the full evaluation's AUC on the same rows */
    o.alphas = alphas;
    o.n_alphas = 4;
    const size_t all[] = {0, 1, 2, 3};
    double auc = -1;
    CHECK(av_eval_subset_auc(&auc, r, &rp, all, 4, &o) == AV_OK);
    CHECK_NEAR(auc, 0.7375, TIGHT);
    /* rows 0, 1 (cluster 0): router cheap everywhere except alpha 1 (big: 0.5, 10) */
    CHECK(av_eval_subset_auc(&auc, r, &rp, all, 2, &o) == AV_OK);
    /* singles there: cheap (1, 1), mid (0.5, 5), big (0.5, 10); max cost 10; router points
       (0.1, 1), (0.1, 1), (0.1, 1), (1, 0.5): A = 1 on [0.1, 1] -> 0.9 */
    CHECK_NEAR(auc, 0.9, TIGHT);
    av_router_free(r);
}

TEST(test_default_alphas_and_old_struct)
{
    av_router *r = two_cluster_router();
    REQUIRE(r);
    av_replay rp = AV_REPLAY_INIT;
    rp.n = 4;
    rp.dim = 2;
    rp.embeddings = EMB2;
    rp.n_models = 3;
    rp.scores = S2;
    rp.costs = C2;
    av_eval_result *res = NULL;
    REQUIRE(av_eval_run(&res, r, &rp, NULL) == AV_OK);
    CHECK_EQ_INT(av_eval_n_alphas(res), 21);
    av_eval_point p = point();
    REQUIRE(av_eval_alpha(res, 1, &p) == AV_OK);
    CHECK_NEAR(p.alpha, (double)0.05f, EXACT); /* rounded to float like av_route's parameter */
    av_eval_result_free(res);

    /* an options struct from a caller that only knew the fields up to n_alphas */
    const double one[] = {1.0};
    av_eval_options o = AV_EVAL_OPTIONS_INIT;
    o.alphas = one;
    o.n_alphas = 1;
    o.struct_size = (uint32_t)(offsetof(av_eval_options, n_alphas) + sizeof(size_t));
    o.target_fraction = -5; /* beyond its struct_size: must not be read */
    REQUIRE(av_eval_run(&res, r, &rp, &o) == AV_OK);
    av_eval_metrics mt = {.struct_size = sizeof mt};
    REQUIRE(av_eval_metrics_get(res, &mt) == AV_OK);
    CHECK_NEAR(mt.target_fraction, 0.9, EXACT);
    /* an output struct shorter than today's receives only its own fields */
    struct {
        uint32_t struct_size;
        int32_t best_model;
        double best_score;
        double guard;
    } small = {(uint32_t)(offsetof(av_eval_metrics, best_score) + sizeof(double)), -1, 0, 42.0};
    REQUIRE(av_eval_metrics_get(res, (av_eval_metrics *)(void *)&small) == AV_OK);
    CHECK_EQ_INT(small.best_model, 2);
    CHECK_NEAR(small.guard, 42.0, EXACT);
    av_eval_result_free(res);
    av_router_free(r);
}

TEST(test_errors)
{
    av_router *r = two_cluster_router();
    REQUIRE(r);
    float s[12], c[12];
    memcpy(s, S2, sizeof s);
    memcpy(c, C2, sizeof c);
    float emb[8];
    memcpy(emb, EMB2, sizeof emb);
    av_replay rp = AV_REPLAY_INIT;
    rp.n = 4;
    rp.dim = 2;
    rp.embeddings = emb;
    rp.n_models = 3;
    rp.scores = s;
    rp.costs = c;
    av_eval_result *res = NULL;
    const char *wrong[] = {"cheap", "mid", "huge"};
    rp.model_names = wrong;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, NULL), AV_EMODEL);
    CHECK(strstr(av_last_error(), "'big'") != NULL);
    CHECK(res == NULL);
    rp.model_names = NULL;
    rp.n_models = 2;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, NULL), AV_EMODEL);
    rp.n_models = 3;
    rp.dim = 3;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, NULL), AV_EDIM);
    rp.dim = 2;
    s[7] = INFINITY;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, NULL), AV_EVALUE);
    CHECK(strstr(av_last_error(), "row 2") != NULL);
    s[7] = 1;
    c[4] = -1;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, NULL), AV_EVALUE);
    c[4] = 5;
    emb[4] = emb[5] = 0;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, NULL), AV_EVECTOR);
    /* the row is named once, after the code's text and before the router's own detail */
    CHECK(strstr(av_last_error(), "row 2: all 2 components are 0") != NULL);
    emb[4] = 0.1f;
    emb[5] = 1;
    const double bad[] = {0.5, 1.5};
    av_eval_options o = AV_EVAL_OPTIONS_INIT;
    o.alphas = bad;
    o.n_alphas = 2;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, &o), AV_EALPHA);
    o.alphas = NULL;
    o.top_p = 3; /* only 2 clusters */
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, &o), AV_EINVAL);
    o.top_p = 0;
    const size_t rows[] = {1, 4};
    CHECK_EQ_INT(av_eval_run_rows(&res, r, &rp, rows, 2, &o), AV_ERANGE);
    CHECK_EQ_INT(av_eval_run_rows(&res, r, &rp, rows, 0, &o), AV_EEMPTY);
    /* no model has any outcome on the rows */
    for (int i = 0; i < 12; i++)
        s[i] = NAN;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp, NULL), AV_EEMPTY);
    CHECK_EQ_INT(av_eval_run(NULL, r, &rp, NULL), AV_EINVAL);
    av_eval_result_free(NULL);
    CHECK_EQ_INT(av_eval_n_rows(NULL), 0);
    av_router_free(r);
}

TEST(test_pareto_and_auc_helpers)
{
    /* (cost, score): a (1, .5) b (2, .5) c (2, .7) d (NaN) e (1, .5) duplicate of a */
    const double cost[] = {1, 2, 2, NAN, 1}, score[] = {0.5, 0.5, 0.7, 0.9, 0.5};
    unsigned char on[5];
    CHECK_EQ_INT(av__pareto_mask(cost, score, 5, on), 3);
    CHECK(on[0] && !on[1] && on[2] && !on[3] && on[4]);
    /* step AUC, scale 4: x = .25 (.5), .5 (.7) -> .5*.25 + .7*.5 */
    CHECK_NEAR(av__step_auc(cost, score, 5, 4.0), 0.5 * 0.25 + 0.7 * 0.5, TIGHT);
    /* a point beyond the scale does not count; scale 0 puts every point at x = 0 */
    const double c2[] = {8}, s2[] = {1};
    CHECK_NEAR(av__step_auc(c2, s2, 1, 4.0), 0.0, EXACT);
    CHECK_NEAR(av__step_auc(c2, s2, 1, 0.0), 1.0, EXACT);
    /* the upper concave hull (what choosing among the points at random reaches): cheap (1, .5),
       mid (5, .6), dear (10, 1); mid lies below the cheap-dear segment (.5 + .4 / .9 * .5 = .72
       at x = .5), so the hull is that segment: area over scale 10 = .5 * (.5 + 1) * .9, where the
       step curve gives .5 * .4 + .6 * .5 */
    const double c3[] = {1, 5, 10, NAN}, s3[] = {0.5, 0.6, 1.0, 2.0};
    CHECK_NEAR(av__hull_auc(c3, s3, 4, 10.0), 0.5 * 1.5 * 0.9, TIGHT);
    CHECK_NEAR(av__step_auc(c3, s3, 4, 10.0), 0.5 * 0.4 + 0.6 * 0.5, TIGHT);
    /* a mean score of .75 costs half way from cheap to dear; .5 the cheap one; 1.1 nothing */
    CHECK_NEAR(av__hull_cost_at(c3, s3, 4, 0.75), 5.5, TIGHT);
    CHECK_NEAR(av__hull_cost_at(c3, s3, 4, 0.5), 1.0, EXACT);
    CHECK(isinf(av__hull_cost_at(c3, s3, 4, 1.1)));
    /* with mid above the segment it is a vertex: (1, .5) (5, .9) (10, 1) over scale 10 */
    const double s4[] = {0.5, 0.9, 1.0};
    CHECK_NEAR(av__hull_auc(c3, s4, 3, 10.0), 0.5 * (0.5 + 0.9) * 0.4 + 0.5 * (0.9 + 1.0) * 0.5,
               TIGHT);
}

/* On the real fixture: every decision of the sweep equals av_route's. The evaluation's per-alpha
   shares and means are recomputed from av_route decisions in the same row order, so they must be
   identical bit for bit. */
TEST(test_identity_with_av_route_llm9)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, fx.d, fx.m, (const char *const *)fx.names) == AV_OK);
    const uint8_t *split = fx.split.data;
    for (size_t i = 0; i < fx.n; i++)
        if (split[i])
            REQUIRE(av_builder_add(b, TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i)) ==
                    AV_OK);
    av_fit_options fo = AV_FIT_OPTIONS_INIT;
    fo.n_clusters = 24;
    fo.n_init = 2;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &fo, &r) == AV_OK);
    av_builder_free(b);

    size_t *rows = malloc(fx.n * sizeof *rows), nt = 0;
    REQUIRE(rows);
    for (size_t i = 0; i < fx.n; i++)
        if (!split[i])
            rows[nt++] = i;
    av_replay rp = AV_REPLAY_INIT;
    rp.n = fx.n;
    rp.dim = fx.d;
    rp.embeddings = fx.emb.data;
    rp.n_models = fx.m;
    rp.model_names = (const char *const *)fx.names;
    rp.scores = fx.scores.data;
    rp.costs = fx.costs.data;
    double alphas[41];
    for (int a = 0; a <= 40; a++)
        alphas[a] = a / 40.0;
    av_eval_options o = AV_EVAL_OPTIONS_INIT;
    o.alphas = alphas;
    o.n_alphas = 41;
    av_eval_result *res = NULL;
    REQUIRE(av_eval_run_rows(&res, r, &rp, rows, nt, &o) == AV_OK);
    size_t counts[16];
    int mismatched = 0;
    for (size_t a = 0; a < 41; a++) {
        memset(counts, 0, sizeof counts);
        double sum_s = 0, sum_c = 0;
        for (size_t t = 0; t < nt; t++) {
            size_t i = rows[t];
            int32_t w = av_route(r, TD_EMB(&fx, i), fx.d, (float)alphas[a]);
            REQUIRE(w >= 0);
            counts[w]++;
            sum_s += (double)TD_SCORES(&fx, i)[w];
            sum_c += (double)TD_COSTS(&fx, i)[w];
        }
        av_eval_point p = point();
        REQUIRE(av_eval_alpha(res, a, &p) == AV_OK);
        mismatched += p.mean_score != sum_s / (double)nt || p.total_cost != sum_c;
        for (size_t mi = 0; mi < fx.m; mi++) {
            double share = -1;
            REQUIRE(av_eval_alpha_share(res, a, mi, &share) == AV_OK);
            mismatched += share != (double)counts[mi] / (double)nt;
        }
    }
    CHECK_EQ_INT(mismatched, 0);
    /* the full-matrix entry point over the same rows copied out gives the same figures */
    av_eval_metrics m1 = {.struct_size = sizeof m1};
    REQUIRE(av_eval_metrics_get(res, &m1) == AV_OK);
    double auc = -1;
    CHECK(av_eval_subset_auc(&auc, r, &rp, rows, nt, &o) == AV_OK);
    CHECK_NEAR(auc, m1.auc, EXACT);
    CHECK(m1.auc > 0 && m1.auc <= 1);
    av_eval_result_free(res);

    /* A router whose defaults leave the paper (soft cluster weights) is evaluated the way av_route
       routes it: again identical decisions. */
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.weighting = AV_WEIGHTING_SOFTMAX;
    REQUIRE(av_router_set_estimator(r, &eo) == AV_OK);
    const double few[] = {0.0, 0.6, 0.9, 1.0};
    o.alphas = few;
    o.n_alphas = 4;
    REQUIRE(av_eval_run_rows(&res, r, &rp, rows, nt, &o) == AV_OK);
    mismatched = 0;
    for (size_t a = 0; a < 4; a++) {
        memset(counts, 0, sizeof counts);
        for (size_t t = 0; t < nt; t++) {
            int32_t w = av_route(r, TD_EMB(&fx, rows[t]), fx.d, (float)few[a]);
            REQUIRE(w >= 0);
            counts[w]++;
        }
        for (size_t mi = 0; mi < fx.m; mi++) {
            double share = -1;
            REQUIRE(av_eval_alpha_share(res, a, mi, &share) == AV_OK);
            mismatched += share != (double)counts[mi] / (double)nt;
        }
    }
    CHECK_EQ_INT(mismatched, 0);
    av_eval_result_free(res);
    free(rows);
    av_router_free(r);
    td_free_fixture(&fx);
}

TH_MAIN(T(test_single_oracle_missing), T(test_metrics_and_frontier),
        T(test_default_alphas_and_old_struct), T(test_errors), T(test_pareto_and_auc_helpers),
        T(test_identity_with_av_route_llm9))
