/* Fuzz target: a program of public API calls with fuzzed arguments on one router.

   The input builds a router (av_router_from_parts on fuzzed parts, av_builder_new/add/fit on a few
   fuzzed rows, or av_router_load_buffer of a small valid router), then runs up to MAX_OPS
   operations: feedback (plain and with options), new models, top_p, estimator defaults,
   metadata, merges with copies of itself, conversion of the centroid storage, every routing call,
   replay evaluation and the budget searches. Arguments reach the extreme values (a table of
   special doubles, floats and sizes selected by one byte, raw bit patterns, small exact values).

   Invariants, checked after the steps:
   - closure: after a successful change (up to MAX_CLOSURES per input, always at the end) the
     router saves, the bytes load, save -> load -> save is a fixed point, and the loaded router
     has the same shape, names, statistics, estimator and metadata and makes the same decisions
     (av_route at several alphas, av_route_ex with the last fuzzed options, with and without
     exploration, av_route_batch) on fixed probes and a fuzzed one;
   - validity and termination: every routing call returns a model index below the model count or
     an AV_E* code, and every call finishes within a CPU-time limit (a timer names the call that
     hung);
   - each call against what the header documents, computed independently where cheap: the codes of
     invalid arguments (and that a failed call leaves the router unchanged: a fingerprint of
     everything the API exposes), success of valid calls, what a success must have done (counts,
     new model index, top_p, estimator, metadata value, merged sums, batch == single decisions,
     default route_ex == av_route, evaluation shares == av_route decisions, budget searches
     respecting their bound).

   AV_FUZZ_API_SKIP (environment, for local exploration while known defects are open) names checks
   to switch off: 'e' no AV_ROUTE_EXPLORE calls, 'l' a closure whose bytes do not load is only
   reported, 'b' no bulk metadata, 'f' no route_ex flag/temperature checks, 'r' no set_meta on
   reserved keys, 'd' decisions after a round trip are not compared, 'h' no float16 conversion of
   centroids beyond its range. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#define _XOPEN_SOURCE 700
#include "avengers/avengers.h"
#include "fuzz/fuzz.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_D 8
#define MAX_K 8
#define MAX_M0 6
#define MAX_OPS 32
#define MAX_CLOSURES 4
#define MAX_ROWS 16
#define MAX_BATCH 4
#define MAX_REPLAY 4
#define N_PROBES 4
#define MAX_NAME_BYTES 300
#define MAX_BULK_META 1100
/* CPU seconds any single call may take (override: AV_FUZZ_API_TIMEOUT). */
#define CALL_LIMIT_S 5
#define ERR_OK(rc) ((rc) < 0 && (rc) >= AV_ERRNO_LAST_)
#define KNOWN_ROUTE_FLAGS 0x3Fu
/* Longest metadata value (docs/SECURITY.md: 64 KiB). */
#define META_VALUE_MAX 65536u
/* Magnitudes below which a valid update or prior must be accepted (larger ones may overflow the
   statistics, and the library may refuse them). */
#define MODERATE 1e6
/* Metadata entries up to which a round trip is cheap (loading is quadratic in the entries). */
#define META_CHEAP 64u
/* Metadata entries a router may hold (docs/SECURITY.md). */
#define META_MAX 1024u
#define BULK_GATE 37u

/* ---- input --------------------------------------------------------------------------------- */
typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t take_byte(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t take_raw(reader *r, int bytes)
{
    uint64_t u = 0;
    for (int i = 0; i < bytes; i++)
        u |= (uint64_t)take_byte(r) << (8 * i);
    return u;
}

static const double special_d[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e308, -1e308, DBL_MAX, -DBL_MAX, 4.9e-324, -4.9e-324, 1e-310,
    DBL_MIN, NAN, -NAN, INFINITY, -INFINITY, 1e300, -1e300, 1e10, 9007199254740992.0,
    9007199254740993.0, 1e-300, 0.25, 1e-9, 1e9, 4294967296.0, FLT_MAX, FLT_MIN, 1e38, 3.5e38,
    1e-45, 0.999999, 1.0000001, 1e15, 0.1, 100.0, 1e5, 1e-5};
#define N_SPECIAL_D (sizeof special_d / sizeof special_d[0])

/* A double: a special value (mode < 40), raw bits (40..63) or a small exact value (k/32). */
static double take_double(reader *r)
{
    uint8_t mode = take_byte(r);
    if (mode < N_SPECIAL_D)
        return special_d[mode];
    if (mode < 64) {
        uint64_t u = take_raw(r, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    return (double)((int)take_byte(r) - 128) / 32.0;
}

static float take_float(reader *r)
{
    uint8_t mode = take_byte(r);
    if (mode < N_SPECIAL_D)
        return (float)special_d[mode];
    if (mode < 64) {
        uint32_t u = (uint32_t)take_raw(r, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    return (float)((int)take_byte(r) - 128) / 32.0f;
}

static const uint64_t special_sz[] = {0u, 1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 16u, 63u, 64u, 65u,
                                      255u, 256u, 257u, 1023u, 1024u, 1025u, 65535u, 65536u,
                                      65537u, 100001u, 100002u, UINT32_MAX, UINT32_MAX - 1u,
                                      (uint64_t)UINT32_MAX + 1u, (uint64_t)UINT32_MAX + 2u,
                                      (uint64_t)UINT32_MAX + 5u, INT32_MAX, (uint64_t)INT32_MAX + 1u,
                                      UINT64_MAX};
#define N_SPECIAL_SZ (sizeof special_sz / sizeof special_sz[0])

/* A size: a special value (mode < 32) or mode-32 (small). */
static uint64_t take_size(reader *r)
{
    uint8_t mode = take_byte(r);
    if (mode < N_SPECIAL_SZ)
        return special_sz[mode];
    return (uint64_t)(mode - N_SPECIAL_SZ) % 16u;
}

static uint32_t take_u32(reader *r)
{
    return (uint32_t)take_size(r);
}

static void take_vec(reader *r, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = take_float(r);
}

/* ---- skip switches, timer -------------------------------------------------------------------- */
static const char *g_skip = "";
static int g_trace; /* AV_FUZZ_API_TRACE set: print each step and its result */
static int skip(char c)
{
    return strchr(g_skip, c) != NULL;
}

static const char *volatile g_call = "none";
static int g_limit_s = CALL_LIMIT_S;

static void on_timeout(int sig)
{
    (void)sig;
    static const char a[] = "fuzz_api: the call ", b[] = " exceeded its CPU-time limit (hang)\n";
    const char *w = g_call;
    (void)!write(2, a, sizeof a - 1);
    (void)!write(2, w, strlen(w));
    (void)!write(2, b, sizeof b - 1);
    abort();
}

/* A CPU-time (not wall-clock) timer, so a loaded machine does not trip it; SIGVTALRM, which
   libFuzzer (SIGALRM for -timeout, SIGUSR1/2) and the sanitizers leave alone. */
static void arm(const char *what)
{
    g_call = what;
    struct itimerval t = {{0, 0}, {g_limit_s, 0}};
    setitimer(ITIMER_VIRTUAL, &t, NULL);
}

static void disarm(void)
{
    struct itimerval t = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &t, NULL);
    g_call = "none";
}

/* ---- small helpers --------------------------------------------------------------------------- */
static int vec_ok(const float *v, size_t n)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)v[i] * (double)v[i];
    return ss > 0.0 && isfinite(ss);
}

/* Top_p values a router accepts (av_router_set_top_p, av_route_options.top_p). */
static int top_p_ok(const av_router *r, uint64_t p)
{
    size_t members = av_router_members(r), kb = av_router_n_clusters(r) / members;
    return p >= 1 && p <= kb && members * p <= AV_MAX_TOP_P;
}

/* Names a caller can count on being accepted: short and plain ASCII. */
static int plain_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AV_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF) without C0 controls or DEL:
   what a model name must be (defect 8 of the issue). */
static int utf8_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x20u || c == 0x7Fu)
            return 0;
        if (c < 0x80u) {
            p++;
            continue;
        }
        int n;
        unsigned cp, min;
        if ((c & 0xE0u) == 0xC0u)
            n = 1, cp = c & 0x1Fu, min = 0x80u;
        else if ((c & 0xF0u) == 0xE0u)
            n = 2, cp = c & 0x0Fu, min = 0x800u;
        else if ((c & 0xF8u) == 0xF0u)
            n = 3, cp = c & 0x07u, min = 0x10000u;
        else
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0u) != 0x80u)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu))
            return 0;
        p += n + 1;
    }
    return 1;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

