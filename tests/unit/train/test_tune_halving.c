/* Successive halving in cross-validated tuning (av_tune_options.halving). Small synthetic data
   with a known best candidate (the blobs of test_tune.c, more rows), halving_min_rows set low so
   that small data has several rungs. The rungs' rows and candidates are computed here from the
   rule the options document (rung r of R holds ceil(n / eta^(R-1-r)) rows; as many rungs as keep
   rung 0 at or above the least rows; each rung after the first keeps ceil(1/eta) of the one
   before). */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning interface */
#include "avengers/avengers.h"
#include "blobs.h"
#include "harness.h"
#include "saved_bytes.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { D = BLOBS_D, N = BLOBS_N, BLOBS = BLOBS_K };

/* Four well-separated blobs (tests/blobs.h), no missing outcomes, fixed costs. */
static av_builder *blobs(bool shuffle)
{
    return blobs_builder((blobs_shape){1.0f, 0.1f, 0, 0.0f}, shuffle);
}

/* k 1, 2, 4, 8; top_p 1, 2; kappa 0, 2; safety 0, 1: 4 x 2 x 2 x 2 = 32, less (k = 1, top_p 2): 28
   candidates. The best separate the blobs: k = 4 with top_p 1, or k = 8 with top_p 1 or 2. */
static const uint32_t KS[] = {1, 2, 4, 8};
static const uint32_t PS[] = {1, 2};
static const double KAPPAS[] = {0, 2};
static const double SAFETY[] = {0, 1};
enum { N_CANDIDATES = 28, FOLDS = 4 };

static void grid(av_tune_options *t, uint32_t halving, size_t min_rows)
{
    av_tune_options_init(t);
    t->n_clusters = KS, t->n_n_clusters = 4;
    t->top_p = PS, t->n_top_p = 2;
    t->kappa = KAPPAS, t->n_kappa = 2;
    t->safety = SAFETY, t->n_safety = 2;
    t->n_folds = FOLDS;
    t->n_alphas = 11;
    t->n_init = 1;
    t->halving = halving;
    t->halving_min_rows = min_rows;
}

static av_router *tune(av_builder *b, av_tune_options *t)
{
    /* routers compared byte for byte */
#ifdef _WIN32
    _putenv_s("SOURCE_DATE_EPOCH", "1700000000");
#else
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
#endif
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.tune = t;
    av_router *r = NULL;
    return av_builder_fit(b, &o, &r) == AV_OK ? r : NULL;
}

/* Progress with halving: what the callback saw. */
enum { MAX_CALLS = 512 };
typedef struct seen {
    av_tune_progress calls[MAX_CALLS];
    size_t n;
} seen;

static int on_progress(void *user, const av_tune_progress *p)
{
    seen *s = user;
    if (s->n < MAX_CALLS)
        s->calls[s->n] = *p;
    s->n++;
    return 0;
}

/* The plan the options document, computed here: rows and candidates per rung (the candidates at
   most: the cut keeps ceil(1/eta) of them, and of the k values, so fewer when the k values kept
   have fewer candidates). */
static uint32_t plan(size_t n, uint32_t eta, size_t least, size_t *rows, size_t *cands)
{
    uint32_t rungs = 1;
    double div = 1.0;
    while (ceil((double)n / (div * eta)) >= (double)least) {
        div *= eta;
        rungs++;
    }
    for (uint32_t r = 0; r < rungs; r++)
        rows[r] = (size_t)ceil((double)n / pow((double)eta, (double)(rungs - 1 - r)));
    cands[0] = N_CANDIDATES;
    for (uint32_t r = 1; r < rungs; r++)
        cands[r] = (cands[r - 1] + eta - 1) / eta;
    return rungs;
}

static size_t candidates_of_k(uint32_t k)
{
    return k == 1 ? 4 : 8; /* top_p (1 or 2, not above k) x 2 kappa x 2 safety levels */
}

