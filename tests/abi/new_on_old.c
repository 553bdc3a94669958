/* A program built against this header running on an older library (docs/ABI.md): linked with the
   shared library of the last release (ABI_OLD_LIB_VERSION, built from the git history by
   `make check-abi-older-lib`) and with this one. Through the stable API with the defaults, both
   behave alike; an option the older library does not know, when set, is refused with AV_EINVAL
   naming its offset, never silently ignored; the program can tell the two apart with
   av_version_number(). */
#define AV_STATIC_LINKING_ONLY /* av_tune_options (experimental, but sized like the others) */
#include "avengers/avengers.h"
#include "harness.h"

#include <stddef.h>
#include <string.h>

#define N 200
#define D 8
#define M 2

static float X[N][D], S[N][M], C[N][M];

static void data(void)
{
    for (int i = 0; i < N; i++) {
        int blob = i % 4;
        for (int t = 0; t < D; t++)
            X[i][t] = (t == blob ? 1.0f : 0.0f) + 0.01f * (float)((i * 7 + t * 3) % 11 - 5);
        /* model 0 wins on blobs 0 and 1, model 1 on 2 and 3; model 1 is cheaper */
        S[i][0] = blob < 2 ? 1.0f : 0.0f;
        S[i][1] = blob < 2 ? 0.0f : 1.0f;
        C[i][0] = 2.0f;
        C[i][1] = 1.0f;
    }
}

static av_builder *builder(void)
{
    const char *names[M] = {"a", "b"};
    av_builder *b = NULL;
    if (av_builder_new(&b, D, M, names) != AV_OK)
        return NULL;
    for (int i = 0; i < N; i++)
        if (av_builder_add(b, X[i], D, S[i], C[i]) != AV_OK) {
            av_builder_free(b);
            return NULL;
        }
    return b;
}

static unsigned linked(void)
{
    return av_version_number();
}

TEST(test_versions)
{
    printf("     built against the %s header, running on libavengers %s\n", AV_VERSION_STRING,
           av_version_string());
    CHECK(linked() <= AV_VERSION_NUMBER);
    CHECK(linked() >= 10000); /* a 1.x library: the same SONAME */
}

TEST(test_defaults_behave_alike)
{
    data();
    av_builder *b = builder();
    REQUIRE(b);
    av_fit_options o = AV_FIT_OPTIONS_INIT; /* this header's size: a zero tail for older ones */
    o.n_clusters = 4;
    o.top_p = 1;
    o.n_init = 2;
    av_router *r = NULL;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_OK);
    REQUIRE(r);
    for (int i = 0; i < 8; i++) {
        int want = (i % 4) < 2 ? 0 : 1;
        CHECK_EQ_INT(av_route(r, X[i], D, 1.0f), want);
        av_route_options ro = AV_ROUTE_OPTIONS_INIT;
        ro.alpha = 1.0f;
        av_route_result res = AV_ROUTE_RESULT_INIT;
        CHECK_EQ_INT(av_route_ex(r, X[i], D, &ro, &res), want);
        CHECK_EQ_INT(res.model, want);
    }
    /* at alpha 0 the cheaper model everywhere */
    CHECK_EQ_INT(av_route(r, X[0], D, 0.0f), 1);
    av_update_options uo = AV_UPDATE_OPTIONS_INIT;
    CHECK_EQ_INT(av_profile_update_ex(r, X[0], D, 1, 1.0f, 1.0f, &uo), AV_OK);
    void *buf = NULL;
    size_t n = 0;
    CHECK_EQ_INT(av_router_save_buffer(r, &buf, &n), AV_OK);
    av_router *back = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&back, buf, n), AV_OK);
    if (back)
        for (int i = 0; i < 8; i++)
            CHECK_EQ_INT(av_route(back, X[i], D, 0.7f), av_route(r, X[i], D, 0.7f));
    av_free(buf);
    av_router_free(back);
    av_router_free(r);
    av_builder_free(b);
}

