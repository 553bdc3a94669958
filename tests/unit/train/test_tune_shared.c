/* Shared clustering in cross-validated tuning (av_tune_options.shared_clustering): one k-means
   per rung and k on all the rung's rows, each fold's router taking those centroids with the
   statistics of its training rows only. The fold routers are checked against statistics computed
   here with the public map step (av_kmeans_stats_block) on the fold's training rows and the same
   centroids, and the centroids against an independent fit on all rows; then the choice, the guard
   and determinism through the public tuning entry point. Small synthetic data (the blobs of
   test_tune_halving.c, with some missing outcomes). */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning interface */
#include "avengers/avengers.h"
#include "blobs.h"
#include "harness.h"
#include "saved_bytes.h"
#include "train/train.h" /* av__tune_shared_fold: the fold routers themselves */

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { D = BLOBS_D, N = BLOBS_N, M = 2, BLOBS = BLOBS_K };

/* The blobs of tests/blobs.h, wider apart and noisier than test_tune_halving.c's, every 17th row
   without the cheap model's outcome (NaN), and the cheap model's cost varying a little. */
static av_builder *blobs(bool shuffle)
{
    return blobs_builder((blobs_shape){2.0f, 0.3f, 17, 0.01f}, shuffle);
}

static const uint32_t KS[] = {1, 2, 4, 8};
static const uint32_t PS[] = {1, 2};
static const double KAPPAS[] = {0, 2};
static const uint32_t MEMBERS[] = {1, 2};
enum { FOLDS = 4 };

static void grid(av_tune_options *t, uint32_t shared)
{
    av_tune_options_init(t);
    t->n_clusters = KS, t->n_n_clusters = 4;
    t->top_p = PS, t->n_top_p = 2;
    t->kappa = KAPPAS, t->n_kappa = 2;
    t->members = MEMBERS, t->n_members = 2;
    t->n_folds = FOLDS;
    t->n_alphas = 11;
    t->n_init = 1;
    t->shared_clustering = shared;
}

static void epoch(void)
{
#ifdef _WIN32
    _putenv_s("SOURCE_DATE_EPOCH", "1700000000");
#else
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
#endif
}

static av_router *tune(av_builder *b, av_tune_options *t)
{
    epoch(); /* routers compared byte for byte */
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.tune = t;
    av_router *r = NULL;
    return av_builder_fit(b, &o, &r) == AV_OK ? r : NULL;
}

/* Every fold's router: the centroids of k-means on all rows (an independent av_builder_fit with
   the tuning's restarts), and per member exactly the statistics av_kmeans_stats_block adds over
   the raw rows outside the fold, in row order, with that member's centroids. The folds are a
   partition of the rows, balanced to one row. */
