/* `avengers`: train, evaluate, inspect and use libavengers routers from the command line.
   Subcommands live one per file (cli/cmd_*.c); this file only dispatches. See cli/cli.h. */
#include "cli.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

/* One line per subcommand; other helpers add theirs here (convert, merge). */
static const cli_command COMMANDS[] = {
    {"train", cmd_train, "fit a router on replay data (JSONL + embeddings)"},
    {"eval", cmd_eval, "replay a router: single models, alpha sweep, oracle, frontier, metrics"},
    {"route", cmd_route, "route embeddings, one JSON line per row"},
    {"info", cmd_info, "describe a router file and verify its checksums"},
    {"merge", cmd_merge, "add the statistics of routers that share centroids into one file"},
    {"convert", cmd_convert, "re-encode a router's centroids as f32, f16 or int8"},
    {"calibrate", cmd_calibrate, "the alpha for a share of calls, a cost budget or an accuracy"},
    {"reprice", cmd_reprice, "set a model's price; costs learned at the old price are rescaled"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: avengers <command> [options]   (avengers <command> --help)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(f, "  %-8s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 usage, 2 input data, 3 router file, 4 internal/output\n"
               "options: --help, --version\n");
}

int main(int argc, char **argv)
{
#ifdef _WIN32
    /* Lines end in "\n" as on every other platform (JSON lines, messages), and embeddings read
       from stdin are bytes: no CRLF translation on the standard streams. */
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
#endif
    if (argc < 2) {
        usage(stderr);
        return CLI_EUSAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("avengers %s (libavengers %s, SIMD %s)\n", AV_VERSION_STRING, av_version_string(),
               av_simd_backend());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0) {
            optind = 1; /* each subcommand parses its own argv from the start */
            return COMMANDS[i].run(argc - 1, argv + 1);
        }
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return CLI_EUSAGE;
}
