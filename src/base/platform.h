/* The platform shim of the base layer: the only place where the library names an operating
   system's own calls. Locks, run-once and threads (POSIX threads on Linux and every POSIX system;
   SRWLOCK, InitOnceExecuteOnce and CreateThread on Windows), the CPU count, UTC time and UTF-8
   file names for the wide Windows calls. Included by base.h; the layers above use these names
   and never an #ifdef of their own (docs/PORTABILITY.md). */
#ifndef AV_PLATFORM_H
#define AV_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#ifdef _WIN32
/* Opaque storage with the layout of SRWLOCK and INIT_ONCE (one pointer each, zero when fresh), so
   that <windows.h> stays inside platform.c. */
typedef struct av_mutex {
    void *opaque;
} av_mutex;
typedef struct av_once {
    void *opaque;
} av_once;
#define AV_ONCE_INIT {0}
/* A started thread: its handle, and what it runs (read by the thread itself, so the struct stays
   where it is until av__thread_join). */
typedef struct av_thread {
    void *handle;
    void *(*fn)(void *);
    void *arg;
} av_thread;
AV_HIDDEN void av__mutex_init(av_mutex *m);
AV_HIDDEN void av__mutex_destroy(av_mutex *m);
AV_HIDDEN void av__mutex_lock(av_mutex *m);
AV_HIDDEN void av__mutex_unlock(av_mutex *m);
AV_HIDDEN void av__once(av_once *o, void (*fn)(void));
/* 0 when the thread started. */
AV_HIDDEN int av__thread_start(av_thread *t, void *(*fn)(void *), void *arg);
AV_HIDDEN void av__thread_join(av_thread *t);
/* path (UTF-8) as a malloc'ed UTF-16 string for the wide calls; NULL when it is not valid UTF-8
   or memory is short (errno EILSEQ or ENOMEM). */
AV_HIDDEN wchar_t *av__wide_path(const char *path);
#else
#include <pthread.h>
typedef pthread_mutex_t av_mutex;
typedef pthread_once_t av_once;
typedef pthread_t av_thread;
#define AV_ONCE_INIT PTHREAD_ONCE_INIT
static inline void av__mutex_init(av_mutex *m)
{
    pthread_mutex_init(m, NULL);
}
static inline void av__mutex_destroy(av_mutex *m)
{
    pthread_mutex_destroy(m);
}
static inline void av__mutex_lock(av_mutex *m)
{
    pthread_mutex_lock(m);
}
static inline void av__mutex_unlock(av_mutex *m)
{
    pthread_mutex_unlock(m);
}
static inline void av__once(av_once *o, void (*fn)(void))
{
    pthread_once(o, fn);
}
static inline int av__thread_start(av_thread *t, void *(*fn)(void *), void *arg)
{
    return pthread_create(t, NULL, fn, arg);
}
static inline void av__thread_join(av_thread *t)
{
    pthread_join(*t, NULL);
}
#endif

/* The processors online (at least 1). */
AV_HIDDEN long av__cpu_count(void);
/* t as UTC calendar time into *out; false when it cannot be represented. */
AV_HIDDEN bool av__gmtime(time_t t, struct tm *out);
/* Release a read-only file view made by io/file.c's av__file_map (munmap; on Windows, where
   that view is a copy in memory, av__aligned_free); NULL: nothing. In base so that the index, which may own such a view, can release it. */
AV_HIDDEN void av__unmap(void *map, size_t size);
/* Seconds on a monotonic clock (progress and time-left estimates only). */
AV_HIDDEN double av__seconds(void);

#endif
