/* Online learning: feedback with exponential decay and spread over several
   clusters (av_profile_update_ex), and models joining a live router (av_router_add_model). */
#include "router/router.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_default(const av_update_options *o)
{
    return o->half_life == 0.0 && o->top_p <= 1u && o->weight == 1.0;
}

/* Whether model i's statistics decay by lambda in this update: not once its total count would
   fall below AV_DECAY_MIN_MODEL (its means stay as they are, and it keeps its evidence). */
static bool model_decays(const av_router *r, size_t i, double lambda)
{
    return r->st.g_count[i] * lambda >= AV_DECAY_MIN_MODEL;
}

/* One cell decayed: scaled by lambda, or dropped whole once its count is below
   AV_DECAY_MIN_CELL (so no count underflows to 0 while its sums do not). */
static void decay_cell(double *c, double *s, double *q, double lambda, bool decays)
{
    if (!decays)
        return;
    double nc = *c * lambda;
    if (nc < AV_DECAY_MIN_CELL) {
        *c = *s = *q = 0.0;
    } else {
        *c = nc;
        *s *= lambda;
        *q *= lambda;
    }
}

AV_API int av_profile_update_ex(av_router *r, const float *embedding, size_t dim, int32_t model,
                                float score, float cost, const av_update_options *opts)
{
    av_update_options o;
    av_update_options_init(&o);
    if (opts) {
        int rc = av__struct_in(&o, sizeof o, opts, AV_update_options_MIN_SIZE_,
                               "av_update_options");
        if (rc)
            return rc;
    }
    if (is_default(&o))
        return av_profile_update(r, embedding, dim, model, score, cost);
    int rc = av__check_route_args(r, embedding, dim, 0.0f);
    if (rc)
        return rc;
    if (!(o.half_life >= 0.0) || !isfinite(o.half_life))
        return av__fail(AV_EINVAL, "half_life=%g must be finite and >= 0", o.half_life);
    if (!(o.weight > 0.0) || !isfinite(o.weight))
        return av__fail(AV_EINVAL, "weight=%g must be finite and > 0", o.weight);
    uint32_t p = o.top_p ? o.top_p : 1u;
    if ((rc = av__check_top_p(r->ix.k, r->ix.members, p)) != AV_OK)
        return rc;
    if (o.weighting != AV_WEIGHTING_HARD && o.weighting != AV_WEIGHTING_SOFTMAX)
        return av__fail(AV_EINVAL, "weighting=%u (hard or softmax)", o.weighting);
    if (!isfinite(score) || !isfinite(cost) || cost < 0.0f)
        return av__fail(AV_EVALUE, "score=%g cost=%g (finite, cost >= 0)", (double)score,
                        (double)cost);
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    if ((rc = av__index_nearest(&r->ix, embedding, p, idx, sims)) != AV_OK)
        return rc;
    double temp = o.temperature > 0.0f ? (double)o.temperature : (double)r->est.temperature;
    /* each member of an ensemble spreads the whole weight over its own p clusters */
    size_t ns = av__n_sel(&r->ix, p);
    double w[AV_MAX_TOP_P], wsum[AV_MAX_MEMBERS];
    av__member_weights(r->ix.members, p, sims, o.weighting == AV_WEIGHTING_SOFTMAX, temp, w, wsum);
    for (size_t c = 0; c < ns; c++)
        w[c] = o.weight * w[c] / wsum[c / p];
    av__mutex_lock(&r->lock);
    /* the model count only grows, so a model valid now stays valid */
    if (model < 0 || (size_t)model >= r->st.m) {
        av__mutex_unlock(&r->lock);
        return av__fail(AV_EMODEL, "model %d of %zu", (int)model, r->st.m);
    }
    size_t i = (size_t)model;
    double lambda = o.half_life > 0.0 ? exp2(-1.0 / o.half_life) : 1.0;
    /* Everything is checked before anything changes, so that a refused outcome leaves the
       router as it was. */
    for (size_t c = 0; c < ns; c++) {
        size_t ji = idx[c] * r->st.m + i;
        double cnt = r->st.count[ji], ss = r->st.sum_score[ji], sc = r->st.sum_cost[ji];
        if (lambda < 1.0)
            decay_cell(&cnt, &ss, &sc, lambda, model_decays(r, i, lambda));
        if (!av__stat_ok(cnt + w[c], ss + w[c] * (double)score, sc + w[c] * (double)cost,
                         AV_STAT_MAX_MEAN)) {
            av__mutex_unlock(&r->lock);
            return av__fail(AV_ELIMIT, "an outcome of weight %g for model %d in cluster %u "
                                       "would exceed the statistics limits (count <= %g, "
                                       "|mean| <= %g)", w[c], (int)model, idx[c],
                            AV_STAT_MAX_COUNT, AV_STAT_MAX_MEAN);
        }
    }
    if (lambda < 1.0) {
        /* Every earlier outcome loses weight by 2^(-1/half_life) per update, so an outcome
           half_life updates old counts half. Means (the paper's estimates) are ratios and do not
           move; counts do, which matters for shrinkage and for merging. */
        for (size_t h = 0; h < r->st.m; h++) {
            bool decays = model_decays(r, h, lambda);
            for (size_t j = 0; j < r->ix.k; j++) {
                size_t jh = j * r->st.m + h;
                decay_cell(&r->st.count[jh], &r->st.sum_score[jh], &r->st.sum_cost[jh], lambda, decays);
            }
        }
        for (size_t c = 0; c < ns; c++) {
            size_t ji = idx[c] * r->st.m + i;
            r->st.count[ji] += w[c];
            r->st.sum_score[ji] += w[c] * (double)score;
            r->st.sum_cost[ji] += w[c] * (double)cost;
        }
        for (size_t h = 0; h < r->st.m; h++)
            av__stats_totals_locked(&r->st, h);
        av__stats_republish_locked(&r->st, r->est.kappa);
    } else {
        for (size_t c = 0; c < ns; c++)
            av__stats_add_locked(&r->st, r->est.kappa, idx[c], i, w[c], (double)score, (double)cost);
    }
    av__mutex_unlock(&r->lock);
    return AV_OK;
}

