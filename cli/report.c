/* Output of `avengers eval`: table, JSON, CSV, SVG (see report.h). Every figure comes from the
   library's av_eval_* accessors; nothing is recomputed here except layout. */
#include "report.h"

#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERCENT 100.0
#define MIN_NAME_WIDTH 16
/* SVG canvas and plot area, in pixels. */
#define SVG_W 900.0
#define SVG_H 600.0
#define PLOT_L 90.0
#define PLOT_R 860.0
#define PLOT_T 60.0
#define PLOT_B 530.0
#define TICK_TARGET 6.0
#define TICK_LEN 6.0
#define AXIS_PAD 0.05 /* share of the data range added on each side */
#define LABEL_ROOM 200.0 /* a model label further right than this is drawn leftwards */

/* Alphas are float32 in the library. Reports give the shortest decimal that reads back as the same
   float (0.22, not 0.2199999988079071): the number the user wrote. FLT_DECIMAL_DIG digits always
   round-trip, so the search ends there. */
#define FLOAT_ROUND_TRIP_DIGITS 9
static const char *float_text(float f, char *buf, size_t len)
{
    for (int digits = 1; digits < FLOAT_ROUND_TRIP_DIGITS; digits++) {
        snprintf(buf, len, "%.*g", digits, (double)f);
        if (strtof(buf, NULL) == f)
            return buf;
    }
    snprintf(buf, len, "%.*g", FLOAT_ROUND_TRIP_DIGITS, (double)f);
    return buf;
}

static double float_as_given(float f)
{
    char buf[32];
    return isfinite(f) ? strtod(float_text(f, buf, sizeof buf), NULL) : (double)f;
}

static av_eval_point get_alpha(const av_eval_result *res, size_t i)
{
    av_eval_point p = {.struct_size = sizeof p};
    av_eval_alpha(res, i, &p);
    return p;
}

static av_eval_point get_model(const av_eval_result *res, size_t i)
{
    av_eval_point p = {.struct_size = sizeof p};
    av_eval_model(res, i, &p);
    return p;
}

static av_eval_point get_oracle(const av_eval_result *res)
{
    av_eval_point p = {.struct_size = sizeof p};
    av_eval_oracle(res, &p);
    return p;
}

static av_eval_metrics get_metrics(const av_eval_result *res)
{
    av_eval_metrics mt = {.struct_size = sizeof mt};
    av_eval_metrics_get(res, &mt);
    return mt;
}

static void free_names(char **names, size_t m)
{
    if (names)
        for (size_t i = 0; i < m; i++)
            free(names[i]);
    free(names);
}

/* The model names escaped for text output (cli_text), or NULL if out of memory. */
static char **text_names(const av_eval_result *res)
{
    size_t m = av_eval_n_models(res);
    char **names = calloc(m ? m : 1, sizeof *names);
    for (size_t i = 0; names && i < m; i++)
        if (!(names[i] = cli_text(av_eval_model_name(res, i)))) {
            free_names(names, i);
            return NULL;
        }
    return names;
}

static int name_width(char *const *names, size_t m)
{
    int w = MIN_NAME_WIDTH;
    for (size_t i = 0; i < m; i++) {
        int l = (int)strlen(names[i]);
        w = l > w ? l : w;
    }
    return w;
}

/* The alpha with the highest score; the cheapest alpha reaching `target` (SIZE_MAX if none). */
static size_t best_alpha(const av_eval_result *res)
{
    size_t best = SIZE_MAX;
    double bs = -INFINITY;
    for (size_t a = 0; a < av_eval_n_alphas(res); a++) {
        av_eval_point p = get_alpha(res, a);
        if (p.n_scored && p.mean_score > bs) {
            bs = p.mean_score;
            best = a;
        }
    }
    return best;
}

