/* Helpers shared by the subcommands: messages and option values. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Most alphas accepted from a command line (0:1:0.0001 is 10001). */
#define MAX_ALPHAS 10001u
/* Slack when counting a:b:step values, so that 0:1:0.05 includes 1 despite rounding. */
#define STEP_EPS 1e-9

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (msg) {
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    fputs("avengers: ", stderr);
    cli_put_text(stderr, msg ? msg : "(out of memory formatting the message)");
    fputc('\n', stderr);
    free(msg);
}

bool cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) == 1;
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
