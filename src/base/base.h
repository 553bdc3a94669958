/* The base layer: errors, memory, text checks, C-locale numbers, hashing, the PRNG, little-endian
   bytes and the extensible-struct helpers. Depends on libc and the public header only. Private to
   the library (layers and their order: docs/ARCHITECTURE.md, checked by tools/check_layers.py). */
#ifndef AV_BASE_H
#define AV_BASE_H

/* The library implements its experimental interfaces too; a white-box test includes this header
   before the public one, or the public one would already have left them out. */
#if defined(AVENGERS_H) && !defined(AV_STATIC_LINKING_ONLY)
#error "include the private headers before avengers/avengers.h (or define AV_STATIC_LINKING_ONLY)"
#endif
#ifndef AV_STATIC_LINKING_ONLY
#define AV_STATIC_LINKING_ONLY
#endif
#include "avengers/avengers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A symbol shared between the library's files but not exported. A Windows DLL exports only what
   AV_API marks dllexport, so there is nothing to hide there (and PE has no visibility). */
#ifdef _WIN32
#define AV_HIDDEN
#else
#define AV_HIDDEN __attribute__((visibility("hidden")))
#endif
/* printf-style format checking: MinGW-w64's ANSI stdio (__USE_MINGW_ANSI_STDIO, which the
   Windows build uses) takes C99 formats (%zu), which GCC checks under the name gnu_printf there. */
#ifdef __MINGW32__
#define AV_PRINTF_FMT gnu_printf
#else
#define AV_PRINTF_FMT printf
#endif
#define AV_ALIGN 64u

/* ---- errors (error.c) ---- */
/* Record a detail message for this thread and return code (so callers write `return av__fail(...)`). */
AV_HIDDEN int av__fail(int code, const char *fmt, ...) __attribute__((format(AV_PRINTF_FMT, 2, 3)));
/* Add context to this thread's last failure ("<context>: <detail>"; fmt NULL adds none) and
   report it under `code` (the same code, or a re-coding such as AV_EINVAL -> AV_EFORMAT in the
   loader). The code's text is never repeated inside the message. */
AV_HIDDEN int av__fail_context(int code, const char *fmt, ...)
    __attribute__((format(AV_PRINTF_FMT, 2, 3)));
AV_HIDDEN void av__clear_error(void);

/* Little-endian integers in byte buffers (the file format, the settings section). */
static inline void av__put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void av__put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void av__put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t av__get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t av__get32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t av__get64(const unsigned char *p)
{
    return (uint64_t)av__get32(p) | ((uint64_t)av__get32(p + 4) << 32);
}

/* Doubles as their IEEE bit patterns and back (the table's atomics, the settings section). */
static inline uint64_t av__f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}
static inline double av__bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* ---- memory (util.c) ---- */
AV_HIDDEN void *av__aligned_alloc(size_t size);
/* The same alignment (AV_ALIGN) without the huge-page advice, for arrays that a pass streams
   beside the rows: on the virtual machine we measure on, SAMPLED's bounds on advised pages made
   the statistics pass 2-4x slower in every run (docs/SCALING.md). Freed by av__aligned_free. */
AV_HIDDEN void *av__aligned_alloc_small_pages(size_t size);
AV_HIDDEN void av__aligned_free(void *p);
/* a*b with overflow check: false on overflow. */
AV_HIDDEN bool av__mul_ok(size_t a, size_t b, size_t *out);
/* L2-normalise src (length d) into dst. Returns AV_OK or AV_EVECTOR (zero, NaN, Inf). The norm is
   accumulated in double so that every backend normalises identically. */
AV_HIDDEN int av__normalize(float *dst, const float *src, size_t d);
AV_HIDDEN char *av__strdup(const char *s);
/* n bytes of s are valid UTF-8 without control characters (tab, LF and CR allowed with
   allow_space: metadata values). Names, metadata keys and values are checked on every path. */
AV_HIDDEN bool av__text_ok(const char *s, size_t n, bool allow_space);
/* strtod, and snprintf of one double (fmt has one double conversion), in the C locale whatever
   the process locale (numbers in metadata). */
AV_HIDDEN double av__strtod_c(const char *s, char **end);
AV_HIDDEN void av__format_c(char *buf, size_t n, const char *fmt, double v)
    __attribute__((format(AV_PRINTF_FMT, 3, 0)));

/* ---- hashing (hash.c) ---- */
/* XXH64, streaming: init with a seed, update with any number of pieces, final (does not modify the
   state). The same bytes in any split give the same value, on every machine. */
typedef struct av_xxh64 {
    uint64_t v[4], total;
    unsigned char buf[32];
    size_t fill;
} av_xxh64;
AV_HIDDEN void av__xxh64_init(av_xxh64 *s, uint64_t seed);
AV_HIDDEN void av__xxh64_update(av_xxh64 *s, const void *data, size_t n);
AV_HIDDEN uint64_t av__xxh64_final(const av_xxh64 *s);
/* true when this machine stores integers little-endian (the file's order): arrays can then be
   hashed or copied as their bytes. */
