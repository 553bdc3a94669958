/* Fuzz target: the CLI's embedding readers (cli/npy.c): cli_npy_parse on arbitrary bytes, and
   cli_raw_f32_parse with a dimension taken from the first byte on the rest. A failure must come
   with a message; a success must give a matrix no larger than the bytes can hold, every value of
   which is readable (ASan checks the reads). */
#include "fuzz/fuzz.h"
#include "npy.h"

#include <string.h>

/* Sum every value so that each one is read (and the compiler cannot skip the reads). */
static volatile float g_sink;

static void check_matrix(const cli_matrix *m, size_t size, size_t min_elem_bytes)
{
    FUZZ_ASSERT(m->rows > 0 && m->cols > 0 && m->data != NULL);
    FUZZ_ASSERT(m->rows <= size / min_elem_bytes / m->cols);
    float acc = 0.0f;
    for (size_t i = 0; i < m->rows * m->cols; i++)
        acc += m->data[i];
    g_sink = acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_matrix m;
    char err[1024] = "";
    if (cli_npy_parse(&m, data, size, "fuzz.npy", err, sizeof err) == 0) {
        check_matrix(&m, size, sizeof(float));
        cli_matrix_free(&m);
    } else {
        FUZZ_ASSERT(err[0] != '\0' && m.data == NULL);
    }
    if (size > 0) {
        size_t dim = 1 + data[0] % 16;
        err[0] = '\0';
        if (cli_raw_f32_parse(&m, data + 1, size - 1, dim, "fuzz.f32", err, sizeof err) == 0) {
            FUZZ_ASSERT(m.cols == dim && m.rows * dim * sizeof(float) == size - 1);
            check_matrix(&m, size - 1, sizeof(float));
            cli_matrix_free(&m);
        } else {
            FUZZ_ASSERT(err[0] != '\0' && m.data == NULL);
        }
    }
    return 0;
}
