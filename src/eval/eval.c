/* Replay evaluation: route every logged query once to its top-p clusters, score the models for every
   alpha with the same code as av_route, and read the recorded outcomes; beside it every single
   model and the oracle. The headline metrics and the Pareto frontier live in metrics.c.
   docs/EVALUATION.md defines every figure. */
#include "eval/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default sweep: alpha = i / AV_EVAL_DEFAULT_STEPS for i = 0..AV_EVAL_DEFAULT_STEPS. */
#define AV_EVAL_DEFAULT_STEPS 20u
#define AV_EVAL_DEFAULT_TARGET 0.9
/* Upper bound on the number of alphas of one evaluation (a sweep in steps of 0.0001); the frontier costs O(n^2) in it. */
#define AV_EVAL_MAX_ALPHAS 10001u
/* Room for the detail of a routing error that is re-reported with its row. */

AV_API void av_eval_result_free(av_eval_result *res)
{
    if (!res)
        return;
    if (res->names)
        for (size_t i = 0; i < res->m; i++)
            free(res->names[i]);
    free(res->names);
    free(res->alphas);
    free(res->a_score);
    free(res->a_cost);
    free(res->a_n);
    free(res->a_miss);
    free(res->a_count);
    free(res->m_score);
    free(res->m_cost);
    free(res->m_n);
    free(res->front_kind);
    free(res->front_index);
    free(res);
}

/* The models an evaluation decides over: a pinned table's count and the names published with
   it. */
typedef struct av_models {
    size_t m;
    char *const *names;
} av_models;

static double value_at(const av_replay *rp, const void *base, size_t row, size_t col)
{
    size_t at = row * rp->n_models + col;
    if (rp->value_type == AV_VALUES_F64)
        return ((const double *)base)[at];
    return (double)((const float *)base)[at];
}

/* The replay column of each router model, by name (or identity without names). */
static int map_columns(const av_models *ms, const av_replay *rp, size_t *col)
{
    if (!rp->model_names) {
        if (rp->n_models != ms->m)
            return av__fail(AV_EMODEL,
                            "the replay has %zu unnamed columns and the router %zu models; name "
                            "the columns to match them",
                            rp->n_models, ms->m);
        for (size_t i = 0; i < ms->m; i++)
            col[i] = i;
        return AV_OK;
    }
    for (size_t i = 0; i < ms->m; i++) {
        size_t c = 0;
        while (c < rp->n_models &&
               !(rp->model_names[c] && strcmp(rp->model_names[c], ms->names[i]) == 0))
            c++;
        if (c == rp->n_models)
            return av__fail(AV_EMODEL, "the router's model '%s' is not a column of the replay",
                            ms->names[i]);
        col[i] = c;
    }
    return AV_OK;
}

static int check_replay(const av_router *r, const av_replay *rp)
{
    if (rp->value_type > AV_VALUES_F64)
        return av__fail(AV_EINVAL, "unknown value_type %u", rp->value_type);
    if (!rp->embeddings || !rp->scores || !rp->costs)
        return av__fail(AV_EINVAL, "replay embeddings, scores or costs are NULL");
    if (rp->dim != r->ix.dim)
        return av__fail(AV_EDIM, "replay embeddings have dim %zu, router expects %zu", rp->dim,
                        r->ix.dim);
    if (rp->row_stride != 0 && rp->row_stride < rp->dim)
        return av__fail(AV_EINVAL, "row_stride=%zu is smaller than dim=%zu", rp->row_stride,
                        rp->dim);
    if (rp->n_models == 0)
        return av__fail(AV_EINVAL, "the replay has no model columns");
    size_t cells;
    if (!av__mul_ok(rp->n, rp->n_models, &cells))
        return av__fail(AV_ELIMIT, "n=%zu x n_models=%zu overflows", rp->n, rp->n_models);
    return AV_OK;
}

