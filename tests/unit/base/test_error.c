/* Error messages: where a failure is wrapped with context on its way out (a batch row, a replay
   row, a file's part, a merge, the loader's re-coding), av_last_error() is "<code's text>:
   <context>: <detail>" and never says the same thing twice. A message repeats itself when a run of
   three consecutive words occurs twice in it (the defect this guards against read "embedding is
   zero, NaN or infinite: replay row 1: embedding is zero, NaN or infinite"). */
#include "avengers/avengers.h"
#include "harness.h"
#include "tiny.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 256
#define RUN 3

/* Lower-case words of s (letters and digits), at most MAX_WORDS of at most 31 characters. */
static size_t words(const char *s, char w[][32])
{
    size_t n = 0;
    while (*s && n < MAX_WORDS) {
        while (*s && !isalnum((unsigned char)*s))
            s++;
        size_t len = 0;
        while (isalnum((unsigned char)*s)) {
            if (len < 31)
                w[n][len++] = (char)tolower((unsigned char)*s);
            s++;
        }
        if (len) {
            w[n][len] = '\0';
            n++;
        }
    }
    return n;
}

/* The first run of RUN words that occurs twice, or -1. */
static long repeated_run(const char *msg)
{
    static char w[MAX_WORDS][32];
    size_t n = words(msg, w);
    for (size_t a = 0; a + RUN <= n; a++)
        for (size_t b = a + 1; b + RUN <= n; b++) {
            size_t k = 0;
            while (k < RUN && strcmp(w[a + k], w[b + k]) == 0)
                k++;
            if (k == RUN)
                return (long)a;
        }
    return -1;
}

/* The message of a failure with code rc: starts with the code's text once, then context, and
   repeats nothing; `context` (may be NULL) must appear in it. */
static void check_message(int rc, int code, const char *context)
{
    const char *msg = av_last_error();
    CHECK_EQ_INT(rc, code);
    const char *text = av_strerror(code);
    CHECK(strncmp(msg, text, strlen(text)) == 0);
    CHECK(strstr(msg + strlen(text), text) == NULL);
    if (context)
        CHECK(strstr(msg, context) != NULL);
    long at = repeated_run(msg);
    if (at >= 0)
        fprintf(stderr, "  message repeats itself: %s\n", msg);
    CHECK(at < 0);
}

TEST(test_detector_finds_a_repeat)
{
    /* the checker itself: the defect's own message is caught, a clean one is not */
    CHECK(repeated_run("embedding is zero, NaN or infinite: replay row 1: embedding is zero, NaN "
                       "or infinite: the embedding is the zero vector") >= 0);
    CHECK(repeated_run("routers or embedders are incompatible: routers or embedders are "
                       "incompatible: dim 2 vs 3") >= 0);
    CHECK(repeated_run("embedding is zero, NaN or infinite: row 1: component 0 is NaN") < 0);
}

TEST(test_batch_row)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    float E[6] = {1, 0, 0, 0, 0, 1};
    int32_t out[3];
    int rc = av_route_batch(r, E, 3, 2, 2, 0.5f, out);
    check_message(rc, AV_EVECTOR, "row 1: all 2 components are 0");
    av_router_free(r);
}

TEST(test_replay_row)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    float E[4] = {1, 0, NAN, 1};
    const float S[4] = {0.5f, 1, 0.5f, 1}, Q[4] = {1, 2, 1, 2};
    av_replay rp;
    av_replay_init(&rp);
    rp.n = 2;
    rp.dim = 2;
    rp.embeddings = E;
    rp.n_models = 2;
    rp.model_names = NAMES2;
    rp.scores = S;
    rp.costs = Q;
    av_eval_result *res = NULL;
    int rc = av_eval_run(&res, r, &rp, NULL);
    check_message(rc, AV_EVECTOR, "row 1: component 0 is NaN");
    CHECK(res == NULL);
    av_router_free(r);
}

TEST(test_merge_incompatible)
{
    av_router *a = tiny_router(1), *b = NULL;
    REQUIRE(a);
    const char *names[] = {"small", "large"};
    const float C[] = {1, 0, 0, 0, 1, 0};
    const double cnt[] = {1, 1, 1, 1}, ss[] = {1, 1, 1, 1}, sc[] = {1, 1, 1, 1};
    REQUIRE(av_router_from_parts(&b, 3, 2, 2, names, C, cnt, ss, sc, 1) == AV_OK);
    int rc = av_profile_merge(a, b);
    check_message(rc, AV_EMISMATCH, NULL);
    av_router_free(a);
    av_router_free(b);
}

TEST(test_loader_recoding)
{
    /* a header field made invalid, and a damaged section: the loader's context ("header") and its
       re-coding to AV_EFORMAT, with the detail once */
    av_router *r = tiny_router(1);
    REQUIRE(r);
    void *data = NULL;
    size_t size = 0;
    REQUIRE(av_router_save_buffer(r, &data, &size) == AV_OK);
    unsigned char *bad = malloc(size);
    REQUIRE(bad);
    av_router *out = NULL;
    /* magic intact, every header byte after it cleared */
    memcpy(bad, data, size);
    memset(bad + 8, 0, 16);
    int rc = av_router_load_buffer(&out, bad, size);
    CHECK(rc < 0);
    check_message(rc, rc, NULL);
    CHECK(out == NULL);
    /* the file cut short */
    rc = av_router_load_buffer(&out, data, size / 2);
    CHECK(rc < 0);
    check_message(rc, rc, NULL);
    free(bad);
    free(data);
    av_router_free(r);
}

TEST(test_load_missing_file)
{
    av_router *out = NULL;
    int rc = av_router_load(&out, "/nonexistent-dir/router.avr");
    check_message(rc, AV_EIO, "/nonexistent-dir/router.avr");
}

TH_MAIN(T(test_detector_finds_a_repeat), T(test_batch_row), T(test_replay_row),
        T(test_merge_incompatible), T(test_loader_recoding), T(test_load_missing_file))
