/* Budgets: the expected mean cost and score of routing at an alpha (on a replay set, or from the
   training statistics), and the alpha that a cost budget or an accuracy target calls for. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AV_BUDGET_DEFAULT_GRID 101u
#define AV_BUDGET_MAX_GRID 100001u

/* Replay: route every row at alpha with the router's defaults; a row's cost (score) is the logged
   one of the chosen model, or the router's estimate for this query when not logged (NaN or no
   array). */
static int replay_mean(const av_router *r, const av_table *t, float alpha, const float *E,
                       size_t n, size_t dim, const float *S, const float *C, double *ms,
                       double *mc)
{
    size_t m = t->m;
    double es[AV_MAX_MODELS], ec[AV_MAX_MODELS], ss = 0.0, sc = 0.0;
    av_route_options o;
    av_route_options_init(&o);
    o.alpha = alpha;
    av_route_result res;
    av_route_result_init(&res);
    res.expected_score = es;
    res.expected_cost = ec;
    res.models_cap = AV_MAX_MODELS;
    for (size_t row = 0; row < n; row++) {
        int32_t w = av__route_ex_table(r, t, E + row * dim, dim, &o, &res);
        if (w < 0)
            return av__fail(w, "replay row %zu: %s", row, av_last_error());
        /* the replay's columns are the router's first m models; a model added later has none */
        double s = S && (size_t)w < m ? (double)S[row * m + (size_t)w] : NAN;
        double c = C && (size_t)w < m ? (double)C[row * m + (size_t)w] : NAN;
        ss += isnan(s) ? es[w] : s;
        sc += isnan(c) ? ec[w] : c;
    }
    *ms = ss / (double)n;
    *mc = sc / (double)n;
    return AV_OK;
}

/* Training statistics: each cluster's centroid is routed as a query and the cluster contributes
   its own mean score and cost of the chosen model, weighted by its number of queries (the largest
   outcome count of any model there). */
static int train_mean(const av_router *r, const av_table *t, float alpha, double *ms,
                      double *mc)
{
    size_t k = r->k, d = r->dim;
    float *cen = malloc(d * sizeof(float));
    if (!cen)
        return av__fail(AV_ENOMEM, "centroid");
    size_t m = t->m;
    double raw[AV_ROW_RAW * AV_MAX_MODELS], tw = 0.0, ss = 0.0, sc = 0.0;
    av_route_options o;
    av_route_options_init(&o);
    o.alpha = alpha;
    int rc = AV_OK;
    for (size_t j = 0; j < k && rc == AV_OK; j++) {
        av_router_get_centroid(r, j, cen, d);
        int32_t w = av__route_ex_table(r, t, cen, d, &o, NULL);
        if (w == AV_EVECTOR) /* a zero centroid (an empty cluster) has no queries */
            continue;
        if (w < 0) {
            rc = w;
            break;
        }
        av__table_read(t, j, AV_ROW_NORM * m, AV_ROW_RAW * m, raw);
        double n = 0.0;
        for (size_t i = 0; i < m; i++)
            n = fmax(n, raw[3 * i]);
        double cnt = raw[3 * (size_t)w];
        double s = cnt > 0.0 ? raw[3 * (size_t)w + 1] / cnt : av__table_gmean(t, (size_t)w, 0);
        double c = cnt > 0.0 ? raw[3 * (size_t)w + 2] / cnt : av__table_gmean(t, (size_t)w, 1);
        tw += n;
        ss += n * s;
        sc += n * c;
    }
    free(cen);
    if (rc)
        return rc;
    if (!(tw > 0.0))
        return av__fail(AV_EEMPTY, "the router's clusters hold no outcomes");
    *ms = ss / tw;
    *mc = sc / tw;
    return AV_OK;
}

/* The expected means over one pinned table (the whole of an alpha search uses the same one, so
   that every grid point decides over the same models). */
