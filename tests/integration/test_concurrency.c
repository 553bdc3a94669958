/* The concurrency matrix: every pair of call classes that docs/THREADING.md allows to
   overlap on one router is run at the same time, by threads hammering one router for a bounded
   time (under ThreadSanitizer in `make tsan`, AddressSanitizer in `make asan`).

   The matrix is not copied here: it is parsed from docs/THREADING.md at run time, so the test and
   the documentation cannot disagree. The parse fails loudly when the tables are missing or
   malformed, name a class this file does not know, lack one it knows, or are not symmetric, and
   when a call of the public header that takes a router belongs to no class.

   On every call the result is checked: routing calls return a model index the router has (or had)
   or a documented code; saves (to a file and to a buffer) load and agree with the router at the
   time; evaluations and budgets succeed (or fail with the code documented for a model added
   meanwhile). After the threads join, the router is saved, loaded back, and the loaded router
   must decide as the live one on probe queries (av_route, av_route_ex, av_route_batch).

   Environment: AV_CONC_SECONDS (seconds per pair, default 0.25; the mixed run gets twice that),
   AV_CONC_ONLY ("save+add_model": run only that pair, or "mixed"), AV_THREADING_MD (the path of
   the matrix, default docs/THREADING.md relative to the repository root, where make runs tests),
   AV_HEADER (default include/avengers/avengers.h). */
#define AV_STATIC_LINKING_ONLY /* the experimental tuning and budget interfaces */
#include "avengers/avengers.h"
#include "harness.h"
#include "fuzz/small_router.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <direct.h>
/* MinGW-w64 has no mkdtemp: a unique name (_mktemp_s), then the directory. */
static char *mkdtemp(char *t)
{
    return _mktemp_s(t, strlen(t) + 1) == 0 && _mkdir(t) == 0 ? t : NULL;
}
#endif

#ifndef AV_THREADING_MD
#define AV_THREADING_MD "docs/THREADING.md"
#endif
#ifndef AV_PUBLIC_HEADER
#define AV_PUBLIC_HEADER "include/avengers/avengers.h"
#endif

#define DEFAULT_SECONDS 0.25
/* A thread that has not returned this long after it was told to stop is hung (invariant 2 says
   every call returns in bounded time): the run aborts instead of hanging make check. */
#define HANG_SECONDS 120.0
#define MAX_THREADS 32
#define PROBES 48         /* probe queries for the closure check and the routing threads */
#define REPLAY_ROWS 64    /* rows of the replay set (eval, budget); the fixture holds out 77 */
#define BATCH_ROWS 12
#define ADD_PER_THREAD 12 /* models one add_model thread adds per run, spread over the run */
#define ADD_THREADS 2     /* add_model threads in a run at most (a pair of it with itself) */
#define MAX_ADDED (ADD_PER_THREAD * ADD_THREADS)
#define BUDGET_ROWS 32
#define MAX_REPORTS 4     /* failures printed per thread (all are counted) */
#define SR_K 8
#define SR_TOP_P 2

/* ---------------------------------------------------------------------------------------------
 * Call classes: what this file knows. The names are the ones used in docs/THREADING.md.
 * ------------------------------------------------------------------------------------------- */
typedef enum {
    C_ROUTE, C_ROUTE_EX, C_INTROSPECT, C_SAVE, C_CONVERT, C_EVAL, C_BUDGET, C_MERGE_SRC,
    C_UPDATE, C_ADD_MODEL, C_MERGE_DST, C_SET_TOP_P, C_SET_META, C_SET_ESTIMATOR, C_FREE,
    N_CLASSES
} cls;

static const char *const CLASS_NAMES[N_CLASSES] = {
    "route", "route_ex", "introspect", "save", "convert", "eval", "budget", "merge_src",
    "update", "add_model", "merge_dst", "set_top_p", "set_meta", "set_estimator", "free"};

/* The matrix as parsed: allowed[a][b] != 0 when classes a and b may overlap. */
static int allowed[N_CLASSES][N_CLASSES];
static int matrix_ok;

/* ---------------------------------------------------------------------------------------------
 * Parsing docs/THREADING.md
 * ------------------------------------------------------------------------------------------- */
#define MAX_LINE 4096
#define MAX_CELLS 40
#define MAX_CELL 1024 /* a longer cell ends the table, so its class is reported missing */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    for (size_t got; s && (got = fread(s + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *g = realloc(s, cap *= 2);
            if (!g) {
                free(s);
                s = NULL;
            }
            s = g;
        }
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

/* Split a table line "| a | b |" into trimmed cells without backticks or bold markers. Returns the
   cell count, or -1 when the line is not a table row. */
static int split_row(const char *line, char cells[][MAX_CELL], int max)
{
    while (*line == ' ')
        line++;
    if (*line != '|')
        return -1;
    int n = 0;
    const char *p = line + 1;
    while (*p && *p != '\n') {
        const char *e = p;
        while (*e && *e != '|' && *e != '\n')
            e++;
        if (*e != '|')
            break; /* text after the last bar */
        if (n == max)
            return -1;
        size_t o = 0;
        for (const char *c = p; c < e; c++)
            if (*c != '`' && *c != '*') {
                if (o == MAX_CELL - 1)
                    return -1;
                cells[n][o++] = *c;
            }
        cells[n][o] = '\0';
        char *s = cells[n];
        size_t lead = strspn(s, " \t");
        memmove(s, s + lead, strlen(s + lead) + 1);
        for (size_t len = strlen(s); len > 0 && isspace((unsigned char)s[len - 1]); len--)
            s[len - 1] = '\0';
        n++;
        p = e + 1;
    }
    return n;
}

static int class_of(const char *name)
{
    for (int c = 0; c < N_CLASSES; c++)
        if (strcmp(name, CLASS_NAMES[c]) == 0)
            return c;
    return -1;
}

/* The lines of the table that follows the marker: header, separator, rows. NULL if absent. */
static const char *table_after(const char *text, const char *marker)
{
    const char *m = strstr(text, marker);
    if (!m)
        return NULL;
    const char *l = strchr(m, '\n');
    while (l && (l[1] == '\n' || l[1] == ' '))
        l++;
    return l ? l + 1 : NULL;
}

static const char *next_line(const char *l)
{
    const char *e = strchr(l, '\n');
    return e ? e + 1 : l + strlen(l);
}

/* Set while the parser is fed broken tables on purpose (their problems are expected). */
static int parse_quiet;

