/* Loading a replay and choosing its rows, see dataset.h. */
#include "dataset.h"

#include "cli.h"
#include "input.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPLITMIX_GAMMA 0x9e3779b97f4a7c15ull
#define SPLITMIX_MUL1 0xbf58476d1ce4e5b9ull
#define SPLITMIX_MUL2 0x94d049bb133111ebull
#define DEFAULT_RATIO 0.7
#define DEFAULT_SEED 42u
#define STREAM_CHUNK ((size_t)1 << 20) /* decompressed bytes handed to the JSONL reader at a time */

/* The file loaders live here rather than beside their parsers so that jsonl.c and npy.c stand
   alone (the fuzz targets compile them without the rest of the command). */
int cli_jsonl_load(cli_table *out, const char *path, cli_format fmt, uint64_t max_bytes,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    cli_input *in;
    if (cli_input_open(&in, path, max_bytes, err, errlen))
        return -1;
    unsigned char *buf = malloc(STREAM_CHUNK);
    cli_jsonl_reader *r = NULL;
    if (!buf || cli_jsonl_begin(&r, out, fmt, path, err, errlen)) {
        if (!buf)
            snprintf(err, errlen, "%s: out of memory", path);
        cli_jsonl_reader_free(r);
        free(buf);
        cli_input_close(in);
        return -1;
    }
    long long got;
    while ((got = cli_input_read(in, buf, STREAM_CHUNK, err, errlen)) > 0)
        if (cli_jsonl_feed(r, buf, (size_t)got))
            break;
    int rc;
    if (got < 0) { /* the input's own error (err already says it) */
        cli_jsonl_reader_free(r);
        cli_table_free(out);
        rc = -1;
    } else
        rc = cli_jsonl_finish(r);
    free(buf);
    cli_input_close(in);
    return rc;
}

int cli_matrix_load(cli_matrix *out, const char *path, size_t dim, uint64_t max_bytes, char *err,
                    size_t errlen)
{
    unsigned char *data;
    size_t size;
    memset(out, 0, sizeof *out);
    if (cli_read_file(path, max_bytes, &data, &size, err, errlen))
        return -1;
    int rc = dim ? cli_raw_f32_parse(out, data, size, dim, path, err, errlen)
                 : cli_npy_parse(out, data, size, path, err, errlen);
    free(data);
    return rc;
}

void cli_data_opts_init(cli_data_opts *o, const char *default_split)
{
    memset(o, 0, sizeof *o);
    o->format = CLI_FORMAT_AUTO;
    o->split = default_split;
    o->split_by = "auto";
    o->train_ratio = DEFAULT_RATIO;
    o->seed = DEFAULT_SEED;
}

