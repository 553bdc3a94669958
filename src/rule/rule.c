/* The one routing rule. Every decision of the library comes from here: av_route and
   av_route_batch (the paper's rule streamed from the published table), av_route_ex, evaluation,
   budgets and tuning (a query prepared once, then decided for any number of alphas). The paper's
   rule is the special case of the router's default settings with hard weights, kappa 0 and the
   per-cluster normalisation; its fast path (av__rule_paper) adds the same words with the same
   arithmetic (av__rule_add), so its decisions are the general path's, bit for bit. */
#include "rule/rule.h"

#include <math.h>
#include <string.h>

/* Beta(1, 1) (uniform) prior of the exploration posterior. */
#define AV_BETA_PRIOR 1.0
/* The exploration stream is the route seed mixed with this constant (golden ratio), so that seed
   0 is a usable seed too. */
#define AV_EXPLORE_MIX 0x9E3779B97F4A7C15ull
/* Rejection-sampling bound of one gamma draw (see gamma_draw). */
#define AV_GAMMA_MAX_TRIES 64
#define AV_ROUTE_KNOWN_FLAGS                                                                  \
    (AV_ROUTE_MAX_COST | AV_ROUTE_MIN_SCORE | AV_ROUTE_GUARD_ON | AV_ROUTE_GUARD_OFF |       \
     AV_ROUTE_EXPLORE | AV_ROUTE_SAFETY)

/* ---------------------------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------------------------- */
void av__settings_default(const av_estimator_state *e, uint32_t p, av_settings *s)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->weighting = e->weighting ? e->weighting : AV_WEIGHTING_HARD;
    s->temperature = (double)e->temperature;
    s->kappa = s->table_kappa = e->kappa;
    s->norm = e->normalisation ? e->normalisation : AV_NORMALISE_CLUSTER;
    s->guard = e->guard;
    s->guard_margin = e->guard_margin;
    s->safety = e->safety;
}

int av__settings_resolve(const av_estimator_state *e, uint32_t p, size_t k, size_t members,
                         const av_route_options *o, av_settings *s)
{
    if (!(o->alpha >= 0.0f && o->alpha <= 1.0f))
        return av__fail(AV_EALPHA, "alpha=%g", (double)o->alpha);
    if (o->flags & ~AV_ROUTE_KNOWN_FLAGS)
        return av__fail(AV_EINVAL, "flags=0x%x has unknown bits 0x%x", o->flags,
                        o->flags & ~AV_ROUTE_KNOWN_FLAGS);
    av__settings_default(e, o->top_p ? o->top_p : p, s);
    int rc = av__check_top_p(k, members, s->p);
    if (rc)
        return rc;
    if (o->weighting != AV_WEIGHTING_ROUTER)
        s->weighting = o->weighting;
    if (s->weighting != AV_WEIGHTING_HARD && s->weighting != AV_WEIGHTING_SOFTMAX)
        return av__fail(AV_EINVAL, "weighting=%u", o->weighting);
    if (!(o->temperature >= 0.0f) || isinf(o->temperature))
        return av__fail(AV_EINVAL, "temperature=%g must be finite and >= 0 (0 = the router's)",
                        (double)o->temperature);
    if (o->temperature > 0.0f)
        s->temperature = (double)o->temperature;
    if (!(s->temperature > 0.0) || !isfinite(s->temperature))
        s->temperature = (double)AV_DEFAULT_TEMPERATURE;
    if (o->normalisation != AV_NORMALISE_ROUTER)
        s->norm = o->normalisation;
    if (s->norm != AV_NORMALISE_CLUSTER && s->norm != AV_NORMALISE_GLOBAL)
        return av__fail(AV_EINVAL, "normalisation=%u", o->normalisation);
    if (isnan(o->kappa) || isinf(o->kappa))
        return av__fail(AV_EINVAL, "kappa=%g", o->kappa);
    if (o->kappa >= 0.0)
        s->kappa = o->kappa;
    if ((o->flags & AV_ROUTE_GUARD_ON) && (o->flags & AV_ROUTE_GUARD_OFF))
        return av__fail(AV_EINVAL, "AV_ROUTE_GUARD_ON and AV_ROUTE_GUARD_OFF together");
    if (o->flags & AV_ROUTE_GUARD_ON)
        s->guard = 1u;
    if (o->flags & AV_ROUTE_GUARD_OFF)
        s->guard = 0u;
    if ((o->flags & AV_ROUTE_GUARD_ON) && o->guard_margin >= 0.0)
        s->guard_margin = o->guard_margin;
    if (!isfinite(s->guard_margin))
        return av__fail(AV_EINVAL, "guard_margin=%g", s->guard_margin);
    if ((o->flags & AV_ROUTE_SAFETY) && !(o->safety >= 0.0))
        return av__fail(AV_EINVAL, "safety=%g with AV_ROUTE_SAFETY (>= 0, +inf allowed)",
                        o->safety);
    if (o->flags & AV_ROUTE_SAFETY)
        s->safety = o->safety;
    if (((o->flags & AV_ROUTE_MAX_COST) && isnan(o->max_expected_cost)) ||
        ((o->flags & AV_ROUTE_MIN_SCORE) && isnan(o->min_expected_score)))
        return av__fail(AV_EINVAL, "a cost or score limit is NaN");
    s->flags = o->flags;
    s->max_cost = o->max_expected_cost;
    s->min_score = o->min_expected_score;
    s->mask = o->model_mask;
    s->mask_len = o->model_mask_len;
    s->explore_seed = o->explore_seed;
    return AV_OK;
}

