/* The builder: collects replay rows (embedding, per-model score and cost), fits k-means and turns
   the clusters into a router's statistics. */
#include "train/train.h"

#include <stddef.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AV_BUILDER_MIN_CAP 64u
#define AV_MAX_EPOCH 253402300799ull /* 9999-12-31T23:59:59Z, the last time "%Y" writes in 4 digits */
/* Member b of an ensemble fits k-means with seed + b * this (the golden ratio in 64 bits), so
   that ensembles of different sizes share their first members. */
#define AV_MEMBER_SEED_STEP 0x9E3779B97F4A7C15ull

/* Seed of the blocks' hashes (any constant: the hashes never leave the process). */
#define AV_SOURCE_HASH_SEED 0x726F77736F757263ull /* "rowsourc" */

/* The rows in the order they were added: runs of copied rows (rows [xoff, xoff + n) of X),
   borrowed arrays (the caller's, raw) and row sources (read through the caller's callback). */
typedef struct bseg {
    bool borrowed; /* not in X: a borrowed array or a source */
    size_t n, xoff;
    const float *X, *scores, *costs; /* borrowed */
    double *inv;                     /* borrowed, source: each row's 1 / norm (av__normalize's) */
    av_source_seg *source;           /* source */
} bseg;

struct av_builder {
    size_t dim, m;
    char **names;
    float *X;      /* nx x dim, normalised: the copied rows */
    float *scores; /* nx x m */
    float *costs;  /* nx x m */
    size_t nx, cap;
    size_t n;      /* every row, copied or borrowed */
    bseg *segs;
    size_t n_seg, seg_cap;
    double inertia;
    av_mutex read_lock; /* serialises the read calls of sources without AV_ROW_SOURCE_CONCURRENT */
};

AV_API int av_builder_new(av_builder **out, size_t dim, size_t n_models,
                          const char *const *model_names)
{
    if (!out)
        return av__fail(AV_EINVAL, "out is NULL");
    *out = NULL;
    if (dim == 0 || dim > AV_MAX_DIM || n_models == 0 || n_models > AV_MAX_MODELS)
        return av__fail(AV_ELIMIT, "dim=%zu (1..%u), n_models=%zu (1..%u)", dim, AV_MAX_DIM,
                        n_models, AV_MAX_MODELS);
    int rc = av__check_names(model_names, n_models);
    if (rc)
        return rc;
    av_builder *b = calloc(1, sizeof *b);
    if (!b || !(b->names = calloc(n_models, sizeof(char *)))) {
        free(b);
        return av__fail(AV_ENOMEM, "builder");
    }
    b->dim = dim;
    b->m = n_models;
    b->inertia = -1.0;
    av__mutex_init(&b->read_lock);
    for (size_t i = 0; i < n_models; i++)
        if (!(b->names[i] = av__strdup(model_names[i]))) {
            av_builder_free(b);
            return av__fail(AV_ENOMEM, "model names");
        }
    *out = b;
    return AV_OK;
}

static void free_source(av_source_seg *src)
{
    if (src)
        free(src->hash);
    free(src);
}

static void free_seg(bseg *g)
{
    free(g->inv);
    free_source(g->source);
}

AV_API void av_builder_free(av_builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->m; i++)
        free(b->names[i]);
    free(b->names);
    free(b->X);
    free(b->scores);
    free(b->costs);
    for (size_t s = 0; s < b->n_seg; s++)
        free_seg(&b->segs[s]);
    free(b->segs);
    av__mutex_destroy(&b->read_lock);
    free(b);
}

AV_API size_t av_builder_n_rows(const av_builder *b)
{
    return b ? b->n : 0;
}

AV_API double av_builder_inertia(const av_builder *b)
{
    return b ? b->inertia : -1.0;
}

