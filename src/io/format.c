/* The router file: writer, hostile-input reader, atomic save. docs/FORMAT.md is the normative spec;
   the constants below are its tables. */
#include "io/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const unsigned char AV_MAGIC[8] = {0x89, 'A', 'V', 'R', '\r', '\n', 0x1A, '\n'};
#define AV_END_MAGIC 0x52564145u /* "EAVR" little-endian */
#define AV_FORMAT_MAJOR 1u
/* 1.1: int8 centroids carry per-dimension scales (centroid flag AV_CFLAG_COLSCALE).
   1.2: ensembles (centroid flag AV_CFLAG_MEMBERS). A file is written with the lowest minor that
   describes it, so a router without an ensemble is still a 1.1 file. */
#define AV_FORMAT_MINOR 1u
#define AV_FORMAT_MINOR_MEMBERS 2u
/* 1.3: routing settings as a typed section (header flag bit 0). */
#define AV_FORMAT_MINOR_SETTINGS 3u
/* 1.4: the models' prices (section 6; optional, skipped by older readers). */
#define AV_FORMAT_MINOR_PRICES 4u
#define AV_HEADER_SIZE 64u
#define AV_SECTION_ENTRY_SIZE 40u
#define AV_TRAILER_SIZE 8u
#define AV_MAX_SECTIONS 64u
#define AV_SECTION_ALIGN 8u
/* A zlib section may expand at most this much; the writer never compresses beyond it, so that the
   loader's memory stays within a small constant times the file size. */
#define AV_MAX_INFLATE_RATIO 16u
#define AV_INFLATE_SLACK 4096u
#define AV_MAX_FILE_SIZE ((uint64_t)1 << 36)

/* Offsets of the header's fields (docs/FORMAT.md, "Header"). */
enum {
    HDR_MAJOR = 8,
    HDR_MINOR = 10,
    HDR_FLAGS = 12,
    HDR_DIM = 16,
    HDR_CLUSTERS = 20,
    HDR_MODELS = 24,
    HDR_TOP_P = 28,
    HDR_SECTIONS = 32,
    HDR_SIZE = 36,
    HDR_FILE_SIZE = 40,
    HDR_RESERVED = 48
};
/* Offsets within a section table entry. */
enum {
    ENT_ID = 0,
    ENT_ENCODING = 4,
    ENT_OFFSET = 8,
    ENT_STORED = 16,
    ENT_RAW = 24,
    ENT_CRC = 32,
    ENT_RESERVED = 36
};
/* The trailer: the whole-file CRC32, then the end marker. */
enum { TRL_CRC = 8, TRL_END = 4 }; /* bytes before the end of the file */
/* The centroid section's prefix: type, flags, and for an ensemble the member count and a zero. */
enum { CEN_TYPE = 0, CEN_FLAGS = 4, CEN_MEMBERS = 8, CEN_ZERO = 12 };
enum { SEC_MODELS = 1, SEC_CENTROIDS = 2, SEC_STATS = 3, SEC_META = 4, SEC_SETTINGS = 5,
       SEC_PRICES = 6 };
#define SEC_LAST SEC_PRICES
/* A prices record: u32 model, u32 unit, then five f64 (cost_per_query, input_price,
   output_price, input_tokens, output_tokens). */
#define PRICE_RECORD 48u
/* Header flags. Bit 0: the file has a settings section, which changes decisions: a reader that
   does not know it (0.x refuses any flag) must not route with the file. */
#define AV_FLAG_SETTINGS 1u
enum { ENC_RAW = 0, ENC_ZLIB = 1 };
/* The centroid section's second word: flags. A reader that predates a flag refuses the section. */
#define AV_CFLAG_COLSCALE 1u /* int8: dim float per-dimension scales follow the row scales */
/* An ensemble: words 2 and 3 of the section are the member count (2..AV_MAX_MEMBERS, dividing
   n_clusters) and a zero; the centroid data follows them. */
#define AV_CFLAG_MEMBERS 2u

/* ---------------------------------------------------------------------------------------------
 * Little-endian primitives
 * ------------------------------------------------------------------------------------------- */