static int resolve_alphas(av_eval_result *res, const av_eval_options *o)
{
    size_t na = o->alphas ? o->n_alphas : AV_EVAL_DEFAULT_STEPS + 1u;
    if (na == 0 || na > AV_EVAL_MAX_ALPHAS)
        return av__fail(AV_EINVAL, "%zu alphas (1..%u)", na, AV_EVAL_MAX_ALPHAS);
    if (!(res->alphas = malloc(na * sizeof(double))))
        return av__fail(AV_ENOMEM, "%zu alphas", na);
    res->n_alphas = na;
    for (size_t a = 0; a < na; a++) {
        double v = o->alphas ? o->alphas[a] : (double)a / (double)AV_EVAL_DEFAULT_STEPS;
        if (!(v >= 0.0 && v <= 1.0))
            return av__fail(AV_EALPHA, "alpha %zu is %g (must be in [0, 1])", a, v);
        /* av_route takes a float: round the same way so decisions are identical. */
        res->alphas[a] = (double)(float)v;
    }
    return AV_OK;
}

static int alloc_result(av_eval_result *res, const av_models *ms)
{
    size_t na = res->n_alphas, m = ms->m;
    res->m = m;
    bool ok = (res->names = calloc(m, sizeof *res->names)) != NULL;
    for (size_t i = 0; ok && i < m; i++)
        ok = (res->names[i] = av__strdup(ms->names[i])) != NULL;
    ok = ok && (res->a_score = calloc(na, sizeof(double))) != NULL;
    ok = ok && (res->a_cost = calloc(na, sizeof(double))) != NULL;
    ok = ok && (res->a_n = calloc(na, sizeof(size_t))) != NULL;
    ok = ok && (res->a_miss = calloc(na, sizeof(size_t))) != NULL;
    ok = ok && (res->a_count = calloc(na * m, sizeof(size_t))) != NULL; /* na, m both bounded */
    ok = ok && (res->m_score = calloc(m, sizeof(double))) != NULL;
    ok = ok && (res->m_cost = calloc(m, sizeof(double))) != NULL;
    ok = ok && (res->m_n = calloc(m, sizeof(size_t))) != NULL;
    return ok ? AV_OK : av__fail(AV_ENOMEM, "evaluation result for %zu alphas, %zu models", na, m);
}

/* Read one row's outcomes into s, c (NaN where missing) and validate them. */
static int read_row_values(const av_replay *rp, const size_t *col, size_t m, size_t row, double *s,
                           double *c)
{
    for (size_t i = 0; i < m; i++) {
        double sv = value_at(rp, rp->scores, row, col[i]), cv = value_at(rp, rp->costs, row, col[i]);
        if (isinf(sv) || isinf(cv))
            return av__fail(AV_EVALUE, "row %zu, model column %zu: score %g, cost %g (infinite)",
                            row, col[i], sv, cv);
        if (cv < 0.0)
            return av__fail(AV_EVALUE, "row %zu, model column %zu: negative cost %g", row, col[i],
                            cv);
        if (isnan(sv) || isnan(cv))
            sv = cv = NAN; /* an outcome needs both its score and its cost */
        s[i] = sv;
        c[i] = cv;
    }
    return AV_OK;
}

static void add_oracle(av_eval_result *res, const double *s, const double *c, size_t m)
{
    size_t best = m;
    for (size_t i = 0; i < m; i++) {
        if (isnan(s[i]))
            continue;
        if (best == m || s[i] > s[best] || (s[i] == s[best] && c[i] < c[best]))
            best = i;
    }
    if (best == m) {
        res->o_miss++;
        return;
    }
    res->o_score += s[best];
    res->o_cost += c[best];
    res->o_n++;
}