int cli_data_option(cli_data_opts *o, int opt, const char *arg)
{
    uint32_t u;
    switch (opt) {
    case CLI_OPT_DATA:
        o->data = arg;
        return 1;
    case CLI_OPT_EMB:
        o->embeddings = arg;
        return 1;
    case CLI_OPT_FORMAT:
        if ((o->format = cli_format_from_name(arg)) < 0) {
            cli_error("--format %s: expected avengers or avengerspro", arg);
            return -1;
        }
        return 1;
    case CLI_OPT_DIM:
        if (!cli_parse_u32(arg, 1, UINT32_MAX, &u)) {
            cli_error("--dim %s: expected a positive integer", arg);
            return -1;
        }
        o->dim = u;
        return 1;
    case CLI_OPT_SPLIT:
        if (strcmp(arg, "train") && strcmp(arg, "test") && strcmp(arg, "all")) {
            cli_error("--split %s: expected train, test or all", arg);
            return -1;
        }
        o->split = arg;
        return 1;
    case CLI_OPT_SPLIT_BY:
        if (strcmp(arg, "field") && strcmp(arg, "random") && strcmp(arg, "auto")) {
            cli_error("--split-by %s: expected field or random", arg);
            return -1;
        }
        o->split_by = arg;
        return 1;
    case CLI_OPT_RATIO:
        if (!cli_parse_double(arg, 0.0, 1.0, &o->train_ratio)) {
            cli_error("--train-ratio %s: expected a number in [0, 1]", arg);
            return -1;
        }
        return 1;
    case CLI_OPT_MAX_INPUT:
        if (!cli_parse_size(arg, &o->max_input)) {
            cli_error("--max-input-bytes %s: expected a positive byte count such as 4294967296 or "
                      "4G", arg);
            return -1;
        }
        return 1;
    case CLI_OPT_SEED:
        if (!cli_parse_u64(arg, &o->seed)) {
            cli_error("--seed %s: expected a non-negative integer", arg);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += SPLITMIX_GAMMA);
    z = (z ^ (z >> 30)) * SPLITMIX_MUL1;
    z = (z ^ (z >> 27)) * SPLITMIX_MUL2;
    return z ^ (z >> 31);
}

int cli_random_split(size_t n, double ratio, uint64_t seed, int want_train, size_t **rows,
                     size_t *n_rows)
{
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    unsigned char *is_train = calloc(n ? n : 1, 1);
    if (!perm || !is_train) {
        free(perm);
        free(is_train);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t st = seed;
    for (size_t i = n; i-- > 1;) {
        uint64_t bound = (uint64_t)i + 1u, threshold = (0u - bound) % bound, x;
        do
            x = splitmix64(&st);
        while (x < threshold);
        size_t j = (size_t)(x % bound), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    size_t n_train = (size_t)floor(ratio * (double)n + 0.5);
    for (size_t i = 0; i < n_train; i++)
        is_train[perm[i]] = 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_train[i] == (want_train ? 1 : 0))
            perm[k++] = i; /* perm's own slots are no longer needed: reuse them in row order */
    free(is_train);
    *rows = perm;
    *n_rows = k;
    return 0;
}

void cli_dataset_free(cli_dataset *ds)
{
    cli_table_free(&ds->table);
    cli_matrix_free(&ds->emb);
    free(ds->rows);
    memset(ds, 0, sizeof *ds);
}

int cli_dataset_load(cli_dataset *ds, const cli_data_opts *o)
{
    char err[CLI_ERR_MAX];
    memset(ds, 0, sizeof *ds);
    if (!o->data || !o->embeddings) {
        cli_error("--data and --embeddings are required (see --help)");
        return CLI_EUSAGE;
    }
    uint64_t max_input;
    if (!cli_input_limit(o->max_input, &max_input, err, sizeof err)) {
        cli_error("%s", err);
        return CLI_EUSAGE;
    }
    if (cli_jsonl_load(&ds->table, o->data, (cli_format)o->format, max_input, err, sizeof err) ||
        cli_matrix_load(&ds->emb, o->embeddings, o->dim, max_input, err, sizeof err)) {
        cli_error("%s", err);
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    if (ds->emb.rows != ds->table.n) {
        cli_error("%s has %zu rows but %s has %zu data lines; they must match row for row",
                  o->embeddings, ds->emb.rows, o->data, ds->table.n);
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    size_t n = ds->table.n;
    bool by_field = strcmp(o->split_by, "field") == 0 ||
                    (strcmp(o->split_by, "auto") == 0 && ds->table.has_split);
    if (by_field && !ds->table.has_split) {
        cli_error("%s: --split-by field, but the lines have no \"split\"", o->data);
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    if (!(ds->rows = malloc(n * sizeof *ds->rows))) {
        cli_error("out of memory");
        cli_dataset_free(ds);
        return CLI_EINTERNAL;
    }
    if (strcmp(o->split, "all") == 0) {
        for (size_t i = 0; i < n; i++)
            ds->rows[i] = i;
        ds->n_rows = n;
        snprintf(ds->split_desc, sizeof ds->split_desc, "all");
    } else if (by_field) {
        int want = strcmp(o->split, "train") == 0 ? CLI_SPLIT_TRAIN : CLI_SPLIT_TEST;
        for (size_t i = 0; i < n; i++)
            if (ds->table.split[i] == want)
                ds->rows[ds->n_rows++] = i;
        snprintf(ds->split_desc, sizeof ds->split_desc, "%s (split field)", o->split);
    } else {
        free(ds->rows);
        ds->rows = NULL;
        if (cli_random_split(n, o->train_ratio, o->seed, strcmp(o->split, "train") == 0,
                             &ds->rows, &ds->n_rows)) {
            cli_error("out of memory");
            cli_dataset_free(ds);
            return CLI_EINTERNAL;
        }
        snprintf(ds->split_desc, sizeof ds->split_desc, "%s (random, train ratio %g, seed %llu)",
                 o->split, o->train_ratio, (unsigned long long)o->seed);
    }
    if (ds->n_rows == 0) {
        cli_error("%s: the %s split has no rows", o->data, o->split);
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    return CLI_OK;
}
