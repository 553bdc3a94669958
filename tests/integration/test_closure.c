/* Closure: after any sequence of successful calls the router saves, the file loads, and the loaded
   router decides as the one in memory; a call that would break that fails with its documented
   code and changes nothing. One regression test per defect of the invariants review (docs/
   SECURITY.md, "Combinations of calls"), each of which failed on 0.2.0. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
/* mknod(), S_IFCHR, symlink() are XSI */
#define _XOPEN_SOURCE 700
#include "avengers/avengers.h"
#include "fuzz/avfile.h"
#include "harness.h"
#include "tiny.h"

#include <errno.h>
#include <float.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* A routing call that does not return within this many seconds fails the whole run (SIGALRM's
   default action ends the process, and run_unit.sh reports the missing summary line). */
#define CALL_DEADLINE_S 20u

/* ---- fault injection into the library's own write()/fsync() calls (linked with --wrap) ------ */
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
static atomic_int inject_write_zero, inject_dir_fsync_error;

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (atomic_load(&inject_write_zero))
        return 0;
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
    struct stat st;
    if (atomic_load(&inject_dir_fsync_error) && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EIO;
        return -1;
    }
    return __real_fsync(fd);
}

/* ---- helpers --------------------------------------------------------------------------------- */
static int save_bytes(const av_router *r, unsigned char **data, size_t *n)
{
    void *p = NULL;
    int rc = av_router_save_buffer(r, &p, n);
    *data = p;
    return rc;
}

/* 1 when the two routers decide alike on a ring of probes at several alphas: av_route, av_route_ex
   (defaults, softmax, shrinkage, exploration with the same seed) and av_route_batch. */
static int same_decisions(const av_router *a, const av_router *b)
{
    enum { NP = 24 };
    const float alphas[] = {0.0f, 0.25f, 0.5f, 0.75f, 1.0f};
    float E[NP * 2];
    for (int i = 0; i < NP; i++) {
        E[2 * i] = cosf(6.2831853f * (float)i / NP);
        E[2 * i + 1] = sinf(6.2831853f * (float)i / NP);
    }
    int ok = 1;
    for (size_t ai = 0; ai < sizeof alphas / sizeof alphas[0]; ai++) {
        int32_t ba[NP], bb[NP];
        int ra = av_route_batch(a, E, NP, 2, 2, alphas[ai], ba);
        int rb = av_route_batch(b, E, NP, 2, 2, alphas[ai], bb);
        ok &= ra == rb;
        for (int i = 0; i < NP; i++) {
            ok &= ba[i] == bb[i];
            ok &= av_route(a, E + 2 * i, 2, alphas[ai]) == av_route(b, E + 2 * i, 2, alphas[ai]);
            for (int v = 0; v < 4; v++) {
                av_route_options o = AV_ROUTE_OPTIONS_INIT;
                o.alpha = alphas[ai];
                o.weighting = v == 1 ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_ROUTER;
                o.kappa = v == 2 ? 3.0 : -1.0;
                o.flags = v == 3 ? AV_ROUTE_EXPLORE : 0u;
                o.explore_seed = (uint64_t)i * 7u + ai;
                ok &= av_route_ex(a, E + 2 * i, 2, &o, NULL) == av_route_ex(b, E + 2 * i, 2, &o, NULL);
            }
        }
    }
    return ok;
}

/* The closure check: save, load, same decisions, and saving the loaded copy gives the same bytes. */
static int closes(const av_router *r)
{
    unsigned char *d1 = NULL, *d2 = NULL;
    size_t n1 = 0, n2 = 0;
    av_router *l = NULL;
    int ok = save_bytes(r, &d1, &n1) == AV_OK && av_router_load_buffer(&l, d1, n1) == AV_OK;
    if (!ok)
        fprintf(stderr, "  closure: %s\n", av_last_error());
    ok = ok && same_decisions(r, l) && save_bytes(l, &d2, &n2) == AV_OK && n1 == n2 &&
         memcmp(d1, d2, n1) == 0;
    av_free(d1);
    av_free(d2);
    av_router_free(l);
    return ok;
}