static int run(av_eval_result **out, const av_router *r, const av_replay *replay,
               const size_t *rows, size_t n_rows, const av_eval_options *opts)
{
    if (!out)
        return av__fail(AV_EINVAL, "out is NULL");
    *out = NULL;
    if (!r || !replay)
        return av__fail(AV_EINVAL, "router or replay is NULL");
    av_replay rp = AV_REPLAY_INIT;
    av_eval_options o = AV_EVAL_OPTIONS_INIT;
    int rc = av__struct_in(&rp, sizeof rp, replay, AV_replay_MIN_SIZE_, "av_replay");
    if (!rc && opts)
        rc = av__struct_in(&o, sizeof o, opts, AV_eval_options_MIN_SIZE_, "av_eval_options");
    if (rc)
        return rc;
    if ((rc = check_replay(r, &rp)) != AV_OK)
        return rc;
    size_t p = o.top_p ? o.top_p : r->top_p;
    if ((rc = av__check_top_p(r->ix.k, r->ix.members, p)) != AV_OK)
        return rc;
    if (!(o.target_fraction > 0.0 && o.target_fraction <= 1.0))
        return av__fail(AV_EINVAL, "target_fraction=%g must be in (0, 1]", o.target_fraction);
    if (n_rows == 0)
        return av__fail(AV_EEMPTY, "no rows to evaluate");
    /* One table for the whole call: its model count sizes every array below and bounds every
       decision, even if av_router_add_model publishes a larger one meanwhile. */
    const av_table *tab = av__table(r);
    av_models ms;
    ms.m = tab->m;
    (void)av__models_now(r, &ms.names);
    size_t col[AV_MAX_MODELS];
    if ((rc = map_columns(&ms, &rp, col)) != AV_OK)
        return rc;

    double *scratch = NULL; /* the rule's: the normalised rows of one query */
    av_eval_result *res = calloc(1, sizeof *res);
    if (!res)
        return av__fail(AV_ENOMEM, "evaluation result");
    if ((rc = resolve_alphas(res, &o)) != AV_OK || (rc = alloc_result(res, &ms)) != AV_OK)
        goto fail;
    res->n_rows = n_rows;
    res->top_p = p;
    res->target_fraction = o.target_fraction;

    size_t m = ms.m, na = res->n_alphas, stride = rp.row_stride ? rp.row_stride : rp.dim;
    double s[AV_MAX_MODELS], c[AV_MAX_MODELS], acc[AV_MAX_MODELS];
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    av_settings st;
    av__settings_default(&r->est, (uint32_t)p, &st);
    av_prepared q;
    if (!(scratch = malloc(AV_RULE_ROWS(av__n_sel(&r->ix, p), m) * sizeof *scratch))) {
        rc = av__fail(AV_ENOMEM, "evaluation scratch");
        goto fail;
    }
    for (size_t t = 0; t < n_rows; t++) {
        size_t row = rows ? rows[t] : t;
        if (row >= rp.n) {
            rc = av__fail(AV_ERANGE, "row index %zu (position %zu) of a replay of %zu rows", row,
                          t, rp.n);
            goto fail;
        }
        if ((rc = read_row_values(&rp, col, m, row, s, c)) != AV_OK)
            goto fail;
        if ((rc = av__index_nearest(&r->ix, rp.embeddings + row * stride, p, idx, sims)) != AV_OK) {
            rc = av__fail_context(rc, "row %zu", row);
            goto fail;
        }
        for (size_t i = 0; i < m; i++)
            if (!isnan(s[i])) {
                res->m_score[i] += s[i];
                res->m_cost[i] += c[i];
                res->m_n[i]++;
            }
        add_oracle(res, s, c, m);
        /* the query once, then every alpha through the rule (as av_route decides it) */
        av__rule_prepare(tab, &st, r->ix.members, idx, sims, NULL, scratch, &q);
        for (size_t a = 0; a < na; a++) {
            av_verdict vd = {0};
            int32_t w = av__rule_decide(&q, &st, res->alphas[a], acc, &vd);
            res->a_count[a * m + (size_t)w]++;
            if (isnan(s[w])) {
                res->a_miss[a]++;
            } else {
                res->a_score[a] += s[w];
                res->a_cost[a] += c[w];
                res->a_n[a]++;
            }
        }
    }
    if ((rc = av__eval_finish(res)) != AV_OK)
        goto fail;
    free(scratch);
    *out = res;
    return AV_OK;
fail:
    free(scratch);
    av_eval_result_free(res);
    return rc;
}

AV_API int av_eval_run(av_eval_result **out, const av_router *r, const av_replay *replay,
                       const av_eval_options *opts)
{
    return run(out, r, replay, NULL, replay ? replay->n : 0, opts);
}

AV_API int av_eval_run_rows(av_eval_result **out, const av_router *r, const av_replay *replay,
                            const size_t *rows, size_t n_rows, const av_eval_options *opts)
{
    if (!rows && n_rows)
        return av__fail(AV_EINVAL, "rows is NULL");
    return run(out, r, replay, rows, n_rows, opts);
}

