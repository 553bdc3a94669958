/* Fuzz target: av_router_load_buffer on arbitrary bytes, twice: as given, and with every section
   CRC and the file CRC recomputed (otherwise nearly every mutation stops at the checksum and the
   parsers behind it are never reached). An accepted file must give a router that routes to a valid
   model, serialises, and reloads to the same bytes. */
#include "avengers/avengers.h"
#include "fuzz/avfile.h"
#include "fuzz/fuzz.h"

#include <math.h>
#include <string.h>

/* Largest dimension the routing check builds a query for (the file may claim up to AV_MAX_DIM). */
#define FUZZ_MAX_QUERY_DIM 4096u

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
    av_free(b1);
    av_free(b2);
    av_router_free(again);
}

static void load_one(const uint8_t *data, size_t size)
{
    av_router *r = (av_router *)&r; /* any garbage: the loader must set it */
    int rc = av_router_load_buffer(&r, data, size);
    if (rc == AV_OK) {
        FUZZ_ASSERT(r != NULL);
        exercise(r);
        av_router_free(r);
    } else {
        FUZZ_ASSERT(rc < 0 && rc >= AV_ERRNO_LAST_ && r == NULL);
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