/* 1 when r's saved bytes equal `before` (a refused call changed nothing). */
static int unchanged(const av_router *r, const unsigned char *before, size_t n)
{
    unsigned char *now = NULL;
    size_t m = 0;
    int ok = save_bytes(r, &now, &m) == AV_OK && m == n && memcmp(now, before, n) == 0;
    av_free(now);
    return ok;
}

static const float Q0[2] = {1.0f, 0.1f};

/* ---- 1. a save during av_router_add_model ---------------------------------------------------- */
typedef struct adder_arg {
    av_router *r;
    atomic_int done;
    int added;
    double prior_score, prior_cost; /* 0.5, 0.25 unless set */
    unsigned pause_us;               /* between additions, to widen the window of overlap */
} adder_arg;

static void *adder(void *p)
{
    adder_arg *a = p;
    char name[32];
    for (int i = 0; i < 200 && av_router_n_models(a->r) < AV_MAX_MODELS; i++) {
        snprintf(name, sizeof name, "added-%d", i);
        double ps = a->prior_score != 0.0 ? a->prior_score : 0.5;
        double pc = a->prior_cost != 0.0 ? a->prior_cost : 0.25;
        if (av_router_add_model(a->r, name, ps, pc, 2.0) >= 0)
            a->added++;
        if (a->pause_us) {
            struct timespec ts = {0, (long)a->pause_us * 1000L};
            nanosleep(&ts, NULL);
        }
        else if (i % 8 == 0)
            sched_yield();
    }
    atomic_store(&a->done, 1);
    return NULL;
}

TEST(test_save_during_add_model)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    char dir[] = "/tmp/av_closure_XXXXXX", path[64];
    REQUIRE(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.avr", dir);
    adder_arg a = {r, 0, 0, 0.0, 0.0, 0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, adder, &a) == 0);
    int saves = 0, loads = 0, converts = 0;
    while (!atomic_load(&a.done) || saves < 20) {
        av_router *l = NULL, *c = NULL;
        unsigned char *d = NULL;
        size_t n = 0;
        if (av_router_save(r, path) == AV_OK) {
            saves++;
            loads += av_router_load(&l, path) == AV_OK;
            av_router_free(l);
        }
        if (save_bytes(r, &d, &n) == AV_OK) {
            saves++;
            l = NULL;
            loads += av_router_load_buffer(&l, d, n) == AV_OK;
            av_router_free(l);
            av_free(d);
        }
        if (av_router_convert(&c, r, AV_CENTROIDS_F16) == AV_OK) {
            converts++;
            CHECK(closes(c));
            av_router_free(c);
        }
    }
    pthread_join(th, NULL);
    printf("     %d models added while %d saves (%d reloaded) and %d conversions ran\n", a.added,
           saves, loads, converts);
    CHECK(a.added > 0);
    CHECK_EQ_INT(loads, saves);
    CHECK(converts > 0);
    CHECK(closes(r));
    unlink(path);
    rmdir(dir);
    av_router_free(r);
}

