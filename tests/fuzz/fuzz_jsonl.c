/* Fuzz target: the CLI's JSON Lines reader (cli/jsonl.c, cli_jsonl_parse) on arbitrary bytes, in
   each of its three format modes. A failure must come with a message; a success must give a table
   that keeps every promise of cli/jsonl.h: models unique and sorted, each found by
   cli_table_model, scores finite or NaN, costs >= 0 or NaN, split values consistent with
   has_split, line numbers increasing. */
#include "fuzz/fuzz.h"
#include "jsonl.h"

#include <math.h>
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
    }
    for (size_t r = 0; r < t->n; r++) {
        for (size_t i = 0; i < t->m; i++) {
            double s = t->scores[r * t->m + i], c = t->costs[r * t->m + i];
            FUZZ_ASSERT(isnan(s) || isfinite(s));
            FUZZ_ASSERT(isnan(c) || (isfinite(c) && c >= 0.0));
        }
        if (t->has_split)
            FUZZ_ASSERT(t->split[r] == CLI_SPLIT_TRAIN || t->split[r] == CLI_SPLIT_TEST);
        FUZZ_ASSERT(t->line[r] >= 1 && (r == 0 || t->line[r] > t->line[r - 1]));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cli_format fmts[] = {CLI_FORMAT_AUTO, CLI_FORMAT_AVENGERS, CLI_FORMAT_AVENGERSPRO};
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        cli_table t;
        char err[1024] = "";
        int rc = cli_jsonl_parse(&t, data, size, fmts[f], "fuzz", err, sizeof err);
        if (rc == 0) {
            check_table(&t, size);
            cli_table_free(&t);
        } else {
            FUZZ_ASSERT(rc == -1 && err[0] != '\0');
        }
    }
    return 0;
}
