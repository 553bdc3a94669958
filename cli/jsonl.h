/* Readers of replay data in JSON Lines (parsed with cJSON), one query per line:

   avengers     {"id", "benchmark", "query", "scores": {model: x}, "costs": {model: x},
                 "split": "train"|"test"|any name, "cost_unit": "USD"}
                                                    (id, benchmark, query, split, cost_unit optional)
   avengerspro  {"query", "records": {model: x}, "usages": {model: {"cost": x, ...}},
                 "dataset", "index"}               (the format of the Avengers-Pro code)

   Model order: the models are the keys of the FIRST line's "scores" ("records"), sorted by byte
   value (strcmp); every column of the result follows that order. Every later line must name
   exactly those models (a missing or extra model is an error); a score or cost of null means "no
   outcome" (NaN). Scores are numbers in [0, 1] or booleans (true = 1); with a score range LO:HI
   (cli_jsonl_set_score_range, the command's --score-range) numbers must lie in [LO, HI] and are
   mapped linearly onto [0, 1] (booleans stay 0 and 1). Costs are numbers >= 0; non-finite numbers
   (e.g. 1e999) are errors. Blank lines are skipped; line numbers count every line. Other keys of
   a line are ignored.

   The split: when the first line has "split", every line must have a "split" string (any name:
   "train", "test", "dev", "ood", ...); otherwise no line may have it. "cost_unit", when present,
   names the unit of the costs (e.g. "USD") and must be the same string on every line that has it.

   Messages add hints for the usual mistakes: a file holding one JSON array, a pretty-printed file
   (an object spread over several lines), and a line without the expected keys (the keys found are
   listed).

   Each line must be one JSON object, strictly by RFC 8259: nothing after it, UTF-8 only, no raw
   control characters (U+0000..U+001F) inside strings, no \u0000 (a NUL cannot be part of a C
   string), no unpaired surrogates, no leading zeros or bare points in numbers, no key twice in
   any object, at most 256 levels of nesting, at most CLI_MAX_LINE bytes. Model names may not
   contain control characters (C0, DEL, C1). cJSON alone accepts all of these, mostly by
   ignoring a part of the line.

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

enum { CLI_SPLIT_NONE = -1 };
/* Most distinct split names, and longest. */
#define CLI_MAX_SPLITS 64u
#define CLI_MAX_SPLIT_NAME 255u

typedef struct cli_table {
    size_t n, m;
    char **models;        /* m names, sorted */
    double *scores;       /* n x m, NaN = no outcome */
    double *costs;        /* n x m, NaN = no outcome */
    int8_t *split;        /* n: index into split_names, or CLI_SPLIT_NONE */
    int has_split;        /* the lines carry "split" */
    char **split_names;   /* n_splits names, in order of first appearance */
    size_t n_splits;
    char *cost_unit;      /* the lines' "cost_unit", or NULL */
    size_t *line;         /* n: the 1-based line number of each row (for messages) */
    cli_format format;    /* the format actually read */
} cli_table;

/* Largest number of lines (rows) accepted, of models per line, and of bytes in one line. */
#define CLI_MAX_ROWS ((size_t)1 << 31)
#define CLI_MAX_MODELS 256u
#define CLI_MAX_LINE ((size_t)64 << 20)

/* Streaming: begin, feed the data in chunks of any size (a line may span chunks; only the table
   and the current line are kept, so memory does not grow with blank lines or with the JSON text),
   then finish, which always frees the reader: it returns 0 with the table, or -1 (table freed,
   reason in err) if any feed failed or there are no data lines. */
typedef struct cli_jsonl_reader cli_jsonl_reader;
int cli_jsonl_begin(cli_jsonl_reader **r, cli_table *out, cli_format fmt, const char *name,
                    char *err, size_t errlen);
/* Accept scores in [lo, hi] (lo < hi, finite) and map them onto [0, 1]; call before any feed. */
void cli_jsonl_set_score_range(cli_jsonl_reader *r, double lo, double hi);
int cli_jsonl_feed(cli_jsonl_reader *r, const void *data, size_t size);
int cli_jsonl_finish(cli_jsonl_reader *r);
void cli_jsonl_reader_free(cli_jsonl_reader *r); /* on failure, with cli_table_free of the table */

/* The whole buffer at once (begin, one feed, finish). */
int cli_jsonl_parse(cli_table *out, const void *data, size_t size, cli_format fmt,
                    const char *name, char *err, size_t errlen);
/* Defined in dataset.c: streams the file through cli_input (plain or gzip, at most max_bytes).
   score_range: NULL, or {lo, hi} as for cli_jsonl_set_score_range. */
int cli_jsonl_load(cli_table *out, const char *path, cli_format fmt, const double *score_range,
                   uint64_t max_bytes, char *err, size_t errlen);
/* The split index of a name, or -1. */
int cli_table_split(const cli_table *t, const char *name);
void cli_table_free(cli_table *t);
/* Column of a model name, or -1. */
int cli_table_model(const cli_table *t, const char *name);
/* "avengers" / "avengerspro" to a format; -1 if neither. */
int cli_format_from_name(const char *s);

#endif
