/* Per-cluster statistics, the routing table (the paper's min-max normalised rows plus the raw
   statistics, published under a per-cluster seqlock, the table itself behind an atomic pointer;
   docs/THREADING.md; doubles stored as 64-bit words in atomics, so that concurrent reads are
   defined behaviour), and feedback outcomes. */
#include "stats/stats.h"

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

int av__stats_alloc(av_stats *s, size_t k, size_t m)
{
    size_t km = k * m; /* bounded by the router limits: cannot overflow */
    memset(s, 0, sizeof *s);
    s->k = k;
    s->m = m;
    bool ok = (s->count = calloc(km, sizeof(double))) != NULL;
    ok = ok && (s->sum_score = calloc(km, sizeof(double))) != NULL;
    ok = ok && (s->sum_cost = calloc(km, sizeof(double))) != NULL;
    ok = ok && (s->g_count = calloc(m, sizeof(double))) != NULL;
    ok = ok && (s->g_score = calloc(m, sizeof(double))) != NULL;
    ok = ok && (s->g_cost = calloc(m, sizeof(double))) != NULL;
    av_table *t = ok ? table_new(k, m) : NULL;
    atomic_init(&s->table, t);
    if (!t) {
        av__stats_free(s);
        return AV_ENOMEM;
    }
    return AV_OK;
}

void av__stats_free(av_stats *s)
{
    av_table *t = atomic_load_explicit(&s->table, memory_order_relaxed);
    while (t) {
        av_table *older = t->older;
        table_free(t);
        t = older;
    }
    atomic_store_explicit(&s->table, NULL, memory_order_relaxed);
    free(s->count);
    free(s->sum_score);
    free(s->sum_cost);
    free(s->g_count);
    free(s->g_score);
    free(s->g_cost);
    s->count = s->sum_score = s->sum_cost = s->g_count = s->g_score = s->g_cost = NULL;
}

const av_table *av__stats_table(const av_stats *s)
{
    return atomic_load_explicit(&((av_stats *)s)->table, memory_order_acquire);
}

void av__minmax(const double *v, size_t m, double *lo, double *hi)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t i = 0; i < m; i++) {
        a = fmin(a, v[i]);
        b = fmax(b, v[i]);
    }
    *lo = a;
    *hi = b;
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
static void compute_row(const av_stats *st, double kappa, size_t j, double *row)
{
    size_t m = st->m;
    double *raw = row + AV_ROW_NORM * m;
    double p[AV_MAX_MODELS], q[AV_MAX_MODELS], gp[AV_MAX_MODELS], gq[AV_MAX_MODELS];
    for (size_t i = 0; i < m; i++) {
        size_t ji = j * m + i;
        raw[3 * i] = st->count[ji];
        raw[3 * i + 1] = st->sum_score[ji];
        raw[3 * i + 2] = st->sum_cost[ji];
        gp[i] = st->g_score[i] / st->g_count[i];
        gq[i] = st->g_cost[i] / st->g_count[i];
    }
    av__means_from_raw(raw, gp, gq, m, kappa, p, q);
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

static void refresh_model_globals(const av_stats *st, av_table *t, size_t i)
{
    double s = st->g_count[i] > 0.0 ? st->g_score[i] / st->g_count[i] : 0.0;
    double c = st->g_count[i] > 0.0 ? st->g_cost[i] / st->g_count[i] : 0.0;
    atomic_store_explicit(&t->gmean[2 * i], av__f64_bits(s), memory_order_relaxed);
    atomic_store_explicit(&t->gmean[2 * i + 1], av__f64_bits(c), memory_order_relaxed);
}

/* Every global mean and row of t from the statistics (t covers t->m <= st->m models). */
static void fill_table(const av_stats *st, double kappa, av_table *t)
{
    double row[AV_ROW_WORDS * AV_MAX_MODELS];
    for (size_t i = 0; i < t->m; i++)
        refresh_model_globals(st, t, i);
    for (size_t j = 0; j < st->k; j++) {
        compute_row(st, kappa, j, row);
        publish_row(t, j, row);
    }
}

void av__stats_republish_locked(av_stats *st, double kappa)
{
    fill_table(st, kappa, atomic_load_explicit(&st->table, memory_order_relaxed));
}

int av__stats_refresh(av_stats *st, double kappa, size_t *empty)
{
    for (size_t i = 0; i < st->m; i++) {
        av__stats_totals_locked(st, i);
        if (!(st->g_count[i] > 0.0)) {
            *empty = i;
            return AV_EEMPTY;
        }
    }
    av__stats_republish_locked(st, kappa);
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

void av__stats_publish_locked(av_stats *st, double kappa, av_table *t)
{
    av_table *old = atomic_load_explicit(&st->table, memory_order_relaxed);
    /* Fill the new table completely before anyone can see it, then publish: a reader holds either
       the old table (with its own m) or the new one, never a mix. */
    fill_table(st, kappa, t);
    t->older = old;
    atomic_store_explicit(&st->table, t, memory_order_release);
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

void av__stats_totals_locked(av_stats *st, size_t i)
{
    size_t k = st->k, m = st->m;
    double c = 0.0, s = 0.0, q = 0.0;
    for (size_t j = 0; j < k; j++) {
        c += st->count[j * m + i];
        s += st->sum_score[j * m + i];
        q += st->sum_cost[j * m + i];
    }
    st->g_count[i] = c;
    st->g_score[i] = s;
    st->g_cost[i] = q;
}

bool av__stats_fits_locked(const av_stats *st, size_t j, size_t i, double w, double score,
                             double cost)
{
    size_t ji = j * st->m + i;
    return av__stat_ok(st->count[ji] + w, st->sum_score[ji] + w * score,
                       st->sum_cost[ji] + w * cost, AV_STAT_MAX_MEAN);
}

void av__stats_add_locked(av_stats *st, double kappa, size_t j, size_t i, double w, double score,
                          double cost)
{
    size_t m = st->m, ji = j * m + i;
    av_table *t = atomic_load_explicit(&st->table, memory_order_relaxed);
    st->count[ji] += w;
    st->sum_score[ji] += w * score;
    st->sum_cost[ji] += w * cost;
    av__stats_totals_locked(st, i);
    refresh_model_globals(st, t, i);
    double row[AV_ROW_WORDS * AV_MAX_MODELS];
    for (size_t c = 0; c < st->k; c++) {
        if (c == j || kappa > 0.0 || !(st->count[c * m + i] > 0.0)) {
            compute_row(st, kappa, c, row);
            publish_row(t, c, row);
        }
    }
}