/* put16 .. get64: the shared little-endian helpers of internal.h (av__put16 ...) */
#define put16 av__put16
#define put32 av__put32
#define put64 av__put64
#define get16 av__get16
#define get32 av__get32
#define get64 av__get64
static void putf32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}
static float getf32(const unsigned char *p)
{
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static void putf64(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put64(p, u);
}
static double getf64(const unsigned char *p)
{
    uint64_t u = get64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* The CRC32 of c's bytes followed by n more bytes at data: zlib's crc32, computed by the kernels'
   (carry-less multiplication where the CPU has it; the same values: src/kernels/crc32.c). */
static uint32_t crc_more(uint32_t c, const unsigned char *data, size_t n)
{
    return av__kernels()->crc32(c, data, n);
}

uint32_t av__crc32(const unsigned char *data, size_t n)
{
    return crc_more(0, data, n);
}

/* ---------------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------------- */
typedef struct sec_buf {
    uint32_t id;
    unsigned char *raw;
    size_t raw_len;
    unsigned char *stored; /* == raw when not compressed */
    size_t stored_len;
    uint32_t encoding;
} sec_buf;

static void sec_free(sec_buf *s)
{
    if (s->stored != s->raw)
        free(s->stored);
    free(s->raw);
    s->raw = s->stored = NULL;
}

/* Compress when it saves at least an eighth and stays within the loader's inflate ratio. */
static int sec_encode(sec_buf *s, bool allow_zlib)
{
    s->stored = s->raw;
    s->stored_len = s->raw_len;
    s->encoding = ENC_RAW;
    if (!allow_zlib || s->raw_len < 256 || s->raw_len > (size_t)ULONG_MAX / 2)
        return AV_OK;
    uLongf bound = compressBound((uLong)s->raw_len);
    unsigned char *z = malloc(bound);
    if (!z)
        return av__fail(AV_ENOMEM, "compression buffer");
    uLongf zl = bound;
    if (compress2(z, &zl, s->raw, (uLong)s->raw_len, Z_BEST_COMPRESSION) != Z_OK ||
        zl > s->raw_len - s->raw_len / 8 || (uint64_t)zl * AV_MAX_INFLATE_RATIO < s->raw_len) {
        free(z);
        return AV_OK;
    }
    s->stored = z;
    s->stored_len = zl;
    s->encoding = ENC_ZLIB;
    return AV_OK;
}

static int build_models(const av_router *r, sec_buf *s)
{
    size_t n = 0;
    for (size_t i = 0; i < r->st.m; i++)
        n += 2 + strlen(r->names[i]);
    if (!(s->raw = malloc(n)))
        return av__fail(AV_ENOMEM, "model section");
    unsigned char *p = s->raw;
    for (size_t i = 0; i < r->st.m; i++) {
        size_t l = strlen(r->names[i]);
        put16(p, (uint16_t)l);
        memcpy(p + 2, r->names[i], l);
        p += 2 + l;
    }
    s->raw_len = n;
    return AV_OK;
}

/* Bytes before the centroid data: type and flags, and for an ensemble its member count. */
static size_t centroid_prefix(uint32_t flags)
{
    return (flags & AV_CFLAG_MEMBERS) ? 16 : 8;
}

static size_t centroid_bytes(uint32_t type, uint32_t flags, size_t k, size_t d)
{
    size_t pre = centroid_prefix(flags);
    switch (type) {
    case AV_CENTROIDS_F32:
        return pre + k * d * 4;
    case AV_CENTROIDS_F16:
        return pre + k * d * 2;
    default:
        return pre + k * 4 + ((flags & AV_CFLAG_COLSCALE) ? d * 4 : 0) + k * d;
    }
}

/* The flags a reader accepts with a centroid type. */
static uint32_t centroid_flags(uint32_t type)
{
    return (type == AV_CENTROIDS_INT8 ? AV_CFLAG_COLSCALE : 0u) | AV_CFLAG_MEMBERS;
}

/* The flags written for r: per-dimension scales always with int8, the member count only for an
   ensemble (so that a single clustering stays a 1.1 file). */
static uint32_t router_cflags(const av_router *r)
{
    return (r->ix.centroid_type == AV_CENTROIDS_INT8 ? AV_CFLAG_COLSCALE : 0u) |
           (r->ix.members > 1 ? AV_CFLAG_MEMBERS : 0u);
}

static int build_centroids(const av_router *r, sec_buf *s)
{
    uint32_t flags = router_cflags(r);
    size_t k = r->ix.k, d = r->ix.dim, n = centroid_bytes(r->ix.centroid_type, flags, k, d);
    if (!(s->raw = malloc(n)))
        return av__fail(AV_ENOMEM, "centroid section");
    unsigned char *p = s->raw;
    put32(p + CEN_TYPE, r->ix.centroid_type);
    put32(p + CEN_FLAGS, flags);
    if (flags & AV_CFLAG_MEMBERS) {
        put32(p + CEN_MEMBERS, (uint32_t)r->ix.members);
        put32(p + CEN_ZERO, 0);
    }
    p += centroid_prefix(flags);
    size_t kd = k * d;
    switch (r->ix.centroid_type) {
    case AV_CENTROIDS_F32:
        for (size_t t = 0; t < kd; t++)
            putf32(p + 4 * t, r->ix.centroids[t]);
        break;
    case AV_CENTROIDS_F16:
        for (size_t t = 0; t < kd; t++)
            put16(p + 2 * t, r->ix.centroids_f16[t]);
        break;
    default:
        for (size_t j = 0; j < k; j++)
            putf32(p + 4 * j, r->ix.centroid_scale[j]);
        for (size_t t = 0; t < d; t++)
            putf32(p + 4 * (k + t), r->ix.centroid_colscale[t]);
        memcpy(p + 4 * (k + d), r->ix.centroids_i8, kd);
        break;
    }
    s->raw_len = n;
    return AV_OK;
}

/* Three planes of k*m doubles: counts, sums of scores, sums of costs. Caller holds the lock. */
static int build_stats(const av_router *r, sec_buf *s)
{
    size_t km = r->ix.k * r->st.m, n = km * 24;
    if (!(s->raw = malloc(n)))
        return av__fail(AV_ENOMEM, "statistics section");
    for (size_t t = 0; t < km; t++) {
        putf64(s->raw + 8 * t, r->st.count[t]);
        putf64(s->raw + 8 * (km + t), r->st.sum_score[t]);
        putf64(s->raw + 8 * (2 * km + t), r->st.sum_cost[t]);
    }
    s->raw_len = n;
    return AV_OK;
}

static int build_meta(const av_router *r, sec_buf *s)
{
    size_t n = 4;
    for (size_t i = 0; i < r->n_meta; i++)
        n += 6 + strlen(r->meta[i].key) + strlen(r->meta[i].value);
    if (!(s->raw = malloc(n)))
        return av__fail(AV_ENOMEM, "metadata section");
    unsigned char *p = s->raw;
    put32(p, (uint32_t)r->n_meta);
    p += 4;
    for (size_t i = 0; i < r->n_meta; i++) {
        size_t kl = strlen(r->meta[i].key), vl = strlen(r->meta[i].value);
        put16(p, (uint16_t)kl);
        memcpy(p + 2, r->meta[i].key, kl);
        p += 2 + kl;
        put32(p, (uint32_t)vl);
        memcpy(p + 4, r->meta[i].value, vl);
        p += 4 + vl;
    }
    s->raw_len = n;
    return AV_OK;
}

static int build_settings(const av_router *r, sec_buf *s)
{
    size_t n = av__settings_bytes(&r->est);
    if (!(s->raw = malloc(n)))
        return av__fail(AV_ENOMEM, "settings section");
    av__settings_write(&r->est, s->raw);
    s->raw_len = n;
    return AV_OK;
}

/* The prices set with av_router_set_price, in model order. Caller holds the lock. */
static int build_prices(const av_router *r, sec_buf *s)
{
    size_t cnt = 0;
    for (size_t i = 0; i < r->st.m; i++)
        cnt += av__price_of(r, i) != NULL;
    size_t n = 4 + cnt * PRICE_RECORD;
    if (!(s->raw = malloc(n)))
        return av__fail(AV_ENOMEM, "prices section");
    put32(s->raw, (uint32_t)cnt);
    unsigned char *p = s->raw + 4;
    for (size_t i = 0; i < r->st.m; i++) {
        const av_price *q = av__price_of(r, i);
        if (!q)
            continue;
        put32(p, (uint32_t)i);
        put32(p + 4, q->unit);
        const double v[5] = {q->cost_per_query, q->input_price, q->output_price, q->input_tokens,
                             q->output_tokens};
        for (int t = 0; t < 5; t++)
            putf64(p + 8 + 8 * t, v[t]);
        p += PRICE_RECORD;
    }
    s->raw_len = n;
    return AV_OK;
}

static size_t align_up(size_t v)
{
    return (v + AV_SECTION_ALIGN - 1) & ~(size_t)(AV_SECTION_ALIGN - 1);
}

int av__router_serialize(const av_router *r, unsigned char **data, size_t *size)
{
    enum { MAX_SEC = 6 };
    sec_buf secs[MAX_SEC] = {{SEC_MODELS, 0, 0, 0, 0, 0},
                             {SEC_CENTROIDS, 0, 0, 0, 0, 0},
                             {SEC_STATS, 0, 0, 0, 0, 0},
                             {SEC_META, 0, 0, 0, 0, 0},
                             {SEC_SETTINGS, 0, 0, 0, 0, 0},
                             {SEC_PRICES, 0, 0, 0, 0, 0}};
    av_router *w = (av_router *)r; /* the lock is the only mutable part of a const router */
    int rc;
    /* One snapshot: the statistics, the model names and the model count change together under
       the lock (av_router_add_model), so all three are copied under one hold of it. The
       metadata is copied there too (av_router_set_meta does not overlap saves, but the loader's
       and the converter's own writers hold no other guarantee). The centroids never change. */
    av__mutex_lock(&w->lock);
    size_t m = r->st.m;
    rc = build_stats(r, &secs[2]);
    if (rc == AV_OK)
        rc = build_models(r, &secs[0]);
    if (rc == AV_OK)
        rc = build_meta(r, &secs[3]);
    /* the settings section only where they are not the paper's: such a file is still 1.1/1.2;
       the prices section only where a price was set. Sections not written are moved out of the
       list (secs[4..] are the optional ones). */
    bool settings = av__settings_stored(&r->est), prices = false;
    for (size_t i = 0; i < m; i++)
        prices |= av__price_of(r, i) != NULL;
    int nsec = 4;
    if (rc == AV_OK && settings)
        rc = build_settings(r, &secs[nsec++]);
    if (prices) {
        secs[nsec].id = SEC_PRICES;
        if (rc == AV_OK)
            rc = build_prices(r, &secs[nsec]);
        nsec++;
    }
    av__mutex_unlock(&w->lock);
    if (rc == AV_OK)
        rc = build_centroids(r, &secs[1]);
    for (int i = 0; i < nsec && rc == AV_OK; i++) /* small or incompressible: raw */
        rc = sec_encode(&secs[i], secs[i].id != SEC_CENTROIDS && secs[i].id != SEC_SETTINGS &&
                                      secs[i].id != SEC_PRICES);
    unsigned char *out = NULL;
    size_t total = 0;
    if (rc == AV_OK) {
        size_t off = align_up(AV_HEADER_SIZE + nsec * AV_SECTION_ENTRY_SIZE);
        size_t offs[MAX_SEC];
        for (int i = 0; i < nsec; i++) {
            offs[i] = off;
            off = align_up(off + secs[i].stored_len);
        }
        total = off + AV_TRAILER_SIZE;
        out = calloc(1, total); /* padding is zero and covered by the file checksum */
        if (!out)
            rc = av__fail(AV_ENOMEM, "file buffer of %zu bytes", total);
        else {
            memcpy(out, AV_MAGIC, 8);
            put16(out + HDR_MAJOR, AV_FORMAT_MAJOR);
            put16(out + HDR_MINOR, prices              ? AV_FORMAT_MINOR_PRICES
                                   : settings          ? AV_FORMAT_MINOR_SETTINGS
                                   : r->ix.members > 1 ? AV_FORMAT_MINOR_MEMBERS
                                                       : AV_FORMAT_MINOR);
            put32(out + HDR_FLAGS, settings ? AV_FLAG_SETTINGS : 0u);
            put32(out + HDR_DIM, (uint32_t)r->ix.dim);
            put32(out + HDR_CLUSTERS, (uint32_t)r->ix.k);
            put32(out + HDR_MODELS, (uint32_t)m);
            put32(out + HDR_TOP_P, r->top_p);
            put32(out + HDR_SECTIONS, (uint32_t)nsec);
            put32(out + HDR_SIZE, AV_HEADER_SIZE);
            put64(out + HDR_FILE_SIZE, total);
            for (int i = 0; i < nsec; i++) {
                unsigned char *e = out + AV_HEADER_SIZE + (size_t)i * AV_SECTION_ENTRY_SIZE;
                put32(e + ENT_ID, secs[i].id);
                put32(e + ENT_ENCODING, secs[i].encoding);
                put64(e + ENT_OFFSET, offs[i]);
                put64(e + ENT_STORED, secs[i].stored_len);
                put64(e + ENT_RAW, secs[i].raw_len);
                put32(e + ENT_CRC, av__crc32(secs[i].stored, secs[i].stored_len));
                memcpy(out + offs[i], secs[i].stored, secs[i].stored_len);
            }
            put32(out + total - TRL_CRC, av__crc32(out, total - TRL_CRC));
            put32(out + total - TRL_END, AV_END_MAGIC);
        }
    }
    for (int i = 0; i < MAX_SEC; i++)
        sec_free(&secs[i]);
    if (rc != AV_OK)
        return rc;
    *data = out;
    *size = total;
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Reader. Order of checks: magic, version, sizes against the buffer, whole-file CRC, section
 * table, per-section CRC, exact section lengths from the header's counts, then values.
 * ------------------------------------------------------------------------------------------- */
typedef struct sec_view {
    uint32_t encoding;
    uint64_t offset, stored_len, raw_len;
    uint32_t crc;      /* as the table states it */
    uint32_t computed; /* of the stored bytes, from the file's one CRC pass */
    bool present;
} sec_view;

/* One pass over the centroid values (docs/PERFORMANCE.md, "Load time"): in blocks of SCAN_BLOCK
   bytes, each while it is in the cache (for av_router_load, right after its read), their CRC32
   and the index of the first value that is not finite, instead of two passes over the whole
   array. Nothing is reported here: the results wait for the checks that use them, in the
   documented order (the CRC pass takes the values' CRC where it reaches them, parse_centroids the
   finiteness), each used only where the scanned bytes are exactly what that check reads. The
   centroid hash is not computed at load since 1.4.1: on the first av_router_centroid_hash. */
#define SCAN_BLOCK ((size_t)128 << 10)
typedef struct vscan {
    uint64_t s0, s1;   /* the file's bytes [s0, s1) to scan; s0 == s1: none */
    uint64_t done;     /* how many of them were scanned so far */
    uint32_t crc;      /* the CRC32 of those alone */
    uint32_t mask;     /* exponent bits (f32, f16); 0: int8, neither checked here nor hashed */
    size_t width;      /* bytes per value */
    size_t first_bad;  /* the first non-finite value's index, SIZE_MAX while none */
} vscan;

/* The file's bytes as the reader sees them: one buffer (v0 == v1 == 0), or, for av_router_load,
   two: the centroid values, bytes [v0, v1), read straight into an array of their own (mid, from
   av__aligned_alloc, which the router takes as its values array: `taken`), and every other byte
   in `rest` (bytes [0, v0), then [v1, size)). Only the centroid section's values lie in mid: the
   header, the table, the trailer, the centroid prefix and every other section lie in rest
   (plan_section and plan_values make sure of it before such a view is made). */
typedef struct fview {
    const unsigned char *rest;
    unsigned char *mid;
    uint64_t v0, v1;
    size_t size;
    bool taken;
    bool scan_used; /* parse_centroids used the scan's finiteness */
    vscan scan;
} fview;

/* The bytes at file offset off (a section's start: the section lies in one part). */
static const unsigned char *at(const fview *v, uint64_t off)
{
    if (off < v->v0)
        return v->rest + off;
    if (off < v->v1)
        return v->mid + (off - v->v0);
    return v->rest + (off - (v->v1 - v->v0));
}

/* c shifted over n zero-CRC bytes: crc32_combine(c, 0, n), in steps that fit any z_off_t. With
   P(a) the running CRC32 of bytes [0, a), the CRC32 of bytes [a, b) is P(b) ^ crc_shift(P(a),
   b - a) (CRC32 is affine in its input; zlib's crc32_combine(c1, c2, n) = shift(c1, n) ^ c2). */
static uint32_t crc_shift(uint32_t c, uint64_t n)
{
    while (n > 0) {
        uint64_t step = n < ((uint64_t)1 << 30) ? n : ((uint64_t)1 << 30);
        c = (uint32_t)crc32_combine(c, 0, (z_off_t)step);
        n -= step;
    }
    return c;
}

/* Whether the scan covered all of its bytes. */
static bool scan_complete(const vscan *s)
{
    return s->s1 > s->s0 && s->done == s->s1 - s->s0;
}

/* c continued over the file's bytes [from, to), whichever parts they lie in; the scanned values,
   where the range holds all of them, by their CRC from the scan (crc32_combine) instead. */
static uint32_t crc_range(const fview *v, uint32_t c, uint64_t from, uint64_t to)
{
    const vscan *s = &v->scan;
    bool scanned = scan_complete(s);
    while (from < to) {
        if (scanned && from == s->s0 && to >= s->s1) {
            c = crc_shift(c, s->s1 - s->s0) ^ s->crc;
            from = s->s1;
            continue;
        }
        uint64_t stop = to;
        if (scanned && from < s->s0 && s->s0 < stop)
            stop = s->s0;
        if (from < v->v0 && v->v0 < stop)
            stop = v->v0;
        else if (from >= v->v0 && from < v->v1 && v->v1 < stop)
            stop = v->v1;
        c = crc_more(c, at(v, from), (size_t)(stop - from));
        from = stop;
    }
    return c;
}

/* Where the CRC pass records the running CRC32: at byte offset `at`, into *slot. */
typedef struct crc_mark {
    uint64_t at;
    uint32_t *slot;
} crc_mark;

static int cmp_mark(const void *a, const void *b)
{
    uint64_t x = ((const crc_mark *)a)->at, y = ((const crc_mark *)b)->at;
    return x < y ? -1 : x > y;
}

/* The file's one CRC32 pass over [0, size - 8): the whole-file CRC, and the CRC of the stored
   bytes of every table entry that lies within those bytes (sec[i], else 0), derived from the
   running CRC recorded at each entry's first and end offsets, so that no byte is read twice. The
   table is not trusted yet (its CRC is being computed): entries are only bounds-checked to choose
   where to record; the table checks come after the whole-file CRC, as docs/FORMAT.md orders them. */
static uint32_t crc_pass(const fview *v, uint32_t sec[AV_MAX_SECTIONS])
{
    const unsigned char *f = v->rest; /* the header and the table */
    uint64_t end = v->size - AV_TRAILER_SIZE;
    uint32_t nsec = get32(f + HDR_SECTIONS);
    if (nsec > AV_MAX_SECTIONS || AV_HEADER_SIZE + (uint64_t)nsec * AV_SECTION_ENTRY_SIZE > end)
        nsec = 0; /* refused after the CRC check; no section CRC is needed */
    uint64_t len[AV_MAX_SECTIONS];
    uint32_t first[AV_MAX_SECTIONS], last[AV_MAX_SECTIONS];
    crc_mark marks[2 * AV_MAX_SECTIONS];
    size_t nm = 0;
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = f + AV_HEADER_SIZE + (size_t)i * AV_SECTION_ENTRY_SIZE;
        uint64_t off = get64(e + ENT_OFFSET);
        len[i] = get64(e + ENT_STORED);
        sec[i] = 0;
        if (off > end || len[i] > end - off || len[i] == 0) {
            len[i] = 0; /* outside (refused in step 6) or empty: CRC 0 */
            continue;
        }
        marks[nm++] = (crc_mark){off, &first[i]};
        marks[nm++] = (crc_mark){off + len[i], &last[i]};
    }
    qsort(marks, nm, sizeof marks[0], cmp_mark);
    uint32_t c = 0; /* the CRC32 of no bytes */
    uint64_t pos = 0;
    for (size_t j = 0; j < nm; j++) {
        c = crc_range(v, c, pos, marks[j].at);
        pos = marks[j].at;
        *marks[j].slot = c;
    }
    c = crc_range(v, c, pos, end);
    for (uint32_t i = 0; i < nsec; i++)
        if (len[i] > 0)
            sec[i] = last[i] ^ crc_shift(first[i], len[i]);
    return c;
}

/* A raw section's raw length is its stored length; a zlib section may claim at most
   AV_MAX_INFLATE_RATIO times its stored bytes. Checked while reading the section table, before the
   router is allocated from the header's counts, so that a short file cannot make the loader
   allocate much more than its own size (docs/SECURITY.md). */
static int check_lengths(uint32_t i, uint32_t id, uint32_t enc, uint64_t sl, uint64_t rl)
{
    if (enc == ENC_RAW ? rl != sl
                       : (rl > sl * AV_MAX_INFLATE_RATIO + AV_INFLATE_SLACK || rl > ULONG_MAX ||
                          sl > ULONG_MAX))
        return av__fail(AV_EFORMAT, "section %u (id %u) claims %llu bytes from %llu stored", i, id,
                        (unsigned long long)rl, (unsigned long long)sl);
    return AV_OK;
}

/* The section's bytes, inflated if needed, into *owned (freed by the caller) or pointing into the
   file. The expected raw length is known from the header for every section we read. */
static int sec_bytes(const fview *file, const sec_view *v, const char *what,
                     const unsigned char **bytes, unsigned char **owned)
{
    *owned = NULL;
    const unsigned char *src = at(file, v->offset);
    if (v->computed != v->crc)
        return av__fail(AV_ECHECKSUM, "%s section CRC32 mismatch", what);
    if (v->encoding == ENC_RAW) { /* lengths already matched by check_lengths */
        *bytes = src;
        return AV_OK;
    }
    unsigned char *buf = malloc(v->raw_len ? (size_t)v->raw_len : 1);
    if (!buf)
        return av__fail(AV_ENOMEM, "%s section of %llu bytes", what,
                        (unsigned long long)v->raw_len);
    uLongf out_len = (uLongf)v->raw_len;
    uLong in_len = (uLong)v->stored_len; /* uncompress2 sets it to the bytes the stream used */
    int zr = uncompress2(buf, &out_len, src, &in_len);
    if (zr == Z_MEM_ERROR) { /* zlib's own state could not be allocated: not the file's fault */
        free(buf);
        return av__fail(AV_ENOMEM, "inflating the %s section", what);
    }
    if (zr != Z_OK || out_len != v->raw_len || in_len != v->stored_len) {
        free(buf);
        return av__fail(AV_EFORMAT,
                        "%s section does not inflate to its %llu bytes or has bytes after its zlib "
                        "stream (zlib %d)",
                        what, (unsigned long long)v->raw_len, zr);
    }
    *bytes = buf;
    *owned = buf;
    return AV_OK;
}

static int parse_models(av_router *r, const unsigned char *p, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < r->st.m; i++) {
        if (n - pos < 2)
            return av__fail(AV_EFORMAT, "model section ends inside name %zu", i);
        size_t l = get16(p + pos);
        pos += 2;
        if (l == 0 || l > AV_MAX_NAME || n - pos < l)
            return av__fail(AV_EFORMAT, "model name %zu has bad length %zu", i, l);
        if (memchr(p + pos, 0, l))
            return av__fail(AV_EFORMAT, "model name %zu contains a NUL byte", i);
        if (!(r->names[i] = malloc(l + 1)))
            return av__fail(AV_ENOMEM, "model name");
        memcpy(r->names[i], p + pos, l);
        r->names[i][l] = '\0';
        pos += l;
    }
    if (pos != n)
        return av__fail(AV_EFORMAT, "model section has %zu trailing bytes", n - pos);
    return av__check_names((const char *const *)r->names, r->st.m) == AV_OK
               ? AV_OK
               : av__fail_context(AV_EFORMAT, "model section");
}

/* The index of the first of n little-endian floats of `width` bytes (4: f32, 2: f16) at p whose
   exponent bits (mask) are all set (Inf or NaN), or n. Blocks are scanned without branches (a
   loop the compiler vectorises) and only a block that holds one is searched. */
static size_t first_nonfinite(const unsigned char *p, size_t n, size_t width, uint32_t mask)
{
    enum { BLOCK = 256 };
    /* the scan loads words in the machine's order and tests them against the mask in that order
       (the mask's little-endian bytes read as a machine word), so that it needs no byte swaps */
    unsigned char mb[4];
    put32(mb, mask);
    uint32_t m32;
    uint16_t m16;
    memcpy(&m32, mb, 4);
    memcpy(&m16, mb, 2);
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t e = n - b < BLOCK ? n : b + BLOCK, len = e - b; /* BLOCK but in the last block */
        const unsigned char *q = p + width * b;
        uint32_t any = 0;
        if (width == 4 && len == BLOCK) /* a constant count: the compiler vectorises it */
            for (size_t t = 0; t < BLOCK; t++) {
                uint32_t u;
                memcpy(&u, q + 4 * t, 4);
                any |= (u & m32) == m32;
            }
        else if (width == 4)
            for (size_t t = 0; t < len; t++) {
                uint32_t u;
                memcpy(&u, q + 4 * t, 4);
                any |= (u & m32) == m32;
            }
        else
            for (size_t t = 0; t < len; t++) {
                uint16_t u;
                memcpy(&u, q + 2 * t, 2);
                any |= (uint32_t)((u & m16) == m16);
            }
        if (!any)
            continue;
        for (size_t t = b; t < e; t++)
            if (((width == 4 ? get32(p + 4 * t) : get16(p + 2 * t)) & mask) == mask)
                return t;
    }
    return n;
}

