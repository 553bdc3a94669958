/* Headline metrics of a replay evaluation and its Pareto frontier: the best single model, PerfGain,
   CostSave (at the best single model's score and at a fraction of it), ParetoDist and the area
   under the accuracy-cost curve. docs/EVALUATION.md gives the definitions and their sources. */
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t av__pareto_mask(const double *cost, const double *score, size_t n, unsigned char *on)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        on[i] = 0;
        if (isnan(cost[i]) || isnan(score[i]))
            continue;
        bool dominated = false;
        for (size_t j = 0; j < n && !dominated; j++) {
            if (j == i || isnan(cost[j]) || isnan(score[j]))
                continue;
            dominated = score[j] >= score[i] && cost[j] <= cost[i] &&
                        (score[j] > score[i] || cost[j] < cost[i]);
        }
        if (!dominated) {
            on[i] = 1;
            count++;
        }
    }
    return count;
}

double av__step_auc(const double *cost, const double *score, size_t n, double scale)
{
    /* Walk the points in increasing normalised cost (ties: any order, the running maximum is the
       same) and integrate the running maximum of the score up to x = 1. Selection by repeated
       minimum keeps this allocation-free; sweeps have tens to a few thousand points. */
    double area = 0.0, run_max = 0.0, x_prev = 0.0;
    bool started = false;
    for (;;) {
        /* the smallest normalised cost greater than x_prev (or >= 0 on the first pass) */
        double x_next = INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (isnan(cost[i]) || isnan(score[i]))
                continue;
            double x = scale > 0.0 ? cost[i] / scale : 0.0;
            if ((started ? x > x_prev : x >= 0.0) && x < x_next)
                x_next = x;
        }
        if (!(x_next <= 1.0))
            break;
        if (started)
            area += run_max * (x_next - x_prev);
        for (size_t i = 0; i < n; i++) {
            if (isnan(cost[i]) || isnan(score[i]))
                continue;
            double x = scale > 0.0 ? cost[i] / scale : 0.0;
            if (x == x_next && score[i] > run_max)
                run_max = score[i];
        }
        x_prev = x_next;
        started = true;
    }
    if (started)
        area += run_max * (1.0 - x_prev);
    return area;
}

/* The upper concave hull of the points' (normalised cost, score) Pareto front, cheapest first:
   what mixing them at random reaches (a mixture of two points lies on the segment between them).
   hx, hy hold at most n vertices; returns their count. */
static size_t upper_hull(const double *cost, const double *score, size_t n, double scale,
                         double *hx, double *hy)
{
    size_t h = 0;
    double last_x = -INFINITY, best = -INFINITY;
    for (;;) { /* the points by increasing cost (selection: n is small), Pareto ones only */
        double x_next = INFINITY, y_next = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (isnan(cost[i]) || isnan(score[i]))
                continue;
            double x = scale > 0.0 ? cost[i] / scale : 0.0;
            if (x > last_x && (x < x_next || (x == x_next && score[i] > y_next))) {
                x_next = x;
                y_next = score[i];
            }
        }
        if (!isfinite(x_next))
            break;
        last_x = x_next;
        if (!(y_next > best))
            continue;
        best = y_next;
        /* drop vertices that lie on or below the segment from their predecessor to this point */
        while (h >= 2 && (hx[h - 1] - hx[h - 2]) * (y_next - hy[h - 2]) -
                                 (hy[h - 1] - hy[h - 2]) * (x_next - hx[h - 2]) >=
                             0.0)
            h--;
        hx[h] = x_next;
        hy[h] = y_next;
        h++;
    }
    return h;
}

double av__hull_auc(const double *cost, const double *score, size_t n, double scale)
{
    double hx[AV_HULL_MAX_POINTS], hy[AV_HULL_MAX_POINTS];
    size_t h = upper_hull(cost, score, n < AV_HULL_MAX_POINTS ? n : AV_HULL_MAX_POINTS, scale,
                          hx, hy);
    double area = 0.0;
    for (size_t v = 0; v < h && hx[v] < 1.0; v++) {
        double x1 = v + 1 < h ? fmin(hx[v + 1], 1.0) : 1.0;
        double y1 = v + 1 < h ? hy[v] + (hy[v + 1] - hy[v]) * (x1 - hx[v]) / (hx[v + 1] - hx[v])
                              : hy[v];
        area += 0.5 * (hy[v] + y1) * (x1 - hx[v]);
    }
    return area;
}

double av__hull_cost_at(const double *cost, const double *score, size_t n, double target)
{
    double hx[AV_HULL_MAX_POINTS], hy[AV_HULL_MAX_POINTS];
    size_t h = upper_hull(cost, score, n < AV_HULL_MAX_POINTS ? n : AV_HULL_MAX_POINTS, 1.0, hx,
                          hy);
    for (size_t v = 0; v < h; v++)
        if (hy[v] >= target)
            return v == 0 ? hx[0]
                          : hx[v - 1] + (hx[v] - hx[v - 1]) * (target - hy[v - 1]) /
                                            (hy[v] - hy[v - 1]);
    return INFINITY;
}

