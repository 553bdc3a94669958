/* JSON Lines readers (our format and Avengers-Pro's), see jsonl.h for the rules. */
#include "jsonl.h"

#include "cli.h"
#include "utf8.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 255u
#define INITIAL_ROWS 1024u
#define FIRST_PENDING 4096u /* first size of the buffer holding a line split across chunks */
#define HEX_DIGITS 4u       /* \uXXXX */
#define UTF8_BOM "\xEF\xBB\xBF"

struct cli_jsonl_reader {
    cli_table *t;
    size_t cap;
    const char *name;
    size_t lineno;
    char *err;
    size_t errlen;
    int failed;
    char *pending; /* the start of a line whose end is in a later chunk */
    size_t pending_len, pending_cap;
    const char **keys; /* scratch for the duplicate-key check */
    size_t keys_cap;
    int seen[CLI_MAX_MODELS]; /* scratch: per column, already read on this line */
    int ranged;               /* scores in [lo, hi] mapped onto [0, 1] */
    double lo, hi;
    size_t first_line;        /* the line number of the first data line (0: none yet) */
};
typedef struct cli_jsonl_reader parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(CLI_PRINTF, 2, 3)));
static int fail(parser *p, const char *fmt, ...)
{
    char what[CLI_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%zu: %s", p->name, p->lineno, what);
    p->failed = 1;
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
    if (t->split_names)
        for (size_t i = 0; i < t->n_splits; i++)
            free(t->split_names[i]);
    free(t->split_names);
    free(t->cost_unit);
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

int cli_table_split(const cli_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_splits; i++)
        if (strcmp(t->split_names[i], name) == 0)
            return (int)i;
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
        const unsigned char *u = (const unsigned char *)c->string;
        for (size_t i = 0; i < len;) {
            uint32_t cp = 0;
            size_t k = cli_utf8_decode(u + i, len - i, &cp);
            if (k == 0)
                return fail(p, "model name '%s' is not valid UTF-8", c->string);
            if (cli_is_control(cp))
                return fail(p, "model name '%s' contains the control character U+%04X",
                            c->string, (unsigned)cp);
            i += k;
        }
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
    double x = v->valuedouble;
    if (!isfinite(x))
        return fail(p, "score of model '%s' is not a finite number", model);
    if (p->ranged) {
        if (!(x >= p->lo && x <= p->hi))
            return fail(p, "score of model '%s' is %.17g, outside --score-range %.17g:%.17g",
                        model, x, p->lo, p->hi);
        *out = (x - p->lo) / (p->hi - p->lo);
        return 0;
    }
    if (!(x >= 0.0 && x <= 1.0))
        return fail(p, "score of model '%s' is %.17g, outside [0, 1] (1 = 100%%); rescale the "
                       "scores, or give their range with --score-range LO:HI to map it onto [0, 1]",
                    model, x);
    *out = x;
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

/* ---------------------------------------------------------------------------------------------
 * Strict JSON (RFC 8259) check of a line before cJSON parses it. cJSON accepts text after the
 * value, raw control characters and NUL bytes inside strings (a NUL silently cuts a key short, as
 * does \u0000), invalid UTF-8, and numbers such as 01 or 1.; each would make a line mean something
 * other than what it says, so each is refused here with its column.
 * ------------------------------------------------------------------------------------------- */
#define JSON_MAX_DEPTH 256 /* below cJSON's own nesting limit (1000) */

typedef struct scan {
    const unsigned char *p, *e, *at; /* position, end, where the problem is */
    bool grammar;                    /* the problem is a grammar error ("malformed JSON") */
    char what[160];
} scan;

static bool report(scan *s, const unsigned char *at, bool grammar, const char *fmt, va_list ap)
{
    vsnprintf(s->what, sizeof s->what, fmt, ap);
    s->at = at;
    s->grammar = grammar;
    return false;
}

/* A grammar error. */
static bool bad(scan *s, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(CLI_PRINTF, 3, 4)));
static bool bad(scan *s, const unsigned char *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(s, at, true, fmt, ap);
    va_end(ap);
    return false;
}

/* Something refused by name: a raw control character, invalid UTF-8, a NUL, too deep. */
static bool refuse(scan *s, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(CLI_PRINTF, 3, 4)));
static bool refuse(scan *s, const unsigned char *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(s, at, false, fmt, ap);
    va_end(ap);
    return false;
}

