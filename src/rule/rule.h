/* The rule layer: the one routing rule (settings, cluster weights, shrinkage, normalisation, tie
   rule, guard, limits, exploration, explanation data) and the router's routing settings with their
   typed file section. Depends on index (top_p limits) and stats (the published table). */
#ifndef AV_RULE_H
#define AV_RULE_H

#include "index/index.h"
#include "stats/stats.h"

/* Default softmax temperature of cluster weights (cosine similarities are in [-1, 1]). */
#define AV_DEFAULT_TEMPERATURE 0.05f

/* A router's routing settings (av_estimator_options; the paper's when all are zero but the
   temperature). */
typedef struct av_estimator_state {
    double kappa;           /* shrinkage prior strength; 0 = the paper */
    uint32_t weighting;     /* AV_WEIGHTING_HARD (the paper) or AV_WEIGHTING_SOFTMAX */
    float temperature;      /* softmax temperature (> 0) */
    uint32_t guard;         /* 1: the no-worse-than-best-single guard is on */
    double guard_margin;    /* in normalised utility units */
    uint32_t normalisation; /* AV_NORMALISE_CLUSTER (the paper) or AV_NORMALISE_GLOBAL */
    double safety;          /* safe deviation, in standard errors; 0 = off (the paper) */
} av_estimator_state;

/* The settings of one decision: the router's defaults, overridden per request. */
typedef struct av_settings {
    uint32_t p;           /* clusters per member */
    uint32_t weighting;   /* AV_WEIGHTING_HARD or _SOFTMAX */
    double temperature;   /* softmax temperature (> 0) */
    double kappa;         /* shrinkage toward the global means */
    double table_kappa;   /* the shrinkage of the published table's rows (the router's) */
    uint32_t norm;        /* AV_NORMALISE_CLUSTER or _GLOBAL */
    uint32_t guard;       /* the no-worse-than-best-single guard */
    double guard_margin;
    double safety;        /* safe deviation from the baseline, in standard errors (0 = off) */
    uint32_t flags;       /* AV_ROUTE_* */
    double max_cost, min_score;
    const uint8_t *mask;
    size_t mask_len;
    uint64_t explore_seed;
} av_settings;
/* The router's settings e with top_p p. */
AV_HIDDEN void av__settings_default(const av_estimator_state *e, uint32_t p, av_settings *s);
/* The defaults (settings e, top_p p of an index of k clusters in `members` members) overridden by a
   request's options, validated. */
AV_HIDDEN int av__settings_resolve(const av_estimator_state *e, uint32_t p, size_t k,
                                   size_t members, const av_route_options *o, av_settings *s);
/* True when s is the paper's rule as the published table holds it (hard weights, the table's
   kappa, per-cluster normalisation, no guard, limits, mask or exploration): the fast path. */
AV_HIDDEN bool av__settings_paper(const av_settings *s);
/* acc[i] += w * (alpha * nrow[2i] + (1 - alpha) * nrow[2i + 1]): the rule's one sum. */
AV_HIDDEN void av__rule_add(const double *nrow, double w, double alpha, size_t m, double *acc);
/* The argmax with the paper's tie rule (higher sum, then lower global mean cost, then lower
   index) over models allowed by mask (NULL = all). Returns -1 when none is allowed. */
AV_HIDDEN int32_t av__argmax_tie(const av_table *t, const double *acc, const uint8_t *allowed);
/* Raw softmax weights of the members * p clusters (selected p per member, sims member by member):
   1 each, or exp((sim - the member's best) / temp); wsum[b] receives member b's total. */
AV_HIDDEN void av__member_weights(size_t members, size_t p, const float *sims, bool softmax,
                                  double temp, double *w, double *wsum);
/* The routing weights: 1 each (hard), or the softmax within each member normalised so that every
   member weighs 1 / members. */
AV_HIDDEN void av__cluster_weights(size_t members, size_t p, const float *sims, bool softmax,
                                   double temp, double *w);
/* The paper's rule over ns clusters, streamed from the table `pinned` (NULL: the current one). */
/* The paper's rule over the ns clusters of table t. */
AV_HIDDEN int32_t av__rule_paper(const av_table *t, const uint32_t *clusters, size_t ns,
                                 double alpha);
