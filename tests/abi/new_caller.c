/* A newer caller: a program built against a later header passes structs larger than this library
   knows. The rule (docs/ABI.md, after the Linux kernel's copy_struct_from_user): a zero tail is
   accepted and behaves as the defaults; a non-zero byte in the tail is an option of a newer
   version and gives AV_EINVAL naming its offset; outputs are written only up to the caller's size
   and what the library does not know of them is zeroed. Sizes below a struct's first published
   layout are refused. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "avengers/avengers.h"
#include "harness.h"

#include <stdint.h>

#define EXTRA 24 /* bytes a future version appended */
#define GUARD 0x5A

/* A struct followed by its "future" members and a guard the library must not touch. */
#define LARGER(type)                          \
    struct {                                  \
        type s;                               \
        unsigned char extra[EXTRA];           \
        unsigned char guard[16];              \
    }

static int guard_ok(const unsigned char *g)
{
    for (int i = 0; i < 16; i++)
        if (g[i] != GUARD)
            return 0;
    return 1;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* The error names the offset of the first unknown non-zero byte. */
static int names_offset(size_t off)
{
    char want[32];
    snprintf(want, sizeof want, "offset %zu", off);
    return strstr(av_last_error(), want) != NULL;
}

/* init_sized with the larger size: defaults, zero tail, struct_size = the caller's size. */
#define INIT_LARGER(w, fn)                                                                   \
    do {                                                                                     \
        memset(&(w), 0xFF, sizeof(w));                                                       \
        memset((w).guard, GUARD, sizeof(w).guard);                                           \
        fn(&(w).s, sizeof(w).s + EXTRA);                                                     \
        CHECK((w).s.struct_size == sizeof(w).s + EXTRA && all_zero((w).extra, EXTRA) &&     \
              guard_ok((w).guard));                                                          \
    } while (0)

static const char *const NAMES[2] = {"cheap", "strong"};

static av_router *tiny(void)
{
    const float cen[] = {1, 0, 0, 1};
    const double cnt[] = {10, 10, 10, 10}, ss[] = {9, 5, 2, 8}, sc[] = {1, 10, 1, 10};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 2, 2, NAMES, cen, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

static const float Q[2] = {1.0f, 0.2f};

TEST(test_route_options_and_result)
{
    av_router *r = tiny();
    REQUIRE(r);
    LARGER(av_route_options) o;
    LARGER(av_route_result) res;
    INIT_LARGER(o, av_route_options_init_sized);
    INIT_LARGER(res, av_route_result_init_sized);
    o.s.alpha = 1.0f;
    CHECK_EQ_INT(av_route_ex(r, Q, 2, &o.s, &res.s), av_route(r, Q, 2, 1.0f));
    CHECK(res.s.model == av_route(r, Q, 2, 1.0f) && guard_ok(res.guard));
    o.extra[5] = 1;
    CHECK_EQ_INT(av_route_ex(r, Q, 2, &o.s, NULL), AV_EINVAL);
    CHECK(names_offset(sizeof o.s + 5));
    o.extra[5] = 0;
    res.extra[EXTRA - 1] = 7; /* e.g. a newer output array's pointer */
    CHECK_EQ_INT(av_route_ex(r, Q, 2, &o.s, &res.s), AV_EINVAL);
    CHECK(names_offset(sizeof res.s + EXTRA - 1));
    /* below the first published layout */
    av_route_options small = AV_ROUTE_OPTIONS_INIT;
    small.struct_size = 8;
    CHECK_EQ_INT(av_route_ex(r, Q, 2, &small, NULL), AV_EINVAL);
    av_router_free(r);
}

TEST(test_estimator_in_and_out)
{
    av_router *r = tiny();
    REQUIRE(r);
    LARGER(av_estimator_options) e;
    INIT_LARGER(e, av_estimator_options_init_sized);
    e.s.kappa = 3.0;
    CHECK_EQ_INT(av_router_set_estimator(r, &e.s), AV_OK);
    e.extra[0] = 1;
    CHECK_EQ_INT(av_router_set_estimator(r, &e.s), AV_EINVAL);
    CHECK(names_offset(sizeof e.s));
    /* output: written up to the caller's size, the unknown part zeroed, the guard untouched */
    LARGER(av_estimator_options) g;
    memset(&g, 0xFF, sizeof g);
    memset(g.guard, GUARD, sizeof g.guard);
    g.s.struct_size = (uint32_t)(sizeof g.s + EXTRA);
    CHECK_EQ_INT(av_router_get_estimator(r, &g.s), AV_OK);
    CHECK(g.s.kappa == 3.0 && g.s.struct_size == sizeof g.s + EXTRA);
    CHECK(all_zero(g.extra, EXTRA) && guard_ok(g.guard));
    /* an output struct of an older, shorter layout gets only that much */
    struct {
        unsigned char s[offsetof(av_estimator_options, normalisation)];
        unsigned char guard[16];
    } old;
    memset(&old, GUARD, sizeof old);
    uint32_t sz = (uint32_t)sizeof old.s;
    memcpy(old.s, &sz, sizeof sz);
    CHECK_EQ_INT(av_router_get_estimator(r, (av_estimator_options *)(void *)old.s), AV_OK);
    CHECK(guard_ok(old.guard));
    av_router_free(r);
}

TEST(test_update_options)
{
    av_router *r = tiny();
    REQUIRE(r);
    LARGER(av_update_options) u;
    INIT_LARGER(u, av_update_options_init_sized);
    u.s.weight = 2.0;
    CHECK_EQ_INT(av_profile_update_ex(r, Q, 2, 0, 1.0f, 0.5f, &u.s), AV_OK);
    double c = 0;
    av_router_cluster_stats(r, 0, 0, &c, NULL, NULL);
    CHECK(c == 12.0);
    u.extra[11] = 0x80;
    CHECK_EQ_INT(av_profile_update_ex(r, Q, 2, 0, 1.0f, 0.5f, &u.s), AV_EINVAL);
    CHECK(names_offset(sizeof u.s + 11));
    av_router_cluster_stats(r, 0, 0, &c, NULL, NULL);
    CHECK(c == 12.0); /* refused: nothing changed */
    av_router_free(r);
}

TEST(test_fit_and_tune_options)
{
    enum { N = 60 };
    static float X[N][2], S[N][2], Cc[N][2];
    for (int i = 0; i < N; i++) {
        X[i][0] = i % 2 ? 1.0f : 0.05f * (float)(i % 5);
        X[i][1] = i % 2 ? 0.05f * (float)(i % 5) : 1.0f;
        S[i][0] = i % 2 ? 1.0f : 0.0f;
        S[i][1] = 0.5f;
        Cc[i][0] = 0.1f;
        Cc[i][1] = 1.0f;
    }
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, 2, 2, NAMES) == AV_OK);
    for (int i = 0; i < N; i++)
        av_builder_add(b, X[i], 2, S[i], Cc[i]);
    LARGER(av_fit_options) f;
    INIT_LARGER(f, av_fit_options_init_sized);
    f.s.n_clusters = 2;
    f.s.top_p = 1;
    f.s.n_init = 1;
    av_router *r = NULL;
    CHECK_EQ_INT(av_builder_fit(b, &f.s, &r), AV_OK);
    av_router_free(r);
    r = NULL;
    f.extra[2] = 9;
    CHECK_EQ_INT(av_builder_fit(b, &f.s, &r), AV_EINVAL);
    CHECK(r == NULL && names_offset(sizeof f.s + 2));
    f.extra[2] = 0;
    LARGER(av_tune_options) t;
    INIT_LARGER(t, av_tune_options_init_sized);
    const uint32_t ks[] = {2};
    t.s.n_clusters = ks;
    t.s.n_n_clusters = 1;
    t.s.n_folds = 2;
    f.s.tune = &t.s;
    t.extra[EXTRA - 2] = 1;
    CHECK_EQ_INT(av_builder_fit(b, &f.s, &r), AV_EINVAL);
    CHECK(names_offset(sizeof t.s + EXTRA - 2));
    t.extra[EXTRA - 2] = 0;
    CHECK_EQ_INT(av_builder_fit(b, &f.s, &r), AV_OK);
    CHECK(r && av_router_meta(r, "tuned_cv_auc") != NULL);
    CHECK(t.s.unused0 == 0.0 && guard_ok(t.guard)); /* options are inputs: nothing written back */
    av_router_free(r);
    av_builder_free(b);
}

