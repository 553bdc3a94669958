/* avengers route: one JSON line per embedding row with the routed model, through av_route_ex (the
   per-request mask, cost and score limits, top_p and the explanation). */
#include "cli.h"
#include "input.h"
#include "npy.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ALPHA 0.5
#define NO_MODEL "no model satisfies the request's constraints (--mask, --max-cost, --min-score)"

static const char HELP[] =
    "usage: avengers route --router R --embeddings E [options]\n"
    "Routes every row of E and prints one JSON line per row:\n"
    "  {\"row\": i, \"model\": index, \"name\": \"model name\"}\n"
    "or {\"row\": i, \"error\": \"...\"} for a row that cannot be routed (exit status 2), e.g.\n"
    "when no allowed model meets --max-cost and --min-score.\n"
    "  --router R         router file\n"
    "  --embeddings E     .npy (float32/float64, C order), or raw float32 with --dim (or a .json\n"
    "                     sidecar giving rows and dim); - reads standard input\n"
    "  --dim D            read E as raw little-endian float32 rows of D values\n"
    "  --alpha A          performance-cost trade-off in [0, 1] (default 0.5; 1 = best score)\n"
    "  --top-p P          clusters per query (default: the router's)\n"
    "  --mask M1,M2,...   route only to these models (names as in `avengers info`)\n"
    "  --max-cost X       only models whose expected cost for the query is at most X\n"
    "  --min-score X      only models whose expected score for the query is at least X\n"
    "  --explain          add the explanation to each line: \"ranked\" (allowed models, best\n"
    "                     first, with their routing scores), \"expected\" (every model's expected\n"
    "                     score and cost for the query), \"clusters\" (index, similarity, weight,\n"
    "                     support), \"best_similarity\", \"support\", \"feasible\", \"guarded\"\n"
    "  --max-input-bytes N   refuse embeddings of more than N bytes once decompressed (suffix\n"
    "                     K, M, G, T allowed; default $AVENGERS_MAX_INPUT_BYTES, else 4G)\n"
    "Names are printed as valid JSON: control characters as \\uXXXX, invalid UTF-8 as U+FFFD.\n";

