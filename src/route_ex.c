/* Per-request routing control and explanation (av_route_ex), the router's estimator defaults
   (shrinkage, soft cluster weights, the no-worse-than-best-single guard) and Thompson-sampling
   exploration. The paper's rule is the special case of default options: hard weights, kappa 0, no
   guard, no limits, and then the decision is computed from the same table words with the same
   arithmetic as av_route, so it is identical. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Beta(1, 1) (uniform) prior of the exploration posterior. */
#define AV_BETA_PRIOR 1.0
/* The exploration stream is the route seed mixed with this constant (golden ratio), so that seed
   0 is a usable seed too. */
#define AV_EXPLORE_MIX 0x9E3779B97F4A7C15ull
/* Rejection-sampling bound of one gamma draw (see gamma_draw). */
#define AV_GAMMA_MAX_TRIES 64
#define AV_ROUTE_KNOWN_FLAGS                                                                  \
    (AV_ROUTE_MAX_COST | AV_ROUTE_MIN_SCORE | AV_ROUTE_GUARD_ON | AV_ROUTE_GUARD_OFF | \
     AV_ROUTE_EXPLORE)

/* ---------------------------------------------------------------------------------------------
 * Estimator defaults and their metadata
 * ------------------------------------------------------------------------------------------- */
static int check_estimator(const av_estimator_options *o)
{
    if (!(o->kappa >= 0.0) || !isfinite(o->kappa))
        return av__fail(AV_EINVAL, "kappa=%g must be finite and >= 0", o->kappa);
    if (o->weighting != AV_WEIGHTING_HARD && o->weighting != AV_WEIGHTING_SOFTMAX)
        return av__fail(AV_EINVAL, "weighting=%u (hard=%u or softmax=%u)", o->weighting,
                        AV_WEIGHTING_HARD, AV_WEIGHTING_SOFTMAX);
    if (!(o->temperature > 0.0f) || !isfinite(o->temperature))
        return av__fail(AV_EINVAL, "temperature=%g must be finite and > 0", (double)o->temperature);
    if (o->guard > 1u || !isfinite(o->guard_margin))
        return av__fail(AV_EINVAL, "guard=%u (0 or 1), guard_margin=%g (finite)", o->guard,
                        o->guard_margin);
    if (o->normalisation != AV_NORMALISE_CLUSTER && o->normalisation != AV_NORMALISE_GLOBAL)
        return av__fail(AV_EINVAL, "normalisation=%u (cluster=%u or global=%u)", o->normalisation,
                        AV_NORMALISE_CLUSTER, AV_NORMALISE_GLOBAL);
    return AV_OK;
}

static void apply_estimator(av_router *r, const av_estimator_options *o)
{
    r->bx.kappa = o->kappa;
    r->bx.weighting = o->weighting;
    r->bx.temperature = o->temperature;
    r->bx.guard = o->guard;
    r->bx.guard_margin = o->guard_margin;
    r->bx.normalisation = o->normalisation;
    r->bx.active = o->weighting == AV_WEIGHTING_SOFTMAX || o->guard != 0u ||
                   o->normalisation == AV_NORMALISE_GLOBAL;
}

static int get_estimator(const av_router *r, av_estimator_options *o)
{
    av_estimator_options_init(o);
    o->kappa = r->bx.kappa;
    o->weighting = r->bx.weighting ? r->bx.weighting : AV_WEIGHTING_HARD;
    o->temperature = r->bx.temperature > 0.0f ? r->bx.temperature : AV_DEFAULT_TEMPERATURE;
    o->guard = r->bx.guard;
    o->guard_margin = r->bx.guard_margin;
    o->normalisation = r->bx.normalisation ? r->bx.normalisation : AV_NORMALISE_CLUSTER;
    return AV_OK;
}

static int meta_double(const av_router *r, const char *key, double *v)
{
    const char *s = av_router_meta(r, key);
    if (!s)
        return 0;
    char *end;
    double d = av__strtod_c(s, &end);
    if (end == s || *end != '\0' || !isfinite(d))
        return av__fail(AV_EFORMAT, "metadata %s='%s' is not a finite number", key, s);
    *v = d;
    return 1;
}