static size_t cheapest_reaching(const av_eval_result *res, double target)
{
    size_t best = SIZE_MAX;
    double bc = INFINITY;
    for (size_t a = 0; a < av_eval_n_alphas(res); a++) {
        av_eval_point p = get_alpha(res, a);
        if (p.n_scored && p.mean_score >= target && p.mean_cost < bc) {
            bc = p.mean_cost;
            best = a;
        }
    }
    return best;
}

static void top_choice(const av_eval_result *res, size_t a, size_t *model, double *share)
{
    *model = 0;
    *share = -1.0;
    for (size_t i = 0; i < av_eval_n_models(res); i++) {
        double s;
        if (av_eval_alpha_share(res, a, i, &s) == AV_OK && s > *share) {
            *share = s;
            *model = i;
        }
    }
}

static void metric_line(FILE *f, const char *label, const char *value, const char *note)
{
    fprintf(f, "  %-14s %14s   (%s)\n", label, value, note);
}

int cli_report_table(FILE *f, const cli_report *rep)
{
    const av_eval_result *res = rep->res;
    av_eval_metrics mt = get_metrics(res);
    size_t m = av_eval_n_models(res), na = av_eval_n_alphas(res);
    char **names = text_names(res);
    char *router = cli_text(rep->router_path), *data = cli_text(rep->data_path),
         *emb = cli_text(rep->emb_path);
    if (!names || !router || !data || !emb) {
        free_names(names, m);
        free(router);
        free(data);
        free(emb);
        return -1;
    }
    int w = name_width(names, m);
    char *unit = rep->cost_unit ? cli_text(rep->cost_unit) : NULL;
    if (rep->cost_unit && !unit) {
        free_names(names, m);
        free(router);
        free(data);
        free(emb);
        return -1;
    }
    fprintf(f, "Router  %s: %zu clusters", router, rep->n_clusters);
    if (rep->members > 1)
        fprintf(f, " (%zu clusterings of %zu)", rep->members, rep->n_clusters / rep->members);
    fprintf(f, ", top_p %zu, %zu models\n", rep->top_p, m);
    fprintf(f, "Data    %s (%s), %zu rows: %s\n", data, emb, av_eval_n_rows(res),
            rep->split_desc);
    if (unit)
        fprintf(f, "Costs   in %s (the data's cost_unit)\n", unit);
    fputc('\n', f);
    fprintf(f, "%-*s   %8s  %12s  %12s  %8s\n", w + 2, "Single models", "score", "cost/query",
            "total cost", "rows");
    for (size_t i = 0; i < m; i++) {
        av_eval_point p = get_model(res, i);
        fprintf(f, "  %-*s %c %7.2f%%  %12.4e  %12.4e  %8zu\n", w, names[i],
                (int32_t)i == mt.best_model ? '*' : ' ', p.mean_score * PERCENT, p.mean_cost,
                p.total_cost, p.n_scored);
    }
    fprintf(f, "  (* best single model)\n\n");
    fprintf(f, "%-*s   %8s  %12s  %12s  %8s  %s\n", w + 2, "Router", "score", "cost/query",
            "vs best", "missing", "most chosen model (share)");
    for (size_t a = 0; a < na; a++) {
        av_eval_point p = get_alpha(res, a);
        size_t top;
        double share;
        top_choice(res, a, &top, &share);
        char label[32];
        snprintf(label, sizeof label, "alpha %.4g", p.alpha);
        fprintf(f, "  %-*s   %7.2f%%  %12.4e  %11.1f%%  %8zu  %s (%.0f%%)\n", w, label,
                p.mean_score * PERCENT, p.mean_cost, p.mean_cost / mt.best_cost * PERCENT,
                p.n_missing, names[top], share * PERCENT);
    }
    av_eval_point o = get_oracle(res);
    fprintf(f, "\n  %-*s   %7.2f%%  %12.4e  %11.1f%%  %8zu\n", w, "Oracle",
            o.mean_score * PERCENT, o.mean_cost, o.mean_cost / mt.best_cost * PERCENT,
            o.n_missing);
    fprintf(f, "  (vs best: cost per query as a share of the best single model's; 100%% = the "
               "same cost)\n\n");

    fprintf(f, "Pareto frontier (cheapest first):");
    for (size_t t = 0; t < av_eval_frontier_count(res); t++) {
        uint32_t kind;
        size_t idx;
        av_eval_frontier_at(res, t, &kind, &idx);
        if (kind == AV_EVAL_ROUTER)
            fprintf(f, "%s alpha %.4g", t ? "," : "", get_alpha(res, idx).alpha);
        else
            fprintf(f, "%s %s", t ? "," : "", names[idx]);
    }
    fprintf(f, "\n\nHeadline metrics (best single model: %s, %.2f%%, %.4e%s%s per query)\n",
            mt.best_model >= 0 ? names[mt.best_model] : "-", mt.best_score * PERCENT, mt.best_cost,
            unit ? " " : "", unit ? unit : "");
    size_t ba = best_alpha(res), cs = cheapest_reaching(res, mt.best_score),
           ct = cheapest_reaching(res, mt.target_fraction * mt.best_score);
    char label[32], value[32], note[128];
    snprintf(value, sizeof value, "%+.2f points", mt.perf_gain * PERCENT);
    snprintf(note, sizeof note, "best alpha %.4g", ba == SIZE_MAX ? NAN : get_alpha(res, ba).alpha);
    metric_line(f, "PerfGain", value, note);
    if (cs == SIZE_MAX)
        metric_line(f, "CostSave", "n/a", "no alpha reaches the best single model");
    else {
        snprintf(value, sizeof value, "%.2f%%", mt.cost_save * PERCENT);
        snprintf(note, sizeof note, "alpha %.4g reaches the best single model",
                 get_alpha(res, cs).alpha);
        metric_line(f, "CostSave", value, note);
    }
    snprintf(label, sizeof label, "CostSave@%.0f%%", mt.target_fraction * PERCENT);
    if (ct == SIZE_MAX)
        metric_line(f, label, "n/a", "no alpha reaches that score");
    else {
        snprintf(value, sizeof value, "%.2f%%", mt.cost_save_at_target * PERCENT);
        snprintf(note, sizeof note, "alpha %.4g reaches %.0f%% of its score",
                 get_alpha(res, ct).alpha, mt.target_fraction * PERCENT);
        metric_line(f, label, value, note);
    }
    snprintf(value, sizeof value, "%.4f", mt.pareto_dist);
    snprintf(note, sizeof note, "costs / %.4e; 0 = every alpha on the frontier", mt.max_cost);
    metric_line(f, "ParetoDist", value, note);
    snprintf(value, sizeof value, "%.4f", mt.auc);
    snprintf(note, sizeof note, "best score under a budget of x * %.4e, mean over x in [0, 1]",
             mt.max_cost);
    metric_line(f, "AUC", value, note);
    free(unit);
    free_names(names, m);
    free(router);
    free(data);
    free(emb);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------------------------- */
static cJSON *point_json(const av_eval_point *p, bool with_alpha)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (with_alpha)
        cJSON_AddNumberToObject(o, "alpha", float_as_given(p->alpha));
    cJSON_AddNumberToObject(o, "mean_score", p->mean_score);
    cJSON_AddNumberToObject(o, "mean_cost", p->mean_cost);
    cJSON_AddNumberToObject(o, "total_cost", p->total_cost);
    cJSON_AddNumberToObject(o, "n_scored", (double)p->n_scored);
    cJSON_AddNumberToObject(o, "n_missing", (double)p->n_missing);
    return o;
}

