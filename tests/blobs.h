/* The blob rows of the tuning tests (test_tune_halving.c, test_tune_shared.c): BLOBS_N rows of
   dimension BLOBS_D around four axes (row i in blob i % 4), models "cheap" (right on blobs 0 and
   1 only) and "dear" (right on all, cost 10). With shuffle, the embeddings are permuted across the
   rows (seeded Fisher-Yates): the scores keep their rows, so the embeddings say nothing about
   them. The shape of the data (separation, noise, missing outcomes, cost jitter) is the caller's. */
#ifndef AV_TEST_BLOBS_H
#define AV_TEST_BLOBS_H

#include "avengers/avengers.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

enum { BLOBS_D = 8, BLOBS_K = 4, BLOBS_PER = 300, BLOBS_N = BLOBS_K * BLOBS_PER };

typedef struct blobs_shape {
    float sep, noise; /* the blob's axis component, and the width of uniform noise around it */
    int nan_every;    /* > 0: rows with i % nan_every == 5 lack the cheap model's outcome */
    float jitter;     /* the cheap model's cost is 1 + jitter * (i % 7) */
} blobs_shape;

static float blobs_E[BLOBS_N][BLOBS_D], blobs_S[BLOBS_N][2], blobs_C[BLOBS_N][2];

static inline uint64_t blobs_lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x;
}

/* Fills blobs_E, blobs_S and blobs_C, and returns a builder holding them (NULL on failure). */
static inline av_builder *blobs_builder(blobs_shape sh, bool shuffle)
{
    uint64_t x = 99;
    for (int i = 0; i < BLOBS_N; i++) {
        int c = i % BLOBS_K;
        for (int t = 0; t < BLOBS_D; t++) {
            float u = (float)((blobs_lcg(&x) >> 40) & 0xFFFF) / 65536.0f - 0.5f;
            blobs_E[i][t] = (t == c ? sh.sep : 0.0f) + sh.noise * u;
        }
        blobs_S[i][0] = sh.nan_every > 0 && i % sh.nan_every == 5 ? NAN : c < 2 ? 1.0f : 0.0f;
        blobs_S[i][1] = 1.0f;
        blobs_C[i][0] = 1.0f + sh.jitter * (float)(i % 7);
        blobs_C[i][1] = 10.0f;
    }
    if (shuffle)
        for (int i = BLOBS_N - 1; i > 0; i--) {
            int j = (int)(blobs_lcg(&x) >> 33) % (i + 1);
            for (int t = 0; t < BLOBS_D; t++) {
                float tmp = blobs_E[i][t];
                blobs_E[i][t] = blobs_E[j][t];
                blobs_E[j][t] = tmp;
            }
        }
    const char *names[] = {"cheap", "dear"};
    av_builder *b = NULL;
    if (av_builder_new(&b, BLOBS_D, 2, names) != AV_OK)
        return NULL;
    for (int i = 0; i < BLOBS_N; i++)
        if (av_builder_add(b, blobs_E[i], BLOBS_D, blobs_S[i], blobs_C[i]) != AV_OK) {
            av_builder_free(b);
            return NULL;
        }
    return b;
}

#endif
