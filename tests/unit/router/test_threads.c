/* Concurrency stress: routing threads beside updating threads (run under TSan by `make tsan`).
   1. No torn rows: one updater flips a router between two states whose routing decisions are
      model 2 and model 1; a read mixing words of the two states decides model 0 (worked out
      below), so readers must never see model 0 (or 3).
   2. Exact sums: several updaters and routers, plus a thread serialising snapshots; afterwards the
      statistics equal the initial ones plus the sum of the applied updates, exactly (scores 0/1,
      integer costs: every sum is an integer, exact in doubles), and every snapshot loads. */
#include "avengers/avengers.h"
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* ---------------------------------------------------------------------------------------------
 * 1. Torn rows
 *
 * d = 2, clusters c0 = (1,0) and c1 = (0,1), top_p = 1, alpha = 0.5, 4 models. In c0:
 *   model 0: mean score 1/4, mean cost 0      model 1: 1/2, 3/4      model 3: 1/4, 1
 * model 2 has outcomes only in c1, so c0 uses its global mean: score t (alternating 3/8 and 5/8
 * exactly), cost 3/4. In c0, the normalised cost column 1-q~ is (1, 1/4, 1/4, 0) always, and the
 * score column p~ is
 *   A (t = 5/8): (0, 2/3, 1, 0)   -> x = .5p~ + .5(1-q~) = (.5, .458, .625, 0)  -> model 2
 *   B (t = 3/8): (0, 1, 1/2, 0)   -> x = (.5, .625, .375, 0)                     -> model 1
 * A read taking p~_1 from A and p~_2 from B gives x = (.5, .458, .375, 0) -> model 0, which no
 * consistent state routes to. (The opposite mix ties models 1 and 2 and is not detectable.)
 * ------------------------------------------------------------------------------------------- */
#define TORN_READERS 3
#define TORN_UPDATES 20000       /* at least this many state flips ... */
#define TORN_MIN_SEEN 2000       /* ... and until each state was decided this often ... */
#define TORN_MAX_SECONDS 5.0     /* ... but never longer than this */
#define C1_START 8.0 /* model 2's outcomes in c1 at the start */

static const char *const NAMES4[] = {"m0", "m1", "m2", "m3"};

static av_router *torn_router(void)
{
    const float C[] = {1, 0, 0, 1};
    /* cluster-major: c0 models 0..3, then c1 models 0..3 */
    const double cnt[] = {4, 4, 0, 4, 0, 0, C1_START, 0};
    const double ss[] = {1, 2, 0, 1, 0, 0, C1_START * 3 / 8, 0};
    const double sc[] = {0, 3, 0, 4, 0, 0, C1_START * 3 / 4, 0};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 2, 4, NAMES4, C, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

typedef struct torn_ctx {
    av_router *r;
    atomic_int done, started;
    atomic_long live[5]; /* decisions 0..3 and errors so far, for the updater's stopping rule */
    long seen[5];        /* the same, summed from the readers after join */
} torn_ctx;

typedef struct torn_reader {
    torn_ctx *ctx;
    long seen[5];
} torn_reader;

static void *torn_read(void *arg)
{
    torn_reader *t = arg;
    const float q0[] = {1.0f, 0.25f}, batch[] = {1.0f, 0.1f, 2.0f, 0.5f};
    int32_t out[3];
    atomic_fetch_add(&t->ctx->started, 1);
    while (!atomic_load(&t->ctx->done)) {
        out[2] = av_route(t->ctx->r, q0, 2, 0.5f);
        if (av_route_batch(t->ctx->r, batch, 2, 2, 2, 0.5f, out) != AV_OK)
            t->seen[4]++;
        for (int i = 0; i < 3; i++) {
            int k = out[i] >= 0 && out[i] < 4 ? out[i] : 4;
            t->seen[k]++;
            atomic_fetch_add_explicit(&t->ctx->live[k], 1, memory_order_relaxed);
        }
    }
    return NULL;
}

TEST(test_no_torn_rows)
{
    torn_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.r = torn_router();
    REQUIRE(ctx.r);
    const float q0[] = {1, 0}, q1[] = {0, 1};
    /* the two states route as worked out above (single-threaded) */
    CHECK_EQ_INT(av_route(ctx.r, q0, 2, 0.5f), 1); /* B: t = 3/8 */
    torn_reader rd[TORN_READERS];
    pthread_t th[TORN_READERS];
    for (int i = 0; i < TORN_READERS; i++) {
        rd[i] = (torn_reader){&ctx, {0}};
        REQUIRE(pthread_create(&th[i], NULL, torn_read, &rd[i]) == 0);
    }
    /* Updater: model 2's mean in c1 alternates 5/8, 3/8, ... exactly: with C outcomes summing
       to t*C, the next score is t'*(C+1) - t*C (a multiple of 1/8, exact in float). */
    while (atomic_load(&ctx.started) < TORN_READERS)
        ;
    double c = C1_START, s = C1_START * 3 / 8, t = 3.0 / 8;
    int failed_updates = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long u = 0;; u++) {
        if (u >= TORN_UPDATES && (u & 1023) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            double el = (double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec);
            if (el > TORN_MAX_SECONDS ||
                (atomic_load(&ctx.live[1]) >= TORN_MIN_SEEN && atomic_load(&ctx.live[2]) >= TORN_MIN_SEEN))
                break;
        }
        double t2 = t == 3.0 / 8 ? 5.0 / 8 : 3.0 / 8;
        double score = t2 * (c + 1) - s;
        failed_updates += av_profile_update(ctx.r, q1, 2, 2, (float)score, 0.75f) != AV_OK;
        c += 1;
        s += score;
        t = t2;
    }
    atomic_store(&ctx.done, 1);
    for (int i = 0; i < TORN_READERS; i++) {
        pthread_join(th[i], NULL);
        for (int k = 0; k < 5; k++)
            ctx.seen[k] += rd[i].seen[k];
    }
    CHECK_EQ_INT(failed_updates, 0);
    printf("     decisions seen: model1 %ld, model2 %ld, model0 %ld, model3 %ld, errors %ld\n",
           ctx.seen[1], ctx.seen[2], ctx.seen[0], ctx.seen[3], ctx.seen[4]);
    CHECK_EQ_INT(ctx.seen[0], 0);
    CHECK_EQ_INT(ctx.seen[3], 0);
    CHECK_EQ_INT(ctx.seen[4], 0);
    /* both states were observed, so the check had something to catch */
    CHECK(ctx.seen[1] > 0 && ctx.seen[2] > 0);
    /* final statistics are exactly the sum of the updates */
    double n, ss, sc;
    CHECK_EQ_INT(av_router_cluster_stats(ctx.r, 1, 2, &n, &ss, &sc), AV_OK);
    CHECK(n == c);
    CHECK(ss == t * n);
    CHECK(sc == 0.75 * n);
    CHECK_EQ_INT(av_route(ctx.r, q0, 2, 0.5f), t == 3.0 / 8 ? 1 : 2);
    av_router_free(ctx.r);
}

