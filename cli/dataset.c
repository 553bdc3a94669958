/* Loading a replay and choosing its rows, see dataset.h. */
#include "dataset.h"

#include "cli.h"
#include "input.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#ifndef _WIN32
#include <sys/mman.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#define SPLITMIX_GAMMA 0x9e3779b97f4a7c15ull
#define SPLITMIX_MUL1 0xbf58476d1ce4e5b9ull
#define SPLITMIX_MUL2 0x94d049bb133111ebull
#define DEFAULT_RATIO 0.7
#define DEFAULT_SEED 42u
#define STREAM_CHUNK ((size_t)1 << 20) /* decompressed bytes handed to the JSONL reader at a time */
#define SIDECAR_EXT ".json"
#define SIDECAR_MAX_BYTES ((uint64_t)1 << 20)
#define SIDECAR_MAX_COUNT 4503599627370496.0 /* 2^52: integers a double holds exactly */
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_BYTES 6u

/* The file loaders live here rather than beside their parsers so that jsonl.c and npy.c stand
   alone (the fuzz targets compile them without the rest of the command). */
int cli_jsonl_load(cli_table *out, const char *path, cli_format fmt, const double *score_range,
                   uint64_t max_bytes, char *err, size_t errlen)
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
    if (score_range)
        cli_jsonl_set_score_range(r, score_range[0], score_range[1]);
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

/* The sidecar of raw float32 embeddings: E.f32.json, else E.json (the last extension replaced),
   holding {"rows": R, "dim": D} (other keys are ignored, as in examples/data). Returns 1 with
   rows and dim, 0 when there is none, -1 with the reason in err when one exists but is unusable. */
static int read_sidecar(const char *path, size_t *rows, size_t *dim, char *used, size_t used_len,
                        char *err, size_t errlen)
{
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    char *names[2] = {malloc(n + sizeof SIDECAR_EXT), NULL};
    if (!names[0]) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(names[0], n + sizeof SIDECAR_EXT, "%s%s", path, SIDECAR_EXT);
    if (dot && (!slash || dot > slash + 1) && (names[1] = malloc(n + sizeof SIDECAR_EXT)))
        snprintf(names[1], n + sizeof SIDECAR_EXT, "%.*s%s", (int)(dot - path), path,
                 SIDECAR_EXT);
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0 && names[i]; i++) {
        FILE *probe = fopen(names[i], "rb");
        if (!probe)
            continue;
        fclose(probe);
        unsigned char *text;
        size_t size;
        rc = -1;
        if (cli_read_file(names[i], SIDECAR_MAX_BYTES, &text, &size, err, errlen))
            break;
        cJSON *root = cJSON_ParseWithLength((const char *)text, size);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "rows");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "dim");
        if (cJSON_IsNumber(r) && cJSON_IsNumber(d) && r->valuedouble >= 1.0 &&
            d->valuedouble >= 1.0 && r->valuedouble <= SIDECAR_MAX_COUNT &&
            d->valuedouble <= SIDECAR_MAX_COUNT && r->valuedouble == floor(r->valuedouble) &&
            d->valuedouble == floor(d->valuedouble)) {
            *rows = (size_t)r->valuedouble;
            *dim = (size_t)d->valuedouble;
            snprintf(used, used_len, "%s", names[i]);
            rc = 1;
        } else
            snprintf(err, errlen, "%s: the sidecar of %s must be a JSON object with positive "
                     "integers \"rows\" and \"dim\"", names[i], path);
        cJSON_Delete(root);
        free(text);
    }
    free(names[0]);
    free(names[1]);
    return rc;
}

/* A regular, plain .npy file of float32 mapped (1), or 0 to read it the ordinary way (always on
   Windows, where the command reads the file into memory). */
#ifdef _WIN32
static int map_npy(cli_matrix *out, const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
    (void)out, (void)path, (void)max_bytes, (void)err, (void)errlen;
    return 0;
}
#else
static int map_npy(cli_matrix *out, const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    unsigned char head[NPY_MAGIC_BYTES];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 64 ||
        (uint64_t)st.st_size > max_bytes || (uint64_t)st.st_size > SIZE_MAX ||
        pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        memcmp(head, NPY_MAGIC, NPY_MAGIC_BYTES) != 0) {
        close(fd);
        return 0;
    }
    size_t len = (size_t)st.st_size;
    /* private and writable: pages are shared with the page cache until written */
    void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return 0;
    if (cli_npy_view(out, map, len, path, err, errlen) != 0) {
        munmap(map, len);
        return -1;
    }
    if ((unsigned char *)out->data >= (unsigned char *)map &&
        (unsigned char *)out->data < (unsigned char *)map + len) {
        out->map = map;
        out->map_len = len;
    } else {
        munmap(map, len); /* converted to a copy (float64) */
    }
    return 1;
}
#endif

