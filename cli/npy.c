/* .npy and raw float32 readers, see npy.h. The header is a Python dict literal; only the three
   keys NumPy writes are read ('descr', 'fortran_order', 'shape'), with a small strict scanner. */
#include "npy.h"

#include "cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6u
#define NPY_PREAMBLE_V1 10u /* magic, 2 version bytes, 2-byte header length */
#define NPY_PREAMBLE_V2 12u /* magic, 2 version bytes, 4-byte header length */

static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
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
        free(m->data);
        m->data = NULL;
        m->rows = m->cols = 0;
    }
}

/* The value text after 'key': in the header dict (NULL if absent). */
static const char *find_key(const char *h, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= n; i++) {
        if ((h[i] == '\'' || h[i] == '"') && memcmp(h + i + 1, key, kl) == 0 &&
            h[i + 1 + kl] == h[i]) {
            size_t j = i + kl + 2;
            while (j < n && isspace((unsigned char)h[j]))
                j++;
            if (j < n && h[j] == ':') {
                j++;
                while (j < n && isspace((unsigned char)h[j]))
                    j++;
                return h + j;
            }
        }
    }
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

int cli_npy_parse(cli_matrix *out, const void *data, size_t size, const char *name, char *err,
                  size_t errlen)
{
    const unsigned char *b = data;
    memset(out, 0, sizeof *out);
    name = name ? name : "<npy>";
    if (size < NPY_PREAMBLE_V1 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return fail(err, errlen, name, "not a .npy file (bad magic)");
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
    const char *descr = find_key(h, hlen, "descr");
    const char *fo = find_key(h, hlen, "fortran_order");
    const char *shape = find_key(h, hlen, "shape");
    if (!descr || !fo || !shape)
        return fail(err, errlen, name, ".npy header lacks 'descr', 'fortran_order' or 'shape'");
    size_t esz;
    size_t left = (size_t)(he - descr);
    if (left >= 5 && (memcmp(descr, "'<f4'", 5) == 0 || memcmp(descr, "\"<f4\"", 5) == 0))
        esz = 4;
    else if (left >= 5 && (memcmp(descr, "'<f8'", 5) == 0 || memcmp(descr, "\"<f8\"", 5) == 0))
        esz = 8;
    else {
        char d[16] = {0};
        size_t k = 0;
        while (k + 1 < sizeof d && descr + k < he && descr[k] != ',' && descr[k] != '}') {
            d[k] = descr[k];
            k++;
        }
        return fail(err, errlen, name,
                    "dtype %s is not supported (need little-endian float32 '<f4' or float64 '<f8')",
                    d);
    }
    if ((size_t)(he - fo) >= 4 && memcmp(fo, "True", 4) == 0)
        return fail(err, errlen, name,
                    "array is in Fortran order; save it C-contiguous (numpy.ascontiguousarray)");
    if (!((size_t)(he - fo) >= 5 && memcmp(fo, "False", 5) == 0))
        return fail(err, errlen, name, "bad 'fortran_order' in the .npy header");
    size_t dims[3];
    int nd = parse_shape(shape, he, dims, 3);
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
    return fill(out, b + pre + hlen, rows, cols, esz, name, err, errlen);
}

int cli_raw_f32_parse(cli_matrix *out, const void *data, size_t size, size_t dim, const char *name,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    name = name ? name : "<raw>";
    if (dim == 0)
        return fail(err, errlen, name, "--dim must be positive");
    size_t row_bytes = dim * sizeof(float);
    if (dim > SIZE_MAX / sizeof(float) || size == 0 || size % row_bytes != 0)
        return fail(err, errlen, name, "%zu bytes is not a whole number of rows of %zu float32",
                    size, dim);
    return fill(out, data, size / row_bytes, dim, 4, name, err, errlen);
}