/* ---- 2. exploration after extreme weights, merges and priors -------------------------------- */
TEST(test_extreme_feedback_is_refused_and_exploration_ends)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    unsigned char *before = NULL;
    size_t n = 0;
    REQUIRE(save_bytes(r, &before, &n) == AV_OK);
    av_update_options u = AV_UPDATE_OPTIONS_INIT;
    u.weight = 1e308;
    CHECK_EQ_INT(av_profile_update_ex(r, Q0, 2, 0, 0.5f, 0.1f, &u), AV_ELIMIT);
    CHECK_EQ_INT(av_profile_update_ex(r, Q0, 2, 0, 0.5f, 0.1f, &u), AV_ELIMIT);
    u.weight = 1e17; /* within the count limit once, beyond it the tenth time */
    int accepted = 0, rc = AV_OK;
    for (int i = 0; i < 20 && rc == AV_OK; i++)
        if ((rc = av_profile_update_ex(r, Q0, 2, 0, FLT_MAX, FLT_MAX, &u)) == AV_OK)
            accepted++;
    CHECK_EQ_INT(rc, AV_ELIMIT);
    CHECK(accepted >= 9 && accepted <= 10);
    CHECK(closes(r));
    CHECK_EQ_INT(av_router_add_model(r, "huge-prior", 1e300, 0.0, 1e10), AV_ELIMIT);
    CHECK_EQ_INT(av_router_add_model(r, "huge-weight", 0.5, 0.0, 1e300), AV_ELIMIT);
    CHECK_EQ_INT(av_router_add_model(r, "huge-cost", 0.5, 1e39, 1.0), AV_ELIMIT);
    CHECK_EQ_INT(av_router_n_models(r), 2);

    /* every routing call ends, and with a valid model */
    alarm(CALL_DEADLINE_S);
    for (uint64_t seed = 0; seed < 200; seed++) {
        av_route_options o = AV_ROUTE_OPTIONS_INIT;
        o.flags = AV_ROUTE_EXPLORE;
        o.explore_seed = seed;
        o.alpha = (float)(seed % 5) / 4.0f;
        int32_t w = av_route_ex(r, Q0, 2, &o, NULL);
        CHECK(w >= 0 && w < 2);
    }
    alarm(0);
    av_free(before);
    av_router_free(r);
}

TEST(test_merge_overflow_is_refused)
{
    /* Two loadable routers whose counts add up beyond the limit. */
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {6e17, 6e17, 6e17, 6e17};
    const double ss[] = {3e17, 3e17, 3e17, 3e17};
    const double sc[] = {1e17, 1e17, 1e17, 1e17};
    av_router *a = NULL, *b = NULL;
    REQUIRE(av_router_from_parts(&a, 2, 2, 2, NAMES2, C, cnt, ss, sc, 1) == AV_OK);
    REQUIRE(av_router_from_parts(&b, 2, 2, 2, NAMES2, C, cnt, ss, sc, 1) == AV_OK);
    CHECK(closes(a));
    unsigned char *before = NULL;
    size_t n = 0;
    REQUIRE(save_bytes(a, &before, &n) == AV_OK);
    CHECK_EQ_INT(av_profile_merge(a, b), AV_ELIMIT);
    CHECK(unchanged(a, before, n));
    CHECK(closes(a));
    /* and beyond the limit from the start is no router at all */
    const double big[] = {1e308, 1, 1, 1};
    av_router *c = NULL;
    CHECK_EQ_INT(av_router_from_parts(&c, 2, 2, 2, NAMES2, C, big, ss, sc, 1), AV_EVALUE);
    const double tiny_count[] = {1e-300, 1, 1, 1}, s1[] = {1, 1, 1, 1};
    CHECK_EQ_INT(av_router_from_parts(&c, 2, 2, 2, NAMES2, C, tiny_count, s1, s1, 1), AV_EVALUE);
    av_free(before);
    av_router_free(a);
    av_router_free(b);
}

/* ---- 3. decay to the point of underflow ------------------------------------------------------ */
TEST(test_decay_never_leaves_a_model_without_outcomes)
{
    const double half_lives[] = {1.0, 0.5, 0.05};
    const int updates[] = {1100, 600, 200};
    for (int h = 0; h < 3; h++) {
        av_router *r = tiny_router(2);
        REQUIRE(r);
        av_update_options u = AV_UPDATE_OPTIONS_INIT;
        u.half_life = half_lives[h];
        int ok = 1;
        for (int i = 0; i < updates[h]; i++)
            ok &= av_profile_update_ex(r, Q0, 2, 0, (float)(i % 3) / 2.0f, 0.1f, &u) == AV_OK;
        CHECK(ok);
        /* the other model keeps its evidence (a tiny but positive count) and its means */
        double c = 0, s = 0, total = 0;
        for (size_t j = 0; j < 3; j++) {
            CHECK(av_router_cluster_stats(r, j, 1, &c, &s, NULL) == AV_OK);
            total += c;
        }
        CHECK(total > 0.0);
        CHECK(closes(r));
        av_router_free(r);
    }
}

