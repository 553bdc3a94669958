/* Cross-validated choice of n_clusters, ensemble size, top_p, kappa, cluster weighting and
   normalisation (av_fit_options.tune). The builder's rows are split into n_folds folds by a seeded
   shuffle; for every fold and every candidate n_clusters a router (an ensemble of the largest
   candidate size) is fitted on the other folds, and every (members, top_p, kappa, weighting,
   normalisation) candidate is scored on the held-out fold by the evaluator's criterion: the area
   under the accuracy-cost curve of an alpha sweep (av__step_auc, costs over the largest
   single-model mean cost), or by the held-out score at alpha 1, or by the cost saved at a target
   score. A candidate competes only if it beats the best single model honestly: its held-out score
   at the top of the sweep (alpha 1) minus the best single model's, paired by fold, is positive by
   more than its standard error across the folds. The best competing candidate is fitted on all
   rows; when none competes, routing is not shown to help on these data, and the best candidate
   overall is fitted with safety +inf: it routes every query to the best single model for its
   alpha. Each held-out query is routed once per fold and n_clusters and prepared once per
   candidate structure; candidates differing only in the safety level share that preparation.
   On many rows (av_tune_options.halving) successive halving comes first: rungs of nested
   subsamples of the shuffled rows, each scoring its candidates by the same cross-validation and
   keeping the best 1/eta of them and of the n_clusters values for the next, eta times larger;
   the last rung, on all rows, is the tuning above on the survivors (plan_rungs, rank_order).
   With shared clustering (av_tune_options.shared_clustering, automatic on many rows) each rung
   fits k-means once per n_clusters on all its rows, and each fold's router is that clustering
   with the statistics of the fold's training rows only (run_rung_shared); a last rung with one
   n_clusters fits the final fit's clustering, which the final router reuses (reuse_final). */
#include "train/train.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AV_TUNE_DEFAULT_FOLDS 5u
#define AV_TUNE_DEFAULT_ALPHAS 21u
#define AV_TUNE_DEFAULT_N_INIT 2u
#define AV_TUNE_MAX_ALPHAS 1001u
#define AV_TUNE_MAX_CANDIDATES 4096u
#define AV_TUNE_MAX_FOLDS 64u
/* A candidate whose clusters would hold fewer training rows than this on average (over the rows a
   fold router is fitted on) is scored but cannot win: its cluster means rest on one or two
   outcomes, and the best of many such candidates looks good on the folds by chance (on 420
   training rows, k = 120 to 200 won and fell 2.5 to 6.7 points below the best single model). */
#define AV_TUNE_MIN_CLUSTER_ROWS 10u
/* Normalisations compared: the paper's (index 0) and, if asked, the global one (index 1). */
#define AV_TUNE_N_NORMS 2u
/* Successive halving: eta of the automatic setting; rungs are bounded by the rows (eta >= 2). */
#define AV_TUNE_AUTO_ETA 3u
#define AV_TUNE_MAX_RUNGS 64u

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
/* Safe deviation: off (the rule), or one or two standard errors of the gain over the best single
   model (docs/EVALUATION.md, "Safe routing"). */
static const double GRID_SAFETY[] = {0, 1, 2};

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
    if (opts->struct_size >= offsetof(av_tune_options, n_safety) + sizeof(size_t)) {
        opts->safety = GRID_SAFETY;
        opts->n_safety = sizeof GRID_SAFETY / sizeof GRID_SAFETY[0];
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
    double safety;    /* safe deviation level */
    size_t group;     /* candidates of one group differ only in safety (consecutive) */
    bool too_fine;    /* fewer than AV_TUNE_MIN_CLUSTER_ROWS rows per cluster: cannot win */
    bool alive;       /* still scored (successive halving drops candidates between rungs) */
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
    size_t fits_done, scores_done, n_scores; /* progress (av_tune_progress) */
    /* Successive halving: rung r draws its folds from the rows whose position in the seeded
       shuffle is below rung_rows[r] (nested subsamples, each fold's share balanced); the last
       rung holds every row. */
    uint32_t *pos;  /* n: the row's position in the shuffle */
    /* Shared clustering (av_tune_options.shared_clustering): one clustering per rung and k, on
       all the rung's rows; lab (members x n, member-major) holds each rung row's cluster in each
       member (-1 for the rows outside the rung), keep the labels of one fold's training rows. */
    bool shared;
    int32_t *lab, *keep;
    /* Shared clustering, a last rung with one k: its clustering was fitted on the builder's rows
       with the final fit's options (av_builder_fit's router but top_p 1); final_st keeps its
       statistics (counts, score sums, cost sums: 3 x k x m) while the folds overwrite them. */
    av_builder *b;
    av_router *final_r;
    size_t final_ki;
    double *final_st;
    uint32_t eta;   /* 1: no halving */
    uint32_t n_rungs, rung;
    size_t rung_rows[AV_TUNE_MAX_RUNGS];
    size_t rung_alive[AV_TUNE_MAX_RUNGS]; /* candidates scored per rung */
    /* time left: seconds per unit of k-means work (rows x k x members x restarts) */
    double t0; /* av__seconds() when the tuning started */
    double work_done;
    /* Per fold: every single model's held-out score sum, cost sum and rows (each fold counted
       once per k, which leaves the means unchanged), and every candidate's sweep: per alpha the
       held-out score sum, cost sum and rows. */
    double *single; /* n_folds x m x 3 */
    double *sweep;  /* n_cfg x n_folds x n_alphas x 3 */
} tune_ctx;

static int read_tune(const av_tune_options *in, av_tune_options *t)
{
    av_tune_options_init(t);
    int rc = av__struct_in(t, sizeof *t, in, AV_tune_options_MIN_SIZE_, "av_tune_options");
    if (rc)
        return rc;
    /* reserved0 lies in the 1.1 layout's padding: for a caller of that size it is padding (any
       bytes), a member only for a caller that knows the members appended in 1.2 */
    if (in->struct_size <= offsetof(av_tune_options, halving))
        t->reserved0 = 0;
    if (t->n_folds == 0)
        t->n_folds = AV_TUNE_DEFAULT_FOLDS;
    if (t->n_alphas == 0)
        t->n_alphas = AV_TUNE_DEFAULT_ALPHAS;
    if (t->n_init == 0)
        t->n_init = AV_TUNE_DEFAULT_N_INIT;
    if (t->n_folds < 2 || t->n_folds > AV_TUNE_MAX_FOLDS || t->n_alphas < 2 ||
        t->n_alphas > AV_TUNE_MAX_ALPHAS)
        return av__fail(AV_EINVAL, "n_folds=%u (2..%u), n_alphas=%u (2..%u)", t->n_folds,
                        AV_TUNE_MAX_FOLDS, t->n_alphas, AV_TUNE_MAX_ALPHAS);
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
    if (t->n_safety && !t->safety)
        return av__fail(AV_EINVAL, "n_safety is set but safety is NULL");
    for (size_t i = 0; i < t->n_safety; i++)
        if (!(t->safety[i] >= 0.0))
            return av__fail(AV_EINVAL, "safety candidate %g (>= 0)", t->safety[i]);
    if (t->objective > AV_TUNE_COSTSAVE)
        return av__fail(AV_EINVAL, "objective=%u (AV_TUNE_AUC, AV_TUNE_ACCURACY or "
                                   "AV_TUNE_COSTSAVE)", t->objective);
    if (t->target_fraction == 0.0)
        t->target_fraction = 1.0;
    if (!(t->target_fraction > 0.0) || !isfinite(t->target_fraction))
        return av__fail(AV_EINVAL, "target_fraction=%g (> 0)", t->target_fraction);
    if (t->reserved0 != 0 || t->reserved1 != 0)
        return av__fail(AV_EINVAL, "av_tune_options.reserved%d=%u: must be 0", t->reserved0 ? 0 : 1,
                        t->reserved0 ? t->reserved0 : t->reserved1);
    if (t->shared_clustering > 2u || t->reserved2 != 0)
        return av__fail(AV_EINVAL, "shared_clustering=%u (0 automatic, 1 off, 2 on), "
                                   "reserved2=%u (must be 0)", t->shared_clustering, t->reserved2);
    if (t->halving > AV_TUNE_MAX_ETA)
        return av__fail(AV_EINVAL, "halving=%u (0 automatic, 1 off, or eta 2..%u)", t->halving,
                        AV_TUNE_MAX_ETA);
    if (t->halving_min_rows != 0 && t->halving_min_rows < 2 * (size_t)t->n_folds)
        return av__fail(AV_EINVAL, "halving_min_rows=%zu (0 for the default %u, or at least "
                                   "2 x n_folds = %u)", t->halving_min_rows,
                        AV_TUNE_HALVING_MIN_ROWS, 2 * t->n_folds);
    return AV_OK;
}

