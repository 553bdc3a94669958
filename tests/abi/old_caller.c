/* An old caller: this file is compiled against the headers of earlier releases (tests/abi/headers/
   0.1, 0.2 and 1.0, as they were released) and linked with the shared library being tested. Every
   options and result struct sits between guard words; the library must never write past the
   struct as the old header declares it, and must give the results the old program expects.

   In 0.x, av_*_init were functions writing the library's own sizeof (0.2.0 wrote 80 bytes into a
   0.1 program's 72-byte av_fit_options). Since 1.0 those symbols serve old programs only and
   write the 0.1.0 layout; the AV_*_INIT macros of every header carry the caller's sizeof. */
#include "avengers/avengers.h"
#include "harness.h"

#include <stddef.h>
#include <stdint.h>

#define GUARD_BYTES 64
#define GUARD 0xA5

/* A struct of the old header's type with guard bytes on both sides. */
#define GUARDED(type)                         \
    struct {                                  \
        unsigned char before[GUARD_BYTES];    \
        type s;                               \
        unsigned char after[GUARD_BYTES];     \
    }

#define ARM(g) (memset(&(g), GUARD, sizeof(g)))
static int guards_ok(const unsigned char *before, const unsigned char *after)
{
    for (int i = 0; i < GUARD_BYTES; i++)
        if (before[i] != GUARD || after[i] != GUARD)
            return 0;
    return 1;
}
#define INTACT(g) guards_ok((g).before, (g).after)

/* ---- data: two blobs of queries, one per model's strength ----------------------------------- */
#define D 4
#define N 120
static const char *const NAMES[2] = {"cheap", "strong"};
static float X[N][D], S[N][2], C[N][2];

static void make_data(void)
{
    for (int i = 0; i < N; i++) {
        int blob = i % 3;
        for (int t = 0; t < D; t++)
            X[i][t] = (t == blob ? 1.0f : 0.0f) + 0.01f * (float)((i * 7 + t * 3) % 11 - 5);
        S[i][0] = blob == 0 ? 0.9f : 0.3f;
        S[i][1] = 0.8f;
        C[i][0] = 0.1f;
        C[i][1] = 1.0f;
    }
}

static av_router *fit(const av_fit_options *o)
{
    av_builder *b = NULL;
    av_router *r = NULL;
    if (av_builder_new(&b, D, 2, NAMES) != AV_OK)
        return NULL;
    for (int i = 0; i < N; i++)
        av_builder_add(b, X[i], D, S[i], C[i]);
    if (av_builder_fit(b, o, &r) != AV_OK) {
        printf("     av_builder_fit: %s\n", av_last_error());
        r = NULL;
    }
    av_builder_free(b);
    return r;
}

/* The routers decide alike on every training row at five alphas. */
static int same_decisions(const av_router *a, const av_router *b)
{
    int ok = a && b;
    for (int i = 0; ok && i < N; i++)
        for (int k = 0; k <= 4; k++)
            ok &= av_route(a, X[i], D, (float)k / 4) == av_route(b, X[i], D, (float)k / 4);
    return ok;
}

