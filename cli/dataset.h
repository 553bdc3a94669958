/* Loading a replay for train and eval: the JSONL file, the embedding matrix, the row-count check,
   and the choice of rows (the split). Shared so that both subcommands pick the same rows.

   The split (docs/man/avengers.1, "SPLIT"):
   - --split-by field (the default when the lines carry "split"): rows whose "split" is the
     requested name (--split NAME: "train", "test", or any name the lines use, e.g. "dev").
   - --split-by random (the default otherwise): a seeded permutation. splitmix64 seeded with --seed
     gives 64-bit values x; for i = n-1 down to 1, j is uniform in 0..i by rejection (draw x until
     x >= (2^64 - (i+1)) mod (i+1), then j = x mod (i+1)), and perm[i], perm[j] are swapped
     (perm starts as 0..n-1). The first floor(train_ratio * n + 0.5) entries of perm are the
     training rows, the rest the test rows; each set is then sorted in increasing row order.
   - --split all: every row.
   The description of the choice (split_desc) says which rows were used and why; it is printed by
   train and eval and stored in the router's metadata. */
#ifndef AV_CLI_DATASET_H
#define AV_CLI_DATASET_H

#include "input.h"
#include "jsonl.h"
#include "npy.h"

#include <getopt.h>
#include <stdint.h>

typedef struct cli_data_opts {
    const char *data, *embeddings;
    int format;         /* cli_format */
    size_t dim;         /* raw float32 embeddings when > 0 */
    const char *split;  /* "train", "test", "all", or a name of the lines' "split" field */
    const char *split_by; /* "auto", "field" or "random" */
    double train_ratio;
    uint64_t seed;
    uint64_t max_input; /* --max-input-bytes; 0 = AVENGERS_MAX_INPUT_BYTES or the default */
    int ratio_given;    /* --train-ratio was on the command line */
    int has_score_range; /* --score-range LO:HI */
    double score_range[2];
} cli_data_opts;

typedef struct cli_dataset {
    cli_table table;
    cli_matrix emb;
    size_t *rows;        /* the selected rows, increasing */
    size_t n_rows;
    char split_desc[512]; /* how the rows were chosen and why, for output and metadata */
} cli_dataset;

/* Option codes of the shared options (long options only, above the ASCII range). */
enum {
    CLI_OPT_DATA = 1000,
    CLI_OPT_EMB,
    CLI_OPT_FORMAT,
    CLI_OPT_DIM,
    CLI_OPT_SPLIT,
    CLI_OPT_SPLIT_BY,
    CLI_OPT_RATIO,
    CLI_OPT_SEED,
    CLI_OPT_MAX_INPUT,
    CLI_OPT_SCORE_RANGE
};

#define CLI_DATA_LONG_OPTIONS                                         \
    {"data", required_argument, NULL, CLI_OPT_DATA},                  \
    {"embeddings", required_argument, NULL, CLI_OPT_EMB},             \
    {"format", required_argument, NULL, CLI_OPT_FORMAT},              \
    {"dim", required_argument, NULL, CLI_OPT_DIM},                    \
    {"split", required_argument, NULL, CLI_OPT_SPLIT},                \
    {"split-by", required_argument, NULL, CLI_OPT_SPLIT_BY},          \
    {"train-ratio", required_argument, NULL, CLI_OPT_RATIO},          \
    {"seed", required_argument, NULL, CLI_OPT_SEED},                  \
    {"max-input-bytes", required_argument, NULL, CLI_OPT_MAX_INPUT},  \
    {"score-range", required_argument, NULL, CLI_OPT_SCORE_RANGE}

#define CLI_DATA_HELP                                                                           \
    "  --data F               replay data, JSON Lines, plain or gzip\n"                         \
    "  --embeddings E         embeddings: .npy (float32/float64, C order), or raw float32 with --dim\n" \
    "                         or a sidecar E.json (or E.f32.json) giving \"rows\" and \"dim\"\n"  \
    "  --format avengers|avengerspro   line format (default: from the first line)\n"           \
    "  --dim D                read E as raw little-endian float32 rows of D values\n"          \
    "  --split-by field|random   rows by the lines' \"split\" field (default when present) or by\n" \
    "                         a seeded random permutation; the output says which was used\n"   \
    "  --score-range LO:HI    scores are in [LO, HI] (e.g. 0:100): map them onto [0, 1]; without\n" \
    "                         it a score outside [0, 1] is an error\n"                         \
    "  --train-ratio R        training share of a random split (default 0.7)\n"               \
    "  --seed N               seed of the random split and of k-means (default 42)\n"      \
    CLI_MAX_INPUT_HELP

#define CLI_MAX_INPUT_HELP                                                                      \
    "  --max-input-bytes N    refuse an input file holding more than N bytes once decompressed\n" \
    "                         (suffix K, M, G, T allowed; default $AVENGERS_MAX_INPUT_BYTES,\n"  \
    "                         else 4G)\n"

void cli_data_opts_init(cli_data_opts *o, const char *default_split);
/* Handle a shared option: 1 handled, 0 not a shared option, -1 bad value (message printed). */
int cli_data_option(cli_data_opts *o, int opt, const char *arg);
/* Load and select rows; returns a CLI_* exit code (message printed on failure). */
int cli_dataset_load(cli_dataset *ds, const cli_data_opts *o);
void cli_dataset_free(cli_dataset *ds);
/* The random split (see above): rows of the wanted side (1 train, 0 test), increasing. */
int cli_random_split(size_t n, double ratio, uint64_t seed, int want_train, size_t **rows,
                     size_t *n_rows);

#endif
