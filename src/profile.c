/* Per-cluster statistics, the routing table (the paper's min-max normalised rows plus the raw
   statistics, published under a per-cluster seqlock, the table itself behind an atomic pointer;
   docs/THREADING.md; doubles stored as 64-bit words in atomics, so that concurrent reads are
   defined behaviour), and feedback outcomes. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Tables
 * ------------------------------------------------------------------------------------------- */
static void table_free(av_table *t)
{
    if (!t)
        return;
    av__aligned_free((void *)t->rows);
    av__aligned_free((void *)t->seq);
    av__aligned_free((void *)t->gmean);
    free(t);
}

static av_table *table_new(size_t k, size_t m)
{
    av_table *t = calloc(1, sizeof *t);
    size_t words; /* k*m is bounded by the router limits; the multiplications cannot overflow */
    if (!t)
        return NULL;
    t->m = m;
    words = k * AV_ROW_WORDS * m;
    t->rows = av__aligned_alloc(words * sizeof(uint64_t));
    t->seq = av__aligned_alloc(k * sizeof(uint32_t));
    t->gmean = av__aligned_alloc(2 * m * sizeof(uint64_t));
    if (!t->rows || !t->seq || !t->gmean) {
        table_free(t);
        return NULL;
    }
    for (size_t i = 0; i < words; i++)
        atomic_init(&t->rows[i], 0);
    for (size_t j = 0; j < k; j++)
        atomic_init(&t->seq[j], 0);
    for (size_t i = 0; i < 2 * m; i++)
        atomic_init(&t->gmean[i], 0);
    return t;
}

int av__table_init(av_router *r)
{
    av_table *t = table_new(r->k, r->m);
    if (!t)
        return AV_ENOMEM;
    atomic_init(&r->table, t);
    /* the paper's estimator until av_router_set_estimator or the file's metadata say otherwise */
    r->est.weighting = AV_WEIGHTING_HARD;
    r->est.temperature = AV_DEFAULT_TEMPERATURE;
    r->est.normalisation = AV_NORMALISE_CLUSTER;
    return AV_OK;
}

void av__tables_free(av_router *r)
{
    av_table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
    while (t) {
        av_table *older = t->older;
        table_free(t);
        t = older;
    }
    for (size_t i = 0; i < r->est.n_retired; i++)
        free(r->est.retired[i]);
    free(r->est.retired);
}

const av_table *av__table(const av_router *r)
{
    return atomic_load_explicit(&((av_router *)r)->table, memory_order_acquire);
}

int av__retire_locked(av_router *r, void *p)
{
    void **g = realloc(r->est.retired, (r->est.n_retired + 1) * sizeof *g);
    if (!g)
        return av__fail(AV_ENOMEM, "retired list");
    r->est.retired = g;
    g[r->est.n_retired++] = p;
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Rows: the paper's normalisation, optionally of shrunk means
 * ------------------------------------------------------------------------------------------- */
/* When all models are equal the normalised value is 0 for every model: a constant cannot move
   the argmax. */
void av__normalise_means(const double *p, const double *q, size_t m, double *out)
{
    av__normalise_global(p, q, p, q, m, out); /* the cluster's own range */
}

void av__normalise_global(const double *p, const double *q, const double *gp, const double *gq,
                          size_t m, double *out)
{
    double pmin, pmax, qmin, qmax;
    av__minmax(gp, m, &pmin, &pmax);
    av__minmax(gq, m, &qmin, &qmax);
    double pr = pmax - pmin, qr = qmax - qmin;
    for (size_t i = 0; i < m; i++) {
        out[2 * i] = pr > 0.0 ? (p[i] - pmin) / pr : 0.0;
        out[2 * i + 1] = 1.0 - (qr > 0.0 ? (q[i] - qmin) / qr : 0.0);
    }
}

/* kappa = 0 is the paper: a cluster's own mean where it has outcomes, else the global mean.
   kappa > 0 pulls every mean toward the global mean: (sum + kappa*g) / (count + kappa). */
void av__means_from_raw(const double *raw, const double *gp, const double *gq, size_t m,
                        double kappa, double *p, double *q)
{
    for (size_t i = 0; i < m; i++) {
        double c = raw[3 * i], s = raw[3 * i + 1], cs = raw[3 * i + 2];
        if (kappa > 0.0) {
            p[i] = (s + kappa * gp[i]) / (c + kappa);
            q[i] = (cs + kappa * gq[i]) / (c + kappa);
        } else if (c > 0.0) {
            p[i] = s / c;
            q[i] = cs / c;
        } else {
            p[i] = gp[i];
            q[i] = gq[i];
        }
    }
}

/* Row j of the table from the statistics (caller holds the lock or owns the router). */
static void compute_row(const av_router *r, size_t j, double *row)
{
    size_t m = r->m;
    double *raw = row + AV_ROW_NORM * m;
    double p[AV_MAX_MODELS], q[AV_MAX_MODELS], gp[AV_MAX_MODELS], gq[AV_MAX_MODELS];
    for (size_t i = 0; i < m; i++) {
        size_t ji = j * m + i;
        raw[3 * i] = r->count[ji];
        raw[3 * i + 1] = r->sum_score[ji];
        raw[3 * i + 2] = r->sum_cost[ji];
        gp[i] = r->g_score[i] / r->g_count[i];
        gq[i] = r->g_cost[i] / r->g_count[i];
    }
    av__means_from_raw(raw, gp, gq, m, r->est.kappa, p, q);
    av__normalise_means(p, q, m, row);
}

static void publish_row(av_table *t, size_t j, const double *row)
{
    size_t w = AV_ROW_WORDS * t->m;
    uint32_t s = atomic_load_explicit(&t->seq[j], memory_order_relaxed);
    atomic_store_explicit(&t->seq[j], s + 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < w; i++)
        atomic_store_explicit(&t->rows[j * w + i], av__f64_bits(row[i]), memory_order_relaxed);
    atomic_store_explicit(&t->seq[j], s + 2u, memory_order_release);
}

/* A consistent copy: retried while a writer is inside the row (writers touch AV_ROW_WORDS*m
   words, so a retry is short). */
void av__table_read(const av_table *t, size_t j, size_t off, size_t n, double *out)
{
    _Atomic uint64_t *src = t->rows + j * AV_ROW_WORDS * t->m + off;
    for (;;) {
        uint32_t s1 = atomic_load_explicit(&t->seq[j], memory_order_acquire);
        if (s1 & 1u)
            continue;
        for (size_t i = 0; i < n; i++)
            out[i] = av__bits_f64(atomic_load_explicit(&src[i], memory_order_relaxed));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&t->seq[j], memory_order_relaxed) == s1)
            return;
    }
}

