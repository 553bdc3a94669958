/* Cross-validated choice of n_clusters, ensemble size, top_p, kappa, cluster weighting and
   normalisation (av_fit_options.tune). The builder's rows are split into n_folds folds by a seeded
   shuffle; for every fold and every candidate n_clusters a router (an ensemble of the largest
   candidate size) is fitted on the other folds, and every (members, top_p, kappa, weighting,
   normalisation) candidate is scored on the held-out fold by the evaluator's criterion: the area
   under the accuracy-cost curve of an alpha sweep (av__step_auc, costs over the largest
   single-model mean cost). The candidate with the best mean AUC among those not below the best
   single model at the top of the sweep (alpha 1) on the held-out rows is fitted on all rows; when
   none is, the best AUC overall is fitted with the guard on. Each held-out query is routed once
   per fold and n_clusters; the candidates then differ only in arithmetic on the cluster rows,
   which are precomputed per kappa. */
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AV_TUNE_DEFAULT_FOLDS 5u
#define AV_TUNE_DEFAULT_ALPHAS 21u
#define AV_TUNE_DEFAULT_N_INIT 2u
#define AV_TUNE_MAX_ALPHAS 1001u
#define AV_TUNE_MAX_CANDIDATES 4096u
/* Normalisations compared: the paper's (index 0) and, if asked, the global one (index 1). */
#define AV_TUNE_N_NORMS 2u

/* The grid of `avengers train --tune`: from the paper's k = 60 up to finer clusterings (which
   need shrinkage or an ensemble to stay stable), the paper's single clustering or an ensemble of
   four, top_p around the paper's 4, shrinkage from none to strong, hard weights, and both
   normalisations. On llmrouter9 ensembles of fine clusterings with the global normalisation win
   the cross-validation (docs/EVALUATION.md). */
static const uint32_t GRID_K[] = {60, 120, 200, 300};
static const uint32_t GRID_P[] = {2, 4, 8};
static const double GRID_KAPPA[] = {0, 4, 16};
/* The paper's single clustering, or an ensemble of four (docs/EVALUATION.md: averaging the
   estimates of independent clusterings removes much of the noise of any one partition). */
static const uint32_t GRID_M[] = {1, 4};

AV_API void av_tune_options_default_grid(av_tune_options *opts)
{
    if (!opts)
        return;
    opts->n_clusters = GRID_K;
    opts->n_n_clusters = sizeof GRID_K / sizeof GRID_K[0];
    opts->top_p = GRID_P;
    opts->n_top_p = sizeof GRID_P / sizeof GRID_P[0];
    opts->kappa = GRID_KAPPA;
    opts->n_kappa = sizeof GRID_KAPPA / sizeof GRID_KAPPA[0];
    /* hard weights only: with ensembles in the grid, softmax candidates won the cross-validation
       by noise and lowered the held-out AUC (docs/EVALUATION.md); callers can still offer them */
    opts->temperatures = NULL;
    opts->n_temperatures = 0;
    /* a caller's struct from before the field was appended ends before it */
    if (opts->struct_size >= offsetof(av_tune_options, global_normalisation) + sizeof(uint32_t))
        opts->global_normalisation = 1;
    if (opts->struct_size >= offsetof(av_tune_options, n_members) + sizeof(size_t)) {
        opts->members = GRID_M;
        opts->n_members = sizeof GRID_M / sizeof GRID_M[0];
    }
}

typedef struct tune_cfg {
    uint32_t k, p;
    double kappa;
    float temp; /* 0 = hard weights */
    size_t ki;  /* index of k in the candidate list, kappa index */
    size_t kpi;
    uint32_t global; /* 1: AV_NORMALISE_GLOBAL */
    uint32_t members; /* ensemble size: the first `members` members of the fold routers */
    double auc_sum;
    double top_sum, top_n; /* held-out score sum and rows at the top of the sweep (alpha 1) */
} tune_cfg;

typedef struct tune_ctx {
    av_builder_view v;
    av_tune_options t;
    const av_fit_options *fo;
    uint32_t *fold; /* n */
    double *alphas; /* n_alphas */
    tune_cfg *cfg;
    size_t n_cfg;
    uint32_t max_p;
    uint32_t max_members; /* the ensemble size the folds fit */
    /* every single model's held-out score sum and rows (each fold counted once per k, which
       leaves the means unchanged) */
    double single_sum[AV_MAX_MODELS], single_n[AV_MAX_MODELS];
} tune_ctx;