static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok)
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

/* Strings from files and the command line, made valid UTF-8 for cJSON (cli_json_text). */
static cJSON *json_string(const char *s)
{
    char *t = cli_json_text(s);
    cJSON *o = t ? cJSON_CreateString(t) : NULL;
    free(t);
    return o;
}

static void add_string(cJSON *obj, const char *key, const char *s)
{
    cJSON *v = json_string(s);
    if (v && !cJSON_AddItemToObject(obj, key, v))
        cJSON_Delete(v);
}

static void add_number_named(cJSON *obj, const char *name, double x)
{
    char *k = cli_json_text(name);
    cJSON *v = k ? cJSON_CreateNumber(x) : NULL;
    if (v && !cJSON_AddItemToObject(obj, k, v))
        cJSON_Delete(v);
    free(k);
}

static cJSON *build_json(const cli_report *rep)
{
    const av_eval_result *res = rep->res;
    size_t m = av_eval_n_models(res), na = av_eval_n_alphas(res);
    av_eval_metrics mt = get_metrics(res);
    cJSON *root = cJSON_CreateObject();
    cJSON *router = cJSON_AddObjectToObject(root, "router");
    add_string(router, "path", rep->router_path);
    cJSON_AddNumberToObject(router, "n_clusters", (double)rep->n_clusters);
    cJSON_AddNumberToObject(router, "top_p", (double)rep->top_p);
    cJSON_AddNumberToObject(router, "members", (double)rep->members);
    cJSON *models = cJSON_AddArrayToObject(router, "models");
    for (size_t i = 0; i < m; i++)
        cJSON_AddItemToArray(models, json_string(av_eval_model_name(res, i)));
    cJSON *data = cJSON_AddObjectToObject(root, "data");
    add_string(data, "path", rep->data_path);
    add_string(data, "embeddings", rep->emb_path);
    add_string(data, "split", rep->split_desc);
    if (rep->cost_unit)
        add_string(data, "cost_unit", rep->cost_unit);
    cJSON_AddNumberToObject(data, "rows", (double)av_eval_n_rows(res));

    cJSON *singles = cJSON_AddArrayToObject(root, "single_models");
    for (size_t i = 0; i < m; i++) {
        av_eval_point p = get_model(res, i);
        cJSON *o = point_json(&p, false);
        add_string(o, "model", av_eval_model_name(res, i));
        cJSON_AddItemToArray(singles, o);
    }
    cJSON *sweep = cJSON_AddArrayToObject(root, "router_points");
    for (size_t a = 0; a < na; a++) {
        av_eval_point p = get_alpha(res, a);
        cJSON *o = point_json(&p, true);
        cJSON_AddNumberToObject(o, "cost_vs_best", p.mean_cost / mt.best_cost);
        cJSON *share = cJSON_AddObjectToObject(o, "share");
        for (size_t i = 0; i < m; i++) {
            double s = 0.0;
            av_eval_alpha_share(res, a, i, &s);
            add_number_named(share, av_eval_model_name(res, i), s);
        }
        cJSON_AddItemToArray(sweep, o);
    }
    av_eval_point o = get_oracle(res);
    cJSON_AddItemToObject(root, "oracle", point_json(&o, false));
    cJSON *front = cJSON_AddArrayToObject(root, "frontier");
    for (size_t t = 0; t < av_eval_frontier_count(res); t++) {
        uint32_t kind;
        size_t idx;
        av_eval_frontier_at(res, t, &kind, &idx);
        cJSON *e = cJSON_CreateObject();
        av_eval_point p = kind == AV_EVAL_ROUTER ? get_alpha(res, idx) : get_model(res, idx);
        cJSON_AddStringToObject(e, "kind", kind == AV_EVAL_ROUTER ? "router" : "model");
        if (kind == AV_EVAL_ROUTER)
            cJSON_AddNumberToObject(e, "alpha", float_as_given(p.alpha));
        else
            add_string(e, "model", av_eval_model_name(res, idx));
        cJSON_AddNumberToObject(e, "mean_score", p.mean_score);
        cJSON_AddNumberToObject(e, "mean_cost", p.mean_cost);
        cJSON_AddItemToArray(front, e);
    }
    cJSON *met = cJSON_AddObjectToObject(root, "metrics");
    add_string(met, "best_model", av_eval_model_name(res, (size_t)mt.best_model));
    cJSON_AddNumberToObject(met, "best_score", mt.best_score);
    cJSON_AddNumberToObject(met, "best_cost", mt.best_cost);
    cJSON_AddNumberToObject(met, "perf_gain", mt.perf_gain);
    cJSON_AddNumberToObject(met, "cost_save", mt.cost_save);
    cJSON_AddNumberToObject(met, "target_fraction", mt.target_fraction);
    cJSON_AddNumberToObject(met, "cost_save_at_target", mt.cost_save_at_target);
    cJSON_AddNumberToObject(met, "pareto_dist", mt.pareto_dist);
    cJSON_AddNumberToObject(met, "auc", mt.auc);
    cJSON_AddNumberToObject(met, "max_cost", mt.max_cost);
    return root;
}

