/* Hostile router files: every truncation and every single-bit flip of a real file is rejected;
   flips that are re-checksummed (corruption before the CRC was computed) are rejected or give a
   router that still routes, saves and reloads; unknown sections are skipped; versions are checked;
   sizes claimed by the header or section table never make the loader allocate more than a small
   constant times the file size (allocation counter: this test is linked with -Wl,--wrap=malloc,...
   by mk/tests.mk); zlib sections cannot be used as bombs. docs/SECURITY.md describes the model. */
#include "avengers/avengers.h"
#include "fuzz/small_router.h"
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---------------------------------------------------------------------------------------------
 * Allocation counter. Every malloc/calloc/realloc/posix_memalign/free made by the library and by
 * this test goes through these wrappers (zlib's own inflate state, about 40 KB, does not: it is
 * allocated inside libz.so). Bytes are counted with malloc_usable_size so that frees can be
 * subtracted without a header; the peak is measured relative to the start of a window.
 * ------------------------------------------------------------------------------------------- */
#ifdef _WIN32
#include <malloc.h>
#define malloc_usable_size _msize /* the CRT's */
#else
size_t malloc_usable_size(void *p); /* glibc; declared here to keep the build strictly C11 */
#endif
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static long long g_live, g_peak;

static void note_alloc(void *p)
{
    if (p) {
        g_live += (long long)malloc_usable_size(p);
        if (g_live > g_peak)
            g_peak = g_live;
    }
}
void *__wrap_malloc(size_t n)
{
    void *p = __real_malloc(n);
    note_alloc(p);
    return p;
}
void *__wrap_calloc(size_t a, size_t b)
{
    void *p = __real_calloc(a, b);
    note_alloc(p);
    return p;
}
void *__wrap_realloc(void *p, size_t n)
{
    long long old = p ? (long long)malloc_usable_size(p) : 0;
    void *q = __real_realloc(p, n);
    if (q || n == 0)
        g_live -= old;
    note_alloc(q);
    return q;
}
#ifdef _WIN32
/* Windows: the library's aligned memory comes from _aligned_malloc and goes back through
   _aligned_free (src/base/platform.c, alignment AV_ALIGN = 64), wrapped instead (mk/windows.mk).
   zlib is linked statically there, so its inflate state is counted too. */
void *__real__aligned_malloc(size_t n, size_t align);
void __real__aligned_free(void *p);
void *__wrap__aligned_malloc(size_t n, size_t align);
void __wrap__aligned_free(void *p);
/* the CRT of MinGW-w64 has no _aligned_msize: the live aligned blocks and their sizes */
#define TRACKED 4096
static void *g_aligned[TRACKED];
static size_t g_aligned_size[TRACKED];
void *__wrap__aligned_malloc(size_t n, size_t align)
{
    void *p = __real__aligned_malloc(n, align);
    for (size_t i = 0; p && i < TRACKED; i++)
        if (!g_aligned[i]) {
            g_aligned[i] = p;
            g_aligned_size[i] = n;
            g_live += (long long)n;
            if (g_live > g_peak)
                g_peak = g_live;
            break;
        }
    return p;
}
void __wrap__aligned_free(void *p)
{
    for (size_t i = 0; p && i < TRACKED; i++)
        if (g_aligned[i] == p) {
            g_live -= (long long)g_aligned_size[i];
            g_aligned[i] = NULL;
            break;
        }
    __real__aligned_free(p);
}
#else
int __real_posix_memalign(void **p, size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    int rc = __real_posix_memalign(p, align, n);
    if (rc == 0)
        note_alloc(*p);
    return rc;
}
#endif
void __wrap_free(void *p)
{
    if (p)
        g_live -= (long long)malloc_usable_size(p);
    __real_free(p);
}

/* The bound the loader must keep (docs/SECURITY.md): peak heap during a load of an n-byte buffer is
   at most ALLOC_RATIO * n + ALLOC_SLACK. The worst case by construction is a zlib statistics
   section at the largest accepted expansion (16x, AV_MAX_INFLATE_RATIO): each (cluster, model)
   cell costs at least 24/16 = 1.5 stored bytes but 88 bytes of heap (three statistics planes, the
   routing table's five words, the 24-byte inflate buffer): about 59x
   (test_worst_case_allocation_within_bound measures it). The slack covers per-entry overheads of
   up to 1024 metadata entries and the fixed-size parts of a router. */
#define ALLOC_RATIO 64
#define ALLOC_SLACK (256 * 1024)

