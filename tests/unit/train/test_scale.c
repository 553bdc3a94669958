/* Training on large logs (src/train/scale.c): the map-reduce steps of k-means and statistics and
   the SAMPLED trainer that composes them. Expectations: block results independent of block layout
   and merge order (exact integers), the trainer equal bit for bit to a composition of the public
   steps written here, fixed-point sums against double sums within the documented bound, borrowed
   rows equal to copied rows, argument errors, and the bundled data's AUTO fit unchanged. */
#include "internal.h" /* the steps with an explicit SIMD backend */
#include "harness.h"
#include "testdata.h"
#include "train_helpers.h"

#include <stdint.h>

/* A deterministic PRNG for the tests' own choices (block sizes, permutations). */
static uint64_t t_state = 12345;
static uint64_t t_next(void)
{
    uint64_t z = (t_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* k normalised rows of the fixture (1,200 rows) as centroids (rows 7, 7 + 97, ... mod n). */
static float *fixture_centroids(size_t k)
{
    size_t d = g_fx.d;
    float *C = malloc(k * d * sizeof(float));
    for (size_t j = 0; j < k; j++)
        if (av_kmeans_normalize(TD_EMB(&g_fx, (7 + 97 * j) % g_fx.n), 1, d, C + j * d) != AV_OK)
            fprintf(stderr, "  fixture row %zu: %s\n", (7 + 97 * j) % g_fx.n, av_last_error());
    return C;
}

/* The block step over the fixture in random blocks visited in a random order, partial
   accumulators merged in another random order, equals one call over every row. */
TEST(block_step_any_layout)
{
    REQUIRE(fixture());
    size_t n = g_fx.n, d = g_fx.d, k = 16;
    float *C = fixture_centroids(k);
    int64_t *s1 = calloc(k * d, 8), *c1 = calloc(k, 8), i1 = 0;
    int32_t *l1 = malloc(n * sizeof(int32_t)), *l2 = malloc(n * sizeof(int32_t));
    REQUIRE(av_kmeans_block_step(C, k, d, TD_EMB(&g_fx, 0), n, s1, c1, &i1, l1) == AV_OK);
    for (int trial = 0; trial < 3; trial++) {
        /* cut [0, n) into random blocks */
        size_t cuts[64], nb = 0;
        for (size_t r = 0; r < n; nb++) {
            cuts[nb] = r;
            r += 1 + (size_t)(t_next() % (n / 8));
            if (nb == 62)
                r = n;
        }
        cuts[nb] = n;
        size_t order[64];
        for (size_t i = 0; i < nb; i++)
            order[i] = i;
        for (size_t i = nb; i > 1; i--) {
            size_t j = (size_t)(t_next() % i), t = order[i - 1];
            order[i - 1] = order[j], order[j] = t;
        }
        /* one partial accumulator per block, merged in reverse visiting order */
        int64_t *ps = calloc(nb * k * d, 8), *pc = calloc(nb * k, 8), *pi = calloc(nb, 8);
        for (size_t o = 0; o < nb; o++) {
            size_t b = order[o];
            CHECK(av_kmeans_block_step(C, k, d, TD_EMB(&g_fx, cuts[b]), cuts[b + 1] - cuts[b],
                                       ps + b * k * d, pc + b * k, pi + b, l2 + cuts[b]) == AV_OK);
        }
        int64_t *s2 = calloc(k * d, 8), *c2 = calloc(k, 8), i2 = 0;
        for (size_t o = nb; o-- > 0;) {
            size_t b = order[o];
            for (size_t i = 0; i < k * d; i++)
                s2[i] += ps[b * k * d + i];
            for (size_t j = 0; j < k; j++)
                c2[j] += pc[b * k + j];
            i2 += pi[b];
        }
        CHECK(memcmp(s1, s2, k * d * 8) == 0);
        CHECK(memcmp(c1, c2, k * 8) == 0);
        CHECK_EQ_INT(i1, i2);
        CHECK(memcmp(l1, l2, n * sizeof(int32_t)) == 0);
        free(ps), free(pc), free(pi), free(s2), free(c2);
    }
    int64_t tot = 0;
    for (size_t j = 0; j < k; j++)
        tot += c1[j];
    CHECK_EQ_INT(tot, n);
    free(C), free(s1), free(c1), free(l1), free(l2);
}

/* Labels are the nearest centroid by a double-precision distance (but for near-ties), the sums
   equal the double-precision sums of the normalised rows within count * 2^-32, the inertia the
   double inertia within n * 2^-32 plus float rounding of the distances. */
TEST(block_step_against_double)
{
    REQUIRE(fixture());
    size_t n = g_fx.n, d = g_fx.d, k = 10;
    float *C = fixture_centroids(k);
    int64_t *s = calloc(k * d, 8), *c = calloc(k, 8), in = 0;
    int32_t *lab = malloc(n * sizeof(int32_t));
    REQUIRE(av_kmeans_block_step(C, k, d, TD_EMB(&g_fx, 0), n, s, c, &in, lab) == AV_OK);
    double *ds = calloc(k * d, sizeof(double)), din = 0;
    float *x = malloc(d * sizeof(float));
    size_t near_ties = 0, disagree = 0;
    for (size_t i = 0; i < n; i++) {
        av_kmeans_normalize(TD_EMB(&g_fx, i), 1, d, x);
        double best = INFINITY, second = INFINITY;
        size_t bj = 0;
        for (size_t j = 0; j < k; j++) {
            double v = 0;
            for (size_t t = 0; t < d; t++) {
                double e = (double)x[t] - C[j * d + t];
                v += e * e;
            }
            if (v < best) {
                second = best;
                best = v;
                bj = j;
            } else if (v < second) {
                second = v;
            }
        }
        if (second - best < 1e-5)
            near_ties++;
        else if ((size_t)lab[i] != bj)
            disagree++;
        size_t j = (size_t)lab[i];
        for (size_t t = 0; t < d; t++) {
            ds[j * d + t] += x[t];
            double e = (double)x[t] - C[j * d + t];
            din += e * e;
        }
    }
    CHECK_EQ_INT(disagree, 0);
    CHECK(near_ties < n / 100);
    for (size_t j = 0; j < k; j++)
        for (size_t t = 0; t < d; t++)
            CHECK_NEAR((double)s[j * d + t] / AV_KMEANS_FIXED_ONE, ds[j * d + t],
                       (double)c[j] * 0x1.0p-32 + 1e-12 * (double)c[j]);
    /* each distance in float: relative error ~ 1e-6 of ||x||^2 + ||c||^2 <= 2 */
    CHECK_NEAR((double)in / AV_KMEANS_FIXED_ONE, din, (double)n * (0x1.0p-32 + 4e-6));
    free(C), free(s), free(c), free(lab), free(ds), free(x);
}

/* The finish step: the mean of the rows, empty clusters kept, the shift. */
TEST(finish_step)
{
    size_t k = 3, d = 2;
    float C[6] = {0.5f, 0.5f, 0.1f, 0.2f, -0.3f, 0.0f};
    int64_t one = (int64_t)1 << 32;
    int64_t sums[6] = {one, one / 2, 0, 0, -3 * (one / 4), one / 4};
    int64_t counts[3] = {2, 0, 3};
    double shift = -1;
    REQUIRE(av_kmeans_finish_step(C, k, d, sums, counts, &shift) == AV_OK);
    CHECK(C[0] == 0.5f && C[1] == 0.25f);
    CHECK(C[2] == 0.1f && C[3] == 0.2f);
    CHECK(C[4] == -0.25f && C[5] == (float)(1.0 / 12.0));
    double e = 0.0625 + (-0.25 + (double)0.3f) * (-0.25 + (double)0.3f) +
               (double)(float)(1.0 / 12.0) * (double)(float)(1.0 / 12.0);
    CHECK_NEAR(shift, e, 1e-15);
}

/* Sample membership: a Bernoulli(s/n) draw per row, the same for any block layout. */
TEST(sample_mask)
{
    size_t n = 200000, s = 20000, sel = 0;
    uint8_t *m1 = malloc(n), *m2 = malloc(n);
    REQUIRE(av_kmeans_sample_mask(42, n, s, 0, n, m1, &sel) == AV_OK);
    CHECK(fabs((double)sel - (double)s) < 4.0 * sqrt((double)s)); /* sd = sqrt(s (1 - s/n)) */
    for (size_t r = 0; r < n;) {
        size_t b = 1 + (size_t)(t_next() % 5000);
        b = b < n - r ? b : n - r;
        size_t c;
        CHECK(av_kmeans_sample_mask(42, n, s, r, b, m2 + r, &c) == AV_OK);
        r += b;
    }
    CHECK(memcmp(m1, m2, n) == 0);
    /* another seed: another sample, overlapping by about s^2/n rows */
    size_t both = 0;
    REQUIRE(av_kmeans_sample_mask(43, n, s, 0, n, m2, NULL) == AV_OK);
    for (size_t i = 0; i < n; i++)
        both += m1[i] && m2[i];
    CHECK(fabs((double)both - 2000.0) < 4.0 * sqrt(2000.0));
    /* even spread: each tenth of the rows holds a tenth of the sample */
    for (size_t q = 0; q < 10; q++) {
        size_t c = 0;
        for (size_t i = q * n / 10; i < (q + 1) * n / 10; i++)
            c += m1[i];
        CHECK(fabs((double)c - (double)sel / 10) < 5.0 * sqrt((double)sel / 10));
    }
    REQUIRE(av_kmeans_sample_mask(42, n, n, 0, n, m2, &sel) == AV_OK);
    CHECK_EQ_INT(sel, n);
    free(m1), free(m2);
}

/* The trainer (SAMPLED) against the composition of the public steps, written as a driver would:
   sample mask -> av_kmeans_fit_sample -> block steps and finish steps until the shift is below
   shift_tol or max_passes -> statistics blocks -> av_router_from_parts. */
static av_router *compose(const float *emb, const float *scores, const float *costs, size_t n,
                          const av_fit_options *o, size_t block, float *C_out)
{
    size_t d = g_fx.d, m = g_fx.m, k = o->n_clusters, ss;
    uint32_t alg, passes;
    if (av_kmeans_plan(o, n, &alg, &ss, &passes) != AV_OK || alg != AV_KMEANS_SAMPLED)
        return NULL;
    uint64_t seed = av_kmeans_member_seed(o->seed, 0);
    uint8_t *mask = malloc(n);
    float *S = malloc(n * d * sizeof(float));
    size_t ns = 0;
    for (size_t r = 0; r < n; r += block) {
        size_t b = n - r < block ? n - r : block;
        av_kmeans_sample_mask(seed, n, ss, r, b, mask + r, NULL);
    }
    for (size_t i = 0; i < n; i++)
        if (mask[i])
            memcpy(S + ns++ * d, emb + i * d, d * sizeof(float));
    av_fit_options os = *o;
    os.seed = seed;
    double tol;
    float *C = malloc(k * d * sizeof(float));
    av_router *r = NULL;
    if (av_kmeans_fit_sample(S, ns, d, &os, C, NULL, &tol) != AV_OK)
        goto done;
    int64_t *sums = malloc(k * d * 8), *cnt = malloc(k * 8), in, prev = -1;
    for (uint32_t p = 0; p < passes; p++) {
        memset(sums, 0, k * d * 8);
        memset(cnt, 0, k * 8);
        in = 0;
        /* blocks from the end backwards, to be unlike the trainer's */
        for (size_t r0 = (n - 1) / block * block;; r0 -= block) {
            size_t b = n - r0 < block ? n - r0 : block;
            if (av_kmeans_block_step(C, k, d, emb + r0 * d, b, sums, cnt, &in, NULL) != AV_OK)
                goto done2;
            if (r0 == 0)
                break;
        }
        double shift;
        if (av_kmeans_finish_step(C, k, d, sums, cnt, &shift) != AV_OK)
            goto done2;
        if (av_kmeans_converged(shift, tol, prev, in, o->tol))
            break;
        prev = in;
    }
    double *sc = calloc(k * m, sizeof(double)), *ssum = calloc(k * m, sizeof(double)),
           *csum = calloc(k * m, sizeof(double));
    for (size_t r0 = 0; r0 < n; r0 += block) {
        size_t b = n - r0 < block ? n - r0 : block;
        if (av_kmeans_stats_block(C, k, d, emb + r0 * d, b, scores + r0 * m, costs + r0 * m, m, sc,
                                  ssum, csum, NULL) != AV_OK)
            goto done3;
    }
    if (av_router_from_parts(&r, d, k, m, (const char *const *)g_fx.names, C, sc, ssum, csum,
                             o->top_p) != AV_OK)
        r = NULL;
    if (C_out)
        memcpy(C_out, C, k * d * sizeof(float));
done3:
    free(sc), free(ssum), free(csum);
done2:
    free(sums), free(cnt);
done:
    free(mask), free(S), free(C);
    return r;
}

TEST(trainer_equals_composition)
{
    REQUIRE(fixture());
    av_fit_options o;
    fit_opts(&o, 12, AV_KMEANS_SAMPLED, 500);
    av_builder *b = copied_builder(g_fx.n);
    REQUIRE(b);
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    const char *alg = av_router_meta(r, "algorithm");
    CHECK(alg && strcmp(alg, "sampled kmeans++/lloyd") == 0);
    CHECK(atoi(av_router_meta(r, "n_iter")) >= 2); /* several passes composed */
    size_t blocks[] = {100, 333, 7000};
    for (size_t i = 0; i < 3; i++) {
        av_router *c = compose(TD_EMB(&g_fx, 0), TD_SCORES(&g_fx, 0), TD_COSTS(&g_fx, 0), g_fx.n,
                               &o, blocks[i], NULL);
        REQUIRE(c);
        check_same_router(r, c);
        CHECK_EQ_INT(decisions_differ(r, c), 0);
        av_router_free(c);
    }
    av_router_free(r);
    av_builder_free(b);
}

/* Borrowed rows (in two arrays, with copied rows between) give the copied builder's router. */
TEST(borrowed_equals_copied)
{
    REQUIRE(fixture());
    size_t n = g_fx.n, h = n / 3;
    av_builder *b1 = copied_builder(n), *b2 = NULL;
    REQUIRE(b1);
    REQUIRE(av_builder_new(&b2, g_fx.d, g_fx.m, (const char *const *)g_fx.names) == AV_OK);
    CHECK(av_builder_add_borrowed(b2, TD_EMB(&g_fx, 0), h, g_fx.d, TD_SCORES(&g_fx, 0),
                                  TD_COSTS(&g_fx, 0)) == AV_OK);
    for (size_t i = h; i < 2 * h; i++)
        CHECK(av_builder_add(b2, TD_EMB(&g_fx, i), g_fx.d, TD_SCORES(&g_fx, i),
                             TD_COSTS(&g_fx, i)) == AV_OK);
    CHECK(av_builder_add_borrowed(b2, TD_EMB(&g_fx, 2 * h), n - 2 * h, g_fx.d,
                                  TD_SCORES(&g_fx, 2 * h), TD_COSTS(&g_fx, 2 * h)) == AV_OK);
    CHECK_EQ_INT(av_builder_n_rows(b2), n);
    check_same_fits(b1, b2);
    av_builder_free(b1), av_builder_free(b2);
}

/* AUTO on the test fixture (1,200 rows of the bundled data) is FULL, exactly as an explicit FULL fit and as a fit
   with the options of 1.1 (a struct that ends before the appended fields). */
TEST(auto_is_full_below_threshold)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(g_fx.n);
    REQUIRE(b);
    uint32_t alg = 99;
    size_t ss = 0;
    av_fit_options o;
    fit_opts(&o, 8, AV_KMEANS_AUTO, 0);
    CHECK(av_kmeans_plan(&o, g_fx.n, &alg, &ss, NULL) == AV_OK);
    CHECK_EQ_INT(alg, AV_KMEANS_FULL);
    CHECK(av_kmeans_plan(&o, AV_KMEANS_AUTO_MAX_ROWS + 1, &alg, &ss, NULL) == AV_OK);
    CHECK_EQ_INT(alg, AV_KMEANS_SAMPLED);
    CHECK_EQ_INT(ss, AV_KMEANS_DEFAULT_SAMPLE(8u));
    av_router *r1 = NULL, *r2 = NULL, *r3 = NULL;
    REQUIRE(av_builder_fit(b, &o, &r1) == AV_OK);
    o.algorithm = AV_KMEANS_FULL;
    REQUIRE(av_builder_fit(b, &o, &r2) == AV_OK);
    av_fit_options old = o;
    old.struct_size = (uint32_t)offsetof(av_fit_options, algorithm);
    REQUIRE(av_builder_fit(b, &old, &r3) == AV_OK);
    check_same_router(r1, r2);
    check_same_router(r1, r3);
    CHECK(strcmp(av_router_meta(r1, "algorithm"), "kmeans++/lloyd") == 0);
    av_router_free(r1), av_router_free(r2), av_router_free(r3);
    av_builder_free(b);
}

TEST(argument_errors)
{
    REQUIRE(fixture());
    size_t d = g_fx.d, k = 4;
    float *C = fixture_centroids(k);
    int64_t s[4 * 2048] = {0}, c[4] = {0}, in = 0;
    const float *rows = TD_EMB(&g_fx, 0);
    CHECK(av_kmeans_block_step(NULL, k, d, rows, 3, s, c, &in, NULL) == AV_EINVAL);
    CHECK(av_kmeans_block_step(C, 0, d, rows, 3, s, c, &in, NULL) == AV_ELIMIT);
    CHECK(av_kmeans_block_step(C, k, 0, rows, 3, s, c, &in, NULL) == AV_ELIMIT);
    CHECK(av_kmeans_block_step(C, k, d, NULL, 3, s, c, &in, NULL) == AV_EINVAL);
    CHECK(av_kmeans_block_step(C, k, d, rows, 3, NULL, c, &in, NULL) == AV_EINVAL);
    CHECK(av_kmeans_block_step(C, k, d, rows, 0, s, c, &in, NULL) == AV_OK);
    /* a centroid outside the unit ball, a NaN centroid */
    float save = C[0];
    C[0] = 2.0f;
    CHECK(av_kmeans_block_step(C, k, d, rows, 3, s, c, &in, NULL) == AV_EINVAL);
    CHECK(strstr(av_last_error(), "centroid 0") != NULL);
    C[0] = NAN;
    CHECK(av_kmeans_block_step(C, k, d, rows, 3, s, c, &in, NULL) == AV_EINVAL);
    C[0] = save;
    /* a zero row: AV_EVECTOR naming it, accumulators unchanged */
    float *bad = calloc(3 * d, sizeof(float));
    memcpy(bad, rows, d * sizeof(float));
    c[1] = 5;
    CHECK(av_kmeans_block_step(C, k, d, bad, 3, s, c, &in, NULL) == AV_EVECTOR);
    CHECK(strstr(av_last_error(), "row 1") != NULL);
    CHECK(c[0] == 0 && c[1] == 5 && in == 0);
    /* negative counts, full accumulators */
    c[1] = -1;
    CHECK(av_kmeans_block_step(C, k, d, rows, 3, s, c, &in, NULL) == AV_EINVAL);
    c[1] = AV_KMEANS_MAX_ROWS - 2;
    CHECK(av_kmeans_block_step(C, k, d, rows, 3, s, c, &in, NULL) == AV_ELIMIT);
    c[1] = 0;
    in = INT64_MAX - 100;
    CHECK(av_kmeans_block_step(C, k, d, rows, 3, s, c, &in, NULL) == AV_ELIMIT);
    in = 0;
    /* finish: sums that no normalised rows make */
    c[0] = 1;
    s[0] = ((int64_t)1 << 32) + 1;
    CHECK(av_kmeans_finish_step(C, k, d, s, c, NULL) == AV_EINVAL);
    s[0] = 0;
    c[0] = 0;
    /* sample mask */
    CHECK(av_kmeans_sample_mask(1, 10, 5, 8, 3, NULL, NULL) == AV_ERANGE);
    CHECK(av_kmeans_sample_mask(1, 10, 0, 0, 3, NULL, NULL) == AV_EINVAL);
    /* k-means|| */
    int64_t cost = 0;
    CHECK(av_kmeans_parallel_cost(C, k, d, rows, 3, NULL) == AV_EINVAL);
    CHECK(av_kmeans_parallel_pick(C, k, d, rows, 3, 0, 1, 0, 0.0, 1, NULL, NULL) == AV_EINVAL);
    CHECK(av_kmeans_parallel_pick(C, k, d, rows, 3, 0, 1, 0, 2.0, 0, NULL, NULL) == AV_EINVAL);
    CHECK(av_kmeans_parallel_cost(C, k, d, rows, 3, &cost) == AV_OK && cost > 0);
    double w[4] = {1, 1, 0, 1};
    av_fit_options o;
    fit_opts(&o, 4, AV_KMEANS_AUTO, 0);
    float out[4 * 2048];
    CHECK(av_kmeans_parallel_reduce(C, k, d, w, &o, out) == AV_EEMPTY);
    w[2] = -1;
    CHECK(av_kmeans_parallel_reduce(C, k, d, w, &o, out) == AV_EINVAL);
    /* statistics: an infinite score */
    double cnt[4 * 16] = {0}, ss[4 * 16] = {0}, sc[4 * 16] = {0};
    float *sco = malloc(3 * g_fx.m * sizeof(float));
    memcpy(sco, TD_SCORES(&g_fx, 0), 3 * g_fx.m * sizeof(float));
    sco[g_fx.m + 1] = INFINITY;
    CHECK(av_kmeans_stats_block(C, k, d, rows, 3, sco, TD_COSTS(&g_fx, 0), g_fx.m, cnt, ss, sc,
                                NULL) == AV_EVALUE);
    CHECK(cnt[0] == 0 && cnt[1] == 0);
    CHECK(av_kmeans_stats_block(C, k, d, rows, 3, sco, TD_COSTS(&g_fx, 0), 0, cnt, ss, sc,
                                NULL) == AV_ELIMIT);
    /* options */
    o.algorithm = 7;
    CHECK(av_kmeans_plan(&o, 10, NULL, NULL, NULL) == AV_EINVAL);
    av_builder *b = copied_builder(100);
    av_router *r = NULL;
    CHECK(av_builder_fit(b, &o, &r) == AV_EINVAL && r == NULL);
    /* a sample too small for k */
    fit_opts(&o, 20, AV_KMEANS_SAMPLED, 5);
    CHECK(av_builder_fit(b, &o, &r) == AV_EEMPTY);
    /* borrowed rows: a bad row adds nothing */
    CHECK(av_builder_add_borrowed(b, bad, 3, d, TD_SCORES(&g_fx, 0), TD_COSTS(&g_fx, 0)) ==
          AV_EVECTOR);
    CHECK(av_builder_add_borrowed(b, rows, 3, d, sco, TD_COSTS(&g_fx, 0)) == AV_EVALUE);
    CHECK(av_builder_add_borrowed(b, rows, 3, d + 1, sco, TD_COSTS(&g_fx, 0)) == AV_EDIM);
    CHECK_EQ_INT(av_builder_n_rows(b), 100);
    av_builder_free(b);
    free(C), free(bad), free(sco);
}

/* A Gaussian mixture: c well-separated unit centres in dimension d (random directions), n rows =
   a centre + N(0, sigma^2) per dimension; the true centre of each row in *truth. */
static float *mixture(size_t n, size_t d, size_t c, float sigma, float **centres, size_t **truth)
{
    float *M = malloc(c * d * sizeof(float)), *X = malloc(n * d * sizeof(float));
    *truth = malloc(n * sizeof(size_t));
    for (size_t j = 0; j < c; j++) {
        double ss = 0;
        for (size_t t = 0; t < d; t++) {
            double u1 = ((double)(t_next() >> 11) + 0.5) * 0x1.0p-53,
                   u2 = (double)(t_next() >> 11) * 0x1.0p-53;
            M[j * d + t] = (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
            ss += (double)M[j * d + t] * M[j * d + t];
        }
        for (size_t t = 0; t < d; t++)
            M[j * d + t] = (float)(M[j * d + t] / sqrt(ss));
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)(t_next() % c);
        (*truth)[i] = j;
        for (size_t t = 0; t < d; t++) {
            double u1 = ((double)(t_next() >> 11) + 0.5) * 0x1.0p-53,
                   u2 = (double)(t_next() >> 11) * 0x1.0p-53;
            X[i * d + t] = M[j * d + t] +
                           sigma * (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
        }
    }
    *centres = M;
    return X;
}

/* The largest angle-distance (1 - cosine) from a true centre to its nearest centroid: means of
   normalised rows are shorter than the unit centres, their directions are the centres'. */
static double worst_recovery(const float *M, size_t c, const float *C, size_t k, size_t d)
{
    double worst = 0;
    for (size_t j = 0; j < c; j++) {
        double best = INFINITY;
        for (size_t q = 0; q < k; q++) {
            double dot = 0, nm = 0, nc = 0;
            for (size_t t = 0; t < d; t++) {
                dot += (double)M[j * d + t] * C[q * d + t];
                nm += (double)M[j * d + t] * M[j * d + t];
                nc += (double)C[q * d + t] * C[q * d + t];
            }
            double v = 1.0 - dot / sqrt(nm * nc);
            best = v < best ? v : best;
        }
        worst = best > worst ? best : worst;
    }
    return worst;
}

static av_router *fit_rows(const float *X, size_t n, size_t d, const av_fit_options *o,
                           double *inertia)
{
    const char *names[] = {"a"};
    float *zero = calloc(n, sizeof(float));
    av_builder *b = NULL;
    av_router *r = NULL;
    if (av_builder_new(&b, d, 1, names) == AV_OK &&
        av_builder_add_borrowed(b, X, n, d, zero, zero) == AV_OK &&
        av_builder_fit(b, o, &r) == AV_OK)
        *inertia = av_builder_inertia(b);
    av_builder_free(b);
    free(zero);
    return r;
}

static float *centroids_of(const av_router *r)
{
    size_t k = av_router_n_clusters(r), d = av_router_dim(r);
    float *C = malloc(k * d * sizeof(float));
    for (size_t j = 0; j < k; j++)
        av_router_get_centroid(r, j, C + j * d, d);
    return C;
}

/* SAMPLED (AUTO above the threshold) recovers the mixture's centres; its inertia is within 1%
   of FULL's on the same rows. */
TEST(sampled_recovers_mixture)
{
    size_t n = 60000, d = 32, c = 8;
    float *M;
    size_t *truth;
    float *X = mixture(n, d, c, 0.08f, &M, &truth);
    av_fit_options o;
    fit_opts(&o, (uint32_t)c, AV_KMEANS_AUTO, 0);
    o.n_init = 3;
    uint32_t alg;
    REQUIRE(av_kmeans_plan(&o, n, &alg, NULL, NULL) == AV_OK && alg == AV_KMEANS_SAMPLED);
    double in_s = -1, in_f = -1;
    av_router *rs = fit_rows(X, n, d, &o, &in_s);
    o.algorithm = AV_KMEANS_FULL;
    av_router *rf = fit_rows(X, n, d, &o, &in_f);
    REQUIRE(rs && rf);
    float *Cs = centroids_of(rs), *Cf = centroids_of(rf);
    /* noise 0.08 x sqrt(32) = 0.45 around a unit centre: the mean of 7,500 rows points within
       ~0.006 rad of it (1 - cos ~ 2e-5) */
    CHECK(worst_recovery(M, c, Cs, c, d) < 1e-3);
    CHECK(worst_recovery(M, c, Cf, c, d) < 1e-3);
    CHECK(in_s <= in_f * 1.01);
    CHECK(strcmp(av_router_meta(rs, "algorithm"), "sampled kmeans++/lloyd") == 0);
    /* the same seed gives the same router again */
    double in2 = -1;
    o.algorithm = AV_KMEANS_AUTO;
    av_router *r2 = fit_rows(X, n, d, &o, &in2);
    REQUIRE(r2);
    check_same_router(rs, r2);
    CHECK(in2 == in_s);
    av_router_free(rs), av_router_free(rf), av_router_free(r2);
    free(Cs), free(Cf), free(X), free(M), free(truth);
}

/* Rows of the bundled embeddings with noise (60,000 x 384, k = 10): SAMPLED's inertia within 2%
   of FULL's (n_init 1 both). */
TEST(sampled_close_to_full_on_embeddings)
{
    REQUIRE(fixture());
    size_t n = 60000, d = g_fx.d;
    float *X = malloc(n * d * sizeof(float)), *x = malloc(d * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        av_kmeans_normalize(TD_EMB(&g_fx, (size_t)(t_next() % g_fx.n)), 1, d, x);
        for (size_t t = 0; t < d; t++)
            X[i * d + t] = x[t] + 0.02f * (float)((double)(t_next() >> 11) * 0x1.0p-53 - 0.5) *
                                      3.4641016f; /* uniform noise of sd 0.02 */
    }
    av_fit_options o;
    fit_opts(&o, 10, AV_KMEANS_SAMPLED, 0);
    o.n_init = 1;
    double in_s = -1, in_f = -1;
    av_router *rs = fit_rows(X, n, d, &o, &in_s);
    o.algorithm = AV_KMEANS_FULL;
    av_router *rf = fit_rows(X, n, d, &o, &in_f);
    REQUIRE(rs && rf);
    CHECK(in_s > 0 && in_s <= in_f * 1.02);
    av_router_free(rs), av_router_free(rf);
    free(X), free(x);
}

/* k-means|| composed of the public steps, as Spark MLlib runs it: it finds the mixture's
   centres; its picks and costs do not depend on the blocks. */
TEST(kmeans_parallel_composition)
{
    size_t n = 20000, d = 16, c = 6, k = 6, B = 1777;
    float *M;
    size_t *truth;
    float *X = mixture(n, d, c, 0.05f, &M, &truth);
    float *cent = malloc(n * d * sizeof(float));
    size_t nc = 1;
    av_kmeans_normalize(X, 1, d, cent); /* round 0: the first row */
    uint8_t *pick = malloc(n), *pick2 = malloc(n);
    for (uint32_t round = 1; round <= 5; round++) {
        int64_t phi = 0, phi2 = 0;
        for (size_t r = 0; r < n; r += B)
            CHECK(av_kmeans_parallel_cost(cent, nc, d, X + r * d, n - r < B ? n - r : B, &phi) ==
                  AV_OK);
        CHECK(av_kmeans_parallel_cost(cent, nc, d, X, n, &phi2) == AV_OK);
        CHECK_EQ_INT(phi, phi2);
        size_t got = 0, got2 = 0;
        for (size_t r = 0; r < n; r += B) {
            size_t g;
            CHECK(av_kmeans_parallel_pick(cent, nc, d, X + r * d, n - r < B ? n - r : B, r, 9,
                                          round, 2.0 * (double)k, phi, pick + r, &g) == AV_OK);
            got += g;
        }
        CHECK(av_kmeans_parallel_pick(cent, nc, d, X, n, 0, 9, round, 2.0 * (double)k, phi, pick2,
                                      &got2) == AV_OK);
        CHECK(got == got2 && memcmp(pick, pick2, n) == 0);
        /* expected picks: sum min(1, l d2 / phi) <= l = 2k */
        CHECK(got <= 4 * k + 10);
        for (size_t i = 0; i < n; i++)
            if (pick[i])
                av_kmeans_normalize(X + i * d, 1, d, cent + nc++ * d);
    }
    CHECK(nc > k);
    /* weights: the rows nearest each candidate (a block step with the candidates as centroids) */
    int64_t *sums = calloc(nc * d, 8), *cnt = calloc(nc, 8), in = 0;
    REQUIRE(av_kmeans_block_step(cent, nc, d, X, n, sums, cnt, &in, NULL) == AV_OK);
    double *w = malloc(nc * sizeof(double));
    for (size_t j = 0; j < nc; j++)
        w[j] = (double)cnt[j];
    av_fit_options o;
    fit_opts(&o, (uint32_t)k, AV_KMEANS_AUTO, 0);
    float *C = malloc(k * d * sizeof(float)), *C2 = malloc(k * d * sizeof(float));
    REQUIRE(av_kmeans_parallel_reduce(cent, nc, d, w, &o, C) == AV_OK);
    /* the seeds are means of a few noisy candidates: near the centres */
    CHECK(worst_recovery(M, c, C, k, d) < 0.02);
    REQUIRE(av_kmeans_parallel_reduce(cent, nc, d, w, &o, C2) == AV_OK);
    CHECK(memcmp(C, C2, k * d * sizeof(float)) == 0);
    /* then Lloyd passes over every row, as the trainer's (c), find the centres */
    for (int pass = 0; pass < 3; pass++) {
        memset(sums, 0, k * d * 8);
        memset(cnt, 0, k * 8);
        in = 0;
        CHECK(av_kmeans_block_step(C, k, d, X, n, sums, cnt, &in, NULL) == AV_OK);
        CHECK(av_kmeans_finish_step(C, k, d, sums, cnt, NULL) == AV_OK);
    }
    CHECK(worst_recovery(M, c, C, k, d) < 1e-3);
    free(X), free(M), free(truth), free(cent), free(pick), free(pick2), free(sums), free(cnt);
    free(w), free(C), free(C2);
}

/* Every SIMD backend this CPU has: the same labels as scalar but for near-ties (distances within
   1e-5), sums and inertia within the bound those few rows allow. */
TEST(backends_agree)
{
    REQUIRE(fixture());
    static const char *const names[] = {"scalar", "avx2", "avx512", "avx512vnni", "neon"};
    size_t n = g_fx.n, d = g_fx.d, k = 24;
    float *C = fixture_centroids(k);
    int64_t *s0 = calloc(k * d, 8), *c0 = calloc(k, 8), i0 = 0;
    int32_t *l0 = malloc(n * sizeof(int32_t)), *l1 = malloc(n * sizeof(int32_t));
    int rc0 = av__kmeans_block_step_k(av__kernels_by_name("scalar"), C, k, d, TD_EMB(&g_fx, 0), n,
                                      s0, c0, &i0, l0);
    if (rc0)
        fprintf(stderr, "  %s\n", av_last_error());
    REQUIRE(rc0 == AV_OK);
    int tried = 0;
    for (size_t b = 1; b < sizeof names / sizeof names[0]; b++) {
        const av_kernels *K = av__kernels_by_name(names[b]);
        if (!K)
            continue;
        tried++;
        int64_t *s1 = calloc(k * d, 8), *c1 = calloc(k, 8), i1 = 0;
        REQUIRE(av__kmeans_block_step_k(K, C, k, d, TD_EMB(&g_fx, 0), n, s1, c1, &i1, l1) ==
                AV_OK);
        size_t moved = 0;
        for (size_t i = 0; i < n; i++)
            moved += l0[i] != l1[i];
        CHECK(moved <= n / 500);
        /* a moved row changes two clusters' counts by one and sums by at most 2^32 per component */
        int64_t dc = 0;
        for (size_t j = 0; j < k; j++)
            dc += llabs(c0[j] - c1[j]);
        CHECK((size_t)dc <= 2 * moved);
        /* per-row distances differ in the last float bits: 1e-6 relative of <= 4 */
        CHECK(llabs(i0 - i1) <= (int64_t)((double)n * 4e-6 * AV_KMEANS_FIXED_ONE));
        free(s1), free(c1);
    }
    printf("  (%d SIMD backends against scalar)\n", tried);
    free(C), free(s0), free(c0), free(l0), free(l1);
}

/* An ensemble fitted with SAMPLED: member 0 is the single clustering with the fit seed, member 1
   another (its own sample and seed). */
TEST(sampled_ensemble)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(g_fx.n);
    REQUIRE(b);
    av_fit_options o;
    fit_opts(&o, 6, AV_KMEANS_SAMPLED, 500);
    av_router *r1 = NULL, *r2 = NULL;
    REQUIRE(av_builder_fit(b, &o, &r1) == AV_OK);
    o.members = 2;
    REQUIRE(av_builder_fit(b, &o, &r2) == AV_OK);
    CHECK_EQ_INT(av_router_members(r2), 2);
    CHECK_EQ_INT(av_router_n_clusters(r2), 12);
    size_t d = g_fx.d, same = 0, other = 0;
    float *a = malloc(d * sizeof(float)), *c = malloc(d * sizeof(float));
    for (size_t j = 0; j < 6; j++) {
        av_router_get_centroid(r1, j, a, d);
        av_router_get_centroid(r2, j, c, d);
        same += memcmp(a, c, d * sizeof(float)) == 0;
        av_router_get_centroid(r2, 6 + j, c, d);
        other += memcmp(a, c, d * sizeof(float)) == 0;
    }
    CHECK_EQ_INT(same, 6);
    CHECK(other < 6);
    /* every training outcome counted once per member */
    double tot[2] = {0, 0};
    for (size_t j = 0; j < 12; j++) {
        double cnt, s1, s2;
        av_router_cluster_stats(r2, j, 0, &cnt, &s1, &s2);
        tot[j / 6] += cnt;
    }
    CHECK(tot[0] == tot[1] && tot[0] > 0);
    free(a), free(c);
    av_router_free(r1), av_router_free(r2);
    av_builder_free(b);
}

int main(int argc, char **argv)
{
    static const th_test tests[] = {
        {"block_step_any_layout", block_step_any_layout},
        {"block_step_against_double", block_step_against_double},
        {"finish_step", finish_step},
        {"sample_mask", sample_mask},
        {"trainer_equals_composition", trainer_equals_composition},
        {"borrowed_equals_copied", borrowed_equals_copied},
        {"auto_is_full_below_threshold", auto_is_full_below_threshold},
        {"argument_errors", argument_errors},
        {"sampled_recovers_mixture", sampled_recovers_mixture},
        {"sampled_close_to_full_on_embeddings", sampled_close_to_full_on_embeddings},
        {"kmeans_parallel_composition", kmeans_parallel_composition},
        {"backends_agree", backends_agree},
        {"sampled_ensemble", sampled_ensemble},
    };
    return th_run(tests, sizeof tests / sizeof tests[0], argc, argv);
}