/* The scan of the values [v0, v1) of the centroid section (plan_values chose them) whose prefix
   is at pre (its first centroid_prefix bytes). The type,
   flags, members and counts are not trusted here: they only say how to scan, and each result is
   used only where the checks later find the same (parse_centroids). */
static void scan_start(vscan *s, uint64_t v0, uint64_t v1, const unsigned char *pre)
{
    uint32_t type = get32(pre + CEN_TYPE);
    memset(s, 0, sizeof *s);
    s->s0 = v0;
    s->s1 = v1;
    s->first_bad = SIZE_MAX;
    s->width = type == AV_CENTROIDS_F32 ? 4 : type == AV_CENTROIDS_F16 ? 2 : 1;
    s->mask = type == AV_CENTROIDS_F32 ? 0x7F800000u : type == AV_CENTROIDS_F16 ? 0x7C00u : 0;
}

/* The next n scanned bytes, at p (in the cache: just read or about to be). Every block but the
   last is a multiple of SCAN_BLOCK bytes, so blocks hold whole values. */
static void scan_block(vscan *s, const unsigned char *p, size_t n)
{
    s->crc = crc_more(s->crc, p, n);
    if (s->mask) {
        size_t cnt = n / s->width;
        if (s->first_bad == SIZE_MAX) {
            /* f32 in the machine's order and aligned: the kernels' |x| maximum says whether any
               exponent is all ones (>= 0x7F800000); only then is the block searched */
            bool any = true;
            if (s->width == 4 && av__host_le() && (uintptr_t)p % 4 == 0)
                any = av__kernels()->absmax_bits((const float *)(const void *)p, cnt) >=
                      0x7F800000u;
            size_t bad = any ? first_nonfinite(p, cnt, s->width, s->mask) : cnt;
            if (bad < cnt)
                s->first_bad = (size_t)(s->done / s->width) + bad;
        }
    }
    s->done += n;
}

