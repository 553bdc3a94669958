/* .npy and raw float32 readers, see npy.h. The header is a Python dict literal of exactly the
   three keys NumPy writes ('descr', 'fortran_order', 'shape'), read with a small strict parser. */
#include "npy.h"

#include "cli.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/mman.h>
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6u
#define NPY_PREAMBLE_V1 10u /* magic, 2 version bytes, 2-byte header length */
#define NPY_PREAMBLE_V2 12u /* magic, 2 version bytes, 4-byte header length */
#define ZIP_MAGIC "PK\x03\x04"  /* a .npz is a zip archive of .npy files */
#define ZIP_MAGIC_LEN 4u

static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(CLI_PRINTF, 4, 5)));
static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    char what[CLI_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", name, what);
    return -1;
}

void cli_matrix_free(cli_matrix *m)
{
    if (m) {
#ifndef _WIN32
        if (m->map)
            munmap(m->map, m->map_len);
        else
#endif
            free(m->data);
        m->map = NULL;
        m->map_len = 0;
        m->data = NULL;
        m->rows = m->cols = 0;
    }
}

/* The header dict, parsed strictly: exactly the three keys NumPy writes, each once (NumPy's own
   reader refuses any other key set; a duplicate would make the file mean two things), nothing
   but spaces after the dict, and the newline that ends every header. */
typedef struct npy_header {
    const char *descr, *descr_end; /* the quoted dtype string, quotes included */
    int fortran;                   /* 1, 0, or -1 when absent */
    const char *shape;             /* the '(' of the shape tuple */
} npy_header;

static const char *skip_blank(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* A quoted string starting at s (no escapes: NumPy's keys and dtypes need none); the position
   after its closing quote, or NULL. */
static const char *quoted_end(const char *s, const char *e)
{
    if (s >= e || (*s != '\'' && *s != '"'))
        return NULL;
    const char *q = memchr(s + 1, *s, (size_t)(e - s - 1));
    return q ? q + 1 : NULL;
}

static bool word_at(const char *s, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - s) >= n && memcmp(s, w, n) == 0;
}

/* Returns NULL, or what is wrong (a static message or one written into what). */
static const char *parse_header(const char *h, size_t n, npy_header *out, char *what,
                                size_t what_len)
{
    out->descr = out->descr_end = out->shape = NULL;
    out->fortran = -1;
    if (n == 0 || h[n - 1] != '\n')
        return "the .npy header does not end with a newline";
    const char *s = skip_blank(h, h + n - 1), *e = h + n - 1;
    if (s >= e || *s != '{')
        return "the .npy header is not a dict";
    s = skip_blank(s + 1, e);
    while (s < e && *s != '}') {
        const char *ke = quoted_end(s, e), *k = s + 1;
        if (!ke)
            return "bad key in the .npy header";
        size_t kl = (size_t)(ke - k - 1);
        s = skip_blank(ke, e);
        if (s >= e || *s != ':')
            return "bad key in the .npy header";
        s = skip_blank(s + 1, e);
        bool dup;
        if (kl == 5 && memcmp(k, "descr", kl) == 0) {
            dup = out->descr != NULL;
            out->descr = s;
            if (!(out->descr_end = quoted_end(s, e)))
                return "bad 'descr' in the .npy header";
            s = out->descr_end;
        } else if (kl == 13 && memcmp(k, "fortran_order", kl) == 0) {
            dup = out->fortran >= 0;
            out->fortran = word_at(s, e, "True") ? 1 : word_at(s, e, "False") ? 0 : -2;
            if (out->fortran < 0)
                return "bad 'fortran_order' in the .npy header";
            s += out->fortran ? 4 : 5;
        } else if (kl == 5 && memcmp(k, "shape", kl) == 0) {
            dup = out->shape != NULL;
            out->shape = s;
            const char *close = s < e && *s == '(' ? memchr(s, ')', (size_t)(e - s)) : NULL;
            if (!close)
                return "bad 'shape' in the .npy header";
            s = close + 1;
        } else {
            snprintf(what, what_len, "unknown key '%.*s' in the .npy header (NumPy writes only "
                     "'descr', 'fortran_order' and 'shape')", (int)(kl < 64 ? kl : 64), k);
            return what;
        }
        if (dup) {
            snprintf(what, what_len, "key '%.*s' appears twice in the .npy header", (int)kl, k);
            return what;
        }
        s = skip_blank(s, e);
        if (s < e && *s == ',')
            s = skip_blank(s + 1, e);
        else if (!(s < e && *s == '}'))
            return "expected ',' or '}' in the .npy header";
    }
    if (s >= e)
        return "the .npy header dict is not closed";
    if (skip_blank(s + 1, e) != e)
        return "text after the dict in the .npy header";
    if (!out->descr || out->fortran < 0 || !out->shape)
        return ".npy header lacks 'descr', 'fortran_order' or 'shape'";
    return NULL;
}

/* Parse "(a, b)" into dims; returns the number of dimensions or -1. */
static int parse_shape(const char *s, const char *end, size_t *dims, int max)
{
    if (s >= end || *s != '(')
        return -1;
    s++;
    int nd = 0;
    for (;;) {
        while (s < end && isspace((unsigned char)*s))
            s++;
        if (s < end && *s == ')')
            return nd;
        if (s >= end || !isdigit((unsigned char)*s) || nd == max)
            return -1;
        size_t v = 0;
        while (s < end && isdigit((unsigned char)*s)) {
            if (v > (SIZE_MAX - 9) / 10)
                return -1;
            v = v * 10 + (size_t)(*s - '0');
            s++;
        }
        dims[nd++] = v;
        while (s < end && isspace((unsigned char)*s))
            s++;
        if (s < end && *s == ',')
            s++;
        else if (!(s < end && *s == ')'))
            return -1;
    }
}

static float load_f32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double load_f64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | p[i];
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int fill(cli_matrix *out, const unsigned char *body, size_t rows, size_t cols, size_t esz,
                const char *name, char *err, size_t errlen)
{
    size_t cells = rows * cols;
    if (!(out->data = malloc((cells ? cells : 1) * sizeof(float))))
        return fail(err, errlen, name, "out of memory for %zu x %zu values", rows, cols);
    for (size_t i = 0; i < cells; i++)
        out->data[i] = esz == 4 ? load_f32(body + i * 4) : (float)load_f64(body + i * 8);
    out->rows = rows;
    out->cols = cols;
    return 0;
}

/* A float32 body read in place: the host is little-endian and the body 4-byte aligned. */
static bool can_view(const unsigned char *body)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1 && (uintptr_t)body % sizeof(float) == 0;
}

