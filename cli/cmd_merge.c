/* avengers merge: add the statistics of routers that share centroids into one router file (the
   reduce step of sharded feedback aggregation, docs/SCALING.md). */
#include "cli.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const char HELP[] =
    "usage: avengers merge A.avr B.avr [...] -o OUT.avr\n"
    "Adds the per-cluster statistics (counts, sums of scores and costs) of every input router to\n"
    "the first one's and writes the result. The inputs must share dimension, clusters, centroids\n"
    "(their centroid_hash), embedder id (when recorded) and model names (in any order); the\n"
    "output keeps the first input's centroids, model order and metadata. Addition of the\n"
    "statistics is commutative; it is exact (so also associative) while the sums fit in a\n"
    "double's 53 bits, as sums of float32 outcomes of similar magnitude do.\n"
    "  -o, --output OUT       router file to write (may be one of the inputs)\n";

int cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': fputs(HELP, stdout); return CLI_OK;
        default: fputs(HELP, stderr); return CLI_EUSAGE;
        }
    }
    if (!out || argc - optind < 2) {
        cli_error(!out ? "-o OUT is required" : "merge needs at least two routers");
        fputs(HELP, stderr);
        return CLI_EUSAGE;
    }
    av_router *dst = NULL;
    int rc = av_router_load(&dst, argv[optind]);
    if (rc) {
        cli_error("%s", av_last_error()); /* names the file */
        return rc == AV_ENOMEM ? CLI_EINTERNAL : CLI_EROUTER;
    }
    int status = CLI_OK;
    for (int i = optind + 1; i < argc && status == CLI_OK; i++) {
        av_router *src = NULL;
        bool loaded = (rc = av_router_load(&src, argv[i])) == AV_OK;
        if (loaded)
            rc = av_profile_merge(dst, src);
        if (rc) {
            if (loaded)
                cli_error("%s: %s", argv[i], av_last_error());
            else
                cli_error("%s", av_last_error()); /* names the file */
            status = rc == AV_ENOMEM ? CLI_EINTERNAL : CLI_EROUTER;
        }
        av_router_free(src);
    }
    if (status == CLI_OK && (rc = av_router_save(dst, out)) != AV_OK) {
        cli_error("%s: cannot write: %s", out, av_last_error());
        status = CLI_EINTERNAL;
    }
    if (status == CLI_OK) {
        double total = 0.0, n;
        for (size_t j = 0; j < av_router_n_clusters(dst); j++)
            for (size_t m = 0; m < av_router_n_models(dst); m++)
                if (av_router_cluster_stats(dst, j, m, &n, NULL, NULL) == AV_OK)
                    total += n;
        total /= (double)av_router_members(dst); /* every member counts each outcome once */
        fputs("wrote ", stdout);
        cli_put_text(stdout, out);
        printf(": %d routers merged, %zu clusters, %zu models, %.17g outcomes, centroid_hash ",
               argc - optind, av_router_n_clusters(dst), av_router_n_models(dst), total);
        cli_put_text(stdout, av_router_centroid_hash(dst) ? av_router_centroid_hash(dst) : "-");
        fputc('\n', stdout);
    }
    av_router_free(dst);
    return status;
}
