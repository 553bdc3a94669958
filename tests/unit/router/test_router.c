/* Core API: versions and errors, the routing rule on hand-computed routers, from_parts validation,
   builder and k-means, feedback updates, metadata. */
#include "avengers/avengers.h"
#include "harness.h"
#include "testdata.h"
#include "tiny.h"

#include <stdint.h>


TEST(test_version_and_errors)
{
    CHECK_EQ_INT(av_version_number(), AV_VERSION_NUMBER);
    CHECK(strcmp(av_version_string(), AV_VERSION_STRING) == 0);
    CHECK(strcmp(av_strerror(AV_OK), "success") == 0);
    CHECK(strcmp(av_strerror(12345), "unknown error") == 0);
    /* every code has its own text */
    for (int a = -1; a >= AV_ERRNO_LAST_; a--) {
        CHECK(strcmp(av_strerror(a), "unknown error") != 0);
        for (int b = a - 1; b >= AV_ERRNO_LAST_; b--)
            CHECK(strcmp(av_strerror(a), av_strerror(b)) != 0);
    }
    CHECK(strcmp(av_strerror(AV_ERRNO_LAST_ - 1), "unknown error") == 0);
    /* the detail names the failure */
    CHECK_EQ_INT(av_route(NULL, NULL, 0, 0.5f), AV_EINVAL);
    CHECK(strstr(av_last_error(), "NULL") != NULL);
}

TEST(test_route_hand_computed)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    /* Cluster 0 alone: p~ = (0, 1), 1-q~ = (1, 0). alpha=1 -> large; alpha=0 -> small;
       alpha=0.5 -> tie 0.5/0.5 -> the cheaper model (small, global mean cost 0.1 vs 1.0). */
    const float q0[] = {3, 0.5f};
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 1);
    CHECK_EQ_INT(av_route(r, q0, 2, 0.0f), 0);
    CHECK_EQ_INT(av_route(r, q0, 2, 0.5f), 0);
    /* Cluster 1: p~ = (0, 1) again (0.8 vs 0.9); alpha 0.6: small 0.4, large 0.6 -> large. */
    const float q1[] = {0.1f, 2};
    CHECK_EQ_INT(av_route(r, q1, 2, 0.6f), 1);
    CHECK_EQ_INT(av_route(r, q1, 2, 0.4f), 0);
    /* Cluster 2: large has no outcome there and takes its global mean 18/20 = 0.9 > 0.5. */
    const float q2[] = {-1, 0.2f};
    CHECK_EQ_INT(av_route(r, q2, 2, 1.0f), 1);
    av_router_free(r);

    /* top_p = 2 from (1, 0.9): clusters 0 and 1. Sum for alpha=a: small 2(1-a), large 2a. */
    r = tiny_router(2);
    REQUIRE(r);
    const float q3[] = {1, 0.9f};
    CHECK_EQ_INT(av_route(r, q3, 2, 0.51f), 1);
    CHECK_EQ_INT(av_route(r, q3, 2, 0.49f), 0);
    CHECK_EQ_INT(av_router_top_p(r), 2);
    av_router_free(r);
}

TEST(test_route_scores_differ_within_cluster)
{
    /* Three models in one cluster with graded scores: p = (0.5, 0.7, 0.9), q = (1, 2, 4).
       p~ = (0, .5, 1), 1-q~ = (1, 2/3, 0). x(a) = a*p~ + (1-a)(1-q~):
       a=0.3: (.7, .15+.4667=.6167, .3) -> 0; a=0.7: (.3, .35+.2=.55, .7) -> 2; a=0.55: (.45, .275+.3=.575, .55) -> 1 */
    const char *names[] = {"a", "b", "c"};
    const float C[] = {1, 0, 0, 1};
    const double cnt[] = {10, 10, 10, 1, 1, 1};
    const double ss[] = {5, 7, 9, 1, 1, 1};
    const double sc[] = {10, 20, 40, 1, 1, 1};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 2, 3, names, C, cnt, ss, sc, 1) == AV_OK);
    const float q[] = {1, 0};
    CHECK_EQ_INT(av_route(r, q, 2, 0.3f), 0);
    CHECK_EQ_INT(av_route(r, q, 2, 0.7f), 2);
    CHECK_EQ_INT(av_route(r, q, 2, 0.55f), 1);
    /* Cluster 1 has all models equal: every x is the same constant, the tie goes to the model with
       the lowest global mean cost: a (11/11) < b (21/11) < c (41/11). */
    const float q1[] = {0, 1};
    CHECK_EQ_INT(av_route(r, q1, 2, 1.0f), 0);
    av_router_free(r);
}

