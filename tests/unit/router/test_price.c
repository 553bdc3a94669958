/* Prices (av_router_set_price, av_router_get_price): the rescaling of a model's cost sums computed
   independently, decisions when a model gets cheaper, the prices section across save and load,
   and that section as hostile input. */
#define AV_STATIC_LINKING_ONLY /* the experimental price interface */
#include "avengers/avengers.h"
#include "fuzz/avfile.h"
#include "harness.h"
#include "tiny.h"

#include <math.h>

/* The k cost sums (and counts and score sums) of model i. */
static void cells(const av_router *r, size_t i, double *cnt, double *ss, double *sc)
{
    for (size_t j = 0; j < av_router_n_clusters(r); j++)
        av_router_cluster_stats(r, j, i, &cnt[j], &ss[j], &sc[j]);
}

static av_price per_query(double c)
{
    av_price p;
    av_price_init(&p);
    p.cost_per_query = c;
    return p;
}

TEST(test_rescale_matches_cost_sums_times_factor)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    double c0[3], s0[3], q0[3], c1[3], s1[3], q1[3];
    cells(r, 1, c0, s0, q0);
    /* no price yet: the old price is the learned mean cost per query, 20 / 20 = 1 */
    av_price got;
    av_price_init(&got);
    CHECK(av_router_get_price(r, 1, &got) == AV_OK && got.unit == AV_PRICE_NONE);
    CHECK_NEAR(got.cost_per_query, 1.0, 0.0);
    av_price p = per_query(0.25);
    double f = 0.0;
    CHECK(av_router_set_price(r, 1, &p, &f) == AV_OK);
    CHECK_NEAR(f, 0.25, 0.0);
    cells(r, 1, c1, s1, q1);
    for (int j = 0; j < 3; j++) {
        CHECK_NEAR(q1[j], q0[j] * 0.25, 0.0);
        CHECK_NEAR(c1[j], c0[j], 0.0);
        CHECK_NEAR(s1[j], s0[j], 0.0);
    }
    /* the other model is untouched */
    double c2[3], s2[3], q2[3];
    cells(r, 0, c2, s2, q2);
    CHECK_NEAR(q2[0] + q2[1] + q2[2], 3.0, 0.0);
    /* the stored price is the old one now: 0.25 -> 2 multiplies by 8 */
    CHECK(av_router_get_price(r, 1, &got) == AV_OK && got.unit == AV_PRICE_PER_QUERY);
    CHECK_NEAR(got.cost_per_query, 0.25, 0.0);
    p = per_query(2.0);
    CHECK(av_router_set_price(r, 1, &p, &f) == AV_OK);
    CHECK_NEAR(f, 8.0, 0.0);
    cells(r, 1, c1, s1, q1);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(q1[j], q0[j] * 0.25 * 8.0, 0.0);
    /* per token: 1e-3 * 300 + 4e-3 * 50 = 0.5 per query, a factor of 0.25 */
    av_price_init(&p);
    p.unit = AV_PRICE_PER_TOKEN;
    p.input_price = 1e-3;
    p.output_price = 4e-3;
    p.input_tokens = 300.0;
    p.output_tokens = 50.0;
    CHECK(av_router_set_price(r, 1, &p, &f) == AV_OK);
    double want = (1e-3 * 300.0 + 4e-3 * 50.0) / 2.0;
    CHECK_NEAR(f, want, 1e-15);
    cells(r, 1, c1, s1, q1);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(q1[j], q0[j] * 0.25 * 8.0 * f, 1e-12);
    CHECK(av_router_get_price(r, 1, &got) == AV_OK && got.unit == AV_PRICE_PER_TOKEN);
    CHECK_NEAR(got.cost_per_query, 0.5, 1e-15);
    CHECK_NEAR(got.input_tokens, 300.0, 0.0);
    av_router_free(r);
}

