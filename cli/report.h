/* Output of `avengers eval`: the aligned table, JSON (cJSON), CSV and an SVG plot of score
   against cost. Each writer returns 0 or -1 with the reason in err. Names and paths are escaped
   (cli.h): the table, CSV and SVG never hold control characters or invalid UTF-8, the JSON is
   valid UTF-8. */
#ifndef AV_CLI_REPORT_H
#define AV_CLI_REPORT_H

#include "avengers/avengers.h"

#include <stddef.h>
#include <stdio.h>

typedef struct cli_report {
    const av_eval_result *res;
    const char *router_path, *data_path, *emb_path, *split_desc;
    size_t n_clusters, top_p;
    size_t members; /* clusterings in the router's ensemble (1: the paper's) */
    const char *cost_unit; /* the data's "cost_unit" (e.g. "USD"), or NULL when it gives none */
} cli_report;

/* Returns 0, or -1 if out of memory. */
int cli_report_table(FILE *f, const cli_report *rep);
int cli_report_json(const cli_report *rep, const char *path, char *err, size_t errlen);
int cli_report_csv(const cli_report *rep, const char *path, char *err, size_t errlen);
int cli_report_svg(const cli_report *rep, const char *path, char *err, size_t errlen);

#endif