static bool plan_section(const unsigned char *head, size_t hn, size_t size, uint64_t *off,
                         uint64_t *sl);
static bool plan_values(const unsigned char *head, uint64_t off, uint64_t sl,
                        const unsigned char *pre, uint64_t *v0, uint64_t *v1);

/* The scan of a view that is one buffer in memory (av_router_load_buffer, _mapped, and a file
   av_router_load read whole), where plan_section and plan_values find the values as they would
   for av_router_load; nothing where they do not. */
static void scan_view(fview *v)
{
    const unsigned char *f = v->rest;
    uint64_t off, sl, v0, v1;
    if (v->mid != NULL || !plan_section(f, v->size, v->size, &off, &sl) ||
        !plan_values(f, off, sl, f + off, &v0, &v1))
        return;
    scan_start(&v->scan, v0, v1, f + off);
    for (uint64_t b = v0; b < v1; b += SCAN_BLOCK)
        scan_block(&v->scan, f + b, (size_t)(v1 - b < SCAN_BLOCK ? v1 - b : SCAN_BLOCK));
}

/* The index of the first of the n values of `width` bytes at file offset voff (at p) that is not
   finite, or n: from the scan where it covered exactly these bytes as such values (scan_used),
   else by first_nonfinite now. */
static size_t nonfinite(fview *v, uint64_t voff, const unsigned char *p, size_t n, size_t width,
                        uint32_t mask)
{
    const vscan *s = &v->scan;
    if (scan_complete(s) && s->s0 == voff && s->s1 - s->s0 == (uint64_t)n * width &&
        s->width == width && s->mask == mask) {
        v->scan_used = true;
        return s->first_bad == SIZE_MAX ? n : s->first_bad;
    }
    return first_nonfinite(p, n, width, mask);
}

