/* The `avengers` command: the interface every subcommand implements, exit codes, shared helpers.

   Adding a subcommand: write cli/cmd_<name>.c with a function
       int cmd_<name>(int argc, char **argv);   (argv[0] is the subcommand's name)
   declare it below, and add one line {"<name>", cmd_<name>, "<one-line summary>"} to the table in
   cli/main.c. A subcommand parses its options with getopt_long (optind is reset to 1 before it is
   called), prints its own --help to stdout, reports errors with cli_error() and returns one of the
   CLI_* exit codes. The build compiles every C file under cli/ by itself (mk/cli.mk). */
#ifndef AV_CLI_H
#define AV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (documented in docs/man/avengers.1). */
enum {
    CLI_OK = 0,
    CLI_EUSAGE = 1,    /* bad command line */
    CLI_EDATA = 2,     /* input data: missing file, malformed JSON, wrong shape, bad value */
    CLI_EROUTER = 3,   /* the router file cannot be read, or does not fit the data */
    CLI_EINTERNAL = 4  /* anything else: out of memory, cannot write an output, library error */
};

/* Longest message a reader produces (file, line and what is wrong). */
#define CLI_ERR_MAX 1024

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_reprice(int argc, char **argv);

/* A price as reprice and info print it ("1e-05 per query", per-token terms, or "none set"). */
struct av_price;
void cli_put_price(const struct av_price *p);

/* printf-style format checking: under MinGW-w64 (its C99 stdio, __USE_MINGW_ANSI_STDIO) GCC
   checks C99 formats (%zu) under the name gnu_printf. */
#ifdef __MINGW32__
#define CLI_PRINTF gnu_printf
#else
#define CLI_PRINTF printf
#endif

/* "avengers: <message>" on stderr, the message escaped as for text output. */
void cli_error(const char *fmt, ...) __attribute__((format(CLI_PRINTF, 1, 2)));
/* Progress output is shown only when stderr is a terminal. */
bool cli_stderr_is_tty(void);

/* Text that came from a file or the command line (model names, metadata, paths, library
   messages) is never printed raw: text output shows control characters (C0, DEL, C1), bytes that
   are not valid UTF-8 and the backslash as \xNN (\\ for the backslash); JSON output holds only
   valid UTF-8 (U+FFFD for each invalid byte) with control characters as \uXXXX. cli/text.c.

   cli_text: a malloc'ed escaped copy for text output (NULL: out of memory). */
char *cli_text(const char *s);
/* Write s escaped for text output. */
void cli_put_text(FILE *f, const char *s);
/* Write s as a JSON string literal, quotes included. */
void cli_put_json_string(FILE *f, const char *s);
/* A malloc'ed copy of s that is valid UTF-8 (U+FFFD per invalid byte), for cJSON, which escapes
   control characters itself but copies other bytes as they are (NULL: out of memory). */
char *cli_json_text(const char *s);

/* Strict number parsing for options: the whole string must be a number in range. */
bool cli_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
bool cli_parse_u64(const char *s, uint64_t *out);
bool cli_parse_double(const char *s, double lo, double hi, double *out);
/* "a:b:step" (inclusive of b within rounding) or "a,b,c"; values in [0, 1]. malloc'ed list. */
int cli_parse_alphas(const char *s, double **alphas, size_t *n, char *err, size_t errlen);

#endif