/* ---------------------------------------------------------------------------------------------
 * 2. Exact sums under concurrent updaters, routers and snapshots
 * ------------------------------------------------------------------------------------------- */
#define SUM_D 4
#define SUM_K 4
#define SUM_M 3
#define SUM_UPDATERS 3
#define SUM_ROUTERS 2
#define SUM_UPDATES 4000
#define SUM_MAX_COST 4

typedef struct sum_ctx {
    av_router *r;
    atomic_int done;
} sum_ctx;

typedef struct sum_updater {
    sum_ctx *ctx;
    uint64_t seed;
    double cnt[SUM_K * SUM_M], ss[SUM_K * SUM_M], sc[SUM_K * SUM_M];
    int errors;
} sum_updater;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *sum_update(void *arg)
{
    sum_updater *u = arg;
    for (int i = 0; i < SUM_UPDATES; i++) {
        uint64_t x = next_rand(&u->seed);
        size_t j = x % SUM_K, m = (x >> 8) % SUM_M;
        float score = (float)((x >> 16) & 1u), cost = (float)((x >> 20) % SUM_MAX_COST);
        /* the query is the cluster's axis (scaled), so its nearest cluster is j */
        float q[SUM_D] = {0};
        q[j] = 1.0f + (float)((x >> 24) % 7);
        if (av_profile_update(u->ctx->r, q, SUM_D, (int32_t)m, score, cost) != AV_OK) {
            u->errors++;
            continue;
        }
        u->cnt[j * SUM_M + m] += 1;
        u->ss[j * SUM_M + m] += score;
        u->sc[j * SUM_M + m] += cost;
    }
    return NULL;
}

typedef struct sum_router {
    sum_ctx *ctx;
    uint64_t seed;
    long routes, bad;
} sum_router;

static void *sum_route(void *arg)
{
    sum_router *t = arg;
    while (!atomic_load(&t->ctx->done)) {
        float q[SUM_D];
        for (int i = 0; i < SUM_D; i++)
            q[i] = (float)(next_rand(&t->seed) % 2001) / 1000.0f - 1.0f;
        q[0] += 0.001f; /* never zero */
        float alpha = (float)(next_rand(&t->seed) % 5) / 4.0f;
        int32_t mi = av_route(t->ctx->r, q, SUM_D, alpha);
        t->bad += !(mi >= 0 && mi < SUM_M);
        t->routes++;
    }
    return NULL;
}

