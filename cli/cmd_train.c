/* avengers train: fit a router on the training rows of a replay and save it. */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "cli.h"
#include "dataset.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The latest SOURCE_DATE_EPOCH the library stores (9999-12-31T23:59:59Z). */
#define MAX_EPOCH 253402300799ull

static const char HELP[] =
    "usage: avengers train --data F.jsonl[.gz] --embeddings E.npy -o router.avr [options]\n"
    "Fits k-means (k-means++ restarts, Lloyd) on the training rows' embeddings and stores each\n"
    "cluster's per-model score and cost statistics in a router file.\n" CLI_DATA_HELP
    "  --split NAME           rows to train on: train (default), all, or any name of the\n"
    "                         lines' \"split\" field\n"
    "  -k, --clusters K       clusters (default 60, the paper's)\n"
    "  --top-p P              clusters per query stored as the router's default (default 4)\n"
    "  --n-init N             k-means++ restarts, the lowest inertia wins (default 10)\n"
    "  --max-iter N           Lloyd iterations per restart (default 300)\n"
    "  --members N            an ensemble of N clusterings of K clusters each, whose top_p\n"
    "                         clusters are all summed (default 1, the paper's; 1..16)\n"
    "  --embedder-id S        id of the embedding model, stored in the file\n"
    "  --algorithm A          k-means: auto (default: full up to %u rows, sampled above), full\n"
    "                         (Lloyd over every row, n-init restarts) or sampled (k-means on a\n"
    "                         uniform sample, then Lloyd passes over every row; docs/SCALING.md)\n"
    "  --sample-size N        sampled: rows in the sample (default max(20000, 100 k))\n"
    "  --max-passes N         sampled: passes over every row (default %u)\n"
    "  --tune                 choose k (60, 120, 200, 300), ensemble size (1, 4), top_p (2, 4,\n"
    "                         8), kappa (0, 4, 16), normalisation (per cluster or global) and\n"
    "                         safety (0, 1, 2) by 5-fold cross-validation on the training rows,\n"
    "                         with the paper's hard cluster weights; when routing does not beat\n"
    "                         the single models by two standard errors, the router keeps to the\n"
    "                         best single model for each alpha (docs/EVALUATION.md)\n"
    "  --halving ETA          with --tune: successive halving, each rung keeping the best 1/ETA\n"
    "                         of the candidates and of the k values, on ETA times the rows of the\n"
    "                         rung before (2..16), or auto (the default: 3 above 40000 training\n"
    "                         rows, else off) or off\n"
    "  --halving-min-rows N   with --tune: rows of the first rung at least (default 4000)\n"
    "  --shared-clustering W  with --tune: on, off or auto (on above 40000 rows): one k-means\n"
    "                         per rung and k, each fold's statistics from its training rows\n"
    "  -o, --output R         router file to write\n"
    "Progress goes to stderr when it is a terminal: with --tune one line per fold fit and per\n"
    "scored fold (the rung with halving, fold, k, fits and candidate scores done, the time\n"
    "elapsed and an estimate of the time left), then for every fit the k-means restart,\n"
    "iteration and inertia; sampled k-means shows its passes with the time left.\n"
    "A .npy embeddings file of float32 is memory-mapped, and its rows are read in place.\n"
    "SOURCE_DATE_EPOCH, when set, is the time stored as \"created\" (reproducible files).\n";

static void progress(void *user, uint32_t restart, uint32_t n_init, uint32_t iteration,
                     double inertia)
{
    (void)user;
    fprintf(stderr, "\rrestart %u/%u  iteration %4u  inertia %.6g   ", restart + 1, n_init,
            iteration, inertia);
}

/* The sampled k-means on a terminal: one line per stage, rewritten per pass. */
static void pass_progress(void *user, const av_fit_progress *p)
{
    (void)user;
    const char *member = "";
    char mb[48];
    if (p->members > 1) {
        snprintf(mb, sizeof mb, "member %u/%u: ", p->member + 1, p->members);
        member = mb;
    }
    if (p->stage == AV_FIT_STAGE_SAMPLE)
        fprintf(stderr, "\r%sk-means on a sample of %zu of %zu rows done (%.1f s)   ", member,
                p->sample_rows, p->n_rows, p->elapsed);
    else if (p->stage == AV_FIT_STAGE_PASS)
        fprintf(stderr, "\r%spass %u (at most %u) over %zu rows, %.0f%% searched  inertia %.6g  "
                        "%.1f s, at most %.0f s left   ", member, p->pass, p->max_passes,
                p->n_rows, p->n_rows ? 100.0 * (double)p->rows_searched / (double)p->n_rows : 0.0,
                p->inertia, p->elapsed, p->eta);
    else
        fprintf(stderr, "\r%sstatistics done after %u passes  inertia %.6g  %.1f s%s", member,
                p->pass, p->inertia, p->elapsed, p->member + 1 < p->members ? "   " : "\n");
}

