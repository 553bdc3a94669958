/* Test-only loaders for the fixture under tests/data/llm9 (trusted files written by
   tools/make_fixtures.py): .npy arrays of float32 or uint8 in C order, and models.txt. */
#ifndef AV_TESTDATA_H
#define AV_TESTDATA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef AV_TEST_DATA_DIR
#define AV_TEST_DATA_DIR "tests/data/llm9"
#endif

typedef struct td_array {
    void *data;
    size_t rows, cols; /* cols = 1 for a vector */
} td_array;

/* Reads a version 1.0 .npy whose dtype is `want` ("<f4" or "|u1"). Returns 0 on success. */
static int td_load_npy(const char *name, const char *want, td_array *a)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", AV_TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return -1;
    }
    size_t hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
    char *h = (char *)calloc(1, hlen + 1); /* cast: also compiled as C++ (tests/cpp) */
    if (!h || fread(h, 1, hlen, f) != hlen || !strstr(h, want)) {
        free(h);
        fclose(f);
        return -1;
    }
    const char *sh = strstr(h, "'shape': (");
    unsigned long r = 0, c = 1;
    int got = sh ? sscanf(sh, "'shape': (%lu, %lu", &r, &c) : 0;
    free(h);
    if (got < 1) {
        fclose(f);
        return -1;
    }
    size_t esz = strcmp(want, "|u1") == 0 ? 1 : 4;
    a->rows = r;
    a->cols = got == 2 ? c : 1;
    a->data = malloc(a->rows * a->cols * esz);
    size_t n = a->data ? fread(a->data, esz, a->rows * a->cols, f) : 0;
    fclose(f);
    /* '<f4' is little-endian: swap each value in place on a big-endian machine (s390x) */
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    if (esz == 4 && first == 0)
        for (unsigned char *p = (unsigned char *)a->data, *end = p + n * esz; p < end; p += 4) {
            unsigned char t = p[0];
            p[0] = p[3], p[3] = t, t = p[1], p[1] = p[2], p[2] = t;
        }
    return n == a->rows * a->cols ? 0 : -1;
}

typedef struct td_fixture {
    td_array emb, scores, costs, split;
    char *names[16];
    size_t n, d, m;
} td_fixture;

static int td_load_fixture(td_fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    if (td_load_npy("emb.npy", "<f4", &fx->emb) || td_load_npy("scores.npy", "<f4", &fx->scores) ||
        td_load_npy("costs.npy", "<f4", &fx->costs) || td_load_npy("split.npy", "|u1", &fx->split))
        return -1;
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/models.txt", AV_TEST_DATA_DIR);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fx->m < 16 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (*line)
            fx->names[fx->m++] = strdup(line);
    }
    fclose(f);
    fx->n = fx->emb.rows;
    fx->d = fx->emb.cols;
    return fx->m == fx->scores.cols ? 0 : -1;
}

static void td_free_fixture(td_fixture *fx)
{
    free(fx->emb.data);
    free(fx->scores.data);
    free(fx->costs.data);
    free(fx->split.data);
    for (size_t i = 0; i < fx->m; i++)
        free(fx->names[i]);
}

#define TD_EMB(fx, i) ((const float *)(fx)->emb.data + (i) * (fx)->d)
#define TD_SCORES(fx, i) ((const float *)(fx)->scores.data + (i) * (fx)->m)
#define TD_COSTS(fx, i) ((const float *)(fx)->costs.data + (i) * (fx)->m)

#endif
