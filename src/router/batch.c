/* Batched routing (av_route_batch): rows split across threads, blocks of float32 rows through the
   index's multi-query kernel, every row decided exactly as av_route decides it. */
#include "router/router.h"

#include <stdio.h>
#include <stdlib.h>

/* At most this many threads, and one per this many multiply-adds of work. */
#define AV_BATCH_MIN_WORK ((size_t)1 << 24)

/* True when av_route applies the paper's rule as the table holds it (no router-wide soft
   weighting, shrinkage change, global normalisation or guard): only then may the blocked path
   stand in for it. */
static bool paper_rule(const av_router *r)
{
    av_settings st;
    av__settings_default(&r->est, r->top_p, &st);
    return av__settings_paper(&st);
}

/* One row exactly as av_route routes it (the reference the blocked path must equal). */
static int32_t route_row(const av_router *r, const float *q, float alpha)
{
    return av_route(r, q, r->ix.dim, alpha);
}

/* A plain block of nb rows (av__index_block_plain): the nearest clusters of every row from the
   index's multi-query kernel, then per row the paper's rule as av_route applies it. */
static void route_block(const av_router *r, const float *rows, size_t stride, size_t nb,
                        float alpha, int32_t *out)
{
    uint32_t tidx[AV_BATCH_Q][AV_MAX_TOP_P];
    av__index_nearest_block(&r->ix, rows, stride, nb, r->top_p, tidx);
    const av_table *t = av__table(r);
    for (size_t i = 0; i < nb; i++)
        out[i] = av__rule_paper(t, tidx[i], av__n_sel(&r->ix, r->top_p), (double)alpha);
}

/* Rows [0, n) of a batch on the calling thread; errors are left in out (negative codes). */
static void batch_rows(const av_router *r, const float *embeddings, size_t n, size_t row_stride,
                       float alpha, int32_t *out_models)
{
    bool blocked = paper_rule(r);
    for (size_t i0 = 0; i0 < n; i0 += AV_BATCH_Q) {
        size_t nb = n - i0 < AV_BATCH_Q ? n - i0 : AV_BATCH_Q;
        const float *rows = embeddings + i0 * row_stride;
        if (blocked && av__index_block_plain(&r->ix, rows, row_stride, nb))
            route_block(r, rows, row_stride, nb, alpha, out_models + i0);
        else /* a bad, extreme or non-float32 row: the block goes row by row */
            for (size_t i = 0; i < nb; i++)
                out_models[i0 + i] = route_row(r, rows + i * row_stride, alpha);
    }
}

typedef struct batch_job {
    const av_router *r;
    const float *rows;
    size_t n, stride;
    float alpha;
    int32_t *out;
} batch_job;

static void *batch_thread(void *arg)
{
    batch_job *j = arg;
    batch_rows(j->r, j->rows, j->n, j->stride, j->alpha, j->out);
    return NULL;
}

/* The thread count av_route_batch may use: AV_NUM_THREADS if set (1..AV_MAX_BATCH_THREADS), else
   the online CPUs. Resolved once per process (av__once), then only read. */
static av_once threads_once = AV_ONCE_INIT;
static unsigned threads_default = 1;

static void resolve_threads(void)
{
    const char *env = getenv("AV_NUM_THREADS");
    long v = 0;
    if (env && *env) {
        char *end;
        v = strtol(env, &end, 10);
        if (*end != '\0' || v < 1 || v > (long)AV_MAX_BATCH_THREADS) {
            fprintf(stderr, "libavengers: AV_NUM_THREADS=%s is not in 1..%u; using the CPU count\n",
                    env, AV_MAX_BATCH_THREADS);
            v = 0;
        }
    }
    if (v == 0)
        v = av__cpu_count();
    threads_default = v < 1 ? 1u : v > (long)AV_MAX_BATCH_THREADS ? AV_MAX_BATCH_THREADS
                                                                 : (unsigned)v;
}

unsigned av__threads_default(void)
{
    av__once(&threads_once, resolve_threads);
    return threads_default;
}

int av__route_batch_threads(const av_router *r, const float *embeddings, size_t n, size_t dim,
                            size_t row_stride, float alpha, int32_t *out_models, unsigned threads)
{
    int rc = av__check_route_args(r, embeddings, dim, alpha);
    if (rc)
        return rc;
    if (!out_models)
        return av__fail(AV_EINVAL, "out_models is NULL");
    if (row_stride < dim)
        return av__fail(AV_EINVAL, "row_stride=%zu is smaller than dim=%zu", row_stride, dim);
    /* Contiguous slices, whole blocks each; the calling thread takes the first. Every row is routed
       on its own, so the decisions do not depend on the split. */
    size_t blocks = (n + AV_BATCH_Q - 1) / AV_BATCH_Q;
    if (threads > AV_MAX_BATCH_THREADS)
        threads = AV_MAX_BATCH_THREADS;
    if (threads > blocks)
        threads = (unsigned)blocks;
    if (threads < 1)
        threads = 1;
    size_t per = (blocks + threads - 1) / threads * AV_BATCH_Q;
    batch_job jobs[AV_MAX_BATCH_THREADS];
    av_thread tid[AV_MAX_BATCH_THREADS];
    bool started[AV_MAX_BATCH_THREADS] = {false};
    for (unsigned t = 0; t < threads; t++) {
        size_t a = (size_t)t * per, b = a + per < n ? a + per : n;
        jobs[t] = (batch_job){r, embeddings + a * row_stride, a < n ? b - a : 0, row_stride,
                              alpha, out_models + (a < n ? a : n)};
        /* a thread that cannot start is done by the caller below */
        started[t] = t > 0 && jobs[t].n > 0 &&
                     av__thread_start(&tid[t], batch_thread, &jobs[t]) == 0;
    }
    for (unsigned t = 0; t < threads; t++)
        if (!started[t])
            batch_thread(&jobs[t]);
    for (unsigned t = 1; t < threads; t++)
        if (started[t])
            av__thread_join(&tid[t]);
    /* The first failing row's code, and av_last_error() describing that row (on this thread). */
    for (size_t i = 0; i < n; i++)
        if (out_models[i] < 0) {
            int first = out_models[i];
            (void)route_row(r, embeddings + i * row_stride, alpha);
            return av__fail_context(first, "row %zu", i);
        }
    return AV_OK;
}

AV_API int av_route_batch(const av_router *r, const float *embeddings, size_t n, size_t dim,
                          size_t row_stride, float alpha, int32_t *out_models)
{
    unsigned threads_max = av__threads_default();
    /* One more thread per AV_BATCH_MIN_WORK multiply-adds: starting a thread costs tens of
       microseconds, which must stay small next to its share of the work. */
    size_t kd = r ? r->ix.k * r->ix.dim : 0;
    size_t work = kd && n > SIZE_MAX / kd ? SIZE_MAX : n * kd;
    size_t useful = work / AV_BATCH_MIN_WORK + 1;
    unsigned threads = useful < threads_max ? (unsigned)useful : threads_max;
    return av__route_batch_threads(r, embeddings, n, dim, row_stride, alpha, out_models, threads);
}