TEST(test_fold_statistics_equal_independent_ones)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    enum { K = 4, MB = 2 };
    av_tune_options t;
    grid(&t, 2);
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = K;
    o.members = MB;
    o.top_p = 1;
    o.n_init = t.n_init;
    o.tune = &t;
    /* the clustering, fitted independently on all rows */
    av_fit_options oc = o;
    oc.tune = NULL;
    av_router *all = NULL;
    REQUIRE(av_builder_fit(b, &oc, &all) == AV_OK);
    static uint32_t fold_of[N];
    static float X[N * D], Sf[N * M], Cf[N * M];
    size_t rows_in[FOLDS] = {0};
    for (uint32_t f = 0; f < FOLDS; f++) {
        av_router *r = NULL;
        REQUIRE(av__tune_shared_fold(b, &o, f, fold_of, &r) == AV_OK);
        /* the fold's training rows, raw */
        size_t n = 0;
        for (size_t i = 0; i < N; i++) {
            REQUIRE(fold_of[i] < FOLDS);
            if (f == 0)
                rows_in[fold_of[i]]++;
            if (fold_of[i] == f)
                continue;
            memcpy(X + n * D, blobs_E[i], sizeof blobs_E[i]);
            memcpy(Sf + n * M, blobs_S[i], sizeof blobs_S[i]);
            memcpy(Cf + n * M, blobs_C[i], sizeof blobs_C[i]);
            n++;
        }
        CHECK(n >= N - (N + FOLDS - 1) / FOLDS && n <= N - N / FOLDS);
        bool same_c = true, same_s = true;
        for (size_t mb = 0; mb < MB; mb++) {
            float cen[K * D], other[D];
            for (size_t j = 0; j < K; j++) {
                REQUIRE(av_router_get_centroid(r, mb * K + j, cen + j * D, D) == AV_OK);
                REQUIRE(av_router_get_centroid(all, mb * K + j, other, D) == AV_OK);
                same_c &= memcmp(cen + j * D, other, sizeof other) == 0;
            }
            double cnt[K * M] = {0}, ss[K * M] = {0}, sc[K * M] = {0};
            REQUIRE(av_kmeans_stats_block(cen, K, D, X, n, Sf, Cf, M, cnt, ss, sc, NULL) ==
                    AV_OK);
            for (size_t j = 0; j < K; j++)
                for (size_t q = 0; q < M; q++) {
                    double c1, s1, q1;
                    REQUIRE(av_router_cluster_stats(r, mb * K + j, q, &c1, &s1, &q1) == AV_OK);
                    same_s &= c1 == cnt[j * M + q] && s1 == ss[j * M + q] &&
                              q1 == sc[j * M + q];
                }
        }
        CHECK(same_c);
        CHECK(same_s);
        av_router_free(r);
    }
    for (uint32_t f = 0; f < FOLDS; f++)
        CHECK(rows_in[f] == N / FOLDS);
    /* a fold out of range */
    av_router *r = NULL;
    CHECK_EQ_INT(av__tune_shared_fold(b, &o, FOLDS, fold_of, &r), AV_EINVAL);
    CHECK(r == NULL);
    av_router_free(all);
    av_builder_free(b);
}

/* With signal, shared clustering picks a router that separates the blobs, routes them so, and
   says so in the metadata; the same options give the same file twice (determinism for a seed). */
TEST(test_shared_picks_a_separating_router_deterministically)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options t;
    grid(&t, 2);
    av_router *r1 = tune(b, &t), *r2 = tune(b, &t);
    REQUIRE(r1 && r2);
    CHECK(same_bytes(r1, r2));
    CHECK(strcmp(av_router_meta(r1, "tuned_clustering"), "shared") == 0);
    CHECK(strcmp(av_router_meta(r1, "tuned_fallback"), "none") == 0);
    uint32_t k = (uint32_t)atoi(av_router_meta(r1, "tuned_n_clusters"));
    uint32_t p = (uint32_t)atoi(av_router_meta(r1, "tuned_top_p"));
    CHECK((k == 4 || k == 8) && p * BLOBS <= k);
    float c0[D] = {1}, c2[D] = {0, 0, 1};
    CHECK_EQ_INT(av_route(r1, c0, D, 0.6f), 0);
    CHECK_EQ_INT(av_route(r1, c2, D, 0.6f), 1);
    av_router_free(r1);
    av_router_free(r2);
    av_builder_free(b);
}

/* Embeddings permuted across the rows: no candidate beats the single models on every fold by two
   standard errors, and the shared mode falls back to the best single model (safety +inf), which
   routes everything to "dear" at alpha 1. */
