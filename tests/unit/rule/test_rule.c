/* One rule: over random combinations of the router's estimator defaults and per-request options,
   every entry point that decides (av_route, av_route_batch, av_route_ex, evaluation, the budget
   sweep, and the tuning scorer's cached rows) makes the same decision for the same query, on real
   routers trained on the bundled fixture (single and ensemble, float32 and int8 centroids). */
#include "internal.h" /* first: it declares the experimental interfaces too */
#include "fuzz/small_router.h"
#include "harness.h"

#include <stdint.h>

#define N_COMBOS 24
#define N_PROBES 64
#define N_ALPHAS 6

static const float ALPHAS[N_ALPHAS] = {0.0f, 0.2f, 0.5f, 0.75f, 0.9f, 1.0f};

/* Probe queries: the fixture's first rows (glove embeddings, as the router was trained on). */
static int probes(float *E, size_t d)
{
    td_array g = {0};
    if (td_load_npy(SR_GLOVE, "<f4", &g) != 0 || g.cols != d || g.rows < N_PROBES) {
        free(g.data);
        return -1;
    }
    memcpy(E, g.data, N_PROBES * d * sizeof *E);
    free(g.data);
    return 0;
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A random estimator: the router's defaults. */
static void random_estimator(uint64_t *s, av_estimator_options *e)
{
    static const double kappas[] = {0.0, 0.5, 4.0, 16.0};
    static const float temps[] = {0.01f, 0.05f, 0.3f};
    av_estimator_options_init(e);
    e->kappa = kappas[next(s) % 4];
    e->weighting = next(s) % 2 ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_HARD;
    e->temperature = temps[next(s) % 3];
    e->normalisation = next(s) % 2 ? AV_NORMALISE_GLOBAL : AV_NORMALISE_CLUSTER;
    e->guard = next(s) % 3 == 0;
    e->guard_margin = (double)(next(s) % 3) * 0.01;
    static const double safeties[] = {0.0, 0.0, 1.0, INFINITY};
    e->safety = safeties[next(s) % 4];
}

/* Decisions of every entry point for one router with its current defaults. */
static void check_router(av_router *r, const float *E, size_t d, const char *what, int *bad)
{
    size_t m = av_router_n_models(r);
    int32_t single[N_ALPHAS][N_PROBES];
    for (int a = 0; a < N_ALPHAS; a++) {
        int32_t batch[N_PROBES];
        CHECK(av_route_batch(r, E, N_PROBES, d, d, ALPHAS[a], batch) == AV_OK);
        for (int i = 0; i < N_PROBES; i++) {
            single[a][i] = av_route(r, E + i * d, d, ALPHAS[a]);
            av_route_options o = AV_ROUTE_OPTIONS_INIT;
            o.alpha = ALPHAS[a];
            int32_t ex = av_route_ex(r, E + i * d, d, &o, NULL);
            if (single[a][i] < 0 || batch[i] != single[a][i] || ex != single[a][i]) {
                if (*bad < 5)
                    fprintf(stderr, "  %s alpha %g probe %d: route %d batch %d route_ex %d\n",
                            what, (double)ALPHAS[a], i, single[a][i], batch[i], ex);
                (*bad)++;
            }
        }
    }
    /* evaluation: its per-alpha shares are exactly the routes' counts */
    static float S[N_PROBES * AV_MAX_MODELS], C[N_PROBES * AV_MAX_MODELS];
    for (size_t t = 0; t < N_PROBES * m; t++)
        S[t] = 0.5f, C[t] = 1.0f;
    double alphas[N_ALPHAS];
    for (int a = 0; a < N_ALPHAS; a++)
        alphas[a] = ALPHAS[a];
    av_replay rp = AV_REPLAY_INIT;
    rp.n = N_PROBES;
    rp.dim = d;
    rp.embeddings = E;
    rp.n_models = m;
    rp.scores = S;
    rp.costs = C;
    av_eval_options eo = AV_EVAL_OPTIONS_INIT;
    eo.alphas = alphas;
    eo.n_alphas = N_ALPHAS;
    av_eval_result *res = NULL;
    REQUIRE(av_eval_run(&res, r, &rp, &eo) == AV_OK);
    for (int a = 0; a < N_ALPHAS; a++)
        for (size_t i = 0; i < m; i++) {
            double share = -1;
            size_t count = 0;
            for (int q = 0; q < N_PROBES; q++)
                count += (size_t)single[a][q] == i;
            CHECK(av_eval_alpha_share(res, (size_t)a, i, &share) == AV_OK);
            if (share != (double)count / N_PROBES)
                (*bad)++;
        }
    av_eval_result_free(res);
    /* the budget sweep: with no logged outcomes, each row's expected values of the model it
       routes to; computed here from av_route_ex's explanation of the same decision */
    for (int a = 0; a < N_ALPHAS; a++) {
        double ms = 0, mc = 0, es[AV_MAX_MODELS], ec[AV_MAX_MODELS], ss = 0.0, sc = 0.0;
        CHECK(av_router_expected_mean(r, ALPHAS[a], E, N_PROBES, d, NULL, NULL, &ms, &mc) ==
              AV_OK);
        for (int i = 0; i < N_PROBES; i++) {
            av_route_options o = AV_ROUTE_OPTIONS_INIT;
            av_route_result rr = AV_ROUTE_RESULT_INIT;
            o.alpha = ALPHAS[a];
            rr.expected_score = es;
            rr.expected_cost = ec;
            rr.models_cap = AV_MAX_MODELS;
            int32_t w = av_route_ex(r, E + i * d, d, &o, &rr);
            ss += es[w];
            sc += ec[w];
        }
        if (ms != ss / N_PROBES || mc != sc / N_PROBES)
            (*bad)++;
    }
}

/* The tuning scorer (cached rows from av__tune_rows, then the rule) against av_route_ex with the
   same options, on random per-request settings. */
static void check_tuning_scorer(av_router *r, const float *E, size_t d, uint64_t *s, int *bad)
{
    const av_table *t = av__table(r);
    size_t m = t->m, k = av_router_n_clusters(r), members = av_router_members(r);
    double *cache = malloc(k * 2 * m * sizeof *cache);
    double *rows = malloc(AV_RULE_ROWS(AV_MAX_TOP_P, m) * sizeof *rows);
    REQUIRE(cache && rows);
    for (int combo = 0; combo < 8; combo++) {
        static const double kappas[] = {0.0, 4.0};
        static const float temps[] = {0.0f, 0.05f};
        double kappa = kappas[next(s) % 2];
        float temp = temps[next(s) % 2];
        bool global = next(s) % 2;
        uint32_t p = 1 + (uint32_t)(next(s) % 3);
        av__tune_rows(t, kappa, global, k, cache);
        av_settings st;
        av__settings_default(&r->est, p, &st);
        st.weighting = temp > 0.0f ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_HARD;
        st.temperature = temp;
        st.kappa = kappa;
        st.norm = global ? AV_NORMALISE_GLOBAL : AV_NORMALISE_CLUSTER;
        st.guard = 0;
        for (int i = 0; i < N_PROBES; i++) {
            uint32_t idx[AV_MAX_TOP_P];
            float sims[AV_MAX_TOP_P];
            REQUIRE(av__index_nearest(&r->ix, E + i * d, p, idx, sims) == AV_OK);
            av_prepared q;
            av__rule_prepare(t, &st, members, idx, sims, cache, rows, &q);
            for (int a = 0; a < N_ALPHAS; a++) {
                double acc[AV_MAX_MODELS];
                av_verdict vd = {0};
                int32_t tuned = av__rule_decide(&q, &st, ALPHAS[a], acc, &vd);
                av_route_options o = AV_ROUTE_OPTIONS_INIT;
                o.alpha = ALPHAS[a];
                o.top_p = p;
                o.kappa = kappa;
                o.weighting = temp > 0.0f ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_HARD;
                o.temperature = temp;
                o.normalisation = global ? AV_NORMALISE_GLOBAL : AV_NORMALISE_CLUSTER;
                o.flags = AV_ROUTE_GUARD_OFF;
                int32_t ex = av_route_ex(r, E + i * d, d, &o, NULL);
                if (tuned != ex) {
                    if (*bad < 5)
                        fprintf(stderr, "  tuning scorer: probe %d alpha %g: %d vs route_ex %d\n",
                                i, (double)ALPHAS[a], tuned, ex);
                    (*bad)++;
                }
            }
        }
    }
    free(cache);
    free(rows);
}

TEST(test_every_entry_point_decides_alike)
{
    static const struct {
        uint32_t k, members, ctype;
    } shapes[] = {{8, 1, AV_CENTROIDS_F32}, {6, 2, AV_CENTROIDS_F32}, {8, 1, AV_CENTROIDS_INT8}};
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    int bad = 0, routers = 0;
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        av_router *r = sr_train_members(shapes[sh].k, 2, 7, 1, shapes[sh].ctype, shapes[sh].members);
        REQUIRE(r);
        size_t d = av_router_dim(r);
        float *E = malloc(N_PROBES * d * sizeof *E);
        REQUIRE(E && probes(E, d) == 0);
        char what[96];
        snprintf(what, sizeof what, "k %u members %u type %u, paper", shapes[sh].k,
                 shapes[sh].members, shapes[sh].ctype);
        check_router(r, E, d, what, &bad);
        for (int combo = 0; combo < N_COMBOS; combo++) {
            av_estimator_options e;
            random_estimator(&seed, &e);
            REQUIRE(av_router_set_estimator(r, &e) == AV_OK);
            REQUIRE(av_router_set_top_p(r, 1 + (uint32_t)(next(&seed) % 3)) == AV_OK);
            snprintf(what, sizeof what, "k %u members %u, kappa %g w %u t %g n %u guard %u",
                     shapes[sh].k, shapes[sh].members, e.kappa, e.weighting,
                     (double)e.temperature, e.normalisation, e.guard);
            check_router(r, E, d, what, &bad);
            routers++;
        }
        av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
        REQUIRE(av_router_set_estimator(r, &e) == AV_OK);
        check_tuning_scorer(r, E, d, &seed, &bad);
        free(E);
        av_router_free(r);
    }
    printf("     %d estimator combinations x %d probes x %d alphas: route, batch, route_ex, eval, "
           "budgets and the tuning scorer; %d disagreements\n",
           routers, N_PROBES, N_ALPHAS, bad);
    CHECK_EQ_INT(bad, 0);
}

TH_MAIN(T(test_every_entry_point_decides_alike))
