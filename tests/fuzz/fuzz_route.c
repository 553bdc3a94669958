/* Fuzz target: a sequence of operations driven by the input bytes on a valid router (av_route,
   av_route_batch, av_profile_update, av_router_set_top_p, av_router_cluster_stats, a
   save_buffer/load_buffer round trip, av_route_ex with default and with fuzzed options). Each result is checked against what the header promises,
   computed independently here: which inputs are valid, that a valid route returns a model index,
   that batch decisions equal single decisions, that av_route_ex with default options equals
   av_route, that an accepted update adds exactly one outcome,
   and that a round trip is lossless. */
#include "avengers/avengers.h"
#include "fuzz/fuzz.h"

#include <math.h>
#include <string.h>

#define D 8
#define K 6
#define M 4
#define MAX_OPS 64
/* Round trips compress three sections twice; a few per input keep the executions fast. */
#define MAX_ROUNDTRIPS 2
#define MAX_BATCH 4
#define MAX_STRIDE_PAD 2

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t take_byte(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* A float: raw bits (NaN, Inf, subnormals, huge), or a small exact value, by a mode byte. */
static float take_float(reader *r)
{
    uint8_t mode = take_byte(r);
    if (mode < 64) {
        uint32_t u = 0;
        for (int i = 0; i < 4; i++)
            u |= (uint32_t)take_byte(r) << (8 * i);
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    return (float)((int)take_byte(r) - 128) / 64.0f;
}

static void take_vec(reader *r, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = take_float(r);
}

/* What the header says makes an embedding acceptable: a finite, non-zero vector. */
static int vec_ok(const float *v, size_t n)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)v[i] * (double)v[i];
    return ss > 0.0 && isfinite(ss);
}

static double model_total_count(const av_router *r, size_t model)
{
    double tot = 0.0, c;
    for (size_t j = 0; j < K; j++) {
        FUZZ_ASSERT(av_router_cluster_stats(r, j, model, &c, NULL, NULL) == AV_OK);
        tot += c;
    }
    return tot;
}

/* The starting router, serialised once: 6 clusters in 8-d, 4 models, integer statistics. */
static void *g_seed;
static size_t g_seed_size;

static void make_seed(void)
{
    static const char *const names[M] = {"tiny", "small", "medium", "large"};
    float C[K * D];
    double cnt[K * M], ss[K * M], sc[K * M];
    for (size_t j = 0; j < K; j++)
        for (size_t t = 0; t < D; t++)
            C[j * D + t] = (float)(((j + 1) * (t + 3)) % 7) - 3.0f;
    for (size_t j = 0; j < K; j++)
        for (size_t i = 0; i < M; i++) {
            size_t ji = j * M + i;
            cnt[ji] = (double)((j + i) % 3 == 0 ? 0 : 4 + (j * i) % 5); /* some empty cells */
            ss[ji] = cnt[ji] > 0 ? (double)((j * 3 + i * 5) % (size_t)cnt[ji]) : 0.0;
            sc[ji] = cnt[ji] * (double)(1u << i) / 8.0;
        }
    av_router *r = NULL;
    FUZZ_ASSERT(av_router_from_parts(&r, D, K, M, names, C, cnt, ss, sc, 2) == AV_OK);
    FUZZ_ASSERT(av_router_save_buffer(r, &g_seed, &g_seed_size) == AV_OK);
    av_router_free(r);
}

static void check_route(const av_router *r, const float *q, float alpha, int32_t got)
{
    int bad_alpha = !(alpha >= 0.0f && alpha <= 1.0f), bad_vec = !vec_ok(q, D);
    if (!bad_alpha && !bad_vec)
        FUZZ_ASSERT(got >= 0 && (size_t)got < av_router_n_models(r));
    else
        FUZZ_ASSERT((got == AV_EALPHA && bad_alpha) || (got == AV_EVECTOR && bad_vec));
}

