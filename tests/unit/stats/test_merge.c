/* av_profile_merge: compatibility checks (centroid hash, dims, names, embedder) and exact,
   order-independent addition of statistics; the centroid hash recorded in the metadata. */
#include "avengers/avengers.h"
#include "harness.h"
#include "testdata.h"

#include <stdint.h>

static const float C3[] = {1, 0, 0, 1, -1, 0};
static const char *const NAMES2[] = {"small", "large"};

static av_router *make(const float *C, const char *const *names, const double *cnt,
                       const double *ss, const double *sc)
{
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 3, 2, names, C, cnt, ss, sc, 1) == AV_OK ? r : NULL;
}

TEST(test_merge_adds_statistics)
{
    const double c1[] = {10, 10, 10, 10, 10, 0}, s1[] = {2, 9, 8, 9, 5, 0},
                 q1[] = {1, 10, 1, 10, 1, 0};
    const double c2[] = {1, 2, 3, 4, 5, 6}, s2[] = {1, 1, 2, 2, 3, 3}, q2[] = {1, 1, 1, 1, 1, 1};
    av_router *a = make(C3, NAMES2, c1, s1, q1), *b = make(C3, NAMES2, c2, s2, q2);
    REQUIRE(a && b);
    CHECK(strcmp(av_router_centroid_hash(a), av_router_centroid_hash(b)) == 0);
    CHECK_EQ_INT(av_profile_merge(a, b), AV_OK);
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < 2; i++) {
            double n, s, q;
            REQUIRE(av_router_cluster_stats(a, j, i, &n, &s, &q) == AV_OK);
            CHECK(n == c1[j * 2 + i] + c2[j * 2 + i]);
            CHECK(s == s1[j * 2 + i] + s2[j * 2 + i]);
            CHECK(q == q1[j * 2 + i] + q2[j * 2 + i]);
        }
    /* routing follows the merged statistics: cluster 2 now has large's own outcomes:
       small (5+3)/(10+5) = 0.533, large 3/6 = 0.5 -> small at alpha 1 */
    const float q[] = {-1, 0.1f};
    CHECK_EQ_INT(av_route(a, q, 2, 1.0f), 0);
    av_router_free(a);
    av_router_free(b);
}

TEST(test_merge_model_order_by_name)
{
    const char *rev[] = {"large", "small"};
    const double c1[] = {1, 1, 1, 1, 1, 1}, s1[] = {0, 1, 0, 1, 0, 1}, q1[] = {1, 2, 1, 2, 1, 2};
    /* the same statistics with the columns swapped */
    const double c2[] = {1, 1, 1, 1, 1, 1}, s2[] = {1, 0, 1, 0, 1, 0}, q2[] = {2, 1, 2, 1, 2, 1};
    av_router *a = make(C3, NAMES2, c1, s1, q1), *b = make(C3, rev, c2, s2, q2);
    REQUIRE(a && b);
    CHECK_EQ_INT(av_profile_merge(a, b), AV_OK);
    double n, s, q;
    av_router_cluster_stats(a, 0, 1, &n, &s, &q);
    CHECK(n == 2 && s == 2 && q == 4);
    av_router_cluster_stats(a, 0, 0, &n, &s, &q);
    CHECK(n == 2 && s == 0 && q == 2);
    av_router_free(a);
    av_router_free(b);
}

TEST(test_merge_refuses)
{
    const double c[] = {1, 1, 1, 1, 1, 1}, s[] = {0, 1, 0, 1, 0, 1}, q[] = {1, 2, 1, 2, 1, 2};
    const float Cother[] = {1, 0, 0, 1, -1, 0.001f};
    const char *other[] = {"small", "huge"};
    av_router *a = make(C3, NAMES2, c, s, q), *b = make(Cother, NAMES2, c, s, q),
              *d = make(C3, other, c, s, q), *e = make(C3, NAMES2, c, s, q);
    REQUIRE(a && b && d && e);
    CHECK(strcmp(av_router_centroid_hash(a), av_router_centroid_hash(b)) != 0);
    CHECK_EQ_INT(av_profile_merge(a, b), AV_EMISMATCH);
    CHECK(strstr(av_last_error(), "centroids") != NULL);
    CHECK_EQ_INT(av_profile_merge(a, d), AV_EMISMATCH);
    CHECK(strstr(av_last_error(), "huge") != NULL);
    CHECK_EQ_INT(av_profile_merge(a, a), AV_EINVAL);
    CHECK_EQ_INT(av_profile_merge(NULL, a), AV_EINVAL);
    REQUIRE(av_router_set_meta(a, "embedder_id", "x") == AV_OK);
    REQUIRE(av_router_set_meta(e, "embedder_id", "y") == AV_OK);
    CHECK_EQ_INT(av_profile_merge(a, e), AV_EMISMATCH);
    REQUIRE(av_router_set_meta(e, "embedder_id", "x") == AV_OK);
    CHECK_EQ_INT(av_profile_merge(a, e), AV_OK);
    /* nothing changed by the refused merges: counts 1 + 1 */
    double n;
    av_router_cluster_stats(a, 0, 0, &n, NULL, NULL);
    CHECK(n == 2);
    /* a different dimension */
    av_router *f = NULL;
    const float C1d[] = {1, 0, 0};
    const double c1[] = {1, 1}, s1[] = {0, 1}, q1[] = {1, 1};
    REQUIRE(av_router_from_parts(&f, 3, 1, 2, NAMES2, C1d, c1, s1, q1, 1) == AV_OK);
    CHECK_EQ_INT(av_profile_merge(a, f), AV_EMISMATCH);
    av_router_free(f);
    av_router_free(a);
    av_router_free(b);
    av_router_free(d);
    av_router_free(e);
}