/* ---- every init entry point of the old header writes inside the old struct ------------------ */
TEST(test_init_functions_stay_inside_the_struct)
{
    GUARDED(av_fit_options) f;
    ARM(f);
    av_fit_options_init(&f.s);
    CHECK(INTACT(f));
    CHECK(f.s.struct_size <= sizeof f.s && f.s.n_clusters == 60 && f.s.top_p == 4 &&
          f.s.n_init == 10 && f.s.seed == 42 && f.s.tune == NULL);

    GUARDED(av_route_options) ro;
    ARM(ro);
    av_route_options_init(&ro.s);
    CHECK(INTACT(ro));
    CHECK(ro.s.struct_size <= sizeof ro.s && ro.s.alpha == 0.5f && ro.s.kappa == -1.0 &&
          ro.s.model_mask == NULL);

    GUARDED(av_route_result) rr;
    ARM(rr);
    av_route_result_init(&rr.s);
    CHECK(INTACT(rr));
    CHECK(rr.s.struct_size <= sizeof rr.s && rr.s.model == -1 && rr.s.ranked == NULL);

    GUARDED(av_estimator_options) eo;
    ARM(eo);
    av_estimator_options_init(&eo.s);
    CHECK(INTACT(eo));
    CHECK(eo.s.struct_size <= sizeof eo.s && eo.s.weighting == AV_WEIGHTING_HARD);

    GUARDED(av_update_options) uo;
    ARM(uo);
    av_update_options_init(&uo.s);
    CHECK(INTACT(uo));
    CHECK(uo.s.struct_size <= sizeof uo.s && uo.s.weight == 1.0 && uo.s.top_p == 1);

#if AV_VERSION_NUMBER < 10000 /* tuning left the stable interface in 1.0 (experimental since) */
    GUARDED(av_tune_options) to;
    ARM(to);
    av_tune_options_init(&to.s);
    CHECK(INTACT(to));
    CHECK(to.s.struct_size <= sizeof to.s && to.s.n_folds == 5);
    av_tune_options_default_grid(&to.s);
    CHECK(INTACT(to));
    CHECK(to.s.n_n_clusters == 4 && to.s.n_top_p == 3);
#endif

    GUARDED(av_replay) rp;
    ARM(rp);
    av_replay_init(&rp.s);
    CHECK(INTACT(rp));
    CHECK(rp.s.struct_size <= sizeof rp.s && rp.s.embeddings == NULL);

    GUARDED(av_eval_options) ev;
    ARM(ev);
    av_eval_options_init(&ev.s);
    CHECK(INTACT(ev));
    CHECK(ev.s.struct_size <= sizeof ev.s && ev.s.target_fraction == 0.9);
}

/* ---- results: options made by the old init functions and by the old macros agree ------------- */
TEST(test_fit_route_update_with_old_structs)
{
    GUARDED(av_fit_options) f;
    ARM(f);
    av_fit_options_init(&f.s);
    f.s.n_clusters = 3;
    f.s.top_p = 2;
    f.s.n_init = 2;
    f.s.centroid_type = AV_CENTROIDS_F32;
    av_router *a = fit(&f.s);
    CHECK(INTACT(f));
    av_fit_options m = AV_FIT_OPTIONS_INIT;
    m.n_clusters = 3;
    m.top_p = 2;
    m.n_init = 2;
    av_router *b = fit(&m);
    REQUIRE(a && b);
    CHECK(av_router_n_clusters(a) == 3 && av_router_top_p(a) == 2);
    CHECK(same_decisions(a, b));

    /* route_ex with default options equals av_route; the result stays inside its struct */
    int32_t ranked[2];
    double scores[2];
    for (int i = 0; i < N; i += 7) {
        GUARDED(av_route_options) ro;
        GUARDED(av_route_result) rr;
        ARM(ro);
        ARM(rr);
        av_route_options_init(&ro.s);
        av_route_result_init(&rr.s);
        ro.s.alpha = 0.75f;
        rr.s.ranked = ranked;
        rr.s.ranked_scores = scores;
        rr.s.ranked_cap = 2;
        int32_t w = av_route_ex(a, X[i], D, &ro.s, &rr.s);
        CHECK(w == av_route(a, X[i], D, 0.75f) && rr.s.model == w && ranked[0] == w);
        CHECK(INTACT(ro) && INTACT(rr));
    }

    /* feedback with old update options: a decayed outcome still adds to the statistics */
    GUARDED(av_update_options) uo;
    ARM(uo);
    av_update_options_init(&uo.s);
    uo.s.half_life = 50.0;
    double before = 0, after = 0;
    for (size_t j = 0; j < 3; j++) {
        double c = 0;
        av_router_cluster_stats(a, j, 1, &c, NULL, NULL);
        before += c;
    }
    CHECK(av_profile_update_ex(a, X[0], D, 1, 1.0f, 1.0f, &uo.s) == AV_OK);
    for (size_t j = 0; j < 3; j++) {
        double c = 0;
        av_router_cluster_stats(a, j, 1, &c, NULL, NULL);
        after += c;
    }
    CHECK(INTACT(uo));
    CHECK_NEAR(after, before * 0.98623270449335 + 1.0, 1e-9); /* 2^(-1/50) */

    /* estimator defaults through old structs, both ways */
    GUARDED(av_estimator_options) eo;
    ARM(eo);
    av_estimator_options_init(&eo.s);
    eo.s.kappa = 2.0;
    CHECK(av_router_set_estimator(b, &eo.s) == AV_OK);
    GUARDED(av_estimator_options) got;
    ARM(got);
    got.s.struct_size = (uint32_t)sizeof got.s;
    CHECK(av_router_get_estimator(b, &got.s) == AV_OK);
    CHECK(INTACT(got) && INTACT(eo));
    CHECK(got.s.kappa == 2.0 && got.s.weighting == AV_WEIGHTING_HARD);
    av_router_free(a);
    av_router_free(b);
}

