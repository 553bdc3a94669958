/* JSON Lines readers (our format and Avengers-Pro's), see jsonl.h for the rules. */
#include "jsonl.h"

#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 255u
#define INITIAL_ROWS 1024u

typedef struct parser {
    cli_table *t;
    size_t cap;
    const char *name;
    size_t lineno;
    char *err;
    size_t errlen;
    int seen[CLI_MAX_MODELS]; /* scratch: per column, already read on this line */
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...)
{
    char what[CLI_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%zu: %s", p->name, p->lineno, what);
    return -1;
}

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    if (t->models)
        for (size_t i = 0; i < t->m; i++)
            free(t->models[i]);
    free(t->models);
    free(t->scores);
    free(t->costs);
    free(t->split);
    free(t->line);
    memset(t, 0, sizeof *t);
}

int cli_format_from_name(const char *s)
{
    if (strcmp(s, "avengers") == 0)
        return CLI_FORMAT_AVENGERS;
    if (strcmp(s, "avengerspro") == 0)
        return CLI_FORMAT_AVENGERSPRO;
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_table_model(const cli_table *t, const char *name)
{
    size_t lo = 0, hi = t->m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->models[mid], name);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const char *scores_key(cli_format f)
{
    return f == CLI_FORMAT_AVENGERSPRO ? "records" : "scores";
}

static const char *costs_key(cli_format f)
{
    return f == CLI_FORMAT_AVENGERSPRO ? "usages" : "costs";
}

/* The model set from the first line's scores object, sorted. */
static int init_models(parser *p, const cJSON *scores)
{
    cli_table *t = p->t;
    size_t m = (size_t)cJSON_GetArraySize(scores);
    if (m == 0)
        return fail(p, "\"%s\" has no models", scores_key(t->format));
    if (m > CLI_MAX_MODELS)
        return fail(p, "%zu models (at most %u)", m, CLI_MAX_MODELS);
    if (!(t->models = calloc(m, sizeof *t->models)))
        return fail(p, "out of memory");
    const cJSON *c;
    cJSON_ArrayForEach(c, scores)
    {
        size_t len = strlen(c->string);
        if (len == 0 || len > MAX_NAME)
            return fail(p, "model name of length %zu (1..%u bytes)", len, MAX_NAME);
        if (!(t->models[t->m] = strdup(c->string)))
            return fail(p, "out of memory");
        t->m++;
    }
    qsort(t->models, m, sizeof *t->models, cmp_str);
    for (size_t i = 1; i < m; i++)
        if (strcmp(t->models[i - 1], t->models[i]) == 0)
            return fail(p, "model '%s' appears twice in \"%s\"", t->models[i],
                        scores_key(t->format));
    return 0;
}

static int grow(parser *p)
{
    cli_table *t = p->t;
    if (t->n < p->cap)
        return 0;
    if (t->n >= CLI_MAX_ROWS)
        return fail(p, "more than %zu rows", (size_t)CLI_MAX_ROWS);
    size_t cap = p->cap ? p->cap * 2 : INITIAL_ROWS;
    double *s = realloc(t->scores, cap * t->m * sizeof(double));
    if (s)
        t->scores = s;
    double *c = realloc(t->costs, cap * t->m * sizeof(double));
    if (c)
        t->costs = c;
    int8_t *sp = realloc(t->split, cap);
    if (sp)
        t->split = sp;
    size_t *ln = realloc(t->line, cap * sizeof(size_t));
    if (ln)
        t->line = ln;
    if (!s || !c || !sp || !ln)
        return fail(p, "out of memory at %zu rows", t->n);
    p->cap = cap;
    return 0;
}

/* A score: number, boolean, or null (NaN). */
static int read_score(parser *p, const cJSON *v, const char *model, double *out)
{
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return 0;
    }
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v) ? 1.0 : 0.0;
        return 0;
    }
    if (!cJSON_IsNumber(v))
        return fail(p, "score of model '%s' is not a number", model);
    if (!isfinite(v->valuedouble))
        return fail(p, "score of model '%s' is not a finite number", model);
    *out = v->valuedouble;
    return 0;
}

static int read_cost(parser *p, const cJSON *v, const char *model, double *out)
{
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return 0;
    }
    if (!cJSON_IsNumber(v))
        return fail(p, "cost of model '%s' is not a number", model);
    if (!isfinite(v->valuedouble))
        return fail(p, "cost of model '%s' is not a finite number", model);
    if (v->valuedouble < 0.0)
        return fail(p, "cost of model '%s' is negative (%g)", model, v->valuedouble);
    *out = v->valuedouble;
    return 0;
}