TEST(test_every_member_of_an_ensemble_is_rescaled)
{
    enum { N = 64, D = 4 };
    const char *names[] = {"a", "b"};
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, D, 2, names) == AV_OK);
    for (int i = 0; i < N; i++) {
        float e[D] = {cosf((float)i), sinf((float)i), (float)(i % 3) - 1.0f, 0.5f};
        float s[2] = {(float)(i % 2), 0.5f}, c[2] = {0.1f + 0.01f * (float)(i % 5), 1.0f};
        REQUIRE(av_builder_add(b, e, D, s, c) == AV_OK);
    }
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = 4;
    o.top_p = 1;
    o.members = 2;
    o.n_init = 1;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    av_builder_free(b);
    size_t k = av_router_n_clusters(r);
    CHECK_EQ_INT(k, 8);
    double c0[8], s0[8], q0[8], c1[8], s1[8], q1[8];
    cells(r, 0, c0, s0, q0);
    double n = 0, q = 0;
    for (size_t j = 0; j < k; j++)
        n += c0[j], q += q0[j];
    av_price p = per_query(0.05);
    double f = 0;
    CHECK(av_router_set_price(r, 0, &p, &f) == AV_OK);
    CHECK_NEAR(f, 0.05 / (q / n), 1e-12);
    cells(r, 0, c1, s1, q1);
    for (size_t j = 0; j < k; j++)
        CHECK_NEAR(q1[j], q0[j] * f, 1e-15);
    av_router_free(r);
}

TEST(test_a_cheaper_model_wins_below_alpha_1)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    const float q0[2] = {1, 0}; /* cluster c0: small p 0.2 q 0.1, large p 0.9 q 1.0 */
    /* alpha 0.2: small 0.2*0 + 0.8*1 = 0.8 beats large 0.2*1 + 0.8*0 = 0.2 */
    CHECK_EQ_INT(av_route(r, q0, 2, 0.2f), 0);
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 1);
    /* large 10x cheaper: cost 0.1 like small, so the higher score wins at every alpha > 0 */
    av_price p = per_query(0.1);
    CHECK(av_router_set_price(r, 1, &p, NULL) == AV_OK);
    CHECK_EQ_INT(av_route(r, q0, 2, 0.2f), 1);
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 1);
    /* and 10x dearer than it was: small again */
    p = per_query(1.0);
    CHECK(av_router_set_price(r, 1, &p, NULL) == AV_OK);
    CHECK_EQ_INT(av_route(r, q0, 2, 0.2f), 0);
    av_route_result res = AV_ROUTE_RESULT_INIT;
    double ec[2] = {0, 0};
    res.expected_cost = ec;
    res.models_cap = 2;
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = 0.2f;
    CHECK(av_route_ex(r, q0, 2, &o, &res) == 0);
    CHECK_NEAR(ec[1], 1.0, 1e-12); /* the explanation's cost follows the price */
    av_router_free(r);
}

/* Save and load: the price and the rescaled statistics come back, decisions are the same, and the
   file is format 1.4 only when a price is set. */