/* Everything the API shows about a router: a failed call must not change it. */
static uint64_t fingerprint(const av_router *r)
{
    uint64_t h = 0xCBF29CE484222325ull;
    size_t d = av_router_dim(r), k = av_router_n_clusters(r), m = av_router_n_models(r);
    size_t s[5] = {d, k, m, av_router_top_p(r), av_router_members(r)};
    int ct = av_router_centroid_type(r);
    h = fnv(h, s, sizeof s);
    h = fnv(h, &ct, sizeof ct);
    for (size_t i = 0; i < m; i++) {
        const char *n = av_router_model_name(r, i);
        h = fnv(h, n, strlen(n) + 1);
    }
    float c[MAX_D];
    for (size_t j = 0; j < k; j++) {
        FUZZ_ASSERT(d <= MAX_D && av_router_get_centroid(r, j, c, d) == AV_OK);
        h = fnv(h, c, d * sizeof(float));
        for (size_t i = 0; i < m; i++) {
            double st[3];
            FUZZ_ASSERT(av_router_cluster_stats(r, j, i, &st[0], &st[1], &st[2]) == AV_OK);
            h = fnv(h, st, sizeof st);
        }
    }
    size_t nm = av_router_meta_count(r);
    h = fnv(h, &nm, sizeof nm);
    for (size_t i = 0; i < nm; i++) {
        const char *key, *val;
        FUZZ_ASSERT(av_router_meta_at(r, i, &key, &val) == AV_OK);
        h = fnv(h, key, strlen(key) + 1);
        h = fnv(h, val, strlen(val) + 1);
    }
    av_estimator_options eo;
    av_estimator_options_init(&eo);
    FUZZ_ASSERT(av_router_get_estimator(r, &eo) == AV_OK);
    h = fnv(h, &eo.kappa, sizeof eo.kappa);
    h = fnv(h, &eo.weighting, sizeof eo.weighting);
    h = fnv(h, &eo.temperature, sizeof eo.temperature);
    h = fnv(h, &eo.guard, sizeof eo.guard);
    h = fnv(h, &eo.guard_margin, sizeof eo.guard_margin);
    h = fnv(h, &eo.normalisation, sizeof eo.normalisation);
    h = fnv(h, &eo.safety, sizeof eo.safety);
    return h;
}

static double model_total(const av_router *r, size_t model)
{
    double tot = 0.0, c;
    for (size_t j = 0; j < av_router_n_clusters(r); j++) {
        FUZZ_ASSERT(av_router_cluster_stats(r, j, model, &c, NULL, NULL) == AV_OK);
        tot += c;
    }
    return tot;
}

static void check_model(const av_router *r, int32_t got)
{
    FUZZ_ASSERT((got >= 0 && (size_t)got < av_router_n_models(r)) || ERR_OK(got));
}

/* ---- base routers (built once per process) --------------------------------------------------- */
#define N_BASE 6
static void *g_base[N_BASE];
static size_t g_base_size[N_BASE];
static const char *const g_pool[] = {"tiny", "small", "medium", "large", "huge", "giant"};

static av_router *parts_router(size_t d, size_t k, size_t m, uint32_t top_p)
{
    float C[MAX_K * MAX_D];
    double cnt[MAX_K * MAX_M0], ss[MAX_K * MAX_M0], sc[MAX_K * MAX_M0];
    for (size_t j = 0; j < k; j++)
        for (size_t t = 0; t < d; t++)
            C[j * d + t] = (float)(((j + 1) * (t + 3)) % 7) - 3.0f + (t == j % d ? 0.5f : 0.0f);
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < m; i++) {
            size_t ji = j * m + i;
            cnt[ji] = (double)((j + i) % 3 == 0 && j > 0 ? 0 : 4 + (j * i) % 5);
            ss[ji] = cnt[ji] > 0 ? (double)((j * 3 + i * 5) % (size_t)cnt[ji]) : 0.0;
            sc[ji] = cnt[ji] * (double)(1u << i) / 8.0;
        }
    av_router *r = NULL;
    FUZZ_ASSERT(av_router_from_parts(&r, d, k, m, g_pool, C, cnt, ss, sc, top_p) == AV_OK);
    return r;
}

static av_router *fitted_ensemble(void)
{
    const size_t d = 6, m = 4, n = 24;
    av_builder *b = NULL;
    FUZZ_ASSERT(av_builder_new(&b, d, m, g_pool) == AV_OK);
    for (size_t i = 0; i < n; i++) {
        float e[6], s[4], c[4];
        for (size_t t = 0; t < d; t++)
            e[t] = (float)(((i * 7 + t * 3) % 11)) - 5.0f + (t == i % d ? 3.0f : 0.0f);
        for (size_t j = 0; j < m; j++) {
            s[j] = (float)((i + j) % 3 == 0);
            c[j] = (float)(j + 1) / 4.0f;
        }
        FUZZ_ASSERT(av_builder_add(b, e, d, s, c) == AV_OK);
    }
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = 2;
    o.members = 3;
    o.top_p = 1;
    o.n_init = 1;
    o.max_iter = 20;
    o.seed = 7;
    o.embedder_id = "fuzz-embedder";
    av_router *r = NULL;
    FUZZ_ASSERT(av_builder_fit(b, &o, &r) == AV_OK);
    av_builder_free(b);
    FUZZ_ASSERT(av_router_set_meta(r, "created", "2026-01-01T00:00:00Z") == AV_OK);
    return r;
}

static void make_bases(void)
{
    av_router *r[N_BASE] = {NULL};
    r[0] = parts_router(4, 4, 3, 2);
    FUZZ_ASSERT(av_router_convert(&r[1], r[0], AV_CENTROIDS_F16) == AV_OK);
    FUZZ_ASSERT(av_router_convert(&r[2], r[0], AV_CENTROIDS_INT8) == AV_OK);
    r[3] = fitted_ensemble();
    r[4] = parts_router(4, 4, 3, 2);
    av_estimator_options eo;
    av_estimator_options_init(&eo);
    eo.kappa = 2.0;
    eo.weighting = AV_WEIGHTING_SOFTMAX;
    eo.temperature = 0.25f;
    eo.guard = 1;
    eo.guard_margin = 0.01;
    eo.normalisation = AV_NORMALISE_GLOBAL;
    FUZZ_ASSERT(av_router_set_estimator(r[4], &eo) == AV_OK);
    r[5] = parts_router(MAX_D, MAX_K, MAX_M0, 3);
    for (int i = 0; i < N_BASE; i++) {
        FUZZ_ASSERT(av_router_save_buffer(r[i], &g_base[i], &g_base_size[i]) == AV_OK);
        av_router_free(r[i]);
    }
}

/* ---- the closure invariant ------------------------------------------------------------------- */
/* What the closure check routes with: fuzzed at the start and by every route_ex step. */
typedef struct probe_ctx {
    float alpha;
    float q[MAX_D];
    av_route_options opts;
    uint8_t mask[AV_MAX_MODELS];
    char embedder_id[64];
} probe_ctx;

static void probe_vec(size_t j, size_t d, float *q)
{
    for (size_t t = 0; t < d; t++)
        q[t] = (float)((int)(((j + 1) * (t + 2)) % 5) - 2) + (t == j % d ? 0.75f : 0.0f);
}

typedef struct ex_out {
    int32_t rc, model, ranked[AV_MAX_MODELS];
    size_t n_feasible, n_ranked;
    uint32_t guarded;
} ex_out;

static ex_out route_ex_full(const av_router *r, const float *q, const av_route_options *o,
                            const char *what)
{
    ex_out e;
    memset(&e, 0, sizeof e);
    av_route_result res;
    av_route_result_init(&res);
    res.ranked = e.ranked;
    res.ranked_cap = AV_MAX_MODELS;
    arm(what);
    e.rc = av_route_ex(r, q, av_router_dim(r), o, &res);
    disarm();
    check_model(r, e.rc);
    e.model = e.rc >= 0 ? res.model : -1;
    if (e.rc >= 0) {
        FUZZ_ASSERT(res.model == e.rc);
        e.n_feasible = res.n_feasible;
        e.n_ranked = res.n_ranked;
        e.guarded = res.guarded;
    }
    return e;
}

static int same_ex(const ex_out *a, const ex_out *b)
{
    return a->rc == b->rc && a->model == b->model && a->n_feasible == b->n_feasible &&
           a->n_ranked == b->n_ranked && a->guarded == b->guarded &&
           memcmp(a->ranked, b->ranked, a->n_ranked * sizeof a->ranked[0]) == 0;
}

static void report(const char *what)
{
    fprintf(stderr, "fuzz_api: %s (%s)\n", what, av_last_error());
}

/* r and l (loaded from r's bytes) decide alike. */
static void same_decisions(const av_router *r, const av_router *l, const probe_ctx *pc)
{
    size_t d = av_router_dim(r);
    float q[N_PROBES][MAX_D];
    for (size_t j = 0; j + 1 < N_PROBES; j++)
        probe_vec(j, d, q[j]);
    memcpy(q[N_PROBES - 1], pc->q, d * sizeof(float));
    const float alphas[4] = {0.0f, 0.5f, 1.0f, pc->alpha};
    for (size_t j = 0; j < N_PROBES; j++) {
        for (size_t a = 0; a < 4; a++) {
            arm("av_route (closure)");
            int32_t x = av_route(r, q[j], d, alphas[a]), y = av_route(l, q[j], d, alphas[a]);
            disarm();
            check_model(r, x);
            if (x != y)
                fprintf(stderr, "fuzz_api: probe %zu alpha %g: in memory %d, loaded %d\n", j,
                        (double)alphas[a], (int)x, (int)y);
            FUZZ_ASSERT(x == y || skip('d'));
        }
        av_route_options o = pc->opts;
        o.flags &= ~AV_ROUTE_EXPLORE;
        ex_out x = route_ex_full(r, q[j], &o, "av_route_ex (closure)");
        ex_out y = route_ex_full(l, q[j], &o, "av_route_ex (closure, loaded)");
        if (!same_ex(&x, &y))
            fprintf(stderr, "fuzz_api: route_ex probe %zu: in memory %d, loaded %d\n", j,
                    (int)x.rc, (int)y.rc);
        FUZZ_ASSERT(same_ex(&x, &y) || skip('d'));
        if (!skip('e')) {
            o.flags |= AV_ROUTE_EXPLORE;
            x = route_ex_full(r, q[j], &o, "av_route_ex explore (closure)");
            y = route_ex_full(l, q[j], &o, "av_route_ex explore (closure, loaded)");
            FUZZ_ASSERT(same_ex(&x, &y) || skip('d'));
        }
    }
    int32_t bx[N_PROBES], by[N_PROBES];
    arm("av_route_batch (closure)");
    int rx = av_route_batch(r, &q[0][0], N_PROBES, d, MAX_D, pc->alpha, bx);
    int ry = av_route_batch(l, &q[0][0], N_PROBES, d, MAX_D, pc->alpha, by);
    disarm();
    FUZZ_ASSERT(rx == ry || skip('d'));
    if (rx != AV_EALPHA)
        for (size_t j = 0; j < N_PROBES; j++) {
            check_model(r, bx[j]);
            FUZZ_ASSERT(bx[j] == by[j] || skip('d'));
        }
}

