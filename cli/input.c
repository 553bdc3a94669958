/* Plain or gzip input files, streamed, with a limit on the decompressed size (see input.h).
   zlib's gzread is not used: it silently ignores whatever follows the last gzip member. */
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IN_CHUNK ((size_t)1 << 17)  /* compressed bytes read from the file at a time */
#define GZIP_WINDOW (15 + 16)       /* inflateInit2: 32 KiB window, gzip header and trailer only */
#define GZIP_ID1 0x1fu
#define GZIP_ID2 0x8bu
#define FIRST_CAP ((size_t)1 << 16) /* cli_read_file's first buffer when the size is unknown */

enum { IN_PLAIN, IN_MEMBER, IN_BETWEEN, IN_END };

struct cli_input {
    FILE *f;
    const char *path;
    uint64_t max, total; /* limit and bytes produced so far */
    uint64_t consumed;   /* compressed bytes handed to zlib (for the offset in messages) */
    int state;
    bool eof;
    bool is_stdin; /* the file is standard input: read, never closed */
    z_stream z;
    unsigned char buf[IN_CHUNK];
};

static int limit_error(cli_input *in, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "%s: more than %llu bytes of input%s (the limit; raise it with --max-input-bytes or %s)",
             in->path, (unsigned long long)in->max,
             in->state == IN_PLAIN ? "" : " after decompression", CLI_MAX_INPUT_ENV);
    return -1;
}

int cli_input_open(cli_input **out, const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
    *out = NULL;
    cli_input *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    in->is_stdin = strcmp(path, "-") == 0;
    in->path = in->is_stdin ? CLI_STDIN_NAME : path;
    path = in->path;
    in->max = max_bytes;
    errno = 0;
    if (in->is_stdin)
        in->f = stdin;
    else if (!(in->f = fopen(path, "rb"))) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        free(in);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(in->f), &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(EISDIR));
        cli_input_close(in);
        return -1;
    }
    size_t n = fread(in->buf, 1, 2, in->f);
    if (ferror(in->f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        cli_input_close(in);
        return -1;
    }
    in->z.next_in = in->buf;
    in->z.avail_in = (uInt)n;
    if (n == 2 && in->buf[0] == GZIP_ID1 && in->buf[1] == GZIP_ID2) {
        if (inflateInit2(&in->z, GZIP_WINDOW) != Z_OK) {
            snprintf(err, errlen, "%s: out of memory", path);
            in->state = IN_PLAIN; /* nothing to end */
            cli_input_close(in);
            return -1;
        }
        in->state = IN_MEMBER;
    } else {
        in->state = IN_PLAIN;
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes) { /* fail before reading */
            limit_error(in, err, errlen);
            cli_input_close(in);
            return -1;
        }
    }
    *out = in;
    return 0;
}

void cli_input_close(cli_input *in)
{
    if (!in)
        return;
    if (in->state != IN_PLAIN)
        inflateEnd(&in->z);
    if (in->f && !in->is_stdin)
        fclose(in->f);
    free(in);
}

/* Refill the input buffer when zlib has used it all; keeps the unused bytes otherwise. */
static int refill(cli_input *in, char *err, size_t errlen)
{
    if (in->z.avail_in > 0 || in->eof)
        return 0;
    size_t n = fread(in->buf, 1, IN_CHUNK, in->f);
    if (n == 0 && ferror(in->f)) {
        snprintf(err, errlen, "%s: read error: %s", in->path, strerror(errno));
        return -1;
    }
    in->eof = n == 0;
    in->z.next_in = in->buf;
    in->z.avail_in = (uInt)n;
    return 0;
}

/* After the end of a member: another member (its two magic bytes), or the end of the file. */
static int next_member(cli_input *in, char *err, size_t errlen)
{
    if (refill(in, err, errlen))
        return -1;
    if (in->z.avail_in == 0) {
        in->state = IN_END;
        return 0;
    }
    if (in->z.avail_in == 1 && !in->eof) { /* the second magic byte is in the next block */
        unsigned char first = in->z.next_in[0];
        in->buf[0] = first;
        size_t n = fread(in->buf + 1, 1, IN_CHUNK - 1, in->f);
        if (n == 0 && ferror(in->f)) {
            snprintf(err, errlen, "%s: read error: %s", in->path, strerror(errno));
            return -1;
        }
        in->eof = n == 0;
        in->z.next_in = in->buf;
        in->z.avail_in = (uInt)(n + 1);
    }
    if (in->z.avail_in < 2 || in->z.next_in[0] != GZIP_ID1 || in->z.next_in[1] != GZIP_ID2) {
        snprintf(err, errlen,
                 "%s: trailing garbage after the gzip data at byte %llu (only further gzip "
                 "members may follow)",
                 in->path, (unsigned long long)in->consumed);
        return -1;
    }
    if (inflateReset(&in->z) != Z_OK) {
        snprintf(err, errlen, "%s: gzip reset failed", in->path);
        return -1;
    }
    in->state = IN_MEMBER;
    return 0;
}