/* Whether the values array of `width`-byte elements can be the file's bytes at p in place (a
   mapped load): the file's order is the machine's, and p is aligned for the element type. */
static bool can_borrow(bool borrow, const unsigned char *p, size_t width)
{
    return borrow && av__host_le() && (uintptr_t)p % width == 0;
}

/* Let the index's values array (of its type, allocated by av__router_alloc) be the file's bytes
   at p: the allocation is released and the index marks the array as not its own. The pages are
   read-only: the library never writes loaded centroids. */
static void borrow_values(av_index *ix, const unsigned char *p)
{
    void *v = (void *)(uintptr_t)p;
    switch (ix->centroid_type) {
    case AV_CENTROIDS_F32:
        av__aligned_free(ix->centroids);
        ix->centroids = v;
        break;
    case AV_CENTROIDS_F16:
        av__aligned_free(ix->centroids_f16);
        ix->centroids_f16 = v;
        break;
    default:
        av__aligned_free(ix->centroids_i8);
        ix->centroids_i8 = v;
        break;
    }
    ix->borrowed = true;
}

/* Whether the `bytes` value bytes at file offset voff are the view's own array (mid: read there
   by av_router_load), which the router then takes as its values array instead of a copy. */
static bool can_take(const fview *v, uint64_t voff, size_t bytes)
{
    return v->mid != NULL && voff == v->v0 && v->v1 - v->v0 == bytes;
}

/* Let the index's values array (of its type, allocated by av__router_alloc and never written) be
   the view's mid array, which the router owns from now on (freed with the index). */
static void take_values(av_index *ix, fview *v)
{
    switch (ix->centroid_type) {
    case AV_CENTROIDS_F32:
        av__aligned_free(ix->centroids);
        ix->centroids = (float *)(void *)v->mid;
        break;
    case AV_CENTROIDS_F16:
        av__aligned_free(ix->centroids_f16);
        ix->centroids_f16 = (uint16_t *)(void *)v->mid;
        break;
    default:
        av__aligned_free(ix->centroids_i8);
        ix->centroids_i8 = (int8_t *)(void *)v->mid;
        break;
    }
    v->taken = true;
}

/* n float values of `width` bytes (4: f32, 2: f16, whose exponent bits are mask) at p into the
   index's values array dst: checked finite, then used in place (borrow), taken (the view's own
   array: converted in place to the machine's order, nothing to do on a little-endian machine),
   copied (a little-endian machine) or converted. */
static int take_floats(av_index *ix, void *dst, fview *v, uint64_t voff, const unsigned char *p,
                       size_t n, size_t width, uint32_t mask, bool borrow, bool take)
{
    size_t bad = nonfinite(v, voff, p, n, width, mask);
    if (bad < n)
        return av__fail(AV_EFORMAT, "%scentroid value %zu is not finite", width == 2 ? "f16 " : "",
                        bad);
    if (can_borrow(borrow, p, width)) {
        borrow_values(ix, p);
        return AV_OK;
    }
    if (take)
        dst = v->mid; /* == p */
    if (av__host_le()) { /* the file's bytes are the storage's */
        if (!take)
            memcpy(dst, p, n * width);
    } else { /* element by element, so that it also converts in place (dst == p) */
        unsigned char *d = dst;
        for (size_t t = 0; t < n; t++) {
            uint32_t u = width == 4 ? get32(p + 4 * t) : get16(p + 2 * t);
            uint16_t h = (uint16_t)u;
            memcpy(d + width * t, width == 4 ? (const void *)&u : (const void *)&h, width);
        }
    }
    if (take)
        take_values(ix, v);
    return AV_OK;
}

/* The centroid values of the (raw) section at file offset off; with borrow (a mapped file), used
   in place where they can be; where the view read them into their own array (mid), taken. */
static int parse_centroids(av_router *r, fview *v, uint64_t off, bool borrow)
{
    size_t k = r->ix.k, dim = r->ix.dim, kd = k * dim;
    const unsigned char *p = at(v, off); /* the prefix and int8's scales lie before the values */
    uint32_t flags = get32(p + 4);       /* checked against the type before allocation */
    p += centroid_prefix(flags);
    uint64_t voff = off + centroid_prefix(flags); /* the values' file offset */
    size_t width = r->ix.centroid_type == AV_CENTROIDS_F32   ? 4
                   : r->ix.centroid_type == AV_CENTROIDS_F16 ? 2
                                                             : 1;
    if (width == 1)
        voff += 4 * (uint64_t)k + ((flags & AV_CFLAG_COLSCALE) ? 4 * (uint64_t)dim : 0);
    bool take = can_take(v, voff, kd * width);
    /* plan_values made mid exactly the values: anything else would read across the parts */
    if (v->mid != NULL && !take)
        return av__fail(AV_EFORMAT, "centroid values are not where the file's table said");
    const unsigned char *vals = at(v, voff);
    switch (r->ix.centroid_type) {
    case AV_CENTROIDS_F32:
        return take_floats(&r->ix, r->ix.centroids, v, voff, vals, kd, 4, 0x7F800000u, borrow,
                           take);
    case AV_CENTROIDS_F16:
        return take_floats(&r->ix, r->ix.centroids_f16, v, voff, vals, kd, 2, 0x7C00u, borrow,
                           take);
    default:
        for (size_t j = 0; j < k; j++) {
            float s = getf32(p + 4 * j);
            if (!isfinite(s) || s < 0.0f)
                return av__fail(AV_EFORMAT, "int8 scale %zu is invalid", j);
            r->ix.centroid_scale[j] = s;
        }
        p += 4 * k;
        for (size_t t = 0; t < dim; t++) {
            /* a 1.0 file has no per-dimension scales: all 1 */
            float s = (flags & AV_CFLAG_COLSCALE) ? getf32(p + 4 * t) : 1.0f;
            if (!isfinite(s) || !(s > 0.0f))
                return av__fail(AV_EFORMAT, "int8 dimension scale %zu is invalid", t);
            r->ix.centroid_colscale[t] = s;
        }
        if (borrow && !memchr(vals, 0x80, kd)) { /* no -128 to map to -127: usable in place */
            borrow_values(&r->ix, vals);
            break;
        }
        if (take)
            take_values(&r->ix, v); /* its -128s become -127 below */
        else
            memcpy(r->ix.centroids_i8, vals, kd);
        av__index_int8_derive(&r->ix);
        break;
    }
    return AV_OK;
}

static int parse_stats(av_router *r, const unsigned char *p)
{
    size_t km = r->ix.k * r->st.m;
    for (size_t t = 0; t < km; t++) {
        double c = getf64(p + 8 * t), s = getf64(p + 8 * (km + t)), q = getf64(p + 8 * (2 * km + t));
        if (!av__stat_ok(c, s, q, AV_STAT_MAX_MEAN_LOAD))
            return av__fail(AV_EFORMAT, "statistics of cluster %zu, model %zu are invalid "
                                        "(count=%g, sum_score=%g, sum_cost=%g)",
                            t / r->st.m, t % r->st.m, c, s, q);
        r->st.count[t] = c;
        r->st.sum_score[t] = s;
        r->st.sum_cost[t] = q;
    }
    return AV_OK;
}