#define PARSE_FAIL(...)                                                         \
    do {                                                                        \
        if (!parse_quiet) {                                                     \
            fprintf(stderr, "  %s: ", path);                                    \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
        errors++;                                                               \
    } while (0)

/* Parse the classes table of `text` (read from `path`; which calls are in which class) into
   calls_of[class] (one string of the class's calls) and the matrix into allowed[][]. Returns the
   number of problems found. */
static int parse_threading(const char *path, const char *text, char calls_of[N_CLASSES][2048])
{
    int errors = 0;
    static char cells[MAX_CELLS][MAX_CELL];
    /* 1. classes */
    int seen_class[N_CLASSES] = {0};
    const char *l = table_after(text, "<!-- call classes:");
    if (!l || split_row(l, cells, MAX_CELLS) < 2 || strcmp(cells[0], "class") != 0)
        PARSE_FAIL("no call-class table after '<!-- call classes:'");
    else {
        l = next_line(next_line(l)); /* header, separator */
        for (int n; (n = split_row(l, cells, MAX_CELLS)) >= 0; l = next_line(l)) {
            int c = n >= 2 ? class_of(cells[0]) : -1;
            if (c < 0) {
                PARSE_FAIL("call-class table names an unknown class '%s'", n ? cells[0] : "");
                continue;
            }
            if (seen_class[c]++)
                PARSE_FAIL("class '%s' listed twice", cells[0]);
            snprintf(calls_of[c], 2048, "%s", cells[1]);
        }
        for (int c = 0; c < N_CLASSES; c++)
            if (!seen_class[c])
                PARSE_FAIL("class '%s' (known to the test) is missing from the call-class table",
                           CLASS_NAMES[c]);
    }
    /* 2. the matrix */
    int col[MAX_CELLS], nh;
    int row_seen[N_CLASSES] = {0}, col_seen[N_CLASSES] = {0};
    for (int a = 0; a < N_CLASSES; a++)
        for (int b = 0; b < N_CLASSES; b++)
            allowed[a][b] = -1;
    l = table_after(text, "<!-- concurrency matrix:");
    if (!l || (nh = split_row(l, cells, MAX_CELLS)) < 2) {
        PARSE_FAIL("no matrix table after '<!-- concurrency matrix:'");
        return errors;
    }
    for (int i = 1; i < nh; i++) {
        col[i] = class_of(cells[i]);
        if (col[i] < 0)
            PARSE_FAIL("matrix column '%s' is not a class the test knows", cells[i]);
        else if (col_seen[col[i]]++)
            PARSE_FAIL("matrix column '%s' appears twice", cells[i]);
    }
    l = next_line(l);
    if (split_row(l, cells, MAX_CELLS) != nh || strncmp(cells[0], "---", 3) != 0)
        PARSE_FAIL("matrix header is not followed by a separator row of %d cells", nh);
    for (l = next_line(l);; l = next_line(l)) {
        int n = split_row(l, cells, MAX_CELLS);
        if (n < 0)
            break;
        int r = class_of(cells[0]);
        if (r < 0) {
            PARSE_FAIL("matrix row '%s' is not a class the test knows", cells[0]);
            continue;
        }
        if (row_seen[r]++)
            PARSE_FAIL("matrix row '%s' appears twice", cells[0]);
        if (n != nh) {
            PARSE_FAIL("matrix row '%s' has %d cells, the header %d", cells[0], n, nh);
            continue;
        }
        for (int i = 1; i < n; i++) {
            if (col[i] < 0)
                continue;
            if (strcmp(cells[i], "yes") == 0)
                allowed[r][col[i]] = 1;
            else if (strcmp(cells[i], "no") == 0)
                allowed[r][col[i]] = 0;
            else
                PARSE_FAIL("matrix cell (%s, %s) is '%s', not yes or no", CLASS_NAMES[r],
                           CLASS_NAMES[col[i]], cells[i]);
        }
    }
    for (int c = 0; c < N_CLASSES; c++) {
        if (!row_seen[c])
            PARSE_FAIL("class '%s' (known to the test) has no matrix row", CLASS_NAMES[c]);
        if (!col_seen[c])
            PARSE_FAIL("class '%s' (known to the test) has no matrix column", CLASS_NAMES[c]);
    }
    for (int a = 0; a < N_CLASSES; a++)
        for (int b = 0; b < a; b++)
            if (allowed[a][b] != allowed[b][a] && allowed[a][b] >= 0 && allowed[b][a] >= 0)
                PARSE_FAIL("matrix is not symmetric: (%s, %s) is %s but (%s, %s) is %s",
                           CLASS_NAMES[a], CLASS_NAMES[b], allowed[a][b] ? "yes" : "no",
                           CLASS_NAMES[b], CLASS_NAMES[a], allowed[b][a] ? "yes" : "no");
    for (int c = 0; c < N_CLASSES; c++)
        if (allowed[C_FREE][c] == 1)
            PARSE_FAIL("(free, %s) is yes: nothing can run on a router while it is freed",
                       CLASS_NAMES[c]);
    return errors;
}

/* Every AV_API function of the header with a parameter `av_router *` (a router that exists, not
   the `av_router **` a constructor fills) must be named in some class. */
static int check_header_coverage(const char *hpath, char calls_of[N_CLASSES][2048])
{
    const char *path = hpath;
    int errors = 0, functions = 0;
    char *text = read_text(hpath);
    if (!text) {
        PARSE_FAIL("cannot read (set AV_HEADER)");
        return 1;
    }
    for (const char *p = text; (p = strstr(p, "AV_API ")) != NULL; p++) {
        const char *paren = strchr(p, '('), *end = paren ? strstr(paren, ");") : NULL;
        /* declarations start a line; the macro's own definitions follow "#define " */
        if (p != text && p[-1] != '\n')
            continue;
        if (!paren || !end || memchr(p, '\n', (size_t)(paren - p)))
            continue;
        const char *name = paren;
        while (name > p && (isalnum((unsigned char)name[-1]) || name[-1] == '_'))
            name--;
        char fn[128];
        snprintf(fn, sizeof fn, "%.*s", (int)(paren - name), name);
        int takes_router = 0;
        for (const char *q = paren; q < end; q++) {
            if (strncmp(q, "av_router *", 11) == 0 && q[11] != '*') {
                takes_router = 1;
                break;
            }
        }
        if (!takes_router)
            continue;
        functions++;
        int found = 0;
        for (int c = 0; c < N_CLASSES && !found; c++) {
            const char *h = calls_of[c];
            size_t len = strlen(fn);
            while ((h = strstr(h, fn)) != NULL) {
                if (!isalnum((unsigned char)h[len]) && h[len] != '_') {
                    found = 1;
                    break;
                }
                h += len;
            }
        }
        if (!found)
            PARSE_FAIL("%s takes a router but is in no call class of %s", fn, AV_THREADING_MD);
    }
    if (functions < 20)
        PARSE_FAIL("found only %d router functions: the header parse is broken", functions);
    free(text);
    return errors;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Parse once; the number of problems (printed as found). */
static int load_matrix(void)
{
    static int done, problems;
    static char calls_of[N_CLASSES][2048];
    if (!done) {
        done = 1;
        const char *path = env_or("AV_THREADING_MD", AV_THREADING_MD);
        char *text = read_text(path);
        if (!text) {
            fprintf(stderr, "  %s: cannot read (set AV_THREADING_MD, run from the repository "
                            "root)\n", path);
            problems = 1;
            return problems;
        }
        problems = parse_threading(path, text, calls_of);
        free(text);
        problems += check_header_coverage(env_or("AV_HEADER", AV_PUBLIC_HEADER), calls_of);
        matrix_ok = problems == 0;
    }
    return problems;
}

TEST(test_matrix_matches_threading_md)
{
    CHECK_EQ_INT(load_matrix(), 0);
    int yes = 0;
    for (int a = 0; a < N_CLASSES; a++)
        for (int b = a; b < N_CLASSES; b++)
            yes += allowed[a][b] == 1;
    printf("     %d classes, %d pairs allowed to overlap\n", N_CLASSES, yes);
}

/* A copy of `text` with the first occurrence of `from` at or after the first `after` replaced. */
static char *edited(const char *text, const char *after, const char *from, const char *to)
{
    const char *a = strstr(text, after), *f = a ? strstr(a, from) : NULL;
    if (!f)
        return NULL;
    size_t n = strlen(text) + strlen(to) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%.*s%s%s", (int)(f - text), text, to, f + strlen(from));
    return s;
}

/* The parser must refuse broken tables, or "the test and the document agree" means nothing. Each
   case edits the real document once; the real matrix is parsed again afterwards. */
TEST(test_parser_refuses_broken_tables)
{
    const char *path = env_or("AV_THREADING_MD", AV_THREADING_MD);
    char *text = read_text(path);
    REQUIRE(text);
    static const struct {
        const char *what, *after, *from, *to;
    } cases[] = {
        {"asymmetric", "| `update` | yes", "yes", "no"},
        {"unknown row", "| `budget` | yes", "`budget`", "`budgets`"},
        {"unknown column", "| overlaps |", "`eval`", "`evaluate`"},
        {"bad cell", "| `save` | yes", "yes", "maybe"},
        {"missing row", "| `free` | no", "| `free` |", "free"},
        {"missing class", "| `free` | `av_router_free`", "| `free` |", "free"},
        {"no marker", "<!-- concurrency matrix:", "concurrency matrix:", "matrix:"},
        {"free overlaps", "| `free` | no", "no", "yes"},
        {"short row", "| `route` | yes", "| yes |", "|"},
    };
    static char calls_of[N_CLASSES][2048];
    parse_quiet = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = edited(text, cases[i].after, cases[i].from, cases[i].to);
        if (!t) {
            fprintf(stderr, "  case '%s': the document no longer has '%s'\n", cases[i].what,
                    cases[i].after);
            CHECK(t);
            continue;
        }
        int e = parse_threading(path, t, calls_of);
        if (e == 0)
            fprintf(stderr, "  case '%s': a broken table was accepted\n", cases[i].what);
        CHECK(e > 0);
        free(t);
    }
    parse_quiet = 0;
    CHECK_EQ_INT(parse_threading(path, text, calls_of), 0);
    free(text);
}

/* ---------------------------------------------------------------------------------------------
 * Shared data: a small router trained on the bundled fixture, probes and a replay set
 * ------------------------------------------------------------------------------------------- */
static struct {
    int ready;
    void *buf; /* the master router, serialised: every run loads a fresh copy */
    size_t size, dim, k, m0;
    uint32_t top_p;
    char *names[16 + MAX_ADDED]; /* the models, then those the add_model threads will add */
    size_t ncol;                 /* replay columns: m0 + MAX_ADDED */
    char hash[17];
    float *centroids;                 /* k x dim */
    float *probes;                    /* PROBES x dim */
    float *emb;                       /* REPLAY_ROWS x dim */
    float *scores, *costs;            /* REPLAY_ROWS x ncol (eval, matched by name) */
    /* Budget replays are in the router's model order without names: BUDGET_ROWS rows of m0 values,
       NaN-padded to AV_MAX_MODELS columns so that even a library reading them with a larger model
       count stays inside the buffer. */
    float *bscores, *bcosts;
    float *train_emb;                 /* rows for feedback */
    float *train_scores, *train_costs;
    size_t n_train;
    char tmpdir[256];
} G;

static int load_shared(void)
{
    if (G.ready)
        return G.ready > 0;
    G.ready = -1;
    av_router *r = sr_train(SR_K, SR_TOP_P, 7, 1);
    td_fixture fx;
    td_array g = {0};
    if (!r || td_load_fixture(&fx) != 0) {
        fprintf(stderr, "  cannot train the router on %s (%s)\n", AV_TEST_DATA_DIR, av_last_error());
        av_router_free(r);
        return 0;
    }
    if (td_load_npy(SR_GLOVE, "<f4", &g) != 0 || g.rows != fx.n) {
        free(g.data);
        td_free_fixture(&fx);
        av_router_free(r);
        return 0;
    }
    G.dim = g.cols, G.k = av_router_n_clusters(r), G.m0 = av_router_n_models(r);
    G.top_p = (uint32_t)av_router_top_p(r);
    snprintf(G.hash, sizeof G.hash, "%s", av_router_centroid_hash(r));
    size_t d = G.dim, m = G.m0, nt = 0, ne = 0;
    G.centroids = malloc(G.k * d * sizeof(float));
    G.probes = malloc(PROBES * d * sizeof(float));
    G.emb = malloc(REPLAY_ROWS * d * sizeof(float));
    G.ncol = m + MAX_ADDED;
    G.scores = malloc(REPLAY_ROWS * G.ncol * sizeof(float));
    G.costs = malloc(REPLAY_ROWS * G.ncol * sizeof(float));
    G.bscores = malloc(BUDGET_ROWS * AV_MAX_MODELS * sizeof(float));
    G.bcosts = malloc(BUDGET_ROWS * AV_MAX_MODELS * sizeof(float));
    G.train_emb = malloc(fx.n * d * sizeof(float));
    G.train_scores = malloc(fx.n * m * sizeof(float));
    G.train_costs = malloc(fx.n * m * sizeof(float));
    int ok = G.centroids && G.probes && G.emb && G.scores && G.costs && G.bscores && G.bcosts &&
             G.train_emb &&
             G.train_scores && G.train_costs && m == fx.m && m <= 16;
    for (size_t j = 0; ok && j < G.k; j++)
        ok = av_router_get_centroid(r, j, G.centroids + j * d, d) == AV_OK;
    for (size_t i = 0; ok && i < fx.n; i++) {
        const float *e = (const float *)g.data + i * d;
        if (((const uint8_t *)fx.split.data)[i]) { /* training rows: feedback */
            memcpy(G.train_emb + nt * d, e, d * sizeof(float));
            memcpy(G.train_scores + nt * m, TD_SCORES(&fx, i), m * sizeof(float));
            memcpy(G.train_costs + nt * m, TD_COSTS(&fx, i), m * sizeof(float));
            nt++;
        } else if (ne < REPLAY_ROWS) { /* held-out rows: replay, the first ones also probes */
            memcpy(G.emb + ne * d, e, d * sizeof(float));
            float *s = G.scores + ne * G.ncol, *c = G.costs + ne * G.ncol;
            memcpy(s, TD_SCORES(&fx, i), m * sizeof(float));
            memcpy(c, TD_COSTS(&fx, i), m * sizeof(float));
            for (size_t a = m; a < G.ncol; a++) /* the models added later: cheap coin flips */
                s[a] = (float)((ne + a) & 1), c[a] = 1e-5f;
            if (ne == 0)
                for (size_t t = 0; t < BUDGET_ROWS * AV_MAX_MODELS; t++)
                    G.bscores[t] = G.bcosts[t] = NAN;
            if (ne < BUDGET_ROWS) {
                memcpy(G.bscores + ne * m, s, m * sizeof(float));
                memcpy(G.bcosts + ne * m, c, m * sizeof(float));
            }
            if (ne < PROBES)
                memcpy(G.probes + ne * d, e, d * sizeof(float));
            ne++;
        }
    }
    G.n_train = nt;
    for (size_t i = 0; ok && i < m; i++)
        ok = (G.names[i] = strdup(av_router_model_name(r, i))) != NULL;
    for (size_t i = 0; ok && i < MAX_ADDED; i++) {
        char name[32];
        snprintf(name, sizeof name, "added_%zu", i);
        ok = (G.names[m + i] = strdup(name)) != NULL;
    }
    ok = ok && ne == REPLAY_ROWS && nt > 0 && av_router_save_buffer(r, &G.buf, &G.size) == AV_OK;
    const char *tmp = env_or("TMPDIR", "/tmp");
    snprintf(G.tmpdir, sizeof G.tmpdir, "%s/av_conc_XXXXXX", tmp);
    ok = ok && mkdtemp(G.tmpdir) != NULL;
    free(g.data);
    td_free_fixture(&fx);
    av_router_free(r);
    G.ready = ok ? 1 : -1;
    if (!ok)
        fprintf(stderr, "  cannot prepare the router and data (%zu held-out rows, %zu training "
                        "rows, %zu models, temporary directory '%s')\n", ne, nt, m, G.tmpdir);
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * One run: threads of some classes on one router until the deadline
 * ------------------------------------------------------------------------------------------- */
typedef struct run_ctx {
    av_router *r;
    atomic_int stop;
    atomic_int finished;
    atomic_int next_model; /* add_model: the next name is added_<next_model> */
    int adders;            /* add_model threads in the run */
    double seconds;
} run_ctx;

typedef struct worker {
    run_ctx *run;
    cls c;
    int id;
    pthread_t th;
    uint64_t rng;
    long calls, bad;
    double max_call; /* longest single iteration, seconds */
    av_router *own;  /* merge_src: the destination; merge_dst: the source */
    int reports;
    int added;       /* add_model: models added so far */
    double t0;       /* add_model: when the thread started */
} worker;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rnd(worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

/* Count a broken result; print the first few with the call and the library's detail. */
static void bad(worker *w, const char *call, long long rc, const char *what)
{
    w->bad++;
    if (w->reports++ < MAX_REPORTS)
        fprintf(stderr, "  [%s #%d] %s: %s (rc %lld: %s; %s)\n", CLASS_NAMES[w->c], w->id, call,
                what, rc, rc < 0 ? av_strerror((int)rc) : "-", av_last_error());
}

/* A model index is valid when the router has that many models after the call (the count only
   grows; a decision made before an addition is one of the router as it was). */
static int valid_model(const av_router *r, long long mi)
{
    return mi >= 0 && (size_t)mi < av_router_n_models(r);
}

static const float *probe(worker *w)
{
    return G.probes + (rnd(w) % PROBES) * G.dim;
}

static float alpha_of(worker *w)
{
    return (float)(rnd(w) % 11) / 10.0f;
}

static void do_route(worker *w)
{
    av_router *r = w->run->r;
    int32_t mi = av_route(r, probe(w), G.dim, alpha_of(w));
    if (!valid_model(r, mi))
        bad(w, "av_route", mi, "not a model index");
    int32_t out[BATCH_ROWS];
    size_t first = rnd(w) % (PROBES - BATCH_ROWS);
    int rc = av_route_batch(r, G.probes + first * G.dim, BATCH_ROWS, G.dim, G.dim, alpha_of(w), out);
    if (rc != AV_OK)
        bad(w, "av_route_batch", rc, "failed");
    for (int i = 0; i < BATCH_ROWS; i++)
        if (!valid_model(r, out[i]))
            bad(w, "av_route_batch", out[i], "row not routed to a model index");
}

static void do_route_ex(worker *w)
{
    av_router *r = w->run->r;
    av_route_options o = AV_ROUTE_OPTIONS_INIT;
    o.alpha = alpha_of(w);
    uint64_t x = rnd(w);
    uint8_t mask[AV_MAX_MODELS];
    int may_fail = 0;
    switch (x % 6) {
    case 1: o.kappa = 4.0; break;
    case 2: o.weighting = AV_WEIGHTING_SOFTMAX, o.temperature = 0.1f; break;
    case 3: o.flags = AV_ROUTE_EXPLORE, o.explore_seed = x; break;
    case 4: /* only the odd models of the original set */
        memset(mask, 0, sizeof mask);
        for (size_t i = 1; i < G.m0; i += 2)
            mask[i] = 1;
        o.model_mask = mask, o.model_mask_len = G.m0;
        break;
    case 5: o.flags = AV_ROUTE_MAX_COST, o.max_expected_cost = 2e-5, may_fail = 1; break;
    default: o.normalisation = AV_NORMALISE_GLOBAL; break;
    }
    double ms[AV_MAX_MODELS], es[AV_MAX_MODELS], ec[AV_MAX_MODELS];
    int32_t ranked[AV_MAX_MODELS];
    uint32_t cl[AV_MAX_TOP_P];
    av_route_result res = AV_ROUTE_RESULT_INIT;
    res.model_scores = ms, res.expected_score = es, res.expected_cost = ec;
    res.models_cap = AV_MAX_MODELS;
    res.ranked = ranked, res.ranked_cap = AV_MAX_MODELS;
    res.clusters = cl, res.clusters_cap = AV_MAX_TOP_P;
    int32_t mi = av_route_ex(r, probe(w), G.dim, &o, &res);
    if (mi == AV_ENOMODEL && may_fail)
        return;
    if (!valid_model(r, mi) || res.model != mi || (size_t)mi >= res.n_models ||
        res.n_models > av_router_n_models(r) || res.n_models < G.m0 || res.n_ranked > res.n_models)
        bad(w, "av_route_ex", mi, "not a model index consistent with the result");
    else if (x % 6 == 4 && !(mi & 1))
        bad(w, "av_route_ex", mi, "the mask was not respected");
    else if (res.n_ranked == 0 || res.ranked[0] != mi)
        bad(w, "av_route_ex", mi, "the ranking does not start with the decision");
}

static void do_introspect(worker *w)
{
    av_router *r = w->run->r;
    size_t n = av_router_n_models(r);
    if (av_router_dim(r) != G.dim || av_router_n_clusters(r) != G.k || n < G.m0 ||
        n > AV_MAX_MODELS || av_router_top_p(r) != G.top_p || av_router_members(r) != 1 ||
        av_router_centroid_type(r) != AV_CENTROIDS_F32 || !av_router_simd_backend(r))
        bad(w, "sizes", (long long)n, "a size changed or is out of range");
    size_t i = rnd(w) % n, j = rnd(w) % G.k;
    const char *name = av_router_model_name(r, i);
    if (!name || !*name)
        bad(w, "av_router_model_name", (long long)i, "NULL or empty for a model that exists");
    else if (av_router_model_index(r, name) != (int32_t)i)
        bad(w, "av_router_model_index", av_router_model_index(r, name), "name maps elsewhere");
    if (i < G.m0 && name && strcmp(name, G.names[i]) != 0)
        bad(w, "av_router_model_name", (long long)i, "an original model changed its name");
    float c[512];
    int rc = G.dim <= 512 ? av_router_get_centroid(r, j, c, G.dim) : AV_OK;
    if (rc != AV_OK || memcmp(c, G.centroids + j * G.dim, G.dim * sizeof(float)) != 0)
        bad(w, "av_router_get_centroid", rc, "failed or changed");
    double cnt = -1, ss = 0, sc = -1;
    rc = av_router_cluster_stats(r, j, i, &cnt, &ss, &sc);
    if (rc != AV_OK || !(cnt >= 0) || !isfinite(ss) || !(sc >= 0))
        bad(w, "av_router_cluster_stats", rc, "failed or not a statistic");
    const char *e = av_router_meta(r, "embedder_id"), *k, *v;
    if (!e || strcmp(e, "glove-100") != 0)
        bad(w, "av_router_meta", 0, "embedder_id lost");
    size_t nm = av_router_meta_count(r);
    rc = nm ? av_router_meta_at(r, rnd(w) % nm, &k, &v) : AV_EEMPTY;
    if (rc != AV_OK || !k || !v)
        bad(w, "av_router_meta_at", rc, "failed");
    const char *h = av_router_centroid_hash(r);
    if (!h || strcmp(h, G.hash) != 0)
        bad(w, "av_router_centroid_hash", 0, "changed");
    av_estimator_options eo = AV_ESTIMATOR_OPTIONS_INIT;
    if ((rc = av_router_get_estimator(r, &eo)) != AV_OK || eo.kappa != 0.0)
        bad(w, "av_router_get_estimator", rc, "failed or changed");
    av_price pr;
    av_price_init(&pr);
    if ((rc = av_router_get_price(r, (int32_t)i, &pr)) != AV_OK || !(pr.cost_per_query >= 0.0))
        bad(w, "av_router_get_price", rc, "failed or not a price");
}

/* A router loaded from a snapshot taken between n_before and n_after (model counts read before and
   after the save): same shape, a model count in that range, the live router's names, and it
   routes. */
static void check_snapshot(worker *w, const char *call, av_router *l, size_t n_before,
                           size_t n_after)
{
    size_t n = av_router_n_models(l);
    if (av_router_dim(l) != G.dim || av_router_n_clusters(l) != G.k || n < n_before ||
        n > n_after) {
        bad(w, call, (long long)n, "snapshot has the wrong shape or model count");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *a = av_router_model_name(l, i), *b = av_router_model_name(w->run->r, i);
        if (!a || !b || strcmp(a, b) != 0) {
            bad(w, call, (long long)i, "snapshot model name differs from the router's");
            return;
        }
    }
    int32_t mi = av_route(l, probe(w), G.dim, alpha_of(w));
    if (mi < 0 || (size_t)mi >= n)
        bad(w, call, mi, "snapshot does not route");
}

static void do_save(worker *w)
{
    av_router *r = w->run->r, *l = NULL;
    size_t n0 = av_router_n_models(r);
    int rc;
    if (w->calls & 1) {
        char path[400];
        snprintf(path, sizeof path, "%s/save_%d.avr", G.tmpdir, w->id);
        rc = av_router_save(r, path);
        size_t n1 = av_router_n_models(r);
        if (rc != AV_OK)
            bad(w, "av_router_save", rc, "failed");
        else if ((rc = av_router_load(&l, path)) != AV_OK)
            bad(w, "av_router_save", rc, "the saved file does not load");
        else
            check_snapshot(w, "av_router_save", l, n0, n1);
    } else {
        void *b = NULL;
        size_t sz = 0;
        rc = av_router_save_buffer(r, &b, &sz);
        size_t n1 = av_router_n_models(r);
        if (rc != AV_OK)
            bad(w, "av_router_save_buffer", rc, "failed");
        else if ((rc = av_router_load_buffer(&l, b, sz)) != AV_OK)
            bad(w, "av_router_save_buffer", rc, "the saved buffer does not load");
        else
            check_snapshot(w, "av_router_save_buffer", l, n0, n1);
        av_free(b);
    }
    av_router_free(l);
}

static void do_convert(worker *w)
{
    static const av_centroid_type types[] = {AV_CENTROIDS_F32, AV_CENTROIDS_F16, AV_CENTROIDS_INT8};
    av_router *r = w->run->r, *l = NULL;
    size_t n0 = av_router_n_models(r);
    int rc = av_router_convert(&l, r, types[w->calls % 3]);
    size_t n1 = av_router_n_models(r);
    if (rc != AV_OK)
        bad(w, "av_router_convert", rc, "failed");
    else
        check_snapshot(w, "av_router_convert", l, n0, n1);
    av_router_free(l);
}

/* The replay names the original models and every model the add_model threads may add (columns are
   matched by name), so an evaluation succeeds whatever the model set is when it starts. */
static void do_eval(worker *w)
{
    av_router *r = w->run->r;
    av_replay rp = AV_REPLAY_INIT;
    rp.n = REPLAY_ROWS, rp.dim = G.dim, rp.embeddings = G.emb, rp.n_models = G.ncol;
    rp.model_names = (const char *const *)G.names, rp.scores = G.scores, rp.costs = G.costs;
    av_eval_options eo = AV_EVAL_OPTIONS_INIT;
    static const double alphas[] = {0.0, 0.5, 0.9, 1.0};
    eo.alphas = alphas, eo.n_alphas = 4;
    size_t rows[16];
    for (int i = 0; i < 16; i++)
        rows[i] = rnd(w) % REPLAY_ROWS;
    av_eval_result *res = NULL;
    int rc;
    const char *call;
    switch (w->calls % 3) {
    case 0:
        call = "av_eval_run";
        rc = av_eval_run(&res, r, &rp, &eo);
        break;
    case 1:
        call = "av_eval_run_rows";
        rc = av_eval_run_rows(&res, r, &rp, rows, 16, &eo);
        break;
    default: {
        call = "av_eval_subset_auc";
        double auc = NAN;
        rc = av_eval_subset_auc(&auc, r, &rp, rows, 16, &eo);
        if (rc == AV_OK && !(isnan(auc) || (auc >= 0 && auc <= 1.0 + 1e-9)))
            bad(w, call, rc, "AUC out of range");
        break;
    }
    }
    if (rc != AV_OK)
        bad(w, call, rc, "failed");
    else if (res) {
        av_eval_metrics met = {sizeof met, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        size_t nm = av_eval_n_models(res);
        if (av_eval_n_alphas(res) != 4 || nm < G.m0 || nm > av_router_n_models(r) ||
            av_eval_metrics_get(res, &met) != AV_OK || met.best_model < 0 ||
            (size_t)met.best_model >= nm)
            bad(w, call, rc, "inconsistent result");
    }
    av_eval_result_free(res);
}

static void do_budget(worker *w)
{
    av_router *r = w->run->r;
    double ms = NAN, mc = NAN;
    float a = -1;
    int rc;
    const char *call;
    int replay = (int)(rnd(w) & 1);
    const float *E = replay ? G.emb : NULL;
    size_t n = replay ? BUDGET_ROWS : 0;
    /* A budget replay's rows are as long as the model count the call pins (THREADING.md), which a
       caller cannot know while models are added: then only the router's estimates are used. */
    int logged = replay && !w->run->adders;
    switch (w->calls % 3) {
    case 0:
        call = "av_router_expected_mean";
        rc = av_router_expected_mean(r, alpha_of(w), E, n, G.dim, logged ? G.bscores : NULL,
                                     logged ? G.bcosts : NULL, &ms, &mc);
        if (rc == AV_OK && !(isfinite(ms) && isfinite(mc) && mc >= 0))
            bad(w, call, rc, "mean not finite");
        break;
    case 1:
        call = "av_router_alpha_for_budget";
        rc = av_router_alpha_for_budget(r, 1e-3, E, n, G.dim, logged ? G.bscores : NULL,
                                        logged ? G.bcosts : NULL, 11, &a);
        break;
    default:
        call = "av_router_alpha_for_accuracy";
        rc = av_router_alpha_for_accuracy(r, 0.1, E, n, G.dim, logged ? G.bscores : NULL,
                                          logged ? G.bcosts : NULL, 11, &a);
        break;
    }
    if (rc != AV_OK && rc != AV_ENOMODEL)
        bad(w, call, rc, "failed");
    else if (rc == AV_OK && w->calls % 3 && !(a >= 0.0f && a <= 1.0f))
        bad(w, call, rc, "alpha out of range");
}

static void do_merge_src(worker *w)
{
    int rc = av_profile_merge(w->own, w->run->r);
    if (rc != AV_OK && !(rc == AV_EMISMATCH && av_router_n_models(w->run->r) > G.m0))
        bad(w, "av_profile_merge(dst, router)", rc, "failed");
}

static void do_merge_dst(worker *w)
{
    int rc = av_profile_merge(w->run->r, w->own);
    if (rc != AV_OK && !(rc == AV_EMISMATCH && av_router_n_models(w->run->r) > G.m0))
        bad(w, "av_profile_merge(router, src)", rc, "failed");
}

static void do_update(worker *w)
{
    av_router *r = w->run->r;
    size_t row = rnd(w) % G.n_train, n = av_router_n_models(r);
    size_t model = rnd(w) % n;
    const float *e = G.train_emb + row * G.dim;
    float s = model < G.m0 ? G.train_scores[row * G.m0 + model] : (float)(rnd(w) & 1);
    float c = model < G.m0 ? G.train_costs[row * G.m0 + model] : 1e-5f;
    if (isnan(s) || isnan(c))
        s = 0.5f, c = 1e-5f;
    int rc;
    uint64_t x = rnd(w);
    if (x % 16 == 3) { /* a price change: the model's costs rescaled, every row republished */
        av_price p;
        av_price_init(&p);
        p.cost_per_query = 1e-5 * (double)(1 + rnd(w) % 8);
        rc = av_router_set_price(r, (int32_t)model, &p, NULL);
        if (rc != AV_OK)
            bad(w, "av_router_set_price", rc, "failed");
        return;
    }
    if (x % 4 == 0) {
        rc = av_profile_update(r, e, G.dim, (int32_t)model, s, c);
    } else {
        av_update_options o = AV_UPDATE_OPTIONS_INIT;
        if (x % 4 == 1)
            o.half_life = 5000; /* decay: every statistic scaled, every row republished */
        else if (x % 4 == 2)
            o.top_p = 2, o.weighting = AV_WEIGHTING_SOFTMAX;
        rc = av_profile_update_ex(r, e, G.dim, (int32_t)model, s, c, &o);
    }
    if (rc != AV_OK)
        bad(w, "av_profile_update(_ex)", rc, "failed");
}

/* Adds ADD_PER_THREAD models spread over the run (so the other class keeps overlapping a router
   whose model set changes), reading routes in between. */
static void do_add_model(worker *w)
{
    run_ctx *run = w->run;
    if (w->calls == 0)
        w->t0 = now_s();
    double due = run->seconds * (double)w->added / ADD_PER_THREAD;
    if (w->added >= ADD_PER_THREAD || now_s() - w->t0 < due) {
        /* between additions: a route, so this thread keeps overlapping */
        int32_t mi = av_route(run->r, probe(w), G.dim, alpha_of(w));
        if (!valid_model(run->r, mi))
            bad(w, "av_route", mi, "not a model index");
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "added_%d", atomic_fetch_add(&run->next_model, 1));
    size_t n0 = av_router_n_models(run->r);
    int32_t mi = av_router_add_model(run->r, name, 0.3 + 0.05 * (w->added % 8), 1e-5, 2.0);
    w->added++;
    if (mi < (int32_t)n0 || mi == AV_ELIMIT)
        bad(w, "av_router_add_model", mi, "failed");
    else if (av_router_model_index(run->r, name) != mi)
        bad(w, "av_router_add_model", mi, "the new model is not found under its name");
}

/* Configuration classes: documented as overlapping nothing; they run only if the matrix ever says
   otherwise (and then the sanitizers judge). */
static void do_set_top_p(worker *w)
{
    int rc = av_router_set_top_p(w->run->r, (uint32_t)(1 + w->calls % 2));
    if (rc != AV_OK)
        bad(w, "av_router_set_top_p", rc, "failed");
}

static void do_set_meta(worker *w)
{
    char v[32];
    snprintf(v, sizeof v, "%ld", w->calls);
    int rc = av_router_set_meta(w->run->r, "concurrency_test", v);
    if (rc != AV_OK)
        bad(w, "av_router_set_meta", rc, "failed");
}

static void do_set_estimator(worker *w)
{
    av_estimator_options o = AV_ESTIMATOR_OPTIONS_INIT;
    o.kappa = (double)(w->calls % 2);
    int rc = av_router_set_estimator(w->run->r, &o);
    if (rc != AV_OK)
        bad(w, "av_router_set_estimator", rc, "failed");
}

static void (*const DO[N_CLASSES])(worker *) = {
    do_route, do_route_ex, do_introspect, do_save, do_convert, do_eval, do_budget, do_merge_src,
    do_update, do_add_model, do_merge_dst, do_set_top_p, do_set_meta, do_set_estimator, NULL};

static void *work(void *arg)
{
    worker *w = arg;
    do {
        double t = now_s();
        DO[w->c](w);
        t = now_s() - t;
        if (t > w->max_call)
            w->max_call = t;
        if (t > HANG_SECONDS)
            bad(w, "a call", 0, "took longer than the bound");
        w->calls++;
    } while (!atomic_load(&w->run->stop));
    atomic_fetch_add(&w->run->finished, 1);
    return NULL;
}

/* The closure check (invariant 1), on a quiescent router: it saves (buffer and file), the saves
   load, and the loaded routers decide as the live one on every probe, for av_route, av_route_ex
   (default and non-default options) and av_route_batch; the statistics are equal. */
static int closure(const char *label, av_router *r)
{
    int fails = 0;
    void *b = NULL;
    size_t sz = 0;
    av_router *l1 = NULL, *l2 = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/closure.avr", G.tmpdir);
    int rc1 = av_router_save_buffer(r, &b, &sz), rc2 = rc1 ? rc1 : av_router_load_buffer(&l1, b, sz);
    int rc3 = av_router_save(r, path), rc4 = rc3 ? rc3 : av_router_load(&l2, path);
    av_free(b);
    if (rc2 || rc4) {
        fprintf(stderr, "  [%s] closure: save/load failed (%d, %d: %s)\n", label, rc2, rc4,
                av_last_error());
        av_router_free(l1);
        av_router_free(l2);
        return 1;
    }
    size_t n = av_router_n_models(r);
    if (av_router_n_models(l1) != n || av_router_n_models(l2) != n) {
        fprintf(stderr, "  [%s] closure: %zu models live, %zu and %zu loaded\n", label, n,
                av_router_n_models(l1), av_router_n_models(l2));
        fails++;
    }
    for (size_t i = 0; !fails && i < n; i++)
        if (strcmp(av_router_model_name(r, i), av_router_model_name(l1, i)) != 0)
            fails++;
    size_t stats_diff = 0;
    for (size_t j = 0; !fails && j < G.k; j++)
        for (size_t i = 0; i < n; i++) {
            double a[3], c[3];
            av_router_cluster_stats(r, j, i, a, a + 1, a + 2);
            av_router_cluster_stats(l1, j, i, c, c + 1, c + 2);
            stats_diff += a[0] != c[0] || a[1] != c[1] || a[2] != c[2];
        }
    if (stats_diff) {
        fprintf(stderr, "  [%s] closure: %zu statistics differ after a round trip\n", label,
                stats_diff);
        fails++;
    }
    static const float alphas[] = {0.0f, 0.3f, 0.5f, 0.8f, 1.0f};
    size_t diff_route = 0, diff_ex = 0, diff_batch = 0;
    for (size_t a = 0; !fails && a < sizeof alphas / sizeof alphas[0]; a++) {
        int32_t o1[PROBES], o2[PROBES];
        for (size_t q = 0; q < PROBES; q++) {
            const float *e = G.probes + q * G.dim;
            int32_t d0 = av_route(r, e, G.dim, alphas[a]);
            diff_route += d0 < 0 || d0 != av_route(l1, e, G.dim, alphas[a]) ||
                          d0 != av_route(l2, e, G.dim, alphas[a]);
            av_route_options o = AV_ROUTE_OPTIONS_INIT;
            o.alpha = alphas[a];
            if (q % 3 == 1)
                o.kappa = 4.0;
            else if (q % 3 == 2)
                o.weighting = AV_WEIGHTING_SOFTMAX, o.temperature = 0.1f;
            int32_t x0 = av_route_ex(r, e, G.dim, &o, NULL);
            diff_ex += x0 < 0 || x0 != av_route_ex(l1, e, G.dim, &o, NULL);
        }
        int rb = av_route_batch(r, G.probes, PROBES, G.dim, G.dim, alphas[a], o1);
        int rb1 = av_route_batch(l1, G.probes, PROBES, G.dim, G.dim, alphas[a], o2);
        diff_batch += rb != AV_OK || rb1 != AV_OK || memcmp(o1, o2, sizeof o1) != 0;
    }
    if (diff_route || diff_ex || diff_batch) {
        fprintf(stderr, "  [%s] closure: the loaded router decides differently (route %zu, "
                        "route_ex %zu, batch %zu of %zu probes x 5 alphas)\n",
                label, diff_route, diff_ex, diff_batch, (size_t)PROBES);
        fails++;
    }
    av_router_free(l1);
    av_router_free(l2);
    return fails;
}

static double seconds_per_pair(void)
{
    const char *s = getenv("AV_CONC_SECONDS");
    double v = s ? atof(s) : DEFAULT_SECONDS;
    return v > 0 ? v : DEFAULT_SECONDS;
}

/* Run the classes cs[0..n) (one thread each) on a fresh copy of the router for `seconds`, then
   check every thread's results and the closure. Returns the number of problems. */
static int run_classes(const char *label, const cls *cs, int n, double seconds)
{
    run_ctx run;
    memset(&run, 0, sizeof run);
    atomic_init(&run.stop, 0);
    atomic_init(&run.finished, 0);
    atomic_init(&run.next_model, 0);
    run.seconds = seconds;
    if (av_router_load_buffer(&run.r, G.buf, G.size) != AV_OK) {
        fprintf(stderr, "  [%s] cannot load the router\n", label);
        return 1;
    }
    static worker ws[MAX_THREADS];
    int started = 0, problems = 0;
    for (int i = 0; i < n; i++) {
        worker *w = &ws[i];
        memset(w, 0, sizeof *w);
        w->run = &run, w->c = cs[i], w->id = i;
        w->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) + (uint64_t)cs[i];
        if (cs[i] == C_ADD_MODEL && ++run.adders > ADD_THREADS) {
            fprintf(stderr, "  [%s] more than %d add_model threads\n", label, ADD_THREADS);
            problems++;
        }
        if ((cs[i] == C_MERGE_SRC || cs[i] == C_MERGE_DST) &&
            av_router_load_buffer(&w->own, G.buf, G.size) != AV_OK) {
            problems++;
            break;
        }
    }
    for (int i = 0; !problems && i < n; i++) {
        if (pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0) {
            problems++;
            break;
        }
        started++;
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&run.stop, 1);
    double t0 = now_s();
    while (atomic_load(&run.finished) < started) {
        if (now_s() - t0 > HANG_SECONDS) {
            fprintf(stderr, "  [%s] a thread did not return within %g s of the stop:", label,
                    HANG_SECONDS);
            for (int i = 0; i < started; i++)
                fprintf(stderr, " %s (%ld calls)", CLASS_NAMES[ws[i].c], ws[i].calls);
            fprintf(stderr, "\n");
            abort(); /* invariant 2: bounded time */
        }
        struct timespec p = {0, 1000000};
        nanosleep(&p, NULL);
    }
    for (int i = 0; i < started; i++)
        pthread_join(ws[i].th, NULL);
    char summary[1024];
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        problems += ws[i].bad != 0;
        if (ws[i].calls == 0 && i < started) {
            fprintf(stderr, "  [%s] %s made no call\n", label, CLASS_NAMES[ws[i].c]);
            problems++;
        }
        if (o < sizeof summary)
            o += (size_t)snprintf(summary + o, sizeof summary - o, " %s %ld%s", CLASS_NAMES[ws[i].c],
                                  ws[i].calls, ws[i].bad ? " BAD" : "");
        av_router_free(ws[i].own);
        ws[i].own = NULL;
    }
    if (!problems)
        problems += closure(label, run.r);
    printf("     %-24s%s, %zu models%s\n", label, summary, av_router_n_models(run.r),
           problems ? "  FAILED" : "");
    fflush(stdout);
    av_router_free(run.r);
    return problems;
}

static int selected(const char *label)
{
    const char *only = getenv("AV_CONC_ONLY");
    return !only || !*only || strcmp(only, label) == 0;
}

TEST(test_allowed_pairs)
{
    REQUIRE(load_matrix() == 0);
    REQUIRE(load_shared());
    double sec = seconds_per_pair(), t0 = now_s();
    int pairs = 0, failed = 0;
    for (int a = 0; a < N_CLASSES; a++)
        for (int b = a; b < N_CLASSES; b++) {
            if (allowed[a][b] != 1)
                continue;
            char label[64];
            snprintf(label, sizeof label, "%s+%s", CLASS_NAMES[a], CLASS_NAMES[b]);
            if (!selected(label))
                continue;
            if (!DO[a] || !DO[b]) {
                fprintf(stderr, "  %s: the matrix allows it, but free cannot overlap anything\n",
                        label);
                failed++;
                continue;
            }
            cls cs[2] = {(cls)a, (cls)b}; /* a class with itself: two threads of it */
            int f = run_classes(label, cs, 2, sec);
            failed += f != 0;
            pairs++;
        }
    printf("     %d pairs in %.1f s\n", pairs, now_s() - t0);
    CHECK_EQ_INT(failed, 0);
}

/* All the classes that may overlap each other at once: the largest set found by dropping, while
   some pair in the set is not allowed, the class with the most disallowed partners. */
TEST(test_mixed)
{
    REQUIRE(load_matrix() == 0);
    REQUIRE(load_shared());
    if (!selected("mixed"))
        return;
    int in[N_CLASSES];
    for (int c = 0; c < N_CLASSES; c++)
        in[c] = allowed[c][c] == 1 && DO[c] != NULL;
    for (;;) {
        int worst = -1, worst_no = 0;
        for (int a = 0; a < N_CLASSES; a++) {
            int no = 0;
            for (int b = 0; in[a] && b < N_CLASSES; b++)
                no += in[b] && allowed[a][b] != 1;
            if (no > worst_no)
                worst = a, worst_no = no;
        }
        if (worst < 0)
            break;
        in[worst] = 0;
    }
    cls cs[MAX_THREADS];
    int n = 0;
    for (int c = 0; c < N_CLASSES && n < MAX_THREADS; c++)
        if (in[c])
            cs[n++] = (cls)c;
    REQUIRE(n >= 2);
    CHECK_EQ_INT(run_classes("mixed", cs, n, 2 * seconds_per_pair()), 0);
}

static void cleanup(void)
{
    if (G.tmpdir[0]) {
        char p[400];
        for (int i = 0; i < MAX_THREADS; i++) {
            snprintf(p, sizeof p, "%s/save_%d.avr", G.tmpdir, i);
            unlink(p);
        }
        snprintf(p, sizeof p, "%s/closure.avr", G.tmpdir);
        unlink(p);
        rmdir(G.tmpdir);
    }
    av_free(G.buf);
    free(G.centroids), free(G.probes), free(G.emb), free(G.scores), free(G.costs);
    free(G.bscores), free(G.bcosts);
    free(G.train_emb), free(G.train_scores), free(G.train_costs);
    for (size_t i = 0; i < 16 + MAX_ADDED; i++)
        free(G.names[i]);
}

TEST(test_cleanup)
{
    cleanup();
}

TH_MAIN(T(test_matrix_matches_threading_md), T(test_parser_refuses_broken_tables),
        T(test_allowed_pairs), T(test_mixed),
        T(test_cleanup))
