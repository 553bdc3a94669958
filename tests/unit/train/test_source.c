/* Row sources (av_builder_add_source): rows read through a callback, block by block. Expectations:
   a source mixed with copied and borrowed rows gives the router of the same rows copied
   (centroids and statistics bit for bit, the same decisions) with SAMPLED and FULL; the reads
   the trainer makes are the ones its plan implies (counted here from the public sample mask);
   calls of a source without AV_ROW_SOURCE_CONCURRENT never overlap; bad rows, callback errors,
   rows that change between reads and bad structs are refused, leaving the builder as it was. */
#include "internal.h"
#include "harness.h"
#include "testdata.h"
#include "train_helpers.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* A source over row-major arrays (the fixture's or synthetic), with counters and faults. */
typedef struct tsrc {
    const float *emb, *scores, *costs;
    size_t d, m;
    size_t block;           /* the block size the calls must respect (0: do not check) */
    atomic_int in_flight, max_in_flight;
    atomic_long calls, rows_read, bad_calls;
    long fail_at;           /* the call (1-based) that returns fail_value; 0 never */
    int fail_value;
    int change;             /* 1: component swap in row change_row; 2: its first score + 1 */
    size_t change_row;
} tsrc;

static int tsrc_read(void *user, size_t row0, size_t n, float *emb, float *scores, float *costs)
{
    tsrc *t = user;
    int now = atomic_fetch_add(&t->in_flight, 1) + 1;
    for (int mx = atomic_load(&t->max_in_flight); now > mx;)
        if (atomic_compare_exchange_weak(&t->max_in_flight, &mx, now))
            break;
    long call = atomic_fetch_add(&t->calls, 1) + 1;
    if (t->block && (row0 % t->block != 0 || n > t->block || n == 0))
        atomic_fetch_add(&t->bad_calls, 1);
    memcpy(emb, t->emb + row0 * t->d, n * t->d * sizeof(float));
    memcpy(scores, t->scores + row0 * t->m, n * t->m * sizeof(float));
    memcpy(costs, t->costs + row0 * t->m, n * t->m * sizeof(float));
    if (t->change && t->change_row >= row0 && t->change_row < row0 + n) {
        size_t r = t->change_row - row0;
        if (t->change == 1) { /* same norm: only the hash can tell */
            float v = emb[r * t->d];
            emb[r * t->d] = emb[r * t->d + 1];
            emb[r * t->d + 1] = v;
        } else {
            scores[r * t->m] += 1.0f;
        }
    }
    atomic_fetch_add(&t->rows_read, (long)n);
    atomic_fetch_sub(&t->in_flight, 1);
    return t->fail_at && call == t->fail_at ? t->fail_value : 0;
}

static void tsrc_fixture(tsrc *t, size_t row0)
{
    memset(t, 0, sizeof *t);
    t->emb = TD_EMB(&g_fx, row0);
    t->scores = TD_SCORES(&g_fx, row0);
    t->costs = TD_COSTS(&g_fx, row0);
    t->d = g_fx.d;
    t->m = g_fx.m;
}

static void source_of(av_row_source *s, tsrc *t, size_t n, size_t block)
{
    av_row_source_init(s);
    s->n_rows = n;
    s->dim = t->d;
    s->read = tsrc_read;
    s->user = t;
    s->block_rows = block;
    t->block = block;
}

/* Two sources (blocks of 7 rows, and the default), copied and borrowed rows, in that order:
   SAMPLED and FULL give the copied builder's router. */
