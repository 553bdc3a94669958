/* Per-cluster statistics, their min-max normalised table (what av_route reads), its publication under
   a per-cluster seqlock (docs/THREADING.md), the paper's scoring, and feedback outcomes. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Normalised rows and their publication (per-cluster seqlock; docs/THREADING.md)
 * ------------------------------------------------------------------------------------------- */
static uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Row j of the paper's table: for each model the min-max normalised mean score p~ and 1 - q~ (the
   normalised mean cost), a model without outcomes in the cluster taking its global means. When all
   models are equal the normalised value is 0 for every model: a constant cannot move the argmax. */
static void compute_row(const av_router *r, size_t j, double *row)
{
    size_t m = r->m;
    double pmin = INFINITY, pmax = -INFINITY, qmin = INFINITY, qmax = -INFINITY;
    for (size_t i = 0; i < m; i++) {
        size_t ji = j * m + i;
        double p, q;
        if (r->count[ji] > 0.0) {
            p = r->sum_score[ji] / r->count[ji];
            q = r->sum_cost[ji] / r->count[ji];
        } else {
            p = r->g_score[i] / r->g_count[i];
            q = r->g_cost[i] / r->g_count[i];
        }
        row[2 * i] = p;
        row[2 * i + 1] = q;
        pmin = fmin(pmin, p);
        pmax = fmax(pmax, p);
        qmin = fmin(qmin, q);
        qmax = fmax(qmax, q);
    }
    double pr = pmax - pmin, qr = qmax - qmin;
    for (size_t i = 0; i < m; i++) {
        double pn = pr > 0.0 ? (row[2 * i] - pmin) / pr : 0.0;
        double qn = qr > 0.0 ? (row[2 * i + 1] - qmin) / qr : 0.0;
        row[2 * i] = pn;
        row[2 * i + 1] = 1.0 - qn;
    }
}

static void publish_row(av_router *r, size_t j, const double *row)
{
    size_t w = 2 * r->m;
    uint32_t s = atomic_load_explicit(&r->seq[j], memory_order_relaxed);
    atomic_store_explicit(&r->seq[j], s + 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < w; i++)
        atomic_store_explicit(&r->norm[j * w + i], dbits(row[i]), memory_order_relaxed);
    atomic_store_explicit(&r->seq[j], s + 2u, memory_order_release);
}

/* A consistent copy of row j: retried while a writer is inside it (writers touch 2m words). */
static void read_row(const av_router *r, size_t j, double *row)
{
    size_t w = 2 * r->m;
    _Atomic uint64_t *src = r->norm + j * w;
    for (;;) {
        uint32_t s1 = atomic_load_explicit(&r->seq[j], memory_order_acquire);
        if (s1 & 1u)
            continue;
        for (size_t i = 0; i < w; i++)
            row[i] = bitsd(atomic_load_explicit(&src[i], memory_order_relaxed));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&r->seq[j], memory_order_relaxed) == s1)
            return;
    }
}

static void refresh_model_globals(av_router *r, size_t i)
{
    double c = r->g_count[i] > 0.0 ? r->g_cost[i] / r->g_count[i] : 0.0;
    atomic_store_explicit(&r->gmean_cost[i], dbits(c), memory_order_relaxed);
}

int av__router_refresh_all(av_router *r)
{
    size_t k = r->k, m = r->m;
    for (size_t i = 0; i < m; i++) {
        double c = 0, s = 0, q = 0;
        for (size_t j = 0; j < k; j++) {
            c += r->count[j * m + i];
            s += r->sum_score[j * m + i];
            q += r->sum_cost[j * m + i];
        }
        r->g_count[i] = c;
        r->g_score[i] = s;
        r->g_cost[i] = q;
        if (!(c > 0.0))
            return av__fail(AV_EEMPTY, "model %zu (%s) has no outcome in any cluster", i,
                            r->names[i] ? r->names[i] : "?");
        refresh_model_globals(r, i);
    }
    double row[2 * AV_MAX_MODELS];
    for (size_t j = 0; j < k; j++) {
        compute_row(r, j, row);
        publish_row(r, j, row);
    }
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Scoring
 * ------------------------------------------------------------------------------------------- */
int32_t av__score_models(const av_router *r, const uint32_t *clusters, const double *weights,
                         size_t p, double alpha, double *scores)
{
    size_t m = r->m;
    double acc[AV_MAX_MODELS] = {0};
    double row[2 * AV_MAX_MODELS];
    double beta = 1.0 - alpha;
    for (size_t c = 0; c < p; c++) {
        read_row(r, clusters[c], row);
        double w = weights ? weights[c] : 1.0;
        for (size_t i = 0; i < m; i++)
            acc[i] += w * (alpha * row[2 * i] + beta * row[2 * i + 1]);
    }
    size_t best = 0;
    double best_cost = bitsd(atomic_load_explicit(&r->gmean_cost[0], memory_order_relaxed));
    for (size_t i = 1; i < m; i++) {
        if (acc[i] > acc[best]) {
            best = i;
            best_cost = bitsd(atomic_load_explicit(&r->gmean_cost[i], memory_order_relaxed));
        } else if (acc[i] == acc[best]) {
            double ci = bitsd(atomic_load_explicit(&r->gmean_cost[i], memory_order_relaxed));
            if (ci < best_cost) {
                best = i;
                best_cost = ci;
            }
        }
    }
    if (scores)
        memcpy(scores, acc, m * sizeof(double));
    return (int32_t)best;
}

/* ---------------------------------------------------------------------------------------------
 * Feedback
 * ------------------------------------------------------------------------------------------- */
/* Add an outcome (weight w) for model i in cluster j and republish what changed. Caller holds the
   lock. A model's global means move with every outcome, so clusters where it has no outcome of
   its own (and which therefore use those means) are republished too. */
void av__add_outcome_locked(av_router *r, size_t j, size_t i, double w, double score, double cost)
{
    size_t m = r->m, ji = j * m + i;
    r->count[ji] += w;
    r->sum_score[ji] += w * score;
    r->sum_cost[ji] += w * cost;
    r->g_count[i] += w;
    r->g_score[i] += w * score;
    r->g_cost[i] += w * cost;
    refresh_model_globals(r, i);
    double row[2 * AV_MAX_MODELS];
    for (size_t c = 0; c < r->k; c++) {
        if (c == j || !(r->count[c * m + i] > 0.0)) {
            compute_row(r, c, row);
            publish_row(r, c, row);
        }
    }
}