/* The user's metadata. The keys 0.x stored the settings and derived values under are taken out
   (legacy[i], malloc'ed, for the caller to read as settings): they never reach the user's
   metadata. */
static int parse_meta(av_router *r, const unsigned char *p, size_t n, char **legacy)
{
    if (n < 4)
        return av__fail(AV_EFORMAT, "metadata section shorter than its count");
    uint32_t cnt = get32(p);
    if (cnt > AV_MAX_META + AV_LEGACY_KEYS)
        return av__fail(AV_EFORMAT, "%u metadata entries (limit %u)", cnt, AV_MAX_META);
    size_t pos = 4;
    char key[AV_MAX_NAME + 1];
    for (uint32_t i = 0; i < cnt; i++) {
        if (n - pos < 2)
            return av__fail(AV_EFORMAT, "metadata ends inside entry %u", i);
        size_t kl = get16(p + pos);
        pos += 2;
        if (kl == 0 || kl > AV_MAX_NAME || n - pos < kl + 4)
            return av__fail(AV_EFORMAT, "metadata key %u has bad length", i);
        memcpy(key, p + pos, kl);
        key[kl] = '\0';
        pos += kl;
        size_t vl = get32(p + pos);
        pos += 4;
        if (vl > AV_MAX_META_VALUE || n - pos < vl)
            return av__fail(AV_EFORMAT, "metadata value %u has bad length", i);
        if (memchr(key, 0, kl) || memchr(p + pos, 0, vl))
            return av__fail(AV_EFORMAT, "metadata entry %u contains a NUL byte", i);
        char *val = malloc(vl + 1);
        if (!val)
            return av__fail(AV_ENOMEM, "metadata value");
        memcpy(val, p + pos, vl);
        val[vl] = '\0';
        pos += vl;
        int lk = av__settings_legacy_key(key), rc = AV_OK;
        if (lk >= 0) { /* a 0.x setting or derived value: the last one wins, as set_meta did */
            free(legacy[lk]);
            legacy[lk] = val;
            continue;
        }
        rc = av__meta_set(r, key, val);
        free(val);
        if (rc == AV_EINVAL || rc == AV_ELIMIT)
            return av__fail_context(AV_EFORMAT, "metadata entry %u", i);
        if (rc)
            return rc;
    }
    if (pos != n)
        return av__fail(AV_EFORMAT, "metadata section has %zu trailing bytes", n - pos);
    return AV_OK;
}

/* The prices section (docs/FORMAT.md, section 6): each record's model in range and unique, its
   unit known, its values finite and >= 0, the fields of the other unit zero. */
static int parse_prices(av_router *r, const unsigned char *p, size_t n)
{
    if (n < 4)
        return av__fail(AV_EFORMAT, "prices section shorter than its count");
    uint32_t cnt = get32(p);
    if (cnt > r->st.m || n != 4 + (size_t)cnt * PRICE_RECORD)
        return av__fail(AV_EFORMAT, "prices section of %zu bytes holds %u records for %zu models",
                        n, cnt, r->st.m);
    p += 4;
    for (uint32_t t = 0; t < cnt; t++, p += PRICE_RECORD) {
        uint32_t i = get32(p);
        av_price q = {(uint32_t)sizeof q, get32(p + 4), getf64(p + 8), getf64(p + 16),
                      getf64(p + 24), getf64(p + 32), getf64(p + 40)};
        double per_query;
        if (i >= r->st.m || av__price_of(r, i))
            return av__fail(AV_EFORMAT, "price record %u: model %u is out of range (%zu models) "
                                        "or has a price already", t, i, r->st.m);
        bool other_zero = q.unit == AV_PRICE_PER_QUERY
                              ? q.input_price == 0.0 && q.output_price == 0.0 &&
                                    q.input_tokens == 0.0 && q.output_tokens == 0.0
                              : q.cost_per_query == 0.0;
        if (!av__price_ok(&q, &per_query) || !other_zero)
            return av__fail(AV_EFORMAT, "price record %u (model %u): unit %u, values %g %g %g %g "
                                        "%g (unit 1 or 2; finite, >= 0; the other unit's zero)",
                            t, i, q.unit, q.cost_per_query, q.input_price, q.output_price,
                            q.input_tokens, q.output_tokens);
        int rc = av__price_store(r, i, &q);
        if (rc)
            return rc;
    }
    return AV_OK;
}

/* With borrow (the view is one read-only file mapping that the router will own), the centroid
   values are used in place where they can be (parse_centroids); where the view holds them in an
   array of their own (av_router_load), the router takes that array. The checks are the same. */