static int g_closures;

/* Save, load, compare; returns the loaded router (the caller frees it) or NULL when skipped. */
static av_router *closure(const av_router *r, const probe_ctx *pc, const char *after)
{
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    av_router *l = NULL;
    arm("av_router_save_buffer (closure)");
    int rc = av_router_save_buffer(r, &b1, &n1);
    disarm();
    if (rc != AV_OK) {
        fprintf(stderr, "fuzz_api: after %s: save_buffer gives %d\n", after, rc);
        report("save_buffer failed");
        FUZZ_ASSERT(rc == AV_OK);
    }
    arm("av_router_load_buffer (closure)");
    rc = av_router_load_buffer(&l, b1, n1);
    disarm();
    if (rc != AV_OK) {
        fprintf(stderr, "fuzz_api: after %s: the saved bytes do not load: %d\n", after, rc);
        report("load_buffer of a saved router failed");
        FUZZ_ASSERT(rc == AV_OK || skip('l'));
        av_free(b1);
        return NULL;
    }
    FUZZ_ASSERT(av_router_save_buffer(l, &b2, &n2) == AV_OK);
    FUZZ_ASSERT(n1 == n2 && memcmp(b1, b2, n1) == 0);
    av_free(b1);
    av_free(b2);
    /* shape, names, statistics, metadata, estimator */
    size_t d = av_router_dim(r), k = av_router_n_clusters(r), m = av_router_n_models(r);
    FUZZ_ASSERT(av_router_dim(l) == d && av_router_n_clusters(l) == k &&
                av_router_n_models(l) == m && av_router_top_p(l) == av_router_top_p(r) &&
                av_router_members(l) == av_router_members(r) &&
                av_router_centroid_type(l) == av_router_centroid_type(r));
    for (size_t i = 0; i < m; i++)
        FUZZ_ASSERT(strcmp(av_router_model_name(l, i), av_router_model_name(r, i)) == 0);
    av_estimator_options er, el;
    av_estimator_options_init(&er);
    av_estimator_options_init(&el);
    FUZZ_ASSERT(av_router_get_estimator(r, &er) == AV_OK && av_router_get_estimator(l, &el) == AV_OK);
    FUZZ_ASSERT(er.kappa == el.kappa && er.weighting == el.weighting &&
                er.temperature == el.temperature && er.guard == el.guard &&
                er.guard_margin == el.guard_margin && er.normalisation == el.normalisation &&
                er.safety == el.safety);
    FUZZ_ASSERT(fingerprint(r) == fingerprint(l));
    if (!skip('d'))
        same_decisions(r, l, pc);
    return l;
}

static void closure_and_free(const av_router *r, const probe_ctx *pc, const char *after)
{
    g_closures++;
    av_router_free(closure(r, pc, after));
}

/* ---- fuzzed route options -------------------------------------------------------------------- */
static void take_route_options(reader *in, av_route_options *o, uint8_t *mask, size_t m,
                               const av_router *r)
{
    av_route_options_init(o);
    uint8_t sel = take_byte(in);
    o->alpha = take_float(in);
    if (sel & 1u)
        o->top_p = take_u32(in);
    if (sel & 2u)
        o->weighting = take_byte(in) < 200 ? take_byte(in) % 4u : take_u32(in);
    if (sel & 4u)
        o->temperature = take_float(in);
    if (sel & 8u)
        o->kappa = take_double(in);
    uint8_t fl = take_byte(in);
    o->flags = fl < 224 ? fl & KNOWN_ROUTE_FLAGS : take_u32(in);
    if (o->flags & AV_ROUTE_MAX_COST)
        o->max_expected_cost = take_double(in);
    if (o->flags & AV_ROUTE_MIN_SCORE)
        o->min_expected_score = take_double(in);
    if (o->flags & AV_ROUTE_GUARD_ON)
        o->guard_margin = take_double(in);
    if (o->flags & AV_ROUTE_SAFETY) /* often a sensible level, sometimes anything */
        o->safety = take_byte(in) < 200 ? (double)(take_byte(in) % 4u) : take_double(in);
    if (sel & 16u) {
        uint8_t pat = take_byte(in);
        for (size_t i = 0; i < AV_MAX_MODELS; i++)
            mask[i] = (uint8_t)((pat >> (i % 8)) & 1u);
        o->model_mask = mask;
        o->model_mask_len = take_byte(in) < 200 ? m : (size_t)take_size(in);
    }
    if (sel & 32u) {
        const char *mine = av_router_meta(r, "embedder_id");
        o->embedder_id = (take_byte(in) & 1u) && mine ? mine : "another-embedder";
    }
    if (o->flags & AV_ROUTE_EXPLORE)
        o->explore_seed = take_raw(in, take_byte(in) % 9);
    if (sel & 64u)
        o->normalisation = take_byte(in) < 200 ? take_byte(in) % 4u : take_u32(in);
    if (sel & 128u) { /* the first published size, or one too small */
        uint8_t z = take_byte(in) % 3u;
        o->struct_size = z == 0 ? (uint32_t)offsetof(av_route_options, normalisation)
                         : z == 1 ? 4u
                                  : (uint32_t)sizeof *o;
    }
    if (skip('e'))
        o->flags &= ~AV_ROUTE_EXPLORE;
}

/* ---- the program ------------------------------------------------------------------------------ */
enum {
    OP_UPDATE,
    OP_UPDATE_EX,
    OP_ADD_MODEL,
    OP_TOP_P,
    OP_ESTIMATOR,
    OP_META,
    OP_MERGE,
    OP_CONVERT,
    OP_ROUTE,
    OP_ROUTE_EX,
    OP_BATCH,
    OP_EVAL,
    OP_BUDGET,
    OP_CLOSURE,
    OP_RELOAD,
    OP_META_BULK,
    OP_PRICE,
    N_OPS
};

typedef struct state {
    av_router *r;
    reader in;
    probe_ctx pc;
    int heavy; /* one slow step (1000+ metadata entries or decayed updates) per input */
    size_t size; /* of the input */
} state;

static av_router *load_base(size_t i)
{
    av_router *r = NULL;
    FUZZ_ASSERT(av_router_load_buffer(&r, g_base[i % N_BASE], g_base_size[i % N_BASE]) == AV_OK);
    return r;
}

static void take_name(reader *in, char *buf, size_t cap)
{
    uint8_t how = take_byte(in);
    if (how < 160) {
        if (how < 40)
            snprintf(buf, cap, "%s", g_pool[how % 6]);
        else
            snprintf(buf, cap, "m%u", (unsigned)(how % 40));
        return;
    }
    size_t len = how < 250 ? take_byte(in) % 12u : (size_t)take_size(in) % (cap - 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = take_byte(in);
        buf[i] = (char)(c ? c : 'x');
    }
    buf[len] = '\0';
}

static av_router *start_parts(reader *in)
{
    size_t d = 2 + take_byte(in) % (MAX_D - 1), k = 1 + take_byte(in) % MAX_K,
           m = 1 + take_byte(in) % MAX_M0;
    char names[MAX_M0][40];
    const char *np[MAX_M0];
    for (size_t i = 0; i < m; i++) {
        take_name(in, names[i], sizeof names[i]);
        np[i] = names[i];
    }
    float C[MAX_K * MAX_D];
    double cnt[MAX_K * MAX_M0], ss[MAX_K * MAX_M0], sc[MAX_K * MAX_M0];
    take_vec(in, C, k * d);
    int exact = take_byte(in) < 128;
    for (size_t t = 0; t < k * m; t++) {
        if (exact) { /* small integer statistics: mostly valid */
            cnt[t] = (double)(take_byte(in) % 5);
            ss[t] = cnt[t] > 0 ? (double)(take_byte(in) % 3) : 0.0;
            sc[t] = cnt[t] > 0 ? take_double(in) : 0.0;
        } else {
            cnt[t] = take_double(in);
            ss[t] = take_double(in);
            sc[t] = take_double(in);
        }
    }
    uint32_t top_p = take_byte(in) < 200 ? 1 + take_byte(in) % 4u : take_u32(in);
    av_router *r = NULL;
    arm("av_router_from_parts");
    int rc = av_router_from_parts(&r, d, k, m, np, C, cnt, ss, sc, top_p);
    disarm();
    if (rc != AV_OK) {
        FUZZ_ASSERT(ERR_OK(rc) && r == NULL);
        if (g_trace)
            fprintf(stderr, "from_parts -> %d: %s\n", rc, av_last_error());
        return NULL;
    }
    /* success only on finite parts and valid names */
    for (size_t t = 0; t < k * d; t++)
        FUZZ_ASSERT(isfinite(C[t]));
    for (size_t t = 0; t < k * m; t++)
        FUZZ_ASSERT(isfinite(cnt[t]) && cnt[t] >= 0.0 && isfinite(ss[t]) && isfinite(sc[t]) &&
                    sc[t] >= 0.0);
    for (size_t i = 0; i < m; i++)
        FUZZ_ASSERT(utf8_text(np[i]));
    FUZZ_ASSERT(top_p >= 1 && top_p <= k);
    return r;
}