/* ---- 4. evaluation and budgets while a model is added --------------------------------------- */
TEST(test_eval_and_budgets_during_add_model)
{
    /* The replay has a column for every model the adder can add, so that every evaluation can
       map the router's models whatever it sees. */
    enum { N = 512, COLS = 2 + 200 };
    av_router *r = tiny_router(2);
    REQUIRE(r);
    static float E[N * 2], S[N * COLS], Cc[N * COLS];
    static char name_buf[COLS][32];
    static const char *names[COLS];
    for (int c = 0; c < COLS; c++) {
        if (c < 2)
            snprintf(name_buf[c], sizeof name_buf[c], "%s", NAMES2[c]);
        else
            snprintf(name_buf[c], sizeof name_buf[c], "added-%d", c - 2);
        names[c] = name_buf[c];
    }
    for (int i = 0; i < N; i++) {
        E[2 * i] = cosf((float)i);
        E[2 * i + 1] = sinf((float)i);
        for (int c = 0; c < COLS; c++) {
            S[i * COLS + c] = c == 1 ? 0.9f : 0.5f;
            Cc[i * COLS + c] = c == 1 ? 1.0f : 0.1f;
        }
    }
    av_replay rp = AV_REPLAY_INIT;
    rp.n = N;
    rp.dim = 2;
    rp.embeddings = E;
    rp.n_models = COLS;
    rp.model_names = names;
    rp.scores = S;
    rp.costs = Cc;
    /* models better and cheaper than both: decisions move to them as soon as they exist */
    adder_arg a = {r, 0, 0, 0.99, 0.01, 200};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, adder, &a) == 0);
    int evals = 0, bad = 0;
    while (!atomic_load(&a.done) || evals < 10) {
        av_eval_result *res = NULL;
        if (av_eval_run(&res, r, &rp, NULL) == AV_OK) {
            evals++;
            size_t m = av_eval_n_models(res);
            bad += m < 2 || m > av_router_n_models(r);
            for (size_t i = 0; i < av_eval_n_alphas(res); i++) {
                double share = 0, total = 0;
                for (size_t j = 0; j < m; j++)
                    total += av_eval_alpha_share(res, i, j, &share) == AV_OK ? share : 2.0;
                bad += fabs(total - 1.0) > 1e-9;
            }
        } else {
            bad++;
        }
        av_eval_result_free(res);
        double ms = 0, mc = 0;
        bad += av_router_expected_mean(r, 0.5f, NULL, 0, 2, NULL, NULL, &ms, &mc) != AV_OK ||
               !isfinite(ms) || !isfinite(mc);
        bad += av_router_expected_mean(r, 1.0f, E, N, 2, NULL, NULL, &ms, &mc) != AV_OK ||
               !isfinite(ms) || !isfinite(mc);
    }
    pthread_join(th, NULL);
    printf("     %d evaluations while %d models were added\n", evals, a.added);
    CHECK_EQ_INT(bad, 0);
    av_router_free(r);
}

/* ---- 5. readers of the model count while a model is added ----------------------------------- */
TEST(test_readers_during_add_model)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    adder_arg a = {r, 0, 0, 0.0, 0.0, 0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, adder, &a) == 0);
    int bad = 0, reads = 0;
    while (!atomic_load(&a.done)) {
        size_t m = av_router_n_models(r);
        double c = -1;
        int rc = av_router_cluster_stats(r, 2, m - 1, &c, NULL, NULL);
        bad += rc != AV_OK || !(c >= 0.0);
        const char *nm = av_router_model_name(r, m - 1);
        bad += nm == NULL || av_router_model_index(r, nm) != (int32_t)(m - 1);
        reads++;
    }
    pthread_join(th, NULL);
    printf("     %d reads while %d models were added\n", reads, a.added);
    CHECK_EQ_INT(bad, 0);
    av_router_free(r);
}