/* Load under the counter; returns the code and stores the peak (bytes above the start). */
static int load_counted(av_router **r, const unsigned char *f, size_t n, long long *peak)
{
    long long base = g_live;
    g_peak = g_live;
    int rc = av_router_load_buffer(r, f, n);
    *peak = g_peak - base;
    return rc;
}

static int within_bound(long long peak, size_t n)
{
    return peak <= (long long)ALLOC_RATIO * (long long)n + ALLOC_SLACK;
}

/* ---------------------------------------------------------------------------------------------
 * Fixture: a small real router (glove d=100, k=8, 9 models) and its bytes
 * ------------------------------------------------------------------------------------------- */
#define K 8
#define TOP_P 2
#define N_QUERIES 8

static av_router *g_router;
static unsigned char *g_file;
static size_t g_size;
static float g_queries[N_QUERIES][100];

static int setup(void)
{
    if (g_router)
        return 1;
    g_router = sr_train(K, TOP_P, 11, 1);
    if (!g_router)
        return 0;
    void *buf;
    if (av_router_save_buffer(g_router, &buf, &g_size) != AV_OK)
        return 0;
    g_file = buf;
    /* Queries: the centroids themselves, so routing touches every cluster. */
    for (size_t q = 0; q < N_QUERIES; q++)
        if (av_router_get_centroid(g_router, q % K, g_queries[q], 100) != AV_OK)
            return 0;
    return 1;
}

/* A loaded router must work: every query routes to a valid model, it serialises, and the bytes
   load again into the same bytes. */
static int router_usable(const av_router *r)
{
    size_t d = av_router_dim(r), m = av_router_n_models(r);
    if (d == 0 || m == 0)
        return 0;
    float *q = calloc(d, sizeof *q);
    if (!q)
        return 0;
    int ok = 1;
    for (size_t t = 0; t < N_QUERIES && ok; t++) {
        for (size_t i = 0; i < d; i++)
            q[i] = i < 100 ? g_queries[t][i] : 0.0f;
        q[t % d] += 1.0f; /* never the zero vector, whatever the dimension */
        for (float alpha = 0.0f; alpha <= 1.0f && ok; alpha += 0.5f) {
            int32_t mi = av_route(r, q, d, alpha);
            ok = mi >= 0 && (size_t)mi < m;
        }
    }
    free(q);
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    av_router *again = NULL;
    ok = ok && av_router_save_buffer(r, &b1, &n1) == AV_OK;
    ok = ok && av_router_load_buffer(&again, b1, n1) == AV_OK;
    ok = ok && av_router_save_buffer(again, &b2, &n2) == AV_OK;
    ok = ok && n1 == n2 && memcmp(b1, b2, n1) == 0;
    av_free(b1);
    av_free(b2);
    av_router_free(again);
    return ok;
}

