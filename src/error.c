/* Error codes, their static texts, and the thread-local detail of the last failure. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AV_ERRBUF_SIZE 512

/* One buffer per thread: the detail of this thread's last failure. */
static _Thread_local char av_errbuf[AV_ERRBUF_SIZE];

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
    return av_errbuf;
}

int av__fail(int code, const char *fmt, ...)
{
    /* Formatted into a local buffer first: callers may pass av_last_error() (this very buffer)
       as an argument, and vsnprintf's source and destination must not overlap. */
    char msg[AV_ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(msg, sizeof msg, "%s: ", av_strerror(code));
    if (n > 0 && (size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    memcpy(av_errbuf, msg, strlen(msg) + 1);
    return code;
}

void av__clear_error(void)
{
    av_errbuf[0] = '\0';
}

AV_API unsigned av_version_number(void)
{
    return AV_VERSION_NUMBER;
}

AV_API const char *av_version_string(void)
{
    return AV_VERSION_STRING;
}
