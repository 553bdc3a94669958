/* avengers route: one JSON line per embedding row with the routed model. */
#include "cli.h"
#include "input.h"
#include "npy.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_ALPHA 0.5

static const char HELP[] =
    "usage: avengers route --router R --embeddings E.npy [--dim D] [--alpha A] [--top-p P]\n"
    "Routes every row of E and prints one JSON line per row:\n"
    "  {\"row\": i, \"model\": index, \"name\": \"model name\"}\n"
    "or {\"row\": i, \"error\": \"...\"} for a row that cannot be routed (exit status 2).\n"
    "  --router R     router file\n"
    "  --embeddings E .npy (float32/float64, C order), or raw float32 with --dim\n"
    "  --dim D        read E as raw little-endian float32 rows of D values\n"
    "  --alpha A      performance-cost trade-off in [0, 1] (default 0.5; 1 = best score)\n"
    "  --top-p P      clusters per query (default: the router's)\n"
    "  --max-input-bytes N   refuse embeddings of more than N bytes once decompressed (suffix\n"
    "                 K, M, G, T allowed; default $AVENGERS_MAX_INPUT_BYTES, else 4G)\n"
    "Names are printed as valid JSON: control characters as \\uXXXX, invalid UTF-8 as U+FFFD.\n";

int cmd_route(int argc, char **argv)
{
    enum { OPT_ROUTER = 1000, OPT_EMB, OPT_DIM, OPT_ALPHA, OPT_TOPP, OPT_MAX_INPUT };
    static const struct option longopts[] = {
        {"router", required_argument, NULL, OPT_ROUTER}, {"embeddings", required_argument, NULL, OPT_EMB},
        {"dim", required_argument, NULL, OPT_DIM},       {"alpha", required_argument, NULL, OPT_ALPHA},
        {"top-p", required_argument, NULL, OPT_TOPP},    {"help", no_argument, NULL, 'h'},
        {"max-input-bytes", required_argument, NULL, OPT_MAX_INPUT},
        {NULL, 0, NULL, 0}};
    const char *router_path = NULL, *emb_path = NULL;
    uint32_t dim = 0, top_p = 0;
    uint64_t max_input = 0;
    double alpha = DEFAULT_ALPHA;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ROUTER: router_path = optarg; break;
        case OPT_EMB: emb_path = optarg; break;
        case OPT_DIM:
            if (!cli_parse_u32(optarg, 1, UINT32_MAX, &dim)) {
                cli_error("--dim %s: expected a positive integer", optarg);
                return CLI_EUSAGE;
            }
            break;
        case OPT_ALPHA:
            if (!cli_parse_double(optarg, 0.0, 1.0, &alpha)) {
                cli_error("--alpha %s: expected a number in [0, 1]", optarg);
                return CLI_EUSAGE;
            }
            break;
        case OPT_TOPP:
            if (!cli_parse_u32(optarg, 1, AV_MAX_TOP_P, &top_p)) {
                cli_error("--top-p %s: expected 1..%u", optarg, AV_MAX_TOP_P);
                return CLI_EUSAGE;
            }
            break;
        case OPT_MAX_INPUT:
            if (!cli_parse_size(optarg, &max_input)) {
                cli_error("--max-input-bytes %s: expected a positive byte count such as "
                          "4294967296 or 4G", optarg);
                return CLI_EUSAGE;
            }
            break;
        case 'h': fputs(HELP, stdout); return CLI_OK;
        default: fputs(HELP, stderr); return CLI_EUSAGE;
        }
    }
    if (!router_path || !emb_path || optind != argc) {
        cli_error("route needs --router and --embeddings (see --help)");
        return CLI_EUSAGE;
    }
    char err[CLI_ERR_MAX];
    if (!cli_input_limit(max_input, &max_input, err, sizeof err)) {
        cli_error("%s", err);
        return CLI_EUSAGE;
    }
    av_router *r;
    int rc = av_router_load(&r, router_path);
    if (rc) {
        cli_error("%s: %s", router_path, av_last_error());
        return CLI_EROUTER;
    }
    if (top_p && (rc = av_router_set_top_p(r, top_p)) != AV_OK) {
        cli_error("--top-p %u: %s", top_p, av_last_error());
        av_router_free(r);
        return CLI_EUSAGE;
    }
    cli_matrix emb;
    if (cli_matrix_load(&emb, emb_path, dim, max_input, err, sizeof err)) {
        cli_error("%s", err);
        av_router_free(r);
        return CLI_EDATA;
    }
    if (emb.cols != av_router_dim(r)) {
        cli_error("%s has dimension %zu but the router %s expects %zu", emb_path, emb.cols,
                  router_path, av_router_dim(r));
        cli_matrix_free(&emb);
        av_router_free(r);
        return CLI_EROUTER;
    }
    int status = CLI_OK;
    for (size_t i = 0; i < emb.rows; i++) {
        int32_t w = av_route(r, emb.data + i * emb.cols, emb.cols, (float)alpha);
        if (w < 0) {
            printf("{\"row\": %zu, \"error\": ", i);
            cli_put_json_string(stdout, av_last_error());
            printf("}\n");
            status = CLI_EDATA;
            continue;
        }
        printf("{\"row\": %zu, \"model\": %d, \"name\": ", i, (int)w);
        cli_put_json_string(stdout, av_router_model_name(r, (size_t)w));
        printf("}\n");
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output");
        status = CLI_EINTERNAL;
    }
    cli_matrix_free(&emb);
    av_router_free(r);
    return status;
}
