/* Embedding matrices: NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding a 2-D C-order
   array of little-endian float32 ('<f4') or float64 ('<f8', converted to float32), or raw
   little-endian float32 rows of a given dimension. Anything else (Fortran order, other dtypes,
   big-endian, 1-D or 3-D shapes, a header with other keys than NumPy's three or one of them twice,
   a header not ended by a newline, a size that does not match the header) is refused with a message
   naming the file and the problem. No function here exits or prints; *_parse read memory buffers
   (for fuzzing). */
#ifndef AV_CLI_NPY_H
#define AV_CLI_NPY_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_matrix {
    float *data; /* rows x cols, row-major */
    size_t rows, cols;
    void *map;      /* a memory-mapped .npy whose float32 body data points into (else NULL) */
    size_t map_len;
} cli_matrix;

/* Largest .npy header accepted (NumPy writes 64-byte aligned headers of a few hundred bytes). */
#define CLI_NPY_MAX_HEADER 65536u

int cli_npy_parse(cli_matrix *out, const void *data, size_t size, const char *name, char *err,
                  size_t errlen);
/* cli_npy_parse, but a little-endian float32 body is used in place (out->data points into data,
   which must outlive out) when the host is little-endian and the body aligned; else a copy. */
int cli_npy_view(cli_matrix *out, const void *data, size_t size, const char *name, char *err,
                 size_t errlen);
int cli_raw_f32_parse(cli_matrix *out, const void *data, size_t size, size_t dim, const char *name,
                      char *err, size_t errlen);
/* Defined in dataset.c. dim == 0: .npy; dim > 0: raw float32 rows of dim values. The file (plain
   or gzip) may hold at most max_bytes bytes (cli/input.h). A plain (not gzip) regular .npy file
   of float32 is memory-mapped (private, read on demand) instead of read: out->data points into
   the mapping, so the matrix costs page cache, not a copy. */
int cli_matrix_load(cli_matrix *out, const char *path, size_t dim, uint64_t max_bytes, char *err,
                    size_t errlen);
void cli_matrix_free(cli_matrix *m);

#endif