static int grow(av_builder *b)
{
    size_t cap = b->cap ? b->cap * 2 : AV_BUILDER_MIN_CAP, xs, ms;
    if (!av__mul_ok(cap, b->dim * sizeof(float), &xs) || !av__mul_ok(cap, b->m * sizeof(float), &ms))
        return av__fail(AV_ELIMIT, "builder rows overflow");
    float *X = realloc(b->X, xs);
    if (X)
        b->X = X;
    float *s = realloc(b->scores, ms);
    if (s)
        b->scores = s;
    float *c = realloc(b->costs, ms);
    if (c)
        b->costs = c;
    if (!X || !s || !c)
        return av__fail(AV_ENOMEM, "builder rows (%zu)", cap);
    b->cap = cap;
    return AV_OK;
}

/* A new segment at the end (n rows, filled in by the caller). */
static bseg *push_seg(av_builder *b)
{
    if (b->n_seg == b->seg_cap) {
        size_t cap = b->seg_cap ? b->seg_cap * 2 : 4;
        bseg *s = realloc(b->segs, cap * sizeof *s);
        if (!s) {
            av__fail(AV_ENOMEM, "builder segments");
            return NULL;
        }
        b->segs = s;
        b->seg_cap = cap;
    }
    bseg *s = &b->segs[b->n_seg++];
    memset(s, 0, sizeof *s);
    return s;
}

/* The outcomes of the builder's row `row` (its index among all rows). */
static int check_outcome_row(const av_builder *b, size_t row, const float *scores,
                             const float *costs)
{
    for (size_t i = 0; i < b->m; i++) {
        /* NaN marks a missing outcome; infinities and negative costs are errors. */
        if (isinf(scores[i]) || isinf(costs[i]) || (!isnan(costs[i]) && costs[i] < 0.0f))
            return av__fail(AV_EVALUE, "row %zu, model %zu (%s): score=%g cost=%g", row, i,
                            b->names[i], (double)scores[i], (double)costs[i]);
    }
    return AV_OK;
}

AV_API int av_builder_add(av_builder *b, const float *embedding, size_t dim, const float *scores,
                          const float *costs)
{
    if (!b || !embedding || !scores || !costs)
        return av__fail(AV_EINVAL, "builder, embedding, scores or costs is NULL");
    if (dim != b->dim)
        return av__fail(AV_EDIM, "embedding has dim %zu, builder expects %zu", dim, b->dim);
    int rc = check_outcome_row(b, b->n, scores, costs);
    if (rc)
        return rc;
    if (b->nx == b->cap && (rc = grow(b)) != AV_OK)
        return rc;
    if ((rc = av__normalize(b->X + b->nx * b->dim, embedding, dim)) != AV_OK)
        return av__fail(rc, "row %zu", b->n); /* the code's text says what is wrong */
    bseg *sg = b->n_seg && !b->segs[b->n_seg - 1].borrowed ? &b->segs[b->n_seg - 1] : NULL;
    if (!sg) {
        if (!(sg = push_seg(b)))
            return AV_ENOMEM;
        sg->xoff = b->nx;
    }
    memcpy(b->scores + b->nx * b->m, scores, b->m * sizeof(float));
    memcpy(b->costs + b->nx * b->m, costs, b->m * sizeof(float));
    sg->n++;
    b->nx++;
    b->n++;
    return AV_OK;
}

AV_API int av_builder_add_borrowed(av_builder *b, const float *embeddings, size_t n, size_t dim,
                                   const float *scores, const float *costs)
{
    if (!b || (n > 0 && (!embeddings || !scores || !costs)))
        return av__fail(AV_EINVAL, "builder, embeddings, scores or costs is NULL");
    if (dim != b->dim)
        return av__fail(AV_EDIM, "embeddings have dim %zu, builder expects %zu", dim, b->dim);
    size_t tot;
    if (n > SIZE_MAX - b->n || !av__mul_ok(n, dim, &tot) || !av__mul_ok(n, b->m, &tot))
        return av__fail(AV_ELIMIT, "builder rows overflow");
    if (n == 0)
        return AV_OK;
    double *inv = malloc(n * sizeof(double));
    if (!inv)
        return av__fail(AV_ENOMEM, "norms of %zu borrowed rows", n);
    size_t bad = av__inv_norms(embeddings, n, dim, inv); /* inv_norm's values, in blocks */
    if (bad < n) {
        free(inv);
        return av__fail(AV_EVECTOR, "row %zu", b->n + bad);
    }
    int rc = av__check_outcomes(scores, costs, n, b->m, "av_builder_add_borrowed");
    bseg *sg = rc ? NULL : push_seg(b);
    if (!sg) {
        free(inv);
        return rc ? rc : AV_ENOMEM;
    }
    *sg = (bseg){true, n, 0, embeddings, scores, costs, inv, NULL};
    b->n += n;
    return AV_OK;
}

