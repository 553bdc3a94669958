/* avengers eval: replay a router on the test rows and report the paper's table. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "cli.h"
#include "dataset.h"
#include "report.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: avengers eval --router R --data F --embeddings E [options]\n"
    "Routes every selected row once per alpha and reads the recorded outcome of the chosen model;\n"
    "prints single models, the router at each alpha, the oracle, the Pareto frontier and the\n"
    "headline metrics (docs/EVALUATION.md).\n" CLI_DATA_HELP
    "  --split NAME           rows to evaluate: test (default), train, all, or any name of the\n"
    "                         lines' \"split\" field (e.g. dev)\n"
    "  --router R             router file\n"
    "  --alphas SPEC          a:b:step or a comma list (default 0:1:0.05)\n"
    "  --top-p P              clusters per query (default: the router's)\n"
    "  --budget X             also pick the alpha whose expected mean cost per query (from the\n"
    "                         router's training statistics) is at most X, and show what it buys\n"
    "                         on these rows\n"
    "  --json F, --csv F, --svg F   also write these outputs\n"
    "  -q, --quiet            no table on stdout\n";

static int write_outputs(const cli_report *rep, const char *json, const char *csv, const char *svg)
{
    char err[CLI_ERR_MAX];
    if ((json && cli_report_json(rep, json, err, sizeof err)) ||
        (csv && cli_report_csv(rep, csv, err, sizeof err)) ||
        (svg && cli_report_svg(rep, svg, err, sizeof err))) {
        cli_error("%s", err);
        return CLI_EINTERNAL;
    }
    return CLI_OK;
}

/* --budget: the alpha chosen from the router's training statistics alone, then measured on the
   evaluated rows (src/budget.c, docs/EVALUATION.md). */
static int cli_eval_budget(const av_router *r, const av_replay *rp, const cli_dataset *ds,
                           const av_eval_options *base, double budget)
{
    float a;
    int rc = av_router_alpha_for_budget(r, budget, NULL, 0, 0, NULL, NULL, 0, &a);
    if (rc == AV_ENOMODEL) {
        printf("budget %.6g: no alpha keeps the expected mean cost within it (%s)\n", budget,
               av_last_error());
        return CLI_OK;
    }
    double es, ec;
    if (rc || (rc = av_router_expected_mean(r, a, NULL, 0, 0, NULL, NULL, &es, &ec)) != AV_OK) {
        cli_error("budget: %s", av_last_error());
        return CLI_EINTERNAL;
    }
    av_eval_options eo = *base;
    double alpha = (double)a;
    eo.alphas = &alpha;
    eo.n_alphas = 1;
    av_eval_result *res = NULL;
    av_eval_point pt = {(uint32_t)sizeof pt, 0, 0, 0, 0, 0, 0};
    av_eval_metrics mt;
    mt.struct_size = (uint32_t)sizeof mt;
    if ((rc = av_eval_run_rows(&res, r, rp, ds->rows, ds->n_rows, &eo)) != AV_OK ||
        (rc = av_eval_alpha(res, 0, &pt)) != AV_OK || (rc = av_eval_metrics_get(res, &mt))) {
        cli_error("budget: %s", av_last_error());
        av_eval_result_free(res);
        return CLI_EINTERNAL;
    }
    printf("budget %.6g per query: alpha %.2f (expected from the training statistics: mean score "
           "%.4f, mean cost %.6g); on these rows: mean score %.4f, mean cost %.6g (%.1f%% of the "
           "best single model's %.6g, whose score is %.4f)\n",
           budget, alpha, es, ec, pt.mean_score, pt.mean_cost,
           100.0 * pt.mean_cost / mt.best_cost, mt.best_cost, mt.best_score);
    av_eval_result_free(res);
    return CLI_OK;
}