/* What the progress says of every rung against the rule, computed here: rung r's rows; the k
   values it fits, ceil(1/eta) of the rung before's (all four in rung 0), among them; and its
   candidates, ceil(1/eta) of the rung before's, or if fewer all that the rung before scored of
   its k values (a SCORED call's scores_done grows by the candidates of its k). Fills the
   candidates seen per rung. */
static void check_rungs(const seen *s, uint32_t eta, const size_t *rows, uint32_t rungs,
                        size_t *cands)
{
    bool fitted[8][4] = {{false}}; /* rung x index of k in KS */
    size_t alive[8][4] = {{0}}, prev = 0;
    for (size_t i = 0; i < s->n && i < MAX_CALLS; i++) {
        const av_tune_progress *p = &s->calls[i];
        if (p->stage == AV_TUNE_STAGE_FINAL)
            continue;
        if (p->stage == AV_TUNE_STAGE_SCORED && p->fold == 0)
            for (size_t ki = 0; ki < 4; ki++)
                if (p->n_clusters == KS[ki])
                    alive[p->rung][ki] = p->scores_done - prev;
        prev = p->scores_done;
        REQUIRE(p->rung < rungs && rungs <= 8);
        CHECK_EQ_INT(p->rung_rows, rows[p->rung]);
        cands[p->rung] = p->rung_candidates;
        for (size_t ki = 0; ki < 4; ki++)
            fitted[p->rung][ki] |= p->stage == AV_TUNE_STAGE_FIT && p->n_clusters == KS[ki];
    }
    CHECK_EQ_INT(cands[0], N_CANDIDATES);
    size_t n_prev = 4;
    for (uint32_t r = 0; r < rungs; r++) {
        size_t nk = 0, have = 0;
        size_t here = 0;
        for (size_t ki = 0; ki < 4; ki++) {
            nk += fitted[r][ki];
            here += alive[r][ki];
            CHECK(fitted[r][ki] == (alive[r][ki] > 0));
            if (r > 0 && fitted[r][ki]) {
                CHECK(fitted[r - 1][ki]);
                have += alive[r - 1][ki];
            }
        }
        CHECK_EQ_INT(here, cands[r]);
        if (r == 0) {
            CHECK_EQ_INT(nk, 4);
            for (size_t ki = 0; ki < 4; ki++)
                CHECK_EQ_INT(alive[0][ki], candidates_of_k(KS[ki]));
            continue;
        }
        CHECK_EQ_INT(nk, (n_prev + eta - 1) / eta);
        size_t want = (cands[r - 1] + eta - 1) / eta;
        CHECK_EQ_INT(cands[r], want < have ? want : have);
        n_prev = nk;
    }
}

static void join(const size_t *v, uint32_t n, char *out, size_t size)
{
    size_t a = 0;
    for (uint32_t i = 0; i < n; i++)
        a += (size_t)snprintf(out + a, size - a, "%s%zu", i ? "," : "", v[i]);
}

static bool same_meta(const av_router *a, const av_router *b, const char *key)
{
    const char *x = av_router_meta(a, key), *y = av_router_meta(b, key);
    return x && y && strcmp(x, y) == 0;
}

static const char *const CHOICE[] = {"tuned_n_clusters", "tuned_members", "tuned_top_p",
                                     "tuned_kappa", "tuned_safety", "tuned_normalisation",
                                     "tuned_fallback", "tuned_cv_auc", "tuned_cv_gain",
                                     "tuned_cv_gain_se", "tuned_candidates"};

/* The full search and halving pick the same candidate, and the last rung, on all rows with the
   same folds, measures it exactly as the full search does (same cross-validated figures). The
   rungs are the documented plan: 1,200 rows, eta 2, least rows 150 (4 folds, k 8: the clusters
   need 10 x 8 x 4/3 = 107): rows 150, 300, 600, 1200; k values 4, 2, 1, 1; candidates 28, then
   at most 14, 7, 4. */
