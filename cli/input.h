/* Reading the command's input files: plain or gzip, streamed, with a limit on the decompressed size.

   A file whose first two bytes are the gzip magic (1f 8b) is decompressed; anything else is read as
   it is. A gzip file may hold several members one after another (as `cat a.gz b.gz` makes; gzip(1)
   reads them as one stream); anything else after the end of a member, including a single stray
   byte or zero padding, is an error, as are a truncated member and a bad CRC32 or length trailer.

   The limit: no input file may yield more than max_bytes bytes (after decompression). A gzip file
   of one megabyte can hold a gigabyte of data; the limit keeps such a file from taking the
   machine's memory or time. The default, CLI_MAX_INPUT_DEFAULT, is overridden by the environment
   variable AVENGERS_MAX_INPUT_BYTES and by the option --max-input-bytes (docs/man/avengers.1). */
#ifndef AV_CLI_INPUT_H
#define AV_CLI_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_INPUT_DEFAULT ((uint64_t)4 << 30) /* 4 GiB */
#define CLI_MAX_INPUT_ENV "AVENGERS_MAX_INPUT_BYTES"

typedef struct cli_input cli_input;

/* How messages name standard input, which the path "-" reads. */
#define CLI_STDIN_NAME "<standard input>"

/* Open path for reading ("-": standard input). Returns 0, or -1 with the reason (naming the file) in err. */
int cli_input_open(cli_input **in, const char *path, uint64_t max_bytes, char *err, size_t errlen);
/* Up to cap bytes of the (decompressed) content into buf. Returns the number of bytes (> 0), 0 at
   the end of the input once everything after the data has been checked, or -1 with the reason in
   err (read error, corrupt or truncated gzip data, trailing garbage, the limit exceeded). */
long long cli_input_read(cli_input *in, unsigned char *buf, size_t cap, char *err, size_t errlen);
void cli_input_close(cli_input *in);

/* Read a whole file with cli_input_*. On failure returns -1 and writes the reason into err. */
int cli_read_file(const char *path, uint64_t max_bytes, unsigned char **data, size_t *size,
                  char *err, size_t errlen);

/* A byte count: digits with an optional suffix K, M, G or T (powers of 1024, "KiB" etc. also
   accepted); at least 1. */
bool cli_parse_size(const char *s, uint64_t *out);
/* The limit to use: `given` if non-zero (from --max-input-bytes), else AVENGERS_MAX_INPUT_BYTES if
   set, else CLI_MAX_INPUT_DEFAULT. Returns false with a message in err if the variable is not a
   valid size. */
bool cli_input_limit(uint64_t given, uint64_t *limit, char *err, size_t errlen);

#endif
