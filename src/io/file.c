/* Whole-file reads, read-only mappings and atomic whole-file replacement, apart from any byte format (format.c uses
   them for router files). A save writes a temporary file beside the target, fsyncs it, renames it
   over the target and fsyncs the directory, so that the target is always the complete old file or
   the complete new one. docs/SECURITY.md says what is refused and why. */
/* realpath() is an XSI interface; MAP_POPULATE a Linux one (used where defined) */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "io/io.h"

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
    if (map)
        munmap(map, size);
}

int av__file_read(const char *path, uint64_t max_size, unsigned char **data, size_t *size)
{
    size_t n;
    int fd = open_regular(path, max_size, &n);
    if (fd < 0)
        return fd;
    size_t got = 0;
    unsigned char *buf = av__aligned_alloc(n); /* huge pages for a large file */
    if (!buf) {
        close(fd);
        return av__fail(AV_ENOMEM, "%zu bytes for '%s'", n, path);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            av__aligned_free(buf);
            close(fd);
            return av__fail(AV_EIO, "reading '%s': %s", path,
                            r == 0 ? "the file shrank while it was read" : strerror(e));
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = n;
    return AV_OK;
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