TEST(test_halving_picks_the_full_search_winner)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options full, half;
    grid(&full, 1, 0);
    grid(&half, 2, 150);
    seen *s = calloc(1, sizeof *s);
    REQUIRE(s);
    half.progress = on_progress;
    half.progress_user = s;
    av_router *rf = tune(b, &full), *rh = tune(b, &half);
    REQUIRE(rf && rh);
    for (size_t i = 0; i < sizeof CHOICE / sizeof CHOICE[0]; i++)
        CHECK(same_meta(rf, rh, CHOICE[i]));
    CHECK(strcmp(av_router_meta(rf, "tuned_fallback"), "none") == 0);
    /* the winner separates the blobs: k 4 or 8, and its top_p clusters fit in one blob */
    uint32_t k = (uint32_t)atoi(av_router_meta(rf, "tuned_n_clusters"));
    uint32_t p = (uint32_t)atoi(av_router_meta(rf, "tuned_top_p"));
    CHECK((k == 4 || k == 8) && p * BLOBS <= k);
    /* and routes so: at alpha 0.6 blob 2's centre to the dear model, blob 0's to the cheap one */
    float c0[D] = {1}, c2[D] = {0, 0, 1};
    CHECK_EQ_INT(av_route(rh, c0, D, 0.6f), 0);
    CHECK_EQ_INT(av_route(rh, c2, D, 0.6f), 1);
    CHECK(strcmp(av_router_centroid_hash(rf), av_router_centroid_hash(rh)) == 0);
    size_t rows[8], cands[8], seen_cands[8];
    uint32_t rungs = plan(N, 2, 150, rows, cands);
    CHECK_EQ_INT(rungs, 4);
    CHECK_EQ_INT(rows[0], 150);
    check_rungs(s, 2, rows, rungs, seen_cands);
    char want[128];
    join(rows, rungs, want, sizeof want);
    CHECK(strcmp(av_router_meta(rh, "tuned_halving_rows"), want) == 0);
    join(seen_cands, rungs, want, sizeof want);
    CHECK(strcmp(av_router_meta(rh, "tuned_halving_candidates"), want) == 0);
    free(s);
    CHECK(strcmp(av_router_meta(rh, "tuned_halving_eta"), "2") == 0);
    /* no halving: no record of it */
    CHECK(av_router_meta(rf, "tuned_halving_eta") == NULL);
    av_router_free(rf);
    av_router_free(rh);
    av_builder_free(b);
}

/* Per rung: the rows, k values and candidates of the rule (check_rungs), every fold fitted for
   each k that still has candidates, the scores of a rung adding up to its candidates on every
   fold; n_scores and n_fits never below what is done and never rising, both exact at FINAL; the
   time left unknown before the first fit only; at FINAL one fit left. eta 3, least rows 200:
   1200 / 9 = 134 rows is below 200, so two rungs, of rows 400 and 1200; candidates 28, then
   ceil(28 / 3) = 10 of the ceil(4 / 3) = 2 best k values (which have 12 or more). */