/* ---- row sources ---- */
#define AV_ROW_SOURCE_MIN_SIZE_ AV_SIZE_THROUGH(av_row_source, block_rows)

AV_API void av_row_source_init_sized(av_row_source *src, size_t size)
{
    static const av_row_source defaults = AV_ROW_SOURCE_INIT;
    av__struct_init(src, size, &defaults, sizeof defaults);
}

int av__source_buf_alloc(av_source_buf *buf, size_t rows, size_t dim, size_t m)
{
    /* sizes checked when the source was added (rows x (dim + 2 m) floats fit) */
    buf->X = malloc(rows * dim * sizeof(float));
    buf->scores = malloc(rows * m * sizeof(float));
    buf->costs = malloc(rows * m * sizeof(float));
    if (!buf->X || !buf->scores || !buf->costs) {
        av__source_buf_free(buf);
        return av__fail(AV_ENOMEM, "a row source's block buffer (%zu rows)", rows);
    }
    return AV_OK;
}

void av__source_buf_free(av_source_buf *buf)
{
    free(buf->X), free(buf->scores), free(buf->costs);
    buf->X = buf->scores = buf->costs = NULL;
}

size_t av__source_block_rows(const av_source_seg *s, size_t blk)
{
    size_t r0 = blk * s->block;
    return s->src.n_rows - r0 < s->block ? s->src.n_rows - r0 : s->block;
}

static uint64_t block_hash(const av_source_seg *s, size_t n, const av_source_buf *buf)
{
    av_xxh64 h;
    av__xxh64_init(&h, AV_SOURCE_HASH_SEED);
    av__xxh64_update(&h, buf->X, n * s->src.dim * sizeof(float));
    av__xxh64_update(&h, buf->scores, n * s->m * sizeof(float));
    av__xxh64_update(&h, buf->costs, n * s->m * sizeof(float));
    return av__xxh64_final(&h);
}

/* The read call of block blk, under the lock unless the source is concurrent; its hash. */
static int read_block(const av_source_seg *s, size_t blk, const av_source_buf *buf,
                      av_source_err *err, uint64_t *hash)
{
    size_t r0 = blk * s->block, n = av__source_block_rows(s, blk);
    if (s->lock)
        av__mutex_lock(s->lock);
    int v = s->src.read(s->src.user, r0, n, buf->X, buf->scores, buf->costs);
    if (s->lock)
        av__mutex_unlock(s->lock);
    if (v != 0) {
        snprintf(err->text, sizeof err->text, "the row source's read of rows [%zu, %zu) returned %d",
                 r0, r0 + n, v);
        return AV_ECANCELED;
    }
    *hash = block_hash(s, n, buf);
    return AV_OK;
}

int av__source_read(const av_source_seg *s, size_t blk, const av_source_buf *buf,
                    av_source_err *err)
{
    uint64_t h;
    int rc = read_block(s, blk, buf, err, &h);
    if (rc)
        return rc;
    if (h != s->hash[blk]) {
        size_t r0 = blk * s->block;
        snprintf(err->text, sizeof err->text, "rows [%zu, %zu) of a row source differ from what "
                 "its read returned for them before (read must return the same rows every time)",
                 r0, r0 + av__source_block_rows(s, blk));
        return AV_EIO;
    }
    return AV_OK;
}

/* Rows per read: the hint (at most n_rows), else the largest power of two whose rows fit in
   AV_ROW_SOURCE_BLOCK_BYTES, at most AV_KMEANS_CHUNK_ROWS and n_rows. */
