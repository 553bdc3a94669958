/* Per-request routing control and explanation (av_route_ex) over the one rule (rule.c), and the
   router's estimator defaults (shrinkage, soft cluster weights, the no-worse-than-best-single
   guard) with their metadata. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        return av__fail_context(AV_EFORMAT, "estimator metadata");
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
 * av_route_ex
 * ------------------------------------------------------------------------------------------- */
/* Normalised rows of the clusters a request uses: on the stack up to this many doubles (64
   clusters of 16 models), else allocated. */
#define AV_ROUTE_STACK_ROWS 2048u

/* The decision and its explanation into the caller's result (arrays up to their capacities). */
static void explain(const av_prepared *q, const double *acc, int32_t best, uint32_t guarded,
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
    res->guarded = guarded;
    res->best_similarity = q->best_sim;
    res->support = chosen_support;
    res->n_clusters = ns;
    res->n_ranked = 0;
    if (res->ranked || res->ranked_scores) {
        int32_t order[AV_MAX_MODELS];
        size_t n;
        av__rule_rank(q, acc, best, guarded, order, &n);
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
    if ((rc = av__settings_resolve(r, &o, &st)) != AV_OK)
        return rc;
    if (o.embedder_id) {
        const char *mine = av_router_meta(r, "embedder_id");
        if (mine && strcmp(mine, o.embedder_id) != 0)
            return av__fail(AV_EMISMATCH, "the router was trained with embedder '%s', the query "
                                          "comes from '%s'", mine, o.embedder_id);
    }
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    if ((rc = av__router_nearest(r, embedding, st.p, idx, sims)) != AV_OK)
        return rc;
    return av__route_one(r, pinned ? pinned : av__table(r), &st, idx, sims, (double)o.alpha, res);
}

int32_t av__route_one(const av_router *r, const av_table *t, const av_settings *st,
                      const uint32_t *idx, const float *sims, double alpha, av_route_result *res)
{
    size_t ns = av__n_sel(r, st->p), need = AV_RULE_ROWS(ns, t->m);
    double stack_rows[AV_ROUTE_STACK_ROWS], *rows = stack_rows;
    if (need > AV_ROUTE_STACK_ROWS && !(rows = malloc(need * sizeof *rows)))
        return av__fail(AV_ENOMEM, "%zu clusters of %zu models", ns, t->m);
    av_prepared q;
    av__rule_prepare(r, t, st, r->members, idx, sims, NULL, rows, &q);
    double acc[AV_MAX_MODELS];
    uint32_t guarded;
    int32_t best = av__rule_decide(&q, st, alpha, acc, &guarded);
    if (res)
        explain(&q, acc, best, guarded, res);
    if (rows != stack_rows)
        free(rows);
    if (best < 0)
        return av__fail(AV_ENOMODEL, "none of the %zu models satisfies the mask and limits", q.m);
    return best;
}
