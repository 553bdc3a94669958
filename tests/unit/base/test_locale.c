/* Metadata numbers are written and read in the C locale even when the host runs in a locale whose
   decimal separator is a comma. The German locale is compiled into a temporary directory with
   localedef (Debian's `locales` data); where that is impossible the tests say so and pass. */
#include "avengers/avengers.h"
#include "harness.h"

#include <locale.h>
#include <stdlib.h>
#ifndef _WIN32
#include <unistd.h>
#endif

static int comma_locale(void)
{
    static int state = -1; /* -1 unknown, 0 unavailable, 1 active */
    if (state >= 0)
        return state;
#ifdef _WIN32
    /* Windows has German built in (the CRT's name for it) */
    state = 0;
    if (setlocale(LC_ALL, "German_Germany.1252")) {
        char probe[16];
        snprintf(probe, sizeof probe, "%.1f", 0.5);
        state = strcmp(probe, "0,5") == 0;
    }
    if (!state)
        printf("skip: no comma-decimal locale (German_Germany.1252)\n");
    return state;
#else
    char dir[] = "/tmp/av_locale_XXXXXX";
    char cmd[256];
    state = 0;
    if (!mkdtemp(dir))
        return state;
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
    if (system(cmd) == 0 && setenv("LOCPATH", dir, 1) == 0 && setlocale(LC_ALL, "de_DE.UTF-8")) {
        char probe[16];
        snprintf(probe, sizeof probe, "%.1f", 0.5);
        state = strcmp(probe, "0,5") == 0;
    }
    if (!state)
        printf("skip: no comma-decimal locale could be built (localedef de_DE)\n");
    return state;
#endif
}

static av_router *tiny(void)
{
    const char *names[] = {"a", "b"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {2, 2, 2, 2}, ss[] = {1, 2, 2, 1}, sc[] = {1, 3, 1, 3};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 2, 2, names, C, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

TEST(test_estimator_metadata_in_comma_locale)
{
    if (!comma_locale())
        return;
    av_router *r = tiny();
    REQUIRE(r);
    av_estimator_options e;
    av_estimator_options_init(&e);
    e.kappa = 0.5;
    e.temperature = 0.25f;
    CHECK_EQ_INT(av_router_set_estimator(r, &e), AV_OK);
    /* typed settings (binary, no text to misformat), not metadata strings */
    CHECK(av_router_meta(r, "kappa") == NULL && av_router_meta(r, "temperature") == NULL);
    void *buf = NULL;
    size_t n = 0;
    REQUIRE(av_router_save_buffer(r, &buf, &n) == AV_OK);
    av_router *back = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&back, buf, n), AV_OK);
    av_estimator_options got;
    av_estimator_options_init(&got);
    if (back) {
        CHECK_EQ_INT(av_router_get_estimator(back, &got), AV_OK);
        CHECK(got.kappa == 0.5 && got.temperature == 0.25f);
    }
    /* the host's own locale is left as it was */
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    CHECK(strcmp(probe, "0,5") == 0);
    av_free(buf);
    av_router_free(back);
    av_router_free(r);
}

TEST(test_training_metadata_in_comma_locale)
{
    if (!comma_locale())
        return;
    const char *names[] = {"a", "b"};
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, 2, 2, names) == AV_OK);
    const float e1[] = {1, 0}, e2[] = {0, 1}, s[] = {1, 0}, c[] = {1, 2};
    REQUIRE(av_builder_add(b, e1, 2, s, c) == AV_OK);
    REQUIRE(av_builder_add(b, e2, 2, s, c) == AV_OK);
    av_fit_options o = AV_FIT_OPTIONS_INIT;
    o.n_clusters = 2;
    o.top_p = 1;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    /* written as "9.9999997473787516e-05", never with a comma */
    const char *tol = av_router_meta(r, "tol");
    REQUIRE(tol);
    CHECK(strchr(tol, ',') == NULL && strchr(tol, '.') != NULL);
    CHECK(strchr(av_router_meta(r, "inertia"), ',') == NULL);
    av_router_free(r);
    av_builder_free(b);
}

TH_MAIN(T(test_estimator_metadata_in_comma_locale), T(test_training_metadata_in_comma_locale))
