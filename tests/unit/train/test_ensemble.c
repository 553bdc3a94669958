/* Ensemble routers (av_fit_options.members): several independent clusterings whose top_p clusters
   are all summed. Expectations are computed here from the router's centroids and statistics in
   double precision, independently of the library's selection and scoring code. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "avengers/avengers.h"
#include "harness.h"
#include "testdata.h"
#include "fuzz/avfile.h"
#include "train_helpers.h"

#include <stdint.h>

enum { KB = 12, MEMBERS = 3, TOP_P = 2 };

static av_router *fit(av_builder *b, uint32_t k, uint32_t members, uint32_t top_p, uint64_t seed)
{
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = k;
    o.members = members;
    o.top_p = top_p;
    o.n_init = 2;
    o.seed = seed;
    av_router *r = NULL;
    return av_builder_fit(b, &o, &r) == AV_OK ? r : NULL;
}

/* The expected decision: per member, the top_p clusters by the double-precision cosine (ties to
   the lower index); per cluster the paper's min-max normalised means (the global mean where a
   model has no outcome); the sum over every selected cluster; the argmax with the tie rule (higher
   sum, then lower global mean cost, then lower index). Returns -1 when the query is ambiguous: two
   similarities at a member's top_p boundary, or the two best sums, closer than float rounding
   could separate. */
static int32_t expected_route(const av_router *r, const float *q, float alpha)
{
    size_t d = av_router_dim(r), k = av_router_n_clusters(r), m = av_router_n_models(r);
    size_t nb = av_router_members(r), kb = k / nb, p = av_router_top_p(r);
    double qn = 0.0;
    for (size_t t = 0; t < d; t++)
        qn += (double)q[t] * q[t];
    qn = sqrt(qn);
    double *sim = malloc(k * sizeof(double));
    float *c = malloc(d * sizeof(float));
    if (!sim || !c) {
        free(sim), free(c);
        return -2;
    }
    for (size_t j = 0; j < k; j++) {
        av_router_get_centroid(r, j, c, d);
        double s = 0.0, cn = 0.0;
        for (size_t t = 0; t < d; t++) {
            s += (double)c[t] * q[t];
            cn += (double)c[t] * c[t];
        }
        sim[j] = cn > 0.0 ? s / qn : -INFINITY; /* centroids are unit vectors or zero */
    }
    double gs[AV_MAX_MODELS] = {0}, gc[AV_MAX_MODELS] = {0}, gn[AV_MAX_MODELS] = {0};
    for (size_t j = 0; j < kb; j++) /* member 0 alone counts every outcome once */
        for (size_t i = 0; i < m; i++) {
            double cnt, ss, sc;
            av_router_cluster_stats(r, j, i, &cnt, &ss, &sc);
            gn[i] += cnt, gs[i] += ss, gc[i] += sc;
        }
    double acc[AV_MAX_MODELS] = {0};
    int ambiguous = 0;
    for (size_t b = 0; b < nb; b++) {
        uint8_t used[4096] = {0};
        for (size_t s = 0; s <= p && s < kb; s++) {
            size_t best = SIZE_MAX;
            for (size_t j = b * kb; j < (b + 1) * kb; j++)
                if (!used[j - b * kb] && (best == SIZE_MAX || sim[j] > sim[best]))
                    best = j;
            if (s == p) { /* the first cluster left out */
                for (size_t j = b * kb; j < (b + 1) * kb; j++)
                    if (used[j - b * kb] && fabs(sim[j] - sim[best]) < 1e-5)
                        ambiguous = 1;
                break;
            }
            used[best - b * kb] = 1;
            double mp[AV_MAX_MODELS], mq[AV_MAX_MODELS];
            double pmin = INFINITY, pmax = -INFINITY, qmin = INFINITY, qmax = -INFINITY;
            for (size_t i = 0; i < m; i++) {
                double cnt, ss, sc;
                av_router_cluster_stats(r, best, i, &cnt, &ss, &sc);
                mp[i] = cnt > 0.0 ? ss / cnt : gs[i] / gn[i];
                mq[i] = cnt > 0.0 ? sc / cnt : gc[i] / gn[i];
                pmin = fmin(pmin, mp[i]), pmax = fmax(pmax, mp[i]);
                qmin = fmin(qmin, mq[i]), qmax = fmax(qmax, mq[i]);
            }
            for (size_t i = 0; i < m; i++) {
                double pt = pmax > pmin ? (mp[i] - pmin) / (pmax - pmin) : 0.0;
                double qt = qmax > qmin ? (mq[i] - qmin) / (qmax - qmin) : 0.0;
                acc[i] += (double)alpha * pt + (1.0 - (double)alpha) * (1.0 - qt);
            }
        }
    }
    free(sim), free(c);
    int32_t best = 0;
    for (size_t i = 1; i < m; i++) {
        double ci = gc[i] / gn[i], cb = gc[best] / gn[best];
        if (acc[i] > acc[best] || (acc[i] == acc[best] && ci < cb))
            best = (int32_t)i;
    }
    for (size_t i = 0; i < m; i++)
        if ((int32_t)i != best && fabs(acc[i] - acc[best]) < 1e-9)
            ambiguous = 1;
    return ambiguous ? -1 : best;
}

