/* A byte-level view of a router file (docs/FORMAT.md) for tests and fuzz targets: split a file into
   its sections, rewrite the section table, offsets and checksums (an independent writer of the
   layout), and recompute the checksums of a corrupted copy. */
#ifndef AV_AVFILE_H
#define AV_AVFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- the file layout (docs/FORMAT.md) ---- */
#define SR_HEADER 64u
#define SR_ENTRY 40u
#define SR_TRAILER 8u
#define SR_ALIGN 8u
#define SR_END_MAGIC 0x52564145u
#define SR_MAX_SECS 16u

static inline uint32_t sr_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t sr_get64(const unsigned char *p)
{
    return (uint64_t)sr_get32(p) | ((uint64_t)sr_get32(p + 4) << 32);
}
static inline void sr_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void sr_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

typedef struct sr_sec {
    uint32_t id, enc;
    unsigned char *stored; /* owned */
    size_t stored_len;
    uint64_t raw_len;
} sr_sec;

typedef struct sr_file {
    unsigned char header[SR_HEADER];
    sr_sec secs[SR_MAX_SECS];
    size_t nsec;
} sr_file;

static inline void sr_file_free(sr_file *f)
{
    for (size_t i = 0; i < f->nsec; i++)
        free(f->secs[i].stored);
    f->nsec = 0;
}

/* Split a valid file into header and sections. 0 on success. */
static inline int sr_split(sr_file *out, const unsigned char *f, size_t n)
{
    memset(out, 0, sizeof *out);
    if (n < SR_HEADER + SR_TRAILER)
        return -1;
    memcpy(out->header, f, SR_HEADER);
    uint32_t nsec = sr_get32(f + 32);
    if (nsec > SR_MAX_SECS || SR_HEADER + (size_t)nsec * SR_ENTRY > n)
        return -1;
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = f + SR_HEADER + (size_t)i * SR_ENTRY;
        uint64_t off = sr_get64(e + 8), sl = sr_get64(e + 16);
        if (off > n || sl > n - off) {
            sr_file_free(out);
            return -1;
        }
        sr_sec *s = &out->secs[out->nsec++];
        s->id = sr_get32(e);
        s->enc = sr_get32(e + 4);
        s->raw_len = sr_get64(e + 24);
        s->stored_len = (size_t)sl;
        s->stored = malloc(sl ? sl : 1);
        if (!s->stored) {
            sr_file_free(out);
            return -1;
        }
        memcpy(s->stored, f + off, sl);
    }
    return 0;
}

/* Recompute every section CRC whose range lies inside the file, then the file CRC and end
   marker: what a corrupted file looks like when the corruption happened before checksumming. */
static inline void sr_fix_crcs(unsigned char *f, size_t n)
{
    if (n < SR_HEADER + SR_TRAILER)
        return;
    uint32_t nsec = sr_get32(f + 32);
    for (uint32_t i = 0; i < nsec && SR_HEADER + (size_t)(i + 1) * SR_ENTRY <= n - SR_TRAILER;
         i++) {
        unsigned char *e = f + SR_HEADER + (size_t)i * SR_ENTRY;
        uint64_t off = sr_get64(e + 8), sl = sr_get64(e + 16);
        if (off <= n && sl <= n - off)
            sr_put32(e + 32, (uint32_t)crc32(0L, f + off, (uInt)sl));
    }
    sr_put32(f + n - 8, (uint32_t)crc32(0L, f, (uInt)(n - 8)));
    sr_put32(f + n - 4, SR_END_MAGIC);
}

/* Write header + sections with a fresh table, offsets, sizes and CRCs. NULL on failure. */
static inline unsigned char *sr_join(const sr_file *in, size_t *size)
{
    size_t off = SR_HEADER + in->nsec * SR_ENTRY;
    off = (off + SR_ALIGN - 1) / SR_ALIGN * SR_ALIGN;
    size_t offs[SR_MAX_SECS];
    for (size_t i = 0; i < in->nsec; i++) {
        offs[i] = off;
        off = (off + in->secs[i].stored_len + SR_ALIGN - 1) / SR_ALIGN * SR_ALIGN;
    }
    size_t total = off + SR_TRAILER;
    unsigned char *f = calloc(1, total);
    if (!f)
        return NULL;
    memcpy(f, in->header, SR_HEADER);
    sr_put32(f + 32, (uint32_t)in->nsec);
    sr_put64(f + 40, total);
    for (size_t i = 0; i < in->nsec; i++) {
        unsigned char *e = f + SR_HEADER + i * SR_ENTRY;
        sr_put32(e, in->secs[i].id);
        sr_put32(e + 4, in->secs[i].enc);
        sr_put64(e + 8, offs[i]);
        sr_put64(e + 16, in->secs[i].stored_len);
        sr_put64(e + 24, in->secs[i].raw_len);
        memcpy(f + offs[i], in->secs[i].stored, in->secs[i].stored_len);
    }
    sr_fix_crcs(f, total);
    *size = total;
    return f;
}

/* Replace section `i`'s bytes (copied) and encoding. 0 on success. */
static inline int sr_set_section(sr_file *f, size_t i, uint32_t enc, const void *bytes, size_t n,
                          uint64_t raw_len)
{
    unsigned char *c = malloc(n ? n : 1);
    if (!c)
        return -1;
    memcpy(c, bytes, n);
    free(f->secs[i].stored);
    f->secs[i].stored = c;
    f->secs[i].stored_len = n;
    f->secs[i].enc = enc;
    f->secs[i].raw_len = raw_len;
    return 0;
}

/* Index of the section with that id, or -1. */
static inline int sr_find(const sr_file *f, uint32_t id)
{
    for (size_t i = 0; i < f->nsec; i++)
        if (f->secs[i].id == id)
            return (int)i;
    return -1;
}


#endif
