/* Test helper shared by the hostile-file, thread and crash-save tests (tests/unit/io/test_format.c,
   tests/unit/router/test_threads.c, tests/unit/io/test_crashsave.c) and the seed-corpus generator:
   a small real router trained on the bundled llmrouter9 fixture. */
#ifndef AV_SMALL_ROUTER_H
#define AV_SMALL_ROUTER_H

#include "avengers/avengers.h"
#include "fuzz/avfile.h"
#include "testdata.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The glove embeddings (d = 100) keep files small: k = 8 clusters of 9 models is about 5 KB. */
#define SR_GLOVE "glove.npy"

/* Train a router with k clusters (in each of `members` clusterings) on the training split, with the
   glove (glove != 0) or the default 384-d embeddings, storing centroids as ctype
   (av_centroid_type). NULL on failure. */
static av_router *sr_train_members(uint32_t k, uint32_t top_p, uint64_t seed, int glove,
                                   uint32_t ctype, uint32_t members)
{
    td_fixture fx;
    if (td_load_fixture(&fx) != 0)
        return NULL;
    td_array g = {0};
    const float *emb = fx.emb.data;
    size_t d = fx.d;
    if (glove) {
        if (td_load_npy(SR_GLOVE, "<f4", &g) != 0 || g.rows != fx.n) {
            free(g.data);
            td_free_fixture(&fx);
            return NULL;
        }
        emb = g.data;
        d = g.cols;
    }
    av_builder *b = NULL;
    av_router *r = NULL;
    if (av_builder_new(&b, d, fx.m, (const char *const *)fx.names) == AV_OK) {
        for (size_t i = 0; i < fx.n; i++)
            if (((const uint8_t *)fx.split.data)[i])
                av_builder_add(b, emb + i * d, d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
        av_fit_options o;
        av_fit_options_init(&o);
        o.n_clusters = k;
        o.top_p = top_p;
        o.n_init = 1;
        o.seed = seed;
        o.embedder_id = glove ? "glove-100" : "tfidf-svd-384";
        o.centroid_type = ctype;
        o.members = members;
        if (av_builder_fit(b, &o, &r) != AV_OK)
            r = NULL;
    }
    av_builder_free(b);
    free(g.data);
    td_free_fixture(&fx);
    /* The creation time would make every run's bytes differ; pin it for reproducible seeds. */
    if (r && av_router_set_meta(r, "created", "2026-01-01T00:00:00Z") != AV_OK) {
        av_router_free(r);
        r = NULL;
    }
    return r;
}

/* One clustering. */
static inline av_router *sr_train_as(uint32_t k, uint32_t top_p, uint64_t seed, int glove,
                                     uint32_t ctype)
{
    return sr_train_members(k, top_p, seed, glove, ctype, 1);
}

/* The same with float32 centroids. */
static inline av_router *sr_train(uint32_t k, uint32_t top_p, uint64_t seed, int glove)
{
    return sr_train_as(k, top_p, seed, glove, AV_CENTROIDS_F32);
}

#endif