/* Frontier entries sorted by cost, then score, then kind and index (a total order: stable output). */
typedef struct front_entry {
    double cost, score;
    uint32_t kind;
    size_t index;
} front_entry;

static int cmp_front(const void *a, const void *b)
{
    const front_entry *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? -1 : 1;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static double mean_or_nan(double sum, size_t n)
{
    return n ? sum / (double)n : NAN;
}

int av__eval_finish(av_eval_result *res)
{
    size_t m = res->m, na = res->n_alphas, np = na + m;
    av_eval_metrics *mt = &res->metrics;
    memset(mt, 0, sizeof *mt);
    mt->struct_size = (uint32_t)sizeof *mt;
    mt->target_fraction = res->target_fraction;

    /* The best single model: highest mean score; ties go to the cheaper, then the lower index. */
    int32_t best = -1;
    double bs = NAN, bc = NAN, max_cost = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (!res->m_n[i])
            continue;
        double s = mean_or_nan(res->m_score[i], res->m_n[i]);
        double c = mean_or_nan(res->m_cost[i], res->m_n[i]);
        max_cost = fmax(max_cost, c);
        if (best < 0 || s > bs || (s == bs && c < bc)) {
            best = (int32_t)i;
            bs = s;
            bc = c;
        }
    }
    if (best < 0)
        return av__fail(AV_EEMPTY, "no model has an outcome on the %zu evaluated rows",
                        res->n_rows);
    mt->best_model = best;
    mt->best_score = bs;
    mt->best_cost = bc;
    mt->max_cost = max_cost;

    double *cost = malloc(np * sizeof(double)), *score = malloc(np * sizeof(double));
    unsigned char *on = malloc(np);
    if (!cost || !score || !on) {
        free(cost);
        free(score);
        free(on);
        return av__fail(AV_ENOMEM, "frontier of %zu points", np);
    }
    for (size_t a = 0; a < na; a++) {
        cost[a] = mean_or_nan(res->a_cost[a], res->a_n[a]);
        score[a] = mean_or_nan(res->a_score[a], res->a_n[a]);
    }
    for (size_t i = 0; i < m; i++) {
        cost[na + i] = mean_or_nan(res->m_cost[i], res->m_n[i]);
        score[na + i] = mean_or_nan(res->m_score[i], res->m_n[i]);
    }

    /* PerfGain and the two CostSave figures over the router's settings. */
    double top = -INFINITY, c_full = INFINITY, c_target = INFINITY;
    double target = res->target_fraction * bs;
    for (size_t a = 0; a < na; a++) {
        if (isnan(score[a]))
            continue;
        top = fmax(top, score[a]);
        if (score[a] >= bs)
            c_full = fmin(c_full, cost[a]);
        if (score[a] >= target)
            c_target = fmin(c_target, cost[a]);
    }
    mt->perf_gain = isinf(top) ? NAN : top - bs;
    mt->cost_save = isinf(c_full) || !(bc > 0.0) ? NAN : 1.0 - c_full / bc;
    mt->cost_save_at_target = isinf(c_target) || !(bc > 0.0) ? NAN : 1.0 - c_target / bc;

    /* The joint frontier, ParetoDist (normalised cost) and the AUC. */
    size_t nf = av__pareto_mask(cost, score, np, on);
    res->front_kind = malloc((nf ? nf : 1) * sizeof(uint32_t));
    res->front_index = malloc((nf ? nf : 1) * sizeof(size_t));
    front_entry *fe = malloc((nf ? nf : 1) * sizeof *fe);
    if (!res->front_kind || !res->front_index || !fe) {
        free(cost);
        free(score);
        free(on);
        free(fe);
        return av__fail(AV_ENOMEM, "frontier of %zu points", nf);
    }
    size_t f = 0;
    for (size_t t = 0; t < np; t++)
        if (on[t]) {
            fe[f].cost = cost[t];
            fe[f].score = score[t];
            fe[f].kind = t < na ? AV_EVAL_ROUTER : AV_EVAL_MODEL;
            fe[f].index = t < na ? t : t - na;
            f++;
        }
    qsort(fe, nf, sizeof *fe, cmp_front);
    for (size_t t = 0; t < nf; t++) {
        res->front_kind[t] = fe[t].kind;
        res->front_index[t] = fe[t].index;
    }
    res->n_front = nf;

    double scale = max_cost > 0.0 ? max_cost : 1.0, dist_sum = 0.0;
    size_t dist_n = 0;
    for (size_t a = 0; a < na; a++) {
        if (isnan(score[a]))
            continue;
        double best_d = INFINITY;
        for (size_t t = 0; t < nf; t++) {
            double dx = (cost[a] - fe[t].cost) / scale, dy = score[a] - fe[t].score;
            best_d = fmin(best_d, sqrt(dx * dx + dy * dy));
        }
        dist_sum += best_d;
        dist_n++;
    }
    mt->pareto_dist = dist_n ? dist_sum / (double)dist_n : NAN;
    mt->auc = av__step_auc(cost, score, na, max_cost);
    free(cost);
    free(score);
    free(on);
    free(fe);
    return AV_OK;
}