static int read_tune(const av_tune_options *in, av_tune_options *t)
{
    av_tune_options_init(t);
    int rc = av__struct_in(t, sizeof *t, in, AV_tune_options_MIN_SIZE_, "av_tune_options");
    if (rc)
        return rc;
    if (t->n_folds == 0)
        t->n_folds = AV_TUNE_DEFAULT_FOLDS;
    if (t->n_alphas == 0)
        t->n_alphas = AV_TUNE_DEFAULT_ALPHAS;
    if (t->n_init == 0)
        t->n_init = AV_TUNE_DEFAULT_N_INIT;
    if (t->n_folds < 2 || t->n_alphas < 2 || t->n_alphas > AV_TUNE_MAX_ALPHAS)
        return av__fail(AV_EINVAL, "n_folds=%u (>= 2), n_alphas=%u (2..%u)", t->n_folds,
                        t->n_alphas, AV_TUNE_MAX_ALPHAS);
    if ((t->n_n_clusters && !t->n_clusters) || (t->n_top_p && !t->top_p) ||
        (t->n_kappa && !t->kappa) || (t->n_temperatures && !t->temperatures) ||
        (t->n_members && !t->members))
        return av__fail(AV_EINVAL, "a candidate count is set but its list is NULL");
    for (size_t i = 0; i < t->n_kappa; i++)
        if (!(t->kappa[i] >= 0.0) || !isfinite(t->kappa[i]))
            return av__fail(AV_EINVAL, "kappa candidate %g", t->kappa[i]);
    for (size_t i = 0; i < t->n_temperatures; i++)
        if (!(t->temperatures[i] > 0.0f) || !isfinite(t->temperatures[i]))
            return av__fail(AV_EINVAL, "temperature candidate %g", (double)t->temperatures[i]);
    for (size_t i = 0; i < t->n_top_p; i++)
        if (t->top_p[i] == 0 || t->top_p[i] > AV_MAX_TOP_P)
            return av__fail(AV_EINVAL, "top_p candidate %u (1..%u)", t->top_p[i], AV_MAX_TOP_P);
    for (size_t i = 0; i < t->n_n_clusters; i++)
        if (t->n_clusters[i] == 0 || t->n_clusters[i] > AV_MAX_CLUSTERS)
            return av__fail(AV_EINVAL, "n_clusters candidate %u", t->n_clusters[i]);
    for (size_t i = 0; i < t->n_members; i++)
        if (t->members[i] == 0 || t->members[i] > AV_MAX_MEMBERS)
            return av__fail(AV_EINVAL, "members candidate %u (1..%u)", t->members[i],
                            AV_MAX_MEMBERS);
    if (t->global_normalisation > 1u)
        return av__fail(AV_EINVAL, "global_normalisation=%u (0 or 1)", t->global_normalisation);
    if (t->guard > 1u || !isfinite(t->guard_margin))
        return av__fail(AV_EINVAL, "guard=%u, guard_margin=%g", t->guard, t->guard_margin);
    return AV_OK;
}

/* Every combination, simplest first (so that equal AUCs keep the simpler candidate): by k, then
   members, then top_p, then kappa, then hard before softmax, then the paper's normalisation before
   the global one. Combinations with top_p > k or members * top_p > AV_MAX_TOP_P are skipped. */