/* ---- 6. what a save replaces ------------------------------------------------------------------ */
TEST(test_save_targets)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    char dir[] = "/tmp/av_targets_XXXXXX", p[128], q[128];
    REQUIRE(mkdtemp(dir));
    struct stat st;

    snprintf(p, sizeof p, "%s/fifo", dir);
    REQUIRE(mkfifo(p, 0600) == 0);
    CHECK_EQ_INT(av_router_save(r, p), AV_EIO);
    CHECK(strstr(av_last_error(), "not a regular file") != NULL);
    CHECK(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode));
    unlink(p);

    CHECK_EQ_INT(av_router_save(r, dir), AV_EIO); /* a directory */
    CHECK(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode));

    if (geteuid() == 0) { /* a device node (as root, what replaced /dev/null on 0.2.0) */
        snprintf(p, sizeof p, "%s/null", dir);
        if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0) {
            CHECK_EQ_INT(av_router_save(r, p), AV_EIO);
            CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode));
            unlink(p);
        }
    }

    /* a symbolic link: the file it points to is replaced and the link stays a link */
    snprintf(p, sizeof p, "%s/target.avr", dir);
    snprintf(q, sizeof q, "%s/link.avr", dir);
    REQUIRE(av_router_save(r, p) == AV_OK);
    REQUIRE(symlink("target.avr", q) == 0);
    REQUIRE(av_profile_update(r, Q0, 2, 1, 1.0f, 2.0f) == AV_OK);
    CHECK_EQ_INT(av_router_save(r, q), AV_OK);
    CHECK(lstat(q, &st) == 0 && S_ISLNK(st.st_mode));
    av_router *l = NULL;
    CHECK(av_router_load(&l, p) == AV_OK && same_decisions(r, l));
    double c0 = 0, c1 = 0;
    if (l) {
        av_router_cluster_stats(l, 0, 1, &c0, NULL, NULL);
        av_router_cluster_stats(r, 0, 1, &c1, NULL, NULL);
    }
    CHECK(c0 == c1 && c1 == 11.0);
    av_router_free(l);
    unlink(q);
    /* a link to nothing, or to something that is not a file, is refused */
    REQUIRE(symlink("missing.avr", q) == 0);
    CHECK_EQ_INT(av_router_save(r, q), AV_EIO);
    unlink(q);

    /* a write that makes no progress and a failing directory fsync are errors with a reason */
    atomic_store(&inject_write_zero, 1);
    CHECK_EQ_INT(av_router_save(r, p), AV_EIO);
    atomic_store(&inject_write_zero, 0);
    CHECK(strstr(av_last_error(), "Success") == NULL);
    CHECK(strstr(av_last_error(), "No space") != NULL);
    atomic_store(&inject_dir_fsync_error, 1);
    CHECK_EQ_INT(av_router_save(r, p), AV_EIO);
    atomic_store(&inject_dir_fsync_error, 0);
    CHECK(strstr(av_last_error(), "directory") != NULL);
    unlink(p);
    rmdir(dir);
    av_router_free(r);
}

/* ---- 7. the metadata limit -------------------------------------------------------------------- */
/* r's file with its metadata section replaced by `count` entries key%u=v (raw encoding). */
static unsigned char *with_meta(const av_router *r, unsigned count, size_t *size)
{
    unsigned char *d = NULL, *out = NULL;
    size_t n = 0;
    sr_file f;
    if (save_bytes(r, &d, &n) != AV_OK || sr_split(&f, d, n) != 0) {
        av_free(d);
        return NULL;
    }
    unsigned char *sec = malloc(4 + (size_t)count * 16);
    size_t pos = 4;
    sr_put32(sec, count);
    for (unsigned i = 0; i < count; i++) {
        char key[12];
        int kl = snprintf(key, sizeof key, "key%u", i);
        sec[pos] = (unsigned char)kl;
        sec[pos + 1] = 0;
        memcpy(sec + pos + 2, key, (size_t)kl);
        pos += 2 + (size_t)kl;
        sr_put32(sec + pos, 1);
        sec[pos + 4] = 'v';
        pos += 5;
    }
    int i = sr_find(&f, 4);
    if (i >= 0 && sr_set_section(&f, (size_t)i, 0, sec, pos, pos) == 0)
        out = sr_join(&f, size);
    free(sec);
    sr_file_free(&f);
    av_free(d);
    return out;
}