TEST(test_tie_rules)
{
    /* Two identical centroids: the lower index wins the top-1 slot. Cluster 0 favours model 1,
       cluster 1 favours model 0 (at alpha = 1). */
    const char *names[] = {"m0", "m1"};
    const float C[] = {1, 0, 1, 0};
    const double cnt[] = {1, 1, 1, 1};
    const double ss[] = {0, 1, 1, 0};
    const double sc[] = {1, 1, 1, 1};
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 2, 2, 2, names, C, cnt, ss, sc, 1) == AV_OK);
    const float q[] = {1, 0};
    CHECK_EQ_INT(av_route(r, q, 2, 1.0f), 1);
    av_router_free(r);
    /* Equal sums and equal global costs: the lower index. */
    const double ss2[] = {1, 1, 1, 1};
    REQUIRE(av_router_from_parts(&r, 2, 2, 2, names, C, cnt, ss2, sc, 2) == AV_OK);
    CHECK_EQ_INT(av_route(r, q, 2, 0.5f), 0);
    av_router_free(r);
    /* Equal sums, model 1 cheaper overall (cluster costs equal inside each cluster would tie, so
       make the clusters' costs differ in opposite directions: sums of 1-q~ are equal). */
    const double sc3[] = {1, 2, 3, 1};
    const double cnt3[] = {1, 1, 1, 1};
    const double ss3[] = {1, 1, 1, 1};
    REQUIRE(av_router_from_parts(&r, 2, 2, 2, names, C, cnt3, ss3, sc3, 2) == AV_OK);
    /* x at alpha 0: cluster0 (1, 0), cluster1 (0, 1): sums (1, 1). Global mean costs: m0 2, m1 1.5. */
    CHECK_EQ_INT(av_route(r, q, 2, 0.0f), 1);
    av_router_free(r);
}

TEST(test_route_errors)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    const float ok[] = {1, 0}, zero[] = {0, 0}, nan_[] = {NAN, 1}, inf_[] = {INFINITY, 1};
    CHECK_EQ_INT(av_route(r, ok, 3, 0.5f), AV_EDIM);
    CHECK_EQ_INT(av_route(r, zero, 2, 0.5f), AV_EVECTOR);
    CHECK_EQ_INT(av_route(r, nan_, 2, 0.5f), AV_EVECTOR);
    CHECK_EQ_INT(av_route(r, inf_, 2, 0.5f), AV_EVECTOR);
    CHECK_EQ_INT(av_route(r, ok, 2, -0.01f), AV_EALPHA);
    CHECK_EQ_INT(av_route(r, ok, 2, 1.01f), AV_EALPHA);
    CHECK_EQ_INT(av_route(r, ok, 2, NAN), AV_EALPHA);
    CHECK_EQ_INT(av_route(r, NULL, 2, 0.5f), AV_EINVAL);
    CHECK_EQ_INT(av_profile_update(r, ok, 2, 2, 1, 1), AV_EMODEL);
    CHECK_EQ_INT(av_profile_update(r, ok, 2, -1, 1, 1), AV_EMODEL);
    CHECK_EQ_INT(av_profile_update(r, ok, 2, 0, NAN, 1), AV_EVALUE);
    CHECK_EQ_INT(av_profile_update(r, ok, 2, 0, 1, INFINITY), AV_EVALUE);
    CHECK_EQ_INT(av_profile_update(r, ok, 2, 0, 1, -1), AV_EVALUE);
    CHECK_EQ_INT(av_profile_update(r, zero, 2, 0, 1, 1), AV_EVECTOR);
    CHECK_EQ_INT(av_profile_update(r, ok, 1, 0, 1, 1), AV_EDIM);
    float c[2];
    double n;
    CHECK_EQ_INT(av_router_get_centroid(r, 3, c, 2), AV_ERANGE);
    CHECK_EQ_INT(av_router_get_centroid(r, 0, c, 1), AV_EDIM);
    CHECK_EQ_INT(av_router_cluster_stats(r, 3, 0, &n, NULL, NULL), AV_ERANGE);
    CHECK_EQ_INT(av_router_cluster_stats(r, 0, 2, &n, NULL, NULL), AV_EMODEL);
    CHECK(av_router_model_name(r, 2) == NULL);
    CHECK_EQ_INT(av_router_model_index(r, "large"), 1);
    CHECK_EQ_INT(av_router_model_index(r, "nope"), AV_EMODEL);
    CHECK_EQ_INT(av_router_set_top_p(r, 0), AV_EINVAL);
    CHECK_EQ_INT(av_router_set_top_p(r, 4), AV_EINVAL);
    CHECK_EQ_INT(av_router_set_top_p(r, 3), AV_OK);
    av_router_free(r);
    av_router_free(NULL); /* no-op */
    av_builder_free(NULL);
    /* introspection of NULL */
    CHECK_EQ_INT(av_router_dim(NULL), 0);
    CHECK_EQ_INT(av_router_n_models(NULL), 0);
}

