/* Budgets: the expected mean cost and score of routing at an alpha (on a replay set, or from the
   training statistics), and the alpha that a cost budget or an accuracy target calls for. */
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AV_BUDGET_DEFAULT_GRID 101u
#define AV_BUDGET_MAX_GRID 100001u

/* The expected mean score and cost per query at each of na alphas, over one pinned table. Every
   query is prepared for the rule once and decided at every alpha (the nearest clusters are found
   once per query, whatever the number of alphas).
   - Replay (E not NULL): each row routed with the router's defaults; a row's score (cost) is the
     logged one of the chosen model, or the router's estimate for this query when not logged (NaN
     or no array).
   - Training statistics (E NULL): each cluster's centroid is routed as a query, and the cluster
     contributes its own mean score and cost of the chosen model, weighted by its number of
     queries (the largest outcome count of any model there). */
static int sweep(const av_router *r, const av_table *t, const float *alphas, size_t na,
                 const float *E, size_t n, const float *S, const float *C, double *ms,
                 double *mc)
{
    size_t m = t->m, d = r->ix.dim, nq = E ? n : r->ix.k;
    av_settings st;
    av__settings_default(&r->est, r->top_p, &st);
    double *rows = malloc(AV_RULE_ROWS(av__n_sel(&r->ix, r->top_p), m) * sizeof *rows);
    double *sums = calloc(2 * na, sizeof *sums);
    float *cen = E ? NULL : malloc(d * sizeof *cen);
    int rc = AV_OK;
    if (!rows || !sums || (!E && !cen))
        rc = av__fail(AV_ENOMEM, "budget scratch for %zu alphas", na);
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    double raw[AV_ROW_RAW * AV_MAX_MODELS], acc[AV_MAX_MODELS], total = 0.0;
    av_prepared q;
    for (size_t i = 0; i < nq && rc == AV_OK; i++) {
        const float *x = E ? E + i * d : cen;
        if (!E)
            (void)av_router_get_centroid(r, i, cen, d);
        if ((rc = av__index_nearest(&r->ix, x, r->top_p, idx, sims)) != AV_OK) {
            if (!E && rc == AV_EVECTOR) { /* a zero centroid: an empty cluster, no queries */
                rc = AV_OK;
                continue;
            }
            rc = E ? av__fail_context(rc, "replay row %zu", i) : rc;
            break;
        }
        av__rule_prepare(t, &st, r->ix.members, idx, sims, NULL, rows, &q);
        double weight = 1.0; /* the queries this one stands for */
        if (!E) {
            av__table_read(t, i, AV_ROW_NORM * m, AV_ROW_RAW * m, raw);
            weight = 0.0;
            for (size_t h = 0; h < m; h++)
                weight = fmax(weight, raw[3 * h]);
        }
        total += weight;
        for (size_t a = 0; a < na; a++) {
            av_verdict vd = {0};
            size_t w = (size_t)av__rule_decide(&q, &st, (double)alphas[a], acc, &vd);
            double sv, cv;
            if (E) {
                /* the replay's columns are the router's first m models */
                sv = S ? (double)S[i * m + w] : NAN;
                cv = C ? (double)C[i * m + w] : NAN;
                sv = isnan(sv) ? q.ep[w] : sv;
                cv = isnan(cv) ? q.eq[w] : cv;
            } else {
                double cnt = raw[3 * w];
                sv = cnt > 0.0 ? raw[3 * w + 1] / cnt : av__table_gmean(t, w, 0);
                cv = cnt > 0.0 ? raw[3 * w + 2] / cnt : av__table_gmean(t, w, 1);
            }
            sums[2 * a] += weight * sv;
            sums[2 * a + 1] += weight * cv;
        }
    }
    if (rc == AV_OK && !(total > 0.0))
        rc = av__fail(AV_EEMPTY, "the router's clusters hold no outcomes");
    for (size_t a = 0; rc == AV_OK && a < na; a++) {
        ms[a] = sums[2 * a] / total;
        mc[a] = sums[2 * a + 1] / total;
    }
    free(rows);
    free(sums);
    free(cen);
    return rc;
}

/* Arguments common to the budget calls, checked before any work. */
static int check_set(const av_router *r, const float *embeddings, size_t n, size_t dim)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    if (embeddings && dim != r->ix.dim)
        return av__fail(AV_EDIM, "replay dim %zu, router %zu", dim, r->ix.dim);
    if (embeddings && n == 0)
        return av__fail(AV_EEMPTY, "the replay set is empty");
    return AV_OK;
}

AV_API int av_router_expected_mean(const av_router *r, float alpha, const float *embeddings,
                                   size_t n, size_t dim, const float *scores, const float *costs,
                                   double *mean_score, double *mean_cost)
{
    int rc = check_set(r, embeddings, n, dim);
    if (rc)
        return rc;
    if (!(alpha >= 0.0f && alpha <= 1.0f))
        return av__fail(AV_EALPHA, "alpha=%g", (double)alpha);
    double ms, mc;
    if ((rc = sweep(r, av__table(r), &alpha, 1, embeddings, n, scores, costs, &ms, &mc)) != AV_OK)
        return rc;
    if (mean_score)
        *mean_score = ms;
    if (mean_cost)
        *mean_cost = mc;
    return AV_OK;
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
    int rc = check_set(r, E, n, dim);
    if (rc)
        return rc;
    float *alphas = malloc(n_grid * sizeof *alphas);
    double *ms = malloc(n_grid * sizeof *ms), *mc = malloc(n_grid * sizeof *mc);
    if (!alphas || !ms || !mc)
        rc = av__fail(AV_ENOMEM, "a grid of %u alphas", n_grid);
    for (uint32_t g = 0; rc == AV_OK && g < n_grid; g++)
        alphas[g] = (float)((double)g / (double)(n_grid - 1));
    if (rc == AV_OK)
        rc = sweep(r, av__table(r), alphas, n_grid, E, n, S, C, ms, mc);
    bool found = false;
    double best_s = 0.0, best_c = 0.0;
    float best_a = 0.0f;
    for (uint32_t g = 0; rc == AV_OK && g < n_grid; g++) {
        double sv = ms[g], cv = mc[g];
        bool ok = kind == FOR_BUDGET ? cv <= target : sv >= target;
        if (!ok)
            continue;
        /* within budget: the best score, then the cheaper; reaching the target: the cheapest,
           then the better score */
        bool better = kind == FOR_BUDGET ? (sv > best_s || (sv == best_s && cv < best_c))
                                         : (cv < best_c || (cv == best_c && sv > best_s));
        better = better || !found;
        if (better) {
            found = true;
            best_s = sv;
            best_c = cv;
            best_a = alphas[g];
        }
    }
    free(alphas);
    free(ms);
    free(mc);
    if (rc)
        return rc;
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