TEST(test_newer_option_refused_not_ignored)
{
    av_builder *b = builder();
    REQUIRE(b);
    av_fit_options o = AV_FIT_OPTIONS_INIT;
    o.n_clusters = 4;
    o.top_p = 1;
    o.n_init = 1;
    o.algorithm = AV_KMEANS_SAMPLED; /* appended in 1.2 */
    o.sample_size = 100;
    av_router *r = NULL;
    int rc = av_builder_fit(b, &o, &r);
    if (linked() >= 10200) { /* a library that knows the member */
        CHECK_EQ_INT(rc, AV_OK);
        CHECK(r != NULL);
    } else { /* an older one refuses, naming where the unknown member is */
        char want[64];
        snprintf(want, sizeof want, "offset %u", (unsigned)offsetof(av_fit_options, algorithm));
        CHECK_EQ_INT(rc, AV_EINVAL);
        CHECK(r == NULL);
        CHECK(strstr(av_last_error(), want) != NULL);
        if (!strstr(av_last_error(), want))
            printf("     message: %s\n", av_last_error());
    }
    av_router_free(r);
    r = NULL;
    /* the reserved members fill the 1.1 layout's padding: a library that knows them refuses any
       value but 0 (an older one never reads them, which is why no option may live there) */
    if (linked() >= 10200) {
        av_fit_options z = AV_FIT_OPTIONS_INIT;
        z.n_clusters = 4;
        z.reserved0 = 1;
        CHECK_EQ_INT(av_builder_fit(b, &z, &r), AV_EINVAL);
        CHECK(strstr(av_last_error(), "reserved0") != NULL);
        z.reserved0 = 0;
        z.reserved1 = 7;
        CHECK_EQ_INT(av_builder_fit(b, &z, &r), AV_EINVAL);
        CHECK(strstr(av_last_error(), "reserved1") != NULL);
        CHECK(r == NULL);
    }
    av_builder_free(b);
}

/* av_tune_options.shared_clustering (appended in 1.3): a 1.3 library tunes with it; a 1.2 one
   refuses it, naming its offset, instead of tuning with one clustering per fold. */
TEST(test_tune_option_of_1_3)
{
    av_builder *b = builder();
    REQUIRE(b);
    const uint32_t ks[] = {4};
    av_tune_options t = AV_TUNE_OPTIONS_INIT;
    t.n_clusters = ks;
    t.n_n_clusters = 1;
    t.n_folds = 2;
    t.n_init = 1;
    t.shared_clustering = 2; /* on */
    av_fit_options o = AV_FIT_OPTIONS_INIT;
    o.n_clusters = 4;
    o.top_p = 1;
    o.n_init = 1;
    o.tune = &t;
    av_router *r = NULL;
    int rc = av_builder_fit(b, &o, &r);
    if (linked() >= 10300) {
        CHECK_EQ_INT(rc, AV_OK);
        CHECK(r != NULL);
        const char *mode = r ? av_router_meta(r, "tuned_clustering") : NULL;
        CHECK(mode != NULL && strcmp(mode, "shared") == 0);
    } else if (linked() >= 10000) {
        char want[64];
        snprintf(want, sizeof want, "offset %u",
                 (unsigned)offsetof(av_tune_options, shared_clustering));
        CHECK_EQ_INT(rc, AV_EINVAL);
        CHECK(r == NULL);
        CHECK(strstr(av_last_error(), want) != NULL);
        if (!strstr(av_last_error(), want))
            printf("     message: %s\n", av_last_error());
    }
    av_router_free(r);
    av_builder_free(b);
}

/* av_fit_progress.rows_searched (appended in 1.4, filled by the library): a 1.4 library's
   struct_size covers it and the first pass searches every row; a 1.3 library's does not, and the
   program must not read it (the library, not the program, says how much it filled). */
typedef struct seen {
    int events;
    uint32_t size;
    size_t first_pass_searched;
} seen;

static void on_pass(void *user, const av_fit_progress *p)
{
    seen *s = user;
    s->events++;
    s->size = p->struct_size;
    size_t end = offsetof(av_fit_progress, rows_searched) + sizeof p->rows_searched;
    if (p->struct_size >= end && p->stage == AV_FIT_STAGE_PASS && p->pass == 1)
        s->first_pass_searched = p->rows_searched;
}

TEST(test_progress_field_of_1_4)
{
    av_builder *b = builder();
    REQUIRE(b);
    av_fit_options o = AV_FIT_OPTIONS_INIT;
    o.n_clusters = 4;
    o.n_init = 1;
    o.algorithm = AV_KMEANS_SAMPLED;
    o.sample_size = 60;
    seen s = {0, 0, 0};
    o.pass_progress = on_pass;
    o.progress_user = &s;
    av_router *r = NULL;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_OK);
    CHECK(s.events >= 3); /* the sample, a pass, the statistics */
    size_t end = offsetof(av_fit_progress, rows_searched) + sizeof(size_t);
    if (linked() >= 10400) {
        CHECK(s.size >= end);
        CHECK_EQ_INT(s.first_pass_searched, N);
    } else {
        CHECK(s.size < end);
        CHECK_EQ_INT(s.first_pass_searched, 0);
    }
    av_router_free(r);
    av_builder_free(b);
}

TH_MAIN(T(test_versions), T(test_defaults_behave_alike), T(test_newer_option_refused_not_ignored),
        T(test_tune_option_of_1_3), T(test_progress_field_of_1_4))
