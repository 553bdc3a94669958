/* Budgets: the expected mean cost and score of routing at an alpha (on a replay set, or from the
   training statistics), and the alpha that a cost budget, an accuracy target or a share of queries
   for a set of models calls for. */
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
     queries (the largest outcome count of any model there).
   share (may be NULL) receives at each alpha the weighted share of the queries routed to a model
   of `set` (set[i] != 0 for i < set_len). */
static int sweep(const av_router *r, const av_table *t, const float *alphas, size_t na,
                 const float *E, size_t n, const float *S, const float *C, double *ms,
                 double *mc, const uint8_t *set, size_t set_len, double *share)
{
    size_t m = t->m, d = r->ix.dim, nq = E ? n : r->ix.k;
    av_settings st;
    av__settings_default(&r->est, r->top_p, &st);
    double *rows = malloc(AV_RULE_ROWS(av__n_sel(&r->ix, r->top_p), m) * sizeof *rows);
    double *sums = calloc(3 * na, sizeof *sums);
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
            sums[3 * a] += weight * sv;
            sums[3 * a + 1] += weight * cv;
            if (set && w < set_len && set[w])
                sums[3 * a + 2] += weight;
        }
    }
    if (rc == AV_OK && !(total > 0.0))
        rc = av__fail(AV_EEMPTY, "the router's clusters hold no outcomes");
    for (size_t a = 0; rc == AV_OK && a < na; a++) {
        ms[a] = sums[3 * a] / total;
        mc[a] = sums[3 * a + 1] / total;
        if (share)
            share[a] = sums[3 * a + 2] / total;
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
    if ((rc = sweep(r, av__table(r), &alpha, 1, embeddings, n, scores, costs, &ms, &mc, NULL, 0,
                    NULL)) != AV_OK)
        return rc;
    if (mean_score)
        *mean_score = ms;
    if (mean_cost)
        *mean_cost = mc;
    return AV_OK;
}

typedef enum { FOR_BUDGET, FOR_ACCURACY, FOR_SHARE } search_kind;

/* The search over a grid of alphas; for FOR_SHARE, set/set_len name the models and *achieved (may
   be NULL) receives the chosen alpha's share. */
static int search(const av_router *r, search_kind kind, double target, const float *E, size_t n,
                  size_t dim, const float *S, const float *C, uint32_t n_grid, float *alpha,
                  const uint8_t *set, size_t set_len, double *achieved)
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
    double *sh = kind == FOR_SHARE ? malloc(n_grid * sizeof *sh) : NULL;
    if (!alphas || !ms || !mc || (kind == FOR_SHARE && !sh))
        rc = av__fail(AV_ENOMEM, "a grid of %u alphas", n_grid);
    for (uint32_t g = 0; rc == AV_OK && g < n_grid; g++)
        alphas[g] = (float)((double)g / (double)(n_grid - 1));
    if (rc == AV_OK)
        rc = sweep(r, av__table(r), alphas, n_grid, E, n, S, C, ms, mc, set, set_len, sh);
    bool found = false;
    double best_s = 0.0, best_c = 0.0, best_share = 0.0;
    float best_a = 0.0f;
    for (uint32_t g = 0; rc == AV_OK && kind == FOR_SHARE && g < n_grid; g++) {
        /* the smallest alpha whose share reaches the target, else the closest share */
        double dist = fabs(sh[g] - target), bdist = fabs(best_share - target);
        if (sh[g] >= target || !found || dist < bdist) {
            found = true;
            best_share = sh[g];
            best_a = alphas[g];
            if (sh[g] >= target)
                break;
        }
    }
    for (uint32_t g = 0; rc == AV_OK && kind != FOR_SHARE && g < n_grid; g++) {
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
    free(sh);
    if (rc)
        return rc;
    if (kind == FOR_SHARE) {
        *alpha = best_a;
        if (achieved)
            *achieved = best_share;
        return AV_OK;
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
    return search(r, FOR_BUDGET, budget, embeddings, n, dim, scores, costs, n_grid, alpha, NULL, 0,
                  NULL);
}

AV_API int av_router_alpha_for_accuracy(const av_router *r, double target, const float *embeddings,
                                        size_t n, size_t dim, const float *scores,
                                        const float *costs, uint32_t n_grid, float *alpha)
{
    return search(r, FOR_ACCURACY, target, embeddings, n, dim, scores, costs, n_grid, alpha, NULL,
                  0, NULL);
}

AV_API int av_router_alpha_for_share(const av_router *r, const uint8_t *models, size_t n_models,
                                     double share, const float *embeddings, size_t n, size_t dim,
                                     uint32_t n_grid, float *alpha, double *achieved)
{
    if (!r || !models)
        return av__fail(AV_EINVAL, "router or models is NULL");
    if (!(share >= 0.0 && share <= 1.0))
        return av__fail(AV_EINVAL, "share=%g must be in [0, 1]", share);
    size_t m = av_router_n_models(r), named = 0;
    if (n_models > m)
        return av__fail(AV_EMODEL, "the set names %zu models, the router has %zu", n_models, m);
    for (size_t i = 0; i < n_models; i++)
        named += models[i] != 0;
    if (named == 0)
        return av__fail(AV_EINVAL, "the set of models is empty");
    return search(r, FOR_SHARE, share, embeddings, n, dim, NULL, NULL, n_grid, alpha, models,
                  n_models, achieved);
}