TEST(source_equals_copied)
{
    REQUIRE(fixture());
    size_t n = g_fx.n, a = n / 4, c = n / 2, e = 3 * n / 4;
    av_builder *b1 = copied_builder(n), *b2 = NULL;
    REQUIRE(b1);
    REQUIRE(av_builder_new(&b2, g_fx.d, g_fx.m, (const char *const *)g_fx.names) == AV_OK);
    tsrc t1, t2;
    tsrc_fixture(&t1, 0);
    tsrc_fixture(&t2, e);
    av_row_source s1, s2;
    source_of(&s1, &t1, a, 7);
    source_of(&s2, &t2, n - e, 0);
    CHECK(av_builder_add_source(b2, &s1) == AV_OK);
    for (size_t i = a; i < c; i++)
        CHECK(av_builder_add(b2, TD_EMB(&g_fx, i), g_fx.d, TD_SCORES(&g_fx, i),
                             TD_COSTS(&g_fx, i)) == AV_OK);
    CHECK(av_builder_add_borrowed(b2, TD_EMB(&g_fx, c), e - c, g_fx.d, TD_SCORES(&g_fx, c),
                                  TD_COSTS(&g_fx, c)) == AV_OK);
    CHECK(av_builder_add_source(b2, &s2) == AV_OK);
    CHECK_EQ_INT(av_builder_n_rows(b2), n);
    /* the first read: every row once, in blocks of 7 (the last shorter), one call for s2 */
    CHECK_EQ_INT(atomic_load(&t1.rows_read), a);
    CHECK_EQ_INT(atomic_load(&t1.calls), (a + 6) / 7);
    CHECK_EQ_INT(atomic_load(&t2.calls), 1);
    check_same_fits(b1, b2);
    CHECK_EQ_INT(atomic_load(&t1.bad_calls), 0);
    /* FULL copied the rows into the builder: fitting again reads nothing */
    long before = atomic_load(&t1.calls) + atomic_load(&t2.calls);
    av_fit_options o;
    fit_opts(&o, 10, AV_KMEANS_SAMPLED, 400);
    av_router *r = NULL;
    CHECK(av_builder_fit(b2, &o, &r) == AV_OK);
    CHECK_EQ_INT(atomic_load(&t1.calls) + atomic_load(&t2.calls), before);
    av_router_free(r);
    av_builder_free(b1), av_builder_free(b2);
}

/* The reads of a SAMPLED fit: the blocks that hold a sample row (the public sample mask says
   which), then every block once per pass and once for the statistics. */
TEST(sampled_reads_as_planned)
{
    REQUIRE(fixture());
    size_t n = g_fx.n, blk = 20, nblk = (n + blk - 1) / blk;
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, g_fx.d, g_fx.m, (const char *const *)g_fx.names) == AV_OK);
    tsrc t;
    tsrc_fixture(&t, 0);
    av_row_source s;
    source_of(&s, &t, n, blk);
    REQUIRE(av_builder_add_source(b, &s) == AV_OK);
    CHECK_EQ_INT(atomic_load(&t.calls), nblk);
    av_fit_options o;
    fit_opts(&o, 8, AV_KMEANS_SAMPLED, 60); /* a small sample: some blocks hold none of it */
    o.members = 2;
    atomic_store(&t.calls, 0);
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    long expect = 0;
    for (uint32_t mb = 0; mb < 2; mb++) {
        size_t gathered = 0;
        for (size_t q = 0; q < nblk; q++) {
            size_t sel = 0, nb = n - q * blk < blk ? n - q * blk : blk;
            REQUIRE(av_kmeans_sample_mask(av_kmeans_member_seed(o.seed, mb), n, 60, q * blk, nb,
                                          NULL, &sel) == AV_OK);
            gathered += sel > 0;
        }
        CHECK(gathered < nblk);
        expect += (long)gathered;
    }
    /* each member's passes: n_iter of that member fitted alone (members = 1, its seed as the
       fit's seed), the ensemble's n_iter being the largest */
    uint32_t passes[2];
    for (uint32_t mb = 0; mb < 2; mb++) {
        av_fit_options o1 = o;
        o1.members = 1;
        o1.seed = av_kmeans_member_seed(o.seed, mb);
        av_router *r1 = NULL;
        REQUIRE(av_builder_fit(b, &o1, &r1) == AV_OK);
        passes[mb] = (uint32_t)atoi(av_router_meta(r1, "n_iter"));
        av_router_free(r1);
        expect += (long)((passes[mb] + 1) * nblk);
    }
    CHECK_EQ_INT(atoi(av_router_meta(r, "n_iter")), passes[0] > passes[1] ? passes[0] : passes[1]);
    atomic_store(&t.calls, 0);
    av_router *r2 = NULL;
    REQUIRE(av_builder_fit(b, &o, &r2) == AV_OK);
    CHECK_EQ_INT(atomic_load(&t.calls), expect);
    check_same_router(r, r2);
    CHECK_EQ_INT(atomic_load(&t.bad_calls), 0);
    av_router_free(r), av_router_free(r2);
    av_builder_free(b);
}

