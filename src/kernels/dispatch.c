/* Backend selection: once per process, thread-safely (av__once), from the CPU's features and
   the AV_SIMD environment variable. */
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backends compiled into this build; each ISA file defines its table or leaves it out. */
#if defined(__x86_64__) || defined(__i386__)
extern const av_kernels av__kernels_avx2;
extern const av_kernels av__kernels_avx512;
extern const av_kernels av__kernels_avx512vnni;
#endif
#if defined(__aarch64__)
extern const av_kernels av__kernels_neon;
#endif
#if defined(__wasm_simd128__) /* compile-time: a module built with -msimd128 needs it to load */
extern const av_kernels av__kernels_wasm_simd128;
#endif

static av_once resolved = AV_ONCE_INIT;
static const av_kernels *av_active; /* written once under av__once, then only read */

#if defined(__x86_64__) || defined(__i386__)
/* F16C is CPUID.1:ECX bit 29; not every compiler's __builtin_cpu_supports knows its name. */
static bool has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}
#endif

static bool cpu_supports(const char *name)
{
    if (strcmp(name, "scalar") == 0)
        return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && has_f16c();
    if (strcmp(name, "avx512vnni") == 0)
        return cpu_supports("avx512") && __builtin_cpu_supports("avx512vnni");
#endif
#if defined(__aarch64__)
    if (strcmp(name, "neon") == 0)
        return true; /* Advanced SIMD is mandatory on AArch64 */
#endif
#if defined(__wasm_simd128__)
    if (strcmp(name, "wasm-simd128") == 0)
        return true;
#endif
    return false;
}

static const av_kernels *compiled(const char *name)
{
    if (strcmp(name, "scalar") == 0)
        return &av__kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    if (strcmp(name, "avx2") == 0)
        return &av__kernels_avx2;
    if (strcmp(name, "avx512") == 0)
        return &av__kernels_avx512;
    if (strcmp(name, "avx512vnni") == 0)
        return &av__kernels_avx512vnni;
#endif
#if defined(__aarch64__)
    if (strcmp(name, "neon") == 0)
        return &av__kernels_neon;
#endif
#if defined(__wasm_simd128__)
    if (strcmp(name, "wasm-simd128") == 0)
        return &av__kernels_wasm_simd128;
#endif
    return NULL;
}

const av_kernels *av__kernels_by_name(const char *name)
{
    if (!name)
        return NULL;
    const av_kernels *k = compiled(name);
    return (k && cpu_supports(name)) ? k : NULL;
}

static const av_kernels *best_available(void)
{
    static const char *const order[] = {"avx512vnni", "avx512", "avx2", "neon", "wasm-simd128"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const av_kernels *k = av__kernels_by_name(order[i]);
        if (k)
            return k;
    }
    return &av__kernels_scalar;
}

static void resolve(void)
{
    const char *want = getenv("AV_SIMD");
    const av_kernels *k = NULL;
    if (want && *want) {
        k = av__kernels_by_name(want);
        if (!k)
            fprintf(stderr, "libavengers: AV_SIMD=%s is not available on this CPU or build; "
                            "using the best available backend\n", want);
    }
    av_active = k ? k : best_available();
}

const av_kernels *av__kernels(void)
{
    av__once(&resolved, resolve);
    return av_active;
}

AV_API const char *av_simd_backend(void)
{
    return av__kernels()->name;
}
