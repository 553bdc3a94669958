/* Routing settings as typed file data (docs/FORMAT.md, section 5): written only when they are
   not the paper's, flagged in the header so that a reader that does not know them refuses the
   file, validated on load; a setting a newer version adds that changes decisions makes this
   version refuse the file, one that only informs is skipped; 0.x files, which kept the settings
   as metadata strings, load with the same decisions and without those strings in the user's
   metadata. */
#include "avengers/avengers.h"
#include "fuzz/avfile.h"
#include "harness.h"
#include "tiny.h"

#include <stdint.h>

#define SEC_META 4u
#define SEC_SETTINGS 5u
#define FLAG_SETTINGS 1u

static unsigned char *save(const av_router *r, size_t *n)
{
    void *p = NULL;
    return av_router_save_buffer(r, &p, n) == AV_OK ? p : NULL;
}

static int same_decisions(const av_router *a, const av_router *b)
{
    int ok = 1;
    for (int i = 0; i < 36; i++) {
        float q[2] = {cosf(0.1745f * (float)i), sinf(0.1745f * (float)i)};
        for (int k = 0; k <= 4; k++)
            ok &= av_route(a, q, 2, (float)k / 4) == av_route(b, q, 2, (float)k / 4);
    }
    return ok;
}

static av_router *with_settings(void)
{
    av_router *r = tiny_router(2);
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    e.kappa = 3.0;
    e.weighting = AV_WEIGHTING_SOFTMAX;
    e.temperature = 0.2f;
    e.normalisation = AV_NORMALISE_GLOBAL;
    e.guard = 1;
    e.guard_margin = 0.01;
    if (r && av_router_set_estimator(r, &e) != AV_OK) {
        av_router_free(r);
        r = NULL;
    }
    return r;
}

/* Section bytes of a settings section with the given (id, flags, value) records. */
static size_t settings_bytes(unsigned char *out, const uint16_t (*recs)[2], const uint64_t *vals,
                             size_t n)
{
    sr_put32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = out + 4 + 16 * i;
        p[0] = (unsigned char)recs[i][0], p[1] = (unsigned char)(recs[i][0] >> 8);
        p[2] = (unsigned char)recs[i][1], p[3] = (unsigned char)(recs[i][1] >> 8);
        sr_put32(p + 4, 0);
        sr_put64(p + 8, vals[i]);
    }
    return 4 + 16 * n;
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

TEST(test_written_only_when_not_the_papers)
{
    av_router *p = tiny_router(2), *s = with_settings();
    REQUIRE(p && s);
    size_t np = 0, ns = 0;
    unsigned char *fp = save(p, &np), *fs = save(s, &ns);
    REQUIRE(fp && fs);
    sr_file a, b;
    REQUIRE(sr_split(&a, fp, np) == 0 && sr_split(&b, fs, ns) == 0);
    CHECK(sr_find(&a, SEC_SETTINGS) < 0 && sr_get32(a.header + 12) == 0);
    CHECK(fp[10] == 1); /* a paper router is still a 1.1 file */
    CHECK(sr_find(&b, SEC_SETTINGS) >= 0 && sr_get32(b.header + 12) == FLAG_SETTINGS);
    CHECK(fs[10] == 3);
    /* the settings are nowhere in the metadata */
    CHECK(av_router_meta(s, "kappa") == NULL && av_router_meta_count(s) == 0);
    av_router *l = NULL;
    CHECK(av_router_load_buffer(&l, fs, ns) == AV_OK && same_decisions(s, l));
    av_estimator_options got = AV_ESTIMATOR_OPTIONS_INIT;
    CHECK(l && av_router_get_estimator(l, &got) == AV_OK);
    CHECK(got.kappa == 3.0 && got.weighting == AV_WEIGHTING_SOFTMAX && got.temperature == 0.2f &&
          got.normalisation == AV_NORMALISE_GLOBAL && got.guard == 1 && got.guard_margin == 0.01);
    av_router_free(l);
    sr_file_free(&a);
    sr_file_free(&b);
    av_free(fp);
    av_free(fs);
    av_router_free(p);
    av_router_free(s);
}

