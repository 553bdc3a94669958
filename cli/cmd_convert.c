/* avengers convert: re-encode a router's centroids as float32, float16 or int8 (av_router_convert),
   keeping its models, statistics, top_p and metadata. */
#include "cli.h"

#include "avengers/avengers.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char HELP[] =
    "usage: avengers convert --centroids f32|f16|int8 IN OUT\n"
    "Writes OUT: the router IN with its centroids stored as float32, float16 (half the memory)\n"
    "or int8 with per-row and per-dimension scales (a quarter). Models, statistics, top_p and\n"
    "metadata are kept; the metadata gains converted_from and a new centroid_hash.\n"
    "float16 and int8 are made from a float32 router (or kept as they are); any type converts\n"
    "back to float32. Routing agreement with float32: docs/PERFORMANCE.md. IN and OUT may be\n"
    "the same file (written atomically).\n"
    "  -c, --centroids TYPE   f32, f16 or int8 (required)\n";

static int parse_type(const char *s, av_centroid_type *t)
{
    if (strcmp(s, "f32") == 0 || strcmp(s, "float32") == 0)
        *t = AV_CENTROIDS_F32;
    else if (strcmp(s, "f16") == 0 || strcmp(s, "float16") == 0)
        *t = AV_CENTROIDS_F16;
    else if (strcmp(s, "int8") == 0 || strcmp(s, "i8") == 0)
        *t = AV_CENTROIDS_INT8;
    else
        return -1;
    return 0;
}

static const char *type_name(int t)
{
    return t == AV_CENTROIDS_F16 ? "f16" : t == AV_CENTROIDS_INT8 ? "int8" : "f32";
}

int cmd_convert(int argc, char **argv)
{
    static const struct option longopts[] = {{"centroids", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    av_centroid_type type = AV_CENTROIDS_F32;
    bool have_type = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(HELP, stdout);
            return CLI_OK;
        }
        if (c == 'c') {
            if (parse_type(optarg, &type) != 0) {
                cli_error("--centroids '%s': expected f32, f16 or int8", optarg);
                return CLI_EUSAGE;
            }
            have_type = true;
            continue;
        }
        fputs(HELP, stderr);
        return CLI_EUSAGE;
    }
    if (!have_type || optind + 2 != argc) {
        cli_error("convert needs --centroids TYPE, an input and an output router (see --help)");
        return CLI_EUSAGE;
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    av_router *r = NULL, *n = NULL;
    int rc = av_router_load(&r, in);
    if (rc != AV_OK) {
        cli_error("%s", av_last_error()); /* names the file */
        return rc == AV_ENOMEM ? CLI_EINTERNAL : CLI_EROUTER;
    }
    rc = av_router_convert(&n, r, type);
    if (rc != AV_OK) {
        cli_error("%s: %s", in, av_last_error());
        av_router_free(r);
        return rc == AV_ENOTSUP ? CLI_EUSAGE : CLI_EINTERNAL;
    }
    rc = av_router_save(n, out);
    if (rc != AV_OK)
        cli_error("%s: cannot write: %s", out, av_last_error());
    else {
        fputs("wrote ", stdout);
        cli_put_text(stdout, out);
        printf(": centroids %s (from %s), %zu clusters, %zu models, dim %zu, centroid_hash %s\n",
               type_name(av_router_centroid_type(n)), type_name(av_router_centroid_type(r)),
               av_router_n_clusters(n), av_router_n_models(n), av_router_dim(n),
               av_router_centroid_hash(n));
    }
    av_router_free(n);
    av_router_free(r);
    return rc == AV_OK ? CLI_OK : CLI_EINTERNAL;
}