/* Fill row values from one object keyed by model; `what` names the object for messages. */
static int read_models(parser *p, const cJSON *obj, const char *what, bool is_cost, double *row)
{
    cli_table *t = p->t;
    for (size_t i = 0; i < t->m; i++)
        p->seen[i] = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
    {
        int j = cli_table_model(t, c->string);
        if (j < 0)
            return fail(p, "unknown model '%s' in \"%s\" (the models are those of line 1)",
                        c->string, what);
        if (p->seen[j])
            return fail(p, "model '%s' appears twice in \"%s\"", c->string, what);
        p->seen[j] = 1;
        const cJSON *v = c;
        if (is_cost && t->format == CLI_FORMAT_AVENGERSPRO) {
            if (!cJSON_IsObject(c))
                return fail(p, "\"usages\" of model '%s' is not an object", c->string);
            v = cJSON_GetObjectItemCaseSensitive(c, "cost");
            if (!v)
                return fail(p, "\"usages\" of model '%s' has no \"cost\"", c->string);
        }
        int rc = is_cost ? read_cost(p, v, c->string, &row[j]) : read_score(p, v, c->string, &row[j]);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < t->m; i++)
        if (!p->seen[i])
            return fail(p, "model '%s' is missing from \"%s\" (use null for no outcome)",
                        t->models[i], what);
    return 0;
}

static int read_line(parser *p, const char *line, size_t len)
{
    cli_table *t = p->t;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!root) {
        size_t col = end && end >= line ? (size_t)(end - line) + 1 : 1;
        return fail(p, "malformed JSON near column %zu", col);
    }
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        fail(p, "expected a JSON object");
        goto done;
    }
    bool first = t->models == NULL;
    if (first && t->format == CLI_FORMAT_AUTO) {
        if (cJSON_GetObjectItemCaseSensitive(root, "scores"))
            t->format = CLI_FORMAT_AVENGERS;
        else if (cJSON_GetObjectItemCaseSensitive(root, "records"))
            t->format = CLI_FORMAT_AVENGERSPRO;
        else {
            fail(p, "neither \"scores\" (avengers format) nor \"records\" (avengerspro format)");
            goto done;
        }
    }
    const char *sk = scores_key(t->format), *ck = costs_key(t->format);
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(root, sk);
    const cJSON *costs = cJSON_GetObjectItemCaseSensitive(root, ck);
    if (!cJSON_IsObject(scores)) {
        fail(p, "\"%s\" is missing or not an object", sk);
        goto done;
    }
    if (!cJSON_IsObject(costs)) {
        fail(p, "\"%s\" is missing or not an object", ck);
        goto done;
    }
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(root, "split");
    if (first) {
        if (init_models(p, scores))
            goto done;
        t->has_split = split != NULL;
    }
    if (grow(p))
        goto done;
    double *srow = t->scores + t->n * t->m, *crow = t->costs + t->n * t->m;
    if (read_models(p, scores, sk, false, srow) || read_models(p, costs, ck, true, crow))
        goto done;
    for (size_t i = 0; i < t->m; i++)
        if (isnan(srow[i]) || isnan(crow[i]))
            srow[i] = crow[i] = NAN; /* an outcome needs both */
    if (t->has_split != (split != NULL)) {
        fail(p, t->has_split ? "no \"split\" (line 1 has one, so every line needs one)"
                             : "\"split\" present but line 1 has none");
        goto done;
    }
    t->split[t->n] = CLI_SPLIT_NONE;
    if (split) {
        const char *v = cJSON_GetStringValue(split);
        if (v && strcmp(v, "train") == 0)
            t->split[t->n] = CLI_SPLIT_TRAIN;
        else if (v && strcmp(v, "test") == 0)
            t->split[t->n] = CLI_SPLIT_TEST;
        else {
            fail(p, "\"split\" must be \"train\" or \"test\"");
            goto done;
        }
    }
    t->line[t->n] = p->lineno;
    t->n++;
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

int cli_jsonl_parse(cli_table *out, const void *data, size_t size, cli_format fmt,
                    const char *name, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->format = fmt;
    parser p;
    memset(&p, 0, sizeof p);
    p.t = out;
    p.name = name ? name : "<data>";
    p.err = err;
    p.errlen = errlen;
    const char *s = data, *e = s + size;
    while (s < e) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        const char *le = nl ? nl : e;
        p.lineno++;
        size_t len = (size_t)(le - s);
        if (len && s[len - 1] == '\r')
            len--;
        size_t k = 0;
        while (k < len && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k < len && read_line(&p, s, len)) {
            cli_table_free(out);
            return -1;
        }
        s = nl ? nl + 1 : e;
    }
    if (out->n == 0) {
        snprintf(err, errlen, "%s: no data lines", p.name);
        cli_table_free(out);
        return -1;
    }
    return 0;
}
