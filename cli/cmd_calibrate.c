/* avengers calibrate: the alpha that gives a set of models a share of the queries (RouteLLM's
   strong-model percentage), or that keeps a cost budget, or that reaches an accuracy target
   (av_router_alpha_for_share, _for_budget, _for_accuracy), on a set of embeddings or on the
   router's training statistics. */
#define AV_STATIC_LINKING_ONLY /* the experimental budget interfaces */
#include "cli.h"
#include "input.h"
#include "npy.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: avengers calibrate --router R (--share X --models A[,B...] | --budget X |\n"
    "                          --accuracy X) [--embeddings E] [--grid N]\n"
    "Prints the alpha to route with (the router's own settings decide):\n"
    "  --share X --models A,B  the smallest alpha at which the named models receive at least the\n"
    "                          fraction X (0..1) of the queries (the closest share when none does)\n"
    "  --budget X              the alpha with the best expected mean score among those whose\n"
    "                          expected mean cost per query is at most X\n"
    "  --accuracy X            the cheapest alpha whose expected mean score is at least X\n"
    "  --embeddings E          the queries to count on (.npy); without it, the training statistics\n"
    "                          (each cluster stands for its queries)\n"
    "  --grid N                alphas 0, 1/(N-1), ..., 1 (default 101)\n"
    "Exit codes: 0, 1 usage, 2 data, 3 router (also: no alpha meets a budget or an accuracy), 4.\n";

enum { OPT_ROUTER = 256, OPT_SHARE, OPT_MODELS, OPT_BUDGET, OPT_ACCURACY, OPT_EMB, OPT_GRID };

/* The comma-separated model names as a mask over the router's models. */
static int parse_models(const av_router *r, const char *list, uint8_t *mask, size_t m)
{
    memset(mask, 0, m);
    char *copy = strdup(list);
    if (!copy)
        return CLI_EINTERNAL;
    int status = CLI_OK;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int32_t i = av_router_model_index(r, t);
        if (i < 0) {
            cli_error("--models: the router has no model '%s'", t);
            status = CLI_EUSAGE;
            break;
        }
        mask[i] = 1;
    }
    free(copy);
    return status;
}

int cmd_calibrate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"router", required_argument, NULL, OPT_ROUTER},
        {"share", required_argument, NULL, OPT_SHARE},
        {"models", required_argument, NULL, OPT_MODELS},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"accuracy", required_argument, NULL, OPT_ACCURACY},
        {"embeddings", required_argument, NULL, OPT_EMB},
        {"grid", required_argument, NULL, OPT_GRID},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *router_path = NULL, *models = NULL, *emb_path = NULL;
    double target = 0.0, grid = 0.0;
    int kind = 0, c; /* OPT_SHARE, OPT_BUDGET or OPT_ACCURACY */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(HELP, stdout); return CLI_OK;
        case OPT_ROUTER: router_path = optarg; break;
        case OPT_MODELS: models = optarg; break;
        case OPT_EMB: emb_path = optarg; break;
        case OPT_GRID:
            if (!cli_parse_double(optarg, 2, 100001, &grid) || grid != (double)(uint32_t)grid) {
                cli_error("--grid %s: expected a whole number of alphas in 2..100001", optarg);
                return CLI_EUSAGE;
            }
            break;
        case OPT_SHARE:
        case OPT_BUDGET:
        case OPT_ACCURACY:
            if (kind) {
                cli_error("give one of --share, --budget and --accuracy");
                return CLI_EUSAGE;
            }
            kind = c;
            if (!cli_parse_double(optarg, 0.0, c == OPT_SHARE ? 1.0 : 1e300, &target)) {
                cli_error("--%s %s: expected %s", c == OPT_SHARE ? "share" : c == OPT_BUDGET
                                                                            ? "budget"
                                                                            : "accuracy",
                          optarg, c == OPT_SHARE ? "a fraction in [0, 1]" : "a number >= 0");
                return CLI_EUSAGE;
            }
            break;
        default: fputs(HELP, stderr); return CLI_EUSAGE;
        }
    }
    if (!router_path || !kind || optind != argc || (kind == OPT_SHARE) != (models != NULL)) {
        cli_error("calibrate needs --router and one of --share (with --models), --budget and "
                  "--accuracy (see --help)");
        return CLI_EUSAGE;
    }
    av_router *r = NULL;
    if (av_router_load(&r, router_path) != AV_OK) {
        cli_error("%s", av_last_error());
        return CLI_EROUTER;
    }
    int status = CLI_OK;
    uint8_t mask[AV_MAX_MODELS];
    size_t m = av_router_n_models(r);
    if (kind == OPT_SHARE && (status = parse_models(r, models, mask, m)) != CLI_OK) {
        av_router_free(r);
        return status;
    }
    cli_matrix emb = {0};
    char err[CLI_ERR_MAX];
    uint64_t limit = 0;
    if (emb_path && (!cli_input_limit(0, &limit, err, sizeof err) ||
                     cli_matrix_load(&emb, emb_path, 0, limit, err, sizeof err))) {
        cli_error("%s", err);
        av_router_free(r);
        return CLI_EDATA;
    }
    if (emb_path && emb.cols != av_router_dim(r)) {
        cli_error("%s has dimension %zu but the router expects %zu", emb_path, emb.cols,
                  av_router_dim(r));
        cli_matrix_free(&emb);
        av_router_free(r);
        return CLI_EDATA;
    }
    float alpha = 0.0f;
    double got = 0.0;
    int rc;
    if (kind == OPT_SHARE)
        rc = av_router_alpha_for_share(r, mask, m, target, emb.data, emb.rows, emb.cols,
                                       (uint32_t)grid, &alpha, &got);
    else if (kind == OPT_BUDGET)
        rc = av_router_alpha_for_budget(r, target, emb.data, emb.rows, emb.cols, NULL, NULL,
                                        (uint32_t)grid, &alpha);
    else
        rc = av_router_alpha_for_accuracy(r, target, emb.data, emb.rows, emb.cols, NULL, NULL,
                                          (uint32_t)grid, &alpha);
    const char *on = emb_path ? "the given embeddings" : "the training statistics";
    if (rc == AV_ENOMODEL) {
        cli_error("%s", av_last_error());
        status = CLI_EROUTER;
    } else if (rc != AV_OK) {
        cli_error("%s", av_last_error());
        status = rc == AV_EVECTOR ? CLI_EDATA : CLI_EINTERNAL;
    } else {
        double ms = 0.0, mc = 0.0;
        (void)av_router_expected_mean(r, alpha, emb.data, emb.rows, emb.cols, NULL, NULL, &ms,
                                      &mc);
        printf("alpha %g", (double)alpha);
        if (kind == OPT_SHARE)
            printf(": %s receive %.4g of the queries (asked %.4g)", models, got, target);
        printf("; expected mean score %.6g, mean cost %.6g per query, on %s (%zu %s)\n", ms, mc,
               on, emb_path ? emb.rows : av_router_n_clusters(r), emb_path ? "rows" : "clusters");
    }
    cli_matrix_free(&emb);
    av_router_free(r);
    return status;
}
