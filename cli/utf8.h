/* UTF-8 decoding and the control characters the command never prints raw. Header-only so that the
   JSON Lines reader (jsonl.c) still compiles alone for its fuzz target. */
#ifndef AV_CLI_UTF8_H
#define AV_CLI_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at p (avail bytes available, at least 1) and its code
   point in *cp; 0 if the bytes are not well-formed UTF-8 (RFC 3629: no overlong forms, no
   surrogates, nothing above U+10FFFF). */
static inline size_t cli_utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : lo;
        hi = c == 0xED ? 0x9F : hi;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : lo;
        hi = c == 0xF4 ? 0x8F : hi;
    } else
        return 0;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    uint32_t v = c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3Fu);
    }
    *cp = v;
    return n;
}

/* C0 controls, DEL and C1 controls: what a terminal may act on (escape sequences, CSI). */
static inline bool cli_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

#endif