/* r serialises to exactly the fixture's bytes (the same router as the fixture file). */
static int saves_as_fixture(const av_router *r)
{
    void *b = NULL;
    size_t n = 0;
    int ok = av_router_save_buffer(r, &b, &n) == AV_OK && n == g_size && memcmp(b, g_file, n) == 0;
    av_free(b);
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------------------------- */
TEST(test_fixture_roundtrip)
{
    REQUIRE(setup());
    printf("     router file: %zu bytes (dim 100, k %d, %zu models)\n", g_size, K,
           av_router_n_models(g_router));
    av_router *r = NULL;
    long long peak;
    CHECK_EQ_INT(load_counted(&r, g_file, g_size, &peak), AV_OK);
    REQUIRE(r);
    printf("     peak heap while loading it: %lld bytes (%.2fx the file)\n", peak,
           (double)peak / (double)g_size);
    CHECK(within_bound(peak, g_size));
    CHECK(router_usable(r));
    CHECK(saves_as_fixture(r));
    av_router_free(r);
    /* The fixture uses both encodings, so both paths of the reader are exercised below. */
    sr_file sf;
    REQUIRE(sr_split(&sf, g_file, g_size) == 0);
    int raw = 0, zlib = 0;
    for (size_t i = 0; i < sf.nsec; i++)
        *(sf.secs[i].enc ? &zlib : &raw) += 1;
    CHECK(raw > 0 && zlib > 0);
    sr_file_free(&sf);
}

TEST(test_every_truncation_rejected)
{
    REQUIRE(setup());
    size_t bad = 0;
    for (size_t n = 0; n < g_size; n++) {
        unsigned char *c = malloc(n ? n : 1); /* exact-size copy: an over-read is an ASan error */
        REQUIRE(c);
        memcpy(c, g_file, n);
        av_router *r = (av_router *)c; /* must be overwritten with NULL */
        int rc = av_router_load_buffer(&r, c, n);
        if (rc >= 0 || r != NULL) {
            bad++;
            av_router_free(rc >= 0 ? r : NULL);
        }
        free(c);
    }
    CHECK_EQ_INT(bad, 0);
    /* one extra byte is rejected too */
    unsigned char *c = malloc(g_size + 1);
    REQUIRE(c);
    memcpy(c, g_file, g_size);
    c[g_size] = 0;
    av_router *r = NULL;
    CHECK(av_router_load_buffer(&r, c, g_size + 1) < 0 && r == NULL);
    free(c);
}

TEST(test_every_bit_flip_rejected)
{
    REQUIRE(setup());
    unsigned char *c = malloc(g_size);
    REQUIRE(c);
    memcpy(c, g_file, g_size);
    size_t bad = 0, by_code[32] = {0};
    for (size_t bit = 0; bit < g_size * 8; bit++) {
        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        av_router *r = NULL;
        int rc = av_router_load_buffer(&r, c, g_size);
        if (rc >= 0) {
            bad++;
            av_router_free(r);
        } else if (-rc < 32) {
            by_code[-rc]++;
        }
        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    CHECK_EQ_INT(bad, 0);
    printf("     %zu flips: %zu checksum, %zu format, %zu version\n", g_size * 8,
           by_code[-AV_ECHECKSUM], by_code[-AV_EFORMAT], by_code[-AV_EVERSION]);
    free(c);
}

/* Corruption that happened before the checksums were computed: flip, re-checksum, load. Every
   bit of the header, section table and trailer, and every third bit of the sections. */
TEST(test_rechecksummed_flips_safe)
{
    REQUIRE(setup());
    sr_file sf;
    REQUIRE(sr_split(&sf, g_file, g_size) == 0);
    size_t meta_end = SR_HEADER + sf.nsec * SR_ENTRY;
    sr_file_free(&sf);
    unsigned char *c = malloc(g_size);
    REQUIRE(c);
    size_t tried = 0, accepted = 0, unusable = 0, over = 0;
    long long worst = 0;
    for (size_t bit = 0; bit < g_size * 8; bit++) {
        size_t byte = bit / 8;
        int structural = byte < meta_end || byte >= g_size - SR_TRAILER;
        if (!structural && bit % 3 != 0)
            continue;
        memcpy(c, g_file, g_size);
        c[byte] ^= (unsigned char)(1u << (bit % 8));
        sr_fix_crcs(c, g_size);
        av_router *r = NULL;
        long long peak;
        int rc = load_counted(&r, c, g_size, &peak);
        tried++;
        worst = peak > worst ? peak : worst;
        over += !within_bound(peak, g_size);
        if (rc == AV_OK) {
            accepted++;
            unusable += !router_usable(r);
            av_router_free(r);
        } else if (r != NULL) {
            unusable++;
        }
    }
    CHECK_EQ_INT(unusable, 0);
    CHECK_EQ_INT(over, 0);
    printf("     %zu re-checksummed flips: %zu rejected, %zu accepted (all usable), worst peak "
           "heap %.2fx the file\n",
           tried, tried - accepted, accepted, (double)worst / (double)g_size);
    free(c);
}

/* The compact storages have their own parsers (f16 bit patterns; int8 row and per-dimension
   scales): every truncation and every bit flip of an f16 and an int8 file (k = 4) is rejected, and
   every bit flip with the checksums recomputed is rejected or gives a usable router, within the
   memory bound. */
TEST(test_compact_storages_hostile)
{
    REQUIRE(setup());
    static const uint32_t types[] = {AV_CENTROIDS_F16, AV_CENTROIDS_INT8};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        av_router *r = sr_train_as(4, 2, 3, 1, types[ti]);
        REQUIRE(r);
        void *buf;
        size_t n;
        REQUIRE(av_router_save_buffer(r, &buf, &n) == AV_OK);
        av_router_free(r);
        unsigned char *f = buf, *c = malloc(n);
        REQUIRE(c);
        size_t bad_trunc = 0, bad_flip = 0, accepted = 0, unusable = 0, over = 0;
        for (size_t len = 0; len < n; len++) {
            av_router *t = NULL;
            if (av_router_load_buffer(&t, f, len) >= 0 || t) {
                bad_trunc++;
                av_router_free(t);
            }
        }
        for (size_t bit = 0; bit < n * 8; bit++) {
            memcpy(c, f, n);
            c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            av_router *t = NULL;
            if (av_router_load_buffer(&t, c, n) >= 0) {
                bad_flip++;
                av_router_free(t);
            }
            sr_fix_crcs(c, n);
            long long peak;
            int rc = load_counted(&t, c, n, &peak);
            over += !within_bound(peak, n);
            if (rc == AV_OK) {
                accepted++;
                unusable += !router_usable(t);
                av_router_free(t);
            }
        }
        printf("     %s file of %zu bytes: %zu truncations and %zu flips rejected; re-checksummed: "
               "%zu accepted (all usable)\n",
               ti ? "int8" : "f16", n, n, n * 8, accepted);
        CHECK_EQ_INT(bad_trunc, 0);
        CHECK_EQ_INT(bad_flip, 0);
        CHECK_EQ_INT(unusable, 0);
        CHECK_EQ_INT(over, 0);
        free(c);
        av_free(buf);
    }
}

TEST(test_unknown_sections_skipped)
{
    REQUIRE(setup());
    sr_file sf;
    REQUIRE(sr_split(&sf, g_file, g_size) == 0);
    /* a raw section of id 77 in the middle and a zlib one of id 1000 at the end */
    unsigned char junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37u + 5u);
    uLongf zl = compressBound(sizeof junk);
    unsigned char z[400];
    REQUIRE(zl <= sizeof z && compress(z, &zl, junk, sizeof junk) == Z_OK);
    REQUIRE(sf.nsec + 2 <= SR_MAX_SECS);
    memmove(&sf.secs[2], &sf.secs[1], (sf.nsec - 1) * sizeof sf.secs[0]);
    memset(&sf.secs[1], 0, sizeof sf.secs[1]);
    sf.nsec++;
    REQUIRE(sr_set_section(&sf, 1, 0, junk, sizeof junk, sizeof junk) == 0);
    sf.secs[1].id = 77;
    memset(&sf.secs[sf.nsec], 0, sizeof sf.secs[0]);
    REQUIRE(sr_set_section(&sf, sf.nsec, 1, z, zl, sizeof junk) == 0);
    sf.secs[sf.nsec++].id = 1000;
    size_t n;
    unsigned char *f = sr_join(&sf, &n);
    REQUIRE(f);
    av_router *r = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&r, f, n), AV_OK);
    REQUIRE(r);
    /* same router: it serialises (without the unknown sections) to the original bytes */
    CHECK(saves_as_fixture(r));
    av_router_free(r);
    free(f);

    /* a duplicated known section is an error, not a silent choice */
    sr_file_free(&sf);
    REQUIRE(sr_split(&sf, g_file, g_size) == 0);
    int st = sr_find(&sf, 3);
    REQUIRE(st >= 0);
    memset(&sf.secs[sf.nsec], 0, sizeof sf.secs[0]);
    REQUIRE(sr_set_section(&sf, sf.nsec, sf.secs[st].enc, sf.secs[st].stored, sf.secs[st].stored_len,
                           sf.secs[st].raw_len) == 0);
    sf.secs[sf.nsec++].id = 3;
    f = sr_join(&sf, &n);
    REQUIRE(f);
    r = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&r, f, n), AV_EFORMAT);
    CHECK(r == NULL);
    free(f);
    sr_file_free(&sf);
}