TEST(test_metadata_limit_round_trips)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    size_t n = 0;
    unsigned char *f = with_meta(r, 1024, &n); /* the documented maximum */
    REQUIRE(f);
    av_router *l = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&l, f, n), AV_OK);
    CHECK(l && av_router_meta_count(l) == 1024 && av_router_centroid_hash(l) != NULL);
    CHECK(l && closes(l));
    if (l) /* full: one more user entry is refused, an existing one can change */
        CHECK_EQ_INT(av_router_set_meta(l, "one-more", "x"), AV_ELIMIT);
    CHECK(l && av_router_set_meta(l, "key7", "changed") == AV_OK && closes(l));
    av_router_free(l);
    free(f);
    f = with_meta(r, 1025, &n);
    REQUIRE(f);
    l = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&l, f, n), AV_EFORMAT);
    free(f);
    /* the same through the API: 1024 entries of the user's, saved and loaded */
    char key[16];
    int ok = 1;
    for (unsigned i = (unsigned)av_router_meta_count(r); i < 1024; i++) {
        snprintf(key, sizeof key, "user%u", i);
        ok &= av_router_set_meta(r, key, "1") == AV_OK;
    }
    CHECK(ok);
    CHECK_EQ_INT(av_router_set_meta(r, "user-extra", "1"), AV_ELIMIT);
    CHECK(closes(r));
    av_router_free(r);
}

/* ---- 8. names and metadata are text ---------------------------------------------------------- */
TEST(test_names_must_be_text)
{
    const char *bad[] = {"bad\xff", "esc\x1b[31m", "nl\nname", "del\x7f", "c1\xc2\x85",
                         "over\xc0\xaf", "sur\xed\xa0\x80", "cut\xe2\x82"};
    const char *good[] = {"gpt-4o", "mod\xc3\xa8le", "\xe6\xa8\xa1\xe5\x9e\x8b", "emoji\xf0\x9f\x9a\x80"};
    av_router *r = tiny_router(2);
    REQUIRE(r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *names[2] = {"ok", bad[i]};
        av_builder *b = NULL;
        CHECK_EQ_INT(av_builder_new(&b, 2, 2, names), AV_EINVAL);
        CHECK_EQ_INT(av_router_add_model(r, bad[i], 0.5, 0.1, 1.0), AV_EINVAL);
        CHECK_EQ_INT(av_router_set_meta(r, bad[i], "v"), AV_EINVAL);
        if (strchr(bad[i], '\n') == NULL) /* a value may hold a line break, not the rest */
            CHECK_EQ_INT(av_router_set_meta(r, "k", bad[i]), AV_EINVAL);
        av_router *p = NULL;
        const float C[] = {1, 0};
        const double c[] = {1, 1};
        CHECK_EQ_INT(av_router_from_parts(&p, 2, 1, 2, names, C, c, c, c, 1), AV_EINVAL);
    }
    CHECK_EQ_INT(av_router_set_meta(r, "notes", "line one\nline two\ttabbed"), AV_OK);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(av_router_add_model(r, good[i], 0.5, 0.1, 1.0) >= 0);
    CHECK(closes(r));

    /* a file whose model name holds an escape sequence is malformed */
    unsigned char *d = NULL, *out = NULL;
    size_t n = 0, on = 0;
    sr_file f;
    REQUIRE(save_bytes(r, &d, &n) == AV_OK && sr_split(&f, d, n) == 0);
    size_t names_len = 0;
    unsigned char sec[512];
    for (size_t i = 0; i < av_router_n_models(r); i++) {
        const char *nm = i == 1 ? "l\x1b[2Jg" : av_router_model_name(r, i);
        size_t l = strlen(nm);
        sec[names_len] = (unsigned char)l;
        sec[names_len + 1] = 0;
        memcpy(sec + names_len + 2, nm, l);
        names_len += 2 + l;
    }
    int si = sr_find(&f, 1);
    REQUIRE(si >= 0 && sr_set_section(&f, (size_t)si, 0, sec, names_len, names_len) == 0);
    out = sr_join(&f, &on);
    av_router *l = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&l, out, on), AV_EFORMAT);
    CHECK(strstr(av_last_error(), "UTF-8") != NULL);
    free(out);
    sr_file_free(&f);
    av_free(d);
    av_router_free(r);
}