static int make_configs(tune_ctx *c)
{
    const av_tune_options *t = &c->t;
    size_t nk = t->n_n_clusters ? t->n_n_clusters : 1, np = t->n_top_p ? t->n_top_p : 1;
    size_t nka = t->n_kappa ? t->n_kappa : 1, nw = 1 + t->n_temperatures;
    size_t nn = t->global_normalisation ? 2 : 1, nm = t->n_members ? t->n_members : 1;
    size_t total = nk * nm * np * nka * nw * nn;
    /* the rows a fold router is fitted on: all but the largest fold (fold of position i is
       i mod n_folds); candidates with more clusters are skipped, not fatal */
    size_t n_fit = c->v.n - (c->v.n + t->n_folds - 1) / t->n_folds, n_small = 0;
    if (total > AV_TUNE_MAX_CANDIDATES)
        return av__fail(AV_ELIMIT, "%zu candidates (at most %u)", total, AV_TUNE_MAX_CANDIDATES);
    if (!(c->cfg = calloc(total, sizeof *c->cfg)))
        return av__fail(AV_ENOMEM, "tuning candidates");
    /* one index over the product, the last list varying fastest */
    for (size_t e = 0; e < total; e++) {
        size_t z = e % nn, w = e / nn % nw, d = e / (nn * nw) % nka, b = e / (nn * nw * nka) % np;
        size_t mi = e / (nn * nw * nka * np) % nm, a = e / (nn * nw * nka * np * nm);
        tune_cfg g = {0};
        g.members = t->n_members ? t->members[mi] : (c->fo->members ? c->fo->members : 1u);
        g.k = t->n_n_clusters ? t->n_clusters[a] : c->fo->n_clusters;
        g.p = t->n_top_p ? t->top_p[b] : c->fo->top_p;
        g.kappa = t->n_kappa ? t->kappa[d] : 0.0;
        g.temp = w ? t->temperatures[w - 1] : 0.0f;
        g.global = (uint32_t)z;
        g.ki = a;
        g.kpi = d;
        if (g.p > g.k || (size_t)g.members * g.p > AV_MAX_TOP_P ||
            (size_t)g.members * g.k > AV_MAX_CLUSTERS)
            continue;
        if (g.k > n_fit) { /* too few rows outside the largest fold for k clusters */
            n_small++;
            continue;
        }
        c->max_p = g.p > c->max_p ? g.p : c->max_p;
        c->max_members = g.members > c->max_members ? g.members : c->max_members;
        c->cfg[c->n_cfg++] = g;
    }
    if (c->n_cfg == 0 && n_small > 0)
        return av__fail(AV_EEMPTY, "%zu rows: every n_clusters candidate exceeds the %zu rows a "
                                   "fold trains on", c->v.n, n_fit);
    if (c->n_cfg == 0)
        return av__fail(AV_EINVAL, "no candidate has top_p <= n_clusters and members * top_p <= "
                                   "%u", AV_MAX_TOP_P);
    return AV_OK;
}

