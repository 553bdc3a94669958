/* av_router_load_mapped (experimental): the same router as av_router_load, with the centroid
   values used in place in a read-only mapping of the file; the same validation (every corrupted
   copy of a file gets the code av_router_load_buffer gives the same bytes); values that cannot
   be used in place (an int8 -128) are copied; a save that replaces the file (rename) leaves a
   mapped router its old pages. */
#include "internal.h"
#include "fuzz/small_router.h"
#include "harness.h"
#include "saved_bytes.h"

#include <stdio.h>
#include <unistd.h>

static char g_path[] = "/tmp/av_test_mapped_XXXXXX";

static int write_file(const void *b, size_t n)
{
    FILE *f = fopen(g_path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Both routers decide alike on the centroids and perturbed copies of them, at three alphas. */
static int same_decisions(const av_router *a, const av_router *b)
{
    size_t d = av_router_dim(a), k = av_router_n_clusters(a);
    float *q = malloc(d * sizeof *q);
    int ok = q != NULL;
    for (size_t j = 0; j < k && ok; j++) {
        ok = av_router_get_centroid(a, j, q, d) == AV_OK;
        q[j % d] += 0.25f;
        for (float alpha = 0.0f; alpha <= 1.0f && ok; alpha += 0.5f)
            ok = av_route(a, q, d, alpha) == av_route(b, q, d, alpha);
    }
    free(q);
    return ok;
}

static const void *values(const av_router *r)
{
    return av__index_values(&r->ix);
}

TEST(test_mapped_equals_loaded)
{
    int fd = mkstemp(g_path);
    REQUIRE(fd >= 0);
    close(fd);
    for (uint32_t ty = 0; ty < 3; ty++)
        for (uint32_t members = 1; members <= 2; members++) {
            av_router *t = sr_train_members(8, 2, 5, 1, ty, members);
            REQUIRE(t);
            REQUIRE(av_router_save(t, g_path) == AV_OK);
            av_router *l = NULL, *m = NULL;
            REQUIRE(av_router_load(&l, g_path) == AV_OK);
            CHECK_EQ_INT(av_router_load_mapped(&m, g_path), AV_OK);
            REQUIRE(m);
            /* used in place: the values lie inside the mapping, which the router owns (int8
               bytes on every machine, floats where the machine's order is the file's) */
            CHECK(!l->ix.borrowed && l->ix.map == NULL);
            if (av__host_le() || ty == AV_CENTROIDS_INT8) {
                CHECK(m->ix.borrowed && m->ix.map != NULL);
                const unsigned char *v = values(m), *base = m->ix.map;
                CHECK(v > base && v < base + m->ix.map_len);
            } else { /* copied, and the mapping released */
                CHECK(!m->ix.borrowed && m->ix.map == NULL);
            }
            CHECK(strcmp(av_router_centroid_hash(m), av_router_centroid_hash(l)) == 0);
            CHECK(same_decisions(l, m));
            CHECK(same_bytes(l, m));
            /* a mapped router converts, merges and learns like any other */
            av_router *c = NULL;
            CHECK(av_router_convert(&c, m, AV_CENTROIDS_F32) == AV_OK);
            av_router_free(c);
            CHECK(av_profile_merge(m, l) == AV_OK);
            av_router_free(l);
            av_router_free(m);
            av_router_free(t);
        }
}

/* Every byte of a file flipped in turn (one bit each), and every truncation, on disk: the mapped
   load gives the code the in-memory load gives the same bytes, and a router only when it does. */
TEST(test_mapped_same_validation)
{
    av_router *t = sr_train(8, 2, 11, 1);
    REQUIRE(t);
    void *b;
    size_t n;
    REQUIRE(av_router_save_buffer(t, &b, &n) == AV_OK);
    unsigned char *c = malloc(n);
    REQUIRE(c);
    size_t differ = 0, tried = 0, rejected = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        size_t len = n;
        memcpy(c, b, n);
        if (i < n)
            c[i] ^= (unsigned char)(1u << (i % 8));
        else
            len = i - n; /* truncated to 0 .. n-1 bytes */
        if (i % 2 && i >= 256 && i < n) /* every other byte past the header and table */
            continue;
        REQUIRE(write_file(c, len));
        av_router *x = NULL, *y = NULL;
        int rb = av_router_load_buffer(&x, c, len), rm = av_router_load_mapped(&y, g_path);
        tried++;
        rejected += rm != AV_OK;
        differ += rb != rm || (rm == AV_OK) != (y != NULL);
        av_router_free(x);
        av_router_free(y);
    }
    CHECK_EQ_INT(differ, 0);
    CHECK(rejected == tried); /* every flip and truncation is caught by a CRC or a size check */
    printf("     %zu corrupted files: the same code as from memory for each, all rejected\n", tried);
    /* what is not a router file */
    av_router *x = NULL;
    CHECK_EQ_INT(av_router_load_mapped(&x, "/nonexistent/router.avr"), AV_EIO);
    CHECK_EQ_INT(av_router_load_mapped(&x, "."), AV_EIO);
    CHECK_EQ_INT(av_router_load_mapped(&x, "/dev/null"), AV_EIO);
    REQUIRE(write_file("", 0));
    CHECK_EQ_INT(av_router_load_mapped(&x, g_path), AV_EFORMAT);
    CHECK(strstr(av_last_error(), g_path) != NULL && x == NULL);
    CHECK_EQ_INT(av_router_load_mapped(NULL, g_path), AV_EINVAL);
    CHECK_EQ_INT(av_router_load_mapped(&x, NULL), AV_EINVAL);
    free(c);
    av_free(b);
    av_router_free(t);
}

/* An int8 file holding -128 (never written by the library; read as -127): copied, not mapped. */
TEST(test_mapped_int8_minus_128_copied)
{
    av_router *t = sr_train_as(8, 2, 5, 1, AV_CENTROIDS_INT8);
    REQUIRE(t);
    void *b;
    size_t n;
    REQUIRE(av_router_save_buffer(t, &b, &n) == AV_OK);
    unsigned char *f = b;
    int cen = -1;
    for (uint32_t i = 0; i < sr_get32(f + 32); i++)
        if (sr_get32(f + SR_HEADER + i * SR_ENTRY) == 2)
            cen = (int)i;
    REQUIRE(cen >= 0);
    const unsigned char *e = f + SR_HEADER + (size_t)cen * SR_ENTRY;
    size_t off = (size_t)sr_get64(e + 8), sl = (size_t)sr_get64(e + 16);
    f[off + sl - 1] = 0x80; /* the last value of the last centroid */
    sr_fix_crcs(f, n);
    REQUIRE(write_file(f, n));
    av_router *l = NULL, *m = NULL;
    REQUIRE(av_router_load_buffer(&l, f, n) == AV_OK);
    REQUIRE(av_router_load_mapped(&m, g_path) == AV_OK);
    CHECK(!m->ix.borrowed && m->ix.map == NULL);
    CHECK(m->ix.centroids_i8[m->ix.k * m->ix.dim - 1] == -127);
    CHECK(strcmp(av_router_centroid_hash(m), av_router_centroid_hash(l)) == 0);
    CHECK(same_decisions(l, m) && same_bytes(l, m));
    av_router_free(l);
    av_router_free(m);
    av_free(b);
    av_router_free(t);
}

/* The library's save replaces the file by rename: a router mapping the old file keeps its pages
   and decides as before; a new mapped load sees the new file. */
TEST(test_mapped_survives_replacement)
{
    av_router *a = sr_train(8, 2, 5, 1), *b = sr_train(8, 2, 6, 1);
    REQUIRE(a && b);
    REQUIRE(av_router_save(a, g_path) == AV_OK);
    av_router *m = NULL, *again = NULL;
    REQUIRE(av_router_load_mapped(&m, g_path) == AV_OK);
    char h[17];
    snprintf(h, sizeof h, "%s", av_router_centroid_hash(m));
    REQUIRE(av_router_save(b, g_path) == AV_OK);
    av__index_hash(&m->ix, m->ix.centroid_hash); /* recomputed from the mapped values */
    CHECK(strcmp(av_router_centroid_hash(m), h) == 0);
    CHECK(same_decisions(a, m) && same_bytes(a, m));
    REQUIRE(av_router_load_mapped(&again, g_path) == AV_OK);
    CHECK(strcmp(av_router_centroid_hash(again), av_router_centroid_hash(b)) == 0);
    av_router_free(again);
    av_router_free(m);
    av_router_free(a);
    av_router_free(b);
    unlink(g_path);
}

TH_MAIN(T(test_mapped_equals_loaded), T(test_mapped_same_validation),
        T(test_mapped_int8_minus_128_copied), T(test_mapped_survives_replacement))