TEST(test_price_persists_across_save_and_load)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    void *d = NULL;
    size_t n = 0;
    REQUIRE(av_router_save_buffer(r, &d, &n) == AV_OK);
    CHECK(((unsigned char *)d)[10] < 4);
    av_free(d);
    av_price p;
    av_price_init(&p);
    p.unit = AV_PRICE_PER_TOKEN;
    p.input_price = 2e-4;
    p.input_tokens = 1000.0;
    REQUIRE(av_router_set_price(r, 1, &p, NULL) == AV_OK);
    REQUIRE(av_router_save_buffer(r, &d, &n) == AV_OK);
    CHECK_EQ_INT(((unsigned char *)d)[10], 4);
    av_router *l = NULL;
    REQUIRE(av_router_load_buffer(&l, d, n) == AV_OK);
    av_price a, b;
    av_price_init(&a);
    av_price_init(&b);
    CHECK(av_router_get_price(r, 1, &a) == AV_OK && av_router_get_price(l, 1, &b) == AV_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(av_router_get_price(l, 0, &b) == AV_OK && b.unit == AV_PRICE_NONE);
    double x[3], y[3], z[3], u[3], v[3], w[3];
    cells(r, 1, x, y, z);
    cells(l, 1, u, v, w);
    CHECK(memcmp(z, w, sizeof z) == 0 && memcmp(x, u, sizeof x) == 0);
    for (int i = 0; i < 16; i++) {
        float e[2] = {cosf((float)i * 0.4f), sinf((float)i * 0.4f)};
        for (float al = 0.0f; al <= 1.0f; al += 0.125f)
            CHECK_EQ_INT(av_route(r, e, 2, al), av_route(l, e, 2, al));
    }
    /* a converted copy and a model added later: the price goes with the copy, none for the new */
    av_router *c = NULL;
    CHECK(av_router_convert(&c, l, AV_CENTROIDS_F16) == AV_OK);
    CHECK(av_router_get_price(c, 1, &b) == AV_OK && memcmp(&a, &b, sizeof a) == 0);
    CHECK(av_router_add_model(c, "third", 0.5, 0.2, 1.0) == 2);
    CHECK(av_router_get_price(c, 2, &b) == AV_OK && b.unit == AV_PRICE_NONE);
    CHECK_NEAR(b.cost_per_query, 0.2, 1e-15);
    /* what a 1.0 or 1.1 reader sees: the file without the prices section (it skips the unknown
       id) decides alike, since the statistics already carry the rescaled costs */
    sr_file sf;
    REQUIRE(sr_split(&sf, d, n) == 0);
    size_t keep = 0;
    for (size_t i = 0; i < sf.nsec; i++) {
        if (sf.secs[i].id == 6) {
            free(sf.secs[i].stored);
            continue;
        }
        sf.secs[keep++] = sf.secs[i];
    }
    CHECK_EQ_INT(keep, sf.nsec - 1);
    sf.nsec = keep;
    size_t n2 = 0;
    unsigned char *d2 = sr_join(&sf, &n2);
    sr_file_free(&sf);
    av_router *o = NULL;
    REQUIRE(d2 && av_router_load_buffer(&o, d2, n2) == AV_OK);
    for (int i = 0; i < 16; i++) {
        float e[2] = {cosf((float)i * 0.4f), sinf((float)i * 0.4f)};
        CHECK_EQ_INT(av_route(o, e, 2, 0.3f), av_route(r, e, 2, 0.3f));
    }
    CHECK(av_router_get_price(o, 1, &b) == AV_OK && b.unit == AV_PRICE_NONE);
    free(d2);
    av_router_free(o);
    av_router_free(c);
    av_router_free(l);
    av_free(d);
    av_router_free(r);
}

/* A copy of the saved file whose prices section (one record, for model 1) is changed by edit;
   the loader's result. */
typedef void (*edit_fn)(unsigned char *sec, size_t *len);
static int load_edited(const void *d, size_t n, edit_fn edit)
{
    sr_file sf;
    if (sr_split(&sf, d, n) != 0)
        return 1;
    for (size_t i = 0; i < sf.nsec; i++)
        if (sf.secs[i].id == 6) {
            unsigned char *grown = realloc(sf.secs[i].stored, 4 + 3 * 48);
            if (!grown)
                abort();
            sf.secs[i].stored = grown;
            edit(grown, &sf.secs[i].stored_len);
            sf.secs[i].raw_len = sf.secs[i].stored_len;
        }
    size_t n2 = 0;
    unsigned char *d2 = sr_join(&sf, &n2);
    sr_file_free(&sf);
    av_router *l = NULL;
    int rc = av_router_load_buffer(&l, d2, n2);
    av_router_free(l);
    free(d2);
    return rc;
}

static void put_f64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    sr_put64(p, u);
}
static void e_none(unsigned char *s, size_t *n) { (void)s, (void)n; }
static void e_model_out_of_range(unsigned char *s, size_t *n) { (void)n, sr_put32(s + 4, 2); }
static void e_unit_none(unsigned char *s, size_t *n) { (void)n, sr_put32(s + 8, 0); }
static void e_unit_unknown(unsigned char *s, size_t *n) { (void)n, sr_put32(s + 8, 3); }
static void e_nan(unsigned char *s, size_t *n) { (void)n, put_f64(s + 12, NAN); }
static void e_inf(unsigned char *s, size_t *n) { (void)n, put_f64(s + 12, INFINITY); }
static void e_negative(unsigned char *s, size_t *n) { (void)n, put_f64(s + 12, -1.0); }
static void e_other_unit_set(unsigned char *s, size_t *n) { (void)n, put_f64(s + 28, 1.0); }
static void e_trailing(unsigned char *s, size_t *n) { s[*n] = 0, ++*n; }
static void e_short(unsigned char *s, size_t *n) { (void)s, --*n; }
static void e_count_too_big(unsigned char *s, size_t *n) { (void)n, sr_put32(s, 3); }
static void e_duplicate(unsigned char *s, size_t *n)
{
    memcpy(s + 4 + 48, s + 4, 48);
    sr_put32(s, 2);
    *n = 4 + 2 * 48;
}
static void e_second_model(unsigned char *s, size_t *n)
{
    memcpy(s + 4 + 48, s + 4, 48);
    sr_put32(s + 4 + 48, 0);
    sr_put32(s, 2);
    *n = 4 + 2 * 48;
}