static size_t source_block(const av_row_source *src, size_t m)
{
    size_t n = src->n_rows, blk = src->block_rows;
    if (blk == 0) {
        size_t row = (src->dim + 2 * m) * sizeof(float);
        for (blk = 1; blk < AV_KMEANS_CHUNK_ROWS && 2 * blk * row <= AV_ROW_SOURCE_BLOCK_BYTES;)
            blk *= 2;
    }
    return blk < n ? blk : n;
}

/* The library's copy of a source, checked against the builder. */
static int check_source(const av_builder *b, const av_row_source *o)
{
    size_t n = o->n_rows, tot;
    if (!o->read)
        return av__fail(AV_EINVAL, "av_row_source.read is NULL");
    if (o->flags & ~AV_ROW_SOURCE_CONCURRENT)
        return av__fail(AV_EINVAL, "av_row_source.flags=%#x has unknown bits %#x", o->flags,
                        o->flags & ~AV_ROW_SOURCE_CONCURRENT);
    if (o->dim != b->dim)
        return av__fail(AV_EDIM, "the row source has dim %zu, builder expects %zu", o->dim,
                        b->dim);
    if (n > SIZE_MAX - b->n || !av__mul_ok(n, b->dim + 2 * b->m, &tot) ||
        !av__mul_ok(tot, sizeof(float), &tot) || !av__mul_ok(n, sizeof(double), &tot))
        return av__fail(AV_ELIMIT, "builder rows overflow");
    return AV_OK;
}

AV_API int av_builder_add_source(av_builder *b, const av_row_source *src)
{
    if (!b || !src)
        return av__fail(AV_EINVAL, "builder or source is NULL");
    av_source_seg *s = calloc(1, sizeof *s);
    if (!s)
        return av__fail(AV_ENOMEM, "row source");
    int rc = av__struct_in(&s->src, sizeof s->src, src, AV_ROW_SOURCE_MIN_SIZE_, "av_row_source");
    if (rc == AV_OK)
        rc = check_source(b, &s->src);
    size_t n = s->src.n_rows, d = b->dim, m = b->m;
    if (rc || n == 0) {
        free_source(s);
        return rc;
    }
    s->m = m;
    s->block = source_block(&s->src, m);
    s->n_blocks = (n + s->block - 1) / s->block;
    s->lock = s->src.flags & AV_ROW_SOURCE_CONCURRENT ? NULL : &b->read_lock;
    double *inv = malloc(n * sizeof(double));
    s->hash = malloc(s->n_blocks * sizeof(uint64_t));
    av_source_buf buf = {0};
    if (!inv || !s->hash)
        rc = av__fail(AV_ENOMEM, "norms of %zu source rows", n);
    else
        rc = av__source_buf_alloc(&buf, s->block, d, m);
    /* the first read: every row checked, its inverse norm and each block's hash kept */
    for (size_t blk = 0; rc == AV_OK && blk < s->n_blocks; blk++) {
        av_source_err err;
        size_t r0 = blk * s->block, nb = av__source_block_rows(s, blk);
        if ((rc = read_block(s, blk, &buf, &err, &s->hash[blk])) != AV_OK) {
            av__fail(rc, "%s", err.text);
            break;
        }
        size_t bad = av__inv_norms(buf.X, nb, d, inv + r0); /* the rows before it are done */
        for (size_t r = 0; r < nb && rc == AV_OK; r++) {
            if (r == bad)
                rc = av__fail(AV_EVECTOR, "row %zu (row %zu of the source)", b->n + r0 + r, r0 + r);
            else
                rc = check_outcome_row(b, b->n + r0 + r, buf.scores + r * m, buf.costs + r * m);
        }
    }
    av__source_buf_free(&buf);
    bseg *sg = rc ? NULL : push_seg(b);
    if (!sg) {
        free(inv);
        free_source(s);
        return rc ? rc : AV_ENOMEM;
    }
    *sg = (bseg){true, n, 0, NULL, NULL, NULL, inv, s};
    b->n += n;
    return AV_OK;
}