static int npy_parse(cli_matrix *out, const void *data, size_t size, const char *name, char *err,
                     size_t errlen, bool view)
{
    const unsigned char *b = data;
    memset(out, 0, sizeof *out);
    name = name ? name : "<npy>";
    if (size >= ZIP_MAGIC_LEN && memcmp(b, ZIP_MAGIC, ZIP_MAGIC_LEN) == 0)
        return fail(err, errlen, name, "a .npz archive (numpy.savez), which holds several arrays; "
                    "save the embedding matrix alone with numpy.save");
    if (size < NPY_PREAMBLE_V1 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return fail(err, errlen, name, "not a .npy file (no .npy magic at its start); "
                    "for raw little-endian float32 rows pass --dim D, or put a sidecar .json "
                    "holding {\"rows\": R, \"dim\": D} beside it");
    unsigned major = b[6];
    size_t hlen, pre;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        pre = NPY_PREAMBLE_V1;
    } else if (major == 2 || major == 3) {
        if (size < NPY_PREAMBLE_V2)
            return fail(err, errlen, name, "truncated .npy preamble");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        pre = NPY_PREAMBLE_V2;
    } else
        return fail(err, errlen, name, ".npy format version %u.%u is not supported", major, b[7]);
    if (hlen > CLI_NPY_MAX_HEADER || hlen > size - pre)
        return fail(err, errlen, name, ".npy header length %zu exceeds the file", hlen);
    const char *h = (const char *)b + pre, *he = h + hlen;
    npy_header hd;
    char what[CLI_ERR_MAX / 2];
    const char *problem = parse_header(h, hlen, &hd, what, sizeof what);
    if (problem)
        return fail(err, errlen, name, "%s", problem);
    size_t esz, dl = (size_t)(hd.descr_end - hd.descr);
    if (dl == 5 && (memcmp(hd.descr + 1, "<f4", 3) == 0))
        esz = 4;
    else if (dl == 5 && (memcmp(hd.descr + 1, "<f8", 3) == 0))
        esz = 8;
    else
        return fail(err, errlen, name,
                    "dtype %.*s is not supported (need little-endian float32 '<f4' or float64 '<f8')",
                    (int)(dl < 32 ? dl : 32), hd.descr);
    if (hd.fortran)
        return fail(err, errlen, name,
                    "array is in Fortran order; save it C-contiguous (numpy.ascontiguousarray)");
    size_t dims[3];
    int nd = parse_shape(hd.shape, he, dims, 3);
    if (nd < 0)
        return fail(err, errlen, name, "bad 'shape' in the .npy header");
    if (nd != 2)
        return fail(err, errlen, name, "array has %d dimensions; expected 2 (rows, dim)", nd);
    size_t rows = dims[0], cols = dims[1], body = size - pre - hlen;
    if (cols == 0 || rows == 0)
        return fail(err, errlen, name, "array shape (%zu, %zu) is empty", rows, cols);
    if (rows > SIZE_MAX / cols || rows * cols > SIZE_MAX / esz || rows * cols * esz != body)
        return fail(err, errlen, name, "shape (%zu, %zu) of %zu-byte values needs a body of a "
                    "different size than the %zu bytes present", rows, cols, esz, body);
    if (view && esz == 4 && can_view(b + pre + hlen)) {
        out->data = (float *)(uintptr_t)(b + pre + hlen);
        out->rows = rows;
        out->cols = cols;
        return 0;
    }
    return fill(out, b + pre + hlen, rows, cols, esz, name, err, errlen);
}

int cli_npy_parse(cli_matrix *out, const void *data, size_t size, const char *name, char *err,
                  size_t errlen)
{
    return npy_parse(out, data, size, name, err, errlen, false);
}

int cli_npy_view(cli_matrix *out, const void *data, size_t size, const char *name, char *err,
                 size_t errlen)
{
    return npy_parse(out, data, size, name, err, errlen, true);
}

int cli_raw_f32_parse(cli_matrix *out, const void *data, size_t size, size_t dim, const char *name,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    name = name ? name : "<raw>";
    if (dim == 0)
        return fail(err, errlen, name, "--dim must be positive");
    if (size >= NPY_MAGIC_LEN && memcmp(data, NPY_MAGIC, NPY_MAGIC_LEN) == 0)
        return fail(err, errlen, name, "a .npy file, whose header gives its shape: --dim is only "
                    "for raw float32 files, drop it");
    size_t row_bytes = dim * sizeof(float);
    if (dim > SIZE_MAX / sizeof(float) || size == 0 || size % row_bytes != 0)
        return fail(err, errlen, name, "%zu bytes is not a whole number of rows of %zu float32 "
                    "(%zu bytes each); check --dim", size, dim, row_bytes);
    return fill(out, data, size / row_bytes, dim, 4, name, err, errlen);
}