/* ---- 9. route_ex options -------------------------------------------------------------------- */
TEST(test_route_ex_refuses_bad_temperature_and_flags)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    const float temps[] = {NAN, INFINITY, -1.0f, -0.0f};
    const int32_t want[] = {AV_EINVAL, AV_EINVAL, AV_EINVAL, 0};
    for (int i = 0; i < 4; i++) {
        av_route_options o = AV_ROUTE_OPTIONS_INIT;
        o.weighting = AV_WEIGHTING_SOFTMAX;
        o.temperature = temps[i];
        int32_t w = av_route_ex(r, Q0, 2, &o, NULL);
        if (want[i] < 0)
            CHECK_EQ_INT(w, want[i]);
        else
            CHECK(w >= 0);
    }
    for (unsigned bit = 6; bit < 32; bit++) { /* bit 5 is AV_ROUTE_SAFETY since 1.1 */
        av_route_options o = AV_ROUTE_OPTIONS_INIT;
        o.flags = 1u << bit;
        CHECK_EQ_INT(av_route_ex(r, Q0, 2, &o, NULL), AV_EINVAL);
    }
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.flags = AV_ROUTE_EXPLORE | AV_ROUTE_MAX_COST;
    o.max_expected_cost = 10.0;
    CHECK(av_route_ex(r, Q0, 2, &o, NULL) >= 0);
    av_router_free(r);
}

/* ---- model totals: the bits the loader computes ---------------------------------------------- */
TEST(test_totals_match_the_loaded_copy_after_updates)
{
    /* Fractional weights and spreads make incremental totals drift from the cluster sums the
       loader computes; decisions that hang on the global means (ties, missing cells, global
       normalisation, shrinkage) must not change on reload. */
    av_router *r = tiny_router(3);
    REQUIRE(r);
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.normalisation = AV_NORMALISE_GLOBAL;
    eo.kappa = 0.3;
    REQUIRE(av_router_set_estimator(r, &eo) == AV_OK);
    av_update_options u = AV_UPDATE_OPTIONS_INIT;
    u.top_p = 3;
    u.weighting = AV_WEIGHTING_SOFTMAX;
    int ok = 1;
    for (int i = 0; i < 500; i++) {
        float q[2] = {cosf((float)i), sinf((float)i)};
        u.weight = 0.1 + 0.01 * (i % 7);
        ok &= av_profile_update_ex(r, q, 2, i % 2, (float)(i % 10) / 10.0f, 0.3f, &u) == AV_OK;
    }
    CHECK(ok);
    CHECK(av_router_add_model(r, "third", 0.7, 0.3, 0.1) == 2);
    CHECK(closes(r));
    /* prices change: the rescaled cost sums and the kept prices close too, also with feedback
       after the change and a second change that starts from the stored price */
    av_price p;
    av_price_init(&p);
    p.cost_per_query = 0.03;
    CHECK(av_router_set_price(r, 1, &p, NULL) == AV_OK);
    CHECK(closes(r));
    av_price_init(&p);
    p.unit = AV_PRICE_PER_TOKEN;
    p.input_price = 1e-4;
    p.output_price = 3e-4;
    p.input_tokens = 700.0;
    p.output_tokens = 123.0;
    CHECK(av_router_set_price(r, 2, &p, NULL) == AV_OK);
    for (int i = 0; i < 50; i++) {
        float q[2] = {cosf((float)i * 0.7f), sinf((float)i * 0.7f)};
        u.weight = 0.3;
        ok &= av_profile_update_ex(r, q, 2, i % 3, 0.5f, 0.17f, &u) == AV_OK;
    }
    CHECK(ok);
    av_price_init(&p);
    p.cost_per_query = 0.3;
    CHECK(av_router_set_price(r, 1, &p, NULL) == AV_OK);
    CHECK(closes(r));
    /* a refused price (beyond the statistics limits) changes nothing */
    unsigned char *before = NULL;
    size_t n = 0;
    REQUIRE(save_bytes(r, &before, &n) == AV_OK);
    p.cost_per_query = 3.4e38;
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_ELIMIT);
    CHECK(unchanged(r, before, n));
    av_free(before);
    av_router_free(r);
}