static av_router *start_builder(reader *in)
{
    size_t d = 2 + take_byte(in) % (MAX_D - 1), m = 1 + take_byte(in) % MAX_M0;
    size_t n = 1 + take_byte(in) % MAX_ROWS;
    av_builder *b = NULL;
    FUZZ_ASSERT(av_builder_new(&b, d, m, g_pool) == AV_OK);
    for (size_t i = 0; i < n; i++) {
        float e[MAX_D], s[MAX_M0], c[MAX_M0];
        take_vec(in, e, d);
        for (size_t j = 0; j < m; j++) {
            uint8_t how = take_byte(in);
            s[j] = how < 128 ? (float)(how & 1u) : how < 192 ? NAN : take_float(in);
            c[j] = how < 128 ? (float)((how >> 1) % 8u) / 8.0f : how < 192 ? NAN : take_float(in);
        }
        arm("av_builder_add");
        int rc = av_builder_add(b, e, d, s, c);
        disarm();
        FUZZ_ASSERT(rc == AV_OK || ERR_OK(rc));
    }
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = 1 + take_byte(in) % 8u;
    o.members = 1 + take_byte(in) % 3u;
    if (o.members * o.n_clusters > MAX_K)
        o.members = 1;
    o.top_p = 1 + take_byte(in) % 3u;
    o.n_init = 1;
    o.max_iter = 1 + take_byte(in) % 20u;
    o.seed = take_byte(in);
    o.centroid_type = take_byte(in) % 3u;
    av_router *r = NULL;
    arm("av_builder_fit");
    int rc = av_builder_fit(b, &o, &r);
    disarm();
    av_builder_free(b);
    FUZZ_ASSERT(rc == AV_OK || (ERR_OK(rc) && r == NULL));
    return rc == AV_OK ? r : NULL;
}

/* A failed call must have left the router as it was. */
#define UNCHANGED_ON_FAILURE(rc, before, r)                                                   \
    do {                                                                                      \
        if ((rc) < 0) {                                                                       \
            FUZZ_ASSERT(ERR_OK(rc));                                                          \
            if (fingerprint(r) != (before))                                                   \
                fprintf(stderr, "fuzz_api: a failed call (%d: %s) changed the router\n", (rc), \
                        av_last_error());                                                     \
            FUZZ_ASSERT(fingerprint(r) == (before));                                          \
        }                                                                                     \
    } while (0)

static int op_update(state *s)
{
    av_router *r = s->r;
    size_t d = av_router_dim(r), m = av_router_n_models(r);
    float q[MAX_D];
    take_vec(&s->in, q, d);
    int32_t model = (int32_t)(take_byte(&s->in) % (m + 2)) - 1;
    float score = take_float(&s->in), cost = take_float(&s->in);
    uint64_t before = fingerprint(r);
    int valid_model = model >= 0 && (size_t)model < m;
    double tot = valid_model ? model_total(r, (size_t)model) : 0.0;
    arm("av_profile_update");
    int rc = av_profile_update(r, q, d, model, score, cost);
    disarm();
    int bad_vec = !vec_ok(q, d), bad_value = !isfinite(score) || !isfinite(cost) || cost < 0.0f;
    if (!bad_vec && valid_model && !bad_value) {
        FUZZ_ASSERT(rc == AV_OK);
        double after = model_total(r, (size_t)model), want = tot + (double)av_router_members(r);
        if (isfinite(tot) && tot < 1e12)
            FUZZ_ASSERT(fabs(after - want) <= 1e-6 * (want > 1.0 ? want : 1.0));
    } else {
        FUZZ_ASSERT((rc == AV_EVECTOR && bad_vec) || (rc == AV_EMODEL && !valid_model) ||
                    (rc == AV_EVALUE && bad_value));
    }
    UNCHANGED_ON_FAILURE(rc, before, r);
    return rc;
}

static int op_update_ex(state *s)
{
    av_router *r = s->r;
    size_t d = av_router_dim(r), m = av_router_n_models(r);
    float q[MAX_D];
    take_vec(&s->in, q, d);
    int32_t model = (int32_t)(take_byte(&s->in) % (m + 2)) - 1;
    float score = take_float(&s->in), cost = take_float(&s->in);
    av_update_options o;
    av_update_options_init(&o);
    uint8_t sel = take_byte(&s->in);
    if (sel & 1u)
        o.half_life = take_double(&s->in);
    if (sel & 2u)
        o.top_p = take_byte(&s->in) < 200 ? take_byte(&s->in) % 5u : take_u32(&s->in);
    if (sel & 4u)
        o.weighting = take_byte(&s->in) < 200 ? take_byte(&s->in) % 4u : take_u32(&s->in);
    if (sel & 8u)
        o.temperature = take_float(&s->in);
    if (sel & 16u)
        o.weight = take_double(&s->in);
    if (sel & 32u)
        o.struct_size = take_byte(&s->in) & 1u ? 4u : (uint32_t)sizeof o - 1u;
    int repeat = (sel & 64u) ? 1 + take_byte(&s->in) % 4u : 1; /* the same outcome n times */
    if (sel & 128u) { /* many decayed updates (driving counts toward 0), once per input */
        repeat = (int)(take_byte(&s->in) % 5u) * 300;
        if (s->heavy++ || repeat == 0)
            repeat = 1;
    }
    int dflt = o.half_life == 0.0 && o.top_p <= 1u && o.weight == 1.0;
    int valid = o.struct_size >= sizeof o && vec_ok(q, d) && model >= 0 && (size_t)model < m &&
                isfinite(score) && isfinite(cost) && cost >= 0.0f &&
                (dflt || (o.half_life >= 0.0 && isfinite(o.half_life) && o.weight > 0.0 &&
                          isfinite(o.weight) && top_p_ok(r, o.top_p ? o.top_p : 1u) &&
                          (o.weighting == AV_WEIGHTING_HARD || o.weighting == AV_WEIGHTING_SOFTMAX)));
    /* valid and far from overflow or underflow: must be accepted */
    int moderate = fabs(score) <= MODERATE && cost <= MODERATE &&
                   (dflt || (o.weight >= 1.0 / MODERATE && o.weight <= MODERATE &&
                             (o.half_life == 0.0 || o.half_life >= 1.0)));
    int rc = AV_OK;
    for (int t = 0; t < repeat && rc == AV_OK; t++) {
        /* a long run checks the unchanged router on failure only in its first steps */
        uint64_t before = t < 4 ? fingerprint(r) : 0;
        arm("av_profile_update_ex");
        rc = av_profile_update_ex(r, q, d, model, score, cost, &o);
        disarm();
        if (valid && moderate)
            FUZZ_ASSERT(rc == AV_OK);
        if (!valid)
            FUZZ_ASSERT(rc != AV_OK);
        if (t < 4)
            UNCHANGED_ON_FAILURE(rc, before, r);
    }
    return rc;
}

static int op_add_model(state *s)
{
    av_router *r = s->r;
    char name[MAX_NAME_BYTES + 1];
    uint8_t how = take_byte(&s->in);
    size_t m = av_router_n_models(r);
    if (how < 32 && m > 0) /* a duplicate */
        snprintf(name, sizeof name, "%s", av_router_model_name(r, how % m));
    else if (how < 40) { /* a long name: 255 or 256 bytes */
        memset(name, 'n', sizeof name);
        name[AV_MAX_NAME + (how & 1u)] = '\0';
    } else
        take_name(&s->in, name, sizeof name);
    double ps = take_double(&s->in), pc = take_double(&s->in), pw = take_double(&s->in);
    int dup = av_router_model_index(r, name) >= 0;
    uint64_t before = fingerprint(r);
    arm("av_router_add_model");
    int32_t rc = av_router_add_model(r, name, ps, pc, pw);
    disarm();
    int values_ok = isfinite(ps) && isfinite(pc) && pc >= 0.0 && isfinite(pw) && pw > 0.0;
    if (rc >= 0) {
        FUZZ_ASSERT((size_t)rc == m && av_router_n_models(r) == m + 1);
        FUZZ_ASSERT(strcmp(av_router_model_name(r, (size_t)rc), name) == 0);
        FUZZ_ASSERT(!dup && values_ok && m < AV_MAX_MODELS && strlen(name) <= AV_MAX_NAME);
        FUZZ_ASSERT(utf8_text(name));
        return AV_OK;
    }
    if (!dup && values_ok && plain_name(name) && m < AV_MAX_MODELS && fabs(ps) <= MODERATE &&
        pc <= MODERATE && pw <= MODERATE && pw >= 1.0 / MODERATE)
        FUZZ_ASSERT(rc == AV_ENOMEM);
    UNCHANGED_ON_FAILURE(rc, before, r);
    return rc;
}