static int load_with_version(unsigned major, unsigned minor)
{
    unsigned char *c = malloc(g_size);
    if (!c)
        return AV_ENOMEM;
    memcpy(c, g_file, g_size);
    c[8] = (unsigned char)major;
    c[9] = (unsigned char)(major >> 8);
    c[10] = (unsigned char)minor;
    c[11] = (unsigned char)(minor >> 8);
    sr_fix_crcs(c, g_size);
    av_router *r = NULL;
    int rc = av_router_load_buffer(&r, c, g_size);
    av_router_free(r);
    free(c);
    return rc;
}

TEST(test_versions)
{
    REQUIRE(setup());
    CHECK_EQ_INT(load_with_version(1, 0), AV_OK);
    CHECK_EQ_INT(load_with_version(1, 1), AV_OK);      /* newer minor: readable */
    CHECK_EQ_INT(load_with_version(1, 65535), AV_OK);
    CHECK_EQ_INT(load_with_version(2, 0), AV_EVERSION); /* newer major: refused */
    CHECK(strstr(av_last_error(), "2.0") != NULL);
    CHECK_EQ_INT(load_with_version(65535, 0), AV_EVERSION);
    CHECK_EQ_INT(load_with_version(0, 9), AV_EVERSION);
}

/* Header and table claim the limits (dim 65536, 65536 clusters, 256 models: a 16 GiB centroid
   array) in a file of a few hundred bytes. */