/* Every combination, simplest first (so that equal objectives keep the simpler candidate): by k,
   then members, then top_p, then kappa, then hard before softmax, then the paper's normalisation
   before the global one, then the safety levels in the given order. Combinations with top_p > k
   or members * top_p > AV_MAX_TOP_P are skipped. */
static int make_configs(tune_ctx *c)
{
    const av_tune_options *t = &c->t;
    size_t nk = t->n_n_clusters ? t->n_n_clusters : 1, np = t->n_top_p ? t->n_top_p : 1;
    size_t nka = t->n_kappa ? t->n_kappa : 1, nw = 1 + t->n_temperatures;
    size_t nn = t->global_normalisation ? 2 : 1, nm = t->n_members ? t->n_members : 1;
    size_t ns = t->n_safety ? t->n_safety : 1;
    size_t total = nk * nm * np * nka * nw * nn * ns;
    /* the rows a fold router is fitted on: all but the largest fold (fold of position i is
       i mod n_folds); candidates with more clusters are skipped, not fatal */
    size_t n_fit = c->v.n - (c->v.n + t->n_folds - 1) / t->n_folds, n_small = 0;
    if (total > AV_TUNE_MAX_CANDIDATES)
        return av__fail(AV_ELIMIT, "%zu candidates (at most %u)", total, AV_TUNE_MAX_CANDIDATES);
    if (!(c->cfg = calloc(total, sizeof *c->cfg)))
        return av__fail(AV_ENOMEM, "tuning candidates");
    /* one index over the product, the last list varying fastest */
    for (size_t x = 0; x < total; x++) {
        size_t si = x % ns, e = x / ns;
        size_t z = e % nn, w = e / nn % nw, d = e / (nn * nw) % nka, b = e / (nn * nw * nka) % np;
        size_t mi = e / (nn * nw * nka * np) % nm, a = e / (nn * nw * nka * np * nm);
        tune_cfg g = {0};
        g.safety = t->n_safety ? t->safety[si] : 0.0;
        g.group = e;
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
        g.too_fine = (size_t)g.k * AV_TUNE_MIN_CLUSTER_ROWS > n_fit;
        g.alive = true;
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
    if (!(c->fold = malloc(n * sizeof *c->fold)) || !(c->pos = malloc(n * sizeof *c->pos)) ||
        !perm) {
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
    for (size_t i = 0; i < n; i++) /* the inverse permutation */
        c->pos[perm[i]] = (uint32_t)i;
    free(perm);
    return AV_OK;
}

/* Whether row i is in the current rung's rows (every row in the last rung). */
static bool in_rung(const tune_ctx *c, size_t i)
{
    return c->pos[i] < c->rung_rows[c->rung];
}

/* The rows a fold router of a rung with `rows` rows is fitted on: all but the largest fold (the
   row at position i is in fold i mod n_folds). */
static size_t fit_rows(const tune_ctx *c, size_t rows)
{
    return rows - (rows + c->t.n_folds - 1) / c->t.n_folds;
}

/* The rows a rung's clusterings are fitted on: every rung row with shared clustering, else the
   fold routers' rows. */
static size_t cluster_rows(const tune_ctx *c, size_t rows)
{
    return c->shared ? rows : fit_rows(c, rows);
}

/* The ensemble size the fold routers of candidate k (index ki) fit: without halving the largest
   candidate size (as since 0.2); with halving the largest among the candidates of that k still
   scored. Members are shared by ensembles of every size (builder.c), so a candidate's members
   are the same clusterings either way. */
static uint32_t fold_members(const tune_ctx *c, size_t ki)
{
    if (c->eta <= 1)
        return c->max_members;
    uint32_t mb = 0;
    for (size_t g = 0; g < c->n_cfg; g++)
        if (c->cfg[g].alive && c->cfg[g].ki == ki && c->cfg[g].members > mb)
            mb = c->cfg[g].members;
    return mb;
}

/* Whether candidate k (index ki) has candidates still scored. */
static bool k_alive_any(const tune_ctx *c, size_t ki)
{
    for (size_t g = 0; g < c->n_cfg; g++)
        if (c->cfg[g].alive && c->cfg[g].ki == ki)
            return true;
    return false;
}

/* A router fitted on the rung's rows outside fold `fold` (UINT32_MAX: every rung row, the shared
   clustering). */
static int fit_subset(const tune_ctx *c, uint32_t fold, uint32_t k, uint32_t members,
                      uint32_t n_init, av_router **out)
{
    av_builder *b = NULL;
    int rc = av_builder_new(&b, c->v.dim, c->v.m, c->v.names);
    for (size_t i = 0; rc == AV_OK && i < c->v.n; i++)
        if (c->fold[i] != fold && in_rung(c, i))
            rc = av_builder_add(b, c->v.X + i * c->v.dim, c->v.dim, c->v.scores + i * c->v.m,
                                c->v.costs + i * c->v.m);
    if (rc == AV_OK) {
        av_fit_options o = *c->fo;
        o.n_clusters = k;
        o.top_p = 1;
        o.members = members;
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

/* Score the candidates of k (index ki) still alive on the held-out fold of the current rung;
   first_k: this is the first k fitted on this fold in this rung (which counts the single models'
   held-out outcomes). */
static int eval_fold_k(tune_ctx *c, uint32_t fold, size_t ki, bool first_k, const av_router *r)
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
        nc += c->cfg[g].ki == ki && c->cfg[g].alive;
    bool any_safety = false;
    for (size_t g = 0; g < c->n_cfg; g++)
        any_safety |= c->cfg[g].ki == ki && c->cfg[g].alive && c->cfg[g].safety > 0.0;
    size_t *cfg_of = malloc(nc * sizeof(size_t));
    float *all = malloc(k * sizeof(float));
    double *scratch = malloc(AV_RULE_ROWS(AV_MAX_TOP_P, m) * sizeof *scratch); /* the rule's */
    if (!rows || !cfg_of || !all || !scratch) {
        free(rows), free(cfg_of), free(all), free(scratch);
        return av__fail(AV_ENOMEM, "tuning scratch");
    }
    nc = 0;
    for (size_t g = 0; g < c->n_cfg; g++)
        if (c->cfg[g].ki == ki && c->cfg[g].alive)
            cfg_of[nc++] = g;
    for (size_t d = 0; d < nka; d++)
        for (uint32_t g = 0; g < AV_TUNE_N_NORMS; g++)
            av__tune_rows(tab, c->t.n_kappa ? c->t.kappa[d] : 0.0, g == 1, k,
                          rows + (d * AV_TUNE_N_NORMS + g) * k * 2 * m);
    double *single = c->single + (size_t)fold * m * 3;
    uint32_t idx[AV_MAX_MEMBERS][AV_MAX_TOP_P];
    double acc[AV_MAX_MODELS];
    av_prepared qr;
    int rc = AV_OK;
    for (size_t row = 0; row < c->v.n && rc == AV_OK; row++) {
        if (c->fold[row] != fold || !in_rung(c, row))
            continue;
        const float *sc = c->v.scores + row * m, *co = c->v.costs + row * m;
        for (size_t i = 0; i < m && first_k; i++)
            if (!isnan(sc[i]) && !isnan(co[i])) {
                single[3 * i] += (double)sc[i];
                single[3 * i + 1] += (double)co[i];
                single[3 * i + 2] += 1.0;
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
               of the fold router), decided at every alpha by the rule, as av_route_ex would;
               prepared once per group (candidates that differ only in safety) */
            const tune_cfg *g = &c->cfg[cfg_of[e]];
            bool prepared = e > 0 && c->cfg[cfg_of[e - 1]].group == g->group;
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
            st.safety = g->safety;
            /* the safety rule needs the expected values and their errors: the full preparation
               (whose rows equal the cache's) for every candidate of a k that has such levels */
            if (!prepared)
                av__rule_prepare(tab, &st, g->members, cidx, csim,
                                 any_safety ? NULL
                                            : rows + (g->kpi * AV_TUNE_N_NORMS + g->global) *
                                                         k * 2 * m,
                                 scratch, &qr);
            double *as = c->sweep + (cfg_of[e] * c->t.n_folds + fold) * na * 3;
            for (size_t a = 0; a < na; a++) {
                av_verdict vd = {0};
                int32_t best = av__rule_decide(&qr, &st, c->alphas[a], acc, &vd);
                if (isnan(sc[best]) || isnan(co[best]))
                    continue;
                as[3 * a] += (double)sc[best];
                as[3 * a + 1] += (double)co[best];
                as[3 * a + 2] += 1.0;
            }
        }
    }
    free(rows), free(cfg_of), free(all), free(scratch);
    return rc;
}

static const char *const OBJECTIVE_NAME[] = {"auc", "accuracy", "costsave"};

/* Routing counts as shown to help when the winner does better than the single models alone,
   chosen among at random (their upper concave hull), on every fold and on average by more than
   this many standard errors of the difference, paired by fold. */
#define AV_TUNE_QUALIFY_SE 2.0
/* A fold where no alpha reaches the cost-saving target counts as this saving. */
#define AV_TUNE_UNREACHED_SAVE (-1.0)

typedef struct tune_choice {
    size_t best;     /* the winner */
    bool fallback;   /* routing was not shown to help: the best single model per alpha instead */
    double objective, gain, gain_se, auc, top, single;
    double fold_diff[AV_TUNE_MAX_FOLDS]; /* the test's difference on each fold */
} tune_choice;

/* What one fold says of a set of points (mean cost xs, mean score ys; n of them): the objective
   that ranks candidates (the step AUC over max_cost, the score of the last point, or the cost
   saved at target_fraction of the best single model's score sf, whose cost is cf), and the value
   the honest test compares (the same measured on the points' upper concave hull, which for the
   single models is what choosing among them at random reaches). */
typedef struct fold_view {
    double max_cost, sf, cf;
} fold_view;

static double saving(double cheapest, double cf)
{
    return isfinite(cheapest) && cf > 0.0 ? 1.0 - cheapest / cf : AV_TUNE_UNREACHED_SAVE;
}

static void fold_values(const tune_ctx *c, const double *xs, const double *ys, size_t n,
                        const fold_view *fv, double *rank, double *test, double *auc)
{
    *auc = av__step_auc(xs, ys, n, fv->max_cost);
    *auc = isnan(*auc) ? 0.0 : *auc;
    double target = c->t.target_fraction * fv->sf;
    switch (c->t.objective) {
    case AV_TUNE_AUC:
        *rank = *auc;
        *test = av__hull_auc(xs, ys, n, fv->max_cost);
        break;
    case AV_TUNE_ACCURACY:
        *rank = *test = isnan(ys[n - 1]) ? 0.0 : ys[n - 1];
        break;
    default: {
        double cheapest = INFINITY;
        for (size_t a = 0; a < n; a++)
            if (ys[a] >= target)
                cheapest = fmin(cheapest, xs[a]);
        *rank = saving(cheapest, fv->cf);
        *test = saving(av__hull_cost_at(xs, ys, n, target), fv->cf);
        break;
    }
    }
}

/* Mean and standard error over n folds of the paired differences a[f] - b[f]. */
static void paired(const double *a, const double *b, size_t n, double *mean, double *se)
{
    double m = 0.0, v = 0.0;
    for (size_t f = 0; f < n; f++)
        m += (a[f] - b[f]) / (double)n;
    for (size_t f = 0; f < n; f++)
        v += (a[f] - b[f] - m) * (a[f] - b[f] - m) / (double)(n - 1);
    *mean = m;
    *se = sqrt(v / (double)n);
}

/* Candidate g's points on fold f: per alpha the mean cost xs and mean score ys of the held-out
   rows whose routed model has an outcome (NaN where none has). */
static const double *sweep_points(const tune_ctx *c, size_t g, size_t f, double *xs, double *ys)
{
    size_t na = c->t.n_alphas;
    const double *as = c->sweep + (g * c->t.n_folds + f) * na * 3;
    for (size_t a = 0; a < na; a++) {
        xs[a] = as[3 * a + 2] > 0.0 ? as[3 * a + 1] / as[3 * a + 2] : NAN;
        ys[a] = as[3 * a + 2] > 0.0 ? as[3 * a] / as[3 * a + 2] : NAN;
    }
    return as;
}

/* Successive halving's cut: the candidates alive, ordered by the choice the folds would make now
   (pick: the one-standard-error rule's candidate, if any), then the eligible ones before the
   others, each by decreasing mean objective (ties: the simpler, first in the list). The fits are
   per k, and the candidates of one k share them, so the cut applies to both: the best
   ceil(1/eta) of the k values alive stay (a k ranks where its best candidate does), and of their
   candidates the first `keep` (fewer if they have fewer) stay alive. */
typedef struct rank_key {
    size_t g;
    int cls; /* 0 the pick, 1 eligible, 2 not */
    double obj;
} rank_key;

static int rank_cmp(const void *a, const void *b)
{
    const rank_key *x = a, *y = b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->obj != y->obj)
        return x->obj > y->obj ? -1 : 1;
    return x->g < y->g ? -1 : x->g > y->g;
}

static int rank_order(tune_ctx *c, const double *obj, const bool *eligible, size_t pick,
                      size_t keep)
{
    rank_key *key = malloc(c->n_cfg * sizeof *key);
    if (!key)
        return av__fail(AV_ENOMEM, "tuning ranks");
    size_t n = 0;
    for (size_t g = 0; g < c->n_cfg; g++)
        if (c->cfg[g].alive)
            key[n++] = (rank_key){g, g == pick ? 0 : eligible[g] ? 1 : 2, obj[g]};
    qsort(key, n, sizeof *key, rank_cmp);
    size_t nk = c->t.n_n_clusters ? c->t.n_n_clusters : 1, k_alive = 0, k_keep, kept = 0;
    bool *k_kept = calloc(nk, sizeof *k_kept);
    if (!k_kept) {
        free(key);
        return av__fail(AV_ENOMEM, "tuning ranks");
    }
    for (size_t ki = 0; ki < nk; ki++)
        k_alive += k_alive_any(c, ki);
    k_keep = (k_alive + c->eta - 1) / c->eta;
    for (size_t i = 0, got = 0; i < n && got < k_keep; i++)
        if (!k_kept[c->cfg[key[i].g].ki]) {
            k_kept[c->cfg[key[i].g].ki] = true;
            got++;
        }
    for (size_t i = 0; i < n; i++) {
        tune_cfg *g = &c->cfg[key[i].g];
        g->alive = k_kept[g->ki] && kept < keep;
        kept += g->alive;
    }
    free(k_kept);
    free(key);
    /* the rungs to come: this one's survivors, then ceil(1/eta) of the one before (at most) */
    c->rung_alive[c->rung + 1] = kept;
    for (uint32_t r = c->rung + 2; r < c->n_rungs; r++)
        c->rung_alive[r] = (c->rung_alive[r - 1] + c->eta - 1) / c->eta;
    c->n_scores = 0;
    for (uint32_t r = 0; r < c->n_rungs; r++)
        c->n_scores += c->rung_alive[r] * c->t.n_folds;
    return AV_OK;
}

/* The winner: the best mean objective over the folds (ties: the simpler candidate, first in the
   list) among the candidates whose held-out score at the top of the sweep (alpha 1) is not below
   the best single model's (b: the best held-out mean score over all folds; ties: lower mean cost,
   then lower index). Then the honest test: on every fold, its value minus what the single models
   reach on their own (the test value of fold_values), and the mean of those differences must
   exceed AV_TUNE_QUALIFY_SE standard errors; otherwise (or when no candidate is eligible) the
   router falls back to the best single model per alpha. Only the candidates still alive take
   part. With keep > 0 (a rung of successive halving before the last) it chooses nothing and
   keeps alive the `keep` best instead (rank_order). */
static int choose(tune_ctx *c, tune_choice *ch, size_t keep)
{
    size_t m = c->v.m, nf = c->t.n_folds, na = c->t.n_alphas;
    double sum[AV_MAX_MODELS] = {0}, cost[AV_MAX_MODELS] = {0}, n[AV_MAX_MODELS] = {0};
    for (size_t f = 0; f < nf; f++)
        for (size_t i = 0; i < m; i++) {
            const double *x = c->single + (f * m + i) * 3;
            sum[i] += x[0], cost[i] += x[1], n[i] += x[2];
        }
    size_t b = SIZE_MAX;
    for (size_t i = 0; i < m; i++) {
        if (!(n[i] > 0.0))
            continue;
        double si = sum[i] / n[i], ci = cost[i] / n[i];
        if (b == SIZE_MAX || si > sum[b] / n[b] || (si == sum[b] / n[b] && ci < cost[b] / n[b]))
            b = i;
    }
    if (b == SIZE_MAX)
        return av__fail(AV_EEMPTY, "no model has an outcome in the tuning folds");
    memset(ch, 0, sizeof *ch);
    ch->single = sum[b] / n[b];
    /* per fold: the cost scale, the best single model, what the single models reach */
    fold_view fv[AV_TUNE_MAX_FOLDS];
    double base[AV_TUNE_MAX_FOLDS], xs[AV_TUNE_MAX_ALPHAS], ys[AV_TUNE_MAX_ALPHAS];
    for (size_t f = 0; f < nf; f++) {
        size_t k = 0;
        fv[f].max_cost = 0.0;
        for (size_t i = 0; i < m; i++) {
            const double *x = c->single + (f * m + i) * 3;
            if (!(x[2] > 0.0))
                continue;
            xs[k] = x[1] / x[2];
            ys[k++] = x[0] / x[2];
            fv[f].max_cost = fmax(fv[f].max_cost, x[1] / x[2]);
        }
        const double *sb = c->single + (f * m + b) * 3;
        fv[f].sf = sb[2] > 0.0 ? sb[0] / sb[2] : 0.0;
        fv[f].cf = sb[2] > 0.0 ? sb[1] / sb[2] : 0.0;
        double rank, auc;
        fold_values(c, xs, ys, k, &fv[f], &rank, &base[f], &auc);
        if (c->t.objective == AV_TUNE_ACCURACY)
            base[f] = fv[f].sf;
    }
    /* every candidate's per-fold objective and test difference, its mean objective and AUC, and
       whether it is eligible */
    size_t nc = c->n_cfg;
    double *rank = malloc(nc * nf * sizeof *rank), *diff = malloc(nc * nf * sizeof *diff);
    double *obj = malloc(nc * sizeof *obj), *auc = malloc(nc * sizeof *auc);
    bool *eligible = malloc(nc * sizeof *eligible);
    if (!rank || !diff || !obj || !auc || !eligible) {
        free(rank), free(diff), free(obj), free(auc), free(eligible);
        return av__fail(AV_ENOMEM, "tuning choice");
    }
    size_t best = SIZE_MAX;
    for (size_t g = 0; g < nc; g++) {
        double top_gain = 0.0;
        obj[g] = auc[g] = 0.0;
        eligible[g] = false;
        if (!c->cfg[g].alive)
            continue;
        for (size_t f = 0; f < nf; f++) {
            sweep_points(c, g, f, xs, ys);
            double test, fa;
            fold_values(c, xs, ys, na, &fv[f], &rank[g * nf + f], &test, &fa);
            diff[g * nf + f] = test - base[f];
            obj[g] += rank[g * nf + f] / (double)nf;
            auc[g] += fa / (double)nf;
            top_gain += ((isnan(ys[na - 1]) ? 0.0 : ys[na - 1]) - fv[f].sf) / (double)nf;
        }
        eligible[g] = top_gain >= 0.0 && !c->cfg[g].too_fine;
        if (eligible[g] && (best == SIZE_MAX || obj[g] > obj[best]))
            best = g;
    }
    /* The one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani and Friedman, The
       Elements of Statistical Learning, 7.10), toward safety: among the eligible candidates whose
       objective is below the best one's by at most one standard error of their paired difference
       across the folds, the one with the highest safety level (then the better objective, then the
       simpler). A difference the folds cannot tell from noise is no reason to deviate more. */
    size_t pick = best;
    for (size_t g = 0; best != SIZE_MAX && g < nc; g++) {
        if (!eligible[g] || g == best)
            continue; /* (candidates no longer alive are not eligible) */
        double mean, se;
        paired(rank + best * nf, rank + g * nf, nf, &mean, &se);
        if (!(mean <= se))
            continue;
        double sg = c->cfg[g].safety, sp = c->cfg[pick].safety;
        if (sg > sp || (sg == sp && obj[g] > obj[pick]))
            pick = g;
    }
    if (keep > 0) {
        int rc = rank_order(c, obj, eligible, pick, keep);
        free(rank), free(diff), free(obj), free(auc), free(eligible);
        return rc;
    }
    bool found = pick != SIZE_MAX;
    if (found) {
        double top_sum = 0.0, top_n = 0.0;
        for (size_t f = 0; f < nf; f++) {
            const double *as = sweep_points(c, pick, f, xs, ys);
            top_sum += as[3 * (na - 1)];
            top_n += as[3 * (na - 1) + 2];
        }
        ch->best = pick;
        ch->objective = obj[pick];
        ch->auc = auc[pick];
        ch->top = top_n > 0.0 ? top_sum / top_n : 0.0;
        double zero[AV_TUNE_MAX_FOLDS] = {0};
        paired(diff + pick * nf, zero, nf, &ch->gain, &ch->gain_se);
        memcpy(ch->fold_diff, diff + pick * nf, nf * sizeof *diff);
    }
    free(rank), free(diff), free(obj), free(auc), free(eligible);
    /* the gain must hold on every fold too: the winner was picked as the best of many, whose
       fold differences are optimistic even without any signal (seen on embeddings shuffled
       across rows: 1 split in 5 passed the mean test alone) */
    bool every_fold = found;
    for (size_t f = 0; found && f < nf; f++)
        every_fold &= ch->fold_diff[f] > 0.0;
    ch->fallback = !every_fold || !(ch->gain > AV_TUNE_QUALIFY_SE * ch->gain_se);
    return AV_OK;
}

/* The k-means work of a fit: rows x k x members x restarts (the time of Lloyd's steps grows with
   each; the number of steps is taken as constant). */
static double fit_work(size_t rows, uint32_t k, uint32_t members, uint32_t n_init)
{
    return (double)rows * (double)k * (double)members * (double)(n_init ? n_init : 1u);
}

/* Lloyd iterations a full-batch restart is taken to run, to weigh SAMPLED's passes over every row
   (one iteration each, and the statistics pass) against its sample's restarts. */
#define AV_TUNE_RESTART_ITERS 50.0

/* The work of a fit of `rows` rows as av_builder_fit does it: full-batch (fit_work), or above
   AV_KMEANS_AUTO_MAX_ROWS (or when asked) SAMPLED: restarts on the sample (at most
   AV_KMEANS_SAMPLE_MAX_INIT) and the passes over every row. */
static double fit_cost(const tune_ctx *c, size_t rows, uint32_t k, uint32_t members,
                       uint32_t n_init)
{
    av_fit_options o = *c->fo;
    o.n_clusters = k;
    uint32_t alg, passes;
    size_t sample;
    av__kmeans_plan(&o, rows, &alg, &sample, &passes);
    if (alg != AV_KMEANS_SAMPLED)
        return fit_work(rows, k, members, n_init);
    uint32_t ni = n_init < AV_KMEANS_SAMPLE_MAX_INIT ? n_init : AV_KMEANS_SAMPLE_MAX_INIT;
    return fit_work(sample, k, members, ni) +
           fit_work(rows, k, members, 1) * (double)(passes + 1) / AV_TUNE_RESTART_ITERS;
}

static uint32_t k_of(const tune_ctx *c, size_t ki)
{
    return c->t.n_n_clusters ? c->t.n_clusters[ki] : c->fo->n_clusters;
}

/* Whether the final router of winner w reuses the last rung's clustering (reuse_final). */
static bool reusable(const tune_ctx *c, const tune_cfg *w)
{
    return c->final_r && w->ki == c->final_ki && w->members == c->final_r->ix.members;
}

typedef struct k_fit {
    uint32_t k, members;
} k_fit;

static int desc_k_fit(const void *a, const void *b)
{
    const k_fit *x = a, *y = b;
    double u = (double)x->k * x->members, v = (double)y->k * y->members;
    return u > v ? -1 : u < v;
}

/* The restarts of a rung's fits: the tuning's, but with shared clustering the final fit's in a
   last rung that fits one k (ks of them), whose clustering the final router reuses. */
static uint32_t rung_init(const tune_ctx *c, uint32_t rung, size_t ks)
{
    return c->shared && rung + 1 == c->n_rungs && ks == 1 ? c->fo->n_init : c->t.n_init;
}

/* The fits still to come and their work (fit_cost): the current rung's from (next_f, next_ki)
   on; those of each later rung, which fits ceil(1/eta) of the k values of the rung before,
   counted as the costliest of the k values alive now (an upper bound that falls as they are
   dropped); and the final fit (of the winner w when it is known, else of the costliest candidate
   alive), none when its clustering is the last rung's (shared clustering, one k there). */
static void remaining(const tune_ctx *c, uint32_t next_f, size_t next_ki, const tune_cfg *w,
                      size_t *fits, double *work)
{
    size_t nk = c->t.n_n_clusters ? c->t.n_n_clusters : 1, n_alive = 0;
    uint32_t nf = c->t.n_folds;
    *fits = 1;
    double last = 0.0;
    k_fit unit[AV_TUNE_MAX_CANDIDATES]; /* per k alive (nk <= that) */
    for (size_t g = 0; g < c->n_cfg; g++)
        if (c->cfg[g].alive)
            last = fmax(last, fit_cost(c, c->v.n, c->cfg[g].k, c->cfg[g].members, c->fo->n_init));
    if (w) {
        *work = reusable(c, w) ? 0.0 : fit_cost(c, c->v.n, w->k, w->members, c->fo->n_init);
        return;
    }
    for (size_t ki = 0; ki < nk && n_alive < AV_TUNE_MAX_CANDIDATES; ki++)
        if (k_alive_any(c, ki))
            unit[n_alive++] = (k_fit){k_of(c, ki), fold_members(c, ki)};
    size_t ks_last = n_alive; /* the k values of the last rung, at most */
    for (uint32_t r = c->rung + 1; r < c->n_rungs; r++)
        ks_last = (ks_last + c->eta - 1) / c->eta;
    *work = c->shared && ks_last == 1 ? 0.0 : last; /* (0: the last rung's clustering is it) */
    uint32_t ni = rung_init(c, c->rung, n_alive);
    for (size_t ki = 0, i = 0; ki < nk && i < n_alive; ki++) {
        if (!k_alive_any(c, ki))
            continue;
        /* folds left, or with shared clustering whether the k's one fit is still to come */
        uint32_t here = c->shared ? ki >= next_ki
                                  : next_f >= nf ? 0 : nf - next_f - (ki < next_ki);
        *fits += here;
        *work += here * fit_cost(c, cluster_rows(c, c->rung_rows[c->rung]), unit[i].k,
                                 unit[i].members, ni);
        i++;
    }
    qsort(unit, n_alive, sizeof *unit, desc_k_fit);
    size_t ks = n_alive, per_k = c->shared ? 1 : nf;
    for (uint32_t r = c->rung + 1; r < c->n_rungs; r++) {
        ks = (ks + c->eta - 1) / c->eta;
        *fits += per_k * ks;
        for (size_t i = 0; i < ks; i++)
            *work += per_k * fit_cost(c, cluster_rows(c, c->rung_rows[r]), unit[i].k,
                                      unit[i].members, rung_init(c, r, ks));
    }
}

static double seconds_since(const double *t0)
{
    return av__seconds() - *t0;
}

/* Tell the caller's progress callback, if any; its non-zero return cancels the tuning. The fit
   (fold, ki) is the next one to do (at FIT) or the one just scored (at SCORED); w the winner at
   FINAL. */
static int report(const tune_ctx *c, uint32_t stage, uint32_t fold, size_t ki, const tune_cfg *w)
{
    if (!c->t.progress)
        return AV_OK;
    uint32_t k = w ? w->k : k_of(c, ki);
    size_t left_fits;
    double left_work;
    if (stage == AV_TUNE_STAGE_SCORED) /* the next fit: this fold's next k, or the next fold */
        remaining(c, fold, ki + 1, NULL, &left_fits, &left_work);
    else
        remaining(c, fold, ki, w, &left_fits, &left_work);
    double elapsed = seconds_since(&c->t0);
    av_tune_progress p;
    memset(&p, 0, sizeof p);
    p.struct_size = (uint32_t)sizeof p;
    p.stage = stage;
    p.fold = fold;
    p.n_folds = c->t.n_folds;
    p.n_clusters = k;
    p.fits_done = c->fits_done;
    p.n_fits = c->fits_done + left_fits;
    p.scores_done = c->scores_done;
    p.n_scores = c->n_scores;
    p.n_candidates = c->n_cfg;
    p.rung = c->rung;
    p.n_rungs = c->n_rungs;
    p.rung_rows = c->rung_rows[c->rung];
    p.rung_candidates = c->rung_alive[c->rung];
    p.seconds_elapsed = elapsed;
    p.seconds_left = c->work_done > 0.0 ? elapsed / c->work_done * left_work : -1.0;
    if (c->t.progress(c->t.progress_user, &p) != 0)
        return av__fail(AV_ECANCELED, "tuning cancelled by the progress callback after %zu of %zu "
                                      "fits", c->fits_done, p.n_fits);
    return AV_OK;
}

/* The rungs of successive halving: eta (1: none), and rows and candidates per rung. Rung r of R
   (the last, R - 1, holds all n rows) holds ceil(n / eta^(R - 1 - r)) rows, and there are as
   many rungs as keep rung 0 at or above the least rows: halving_min_rows (default
   AV_TUNE_HALVING_MIN_ROWS), raised so that every candidate that can win (not too fine on all
   rows) has AV_TUNE_MIN_CLUSTER_ROWS fold rows per cluster in rung 0 too. Each rung after the
   first scores ceil(1/eta) of the previous one's candidates. Candidates too fine on all rows can
   never win and are dropped before rung 0 (counted in tuned_candidates all the same). */
static void plan_rungs(tune_ctx *c)
{
    size_t n = c->v.n, nf = c->t.n_folds, kmax = 0, alive = c->n_cfg;
    uint32_t eta = c->t.halving;
    if (eta == 0)
        eta = n > AV_TUNE_HALVING_AUTO_ROWS ? AV_TUNE_AUTO_ETA : 1u;
    for (size_t g = 0; g < c->n_cfg; g++)
        if (!c->cfg[g].too_fine)
            kmax = c->cfg[g].k > kmax ? c->cfg[g].k : kmax;
    size_t least = c->t.halving_min_rows ? c->t.halving_min_rows : AV_TUNE_HALVING_MIN_ROWS;
    /* the fewest rows whose fold routers hold AV_TUNE_MIN_CLUSTER_ROWS x kmax rows */
    size_t need = (kmax * AV_TUNE_MIN_CLUSTER_ROWS * nf + nf - 2) / (nf - 1);
    least = need > least ? need : least;
    uint32_t rungs = 1;
    size_t div = 1;
    while (eta > 1 && kmax > 0 && rungs < AV_TUNE_MAX_RUNGS && div <= n / eta &&
           (n + div * eta - 1) / (div * eta) >= least) {
        div *= eta;
        rungs++;
    }
    c->eta = rungs > 1 ? eta : 1u;
    c->n_rungs = rungs;
    for (uint32_t r = 0; r < rungs; r++) {
        size_t d = 1;
        for (uint32_t i = r + 1; i < rungs; i++)
            d *= eta;
        c->rung_rows[r] = (n + d - 1) / d;
    }
    if (c->eta > 1) {
        alive = 0;
        for (size_t g = 0; g < c->n_cfg; g++)
            alive += (c->cfg[g].alive = !c->cfg[g].too_fine);
    }
    for (uint32_t r = 0; r < rungs; r++) {
        c->rung_alive[r] = alive;
        alive = (alive + c->eta - 1) / c->eta;
    }
    c->n_scores = 0;
    for (uint32_t r = 0; r < rungs; r++)
        c->n_scores += c->rung_alive[r] * c->t.n_folds;
}

/* Candidates of k (index ki) still alive. */
static size_t alive_of_k(const tune_ctx *c, size_t ki)
{
    size_t used = 0;
    for (size_t g = 0; g < c->n_cfg; g++)
        used += c->cfg[g].ki == ki && c->cfg[g].alive;
    return used;
}

/* The context of a failed fit of fold f (UINT32_MAX: the shared clustering itself). */
static int fit_failed(const tune_ctx *c, int rc, uint32_t f, uint32_t k)
{
    char where[48];
    if (f == UINT32_MAX)
        snprintf(where, sizeof where, "shared clustering");
    else
        snprintf(where, sizeof where, "%sfold %u", c->shared ? "shared clustering, " : "", f);
    if (c->n_rungs > 1)
        return av__fail_context(rc, "tuning rung %u (%zu rows), %s, n_clusters %u", c->rung,
                                c->rung_rows[c->rung], where, k);
    return av__fail_context(rc, "tuning %s, n_clusters %u", where, k);
}

/* Shared clustering: every rung row's cluster in each member of r (fitted on the rung's rows),
   as av_kmeans_stats_block assigns it, into c->lab (-1 outside the rung). */
static int shared_labels(tune_ctx *c, const av_router *r)
{
    size_t n = c->v.n, d = c->v.dim, nb = r->ix.members, kb = r->ix.k / nb;
    size_t rows = c->rung_rows[c->rung];
    bool all = rows == n; /* the last rung: the rows as they are */
    float *C = av__aligned_alloc(kb * d * sizeof(float));
    float *X = all ? NULL : av__aligned_alloc(rows * d * sizeof(float));
    int32_t *lab = malloc(rows * sizeof *lab);
    int rc = AV_OK;
    if (!C || (!all && !X) || !lab) {
        rc = av__fail(AV_ENOMEM, "shared clustering labels (%zu rows)", rows);
        goto done;
    }
    for (size_t i = 0, g = 0; !all && i < n; i++)
        if (in_rung(c, i))
            memcpy(X + g++ * d, c->v.X + i * d, d * sizeof(float));
    for (size_t b = 0; b < nb && rc == AV_OK; b++) {
        for (size_t j = 0; j < kb; j++)
            av__index_centroid(&r->ix, b * kb + j, C + j * d);
        if ((rc = av__kmeans_labels_norm(C, kb, d, all ? c->v.X : X, rows, lab)) != AV_OK)
            break;
        int32_t *out = c->lab + b * n;
        for (size_t i = 0, g = 0; i < n; i++)
            out[i] = in_rung(c, i) ? lab[g++] : -1;
    }
done:
    av__aligned_free(C);
    av__aligned_free(X);
    free(lab);
    return rc;
}

/* Shared clustering: r's statistics become those of the rung's rows outside fold f (each
   member's, in row order, as av_kmeans_stats_block would add them). */
static int shared_fold_stats(tune_ctx *c, av_router *r, uint32_t f)
{
    size_t n = c->v.n, m = c->v.m, nb = r->ix.members, kb = r->ix.k / nb;
    memset(r->st.count, 0, r->ix.k * m * sizeof(double));
    memset(r->st.sum_score, 0, r->ix.k * m * sizeof(double));
    memset(r->st.sum_cost, 0, r->ix.k * m * sizeof(double));
    for (size_t b = 0; b < nb; b++) {
        const int32_t *lab = c->lab + b * n;
        for (size_t i = 0; i < n; i++)
            c->keep[i] = c->fold[i] != f ? lab[i] : -1;
        size_t off = b * kb * m;
        av__kmeans_stats_add(c->keep, n, c->v.scores, c->v.costs, m, r->st.count + off,
                             r->st.sum_score + off, r->st.sum_cost + off);
    }
    return av__router_refresh_all(r);
}

/* The options of the final fit of k with mb members (top_p aside: the winner's is set after). */
static av_fit_options final_options(const tune_ctx *c, uint32_t k, uint32_t members, uint32_t p)
{
    av_fit_options o = *c->fo;
    o.n_clusters = k;
    o.top_p = p;
    o.members = members;
    o.tune = NULL;
    return o;
}

/* Shared clustering in the last rung when it fits one k only (that k is then the winner's): the
   clustering is the final fit's, av_builder_fit on the builder's rows with the final options
   (top_p 1 until the winner's is known), and its statistics are kept for the final router. */
static int fit_final_clustering(tune_ctx *c, size_t ki, uint32_t mb, av_router **out)
{
    av_fit_options o = final_options(c, k_of(c, ki), mb, 1);
    int rc = av_builder_fit(c->b, &o, out);
    if (rc)
        return rc;
    size_t cells = (*out)->ix.k * c->v.m;
    if (!(c->final_st = malloc(3 * cells * sizeof(double))))
        return av__fail(AV_ENOMEM, "the final clustering's statistics");
    memcpy(c->final_st, (*out)->st.count, cells * sizeof(double));
    memcpy(c->final_st + cells, (*out)->st.sum_score, cells * sizeof(double));
    memcpy(c->final_st + 2 * cells, (*out)->st.sum_cost, cells * sizeof(double));
    c->final_ki = ki;
    return AV_OK;
}

/* The final router from the last rung's clustering when the winner w uses every member fitted:
   its own statistics back and the winner's top_p, which makes it the router av_builder_fit fits
   with the final options (*out NULL otherwise: the caller fits it). */
static int reuse_final(tune_ctx *c, const tune_cfg *w, av_router **out)
{
    av_router *r = c->final_r;
    *out = NULL;
    if (!reusable(c, w))
        return AV_OK;
    size_t cells = r->ix.k * c->v.m;
    memcpy(r->st.count, c->final_st, cells * sizeof(double));
    memcpy(r->st.sum_score, c->final_st + cells, cells * sizeof(double));
    memcpy(r->st.sum_cost, c->final_st + 2 * cells, cells * sizeof(double));
    int rc = av__router_refresh_all(r);
    if (!rc) rc = av_router_set_top_p(r, w->p);
    if (!rc) rc = av__set_meta_number(r, "top_p", "%.0f", w->p);
    if (rc)
        return rc;
    c->final_r = NULL;
    *out = r;
    return AV_OK;
}

/* One rung with shared clustering: per k with candidates alive, one clustering of the rung's
   rows; per fold, its statistics from the rung's rows outside the fold and the candidates scored
   on the rung's rows in the fold. */
static int run_rung_shared(tune_ctx *c)
{
    size_t nk = c->t.n_n_clusters ? c->t.n_n_clusters : 1, n_k = 0;
    bool first_k = true; /* single models are counted on the first k's pass over the folds */
    int rc = AV_OK;
    for (size_t ki = 0; ki < nk; ki++)
        n_k += k_alive_any(c, ki);
    bool final = c->rung + 1 == c->n_rungs && n_k == 1;
    for (size_t ki = 0; ki < nk && rc == AV_OK; ki++) {
        uint32_t k = k_of(c, ki), mb = fold_members(c, ki);
        size_t used = alive_of_k(c, ki);
        if (!used)
            continue;
        av_router *r = NULL;
        if ((rc = report(c, AV_TUNE_STAGE_FIT, 0, ki, NULL)) != AV_OK)
            break;
        if ((rc = final ? fit_final_clustering(c, ki, mb, &r)
                        : fit_subset(c, UINT32_MAX, k, mb, c->t.n_init, &r)) != AV_OK ||
            (rc = shared_labels(c, r)) != AV_OK) {
            av_router_free(r);
            rc = fit_failed(c, rc, UINT32_MAX, k);
            break;
        }
        c->fits_done++;
        c->work_done += fit_cost(c, cluster_rows(c, c->rung_rows[c->rung]), k, mb,
                                 final ? c->fo->n_init : c->t.n_init);
        for (uint32_t f = 0; f < c->t.n_folds && rc == AV_OK; f++) {
            if ((rc = shared_fold_stats(c, r, f)) != AV_OK) {
                rc = fit_failed(c, rc, f, k);
                break;
            }
            rc = eval_fold_k(c, f, ki, first_k, r);
            c->scores_done += used;
            if (rc == AV_OK)
                rc = report(c, AV_TUNE_STAGE_SCORED, f, ki, NULL);
        }
        first_k = false;
        if (final && rc == AV_OK)
            c->final_r = r;
        else
            av_router_free(r);
    }
    return rc;
}

/* One rung: per fold and per k with candidates alive, fit a fold router on the rung's rows
   outside the fold and score those candidates on the rung's rows in the fold. */
static int run_rung(tune_ctx *c)
{
    if (c->shared)
        return run_rung_shared(c);
    size_t nk = c->t.n_n_clusters ? c->t.n_n_clusters : 1;
    int rc = AV_OK;
    for (uint32_t f = 0; f < c->t.n_folds && rc == AV_OK; f++) {
        bool first_k = true; /* single models are counted on the first k's pass over the fold */
        for (size_t ki = 0; ki < nk && rc == AV_OK; ki++) {
            uint32_t k = k_of(c, ki);
            size_t used = alive_of_k(c, ki); /* candidates with this k */
            if (!used)
                continue;
            av_router *r = NULL;
            if ((rc = report(c, AV_TUNE_STAGE_FIT, f, ki, NULL)) != AV_OK)
                break;
            uint32_t mb = fold_members(c, ki);
            if ((rc = fit_subset(c, f, k, mb, c->t.n_init, &r)) != AV_OK) {
                rc = fit_failed(c, rc, f, k);
                break;
            }
            c->fits_done++;
            rc = eval_fold_k(c, f, ki, first_k, r);
            first_k = false;
            av_router_free(r);
            c->scores_done += used;
            c->work_done += fit_cost(c, fit_rows(c, c->rung_rows[c->rung]), k, mb, c->t.n_init);
            if (rc == AV_OK)
                rc = report(c, AV_TUNE_STAGE_SCORED, f, ki, NULL);
        }
    }
    return rc;
}

static int set_meta_f(av_router *r, const char *key, const char *fmt, double v)
{
    return av__set_meta_number(r, key, fmt, v);
}

/* The halving's record in the metadata: eta, and per rung the rows and candidates. */
static int set_meta_halving(const tune_ctx *c, av_router *r)
{
    char rows[AV_TUNE_MAX_RUNGS * 24], cands[AV_TUNE_MAX_RUNGS * 24];
    size_t a = 0, b = 0;
    rows[0] = cands[0] = '\0';
    for (uint32_t i = 0; i < c->n_rungs; i++) {
        a += (size_t)snprintf(rows + a, sizeof rows - a, "%s%zu", i ? "," : "", c->rung_rows[i]);
        b += (size_t)snprintf(cands + b, sizeof cands - b, "%s%zu", i ? "," : "",
                              c->rung_alive[i]);
    }
    int rc = set_meta_f(r, "tuned_halving_eta", "%.0f", c->eta);
    if (!rc) rc = av_router_set_meta(r, "tuned_halving_rows", rows);
    if (!rc) rc = av_router_set_meta(r, "tuned_halving_candidates", cands);
    return rc;
}

/* Shared clustering's arrays: each row's label in each of `members` clusterings, and one fold's. */
static int shared_alloc(tune_ctx *c, size_t members)
{
    if (!(c->lab = malloc(members * c->v.n * sizeof *c->lab)) ||
        !(c->keep = malloc(c->v.n * sizeof *c->keep)))
        return av__fail(AV_ENOMEM, "shared clustering labels (%zu rows)", c->v.n);
    return AV_OK;
}

int av__tune_shared_fold(av_builder *b, const av_fit_options *fo, uint32_t fold,
                         uint32_t *fold_of, av_router **out)
{
    tune_ctx c;
    memset(&c, 0, sizeof c);
    av_fit_options o;
    int rc = av__read_fit_options(fo, &o);
    if (rc || !o.tune || (rc = read_tune(o.tune, &c.t)) != AV_OK)
        return rc ? rc : av__fail(AV_EINVAL, "no tuning options");
    c.fo = fo = &o;
    av__builder_view(b, &c.v);
    if (fold >= c.t.n_folds || c.v.n < 2 * (size_t)c.t.n_folds)
        return av__fail(AV_EINVAL, "fold %u of %u, %zu rows", fold, c.t.n_folds, c.v.n);
    c.shared = true;
    c.n_rungs = 1;
    c.rung_rows[0] = c.v.n;
    av_router *r = NULL;
    if ((rc = assign_folds(&c)) != AV_OK)
        goto done;
    if ((rc = shared_alloc(&c, fo->members)) != AV_OK)
        goto done;
    if ((rc = fit_subset(&c, UINT32_MAX, fo->n_clusters, fo->members, c.t.n_init, &r)) != AV_OK ||
        (rc = shared_labels(&c, r)) != AV_OK || (rc = shared_fold_stats(&c, r, fold)) != AV_OK)
        goto done;
    memcpy(fold_of, c.fold, c.v.n * sizeof *fold_of);
    *out = r;
    r = NULL;
done:
    av_router_free(r);
    free(c.fold), free(c.pos), free(c.lab), free(c.keep);
    return rc;
}

int av__builder_fit_tuned(av_builder *b, const av_fit_options *fo, av_router **out)
{
    tune_ctx c;
    memset(&c, 0, sizeof c);
    c.fo = fo;
    c.b = b;
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
    if (!(c.single = calloc((size_t)c.t.n_folds * c.v.m * 3, sizeof(double))) ||
        !(c.sweep = calloc(c.n_cfg * c.t.n_folds * c.t.n_alphas * 3, sizeof(double)))) {
        rc = av__fail(AV_ENOMEM, "tuning sweeps");
        goto done;
    }
    for (size_t a = 0; a < c.t.n_alphas; a++) /* rounded to float as av_route's parameter is */
        c.alphas[a] = (double)(float)((double)a / (double)(c.t.n_alphas - 1));
    plan_rungs(&c);
    c.shared = c.t.shared_clustering == 2u ||
               (c.t.shared_clustering == 0u && c.v.n > AV_TUNE_SHARED_AUTO_ROWS);
    if (c.shared && (rc = shared_alloc(&c, c.max_members)) != AV_OK)
        goto done;
    c.t0 = av__seconds();
    tune_choice ch;
    for (c.rung = 0; c.rung < c.n_rungs; c.rung++) {
        if (c.rung > 0) {
            memset(c.single, 0, (size_t)c.t.n_folds * c.v.m * 3 * sizeof(double));
            memset(c.sweep, 0, c.n_cfg * c.t.n_folds * c.t.n_alphas * 3 * sizeof(double));
        }
        if ((rc = run_rung(&c)) != AV_OK)
            goto done;
        if (c.rung + 1 < c.n_rungs && (rc = choose(&c, &ch, c.rung_alive[c.rung + 1])) != AV_OK)
            goto done;
    }
    c.rung = c.n_rungs - 1;
    if ((rc = choose(&c, &ch, 0)) != AV_OK)
        goto done;
    size_t best = ch.best;
    bool fallback = ch.fallback;
    const tune_cfg *w = &c.cfg[best];
    av_fit_options o = final_options(&c, w->k, w->members, w->p);
    av_router *r = NULL;
    if ((rc = report(&c, AV_TUNE_STAGE_FINAL, c.t.n_folds, 0, w)) != AV_OK ||
        (rc = reuse_final(&c, w, &r)) != AV_OK || (!r && (rc = av_builder_fit(b, &o, &r)) != AV_OK))
        goto done;
    av_estimator_options eo;
    av_estimator_options_init(&eo);
    eo.kappa = w->kappa;
    eo.weighting = w->temp > 0.0f ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_HARD;
    if (w->temp > 0.0f)
        eo.temperature = w->temp;
    eo.normalisation = w->global ? AV_NORMALISE_GLOBAL : AV_NORMALISE_CLUSTER;
    eo.guard = c.t.guard;
    eo.guard_margin = c.t.guard_margin;
    eo.safety = fallback ? INFINITY : w->safety;
    rc = av_router_set_estimator(r, &eo);
    if (!rc) rc = set_meta_f(r, "tuned_n_clusters", "%.0f", w->k);
    if (!rc) rc = set_meta_f(r, "tuned_top_p", "%.0f", w->p);
    if (!rc) rc = set_meta_f(r, "tuned_members", "%.0f", w->members);
    if (!rc) rc = set_meta_f(r, "tuned_kappa", "%.17g", w->kappa);
    if (!rc) rc = av_router_set_meta(r, "tuned_weighting", w->temp > 0.0f ? "softmax" : "hard");
    if (!rc) rc = set_meta_f(r, "tuned_temperature", "%.9g", (double)w->temp);
    if (!rc) rc = av_router_set_meta(r, "tuned_normalisation", w->global ? "global" : "cluster");
    if (!rc) rc = set_meta_f(r, "tuned_safety", "%.17g", eo.safety);
    if (!rc) rc = av_router_set_meta(r, "tuned_objective", OBJECTIVE_NAME[c.t.objective]);
    if (!rc) rc = set_meta_f(r, "tuned_cv_objective", "%.17g", ch.objective);
    if (!rc) rc = set_meta_f(r, "tuned_cv_auc", "%.17g", ch.auc);
    if (!rc) rc = set_meta_f(r, "tuned_cv_gain", "%.17g", ch.gain);
    if (!rc) rc = set_meta_f(r, "tuned_cv_gain_se", "%.17g", ch.gain_se);
    if (!rc) rc = av_router_set_meta(r, "tuned_fallback", fallback ? "best_single" : "none");
    if (!rc) rc = set_meta_f(r, "tuned_folds", "%.0f", c.t.n_folds);
    if (!rc) rc = set_meta_f(r, "tuned_candidates", "%.0f", (double)c.n_cfg);
    if (!rc) rc = set_meta_f(r, "tuned_cv_top_score", "%.17g", ch.top);
    if (!rc) rc = set_meta_f(r, "tuned_cv_best_single", "%.17g", ch.single);
    if (!rc) rc = av_router_set_meta(r, "tuned_guard", c.t.guard ? "requested" : "off");
    if (!rc && c.n_rungs > 1)
        rc = set_meta_halving(&c, r);
    if (!rc && c.shared) /* (absent without: files of the per-fold tuning stay as they were) */
        rc = av_router_set_meta(r, "tuned_clustering", "shared");
    if (rc) {
        av_router_free(r);
        goto done;
    }
    *out = r; /* the options are the caller's and read-only: the AUC is in tuned_cv_auc */
done:
    free(c.cfg);
    free(c.fold);
    free(c.pos);
    free(c.lab);
    free(c.keep);
    av_router_free(c.final_r);
    free(c.final_st);
    free(c.alphas);
    free(c.single);
    free(c.sweep);
    return rc;
}
