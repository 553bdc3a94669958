/* Cross-validated tuning on small synthetic data whose best configuration is known: four
   well-separated blobs; a cheap model is right on blobs 0 and 1 only, an expensive one on all.
   One cluster cannot tell the blobs apart and top_p = 4 mixes them, so (k = 4, top_p = 1) has the
   largest area under the accuracy-cost curve. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "avengers/avengers.h"
#include "harness.h"

#include <math.h>
#include <stdint.h>

enum { D = 8, K = 4, PER = 40 };

static av_builder *blobs(void)
{
    const char *names[] = {"cheap", "dear"};
    av_builder *b = NULL;
    if (av_builder_new(&b, D, 2, names) != AV_OK)
        return NULL;
    uint64_t x = 99;
    for (int i = 0; i < PER; i++)
        for (int c = 0; c < K; c++) {
            float e[D];
            for (int t = 0; t < D; t++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                float u = (float)((x >> 40) & 0xFFFF) / 65536.0f - 0.5f;
                e[t] = (t == c ? 1.0f : 0.0f) + 0.1f * u;
            }
            const float s[2] = {c < 2 ? 1.0f : 0.0f, 1.0f}, co[2] = {1.0f, 10.0f};
            av_builder_add(b, e, D, s, co);
        }
    return b;
}

static const uint32_t KS[] = {1, 4};
static const uint32_t PS[] = {1, 4};
static const double KAPPAS[] = {0, 2};
static const float TS[] = {0.05f};

static void grid(av_tune_options *t)
{
    av_tune_options_init(t);
    t->n_clusters = KS, t->n_n_clusters = 2;
    t->top_p = PS, t->n_top_p = 2;
    t->kappa = KAPPAS, t->n_kappa = 2;
    t->temperatures = TS, t->n_temperatures = 1;
    t->n_folds = 4;
    t->n_alphas = 11;
    t->n_init = 2;
}

TEST(test_tune_picks_known_best)
{
    av_builder *b = blobs();
    REQUIRE(b);
    av_tune_options t;
    grid(&t);
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 2;
    o.tune = &t;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK_EQ_INT(av_router_n_clusters(r), 4);
    CHECK_EQ_INT(av_router_top_p(r), 1);
    CHECK(strcmp(av_router_meta(r, "tuned_n_clusters"), "4") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_top_p"), "1") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_folds"), "4") == 0);
    /* 2 k x 2 p x 2 kappa x 2 weightings, less (k = 1, p = 4): 12 */
    CHECK(strcmp(av_router_meta(r, "tuned_candidates"), "12") == 0);
    /* Costs are over the dear model's 10. The perfect router reaches accuracy 1 at mean cost
       (1 + 10) / 2 = 5.5 after accuracy 0.5 from x = 0.1 (all cheap): AUC = 0.5 * 0.45 + 0.45 =
       0.675; a single cluster only mixes the two models: 0.5 * 0.9 = 0.45. */
    CHECK_NEAR(atof(av_router_meta(r, "tuned_cv_auc")), 0.675, 0.02);
    CHECK(t.unused0 == 0.0); /* the options are inputs only: nothing is written back */
    /* at alpha 1 the perfect router scores 1 on held-out rows, as the dear model does: not below
       it, so no guard */
    CHECK_NEAR(atof(av_router_meta(r, "tuned_cv_top_score")), 1.0, 0.0);
    CHECK_NEAR(atof(av_router_meta(r, "tuned_cv_best_single")), 1.0, 0.0);
    CHECK(strcmp(av_router_meta(r, "tuned_guard"), "off") == 0);
    /* the estimator recorded matches the tuned metadata */
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    REQUIRE(av_router_get_estimator(r, &e) == AV_OK);
    CHECK_NEAR(e.kappa, atof(av_router_meta(r, "tuned_kappa")), 0);
    CHECK((e.weighting == AV_WEIGHTING_SOFTMAX) ==
          (strcmp(av_router_meta(r, "tuned_weighting"), "softmax") == 0));
    /* and it routes like that: at alpha 0.6 blob 2's centre goes to the dear model, blob 0's to
       the cheap one */
    float c0[D] = {1}, c2[D] = {0, 0, 1};
    CHECK_EQ_INT(av_route(r, c0, D, 0.6f), 0);
    CHECK_EQ_INT(av_route(r, c2, D, 0.6f), 1);
    av_router_free(r);
    av_builder_free(b);
}

