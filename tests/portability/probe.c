/* The portability probe: what a build on one platform decides and writes, printed as `key value`
   lines that tests/portability/compare.py compares with the same program built natively on
   x86-64 (docs/PORTABILITY.md).

     probe OUTDIR     route the golden router (tests/cli/golden/router.avr, written on x86-64)
                      with float32, float16 and int8 centroids and with options beyond the paper,
                      apply feedback, train a small router, and write golden.avr (the golden
                      router saved again), updated.avr and trained.avr into OUTDIR
     probe --decide FILE
                      print the decisions hash of a router file written by another platform's
                      probe, for the host to check that it loads with the same decisions
     probe --speed    microseconds per av_route of the golden router on the active backend
                      (docs/PORTABILITY.md: speeds under emulation; never a test assertion)

   Decisions are hashed (FNV-1a 64) over a fixed subset of the llmrouter9 rows, few enough for an
   emulator. The embeddings file is little-endian float32 (numpy '<f4') and is read byte by byte,
   so the probe runs on big-endian machines too. Only the public API and standard C are used. */
#include "avengers/avengers.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUTER "tests/cli/golden/router.avr"
#define EMBEDDINGS "examples/data/llmrouter9/emb_tfidf_svd384.npy"
#define ROW_STEP 6         /* every 6th row: about 1,000 queries */
#define N_ALPHAS 11        /* 0, 0.1, ..., 1 */
#define N_UPDATES 400      /* feedback outcomes applied to the golden router */
#define TRAIN_ROWS 1200    /* rows of the small training run */
#define TRAIN_K 12
#define RANKED_CAP 16       /* ranked models hashed per query */
#define CLUSTERS_CAP 16     /* clusters used hashed per query */
#define SPEED_SECONDS 0.5   /* probe --speed routes for at least this long */
#define FNV_OFFSET 0xCBF29CE484222325ull
#define FNV_PRIME 0x100000001B3ull

static size_t n_rows, dim;
static float *emb;

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

static uint64_t fnv_int(uint64_t h, int32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    return fnv_bytes(h, b, sizeof b);
}

/* A numpy '<f4' 2-D array, converted from little-endian whatever this machine's byte order. */
static int load_npy(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char h[10];
    char hdr[512];
    int rc = -1;
    if (fread(h, 1, sizeof h, f) == sizeof h) {
        unsigned hl = h[8] | (unsigned)h[9] << 8;
        const char *s;
        if (hl < sizeof hdr && fread(hdr, 1, hl, f) == hl) {
            hdr[hl] = 0;
            if (strstr(hdr, "'<f4'") && (s = strstr(hdr, "shape")) &&
                sscanf(strchr(s, '(') + 1, "%zu, %zu", &n_rows, &dim) == 2 && n_rows && dim &&
                n_rows < ((size_t)-1) / 4 / dim) {
                size_t n = n_rows * dim;
                unsigned char *raw = malloc(n * 4);
                emb = malloc(n * sizeof *emb);
                if (raw && emb && fread(raw, 4, n, f) == n) {
                    for (size_t i = 0; i < n; i++) {
                        const unsigned char *p = raw + 4 * i;
                        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                     (uint32_t)p[3] << 24;
                        memcpy(emb + i, &u, sizeof u);
                    }
                    rc = 0;
                }
                free(raw);
            }
        }
    }
    fclose(f);
    return rc;
}

/* av_route at every alpha and av_route_ex with a ranked list, over the row subset. */
static uint64_t decisions(const av_router *r)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n_rows; i += ROW_STEP) {
        for (int a = 0; a < N_ALPHAS; a++)
            h = fnv_int(h, av_route(r, emb + i * dim, dim, (float)a / (N_ALPHAS - 1)));
        av_route_options o;
        av_route_options_init(&o);
        o.alpha = 0.7f;
        int32_t ranked[RANKED_CAP];
        uint32_t clusters[CLUSTERS_CAP];
        av_route_result res;
        av_route_result_init(&res);
        res.ranked = ranked;
        res.ranked_cap = RANKED_CAP;
        res.clusters = clusters;
        res.clusters_cap = CLUSTERS_CAP;
        h = fnv_int(h, av_route_ex(r, emb + i * dim, dim, &o, &res));
        h = fnv_int(h, (int32_t)res.n_ranked);
        for (size_t k = 0; k < res.n_ranked && k < RANKED_CAP; k++)
            h = fnv_int(h, ranked[k]);
        for (size_t k = 0; k < res.n_clusters && k < CLUSTERS_CAP; k++)
            h = fnv_int(h, (int32_t)clusters[k]);
    }
    return h;
}

/* Save to bytes, print their size and hash, write them to OUTDIR/name. */
static int save(const av_router *r, const char *outdir, const char *name)
{
    void *buf = NULL;
    size_t size = 0;
    if (av_router_save_buffer(r, &buf, &size) != AV_OK)
        return -1;
    printf("%s.bytes %zu %016llx\n", name, size, (unsigned long long)fnv_bytes(FNV_OFFSET, buf, size));
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.avr", outdir, name);
    int rc = av_router_save(r, path);
    /* the file on disk is the buffer, byte for byte */
    FILE *f = fopen(path, "rb");
    unsigned char *back = malloc(size + 1);
    if (rc != AV_OK || !f || !back || fread(back, 1, size + 1, f) != size || memcmp(back, buf, size))
        rc = -1;
    if (f)
        fclose(f);
    free(back);
    av_free(buf);
    return rc;
}