int cmd_eval(int argc, char **argv)
{
    enum { OPT_ROUTER = 2000, OPT_ALPHAS, OPT_TOPP, OPT_JSON, OPT_CSV, OPT_SVG, OPT_BUDGET };
    static const struct option longopts[] = {
        CLI_DATA_LONG_OPTIONS,
        {"router", required_argument, NULL, OPT_ROUTER},
        {"alphas", required_argument, NULL, OPT_ALPHAS},
        {"top-p", required_argument, NULL, OPT_TOPP},
        {"json", required_argument, NULL, OPT_JSON},
        {"csv", required_argument, NULL, OPT_CSV},
        {"svg", required_argument, NULL, OPT_SVG},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data_opts o;
    cli_data_opts_init(&o, "test");
    const char *router_path = NULL, *json = NULL, *csv = NULL, *svg = NULL;
    const char *alpha_spec = "0:1:0.05";
    uint32_t top_p = 0;
    bool quiet = false, has_budget = false;
    double budget = 0.0;
    int c;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        int h = cli_data_option(&o, c, optarg);
        if (h < 0)
            return CLI_EUSAGE;
        if (h > 0)
            continue;
        switch (c) {
        case OPT_ROUTER: router_path = optarg; break;
        case OPT_ALPHAS: alpha_spec = optarg; break;
        case OPT_TOPP:
            if (!cli_parse_u32(optarg, 1, AV_MAX_TOP_P, &top_p)) {
                cli_error("--top-p %s: expected 1..%u", optarg, AV_MAX_TOP_P);
                return CLI_EUSAGE;
            }
            break;
        case OPT_JSON: json = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_SVG: svg = optarg; break;
        case OPT_BUDGET:
            if (!cli_parse_double(optarg, 0.0, 1e300, &budget)) {
                cli_error("--budget %s: expected a cost >= 0", optarg);
                return CLI_EUSAGE;
            }
            has_budget = true;
            break;
        case 'q': quiet = true; break;
        case 'h': fputs(HELP, stdout); return CLI_OK;
        default: fputs(HELP, stderr); return CLI_EUSAGE;
        }
    }
    if (optind != argc || !router_path) {
        cli_error(optind != argc ? "unexpected argument '%s'" : "--router is required%s",
                  optind != argc ? argv[optind] : "");
        return CLI_EUSAGE;
    }
    char err[CLI_ERR_MAX];
    double *alphas;
    size_t n_alphas;
    if (cli_parse_alphas(alpha_spec, &alphas, &n_alphas, err, sizeof err)) {
        cli_error("%s", err);
        return CLI_EUSAGE;
    }
    av_router *r = NULL;
    av_eval_result *res = NULL;
    cli_dataset ds;
    memset(&ds, 0, sizeof ds);
    int status = CLI_OK, rc = av_router_load(&r, router_path);
    if (rc) {
        cli_error("%s", av_last_error()); /* names the file */
        status = CLI_EROUTER;
        goto done;
    }
    if ((status = cli_dataset_load(&ds, &o)) != CLI_OK)
        goto done;
    if (ds.emb.cols != av_router_dim(r)) {
        cli_error("%s has dimension %zu but the router %s expects %zu", o.embeddings, ds.emb.cols,
                  router_path, av_router_dim(r));
        status = CLI_EROUTER;
        goto done;
    }
    for (size_t i = 0; i < av_router_n_models(r); i++)
        if (cli_table_model(&ds.table, av_router_model_name(r, i)) < 0) {
            cli_error("the router's model '%s' is not in %s (it has %zu models, e.g. '%s')",
                      av_router_model_name(r, i), o.data, ds.table.m, ds.table.models[0]);
            status = CLI_EROUTER;
            goto done;
        }
    av_replay rp;
    av_replay_init(&rp);
    rp.value_type = AV_VALUES_F64;
    rp.n = ds.emb.rows;
    rp.dim = ds.emb.cols;
    rp.embeddings = ds.emb.data;
    rp.n_models = ds.table.m;
    rp.model_names = (const char *const *)ds.table.models;
    rp.scores = ds.table.scores;
    rp.costs = ds.table.costs;
    av_eval_options eo;
    av_eval_options_init(&eo);
    eo.alphas = alphas;
    eo.n_alphas = n_alphas;
    eo.top_p = top_p;
    if ((rc = av_eval_run_rows(&res, r, &rp, ds.rows, ds.n_rows, &eo)) != AV_OK) {
        cli_error("evaluation failed: %s", av_last_error());
        status = rc == AV_EVECTOR || rc == AV_EVALUE || rc == AV_EEMPTY ? CLI_EDATA
                 : rc == AV_EMODEL || rc == AV_EDIM                     ? CLI_EROUTER
                 : rc == AV_EINVAL                                      ? CLI_EUSAGE
                                                                        : CLI_EINTERNAL;
        goto done;
    }
    cli_report rep = {res, router_path, o.data, o.embeddings, ds.split_desc,
                      av_router_n_clusters(r), top_p ? top_p : av_router_top_p(r),
                      av_router_members(r), ds.table.cost_unit};
    if (!quiet && cli_report_table(stdout, &rep) != 0) {
        cli_error("out of memory");
        status = CLI_EINTERNAL;
        goto done;
    }
    status = write_outputs(&rep, json, csv, svg);
    if (status == CLI_OK && has_budget)
        status = cli_eval_budget(r, &rp, &ds, &eo, budget);
    if (status == CLI_OK && fflush(stdout) != 0) {
        cli_error("cannot write the table");
        status = CLI_EINTERNAL;
    }
done:
    av_eval_result_free(res);
    cli_dataset_free(&ds);
    av_router_free(r);
    free(alphas);
    return status;
}
