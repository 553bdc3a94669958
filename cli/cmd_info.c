/* avengers info: describe a router file. The file is first loaded by the library (which checks
   every size and CRC32); only then are its header and section table read again here for display. */
#define AV_STATIC_LINKING_ONLY /* av_router_get_price */
#include "cli.h"
#include "input.h"

#include "avengers/avengers.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Layout of the header and section table (docs/FORMAT.md). */
#define HDR_SIZE 64u
#define SEC_ENTRY 40u
#define SECTION_NAME_COUNT 7u
#define CLUSTERS_PER_LINE 6u

static const char HELP[] =
    "usage: avengers info R\n"
    "Prints the router file's header (format version, sizes), its sections, the models with\n"
    "their training outcomes, the size of every cluster, the metadata and the checksum status\n"
    "(\"ok\" once the library has loaded the file and verified every CRC32; otherwise the error,\n"
    "exit status 3), and the prices set with avengers reprice.\n"
    "Cluster size = training rows that fell in the cluster, counted as the largest per-model\n"
    "outcome count in it (equal to the row count when every row has every model's outcome).\n";

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void print_sections(const unsigned char *f, size_t size)
{
    static const char *const names[SECTION_NAME_COUNT] = {"?",          "models",   "centroids",
                                                          "statistics", "metadata", "settings",
                                                          "prices"};
    uint32_t nsec = get32(f + 32);
    printf("sections        %u\n", nsec);
    for (uint32_t i = 0; i < nsec && HDR_SIZE + (size_t)(i + 1) * SEC_ENTRY <= size; i++) {
        const unsigned char *e = f + HDR_SIZE + (size_t)i * SEC_ENTRY;
        uint32_t id = get32(e), enc = get32(e + 4);
        printf("  %-12s id %u, %s, %llu bytes stored, %llu raw, crc32 %08x\n",
               id < SECTION_NAME_COUNT && id ? names[id] : "unknown", id, enc ? "zlib" : "raw",
               (unsigned long long)get64(e + 16), (unsigned long long)get64(e + 24),
               get32(e + 32));
    }
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(HELP, stdout);
            return CLI_OK;
        }
        fputs(HELP, stderr);
        return CLI_EUSAGE;
    }
    if (optind + 1 != argc) {
        cli_error("info takes one router file (see --help)");
        return CLI_EUSAGE;
    }
    const char *path = argv[optind];
    struct stat st;
    if (stat(path, &st) != 0) { /* not a checksum failure: there is nothing to check */
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return CLI_EROUTER;
    }
    av_router *r;
    int rc = av_router_load(&r, path);
    if (rc) {
        fputs("file            ", stdout);
        cli_put_text(stdout, path);
        fputs("\nchecksum        FAILED: ", stdout);
        cli_put_text(stdout, av_last_error());
        fputc('\n', stdout);
        cli_error("%s", av_last_error()); /* names the file */
        return CLI_EROUTER;
    }
    unsigned char *f = NULL;
    size_t size = 0;
    char err[CLI_ERR_MAX];
    uint64_t max_input;
    if (!cli_input_limit(0, &max_input, err, sizeof err)) {
        cli_error("%s", err);
        av_router_free(r);
        return CLI_EUSAGE;
    }
    if (cli_read_file(path, max_input, &f, &size, err, sizeof err) || size < HDR_SIZE) {
        cli_error("%s", size < HDR_SIZE && f ? "file changed while reading" : err);
        free(f);
        av_router_free(r);
        return CLI_EROUTER;
    }
    size_t k = av_router_n_clusters(r), m = av_router_n_models(r);
    fputs("file            ", stdout);
    cli_put_text(stdout, path);
    fputc('\n', stdout);
    printf("size            %zu bytes\n", size);
    printf("format          %u.%u\n", (unsigned)(f[8] | f[9] << 8), (unsigned)(f[10] | f[11] << 8));
    printf("checksum        ok\n");
    printf("dim             %zu\n", av_router_dim(r));
    printf("clusters        %zu\n", k);
    if (av_router_members(r) > 1)
        printf("members         %zu clusterings of %zu clusters\n", av_router_members(r),
               k / av_router_members(r));
    printf("models          %zu\n", m);
    printf("top_p           %zu\n", av_router_top_p(r));
    print_sections(f, size);
    free(f);

    printf("models (index, name, training outcomes, mean score, mean cost)\n");
    int status = CLI_OK;
    double *rows = calloc(k, sizeof *rows);
    if (!rows) {
        cli_error("out of memory");
        av_router_free(r);
        return CLI_EINTERNAL;
    }
    for (size_t i = 0; i < m; i++) {
        double n = 0, s = 0, q = 0;
        for (size_t j = 0; j < k; j++) {
            double cn, cs, cq;
            if (av_router_cluster_stats(r, j, i, &cn, &cs, &cq)) {
                status = CLI_EINTERNAL;
                continue;
            }
            n += cn;
            s += cs;
            q += cq;
            rows[j] = fmax(rows[j], cn);
        }
        n /= (double)av_router_members(r); /* every member counts each outcome once */
        s /= (double)av_router_members(r);
        q /= (double)av_router_members(r);
        char *name = cli_text(av_router_model_name(r, i));
        if (!name) {
            status = CLI_EINTERNAL;
            continue;
        }
        printf("  %3zu  %-36s %8.0f  %.6f  %.6g\n", i, name, n, n > 0 ? s / n : NAN,
               n > 0 ? q / n : NAN);
        free(name);
    }
    printf("cluster sizes (training rows per cluster)\n");
    for (size_t j = 0; j < k; j++)
        printf("  %4zu:%6.0f%s", j, rows[j], j % CLUSTERS_PER_LINE == CLUSTERS_PER_LINE - 1 || j + 1 == k ? "\n" : "");
    free(rows);
    printf("centroid hash   %s\n", av_router_centroid_hash(r));
    av_estimator_options e = AV_ESTIMATOR_OPTIONS_INIT;
    if (av_router_get_estimator(r, &e) == AV_OK)
        printf("settings        kappa %.17g, weighting %s (temperature %.9g), normalisation %s, "
               "guard %s (margin %.17g)\n",
               e.kappa, e.weighting == AV_WEIGHTING_SOFTMAX ? "softmax" : "hard",
               (double)e.temperature, e.normalisation == AV_NORMALISE_GLOBAL ? "global" : "cluster",
               e.guard ? "on" : "off", e.guard_margin);
    for (size_t i = 0; i < m; i++) { /* the prices set with avengers reprice */
        av_price p;
        av_price_init(&p);
        if (av_router_get_price(r, (int32_t)i, &p) != AV_OK || p.unit == AV_PRICE_NONE)
            continue;
        fputs("price           ", stdout);
        cli_put_text(stdout, av_router_model_name(r, i));
        fputs(": ", stdout);
        cli_put_price(&p);
        fputc('\n', stdout);
    }
    printf("metadata        %zu entries\n", av_router_meta_count(r));
    for (size_t i = 0; i < av_router_meta_count(r); i++) {
        const char *key, *value;
        if (av_router_meta_at(r, i, &key, &value) != AV_OK)
            continue;
        char *key_text = cli_text(key);
        if (!key_text) {
            status = CLI_EINTERNAL;
            continue;
        }
        printf("  %-20s ", key_text);
        cli_put_text(stdout, value);
        fputc('\n', stdout);
        free(key_text);
    }
    av_router_free(r);
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output");
        return CLI_EINTERNAL;
    }
    return status;
}
