/* Fuzz target: av_router_load_buffer (and av_router_load of the same bytes in a file) on arbitrary
   bytes, twice: as given, and with every section
   CRC and the file CRC recomputed (otherwise nearly every mutation stops at the checksum and the
   parsers behind it are never reached). An accepted file must give a router that routes to a valid
   model, serialises, and reloads to the same bytes. */
#include "avengers/avengers.h"
#include "fuzz/avfile.h"
#include "fuzz/fuzz.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Largest dimension the routing check builds a query for (the file may claim up to AV_MAX_DIM). */
#define FUZZ_MAX_QUERY_DIM 4096u

/* av_route_ex under option combinations that read every part of a loaded router (estimator
   defaults from its metadata, statistics for shrinkage, the guard, limits), with every
   explanation array: a valid model or the one code a constraint may give. */
static void exercise_ex(const av_router *r)
{
    size_t d = av_router_dim(r), m = av_router_n_models(r);
    float *q = calloc(d, sizeof *q);
    int32_t ranked[AV_MAX_MODELS];
    double rs[AV_MAX_MODELS], ms[AV_MAX_MODELS], es[AV_MAX_MODELS], ec[AV_MAX_MODELS];
    uint32_t cl[AV_MAX_TOP_P];
    float csim[AV_MAX_TOP_P];
    double cw[AV_MAX_TOP_P], cs[AV_MAX_TOP_P];
    uint8_t mask[AV_MAX_MODELS];
    FUZZ_ASSERT(q != NULL);
    q[0] = 1.0f;
    if (d > 1)
        q[d - 1] = -0.5f;
    for (size_t i = 0; i < m; i++)
        mask[i] = (uint8_t)(i % 2 == 0);
    for (int variant = 0; variant < 5; variant++) {
        av_route_options o;
        av_route_options_init(&o);
        av_route_result res;
        av_route_result_init(&res);
        res.ranked = ranked;
        res.ranked_scores = rs;
        res.ranked_cap = m;
        res.model_scores = ms;
        res.expected_score = es;
        res.expected_cost = ec;
        res.models_cap = m;
        res.clusters = cl;
        res.cluster_sims = csim;
        res.cluster_weights = cw;
        res.cluster_support = cs;
        res.clusters_cap = AV_MAX_TOP_P;
        o.alpha = 0.25f * (float)variant;
        if (variant == 1) {
            o.weighting = AV_WEIGHTING_SOFTMAX;
            o.temperature = 0.1f;
            o.kappa = 2.0;
        } else if (variant == 2) {
            o.flags = AV_ROUTE_MAX_COST | AV_ROUTE_GUARD_ON;
            o.max_expected_cost = 1.0;
            o.model_mask = mask;
            o.model_mask_len = m;
        } else if (variant == 3) {
            o.normalisation = AV_NORMALISE_GLOBAL;
            o.flags = AV_ROUTE_EXPLORE;
            o.explore_seed = 7;
        }
        int32_t mi = av_route_ex(r, q, d, &o, &res);
        FUZZ_ASSERT((mi >= 0 && (size_t)mi < m && res.model == mi) || mi == AV_ENOMODEL);
        FUZZ_ASSERT(res.n_ranked <= m);
        for (size_t i = 0; i < res.n_ranked; i++)
            FUZZ_ASSERT(ranked[i] >= 0 && (size_t)ranked[i] < m);
        for (size_t i = 0; i < res.n_clusters && i < AV_MAX_TOP_P; i++)
            FUZZ_ASSERT(cl[i] < av_router_n_clusters(r));
    }
    free(q);
}

/* Merging a router with a copy of itself doubles every statistic exactly (unless a doubled sum
   overflows, which a merge may refuse). */
static void exercise_merge(const av_router *r, const void *bytes, size_t n)
{
    av_router *copy = NULL;
    FUZZ_ASSERT(av_router_load_buffer(&copy, bytes, n) == AV_OK);
    const char *h1 = av_router_centroid_hash(r), *h2 = av_router_centroid_hash(copy);
    FUZZ_ASSERT(h1 != NULL && h2 != NULL && strcmp(h1, h2) == 0);
    size_t k = av_router_n_clusters(r), m = av_router_n_models(r);
    int overflow = 0;
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < m; i++) {
            double c, s, q;
            FUZZ_ASSERT(av_router_cluster_stats(r, j, i, &c, &s, &q) == AV_OK);
            overflow |= !isfinite(2 * c) || !isfinite(2 * s) || !isfinite(2 * q);
        }
    int rc = av_profile_merge(copy, r);
    FUZZ_ASSERT(rc == AV_OK || (overflow && rc < 0));
    for (size_t j = 0; j < k && rc == AV_OK && !overflow; j++)
        for (size_t i = 0; i < m; i++) {
            double c1, s1, q1, c2, s2, q2;
            FUZZ_ASSERT(av_router_cluster_stats(r, j, i, &c1, &s1, &q1) == AV_OK);
            FUZZ_ASSERT(av_router_cluster_stats(copy, j, i, &c2, &s2, &q2) == AV_OK);
            FUZZ_ASSERT(c2 == 2 * c1 && s2 == 2 * s1 && q2 == 2 * q1);
        }
    av_router_free(copy);
}