double av__table_gmean(const av_table *t, size_t i, int what)
{
    return av__bits_f64(atomic_load_explicit(&t->gmean[2 * i + (size_t)what], memory_order_relaxed));
}

static void refresh_model_globals(av_router *r, av_table *t, size_t i)
{
    double s = r->g_count[i] > 0.0 ? r->g_score[i] / r->g_count[i] : 0.0;
    double c = r->g_count[i] > 0.0 ? r->g_cost[i] / r->g_count[i] : 0.0;
    atomic_store_explicit(&t->gmean[2 * i], av__f64_bits(s), memory_order_relaxed);
    atomic_store_explicit(&t->gmean[2 * i + 1], av__f64_bits(c), memory_order_relaxed);
}

void av__republish_all_locked(av_router *r)
{
    av_table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
    double row[AV_ROW_WORDS * AV_MAX_MODELS];
    for (size_t i = 0; i < r->m; i++)
        refresh_model_globals(r, t, i);
    for (size_t j = 0; j < r->k; j++) {
        compute_row(r, j, row);
        publish_row(t, j, row);
    }
}

int av__router_refresh_all(av_router *r)
{
    size_t m = r->m;
    for (size_t i = 0; i < m; i++) {
        av__model_totals_locked(r, i);
        if (!(r->g_count[i] > 0.0))
            return av__fail(AV_EEMPTY, "model %zu (%s) has no outcome in any cluster", i,
                            r->names[i] ? r->names[i] : "?");
    }
    av__centroid_hash(r, r->centroid_hash);
    av__republish_all_locked(r);
    return AV_OK;
}

av_table *av__table_new(size_t k, size_t m)
{
    return table_new(k, m);
}

void av__table_discard(av_table *t)
{
    table_free(t);
}

void av__table_publish_locked(av_router *r, av_table *t)
{
    av_table *old = atomic_load_explicit(&r->table, memory_order_relaxed);
    /* Fill the new table completely before anyone can see it, then publish: a reader holds either
       the old table (with its own m) or the new one, never a mix. */
    double row[AV_ROW_WORDS * AV_MAX_MODELS];
    for (size_t i = 0; i < t->m; i++)
        refresh_model_globals(r, t, i);
    for (size_t j = 0; j < r->k; j++) {
        compute_row(r, j, row);
        publish_row(t, j, row);
    }
    t->older = old;
    atomic_store_explicit(&r->table, t, memory_order_release);
}

/* ---------------------------------------------------------------------------------------------
 * Feedback
 * ------------------------------------------------------------------------------------------- */
/* Add an outcome (weight w) for model i in cluster j and republish what changed. Caller holds the
   lock. A model's global means move with every outcome, so clusters where it has no outcome of
   its own (and which therefore use those means) are republished too; with shrinkage every
   cluster uses the global means, so every row is. */
bool av__stat_ok(double c, double s, double q, double max_mean)
{
    return isfinite(c) && isfinite(s) && isfinite(q) && c >= 0.0 && c <= AV_STAT_MAX_COUNT &&
           q >= 0.0 && fabs(s) <= max_mean * c && q <= max_mean * c;
}

void av__model_totals_locked(av_router *r, size_t i)
{
    size_t k = r->k, m = r->m;
    double c = 0.0, s = 0.0, q = 0.0;
    for (size_t j = 0; j < k; j++) {
        c += r->count[j * m + i];
        s += r->sum_score[j * m + i];
        q += r->sum_cost[j * m + i];
    }
    r->g_count[i] = c;
    r->g_score[i] = s;
    r->g_cost[i] = q;
}

bool av__outcome_fits_locked(const av_router *r, size_t j, size_t i, double w, double score,
                             double cost)
{
    size_t ji = j * r->m + i;
    return av__stat_ok(r->count[ji] + w, r->sum_score[ji] + w * score,
                       r->sum_cost[ji] + w * cost, AV_STAT_MAX_MEAN);
}

void av__add_outcome_locked(av_router *r, size_t j, size_t i, double w, double score, double cost)
{
    size_t m = r->m, ji = j * m + i;
    av_table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
    r->count[ji] += w;
    r->sum_score[ji] += w * score;
    r->sum_cost[ji] += w * cost;
    av__model_totals_locked(r, i);
    refresh_model_globals(r, t, i);
    double row[AV_ROW_WORDS * AV_MAX_MODELS];
    for (size_t c = 0; c < r->k; c++) {
        if (c == j || r->est.kappa > 0.0 || !(r->count[c * m + i] > 0.0)) {
            compute_row(r, c, row);
            publish_row(t, c, row);
        }
    }
}