TEST(test_tune_global_normalisation_candidates)
{
    av_builder *b = blobs();
    REQUIRE(b);
    av_tune_options t;
    grid(&t);
    t.global_normalisation = 1;
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.tune = &t;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK(strcmp(av_router_meta(r, "tuned_candidates"), "24") == 0);
    const char *nz = av_router_meta(r, "tuned_normalisation");
    REQUIRE(nz);
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    REQUIRE(av_router_get_estimator(r, &e) == AV_OK);
    CHECK((e.normalisation == AV_NORMALISE_GLOBAL) == (strcmp(nz, "global") == 0));
    /* the blobs' best router is perfect with either normalisation: same AUC as before */
    CHECK_NEAR(atof(av_router_meta(r, "tuned_cv_auc")), 0.675, 0.02);
    av_router_free(r);
    t.global_normalisation = 2;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    av_builder_free(b);
}

/* Scores that the embeddings cannot predict: "good" is right on 60 % of the rows, "poor" on 55 %,
   independently of the (random) embedding. Routing by cluster means then sends some clusters to
   the poorer model, below the best single model at the top of the sweep on held-out rows, and no
   candidate beats the safe policy (the best single model for each alpha) by more than its error:
   the tuned router is the safe policy (safety +inf), so it routes every query to good at alpha 1
   and to poor (the cheaper) at alpha 0. Expected held-out figures are computed here from the same
   data: the best single model's held-out score is good's mean. */
TEST(test_tune_falls_back_to_the_best_single_without_signal)
{
    const char *names[] = {"good", "poor"};
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, D, 2, names) == AV_OK);
    uint64_t x = 7;
    double good = 0.0;
    enum { N = 600 };
    static float E[N][D];
    for (int i = 0; i < N; i++) {
        for (int t = 0; t < D; t++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            E[i][t] = (float)((x >> 40) & 0xFFFF) / 65536.0f - 0.5f;
        }
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u1 = (double)((x >> 11) & 0xFFFFF) / 1048576.0;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u2 = (double)((x >> 11) & 0xFFFFF) / 1048576.0;
        const float s[2] = {u1 < 0.60 ? 1.0f : 0.0f, u2 < 0.55 ? 1.0f : 0.0f}, c[2] = {10.0f, 1.0f};
        good += s[0];
        REQUIRE(av_builder_add(b, E[i], D, s, c) == AV_OK);
    }
    static const uint32_t ks[] = {6, 12}, ps[] = {1};
    static const double safety[] = {0, 1, 2};
    av_tune_options t;
    av_tune_options_init(&t);
    t.n_clusters = ks, t.n_n_clusters = 2;
    t.top_p = ps, t.n_top_p = 1;
    t.safety = safety, t.n_safety = 3;
    t.n_folds = 5, t.n_init = 1;
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.tune = &t;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    /* every row is held out once (per k): the best single model's held-out score is good's mean */
    CHECK_NEAR(atof(av_router_meta(r, "tuned_cv_best_single")), good / N, 1e-12);
    CHECK(strcmp(av_router_meta(r, "tuned_fallback"), "best_single") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_safety"), "inf") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_guard"), "off") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_candidates"), "6") == 0);
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    REQUIRE(av_router_get_estimator(r, &e) == AV_OK);
    CHECK(isinf(e.safety) && e.safety > 0);
    int at1 = 0, at0 = 0;
    for (int i = 0; i < N; i++) {
        at1 += av_route(r, E[i], D, 1.0f) == 0;
        at0 += av_route(r, E[i], D, 0.0f) == 1;
    }
    CHECK_EQ_INT(at1, N);
    CHECK_EQ_INT(at0, N);
    av_router_free(r);
    /* a guard the caller asked for is recorded as such */
    t.guard = 1;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK(strcmp(av_router_meta(r, "tuned_guard"), "requested") == 0);
    av_router_free(r);
    av_builder_free(b);
}

