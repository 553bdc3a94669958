/* The io layer: the file format (docs/FORMAT.md) and files (whole reads, atomic replacement).
   Depends on the router layer. */
#ifndef AV_IO_H
#define AV_IO_H

#include "router/router.h"

/* ---- files (file.c) ---- */
/* Read a regular file of at most max_size bytes whole into a buffer from av__aligned_alloc
   (released with av__aligned_free). */
AV_HIDDEN int av__file_read(const char *path, uint64_t max_size, unsigned char **data,
                            size_t *size);
/* A regular file of at most max_size bytes open for reading by offset (av_router_load reads its
   parts into their destinations): size is its size at open; a read of [off, off + n) that meets
   the end of the file (it shrank meanwhile) or fails is AV_EIO, never a signal. */
typedef struct av_rfile {
    intptr_t handle; /* a descriptor, or a Windows HANDLE */
    size_t size;
    const char *path;
} av_rfile;
AV_HIDDEN int av__rfile_open(av_rfile *f, const char *path, uint64_t max_size);
AV_HIDDEN int av__rfile_read(av_rfile *f, uint64_t off, void *dst, size_t n);
AV_HIDDEN void av__rfile_close(av_rfile *f);
/* Map a regular file of at most max_size bytes read-only (private, populated): *map is NULL for
   an empty file. av__file_unmap releases it (NULL: nothing). */
AV_HIDDEN int av__file_map(const char *path, uint64_t max_size, void **map, size_t *size);
AV_HIDDEN void av__file_unmap(void *map, size_t size);
/* Replace the regular file at path (or the one a symbolic link there points to) atomically with
   data: temporary file, fsync, rename, directory fsync; every failure is reported (AV_EIO). */
AV_HIDDEN int av__file_replace(const char *path, const unsigned char *data, size_t size);

/* ---- file format (format.c) ---- */
AV_HIDDEN int av__router_serialize(const av_router *r, unsigned char **data, size_t *size);
AV_HIDDEN int av__router_deserialize(av_router **out, const unsigned char *data, size_t size);
AV_HIDDEN uint32_t av__crc32(const unsigned char *data, size_t n);

#endif