typedef struct sum_saver {
    sum_ctx *ctx;
    long saves, bad;
    double min_total; /* total count of the initial router: snapshots never go below it */
} sum_saver;

static void *sum_save(void *arg)
{
    sum_saver *t = arg;
    double last = t->min_total;
    while (!atomic_load(&t->ctx->done)) {
        void *b;
        size_t n;
        av_router *snap = NULL;
        if (av_router_save_buffer(t->ctx->r, &b, &n) != AV_OK ||
            av_router_load_buffer(&snap, b, n) != AV_OK) {
            t->bad++;
            av_free(b);
            continue;
        }
        /* a snapshot is one consistent state: its total count only grows between snapshots */
        double total = 0, c;
        for (size_t j = 0; j < SUM_K; j++)
            for (size_t m = 0; m < SUM_M; m++) {
                av_router_cluster_stats(snap, j, m, &c, NULL, NULL);
                total += c;
            }
        t->bad += total < last;
        last = total;
        t->saves++;
        av_router_free(snap);
        av_free(b);
    }
    return NULL;
}

TEST(test_concurrent_updates_sum_exactly)
{
    const char *names[SUM_M] = {"cheap", "mid", "dear"};
    float C[SUM_K * SUM_D] = {0};
    double cnt[SUM_K * SUM_M], ss[SUM_K * SUM_M], sc[SUM_K * SUM_M];
    double total0 = 0;
    for (size_t j = 0; j < SUM_K; j++) {
        C[j * SUM_D + j] = 1.0f;
        for (size_t m = 0; m < SUM_M; m++) {
            size_t jm = j * SUM_M + m;
            cnt[jm] = (double)(2 + (j + m) % 3);
            ss[jm] = (double)((j * m) % 2);
            sc[jm] = cnt[jm] * (double)(m + 1);
            total0 += cnt[jm];
        }
    }
    sum_ctx ctx = {NULL, 0};
    REQUIRE(av_router_from_parts(&ctx.r, SUM_D, SUM_K, SUM_M, names, C, cnt, ss, sc, 2) == AV_OK);
    sum_updater up[SUM_UPDATERS];
    sum_router ro[SUM_ROUTERS];
    sum_saver sv = {&ctx, 0, 0, total0};
    pthread_t tu[SUM_UPDATERS], tr[SUM_ROUTERS], ts;
    for (int i = 0; i < SUM_ROUTERS; i++) {
        ro[i] = (sum_router){&ctx, 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1), 0, 0};
        REQUIRE(pthread_create(&tr[i], NULL, sum_route, &ro[i]) == 0);
    }
    REQUIRE(pthread_create(&ts, NULL, sum_save, &sv) == 0);
    for (int i = 0; i < SUM_UPDATERS; i++) {
        memset(&up[i], 0, sizeof up[i]);
        up[i].ctx = &ctx;
        up[i].seed = 0xD1B54A32D192ED03ull * (uint64_t)(i + 1);
        REQUIRE(pthread_create(&tu[i], NULL, sum_update, &up[i]) == 0);
    }
    for (int i = 0; i < SUM_UPDATERS; i++)
        pthread_join(tu[i], NULL);
    atomic_store(&ctx.done, 1);
    for (int i = 0; i < SUM_ROUTERS; i++)
        pthread_join(tr[i], NULL);
    pthread_join(ts, NULL);
    long routes = 0, bad_routes = 0;
    for (int i = 0; i < SUM_ROUTERS; i++) {
        routes += ro[i].routes;
        bad_routes += ro[i].bad;
    }
    int errors = 0;
    for (int i = 0; i < SUM_UPDATERS; i++)
        errors += up[i].errors;
    printf("     %d updates, %ld concurrent routes, %ld snapshots\n", SUM_UPDATERS * SUM_UPDATES,
           routes, sv.saves);
    CHECK_EQ_INT(errors, 0);
    CHECK_EQ_INT(bad_routes, 0);
    CHECK_EQ_INT(sv.bad, 0);
    size_t mismatches = 0;
    for (size_t j = 0; j < SUM_K; j++)
        for (size_t m = 0; m < SUM_M; m++) {
            size_t jm = j * SUM_M + m;
            double ec = cnt[jm], es = ss[jm], eq = sc[jm], n, s, q;
            for (int i = 0; i < SUM_UPDATERS; i++) {
                ec += up[i].cnt[jm];
                es += up[i].ss[jm];
                eq += up[i].sc[jm];
            }
            CHECK_EQ_INT(av_router_cluster_stats(ctx.r, j, m, &n, &s, &q), AV_OK);
            mismatches += n != ec || s != es || q != eq;
        }
    CHECK_EQ_INT(mismatches, 0);
    av_router_free(ctx.r);
}

TH_MAIN(T(test_no_torn_rows), T(test_concurrent_updates_sum_exactly))
