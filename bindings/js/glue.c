/* The JavaScript binding's one C helper, compiled into its WebAssembly module only
   (mk/wasm.mk): av_route_ex's explanation through flat arrays, so that avengers.js needs no
   knowledge of the struct layouts. Public API only. */
#include "avengers/avengers.h"

#include <malloc.h>
#include <stddef.h>
#include <stdint.h>

int32_t av_js_route_ex(const av_router *r, const float *embedding, size_t dim, float alpha,
                       int32_t *ranked, double *ranked_scores, size_t ranked_cap,
                       double *expected_score, double *expected_cost, size_t models_cap,
                       uint32_t *clusters, float *cluster_sims, size_t clusters_cap,
                       double *out /* n_ranked, n_clusters, best_similarity, support, guarded */);

int32_t av_js_route_ex(const av_router *r, const float *embedding, size_t dim, float alpha,
                       int32_t *ranked, double *ranked_scores, size_t ranked_cap,
                       double *expected_score, double *expected_cost, size_t models_cap,
                       uint32_t *clusters, float *cluster_sims, size_t clusters_cap, double *out)
{
    av_route_options o;
    av_route_options_init(&o);
    o.alpha = alpha;
    av_route_result res;
    av_route_result_init(&res);
    res.ranked = ranked;
    res.ranked_scores = ranked_scores;
    res.ranked_cap = ranked_cap;
    res.expected_score = expected_score;
    res.expected_cost = expected_cost;
    res.models_cap = models_cap;
    res.clusters = clusters;
    res.cluster_sims = cluster_sims;
    res.clusters_cap = clusters_cap;
    int32_t m = av_route_ex(r, embedding, dim, &o, &res);
    out[0] = (double)res.n_ranked;
    out[1] = (double)res.n_clusters;
    out[2] = (double)res.best_similarity;
    out[3] = res.support;
    out[4] = (double)res.guarded;
    return m;
}

/* Bytes of the WebAssembly heap in use by malloc (dlmalloc's mallinfo): the binding's tests check
   that calls leave it unchanged. */
size_t av_js_heap_used(void);

size_t av_js_heap_used(void)
{
    return (size_t)mallinfo().uordblks;
}