/* av_router_set_price: codes in the documented order (unit, values, model), the stored price read
   back, every cost sum of the model rescaled by the factor (or count x price from 0). */
static int op_price(state *s)
{
    av_router *r = s->r;
    size_t m = av_router_n_models(r), k = av_router_n_clusters(r);
    uint8_t how = take_byte(&s->in);
    int32_t model = how < 224 ? (int32_t)(take_byte(&s->in) % (m + 1)) : (int32_t)take_u32(&s->in);
    av_price p;
    av_price_init(&p);
    uint8_t u = take_byte(&s->in);
    p.unit = u < 120 ? AV_PRICE_PER_QUERY : u < 240 ? AV_PRICE_PER_TOKEN : u;
    double v[5];
    for (int t = 0; t < 5; t++)
        v[t] = t == 0 || p.unit != AV_PRICE_PER_QUERY ? take_double(&s->in) : 0.0;
    p.cost_per_query = v[0], p.input_price = v[1], p.output_price = v[2];
    p.input_tokens = v[3], p.output_tokens = v[4];
    double per_query = p.unit == AV_PRICE_PER_QUERY ? v[0] : v[1] * v[3] + v[2] * v[4];
    int values_ok = isfinite(per_query) && per_query <= 3.4028234663852886e38;
    for (int t = 0; t < 5; t++)
        values_ok &= isfinite(v[t]) && v[t] >= 0.0;
    double before_q[AV_MAX_CLUSTERS > 4096 ? 4096 : AV_MAX_CLUSTERS];
    int track = model >= 0 && (size_t)model < m && k <= 4096;
    for (size_t j = 0; track && j < k; j++)
        FUZZ_ASSERT(av_router_cluster_stats(r, j, (size_t)model, NULL, NULL, &before_q[j]) == AV_OK);
    uint64_t before = fingerprint(r);
    double f = 0.0;
    arm("av_router_set_price");
    int rc = av_router_set_price(r, model, &p, &f);
    disarm();
    if (p.unit != AV_PRICE_PER_QUERY && p.unit != AV_PRICE_PER_TOKEN)
        FUZZ_ASSERT(rc == AV_EINVAL);
    else if (!values_ok)
        FUZZ_ASSERT(rc == AV_EVALUE);
    else if (model < 0 || (size_t)model >= m)
        FUZZ_ASSERT(rc == AV_EMODEL);
    else
        FUZZ_ASSERT(rc == AV_OK || rc == AV_ELIMIT || rc == AV_ENOMEM);
    if (rc == AV_OK) {
        av_price g;
        av_price_init(&g);
        FUZZ_ASSERT(av_router_get_price(r, model, &g) == AV_OK && g.unit == p.unit);
        FUZZ_ASSERT(g.cost_per_query == per_query);
        for (size_t j = 0; track && j < k; j++) {
            double c, q;
            FUZZ_ASSERT(av_router_cluster_stats(r, j, (size_t)model, &c, NULL, &q) == AV_OK);
            FUZZ_ASSERT(isnan(f) ? q == c * per_query : q == before_q[j] * f);
        }
    }
    UNCHANGED_ON_FAILURE(rc, before, r);
    return rc;
}

static int op_top_p(state *s)
{
    uint32_t p = take_byte(&s->in) < 160 ? take_byte(&s->in) % 10u : take_u32(&s->in);
    uint64_t before = fingerprint(s->r);
    int rc = av_router_set_top_p(s->r, p);
    if (top_p_ok(s->r, p))
        FUZZ_ASSERT(rc == AV_OK && av_router_top_p(s->r) == p);
    else
        FUZZ_ASSERT(rc == AV_EINVAL);
    UNCHANGED_ON_FAILURE(rc, before, s->r);
    return rc;
}

static int op_estimator(state *s)
{
    av_estimator_options o;
    av_estimator_options_init(&o);
    uint8_t sel = take_byte(&s->in);
    if (sel & 1u)
        o.kappa = take_double(&s->in);
    if (sel & 2u)
        o.weighting = take_byte(&s->in) < 200 ? take_byte(&s->in) % 4u : take_u32(&s->in);
    if (sel & 4u)
        o.temperature = take_float(&s->in);
    if (sel & 8u)
        o.guard = take_byte(&s->in) < 200 ? take_byte(&s->in) % 3u : take_u32(&s->in);
    if (sel & 16u)
        o.guard_margin = take_double(&s->in);
    if (sel & 32u)
        o.normalisation = take_byte(&s->in) < 200 ? take_byte(&s->in) % 4u : take_u32(&s->in);
    uint32_t v1 = (uint32_t)offsetof(av_estimator_options, normalisation);
    if (sel & 64u)
        o.struct_size = take_byte(&s->in) & 1u ? v1 : 4u;
    if (sel & 128u) /* often a sensible level (3: +inf), sometimes anything */
        o.safety = take_byte(&s->in) < 200 ? (double[]){0, 1, 2, INFINITY}[take_byte(&s->in) % 4u]
                                           : take_double(&s->in);
    av_estimator_options want = o;
    if (o.struct_size == v1) {
        want.normalisation = AV_NORMALISE_CLUSTER;
        want.safety = 0.0;
    }
    int valid = o.struct_size >= v1 && want.kappa >= 0.0 && isfinite(want.kappa) &&
                (want.weighting == AV_WEIGHTING_HARD || want.weighting == AV_WEIGHTING_SOFTMAX) &&
                want.temperature > 0.0f && isfinite(want.temperature) && want.guard <= 1u &&
                isfinite(want.guard_margin) &&
                (want.normalisation == AV_NORMALISE_CLUSTER ||
                 want.normalisation == AV_NORMALISE_GLOBAL) &&
                want.safety >= 0.0;
    uint64_t before = fingerprint(s->r);
    int rc = av_router_set_estimator(s->r, &o);
    if (valid && rc != AV_ELIMIT) /* the metadata may be full */
        FUZZ_ASSERT(rc == AV_OK);
    if (!valid)
        FUZZ_ASSERT(rc == AV_EINVAL);
    if (rc == AV_OK) {
        av_estimator_options g;
        av_estimator_options_init(&g);
        FUZZ_ASSERT(av_router_get_estimator(s->r, &g) == AV_OK);
        FUZZ_ASSERT(g.kappa == want.kappa && g.weighting == want.weighting &&
                    g.temperature == want.temperature && g.guard == want.guard &&
                    g.guard_margin == want.guard_margin && g.normalisation == want.normalisation &&
                    g.safety == want.safety);
    }
    UNCHANGED_ON_FAILURE(rc, before, s->r);
    return rc;
}

static const char *const g_reserved[] = {"kappa", "weighting", "temperature", "guard",
                                         "guard_margin", "normalisation", "centroid_hash",
                                         "members"};
#define N_RESERVED (sizeof g_reserved / sizeof g_reserved[0])

static int reserved(const char *key)
{
    for (size_t i = 0; i < N_RESERVED; i++)
        if (strcmp(key, g_reserved[i]) == 0)
            return 1;
    return 0;
}

static char g_big[META_VALUE_MAX + 2];

static int op_meta(state *s)
{
    static const char *const values[] = {"", "1", "-0", "nan", "inf", "1e308", "4.9e-324",
                                         "softmax", "hard", "global", "zzz", "0x10"};
    char key[MAX_NAME_BYTES + 1], val[64];
    const char *value = val;
    uint8_t how = take_byte(&s->in);
    if (how < 64)
        snprintf(key, sizeof key, "%s", g_reserved[how % N_RESERVED]);
    else if (how < 72) { /* empty, 255 and 256 bytes */
        memset(key, 'k', sizeof key);
        key[how % 3u == 0 ? 0 : AV_MAX_NAME + (how & 1u)] = '\0';
    } else if (how < 160)
        snprintf(key, sizeof key, "key%u", (unsigned)(how % 8u));
    else
        take_name(&s->in, key, sizeof key);
    uint8_t vh = take_byte(&s->in);
    if (vh < 96)
        value = values[vh % (sizeof values / sizeof values[0])];
    else if (vh < 100) { /* 65536 and 65537 bytes */
        memset(g_big, 'v', sizeof g_big);
        g_big[META_VALUE_MAX + (vh & 1u)] = '\0';
        value = g_big;
    } else if (vh < 180)
        snprintf(val, sizeof val, "%.17g", take_double(&s->in));
    else
        take_name(&s->in, val, sizeof val);
    if (reserved(key) && skip('r'))
        return AV_EINVAL;
    size_t kl = strlen(key), vl = strlen(value);
    if (g_trace)
        fprintf(stderr, "set_meta '%.40s' (%zu bytes) = '%.40s' (%zu bytes)\n", key, kl, value, vl);
    int exists = av_router_meta(s->r, key) != NULL;
    uint64_t before = fingerprint(s->r);
    arm("av_router_set_meta");
    int rc = av_router_set_meta(s->r, key, value);
    disarm();
    if (kl == 0 || kl > AV_MAX_NAME || vl > META_VALUE_MAX)
        FUZZ_ASSERT(rc < 0);
    if (reserved(key)) /* the library's own keys: estimator settings, derived values */
        FUZZ_ASSERT(rc == AV_EINVAL);
    if (rc == AV_OK)
        FUZZ_ASSERT(strcmp(av_router_meta(s->r, key), value) == 0 &&
                    (exists || av_router_meta_count(s->r) > 0));
    UNCHANGED_ON_FAILURE(rc, before, s->r);
    return rc;
}