typedef struct av_prepared {
    const av_table *t;
    size_t m, ns;
    uint32_t idx[AV_MAX_TOP_P];
    float sims[AV_MAX_TOP_P];
    double w[AV_MAX_TOP_P];        /* routing weights */
    double support[AV_MAX_TOP_P];  /* largest outcome count of any model in each cluster */
    double ep[AV_MAX_MODELS], eq[AV_MAX_MODELS]; /* expected score and cost of each model */
    double se[AV_MAX_MODELS];      /* standard error of ep (av__rule_prepare) */
    double gp[AV_MAX_MODELS], gq[AV_MAX_MODELS]; /* global means */
    uint8_t allowed[AV_MAX_MODELS];
    size_t n_feasible;
    float best_sim;
    double *rows;                  /* ns x 2m normalised rows (the caller's scratch) */
} av_prepared;
/* Scratch doubles of av_prepared.rows for ns clusters and m models. */
#define AV_RULE_ROWS(ns, m) ((ns) * 2u * (m))
/* Prepare the query whose members * s->p clusters are idx (similarities sims, member by member,
   as av__index_nearest gives them) over table t. cached (may be NULL): normalised rows of every
   cluster, 2m doubles each, to use instead of recomputing them (tuning, which needs no expected
   values: with cached rows only the rows and weights are prepared, every model allowed). */
AV_HIDDEN void av__rule_prepare(const av_table *t, const av_settings *s, size_t members,
                                const uint32_t *idx, const float *sims, const double *cached,
                                double *rows, av_prepared *q);
/* How a decision relates to the best single model at its alpha (the baseline). `explain` is the
   caller's: 1 asks for the baseline and the gain even when neither the guard nor the safety rule
   is on (they cost a pass over the models per decision). */
typedef struct av_verdict {
    uint32_t explain;
    uint32_t guarded;  /* the guard or the safety rule replaced the rule's choice by the baseline */
    int32_t baseline;  /* -1 when no model is allowed */
    double gain;       /* the rule's choice's estimated utility gain over the baseline */
    double gain_lcb;   /* gain - safety * its standard error */
} av_verdict;
/* The decision at alpha: the model (or -1 when none is feasible); acc (m) receives the routing
   scores, v how the decision relates to the baseline. */
AV_HIDDEN int32_t av__rule_decide(const av_prepared *q, const av_settings *s, double alpha,
                                  double *acc, av_verdict *v);
/* Feasible models best first (the guard's choice leads when it replaced the rule's). */
AV_HIDDEN void av__rule_rank(const av_prepared *q, const double *acc, int32_t chosen,
                             uint32_t guarded, int32_t *out, size_t *n_out);

/* ---- routing settings (settings.c) ---- */
/* Validation of av_estimator_options, and the settings to and from them. */
AV_HIDDEN int av__settings_check(const av_estimator_options *o);
AV_HIDDEN void av__settings_apply(av_estimator_state *e, const av_estimator_options *o);
AV_HIDDEN void av__settings_current(const av_estimator_state *e, av_estimator_options *o);
/* Whether e differs from the paper's, so that the file needs its settings section. */
AV_HIDDEN bool av__settings_stored(const av_estimator_state *e);
/* The settings section: its size, its bytes, and reading one (AV_EFORMAT; AV_EVERSION for a
   setting that changes decisions and is unknown to this version). */
AV_HIDDEN size_t av__settings_bytes(const av_estimator_state *e);
AV_HIDDEN void av__settings_write(const av_estimator_state *e, unsigned char *out);
AV_HIDDEN int av__settings_read(av_estimator_state *e, const unsigned char *p, size_t n);
/* 0.x kept the settings (and derived values) as metadata: the index of such a key (0..5 the
   settings kappa, weighting, temperature, guard, guard_margin, normalisation; 6 centroid_hash,
   7 members), or -1. Those keys are reserved: av_router_set_meta refuses them. */
AV_HIDDEN int av__settings_legacy_key(const char *key);
/* Apply the settings of a 0.x file, values[i] the metadata value of legacy key i (or NULL). */
AV_HIDDEN int av__settings_read_legacy(av_estimator_state *e, char *const *values);
#define AV_LEGACY_KEYS 8

#endif