/* A synthetic log of n rows (d = 8, two models, scores and costs random floats) over more than
   two chunks of 32,768 rows, so that the passes run on several threads (AV_NUM_THREADS=4). */
typedef struct synth {
    float *emb, *scores, *costs;
    size_t n;
} synth;

static void synth_make(synth *s, size_t n)
{
    s->n = n;
    s->emb = malloc(n * 8 * sizeof(float));
    s->scores = malloc(n * 2 * sizeof(float));
    s->costs = malloc(n * 2 * sizeof(float));
    uint64_t x = 99;
    for (size_t i = 0; i < n * 8; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        /* four directions with noise */
        s->emb[i] = (float)((x >> 40) & 0xFFFF) / 65536.0f + ((i / 8) % 4 == (i % 8) / 2 ? 2.0f : 0.0f);
    }
    for (size_t i = 0; i < n * 2; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        s->scores[i] = (float)((x >> 33) % 1000003) / 1000003.0f;
        s->costs[i] = (float)((x >> 13) % 999983) * 1e-7f;
    }
}

static void synth_free(synth *s)
{
    free(s->emb), free(s->scores), free(s->costs);
}

static av_builder *synth_builder(void)
{
    const char *names[] = {"a", "b"};
    av_builder *b = NULL;
    return av_builder_new(&b, 8, 2, names) == AV_OK ? b : NULL;
}

/* Several threads, one source: without AV_ROW_SOURCE_CONCURRENT no two reads overlap; with it
   the result is the same; both equal borrowed rows (statistics included: the default block
   divides the 32,768-row chunks, so the statistics add in the same chunks). */
