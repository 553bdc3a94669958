/* Whole-file reads, read-only mappings and atomic whole-file replacement, apart from any byte format (format.c uses
   them for router files). A save writes a temporary file beside the target, fsyncs it, renames it
   over the target and fsyncs the directory, so that the target is always the complete old file or
   the complete new one. docs/SECURITY.md says what is refused and why. POSIX systems first; then
   Windows, with its own calls (wide-character paths, FlushFileBuffers, MoveFileExW, file
   mappings). */
/* realpath() is an XSI interface; MAP_POPULATE a Linux one (used where defined) */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#endif
#include "io/io.h"

#ifndef _WIN32

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Room for ".tmp.XXXXXX" and the NUL after the target's name. */
#define AV_TMP_SUFFIX ".tmp.XXXXXX"

/* Open a regular file of at most max_size bytes for reading: the descriptor, or a negative code
   (the file is closed). */
static int open_regular(const char *path, uint64_t max_size, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return av__fail(AV_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return av__fail(AV_EIO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_size || (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return av__fail(AV_ELIMIT, "'%s' has %lld bytes (limit %llu)", path,
                        (long long)st.st_size, (unsigned long long)max_size);
    }
    *size = (size_t)st.st_size;
    return fd;
}

int av__file_map(const char *path, uint64_t max_size, void **map, size_t *size)
{
    int fd = open_regular(path, max_size, size);
    if (fd < 0)
        return fd;
    *map = NULL;
    int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE; /* every byte is read by the checks: fault the pages in at once */
#endif
    void *p = *size ? mmap(NULL, *size, PROT_READ, flags, fd, 0) : NULL;
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return av__fail(e == ENOMEM ? AV_ENOMEM : AV_EIO, "cannot map '%s': %s", path,
                        strerror(e));
    *map = p;
    return AV_OK;
}

void av__file_unmap(void *map, size_t size)
{
    av__unmap(map, size);
}

int av__rfile_open(av_rfile *f, const char *path, uint64_t max_size)
{
    int fd = open_regular(path, max_size, &f->size);
    if (fd < 0)
        return fd;
    f->handle = fd;
    f->path = path;
    return AV_OK;
}

int av__rfile_read(av_rfile *f, uint64_t off, void *dst, size_t n)
{
    unsigned char *p = dst;
    while (n > 0) {
        size_t want = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        ssize_t r = pread((int)f->handle, p, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return av__fail(AV_EIO, "reading '%s': %s", f->path,
                            r == 0 ? "the file shrank while it was read" : strerror(errno));
        p += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return AV_OK;
}

void av__rfile_close(av_rfile *f)
{
    if (f->handle >= 0)
        close((int)f->handle);
    f->handle = -1;
}

/* 0, or -1 with errno set (ENOSPC for a write that made no progress, which POSIX allows to return
   0 without setting errno). */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The file a save replaces: path itself, or the file a symbolic link at path resolves to (the
   link is kept and its target replaced, as editors and `cp` do). Refuses what is not a regular
   file: replacing a device node, FIFO, socket or directory with a router is never what was
   meant. *target is malloc'ed; *mode is the mode the new file gets. */
static int resolve_target(const char *path, char **target, mode_t *mode)
{
    struct stat st;
    *mode = 0644;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return av__fail(AV_EIO, "cannot inspect '%s': %s", path, strerror(errno));
        *target = av__strdup(path); /* a new file */
        return *target ? AV_OK : av__fail(AV_ENOMEM, "file name");
    }
    if (S_ISLNK(st.st_mode)) {
        char *real = realpath(path, NULL);
        if (!real)
            return av__fail(AV_EIO, "'%s' is a symbolic link that does not resolve to a file: %s",
                            path, strerror(errno));
        if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
            int rc = av__fail(AV_EIO, "'%s' links to '%s', which is not a regular file; refusing "
                                      "to replace it", path, real);
            free(real);
            return rc;
        }
        *target = real;
    } else if (!S_ISREG(st.st_mode)) {
        return av__fail(AV_EIO, "'%s' is not a regular file (a %s); refusing to replace it", path,
                        S_ISDIR(st.st_mode)    ? "directory"
                        : S_ISFIFO(st.st_mode) ? "FIFO"
                        : S_ISSOCK(st.st_mode) ? "socket"
                        : S_ISCHR(st.st_mode)  ? "character device"
                        : S_ISBLK(st.st_mode)  ? "block device"
                                               : "special file");
    } else if (!(*target = av__strdup(path))) {
        return av__fail(AV_ENOMEM, "file name");
    }
    *mode = st.st_mode & 07777;
    return AV_OK;
}

/* fsync the directory holding path, so that the rename survives a crash. */
static int sync_dir(const char *path)
{
    char *dir = av__strdup(path);
    if (!dir)
        return av__fail(AV_ENOMEM, "directory name");
    char *slash = strrchr(dir, '/');
    const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    int rc = AV_OK;
    int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        rc = av__fail(AV_EIO, "'%s' was replaced, but its directory '%s' cannot be opened to make "
                              "that durable: %s", path, d, strerror(errno));
    else if (fsync(dfd) != 0)
        rc = av__fail(AV_EIO, "'%s' was replaced, but syncing its directory '%s' failed: %s", path,
                      d, strerror(errno));
    if (dfd >= 0)
        close(dfd);
    free(dir);
    return rc;
}

int av__file_replace(const char *path, const unsigned char *data, size_t size)
{
    char *target;
    mode_t mode;
    int rc = resolve_target(path, &target, &mode);
    if (rc)
        return rc;
    size_t tlen = strlen(target);
    char *tmp = malloc(tlen + sizeof AV_TMP_SUFFIX);
    if (!tmp) {
        free(target);
        return av__fail(AV_ENOMEM, "temporary file name");
    }
    memcpy(tmp, target, tlen);
    memcpy(tmp + tlen, AV_TMP_SUFFIX, sizeof AV_TMP_SUFFIX);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = av__fail(AV_EIO, "cannot create a temporary file beside '%s': %s", target,
                      strerror(errno));
    } else if (fchmod(fd, mode) != 0 || write_all(fd, data, size) != 0 || fsync(fd) != 0) {
        rc = av__fail(AV_EIO, "writing '%s': %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
    } else if (close(fd) != 0) {
        rc = av__fail(AV_EIO, "closing '%s': %s", tmp, strerror(errno));
        unlink(tmp);
    } else if (rename(tmp, target) != 0) {
        rc = av__fail(AV_EIO, "renaming '%s' to '%s': %s", tmp, target, strerror(errno));
        unlink(tmp);
    } else {
        rc = sync_dir(target);
    }
    free(tmp);
    free(target);
    return rc;
}
#else /* _WIN32 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Windows error code as text: the errno text for the common ones (so that messages read as on
   other systems), else its number. */
static const char *win_error(DWORD e, char *buf, size_t n)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return strerror(ENOENT);
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
        return strerror(EACCES);
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return strerror(ENOSPC);
    default:
        snprintf(buf, n, "Windows error %lu", (unsigned long)e);
        return buf;
    }
}