/* A source's rows read once more (each block checked against its first read), normalised into
   X, their outcomes into sc and co. */
static int copy_source(const bseg *g, float *X, float *sc, float *co)
{
    const av_source_seg *s = g->source;
    size_t d = s->src.dim, m = s->m;
    av_source_buf buf;
    int rc = av__source_buf_alloc(&buf, s->block, d, m);
    for (size_t blk = 0; rc == AV_OK && blk < s->n_blocks; blk++) {
        av_source_err err;
        size_t r0 = blk * s->block, nb = av__source_block_rows(s, blk);
        if ((rc = av__source_read(s, blk, &buf, &err)) != AV_OK) {
            rc = av__fail(rc, "%s", err.text);
            break;
        }
        for (size_t i = 0; i < nb; i++)
            av__scale_row(X + (r0 + i) * d, buf.X + i * d, d, g->inv[r0 + i]);
        memcpy(sc + r0 * m, buf.scores, nb * m * sizeof(float));
        memcpy(co + r0 * m, buf.costs, nb * m * sizeof(float));
    }
    av__source_buf_free(&buf);
    return rc;
}

/* Every row copied and normalised into X, in order (FULL and tuning read X). */
static int materialise(av_builder *b)
{
    bool any = false;
    for (size_t s = 0; s < b->n_seg; s++)
        any |= b->segs[s].borrowed;
    if (!any)
        return AV_OK;
    size_t xs, ms;
    if (!av__mul_ok(b->n, b->dim * sizeof(float), &xs) || !av__mul_ok(b->n, b->m * sizeof(float), &ms))
        return av__fail(AV_ELIMIT, "builder rows overflow");
    float *X = malloc(xs ? xs : 1), *sc = malloc(ms ? ms : 1), *co = malloc(ms ? ms : 1);
    if (!X || !sc || !co) {
        free(X), free(sc), free(co);
        return av__fail(AV_ENOMEM, "a copy of the builder's %zu rows", b->n);
    }
    size_t r = 0, d = b->dim, m = b->m;
    int rc = AV_OK;
    for (size_t s = 0; s < b->n_seg && rc == AV_OK; s++) {
        const bseg *g = &b->segs[s];
        if (g->source)
            rc = copy_source(g, X + r * d, sc + r * m, co + r * m);
        else if (g->borrowed)
            for (size_t i = 0; i < g->n; i++)
                av__scale_row(X + (r + i) * d, g->X + i * d, d, g->inv[i]);
        else
            memcpy(X + r * d, b->X + g->xoff * d, g->n * d * sizeof(float));
        if (!g->source) {
            memcpy(sc + r * m, g->borrowed ? g->scores : b->scores + g->xoff * m,
                   g->n * m * sizeof(float));
            memcpy(co + r * m, g->borrowed ? g->costs : b->costs + g->xoff * m,
                   g->n * m * sizeof(float));
        }
        r += g->n;
    }
    if (rc) { /* the builder keeps its rows as they were */
        free(X), free(sc), free(co);
        return rc;
    }
    free(b->X), free(b->scores), free(b->costs);
    for (size_t s = 0; s < b->n_seg; s++)
        free_seg(&b->segs[s]);
    b->X = X;
    b->scores = sc;
    b->costs = co;
    b->nx = b->cap = b->n;
    b->n_seg = 1;
    b->segs[0] = (bseg){false, b->n, 0, NULL, NULL, NULL, NULL, NULL};
    return AV_OK;
}

static int set_meta_u(av_router *r, const char *key, unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    return av__meta_set(r, key, buf);
}

static int set_meta_g(av_router *r, const char *key, double v)
{
    return av__set_meta_number(r, key, "%.17g", v);
}

/* The "created" time: SOURCE_DATE_EPOCH (reproducible-builds.org) when it holds a whole number of
   seconds, so that identical trainings write identical files; otherwise the current time. */
static time_t creation_time(void)
{
    const char *e = getenv("SOURCE_DATE_EPOCH");
    if (e && *e >= '0' && *e <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(e, &end, 10);
        if (errno == 0 && *end == '\0' && v <= AV_MAX_EPOCH)
            return (time_t)v;
    }
    return time(NULL);
}