AV_API int av_eval_subset_auc(double *auc, const av_router *r, const av_replay *replay,
                              const size_t *rows, size_t n_rows, const av_eval_options *opts)
{
    if (!auc)
        return av__fail(AV_EINVAL, "auc is NULL");
    *auc = NAN;
    av_eval_result *res;
    int rc = av_eval_run_rows(&res, r, replay, rows, n_rows, opts);
    if (rc)
        return rc;
    *auc = res->metrics.auc;
    av_eval_result_free(res);
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Accessors
 * ------------------------------------------------------------------------------------------- */
AV_API size_t av_eval_n_rows(const av_eval_result *res)
{
    return res ? res->n_rows : 0;
}

AV_API size_t av_eval_n_alphas(const av_eval_result *res)
{
    return res ? res->n_alphas : 0;
}

AV_API size_t av_eval_n_models(const av_eval_result *res)
{
    return res ? res->m : 0;
}

AV_API const char *av_eval_model_name(const av_eval_result *res, size_t model)
{
    return res && model < res->m ? res->names[model] : NULL;
}

static av_eval_point make_point(double alpha, double sum_score, double sum_cost, size_t n,
                                size_t miss)
{
    av_eval_point pt;
    memset(&pt, 0, sizeof pt);
    pt.struct_size = (uint32_t)sizeof pt;
    pt.alpha = alpha;
    pt.mean_score = n ? sum_score / (double)n : NAN;
    pt.mean_cost = n ? sum_cost / (double)n : NAN;
    pt.total_cost = sum_cost;
    pt.n_scored = n;
    pt.n_missing = miss;
    return pt;
}

AV_API int av_eval_alpha(const av_eval_result *res, size_t i, av_eval_point *out)
{
    if (!res || !out)
        return av__fail(AV_EINVAL, "result or output is NULL");
    if (i >= res->n_alphas)
        return av__fail(AV_ERANGE, "alpha %zu of %zu", i, res->n_alphas);
    av_eval_point pt = make_point(res->alphas[i], res->a_score[i], res->a_cost[i], res->a_n[i],
                                  res->a_miss[i]);
    return av__struct_out(out, &pt, sizeof pt, AV_EVAL_OUTPUT_MIN_SIZE, "av_eval_point");
}

AV_API int av_eval_alpha_share(const av_eval_result *res, size_t i, size_t model, double *share)
{
    if (!res || !share)
        return av__fail(AV_EINVAL, "result or output is NULL");
    if (i >= res->n_alphas)
        return av__fail(AV_ERANGE, "alpha %zu of %zu", i, res->n_alphas);
    if (model >= res->m)
        return av__fail(AV_EMODEL, "model %zu of %zu", model, res->m);
    *share = (double)res->a_count[i * res->m + model] / (double)res->n_rows;
    return AV_OK;
}

AV_API int av_eval_model(const av_eval_result *res, size_t model, av_eval_point *out)
{
    if (!res || !out)
        return av__fail(AV_EINVAL, "result or output is NULL");
    if (model >= res->m)
        return av__fail(AV_EMODEL, "model %zu of %zu", model, res->m);
    av_eval_point pt = make_point(NAN, res->m_score[model], res->m_cost[model], res->m_n[model],
                                  res->n_rows - res->m_n[model]);
    return av__struct_out(out, &pt, sizeof pt, AV_EVAL_OUTPUT_MIN_SIZE, "av_eval_point");
}

AV_API int av_eval_oracle(const av_eval_result *res, av_eval_point *out)
{
    if (!res || !out)
        return av__fail(AV_EINVAL, "result or output is NULL");
    av_eval_point pt = make_point(NAN, res->o_score, res->o_cost, res->o_n, res->o_miss);
    return av__struct_out(out, &pt, sizeof pt, AV_EVAL_OUTPUT_MIN_SIZE, "av_eval_point");
}

AV_API int av_eval_metrics_get(const av_eval_result *res, av_eval_metrics *out)
{
    if (!res || !out)
        return av__fail(AV_EINVAL, "result or output is NULL");
    return av__struct_out(out, &res->metrics, sizeof res->metrics, AV_EVAL_OUTPUT_MIN_SIZE,
                          "av_eval_metrics");
}

AV_API size_t av_eval_frontier_count(const av_eval_result *res)
{
    return res ? res->n_front : 0;
}

AV_API int av_eval_frontier_at(const av_eval_result *res, size_t i, uint32_t *kind, size_t *index)
{
    if (!res)
        return av__fail(AV_EINVAL, "result is NULL");
    if (i >= res->n_front)
        return av__fail(AV_ERANGE, "frontier point %zu of %zu", i, res->n_front);
    if (kind)
        *kind = res->front_kind[i];
    if (index)
        *index = res->front_index[i];
    return AV_OK;
}