TEST(test_ensemble_shape_and_member_zero)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(600);
    REQUIRE(b);
    av_router *e = fit(b, KB, MEMBERS, TOP_P, 7), *one = fit(b, KB, 1, TOP_P, 7);
    REQUIRE(e && one);
    CHECK_EQ_INT(av_router_members(e), MEMBERS);
    CHECK_EQ_INT(av_router_members(one), 1);
    CHECK_EQ_INT(av_router_members(NULL), 0);
    CHECK_EQ_INT(av_router_n_clusters(e), MEMBERS * KB);
    CHECK_EQ_INT(av_router_top_p(e), TOP_P);
    /* the member count is the centroid section's, not a metadata string */
    CHECK(av_router_meta(e, "members") == NULL && av_router_meta(one, "members") == NULL);
    /* member 0 is the single clustering with the same seed, bit for bit */
    float ce[512], co[512];
    int same = 1;
    for (size_t j = 0; j < KB; j++) {
        av_router_get_centroid(e, j, ce, g_fx.d);
        av_router_get_centroid(one, j, co, g_fx.d);
        same &= memcmp(ce, co, g_fx.d * sizeof(float)) == 0;
    }
    CHECK(same);
    /* the other members are different clusterings */
    av_router_get_centroid(e, KB, ce, g_fx.d);
    av_router_get_centroid(one, 0, co, g_fx.d);
    CHECK(memcmp(ce, co, g_fx.d * sizeof(float)) != 0);
    /* every member counts each outcome once: per model, each member's counts sum to the rows */
    for (size_t mb = 0; mb < MEMBERS; mb++)
        for (size_t i = 0; i < g_fx.m; i++) {
            double tot = 0.0, cnt, ss, sc;
            for (size_t j = mb * KB; j < (mb + 1) * KB; j++) {
                av_router_cluster_stats(e, j, i, &cnt, &ss, &sc);
                tot += cnt;
            }
            CHECK_NEAR(tot, 600.0, 0.0);
        }
    av_router_free(e), av_router_free(one);
    av_builder_free(b);
}

TEST(test_ensemble_routes_like_the_independent_rule)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(800);
    REQUIRE(b);
    av_router *e = fit(b, KB, MEMBERS, TOP_P, 11);
    REQUIRE(e);
    static const float alphas[] = {0.0f, 0.3f, 0.7f, 1.0f};
    int agree = 0, checked = 0, skipped = 0;
    for (size_t a = 0; a < 4; a++)
        for (size_t i = 800; i < g_fx.n; i++) {
            int32_t want = expected_route(e, TD_EMB(&g_fx, i), alphas[a]);
            if (want < 0) {
                skipped++;
                continue;
            }
            checked++;
            agree += av_route(e, TD_EMB(&g_fx, i), g_fx.d, alphas[a]) == want;
        }
    printf("     %d of %d decisions agree (%d ambiguous skipped)\n", agree, checked, skipped);
    CHECK(checked > 1400);
    CHECK_EQ_INT(agree, checked);
    av_router_free(e);
    av_builder_free(b);
}