TEST(test_from_parts_validation)
{
    const float C[] = {1, 0, 0, 1};
    const float Cnan[] = {1, NAN, 0, 1};
    const double cnt[] = {1, 1, 1, 1}, ss[] = {1, 0, 0, 1}, sc[] = {1, 1, 1, 1};
    const double cnt_neg[] = {-1, 1, 1, 1}, cnt_m1[] = {1, 0, 1, 0}, ss_m1[] = {1, 0, 0, 0},
                 sc_m1[] = {1, 0, 1, 0}, ss_bad[] = {1, 5, 0, 1}, cnt_z[] = {1, 0, 1, 1};
    const char *dup[] = {"x", "x"}, *empty[] = {"x", ""}, *nul[] = {"x", NULL};
    av_router *r = (av_router *)1;
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, cnt, ss, sc, 1), AV_OK);
    av_router_free(r);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, dup, C, cnt, ss, sc, 1), AV_EINVAL);
    CHECK(r == NULL);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, empty, C, cnt, ss, sc, 1), AV_EINVAL);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, nul, C, cnt, ss, sc, 1), AV_EINVAL);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NULL, C, cnt, ss, sc, 1), AV_EINVAL);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, Cnan, cnt, ss, sc, 1), AV_EVALUE);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, cnt_neg, ss, sc, 1), AV_EVALUE);
    /* count 0 but a non-zero sum */
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, cnt_z, ss_bad, sc, 1), AV_EVALUE);
    /* model 1 without a single outcome */
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, cnt_m1, ss_m1, sc_m1, 1), AV_EEMPTY);
    CHECK(strstr(av_last_error(), "large") != NULL);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, cnt, ss, sc, 0), AV_EINVAL);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, C, cnt, ss, sc, 3), AV_EINVAL);
    CHECK_EQ_INT(av_router_from_parts(&r, 0, 2, 2, NAMES2, C, cnt, ss, sc, 1), AV_ELIMIT);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, AV_MAX_MODELS + 1, NAMES2, C, cnt, ss, sc, 1),
                 AV_ELIMIT);
    CHECK_EQ_INT(av_router_from_parts(NULL, 2, 2, 2, NAMES2, C, cnt, ss, sc, 1), AV_EINVAL);
    CHECK_EQ_INT(av_router_from_parts(&r, 2, 2, 2, NAMES2, NULL, cnt, ss, sc, 1), AV_EINVAL);
}

TEST(test_introspection)
{
    av_router *r = tiny_router(2);
    REQUIRE(r);
    CHECK_EQ_INT(av_router_dim(r), 2);
    CHECK_EQ_INT(av_router_n_clusters(r), 3);
    CHECK_EQ_INT(av_router_n_models(r), 2);
    CHECK(strcmp(av_router_model_name(r, 0), "small") == 0);
    float c[2];
    CHECK_EQ_INT(av_router_get_centroid(r, 2, c, 2), AV_OK);
    CHECK(c[0] == -1.0f && c[1] == 0.0f);
    double n, s, q;
    CHECK_EQ_INT(av_router_cluster_stats(r, 1, 0, &n, &s, &q), AV_OK);
    CHECK(n == 10 && s == 8 && q == 1);
    CHECK(av_router_simd_backend(r) != NULL);
    CHECK(strcmp(av_router_simd_backend(r), av_simd_backend()) == 0);
    av_router_free(r);
}