TEST(threads_and_concurrency)
{
    synth sy;
    synth_make(&sy, 70001);
    av_builder *bb = synth_builder(), *b1 = synth_builder(), *b2 = synth_builder();
    REQUIRE(bb && b1 && b2);
    REQUIRE(av_builder_add_borrowed(bb, sy.emb, sy.n, 8, sy.scores, sy.costs) == AV_OK);
    tsrc t1 = {0}, t2 = {0};
    t1.emb = t2.emb = sy.emb;
    t1.scores = t2.scores = sy.scores;
    t1.costs = t2.costs = sy.costs;
    t1.d = t2.d = 8;
    t1.m = t2.m = 2;
    av_row_source s1, s2;
    source_of(&s1, &t1, sy.n, 0);
    source_of(&s2, &t2, sy.n, 0);
    s2.flags = AV_ROW_SOURCE_CONCURRENT;
    REQUIRE(av_builder_add_source(b1, &s1) == AV_OK);
    REQUIRE(av_builder_add_source(b2, &s2) == AV_OK);
    /* the default block: the largest power of two of (8 + 2 * 2) floats within 4 MiB, at most
       32,768 rows: 32,768; three calls */
    CHECK_EQ_INT(atomic_load(&t1.calls), 3);
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = 6;
    o.top_p = 2;
    o.algorithm = AV_KMEANS_SAMPLED;
    av_router *rb = NULL, *r1 = NULL, *r2 = NULL;
    REQUIRE(av_builder_fit(bb, &o, &rb) == AV_OK);
    REQUIRE(av_builder_fit(b1, &o, &r1) == AV_OK);
    REQUIRE(av_builder_fit(b2, &o, &r2) == AV_OK);
    check_same_router(rb, r1);
    check_same_router(rb, r2);
    CHECK(atomic_load(&t1.calls) > 6);
    CHECK_EQ_INT(atomic_load(&t1.max_in_flight), 1);
    printf("  (concurrent source: at most %d reads at once)\n", atomic_load(&t2.max_in_flight));
    /* a block size that does not divide the chunks: the same centroids and counts */
    tsrc t3 = {0};
    t3.emb = sy.emb, t3.scores = sy.scores, t3.costs = sy.costs, t3.d = 8, t3.m = 2;
    av_row_source s3;
    source_of(&s3, &t3, sy.n, 1000);
    av_builder *b3 = synth_builder();
    REQUIRE(b3 && av_builder_add_source(b3, &s3) == AV_OK);
    av_router *r3 = NULL;
    REQUIRE(av_builder_fit(b3, &o, &r3) == AV_OK);
    float ca[8], cb[8];
    size_t diff = 0, cdiff = 0;
    for (size_t j = 0; j < 6; j++) {
        av_router_get_centroid(rb, j, ca, 8);
        av_router_get_centroid(r3, j, cb, 8);
        diff += memcmp(ca, cb, sizeof ca) != 0;
        for (size_t i = 0; i < 2; i++) {
            double x[3], y[3];
            av_router_cluster_stats(rb, j, i, &x[0], &x[1], &x[2]);
            av_router_cluster_stats(r3, j, i, &y[0], &y[1], &y[2]);
            cdiff += x[0] != y[0] || fabs(x[1] - y[1]) > 1e-9 * fabs(x[1]) ||
                     fabs(x[2] - y[2]) > 1e-9 * fabs(x[2]);
        }
    }
    CHECK_EQ_INT(diff, 0);
    CHECK_EQ_INT(cdiff, 0);
    CHECK_EQ_INT(atomic_load(&t3.bad_calls), 0);
    /* a read that fails on a worker thread's turn: the fit reports it, the builder still fits */
    atomic_store(&t1.calls, 0);
    t1.fail_at = 5;
    t1.fail_value = 42;
    av_router *rf = NULL;
    CHECK(av_builder_fit(b1, &o, &rf) == AV_ECANCELED && rf == NULL);
    CHECK(strstr(av_last_error(), "returned 42") != NULL);
    t1.fail_at = 0;
    REQUIRE(av_builder_fit(b1, &o, &rf) == AV_OK);
    check_same_router(rb, rf);
    av_router_free(rb), av_router_free(r1), av_router_free(r2), av_router_free(r3),
        av_router_free(rf);
    av_builder_free(bb), av_builder_free(b1), av_builder_free(b2), av_builder_free(b3);
    synth_free(&sy);
}

/* A bad row adds nothing and is named (as the builder's row, and the source's). */
TEST(bad_rows)
{
    REQUIRE(fixture());
    size_t d = g_fx.d, m = g_fx.m, n = 40;
    float *emb = malloc(n * d * sizeof(float)), *sc = malloc(n * m * sizeof(float)),
          *co = malloc(n * m * sizeof(float));
    memcpy(emb, TD_EMB(&g_fx, 0), n * d * sizeof(float));
    memcpy(sc, TD_SCORES(&g_fx, 0), n * m * sizeof(float));
    memcpy(co, TD_COSTS(&g_fx, 0), n * m * sizeof(float));
    av_builder *b = copied_builder(5);
    REQUIRE(b);
    tsrc t;
    tsrc_fixture(&t, 0);
    t.emb = emb, t.scores = sc, t.costs = co;
    av_row_source s;
    source_of(&s, &t, n, 16);
    memset(emb + 21 * d, 0, d * sizeof(float)); /* row 21 of the source: zero */
    CHECK(av_builder_add_source(b, &s) == AV_EVECTOR);
    CHECK(strstr(av_last_error(), "row 26 (row 21 of the source)") != NULL);
    memcpy(emb + 21 * d, TD_EMB(&g_fx, 21), d * sizeof(float));
    emb[33 * d + 3] = NAN;
    CHECK(av_builder_add_source(b, &s) == AV_EVECTOR);
    emb[33 * d + 3] = 0.5f;
    sc[17 * m + 2] = INFINITY;
    CHECK(av_builder_add_source(b, &s) == AV_EVALUE);
    CHECK(strstr(av_last_error(), "row 22, model 2") != NULL);
    sc[17 * m + 2] = NAN; /* no outcome: fine */
    co[39 * m] = -1.0f;
    CHECK(av_builder_add_source(b, &s) == AV_EVALUE);
    CHECK_EQ_INT(av_builder_n_rows(b), 5);
    co[39 * m] = NAN;
    CHECK(av_builder_add_source(b, &s) == AV_OK);
    CHECK_EQ_INT(av_builder_n_rows(b), 45);
    av_builder_free(b);
    free(emb), free(sc), free(co);
}