int cli_report_json(const cli_report *rep, const char *path, char *err, size_t errlen)
{
    cJSON *root = build_json(rep);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory building JSON", path);
        return -1;
    }
    size_t n = strlen(text);
    char *with_nl = malloc(n + 2);
    int rc = -1;
    if (with_nl) {
        memcpy(with_nl, text, n);
        with_nl[n] = '\n';
        with_nl[n + 1] = '\0';
        rc = write_text(path, with_nl, err, errlen);
    } else
        snprintf(err, errlen, "%s: out of memory", path);
    free(with_nl);
    cJSON_free(text);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * CSV: one line per single model, router setting and the oracle.
 * ------------------------------------------------------------------------------------------- */
static void csv_line(FILE *f, const char *kind, const char *name, const av_eval_point *p,
                     double best_cost)
{
    /* The name escaped for text (no control characters or invalid UTF-8), quoted by RFC 4180. */
    char *t = cli_text(name);
    fprintf(f, "%s,\"", kind);
    for (const char *c = t ? t : "?"; *c; c++) {
        if (*c == '"')
            fputc('"', f);
        fputc(*c, f);
    }
    fputs("\",", f);
    free(t);
    if (isnan(p->alpha))
        fputc(',', f);
    else {
        char buf[32];
        fprintf(f, "%s,", float_text(p->alpha, buf, sizeof buf));
    }
    fprintf(f, "%.17g,%.17g,%.17g,%zu,%zu,%.17g\n", p->mean_score, p->mean_cost, p->total_cost,
            p->n_scored, p->n_missing, p->mean_cost / best_cost);
}

