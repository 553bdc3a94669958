/* The eval layer: replaying logged outcomes through a router (evaluation, budgets), the metrics
   and the Pareto frontier. Depends on the router layer. */
#ifndef AV_EVAL_H
#define AV_EVAL_H

#include "router/router.h"

/* ---- eval (eval.c, metrics.c) ---- */
struct av_eval_result {
    size_t n_rows, m, n_alphas, top_p;
    double target_fraction;
    char **names;              /* m, the router's model names */
    double *alphas;            /* n_alphas, rounded to float like av_route's parameter */
    double *a_score, *a_cost;  /* n_alphas: sums over rows whose routed model has an outcome */
    size_t *a_n, *a_miss;      /* n_alphas: rows with / without that outcome */
    size_t *a_count;           /* n_alphas x m: rows routed to each model */
    double *m_score, *m_cost;  /* m: single-model sums over rows with that model's outcome */
    size_t *m_n;               /* m */
    double o_score, o_cost;    /* oracle sums */
    size_t o_n, o_miss;
    av_eval_metrics metrics;
    size_t n_front;            /* Pareto frontier, sorted by cost then score */
    uint32_t *front_kind;      /* av_eval_point_kind */
    size_t *front_index;
};
/* Compute the metrics and the frontier of a filled result (metrics.c). */
AV_HIDDEN int av__eval_finish(av_eval_result *res);
/* Pareto mask over n points: on[i] = 1 when no point has score >= and cost <= with one strictly
   better. NaN points are never on the frontier. Returns the number of points on it. */
AV_HIDDEN size_t av__pareto_mask(const double *cost, const double *score, size_t n,
                                 unsigned char *on);
/* Area under the step curve A(x) = max{score_i : cost_i / scale <= x} (0 where empty) over
   x in [0, 1]; NaN points are skipped; scale <= 0 means every cost counts as 0. O(n^2), for the
   few points of an alpha sweep. */
AV_HIDDEN double av__step_auc(const double *cost, const double *score, size_t n, double scale);
/* The same area under the upper concave hull of the points (what choosing among them at random
   reaches: the baseline of tuning's test against the single models), and the lowest cost of such
   a mixture with a mean score >= target (INFINITY when none). At most AV_HULL_MAX_POINTS points
   are read. */
#define AV_HULL_MAX_POINTS 1024u
AV_HIDDEN double av__hull_auc(const double *cost, const double *score, size_t n, double scale);
AV_HIDDEN double av__hull_cost_at(const double *cost, const double *score, size_t n,
                                  double target);


#endif