TEST(test_shared_falls_back_without_signal)
{
    av_builder *b = blobs(true);
    REQUIRE(b);
    av_tune_options t;
    grid(&t, 2);
    av_router *r = tune(b, &t);
    REQUIRE(r);
    CHECK(strcmp(av_router_meta(r, "tuned_fallback"), "best_single") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_safety"), "inf") == 0);
    float c0[D] = {1}, c2[D] = {0, 0, 1};
    CHECK_EQ_INT(av_route(r, c0, D, 1.0f), 1);
    CHECK_EQ_INT(av_route(r, c2, D, 1.0f), 1);
    av_router_free(r);
    av_builder_free(b);
}

typedef struct seen {
    size_t fits, scored, calls;
    bool ordered;     /* a FIT reports fold 0, and each k's SCORED calls go through the folds */
    bool never_rises; /* n_fits */
    bool time_left;   /* unknown (negative) before the first fit only, finite after */
    size_t last_n_fits, final_fits, final_n_fits;
    uint32_t next_fold;
} seen;

static int on_progress(void *user, const av_tune_progress *p)
{
    seen *s = user;
    if (s->calls++ > 0 && p->n_fits > s->last_n_fits)
        s->never_rises = false;
    s->last_n_fits = p->n_fits;
    s->time_left &= (p->seconds_left < 0.0) == (p->fits_done == 0) && isfinite(p->seconds_left);
    if (p->stage == AV_TUNE_STAGE_FIT) {
        s->ordered &= p->fold == 0 && s->next_fold == 0 && p->fits_done == s->fits;
        s->fits++;
    } else if (p->stage == AV_TUNE_STAGE_SCORED) {
        s->ordered &= p->fold == s->next_fold && p->fits_done == s->fits;
        s->next_fold = (p->fold + 1) % p->n_folds;
        s->scored++;
    } else {
        s->final_fits = p->fits_done;
        s->final_n_fits = p->n_fits;
    }
    return 0;
}

/* Progress: one fit per k (not per fold), each followed by one SCORED call per fold; the fits
   counted at FINAL are the four k values, with the final fit left; with halving (eta 2 on 1,200
   rows, rung 0 at 300 rows at least: rungs of 300, 600 and 1,200 rows), one fit per k value
   alive per rung: 4, then 2, then 1. */
TEST(test_shared_progress_one_fit_per_k)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options t;
    grid(&t, 2);
    seen s = {0, 0, 0, true, true, true, 0, 0, 0, 0};
    t.progress = on_progress;
    t.progress_user = &s;
    av_router *r = tune(b, &t);
    REQUIRE(r);
    CHECK(s.ordered && s.never_rises && s.time_left);
    CHECK_EQ_INT(s.fits, 4);
    CHECK_EQ_INT(s.scored, 4 * FOLDS);
    CHECK_EQ_INT(s.final_fits, 4);
    CHECK_EQ_INT(s.final_n_fits, 5);
    av_router_free(r);
    seen h = {0, 0, 0, true, true, true, 0, 0, 0, 0};
    t.progress_user = &h;
    t.halving = 2;
    t.halving_min_rows = 300;
    r = tune(b, &t);
    REQUIRE(r);
    CHECK(h.ordered && h.never_rises && h.time_left);
    CHECK_EQ_INT(h.fits, 4 + 2 + 1);
    CHECK_EQ_INT(h.scored, (4 + 2 + 1) * FOLDS);
    CHECK_EQ_INT(h.final_n_fits, h.final_fits + 1);
    CHECK(strcmp(av_router_meta(r, "tuned_halving_rows"), "300,600,1200") == 0);
    CHECK(strcmp(av_router_meta(r, "tuned_clustering"), "shared") == 0);
    av_router_free(r);
    av_builder_free(b);
}

/* The final router is the one av_builder_fit fits with the winner's options (its restarts, not
   the tuning's): with halving down to one k in the last rung, the tuning fits that rung's
   clustering with those options and the final router reuses it (same centroids, statistics,
   top_p and k-means record); with ensembles of one or two members in the grid, and with two only
   (the fitted size, which the reuse needs). */