/* The explanation's arrays, sized for the router. */
typedef struct explain_buf {
    int32_t ranked[AV_MAX_MODELS];
    double ranked_scores[AV_MAX_MODELS];
    double model_scores[AV_MAX_MODELS], expected_score[AV_MAX_MODELS],
        expected_cost[AV_MAX_MODELS];
    uint32_t clusters[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    double weights[AV_MAX_TOP_P], support[AV_MAX_TOP_P];
} explain_buf;

/* "a,b,c" -> mask over the router's models; false with the message printed on an unknown name. */
static bool parse_mask(const av_router *r, const char *spec, uint8_t *mask)
{
    size_t m = av_router_n_models(r);
    memset(mask, 0, m);
    char *copy = strdup(spec);
    if (!copy) {
        cli_error("out of memory");
        return false;
    }
    bool ok = true;
    char *save = NULL;
    size_t n = 0;
    for (char *name = strtok_r(copy, ",", &save); name && ok; name = strtok_r(NULL, ",", &save)) {
        int32_t i = av_router_model_index(r, name);
        if (i < 0) {
            cli_error("--mask: the router has no model '%s' (its models are listed by "
                      "`avengers info`)", name);
            ok = false;
        } else {
            mask[i] = 1;
            n++;
        }
    }
    if (ok && n == 0) {
        cli_error("--mask '%s': expected a comma-separated list of model names", spec);
        ok = false;
    }
    free(copy);
    return ok;
}

static void put_number(double v)
{
    if (v != v || v - v != 0.0) /* NaN or infinite: JSON has no literal for them */
        fputs("null", stdout);
    else
        printf("%.17g", v);
}

/* A float with the 9 significant digits that read back as the same float. */
static void put_float(float v)
{
    if (v != v || v - v != 0.0f)
        fputs("null", stdout);
    else
        printf("%.9g", (double)v);
}

static void print_explanation(const av_router *r, const av_route_result *res)
{
    printf(", \"feasible\": %zu, \"guarded\": %s, \"best_similarity\": ", res->n_feasible,
           res->guarded ? "true" : "false");
    put_float(res->best_similarity);
    fputs(", \"support\": ", stdout);
    put_number(res->support);
    fputs(", \"ranked\": [", stdout);
    for (size_t i = 0; i < res->n_ranked; i++) {
        printf("%s{\"model\": %d, \"name\": ", i ? ", " : "", (int)res->ranked[i]);
        cli_put_json_string(stdout, av_router_model_name(r, (size_t)res->ranked[i]));
        fputs(", \"score\": ", stdout);
        put_number(res->ranked_scores[i]);
        fputc('}', stdout);
    }
    fputs("], \"expected\": [", stdout);
    for (size_t i = 0; i < res->n_models && i < res->models_cap; i++) {
        printf("%s{\"model\": %zu, \"name\": ", i ? ", " : "", i);
        cli_put_json_string(stdout, av_router_model_name(r, i));
        fputs(", \"routing_score\": ", stdout);
        put_number(res->model_scores[i]);
        fputs(", \"score\": ", stdout);
        put_number(res->expected_score[i]);
        fputs(", \"cost\": ", stdout);
        put_number(res->expected_cost[i]);
        fputc('}', stdout);
    }
    fputs("], \"clusters\": [", stdout);
    for (size_t c = 0; c < res->n_clusters && c < res->clusters_cap; c++) {
        printf("%s{\"cluster\": %u, \"similarity\": ", c ? ", " : "", res->clusters[c]);
        put_float(res->cluster_sims[c]);
        fputs(", \"weight\": ", stdout);
        put_number(res->cluster_weights[c]);
        fputs(", \"support\": ", stdout);
        put_number(res->cluster_support[c]);
        fputc('}', stdout);
    }
    fputc(']', stdout);
}

int cmd_route(int argc, char **argv)
{
    enum {
        OPT_ROUTER = 1000, OPT_EMB, OPT_DIM, OPT_ALPHA, OPT_TOPP, OPT_MAX_INPUT, OPT_MASK,
        OPT_MAX_COST, OPT_MIN_SCORE, OPT_EXPLAIN
    };
    static const struct option longopts[] = {
        {"router", required_argument, NULL, OPT_ROUTER},
        {"embeddings", required_argument, NULL, OPT_EMB},
        {"dim", required_argument, NULL, OPT_DIM},
        {"alpha", required_argument, NULL, OPT_ALPHA},
        {"top-p", required_argument, NULL, OPT_TOPP},
        {"mask", required_argument, NULL, OPT_MASK},
        {"max-cost", required_argument, NULL, OPT_MAX_COST},
        {"min-score", required_argument, NULL, OPT_MIN_SCORE},
        {"explain", no_argument, NULL, OPT_EXPLAIN},
        {"help", no_argument, NULL, 'h'},
        {"max-input-bytes", required_argument, NULL, OPT_MAX_INPUT},
        {NULL, 0, NULL, 0}};
    const char *router_path = NULL, *emb_path = NULL, *mask_spec = NULL;
    uint32_t dim = 0, top_p = 0;
    uint64_t max_input = 0;
    double alpha = DEFAULT_ALPHA, max_cost = 0.0, min_score = 0.0;
    bool explain = false;
    av_route_options ro;
    av_route_options_init(&ro);
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ROUTER: router_path = optarg; break;
        case OPT_EMB: emb_path = optarg; break;
        case OPT_MASK: mask_spec = optarg; break;
        case OPT_EXPLAIN: explain = true; break;
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
        case OPT_MAX_COST:
            if (!cli_parse_double(optarg, 0.0, 1e300, &max_cost)) {
                cli_error("--max-cost %s: expected a cost >= 0", optarg);
                return CLI_EUSAGE;
            }
            ro.flags |= AV_ROUTE_MAX_COST;
            break;
        case OPT_MIN_SCORE:
            if (!cli_parse_double(optarg, -1e300, 1e300, &min_score)) {
                cli_error("--min-score %s: expected a number", optarg);
                return CLI_EUSAGE;
            }
            ro.flags |= AV_ROUTE_MIN_SCORE;
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
        cli_error(optind != argc ? "unexpected argument '%s'"
                                 : "route needs --router and --embeddings (see --help)%s",
                  optind != argc ? argv[optind] : "");
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
        cli_error("%s", av_last_error()); /* names the file */
        return rc == AV_ENOMEM ? CLI_EINTERNAL : CLI_EROUTER;
    }
    size_t m = av_router_n_models(r);
    uint8_t mask[AV_MAX_MODELS];
    if (mask_spec) {
        if (!parse_mask(r, mask_spec, mask)) {
            av_router_free(r);
            return CLI_EUSAGE;
        }
        ro.model_mask = mask;
        ro.model_mask_len = m;
    }
    size_t limit = av_router_n_clusters(r) / (av_router_members(r) ? av_router_members(r) : 1);
    if (top_p && (top_p > limit || (size_t)top_p * av_router_members(r) > AV_MAX_TOP_P)) {
        cli_error("--top-p %u: the router has %zu clusters per clustering and %zu clusterings "
                  "(at most %u clusters per query)", top_p, limit, av_router_members(r),
                  AV_MAX_TOP_P);
        av_router_free(r);
        return CLI_EUSAGE;
    }
    ro.alpha = (float)alpha;
    ro.top_p = top_p;
    ro.max_expected_cost = max_cost;
    ro.min_expected_score = min_score;
    cli_matrix emb;
    if (cli_matrix_load(&emb, emb_path, dim, max_input, err, sizeof err)) {
        cli_error("%s", err);
        av_router_free(r);
        return CLI_EDATA;
    }
    if (emb.cols != av_router_dim(r)) {
        cli_error("%s has dimension %zu but the router %s expects %zu%s", emb_path, emb.cols,
                  router_path, av_router_dim(r),
                  emb.rows == av_router_dim(r)
                      ? "; the array looks transposed (dim x rows): save array.T, C-contiguous"
                  : dim ? "; check --dim"
                        : "");
        cli_matrix_free(&emb);
        av_router_free(r);
        return CLI_EROUTER;
    }
    explain_buf *xb = explain ? calloc(1, sizeof *xb) : NULL;
    if (explain && !xb) {
        cli_error("out of memory");
        cli_matrix_free(&emb);
        av_router_free(r);
        return CLI_EINTERNAL;
    }
    av_route_result res;
    av_route_result_init(&res);
    if (xb) {
        res.ranked = xb->ranked;
        res.ranked_scores = xb->ranked_scores;
        res.ranked_cap = AV_MAX_MODELS;
        res.model_scores = xb->model_scores;
        res.expected_score = xb->expected_score;
        res.expected_cost = xb->expected_cost;
        res.models_cap = AV_MAX_MODELS;
        res.clusters = xb->clusters;
        res.cluster_sims = xb->sims;
        res.cluster_weights = xb->weights;
        res.cluster_support = xb->support;
        res.clusters_cap = AV_MAX_TOP_P;
    }
    int status = CLI_OK;
    for (size_t i = 0; i < emb.rows; i++) {
        int32_t w = av_route_ex(r, emb.data + i * emb.cols, emb.cols, &ro, xb ? &res : NULL);
        if (w < 0) {
            printf("{\"row\": %zu, \"error\": ", i);
            /* the library's text for this code already says it all */
            cli_put_json_string(stdout, w == AV_ENOMODEL ? NO_MODEL : av_last_error());
            if (xb && w == AV_ENOMODEL)
                print_explanation(r, &res);
            printf("}\n");
            status = w == AV_EINVAL ? CLI_EUSAGE : CLI_EDATA;
            continue;
        }
        printf("{\"row\": %zu, \"model\": %d, \"name\": ", i, (int)w);
        cli_put_json_string(stdout, av_router_model_name(r, (size_t)w));
        if (xb)
            print_explanation(r, &res);
        printf("}\n");
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output");
        status = CLI_EINTERNAL;
    }
    free(xb);
    cli_matrix_free(&emb);
    av_router_free(r);
    return status;
}