/* path as a wide string, or the failure recorded. */
static int wide(const char *path, wchar_t **out)
{
    *out = av__wide_path(path);
    if (*out)
        return AV_OK;
    return errno == ENOMEM ? av__fail(AV_ENOMEM, "file name")
                           : av__fail(AV_EIO, "'%s' is not a valid UTF-8 file name", path);
}

/* Open a regular file of at most max_size bytes for reading: the handle and its size, or the
   failure recorded (nothing left open), as open_regular does on POSIX. */
static int open_regular(const char *path, uint64_t max_size, HANDLE *out, size_t *size)
{
    char eb[48];
    wchar_t *w;
    int rc = wide(path, &w);
    if (rc)
        return rc;
    DWORD attrs = GetFileAttributesW(w);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        free(w);
        return av__fail(AV_EIO, "'%s' is not a regular file", path);
    }
    HANDLE h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return av__fail(AV_EIO, "cannot open '%s': %s", path,
                        win_error(GetLastError(), eb, sizeof eb));
    LARGE_INTEGER len;
    if (GetFileType(h) != FILE_TYPE_DISK || !GetFileSizeEx(h, &len)) {
        CloseHandle(h);
        return av__fail(AV_EIO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)len.QuadPart > max_size || (uint64_t)len.QuadPart > SIZE_MAX) {
        CloseHandle(h);
        return av__fail(AV_ELIMIT, "'%s' has %lld bytes (limit %llu)", path,
                        (long long)len.QuadPart, (unsigned long long)max_size);
    }
    *out = h;
    *size = (size_t)len.QuadPart;
    return AV_OK;
}