TEST(test_shared_final_router_is_the_builders)
{
    static const uint32_t TWO[] = {2};
    av_builder *b = blobs(false);
    REQUIRE(b);
    for (int only_two = 0; only_two < 2; only_two++) {
        av_tune_options t;
        grid(&t, 2);
        if (only_two)
            t.members = TWO, t.n_members = 1;
        t.halving = 2;
        t.halving_min_rows = 300;
        epoch();
        av_fit_options o;
        av_fit_options_init(&o);
        o.n_init = 2;
        o.tune = &t;
        av_router *r = NULL, *f = NULL;
        REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
        CHECK(strcmp(av_router_meta(r, "tuned_halving_rows"), "300,600,1200") == 0);
        av_fit_options of = o;
        of.tune = NULL;
        of.n_clusters = (uint32_t)atoi(av_router_meta(r, "tuned_n_clusters"));
        of.members = (uint32_t)atoi(av_router_meta(r, "tuned_members"));
        of.top_p = (uint32_t)atoi(av_router_meta(r, "tuned_top_p"));
        CHECK(!only_two || of.members == 2);
        REQUIRE(av_builder_fit(b, &of, &f) == AV_OK);
        CHECK(strcmp(av_router_centroid_hash(r), av_router_centroid_hash(f)) == 0);
        CHECK_EQ_INT(av_router_n_clusters(r), av_router_n_clusters(f));
        bool same = true;
        for (size_t j = 0; j < av_router_n_clusters(r); j++)
            for (size_t q = 0; q < M; q++) {
                double c1, s1, q1, c2, s2, q2;
                REQUIRE(av_router_cluster_stats(r, j, q, &c1, &s1, &q1) == AV_OK);
                REQUIRE(av_router_cluster_stats(f, j, q, &c2, &s2, &q2) == AV_OK);
                same &= c1 == c2 && s1 == s2 && q1 == q2;
            }
        CHECK(same);
        static const char *const KEYS[] = {"top_p", "n_init", "inertia", "n_iter", "n_clusters",
                                           "algorithm", "created", "n_train_rows"};
        for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
            const char *x = av_router_meta(r, KEYS[i]), *y = av_router_meta(f, KEYS[i]);
            CHECK(x && y && strcmp(x, y) == 0);
        }
        av_router_free(r);
        av_router_free(f);
    }
    av_builder_free(b);
}

/* Automatic (0) is off at or below AV_TUNE_SHARED_AUTO_ROWS rows: the same file as off (1), with
   no tuned_clustering record; a caller's 1.2 struct (ending at halving_min_rows) gets the
   automatic mode; values above 2 and a non-zero reserved2 are AV_EINVAL. */
TEST(test_shared_auto_and_errors)
{
    av_builder *b = blobs(false);
    REQUIRE(b);
    av_tune_options t;
    grid(&t, 0);
    av_router *ra = tune(b, &t);
    grid(&t, 1);
    av_router *ro = tune(b, &t);
    grid(&t, 0);
    t.struct_size = (uint32_t)(offsetof(av_tune_options, halving_min_rows) + sizeof(size_t));
    av_router *r12 = tune(b, &t);
    REQUIRE(ra && ro && r12);
    CHECK(same_bytes(ra, ro));
    CHECK(same_bytes(ra, r12));
    CHECK(av_router_meta(ra, "tuned_clustering") == NULL);
    av_router_free(ra);
    av_router_free(ro);
    av_router_free(r12);
    av_tune_options d = AV_TUNE_OPTIONS_INIT;
    CHECK_EQ_INT(d.shared_clustering, 0);
    CHECK_EQ_INT(d.reserved2, 0);
    CHECK_EQ_INT(AV_TUNE_SHARED_AUTO_ROWS, 40000);
    av_fit_options o;
    av_fit_options_init(&o);
    o.tune = &t;
    av_router *r = NULL;
    grid(&t, 3);
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    CHECK(strstr(av_last_error(), "shared_clustering=3") != NULL);
    grid(&t, 2);
    t.reserved2 = 1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    CHECK(strstr(av_last_error(), "reserved2=1") != NULL);
    CHECK(r == NULL);
    av_builder_free(b);
}

TH_MAIN(T(test_fold_statistics_equal_independent_ones),
        T(test_shared_picks_a_separating_router_deterministically),
        T(test_shared_falls_back_without_signal), T(test_shared_progress_one_fit_per_k),
        T(test_shared_final_router_is_the_builders), T(test_shared_auto_and_errors))