/* read returns non-zero: AV_ECANCELED naming the rows and the value, the builder unchanged; at
   fit time too (sample, passes, statistics, the copy of FULL). */
TEST(callback_errors)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(10), *ref = copied_builder(g_fx.n);
    REQUIRE(b && ref);
    tsrc t;
    tsrc_fixture(&t, 10);
    av_row_source s;
    source_of(&s, &t, g_fx.n - 10, 100);
    t.fail_at = 3;
    t.fail_value = -5;
    CHECK(av_builder_add_source(b, &s) == AV_ECANCELED);
    CHECK(strstr(av_last_error(), "rows [200, 300)") != NULL);
    CHECK(strstr(av_last_error(), "returned -5") != NULL);
    CHECK_EQ_INT(av_builder_n_rows(b), 10);
    t.fail_at = 0;
    REQUIRE(av_builder_add_source(b, &s) == AV_OK);
    size_t nblk = (g_fx.n - 10 + 99) / 100;
    av_fit_options o;
    fit_opts(&o, 10, AV_KMEANS_SAMPLED, 400);
    av_router *r0 = NULL;
    REQUIRE(av_builder_fit(ref, &o, &r0) == AV_OK);
    /* every call of a SAMPLED fit in turn fails: the sample's reads, each pass's, the last */
    atomic_store(&t.calls, 0);
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    av_router_free(r);
    long total = atomic_load(&t.calls);
    CHECK(total > (long)(2 * nblk));
    for (long f = 1; f <= total; f += total / 7 + 1) {
        atomic_store(&t.calls, 0);
        t.fail_at = f;
        t.fail_value = 3;
        r = NULL;
        CHECK(av_builder_fit(b, &o, &r) == AV_ECANCELED && r == NULL);
        CHECK(strstr(av_last_error(), "returned 3") != NULL);
        CHECK_EQ_INT(av_builder_n_rows(b), g_fx.n);
    }
    t.fail_at = 0;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    check_same_router(r0, r);
    av_router_free(r);
    /* FULL copies the rows: a failure there keeps the source */
    o.algorithm = AV_KMEANS_FULL;
    atomic_store(&t.calls, 0);
    t.fail_at = (long)nblk;
    CHECK(av_builder_fit(b, &o, &r) == AV_ECANCELED && r == NULL);
    t.fail_at = 0;
    atomic_store(&t.calls, 0);
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK_EQ_INT(atomic_load(&t.calls), nblk); /* copied once, in full */
    av_router *rf = NULL;
    REQUIRE(av_builder_fit(ref, &o, &rf) == AV_OK);
    check_same_router(rf, r);
    av_router_free(r), av_router_free(rf), av_router_free(r0);
    av_builder_free(b), av_builder_free(ref);
}

/* Rows that read differently later (an embedding's components swapped: the same norm; a score
   changed) are refused with AV_EIO, never used; restored, the same builder fits. */