int av__rfile_open(av_rfile *f, const char *path, uint64_t max_size)
{
    HANDLE h = INVALID_HANDLE_VALUE;
    int rc = open_regular(path, max_size, &h, &f->size);
    if (rc)
        return rc;
    f->handle = (intptr_t)h;
    f->path = path;
    return AV_OK;
}

/* ReadFile at an offset (an OVERLAPPED on a synchronous handle): the file position is not used. */
int av__rfile_read(av_rfile *f, uint64_t off, void *dst, size_t n)
{
    char eb[48];
    unsigned char *p = dst;
    while (n > 0) {
        DWORD want = n > (1u << 30) ? (1u << 30) : (DWORD)n, r = 0;
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.Offset = (DWORD)off;
        ov.OffsetHigh = (DWORD)(off >> 32);
        if (!ReadFile((HANDLE)f->handle, p, want, &r, &ov) || r == 0) {
            DWORD e = GetLastError();
            return av__fail(AV_EIO, "reading '%s': %s", f->path,
                            r == 0 && (e == ERROR_SUCCESS || e == ERROR_HANDLE_EOF)
                                ? "the file shrank while it was read"
                                : win_error(e, eb, sizeof eb));
        }
        p += r;
        off += r;
        n -= r;
    }
    return AV_OK;
}

void av__rfile_close(av_rfile *f)
{
    if (f->handle != (intptr_t)INVALID_HANDLE_VALUE && f->handle != -1)
        CloseHandle((HANDLE)f->handle);
    f->handle = -1;
}

/* av_router_load_mapped on Windows reads the file into memory instead of mapping it: Windows
   refuses to replace or delete a file while a view of it is open, so a router holding a view
   would make every later av_router_save over that file fail (docs/PORTABILITY.md). The checks are
   the same; av__unmap releases the buffer. */
int av__file_map(const char *path, uint64_t max_size, void **map, size_t *size)
{
    unsigned char *buf = NULL;
    *map = NULL;
    int rc = av__file_read(path, max_size, &buf, size);
    if (rc)
        return rc;
    if (*size == 0) {
        av__aligned_free(buf);
        return AV_OK;
    }
    *map = buf;
    return AV_OK;
}

void av__file_unmap(void *map, size_t size)
{
    av__unmap(map, size);
}

/* The file a save replaces (wide, malloc'ed): path itself, or the file a symbolic link or junction
   at path resolves to (the link is kept and its target replaced, as on POSIX systems). Refuses a
   directory. */
static int resolve_target(const char *path, wchar_t **target)
{
    char eb[48];
    int rc = wide(path, target);
    if (rc)
        return rc;
    DWORD attrs = GetFileAttributesW(*target);
    if (attrs == INVALID_FILE_ATTRIBUTES) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return AV_OK; /* a new file (a missing directory fails when the file is created) */
        free(*target);
        return av__fail(AV_EIO, "cannot inspect '%s': %s", path, win_error(e, eb, sizeof eb));
    }
    if (attrs & FILE_ATTRIBUTE_REPARSE_POINT) {
        HANDLE h = CreateFileW(*target, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
        DWORD n = h == INVALID_HANDLE_VALUE ? 0 : GetFinalPathNameByHandleW(h, NULL, 0, 0);
        wchar_t *real = n ? malloc((n + 1) * sizeof *real) : NULL;
        if (real && GetFinalPathNameByHandleW(h, real, n + 1, 0) == 0) {
            free(real);
            real = NULL;
        }
        if (h != INVALID_HANDLE_VALUE)
            CloseHandle(h);
        free(*target);
        if (!real)
            return av__fail(AV_EIO, "'%s' is a link that does not resolve to a file", path);
        *target = real;
        attrs = GetFileAttributesW(real);
    }
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        free(*target);
        return av__fail(AV_EIO, "'%s' is not a regular file (a directory); refusing to replace it",
                        path);
    }
    return AV_OK;
}

