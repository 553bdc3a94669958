/* The stats layer: per-cluster outcome statistics (counts, score and cost sums), their model totals,
   and the routing table published from them (the paper's normalised rows and the raw statistics
   under a per-cluster seqlock, behind an atomic pointer; docs/THREADING.md). Depends on base only:
   it knows neither centroids nor names nor settings (the shrinkage kappa is an argument). */
#ifndef AV_STATS_H
#define AV_STATS_H

#include "base/base.h"

#include <stdatomic.h>

/* The routing table: per cluster a row of AV_ROW_WORDS*m 64-bit words (bit patterns of doubles):
   first the paper's 2*m normalised values (p~_i, 1-q~_i) interleaved, then the raw statistics
   (count_i, sum_score_i, sum_cost_i) interleaved, all under the cluster's seqlock; and per model
   its global mean score and mean cost (relaxed atomics). A table is never resized: adding a model
   publishes a new table and retires the old one (freed with the statistics). */
#define AV_ROW_NORM 2u
#define AV_ROW_RAW 3u
#define AV_ROW_WORDS (AV_ROW_NORM + AV_ROW_RAW)
typedef struct av_table {
    size_t m;                /* models this table covers; routing uses this, never the stats' m */
    _Atomic uint64_t *rows;  /* k x AV_ROW_WORDS*m */
    _Atomic uint32_t *seq;   /* k */
    _Atomic uint64_t *gmean; /* 2m: global mean score, global mean cost */
    struct av_table *older;  /* retired predecessor (freed with the statistics) */
} av_table;

/* The statistics of k clusters x m models, cluster-major, and per-model totals. Writers (and
   readers other than the routing paths) hold the owner's lock; routing reads only the table. */
typedef struct av_stats {
    size_t k, m;
    double *count, *sum_score, *sum_cost; /* k x m */
    double *g_count, *g_score, *g_cost;   /* m: sums over the clusters in index order */
    av_table *_Atomic table;
} av_stats;

/* Limits on the statistics, so that every mean, range and weighted sum the rule computes from them
   is finite and every state a successful call leaves saves and loads (docs/SECURITY.md). A cell
   (count c, score sum s, cost sum q) is valid when all three are finite, 0 <= c <=
   AV_STAT_MAX_COUNT, q >= 0, |s| <= max_mean * c and q <= max_mean * c (so c = 0 means no
   outcome at all). Calls that change statistics check AV_STAT_MAX_MEAN (the float range of
   av_profile_update's scores and costs) and fail with AV_ELIMIT, changing nothing; the loader
   accepts up to AV_STAT_MAX_MEAN_LOAD, which leaves room for the rounding of later decays. */
#define AV_STAT_MAX_COUNT 1e18
#define AV_STAT_MAX_MEAN 3.4028234663852886e38
#define AV_STAT_MAX_MEAN_LOAD 1e39
/* Decay (av_update_options.half_life): a cell whose count falls below AV_DECAY_MIN_CELL is
   dropped whole (count and sums 0), and a model whose total count would fall below
   AV_DECAY_MIN_MODEL is not decayed further, so a model never loses its last evidence to
   underflow and a decayed router always loads. */
#define AV_DECAY_MIN_CELL 1e-250
#define AV_DECAY_MIN_MODEL 1e-200
AV_HIDDEN bool av__stat_ok(double c, double s, double q, double max_mean);

/* Zeroed statistics of k x m with their first (empty) table, and their release (every table). */
AV_HIDDEN int av__stats_alloc(av_stats *s, size_t k, size_t m);
AV_HIDDEN void av__stats_free(av_stats *s);
/* Recompute every model total; AV_EEMPTY (no message recorded) with *empty = the first model
   without any outcome, else republish everything with shrinkage kappa. */
AV_HIDDEN int av__stats_refresh(av_stats *s, double kappa, size_t *empty);
/* Model i's totals as sums over the clusters in index order: the same bits as the loader
   computes, so that a router and its saved copy decide alike. Caller holds the lock. */
AV_HIDDEN void av__stats_totals_locked(av_stats *s, size_t i);
/* Whether adding an outcome of weight w (score, cost) to cell (j, i) keeps it valid. */
AV_HIDDEN bool av__stats_fits_locked(const av_stats *s, size_t j, size_t i, double w, double score,
                                     double cost);
/* Add an outcome of weight w for model i in cluster j, republishing the affected rows. The caller
   holds the lock and has checked av__stats_fits_locked. */
AV_HIDDEN void av__stats_add_locked(av_stats *s, double kappa, size_t j, size_t i, double w,
                                    double score, double cost);
/* Republish every row and global mean from the statistics. Caller holds the lock. */
AV_HIDDEN void av__stats_republish_locked(av_stats *s, double kappa);

/* The current table (acquire load). */
AV_HIDDEN const av_table *av__stats_table(const av_stats *s);
/* A new, empty table for m models (NULL when out of memory), and its publication: filled from the
   statistics (whose layout must already be s->m == t->m models), then made current; the old table
   is retired. Publication cannot fail. Caller holds the lock. */
AV_HIDDEN av_table *av__table_new(size_t k, size_t m);
AV_HIDDEN void av__table_discard(av_table *t); /* a table never published; NULL is a no-op */
AV_HIDDEN void av__stats_publish_locked(av_stats *s, double kappa, av_table *t);
/* A consistent copy of words [off, off+n) of cluster j's row (seqlock retry loop). */
AV_HIDDEN void av__table_read(const av_table *t, size_t j, size_t off, size_t n, double *out);
/* Global mean score (what=0) or cost (what=1) of model i in table t. */
AV_HIDDEN double av__table_gmean(const av_table *t, size_t i, int what);

/* lo, hi of v[0..m). */
AV_HIDDEN void av__minmax(const double *v, size_t m, double *lo, double *hi);
/* Min-max normalise means p, q (length m) into out (2m: p~_i, 1-q~_i), the paper's table row. */
AV_HIDDEN void av__normalise_means(const double *p, const double *q, size_t m, double *out);
/* The global normalisation: p, q normalised with the min-max ranges of the global means gp, gq. */
AV_HIDDEN void av__normalise_global(const double *p, const double *q, const double *gp,
                                    const double *gq, size_t m, double *out);
/* Shrunk (kappa > 0) or plain means from raw (count, sum_s, sum_c) words and global means. */
AV_HIDDEN void av__means_from_raw(const double *raw, const double *gp, const double *gq, size_t m,
                                  double kappa, double *p, double *q);

#endif