void av__centroid_hash(const av_router *r, char out[17])
{
    /* FNV-1a 64 over the shape, the storage type and the stored centroid bytes in little-endian
       order (what the file holds), so equal files give equal hashes on every machine. */
    const uint64_t prime = 0x100000001B3ull;
    uint64_t h = 0xCBF29CE484222325ull;
    uint64_t hdr[3] = {r->dim, r->k, r->centroid_type};
    for (int w = 0; w < 3; w++)
        for (int b = 0; b < 8; b++) {
            h ^= (hdr[w] >> (8 * b)) & 0xFFu;
            h *= prime;
        }
    for (int b = 0; r->members > 1 && b < 8; b++) { /* ensembles only: older hashes stay valid */
        h ^= ((uint64_t)r->members >> (8 * b)) & 0xFFu;
        h *= prime;
    }
    size_t n = r->k * r->dim;
    for (size_t t = 0; t < n; t++) {
        uint32_t u;
        int nb;
        switch (r->centroid_type) {
        case AV_CENTROIDS_F32:
            memcpy(&u, &r->centroids[t], 4);
            nb = 4;
            break;
        case AV_CENTROIDS_F16:
            u = r->centroids_f16[t];
            nb = 2;
            break;
        default:
            u = (uint8_t)r->centroids_i8[t];
            nb = 1;
            break;
        }
        for (int b = 0; b < nb; b++) {
            h ^= (u >> (8 * b)) & 0xFFu;
            h *= prime;
        }
    }
    if (r->centroid_type == AV_CENTROIDS_INT8)
        for (size_t j = 0; j < r->k; j++) {
            uint32_t u;
            memcpy(&u, &r->centroid_scale[j], 4);
            for (int b = 0; b < 4; b++) {
                h ^= (u >> (8 * b)) & 0xFFu;
                h *= prime;
            }
        }
    if (r->centroid_type == AV_CENTROIDS_INT8) /* per-dimension scales (speed, format 1.1) */
        for (size_t t = 0; t < r->dim; t++) {
            uint32_t u;
            memcpy(&u, &r->centroid_colscale[t], 4);
            for (int b = 0; b < 4; b++) {
                h ^= (u >> (8 * b)) & 0xFFu;
                h *= prime;
            }
        }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int av__beyond_load_meta(av_router *r)
{
    av_estimator_options o;
    get_estimator(r, &o);
    double v;
    int rc;
    if ((rc = meta_double(r, "kappa", &o.kappa)) < 0)
        return rc;
    if ((rc = meta_double(r, "temperature", &v)) < 0)
        return rc;
    if (rc)
        o.temperature = (float)v;
    if ((rc = meta_double(r, "guard", &v)) < 0)
        return rc;
    if (rc)
        o.guard = v != 0.0;
    if ((rc = meta_double(r, "guard_margin", &o.guard_margin)) < 0)
        return rc;
    const char *w = av_router_meta(r, "weighting");
    if (w) {
        if (strcmp(w, "hard") == 0)
            o.weighting = AV_WEIGHTING_HARD;
        else if (strcmp(w, "softmax") == 0)
            o.weighting = AV_WEIGHTING_SOFTMAX;
        else
            return av__fail(AV_EFORMAT, "metadata weighting='%s' (hard or softmax)", w);
    }
    const char *nz = av_router_meta(r, "normalisation");
    if (nz) {
        if (strcmp(nz, "cluster") == 0)
            o.normalisation = AV_NORMALISE_CLUSTER;
        else if (strcmp(nz, "global") == 0)
            o.normalisation = AV_NORMALISE_GLOBAL;
        else
            return av__fail(AV_EFORMAT, "metadata normalisation='%s' (cluster or global)", nz);
    }
    if ((rc = check_estimator(&o)) != AV_OK)
        return av__fail(AV_EFORMAT, "estimator metadata: %s", av_last_error());
    apply_estimator(r, &o);
    /* The centroid hash is recomputed, never trusted from the file: the CRC already covers the
       bytes, and a converter may have changed the storage. Written only when it changes, so a
       shared router's metadata is not touched by av_profile_merge. */
    char hash[17];
    av__centroid_hash(r, hash);
    const char *old = av_router_meta(r, AV_META_CENTROID_HASH);
    if (!old || strcmp(old, hash) != 0)
        return av__meta_set(r, AV_META_CENTROID_HASH, hash);
    return AV_OK;
}

AV_API const char *av_router_centroid_hash(const av_router *r)
{
    return av_router_meta(r, AV_META_CENTROID_HASH);
}

AV_API int av_router_set_estimator(av_router *r, const av_estimator_options *opts)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    av_estimator_options o;
    av_estimator_options_init(&o);
    if (opts) {
        int rc = av__struct_in(&o, sizeof o, opts, AV_estimator_options_MIN_SIZE_,
                               "av_estimator_options");
        if (rc)
            return rc;
    }
    int rc = check_estimator(&o);
    if (rc)
        return rc;
    if ((rc = av__set_meta_number(r, "kappa", "%.17g", o.kappa)) != AV_OK)
        return rc;
    if ((rc = av__meta_set(r, "weighting",
                                 o.weighting == AV_WEIGHTING_SOFTMAX ? "softmax" : "hard")) != AV_OK)
        return rc;
    if ((rc = av__set_meta_number(r, "temperature", "%.9g", (double)o.temperature)) != AV_OK)
        return rc;
    if ((rc = av__meta_set(r, "guard", o.guard ? "1" : "0")) != AV_OK)
        return rc;
    if ((rc = av__set_meta_number(r, "guard_margin", "%.17g", o.guard_margin)) != AV_OK)
        return rc;
    if ((rc = av__meta_set(r, "normalisation", o.normalisation == AV_NORMALISE_GLOBAL
                                                         ? "global"
                                                         : "cluster")) != AV_OK)
        return rc;
    pthread_mutex_lock(&r->lock);
    apply_estimator(r, &o);
    av__republish_all_locked(r);
    pthread_mutex_unlock(&r->lock);
    return AV_OK;
}