TEST(test_halving_progress_per_rung)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options t;
    grid(&t, 3, 200);
    seen *s = calloc(1, sizeof *s);
    REQUIRE(s);
    t.progress = on_progress;
    t.progress_user = s;
    av_router *r = tune(b, &t);
    REQUIRE(r);
    REQUIRE(s->n <= MAX_CALLS);
    size_t rows[8], cands[8];
    uint32_t rungs = plan(N, 3, 200, rows, cands);
    CHECK_EQ_INT(rungs, 2);
    CHECK_EQ_INT(rows[0], 400);
    check_rungs(s, 3, rows, rungs, cands);
    CHECK_EQ_INT(cands[1], 10);
    size_t total = 0;
    for (uint32_t q = 0; q < rungs; q++)
        total += cands[q] * FOLDS;
    size_t scored[8] = {0}, fits[8] = {0}, prev_scores = 0, prev_fits_bound = SIZE_MAX;
    size_t prev_scores_bound = SIZE_MAX;
    for (size_t i = 0; i < s->n; i++) {
        const av_tune_progress *p = &s->calls[i];
        CHECK_EQ_INT(p->struct_size, sizeof(av_tune_progress));
        CHECK_EQ_INT(p->n_rungs, rungs);
        CHECK(p->n_scores >= total && p->n_scores <= prev_scores_bound);
        prev_scores_bound = p->n_scores;
        CHECK_EQ_INT(p->n_candidates, N_CANDIDATES);
        CHECK(p->n_fits >= p->fits_done + 1);
        CHECK(p->n_fits <= prev_fits_bound);
        prev_fits_bound = p->n_fits;
        CHECK((p->seconds_left < 0.0) == (p->fits_done == 0));
        CHECK(p->seconds_elapsed >= 0.0);
        if (p->stage == AV_TUNE_STAGE_FINAL) {
            CHECK_EQ_INT(i, s->n - 1);
            CHECK_EQ_INT(p->n_fits, p->fits_done + 1);
            CHECK_EQ_INT(p->scores_done, total);
            CHECK_EQ_INT(p->n_scores, total);
            continue;
        }
        REQUIRE(p->rung < rungs);
        if (p->stage == AV_TUNE_STAGE_FIT)
            fits[p->rung]++;
        else
            scored[p->rung] += p->scores_done - prev_scores;
        prev_scores = p->scores_done;
    }
    for (uint32_t q = 0; q < rungs; q++)
        CHECK_EQ_INT(scored[q], cands[q] * FOLDS);
    /* rung 0 fits every k on every fold; the last the two k values kept */
    CHECK_EQ_INT(fits[0], 4 * FOLDS);
    CHECK_EQ_INT(fits[1], 2 * FOLDS);
    CHECK(strcmp(av_router_meta(r, "tuned_halving_candidates"), "28,10") == 0);
    free(s);
    av_router_free(r);
    av_builder_free(b);
}

/* Embeddings shuffled across the rows carry no signal: with halving too, routing is not shown to
   help and the router keeps to the best single model for each alpha (safety +inf): every query
   goes to "dear" (the better: right on every row) at alpha 1. */
TEST(test_halving_falls_back_without_signal)
{
    av_builder *b = blobs(true);
    REQUIRE(b);
    av_tune_options t;
    grid(&t, 2, 150);
    av_router *r = tune(b, &t);
    REQUIRE(r);
    CHECK(av_router_meta(r, "tuned_halving_eta") != NULL);
    CHECK(strcmp(av_router_meta(r, "tuned_fallback"), "best_single") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_safety"), "inf") == 0);
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    REQUIRE(av_router_get_estimator(r, &e) == AV_OK);
    CHECK(isinf(e.safety) && e.safety > 0);
    float q[D] = {1, 0.2f, -0.3f};
    CHECK_EQ_INT(av_route(r, q, D, 1.0f), 1);
    CHECK_EQ_INT(av_route(r, q, D, 0.0f), 0);
    av_router_free(r);
    av_builder_free(b);
}

/* The same seed gives the same router, byte for byte. */
TEST(test_halving_deterministic)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options t1, t2;
    grid(&t1, 2, 150);
    grid(&t2, 2, 150);
    av_router *r1 = tune(b, &t1), *r2 = tune(b, &t2);
    REQUIRE(r1 && r2);
    CHECK(same_bytes(r1, r2));
    av_router_free(r1);
    av_router_free(r2);
    av_builder_free(b);
}

/* Automatic halving (0, the default) is off at or below AV_TUNE_HALVING_AUTO_ROWS rows: the same
   router as halving 1 (off), and one rung in the progress; above, on with eta 3 (least rows 4000:
   40001 / 9 = 4445 rows and 40001 / 27 = 1482, so rows 4445, 13334, 40001). */