static int op_meta_bulk(state *s)
{
    /* A full router loads slowly under libFuzzer's hooks (the metadata is quadratic), so only
       inputs whose size is a multiple of BULK_GATE may fill it: mutations of such an input rarely
       keep the property, and the corpus does not fill up with slow inputs. */
    uint8_t big = take_byte(&s->in) >= 128 && s->size % BULK_GATE == 0, x = take_byte(&s->in);
    size_t n = big && !s->heavy++ ? 1000u + x % 100u : 1u + x % 16u;
    if (skip('b'))
        return AV_EINVAL;
    int rc = AV_OK;
    arm("av_router_set_meta (bulk)");
    for (size_t i = 0; i < n && rc == AV_OK; i++) {
        char key[32];
        snprintf(key, sizeof key, "bulk%04zu", i);
        size_t before = av_router_meta_count(s->r);
        rc = av_router_set_meta(s->r, key, "v");
        if (rc == AV_ELIMIT) /* a new key on a full router (repeated keys replace their value) */
            FUZZ_ASSERT(before >= META_MAX && av_router_meta(s->r, key) == NULL);
        else
            FUZZ_ASSERT(rc == AV_OK);
    }
    disarm();
    /* the limit is a full router, not a failure of the op: the entries added so far stay */
    return av_router_meta_count(s->r) > 0 ? AV_OK : rc;
}

/* dst += src, every cell: the merged sums are the two routers' sums (same model order here),
   src's costs first brought to dst's price for a model priced in dst (docs/API.md,
   av_profile_merge): times dst's cost per query over src's (its price, else its learned mean), or
   src's count times dst's price when src has no cost for it. */
static void check_merged(const av_router *r, const double *bc, const double *bs, const double *bq,
                         const av_router *src)
{
    size_t k = av_router_n_clusters(r), m = av_router_n_models(r);
    for (size_t i = 0; i < m; i++) {
        av_price pd, ps;
        av_price_init(&pd);
        av_price_init(&ps);
        FUZZ_ASSERT(av_router_get_price(r, (int32_t)i, &pd) == AV_OK);
        FUZZ_ASSERT(av_router_get_price(src, (int32_t)i, &ps) == AV_OK);
        int priced = pd.unit != AV_PRICE_NONE;
        for (size_t j = 0; j < k; j++) {
            double c, sc, qc, c2, s2, q2;
            FUZZ_ASSERT(av_router_cluster_stats(r, j, i, &c, &sc, &qc) == AV_OK);
            FUZZ_ASSERT(av_router_cluster_stats(src, j, i, &c2, &s2, &q2) == AV_OK);
            double add = !priced ? q2
                         : ps.cost_per_query > 0.0 ? q2 * (pd.cost_per_query / ps.cost_per_query)
                                                   : c2 * pd.cost_per_query;
            size_t t = j * m + i;
            FUZZ_ASSERT(c == bc[t] + c2 && sc == bs[t] + s2 && qc == bq[t] + add);
        }
    }
}

static int op_merge(state *s)
{
    av_router *r = s->r, *src = NULL;
    uint8_t how = take_byte(&s->in) % 4u;
    uint64_t before = fingerprint(r);
    int rc;
    if (how == 3) { /* itself */
        arm("av_profile_merge (self)");
        rc = av_profile_merge(r, r);
        disarm();
        FUZZ_ASSERT(rc < 0);
        UNCHANGED_ON_FAILURE(rc, before, r);
        return rc;
    }
    if (how == 2) { /* another base router: compatible only if it is where r came from */
        src = load_base(take_byte(&s->in));
    } else { /* a copy of itself, perhaps with other updates */
        void *b;
        size_t n;
        FUZZ_ASSERT(av_router_save_buffer(r, &b, &n) == AV_OK);
        rc = av_router_load_buffer(&src, b, n);
        av_free(b);
        if (rc != AV_OK) {
            FUZZ_ASSERT(skip('l'));
            return rc;
        }
        int nu = how == 1 ? 1 + take_byte(&s->in) % 3u : 0;
        for (int u = 0; u < nu; u++) {
            int ex = take_byte(&s->in) & 1u;
            state t = {src, s->in, s->pc, 1, 0};
            if (ex)
                op_update_ex(&t);
            else
                op_update(&t);
            s->in = t.in;
        }
    }
    size_t k = av_router_n_clusters(r), m = av_router_n_models(r);
    double *bc = malloc(3 * k * m * sizeof(double));
    FUZZ_ASSERT(bc != NULL);
    double *bs = bc + k * m, *bq = bs + k * m;
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < m; i++)
            FUZZ_ASSERT(av_router_cluster_stats(r, j, i, &bc[j * m + i], &bs[j * m + i],
                                                &bq[j * m + i]) == AV_OK);
    arm("av_profile_merge");
    rc = av_profile_merge(r, src);
    disarm();
    if (av_router_dim(src) != av_router_dim(r) || av_router_n_clusters(src) != k ||
        av_router_n_models(src) != m)
        FUZZ_ASSERT(rc == AV_EMISMATCH);
    if (rc == AV_OK) {
        int same_order = 1;
        for (size_t i = 0; i < m; i++)
            same_order &= strcmp(av_router_model_name(r, i), av_router_model_name(src, i)) == 0;
        if (same_order)
            check_merged(r, bc, bs, bq, src);
    }
    free(bc);
    av_router_free(src);
    UNCHANGED_ON_FAILURE(rc, before, r);
    return rc;
}

static int op_convert(state *s)
{
    static const uint32_t types[] = {AV_CENTROIDS_F32, AV_CENTROIDS_F16, AV_CENTROIDS_INT8, 3u,
                                     UINT32_MAX};
    uint32_t type = types[take_byte(&s->in) % 5u];
    int from = av_router_centroid_type(s->r);
    int beyond_f16 = 0; /* a value float16 cannot hold: the conversion is refused */
    if (type == AV_CENTROIDS_F16) {
        float cv[MAX_D];
        for (size_t j = 0; j < av_router_n_clusters(s->r); j++) {
            FUZZ_ASSERT(av_router_get_centroid(s->r, j, cv, av_router_dim(s->r)) == AV_OK);
            for (size_t t = 0; t < av_router_dim(s->r); t++)
                beyond_f16 |= !(fabsf(cv[t]) <= 65504.0f);
        }
        if (beyond_f16 && skip('h'))
            return AV_ERANGE;
    }
    av_router *c = NULL;
    uint64_t before = fingerprint(s->r);
    arm("av_router_convert");
    int rc = av_router_convert(&c, s->r, (av_centroid_type)type);
    disarm();
    FUZZ_ASSERT(fingerprint(s->r) == before); /* r is unchanged in every case */
    if (type > AV_CENTROIDS_INT8)
        FUZZ_ASSERT(rc == AV_EINVAL);
    else if (from != AV_CENTROIDS_F32 && type != AV_CENTROIDS_F32 && (int)type != from)
        FUZZ_ASSERT(rc == AV_ENOTSUP);
    else if (beyond_f16 && type == AV_CENTROIDS_F16 && from == AV_CENTROIDS_F32)
        FUZZ_ASSERT(rc == AV_ERANGE);
    else /* converted_from needs a metadata entry */
        FUZZ_ASSERT(rc == AV_OK || rc == AV_ENOMEM ||
                    (rc == AV_ELIMIT && av_router_meta_count(s->r) >= META_MAX));
    if (rc != AV_OK) {
        FUZZ_ASSERT(c == NULL);
        return rc;
    }
    size_t k = av_router_n_clusters(s->r), m = av_router_n_models(s->r);
    FUZZ_ASSERT(av_router_centroid_type(c) == (int)type && av_router_n_models(c) == m &&
                av_router_n_clusters(c) == k && av_router_top_p(c) == av_router_top_p(s->r));
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < m; i++) {
            double a[3], b[3];
            FUZZ_ASSERT(av_router_cluster_stats(s->r, j, i, &a[0], &a[1], &a[2]) == AV_OK);
            FUZZ_ASSERT(av_router_cluster_stats(c, j, i, &b[0], &b[1], &b[2]) == AV_OK);
            FUZZ_ASSERT(memcmp(a, b, sizeof a) == 0);
        }
    av_router_free(s->r);
    s->r = c; /* continue on the converted router */
    return AV_OK;
}