TEST(test_eval_in_and_out)
{
    av_router *r = tiny();
    REQUIRE(r);
    const float E[] = {1, 0.1f, 0.1f, 1};
    const float sv[] = {0.9f, 0.5f, 0.2f, 0.8f}, cv[] = {1, 10, 1, 10};
    LARGER(av_replay) rp;
    LARGER(av_eval_options) eo;
    INIT_LARGER(rp, av_replay_init_sized);
    INIT_LARGER(eo, av_eval_options_init_sized);
    rp.s.n = 2;
    rp.s.dim = 2;
    rp.s.embeddings = E;
    rp.s.n_models = 2;
    rp.s.scores = sv;
    rp.s.costs = cv;
    av_eval_result *res = NULL;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp.s, &eo.s), AV_OK);
    LARGER(av_eval_point) pt;
    memset(&pt, 0xFF, sizeof pt);
    memset(pt.guard, GUARD, sizeof pt.guard);
    pt.s.struct_size = (uint32_t)(sizeof pt.s + EXTRA);
    CHECK_EQ_INT(av_eval_alpha(res, 0, &pt.s), AV_OK);
    CHECK(pt.s.alpha == 0.0 && all_zero(pt.extra, EXTRA) && guard_ok(pt.guard));
    av_eval_result_free(res);
    res = NULL;
    rp.extra[1] = 1;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp.s, &eo.s), AV_EINVAL);
    CHECK(res == NULL && names_offset(sizeof rp.s + 1));
    rp.extra[1] = 0;
    eo.extra[0] = 1;
    CHECK_EQ_INT(av_eval_run(&res, r, &rp.s, &eo.s), AV_EINVAL);
    CHECK(res == NULL && names_offset(sizeof eo.s));
    av_router_free(r);
}

TEST(test_init_with_tiny_sizes_writes_nothing)
{
    unsigned char buf[8];
    memset(buf, GUARD, sizeof buf);
    av_fit_options_init_sized((av_fit_options *)(void *)buf, 3);
    CHECK(buf[0] == GUARD && buf[2] == GUARD);
    av_fit_options_init_sized(NULL, 100); /* NULL: a no-op */
    /* a caller smaller than the library's struct gets exactly its size */
    memset(buf, GUARD, sizeof buf);
    av_route_options_init_sized((av_route_options *)(void *)buf, 8);
    uint32_t sz;
    memcpy(&sz, buf, sizeof sz);
    CHECK(sz == 8);
    float a;
    memcpy(&a, buf + 4, sizeof a);
    CHECK(a == 0.5f);
}

TH_MAIN(T(test_route_options_and_result), T(test_estimator_in_and_out), T(test_update_options),
        T(test_fit_and_tune_options), T(test_eval_in_and_out),
        T(test_init_with_tiny_sizes_writes_nothing))