/* ---- the library's own metadata keys, and centroids float16 cannot hold (fuzz_api findings) -- */
TEST(test_reserved_metadata_keys_are_refused)
{
    /* On 0.2.0 set_meta("weighting", "bogus") saved a file the loader refused, and
       set_meta("kappa", "100") changed nothing in memory but changed decisions after a reload. */
    const char *keys[] = {"kappa", "weighting", "temperature", "guard", "guard_margin",
                          "normalisation", "centroid_hash", "members"};
    av_router *r = tiny_router(2);
    REQUIRE(r);
    unsigned char *before = NULL;
    size_t n = 0;
    REQUIRE(save_bytes(r, &before, &n) == AV_OK);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK_EQ_INT(av_router_set_meta(r, keys[i], "100"), AV_EINVAL);
    CHECK(unchanged(r, before, n));
    /* set through the estimator they are recorded, and the reloaded router decides alike */
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    eo.kappa = 100.0;
    eo.weighting = AV_WEIGHTING_SOFTMAX;
    CHECK(av_router_set_estimator(r, &eo) == AV_OK);
    av_estimator_options got = AV_ESTIMATOR_OPTIONS_INIT;
    CHECK(av_router_get_estimator(r, &got) == AV_OK && got.kappa == 100.0);
    CHECK(av_router_meta(r, "kappa") == NULL); /* a typed setting, not a metadata string */
    CHECK(closes(r));
    av_free(before);
    av_router_free(r);
}

TEST(test_convert_refuses_values_beyond_float16)
{
    const float C[] = {1e5f, 0, 0, 1};
    const double c[] = {1, 1, 1, 1}, s[] = {1, 0, 0, 1};
    av_router *r = NULL, *h = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, c, s, c, 1) == AV_OK);
    CHECK_EQ_INT(av_router_convert(&h, r, AV_CENTROIDS_F16), AV_ERANGE);
    CHECK(h == NULL);
    CHECK(av_router_convert(&h, r, AV_CENTROIDS_INT8) == AV_OK && closes(h));
    av_router_free(h);
    av_router_free(r);
}

TH_MAIN(T(test_save_during_add_model), T(test_extreme_feedback_is_refused_and_exploration_ends),
        T(test_merge_overflow_is_refused), T(test_decay_never_leaves_a_model_without_outcomes),
        T(test_eval_and_budgets_during_add_model), T(test_readers_during_add_model),
        T(test_save_targets), T(test_metadata_limit_round_trips), T(test_names_must_be_text),
        T(test_route_ex_refuses_bad_temperature_and_flags),
        T(test_totals_match_the_loaded_copy_after_updates),
        T(test_reserved_metadata_keys_are_refused), T(test_convert_refuses_values_beyond_float16))