TEST(test_ensemble_batch_and_route_ex_match_route)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(800);
    REQUIRE(b);
    av_router *e = fit(b, KB, MEMBERS, TOP_P, 5);
    REQUIRE(e);
    size_t n = g_fx.n - 800;
    int32_t *out = malloc(n * sizeof *out);
    REQUIRE(out);
    CHECK_EQ_INT(av_route_batch(e, TD_EMB(&g_fx, 800), n, g_fx.d, g_fx.d, 0.6f, out), AV_OK);
    int same_batch = 1, same_ex = 1, shape_ok = 1;
    for (size_t i = 0; i < n; i++) {
        const float *q = TD_EMB(&g_fx, 800 + i);
        int32_t want = av_route(e, q, g_fx.d, 0.6f);
        same_batch &= out[i] == want;
        av_route_options o;
        av_route_options_init(&o);
        o.alpha = 0.6f;
        av_route_result res;
        av_route_result_init(&res);
        uint32_t cl[AV_MAX_TOP_P];
        double w[AV_MAX_TOP_P];
        res.clusters = cl, res.cluster_weights = w, res.clusters_cap = AV_MAX_TOP_P;
        same_ex &= av_route_ex(e, q, g_fx.d, &o, &res) == want;
        /* top_p clusters of every member, each inside its member's range */
        shape_ok &= res.n_clusters == MEMBERS * TOP_P;
        for (size_t c = 0; c < res.n_clusters; c++)
            shape_ok &= cl[c] / KB == c / TOP_P && w[c] == 1.0;
    }
    CHECK(same_batch);
    CHECK(same_ex);
    CHECK(shape_ok);
    /* softmax weights: within each member relative to its nearest cluster, each member summing to
       1 / members */
    av_route_options o;
    av_route_options_init(&o);
    o.alpha = 0.6f;
    o.weighting = AV_WEIGHTING_SOFTMAX;
    o.temperature = 0.05f;
    av_route_result res;
    av_route_result_init(&res);
    uint32_t cl[AV_MAX_TOP_P];
    double w[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    res.clusters = cl, res.cluster_weights = w, res.cluster_sims = sims;
    res.clusters_cap = AV_MAX_TOP_P;
    CHECK(av_route_ex(e, TD_EMB(&g_fx, 900), g_fx.d, &o, &res) >= 0);
    for (size_t mb = 0; mb < MEMBERS; mb++) {
        double sum = 0.0, denom = 0.0;
        for (size_t c = mb * TOP_P; c < (mb + 1) * TOP_P; c++)
            denom += exp(((double)sims[c] - (double)sims[mb * TOP_P]) / 0.05);
        for (size_t c = mb * TOP_P; c < (mb + 1) * TOP_P; c++) {
            sum += w[c];
            CHECK_NEAR(w[c], exp(((double)sims[c] - (double)sims[mb * TOP_P]) / 0.05) / denom /
                                 MEMBERS, 1e-6);
        }
        CHECK_NEAR(sum, 1.0 / MEMBERS, 1e-12);
    }
    free(out);
    av_router_free(e);
    av_builder_free(b);
}

/* The offset of section `id` in a router file (table at 64, 40-byte entries: id, encoding,
   offset). */
static size_t section_offset(const unsigned char *f, uint32_t id)
{
    uint32_t nsec = (uint32_t)f[32] | (uint32_t)f[33] << 8;
    for (uint32_t s = 0; s < nsec; s++) {
        const unsigned char *e = f + 64 + 40 * s;
        if ((e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24) == id) {
            uint64_t off = 0;
            for (int t = 7; t >= 0; t--)
                off = off << 8 | e[8 + t];
            return (size_t)off;
        }
    }
    return 0;
}

static int load_patched(const unsigned char *f, size_t n, size_t at, uint32_t v)
{
    unsigned char *c = malloc(n);
    if (!c)
        return AV_ENOMEM;
    memcpy(c, f, n);
    for (int t = 0; t < 4; t++)
        c[at + t] = (unsigned char)(v >> (8 * t));
    sr_fix_crcs(c, n);
    av_router *r = NULL;
    int rc = av_router_load_buffer(&r, c, n);
    if (rc == AV_OK && !r)
        rc = AV_EINVAL;
    av_router_free(r);
    free(c);
    return rc;
}