TEST(test_huge_claims_rejected_before_allocation)
{
    REQUIRE(setup());
    sr_file sf;
    REQUIRE(sr_split(&sf, g_file, g_size) == 0);
    sr_put32(sf.header + 16, AV_MAX_DIM);
    sr_put32(sf.header + 20, AV_MAX_CLUSTERS);
    sr_put32(sf.header + 24, AV_MAX_MODELS);
    uint64_t kd = (uint64_t)AV_MAX_DIM * AV_MAX_CLUSTERS, km = (uint64_t)AV_MAX_CLUSTERS * AV_MAX_MODELS;
    int ci = sr_find(&sf, 2), si = sr_find(&sf, 3);
    REQUIRE(ci >= 0 && si >= 0);
    struct {
        const char *what;
        uint32_t c_enc, s_enc;
        uint64_t c_raw, s_raw;
    } cases[] = {
        {"raw centroids claiming 16 GiB", 0, 1, 8 + kd * 4, km * 24},
        {"zlib centroids claiming 16 GiB", 1, 1, 8 + kd * 4, km * 24},
        {"raw statistics claiming 384 MiB", 0, 0, 8 + kd * 4, km * 24},
        {"statistics claiming 2^40 bytes", 0, 1, 8 + kd * 4, (uint64_t)1 << 40},
        {"statistics claiming 2^64-1 bytes", 0, 1, 8 + kd * 4, UINT64_MAX},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        sf.secs[ci].enc = cases[t].c_enc;
        sf.secs[ci].raw_len = cases[t].c_raw;
        sf.secs[si].enc = cases[t].s_enc;
        sf.secs[si].raw_len = cases[t].s_raw;
        size_t n;
        unsigned char *f = sr_join(&sf, &n);
        REQUIRE(f);
        av_router *r = NULL;
        long long peak;
        int rc = load_counted(&r, f, n, &peak);
        if (rc != AV_EFORMAT || peak > (long long)n * 2)
            fprintf(stderr, "  case '%s': rc %d, peak %lld bytes for a %zu-byte file\n",
                    cases[t].what, rc, peak, n);
        CHECK_EQ_INT(rc, AV_EFORMAT);
        CHECK(r == NULL);
        CHECK(peak <= (long long)n * 2); /* rejected before allocating anything of that size */
        free(f);
    }
    sr_file_free(&sf);
}

/* A zlib stream that inflates far beyond the claimed size (16 MiB of zeros in ~16 KiB) in the
   statistics section (whose size the header fixes) and in the metadata section (whose size only
   the table states, here at the largest ratio the reader accepts). */
TEST(test_zlib_bomb)
{
    REQUIRE(setup());
    const size_t big = 16u << 20;
    unsigned char *zeros = calloc(1, big);
    uLongf zl = compressBound(big);
    unsigned char *z = malloc(zl);
    REQUIRE(zeros && z);
    REQUIRE(compress2(z, &zl, zeros, big, Z_BEST_COMPRESSION) == Z_OK);
    free(zeros);
    for (uint32_t id = 3; id <= 4; id++) {
        sr_file sf;
        REQUIRE(sr_split(&sf, g_file, g_size) == 0);
        int i = sr_find(&sf, id);
        REQUIRE(i >= 0);
        uint64_t raw = id == 3 ? sf.secs[i].raw_len : (uint64_t)zl * 16;
        REQUIRE(sr_set_section(&sf, (size_t)i, 1, z, zl, raw) == 0);
        size_t n;
        unsigned char *f = sr_join(&sf, &n);
        REQUIRE(f);
        av_router *r = NULL;
        long long peak;
        CHECK_EQ_INT(load_counted(&r, f, n, &peak), AV_EFORMAT);
        CHECK(r == NULL);
        CHECK(within_bound(peak, n));
        CHECK(peak < (long long)big / 8);
        free(f);
        sr_file_free(&sf);
    }
    free(z);
}

/* Sections that inflate to exactly their claimed size but whose content is wrong, and a zlib
   stream truncated in the middle. */