static int deserialize(av_router **out, fview *v, bool borrow)
{
    const unsigned char *f = v->rest; /* the header and the table (before v0) */
    size_t size = v->size;
    *out = NULL;
    if (size < AV_HEADER_SIZE + AV_TRAILER_SIZE || memcmp(f, AV_MAGIC, 8) != 0)
        return av__fail(AV_EFORMAT, "not a router file (bad magic or %zu bytes)", size);
    unsigned major = get16(f + HDR_MAJOR), minor = get16(f + HDR_MINOR);
    if (major != AV_FORMAT_MAJOR)
        return av__fail(AV_EVERSION, "file format %u.%u; this library reads major version %u",
                        major, minor, AV_FORMAT_MAJOR);
    if (get64(f + HDR_FILE_SIZE) != size)
        return av__fail(AV_EFORMAT, "header says %llu bytes, file has %zu (truncated?)",
                        (unsigned long long)get64(f + HDR_FILE_SIZE), size);
    if (get32(at(v, size - TRL_END)) != AV_END_MAGIC)
        return av__fail(AV_EFORMAT, "missing end marker (truncated?)");
    uint32_t sec_crc[AV_MAX_SECTIONS];
    if (!v->scan.s1) /* av_router_load scanned its values while reading them */
        scan_view(v);
    if (get32(at(v, size - TRL_CRC)) != crc_pass(v, sec_crc))
        return av__fail(AV_ECHECKSUM, "file CRC32 mismatch");
    uint32_t flags = get32(f + HDR_FLAGS), dim = get32(f + HDR_DIM), k = get32(f + HDR_CLUSTERS);
    uint32_t m = get32(f + HDR_MODELS);
    uint32_t top_p = get32(f + HDR_TOP_P), nsec = get32(f + HDR_SECTIONS);
    uint32_t hsize = get32(f + HDR_SIZE);
    if ((flags & ~AV_FLAG_SETTINGS) != 0 || hsize != AV_HEADER_SIZE)
        return av__fail(AV_EFORMAT, "unknown flags 0x%x or header size %u", flags, hsize);
    /* the reserved bytes after the 64-bit file size (which may exceed 4 GiB) */
    for (size_t t = HDR_RESERVED; t < AV_HEADER_SIZE; t++)
        if (f[t] != 0)
            return av__fail(AV_EFORMAT, "reserved header byte %zu is not zero", t);
    if (nsec == 0 || nsec > AV_MAX_SECTIONS ||
        AV_HEADER_SIZE + (uint64_t)nsec * AV_SECTION_ENTRY_SIZE > size - AV_TRAILER_SIZE)
        return av__fail(AV_EFORMAT, "%u sections do not fit", nsec);
    if (dim == 0 || dim > AV_MAX_DIM || k == 0 || k > AV_MAX_CLUSTERS || m == 0 || m > AV_MAX_MODELS)
        return av__fail(AV_EFORMAT, "dim=%u n_clusters=%u n_models=%u outside the limits", dim, k, m);

    sec_view sv[SEC_LAST + 1];
    memset(sv, 0, sizeof sv);
    uint64_t data_start = AV_HEADER_SIZE + (uint64_t)nsec * AV_SECTION_ENTRY_SIZE;
    uint64_t data_end = size - AV_TRAILER_SIZE;
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = f + AV_HEADER_SIZE + (size_t)i * AV_SECTION_ENTRY_SIZE;
        uint32_t id = get32(e + ENT_ID), enc = get32(e + ENT_ENCODING);
        uint64_t off = get64(e + ENT_OFFSET), sl = get64(e + ENT_STORED), rl = get64(e + ENT_RAW);
        if (off < data_start || off > data_end || sl > data_end - off)
            return av__fail(AV_EFORMAT, "section %u (id %u) lies outside the file", i, id);
        if (enc != ENC_RAW && enc != ENC_ZLIB)
            return av__fail(AV_EFORMAT, "section %u has unknown encoding %u", i, enc);
        if (get32(e + ENT_RESERVED) != 0)
            return av__fail(AV_EFORMAT, "section %u has a non-zero reserved field", i);
        if (id < SEC_MODELS || id > SEC_LAST)
            continue; /* unknown section from a newer minor version: skipped (still checksummed) */
        if (sv[id].present)
            return av__fail(AV_EFORMAT, "section id %u appears twice", id);
        int lrc = check_lengths(i, id, enc, sl, rl);
        if (lrc)
            return lrc;
        sv[id] = (sec_view){enc, off, sl, rl, get32(e + ENT_CRC), sec_crc[i], true};
    }
    static const char *const names[] = {"", "model", "centroid", "statistics", "metadata"};
    for (int id = SEC_MODELS; id <= SEC_STATS; id++)
        if (!sv[id].present)
            return av__fail(AV_EFORMAT, "required %s section is missing", names[id]);
    if (sv[SEC_SETTINGS].present != ((flags & AV_FLAG_SETTINGS) != 0))
        return av__fail(AV_EFORMAT, "the settings section and header flag bit 0 disagree");

    /* Exact lengths from the header's counts, before anything is allocated. */
    size_t km = (size_t)k * m, kd = (size_t)k * dim;
    if (sv[SEC_STATS].raw_len != (uint64_t)km * 24)
        return av__fail(AV_EFORMAT, "statistics section has %llu bytes, expected %zu",
                        (unsigned long long)sv[SEC_STATS].raw_len, km * 24);
    if (sv[SEC_MODELS].raw_len > (uint64_t)m * (2 + AV_MAX_NAME))
        return av__fail(AV_EFORMAT, "model section is too long");
    /* The centroid type is the first word of the (raw) centroid section. */
    if (sv[SEC_CENTROIDS].encoding != ENC_RAW || sv[SEC_CENTROIDS].stored_len < 8)
        return av__fail(AV_EFORMAT, "centroid section must be raw and at least 8 bytes");
    const unsigned char *cen = at(v, sv[SEC_CENTROIDS].offset); /* its prefix lies before v0 */
    uint32_t ctype = get32(cen + CEN_TYPE), cflags = get32(cen + CEN_FLAGS);
    if (ctype > AV_CENTROIDS_INT8 || (cflags & ~centroid_flags(ctype)) != 0)
        return av__fail(AV_EFORMAT, "unknown centroid type %u (flags %u)", ctype, cflags);
    if (sv[SEC_CENTROIDS].raw_len != centroid_bytes(ctype, cflags, k, dim))
        return av__fail(AV_EFORMAT, "centroid section has %llu bytes, expected %zu",
                        (unsigned long long)sv[SEC_CENTROIDS].raw_len,
                        centroid_bytes(ctype, cflags, k, dim));
    uint32_t members = 1;
    if (cflags & AV_CFLAG_MEMBERS) { /* the section is raw and holds at least the prefix */
        members = get32(cen + CEN_MEMBERS);
        if (members < 2 || members > AV_MAX_MEMBERS || k % members != 0 ||
            get32(cen + CEN_ZERO) != 0)
            return av__fail(AV_EFORMAT, "ensemble of %u members for %u clusters (2..%u dividing "
                                        "it, and a zero word)", members, k, AV_MAX_MEMBERS);
    }
    (void)kd;

    av_router *r = NULL;
    int rc = av__router_alloc(&r, dim, k, m, top_p, ctype);
    if (rc)
        return rc == AV_EINVAL ? av__fail_context(AV_EFORMAT, "header") : rc;
    if ((rc = av__router_set_members(r, members)) != AV_OK) {
        av_router_free(r);
        return av__fail_context(AV_EFORMAT, "header");
    }
    const unsigned char *b;
    unsigned char *owned = NULL;
    if ((rc = sec_bytes(v, &sv[SEC_MODELS], "model", &b, &owned)) == AV_OK)
        rc = parse_models(r, b, (size_t)sv[SEC_MODELS].raw_len);
    free(owned);
    owned = NULL;
    if (rc == AV_OK && (rc = sec_bytes(v, &sv[SEC_CENTROIDS], "centroid", &b, &owned)) == AV_OK)
        rc = parse_centroids(r, v, sv[SEC_CENTROIDS].offset, borrow);
    free(owned);
    owned = NULL;
    if (rc == AV_OK && (rc = sec_bytes(v, &sv[SEC_STATS], "statistics", &b, &owned)) == AV_OK)
        rc = parse_stats(r, b);
    free(owned);
    owned = NULL;
    char *legacy[AV_LEGACY_KEYS] = {NULL};
    if (rc == AV_OK && sv[SEC_META].present &&
        (rc = sec_bytes(v, &sv[SEC_META], "metadata", &b, &owned)) == AV_OK)
        rc = parse_meta(r, b, (size_t)sv[SEC_META].raw_len, legacy);
    free(owned);
    owned = NULL;
    /* the routing settings: the typed section, or a 0.x file's metadata strings (a file with a
       settings section ignores such strings: no 1.x writer puts them there) */
    if (rc == AV_OK && sv[SEC_SETTINGS].present) {
        if ((rc = sec_bytes(v, &sv[SEC_SETTINGS], "settings", &b, &owned)) == AV_OK)
            rc = av__settings_read(&r->est, b, (size_t)sv[SEC_SETTINGS].raw_len);
        free(owned);
    } else if (rc == AV_OK) {
        rc = av__settings_read_legacy(&r->est, legacy);
    }
    for (int i = 0; i < AV_LEGACY_KEYS; i++)
        free(legacy[i]);
    owned = NULL;
    if (rc == AV_OK && sv[SEC_PRICES].present &&
        (rc = sec_bytes(v, &sv[SEC_PRICES], "prices", &b, &owned)) == AV_OK)
        rc = parse_prices(r, b, (size_t)sv[SEC_PRICES].raw_len);
    free(owned);
    if (rc == AV_OK && (rc = av__router_refresh_stats(r)) == AV_EEMPTY)
        rc = av__fail_context(AV_EFORMAT, NULL);
    /* the centroid hash is computed on its first request (av_router_centroid_hash) */
    if (rc != AV_OK) {
        av_router_free(r);
        return rc;
    }
    *out = r;
    return AV_OK;
}

/* One buffer of the file's bytes as a view. */
static fview whole(const unsigned char *f, size_t size)
{
    fview v = {f, NULL, 0, 0, size, false, false, {0}};
    return v;
}

int av__router_deserialize(av_router **out, const unsigned char *f, size_t size)
{
    fview v = whole(f, size);
    return deserialize(out, &v, false);
}

/* ---------------------------------------------------------------------------------------------
 * av_router_load: the centroid values read straight into the array the router keeps
 * ------------------------------------------------------------------------------------------- */
/* The bytes av_router_load reads first: the header and the longest section table (2624 bytes). */
#define AV_LOAD_HEAD 4096u

/* The centroid section av_router_load can read in two parts, from the header and the table
   (head, the file's first hn of size bytes): exactly one table entry with the centroid id, raw,
   after the table and within the checksummed bytes, of at least 8 bytes. Nothing here is trusted
   or reported: it only chooses how the bytes are read (anything else is read as one buffer), and
   the checks that follow are the same either way. */
static bool plan_section(const unsigned char *head, size_t hn, size_t size, uint64_t *off,
                         uint64_t *sl)
{
    if (size < AV_HEADER_SIZE + AV_TRAILER_SIZE || hn < AV_HEADER_SIZE ||
        memcmp(head, AV_MAGIC, 8) != 0)
        return false;
    uint32_t nsec = get32(head + HDR_SECTIONS);
    uint64_t table_end = AV_HEADER_SIZE + (uint64_t)nsec * AV_SECTION_ENTRY_SIZE;
    if (nsec > AV_MAX_SECTIONS || table_end > hn)
        return false;
    int found = 0;
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = head + AV_HEADER_SIZE + (size_t)i * AV_SECTION_ENTRY_SIZE;
        if (get32(e + ENT_ID) != SEC_CENTROIDS)
            continue;
        found++;
        *off = get64(e + ENT_OFFSET);
        *sl = get64(e + ENT_STORED);
        if (get32(e + ENT_ENCODING) != ENC_RAW)
            return false;
    }
    uint64_t end = size - AV_TRAILER_SIZE;
    return found == 1 && *off >= table_end && *off <= end && *sl >= 8 && *sl <= end - *off;
}