TEST(test_tune_deterministic)
{
    av_builder *b = blobs();
    REQUIRE(b);
    av_tune_options t1, t2;
    grid(&t1);
    grid(&t2);
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.seed = 5;
    av_router *r1 = NULL, *r2 = NULL;
    o.tune = &t1;
    REQUIRE(av_builder_fit(b, &o, &r1) == AV_OK);
    o.tune = &t2;
    REQUIRE(av_builder_fit(b, &o, &r2) == AV_OK);
    CHECK(strcmp(av_router_meta(r1, "tuned_cv_auc"), av_router_meta(r2, "tuned_cv_auc")) == 0);
    const char *keys[] = {"tuned_n_clusters", "tuned_top_p", "tuned_kappa", "tuned_weighting",
                          "tuned_cv_auc"};
    for (size_t i = 0; i < 5; i++)
        CHECK(strcmp(av_router_meta(r1, keys[i]), av_router_meta(r2, keys[i])) == 0);
    av_router_free(r1);
    av_router_free(r2);
    av_builder_free(b);
}

/* A candidate k larger than the rows a fold router is fitted on (160 blob rows, 4 folds: 120) is
   skipped rather than failing the whole tuning; when none is left the error says so. */
TEST(test_tune_skips_k_above_the_fold_rows)
{
    av_builder *b = blobs();
    REQUIRE(b);
    av_tune_options t;
    grid(&t);
    static const uint32_t mixed[] = {4, 121};
    t.n_clusters = mixed, t.n_n_clusters = 2;
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.tune = &t;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK(strcmp(av_router_meta(r, "tuned_n_clusters"), "4") == 0);
    /* k = 4 only: 2 top_p x 2 kappa x 2 weightings */
    CHECK(strcmp(av_router_meta(r, "tuned_candidates"), "8") == 0);
    av_router_free(r);
    r = NULL;
    static const uint32_t edge[] = {120}; /* exactly the fold rows: allowed */
    t.n_clusters = edge, t.n_n_clusters = 1;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK_EQ_INT(av_router_n_clusters(r), 120);
    av_router_free(r);
    r = NULL;
    static const uint32_t too_big[] = {121};
    t.n_clusters = too_big, t.n_n_clusters = 1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EEMPTY);
    CHECK(r == NULL);
    CHECK(strstr(av_last_error(), "120 rows a fold trains on") != NULL);
    av_builder_free(b);
}

TEST(test_tune_errors)
{
    av_builder *b = blobs();
    REQUIRE(b);
    av_tune_options t;
    av_fit_options o;
    av_fit_options_init(&o);
    o.tune = &t;
    av_router *r = NULL;
    grid(&t);
    t.n_folds = 1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    grid(&t);
    static const double bad_kappa[] = {-1};
    t.kappa = bad_kappa;
    t.n_kappa = 1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    grid(&t);
    t.top_p = NULL;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    grid(&t);
    static const uint32_t big_p[] = {8};
    static const uint32_t small_k[] = {2};
    t.top_p = big_p, t.n_top_p = 1;
    t.n_clusters = small_k, t.n_n_clusters = 1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL); /* no candidate with top_p <= k */
    grid(&t);
    t.struct_size = 4;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    CHECK(r == NULL);
    /* the default grid is usable as is */
    av_tune_options g;
    av_tune_options_init(&g);
    av_tune_options_default_grid(&g);
    CHECK(g.n_n_clusters > 1 && g.n_top_p > 1 && g.n_kappa > 1 && g.n_members == 2);
    CHECK(g.n_temperatures == 0 && g.temperatures == NULL); /* hard weights only */
    CHECK(g.kappa[0] == 0.0);
    CHECK_EQ_INT(g.global_normalisation, 1);
    /* a caller's struct of the first published size: the appended field is not written */
    av_tune_options old;
    av_tune_options_init(&old);
    old.struct_size = (uint32_t)offsetof(av_tune_options, global_normalisation);
    old.global_normalisation = 7;
    av_tune_options_default_grid(&old);
    CHECK_EQ_INT(old.global_normalisation, 7);
    CHECK(old.n_n_clusters == g.n_n_clusters);
    av_builder_free(b);
}

/* Progress: what the callback saw, and the call at which it cancels (0: never). */
enum { MAX_CALLS = 64 };
typedef struct seen {
    av_tune_progress calls[MAX_CALLS];
    size_t n;
    size_t cancel_at; /* 1-based call that returns non-zero */
} seen;

static int on_progress(void *user, const av_tune_progress *p)
{
    seen *s = user;
    if (s->n < MAX_CALLS)
        s->calls[s->n] = *p;
    s->n++;
    return s->n == s->cancel_at;
}