static int expected_mean(const av_router *r, const av_table *t, float alpha,
                         const float *embeddings, size_t n, size_t dim, const float *scores,
                         const float *costs, double *mean_score, double *mean_cost)
{
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return av__fail(AV_EALPHA, "alpha=%g", (double)alpha);
    double ms = NAN, mc = NAN;
    int rc;
    if (embeddings) {
        if (dim != r->dim)
            return av__fail(AV_EDIM, "replay dim %zu, router %zu", dim, r->dim);
        if (n == 0)
            return av__fail(AV_EEMPTY, "the replay set is empty");
        rc = replay_mean(r, t, alpha, embeddings, n, dim, scores, costs, &ms, &mc);
    } else {
        rc = train_mean(r, t, alpha, &ms, &mc);
    }
    if (rc)
        return rc;
    if (mean_score)
        *mean_score = ms;
    if (mean_cost)
        *mean_cost = mc;
    return AV_OK;
}

AV_API int av_router_expected_mean(const av_router *r, float alpha, const float *embeddings,
                                   size_t n, size_t dim, const float *scores, const float *costs,
                                   double *mean_score, double *mean_cost)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    return expected_mean(r, av__table(r), alpha, embeddings, n, dim, scores, costs, mean_score,
                         mean_cost);
}

typedef enum { FOR_BUDGET, FOR_ACCURACY } search_kind;

static int search(const av_router *r, search_kind kind, double target, const float *E, size_t n,
                  size_t dim, const float *S, const float *C, uint32_t n_grid, float *alpha)
{
    if (!r || !alpha)
        return av__fail(AV_EINVAL, "router or alpha is NULL");
    if (!isfinite(target))
        return av__fail(AV_EINVAL, "target=%g", target);
    if (n_grid == 0)
        n_grid = AV_BUDGET_DEFAULT_GRID;
    if (n_grid < 2 || n_grid > AV_BUDGET_MAX_GRID)
        return av__fail(AV_EINVAL, "n_grid=%u (2..%u)", n_grid, AV_BUDGET_MAX_GRID);
    const av_table *t = av__table(r);
    bool found = false;
    double best_s = 0.0, best_c = 0.0;
    float best_a = 0.0f;
    for (uint32_t g = 0; g < n_grid; g++) {
        float a = (float)((double)g / (double)(n_grid - 1));
        double s, c;
        int rc = expected_mean(r, t, a, E, n, dim, S, C, &s, &c);
        if (rc)
            return rc;
        bool ok = kind == FOR_BUDGET ? c <= target : s >= target;
        if (!ok)
            continue;
        /* within budget: the best score, then the cheaper; reaching the target: the cheapest,
           then the better score */
        bool better = !found || (kind == FOR_BUDGET ? (s > best_s || (s == best_s && c < best_c))
                                                    : (c < best_c || (c == best_c && s > best_s)));
        if (better) {
            found = true;
            best_s = s;
            best_c = c;
            best_a = a;
        }
    }
    if (!found)
        return av__fail(AV_ENOMODEL, kind == FOR_BUDGET
                                         ? "no alpha keeps the expected mean cost within %g"
                                         : "no alpha reaches an expected mean score of %g",
                        target);
    *alpha = best_a;
    return AV_OK;
}

AV_API int av_router_alpha_for_budget(const av_router *r, double budget, const float *embeddings,
                                      size_t n, size_t dim, const float *scores, const float *costs,
                                      uint32_t n_grid, float *alpha)
{
    return search(r, FOR_BUDGET, budget, embeddings, n, dim, scores, costs, n_grid, alpha);
}

AV_API int av_router_alpha_for_accuracy(const av_router *r, double target, const float *embeddings,
                                        size_t n, size_t dim, const float *scores,
                                        const float *costs, uint32_t n_grid, float *alpha)
{
    return search(r, FOR_ACCURACY, target, embeddings, n, dim, scores, costs, n_grid, alpha);
}