AV_API int av_router_get_estimator(const av_router *r, av_estimator_options *opts)
{
    if (!r || !opts)
        return av__fail(AV_EINVAL, "router or options is NULL");
    av_estimator_options o;
    get_estimator(r, &o);
    return av__struct_out(opts, &o, sizeof o, AV_estimator_options_MIN_SIZE_,
                          "av_estimator_options");
}

/* ---------------------------------------------------------------------------------------------
 * Exploration: Beta draws from the library's PRNG (Marsaglia-Tsang gamma, shape >= 1 here)
 * ------------------------------------------------------------------------------------------- */
static double std_normal(av_rng *g)
{
    /* Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]. */
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - av__rng_uniform(g), u2 = av__rng_uniform(g);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

static double gamma_draw(av_rng *g, double shape)
{
    /* The statistics limits keep shape finite and >= 1; the guards make termination independent
       of that: Marsaglia-Tsang accepts over 95% of its proposals for shape >= 1, so a draw that
       still has none after AV_GAMMA_MAX_TRIES returns the distribution's mode instead. */
    if (!(shape >= 1.0) || !isfinite(shape))
        shape = isfinite(shape) ? 1.0 : AV_STAT_MAX_COUNT;
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (int tries = 0; tries < AV_GAMMA_MAX_TRIES; tries++) {
        double x = std_normal(g), v = 1.0 + c * x;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = 1.0 - av__rng_uniform(g);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
    return d;
}

static double beta_draw(av_rng *g, double a, double b)
{
    double x = gamma_draw(g, a), y = gamma_draw(g, b);
    return x / (x + y);
}

/* ---------------------------------------------------------------------------------------------
 * av_route_ex
 * ------------------------------------------------------------------------------------------- */
typedef struct ex_params {
    double alpha, kappa, temperature, guard_margin;
    uint32_t p, weighting, guard, norm;
} ex_params;

static int resolve(const av_router *r, const av_route_options *o, ex_params *x)
{
    if (!(o->alpha >= 0.0f && o->alpha <= 1.0f))
        return av__fail(AV_EALPHA, "alpha=%g", (double)o->alpha);
    x->alpha = (double)o->alpha;
    x->p = o->top_p ? o->top_p : r->top_p;
    int rc = av__check_top_p(r->k, r->members, x->p);
    if (rc)
        return rc;
    x->weighting = o->weighting == AV_WEIGHTING_ROUTER ? r->bx.weighting : o->weighting;
    if (x->weighting == AV_WEIGHTING_ROUTER)
        x->weighting = AV_WEIGHTING_HARD;
    if (x->weighting != AV_WEIGHTING_HARD && x->weighting != AV_WEIGHTING_SOFTMAX)
        return av__fail(AV_EINVAL, "weighting=%u", o->weighting);
    if (!(o->temperature >= 0.0f) || isinf(o->temperature))
        return av__fail(AV_EINVAL, "temperature=%g must be finite and >= 0 (0 = the router's)",
                        (double)o->temperature);
    if (o->flags & ~AV_ROUTE_KNOWN_FLAGS)
        return av__fail(AV_EINVAL, "flags=0x%x has unknown bits 0x%x", o->flags,
                        o->flags & ~AV_ROUTE_KNOWN_FLAGS);
    x->temperature = o->temperature > 0.0f ? (double)o->temperature : (double)r->bx.temperature;
    if (!(x->temperature > 0.0) || !isfinite(x->temperature))
        x->temperature = (double)AV_DEFAULT_TEMPERATURE;
    x->norm = o->normalisation == AV_NORMALISE_ROUTER ? r->bx.normalisation : o->normalisation;
    if (x->norm == AV_NORMALISE_ROUTER)
        x->norm = AV_NORMALISE_CLUSTER;
    if (x->norm != AV_NORMALISE_CLUSTER && x->norm != AV_NORMALISE_GLOBAL)
        return av__fail(AV_EINVAL, "normalisation=%u", o->normalisation);
    if (isnan(o->kappa) || isinf(o->kappa))
        return av__fail(AV_EINVAL, "kappa=%g", o->kappa);
    x->kappa = o->kappa >= 0.0 ? o->kappa : r->bx.kappa;
    if ((o->flags & AV_ROUTE_GUARD_ON) && (o->flags & AV_ROUTE_GUARD_OFF))
        return av__fail(AV_EINVAL, "AV_ROUTE_GUARD_ON and AV_ROUTE_GUARD_OFF together");
    x->guard = (o->flags & AV_ROUTE_GUARD_ON) ? 1u : (o->flags & AV_ROUTE_GUARD_OFF) ? 0u : r->bx.guard;
    x->guard_margin = ((o->flags & AV_ROUTE_GUARD_ON) && o->guard_margin >= 0.0) ? o->guard_margin
                                                                                 : r->bx.guard_margin;
    if (!isfinite(x->guard_margin))
        return av__fail(AV_EINVAL, "guard_margin=%g", x->guard_margin);
    if (((o->flags & AV_ROUTE_MAX_COST) && isnan(o->max_expected_cost)) ||
        ((o->flags & AV_ROUTE_MIN_SCORE) && isnan(o->min_expected_score)))
        return av__fail(AV_EINVAL, "a cost or score limit is NaN");
    return AV_OK;
}

/* Models in best-first order by the rule's score with the paper's tie rule. */
static void rank_models(const av_table *t, const double *acc, const uint8_t *allowed, int32_t *out,
                        size_t *n_out)
{
    size_t n = 0;
    for (size_t i = 0; i < t->m; i++) {
        if (!allowed[i])
            continue;
        /* insertion: the list stays short (m <= AV_MAX_MODELS) */
        double ci = av__table_gmean(t, i, 1);
        size_t pos = n++;
        while (pos > 0) {
            int32_t b = out[pos - 1];
            double cb = av__table_gmean(t, (size_t)b, 1);
            bool before = acc[i] > acc[b] || (acc[i] == acc[b] && ci < cb);
            if (!before)
                break;
            out[pos] = b;
            pos--;
        }
        out[pos] = (int32_t)i;
    }
    *n_out = n;
}

AV_API int32_t av_route_ex(const av_router *r, const float *embedding, size_t dim,
                           const av_route_options *opts, av_route_result *res)
{
    return av__route_ex_table(r, NULL, embedding, dim, opts, res);
}

int32_t av__route_ex_table(const av_router *r, const av_table *pinned, const float *embedding,
                           size_t dim, const av_route_options *opts, av_route_result *res)
{
    int rc = av__check_route_args(r, embedding, dim, 0.0f);
    if (rc)
        return rc;
    av_route_options o;
    av_route_options_init(&o);
    if (opts) {
        if ((rc = av__struct_in(&o, sizeof o, opts, AV_route_options_MIN_SIZE_,
                                "av_route_options")) != AV_OK)
            return rc;
    }
    /* The result's arrays and capacities are inputs too: its layout is read like an option's (a
       newer caller's unknown members must be zero), and only what this library knows of it is
       written. */
    av_route_result rs;
    if (res && (rc = av__struct_in(&rs, sizeof rs, res, AV_route_result_MIN_SIZE_,
                                   "av_route_result")) != AV_OK)
        return rc;
    ex_params x = {0};
    if ((rc = resolve(r, &o, &x)) != AV_OK)
        return rc;
    if (o.embedder_id) {
        const char *mine = av_router_meta(r, "embedder_id");
        if (mine && strcmp(mine, o.embedder_id) != 0)
            return av__fail(AV_EMISMATCH, "the router was trained with embedder '%s', the query "
                                          "comes from '%s'", mine, o.embedder_id);
    }

    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    if ((rc = av__router_nearest(r, embedding, x.p, idx, sims)) != AV_OK)
        return rc;
    /* ns clusters: x.p in each member of an ensemble. Softmax weights are taken within each
       member (relative to its nearest cluster, so the exponent is <= 0 and cannot overflow) and
       every member gets the same total weight 1 / members. */
    size_t ns = av__n_sel(r, x.p);
    double w[AV_MAX_TOP_P], wsum[AV_MAX_MEMBERS];
    av__member_weights(r->members, x.p, sims, x.weighting == AV_WEIGHTING_SOFTMAX, x.temperature,
                       w, wsum);
    float best_sim = sims[0];
    for (size_t c = 0; c < ns; c++) {
        best_sim = sims[c] > best_sim ? sims[c] : best_sim;
        if (x.weighting == AV_WEIGHTING_SOFTMAX)
            w[c] = w[c] / wsum[c / x.p] / (double)r->members;
    }

    const av_table *t = pinned ? pinned : av__table(r);
    size_t m = t->m;
    bool recompute = x.kappa != r->bx.kappa || (o.flags & AV_ROUTE_EXPLORE) ||
                     x.norm == AV_NORMALISE_GLOBAL;
    double gp[AV_MAX_MODELS], gq[AV_MAX_MODELS];
    for (size_t i = 0; i < m; i++) {
        gp[i] = av__table_gmean(t, i, 0);
        gq[i] = av__table_gmean(t, i, 1);
    }
    av_rng rng;
    av__rng_seed(&rng, o.explore_seed ^ AV_EXPLORE_MIX);
    double acc[AV_MAX_MODELS] = {0}, ep[AV_MAX_MODELS] = {0}, eq[AV_MAX_MODELS] = {0};
    double support[AV_MAX_TOP_P], chosen_support = 0.0;
    double row[AV_ROW_WORDS * AV_MAX_MODELS], p[AV_MAX_MODELS], q[AV_MAX_MODELS];
    double beta = 1.0 - x.alpha;
    for (size_t c = 0; c < ns; c++) {
        av__table_read(t, idx[c], 0, AV_ROW_WORDS * m, row);
        const double *raw = row + AV_ROW_NORM * m;
        av__means_from_raw(raw, gp, gq, m, x.kappa, p, q);
        support[c] = 0.0;
        for (size_t i = 0; i < m; i++) {
            support[c] = fmax(support[c], raw[3 * i]);
            ep[i] += w[c] * p[i];
            eq[i] += w[c] * q[i];
        }
        const double *nrow = row;
        double tmp[AV_ROW_NORM * AV_MAX_MODELS];
        if (recompute) {
            if (o.flags & AV_ROUTE_EXPLORE) {
                for (size_t i = 0; i < m; i++) {
                    double cn = raw[3 * i], s = fmin(fmax(raw[3 * i + 1], 0.0), cn);
                    p[i] = beta_draw(&rng, AV_BETA_PRIOR + s, AV_BETA_PRIOR + (cn - s));
                }
            }
            if (x.norm == AV_NORMALISE_GLOBAL)
                av__normalise_global(p, q, gp, gq, m, tmp);
            else
                av__normalise_means(p, q, m, tmp);
            nrow = tmp;
        }
        for (size_t i = 0; i < m; i++)
            acc[i] += w[c] * (x.alpha * nrow[2 * i] + beta * nrow[2 * i + 1]);
    }
    /* expected values are the weighted means over the clusters used */
    double wtot = x.weighting == AV_WEIGHTING_SOFTMAX ? 1.0 : (double)ns;
    for (size_t i = 0; i < m; i++) {
        ep[i] /= wtot;
        eq[i] /= wtot;
    }

    uint8_t allowed[AV_MAX_MODELS];
    size_t n_feasible = 0;
    for (size_t i = 0; i < m; i++) {
        bool ok = !o.model_mask || (i < o.model_mask_len && o.model_mask[i] != 0);
        if ((o.flags & AV_ROUTE_MAX_COST) && !(eq[i] <= o.max_expected_cost))
            ok = false;
        if ((o.flags & AV_ROUTE_MIN_SCORE) && !(ep[i] >= o.min_expected_score))
            ok = false;
        allowed[i] = ok;
        n_feasible += ok;
    }
    int32_t best = n_feasible ? av__argmax_tie(t, acc, allowed) : -1;
    uint32_t guarded = 0;
    if (best >= 0 && x.guard) {
        /* The best single model among the allowed ones, by the paper's rule over the global
           means; the rule's choice must beat it on this query's estimates, in the same globally
           normalised utility, by the margin. */
        double gn[2 * AV_MAX_MODELS], gu[AV_MAX_MODELS];
        av__normalise_means(gp, gq, m, gn);
        for (size_t i = 0; i < m; i++)
            gu[i] = x.alpha * gn[2 * i] + beta * gn[2 * i + 1];
        int32_t g = av__argmax_tie(t, gu, allowed);
        double pmin = INFINITY, pmax = -INFINITY, qmin = INFINITY, qmax = -INFINITY;
        for (size_t i = 0; i < m; i++) {
            pmin = fmin(pmin, gp[i]);
            pmax = fmax(pmax, gp[i]);
            qmin = fmin(qmin, gq[i]);
            qmax = fmax(qmax, gq[i]);
        }
        double pr = pmax > pmin ? pmax - pmin : 1.0, qr = qmax > qmin ? qmax - qmin : 1.0;
        double ub = x.alpha * (ep[best] - pmin) / pr + beta * (1.0 - (eq[best] - qmin) / qr);
        double ug = x.alpha * (ep[g] - pmin) / pr + beta * (1.0 - (eq[g] - qmin) / qr);
        if (g != best && !(ub > ug + x.guard_margin)) {
            best = g;
            guarded = 1;
        }
    }
    if (best >= 0)
        for (size_t c = 0; c < ns; c++) {
            double v;
            av__table_read(t, idx[c], AV_ROW_NORM * m + 3 * (size_t)best, 1, &v);
            chosen_support += v;
        }

    if (res) {
        res->model = best;
        res->n_models = m;
        res->n_feasible = n_feasible;
        res->guarded = guarded;
        res->best_similarity = best_sim;
        res->support = chosen_support;
        res->n_clusters = ns;
        if (res->ranked || res->ranked_scores) {
            int32_t order[AV_MAX_MODELS];
            size_t n;
            rank_models(t, acc, allowed, order, &n);
            if (guarded) { /* the guard's model leads, the others keep their order */
                size_t at = 0;
                while (order[at] != best)
                    at++;
                memmove(order + 1, order, at * sizeof *order);
                order[0] = best;
            }
            size_t nw = n < res->ranked_cap ? n : res->ranked_cap;
            for (size_t i = 0; i < nw; i++) {
                if (res->ranked)
                    res->ranked[i] = order[i];
                if (res->ranked_scores)
                    res->ranked_scores[i] = acc[order[i]];
            }
            res->n_ranked = nw;
        } else {
            res->n_ranked = 0;
        }
        size_t mw = m < res->models_cap ? m : res->models_cap;
        for (size_t i = 0; i < mw; i++) {
            if (res->model_scores)
                res->model_scores[i] = acc[i];
            if (res->expected_score)
                res->expected_score[i] = ep[i];
            if (res->expected_cost)
                res->expected_cost[i] = eq[i];
        }
        size_t cw = ns < res->clusters_cap ? ns : res->clusters_cap;
        for (size_t c = 0; c < cw; c++) {
            if (res->clusters)
                res->clusters[c] = idx[c];
            if (res->cluster_sims)
                res->cluster_sims[c] = sims[c];
            if (res->cluster_weights)
                res->cluster_weights[c] = w[c];
            if (res->cluster_support)
                res->cluster_support[c] = support[c];
        }
    }
    if (best < 0)
        return av__fail(AV_ENOMODEL, "none of the %zu models satisfies the mask and limits", m);
    return best;
}

void av__member_weights(size_t members, size_t p, const float *sims, bool softmax, double temp,
                        double *w, double *wsum)
{
    for (size_t b = 0; b < members; b++) {
        size_t c0 = b * p;
        wsum[b] = 0.0;
        for (size_t c = c0; c < c0 + p; c++) {
            /* relative to the member's nearest cluster: the exponent is <= 0, no overflow */
            w[c] = softmax ? exp(((double)sims[c] - (double)sims[c0]) / temp) : 1.0;
            wsum[b] += w[c];
        }
    }
}

int32_t av__route_defaults(const av_router *r, const float *emb, size_t dim, float alpha)
{
    av_route_options o;
    av_route_options_init(&o);
    o.alpha = alpha;
    return av_route_ex(r, emb, dim, &o, NULL);
}