/* Grow a k x m cluster-major array to k x (m+1), the new column set to v. */
static double *grow_km(const double *a, size_t k, size_t m, double v)
{
    double *g = malloc(k * (m + 1) * sizeof(double));
    if (!g)
        return NULL;
    for (size_t j = 0; j < k; j++) {
        memcpy(g + j * (m + 1), a + j * m, m * sizeof(double));
        g[j * (m + 1) + m] = v;
    }
    return g;
}

static double *grow_m(const double *a, size_t m, double v)
{
    double *g = malloc((m + 1) * sizeof(double));
    if (g) {
        memcpy(g, a, m * sizeof(double));
        g[m] = v;
    }
    return g;
}

AV_API int32_t av_router_add_model(av_router *r, const char *name, double prior_score,
                                   double prior_cost, double prior_weight)
{
    if (!r || !name)
        return av__fail(AV_EINVAL, "router or name is NULL");
    size_t len = strlen(name);
    if (len == 0 || len > AV_MAX_NAME)
        return av__fail(AV_EINVAL, "model name has length %zu (1..%u)", len, AV_MAX_NAME);
    if (!av__text_ok(name, len, false))
        return av__fail(AV_EINVAL, "model name is not UTF-8 text without control characters");
    if (!isfinite(prior_score) || !isfinite(prior_cost) || prior_cost < 0.0)
        return av__fail(AV_EVALUE, "prior score=%g cost=%g (finite, cost >= 0)", prior_score,
                        prior_cost);
    if (!(prior_weight > 0.0) || !isfinite(prior_weight))
        return av__fail(AV_EVALUE, "prior_weight=%g must be finite and > 0", prior_weight);
    if (!av__stat_ok(prior_weight, prior_weight * prior_score, prior_weight * prior_cost,
                     AV_STAT_MAX_MEAN))
        return av__fail(AV_ELIMIT, "prior of weight %g, score %g, cost %g exceeds the statistics "
                                   "limits (weight <= %g, |score|, cost <= %g)", prior_weight,
                        prior_score, prior_cost, AV_STAT_MAX_COUNT, AV_STAT_MAX_MEAN);
    av__mutex_lock(&r->lock);
    size_t k = r->ix.k, m = r->st.m;
    int rc = AV_OK;
    if (m >= AV_MAX_MODELS)
        rc = av__fail(AV_ELIMIT, "the router already has %u models", AV_MAX_MODELS);
    for (size_t i = 0; rc == AV_OK && i < m; i++)
        if (strcmp(r->names[i], name) == 0)
            rc = av__fail(AV_EINVAL, "a model named '%s' exists (index %zu)", name, i);
    if (rc) {
        av__mutex_unlock(&r->lock);
        return rc;
    }
    /* Everything that can fail comes first, so that a failure leaves the router as it was. */
    av_table *t = av__table_new(k, m + 1);
    double w = prior_weight;
    double *cnt = grow_km(r->st.count, k, m, w), *ss = grow_km(r->st.sum_score, k, m, w * prior_score),
           *sc = grow_km(r->st.sum_cost, k, m, w * prior_cost);
    /* the new model's totals are summed over the clusters below, as everywhere */
    double *gc = grow_m(r->st.g_count, m, 0.0), *gs = grow_m(r->st.g_score, m, 0.0),
           *gq = grow_m(r->st.g_cost, m, 0.0);
    char **names = malloc((m + 1) * sizeof *names);
    char *copy = av__strdup(name);
    if (!t || !cnt || !ss || !sc || !gc || !gs || !gq || !names || !copy ||
        av__retire_locked(r, r->names) != AV_OK) {
        free(cnt), free(ss), free(sc), free(gc), free(gs), free(gq), free(names), free(copy);
        av__table_discard(t);
        av__mutex_unlock(&r->lock);
        return av__fail(AV_ENOMEM, "adding model '%s'", name);
    }
    memcpy(names, r->names, m * sizeof *names);
    names[m] = copy;
    /* The statistics are only read under the lock: the old arrays can go now. The names array
       may be read without it (av_router_model_name), so it was retired, not freed. */
    free(r->st.count), free(r->st.sum_score), free(r->st.sum_cost);
    free(r->st.g_count), free(r->st.g_score), free(r->st.g_cost);
    r->st.count = cnt, r->st.sum_score = ss, r->st.sum_cost = sc;
    r->st.g_count = gc, r->st.g_score = gs, r->st.g_cost = gq;
    __atomic_store_n(&r->names, names, __ATOMIC_RELEASE);
    __atomic_store_n(&r->st.m, m + 1, __ATOMIC_RELEASE);
    av__stats_totals_locked(&r->st, m);
    av__stats_publish_locked(&r->st, r->est.kappa, t);
    av__mutex_unlock(&r->lock);
    return (int32_t)m;
}