TEST(test_ensemble_file_round_trip_and_hostile_members)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(500);
    REQUIRE(b);
    av_router *e = fit(b, KB, MEMBERS, TOP_P, 3), *one = fit(b, KB, 1, TOP_P, 3);
    REQUIRE(e && one);
    void *buf = NULL, *buf1 = NULL;
    size_t n = 0, n1 = 0;
    REQUIRE(av_router_save_buffer(e, &buf, &n) == AV_OK);
    REQUIRE(av_router_save_buffer(one, &buf1, &n1) == AV_OK);
    const unsigned char *f = buf, *f1 = buf1;
    CHECK_EQ_INT(f[10] | f[11] << 8, 2);   /* an ensemble is a 1.2 file */
    CHECK_EQ_INT(f1[10] | f1[11] << 8, 1); /* a single clustering stays 1.1 */
    av_router *l = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&l, buf, n), AV_OK);
    REQUIRE(l);
    CHECK_EQ_INT(av_router_members(l), MEMBERS);
    CHECK_EQ_INT(av_router_n_clusters(l), MEMBERS * KB);
    int same = 1;
    for (size_t i = 500; i < g_fx.n; i++)
        same &= av_route(l, TD_EMB(&g_fx, i), g_fx.d, 0.5f) ==
                av_route(e, TD_EMB(&g_fx, i), g_fx.d, 0.5f);
    CHECK(same);
    /* the centroid hash tells the ensemble from its own member 0 */
    CHECK(strcmp(av_router_centroid_hash(l), av_router_centroid_hash(one)) != 0);
    /* the member count and its zero word are checked like every other field */
    size_t cs = section_offset(f, 2);
    REQUIRE(cs > 0);
    CHECK_EQ_INT(load_patched(f, n, cs + 8, MEMBERS), AV_OK); /* the patch itself is sound */
    CHECK_EQ_INT(load_patched(f, n, cs + 8, 0), AV_EFORMAT);
    CHECK_EQ_INT(load_patched(f, n, cs + 8, 1), AV_EFORMAT);
    CHECK_EQ_INT(load_patched(f, n, cs + 8, 5), AV_EFORMAT);  /* does not divide 36 */
    CHECK_EQ_INT(load_patched(f, n, cs + 8, 36), AV_EFORMAT); /* above AV_MAX_MEMBERS */
    CHECK_EQ_INT(load_patched(f, n, cs + 8, 0xFFFFFFFFu), AV_EFORMAT);
    CHECK_EQ_INT(load_patched(f, n, cs + 12, 1), AV_EFORMAT);
    /* another divisor of 36 is well formed: 4 members of 9 clusters, 2 * 4 clusters per query */
    CHECK_EQ_INT(load_patched(f, n, cs + 8, 4), AV_OK);
    /* header top_p 32 with 3 members: 96 clusters used > AV_MAX_TOP_P */
    CHECK_EQ_INT(load_patched(f, n, 28, 32), AV_EFORMAT);
    /* a reader that does not know the flag refuses the section: the flag is required */
    CHECK_EQ_INT(load_patched(f, n, cs + 4, 2u | 8u), AV_EFORMAT);
    av_free(buf), av_free(buf1);
    av_router_free(l), av_router_free(e), av_router_free(one);
    av_builder_free(b);
}