TEST(test_metadata)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    /* a router from parts has no metadata: its centroid hash is derived, not a string in the
       user's metadata */
    CHECK_EQ_INT(av_router_meta_count(r), 0);
    CHECK(av_router_meta(r, "centroid_hash") == NULL && strlen(av_router_centroid_hash(r)) == 16);
    CHECK(av_router_meta(r, "embedder_id") == NULL);
    CHECK_EQ_INT(av_router_set_meta(r, "embedder_id", "qwen3-embedding-8b"), AV_OK);
    CHECK_EQ_INT(av_router_set_meta(r, "note", "first"), AV_OK);
    CHECK_EQ_INT(av_router_set_meta(r, "note", "second"), AV_OK);
    CHECK_EQ_INT(av_router_meta_count(r), 2);
    CHECK(strcmp(av_router_meta(r, "note"), "second") == 0);
    const char *k, *v;
    CHECK_EQ_INT(av_router_meta_at(r, 0, &k, &v), AV_OK);
    CHECK(strcmp(k, "embedder_id") == 0 && strcmp(v, "qwen3-embedding-8b") == 0);
    CHECK_EQ_INT(av_router_meta_at(r, 2, &k, &v), AV_ERANGE);
    CHECK_EQ_INT(av_router_set_meta(r, "", "x"), AV_ELIMIT);
    CHECK_EQ_INT(av_router_set_meta(r, "k", NULL), AV_EINVAL);
    av_router_free(r);
}

TEST(test_profile_update)
{
    av_router *r = tiny_router(1);
    REQUIRE(r);
    const float q0[] = {1, 0.1f}; /* nearest: cluster 0 */
    /* Make "small" excellent in cluster 0: add 90 outcomes of score 1 -> p = 92/100 > 0.9. */
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 1);
    for (int i = 0; i < 90; i++)
        REQUIRE(av_profile_update(r, q0, 2, 0, 1.0f, 0.1f) == AV_OK);
    double n, s, q;
    CHECK_EQ_INT(av_router_cluster_stats(r, 0, 0, &n, &s, &q), AV_OK);
    CHECK_NEAR(n, 100, 0);
    CHECK_NEAR(s, 92, 1e-12);
    CHECK_NEAR(q, 1 + 90 * (double)0.1f, 1e-12);
    CHECK_EQ_INT(av_route(r, q0, 2, 1.0f), 0);
    /* other clusters untouched */
    CHECK_EQ_INT(av_router_cluster_stats(r, 1, 0, &n, &s, &q), AV_OK);
    CHECK(n == 10 && s == 8 && q == 1);
    /* An outcome for "large" elsewhere moves its global mean, which cluster 2 uses: add 200
       zero-score outcomes of large in cluster 1 -> global mean 18/220 < 0.5 = small in cluster 2. */
    const float q2[] = {-1, 0.1f}, q1[] = {0.1f, 1};
    CHECK_EQ_INT(av_route(r, q2, 2, 1.0f), 1);
    for (int i = 0; i < 200; i++)
        REQUIRE(av_profile_update(r, q1, 2, 1, 0.0f, 10.0f) == AV_OK);
    CHECK_EQ_INT(av_route(r, q2, 2, 1.0f), 0);
    CHECK_EQ_INT(av_router_cluster_stats(r, 2, 1, &n, &s, &q), AV_OK);
    CHECK(n == 0 && s == 0 && q == 0);
    av_router_free(r);
}