TEST(test_halving_auto_threshold)
{
    static const uint32_t ks[] = {2, 4}, ps[] = {1};
    for (size_t n = AV_TUNE_HALVING_AUTO_ROWS; n <= AV_TUNE_HALVING_AUTO_ROWS + 1; n++) {
        const char *names[] = {"cheap", "dear"};
        av_builder *b = NULL;
        REQUIRE(av_builder_new(&b, D, 2, names) == AV_OK);
        uint64_t x = 3;
        for (size_t i = 0; i < n; i++) {
            float e[D];
            int c = (int)(i % BLOBS);
            for (int t = 0; t < D; t++)
                e[t] = (t == c ? 1.0f : 0.0f) +
                       0.1f * ((float)((blobs_lcg(&x) >> 40) & 0xFFFF) / 65536.0f - 0.5f);
            const float sc[2] = {c < 2 ? 1.0f : 0.0f, 1.0f}, co[2] = {1.0f, 10.0f};
            REQUIRE(av_builder_add(b, e, D, sc, co) == AV_OK);
        }
        av_tune_options t, off;
        av_tune_options_init(&t);
        t.n_clusters = ks, t.n_n_clusters = 2;
        t.top_p = ps, t.n_top_p = 1;
        t.n_init = 1;
        t.n_alphas = 5;
        off = t;
        off.halving = 1;
        seen *s = calloc(1, sizeof *s);
        REQUIRE(s);
        t.progress = on_progress;
        t.progress_user = s;
        av_router *r = tune(b, &t), *ro = tune(b, &off);
        REQUIRE(r && ro);
        if (n == AV_TUNE_HALVING_AUTO_ROWS) {
            CHECK_EQ_INT(s->calls[0].n_rungs, 1);
            CHECK(av_router_meta(r, "tuned_halving_eta") == NULL);
            CHECK(same_bytes(r, ro));
        } else {
            CHECK_EQ_INT(s->calls[0].n_rungs, 3);
            CHECK(strcmp(av_router_meta(r, "tuned_halving_eta"), "3") == 0);
            CHECK(strcmp(av_router_meta(r, "tuned_halving_rows"), "4445,13334,40001") == 0);
            /* 2 candidates, then ceil(2/3) = 1 twice; the same choice as the full search here */
            CHECK(strcmp(av_router_meta(r, "tuned_halving_candidates"), "2,1,1") == 0);
            CHECK(same_meta(r, ro, "tuned_n_clusters"));
        }
        free(s);
        av_router_free(r);
        av_router_free(ro);
        av_builder_free(b);
    }
}

/* Too few rows for a second rung: halving asked for, one rung, the full search's router. */
TEST(test_halving_one_rung_when_rows_are_few)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options full, half;
    grid(&full, 1, 0);
    grid(&half, 3, 0); /* least rows: the default 4000, above the 1,200 rows */
    av_router *rf = tune(b, &full), *rh = tune(b, &half);
    REQUIRE(rf && rh);
    CHECK(av_router_meta(rh, "tuned_halving_eta") == NULL);
    CHECK(same_bytes(rf, rh));
    av_router_free(rf);
    av_router_free(rh);
    av_builder_free(b);
}

TEST(test_halving_option_errors)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options t;
    av_fit_options o;
    av_fit_options_init(&o);
    o.tune = &t;
    av_router *r = NULL;
    grid(&t, AV_TUNE_MAX_ETA + 1, 0);
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    CHECK(strstr(av_last_error(), "halving=17") != NULL);
    grid(&t, 2, 2 * FOLDS - 1);
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    CHECK(strstr(av_last_error(), "halving_min_rows=7") != NULL);
    CHECK(r == NULL);
    /* the defaults: automatic, the documented least rows */
    av_tune_options d = AV_TUNE_OPTIONS_INIT;
    CHECK_EQ_INT(d.halving, 0);
    CHECK_EQ_INT(d.halving_min_rows, 0);
    av_tune_options_init(&d);
    CHECK_EQ_INT(d.halving, 0);
    /* a 1.1 caller's struct (ending at progress_user) is accepted: halving automatic */
    grid(&t, 0, 0);
    t.struct_size = (uint32_t)(offsetof(av_tune_options, progress_user) + sizeof(void *));
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK(av_router_meta(r, "tuned_halving_eta") == NULL);
    av_router_free(r);
    av_builder_free(b);
}

TH_MAIN(T(test_halving_picks_the_full_search_winner), T(test_halving_progress_per_rung),
        T(test_halving_falls_back_without_signal), T(test_halving_deterministic),
        T(test_halving_auto_threshold), T(test_halving_one_rung_when_rows_are_few),
        T(test_halving_option_errors))
