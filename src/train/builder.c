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

/* The rows in the order they were added: runs of copied rows (rows [xoff, xoff + n) of X) and
   borrowed arrays (the caller's, raw). */
typedef struct bseg {
    bool borrowed;
    size_t n, xoff;
    const float *X, *scores, *costs; /* borrowed */
    double *inv;                     /* borrowed: each row's 1 / norm (av__normalize's) */
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
    for (size_t i = 0; i < n_models; i++)
        if (!(b->names[i] = av__strdup(model_names[i]))) {
            av_builder_free(b);
            return av__fail(AV_ENOMEM, "model names");
        }
    *out = b;
    return AV_OK;
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
        free(b->segs[s].inv);
    free(b->segs);
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

AV_API int av_builder_add(av_builder *b, const float *embedding, size_t dim, const float *scores,
                          const float *costs)
{
    if (!b || !embedding || !scores || !costs)
        return av__fail(AV_EINVAL, "builder, embedding, scores or costs is NULL");
    if (dim != b->dim)
        return av__fail(AV_EDIM, "embedding has dim %zu, builder expects %zu", dim, b->dim);
    for (size_t i = 0; i < b->m; i++) {
        /* NaN marks a missing outcome; infinities and negative costs are errors. */
        if (isinf(scores[i]) || isinf(costs[i]) || (!isnan(costs[i]) && costs[i] < 0.0f))
            return av__fail(AV_EVALUE, "row %zu, model %zu (%s): score=%g cost=%g", b->n, i,
                            b->names[i], (double)scores[i], (double)costs[i]);
    }
    if (b->nx == b->cap) {
        int rc = grow(b);
        if (rc)
            return rc;
    }
    int rc = av__normalize(b->X + b->nx * b->dim, embedding, dim);
    if (rc)
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
    for (size_t r = 0; r < n; r++) {
        /* av__normalize's sum and inverse, kept so that passes normalise without summing */
        const float *e = embeddings + r * dim;
        double ss = 0;
        for (size_t t = 0; t < dim; t++)
            ss += (double)e[t] * e[t];
        if (!(ss > 0.0) || !isfinite(ss)) {
            free(inv);
            return av__fail(AV_EVECTOR, "row %zu", b->n + r);
        }
        inv[r] = 1.0 / sqrt(ss);
    }
    int rc = av__check_outcomes(scores, costs, n, b->m, "av_builder_add_borrowed");
    bseg *sg = rc ? NULL : push_seg(b);
    if (!sg) {
        free(inv);
        return rc ? rc : AV_ENOMEM;
    }
    *sg = (bseg){true, n, 0, embeddings, scores, costs, inv};
    b->n += n;
    return AV_OK;
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
    for (size_t s = 0; s < b->n_seg; s++) {
        const bseg *g = &b->segs[s];
        if (g->borrowed)
            for (size_t i = 0; i < g->n; i++)
                av__scale_row(X + (r + i) * d, g->X + i * d, d, g->inv[i]);
        else
            memcpy(X + r * d, b->X + g->xoff * d, g->n * d * sizeof(float));
        memcpy(sc + r * m, g->borrowed ? g->scores : b->scores + g->xoff * m, g->n * m * sizeof(float));
        memcpy(co + r * m, g->borrowed ? g->costs : b->costs + g->xoff * m, g->n * m * sizeof(float));
        r += g->n;
    }
    free(b->X), free(b->scores), free(b->costs);
    for (size_t s = 0; s < b->n_seg; s++)
        free(b->segs[s].inv);
    b->X = X;
    b->scores = sc;
    b->costs = co;
    b->nx = b->cap = b->n;
    b->n_seg = 1;
    b->segs[0] = (bseg){false, b->n, 0, NULL, NULL, NULL, NULL};
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
    for (size_t s = 0; s < b->n_seg; s++) {
        const bseg *g = &b->segs[s];
        segs[s] = g->borrowed ? (av_row_seg){g->X, false, g->inv, g->scores, g->costs, g->n}
                              : (av_row_seg){b->X + g->xoff * d, true, NULL,
                                             b->scores + g->xoff * m, b->costs + g->xoff * m, g->n};
    }
    av_rows src = {b->n, d, m, b->n_seg, segs};
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
