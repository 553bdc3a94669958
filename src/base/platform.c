/* The operating system's own calls behind the platform shim (platform.h): aligned memory, numbers
   in the C locale whatever the process locale, the CPU count, UTC time, and on Windows locks,
   run-once, threads and UTF-8 file names. POSIX systems first, then Windows. */
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
/* madvise and MADV_HUGEPAGE are not POSIX (used where defined) */
#define _DEFAULT_SOURCE
#endif
#include "base/base.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/mman.h>
#include <unistd.h>
#endif

#ifndef _WIN32
/* Arrays of at least AV_HUGE_MIN bytes (a large router's centroids, the buffer a router file is
   read into, training arrays) are aligned to 2 MiB and advised as transparent huge pages where
   the kernel offers them (Linux with THP in "madvise" or "always" mode): their first writes then
   fault once per 2 MiB instead of once per 4 KiB, which was most of a large router's load time
   on a virtual machine (docs/PERFORMANCE.md), and routing over them misses the TLB less. Elsewhere
   (or if the advice is refused) they are ordinary memory. */
#define AV_HUGE_MIN ((size_t)2 << 20)
#define AV_HUGE_ALIGN ((size_t)2 << 20)

void *av__aligned_alloc(size_t size)
{
    void *p = NULL;
    if (size == 0)
        size = AV_ALIGN;
#ifdef MADV_HUGEPAGE
    if (size >= AV_HUGE_MIN) {
        if (posix_memalign(&p, AV_HUGE_ALIGN, size) != 0)
            return NULL;
        (void)madvise(p, size & ~(AV_HUGE_ALIGN - 1), MADV_HUGEPAGE); /* advice only */
        return p;
    }
#endif
    if (posix_memalign(&p, AV_ALIGN, size) != 0)
        return NULL;
    return p;
}

void *av__aligned_alloc_small_pages(size_t size)
{
    void *p = NULL;
    return posix_memalign(&p, AV_ALIGN, size ? size : AV_ALIGN) == 0 ? p : NULL;
}

void av__aligned_free(void *p)
{
    free(p);
}

/* Numbers in metadata are written and read in the C locale whatever the host set with setlocale
   (a comma-decimal locale would otherwise write "0,5" and refuse "0.5"): uselocale changes only
   the calling thread's locale, for the duration of the call. */
typedef struct numeric_state {
    locale_t c, old;
} numeric_state;

static void c_numeric_begin(numeric_state *s)
{
    s->old = (locale_t)0;
    s->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (s->c)
        s->old = uselocale(s->c);
}

static void c_numeric_end(numeric_state *s)
{
    if (s->c) {
        uselocale(s->old);
        freelocale(s->c);
    }
}

long av__cpu_count(void)
{
    long v = sysconf(_SC_NPROCESSORS_ONLN);
    return v < 1 ? 1 : v;
}

bool av__gmtime(time_t t, struct tm *out)
{
    return gmtime_r(&t, out) != NULL;
}

void av__unmap(void *map, size_t size)
{
    if (map)
        munmap(map, size);
}

double av__seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#else
void *av__aligned_alloc(size_t size)
{
    return _aligned_malloc(size ? size : AV_ALIGN, AV_ALIGN);
}

void *av__aligned_alloc_small_pages(size_t size)
{
    return av__aligned_alloc(size);
}

void av__aligned_free(void *p)
{
    _aligned_free(p);
}

/* The same on Windows: the calling thread gets its own locale for the call
   (_configthreadlocale), set to "C" for numbers and put back afterwards; the process locale and
   other threads are untouched. The formatting itself stays MinGW-w64's C99 printf and strtod
   (__USE_MINGW_ANSI_STDIO), which read the decimal point from the thread's locale and write
   the exponent with two digits as glibc does (the CRT's printf writes three). */
typedef struct numeric_state {
    int config;    /* _configthreadlocale before the call */
    char old[128]; /* the thread's LC_NUMERIC before the call ("" when unknown) */
} numeric_state;

static void c_numeric_begin(numeric_state *s)
{
    s->config = _configthreadlocale(_ENABLE_PER_THREAD_LOCALE);
    const char *cur = setlocale(LC_NUMERIC, NULL);
    s->old[0] = '\0';
    if (cur && strlen(cur) < sizeof s->old)
        strcpy(s->old, cur);
    setlocale(LC_NUMERIC, "C");
}

static void c_numeric_end(numeric_state *s)
{
    if (s->old[0])
        setlocale(LC_NUMERIC, s->old);
    if (s->config != -1)
        _configthreadlocale(s->config);
}

long av__cpu_count(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwNumberOfProcessors < 1 ? 1 : (long)si.dwNumberOfProcessors;
}

bool av__gmtime(time_t t, struct tm *out)
{
    return gmtime_s(out, &t) == 0;
}

void av__unmap(void *map, size_t size)
{
    (void)size;
    av__aligned_free(map); /* io/file.c reads a "mapped" file into memory on Windows */
}

double av__seconds(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
}

/* SRWLOCK and INIT_ONCE are one pointer each, as the opaque types in platform.h. */
_Static_assert(sizeof(av_mutex) == sizeof(SRWLOCK), "av_mutex holds an SRWLOCK");
_Static_assert(sizeof(av_once) == sizeof(INIT_ONCE), "av_once holds an INIT_ONCE");

void av__mutex_init(av_mutex *m)
{
    InitializeSRWLock((PSRWLOCK)m);
}

void av__mutex_destroy(av_mutex *m)
{
    (void)m; /* an SRWLOCK holds no resources */
}

void av__mutex_lock(av_mutex *m)
{
    AcquireSRWLockExclusive((PSRWLOCK)m);
}

void av__mutex_unlock(av_mutex *m)
{
    ReleaseSRWLockExclusive((PSRWLOCK)m);
}

typedef struct once_call {
    void (*fn)(void);
} once_call;

static BOOL CALLBACK once_trampoline(PINIT_ONCE once, PVOID param, PVOID *context)
{
    (void)once;
    (void)context;
    ((once_call *)param)->fn();
    return TRUE;
}

void av__once(av_once *o, void (*fn)(void))
{
    once_call c = {fn};
    InitOnceExecuteOnce((PINIT_ONCE)o, once_trampoline, &c, NULL);
}

static DWORD WINAPI thread_trampoline(LPVOID param)
{
    av_thread *t = param;
    t->fn(t->arg);
    return 0;
}

int av__thread_start(av_thread *t, void *(*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->handle = CreateThread(NULL, 0, thread_trampoline, t, 0, NULL);
    return t->handle ? 0 : -1;
}

void av__thread_join(av_thread *t)
{
    WaitForSingleObject((HANDLE)t->handle, INFINITE);
    CloseHandle((HANDLE)t->handle);
}

wchar_t *av__wide_path(const char *path)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0) {
        errno = EILSEQ;
        return NULL;
    }
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
        free(w);
        errno = EILSEQ;
        return NULL;
    }
    return w;
}
#endif

double av__strtod_c(const char *s, char **end)
{
    numeric_state st;
    c_numeric_begin(&st);
    double d = strtod(s, end);
    c_numeric_end(&st);
    return d;
}

void av__format_c(char *buf, size_t n, const char *fmt, double v)
{
    numeric_state st;
    c_numeric_begin(&st);
    snprintf(buf, n, fmt, v);
    c_numeric_end(&st);
}