int cli_report_csv(const cli_report *rep, const char *path, char *err, size_t errlen)
{
    const av_eval_result *res = rep->res;
    av_eval_metrics mt = get_metrics(res);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "kind,name,alpha,mean_score,mean_cost,total_cost,n_scored,n_missing,cost_vs_best\n");
    for (size_t i = 0; i < av_eval_n_models(res); i++) {
        av_eval_point p = get_model(res, i);
        csv_line(f, "model", av_eval_model_name(res, i), &p, mt.best_cost);
    }
    for (size_t a = 0; a < av_eval_n_alphas(res); a++) {
        av_eval_point p = get_alpha(res, a);
        csv_line(f, "router", "router", &p, mt.best_cost);
    }
    av_eval_point o = get_oracle(res);
    csv_line(f, "oracle", "oracle", &o, mt.best_cost);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * SVG
 * ------------------------------------------------------------------------------------------- */
typedef struct axis {
    double lo, hi, step;
} axis;

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about TICK_TARGET ticks. */
static axis make_axis(double lo, double hi)
{
    if (!(hi > lo)) {
        double c = lo;
        lo = c - (fabs(c) > 0 ? fabs(c) * AXIS_PAD : 1.0);
        hi = c + (fabs(c) > 0 ? fabs(c) * AXIS_PAD : 1.0);
    }
    double raw = (hi - lo) / TICK_TARGET, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    double step = (r < 1.5 ? 1.0 : r < 3.5 ? 2.0 : r < 7.5 ? 5.0 : 10.0) * mag;
    axis a = {floor(lo / step) * step, ceil(hi / step) * step, step};
    return a;
}