/* The values' bytes [*v0, *v1) of that section, from its type and flags (pre: its first 8 bytes)
   and the header's counts: false where they are unknown, leave no value, or where another table
   entry's bytes overlap them (each part must hold every section the checks read but the values). */
static bool plan_values(const unsigned char *head, uint64_t off, uint64_t sl,
                        const unsigned char *pre, uint64_t *v0, uint64_t *v1)
{
    uint32_t type = get32(pre + CEN_TYPE), flags = get32(pre + CEN_FLAGS);
    if (type > AV_CENTROIDS_INT8 || (flags & ~centroid_flags(type)) != 0)
        return false;
    uint64_t lead = centroid_prefix(flags);
    if (type == AV_CENTROIDS_INT8) /* the row scales, then the dimension scales */
        lead += 4 * (uint64_t)get32(head + HDR_CLUSTERS) +
                ((flags & AV_CFLAG_COLSCALE) ? 4 * (uint64_t)get32(head + HDR_DIM) : 0);
    if (lead >= sl)
        return false;
    *v0 = off + lead;
    *v1 = off + sl;
    uint32_t nsec = get32(head + HDR_SECTIONS);
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = head + AV_HEADER_SIZE + (size_t)i * AV_SECTION_ENTRY_SIZE;
        uint64_t o = get64(e + ENT_OFFSET), l = get64(e + ENT_STORED);
        if (get32(e + ENT_ID) != SEC_CENTROIDS && l > 0 && o < *v1 && (o >= *v0 || l > *v0 - o))
            return false;
    }
    return true;
}

/* The file's bytes [from, to) into dst: those among the first hn from head, the rest read. */
static int fill(av_rfile *f, const unsigned char *head, size_t hn, unsigned char *dst,
                uint64_t from, uint64_t to)
{
    if (from < hn && from < to) {
        size_t c = (size_t)((to < hn ? to : hn) - from);
        memcpy(dst, head + from, c);
        dst += c;
        from += c;
    }
    return from < to ? av__rfile_read(f, from, dst, (size_t)(to - from)) : AV_OK;
}

/* Read the open file f for deserialize: the centroid values straight into an array of their own
   (v->mid, av__aligned_alloc) and every other byte into v->rest (the copy of the values into the
   router and a second fresh buffer of the file's size are saved: docs/PERFORMANCE.md, "Load
   time"), or, where plan_section or plan_values say no, the whole file into v->rest. The bytes
   the plan was made from are the bytes checked: head and the centroid prefix are copied into
   rest, not read again. */
static int load_read(av_rfile *f, fview *v)
{
    size_t size = f->size, hn = size < AV_LOAD_HEAD ? size : AV_LOAD_HEAD;
    unsigned char head[AV_LOAD_HEAD], pre[8];
    uint64_t off = 0, sl = 0, v0 = 0, v1 = 0;
    *v = whole(NULL, size);
    int rc = av__rfile_read(f, 0, head, hn);
    if (rc)
        return rc;
    bool split = plan_section(head, hn, size, &off, &sl);
    if (split && off + 8 > hn && (rc = av__rfile_read(f, off, pre, 8)) != AV_OK)
        return rc;
    if (split)
        split = plan_values(head, off, sl, off + 8 > hn ? pre : head + off, &v0, &v1);
    if (!split)
        v0 = v1 = 0;
    unsigned char *rest = av__aligned_alloc(size - (size_t)(v1 - v0));
    unsigned char *mid = split ? av__aligned_alloc((size_t)(v1 - v0)) : NULL;
    if (!rest || (split && !mid)) {
        av__aligned_free(rest);
        av__aligned_free(mid);
        return av__fail(AV_ENOMEM, "%zu bytes for '%s'", size, f->path);
    }
    if (!split) {
        rc = fill(f, head, hn, rest, 0, size);
    } else if ((rc = fill(f, head, hn, rest, 0, v0)) == AV_OK) {
        if (off + 8 > hn) /* the prefix the plan read (it lies before v0) */
            memcpy(rest + off, pre, 8);
        /* the values block by block, each scanned right after its read, while in the cache */
        scan_start(&v->scan, v0, v1, rest + off);
        for (uint64_t b = v0; rc == AV_OK && b < v1; b += SCAN_BLOCK) {
            uint64_t e = v1 - b < SCAN_BLOCK ? v1 : b + SCAN_BLOCK;
            if ((rc = fill(f, head, hn, mid + (b - v0), b, e)) == AV_OK)
                scan_block(&v->scan, mid + (b - v0), (size_t)(e - b));
        }
        if (rc == AV_OK)
            rc = fill(f, head, hn, rest + v0, v1, size);
    }
    if (rc) {
        av__aligned_free(rest);
        av__aligned_free(mid);
        return rc;
    }
    vscan scan = v->scan;
    *v = (fview){rest, mid, v0, v1, size, false, false, scan};
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Public entry points
 * ------------------------------------------------------------------------------------------- */
AV_API int av_router_load_buffer(av_router **out, const void *data, size_t size)
{
    if (!out)
        return av__fail(AV_EINVAL, "out is NULL");
    *out = NULL;
    if (!data)
        return av__fail(AV_EINVAL, "data is NULL");
    return av__router_deserialize(out, data, size);
}

AV_API int av_router_load(av_router **out, const char *path)
{
    if (!out)
        return av__fail(AV_EINVAL, "out is NULL");
    *out = NULL;
    if (!path)
        return av__fail(AV_EINVAL, "path is NULL");
    av_rfile f;
    fview v;
    int rc = av__rfile_open(&f, path, AV_MAX_FILE_SIZE);
    if (rc)
        return rc;
    rc = load_read(&f, &v);
    av__rfile_close(&f);
    if (rc)
        return rc;
    rc = deserialize(out, &v, false);
    av__aligned_free((void *)(uintptr_t)v.rest);
    if (!v.taken) /* else the router's values array now */
        av__aligned_free(v.mid);
    if (rc != AV_OK) /* the parser's code, with the file named */
        av__fail_context(rc, "'%s'", path);
    return rc;
}

AV_API int av_router_load_mapped(av_router **out, const char *path)
{
    if (!out)
        return av__fail(AV_EINVAL, "out is NULL");
    *out = NULL;
    if (!path)
        return av__fail(AV_EINVAL, "path is NULL");
    void *map;
    size_t size;
    int rc = av__file_map(path, AV_MAX_FILE_SIZE, &map, &size);
    if (rc)
        return rc;
    fview v = whole(map ? map : (const void *)"", size);
    rc = deserialize(out, &v, map != NULL);
    if (rc != AV_OK) {
        av__file_unmap(map, size);
        return av__fail_context(rc, "'%s'", path);
    }
    if ((*out)->ix.borrowed) { /* the router owns the mapping now */
        (*out)->ix.map = map;
        (*out)->ix.map_len = size;
    } else {
        av__file_unmap(map, size); /* nothing was usable in place: an ordinary router */
    }
    return AV_OK;
}

AV_API int av_router_save_buffer(const av_router *r, void **data, size_t *size)
{
    if (!r || !data || !size)
        return av__fail(AV_EINVAL, "router, data or size is NULL");
    unsigned char *b;
    int rc = av__router_serialize(r, &b, size);
    if (rc == AV_OK)
        *data = b;
    return rc;
}

AV_API int av_router_save(const av_router *r, const char *path)
{
    if (!r || !path || !*path)
        return av__fail(AV_EINVAL, "router or path is NULL");
    unsigned char *buf;
    size_t size;
    int rc = av__router_serialize(r, &buf, &size);
    if (rc)
        return rc;
    rc = av__file_replace(path, buf, size);
    free(buf);
    return rc;
}