TEST(test_ensemble_update_adds_to_every_member)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(400);
    REQUIRE(b);
    av_router *e = fit(b, KB, MEMBERS, TOP_P, 9);
    REQUIRE(e);
    const float *q = TD_EMB(&g_fx, 1000);
    /* the nearest cluster of each member, from route_ex's explanation with top_p 1 */
    av_route_options o;
    av_route_options_init(&o);
    o.top_p = 1;
    av_route_result res;
    av_route_result_init(&res);
    uint32_t cl[AV_MAX_TOP_P];
    res.clusters = cl, res.clusters_cap = AV_MAX_TOP_P;
    REQUIRE(av_route_ex(e, q, g_fx.d, &o, &res) >= 0);
    REQUIRE(res.n_clusters == MEMBERS);
    double before[MEMBERS * KB], after[MEMBERS * KB], ss, sc;
    for (size_t j = 0; j < MEMBERS * KB; j++)
        av_router_cluster_stats(e, j, 2, &before[j], &ss, &sc);
    CHECK_EQ_INT(av_profile_update(e, q, g_fx.d, 2, 1.0f, 0.5f), AV_OK);
    for (size_t j = 0; j < MEMBERS * KB; j++) {
        av_router_cluster_stats(e, j, 2, &after[j], &ss, &sc);
        int nearest = j == cl[0] || j == cl[1] || j == cl[2];
        CHECK_NEAR(after[j] - before[j], nearest ? 1.0 : 0.0, 0.0);
    }
    /* spread over top_p 2 in every member: each member receives the whole weight 1 */
    av_update_options u;
    av_update_options_init(&u);
    u.top_p = 2;
    for (size_t j = 0; j < MEMBERS * KB; j++)
        av_router_cluster_stats(e, j, 2, &before[j], &ss, &sc);
    CHECK_EQ_INT(av_profile_update_ex(e, q, g_fx.d, 2, 1.0f, 0.5f, &u), AV_OK);
    for (size_t mb = 0; mb < MEMBERS; mb++) {
        double gained = 0.0;
        int touched = 0;
        for (size_t j = mb * KB; j < (mb + 1) * KB; j++) {
            av_router_cluster_stats(e, j, 2, &after[j], &ss, &sc);
            gained += after[j] - before[j];
            touched += after[j] != before[j];
        }
        CHECK_NEAR(gained, 1.0, 1e-12);
        CHECK_EQ_INT(touched, 2);
    }
    av_router_free(e);
    av_builder_free(b);
}

TEST(test_ensemble_options_and_errors)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(300);
    REQUIRE(b);
    av_fit_options o;
    av_fit_options_init(&o);
    CHECK_EQ_INT(o.members, 1);
    o.n_clusters = 10;
    o.n_init = 1;
    av_router *r = NULL;
    o.members = AV_MAX_MEMBERS + 1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    CHECK(r == NULL);
    o.members = 16, o.top_p = 5; /* 80 clusters used > AV_MAX_TOP_P */
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    o.members = 0, o.top_p = 4; /* zero means the paper's single clustering */
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK_EQ_INT(av_router_members(r), 1);
    av_router_free(r);
    r = NULL;
    /* a caller compiled before the field existed passes the 0.1 size: one clustering */
    o.members = 4;
    o.struct_size = (uint32_t)offsetof(av_fit_options, members);
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    CHECK_EQ_INT(av_router_members(r), 1);
    av_router_free(r);
    r = NULL;
    av_fit_options_init(&o);
    o.n_clusters = 10, o.n_init = 1, o.members = 4, o.top_p = 2;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    /* top_p: at most the clusters of a member and AV_MAX_TOP_P / members */
    CHECK_EQ_INT(av_router_set_top_p(r, 10), AV_OK);
    CHECK_EQ_INT(av_router_set_top_p(r, 11), AV_EINVAL);
    CHECK_EQ_INT(av_router_set_top_p(r, 2), AV_OK);
    av_route_options ro;
    av_route_options_init(&ro);
    ro.top_p = 17;
    CHECK_EQ_INT(av_route_ex(r, TD_EMB(&g_fx, 0), g_fx.d, &ro, NULL), AV_EINVAL);
    /* merging needs the same ensemble: a single clustering with other centroids is refused */
    av_router *s = NULL;
    o.members = 1;
    REQUIRE(av_builder_fit(b, &o, &s) == AV_OK);
    CHECK_EQ_INT(av_profile_merge(r, s), AV_EMISMATCH);
    CHECK_EQ_INT(av_profile_merge(s, r), AV_EMISMATCH);
    av_router_free(s);
    av_router_free(r);
    av_builder_free(b);
}

