/* Prices: a model's price set on a live router (av_router_set_price), which rescales the costs
   learned at the old price, and the price kept for the next change (saved in the file's prices
   section, docs/FORMAT.md). */
#include "router/router.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AV_PRICE_MIN_SIZE_ AV_SIZE_THROUGH(av_price, output_tokens)

AV_API void av_price_init_sized(av_price *price, size_t size)
{
    static const av_price defaults = AV_PRICE_INIT;
    av__struct_init(price, size, &defaults, sizeof defaults);
}

bool av__price_ok(const av_price *p, double *per_query)
{
    double v[5] = {p->cost_per_query, p->input_price, p->output_price, p->input_tokens,
                   p->output_tokens};
    for (int t = 0; t < 5; t++)
        if (!isfinite(v[t]) || !(v[t] >= 0.0))
            return false;
    double q;
    if (p->unit == AV_PRICE_PER_QUERY)
        q = p->cost_per_query;
    else if (p->unit == AV_PRICE_PER_TOKEN)
        q = p->input_price * p->input_tokens + p->output_price * p->output_tokens;
    else
        return false;
    if (!isfinite(q) || q > AV_STAT_MAX_MEAN)
        return false;
    *per_query = q;
    return true;
}

const av_price *av__price_of(const av_router *r, size_t i)
{
    return r->prices && r->prices[i].unit != AV_PRICE_NONE ? &r->prices[i] : NULL;
}

int av__price_store(av_router *r, size_t i, const av_price *p)
{
    if (!r->prices && !(r->prices = calloc(AV_MAX_MODELS, sizeof *r->prices)))
        return av__fail(AV_ENOMEM, "price table");
    /* only the fields of the unit are kept (the others zero), as the file stores them */
    av_price s = {(uint32_t)sizeof s, p->unit, 0.0, 0.0, 0.0, 0.0, 0.0};
    if (p->unit == AV_PRICE_PER_QUERY) {
        s.cost_per_query = p->cost_per_query;
    } else {
        s.input_price = p->input_price;
        s.output_price = p->output_price;
        s.input_tokens = p->input_tokens;
        s.output_tokens = p->output_tokens;
    }
    r->prices[i] = s;
    return AV_OK;
}

double av__price_per_query_locked(const av_router *r, size_t i)
{
    const av_price *p = av__price_of(r, i);
    double q = 0.0;
    if (p)
        av__price_ok(p, &q); /* stored prices were validated */
    else
        q = r->st.g_count[i] > 0.0 ? r->st.g_cost[i] / r->st.g_count[i] : 0.0;
    return q;
}

AV_API int av_router_set_price(av_router *r, int32_t model, const av_price *price, double *factor)
{
    if (!r || !price)
        return av__fail(AV_EINVAL, "router or price is NULL");
    av_price p;
    av_price_init(&p);
    int rc = av__struct_in(&p, sizeof p, price, AV_PRICE_MIN_SIZE_, "av_price");
    if (rc)
        return rc;
    if (p.unit != AV_PRICE_PER_QUERY && p.unit != AV_PRICE_PER_TOKEN)
        return av__fail(AV_EINVAL, "price unit %u (AV_PRICE_PER_QUERY or AV_PRICE_PER_TOKEN)",
                        p.unit);
    double now;
    if (!av__price_ok(&p, &now))
        return av__fail(AV_EVALUE, "price cost_per_query=%g input_price=%g output_price=%g "
                                   "input_tokens=%g output_tokens=%g: each must be finite and "
                                   ">= 0, and the cost per query at most %g",
                        p.cost_per_query, p.input_price, p.output_price, p.input_tokens,
                        p.output_tokens, AV_STAT_MAX_MEAN);
    av__mutex_lock(&r->lock);
    size_t m = r->st.m, k = r->ix.k;
    if (model < 0 || (size_t)model >= m) {
        av__mutex_unlock(&r->lock);
        return av__fail(AV_EMODEL, "model %d of %zu", (int)model, m);
    }
    size_t i = (size_t)model;
    double old = av__price_per_query_locked(r, i), f = old > 0.0 ? now / old : NAN;
    /* Every cell is checked before any changes, so that a refused price leaves the router as it
       was. A model without cost so far (old 0) gets the new price per outcome. */
    for (size_t j = 0; j < k; j++) {
        size_t ji = j * m + i;
        double q = old > 0.0 ? r->st.sum_cost[ji] * f : r->st.count[ji] * now;
        if (!av__stat_ok(r->st.count[ji], r->st.sum_score[ji], q, AV_STAT_MAX_MEAN)) {
            av__mutex_unlock(&r->lock);
            return av__fail(AV_ELIMIT, "the costs of model %d in cluster %zu rescaled by %g "
                                       "would exceed the statistics limits (|mean| <= %g)",
                            (int)model, j, old > 0.0 ? f : now, AV_STAT_MAX_MEAN);
        }
    }
    if ((rc = av__price_store(r, i, &p)) != AV_OK) {
        av__mutex_unlock(&r->lock);
        return rc;
    }
    for (size_t j = 0; j < k; j++) {
        size_t ji = j * m + i;
        r->st.sum_cost[ji] = old > 0.0 ? r->st.sum_cost[ji] * f : r->st.count[ji] * now;
    }
    av__stats_totals_locked(&r->st, i);
    av__stats_republish_locked(&r->st, r->est.kappa);
    av__mutex_unlock(&r->lock);
    if (factor)
        *factor = f;
    return AV_OK;
}

AV_API int av_router_get_price(const av_router *r, int32_t model, av_price *price)
{
    if (!r || !price)
        return av__fail(AV_EINVAL, "router or price is NULL");
    av_router *w = (av_router *)r; /* the lock is the only mutable part of a const router */
    av_price out = {(uint32_t)sizeof out, AV_PRICE_NONE, 0.0, 0.0, 0.0, 0.0, 0.0};
    av__mutex_lock(&w->lock);
    size_t m = r->st.m;
    if (model < 0 || (size_t)model >= m) {
        av__mutex_unlock(&w->lock);
        return av__fail(AV_EMODEL, "model %d of %zu", (int)model, m);
    }
    const av_price *p = av__price_of(r, (size_t)model);
    if (p)
        out = *p;
    out.cost_per_query = av__price_per_query_locked(r, (size_t)model);
    av__mutex_unlock(&w->lock);
    return av__struct_out(price, &out, sizeof out, AV_PRICE_MIN_SIZE_, "av_price");
}