/* Well-separated Gaussian blobs: k-means must find them (every blob one cluster). */
TEST(test_kmeans_blobs)
{
    enum { D = 16, K = 5, PER = 60 };
    const char *names[] = {"a", "b"};
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, D, 2, names) == AV_OK);
    uint64_t x = 12345;
    float centers[K][D];
    for (int c = 0; c < K; c++)
        for (int t = 0; t < D; t++)
            centers[c][t] = (t == c) ? 1.0f : 0.0f; /* orthogonal unit directions */
    for (int c = 0; c < K; c++)
        for (int i = 0; i < PER; i++) {
            float e[D];
            for (int t = 0; t < D; t++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                float u = (float)((x >> 40) & 0xFFFF) / 65536.0f - 0.5f;
                e[t] = centers[c][t] + 0.05f * u;
            }
            /* model a is perfect on even blobs, b on odd ones */
            float sc[2] = {(float)(c % 2 == 0), (float)(c % 2 == 1)}, co[2] = {1, 1};
            REQUIRE(av_builder_add(b, e, D, sc, co) == AV_OK);
        }
    CHECK_EQ_INT(av_builder_n_rows(b), K * PER);
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = K;
    o.top_p = 1;
    o.n_init = 3;
    av_router *r = NULL;
    REQUIRE(av_builder_fit(b, &o, &r) == AV_OK);
    /* each true centre has one centroid within 0.05 and each cluster holds exactly PER rows */
    for (int c = 0; c < K; c++) {
        int found = 0;
        for (size_t j = 0; j < K; j++) {
            float cj[D];
            av_router_get_centroid(r, j, cj, D);
            double dist = 0;
            for (int t = 0; t < D; t++)
                dist += (cj[t] - centers[c][t]) * (cj[t] - centers[c][t]);
            if (sqrt(dist) < 0.05) {
                found++;
                double n;
                av_router_cluster_stats(r, j, 0, &n, NULL, NULL);
                CHECK_NEAR(n, PER, 0);
            }
        }
        CHECK_EQ_INT(found, 1);
        /* and routing a blob's centre picks the model that is right there */
        CHECK_EQ_INT(av_route(r, centers[c], D, 1.0f), c % 2);
    }
    CHECK(av_builder_inertia(b) > 0 && av_builder_inertia(b) < K * PER * 0.01);
    CHECK(av_router_meta(r, "seed") && strcmp(av_router_meta(r, "seed"), "42") == 0);
    av_router_free(r);
    av_builder_free(b);
}

TEST(test_builder_errors)
{
    const char *names[] = {"a", "b"};
    av_builder *b = NULL;
    CHECK_EQ_INT(av_builder_new(&b, 0, 2, names), AV_ELIMIT);
    CHECK_EQ_INT(av_builder_new(&b, 4, 0, names), AV_ELIMIT);
    const char *dup[] = {"a", "a"};
    CHECK_EQ_INT(av_builder_new(&b, 4, 2, dup), AV_EINVAL);
    REQUIRE(av_builder_new(&b, 4, 2, names) == AV_OK);
    const float e[] = {1, 2, 3, 4}, z[] = {0, 0, 0, 0}, nn[] = {1, NAN, 0, 0};
    const float s[] = {1, 0}, c[] = {1, 1}, sinf_[] = {INFINITY, 0}, cneg[] = {-1, 1};
    const float smiss[] = {NAN, 0};
    CHECK_EQ_INT(av_builder_add(b, e, 3, s, c), AV_EDIM);
    CHECK_EQ_INT(av_builder_add(b, z, 4, s, c), AV_EVECTOR);
    CHECK_EQ_INT(av_builder_add(b, nn, 4, s, c), AV_EVECTOR);
    CHECK_EQ_INT(av_builder_add(b, e, 4, sinf_, c), AV_EVALUE);
    CHECK_EQ_INT(av_builder_add(b, e, 4, s, cneg), AV_EVALUE);
    CHECK_EQ_INT(av_builder_n_rows(b), 0);
    CHECK_EQ_INT(av_builder_add(b, e, 4, smiss, c), AV_OK); /* NaN = missing outcome */
    av_fit_options o;
    av_fit_options_init(&o);
    av_router *r = (av_router *)1;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EEMPTY); /* 1 row, 60 clusters */
    CHECK(r == NULL);
    o.n_clusters = 1;
    o.top_p = 1;
    /* model a has no outcome at all */
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EEMPTY);
    CHECK_EQ_INT(av_builder_add(b, e, 4, s, c), AV_OK);
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_OK);
    av_router_free(r);
    o.top_p = 2;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    o.top_p = 1;
    o.struct_size = 8;
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_EINVAL);
    /* an old caller's smaller struct is read up to its size (here: without the appended fields) */
    av_fit_options_init(&o);
    o.n_clusters = 1;
    o.top_p = 1;
    o.struct_size = (uint32_t)(offsetof(av_fit_options, seed) + sizeof(uint64_t));
    o.centroid_type = 99; /* beyond struct_size: must be ignored */
    CHECK_EQ_INT(av_builder_fit(b, &o, &r), AV_OK);
    av_router_free(r);
    /* NULL options: defaults (60 clusters: too few rows) */
    CHECK_EQ_INT(av_builder_fit(b, NULL, &r), AV_EEMPTY);
    av_builder_free(b);
}