TEST(test_ensemble_merge_of_shards_equals_one_router)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(500);
    REQUIRE(b);
    av_router *whole = fit(b, KB, MEMBERS, TOP_P, 21);
    REQUIRE(whole);
    /* two copies of the same ensemble learn disjoint feedback; their merge equals one router that
       learned all of it */
    void *buf = NULL;
    size_t n = 0;
    REQUIRE(av_router_save_buffer(whole, &buf, &n) == AV_OK);
    av_router *a = NULL, *c = NULL;
    REQUIRE(av_router_load_buffer(&a, buf, n) == AV_OK && av_router_load_buffer(&c, buf, n) == AV_OK);
    for (size_t i = 500; i < 700; i++) {
        int32_t mdl = (int32_t)(i % g_fx.m);
        float s = TD_SCORES(&g_fx, i)[mdl], co = TD_COSTS(&g_fx, i)[mdl];
        av_profile_update(whole, TD_EMB(&g_fx, i), g_fx.d, mdl, s, co);
        av_profile_update(i % 2 ? a : c, TD_EMB(&g_fx, i), g_fx.d, mdl, s, co);
    }
    /* c started from the trained statistics too: subtract them by merging a into c and comparing
       c + a - trained with whole */
    CHECK_EQ_INT(av_profile_merge(c, a), AV_OK);
    av_router *base = NULL;
    REQUIRE(av_router_load_buffer(&base, buf, n) == AV_OK);
    int exact = 1;
    for (size_t j = 0; j < MEMBERS * KB; j++)
        for (size_t i = 0; i < g_fx.m; i++) {
            double c1, s1, q1, c2, s2, q2, c0, s0, q0;
            av_router_cluster_stats(c, j, i, &c1, &s1, &q1);
            av_router_cluster_stats(whole, j, i, &c2, &s2, &q2);
            av_router_cluster_stats(base, j, i, &c0, &s0, &q0);
            exact &= c1 - c0 == c2 && fabs((s1 - s0) - s2) < 1e-9 && fabs((q1 - q0) - q2) < 1e-9;
        }
    CHECK(exact);
    av_free(buf);
    av_router_free(base), av_router_free(a), av_router_free(c), av_router_free(whole);
    av_builder_free(b);
}

TEST(test_ensemble_tuning_candidates)
{
    REQUIRE(fixture());
    av_builder *b = copied_builder(600);
    REQUIRE(b);
    static const uint32_t ks[] = {8}, ps[] = {2}, ms[] = {1, 3};
    av_tune_options t;
    av_tune_options_init(&t);
    t.n_clusters = ks, t.n_n_clusters = 1;
    t.top_p = ps, t.n_top_p = 1;
    t.members = ms, t.n_members = 2;
    t.n_folds = 3, t.n_init = 1;
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.tune = &t;
    av_router *r1 = NULL, *r2 = NULL;
    REQUIRE(av_builder_fit(b, &o, &r1) == AV_OK);
    REQUIRE(av_builder_fit(b, &o, &r2) == AV_OK);
    const char *tm = av_router_meta(r1, "tuned_members");
    REQUIRE(tm);
    CHECK(strcmp(tm, "1") == 0 || strcmp(tm, "3") == 0);
    CHECK_EQ_INT(av_router_members(r1), (size_t)atoi(tm));
    CHECK_EQ_INT(av_router_n_clusters(r1), 8 * (size_t)atoi(tm));
    CHECK(strcmp(av_router_meta(r1, "tuned_candidates"), "2") == 0);
    CHECK(strcmp(av_router_meta(r1, "tuned_cv_auc"), av_router_meta(r2, "tuned_cv_auc")) == 0);
    av_router_free(r1);
    /* bad candidates */
    static const uint32_t bad[] = {0};
    t.members = bad, t.n_members = 1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r1), AV_EINVAL);
    CHECK(r1 == NULL);
    t.members = NULL, t.n_members = 2;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r1), AV_EINVAL);
    /* the default grid offers the paper's single clustering and an ensemble of four */
    av_tune_options g;
    av_tune_options_init(&g);
    av_tune_options_default_grid(&g);
    CHECK_EQ_INT(g.n_members, 2);
    CHECK(g.members[0] == 1 && g.members[1] == 4);
    av_router_free(r2);
    av_builder_free(b);
}

TH_MAIN(T(test_ensemble_shape_and_member_zero), T(test_ensemble_routes_like_the_independent_rule),
        T(test_ensemble_batch_and_route_ex_match_route),
        T(test_ensemble_file_round_trip_and_hostile_members),
        T(test_ensemble_update_adds_to_every_member), T(test_ensemble_options_and_errors),
        T(test_ensemble_merge_of_shards_equals_one_router), T(test_ensemble_tuning_candidates))