/* A new temporary file beside target (target + ".tmp.XXXXXX", created exclusively). */
static HANDLE create_temp(const wchar_t *target, wchar_t **tmp)
{
    static volatile LONG counter;
    static const wchar_t hex[] = L"0123456789abcdef";
    size_t tlen = wcslen(target);
    *tmp = malloc((tlen + 12) * sizeof **tmp);
    if (!*tmp)
        return INVALID_HANDLE_VALUE;
    memcpy(*tmp, target, tlen * sizeof **tmp);
    memcpy(*tmp + tlen, L".tmp.", 5 * sizeof **tmp);
    for (int attempt = 0; attempt < 100; attempt++) {
        LARGE_INTEGER t;
        QueryPerformanceCounter(&t);
        uint64_t x = (uint64_t)t.QuadPart ^ ((uint64_t)GetCurrentProcessId() << 40) ^
                     ((uint64_t)GetCurrentThreadId() << 20) ^
                     (uint64_t)InterlockedIncrement(&counter) * 0x9E3779B97F4A7C15ull;
        for (int i = 0; i < 6; i++)
            (*tmp)[tlen + 5 + i] = hex[(x >> (4 * i + 7)) & 15];
        (*tmp)[tlen + 11] = L'\0';
        HANDLE h = CreateFileW(*tmp, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
        if (h != INVALID_HANDLE_VALUE || GetLastError() != ERROR_FILE_EXISTS)
            return h;
    }
    return INVALID_HANDLE_VALUE;
}

static bool write_all(HANDLE h, const unsigned char *p, size_t n)
{
    while (n > 0) {
        DWORD want = n > (1u << 30) ? (1u << 30) : (DWORD)n, w = 0;
        if (!WriteFile(h, p, want, &w, NULL))
            return false;
        if (w == 0) {
            SetLastError(ERROR_DISK_FULL);
            return false;
        }
        p += w;
        n -= w;
    }
    return true;
}

/* Write a temporary file beside the target, flush it to the disk (FlushFileBuffers), and move it
   over the target with MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH), which
   returns once the replacement is on the disk: the target is always the old file or the new. */
int av__file_replace(const char *path, const unsigned char *data, size_t size)
{
    char eb[48];
    wchar_t *target, *tmp = NULL;
    int rc = resolve_target(path, &target);
    if (rc)
        return rc;
    HANDLE h = create_temp(target, &tmp);
    if (h == INVALID_HANDLE_VALUE) {
        rc = tmp ? av__fail(AV_EIO, "cannot create a temporary file beside '%s': %s", path,
                            win_error(GetLastError(), eb, sizeof eb))
                 : av__fail(AV_ENOMEM, "temporary file name");
    } else if (!write_all(h, data, size) || !FlushFileBuffers(h)) {
        rc = av__fail(AV_EIO, "writing a temporary file beside '%s': %s", path,
                      win_error(GetLastError(), eb, sizeof eb));
        CloseHandle(h);
        DeleteFileW(tmp);
    } else if (!CloseHandle(h)) {
        rc = av__fail(AV_EIO, "closing a temporary file beside '%s': %s", path,
                      win_error(GetLastError(), eb, sizeof eb));
        DeleteFileW(tmp);
    } else if (!MoveFileExW(tmp, target, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        rc = av__fail(AV_EIO, "replacing '%s' with its temporary file: %s", path,
                      win_error(GetLastError(), eb, sizeof eb));
        DeleteFileW(tmp);
    }
    free(tmp);
    free(target);
    return rc;
}
#endif /* _WIN32 */

int av__file_read(const char *path, uint64_t max_size, unsigned char **data, size_t *size)
{
    av_rfile f;
    int rc = av__rfile_open(&f, path, max_size);
    if (rc)
        return rc;
    unsigned char *buf = av__aligned_alloc(f.size); /* huge pages for a large file */
    if (!buf)
        rc = av__fail(AV_ENOMEM, "%zu bytes for '%s'", f.size, path);
    else if ((rc = av__rfile_read(&f, 0, buf, f.size)) != AV_OK)
        av__aligned_free(buf);
    av__rfile_close(&f);
    if (rc)
        return rc;
    *data = buf;
    *size = f.size;
    return AV_OK;
}