static int fail(const char *what)
{
    printf("error %s: %s\n", what, av_last_error());
    return 1;
}

static int probe(const char *outdir)
{
    av_router *g = NULL;
    if (av_router_load(&g, ROUTER) != AV_OK)
        return fail("loading the golden router");
    printf("golden.decisions %016llx\n", (unsigned long long)decisions(g));
    static const char *const type_names[] = {"f32", "f16", "int8"};
    for (int t = 0; t < 3; t++) {
        av_router *c = NULL;
        if (av_router_convert(&c, g, (av_centroid_type)t) != AV_OK)
            return fail("converting the centroids");
        printf("golden.%s.decisions %016llx\n", type_names[t], (unsigned long long)decisions(c));
        if (t == 2) { /* options beyond the paper: shrinkage, softmax weights, global norm., guard */
            av_estimator_options e;
            av_estimator_options_init(&e);
            e.kappa = 4.0;
            e.weighting = AV_WEIGHTING_SOFTMAX;
            e.temperature = 0.1f;
            e.normalisation = AV_NORMALISE_GLOBAL;
            e.guard = 1;
            e.guard_margin = 0.01;
            if (av_router_set_estimator(c, &e) != AV_OK)
                return fail("setting the estimator");
            printf("golden.int8.estimator.decisions %016llx\n", (unsigned long long)decisions(c));
            if (save(c, outdir, "int8") != 0)
                return fail("saving the int8 router");
        }
        av_router_free(c);
    }
    if (save(g, outdir, "golden") != 0)
        return fail("saving the golden router");
    /* feedback: deterministic outcomes on a spread of rows and models */
    size_t m = av_router_n_models(g);
    for (size_t u = 0; u < N_UPDATES; u++) {
        size_t row = (u * 37) % n_rows;
        float score = (float)((u * 7) % 5) / 4.0f, cost = 1e-6f * (float)(1 + u % 13);
        if (av_profile_update(g, emb + row * dim, dim, (int32_t)(u % m), score, cost) != AV_OK)
            return fail("updating the profile");
    }
    printf("updated.decisions %016llx\n", (unsigned long long)decisions(g));
    if (save(g, outdir, "updated") != 0)
        return fail("saving the updated router");
    /* a small training run on the same rows (scores and costs made up, deterministic) */
    const char *names[] = {"small", "medium", "large"};
    av_builder *b = NULL;
    if (av_builder_new(&b, dim, 3, names) != AV_OK)
        return fail("creating the builder");
    for (size_t i = 0; i < TRAIN_ROWS && i < n_rows; i++) {
        float s[3] = {(float)(i % 3) / 2.0f, (float)(i % 5) / 4.0f, (float)(i % 7 != 0)};
        float q[3] = {1e-6f, 4e-6f, 2e-5f};
        if (i % 11 == 0)
            s[1] = NAN; /* no outcome for that model */
        if (av_builder_add(b, emb + i * dim, dim, s, q) != AV_OK)
            return fail("adding a training row");
    }
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = TRAIN_K;
    o.n_init = 2;
    o.seed = 7;
    av_router *t = NULL;
    if (av_builder_fit(b, &o, &t) != AV_OK)
        return fail("training");
    /* the training time is the one thing in the file that varies from run to run */
    if (av_router_set_meta(t, "created", "probe") != AV_OK)
        return fail("setting the metadata");
    printf("trained.inertia %.9g\n", av_builder_inertia(b));
    printf("trained.decisions %016llx\n", (unsigned long long)decisions(t));
    if (save(t, outdir, "trained") != 0)
        return fail("saving the trained router");
    av_builder_free(b);
    av_router_free(t);
    av_router_free(g);
    return 0;
}

static double now_s(void)
{
#ifdef TIME_UTC
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
#else /* MinGW-w64 on the older CRT has no timespec_get; clock() is wall time on Windows */
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

static int speed(void)
{
    av_router *g = NULL;
    if (av_router_load(&g, ROUTER) != AV_OK)
        return fail("loading the golden router");
    int32_t sink = 0;
    size_t calls = 0;
    double t0 = now_s(), secs;
    do { /* whole passes over the rows, for at least SPEED_SECONDS (a shared machine is noisy) */
        for (size_t i = 0; i < n_rows; i += ROW_STEP / 2, calls++)
            sink += av_route(g, emb + i * dim, dim, 0.7f);
        secs = now_s() - t0;
    } while (secs < SPEED_SECONDS);
    printf("backend %s\nroute.us %.2f (%zu calls, checksum %d)\n", av_simd_backend(),
           secs * 1e6 / (double)calls, calls, (int)sink);
    av_router_free(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: probe OUTDIR | probe --decide FILE\n");
        return 2;
    }
    if (load_npy(EMBEDDINGS) != 0) {
        printf("error reading %s\n", EMBEDDINGS);
        return 1;
    }
    int rc;
    if (strcmp(argv[1], "--speed") == 0) {
        rc = speed();
    } else if (strcmp(argv[1], "--decide") == 0 && argc == 3) {
        av_router *r = NULL;
        rc = av_router_load(&r, argv[2]) != AV_OK ? fail(argv[2]) : 0;
        if (!rc)
            printf("decisions %016llx\n", (unsigned long long)decisions(r));
        av_router_free(r);
    } else {
        printf("backend %s\n", av_simd_backend());
        rc = probe(argv[1]);
    }
    free(emb);
    return rc;
}