static void expect_route(const av_router *r, const float *q, size_t dim, float alpha, int32_t got)
{
    size_t d = av_router_dim(r);
    if (dim != d) {
        FUZZ_ASSERT(got == AV_EDIM);
        return;
    }
    int bad_alpha = !(alpha >= 0.0f && alpha <= 1.0f), bad_vec = !vec_ok(q, d);
    if (!bad_alpha && !bad_vec)
        FUZZ_ASSERT(got >= 0 && (size_t)got < av_router_n_models(r));
    else
        FUZZ_ASSERT((got == AV_EALPHA && bad_alpha) || (got == AV_EVECTOR && bad_vec));
}

static int op_route(state *s)
{
    const av_router *r = s->r;
    size_t d = av_router_dim(r);
    float q[MAX_D + 2];
    take_vec(&s->in, q, d);
    float alpha = take_float(&s->in);
    uint8_t dh = take_byte(&s->in);
    size_t dim = dh < 224 ? d : dh < 240 ? d + 1 - (dh & 2u) : (size_t)take_size(&s->in);
    arm("av_route");
    int32_t got = av_route(r, q, dim, alpha);
    disarm();
    expect_route(r, q, dim, alpha, got);
    if (dim != d)
        return got;
    /* default options decide as av_route (also with NULL options: alpha 0.5) */
    av_route_options o;
    av_route_options_init(&o);
    o.alpha = alpha;
    arm("av_route_ex (defaults)");
    int32_t ex = av_route_ex(r, q, d, &o, NULL);
    int32_t ex_null = av_route_ex(r, q, d, NULL, NULL), half = av_route(r, q, d, 0.5f);
    disarm();
    FUZZ_ASSERT(ex == got && ex_null == half);
    return got;
}

static int op_route_ex(state *s)
{
    const av_router *r = s->r;
    size_t d = av_router_dim(r), m = av_router_n_models(r);
    float q[MAX_D];
    take_vec(&s->in, q, d);
    av_route_options o;
    take_route_options(&s->in, &o, s->pc.mask, m, r);
    /* the closure check routes with these options from now on */
    s->pc.opts = o;
    if (o.embedder_id) { /* a copy: the router's metadata string may go away */
        snprintf(s->pc.embedder_id, sizeof s->pc.embedder_id, "%s", o.embedder_id);
        s->pc.opts.embedder_id = s->pc.embedder_id;
    }

    int32_t ranked[AV_MAX_MODELS];
    double rs[AV_MAX_MODELS], ms[AV_MAX_MODELS], es[AV_MAX_MODELS], ec[AV_MAX_MODELS];
    uint32_t cl[AV_MAX_TOP_P];
    float csim[AV_MAX_TOP_P];
    double cw[AV_MAX_TOP_P], cs[AV_MAX_TOP_P];
    av_route_result res;
    av_route_result_init(&res);
    uint8_t rh = take_byte(&s->in);
    res.ranked = ranked;
    res.ranked_scores = rs;
    res.ranked_cap = rh & 1u ? m : rh % (m + 1);
    res.model_scores = ms;
    res.expected_score = es;
    res.expected_cost = ec;
    res.models_cap = rh & 2u ? m : (size_t)(rh >> 2) % (m + 1);
    res.clusters = cl;
    res.cluster_sims = csim;
    res.cluster_weights = cw;
    res.cluster_support = cs;
    res.clusters_cap = (size_t)(rh >> 4) % (AV_MAX_TOP_P + 1);
    if ((rh & 0xC0u) == 0xC0u)
        res.struct_size = 8u;
    av_route_result *rp = (rh & 0xC0u) == 0x80u ? NULL : &res;
    arm(o.flags & AV_ROUTE_EXPLORE ? "av_route_ex (explore)" : "av_route_ex");
    int32_t got = av_route_ex(r, q, d, &o, rp);
    int32_t again = av_route_ex(r, q, d, &o, rp); /* deterministic, also with a seed */
    disarm();
    check_model(r, got);
    FUZZ_ASSERT(again == got);
    if (got < 0)
        return got;
    /* what a success requires of the arguments */
    FUZZ_ASSERT(o.struct_size >= offsetof(av_route_options, normalisation));
    FUZZ_ASSERT(o.alpha >= 0.0f && o.alpha <= 1.0f && vec_ok(q, d));
    FUZZ_ASSERT(o.top_p == 0 || top_p_ok(r, o.top_p));
    FUZZ_ASSERT(o.weighting <= AV_WEIGHTING_SOFTMAX);
    FUZZ_ASSERT(o.normalisation <= AV_NORMALISE_GLOBAL || o.struct_size <= offsetof(av_route_options, normalisation));
    FUZZ_ASSERT(isfinite(o.kappa));
    FUZZ_ASSERT(!(o.flags & AV_ROUTE_SAFETY) || o.safety >= 0.0 ||
                o.struct_size <= offsetof(av_route_options, safety));
    FUZZ_ASSERT((o.flags & (AV_ROUTE_GUARD_ON | AV_ROUTE_GUARD_OFF)) !=
                (AV_ROUTE_GUARD_ON | AV_ROUTE_GUARD_OFF));
    if (!skip('f')) { /* defect 9 of the issue */
        if (o.flags & ~KNOWN_ROUTE_FLAGS)
            fprintf(stderr, "fuzz_api: route_ex accepted unknown flags 0x%x\n", o.flags);
        FUZZ_ASSERT((o.flags & ~KNOWN_ROUTE_FLAGS) == 0);
        FUZZ_ASSERT(!isnan(o.temperature));
    }
    if (o.model_mask)
        FUZZ_ASSERT((size_t)got < o.model_mask_len && o.model_mask[got]);
    if (rp) {
        FUZZ_ASSERT(res.model == got && res.n_ranked <= res.ranked_cap && res.n_feasible <= m);
        for (size_t i = 0; i < res.n_ranked; i++) {
            FUZZ_ASSERT(ranked[i] >= 0 && (size_t)ranked[i] < m);
            for (size_t h = 0; h < i; h++)
                FUZZ_ASSERT(ranked[h] != ranked[i]);
        }
        for (size_t i = 0; i < res.n_clusters && i < res.clusters_cap; i++)
            FUZZ_ASSERT(cl[i] < av_router_n_clusters(r));
        if (res.models_cap >= m && !(o.flags & AV_ROUTE_EXPLORE)) {
            if (o.flags & AV_ROUTE_MAX_COST)
                FUZZ_ASSERT(ec[got] <= o.max_expected_cost);
            if (o.flags & AV_ROUTE_MIN_SCORE)
                FUZZ_ASSERT(es[got] >= o.min_expected_score);
        }
    }
    return got;
}

static int op_batch(state *s)
{
    const av_router *r = s->r;
    size_t d = av_router_dim(r);
    size_t n = take_byte(&s->in) % (MAX_BATCH + 1), stride = d + take_byte(&s->in) % 3u;
    float q[MAX_BATCH * (MAX_D + 2)];
    take_vec(&s->in, q, n * stride);
    float alpha = take_float(&s->in);
    int32_t out[MAX_BATCH];
    arm("av_route_batch");
    int rc = av_route_batch(r, q, n, d, stride, alpha, out);
    disarm();
    if (!(alpha >= 0.0f && alpha <= 1.0f)) {
        FUZZ_ASSERT(rc == AV_EALPHA);
        return rc;
    }
    int first = AV_OK;
    for (size_t i = 0; i < n; i++) {
        int32_t single = av_route(r, q + i * stride, d, alpha);
        FUZZ_ASSERT(out[i] == single);
        expect_route(r, q + i * stride, d, alpha, single);
        if (single < 0 && first == AV_OK)
            first = single;
    }
    FUZZ_ASSERT(rc == first);
    return rc;
}

/* A small replay: rows of probes or fuzzed embeddings, fuzzed outcomes. */
typedef struct replay_buf {
    float emb[MAX_REPLAY * MAX_D];
    double s64[MAX_REPLAY * AV_MAX_MODELS], c64[MAX_REPLAY * AV_MAX_MODELS];
    float s32[MAX_REPLAY * AV_MAX_MODELS], c32[MAX_REPLAY * AV_MAX_MODELS];
    size_t n;
} replay_buf;

static void take_replay(reader *in, const av_router *r, replay_buf *b)
{
    size_t d = av_router_dim(r), m = av_router_n_models(r);
    b->n = 1 + take_byte(in) % MAX_REPLAY;
    for (size_t i = 0; i < b->n; i++) {
        if (take_byte(in) < 192)
            probe_vec(i + take_byte(in) % 3u, d, b->emb + i * d);
        else
            take_vec(in, b->emb + i * d, d);
    }
    int fuzzed = take_byte(in) >= 192;
    for (size_t t = 0; t < b->n * m; t++) {
        if (fuzzed) {
            b->s64[t] = take_double(in);
            b->c64[t] = take_double(in);
        } else {
            b->s64[t] = (double)((t * 7) % 3 == 0);
            b->c64[t] = (double)(t % 5) / 4.0;
        }
        b->s32[t] = (float)b->s64[t];
        b->c32[t] = (float)b->c64[t];
    }
}