TEST(test_zlib_content_checked)
{
    REQUIRE(setup());
    sr_file sf;
    REQUIRE(sr_split(&sf, g_file, g_size) == 0);
    int i = sr_find(&sf, 3);
    REQUIRE(i >= 0 && sf.secs[i].enc == 1);
    /* truncated stream */
    sf.secs[i].stored_len /= 2;
    size_t n;
    unsigned char *f = sr_join(&sf, &n);
    REQUIRE(f);
    av_router *r = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&r, f, n), AV_EFORMAT);
    free(f);
    /* a valid stream of NaN statistics */
    size_t raw = (size_t)sf.secs[i].raw_len;
    unsigned char *nan = malloc(raw);
    uLongf zl = compressBound(raw);
    unsigned char *z = malloc(zl);
    REQUIRE(nan && z);
    memset(nan, 0xFF, raw); /* all-ones doubles are NaN */
    REQUIRE(compress(z, &zl, nan, raw) == Z_OK);
    REQUIRE(sr_set_section(&sf, (size_t)i, 1, z, zl, raw) == 0);
    f = sr_join(&sf, &n);
    REQUIRE(f);
    CHECK_EQ_INT(av_router_load_buffer(&r, f, n), AV_EFORMAT);
    CHECK(strstr(av_last_error(), "statistics") != NULL);
    free(f);
    free(nan);
    free(z);
    sr_file_free(&sf);
}

/* The worst case of the memory bound by construction: a router of many cells (64 clusters x 256
   models, dim 1) whose statistics section is zlib at the largest ratio the reader accepts (the
   stream followed by padding up to raw/16 bytes). The reader allocates the router and the inflate
   buffer before it finds the padding (an error: bytes after the stream), so the peak is the bound's
   worst case. */
TEST(test_worst_case_allocation_within_bound)
{
    enum { WK = 64, WM = 256 };
    char *names[WM];
    float C[WK];
    static double cnt[WK * WM], ss[WK * WM], sc[WK * WM];
    for (size_t i = 0; i < WM; i++) {
        names[i] = malloc(8);
        REQUIRE(names[i]);
        snprintf(names[i], 8, "m%03zu", i);
    }
    for (size_t j = 0; j < WK; j++)
        C[j] = j % 2 ? 1.0f : -1.0f;
    for (size_t t = 0; t < (size_t)WK * WM; t++) {
        cnt[t] = 1;
        ss[t] = sc[t] = 0;
    }
    av_router *r = NULL;
    REQUIRE(av_router_from_parts(&r, 1, WK, WM, (const char *const *)names, C, cnt, ss, sc, 1) ==
            AV_OK);
    for (size_t i = 0; i < WM; i++)
        free(names[i]);
    void *buf;
    size_t n;
    REQUIRE(av_router_save_buffer(r, &buf, &n) == AV_OK);
    av_router_free(r);
    sr_file sf;
    REQUIRE(sr_split(&sf, buf, n) == 0);
    av_free(buf);
    int si = sr_find(&sf, 3);
    REQUIRE(si >= 0);
    size_t raw = (size_t)WK * WM * 24, stored = (raw - 4096) / 16; /* the reader's limit */
    unsigned char *rawb = malloc(raw), *z = calloc(1, stored);
    REQUIRE(rawb && z);
    for (size_t t = 0; t < (size_t)WK * WM; t++) { /* counts 1.0, sums 0 */
        const double one = 1.0;
        memcpy(rawb + 8 * t, &one, 8);
    }
    memset(rawb + 8 * (size_t)WK * WM, 0, raw - 8 * (size_t)WK * WM);
    uLongf zl = stored;
    REQUIRE(compress2(z, &zl, rawb, raw, Z_BEST_COMPRESSION) == Z_OK && zl < stored);
    REQUIRE(sr_set_section(&sf, (size_t)si, 1, z, stored, raw) == 0);
    size_t fn;
    unsigned char *f = sr_join(&sf, &fn);
    REQUIRE(f);
    av_router *out = NULL;
    long long peak;
    CHECK_EQ_INT(load_counted(&out, f, fn, &peak), AV_EFORMAT);
    CHECK(strstr(av_last_error(), "after its zlib stream") != NULL);
    printf("     worst case: peak heap %lld bytes for a %zu-byte file (%.1fx; bound %dx + %d)\n",
           peak, fn, (double)peak / (double)fn, ALLOC_RATIO, ALLOC_SLACK);
    CHECK(within_bound(peak, fn));
    CHECK(peak > 20 * (long long)fn); /* it really is the expensive case the bound is for */
    /* without the padding the stream exceeds the ratio: refused before any allocation */
    REQUIRE(sr_set_section(&sf, (size_t)si, 1, z, zl, raw) == 0);
    free(f);
    f = sr_join(&sf, &fn);
    REQUIRE(f);
    CHECK_EQ_INT(load_counted(&out, f, fn, &peak), AV_EFORMAT);
    CHECK(peak <= 2 * (long long)fn);
    free(f);
    free(z);
    free(rawb);
    sr_file_free(&sf);
}

/* The loader reads every byte once: the section CRCs come from the same pass as the whole-file
   CRC (docs/FORMAT.md, "Reader order of checks"). Whatever the layout (table order unlike offset
   order, sections sharing or straddling bytes, empty sections), a wrong section CRC under a right
   file CRC is still AV_ECHECKSUM, and a right one loads. */
