/* Routing one query: av_route (the paper's rule from the published table when the router's
   settings are the paper's) and av_route_ex (per-request control and explanation), both over the
   one rule (rule/rule.c). */
#include "router/router.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * av_route
 * ------------------------------------------------------------------------------------------- */
AV_API int32_t av_route(const av_router *r, const float *embedding, size_t dim, float alpha)
{
    int rc = av__check_route_args(r, embedding, dim, alpha);
    if (rc)
        return rc;
    av_settings st;
    av__settings_default(&r->est, r->top_p, &st);
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    if ((rc = av__index_nearest(&r->ix, embedding, r->top_p, idx, sims)) != AV_OK)
        return rc;
    if (av__settings_paper(&st)) /* the table holds the rule's rows: no allocation, no copy */
        return av__rule_paper(av__table(r), idx, av__n_sel(&r->ix, r->top_p), (double)alpha);
    /* the router's own defaults beyond the paper (soft weights, global normalisation, guard) */
    return av__route_one(r, av__table(r), &st, idx, sims, (double)alpha, NULL);
}

int av__router_settings(const av_router *r, const av_route_options *o, av_settings *s)
{
    if (!o) {
        av__settings_default(&r->est, r->top_p, s);
        return AV_OK;
    }
    return av__settings_resolve(&r->est, r->top_p, r->ix.k, r->ix.members, o, s);
}

/* ---------------------------------------------------------------------------------------------
 * av_route_ex
 * ------------------------------------------------------------------------------------------- */
/* Normalised rows of the clusters a request uses: on the stack up to this many doubles (64
   clusters of 16 models), else allocated. */
#define AV_ROUTE_STACK_ROWS 2048u

/* The decision and its explanation into the caller's result (arrays up to their capacities). */
static void explain(const av_prepared *q, const double *acc, int32_t best, const av_verdict *vd,
                    av_route_result *res)
{
    size_t m = q->m, ns = q->ns;
    double chosen_support = 0.0;
    for (size_t c = 0; best >= 0 && c < ns; c++) {
        double v;
        av__table_read(q->t, q->idx[c], AV_ROW_NORM * m + 3 * (size_t)best, 1, &v);
        chosen_support += v;
    }
    res->model = best;
    res->n_models = m;
    res->n_feasible = q->n_feasible;
    res->guarded = vd->guarded;
    res->baseline = vd->baseline;
    res->deviated = best >= 0 && vd->baseline >= 0 && best != vd->baseline;
    res->gain = vd->gain;
    res->gain_lcb = vd->gain_lcb;
    res->best_similarity = q->best_sim;
    res->support = chosen_support;
    res->n_clusters = ns;
    res->n_ranked = 0;
    if (res->ranked || res->ranked_scores) {
        int32_t order[AV_MAX_MODELS];
        size_t n;
        av__rule_rank(q, acc, best, vd->guarded, order, &n);
        size_t nw = n < res->ranked_cap ? n : res->ranked_cap;
        for (size_t i = 0; i < nw; i++) {
            if (res->ranked)
                res->ranked[i] = order[i];
            if (res->ranked_scores)
                res->ranked_scores[i] = acc[order[i]];
        }
        res->n_ranked = nw;
    }
    size_t mw = m < res->models_cap ? m : res->models_cap;
    for (size_t i = 0; i < mw; i++) {
        if (res->model_scores)
            res->model_scores[i] = acc[i];
        if (res->expected_score)
            res->expected_score[i] = q->ep[i];
        if (res->expected_cost)
            res->expected_cost[i] = q->eq[i];
        if (res->expected_score_se)
            res->expected_score_se[i] = q->se[i];
    }
    size_t cw = ns < res->clusters_cap ? ns : res->clusters_cap;
    for (size_t c = 0; c < cw; c++) {
        if (res->clusters)
            res->clusters[c] = q->idx[c];
        if (res->cluster_sims)
            res->cluster_sims[c] = q->sims[c];
        if (res->cluster_weights)
            res->cluster_weights[c] = q->w[c];
        if (res->cluster_support)
            res->cluster_support[c] = q->support[c];
    }
}

AV_API int32_t av_route_ex(const av_router *r, const float *embedding, size_t dim,
                           const av_route_options *opts, av_route_result *res)
{
    int rc = av__check_route_args(r, embedding, dim, 0.0f);
    if (rc)
        return rc;
    av_route_options o;
    av_route_options_init(&o);
    if (opts && (rc = av__struct_in(&o, sizeof o, opts, AV_route_options_MIN_SIZE_,
                                    "av_route_options")) != AV_OK)
        return rc;
    /* The result's arrays and capacities are inputs too: its layout is read like an option's (a
       newer caller's unknown members must be zero), and only what this library knows of it is
       written. */
    av_route_result rs;
    if (res && (rc = av__struct_in(&rs, sizeof rs, res, AV_route_result_MIN_SIZE_,
                                   "av_route_result")) != AV_OK)
        return rc;
    av_settings st;
    if ((rc = av__router_settings(r, &o, &st)) != AV_OK)
        return rc;
    if (o.embedder_id) {
        const char *mine = av_router_meta(r, "embedder_id");
        if (mine && strcmp(mine, o.embedder_id) != 0)
            return av__fail(AV_EMISMATCH, "the router was trained with embedder '%s', the query "
                                          "comes from '%s'", mine, o.embedder_id);
    }
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    if ((rc = av__index_nearest(&r->ix, embedding, st.p, idx, sims)) != AV_OK)
        return rc;
    /* the explanation goes to the copy, then as much of it as the caller's struct holds */
    int32_t best =
        av__route_one(r, av__table(r), &st, idx, sims, (double)o.alpha, res ? &rs : NULL);
    if (res && (rc = av__struct_out(res, &rs, sizeof rs, AV_route_result_MIN_SIZE_,
                                    "av_route_result")) != AV_OK)
        return rc;
    return best;
}

int32_t av__route_one(const av_router *r, const av_table *t, const av_settings *st,
                      const uint32_t *idx, const float *sims, double alpha, av_route_result *res)
{
    size_t ns = av__n_sel(&r->ix, st->p), need = AV_RULE_ROWS(ns, t->m);
    double stack_rows[AV_ROUTE_STACK_ROWS], *rows = stack_rows;
    if (need > AV_ROUTE_STACK_ROWS && !(rows = malloc(need * sizeof *rows)))
        return av__fail(AV_ENOMEM, "%zu clusters of %zu models", ns, t->m);
    av_prepared q;
    av__rule_prepare(t, st, r->ix.members, idx, sims, NULL, rows, &q);
    double acc[AV_MAX_MODELS];
    av_verdict vd = {.explain = res != NULL};
    int32_t best = av__rule_decide(&q, st, alpha, acc, &vd);
    if (res)
        explain(&q, acc, best, &vd, res);
    if (rows != stack_rows)
        free(rows);
    if (best < 0)
        return av__fail(AV_ENOMODEL, "the mask and limits leave none of the %zu models", q.m);
    return best;
}