static int record_meta(av_router *r, const av_fit_options *o, size_t n, double inertia,
                       uint32_t n_iter, const av_sampled_info *sampled)
{
    char when[32];
    time_t now = creation_time();
    struct tm tmv;
    if (!av__gmtime(now, &tmv) || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv) == 0)
        snprintf(when, sizeof when, "unknown");
    int rc = av_router_set_meta(r, "trainer", "libavengers " AV_VERSION_STRING);
    if (!rc) rc = av_router_set_meta(r, "created", when);
    if (!rc) rc = av_router_set_meta(r, "algorithm", sampled ? "sampled kmeans++/lloyd"
                                                             : "kmeans++/lloyd");
    if (!rc && sampled) rc = set_meta_u(r, "sample_rows", sampled->sample_rows);
    if (!rc) rc = set_meta_u(r, "n_clusters", o->n_clusters);
    if (!rc) rc = set_meta_u(r, "top_p", o->top_p);
    if (!rc) rc = set_meta_u(r, "n_init", o->n_init);
    if (!rc) rc = set_meta_u(r, "max_iter", o->max_iter);
    if (!rc) rc = set_meta_g(r, "tol", (double)o->tol);
    if (!rc) rc = set_meta_u(r, "seed", (unsigned long long)o->seed);
    if (!rc) rc = set_meta_u(r, "n_train_rows", n);
    if (!rc) rc = set_meta_g(r, "inertia", inertia);
    if (!rc) rc = set_meta_u(r, "n_iter", n_iter);
    if (!rc) rc = set_meta_u(r, "embedder_dim", r->ix.dim);
    if (!rc && o->embedder_id && *o->embedder_id)
        rc = av_router_set_meta(r, "embedder_id", o->embedder_id);
    return rc;
}

/* Copy the caller's options over the defaults, reading no more than its struct_size. */
int av__read_fit_options(const av_fit_options *in, av_fit_options *o)
{
    av_fit_options_init(o);
    if (!in)
        return AV_OK;
    int rc = av__struct_in(o, sizeof *o, in, AV_fit_options_MIN_SIZE_, "av_fit_options");
    if (rc)
        return rc;
    /* reserved0 lies in the 1.0/1.1 layout's tail padding: for a caller of that size it is
       padding (any bytes), a member only for a caller that knows the members after it */
    if (in->struct_size <= offsetof(av_fit_options, algorithm))
        o->reserved0 = 0;
    if (o->n_clusters == 0 || o->n_clusters > AV_MAX_CLUSTERS)
        return av__fail(AV_EINVAL, "n_clusters=%u (1..%u)", o->n_clusters, AV_MAX_CLUSTERS);
    if (o->reserved0 != 0 || o->reserved1 != 0)
        return av__fail(AV_EINVAL, "av_fit_options.reserved%d=%u: must be 0", o->reserved0 ? 0 : 1,
                        o->reserved0 ? o->reserved0 : o->reserved1);
    if (o->members == 0) /* a struct from before the field, or zeroed: the paper's */
        o->members = 1;
    if (o->members > AV_MAX_MEMBERS || (size_t)o->members * o->n_clusters > AV_MAX_CLUSTERS)
        return av__fail(AV_EINVAL, "members=%u (1..%u, members * n_clusters <= %u)", o->members,
                        AV_MAX_MEMBERS, AV_MAX_CLUSTERS);
    if ((rc = av__check_top_p((size_t)o->members * o->n_clusters, o->members, o->top_p)) != AV_OK)
        return rc;
    if (o->n_init == 0 || o->max_iter == 0)
        return av__fail(AV_EINVAL, "n_init and max_iter must be at least 1");
    if (!(o->tol >= 0.0f) || !isfinite(o->tol))
        return av__fail(AV_EINVAL, "tol=%g must be finite and >= 0", (double)o->tol);
    if (o->centroid_type > AV_CENTROIDS_INT8)
        return av__fail(AV_EINVAL, "unknown centroid type %u", o->centroid_type);
    if (o->algorithm > AV_KMEANS_SAMPLED)
        return av__fail(AV_EINVAL, "unknown k-means algorithm %u (AV_KMEANS_AUTO, _FULL or "
                                   "_SAMPLED)", o->algorithm);
    return AV_OK;
}