static void set_trailer_crc(unsigned char *f, size_t n)
{
    sr_put32(f + n - 8, (uint32_t)crc32(0L, f, (uInt)(n - 8)));
}

TEST(test_section_crcs_from_one_pass)
{
    REQUIRE(setup());
    static const char *const what[] = {"", "model", "centroid", "statistics", "metadata"};
    unsigned char *c = malloc(g_size);
    REQUIRE(c);
    uint32_t nsec = sr_get32(g_file + 32);
    for (uint32_t i = 0; i < nsec; i++) { /* each section's stated CRC, one bit off */
        for (int bit = 0; bit < 32; bit += 7) {
            memcpy(c, g_file, g_size);
            unsigned char *e = c + SR_HEADER + (size_t)i * SR_ENTRY;
            sr_put32(e + 32, sr_get32(e + 32) ^ (1u << bit));
            set_trailer_crc(c, g_size);
            av_router *r = NULL;
            CHECK_EQ_INT(av_router_load_buffer(&r, c, g_size), AV_ECHECKSUM);
            CHECK(r == NULL);
            uint32_t id = sr_get32(e);
            char want[64];
            snprintf(want, sizeof want, "%s section CRC32 mismatch", id <= 4 ? what[id] : "?");
            CHECK(strstr(av_last_error(), want) != NULL);
        }
    }
    free(c);

    /* the table in reverse order of the offsets, plus unknown sections that share the centroid
       section's bytes, straddle two sections and hold nothing */
    sr_file sf;
    REQUIRE(sr_split(&sf, g_file, g_size) == 0);
    REQUIRE(sf.nsec + 3 <= SR_MAX_SECS);
    for (size_t i = 0; i < sf.nsec / 2; i++) {
        sr_sec t = sf.secs[i];
        sf.secs[i] = sf.secs[sf.nsec - 1 - i];
        sf.secs[sf.nsec - 1 - i] = t;
    }
    for (int x = 0; x < 3; x++) {
        memset(&sf.secs[sf.nsec], 0, sizeof sf.secs[0]);
        REQUIRE(sr_set_section(&sf, sf.nsec, 0, "", 0, 0) == 0);
        sf.secs[sf.nsec++].id = 90 + (uint32_t)x;
    }
    size_t n;
    unsigned char *f = sr_join(&sf, &n);
    REQUIRE(f);
    uint64_t coff = 0, clen = 0, soff = UINT64_MAX; /* soff: the next section's offset */
    for (uint32_t i = 0; i < sf.nsec; i++) {
        const unsigned char *e = f + SR_HEADER + (size_t)i * SR_ENTRY;
        if (sr_get32(e) == 2)
            coff = sr_get64(e + 8), clen = sr_get64(e + 16);
    }
    for (uint32_t i = 0; i < sf.nsec; i++) {
        uint64_t o = sr_get64(f + SR_HEADER + (size_t)i * SR_ENTRY + 8);
        if (o > coff && o < soff && sr_get64(f + SR_HEADER + (size_t)i * SR_ENTRY + 16) > 8)
            soff = o;
    }
    REQUIRE(clen > 16 && soff != UINT64_MAX);
    unsigned char *e90 = f + SR_HEADER + (size_t)(sf.nsec - 3) * SR_ENTRY;
    sr_put64(e90 + 8, coff); /* the centroid section's bytes */
    sr_put64(e90 + 16, clen);
    sr_put64(e90 + 24, clen);
    unsigned char *e91 = f + SR_HEADER + (size_t)(sf.nsec - 2) * SR_ENTRY;
    sr_put64(e91 + 8, coff + clen / 2); /* from inside the centroids into the next section */
    sr_put64(e91 + 16, soff + 8 - (coff + clen / 2));
    sr_put64(e91 + 24, soff + 8 - (coff + clen / 2));
    sr_fix_crcs(f, n); /* e92 stays empty at its own offset */
    av_router *r = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&r, f, n), AV_OK);
    CHECK(r && saves_as_fixture(r));
    av_router_free(r);
    /* the same file with the statistics section's CRC wrong: still caught */
    for (uint32_t i = 0; i < sf.nsec; i++) {
        unsigned char *e = f + SR_HEADER + (size_t)i * SR_ENTRY;
        if (sr_get32(e) == 3)
            sr_put32(e + 32, sr_get32(e + 32) ^ 0x80000000u);
    }
    set_trailer_crc(f, n);
    r = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&r, f, n), AV_ECHECKSUM);
    CHECK(strstr(av_last_error(), "statistics section CRC32 mismatch") != NULL);
    free(f);
    sr_file_free(&sf);
}