static double sx(const axis *x, double v)
{
    return PLOT_L + (v - x->lo) / (x->hi - x->lo) * (PLOT_R - PLOT_L);
}

static double sy(const axis *y, double v)
{
    return PLOT_B - (v - y->lo) / (y->hi - y->lo) * (PLOT_B - PLOT_T);
}

/* Text content: escaped for text first (XML 1.0 allows no control characters but tab, newline
   and carriage return, and needs valid UTF-8), then the XML specials. */
static void xml_text(FILE *f, const char *raw)
{
    char *t = cli_text(raw);
    for (const char *s = t ? t : "?"; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
    free(t);
}

static void svg_axes(FILE *f, const axis *x, const axis *y)
{
    fprintf(f, "<g stroke=\"#ddd\" stroke-width=\"1\">\n");
    for (double v = x->lo; v <= x->hi + x->step / 2; v += x->step)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", sx(x, v), PLOT_T,
                sx(x, v), PLOT_B);
    for (double v = y->lo; v <= y->hi + y->step / 2; v += y->step)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PLOT_L, sy(y, v),
                PLOT_R, sy(y, v));
    fprintf(f, "</g>\n<g stroke=\"#333\" stroke-width=\"1.5\" fill=\"none\">\n"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n</g>\n",
            PLOT_L, PLOT_B, PLOT_R, PLOT_B, PLOT_L, PLOT_B, PLOT_L, PLOT_T);
    fprintf(f, "<g font-family=\"sans-serif\" font-size=\"12\" fill=\"#333\">\n");
    for (double v = x->lo; v <= x->hi + x->step / 2; v += x->step) {
        double px = sx(x, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", px,
                PLOT_B, px, PLOT_B + TICK_LEN);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n", px,
                PLOT_B + 20, fabs(v) < x->step / 2 ? 0.0 : v);
    }
    for (double v = y->lo; v <= y->hi + y->step / 2; v += y->step) {
        double py = sy(y, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
                PLOT_L - TICK_LEN, py, PLOT_L, py);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", PLOT_L - 10,
                py + 4, fabs(v) < y->step / 2 ? 0.0 : v);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\">mean cost per "
               "query</text>\n",
            (PLOT_L + PLOT_R) / 2, SVG_H - 20);
    fprintf(f, "<text transform=\"translate(24 %.1f) rotate(-90)\" text-anchor=\"middle\" "
               "font-size=\"14\">mean score (%%)</text>\n</g>\n",
            (PLOT_T + PLOT_B) / 2);
}

static void svg_legend(FILE *f)
{
    double x = PLOT_R - 200, y = PLOT_B - 92;
    fprintf(f, "<g font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"190\" height=\"84\" fill=\"white\" "
               "stroke=\"#999\"/>\n",
            x, y);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1f77b4\" "
               "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">router (alpha sweep)</text>\n",
            x + 10, y + 16, x + 40, y + 16, x + 48, y + 20);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ff7f0e\" "
               "stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%.1f\">Pareto "
               "frontier</text>\n",
            x + 10, y + 36, x + 40, y + 36, x + 48, y + 40);
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#777\"/><text x=\"%.1f\" "
               "y=\"%.1f\">single model</text>\n",
            x + 25, y + 56, x + 48, y + 60);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"#2ca02c\" "
               "transform=\"rotate(45 %.1f %.1f)\"/><text x=\"%.1f\" y=\"%.1f\">oracle</text>\n"
               "</g>\n",
            x + 20.5, y + 71.5, x + 25, y + 76, x + 48, y + 80);
}