/* After materialise(): every row is in X. */
void av__builder_view(const av_builder *b, av_builder_view *v)
{
    v->n = b->n;
    v->dim = b->dim;
    v->m = b->m;
    v->X = b->X;
    v->scores = b->scores;
    v->costs = b->costs;
    v->names = (const char *const *)b->names;
}

/* The router's shell: names, members, top_p (av_builder_fit's first steps). */
static int new_router(const av_builder *b, const av_fit_options *o, av_router **out)
{
    av_router *r = NULL;
    int rc = av__router_alloc(&r, b->dim, (size_t)o->members * o->n_clusters, b->m, 1u,
                              o->centroid_type);
    if (rc)
        return rc;
    if ((rc = av__router_set_members(r, o->members)) != AV_OK ||
        (rc = av_router_set_top_p(r, o->top_p)) != AV_OK) {
        av_router_free(r);
        return rc;
    }
    for (size_t i = 0; i < b->m; i++)
        if (!(r->names[i] = av__strdup(b->names[i]))) {
            av_router_free(r);
            return av__fail(AV_ENOMEM, "model names");
        }
    *out = r;
    return AV_OK;
}

/* AV_KMEANS_SAMPLED (scale.c) over the builder's segments, member after member. */
static int fit_sampled(av_builder *b, const av_fit_options *o, av_router **out)
{
    if (b->n < o->n_clusters)
        return av__fail(AV_EEMPTY, "%zu rows cannot make %u clusters", b->n, o->n_clusters);
    if (b->n > AV_KMEANS_MAX_ROWS)
        return av__fail(AV_ELIMIT, "SAMPLED k-means of %zu rows: at most %u (the fixed-point "
                                   "sums' bound)", b->n, AV_KMEANS_MAX_ROWS);
    size_t nb = o->members, kb = o->n_clusters, d = b->dim, m = b->m;
    av_row_seg *segs = calloc(b->n_seg ? b->n_seg : 1, sizeof *segs);
    float *C = av__aligned_alloc(nb * kb * d * sizeof(float));
    av_router *r = NULL;
    int rc = AV_OK;
    if (!segs || !C) {
        rc = av__fail(AV_ENOMEM, "SAMPLED k-means centroids");
        goto done;
    }
    size_t max_block = 0;
    for (size_t s = 0; s < b->n_seg; s++) {
        const bseg *g = &b->segs[s];
        segs[s] = g->borrowed ? (av_row_seg){g->X, false, g->inv, g->scores, g->costs, g->n,
                                             g->source}
                              : (av_row_seg){b->X + g->xoff * d, true, NULL,
                                             b->scores + g->xoff * m, b->costs + g->xoff * m, g->n,
                                             NULL};
        if (g->source && g->source->block > max_block)
            max_block = g->source->block;
    }
    av_rows src = {b->n, d, m, b->n_seg, segs, max_block};
    if ((rc = new_router(b, o, &r)) != AV_OK)
        goto done;
    av_fit_clock clk = {av__now()};
    double inertia = 0.0;
    av_sampled_info info = {0}, first = {0};
    uint32_t passes = 0;
    for (size_t mb = 0; mb < nb; mb++) {
        size_t off = mb * kb * m;
        if ((rc = av__fit_sampled(&src, o, (uint32_t)mb, &clk, C + mb * kb * d,
                                  r->st.count + off, r->st.sum_score + off,
                                  r->st.sum_cost + off, &info)) != AV_OK)
            goto done;
        if (mb == 0)
            first = info;
        inertia += info.inertia / (double)nb;
        passes = info.passes > passes ? info.passes : passes;
    }
    if ((rc = av__index_set_centroids(&r->ix, C)) != AV_OK ||
        (rc = av__router_refresh_all(r)) != AV_OK ||
        (rc = record_meta(r, o, b->n, inertia, passes, &first)) != AV_OK)
        goto done;
    b->inertia = inertia;
    *out = r;
    r = NULL;
done:
    av_router_free(r);
    av__aligned_free(C);
    free(segs);
    return rc;
}