static int op_eval(state *s)
{
    const av_router *r = s->r;
    size_t d = av_router_dim(r), m = av_router_n_models(r);
    replay_buf *b = malloc(sizeof *b);
    FUZZ_ASSERT(b != NULL);
    take_replay(&s->in, r, b);
    av_replay rp;
    av_replay_init(&rp);
    uint8_t sel = take_byte(&s->in);
    rp.value_type = sel & 1u ? AV_VALUES_F64 : AV_VALUES_F32;
    rp.n = b->n;
    rp.dim = d;
    rp.embeddings = b->emb;
    rp.n_models = m;
    rp.scores = sel & 1u ? (const void *)b->s64 : (const void *)b->s32;
    rp.costs = sel & 1u ? (const void *)b->c64 : (const void *)b->c32;
    const char *names[AV_MAX_MODELS];
    if (sel & 2u) { /* by name, in reverse order */
        for (size_t i = 0; i < m; i++)
            names[i] = av_router_model_name(r, m - 1 - i);
        rp.model_names = names;
    }
    av_eval_options eo;
    av_eval_options_init(&eo);
    double alphas[3];
    if (sel & 4u) {
        eo.n_alphas = 1 + take_byte(&s->in) % 3u;
        for (size_t a = 0; a < eo.n_alphas; a++)
            alphas[a] = take_byte(&s->in) < 200 ? (double)(take_byte(&s->in) % 11u) / 10.0
                                                 : take_double(&s->in);
        eo.alphas = alphas;
    }
    if (sel & 8u)
        eo.target_fraction = take_double(&s->in);
    if (sel & 16u)
        eo.top_p = take_byte(&s->in) % 4u;
    av_eval_result *res = NULL;
    arm("av_eval_run");
    int rc = av_eval_run(&res, r, &rp, &eo);
    disarm();
    if (rc != AV_OK) {
        FUZZ_ASSERT(ERR_OK(rc) && res == NULL);
        free(b);
        return rc;
    }
    size_t na = eo.alphas ? eo.n_alphas : 21u;
    FUZZ_ASSERT(av_eval_n_rows(res) == b->n && av_eval_n_alphas(res) == na &&
                av_eval_n_models(res) == m);
    for (size_t a = 0; a < na && eo.top_p == 0; a++) {
        av_eval_point pt = {sizeof pt, 0, 0, 0, 0, 0, 0};
        FUZZ_ASSERT(av_eval_alpha(res, a, &pt) == AV_OK);
        float alpha = (float)pt.alpha;
        size_t counts[AV_MAX_MODELS] = {0};
        for (size_t i = 0; i < b->n; i++) {
            int32_t x = av_route(r, b->emb + i * d, d, alpha);
            FUZZ_ASSERT(x >= 0);
            counts[x]++;
        }
        for (size_t i = 0; i < m; i++) {
            double share = -1.0;
            FUZZ_ASSERT(av_eval_alpha_share(res, a, i, &share) == AV_OK);
            FUZZ_ASSERT(fabs(share - (double)counts[i] / (double)b->n) <= 1e-12);
        }
    }
    av_eval_result_free(res);
    free(b);
    return rc;
}

static int op_budget(state *s)
{
    const av_router *r = s->r;
    size_t d = av_router_dim(r);
    uint8_t sel = take_byte(&s->in);
    replay_buf *b = malloc(sizeof *b);
    FUZZ_ASSERT(b != NULL);
    const float *emb = NULL, *sc = NULL, *co = NULL;
    size_t n = 0;
    if (sel & 1u) {
        take_replay(&s->in, r, b);
        emb = b->emb;
        n = b->n;
        sc = sel & 2u ? b->s32 : NULL;
        co = sel & 4u ? b->c32 : NULL;
    }
    int rc;
    double ms = NAN, mc = NAN;
    switch ((sel >> 3) % 3u) {
    case 0: {
        float alpha = take_float(&s->in);
        arm("av_router_expected_mean");
        rc = av_router_expected_mean(r, alpha, emb, n, d, sc, co, &ms, &mc);
        disarm();
        if (rc == AV_OK)
            FUZZ_ASSERT(alpha >= 0.0f && alpha <= 1.0f);
        break;
    }
    default: {
        int budget = (sel >> 3) % 3u == 1;
        double bound = take_double(&s->in);
        uint32_t grid = take_byte(&s->in) < 200 ? take_byte(&s->in) % 12u : take_u32(&s->in);
        float alpha = -1.0f;
        arm(budget ? "av_router_alpha_for_budget" : "av_router_alpha_for_accuracy");
        rc = budget ? av_router_alpha_for_budget(r, bound, emb, n, d, sc, co, grid, &alpha)
                    : av_router_alpha_for_accuracy(r, bound, emb, n, d, sc, co, grid, &alpha);
        disarm();
        if (grid == 1 || grid > 100001u)
            FUZZ_ASSERT(rc == AV_EINVAL);
        if (rc == AV_OK) {
            FUZZ_ASSERT(alpha >= 0.0f && alpha <= 1.0f);
            FUZZ_ASSERT(av_router_expected_mean(r, alpha, emb, n, d, sc, co, &ms, &mc) == AV_OK);
            if (budget)
                FUZZ_ASSERT(mc <= bound);
            else
                FUZZ_ASSERT(ms >= bound);
        }
        break;
    }
    }
    FUZZ_ASSERT(rc == AV_OK || ERR_OK(rc));
    free(b);
    return rc;
}

static const char *const op_names[N_OPS] = {
    "av_profile_update", "av_profile_update_ex", "av_router_add_model", "av_router_set_top_p",
    "av_router_set_estimator", "av_router_set_meta", "av_profile_merge", "av_router_convert",
    "av_route", "av_route_ex", "av_route_batch", "av_eval_run", "budget", "closure", "reload",
    "av_router_set_meta (bulk)", "av_router_set_price"};

static int mutates(int op)
{
    return op <= OP_CONVERT || op == OP_META_BULK || op == OP_PRICE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_base[0]) {
        const char *sk = getenv("AV_FUZZ_API_SKIP"), *lim = getenv("AV_FUZZ_API_TIMEOUT");
        g_skip = sk ? sk : "";
        g_trace = getenv("AV_FUZZ_API_TRACE") != NULL;
        if (lim && atoi(lim) > 0)
            g_limit_s = atoi(lim);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_timeout;
        sigaction(SIGVTALRM, &sa, NULL);
        make_bases();
    }
    state s;
    memset(&s, 0, sizeof s);
    s.in.p = data;
    s.in.n = size;
    s.size = size;
    switch (take_byte(&s.in) % 4u) {
    case 0:
        s.r = start_parts(&s.in);
        break;
    case 1:
        s.r = start_builder(&s.in);
        break;
    default:
        break;
    }
    if (!s.r)
        s.r = load_base(take_byte(&s.in));
    /* what the closure check routes with until a route_ex step changes it */
    av_route_options_init(&s.pc.opts);
    s.pc.alpha = take_float(&s.in);
    take_vec(&s.in, s.pc.q, av_router_dim(s.r));
    g_closures = 0;
    if (g_trace)
        fprintf(stderr, "start: d=%zu k=%zu m=%zu top_p=%zu members=%zu type=%d\n",
                av_router_dim(s.r), av_router_n_clusters(s.r), av_router_n_models(s.r),
                av_router_top_p(s.r), av_router_members(s.r), av_router_centroid_type(s.r));
    closure_and_free(s.r, &s.pc, "building the router");
    for (int step = 0; step < MAX_OPS && s.in.n > 0; step++) {
        int op = take_byte(&s.in) % N_OPS, rc = AV_OK;
        switch (op) {
        case OP_UPDATE: rc = op_update(&s); break;
        case OP_UPDATE_EX: rc = op_update_ex(&s); break;
        case OP_ADD_MODEL: rc = op_add_model(&s); break;
        case OP_TOP_P: rc = op_top_p(&s); break;
        case OP_ESTIMATOR: rc = op_estimator(&s); break;
        case OP_META: rc = op_meta(&s); break;
        case OP_MERGE: rc = op_merge(&s); break;
        case OP_CONVERT: rc = op_convert(&s); break;
        case OP_ROUTE: rc = op_route(&s); break;
        case OP_ROUTE_EX: rc = op_route_ex(&s); break;
        case OP_BATCH: rc = op_batch(&s); break;
        case OP_EVAL: rc = op_eval(&s); break;
        case OP_BUDGET: rc = op_budget(&s); break;
        case OP_CLOSURE:
            if (g_closures < 2 * MAX_CLOSURES && av_router_meta_count(s.r) <= META_CHEAP)
                closure_and_free(s.r, &s.pc, "a closure step");
            break;
        case OP_RELOAD: { /* continue on the loaded copy */
            av_router *l = closure(s.r, &s.pc, "reload");
            g_closures++;
            if (l) {
                av_router_free(s.r);
                s.r = l;
            }
            break;
        }
        case OP_PRICE: rc = op_price(&s); break;
        default: rc = op_meta_bulk(&s); break;
        }
        if (g_trace)
            fprintf(stderr, "step %d: %s -> %d%s%s\n", step, op_names[op], rc, rc < 0 ? ": " : "",
                    rc < 0 ? av_last_error() : "");
        /* a router with a thousand metadata entries takes long to load: only the last closure */
        if (mutates(op) && rc >= 0 && g_closures < MAX_CLOSURES &&
            av_router_meta_count(s.r) <= META_CHEAP)
            closure_and_free(s.r, &s.pc, op_names[op]);
    }
    closure_and_free(s.r, &s.pc, "the last step");
    av_router_free(s.r);
    return 0;
}