/* r's file with its settings section replaced by `sec` (n bytes) and header flags `flags`. */
static unsigned char *rewrite(const av_router *r, const unsigned char *sec, size_t n,
                              uint32_t flags, int drop_settings, size_t *size)
{
    size_t fn = 0;
    unsigned char *f = save(r, &fn), *out = NULL;
    sr_file sf;
    if (!f || sr_split(&sf, f, fn) != 0) {
        av_free(f);
        return NULL;
    }
    int i = sr_find(&sf, SEC_SETTINGS);
    if (drop_settings && i >= 0) {
        free(sf.secs[i].stored);
        sf.secs[i] = sf.secs[--sf.nsec];
    } else if (sec && i >= 0) {
        sr_set_section(&sf, (size_t)i, 0, sec, n, n);
    }
    sr_put32(sf.header + 12, flags);
    out = sr_join(&sf, size);
    sr_file_free(&sf);
    av_free(f);
    return out;
}

TEST(test_unknown_settings_critical_or_not)
{
    av_router *s = with_settings();
    REQUIRE(s);
    unsigned char sec[4 + 16 * 8];
    const uint16_t recs[8][2] = {{1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}, {40, 0}, {41, 1}};
    const uint64_t vals[8] = {dbits(3.0), AV_WEIGHTING_SOFTMAX, dbits((double)0.2f), 1,
                              dbits(0.01), AV_NORMALISE_GLOBAL, 12345, 1};
    size_t n = 0, fn = 0;
    /* an informational setting of a newer version is skipped */
    n = settings_bytes(sec, recs, vals, 7);
    unsigned char *f = rewrite(s, sec, n, FLAG_SETTINGS, 0, &fn);
    REQUIRE(f);
    av_router *l = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&l, f, fn), AV_OK);
    CHECK(l && same_decisions(s, l));
    av_router_free(l);
    free(f);
    /* one that changes decisions makes this version refuse the file */
    n = settings_bytes(sec, recs, vals, 8);
    f = rewrite(s, sec, n, FLAG_SETTINGS, 0, &fn);
    REQUIRE(f);
    l = NULL;
    CHECK_EQ_INT(av_router_load_buffer(&l, f, fn), AV_EVERSION);
    CHECK(strstr(av_last_error(), "routing setting 41") != NULL);
    free(f);
    /* invalid values, duplicates, reserved bits */
    const uint16_t bad_recs[3][2] = {{2, 1}, {2, 1}, {1, 3}};
    const uint64_t bad_vals[3][3] = {{7}, {1, 2}, {0}};
    const size_t bad_n[3] = {1, 2, 1};
    for (int t = 0; t < 3; t++) {
        const uint16_t(*rr)[2] = t == 0 ? bad_recs : t == 1 ? bad_recs : bad_recs + 2;
        n = settings_bytes(sec, rr, bad_vals[t], bad_n[t]);
        f = rewrite(s, sec, n, FLAG_SETTINGS, 0, &fn);
        REQUIRE(f);
        l = NULL;
        CHECK_EQ_INT(av_router_load_buffer(&l, f, fn), AV_EFORMAT);
        free(f);
    }
    /* a temperature that is not a float would not survive a save */
    const uint16_t trec[1][2] = {{3, 1}};
    const uint64_t tval[1] = {dbits(0.1)};
    n = settings_bytes(sec, trec, tval, 1);
    f = rewrite(s, sec, n, FLAG_SETTINGS, 0, &fn);
    l = NULL;
    CHECK(f && av_router_load_buffer(&l, f, fn) == AV_EFORMAT);
    free(f);
    /* the header flag and the section go together */
    f = rewrite(s, NULL, 0, 0, 0, &fn); /* section without the flag */
    l = NULL;
    CHECK(f && av_router_load_buffer(&l, f, fn) == AV_EFORMAT);
    free(f);
    f = rewrite(s, NULL, 0, FLAG_SETTINGS, 1, &fn); /* flag without the section */
    l = NULL;
    CHECK(f && av_router_load_buffer(&l, f, fn) == AV_EFORMAT);
    free(f);
    f = rewrite(s, NULL, 0, FLAG_SETTINGS | 2u, 0, &fn); /* an unknown flag */
    l = NULL;
    CHECK(f && av_router_load_buffer(&l, f, fn) == AV_EFORMAT);
    free(f);
    av_router_free(s);
}

/* A file as 0.x wrote it: no settings section, the settings (and the derived centroid hash) as
   metadata strings beside the user's entries. */