TEST(test_hash_survives_save_load)
{
    const double c[] = {1, 1, 1, 1, 1, 1}, s[] = {0, 1, 0, 1, 0, 1}, q[] = {1, 2, 1, 2, 1, 2};
    av_router *a = make(C3, NAMES2, c, s, q);
    REQUIRE(a);
    const char *h = av_router_centroid_hash(a);
    REQUIRE(h && strlen(h) == 16);
    void *buf;
    size_t n;
    REQUIRE(av_router_save_buffer(a, &buf, &n) == AV_OK);
    av_router *l = NULL;
    REQUIRE(av_router_load_buffer(&l, buf, n) == AV_OK);
    av_free(buf);
    CHECK(strcmp(av_router_centroid_hash(l), h) == 0);
    CHECK_EQ_INT(av_profile_merge(l, a), AV_OK);
    av_router_free(l);
    av_router_free(a);
}

/* Shards of feedback applied to separate copies and merged equal the same feedback applied to
   one router, exactly, in any merge order (float32 outcomes sum exactly in doubles here). */
TEST(test_sharded_feedback_equals_single)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    av_builder *b = NULL;
    REQUIRE(av_builder_new(&b, fx.d, fx.m, (const char *const *)fx.names) == AV_OK);
    for (size_t i = 0; i < fx.n; i++)
        if (((const uint8_t *)fx.split.data)[i])
            av_builder_add(b, TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = 12;
    o.n_init = 1;
    av_router *base = NULL;
    REQUIRE(av_builder_fit(b, &o, &base) == AV_OK);
    av_builder_free(b);
    void *buf;
    size_t n;
    REQUIRE(av_router_save_buffer(base, &buf, &n) == AV_OK);
    enum { SHARDS = 3 };
    av_router *single = NULL, *shard[SHARDS], *merged = NULL;
    REQUIRE(av_router_load_buffer(&single, buf, n) == AV_OK);
    REQUIRE(av_router_load_buffer(&merged, buf, n) == AV_OK);
    for (int s = 0; s < SHARDS; s++)
        REQUIRE(av_router_load_buffer(&shard[s], buf, n) == AV_OK);
    av_free(buf);
    /* feedback: the held-out rows, every model; shards take rows round-robin */
    size_t t = 0;
    for (size_t i = 0; i < fx.n; i++) {
        if (((const uint8_t *)fx.split.data)[i])
            continue;
        for (size_t mi = 0; mi < fx.m; mi++) {
            float sc = TD_SCORES(&fx, i)[mi], co = TD_COSTS(&fx, i)[mi];
            REQUIRE(av_profile_update(single, TD_EMB(&fx, i), fx.d, (int32_t)mi, sc, co) == 0);
            REQUIRE(av_profile_update(shard[t % SHARDS], TD_EMB(&fx, i), fx.d, (int32_t)mi, sc,
                                      co) == 0);
        }
        t++;
    }
    /* Each shard holds base + its feedback, so shard0 + shard1 + shard2 = 3 base + all feedback
       = single + base + base ("merged" is still a copy of base). */
    CHECK_EQ_INT(av_profile_merge(shard[2], shard[1]), AV_OK);
    CHECK_EQ_INT(av_profile_merge(shard[2], shard[0]), AV_OK);
    CHECK_EQ_INT(av_profile_merge(single, base), AV_OK);
    CHECK_EQ_INT(av_profile_merge(single, merged), AV_OK); /* merged still equals base */
    size_t equal = 0, total = 0;
    for (size_t j = 0; j < 12; j++)
        for (size_t mi = 0; mi < fx.m; mi++, total++) {
            double n1, s1, q1, n2, s2, q2;
            av_router_cluster_stats(single, j, mi, &n1, &s1, &q1);
            av_router_cluster_stats(shard[2], j, mi, &n2, &s2, &q2);
            equal += n1 == n2 && s1 == s2 && q1 == q2;
        }
    CHECK_EQ_INT(equal, total);
    for (int s = 0; s < SHARDS; s++)
        av_router_free(shard[s]);
    av_router_free(single);
    av_router_free(merged);
    av_router_free(base);
    td_free_fixture(&fx);
}

TH_MAIN(T(test_merge_adds_statistics), T(test_merge_model_order_by_name), T(test_merge_refuses),
        T(test_hash_survives_save_load), T(test_sharded_feedback_equals_single))