/* Seconds as "1h02m", "4m05s" or "12s" into buf. */
static const char *duration(double s, char *buf, size_t size)
{
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%luh%02lum", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, size, "%lum%02lus", t / 60, t % 60);
    else
        snprintf(buf, size, "%lus", t);
    return buf;
}

/* --tune on a terminal: one line, rewritten per fold fit and per scored fold. A library older than
   1.2 fills no rung or time (its struct_size says so). */
static int tune_progress(void *user, const av_tune_progress *p)
{
    (void)user;
    bool v12 = p->struct_size >= offsetof(av_tune_progress, seconds_left) + sizeof(double);
    char rung[96] = "", left[64] = "", b1[32], b2[32];
    if (v12 && p->n_rungs > 1)
        snprintf(rung, sizeof rung, "rung %u/%u (%zu rows, %zu candidates), ", p->rung + 1,
                 p->n_rungs, p->rung_rows, p->rung_candidates);
    if (v12 && p->seconds_left >= 0.0)
        snprintf(left, sizeof left, "; %s, about %s left",
                 duration(p->seconds_elapsed, b1, sizeof b1),
                 duration(p->seconds_left, b2, sizeof b2));
    if (p->stage == AV_TUNE_STAGE_FINAL)
        fprintf(stderr, "\rtuning: %zu of %zu candidate scores done; fitting the choice (k %u) on "
                        "all rows%s\n", p->scores_done, p->n_scores, p->n_clusters, left);
    else
        fprintf(stderr, "\rtuning: %sfold %u/%u, k %u: %s  (fit %zu/%zu, %zu/%zu candidate "
                        "scores%s)   ",
                rung, p->fold + 1, p->n_folds, p->n_clusters,
                p->stage == AV_TUNE_STAGE_FIT ? "fitting" : "scored ",
                p->fits_done + (p->stage == AV_TUNE_STAGE_FIT), p->n_fits, p->scores_done,
                p->n_scores, left);
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static const char *meta_or(const av_router *r, const char *key)
{
    const char *v = av_router_meta(r, key);
    return v ? v : "-";
}

/* The selected rows as borrowed runs of consecutive rows (the embeddings read in place, from the
   mapped file); scores and costs converted to float32 into *sc and *co, which must live as long
   as the builder. On a bad row, 1: the caller adds the rows one by one to report it. */
static int borrow_rows(av_builder *b, const cli_dataset *ds, float **sc, float **co)
{
    size_t m = ds->table.m, d = ds->emb.cols, n = ds->n_rows;
    *sc = malloc((n ? n : 1) * m * sizeof(float));
    *co = malloc((n ? n : 1) * m * sizeof(float));
    if (!*sc || !*co) {
        cli_error("out of memory for %zu rows' scores", n);
        return -1;
    }
    for (size_t t = 0; t < n; t++)
        for (size_t j = 0; j < m; j++) {
            (*sc)[t * m + j] = (float)ds->table.scores[ds->rows[t] * m + j];
            (*co)[t * m + j] = (float)ds->table.costs[ds->rows[t] * m + j];
        }
    for (size_t t = 0; t < n;) {
        size_t u = t + 1;
        while (u < n && ds->rows[u] == ds->rows[u - 1] + 1)
            u++;
        int rc = av_builder_add_borrowed(b, ds->emb.data + ds->rows[t] * d, u - t, d,
                                         *sc + t * m, *co + t * m);
        if (rc == AV_EVECTOR || rc == AV_EVALUE)
            return 1;
        if (rc) {
            cli_error("adding rows: %s", av_last_error());
            return -1;
        }
        t = u;
    }
    return 0;
}

/* Add the selected rows to a builder; a bad row is reported with its file line. */
static int add_rows(av_builder *b, const cli_dataset *ds, const cli_data_opts *o)
{
    size_t m = ds->table.m, d = ds->emb.cols;
    float s[CLI_MAX_MODELS], c[CLI_MAX_MODELS];
    for (size_t t = 0; t < ds->n_rows; t++) {
        size_t i = ds->rows[t];
        for (size_t j = 0; j < m; j++) {
            s[j] = (float)ds->table.scores[i * m + j];
            c[j] = (float)ds->table.costs[i * m + j];
        }
        int rc = av_builder_add(b, ds->emb.data + i * d, d, s, c);
        if (rc) {
            cli_error("%s row %zu (line %zu of %s): %s", o->embeddings, i, ds->table.line[i],
                      o->data, av_last_error());
            return CLI_EDATA;
        }
    }
    return CLI_OK;
}

int cmd_train(int argc, char **argv)
{
    enum { OPT_TOPP = 2000, OPT_NINIT, OPT_MAXITER, OPT_EMBID, OPT_TUNE, OPT_MEMBERS, OPT_ALG,
           OPT_SAMPLE, OPT_PASSES, OPT_HALVING, OPT_HALVING_MIN, OPT_SHARED };
    static const struct option longopts[] = {
        CLI_DATA_LONG_OPTIONS,
        {"clusters", required_argument, NULL, 'k'},
        {"top-p", required_argument, NULL, OPT_TOPP},
        {"n-init", required_argument, NULL, OPT_NINIT},
        {"max-iter", required_argument, NULL, OPT_MAXITER},
        {"embedder-id", required_argument, NULL, OPT_EMBID},
        {"tune", no_argument, NULL, OPT_TUNE},
        {"members", required_argument, NULL, OPT_MEMBERS},
        {"algorithm", required_argument, NULL, OPT_ALG},
        {"sample-size", required_argument, NULL, OPT_SAMPLE},
        {"max-passes", required_argument, NULL, OPT_PASSES},
        {"halving", required_argument, NULL, OPT_HALVING},
        {"halving-min-rows", required_argument, NULL, OPT_HALVING_MIN},
        {"shared-clustering", required_argument, NULL, OPT_SHARED},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data_opts o;
    cli_data_opts_init(&o, "train");
    av_fit_options fo;
    av_fit_options_init(&fo);
    av_tune_options tune;
    av_tune_options_init(&tune);
    av_tune_options_default_grid(&tune);
    const char *out = NULL;
    bool halving_set = false;
    int c;
    while ((c = getopt_long(argc, argv, "k:o:h", longopts, NULL)) != -1) {
        int h = cli_data_option(&o, c, optarg);
        if (h < 0)
            return CLI_EUSAGE;
        if (h > 0)
            continue;
        switch (c) {
        case 'k':
            if (!cli_parse_u32(optarg, 1, AV_MAX_CLUSTERS, &fo.n_clusters)) {
                cli_error("-k %s: expected 1..%u", optarg, AV_MAX_CLUSTERS);
                return CLI_EUSAGE;
            }
            break;
        case OPT_TOPP:
            if (!cli_parse_u32(optarg, 1, AV_MAX_TOP_P, &fo.top_p)) {
                cli_error("--top-p %s: expected 1..%u", optarg, AV_MAX_TOP_P);
                return CLI_EUSAGE;
            }
            break;
        case OPT_NINIT:
            if (!cli_parse_u32(optarg, 1, UINT32_MAX, &fo.n_init)) {
                cli_error("--n-init %s: expected a positive integer", optarg);
                return CLI_EUSAGE;
            }
            break;
        case OPT_MAXITER:
            if (!cli_parse_u32(optarg, 1, UINT32_MAX, &fo.max_iter)) {
                cli_error("--max-iter %s: expected a positive integer", optarg);
                return CLI_EUSAGE;
            }
            break;
        case OPT_MEMBERS:
            if (!cli_parse_u32(optarg, 1, AV_MAX_MEMBERS, &fo.members)) {
                cli_error("--members %s: expected 1..%u", optarg, AV_MAX_MEMBERS);
                return CLI_EUSAGE;
            }
            break;
        case OPT_ALG:
            if (strcmp(optarg, "auto") == 0)
                fo.algorithm = AV_KMEANS_AUTO;
            else if (strcmp(optarg, "full") == 0)
                fo.algorithm = AV_KMEANS_FULL;
            else if (strcmp(optarg, "sampled") == 0)
                fo.algorithm = AV_KMEANS_SAMPLED;
            else {
                cli_error("--algorithm %s: expected auto, full or sampled", optarg);
                return CLI_EUSAGE;
            }
            break;
        case OPT_SAMPLE:
            if (!cli_parse_u32(optarg, 1, AV_KMEANS_MAX_ROWS, &fo.sample_size)) {
                cli_error("--sample-size %s: expected 1..%u", optarg, AV_KMEANS_MAX_ROWS);
                return CLI_EUSAGE;
            }
            break;
        case OPT_PASSES:
            if (!cli_parse_u32(optarg, 1, UINT32_MAX, &fo.max_passes)) {
                cli_error("--max-passes %s: expected a positive integer", optarg);
                return CLI_EUSAGE;
            }
            break;
        case OPT_HALVING:
            if (strcmp(optarg, "auto") == 0)
                tune.halving = 0;
            else if (strcmp(optarg, "off") == 0)
                tune.halving = 1;
            else if (!cli_parse_u32(optarg, 2, AV_TUNE_MAX_ETA, &tune.halving)) {
                cli_error("--halving %s: expected auto, off or 2..%u", optarg, AV_TUNE_MAX_ETA);
                return CLI_EUSAGE;
            }
            halving_set = true;
            break;
        case OPT_HALVING_MIN: {
            uint64_t v;
            if (!cli_parse_u64(optarg, &v) || v < 2 * (uint64_t)tune.n_folds || v > SIZE_MAX) {
                cli_error("--halving-min-rows %s: expected at least %u", optarg,
                          2 * tune.n_folds);
                return CLI_EUSAGE;
            }
            tune.halving_min_rows = (size_t)v;
            halving_set = true;
            break;
        }
        case OPT_SHARED:
            if (strcmp(optarg, "auto") == 0)
                tune.shared_clustering = 0;
            else if (strcmp(optarg, "off") == 0)
                tune.shared_clustering = 1;
            else if (strcmp(optarg, "on") == 0)
                tune.shared_clustering = 2;
            else {
                cli_error("--shared-clustering %s: expected auto, on or off", optarg);
                return CLI_EUSAGE;
            }
            halving_set = true;
            break;
        case OPT_EMBID: fo.embedder_id = optarg; break;
        case OPT_TUNE: fo.tune = &tune; break;
        case 'o': out = optarg; break;
        case 'h': printf(HELP, AV_KMEANS_AUTO_MAX_ROWS, AV_KMEANS_DEFAULT_PASSES); return CLI_OK;
        default: fprintf(stderr, HELP, AV_KMEANS_AUTO_MAX_ROWS, AV_KMEANS_DEFAULT_PASSES);
                 return CLI_EUSAGE;
        }
    }
    if (optind != argc || !out) {
        cli_error(optind != argc ? "unexpected argument '%s'" : "-o ROUTER is required%s",
                  optind != argc ? argv[optind] : "");
        return CLI_EUSAGE;
    }
    if (halving_set && !fo.tune) {
        cli_error("--halving, --halving-min-rows and --shared-clustering apply to --tune only");
        return CLI_EUSAGE;
    }
    if (strcmp(o.split, "test") == 0) {
        cli_error("--split test: training uses --split train or all");
        return CLI_EUSAGE;
    }
    fo.seed = o.seed;
    if (fo.top_p > fo.n_clusters) {
        cli_error("--top-p %u is larger than -k %u", fo.top_p, fo.n_clusters);
        return CLI_EUSAGE;
    }
    if ((size_t)fo.members * fo.top_p > AV_MAX_TOP_P) {
        cli_error("--members %u x --top-p %u: a query may use at most %u clusters", fo.members,
                  fo.top_p, AV_MAX_TOP_P);
        return CLI_EUSAGE;
    }
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    uint64_t when;
    if (epoch && *epoch && (!cli_parse_u64(epoch, &when) || when > MAX_EPOCH)) {
        cli_error("SOURCE_DATE_EPOCH=%s: expected a whole number of seconds since 1970-01-01, "
                  "at most %llu", epoch, (unsigned long long)MAX_EPOCH);
        return CLI_EUSAGE;
    }
    cli_dataset ds;
    int status = cli_dataset_load(&ds, &o);
    if (status)
        return status;
    if (ds.n_rows < fo.n_clusters) {
        cli_error("%zu training rows cannot make %u clusters", ds.n_rows, fo.n_clusters);
        cli_dataset_free(&ds);
        return CLI_EDATA;
    }
    bool tty = cli_stderr_is_tty();
    if (tty) {
        fo.verbose = 1;
        fo.progress = progress;
        fo.pass_progress = pass_progress;
        tune.progress = tune_progress;
    }
    av_builder *b = NULL;
    av_router *r = NULL;
    float *bsc = NULL, *bco = NULL; /* the borrowed rows' scores and costs */
    int rc = av_builder_new(&b, ds.emb.cols, ds.table.m, (const char *const *)ds.table.models);
    if (rc) {
        cli_error("%s: %s", o.data, av_last_error());
        status = rc == AV_ENOMEM ? CLI_EINTERNAL : CLI_EDATA;
        goto done;
    }
    int borrowed = borrow_rows(b, &ds, &bsc, &bco);
    if (borrowed < 0) {
        status = CLI_EINTERNAL;
        goto done;
    }
    if (borrowed > 0) { /* a bad row: add them one by one to name its line */
        av_builder_free(b);
        b = NULL;
        if (av_builder_new(&b, ds.emb.cols, ds.table.m, (const char *const *)ds.table.models)) {
            cli_error("%s: %s", o.data, av_last_error());
            status = CLI_EINTERNAL;
            goto done;
        }
        status = add_rows(b, &ds, &o);
        if (status == CLI_OK) { /* not reached: the same rows were refused */
            cli_error("%s: %s", o.embeddings, av_last_error());
            status = CLI_EDATA;
        }
        goto done;
    }
    rc = av_builder_fit(b, &fo, &r);
    if (tty)
        fputc('\n', stderr);
    if (rc) {
        cli_error("training failed: %s", av_last_error());
        status = rc == AV_ENOMEM ? CLI_EINTERNAL : CLI_EDATA;
        goto done;
    }
    const char *fmt = ds.table.format == CLI_FORMAT_AVENGERSPRO ? "avengerspro" : "avengers";
    if ((rc = av_router_set_meta(r, "data", base_name(o.data))) ||
        (rc = av_router_set_meta(r, "data_format", fmt)) ||
        (rc = av_router_set_meta(r, "embeddings", base_name(o.embeddings))) ||
        (rc = av_router_set_meta(r, "split", ds.split_desc))) {
        cli_error("metadata: %s", av_last_error());
        status = CLI_EINTERNAL;
        goto done;
    }
    if ((rc = av_router_save(r, out)) != AV_OK) {
        cli_error("%s: cannot write: %s", out, av_last_error());
        status = CLI_EINTERNAL;
        goto done;
    }
    fputs("wrote ", stdout);
    cli_put_text(stdout, out);
    printf(": %zu clusters", av_router_n_clusters(r));
    if (av_router_members(r) > 1)
        printf(" (%zu clusterings of %zu)", av_router_members(r),
               av_router_n_clusters(r) / av_router_members(r));
    printf(", top_p %zu, %zu models, %zu training rows (%s), inertia %.6g\n", av_router_top_p(r),
           ds.table.m, ds.n_rows, ds.split_desc, av_builder_inertia(b));
    if (strncmp(meta_or(r, "algorithm"), "sampled", 7) == 0) /* numbers the library wrote */
        printf("sampled k-means: a sample of %s rows, then %s passes over every row\n",
               meta_or(r, "sample_rows"), meta_or(r, "n_iter"));
    if (fo.tune) /* values the library has just written itself: numbers and fixed words */
        printf("tuned by %s-fold cross-validation over %s candidates: k %s, members %s, top_p %s, "
               "kappa %s, weighting %s (temperature %s), normalisation %s, safety %s, mean AUC "
               "%.4f%s\n",
               meta_or(r, "tuned_folds"), meta_or(r, "tuned_candidates"),
               meta_or(r, "tuned_n_clusters"), meta_or(r, "tuned_members"),
               meta_or(r, "tuned_top_p"), meta_or(r, "tuned_kappa"), meta_or(r, "tuned_weighting"),
               meta_or(r, "tuned_temperature"), meta_or(r, "tuned_normalisation"),
               meta_or(r, "tuned_safety"), atof(meta_or(r, "tuned_cv_auc")),
               strcmp(meta_or(r, "tuned_fallback"), "best_single") == 0
                   ? "; routing did not beat the single models by two standard errors: the "
                     "router keeps to the best single model for each alpha"
                   : "");
    if (fo.tune && av_router_meta(r, "tuned_halving_eta"))
        printf("successive halving (eta %s): candidates per rung %s on rows %s\n",
               meta_or(r, "tuned_halving_eta"), meta_or(r, "tuned_halving_candidates"),
               meta_or(r, "tuned_halving_rows"));
    if (fo.tune && av_router_meta(r, "tuned_clustering"))
        printf("shared clustering: one clustering per rung and k, each fold's statistics from "
               "its training rows\n");
done:
    av_router_free(r);
    av_builder_free(b);
    free(bsc);
    free(bco);
    cli_dataset_free(&ds);
    return status;
}