static unsigned char *legacy_file(const av_router *s, size_t *size)
{
    const char *kv[][2] = {{"note", "mine"},       {"kappa", "3"},         {"weighting", "softmax"},
                           {"temperature", "0.2"}, {"guard", "1"},         {"guard_margin", "0.01"},
                           {"normalisation", "global"}, {"centroid_hash", "0000000000000000"},
                           {"members", "1"}};
    size_t nkv = sizeof kv / sizeof kv[0];
    unsigned char meta[1024];
    size_t pos = 4;
    sr_put32(meta, (uint32_t)nkv);
    for (size_t i = 0; i < nkv; i++) {
        size_t kl = strlen(kv[i][0]), vl = strlen(kv[i][1]);
        meta[pos] = (unsigned char)kl, meta[pos + 1] = 0;
        memcpy(meta + pos + 2, kv[i][0], kl);
        pos += 2 + kl;
        sr_put32(meta + pos, (uint32_t)vl);
        memcpy(meta + pos + 4, kv[i][1], vl);
        pos += 4 + vl;
    }
    size_t fn = 0;
    unsigned char *f = save(s, &fn), *out = NULL;
    sr_file sf;
    if (!f || sr_split(&sf, f, fn) != 0) {
        av_free(f);
        return NULL;
    }
    int i = sr_find(&sf, SEC_SETTINGS);
    if (i >= 0) {
        free(sf.secs[i].stored);
        sf.secs[i] = sf.secs[--sf.nsec];
    }
    int mi = sr_find(&sf, SEC_META);
    if (mi < 0) { /* a router without metadata: add the section */
        mi = (int)sf.nsec++;
        memset(&sf.secs[mi], 0, sizeof sf.secs[mi]);
        sf.secs[mi].id = SEC_META;
    }
    sr_set_section(&sf, (size_t)mi, 0, meta, pos, pos);
    sr_put32(sf.header + 12, 0);
    sf.header[10] = 1; /* minor 1, as 0.2 wrote it */
    out = sr_join(&sf, size);
    sr_file_free(&sf);
    av_free(f);
    return out;
}

TEST(test_files_of_0x_load_with_the_same_decisions)
{
    av_router *s = with_settings();
    REQUIRE(s);
    size_t n = 0;
    unsigned char *f = legacy_file(s, &n);
    REQUIRE(f);
    av_router *l = NULL;
    REQUIRE(av_router_load_buffer(&l, f, n) == AV_OK);
    CHECK(same_decisions(s, l));
    av_estimator_options got = AV_ESTIMATOR_OPTIONS_INIT;
    CHECK(av_router_get_estimator(l, &got) == AV_OK && got.kappa == 3.0 &&
          got.weighting == AV_WEIGHTING_SOFTMAX && got.guard == 1);
    /* only the user's entry is the user's metadata; the hash is derived, not the file's */
    CHECK_EQ_INT(av_router_meta_count(l), 1);
    CHECK(strcmp(av_router_meta(l, "note"), "mine") == 0);
    CHECK(strcmp(av_router_centroid_hash(l), av_router_centroid_hash(s)) == 0);
    /* saved again it is a 1.3 file with the typed section */
    size_t n2 = 0;
    unsigned char *f2 = save(l, &n2);
    sr_file sf;
    REQUIRE(f2 && sr_split(&sf, f2, n2) == 0);
    CHECK(sr_find(&sf, SEC_SETTINGS) >= 0 && f2[10] == 3);
    sr_file_free(&sf);
    av_free(f2);
    free(f);
    av_router_free(l);
    av_router_free(s);
}

TEST(test_the_committed_0_1_router_loads)
{
    /* tests/cli/golden/router.avr was written by libavengers 0.1.0 with the centroid hash among
       its metadata strings; the hash is recomputed at load (XXH64 since 1.2: d2a83e070a38fd6e was
       the FNV-1a value of 1.1 and earlier; tests/python/test_centroid_hash.py recomputes it from
       the file's bytes) */
    av_router *r = NULL;
    REQUIRE(av_router_load(&r, "tests/cli/golden/router.avr") == AV_OK);
    CHECK(av_router_meta(r, "centroid_hash") == NULL);
    CHECK(strcmp(av_router_centroid_hash(r), "0418795cfc29f6c8") == 0);
    CHECK(strcmp(av_router_meta(r, "trainer"), "libavengers 0.1.0") == 0);
    av_router_free(r);
}

TH_MAIN(T(test_written_only_when_not_the_papers), T(test_unknown_settings_critical_or_not),
        T(test_files_of_0x_load_with_the_same_decisions), T(test_the_committed_0_1_router_loads))
