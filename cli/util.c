/* Helpers shared by the subcommands: messages, whole-file reading (plain or gzip), option values. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* gzread takes an unsigned int count: read in chunks of this size. */
#define READ_CHUNK ((size_t)1 << 24)
#define GZ_BUFFER (1u << 17)
/* Most alphas accepted from a command line (0:1:0.0001 is 10001). */
#define MAX_ALPHAS 10001u
/* Slack when counting a:b:step values, so that 0:1:0.05 includes 1 despite rounding. */
#define STEP_EPS 1e-9

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("avengers: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) == 1;
}

int cli_read_file(const char *path, unsigned char **data, size_t *size, char *err, size_t errlen)
{
    *data = NULL;
    *size = 0;
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 errno ? strerror(errno) : "out of memory");
        return -1;
    }
    gzbuffer(f, GZ_BUFFER);
    size_t cap = 0, n = 0;
    unsigned char *buf = NULL;
    for (;;) {
        if (cap - n < READ_CHUNK) {
            size_t ncap = cap ? cap * 2 : READ_CHUNK;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                gzclose(f);
                snprintf(err, errlen, "%s: out of memory after %zu bytes", path, n);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        int got = gzread(f, buf + n, (unsigned)READ_CHUNK);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            snprintf(err, errlen, "%s: read error: %s", path,
                     zerr == Z_ERRNO ? strerror(errno) : msg);
            free(buf);
            gzclose(f);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    int zerr;
    const char *msg = gzerror(f, &zerr);
    if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
        snprintf(err, errlen, "%s: read error: %s", path, msg);
        free(buf);
        gzclose(f);
        return -1;
    }
    if (zerr == Z_BUF_ERROR) {
        snprintf(err, errlen, "%s: truncated gzip data", path);
        free(buf);
        gzclose(f);
        return -1;
    }
    gzclose(f);
    *data = buf;
    *size = n;
    return 0;
}

bool cli_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool cli_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    if (!s || !*s)
        return false;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

int cli_parse_alphas(const char *s, double **alphas, size_t *n, char *err, size_t errlen)
{
    *alphas = NULL;
    *n = 0;
    double a, b, step;
    char tail;
    if (sscanf(s, "%lf:%lf:%lf%c", &a, &b, &step, &tail) == 3) {
        if (!(a >= 0.0 && b <= 1.0 && a <= b && step > 0.0)) {
            snprintf(err, errlen, "--alphas %s: need 0 <= a <= b <= 1 and step > 0", s);
            return -1;
        }
        double count = floor((b - a) / step + STEP_EPS) + 1.0;
        if (count > MAX_ALPHAS) {
            snprintf(err, errlen, "--alphas %s gives more than %u values", s, MAX_ALPHAS);
            return -1;
        }
        size_t k = (size_t)count;
        if (!(*alphas = malloc(k * sizeof(double)))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        /* a + i*step, not repeated addition, so that 0:1:0.05 gives exactly 0.05*i. */
        for (size_t i = 0; i < k; i++)
            (*alphas)[i] = fmin(a + (double)i * step, 1.0);
        *n = k;
        return 0;
    }
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    if (cap > MAX_ALPHAS || !(*alphas = malloc(cap * sizeof(double)))) {
        snprintf(err, errlen, "--alphas: too many values");
        return -1;
    }
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !(v >= 0.0 && v <= 1.0) || (*end && *end != ',')) {
            snprintf(err, errlen, "--alphas %s: expected a:b:step or a comma list of values in [0, 1]",
                     s);
            free(*alphas);
            *alphas = NULL;
            return -1;
        }
        (*alphas)[(*n)++] = v;
        if (!*end)
            break;
        p = end + 1;
    }
    return 0;
}
