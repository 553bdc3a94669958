/* Sizes at the library's limits on a platform whose size_t is 32 bits wide (i686, wasm32): the
   limits (AV_MAX_DIM, AV_MAX_CLUSTERS) admit k*dim float32 centroids of 16 GiB, a product that
   wraps to 0 in 32 bits. Every such size must be refused with AV_ELIMIT before anything is
   allocated or read, by the API and by the loader of a hostile file. A 64-bit build checks the
   same inputs with what it answers there (the file's centroid section is then simply too short). */
#include "avengers/avengers.h"
#include "fuzz/avfile.h"
#include "harness.h"

#include <stdint.h>

#define SMALL_DIM 4u
#define SMALL_K 2u
#define SEC_CENTROIDS 2u
#define SEC_STATS 3u
#define STAT_BYTES 24u /* count, sum of scores, sum of costs: three doubles per (cluster, model) */
#define HDR_DIM 16u
#define HDR_CLUSTERS 20u

static const int size_is_32_bits = SIZE_MAX == UINT32_MAX;

/* A valid one-model router of SMALL_K clusters of SMALL_DIM dimensions, as file bytes. */
static unsigned char *small_file(size_t *size)
{
    const char *names[] = {"m"};
    const float cen[SMALL_K * SMALL_DIM] = {1, 0, 0, 0, 0, 1, 0, 0};
    const double counts[SMALL_K] = {1, 1}, ss[SMALL_K] = {0.5, 0.25}, sc[SMALL_K] = {1e-6, 2e-6};
    av_router *r = NULL;
    void *buf = NULL;
    if (av_router_from_parts(&r, SMALL_DIM, SMALL_K, 1, names, cen, counts, ss, sc, 1) != AV_OK ||
        av_router_save_buffer(r, &buf, size) != AV_OK)
        buf = NULL;
    av_router_free(r);
    unsigned char *copy = buf ? malloc(*size) : NULL;
    if (copy)
        memcpy(copy, buf, *size);
    av_free(buf);
    return copy;
}

TEST(test_from_parts_at_the_limits)
{
    /* The arrays are far smaller than the sizes claimed: a library that read them would fault. */
    const char *names[] = {"m"};
    const float cen[SMALL_DIM] = {1, 0, 0, 0};
    const double one[1] = {1};
    av_router *r = NULL;
    if (size_is_32_bits) {
        CHECK_EQ_INT(av_router_from_parts(&r, AV_MAX_DIM, AV_MAX_CLUSTERS, 1, names, cen, one, one,
                                          one, 1),
                     AV_ELIMIT);
        CHECK(r == NULL);
        CHECK(strstr(av_last_error(), "address space") != NULL);
        /* 2^30 floats is 4 GiB: one byte past a 32-bit size_t */
        CHECK_EQ_INT(av_router_from_parts(&r, AV_MAX_DIM, AV_MAX_CLUSTERS / 4, 1, names, cen, one,
                                          one, one, 1),
                     AV_ELIMIT);
        CHECK(r == NULL);
    }
    /* past the limits: refused on every platform */
    CHECK_EQ_INT(av_router_from_parts(&r, AV_MAX_DIM + 1u, 1, 1, names, cen, one, one, one, 1),
                 AV_ELIMIT);
    CHECK_EQ_INT(av_router_from_parts(&r, 1, AV_MAX_CLUSTERS + 1u, 1, names, cen, one, one, one, 1),
                 AV_ELIMIT);
    CHECK(r == NULL);
}

/* A hostile file claiming AV_MAX_DIM x AV_MAX_CLUSTERS whose centroid section has the length that
   16 GiB + 8 wraps to in 32 bits (8 bytes: the type and flags words alone). */
TEST(test_hostile_file_whose_centroid_size_wraps)
{
    size_t n = 0;
    unsigned char *f = small_file(&n);
    REQUIRE(f != NULL);
    sr_file sf;
    REQUIRE(sr_split(&sf, f, n) == 0);
    free(f);
    sr_put32(sf.header + HDR_DIM, AV_MAX_DIM);
    sr_put32(sf.header + HDR_CLUSTERS, AV_MAX_CLUSTERS);
    int ci = sr_find(&sf, SEC_CENTROIDS), si = sr_find(&sf, SEC_STATS);
    REQUIRE(ci >= 0 && si >= 0);
    const unsigned char prefix[8] = {0}; /* float32, no flags */
    uint64_t wrapped = (uint64_t)(size_t)((uint64_t)AV_MAX_DIM * AV_MAX_CLUSTERS * 4u + 8u);
    REQUIRE(sr_set_section(&sf, (size_t)ci, 0, prefix, sizeof prefix, wrapped) == 0);
    size_t stats_len = (size_t)AV_MAX_CLUSTERS * STAT_BYTES; /* one model: the exact length */
    unsigned char *zeros = calloc(1, stats_len);
    REQUIRE(zeros != NULL);
    int set = sr_set_section(&sf, (size_t)si, 0, zeros, stats_len, stats_len);
    free(zeros);
    REQUIRE(set == 0);
    size_t size = 0;
    unsigned char *bad = sr_join(&sf, &size);
    sr_file_free(&sf);
    REQUIRE(bad != NULL);
    av_router *r = NULL;
    int rc = av_router_load_buffer(&r, bad, size);
    free(bad);
    CHECK(r == NULL);
    if (size_is_32_bits) {
        CHECK_EQ_INT(rc, AV_ELIMIT);
        CHECK(strstr(av_last_error(), "address space") != NULL);
    } else {
        CHECK_EQ_INT(rc, AV_EFORMAT); /* a raw section of 8 bytes claiming 16 GiB + 8 */
        CHECK(strstr(av_last_error(), "claims 17179869192 bytes from 8 stored") != NULL);
    }
}

/* The unmodified file still loads: the test's own writer is right. */
TEST(test_small_file_loads)
{
    size_t n = 0;
    unsigned char *f = small_file(&n);
    REQUIRE(f != NULL);
    sr_file sf;
    REQUIRE(sr_split(&sf, f, n) == 0);
    free(f);
    size_t size = 0;
    unsigned char *again = sr_join(&sf, &size);
    sr_file_free(&sf);
    REQUIRE(again != NULL);
    av_router *r = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&r, again, size), AV_OK);
    free(again);
    CHECK_EQ_INT(av_router_dim(r), SMALL_DIM);
    CHECK_EQ_INT(av_router_n_clusters(r), SMALL_K);
    av_router_free(r);
}

int main(int argc, char **argv)
{
    printf("size_t is %zu bits\n", sizeof(size_t) * 8);
    static const th_test tests[] = {T(test_from_parts_at_the_limits),
                                    T(test_hostile_file_whose_centroid_size_wraps),
                                    T(test_small_file_loads)};
    return th_run(tests, sizeof tests / sizeof tests[0], argc, argv);
}