TEST(test_hostile_prices_sections_are_refused)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    av_price p = per_query(0.5);
    REQUIRE(av_router_set_price(r, 1, &p, NULL) == AV_OK);
    void *d = NULL;
    size_t n = 0;
    REQUIRE(av_router_save_buffer(r, &d, &n) == AV_OK);
    CHECK_EQ_INT(load_edited(d, n, e_none), AV_OK);
    CHECK_EQ_INT(load_edited(d, n, e_second_model), AV_OK);
    const edit_fn bad[] = {e_model_out_of_range, e_unit_none, e_unit_unknown, e_nan, e_inf,
                           e_negative, e_other_unit_set, e_trailing, e_short, e_count_too_big,
                           e_duplicate};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = load_edited(d, n, bad[i]);
        if (rc != AV_EFORMAT)
            fprintf(stderr, "  edit %zu: %d (%s)\n", i, rc, av_last_error());
        CHECK_EQ_INT(rc, AV_EFORMAT);
    }
    av_free(d);
    av_router_free(r);
}

TEST(test_bad_prices_change_nothing)
{
    /* model 0's cells have mean costs 0.01 and 1 (global mean 0.505): a price of 3e38 would make
       the second cell's mean about 5.9e38, beyond the statistics limits */
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {10, 10, 10, 10}, ss[] = {1, 1, 1, 1}, sc[] = {0.1, 0, 10, 0};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, cnt, ss, sc, 1) == AV_OK);
    void *before = NULL, *after = NULL;
    size_t nb = 0, na = 0;
    REQUIRE(av_router_save_buffer(r, &before, &nb) == AV_OK);
    av_price p = per_query(3e38);
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_ELIMIT);
    p = per_query(-1.0);
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_EVALUE);
    p = per_query(NAN);
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_EVALUE);
    p = per_query(INFINITY);
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_EVALUE);
    p = per_query(1.0);
    p.unit = 7;
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_EINVAL);
    p.unit = AV_PRICE_PER_TOKEN;
    p.input_price = 1e300;
    p.input_tokens = 1e300; /* a product beyond the double range */
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_EVALUE);
    p = per_query(1.0);
    CHECK_EQ_INT(av_router_set_price(r, 2, &p, NULL), AV_EMODEL);
    CHECK_EQ_INT(av_router_set_price(r, -1, &p, NULL), AV_EMODEL);
    CHECK_EQ_INT(av_router_set_price(NULL, 0, &p, NULL), AV_EINVAL);
    CHECK_EQ_INT(av_router_set_price(r, 0, NULL, NULL), AV_EINVAL);
    p.struct_size = 4;
    CHECK_EQ_INT(av_router_set_price(r, 0, &p, NULL), AV_EINVAL);
    av_price g;
    av_price_init(&g);
    CHECK_EQ_INT(av_router_get_price(r, 5, &g), AV_EMODEL);
    REQUIRE(av_router_save_buffer(r, &after, &na) == AV_OK);
    CHECK(na == nb && memcmp(before, after, nb) == 0);
    /* a model whose costs are all 0 (old price 0): its cells become count x the new price */
    double f = 0;
    p = per_query(0.5);
    CHECK(av_router_set_price(r, 1, &p, &f) == AV_OK);
    CHECK(isnan(f));
    double c[2], s[2], q[2];
    cells(r, 1, c, s, q);
    CHECK_NEAR(q[0], 5.0, 0.0);
    CHECK_NEAR(q[1], 5.0, 0.0);
    /* and a price of 0 makes every cost 0 */
    p = per_query(0.0);
    CHECK(av_router_set_price(r, 0, &p, &f) == AV_OK);
    cells(r, 0, c, s, q);
    CHECK(q[0] == 0.0 && q[1] == 0.0);
    av_free(before);
    av_free(after);
    av_router_free(r);
}