AV_API int av_builder_fit(av_builder *b, const av_fit_options *opts, av_router **out)
{
    if (!b || !out)
        return av__fail(AV_EINVAL, "builder or out is NULL");
    *out = NULL;
    av_fit_options o;
    int rc = av__read_fit_options(opts, &o);
    if (rc)
        return rc;
    uint32_t alg;
    av__kmeans_plan(&o, b->n, &alg, NULL, NULL);
    if ((o.tune || alg == AV_KMEANS_FULL) && (rc = materialise(b)) != AV_OK)
        return rc;
    if (o.tune) /* cross-validated choice of the options (tune.c) */
        return av__builder_fit_tuned(b, &o, out);
    if (alg == AV_KMEANS_SAMPLED)
        return fit_sampled(b, &o, out);
    if (b->n < o.n_clusters)
        return av__fail(AV_EEMPTY, "%zu rows cannot make %u clusters", b->n, o.n_clusters);
    size_t nb = o.members, kb = o.n_clusters, d = b->dim;
    av_kmeans_result km = {0};
    float *C = NULL; /* an ensemble's centroids, member after member */
    double inertia = 0.0;
    uint32_t n_iter = 0;
    av_router *r = NULL;
    if ((rc = av__router_alloc(&r, d, nb * kb, b->m, 1u, o.centroid_type)) != AV_OK)
        return rc;
    if ((rc = av__router_set_members(r, nb)) != AV_OK || (rc = av_router_set_top_p(r, o.top_p)))
        goto done;
    if (nb > 1 && !(C = av__aligned_alloc(nb * kb * d * sizeof(float)))) {
        rc = av__fail(AV_ENOMEM, "ensemble centroids");
        goto done;
    }
    for (size_t i = 0; i < b->m; i++)
        if (!(r->names[i] = av__strdup(b->names[i]))) {
            rc = av__fail(AV_ENOMEM, "model names");
            goto done;
        }
    for (size_t mb = 0; mb < nb; mb++) {
        /* member 0 is the paper's clustering with the fit seed itself */
        av_fit_options om = o;
        om.seed = o.seed + (uint64_t)mb * AV_MEMBER_SEED_STEP;
        av__kmeans_result_free(&km);
        if ((rc = av__kmeans(b->X, b->n, d, &om, &km)) != AV_OK)
            goto done;
        inertia += km.inertia / (double)nb;
        n_iter = km.n_iter > n_iter ? km.n_iter : n_iter;
        if (C)
            memcpy(C + mb * kb * d, km.centroids, kb * d * sizeof(float));
        /* Each row adds, in its cluster, one outcome per model that has both a score and a
           cost. */
        for (size_t t = 0; t < b->n; t++) {
            size_t j = mb * kb + (size_t)km.labels[t];
            for (size_t i = 0; i < b->m; i++) {
                float s = b->scores[t * b->m + i], c = b->costs[t * b->m + i];
                if (isnan(s) || isnan(c))
                    continue;
                size_t ji = j * b->m + i;
                r->st.count[ji] += 1.0;
                r->st.sum_score[ji] += (double)s;
                r->st.sum_cost[ji] += (double)c;
            }
        }
    }
    if ((rc = av__index_set_centroids(&r->ix, C ? C : km.centroids)) != AV_OK)
        goto done;
    if ((rc = av__router_refresh_all(r)) != AV_OK)
        goto done;
    if ((rc = record_meta(r, &o, b->n, inertia, n_iter, NULL)) != AV_OK)
        goto done;
    b->inertia = inertia;
    *out = r;
    r = NULL;
done:
    av_router_free(r);
    av__kmeans_result_free(&km);
    av__aligned_free(C);
    return rc;
}
