/* avengers reprice: set a model's price on a router file without retraining
   (av_router_set_price): the costs learned at the old price are rescaled, and the price is kept
   in the file for the next change. */
#define AV_STATIC_LINKING_ONLY /* the experimental price interface */
#include "cli.h"
#include "input.h"

#include "avengers/avengers.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: avengers reprice ROUTER --model NAME (--cost-per-query C |\n"
    "                        --input-price P [--output-price Q] (--data FILE |\n"
    "                        --input-tokens N [--output-tokens N])) [-o OUT]\n"
    "Sets a model's price without retraining: every cost the router learned for the model is\n"
    "multiplied by new / old, where new is the price per query and old the price set before (else\n"
    "the model's mean cost per query), and the price is stored in the file. Writes ROUTER in place\n"
    "(atomically) unless -o is given.\n"
    "  --model NAME           the model to reprice\n"
    "  --cost-per-query C     the price of one query\n"
    "  --input-price P        price per input token\n"
    "  --output-price Q       price per output token (default 0)\n"
    "  --data FILE            JSON Lines (.gz allowed) whose lines carry token counts: the mean\n"
    "                         of \"input_tokens\" (else \"approx_input_tokens\") and of\n"
    "                         \"output_tokens\" (numbers, or objects keyed by model name)\n"
    "  --input-tokens N       mean input tokens per query (instead of --data)\n"
    "  --output-tokens N      mean output tokens per query (instead of --data)\n"
    "  -o, --output OUT       write the repriced router here instead of over ROUTER\n"
    "Exit codes: 0, 1 usage, 2 data, 3 router, 4 internal or output.\n";

enum { OPT_MODEL = 256, OPT_CPQ, OPT_IN_PRICE, OPT_OUT_PRICE, OPT_DATA, OPT_IN_TOK, OPT_OUT_TOK };

/* A line's token count: a number, or the model's entry of an object keyed by model name. */
static const cJSON *token_field(const cJSON *line, const char *key, const char *model)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, key);
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, model);
    return cJSON_IsNumber(v) ? v : NULL;
}

/* The mean input and output tokens of the model's queries in a JSON Lines file; *n_out = lines
   with an output count (0: none, the mean is then 0). */
static int mean_tokens(const char *path, const char *model, double *in_tok, double *out_tok,
                       size_t *n_out)
{
    char err[CLI_ERR_MAX];
    uint64_t limit;
    unsigned char *data = NULL;
    size_t size = 0;
    if (!cli_input_limit(0, &limit, err, sizeof err) ||
        cli_read_file(path, limit, &data, &size, err, sizeof err) != 0) {
        cli_error("%s", err);
        return CLI_EDATA;
    }
    double sum_in = 0.0, sum_out = 0.0;
    size_t n_in = 0, lineno = 0, n_lines = 0;
    *n_out = 0;
    int status = CLI_OK;
    for (size_t pos = 0; pos < size && status == CLI_OK;) {
        const unsigned char *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - data) : size, len = end - pos;
        lineno++;
        const char *s = (const char *)data + pos;
        pos = end + 1;
        size_t t = 0;
        while (t < len && (s[t] == ' ' || s[t] == '\t' || s[t] == '\r'))
            t++;
        if (t == len)
            continue; /* blank line */
        n_lines++;
        cJSON *line = cJSON_ParseWithLength(s, len);
        if (!cJSON_IsObject(line)) {
            cli_error("%s:%zu: not a JSON object (each line must hold one whole JSON object)",
                      path, lineno);
            status = CLI_EDATA;
        } else {
            const cJSON *a = token_field(line, "input_tokens", model);
            if (!a)
                a = token_field(line, "approx_input_tokens", model);
            const cJSON *b = token_field(line, "output_tokens", model);
            if ((a && !(isfinite(a->valuedouble) && a->valuedouble >= 0.0)) ||
                (b && !(isfinite(b->valuedouble) && b->valuedouble >= 0.0))) {
                cli_error("%s:%zu: a token count is negative or not finite", path, lineno);
                status = CLI_EDATA;
            }
            if (a)
                sum_in += a->valuedouble, n_in++;
            if (b)
                sum_out += b->valuedouble, (*n_out)++;
        }
        cJSON_Delete(line);
    }
    free(data);
    if (status != CLI_OK)
        return status;
    if (n_in == 0 || n_in != n_lines || (*n_out != 0 && *n_out != n_lines)) {
        cli_error("%s: %zu of %zu lines give input tokens (input_tokens or approx_input_tokens) "
                  "and %zu output tokens (output_tokens): every line needs them; or pass "
                  "--input-tokens and --output-tokens", path, n_in, n_lines, *n_out);
        return CLI_EDATA;
    }
    *in_tok = sum_in / (double)n_in;
    *out_tok = *n_out ? sum_out / (double)*n_out : 0.0;
    return CLI_OK;
}

void cli_put_price(const struct av_price *p)
{
    if (p->unit == AV_PRICE_NONE)
        printf("none set (mean cost per query %.6g)", p->cost_per_query);
    else if (p->unit == AV_PRICE_PER_QUERY)
        printf("%.6g per query", p->cost_per_query);
    else
        printf("%.6g per input token x %.6g + %.6g per output token x %.6g = %.6g per query",
               p->input_price, p->input_tokens, p->output_price, p->output_tokens,
               p->cost_per_query);
}