static void skip_ws(scan *s)
{
    while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool is_digit(const scan *s)
{
    return s->p < s->e && *s->p >= '0' && *s->p <= '9';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four hex digits after "\u" at q (q points at the backslash); -1 if malformed. */
static long escape_unit(const scan *s, const unsigned char *q)
{
    if (s->e - q < 2 + (long)HEX_DIGITS || q[0] != '\\' || q[1] != 'u')
        return -1;
    long v = 0;
    for (unsigned i = 0; i < HEX_DIGITS; i++) {
        int h = hex_value(q[2 + i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static bool scan_escape(scan *s)
{
    const unsigned char *q = s->p;
    if (s->e - q < 2)
        return bad(s, q, "the line ends inside a string");
    switch (q[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        s->p += 2;
        return true;
    case 'u':
        break;
    default:
        return bad(s, q, "invalid escape: '%c' after a backslash",
                   q[1] >= 0x20 && q[1] < 0x7F ? q[1] : '?');
    }
    long u = escape_unit(s, q);
    if (u < 0)
        return bad(s, q, "an escape 'u' needs four hex digits");
    if (u == 0)
        return refuse(s, q, "an escaped NUL (U+0000) in a string, which no name or value can hold");
    if (u >= 0xDC00 && u <= 0xDFFF)
        return refuse(s, q, "unpaired surrogate U+%04lX escaped in a string", u);
    if (u >= 0xD800 && u <= 0xDBFF) {
        long lo = escape_unit(s, q + 2 + HEX_DIGITS);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return refuse(s, q, "unpaired surrogate U+%04lX escaped in a string", u);
        s->p += 2 * (2 + HEX_DIGITS);
        return true;
    }
    s->p += 2 + HEX_DIGITS;
    return true;
}

static bool scan_string(scan *s)
{
    const unsigned char *start = s->p++; /* the opening quote */
    while (s->p < s->e) {
        unsigned c = *s->p;
        if (c == '"') {
            s->p++;
            return true;
        }
        if (c == '\\') {
            if (!scan_escape(s))
                return false;
            continue;
        }
        if (c == 0)
            return refuse(s, s->p, "raw NUL byte in a string");
        if (c < 0x20)
            return refuse(s, s->p, "raw control character U+%04X in a string", c);
        uint32_t cp;
        size_t n = cli_utf8_decode(s->p, (size_t)(s->e - s->p), &cp);
        if (n == 0)
            return refuse(s, s->p, "invalid UTF-8 (byte 0x%02X) in a string", c);
        s->p += n;
    }
    return bad(s, start, "string not terminated");
}

static bool scan_number(scan *s)
{
    const unsigned char *start = s->p;
    if (*s->p == '-')
        s->p++;
    if (!is_digit(s))
        return bad(s, start, "bad number");
    if (*s->p == '0') {
        s->p++;
        if (is_digit(s))
            return bad(s, start, "number with a leading zero");
    } else
        while (is_digit(s))
            s->p++;
    if (s->p < s->e && *s->p == '.') {
        s->p++;
        if (!is_digit(s))
            return bad(s, start, "number without digits after the point");
        while (is_digit(s))
            s->p++;
    }
    if (s->p < s->e && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->e && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!is_digit(s))
            return bad(s, start, "number without exponent digits");
        while (is_digit(s))
            s->p++;
    }
    return true;
}

static bool scan_literal(scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->e - s->p) < n || memcmp(s->p, word, n) != 0)
        return bad(s, s->p, "unexpected character");
    s->p += n;
    return true;
}

static bool scan_value(scan *s, int depth);

/* An object or array; the opening bracket is at s->p. */
static bool scan_container(scan *s, int depth)
{
    bool object = *s->p == '{';
    unsigned char close = object ? '}' : ']';
    if (depth >= JSON_MAX_DEPTH)
        return refuse(s, s->p, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
    s->p++;
    skip_ws(s);
    if (s->p < s->e && *s->p == close) {
        s->p++;
        return true;
    }
    for (;;) {
        if (object) {
            if (s->p >= s->e || *s->p != '"')
                return bad(s, s->p, "expected a key in quotes");
            if (!scan_string(s))
                return false;
            skip_ws(s);
            if (s->p >= s->e || *s->p != ':')
                return bad(s, s->p, "expected ':' after a key");
            s->p++;
        }
        if (!scan_value(s, depth + 1))
            return false;
        skip_ws(s);
        if (s->p < s->e && *s->p == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (s->p < s->e && *s->p == close) {
            s->p++;
            return true;
        }
        return bad(s, s->p, "expected ',' or '%c'", close);
    }
}

static bool scan_value(scan *s, int depth)
{
    skip_ws(s);
    if (s->p >= s->e)
        return bad(s, s->p, "the line ends where a value should be");
    switch (*s->p) {
    case '{': case '[': return scan_container(s, depth);
    case '"': return scan_string(s);
    case 't': return scan_literal(s, "true");
    case 'f': return scan_literal(s, "false");
    case 'n': return scan_literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return scan_number(s);
        return bad(s, s->p, "unexpected character");
    }
}

static int validate_line(parser *p, const char *line, size_t len)
{
    scan s = {(const unsigned char *)line, (const unsigned char *)line + len, NULL, false, ""};
    if (len >= 3 && memcmp(line, UTF8_BOM, 3) == 0)
        return fail(p, "a byte order mark (U+FEFF) at column 1; JSON Lines text is UTF-8 "
                       "without one");
    bool ok = scan_value(&s, 0);
    if (ok) {
        skip_ws(&s);
        if (s.p < s.e)
            ok = bad(&s, s.p, "text after the end of the JSON value");
    }
    if (ok)
        return 0;
    size_t col = (size_t)(s.at - (const unsigned char *)line) + 1;
    const char *hint = "";
    size_t k = 0;
    while (k < len && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (s.grammar && p->first_line == 0 && k < len && line[k] == '[')
        hint = " (the file looks like one JSON array; JSON Lines needs one object per line, "
               "e.g. jq -c '.[]' FILE)";
    else if (s.grammar && (s.at == s.e || (k < len && line[k] != '{')))
        hint = " (each line must hold one whole JSON object; the file looks pretty-printed: "
               "write one object per line, e.g. json.dumps(obj) or jq -c)";
    return s.grammar ? fail(p, "malformed JSON at column %zu: %s%s", col, s.what, hint)
                     : fail(p, "%s at column %zu", s.what, col);
}

/* A key that appears twice in an object of the line (cJSON keeps both and lookups find the first,
   so the second would be ignored without a word). */
static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_duplicates(parser *p, const cJSON *item, const char *where)
{
    if (cJSON_IsObject(item) && item->child && item->child->next) {
        size_t n = 0;
        for (const cJSON *c = item->child; c; c = c->next)
            n++;
        if (n > p->keys_cap) {
            const char **k = realloc(p->keys, n * sizeof *k);
            if (!k)
                return fail(p, "out of memory");
            p->keys = k;
            p->keys_cap = n;
        }
        n = 0;
        for (const cJSON *c = item->child; c; c = c->next)
            p->keys[n++] = c->string;
        qsort(p->keys, n, sizeof *p->keys, cmp_key);
        for (size_t i = 1; i < n; i++)
            if (strcmp(p->keys[i - 1], p->keys[i]) == 0)
                return where ? fail(p, "duplicate key \"%s\" in \"%s\"", p->keys[i], where)
                             : fail(p, "duplicate key \"%s\"", p->keys[i]);
    }
    for (const cJSON *c = item->child; c; c = c->next)
        if (c->child && check_duplicates(p, c, c->string ? c->string : where))
            return -1;
    return 0;
}

/* A name without control characters, of 1..max bytes (split names and the cost unit). */
static bool plain_name(const char *v, size_t max)
{
    size_t len = v ? strlen(v) : 0;
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t k = cli_utf8_decode((const unsigned char *)v + i, len - i, &cp);
        if (k == 0 || cli_is_control(cp))
            return false;
        i += k;
    }
    return true;
}

/* The line's "split": any name; its index among the names seen so far. */
static int read_split(parser *p, const cJSON *split, int8_t *out)
{
    cli_table *t = p->t;
    const char *v = cJSON_GetStringValue(split);
    if (!plain_name(v, CLI_MAX_SPLIT_NAME))
        return fail(p, "\"split\" must be a name (a string of 1..%u bytes without control "
                       "characters), such as \"train\", \"test\" or \"dev\"", CLI_MAX_SPLIT_NAME);
    int i = cli_table_split(t, v);
    if (i < 0) {
        if (t->n_splits == CLI_MAX_SPLITS)
            return fail(p, "more than %u different \"split\" names", CLI_MAX_SPLITS);
        char **names = realloc(t->split_names, (t->n_splits + 1) * sizeof *names);
        if (!names)
            return fail(p, "out of memory");
        t->split_names = names;
        if (!(names[t->n_splits] = strdup(v)))
            return fail(p, "out of memory");
        i = (int)t->n_splits++;
    }
    *out = (int8_t)i;
    return 0;
}

/* The optional "cost_unit": the same on every line that has one. */
static int read_cost_unit(parser *p, const cJSON *unit)
{
    cli_table *t = p->t;
    if (!unit)
        return 0;
    const char *v = cJSON_GetStringValue(unit);
    if (!plain_name(v, MAX_NAME))
        return fail(p, "\"cost_unit\" must be a string of 1..%u bytes without control characters, "
                       "such as \"USD\"", MAX_NAME);
    if (!t->cost_unit)
        return (t->cost_unit = strdup(v)) ? 0 : fail(p, "out of memory");
    if (strcmp(t->cost_unit, v) != 0)
        return fail(p, "\"cost_unit\" is \"%s\" but an earlier line says \"%s\"", v,
                    t->cost_unit);
    return 0;
}

/* ", the line's keys are: "a", "b", ..." for messages about missing keys. */
static void keys_found(const cJSON *root, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "; the line's keys are:");
    const cJSON *c;
    bool any = false;
    cJSON_ArrayForEach(c, root)
    {
        if (used >= cap)
            break;
        used += (size_t)snprintf(out + used, cap - used, "%s \"%s\"", any ? "," : "", c->string);
        any = true;
    }
    if (!any)
        snprintf(out, cap, "; the line is an empty object");
}

static int read_line(parser *p, const char *line, size_t len)
{
    cli_table *t = p->t;
    if (validate_line(p, line, len))
        return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!root) { /* valid JSON that cJSON cannot hold (e.g. a number of over 63 characters) */
        size_t col = end && end >= line ? (size_t)(end - line) + 1 : 1;
        return fail(p, "malformed JSON near column %zu", col);
    }
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        fail(p, cJSON_IsArray(root) ? "expected a JSON object, found an array (the file looks like "
                                      "one JSON array; JSON Lines needs one object per line, e.g. "
                                      "jq -c '.[]' FILE)"
                                    : "expected a JSON object");
        goto done;
    }
    if (p->first_line == 0)
        p->first_line = p->lineno;
    if (check_duplicates(p, root, NULL))
        goto done;
    bool first = t->models == NULL;
    char keys[CLI_ERR_MAX / 2];
    if (first && t->format == CLI_FORMAT_AUTO) {
        if (cJSON_GetObjectItemCaseSensitive(root, "scores"))
            t->format = CLI_FORMAT_AVENGERS;
        else if (cJSON_GetObjectItemCaseSensitive(root, "records"))
            t->format = CLI_FORMAT_AVENGERSPRO;
        else {
            keys_found(root, keys, sizeof keys);
            fail(p, "neither \"scores\" and \"costs\" (avengers format) nor \"records\" and "
                    "\"usages\" (avengerspro format)%s", keys);
            goto done;
        }
    }
    const char *sk = scores_key(t->format), *ck = costs_key(t->format);
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(root, sk);
    const cJSON *costs = cJSON_GetObjectItemCaseSensitive(root, ck);
    if (!cJSON_IsObject(scores) || !cJSON_IsObject(costs)) {
        const char *which = !cJSON_IsObject(scores) ? sk : ck;
        const cJSON *item = !cJSON_IsObject(scores) ? scores : costs;
        keys_found(root, keys, sizeof keys);
        fail(p, "\"%s\" is %s%s", which, item ? "not an object" : "missing", item ? "" : keys);
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
    if (split && read_split(p, split, &t->split[t->n]))
        goto done;
    if (read_cost_unit(p, cJSON_GetObjectItemCaseSensitive(root, "cost_unit")))
        goto done;
    t->line[t->n] = p->lineno;
    t->n++;
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Lines: split the input at '\n' (a line may span chunks), skip blank lines, bound line length.
 * ------------------------------------------------------------------------------------------- */
static int one_line(parser *p, const char *s, size_t len)
{
    p->lineno++;
    if (len && s[len - 1] == '\r')
        len--;
    size_t k = 0;
    while (k < len && (s[k] == ' ' || s[k] == '\t'))
        k++;
    if (k == len)
        return 0;
    if (len > CLI_MAX_LINE)
        return fail(p, "line of %zu bytes (at most %zu)", len, (size_t)CLI_MAX_LINE);
    return read_line(p, s, len);
}

int cli_jsonl_begin(cli_jsonl_reader **out, cli_table *t, cli_format fmt, const char *name,
                    char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->format = fmt;
    parser *p = calloc(1, sizeof *p);
    *out = p;
    if (!p) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<data>");
        return -1;
    }
    p->t = t;
    p->name = name ? name : "<data>";
    p->err = err;
    p->errlen = errlen;
    return 0;
}

static int append_pending(parser *p, const char *s, size_t n)
{
    if (p->pending_len + n > CLI_MAX_LINE + 1) { /* + 1: room for a '\r' before the '\n' */
        p->lineno++;
        return fail(p, "line longer than %zu bytes", (size_t)CLI_MAX_LINE);
    }
    if (p->pending_len + n > p->pending_cap) {
        size_t cap = p->pending_cap ? p->pending_cap : FIRST_PENDING;
        while (cap < p->pending_len + n)
            cap *= 2;
        char *b = realloc(p->pending, cap);
        if (!b)
            return fail(p, "out of memory for a line of %zu bytes", p->pending_len + n);
        p->pending = b;
        p->pending_cap = cap;
    }
    memcpy(p->pending + p->pending_len, s, n);
    p->pending_len += n;
    return 0;
}

void cli_jsonl_set_score_range(cli_jsonl_reader *p, double lo, double hi)
{
    p->ranged = 1;
    p->lo = lo;
    p->hi = hi;
}

int cli_jsonl_feed(cli_jsonl_reader *p, const void *data, size_t size)
{
    if (p->failed)
        return -1;
    const char *s = data, *e = s + size;
    while (s < e) {
        if (p->pending_len == 0) { /* fast path for runs of empty lines */
            const char *q = s;
            while (q < e && *q == '\n')
                q++;
            p->lineno += (size_t)(q - s);
            if ((s = q) == e)
                break;
        }
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        if (!nl)
            return append_pending(p, s, (size_t)(e - s));
        int rc;
        if (p->pending_len) {
            if (append_pending(p, s, (size_t)(nl - s)))
                return -1;
            rc = one_line(p, p->pending, p->pending_len);
            p->pending_len = 0;
        } else
            rc = one_line(p, s, (size_t)(nl - s));
        if (rc)
            return -1;
        s = nl + 1;
    }
    return 0;
}

void cli_jsonl_reader_free(cli_jsonl_reader *p)
{
    if (!p)
        return;
    free(p->pending);
    free(p->keys);
    free(p);
}

int cli_jsonl_finish(cli_jsonl_reader *p)
{
    if (!p)
        return -1;
    cli_table *t = p->t;
    int rc = p->failed ? -1 : 0;
    if (rc == 0 && p->pending_len)
        rc = one_line(p, p->pending, p->pending_len);
    if (rc == 0 && t->n == 0) {
        snprintf(p->err, p->errlen, "%s: no data lines", p->name);
        rc = -1;
    }
    if (rc)
        cli_table_free(t);
    cli_jsonl_reader_free(p);
    return rc;
}

int cli_jsonl_parse(cli_table *out, const void *data, size_t size, cli_format fmt,
                    const char *name, char *err, size_t errlen)
{
    cli_jsonl_reader *p;
    if (cli_jsonl_begin(&p, out, fmt, name, err, errlen))
        return -1;
    cli_jsonl_feed(p, data, size);
    return cli_jsonl_finish(p);
}
