/* Not a test: measures the evaluator's alpha sweep (`make eval-speed`). A synthetic replay of
   N_ROWS queries (dim DIM, N_MODELS models, random outcomes) against a router fitted on part of it
   (K clusters, top_p 4); prints the time of one av_eval_run over N_ALPHAS alphas. */
#include "avengers/avengers.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_ROWS 100000u
#define DIM 384u
#define N_MODELS 9u
#define K 60u
#define N_ALPHAS 101u
#define N_FIT 20000u

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    float *emb = malloc((size_t)N_ROWS * DIM * sizeof(float));
    float *s = malloc((size_t)N_ROWS * N_MODELS * sizeof(float));
    float *c = malloc((size_t)N_ROWS * N_MODELS * sizeof(float));
    if (!emb || !s || !c)
        return 1;
    for (size_t i = 0; i < (size_t)N_ROWS * DIM; i++)
        emb[i] = (float)(uniform() - 0.5);
    for (size_t i = 0; i < (size_t)N_ROWS * N_MODELS; i++) {
        s[i] = uniform() < 0.5 ? 1.0f : 0.0f;
        c[i] = (float)(1e-5 * (1 + i % N_MODELS));
    }
    const char *names[N_MODELS] = {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"};
    av_builder *b;
    av_router *r;
    av_fit_options fo = AV_FIT_OPTIONS_INIT;
    fo.n_clusters = K;
    fo.n_init = 1;
    fo.max_iter = 20;
    if (av_builder_new(&b, DIM, N_MODELS, names))
        return 1;
    for (size_t i = 0; i < N_FIT; i++)
        if (av_builder_add(b, emb + i * DIM, DIM, s + i * N_MODELS, c + i * N_MODELS))
            return 1;
    if (av_builder_fit(b, &fo, &r))
        return 1;
    av_builder_free(b);
    double alphas[N_ALPHAS];
    for (unsigned a = 0; a < N_ALPHAS; a++)
        alphas[a] = a / (double)(N_ALPHAS - 1);
    av_replay rp = AV_REPLAY_INIT;
    rp.n = N_ROWS;
    rp.dim = DIM;
    rp.embeddings = emb;
    rp.n_models = N_MODELS;
    rp.scores = s;
    rp.costs = c;
    av_eval_options o = AV_EVAL_OPTIONS_INIT;
    o.alphas = alphas;
    o.n_alphas = N_ALPHAS;
    av_eval_result *res;
    double t0 = seconds();
    int rc = av_eval_run(&res, r, &rp, &o);
    double t1 = seconds();
    if (rc) {
        fprintf(stderr, "av_eval_run: %s\n", av_last_error());
        return 1;
    }
    printf("av_eval_run: %u queries x %u alphas (dim %u, %u clusters, top_p %zu, %u models, "
           "SIMD %s): %.3f s (%.0f decisions/s)\n",
           N_ROWS, N_ALPHAS, DIM, K, av_router_top_p(r), N_MODELS, av_router_simd_backend(r),
           t1 - t0, (double)N_ROWS * N_ALPHAS / (t1 - t0));
    av_eval_result_free(res);
    av_router_free(r);
    free(emb);
    free(s);
    free(c);
    return 0;
}