static av_router *roundtrip(av_router *r)
{
    void *b1, *b2;
    size_t n1, n2;
    av_router *again = NULL;
    FUZZ_ASSERT(av_router_save_buffer(r, &b1, &n1) == AV_OK);
    FUZZ_ASSERT(av_router_load_buffer(&again, b1, n1) == AV_OK);
    FUZZ_ASSERT(av_router_save_buffer(again, &b2, &n2) == AV_OK);
    FUZZ_ASSERT(n1 == n2 && memcmp(b1, b2, n1) == 0);
    av_free(b1);
    av_free(b2);
    /* the top_p default is part of the file, so decisions are unchanged */
    FUZZ_ASSERT(av_router_top_p(again) == av_router_top_p(r));
    av_router_free(r);
    return again;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_seed)
        make_seed();
    av_router *r = NULL;
    FUZZ_ASSERT(av_router_load_buffer(&r, g_seed, g_seed_size) == AV_OK);
    reader in = {data, size};
    float q[MAX_BATCH * (D + MAX_STRIDE_PAD)];
    int32_t out[MAX_BATCH];
    int roundtrips = 0;
    for (int op = 0; op < MAX_OPS && in.n > 0; op++) {
        switch (take_byte(&in) % 8) {
        case 0: { /* route */
            take_vec(&in, q, D);
            float alpha = take_float(&in);
            check_route(r, q, alpha, av_route(r, q, D, alpha));
            break;
        }
        case 1: { /* batch == singles */
            size_t n = take_byte(&in) % (MAX_BATCH + 1), stride = D + take_byte(&in) % 3;
            take_vec(&in, q, n * stride);
            float alpha = take_float(&in);
            int rc = av_route_batch(r, q, n, D, stride, alpha, out);
            if (!(alpha >= 0.0f && alpha <= 1.0f)) {
                FUZZ_ASSERT(rc == AV_EALPHA);
                break;
            }
            int first = AV_OK;
            for (size_t i = 0; i < n; i++) {
                int32_t single = av_route(r, q + i * stride, D, alpha);
                FUZZ_ASSERT(out[i] == single);
                check_route(r, q + i * stride, alpha, single);
                if (single < 0 && first == AV_OK)
                    first = single;
            }
            FUZZ_ASSERT(rc == first);
            break;
        }
        case 2: { /* update */
            take_vec(&in, q, D);
            int32_t model = (int32_t)(take_byte(&in) % (M + 2)) - 1;
            float score = take_float(&in), cost = take_float(&in);
            int valid_model = model >= 0 && model < M;
            double before = valid_model ? model_total_count(r, (size_t)model) : 0.0;
            int rc = av_profile_update(r, q, D, model, score, cost);
            /* every applicable error is acceptable (their order is not part of the contract) */
            int bad_vec = !vec_ok(q, D), bad_value = !isfinite(score) || !isfinite(cost) || cost < 0.0f;
            if (!bad_vec && valid_model && !bad_value)
                FUZZ_ASSERT(rc == AV_OK && model_total_count(r, (size_t)model) == before + 1.0);
            else
                FUZZ_ASSERT((rc == AV_EVECTOR && bad_vec) || (rc == AV_EMODEL && !valid_model) ||
                            (rc == AV_EVALUE && bad_value));
            break;
        }
        case 3:
            if (roundtrips++ < MAX_ROUNDTRIPS)
                r = roundtrip(r);
            break;
        case 4: {
            uint32_t p = take_byte(&in) % (K + 2);
            int rc = av_router_set_top_p(r, p);
            FUZZ_ASSERT(rc == ((p >= 1 && p <= K) ? AV_OK : AV_EINVAL));
            break;
        }
        case 6: { /* av_route_ex with default options decides as av_route */
            take_vec(&in, q, D);
            float alpha = take_float(&in);
            av_route_options o;
            av_route_options_init(&o);
            o.alpha = alpha;
            int32_t single = av_route(r, q, D, alpha), ex = av_route_ex(r, q, D, &o, NULL);
            FUZZ_ASSERT(ex == single);
            break;
        }
        case 7: { /* av_route_ex with fuzzed options: a valid model or a code, never a crash */
            take_vec(&in, q, D);
            av_route_options o;
            av_route_options_init(&o);
            o.alpha = take_float(&in);
            o.top_p = take_byte(&in) % (K + 2);
            o.weighting = take_byte(&in) % 4;
            o.temperature = take_float(&in);
            o.kappa = (double)take_float(&in);
            o.flags = take_byte(&in) & 0x3Fu;
            o.max_expected_cost = (double)take_float(&in);
            o.min_expected_score = (double)take_float(&in);
            o.guard_margin = (double)take_float(&in);
            o.normalisation = take_byte(&in) % 4;
            o.explore_seed = take_byte(&in);
            uint8_t mask[M + 1];
            for (size_t i = 0; i < M + 1; i++)
                mask[i] = take_byte(&in) & 1u;
            if (take_byte(&in) & 1u) {
                o.model_mask = mask;
                o.model_mask_len = take_byte(&in) % (M + 2);
            }
            int32_t ranked[M];
            double rs[M], ms[M], es[M], ec[M], cw[K], cs[K];
            uint32_t cl[K];
            float csim[K];
            av_route_result res;
            av_route_result_init(&res);
            res.ranked = ranked;
            res.ranked_scores = rs;
            res.ranked_cap = take_byte(&in) % (M + 1);
            res.model_scores = ms;
            res.expected_score = es;
            res.expected_cost = ec;
            res.models_cap = M;
            res.clusters = cl;
            res.cluster_sims = csim;
            res.cluster_weights = cw;
            res.cluster_support = cs;
            res.clusters_cap = take_byte(&in) % (K + 1);
            int32_t got = av_route_ex(r, q, D, &o, &res);
            FUZZ_ASSERT((got >= 0 && got < M && res.model == got) ||
                        (got < 0 && got >= AV_ERRNO_LAST_));
            FUZZ_ASSERT(res.n_ranked <= res.ranked_cap);
            for (size_t i = 0; i < res.n_ranked; i++)
                FUZZ_ASSERT(ranked[i] >= 0 && ranked[i] < M);
            for (size_t i = 0; i < res.n_clusters && i < res.clusters_cap; i++)
                FUZZ_ASSERT(cl[i] < K);
            break;
        }
        default: {
            size_t j = take_byte(&in) % (K + 1), i = take_byte(&in) % (M + 1);
            double c = -1, s, qq;
            int rc = av_router_cluster_stats(r, j, i, &c, &s, &qq);
            if (j >= K)
                FUZZ_ASSERT(rc == AV_ERANGE);
            else if (i >= M)
                FUZZ_ASSERT(rc == AV_EMODEL);
            else
                FUZZ_ASSERT(rc == AV_OK && c >= 0.0 && isfinite(s) && qq >= 0.0);
            break;
        }
        }
    }
    /* whatever happened, a valid query still routes, and the router survives a round trip */
    for (size_t t = 0; t < D; t++)
        q[t] = (float)t - 3.5f;
    check_route(r, q, 0.25f, av_route(r, q, D, 0.25f));
    r = roundtrip(r);
    av_router_free(r);
    return 0;
}
