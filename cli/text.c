/* Escaping of untrusted text for the terminal and for JSON (see cli.h). A router file written by
   an old version, a hostile file or a bug may hold names with escape sequences or bytes that are
   not UTF-8; neither may reach a terminal raw or make the command's JSON invalid. */
#include "cli.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#define ESCAPED_BYTE 4u  /* "\xNN" */
#define JSON_ESCAPE 6u   /* "\u00NN" */
#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */
#define REPLACEMENT_LEN 3u

static const char HEX[] = "0123456789abcdef";

/* Escape s into out (NULL: only count); returns the length without the terminator. */
static size_t escape_text(const char *s, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), len = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t k = cli_utf8_decode(p + i, n - i, &cp);
        if (k == 0 || cli_is_control(cp)) {
            size_t bytes = k ? k : 1; /* a C1 control is two bytes; an invalid byte one */
            for (size_t b = 0; b < bytes; b++, len += ESCAPED_BYTE)
                if (out) {
                    out[len] = '\\';
                    out[len + 1] = 'x';
                    out[len + 2] = HEX[p[i + b] >> 4];
                    out[len + 3] = HEX[p[i + b] & 0xF];
                }
            i += bytes;
        } else if (cp == '\\') {
            if (out)
                out[len] = out[len + 1] = '\\';
            len += 2;
            i++;
        } else {
            if (out)
                memcpy(out + len, p + i, k);
            len += k;
            i += k;
        }
    }
    if (out)
        out[len] = '\0';
    return len;
}

char *cli_text(const char *s)
{
    s = s ? s : "";
    char *out = malloc(escape_text(s, NULL) + 1);
    if (out)
        escape_text(s, out);
    return out;
}

void cli_put_text(FILE *f, const char *s)
{
    char *t = cli_text(s);
    if (t) {
        fputs(t, f);
        free(t);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) /* no memory */
        fputc(*p >= 0x20 && *p < 0x7F && *p != '\\' ? *p : '?', f);
}

void cli_put_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t k = cli_utf8_decode(p + i, n - i, &cp);
        if (k == 0) {
            fputs("\\ufffd", f);
            i++;
        } else if (cp == '"' || cp == '\\') {
            fputc('\\', f);
            fputc((int)cp, f);
            i++;
        } else if (cli_is_control(cp)) {
            char e[JSON_ESCAPE + 1];
            snprintf(e, sizeof e, "\\u%04x", (unsigned)cp);
            fputs(e, f);
            i += k;
        } else {
            fwrite(p + i, 1, k, f);
            i += k;
        }
    }
    fputc('"', f);
}

char *cli_json_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), len = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = cli_utf8_decode(p + i, n - i, &cp);
        len += k ? k : REPLACEMENT_LEN;
        i += k ? k : 1;
    }
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    len = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = cli_utf8_decode(p + i, n - i, &cp);
        if (k) {
            memcpy(out + len, p + i, k);
            len += k;
            i += k;
        } else {
            memcpy(out + len, REPLACEMENT, REPLACEMENT_LEN);
            len += REPLACEMENT_LEN;
            i++;
        }
    }
    out[len] = '\0';
    return out;
}