/* The grid above on 4 folds: k = 1 has 4 candidates (top_p 1 only, 2 kappas, 2 weightings) and
   k = 4 has 8, so each fold fits two routers (k = 1 then k = 4) and scores 4 then 8 candidates:
   per fold FIT, SCORED for each k, then FINAL for the winner k = 4; 8 fold fits + 1 final. */
TEST(test_tune_progress_per_fold_and_candidate)
{
    av_builder *b = blobs();
    REQUIRE(b);
    av_tune_options t, plain;
    grid(&t);
    grid(&plain);
    seen s = {0};
    t.progress = on_progress;
    t.progress_user = &s;
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 2;
    av_router *r = NULL, *r0 = NULL;
    o.tune = &t;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    o.tune = &plain;
    REQUIRE(av_builder_fit(b, &o, &r0) == AV_OK);
    /* watching does not change the choice */
    CHECK(strcmp(av_router_meta(r, "tuned_cv_auc"), av_router_meta(r0, "tuned_cv_auc")) == 0);
    CHECK_EQ_INT(s.n, 4 * 4 + 1);
    const uint32_t ks[2] = {1, 4};
    const size_t per_k[2] = {4, 8};
    size_t fits = 0, scores = 0, i = 0;
    for (uint32_t f = 0; f < 4; f++)
        for (size_t ki = 0; ki < 2; ki++) {
            const av_tune_progress *fit = &s.calls[i++], *scored = &s.calls[i++];
            CHECK_EQ_INT(fit->stage, AV_TUNE_STAGE_FIT);
            CHECK_EQ_INT(fit->fold, f);
            CHECK_EQ_INT(fit->n_clusters, ks[ki]);
            CHECK_EQ_INT(fit->fits_done, fits);
            CHECK_EQ_INT(fit->scores_done, scores);
            fits++;
            scores += per_k[ki];
            CHECK_EQ_INT(scored->stage, AV_TUNE_STAGE_SCORED);
            CHECK_EQ_INT(scored->fold, f);
            CHECK_EQ_INT(scored->n_clusters, ks[ki]);
            CHECK_EQ_INT(scored->fits_done, fits);
            CHECK_EQ_INT(scored->scores_done, scores);
        }
    const av_tune_progress *fin = &s.calls[i];
    CHECK_EQ_INT(fin->stage, AV_TUNE_STAGE_FINAL);
    CHECK_EQ_INT(fin->n_clusters, 4);
    CHECK_EQ_INT(fin->fits_done, 8);
    CHECK_EQ_INT(fin->scores_done, 48);
    for (size_t c = 0; c < s.n && c < MAX_CALLS; c++) {
        CHECK_EQ_INT(s.calls[c].struct_size, sizeof(av_tune_progress));
        CHECK_EQ_INT(s.calls[c].n_folds, 4);
        CHECK_EQ_INT(s.calls[c].n_fits, 9);
        CHECK_EQ_INT(s.calls[c].n_candidates, 12);
        CHECK_EQ_INT(s.calls[c].n_scores, 48);
    }
    av_router_free(r);
    av_router_free(r0);
    av_builder_free(b);
}

/* A non-zero return stops the tuning at once, at a fold or before the final fit: no router, no
   further call, AV_EINVAL with a message that says so. */
TEST(test_tune_progress_cancels)
{
    av_builder *b = blobs();
    REQUIRE(b);
    const size_t at[] = {1, 3, 17};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        av_tune_options t;
        grid(&t);
        seen s = {0};
        s.cancel_at = at[k];
        t.progress = on_progress;
        t.progress_user = &s;
        av_fit_options o;
        av_fit_options_init(&o);
        o.n_init = 2;
        o.tune = &t;
        av_router *r = NULL;
        CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_ECANCELED);
        CHECK(r == NULL);
        CHECK_EQ_INT(s.n, at[k]);
        CHECK(strstr(av_last_error(), "cancelled by the progress callback") != NULL);
    }
    av_builder_free(b);
}

TH_MAIN(T(test_tune_picks_known_best), T(test_tune_global_normalisation_candidates),
        T(test_tune_falls_back_to_the_best_single_without_signal),
        T(test_tune_skips_k_above_the_fold_rows),
        T(test_tune_deterministic), T(test_tune_errors),
        T(test_tune_progress_per_fold_and_candidate), T(test_tune_progress_cancels))