static long long read_plain(cli_input *in, unsigned char *buf, size_t cap, char *err,
                            size_t errlen)
{
    size_t n = 0;
    if (in->z.avail_in > 0) { /* the bytes read to look for the gzip magic */
        n = in->z.avail_in < cap ? in->z.avail_in : cap;
        memcpy(buf, in->z.next_in, n);
        in->z.next_in += n;
        in->z.avail_in -= (uInt)n;
    }
    if (n < cap && !in->eof) {
        size_t got = fread(buf + n, 1, cap - n, in->f);
        if (got == 0 && ferror(in->f)) {
            snprintf(err, errlen, "%s: read error: %s", in->path, strerror(errno));
            return -1;
        }
        in->eof = got < cap - n;
        n += got;
    }
    return (long long)n;
}

long long cli_input_read(cli_input *in, unsigned char *buf, size_t cap, char *err, size_t errlen)
{
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    long long got = 0;
    if (in->state == IN_PLAIN) {
        got = read_plain(in, buf, cap, err, errlen);
    } else {
        in->z.next_out = buf;
        in->z.avail_out = (uInt)cap;
        while (in->z.avail_out == cap && in->state != IN_END) {
            if (in->state == IN_BETWEEN) {
                if (next_member(in, err, errlen))
                    return -1;
                continue;
            }
            if (refill(in, err, errlen))
                return -1;
            if (in->z.avail_in == 0) {
                snprintf(err, errlen, "%s: truncated gzip data (the file ends inside a member)",
                         in->path);
                return -1;
            }
            uInt before = in->z.avail_in;
            int rc = inflate(&in->z, Z_NO_FLUSH);
            in->consumed += before - in->z.avail_in;
            if (rc == Z_STREAM_END)
                in->state = IN_BETWEEN;
            else if (rc == Z_MEM_ERROR) {
                snprintf(err, errlen, "%s: out of memory", in->path);
                return -1;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                snprintf(err, errlen, "%s: corrupt gzip data at byte %llu: %s", in->path,
                         (unsigned long long)in->consumed, in->z.msg ? in->z.msg : "inflate error");
                return -1;
            }
        }
        got = (long long)(cap - in->z.avail_out);
    }
    if (got < 0)
        return -1;
    in->total += (uint64_t)got;
    if (in->total > in->max)
        return limit_error(in, err, errlen);
    return got;
}

int cli_read_file(const char *path, uint64_t max_bytes, unsigned char **data, size_t *size,
                  char *err, size_t errlen)
{
    *data = NULL;
    *size = 0;
    cli_input *in;
    if (cli_input_open(&in, path, max_bytes, err, errlen))
        return -1;
    /* The buffer never grows past the limit + 1 byte (the byte that shows the limit exceeded). */
    size_t most = max_bytes >= SIZE_MAX ? SIZE_MAX : (size_t)max_bytes + 1;
    struct stat st;
    size_t cap = FIRST_CAP, n = 0;
    if (in->state == IN_PLAIN && fstat(fileno(in->f), &st) == 0 && S_ISREG(st.st_mode))
        cap = (size_t)st.st_size + 1; /* + 1: the end is seen without growing */
    cap = cap < most ? cap : most;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (buf && n == cap) {
            size_t ncap = cap > most / 2 ? most : cap * 2;
            unsigned char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
                cap = ncap;
            }
        }
        if (!buf) {
            snprintf(err, errlen, "%s: out of memory after %zu bytes", in->path, n);
            cli_input_close(in);
            return -1;
        }
        long long got = cli_input_read(in, buf + n, cap - n, err, errlen);
        if (got < 0) {
            free(buf);
            cli_input_close(in);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    cli_input_close(in);
    *data = buf;
    *size = n;
    return 0;
}

bool cli_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    unsigned shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    case '\0': break;
    default: return false;
    }
    if (shift) {
        s++;
        if (strcmp(s, "") && strcmp(s, "i") && strcmp(s, "iB") && strcmp(s, "B"))
            return false;
        if (v > UINT64_MAX >> shift)
            return false;
        v <<= shift;
    } else if (*s) {
        return false;
    }
    if (v == 0)
        return false;
    *out = v;
    return true;
}

bool cli_input_limit(uint64_t given, uint64_t *limit, char *err, size_t errlen)
{
    if (given) {
        *limit = given;
        return true;
    }
    const char *env = getenv(CLI_MAX_INPUT_ENV);
    if (env && *env) {
        if (!cli_parse_size(env, limit)) {
            snprintf(err, errlen, "%s=%s: expected a byte count such as 4294967296 or 4G",
                     CLI_MAX_INPUT_ENV, env);
            return false;
        }
        return true;
    }
    *limit = CLI_MAX_INPUT_DEFAULT;
    return true;
}
