/* Error codes, their static texts, and the thread-local detail of the last failure. */
#include "base/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AV_ERRBUF_SIZE 512

/* Per thread: the detail of the last failure (what failed, where, with which value) and the
   message av_last_error() returns, "<code's text>: <detail>". The two are kept apart so that a
   caller can add context to a detail, or re-code it, without parsing the message. */
static _Thread_local char av_detail[AV_ERRBUF_SIZE];
static _Thread_local char av_message[2 * AV_ERRBUF_SIZE];

AV_API const char *av_strerror(int code)
{
    switch (code) {
    case AV_OK:
        return "success";
#define AV_ERRNO_CASE_(name, value, text) \
    case AV_##name:                        \
        return text;
        AV_ERRNO_MAP(AV_ERRNO_CASE_)
#undef AV_ERRNO_CASE_
    default:
        return "unknown error";
    }
}

AV_API const char *av_last_error(void)
{
    return av_message;
}

static int compose(int code)
{
    snprintf(av_message, sizeof av_message, "%s: %s", av_strerror(code), av_detail);
    return code;
}

int av__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(av_detail, sizeof av_detail, fmt, ap);
    va_end(ap);
    return compose(code);
}

int av__fail_context(int code, const char *fmt, ...)
{
    if (fmt) {
        /* "<context>: <detail so far>"; formatted into a local buffer, since a caller's
           arguments must not point into av_detail while it is rewritten */
        char ctx[AV_ERRBUF_SIZE], joined[2 * AV_ERRBUF_SIZE];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx, sizeof ctx, fmt, ap);
        va_end(ap);
        snprintf(joined, sizeof joined, av_detail[0] ? "%s: %s" : "%s%s", ctx, av_detail);
        size_t n = strlen(joined); /* cut to the detail's size */
        n = n < sizeof av_detail ? n : sizeof av_detail - 1;
        memcpy(av_detail, joined, n);
        av_detail[n] = '\0';
    }
    return compose(code);
}

void av__clear_error(void)
{
    av_detail[0] = av_message[0] = '\0';
}

AV_API unsigned av_version_number(void)
{
    return AV_VERSION_NUMBER;
}

AV_API const char *av_version_string(void)
{
    return AV_VERSION_STRING;
}