bool av__settings_paper(const av_settings *s)
{
    return s->weighting == AV_WEIGHTING_HARD && s->norm == AV_NORMALISE_CLUSTER && !s->guard &&
           !(s->safety > 0.0) &&
           s->kappa == s->table_kappa && !(s->flags & (AV_ROUTE_EXPLORE | AV_ROUTE_MAX_COST |
                                                    AV_ROUTE_MIN_SCORE)) &&
           !s->mask;
}

/* ---------------------------------------------------------------------------------------------
 * Arithmetic shared by every path
 * ------------------------------------------------------------------------------------------- */
void av__rule_add(const double *nrow, double w, double alpha, size_t m, double *acc)
{
    double beta = 1.0 - alpha;
    for (size_t i = 0; i < m; i++)
        acc[i] += w * (alpha * nrow[2 * i] + beta * nrow[2 * i + 1]);
}

int32_t av__argmax_tie(const av_table *t, const double *acc, const uint8_t *allowed)
{
    int32_t best = -1;
    double best_cost = 0.0;
    for (size_t i = 0; i < t->m; i++) {
        if (allowed && !allowed[i])
            continue;
        double ci = av__table_gmean(t, i, 1);
        if (best < 0 || acc[i] > acc[best] || (acc[i] == acc[best] && ci < best_cost)) {
            best = (int32_t)i;
            best_cost = ci;
        }
    }
    return best;
}