static void exercise(const av_router *r)
{
    size_t d = av_router_dim(r), m = av_router_n_models(r), k = av_router_n_clusters(r);
    FUZZ_ASSERT(d > 0 && m > 0 && k > 0);
    if (d <= FUZZ_MAX_QUERY_DIM) {
        float *q = calloc(d, sizeof *q);
        FUZZ_ASSERT(q != NULL);
        for (size_t j = 0; j < k && j < 4; j++) {
            /* a centroid as query, nudged so that it is never the zero vector; a file may hold
               huge finite centroid values whose squared norm overflows: then AV_EVECTOR */
            FUZZ_ASSERT(av_router_get_centroid(r, j, q, d) == AV_OK);
            q[j % d] += 1.0f;
            double ss = 0.0;
            for (size_t t = 0; t < d; t++)
                ss += (double)q[t] * (double)q[t];
            int ok = ss > 0.0 && isfinite(ss);
            for (float alpha = 0.0f; alpha <= 1.0f; alpha += 0.5f) {
                int32_t mi = av_route(r, q, d, alpha);
                FUZZ_ASSERT(ok ? (mi >= 0 && (size_t)mi < m) : mi == AV_EVECTOR);
            }
            /* and a plain unit axis, always valid */
            memset(q, 0, d * sizeof *q);
            q[j % d] = 1.0f;
            int32_t mi = av_route(r, q, d, 0.5f);
            FUZZ_ASSERT(mi >= 0 && (size_t)mi < m);
        }
        free(q);
    }
    if (d <= FUZZ_MAX_QUERY_DIM)
        exercise_ex(r);
    for (size_t i = 0; i < m; i++) {
        const char *name = av_router_model_name(r, i);
        FUZZ_ASSERT(name != NULL && av_router_model_index(r, name) == (int32_t)i);
    }
    for (size_t i = 0; i < av_router_meta_count(r); i++) {
        const char *key, *value;
        FUZZ_ASSERT(av_router_meta_at(r, i, &key, &value) == AV_OK);
        FUZZ_ASSERT(av_router_meta(r, key) == value);
    }
    /* save -> load -> save is a fixed point */
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    av_router *again = NULL;
    FUZZ_ASSERT(av_router_save_buffer(r, &b1, &n1) == AV_OK);
    FUZZ_ASSERT(av_router_load_buffer(&again, b1, n1) == AV_OK);
    FUZZ_ASSERT(av_router_save_buffer(again, &b2, &n2) == AV_OK);
    FUZZ_ASSERT(n1 == n2 && memcmp(b1, b2, n1) == 0);
    exercise_merge(r, b1, n1);
    av_free(b1);
    av_free(b2);
    av_router_free(again);
}

/* The same bytes in a file: av_router_load (which reads the centroid values into an array of
   their own where the table allows it) gives av_router_load_buffer's code, and a router that saves
   to the same bytes as the buffer's. Skipped where no temporary file can be made. */
static char path[] = "/tmp/av_fuzz_load_XXXXXX";

static void remove_path(void)
{
    unlink(path);
}

static void load_file_too(const uint8_t *data, size_t size, int rc_buffer, const av_router *r)
{
    static int made;
    if (!made) {
        int fd = mkstemp(path);
        if (fd < 0)
            return;
        close(fd);
        made = 1;
        atexit(remove_path);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    int ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0 || !ok)
        return;
    av_router *x = (av_router *)&x;
    int rc = av_router_load(&x, path);
    FUZZ_ASSERT(rc == rc_buffer && (rc == AV_OK) == (x != NULL));
    if (rc == AV_OK) {
        void *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        int sa = av_router_save_buffer(r, &a, &na), sb = av_router_save_buffer(x, &b, &nb);
        FUZZ_ASSERT(sa == sb && (sa != AV_OK || (na == nb && memcmp(a, b, na) == 0)));
        av_free(a);
        av_free(b);
        av_router_free(x);
    }
}

static void load_one(const uint8_t *data, size_t size)
{
    av_router *r = (av_router *)&r; /* any garbage: the loader must set it */
    int rc = av_router_load_buffer(&r, data, size);
    if (rc == AV_OK) {
        FUZZ_ASSERT(r != NULL);
        load_file_too(data, size, rc, r);
        exercise(r);
        av_router_free(r);
    } else {
        FUZZ_ASSERT(rc < 0 && rc >= AV_ERRNO_LAST_ && r == NULL);
        load_file_too(data, size, rc, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so that ASan sees any read past the end. */
    unsigned char *c = malloc(size ? size : 1);
    if (!c)
        return 0;
    memcpy(c, data, size);
    load_one(c, size);
    sr_fix_crcs(c, size);
    load_one(c, size);
    free(c);
    return 0;
}