static inline bool av__host_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- PRNG (util.c): splitmix64-seeded xoshiro256**, identical on every machine ---- */
typedef struct av_rng {
    uint64_t s[4];
} av_rng;
AV_HIDDEN void av__rng_seed(av_rng *g, uint64_t seed);
AV_HIDDEN uint64_t av__rng_next(av_rng *g);
AV_HIDDEN double av__rng_uniform(av_rng *g); /* [0, 1) with 53 bits */

/* ---- extensible structs (sized.c, docs/ABI.md) ---- */
/* The size of a struct's layout that ends with `member` (padded as the compiler pads the struct),
   for the sizes of earlier layouts below. Members are only ever appended after the previous
   layout's size, never into its tail padding, so these stay what older callers' sizeof was. */
#define AV_SIZE_THROUGH(type, member)                                                          \
    ((offsetof(type, member) + sizeof(((type *)0)->member) + _Alignof(type) - 1) /              \
     _Alignof(type) * _Alignof(type))
/* Every extensible struct: its name, its smallest accepted size (the first layout that ever
   existed) and the layout of 0.1.0 (what the 0.x init entry points write). */
#define AV_EXTENSIBLE_STRUCTS(X)                                                                \
    X(fit_options, av_fit_options, AV_FIT_OPTIONS_INIT, AV_SIZE_THROUGH(av_fit_options, seed),  \
      AV_SIZE_THROUGH(av_fit_options, tune))                                                    \
    X(replay, av_replay, AV_REPLAY_INIT, AV_SIZE_THROUGH(av_replay, costs),                     \
      AV_SIZE_THROUGH(av_replay, costs))                                                        \
    X(eval_options, av_eval_options, AV_EVAL_OPTIONS_INIT,                                      \
      offsetof(av_eval_options, n_alphas) + sizeof(size_t),                                     \
      AV_SIZE_THROUGH(av_eval_options, target_fraction))                                        \
    X(route_options, av_route_options, AV_ROUTE_OPTIONS_INIT,                                   \
      offsetof(av_route_options, normalisation), AV_SIZE_THROUGH(av_route_options, normalisation)) \
    X(route_result, av_route_result, AV_ROUTE_RESULT_INIT,                                      \
      AV_SIZE_THROUGH(av_route_result, guarded), AV_SIZE_THROUGH(av_route_result, guarded))     \
    X(estimator_options, av_estimator_options, AV_ESTIMATOR_OPTIONS_INIT,                       \
      offsetof(av_estimator_options, normalisation),                                            \
      AV_SIZE_THROUGH(av_estimator_options, normalisation))                                     \
    X(tune_options, av_tune_options, AV_TUNE_OPTIONS_INIT,                                      \
      offsetof(av_tune_options, global_normalisation),                                          \
      AV_SIZE_THROUGH(av_tune_options, global_normalisation))                                   \
    X(update_options, av_update_options, AV_UPDATE_OPTIONS_INIT,                                \
      AV_SIZE_THROUGH(av_update_options, weight), AV_SIZE_THROUGH(av_update_options, weight))
#define AV_MIN_SIZE_DECL_(name, type, init, min, v01) AV_##name##_MIN_SIZE_ = (min),
/* Outputs only (the caller sets struct_size): at least struct_size itself. */
#define AV_EVAL_OUTPUT_MIN_SIZE sizeof(uint32_t)

/* Defaults into a caller's struct of `given` bytes: min(given, own) bytes of defaults, zeros past
   own, struct_size = given. Writes nothing when given cannot hold struct_size. */
AV_HIDDEN void av__struct_init(void *caller, size_t given, const void *defaults, size_t own);
/* A caller's input struct (its struct_size first) into dst, which holds the defaults and is `own`
   bytes: min(caller, own) bytes are copied; a struct_size below `min` or a non-zero byte past own
   (an option of a newer version) is AV_EINVAL naming the struct and the offset. dst->struct_size
   becomes own. */
AV_HIDDEN int av__struct_in(void *dst, size_t own, const void *src, size_t min, const char *what);
/* An output struct into the caller's: min(caller, own) bytes after struct_size (which stays the
   caller's), zeros past own; AV_EINVAL below min. */
AV_HIDDEN int av__struct_out(void *caller, const void *src, size_t own, size_t min,
                             const char *what);
/* The smallest accepted sizes, by name: AV_fit_options_MIN_SIZE_ ... */
enum { AV_EXTENSIBLE_STRUCTS(AV_MIN_SIZE_DECL_) AV_MIN_SIZE_END_ };

#include "base/platform.h"

#endif