TEST(test_eval_with_old_structs)
{
    av_fit_options m = AV_FIT_OPTIONS_INIT;
    m.n_clusters = 3;
    m.top_p = 1;
    m.n_init = 1;
    av_router *r = fit(&m);
    REQUIRE(r);
    GUARDED(av_replay) rp;
    GUARDED(av_eval_options) ev;
    ARM(rp);
    ARM(ev);
    av_replay_init(&rp.s);
    av_eval_options_init(&ev.s);
    rp.s.n = N;
    rp.s.dim = D;
    rp.s.embeddings = &X[0][0];
    rp.s.n_models = 2;
    rp.s.model_names = NAMES;
    rp.s.scores = &S[0][0];
    rp.s.costs = &C[0][0];
    av_eval_result *res = NULL;
    REQUIRE(av_eval_run(&res, r, &rp.s, &ev.s) == AV_OK);
    CHECK(INTACT(rp) && INTACT(ev));
    CHECK(av_eval_n_alphas(res) == 21);
    GUARDED(av_eval_point) pt;
    GUARDED(av_eval_metrics) mt;
    ARM(pt);
    ARM(mt);
    pt.s.struct_size = (uint32_t)sizeof pt.s;
    mt.s.struct_size = (uint32_t)sizeof mt.s;
    CHECK(av_eval_alpha(res, 20, &pt.s) == AV_OK && av_eval_metrics_get(res, &mt.s) == AV_OK);
    CHECK(INTACT(pt) && INTACT(mt));
    /* alpha 1 routes every blob to its best model: mean score (0.9 + 0.8 + 0.8) / 3 */
    CHECK(pt.s.alpha == 1.0 && pt.s.n_scored == N);
    CHECK_NEAR(pt.s.mean_score, (0.9 + 0.8 + 0.8) / 3.0, 1e-6);
    CHECK(mt.s.best_model == 1);
    av_eval_result_free(res);
    av_router_free(r);
}

#if AV_VERSION_NUMBER >= 200 && AV_VERSION_NUMBER < 10000
/* 0.2 appended av_fit_options.members. Through the AV_FIT_OPTIONS_INIT macro (the caller's sizeof)
   it is honoured; through the old init function (which cannot know the caller's size and so
   writes the 0.1.0 layout) it keeps its default, as docs/ABI.md says. */
TEST(test_members_of_the_0_2_layout)
{
    av_fit_options m = AV_FIT_OPTIONS_INIT;
    m.n_clusters = 3;
    m.top_p = 1;
    m.n_init = 1;
    m.members = 2;
    av_router *a = fit(&m);
    REQUIRE(a);
    CHECK(av_router_members(a) == 2 && av_router_n_clusters(a) == 6);
    GUARDED(av_fit_options) f;
    ARM(f);
    av_fit_options_init(&f.s);
    CHECK(f.s.struct_size == offsetof(av_fit_options, members));
    f.s.n_clusters = 3;
    f.s.top_p = 1;
    f.s.n_init = 1;
    f.s.members = 2;
    av_router *b = fit(&f.s);
    CHECK(INTACT(f));
    CHECK(b && av_router_members(b) == 1);
    av_router_free(a);
    av_router_free(b);
}
#define MEMBERS_TEST T(test_members_of_the_0_2_layout),
#else
#define MEMBERS_TEST
#endif

static void setup(void) __attribute__((constructor));
static void setup(void)
{
    make_data();
    printf("     built against the %s header, running on libavengers %s\n", AV_VERSION_STRING,
           av_version_string());
}

TH_MAIN(T(test_init_functions_stay_inside_the_struct), T(test_fit_route_update_with_old_structs),
        MEMBERS_TEST T(test_eval_with_old_structs))