/* av_profile_merge brings src's costs to dst's price (docs/API.md): expected sums computed from the
   tiny router's cells (model 1 "large": cost sums 10, 10, 0 in the three clusters, learned mean 1). */
TEST(test_merge_brings_costs_to_the_destination_price)
{
    const double q0[3] = {10, 10, 0};
    struct {
        double dst_price, src_price; /* < 0: none */
        double want_factor;          /* the merged sum is q0 * want_factor */
    } cases[] = {
        {0.25, -1.0, 0.25 + 0.25}, /* src unpriced (mean 1) -> src * 0.25 / 1 */
        {0.25, 0.25, 0.25 + 0.25}, /* the same price: factor 1 */
        {0.25, 2.0, 0.25 + 0.25},  /* src at 2 -> src * 0.25 / 2 */
        {-1.0, 2.0, 1.0 + 2.0},    /* dst unpriced: src's costs as they are */
        {-1.0, -1.0, 2.0},         /* neither: 1.2's plain addition */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        av_router *dst = tiny_router(1), *src = tiny_router(1);
        REQUIRE(dst && src);
        av_price p;
        if (cases[c].dst_price >= 0) {
            p = per_query(cases[c].dst_price);
            CHECK(av_router_set_price(dst, 1, &p, NULL) == AV_OK);
        }
        if (cases[c].src_price >= 0) {
            p = per_query(cases[c].src_price);
            CHECK(av_router_set_price(src, 1, &p, NULL) == AV_OK);
        }
        double sc0[3], ss0[3], qs0[3];
        cells(src, 0, sc0, ss0, qs0);
        CHECK(av_profile_merge(dst, src) == AV_OK);
        double cn[3], ss[3], q[3];
        cells(dst, 1, cn, ss, q);
        for (int j = 0; j < 3; j++) {
            CHECK_NEAR(q[j], q0[j] * cases[c].want_factor, 1e-12);
            CHECK_NEAR(cn[j], j < 2 ? 20.0 : 0.0, 0.0);
        }
        cells(dst, 0, cn, ss, q); /* model 0, unpriced on both sides: plain sums */
        for (int j = 0; j < 3; j++)
            CHECK_NEAR(q[j], 2 * qs0[j], 0.0);
        av_router_free(dst);
        av_router_free(src);
    }
    /* src without any cost for the model (learned mean 0): dst's price per outcome */
    const float C[] = {1, 0, 0, 1, -1, 0};
    const double cnt[] = {10, 10, 10, 10, 10, 0}, ssum[] = {2, 9, 8, 9, 5, 0};
    const double nocost[] = {1, 0, 1, 0, 1, 0};
    av_router *dst = tiny_router(1), *src = NULL;
    REQUIRE(dst);
    REQUIRE(av_router_from_parts(&src, 2, 3, 2, NAMES2, C, cnt, ssum, nocost, 1) == AV_OK);
    av_price p = per_query(0.5);
    CHECK(av_router_set_price(dst, 1, &p, NULL) == AV_OK);
    CHECK(av_profile_merge(dst, src) == AV_OK);
    double cn[3], ss[3], q[3];
    cells(dst, 1, cn, ss, q);
    CHECK_NEAR(q[0], 10 * 0.5 + 10 * 0.5, 1e-12);
    CHECK_NEAR(q[1], 10 * 0.5 + 10 * 0.5, 1e-12);
    CHECK_NEAR(q[2], 0.0, 0.0);
    av_router_free(dst);
    av_router_free(src);
}

TH_MAIN(T(test_rescale_matches_cost_sums_times_factor),
        T(test_every_member_of_an_ensemble_is_rescaled), T(test_a_cheaper_model_wins_below_alpha_1),
        T(test_price_persists_across_save_and_load), T(test_hostile_prices_sections_are_refused),
        T(test_bad_prices_change_nothing), T(test_merge_brings_costs_to_the_destination_price))