/* Seeded Fisher-Yates shuffle; fold of the row at position i is i mod n_folds. */
static int assign_folds(tune_ctx *c)
{
    size_t n = c->v.n;
    uint32_t *perm = malloc(n * sizeof *perm);
    if (!(c->fold = malloc(n * sizeof *c->fold)) || !perm) {
        free(perm);
        return av__fail(AV_ENOMEM, "folds");
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    av_rng g;
    av__rng_seed(&g, c->fo->seed);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(av__rng_uniform(&g) * (double)i);
        uint32_t tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    for (size_t i = 0; i < n; i++)
        c->fold[perm[i]] = (uint32_t)(i % c->t.n_folds);
    free(perm);
    return AV_OK;
}

static int fit_subset(const tune_ctx *c, uint32_t fold, uint32_t k, uint32_t n_init,
                      av_router **out)
{
    av_builder *b = NULL;
    int rc = av_builder_new(&b, c->v.dim, c->v.m, c->v.names);
    for (size_t i = 0; rc == AV_OK && i < c->v.n; i++)
        if (c->fold[i] != fold)
            rc = av_builder_add(b, c->v.X + i * c->v.dim, c->v.dim, c->v.scores + i * c->v.m,
                                c->v.costs + i * c->v.m);
    if (rc == AV_OK) {
        av_fit_options o = *c->fo;
        o.n_clusters = k;
        o.top_p = 1;
        o.members = c->max_members;
        o.n_init = n_init;
        o.tune = NULL;
        o.verbose = 0;
        o.progress = NULL;
        rc = av_builder_fit(b, &o, out);
    }
    av_builder_free(b);
    return rc;
}

/* Per-fold accumulators of one candidate: per alpha the sums of score and cost and the rows
   scored. */
typedef struct fold_acc {
    double *score, *cost, *n;
} fold_acc;

/* Evaluate every candidate with this k on the held-out fold. */
void av__tune_rows(const av_table *t, double kappa, bool global, size_t k, double *out)
{
    size_t m = t->m;
    double gp[AV_MAX_MODELS], gq[AV_MAX_MODELS], p[AV_MAX_MODELS], q[AV_MAX_MODELS];
    double raw[AV_ROW_RAW * AV_MAX_MODELS];
    for (size_t i = 0; i < m; i++) {
        gp[i] = av__table_gmean(t, i, 0);
        gq[i] = av__table_gmean(t, i, 1);
    }
    for (size_t j = 0; j < k; j++) {
        av__table_read(t, j, AV_ROW_NORM * m, AV_ROW_RAW * m, raw);
        av__means_from_raw(raw, gp, gq, m, kappa, p, q);
        if (global)
            av__normalise_global(p, q, gp, gq, m, out + j * 2 * m);
        else
            av__normalise_means(p, q, m, out + j * 2 * m);
    }
}

static int eval_fold_k(tune_ctx *c, uint32_t fold, size_t ki, const av_router *r)
{
    size_t m = c->v.m, k = r->ix.k, na = c->t.n_alphas, nb = r->ix.members, kb = k / nb;
    size_t nka = c->t.n_kappa ? c->t.n_kappa : 1;
    const av_table *tab = av__table(r);
    size_t pmax = c->max_p < kb ? c->max_p : kb;
    /* normalised rows per (kappa, normalisation, cluster); with a 32-bit size_t the product can
       exceed the address space */
    size_t n_rows, bytes;
    if (!av__mul_ok(nka * AV_TUNE_N_NORMS * 2, k * m, &n_rows) ||
        !av__mul_ok(n_rows, sizeof(double), &bytes))
        return av__fail(AV_ELIMIT, "tuning rows for k=%zu, m=%zu do not fit this platform's "
                                   "address space", k, m);
    double *rows = malloc(bytes);
    size_t nc = 0;
    for (size_t g = 0; g < c->n_cfg; g++)
        nc += c->cfg[g].ki == ki;
    double *acc_s = calloc(nc * na * 3, sizeof(double));
    size_t *cfg_of = malloc(nc * sizeof(size_t));
    float *all = malloc(k * sizeof(float));
    double *scratch = malloc(AV_RULE_ROWS(AV_MAX_TOP_P, m) * sizeof *scratch); /* the rule's */
    if (!rows || !acc_s || !cfg_of || !all || !scratch) {
        free(rows), free(acc_s), free(cfg_of), free(all), free(scratch);
        return av__fail(AV_ENOMEM, "tuning scratch");
    }
    nc = 0;
    for (size_t g = 0; g < c->n_cfg; g++)
        if (c->cfg[g].ki == ki)
            cfg_of[nc++] = g;
    for (size_t d = 0; d < nka; d++)
        for (uint32_t g = 0; g < AV_TUNE_N_NORMS; g++)
            av__tune_rows(tab, c->t.n_kappa ? c->t.kappa[d] : 0.0, g == 1, k,
                          rows + (d * AV_TUNE_N_NORMS + g) * k * 2 * m);
    /* single-model means on the fold: the cost scale of the AUC */
    double ms_cost[AV_MAX_MODELS] = {0}, ms_n[AV_MAX_MODELS] = {0};
    uint32_t idx[AV_MAX_MEMBERS][AV_MAX_TOP_P];
    double acc[AV_MAX_MODELS];
    av_prepared qr;
    int rc = AV_OK;
    for (size_t row = 0; row < c->v.n && rc == AV_OK; row++) {
        if (c->fold[row] != fold)
            continue;
        const float *sc = c->v.scores + row * m, *co = c->v.costs + row * m;
        for (size_t i = 0; i < m; i++)
            if (!isnan(sc[i]) && !isnan(co[i])) {
                ms_cost[i] += (double)co[i];
                ms_n[i] += 1.0;
                c->single_sum[i] += (double)sc[i];
                c->single_n[i] += 1.0;
            }
        /* the rows are normalised: the similarities to every cluster, then each member's pmax
           nearest (as av__router_nearest selects them; most similar first, ties to the lower
           index) */
        av__index_sims(&r->ix, c->v.X + row * c->v.dim, all);
        for (size_t b = 0; b < nb; b++) {
            av__top_p(all + b * kb, kb, pmax, idx[b]);
            for (size_t t = 0; t < pmax; t++)
                idx[b][t] += (uint32_t)(b * kb);
        }
        for (size_t e = 0; e < nc; e++) {
            /* the candidate's clusters: its p nearest in each of its members (the first members
               of the fold router), decided at every alpha by the rule, as av_route_ex would */
            const tune_cfg *g = &c->cfg[cfg_of[e]];
            uint32_t cidx[AV_MAX_TOP_P];
            float csim[AV_MAX_TOP_P];
            for (size_t b = 0; b < g->members; b++)
                for (size_t t = 0; t < g->p; t++) {
                    cidx[b * g->p + t] = idx[b][t];
                    csim[b * g->p + t] = all[idx[b][t]];
                }
            av_settings st;
            av__settings_default(&r->est, g->p, &st);
            st.weighting = g->temp > 0.0f ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_HARD;
            st.temperature = (double)g->temp;
            st.kappa = c->t.n_kappa ? c->t.kappa[g->kpi] : 0.0;
            st.norm = g->global ? AV_NORMALISE_GLOBAL : AV_NORMALISE_CLUSTER;
            st.guard = 0;
            av__rule_prepare(tab, &st, g->members, cidx, csim,
                             rows + (g->kpi * AV_TUNE_N_NORMS + g->global) * k * 2 * m, scratch,
                             &qr);
            double *as = acc_s + e * na * 3;
            for (size_t a = 0; a < na; a++) {
                uint32_t guarded;
                int32_t best = av__rule_decide(&qr, &st, c->alphas[a], acc, &guarded);
                if (isnan(sc[best]) || isnan(co[best]))
                    continue;
                as[3 * a] += (double)sc[best];
                as[3 * a + 1] += (double)co[best];
                as[3 * a + 2] += 1.0;
            }
        }
    }
    double max_cost = 0.0;
    for (size_t i = 0; i < m; i++)
        if (ms_n[i] > 0.0)
            max_cost = fmax(max_cost, ms_cost[i] / ms_n[i]);
    double xs[AV_TUNE_MAX_ALPHAS], ys[AV_TUNE_MAX_ALPHAS];
    for (size_t e = 0; rc == AV_OK && e < nc; e++) {
        const double *as = acc_s + e * na * 3;
        for (size_t a = 0; a < na; a++) {
            xs[a] = as[3 * a + 2] > 0.0 ? as[3 * a + 1] / as[3 * a + 2] : NAN;
            ys[a] = as[3 * a + 2] > 0.0 ? as[3 * a] / as[3 * a + 2] : NAN;
        }
        double auc = av__step_auc(xs, ys, na, max_cost);
        c->cfg[cfg_of[e]].auc_sum += isnan(auc) ? 0.0 : auc;
        c->cfg[cfg_of[e]].top_sum += as[3 * (na - 1)];
        c->cfg[cfg_of[e]].top_n += as[3 * (na - 1) + 2];
    }
    free(rows), free(acc_s), free(cfg_of), free(all), free(scratch);
    return rc;
}

static int set_meta_f(av_router *r, const char *key, const char *fmt, double v)
{
    return av__set_meta_number(r, key, fmt, v);
}

int av__builder_fit_tuned(av_builder *b, const av_fit_options *fo, av_router **out)
{
    tune_ctx c;
    memset(&c, 0, sizeof c);
    c.fo = fo;
    av__builder_view(b, &c.v);
    int rc = read_tune(fo->tune, &c.t);
    if (rc)
        return rc;
    if (c.v.n < 2 * (size_t)c.t.n_folds)
        return av__fail(AV_EEMPTY, "%zu rows for %u folds", c.v.n, c.t.n_folds);
    if ((rc = make_configs(&c)) != AV_OK || (rc = assign_folds(&c)) != AV_OK)
        goto done;
    if (!(c.alphas = malloc(c.t.n_alphas * sizeof(double)))) {
        rc = av__fail(AV_ENOMEM, "alpha grid");
        goto done;
    }
    for (size_t a = 0; a < c.t.n_alphas; a++) /* rounded to float as av_route's parameter is */
        c.alphas[a] = (double)(float)((double)a / (double)(c.t.n_alphas - 1));
    size_t nk = c.t.n_n_clusters ? c.t.n_n_clusters : 1;
    for (uint32_t f = 0; f < c.t.n_folds && rc == AV_OK; f++)
        for (size_t ki = 0; ki < nk && rc == AV_OK; ki++) {
            uint32_t k = c.t.n_n_clusters ? c.t.n_clusters[ki] : fo->n_clusters;
            bool used = false;
            for (size_t g = 0; g < c.n_cfg; g++)
                used |= c.cfg[g].ki == ki;
            if (!used)
                continue;
            av_router *r = NULL;
            if ((rc = fit_subset(&c, f, k, c.t.n_init, &r)) != AV_OK) {
                rc = av__fail_context(rc, "tuning fold %u, n_clusters %u", f, k);
                break;
            }
            rc = eval_fold_k(&c, f, ki, r);
            av_router_free(r);
        }
    if (rc)
        goto done;
    /* The best AUC among the candidates whose held-out score at the top of the sweep is not below
       the best single model's held-out score; if none is, the best AUC overall with the guard on,
       so that the router does not fall below the best single model where its estimates do not
       say otherwise. */
    double single_best = -INFINITY;
    for (size_t i = 0; i < c.v.m; i++)
        if (c.single_n[i] > 0.0)
            single_best = fmax(single_best, c.single_sum[i] / c.single_n[i]);
    size_t best = SIZE_MAX, best_any = 0;
    for (size_t g = 0; g < c.n_cfg; g++) {
        const tune_cfg *x = &c.cfg[g];
        if (x->auc_sum > c.cfg[best_any].auc_sum)
            best_any = g;
        bool not_below = x->top_n > 0.0 && x->top_sum / x->top_n >= single_best;
        if (not_below && (best == SIZE_MAX || x->auc_sum > c.cfg[best].auc_sum))
            best = g;
    }
    bool auto_guard = best == SIZE_MAX;
    if (auto_guard)
        best = best_any;
    const tune_cfg *w = &c.cfg[best];
    av_fit_options o = *fo;
    o.n_clusters = w->k;
    o.top_p = w->p;
    o.members = w->members;
    o.tune = NULL;
    av_router *r = NULL;
    if ((rc = av_builder_fit(b, &o, &r)) != AV_OK)
        goto done;
    av_estimator_options eo;
    av_estimator_options_init(&eo);
    eo.kappa = w->kappa;
    eo.weighting = w->temp > 0.0f ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_HARD;
    if (w->temp > 0.0f)
        eo.temperature = w->temp;
    eo.normalisation = w->global ? AV_NORMALISE_GLOBAL : AV_NORMALISE_CLUSTER;
    eo.guard = c.t.guard || auto_guard;
    eo.guard_margin = c.t.guard_margin;
    double mean_auc = w->auc_sum / (double)c.t.n_folds;
    rc = av_router_set_estimator(r, &eo);
    if (!rc) rc = set_meta_f(r, "tuned_n_clusters", "%.0f", w->k);
    if (!rc) rc = set_meta_f(r, "tuned_top_p", "%.0f", w->p);
    if (!rc) rc = set_meta_f(r, "tuned_members", "%.0f", w->members);
    if (!rc) rc = set_meta_f(r, "tuned_kappa", "%.17g", w->kappa);
    if (!rc) rc = av_router_set_meta(r, "tuned_weighting", w->temp > 0.0f ? "softmax" : "hard");
    if (!rc) rc = set_meta_f(r, "tuned_temperature", "%.9g", (double)w->temp);
    if (!rc) rc = av_router_set_meta(r, "tuned_normalisation", w->global ? "global" : "cluster");
    if (!rc) rc = set_meta_f(r, "tuned_cv_auc", "%.17g", mean_auc);
    if (!rc) rc = set_meta_f(r, "tuned_folds", "%.0f", c.t.n_folds);
    if (!rc) rc = set_meta_f(r, "tuned_candidates", "%.0f", (double)c.n_cfg);
    double top = w->top_n > 0.0 ? w->top_sum / w->top_n : 0.0;
    if (!rc) rc = set_meta_f(r, "tuned_cv_top_score", "%.17g", top);
    if (!rc) rc = set_meta_f(r, "tuned_cv_best_single", "%.17g", single_best);
    const char *guard_why = c.t.guard ? "requested" : auto_guard ? "auto" : "off";
    if (!rc) rc = av_router_set_meta(r, "tuned_guard", guard_why);
    if (rc) {
        av_router_free(r);
        goto done;
    }
    *out = r; /* the options are the caller's and read-only: the AUC is in tuned_cv_auc */
done:
    free(c.cfg);
    free(c.fold);
    free(c.alphas);
    return rc;
}