int cmd_reprice(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, OPT_MODEL},
        {"cost-per-query", required_argument, NULL, OPT_CPQ},
        {"input-price", required_argument, NULL, OPT_IN_PRICE},
        {"output-price", required_argument, NULL, OPT_OUT_PRICE},
        {"data", required_argument, NULL, OPT_DATA},
        {"input-tokens", required_argument, NULL, OPT_IN_TOK},
        {"output-tokens", required_argument, NULL, OPT_OUT_TOK},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model = NULL, *data = NULL, *out = NULL;
    double cpq = NAN, in_price = NAN, out_price = NAN, in_tok = NAN, out_tok = NAN;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        double *dst = c == OPT_CPQ ? &cpq : c == OPT_IN_PRICE ? &in_price
                                        : c == OPT_OUT_PRICE ? &out_price
                                        : c == OPT_IN_TOK ? &in_tok
                                        : c == OPT_OUT_TOK ? &out_tok : NULL;
        if (dst) {
            if (!cli_parse_double(optarg, 0.0, INFINITY, dst) || !isfinite(*dst)) {
                cli_error("--%s: '%s' is not a finite number >= 0", longopts[c - OPT_MODEL].name,
                          optarg);
                return CLI_EUSAGE;
            }
            continue;
        }
        switch (c) {
        case OPT_MODEL: model = optarg; break;
        case OPT_DATA: data = optarg; break;
        case 'o': out = optarg; break;
        case 'h': fputs(HELP, stdout); return CLI_OK;
        default: fputs(HELP, stderr); return CLI_EUSAGE;
        }
    }
    const char *why = NULL;
    bool per_token = !isnan(in_price) || !isnan(out_price);
    if (argc - optind != 1)
        why = "reprice takes one router file";
    else if (!model)
        why = "--model NAME is required";
    else if (isnan(cpq) == !per_token)
        why = "give either --cost-per-query or --input-price/--output-price";
    else if (per_token && isnan(in_price))
        why = "--input-price is required with --output-price";
    else if (!per_token && (data || !isnan(in_tok) || !isnan(out_tok)))
        why = "--data, --input-tokens and --output-tokens go with --input-price";
    else if (per_token && data && (!isnan(in_tok) || !isnan(out_tok)))
        why = "give either --data or --input-tokens/--output-tokens";
    else if (per_token && !data && isnan(in_tok))
        why = "--input-price needs token counts: --data FILE or --input-tokens N";
    if (why) {
        cli_error("%s", why);
        fputs(HELP, stderr);
        return CLI_EUSAGE;
    }
    const char *path = argv[optind];
    av_router *r = NULL;
    int rc = av_router_load(&r, path);
    if (rc) {
        cli_error("%s", av_last_error()); /* names the file */
        return rc == AV_ENOMEM ? CLI_EINTERNAL : CLI_EROUTER;
    }
    int status = CLI_OK;
    int32_t mi = av_router_model_index(r, model);
    if (mi < 0) {
        char *t = cli_text(model);
        cli_error("%s: the router has no model '%s'", path, t ? t : "?");
        free(t);
        status = CLI_EUSAGE;
    }
    av_price price, before, after;
    av_price_init(&price);
    av_price_init(&before);
    av_price_init(&after);
    if (status == CLI_OK && per_token) {
        price.unit = AV_PRICE_PER_TOKEN;
        price.input_price = in_price;
        price.output_price = isnan(out_price) ? 0.0 : out_price;
        if (data) {
            size_t n_out = 0;
            status = mean_tokens(data, model, &in_tok, &out_tok, &n_out);
            if (status == CLI_OK && n_out == 0 && price.output_price > 0.0) {
                cli_error("%s has no output token counts (output_tokens): pass --input-tokens "
                          "and --output-tokens instead of --data", data);
                status = CLI_EDATA;
            }
        }
        price.input_tokens = in_tok;
        price.output_tokens = isnan(out_tok) ? 0.0 : out_tok;
    } else {
        price.cost_per_query = cpq;
    }
    double factor = NAN;
    if (status == CLI_OK && (av_router_get_price(r, mi, &before) != AV_OK ||
                             av_router_set_price(r, mi, &price, &factor) != AV_OK ||
                             av_router_get_price(r, mi, &after) != AV_OK)) {
        cli_error("%s", av_last_error());
        status = CLI_EROUTER;
    }
    const char *target = out ? out : path;
    if (status == CLI_OK && av_router_save(r, target) != AV_OK) {
        cli_error("%s: cannot write: %s", target, av_last_error());
        status = CLI_EINTERNAL;
    }
    if (status == CLI_OK) {
        fputs("wrote ", stdout);
        cli_put_text(stdout, target);
        fputs(": model ", stdout);
        cli_put_text(stdout, model);
        fputs("\n  old price: ", stdout);
        cli_put_price(&before);
        fputs("\n  new price: ", stdout);
        cli_put_price(&after);
        if (isnan(factor))
            printf("\n  costs: the model had none; every cluster's costs are now its count x "
                   "%.6g\n", after.cost_per_query);
        else
            printf("\n  costs: every cluster's cost sum multiplied by %.17g\n", factor);
    }
    av_router_free(r);
    return status;
}