TEST(changed_rows)
{
    REQUIRE(fixture());
    av_builder *b = NULL, *ref = copied_builder(g_fx.n);
    REQUIRE(ref);
    REQUIRE(av_builder_new(&b, g_fx.d, g_fx.m, (const char *const *)g_fx.names) == AV_OK);
    tsrc t;
    tsrc_fixture(&t, 0);
    av_row_source s;
    source_of(&s, &t, g_fx.n, 64);
    REQUIRE(av_builder_add_source(b, &s) == AV_OK);
    uint32_t algs[] = {AV_KMEANS_SAMPLED, AV_KMEANS_FULL};
    for (int change = 1; change <= 2; change++)
        for (int k = 0; k < 2; k++) {
            av_fit_options o;
            fit_opts(&o, 10, algs[k], 400);
            t.change = change;
            t.change_row = 700;
            av_router *r = NULL;
            CHECK(av_builder_fit(b, &o, &r) == AV_EIO && r == NULL);
            CHECK(strstr(av_last_error(), "rows [640, 704)") != NULL);
            CHECK(strstr(av_last_error(), "differ") != NULL);
            t.change = 0;
        }
    av_fit_options o;
    fit_opts(&o, 10, AV_KMEANS_SAMPLED, 400);
    av_router *r = NULL, *r0 = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    REQUIRE(av_builder_fit(ref, &o, &r0) == AV_OK);
    check_same_router(r0, r);
    av_router_free(r), av_router_free(r0);
    av_builder_free(b), av_builder_free(ref);
}

/* NULLs, struct sizes, flags, dimensions, the defaults. */
TEST(struct_checks)
{
    REQUIRE(fixture());
    av_row_source s;
    memset(&s, 0xAB, sizeof s);
    av_row_source_init(&s);
    CHECK_EQ_INT(s.struct_size, sizeof s);
    CHECK(s.flags == 0 && s.n_rows == 0 && s.dim == 0 && s.read == NULL && s.user == NULL &&
          s.block_rows == 0);
    av_builder *b = copied_builder(3);
    REQUIRE(b);
    tsrc t;
    tsrc_fixture(&t, 0);
    source_of(&s, &t, 20, 0);
    CHECK(av_builder_add_source(NULL, &s) == AV_EINVAL);
    CHECK(av_builder_add_source(b, NULL) == AV_EINVAL);
    av_row_source z = s;
    z.read = NULL;
    CHECK(av_builder_add_source(b, &z) == AV_EINVAL);
    z = s;
    z.struct_size = 8;
    CHECK(av_builder_add_source(b, &z) == AV_EINVAL);
    CHECK(strstr(av_last_error(), "struct_size") != NULL);
    z = s;
    z.flags = 6;
    CHECK(av_builder_add_source(b, &z) == AV_EINVAL);
    z = s;
    z.dim = g_fx.d + 1;
    CHECK(av_builder_add_source(b, &z) == AV_EDIM);
    z = s;
    z.n_rows = SIZE_MAX;
    CHECK(av_builder_add_source(b, &z) == AV_ELIMIT);
    /* a newer caller's larger struct: zeros past the library's size are fine, else refused */
    struct {
        av_row_source s;
        uint64_t newer;
    } big;
    memset(&big, 0, sizeof big);
    big.s = s;
    big.s.struct_size = sizeof big;
    CHECK(av_builder_add_source(b, &big.s) == AV_OK);
    big.newer = 1;
    CHECK(av_builder_add_source(b, &big.s) == AV_EINVAL);
    CHECK_EQ_INT(atomic_load(&t.calls), 1);
    z = s;
    z.n_rows = 0; /* nothing to add, nothing read */
    CHECK(av_builder_add_source(b, &z) == AV_OK);
    CHECK_EQ_INT(atomic_load(&t.calls), 1);
    CHECK_EQ_INT(av_builder_n_rows(b), 23);
    av_builder_free(b);
}

int main(int argc, char **argv)
{
    /* several pass threads, whatever the machine (read once, at the first fit) */
#ifdef _WIN32
    _putenv_s("AV_NUM_THREADS", "4");
#else
    setenv("AV_NUM_THREADS", "4", 1);
#endif
    static const th_test tests[] = {
        {"source_equals_copied", source_equals_copied},
        {"sampled_reads_as_planned", sampled_reads_as_planned},
        {"threads_and_concurrency", threads_and_concurrency},
        {"bad_rows", bad_rows},
        {"callback_errors", callback_errors},
        {"changed_rows", changed_rows},
        {"struct_checks", struct_checks},
    };
    return th_run(tests, sizeof tests / sizeof tests[0], argc, argv);
}