int cli_matrix_load(cli_matrix *out, const char *path, size_t dim, uint64_t max_bytes, char *err,
                    size_t errlen)
{
    unsigned char *data;
    size_t size;
    memset(out, 0, sizeof *out);
    if (!dim && strcmp(path, "-") != 0) {
        int mapped = map_npy(out, path, max_bytes, err, errlen);
        if (mapped)
            return mapped > 0 ? 0 : -1;
    }
    if (cli_read_file(path, max_bytes, &data, &size, err, errlen))
        return -1;
    bool from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? CLI_STDIN_NAME : path;
    int rc;
    if (dim)
        rc = cli_raw_f32_parse(out, data, size, dim, name, err, errlen);
    else if (from_stdin || (size >= NPY_MAGIC_BYTES && memcmp(data, NPY_MAGIC, NPY_MAGIC_BYTES) == 0))
        rc = cli_npy_parse(out, data, size, name, err, errlen);
    else {
        size_t rows = 0, sdim = 0;
        char used[CLI_ERR_MAX / 2];
        int found = read_sidecar(path, &rows, &sdim, used, sizeof used, err, errlen);
        if (found == 0)
            rc = cli_npy_parse(out, data, size, name, err, errlen);
        else if (found < 0)
            rc = -1;
        else if (sdim > SIZE_MAX / sizeof(float) / rows || rows * sdim * sizeof(float) != size) {
            snprintf(err, errlen, "%s: %zu bytes, but its sidecar %s says %zu rows of %zu float32 "
                     "values (%.0f bytes)", path, size, used, rows, sdim,
                     (double)rows * (double)sdim * (double)sizeof(float));
            rc = -1;
        } else
            rc = cli_raw_f32_parse(out, data, size, sdim, name, err, errlen);
    }
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
        if (!*arg) {
            cli_error("--split: expected train, test, all or a name of the lines' \"split\"");
            return -1;
        }
        o->split = arg;
        return 1;
    case CLI_OPT_SCORE_RANGE: {
        char *colon = strchr(arg, ':');
        char lo[64];
        if (colon && (size_t)(colon - arg) < sizeof lo) {
            memcpy(lo, arg, (size_t)(colon - arg));
            lo[colon - arg] = '\0';
        }
        if (!colon || (size_t)(colon - arg) >= sizeof lo ||
            !cli_parse_double(lo, -1e300, 1e300, &o->score_range[0]) ||
            !cli_parse_double(colon + 1, -1e300, 1e300, &o->score_range[1]) ||
            !(o->score_range[0] < o->score_range[1])) {
            cli_error("--score-range %s: expected LO:HI with LO < HI, e.g. 0:100", arg);
            return -1;
        }
        o->has_score_range = 1;
        return 1;
    }
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
        o->ratio_given = 1;
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

/* ", found: "a" (n rows), "b" (n rows)" listing the split names, for messages. */
static void list_splits(const cli_table *t, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "the lines' splits are");
    for (size_t s = 0; s < t->n_splits && used < cap; s++) {
        size_t count = 0;
        for (size_t i = 0; i < t->n; i++)
            count += t->split[i] == (int8_t)s;
        used += (size_t)snprintf(out + used, cap - used, "%s \"%s\" (%zu rows)", s ? "," : "",
                                 t->split_names[s], count);
    }
}

/* Why the rows of a mismatched matrix may not be what the user meant. */
static const char *shape_hint(const cli_matrix *e, size_t want_rows, const cli_data_opts *o)
{
    if (e->cols == want_rows && e->rows != want_rows)
        return "; the array looks transposed (dim x rows): save array.T, C-contiguous";
    if (o->dim)
        return "; check --dim";
    return "";
}

