/* Extensible structs: the one place that moves a caller's options or results across the ABI. The
   rule is the Linux kernel's (copy_struct_from_user, as openat2, clone3 and sched_setattr use it):
   the caller's compiler fixes its struct's size and the caller passes it (struct_size, first
   member); the library copies min(caller, own) bytes, keeps its defaults for what an older caller
   lacks, refuses a newer caller's non-zero bytes past its own size, and never writes past the
   caller's size. docs/ABI.md states the policy. */
#include "base/base.h"

#include <string.h>

/* The struct_size member every extensible struct starts with. */
static uint32_t size_field(const void *p)
{
    uint32_t s;
    memcpy(&s, p, sizeof s);
    return s;
}

static void set_size_field(void *p, size_t size)
{
    uint32_t s = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    memcpy(p, &s, sizeof s);
}

void av__struct_init(void *caller, size_t given, const void *defaults, size_t own)
{
    if (!caller || given < sizeof(uint32_t))
        return; /* not even room for struct_size: nothing can be written safely */
    size_t n = given < own ? given : own;
    memcpy(caller, defaults, n);
    if (given > own) /* a newer caller's members: zero is every appended member's default */
        memset((unsigned char *)caller + own, 0, given - own);
    set_size_field(caller, given);
}

int av__struct_in(void *dst, size_t own, const void *src, size_t min, const char *what)
{
    size_t given = size_field(src);
    if (given < min)
        return av__fail(AV_EINVAL, "%s.struct_size=%zu is smaller than its first published size "
                                   "%zu (initialise it with %s_init)", what, given, min, what);
    size_t n = given < own ? given : own;
    const unsigned char *s = src;
    for (size_t i = own; i < given; i++)
        if (s[i] != 0)
            return av__fail(AV_EINVAL, "%s has a non-zero byte at offset %zu, past the %zu bytes "
                                       "that libavengers %s knows: an option of a newer version "
                                       "(upgrade the library, or leave it at its default)",
                            what, i, own, AV_VERSION_STRING);
    memcpy(dst, src, n);
    set_size_field(dst, own);
    return AV_OK;
}

int av__struct_out(void *caller, const void *src, size_t own, size_t min, const char *what)
{
    size_t given = size_field(caller);
    if (given < min)
        return av__fail(AV_EINVAL, "%s.struct_size=%zu is smaller than its first published size "
                                   "%zu", what, given, min);
    size_t n = given < own ? given : own;
    /* struct_size stays the caller's; members past the library's own size are zeroed */
    memcpy((unsigned char *)caller + sizeof(uint32_t), (const unsigned char *)src + sizeof(uint32_t),
           n - sizeof(uint32_t));
    if (given > own)
        memset((unsigned char *)caller + own, 0, given - own);
    return AV_OK;
}

/* The init functions of every extensible struct: the sized one the header's av_*_init macros call,
   and the 0.x entry point, which can only assume the 0.1.0 layout. The defaults are static, so
   their padding is zero too. */
#define AV_INIT_FUNCTIONS_(name, type, init, min, v01)                                          \
    AV_API void av_##name##_init_sized(type *p, size_t size)                                   \
    {                                                                                          \
        static const type defaults = init;                                                     \
        av__struct_init(p, size, &defaults, sizeof defaults);                                  \
    }                                                                                          \
    AV_API void(av_##name##_init)(type * p)                                                    \
    {                                                                                          \
        av_##name##_init_sized(p, (v01));                                                      \
    }
AV_EXTENSIBLE_STRUCTS(AV_INIT_FUNCTIONS_)