static av_router *fit_fixture(const td_fixture *fx, uint64_t seed, uint32_t k, uint32_t n_init)
{
    av_builder *b = NULL;
    if (av_builder_new(&b, fx->d, fx->m, (const char *const *)fx->names) != AV_OK)
        return NULL;
    for (size_t i = 0; i < fx->n; i++)
        if (((const uint8_t *)fx->split.data)[i])
            av_builder_add(b, TD_EMB(fx, i), fx->d, TD_SCORES(fx, i), TD_COSTS(fx, i));
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = k;
    o.n_init = n_init;
    o.seed = seed;
    av_router *r = NULL;
    av_builder_fit(b, &o, &r);
    av_builder_free(b);
    return r;
}

TEST(test_fit_deterministic)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *a = fit_fixture(&fx, 7, 20, 2), *b = fit_fixture(&fx, 7, 20, 2);
    av_router *c = fit_fixture(&fx, 8, 20, 2);
    REQUIRE(a && b && c);
    int same_ab = 1, same_ac = 1;
    float ca[384], cb[384], cc[384];
    for (size_t j = 0; j < 20; j++) {
        av_router_get_centroid(a, j, ca, fx.d);
        av_router_get_centroid(b, j, cb, fx.d);
        av_router_get_centroid(c, j, cc, fx.d);
        same_ab &= memcmp(ca, cb, sizeof ca) == 0;
        same_ac &= memcmp(ca, cc, sizeof ca) == 0;
        for (size_t i = 0; i < fx.m; i++) {
            double na, nb;
            av_router_cluster_stats(a, j, i, &na, NULL, NULL);
            av_router_cluster_stats(b, j, i, &nb, NULL, NULL);
            same_ab &= na == nb;
        }
    }
    CHECK(same_ab);
    CHECK(!same_ac); /* another seed gives another clustering */
    /* every training row is counted exactly once per model */
    for (size_t i = 0; i < fx.m; i++) {
        double tot = 0, n;
        for (size_t j = 0; j < 20; j++) {
            av_router_cluster_stats(a, j, i, &n, NULL, NULL);
            tot += n;
        }
        CHECK_NEAR(tot, 1123, 0);
    }
    av_router_free(a);
    av_router_free(b);
    av_router_free(c);
    td_free_fixture(&fx);
}

TEST(test_route_batch_matches_single)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_router *r = fit_fixture(&fx, 42, 30, 1);
    REQUIRE(r);
    int32_t *out = malloc(fx.n * sizeof(int32_t));
    REQUIRE(out);
    for (int a = 0; a <= 4; a++) {
        float alpha = (float)a / 4.0f;
        CHECK_EQ_INT(av_route_batch(r, fx.emb.data, fx.n, fx.d, fx.d, alpha, out), AV_OK);
        size_t same = 0;
        for (size_t i = 0; i < fx.n; i++)
            same += out[i] == av_route(r, TD_EMB(&fx, i), fx.d, alpha);
        CHECK_EQ_INT(same, fx.n);
    }
    /* a bad row is reported in place, the others still route */
    float rows[2 * 384];
    memcpy(rows, TD_EMB(&fx, 0), fx.d * sizeof(float));
    memset(rows + fx.d, 0, fx.d * sizeof(float));
    CHECK_EQ_INT(av_route_batch(r, rows, 2, fx.d, fx.d, 0.5f, out), AV_EVECTOR);
    CHECK(out[0] >= 0 && out[1] == AV_EVECTOR);
    CHECK_EQ_INT(av_route_batch(r, rows, 2, fx.d, fx.d - 1, 0.5f, out), AV_EINVAL);
    free(out);
    av_router_free(r);
    td_free_fixture(&fx);
}

TH_MAIN(T(test_version_and_errors), T(test_route_hand_computed),
        T(test_route_scores_differ_within_cluster), T(test_tie_rules), T(test_route_errors),
        T(test_from_parts_validation), T(test_introspection), T(test_metadata),
        T(test_profile_update), T(test_kmeans_blobs), T(test_builder_errors),
        T(test_fit_deterministic), T(test_route_batch_matches_single))