void av__cluster_weights(size_t members, size_t p, const float *sims, bool softmax, double temp,
                         double *w)
{
    if (!softmax) {
        for (size_t c = 0; c < members * p; c++)
            w[c] = 1.0;
        return;
    }
    double wsum[AV_MAX_MEMBERS];
    av__member_weights(members, p, sims, true, temp, w, wsum);
    /* within each member relative to its nearest cluster, every member weighing the same */
    for (size_t c = 0; c < members * p; c++)
        w[c] = w[c] / wsum[c / p] / (double)members;
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

/* ---------------------------------------------------------------------------------------------
 * The paper's rule streamed from the published table (av_route, av_route_batch)
 * ------------------------------------------------------------------------------------------- */
int32_t av__rule_paper(const av_table *t, const uint32_t *clusters, size_t ns, double alpha)
{
    size_t m = t->m;
    double acc[AV_MAX_MODELS] = {0};
    double row[AV_ROW_NORM * AV_MAX_MODELS];
    for (size_t c = 0; c < ns; c++) {
        av__table_read(t, clusters[c], 0, AV_ROW_NORM * m, row);
        av__rule_add(row, 1.0, alpha, m, acc);
    }
    return av__argmax_tie(t, acc, NULL);
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
 * Uncertainty of a cluster's mean score
 * ------------------------------------------------------------------------------------------- */
/* The variance of a cell's mean score (count c, score sum s) as the rule uses it, the plain mean
   s / c: p (1 - p) / c, with p the Beta(1 + s, 1 + c - s) posterior mean of a success rate (the
   sum clipped into [0, c]), which is never 0 or 1, so that two outcomes that happen to agree do
   not count as certainty. Exact in expectation for 0/1 scores; for graded scores in [0, 1] an upper
   bound (a [0, 1] variable of mean p varies at most p (1 - p)). Never above 1/4, the largest
   variance of a [0, 1] variable; a cell without outcomes (its estimate is the global mean) has the
   uniform prior's 1/12. Clusters of one member hold disjoint queries, so their errors are
   independent and their variances add; members may hold the same queries, so their standard
   errors add (the bound for perfectly correlated errors). */
static double score_var(double c, double s)
{
    if (!(c > 0.0))
        return 1.0 / 12.0;
    double k = fmin(fmax(s, 0.0), c), p = (AV_BETA_PRIOR + k) / (2.0 * AV_BETA_PRIOR + c);
    return fmin(p * (1.0 - p) / c, 0.25);
}

/* ---------------------------------------------------------------------------------------------
 * A query prepared once, decided for any alpha
 * ------------------------------------------------------------------------------------------- */
void av__rule_prepare(const av_table *t, const av_settings *s, size_t members,
                      const uint32_t *idx, const float *sims, const double *cached, double *rows,
                      av_prepared *q)
{
    size_t m = t->m, ns = members * s->p;
    bool softmax = s->weighting == AV_WEIGHTING_SOFTMAX, explore = s->flags & AV_ROUTE_EXPLORE;
    q->t = t;
    q->m = m;
    q->ns = ns;
    q->rows = rows;
    memcpy(q->idx, idx, ns * sizeof *idx);
    memcpy(q->sims, sims, ns * sizeof *sims);
    av__cluster_weights(members, s->p, sims, softmax, s->temperature, q->w);
    q->best_sim = sims[0];
    for (size_t c = 0; c < ns; c++)
        q->best_sim = sims[c] > q->best_sim ? sims[c] : q->best_sim;
    for (size_t i = 0; i < m; i++) {
        q->gp[i] = av__table_gmean(t, i, 0);
        q->gq[i] = av__table_gmean(t, i, 1);
        q->ep[i] = q->eq[i] = 0.0;
    }
    if (cached) { /* tuning: the rows only (no limits, mask or guard there) */
        for (size_t c = 0; c < ns; c++) {
            memcpy(rows + c * 2 * m, cached + (size_t)idx[c] * 2 * m, 2 * m * sizeof *rows);
            q->support[c] = 0.0;
        }
        memset(q->allowed, 1, m);
        q->n_feasible = m;
        return;
    }
    /* the table's own normalised rows hold the router's estimator with the paper's
       normalisation; anything else is recomputed from the raw statistics */
    bool recompute = s->kappa != s->table_kappa || explore || s->norm == AV_NORMALISE_GLOBAL;
    av_rng rng;
    av__rng_seed(&rng, s->explore_seed ^ AV_EXPLORE_MIX);
    double row[AV_ROW_WORDS * AV_MAX_MODELS], p[AV_MAX_MODELS], pe[AV_MAX_MODELS],
        qe[AV_MAX_MODELS], mvar[AV_MAX_MODELS] = {0};
    double wtot = softmax ? 1.0 : (double)ns;
    for (size_t i = 0; i < m; i++)
        q->se[i] = 0.0;
    for (size_t c = 0; c < ns; c++) {
        double *nr = rows + c * 2 * m;
        av__table_read(t, idx[c], 0, AV_ROW_WORDS * m, row);
        const double *raw = row + AV_ROW_NORM * m;
        av__means_from_raw(raw, q->gp, q->gq, m, s->kappa, pe, qe);
        q->support[c] = 0.0;
        for (size_t i = 0; i < m; i++) {
            q->support[c] = fmax(q->support[c], raw[3 * i]);
            q->ep[i] += q->w[c] * pe[i];
            q->eq[i] += q->w[c] * qe[i];
            double wc = q->w[c] / wtot;
            mvar[i] += wc * wc * score_var(raw[3 * i], raw[3 * i + 1]);
        }
        if ((c + 1) % s->p == 0) /* a member's last cluster (see score_var on the sum) */
            for (size_t i = 0; i < m; i++) {
                q->se[i] += sqrt(mvar[i]);
                mvar[i] = 0.0;
            }
        if (!recompute) {
            memcpy(nr, row, 2 * m * sizeof *nr);
            continue;
        }
        const double *pp = pe;
        if (explore) {
            for (size_t i = 0; i < m; i++) {
                double cn = raw[3 * i], sc = fmin(fmax(raw[3 * i + 1], 0.0), cn);
                p[i] = beta_draw(&rng, AV_BETA_PRIOR + sc, AV_BETA_PRIOR + (cn - sc));
            }
            pp = p;
        }
        if (s->norm == AV_NORMALISE_GLOBAL)
            av__normalise_global(pp, qe, q->gp, q->gq, m, nr);
        else
            av__normalise_means(pp, qe, m, nr);
    }
    /* expected values are the weighted means over the clusters used */
    q->n_feasible = 0;
    for (size_t i = 0; i < m; i++) {
        q->ep[i] /= wtot;
        q->eq[i] /= wtot;
        bool ok = !s->mask || (i < s->mask_len && s->mask[i] != 0);
        if ((s->flags & AV_ROUTE_MAX_COST) && !(q->eq[i] <= s->max_cost))
            ok = false;
        if ((s->flags & AV_ROUTE_MIN_SCORE) && !(q->ep[i] >= s->min_score))
            ok = false;
        q->allowed[i] = ok;
        q->n_feasible += ok;
    }
}

int32_t av__rule_decide(const av_prepared *q, const av_settings *s, double alpha, double *acc,
                        av_verdict *v)
{
    size_t m = q->m;
    for (size_t i = 0; i < m; i++)
        acc[i] = 0.0;
    for (size_t c = 0; c < q->ns; c++)
        av__rule_add(q->rows + c * 2 * m, q->w[c], alpha, m, acc);
    int32_t best = q->n_feasible ? av__argmax_tie(q->t, acc, q->allowed) : -1;
    v->guarded = 0;
    v->baseline = -1;
    v->gain = v->gain_lcb = 0.0;
    bool judge = s->guard || s->safety > 0.0;
    if (best < 0 || (!judge && !v->explain))
        return best;
    /* The baseline: the best single model among the allowed ones, by the paper's rule over the
       global means. The rule's choice must beat it on this query's estimates, in the same
       globally normalised utility, by the margin plus `safety` standard errors of the gain (the
       cost estimates count as known; the two models' score errors as independent or positively
       correlated, as outcomes of the same queries are, so their variances add). */
    double beta = 1.0 - alpha, gn[2 * AV_MAX_MODELS], gu[AV_MAX_MODELS] = {0};
    av__normalise_means(q->gp, q->gq, m, gn);
    for (size_t i = 0; i < m; i++)
        gu[i] = alpha * gn[2 * i] + beta * gn[2 * i + 1];
    int32_t g = av__argmax_tie(q->t, gu, q->allowed);
    v->baseline = g;
    if (g == best)
        return best;
    double pmin, pmax, qmin, qmax;
    av__minmax(q->gp, m, &pmin, &pmax);
    av__minmax(q->gq, m, &qmin, &qmax);
    double pr = pmax > pmin ? pmax - pmin : 1.0, qr = qmax > qmin ? qmax - qmin : 1.0;
    double ub = alpha * (q->ep[best] - pmin) / pr + beta * (1.0 - (q->eq[best] - qmin) / qr);
    double ug = alpha * (q->ep[g] - pmin) / pr + beta * (1.0 - (q->eq[g] - qmin) / qr);
    double se = alpha / pr * sqrt(q->se[best] * q->se[best] + q->se[g] * q->se[g]);
    v->gain = ub - ug;
    double margin = s->guard ? s->guard_margin : 0.0;
    /* safety 0 adds nothing (so the guard alone decides as it always has); +inf always keeps the
       baseline */
    bool safe = s->safety > 0.0;
    v->gain_lcb = safe ? v->gain - s->safety * se : v->gain;
    if (judge && !(safe ? ub > ug + margin + s->safety * se : ub > ug + margin)) {
        v->guarded = 1;
        return g;
    }
    return best;
}

void av__rule_rank(const av_prepared *q, const double *acc, int32_t chosen, uint32_t guarded,
                   int32_t *out, size_t *n_out)
{
    size_t n = 0;
    for (size_t i = 0; i < q->m; i++) {
        if (!q->allowed[i])
            continue;
        /* insertion with the rule's order: the list stays short (m <= AV_MAX_MODELS) */
        double ci = av__table_gmean(q->t, i, 1);
        size_t pos = n++;
        while (pos > 0) {
            int32_t b = out[pos - 1];
            double cb = av__table_gmean(q->t, (size_t)b, 1);
            bool before = acc[i] > acc[b] || (acc[i] == acc[b] && ci < cb);
            if (!before)
                break;
            out[pos] = b;
            pos--;
        }
        out[pos] = (int32_t)i;
    }
    if (guarded && n > 0) { /* the guard's model leads, the others keep their order */
        size_t at = 0;
        while (at < n && out[at] != chosen)
            at++;
        if (at < n) {
            memmove(out + 1, out, at * sizeof *out);
            out[0] = chosen;
        }
    }
    *n_out = n;
}