int cli_report_svg(const cli_report *rep, const char *path, char *err, size_t errlen)
{
    const av_eval_result *res = rep->res;
    size_t m = av_eval_n_models(res), na = av_eval_n_alphas(res);
    av_eval_point o = get_oracle(res);
    double cmax = 0.0, smin = INFINITY, smax = -INFINITY;
    for (size_t i = 0; i < m + na + 1; i++) {
        av_eval_point p = i < m ? get_model(res, i) : i < m + na ? get_alpha(res, i - m) : o;
        if (!p.n_scored)
            continue;
        cmax = fmax(cmax, p.mean_cost);
        smin = fmin(smin, p.mean_score * PERCENT);
        smax = fmax(smax, p.mean_score * PERCENT);
    }
    double pad = (smax - smin) * AXIS_PAD;
    axis x = make_axis(0.0, cmax * (1.0 + AXIS_PAD));
    axis y = make_axis(smin - pad, smax + pad);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\">\n<rect width=\"100%%\" height=\"100%%\" "
               "fill=\"white\"/>\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fprintf(f, "<text x=\"%.1f\" y=\"30\" font-family=\"sans-serif\" font-size=\"16\" "
               "text-anchor=\"middle\">Score vs cost: ",
            SVG_W / 2);
    xml_text(f, rep->data_path);
    fprintf(f, " (%zu rows, %s)</text>\n", av_eval_n_rows(res), rep->split_desc);
    svg_axes(f, &x, &y);

    /* The router's curve in alpha order, with a dot per setting and the end alphas labelled. */
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
    for (size_t a = 0; a < na; a++) {
        av_eval_point p = get_alpha(res, a);
        if (p.n_scored)
            fprintf(f, "%.1f,%.1f ", sx(&x, p.mean_cost), sy(&y, p.mean_score * PERCENT));
    }
    fprintf(f, "\"/>\n<g fill=\"#1f77b4\" font-family=\"sans-serif\" font-size=\"11\">\n");
    for (size_t a = 0; a < na; a++) {
        av_eval_point p = get_alpha(res, a);
        if (!p.n_scored)
            continue;
        double px = sx(&x, p.mean_cost), py = sy(&y, p.mean_score * PERCENT);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>alpha %.4g: %.2f%%, %.4g"
                   "</title></circle>\n",
                px, py, p.alpha, p.mean_score * PERCENT, p.mean_cost);
        if (a == 0 || a + 1 == na)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">&#945;=%.3g</text>\n", px + 6, py + 14,
                    p.alpha);
    }
    fprintf(f, "</g>\n");
    /* Pareto frontier, dashed over the router's curve that it mostly follows; cost order. */
    fprintf(f, "<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" "
               "stroke-dasharray=\"6 4\" points=\"");
    for (size_t t = 0; t < av_eval_frontier_count(res); t++) {
        uint32_t kind;
        size_t idx;
        av_eval_frontier_at(res, t, &kind, &idx);
        av_eval_point p = kind == AV_EVAL_ROUTER ? get_alpha(res, idx) : get_model(res, idx);
        fprintf(f, "%.1f,%.1f ", sx(&x, p.mean_cost), sy(&y, p.mean_score * PERCENT));
    }
    fprintf(f, "\"/>\n");
    fprintf(f, "<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#444\">\n");
    for (size_t i = 0; i < m; i++) {
        av_eval_point p = get_model(res, i);
        if (!p.n_scored)
            continue;
        double px = sx(&x, p.mean_cost), py = sy(&y, p.mean_score * PERCENT);
        bool right = px > PLOT_R - LABEL_ROOM; /* keep long names inside the canvas */
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#777\"/>\n<text x=\"%.1f\" "
                   "y=\"%.1f\" text-anchor=\"%s\">",
                px, py, right ? px - 8 : px + 8, py - 6, right ? "end" : "start");
        xml_text(f, av_eval_model_name(res, i));
        fprintf(f, "</text>\n");
    }
    if (o.n_scored) {
        double px = sx(&x, o.mean_cost), py = sy(&y, o.mean_score * PERCENT);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"#2ca02c\" "
                   "transform=\"rotate(45 %.1f %.1f)\"/>\n<text x=\"%.1f\" y=\"%.1f\">oracle"
                   "</text>\n",
                px - 4.5, py - 4.5, px, py, px + 8, py - 6);
    }
    fprintf(f, "</g>\n");
    svg_legend(f);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
