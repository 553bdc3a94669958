/* Readers of replay data in JSON Lines (parsed with cJSON), one query per line:

   avengers     {"id", "benchmark", "query", "scores": {model: x}, "costs": {model: x},
                 "split": "train"|"test"}           (id, benchmark, query optional)
   avengerspro  {"query", "records": {model: x}, "usages": {model: {"cost": x, ...}},
                 "dataset", "index"}               (the format of the Avengers-Pro code)

   Model order: the models are the keys of the FIRST line's "scores" ("records"), sorted by byte
   value (strcmp); every column of the result follows that order. Every later line must name
   exactly those models (a missing or extra model is an error); a score or cost of null means "no
   outcome" (NaN). Scores are numbers or booleans (true = 1); costs are numbers >= 0; non-finite
   numbers (e.g. 1e999) are errors. Blank lines are skipped; line numbers count every line.

   The split: when the first line has "split", every line must have "split" equal to "train" or
   "test"; otherwise no line may have it.

   Every function here returns 0 or -1 with the reason in err ("FILE:LINE: what is wrong"); none
   exits or prints. The *_parse functions read a memory buffer (for fuzzing). */
#ifndef AV_CLI_JSONL_H
#define AV_CLI_JSONL_H

#include <stddef.h>
#include <stdint.h>

typedef enum cli_format {
    CLI_FORMAT_AUTO = 0, /* from the first line: "scores" -> avengers, "records" -> avengerspro */
    CLI_FORMAT_AVENGERS = 1,
    CLI_FORMAT_AVENGERSPRO = 2
} cli_format;

enum { CLI_SPLIT_NONE = -1, CLI_SPLIT_TEST = 0, CLI_SPLIT_TRAIN = 1 };

typedef struct cli_table {
    size_t n, m;
    char **models;        /* m names, sorted */
    double *scores;       /* n x m, NaN = no outcome */
    double *costs;        /* n x m, NaN = no outcome */
    int8_t *split;        /* n: CLI_SPLIT_* */
    int has_split;        /* the lines carry "split" */
    size_t *line;         /* n: the 1-based line number of each row (for messages) */
    cli_format format;    /* the format actually read */
} cli_table;

/* Largest number of lines (rows) accepted, and of models per line. */
#define CLI_MAX_ROWS ((size_t)1 << 31)
#define CLI_MAX_MODELS 256u

int cli_jsonl_parse(cli_table *out, const void *data, size_t size, cli_format fmt,
                    const char *name, char *err, size_t errlen);
/* Defined in dataset.c (reads the file with cli_read_file, plain or gzip). */
int cli_jsonl_load(cli_table *out, const char *path, cli_format fmt, char *err, size_t errlen);
void cli_table_free(cli_table *t);
/* Column of a model name, or -1. */
int cli_table_model(const cli_table *t, const char *name);
/* "avengers" / "avengerspro" to a format; -1 if neither. */
int cli_format_from_name(const char *s);

#endif
