/* Fuzz target: the CLI's JSON Lines reader (cli/jsonl.c, cli_jsonl_parse) on arbitrary bytes, in
   each of its three format modes. A failure must come with a message; a success must give a table
   that keeps every promise of cli/jsonl.h: models unique and sorted, each found by
   cli_table_model, names free of control characters, scores in [0, 1] or NaN, costs >= 0 or NaN,
   split values consistent with has_split, line numbers increasing. The same bytes fed in small chunks (cli_jsonl_feed, as the
   command streams a file) must give the same table or the same message. */
#include "fuzz/fuzz.h"
#include "jsonl.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

static void check_table(const cli_table *t, size_t size)
{
    FUZZ_ASSERT(t->n > 0 && t->m > 0 && t->m <= CLI_MAX_MODELS);
    FUZZ_ASSERT(t->n <= size); /* at least one byte per line */
    FUZZ_ASSERT(t->format == CLI_FORMAT_AVENGERS || t->format == CLI_FORMAT_AVENGERSPRO);
    for (size_t i = 0; i < t->m; i++) {
        FUZZ_ASSERT(t->models[i] != NULL);
        if (i > 0)
            FUZZ_ASSERT(strcmp(t->models[i - 1], t->models[i]) < 0);
        FUZZ_ASSERT(cli_table_model(t, t->models[i]) == (int)i);
        for (const unsigned char *c = (const unsigned char *)t->models[i]; *c; c++)
            FUZZ_ASSERT(*c >= 0x20 && *c != 0x7F); /* no control characters (C1 checked too) */
    }
    for (size_t r = 0; r < t->n; r++) {
        for (size_t i = 0; i < t->m; i++) {
            double s = t->scores[r * t->m + i], c = t->costs[r * t->m + i];
            FUZZ_ASSERT(isnan(s) || (s >= 0.0 && s <= 1.0));
            FUZZ_ASSERT(isnan(c) || (isfinite(c) && c >= 0.0));
        }
        if (t->has_split)
            FUZZ_ASSERT(t->split[r] >= 0 && (size_t)t->split[r] < t->n_splits);
        else
            FUZZ_ASSERT(t->split[r] == CLI_SPLIT_NONE && t->n_splits == 0);
        FUZZ_ASSERT(t->line[r] >= 1 && (r == 0 || t->line[r] > t->line[r - 1]));
    }
}

#define MAX_CHUNK 7u

static bool same_values(const double *a, const double *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* Feed in chunks of 1..MAX_CHUNK bytes (the size chosen by the first byte) and compare. */
static void check_chunked(const uint8_t *data, size_t size, cli_format fmt, int rc,
                          const cli_table *t, const char *err)
{
    cli_table c;
    cli_jsonl_reader *r;
    char err2[1024] = "";
    size_t step = size ? 1u + data[0] % MAX_CHUNK : 1u;
    FUZZ_ASSERT(cli_jsonl_begin(&r, &c, fmt, "fuzz", err2, sizeof err2) == 0);
    for (size_t i = 0; i < size; i += step)
        if (cli_jsonl_feed(r, data + i, size - i < step ? size - i : step))
            break;
    int rc2 = cli_jsonl_finish(r);
    FUZZ_ASSERT(rc2 == rc);
    if (rc) {
        FUZZ_ASSERT(strcmp(err, err2) == 0);
        return;
    }
    FUZZ_ASSERT(c.n == t->n && c.m == t->m && c.format == t->format && c.has_split == t->has_split);
    for (size_t i = 0; i < c.m; i++)
        FUZZ_ASSERT(strcmp(c.models[i], t->models[i]) == 0);
    FUZZ_ASSERT(same_values(c.scores, t->scores, c.n * c.m));
    FUZZ_ASSERT(same_values(c.costs, t->costs, c.n * c.m));
    FUZZ_ASSERT(memcmp(c.split, t->split, c.n) == 0);
    FUZZ_ASSERT(memcmp(c.line, t->line, c.n * sizeof *c.line) == 0);
    cli_table_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cli_format fmts[] = {CLI_FORMAT_AUTO, CLI_FORMAT_AVENGERS, CLI_FORMAT_AVENGERSPRO};
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        cli_table t;
        char err[1024] = "";
        int rc = cli_jsonl_parse(&t, data, size, fmts[f], "fuzz", err, sizeof err);
        if (rc == 0)
            check_table(&t, size);
        else
            FUZZ_ASSERT(rc == -1 && err[0] != '\0');
        check_chunked(data, size, fmts[f], rc, &t, err);
        if (rc == 0)
            cli_table_free(&t);
    }
    return 0;
}
