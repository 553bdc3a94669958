/* av_router_load reads a file's centroid values straight into the array the router keeps and every
   other byte into a second buffer (src/io/format.c, load_read), or, where the file's table does not
   allow that split, the whole file into one buffer. Either way it must give exactly what
   av_router_load_buffer gives the same bytes: the same code, the same message (with the file
   named), the same router. Checked here for every type and ensemble, truncations and bit flips
   of a file on disk, re-checksummed flips (which reach the value checks), and table layouts chosen
   to exercise each branch of the plan: a centroid section beyond the first bytes read, another
   section overlapping the values, two centroid entries, an empty value region. */
#include "internal.h"
#include "fuzz/small_router.h"
#include "harness.h"
#include "saved_bytes.h"

#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

/* ---------------------------------------------------------------------------------------------
 * Allocation failures (Linux and other ELF systems: this test is linked with
 * -Wl,--wrap=malloc,calloc,realloc,posix_memalign,free, mk/tests.mk). Every allocation the library
 * and this test make goes through these wrappers; g_fail_at > 0 makes the g_fail_at-th from now
 * fail, and g_live counts the blocks not yet freed.
 * ------------------------------------------------------------------------------------------- */
#ifndef _WIN32
#define AV_TEST_ALLOC_FAILURES 1
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
void __wrap_free(void *p);

static long g_fail_at, g_live;

static int fail_now(void)
{
    return g_fail_at > 0 && --g_fail_at == 0;
}
void *__wrap_malloc(size_t n)
{
    void *p = fail_now() ? NULL : __real_malloc(n);
    g_live += p != NULL;
    return p;
}
void *__wrap_calloc(size_t a, size_t b)
{
    void *p = fail_now() ? NULL : __real_calloc(a, b);
    g_live += p != NULL;
    return p;
}
void *__wrap_realloc(void *p, size_t n)
{
    if (fail_now())
        return NULL;
    void *q = __real_realloc(p, n);
    g_live += p == NULL && q != NULL;
    return q;
}
int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    if (fail_now())
        return 12; /* ENOMEM */
    int rc = __real_posix_memalign(p, align, n);
    g_live += rc == 0;
    return rc;
}
void __wrap_free(void *p)
{
    g_live -= p != NULL;
    __real_free(p);
}
#endif

static char g_path[] = "/tmp/av_test_load_XXXXXX";
static char g_msg[1024];