int cli_dataset_load(cli_dataset *ds, const cli_data_opts *o)
{
    char err[CLI_ERR_MAX];
    memset(ds, 0, sizeof *ds);
    if (!o->data || !o->embeddings) {
        cli_error("--data and --embeddings are required (see --help)");
        return CLI_EUSAGE;
    }
    if (strcmp(o->data, "-") == 0 && strcmp(o->embeddings, "-") == 0) {
        cli_error("--data and --embeddings cannot both read standard input");
        return CLI_EUSAGE;
    }
    uint64_t max_input;
    if (!cli_input_limit(o->max_input, &max_input, err, sizeof err)) {
        cli_error("%s", err);
        return CLI_EUSAGE;
    }
    if (cli_jsonl_load(&ds->table, o->data, (cli_format)o->format,
                       o->has_score_range ? o->score_range : NULL, max_input, err, sizeof err) ||
        cli_matrix_load(&ds->emb, o->embeddings, o->dim, max_input, err, sizeof err)) {
        cli_error("%s", err);
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    if (ds->emb.rows != ds->table.n) {
        cli_error("%s has %zu rows of dimension %zu but %s has %zu data lines; they must match "
                  "row for row%s", o->embeddings, ds->emb.rows, ds->emb.cols, o->data, ds->table.n,
                  shape_hint(&ds->emb, ds->table.n, o));
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    size_t n = ds->table.n;
    bool field_auto = strcmp(o->split_by, "auto") == 0 && ds->table.has_split;
    bool by_field = strcmp(o->split_by, "field") == 0 || field_auto;
    bool all = strcmp(o->split, "all") == 0;
    if (by_field && !ds->table.has_split) {
        cli_error("%s: --split-by field, but the lines have no \"split\"", o->data);
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    if (!all && !by_field && strcmp(o->split, "train") && strcmp(o->split, "test")) {
        cli_error(ds->table.has_split
                      ? "--split %s with --split-by random: a random split has only train and test"
                      : "--split %s: the lines have no \"split\" field, so the rows are split at "
                        "random into train and test (or use --split all)",
                  o->split);
        cli_dataset_free(ds);
        return CLI_EUSAGE;
    }
    if (!(ds->rows = malloc(n * sizeof *ds->rows))) {
        cli_error("out of memory");
        cli_dataset_free(ds);
        return CLI_EINTERNAL;
    }
    if (all) {
        for (size_t i = 0; i < n; i++)
            ds->rows[i] = i;
        ds->n_rows = n;
        snprintf(ds->split_desc, sizeof ds->split_desc, "all");
    } else if (by_field) {
        int want = cli_table_split(&ds->table, o->split);
        if (want < 0) {
            char found[CLI_ERR_MAX / 2];
            list_splits(&ds->table, found, sizeof found);
            cli_error("%s: no line has \"split\": \"%s\"; %s", o->data, o->split, found);
            cli_dataset_free(ds);
            return CLI_EDATA;
        }
        for (size_t i = 0; i < n; i++)
            if (ds->table.split[i] == want)
                ds->rows[ds->n_rows++] = i;
        snprintf(ds->split_desc, sizeof ds->split_desc, "%s from the \"split\" field, %s",
                 o->split, field_auto ? "the default when the lines carry one; --split-by random "
                                        "splits at random"
                                      : "as asked by --split-by field");
        if (field_auto && o->ratio_given)
            fprintf(stderr, "avengers: note: --train-ratio is not used: the lines carry \"split\", "
                            "which chooses the rows (--split-by random splits by the ratio)\n");
    } else {
        free(ds->rows);
        ds->rows = NULL;
        if (cli_random_split(n, o->train_ratio, o->seed, strcmp(o->split, "train") == 0,
                             &ds->rows, &ds->n_rows)) {
            cli_error("out of memory");
            cli_dataset_free(ds);
            return CLI_EINTERNAL;
        }
        snprintf(ds->split_desc, sizeof ds->split_desc,
                 "%s from a random split: train ratio %g, seed %llu, %s", o->split, o->train_ratio,
                 (unsigned long long)o->seed,
                 ds->table.has_split ? "as asked by --split-by random"
                                     : "as the lines carry no \"split\" field");
    }
    if (ds->n_rows == 0) {
        cli_error("%s: the %s split has no rows", o->data, o->split);
        cli_dataset_free(ds);
        return CLI_EDATA;
    }
    return CLI_OK;
}