/* A non-finite centroid value anywhere (first, last, either side of the scan's 256-value blocks)
   is refused and named by its index, in f32 (Inf, NaN) and f16 (Inf, NaN) files. */
TEST(test_nonfinite_centroid_named)
{
    for (int ty = 0; ty < 2; ty++) {
        av_router *r = sr_train_as(K, TOP_P, 11, 1, ty ? AV_CENTROIDS_F16 : AV_CENTROIDS_F32);
        REQUIRE(r);
        void *b;
        size_t n;
        REQUIRE(av_router_save_buffer(r, &b, &n) == AV_OK);
        unsigned char *f = b, *c = malloc(n);
        REQUIRE(c);
        size_t off = 0, w = ty ? 2 : 4, kd = (size_t)K * 100;
        for (uint32_t i = 0; i < sr_get32(f + 32); i++)
            if (sr_get32(f + SR_HEADER + i * SR_ENTRY) == 2)
                off = (size_t)sr_get64(f + SR_HEADER + i * SR_ENTRY + 8) + 8; /* after the prefix */
        REQUIRE(off > 0);
        const size_t at[] = {0, 1, 255, 256, 257, 511, 512, 700, kd - 1};
        const uint32_t bad32[] = {0x7F800000u, 0xFF800000u, 0x7FC00001u};
        const uint16_t bad16[] = {0x7C00u, 0xFC00u, 0x7E01u};
        for (size_t a = 0; a < sizeof at / sizeof at[0]; a++)
            for (int v = 0; v < 3; v++) {
                memcpy(c, f, n);
                if (ty)
                    c[off + w * at[a]] = (unsigned char)bad16[v],
                    c[off + w * at[a] + 1] = (unsigned char)(bad16[v] >> 8);
                else
                    sr_put32(c + off + w * at[a], bad32[v]);
                sr_fix_crcs(c, n);
                av_router *x = NULL;
                CHECK_EQ_INT(av_router_load_buffer(&x, c, n), AV_EFORMAT);
                char want[64];
                snprintf(want, sizeof want, "centroid value %zu is not finite", at[a]);
                CHECK(strstr(av_last_error(), want) != NULL);
            }
        free(c);
        av_free(b);
        av_router_free(r);
    }
}

TEST(test_load_path_errors)
{
    REQUIRE(setup());
    av_router *r = NULL;
    CHECK_EQ_INT(av_router_load(&r, "/nonexistent/router.avr"), AV_EIO);
    CHECK_EQ_INT(av_router_load(&r, "."), AV_EIO); /* a directory */
    CHECK_EQ_INT(av_router_load(&r, "/dev/null"), AV_EIO); /* not a regular file */
    char path[] = "/tmp/av_test_format_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    CHECK_EQ_INT(av_router_load(&r, path), AV_EFORMAT); /* empty */
    CHECK(strstr(av_last_error(), path) != NULL);
    /* a flipped byte on disk: the code survives and the message names the file */
    unsigned char *c = malloc(g_size);
    REQUIRE(c);
    memcpy(c, g_file, g_size);
    c[g_size / 2] ^= 0x10;
    FILE *fp = fopen(path, "wb");
    REQUIRE(fp);
    CHECK(fwrite(c, 1, g_size, fp) == g_size);
    fclose(fp);
    CHECK_EQ_INT(av_router_load(&r, path), AV_ECHECKSUM);
    CHECK(strstr(av_last_error(), path) != NULL);
    CHECK(r == NULL);
    free(c);
    unlink(path);
    CHECK_EQ_INT(av_router_load_buffer(&r, NULL, 10), AV_EINVAL);
    CHECK_EQ_INT(av_router_load_buffer(NULL, g_file, g_size), AV_EINVAL);
}

TEST(test_teardown)
{
    av_router_free(g_router);
    av_free(g_file);
    g_router = NULL;
    g_file = NULL;
}

TH_MAIN(T(test_fixture_roundtrip), T(test_every_truncation_rejected), T(test_every_bit_flip_rejected),
        T(test_rechecksummed_flips_safe), T(test_compact_storages_hostile),
        T(test_unknown_sections_skipped), T(test_versions),
        T(test_huge_claims_rejected_before_allocation), T(test_zlib_bomb),
        T(test_zlib_content_checked), T(test_worst_case_allocation_within_bound),
        T(test_section_crcs_from_one_pass), T(test_nonfinite_centroid_named),
        T(test_load_path_errors), T(test_teardown))