static int write_file(const void *b, size_t n)
{
    FILE *f = fopen(g_path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static const void *values(const av_router *r)
{
    return av__index_values(&r->ix);
}

/* The n bytes at f, written to the file: av_router_load gives the code av_router_load_buffer
   gives, a message that holds the buffer's detail and the file's name, and on success a router that saves to the
   same bytes, with the same centroid hash, owning an aligned values array. *rc: the code. */
static int same_as_buffer(const unsigned char *f, size_t n, int *rc)
{
    if (!write_file(f, n))
        return 0;
    av_router *x = NULL, *y = NULL;
    int rb = av_router_load_buffer(&x, f, n);
    /* the detail after the code's text ("malformed router file: "): the file load puts the file's
       name between the two */
    const char *detail = rb ? strstr(av_last_error(), ": ") : NULL;
    snprintf(g_msg, sizeof g_msg, "%s", detail ? detail : "");
    int rl = av_router_load(&y, g_path);
    int ok = rb == rl && (rl == AV_OK) == (y != NULL);
    if (ok && rl != AV_OK)
        ok = strstr(av_last_error(), g_msg) != NULL && strstr(av_last_error(), g_path) != NULL;
    if (ok && rl == AV_OK)
        ok = same_bytes(x, y) && strcmp(av_router_centroid_hash(x), av_router_centroid_hash(y)) == 0 &&
             !y->ix.borrowed && y->ix.map == NULL && (uintptr_t)values(y) % 64 == 0;
    av_router_free(x);
    av_router_free(y);
    *rc = rl;
    return ok;
}

static unsigned char *saved(av_router *t, size_t *n)
{
    void *b = NULL;
    if (!t || av_router_save_buffer(t, &b, n) != AV_OK)
        b = NULL;
    av_router_free(t);
    return b;
}

/* The table entry of the first section with this id, or NULL. */
static unsigned char *entry(unsigned char *f, uint32_t id)
{
    for (uint32_t i = 0; i < sr_get32(f + 32); i++)
        if (sr_get32(f + SR_HEADER + i * SR_ENTRY) == id)
            return f + SR_HEADER + (size_t)i * SR_ENTRY;
    return NULL;
}

TEST(test_load_every_type)
{
    int fd = mkstemp(g_path);
    REQUIRE(fd >= 0);
    close(fd);
    for (uint32_t ty = 0; ty < 3; ty++)
        for (uint32_t members = 1; members <= 2; members++) {
            size_t n;
            unsigned char *f = saved(sr_train_members(8, 2, 5, 1, ty, members), &n);
            REQUIRE(f);
            int rc;
            CHECK(same_as_buffer(f, n, &rc));
            CHECK_EQ_INT(rc, AV_OK);
            /* the values decode as the buffer's: a centroid read back equals the buffer load's */
            av_router *a = NULL, *b = NULL;
            REQUIRE(av_router_load_buffer(&a, f, n) == AV_OK && av_router_load(&b, g_path) == AV_OK);
            size_t d = av_router_dim(a), k = av_router_n_clusters(a);
            float *p = malloc(d * sizeof *p), *q = malloc(d * sizeof *q);
            REQUIRE(p && q);
            int eq = 1;
            for (size_t j = 0; j < k; j++)
                eq &= av_router_get_centroid(a, j, p, d) == AV_OK &&
                      av_router_get_centroid(b, j, q, d) == AV_OK && memcmp(p, q, d * sizeof *p) == 0;
            CHECK(eq);
            free(p);
            free(q);
            av_router_free(a);
            av_router_free(b);
            av_free(f);
        }
}

/* The centroid hash of a loaded router is computed on its first request (1.4.1), by each of the
   three loads, and is the hash of the router that was saved (computed when it was trained), for
   every storage type and an ensemble; a second request returns the same. */
TEST(test_load_hash_on_request)
{
    if (strstr(g_path, "XXXXXX")) { /* run alone: the file name is not made yet */
        int fd = mkstemp(g_path);
        REQUIRE(fd >= 0);
        close(fd);
    }
    for (uint32_t ty = 0; ty < 3; ty++)
        for (uint32_t members = 1; members <= 2; members++) {
            av_router *t = sr_train_members(8, 2, 5, 1, ty, members);
            REQUIRE(t && t->ix.hash_ready);
            char want[17], fresh[17];
            snprintf(want, sizeof want, "%s", av_router_centroid_hash(t));
            size_t n;
            unsigned char *f = saved(t, &n);
            REQUIRE(f && write_file(f, n));
            av_router *r[3] = {NULL, NULL, NULL};
            REQUIRE(av_router_load_buffer(&r[0], f, n) == AV_OK);
            REQUIRE(av_router_load(&r[1], g_path) == AV_OK);
            REQUIRE(av_router_load_mapped(&r[2], g_path) == AV_OK);
            for (int i = 0; i < 3; i++) {
                CHECK(!r[i]->ix.hash_ready); /* nothing hashed by the load */
                const char *h = av_router_centroid_hash(r[i]);
                CHECK(r[i]->ix.hash_ready && h && strcmp(h, want) == 0);
                av__index_hash(&r[i]->ix, fresh); /* the definition, over the loaded values */
                CHECK(strcmp(fresh, want) == 0);
                CHECK(av_router_centroid_hash(r[i]) == h && strcmp(h, want) == 0);
                av_router_free(r[i]);
            }
            av_free(f);
        }
    unlink(g_path);
}

/* Truncations and bit flips, as is and re-checksummed, of an f32, an f16 and an int8 file on
   disk: at every byte of the header and the table, then at every 7th byte. */
TEST(test_load_same_validation)
{
    size_t total = 0, accepted = 0;
    for (uint32_t ty = 0; ty < 3; ty++) {
        size_t n;
        unsigned char *f = saved(sr_train_as(8, 2, 11, 1, ty), &n);
        REQUIRE(f);
        unsigned char *c = malloc(n);
        REQUIRE(c);
        size_t differ = 0;
        for (size_t i = 0; i < 3 * n; i++) {
            size_t len = n, at = i % n;
            memcpy(c, f, n);
            if (i < n)
                len = i; /* truncated to 0 .. n-1 bytes */
            else
                c[at] ^= (unsigned char)(1u << (i % 8));
            if (at >= 320 && at % 7 != 0) /* every byte of the header and table, then every 7th */
                continue;
            if (i >= 2 * n) /* corrupted before the checksums were computed */
                sr_fix_crcs(c, n);
            int rc;
            differ += !same_as_buffer(c, len, &rc);
            accepted += rc == AV_OK;
            total++;
        }
        CHECK_EQ_INT(differ, 0);
        free(c);
        av_free(f);
    }
    printf("     %zu corrupted files on disk: the buffer's code, message and router for each (%zu "
           "re-checksummed flips accepted)\n",
           total, accepted);
}

/* Table layouts for each branch of the plan, each loaded from disk as from memory. */
TEST(test_load_layouts)
{
    size_t n;
    unsigned char *f = saved(sr_train(8, 2, 5, 1), &n);
    REQUIRE(f);
    sr_file s;
    REQUIRE(sr_split(&s, f, n) == 0);
    int rc;
    /* an unknown section of 6000 bytes before the others: the centroid section starts past the
       first 4096 bytes read, so its type and flags are read apart */
    REQUIRE(s.nsec < SR_MAX_SECS);
    memmove(&s.secs[1], &s.secs[0], s.nsec * sizeof s.secs[0]);
    s.nsec++;
    s.secs[0] = (sr_sec){60, 0, calloc(1, 6000), 6000, 6000};
    REQUIRE(s.secs[0].stored);
    size_t n2;
    unsigned char *g = sr_join(&s, &n2);
    REQUIRE(g);
    CHECK(sr_get64(entry(g, 2) + 8) > 4096);
    CHECK(same_as_buffer(g, n2, &rc));
    CHECK_EQ_INT(rc, AV_OK);
    /* the unknown section moved onto the centroid values (sections may share bytes): one buffer */
    unsigned char *u = entry(g, 60), *cen = entry(g, 2);
    uint64_t coff = sr_get64(cen + 8), csl = sr_get64(cen + 16);
    const uint64_t starts[] = {coff, coff + 4, coff + 8, coff + 100, coff + csl - 1, coff + csl};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        for (uint64_t len = 1; len <= 64; len *= 8) {
            sr_put64(u + 8, starts[i]);
            sr_put64(u + 16, len);
            sr_put64(u + 24, len);
            sr_fix_crcs(g, n2);
            CHECK(same_as_buffer(g, n2, &rc));
            CHECK_EQ_INT(rc, AV_OK);
        }
    /* the unknown entry becomes a second centroid entry: refused alike */
    sr_put32(u, 2);
    sr_fix_crcs(g, n2);
    CHECK(same_as_buffer(g, n2, &rc));
    CHECK_EQ_INT(rc, AV_EFORMAT);
    /* a centroid section claiming no values past its prefix, and one claiming zlib */
    sr_put32(u, 60);
    sr_put64(cen + 16, 8);
    sr_put64(cen + 24, 8);
    sr_fix_crcs(g, n2);
    CHECK(same_as_buffer(g, n2, &rc));
    CHECK_EQ_INT(rc, AV_EFORMAT);
    sr_put64(cen + 16, csl);
    sr_put64(cen + 24, csl);
    sr_put32(cen + 4, 1);
    sr_fix_crcs(g, n2);
    CHECK(same_as_buffer(g, n2, &rc));
    CHECK_EQ_INT(rc, AV_EFORMAT);
    /* a centroid type or flag the reader does not know */
    sr_put32(cen + 4, 0);
    sr_put32(g + coff + 4, 8);
    sr_fix_crcs(g, n2);
    CHECK(same_as_buffer(g, n2, &rc));
    CHECK_EQ_INT(rc, AV_EFORMAT);
    free(g);
    sr_file_free(&s);
    av_free(f);
    /* what is not a router file, and bad arguments */
    av_router *x = NULL;
    CHECK_EQ_INT(av_router_load(&x, "/nonexistent/router.avr"), AV_EIO);
    CHECK_EQ_INT(av_router_load(&x, "."), AV_EIO);
    CHECK_EQ_INT(av_router_load(&x, "/dev/null"), AV_EIO);
    CHECK(same_as_buffer((const unsigned char *)"", 0, &rc));
    CHECK_EQ_INT(rc, AV_EFORMAT);
    CHECK(x == NULL);
    unlink(g_path);
}

/* The three loaders on the file f (n bytes, also written to disk): the same code from each, a
   message holding want (when not NULL), and for a router the centroid hash of the values it holds
   computed again over the whole array (av__index_hash, not the one pass) and equal to hash. */
static int three_loads(const unsigned char *f, size_t n, int want_rc, const char *want,
                       const char *hash)
{
    if (!write_file(f, n))
        return 0;
    int ok = 1;
    for (int how = 0; how < 3; how++) {
        av_router *r = NULL;
        int rc = how == 0   ? av_router_load(&r, g_path)
                 : how == 1 ? av_router_load_buffer(&r, f, n)
                            : av_router_load_mapped(&r, g_path);
        if (rc != want_rc || (rc != AV_OK && want && !strstr(av_last_error(), want))) {
            fprintf(stderr, "  loader %d: %d (%s), expected %d (%s)\n", how, rc, av_last_error(),
                    want_rc, want ? want : "");
            ok = 0;
        }
        if (rc == AV_OK) {
            char again[17];
            av__index_hash(&r->ix, again);
            ok &= hash && strcmp(av_router_centroid_hash(r), again) == 0 &&
                  strcmp(av_router_centroid_hash(r), hash) == 0;
        }
        av_router_free(r);
    }
    return ok;
}

/* The file CRC32 recomputed over the bytes (not the section CRCs). */
static void fix_file_crc(unsigned char *f, size_t n)
{
    sr_put32(f + n - 8, (uint32_t)crc32(0, f, (uInt)(n - 8)));
}

/* The one pass over the values (src/io/format.c, vscan): routers whose values span several of its
   128 KiB blocks, f32, f16, int8 and an ensemble. The centroid hash from the pass equals the hash
   over the whole array and the router's before it was saved; a value that is not finite is found
   at its index in any block (the first of two, across blocks); and the checks keep their order:
   the same file with the file CRC not fixed is a checksum error, with the section CRC stale a
   section checksum error, before the value check. */
TEST(test_load_one_pass)
{
    if (strstr(g_path, "XXXXXX")) { /* not made by an earlier test of this run */
        int fd = mkstemp(g_path);
        REQUIRE(fd >= 0);
        close(fd);
    }
    const size_t d = 700, k = 150, m = 2, kd = d * k; /* 420,000 bytes of f32 values */
    float *c = malloc(kd * sizeof *c);
    double cnt[300], sc[300], co[300];
    REQUIRE(c);
    uint64_t s = 77;
    for (size_t t = 0; t < kd; t++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        c[t] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    for (size_t t = 0; t < k * m; t++)
        cnt[t] = 2, sc[t] = (double)(t % 7) / 7, co[t] = 0.1 * (double)(t % 3);
    const char *names[] = {"a", "b"};
    av_router *base = NULL;
    REQUIRE(av_router_from_parts(&base, d, k, m, names, c, cnt, sc, co, 2) == AV_OK);
    free(c);
    size_t cases = 0;
    for (int variant = 0; variant < 4; variant++) {
        av_router *r = NULL;
        REQUIRE(av_router_convert(&r, base,
                                  variant == 1   ? AV_CENTROIDS_F16
                                  : variant == 2 ? AV_CENTROIDS_INT8
                                                 : AV_CENTROIDS_F32) == AV_OK);
        if (variant == 3) { /* an ensemble of two clusterings: a 16-byte prefix */
            REQUIRE(av__router_set_members(r, 2) == AV_OK);
            av__index_hash(&r->ix, r->ix.centroid_hash);
        }
        char hash[17];
        snprintf(hash, sizeof hash, "%s", av_router_centroid_hash(r));
        size_t n;
        unsigned char *f = saved(r, &n);
        REQUIRE(f);
        CHECK(three_loads(f, n, AV_OK, NULL, hash));
        cases++;
        unsigned char *cen = entry(f, 2);
        REQUIRE(cen);
        uint64_t voff = sr_get64(cen + 8) + (variant == 3 ? 16 : 8);
        if (variant == 2) { /* int8: no finiteness; a flipped value byte is a checksum error */
            f[voff + 100000] ^= 1;
            CHECK(three_loads(f, n, AV_ECHECKSUM, "file CRC32 mismatch", NULL));
            f[voff + 100000] ^= 1;
            av_free(f);
            continue;
        }
        /* values per block: 32768 f32 (3.2 blocks), 65536 f16 (1.6 blocks) */
        size_t w = variant == 1 ? 2 : 4, block = (128u << 10) / w, nv = kd;
        size_t late = 2 * block + 5 < nv ? 2 * block + 5 : nv - 2; /* in the last block */
        const size_t at[][2] = {{0, 0},         {block - 1, 0},  {block, 0},
                                {late, block + 1}, {nv - 1, 0}, {nv - 1, block}};
        unsigned char *g = malloc(n);
        REQUIRE(g);
        for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
            memcpy(g, f, n);
            size_t first = at[i][0];
            for (int j = 0; j < 2; j++) {
                size_t t = at[i][j];
                if (j == 1 && t == 0)
                    break;
                if (w == 4)
                    sr_put32(g + voff + 4 * t, j ? 0xFF800000u : 0x7FC00001u); /* -Inf, NaN */
                else
                    g[voff + 2 * t] = 0x00, g[voff + 2 * t + 1] = j ? 0xFC : 0x7E;
                first = t < first ? t : first;
            }
            char want[96];
            snprintf(want, sizeof want, "%scentroid value %zu is not finite", w == 2 ? "f16 " : "",
                     first);
            fix_file_crc(g, n); /* the section CRC stale: that check comes first */
            CHECK(three_loads(g, n, AV_ECHECKSUM, "centroid section CRC32 mismatch", NULL));
            sr_put32(g + n - 8, sr_get32(g + n - 8) ^ 1); /* the file CRC wrong: before all */
            CHECK(three_loads(g, n, AV_ECHECKSUM, "file CRC32 mismatch", NULL));
            sr_fix_crcs(g, n);
            CHECK(three_loads(g, n, AV_EFORMAT, want, NULL));
            cases += 3;
        }
        free(g);
        av_free(f);
    }
    av_router_free(base);
    unlink(g_path);
    printf("     %zu files with values over several blocks, each by the three loaders\n", cases);
}

#ifdef AV_TEST_ALLOC_FAILURES
/* Each allocation of a load made to fail in turn, for a file read in two parts (f32, int8) and one
   read as one buffer (an unknown section overlapping the values): AV_ENOMEM, no router, and every
   block allocated so far freed. */
TEST(test_load_allocation_failures)
{
    size_t loads = 0;
    for (int variant = 0; variant < 3; variant++) {
        size_t n;
        unsigned char *f =
            saved(sr_train_as(8, 2, 5, 1, variant == 1 ? AV_CENTROIDS_INT8 : AV_CENTROIDS_F32), &n);
        REQUIRE(f);
        if (variant == 2) { /* the last entry's bytes moved onto the centroid values */
            unsigned char *cen = entry(f, 2);
            unsigned char *e = f + SR_HEADER + (size_t)(sr_get32(f + 32) - 1) * SR_ENTRY;
            REQUIRE(cen && e != cen && sr_get32(e) != 1 && sr_get32(e) != 3);
            sr_put32(e, 60); /* an unknown id: only checksummed */
            sr_put64(e + 8, sr_get64(cen + 8) + 64);
            sr_put64(e + 16, 16);
            sr_put64(e + 24, 16);
            sr_fix_crcs(f, n);
        }
        REQUIRE(write_file(f, n));
        av_router *r = NULL;
        REQUIRE(av_router_load(&r, g_path) == AV_OK); /* first-use state, before counting */
        av_router_free(r);
        int failed_each = 1, freed_each = 1, done = 0;
        for (long at = 1; at < 10000 && !done; at++) {
            long live = g_live;
            g_fail_at = at;
            r = (av_router *)&r;
            int rc = av_router_load(&r, g_path);
            done = g_fail_at > 0; /* no allocation failed: all of them were tried */
            g_fail_at = 0;
            if (done) {
                CHECK_EQ_INT(rc, AV_OK);
                av_router_free(r);
            } else {
                if (rc != AV_ENOMEM || r != NULL) {
                    printf("     variant %d, allocation %ld failing: code %d (%s)\n", variant, at,
                           rc, av_last_error());
                    failed_each = 0;
                }
                loads++;
            }
            freed_each &= g_live == live;
        }
        CHECK(done);
        CHECK(failed_each);
        CHECK(freed_each);
        av_free(f);
    }
    printf("     %zu loads with one allocation failing: AV_ENOMEM, no router, nothing left "
           "allocated\n",
           loads);
    unlink(g_path);
}
#endif

#ifdef AV_TEST_ALLOC_FAILURES
TH_MAIN(T(test_load_every_type), T(test_load_hash_on_request), T(test_load_same_validation),
        T(test_load_layouts), T(test_load_one_pass), T(test_load_allocation_failures))
#else
TH_MAIN(T(test_load_every_type), T(test_load_hash_on_request), T(test_load_same_validation),
        T(test_load_layouts), T(test_load_one_pass))
#endif
