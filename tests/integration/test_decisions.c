/* Decisions do not change across releases: every row of llmrouter9 (5,989 queries,
   examples/data/llmrouter9) routed by the committed golden router (tests/cli/golden/router.avr)
   with float32, float16 and int8 centroids, with the paper's settings and two sets beyond it
   (shrinkage, softmax weights, global normalisation; the guard), at 21 alphas, plus Thompson
   exploration, on every SIMD backend this CPU has. Each block of decisions is hashed and compared
   with the hash libavengers 0.2.0 produced for it (EXPECTED below, recorded with this program
   built against the 0.2 header and linked with the 0.2.0 library). The same program prints the
   hashes: `test_decisions --print`. */
#include "avengers/avengers.h"
#include "harness.h"

#include <stdint.h>
#ifdef _WIN32
#include <stdlib.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#define ROUTER "tests/cli/golden/router.avr"
#define EMBEDDINGS "examples/data/llmrouter9/emb_tfidf_svd384.npy"
#define N_VARIANTS 3
#define N_TYPES 3
#define N_BLOCKS (N_VARIANTS * N_TYPES * 2)
#define EXPLORE_STEP 3

/* FNV-1a 64 of each block: [variant][type][route sweep, exploration]. */
static const uint64_t EXPECTED[N_BLOCKS] = {
#include "decisions_0_2_0.inc"
};

static float *load_npy(const char *path, size_t *rows, size_t *cols)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char h[10];
    char hdr[512];
    float *d = NULL;
    if (fread(h, 1, 10, f) == 10) {
        unsigned hl = h[8] | (unsigned)h[9] << 8;
        const char *s;
        if (hl < sizeof hdr && fread(hdr, 1, hl, f) == hl && (hdr[hl] = 0, 1) &&
            (s = strstr(hdr, "shape")) && sscanf(strchr(s, '(') + 1, "%zu, %zu", rows, cols) == 2 &&
            (d = malloc(*rows * *cols * sizeof *d)) &&
            fread(d, sizeof *d, *rows * *cols, f) != *rows * *cols) {
            free(d);
            d = NULL;
        }
    }
    fclose(f);
    /* the file is little-endian float32 ('<f4'): swap on a big-endian machine (s390x) */
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    if (d && first == 0)
        for (unsigned char *p = (unsigned char *)d, *end = p + *rows * *cols * 4; p < end; p += 4) {
            unsigned char t = p[0];
            p[0] = p[3], p[3] = t, t = p[1], p[1] = p[2], p[2] = t;
        }
    return d;
}

static uint64_t fnv(uint64_t h, int32_t w)
{
    h ^= (uint8_t)(int8_t)w;
    return h * 0x100000001B3ull;
}

/* The hashes of every block on the active backend; 0 on success. */
static int decide(uint64_t *hash)
{
    size_t n = 0, d = 0;
    float *E = load_npy(EMBEDDINGS, &n, &d);
    av_router *base = NULL;
    if (!E || av_router_load(&base, ROUTER) != AV_OK) {
        free(E);
        return -1;
    }
    int rc = 0;
    for (int v = 0; v < N_VARIANTS && !rc; v++)
        for (int t = 0; t < N_TYPES && !rc; t++) {
            av_router *r = NULL;
            if (av_router_convert(&r, base, (av_centroid_type)t) != AV_OK) {
                rc = -1;
                break;
            }
            if (v > 0) {
                av_estimator_options e;
                av_estimator_options_init(&e);
                e.kappa = v == 1 ? 4.0 : 0.5;
                e.weighting = v == 1 ? AV_WEIGHTING_SOFTMAX : AV_WEIGHTING_HARD;
                e.temperature = 0.1f;
                e.normalisation = v == 1 ? AV_NORMALISE_GLOBAL : AV_NORMALISE_CLUSTER;
                e.guard = v == 2;
                e.guard_margin = 0.01;
                rc = av_router_set_estimator(r, &e) != AV_OK;
            }
            uint64_t *h = hash + 2 * (v * N_TYPES + t);
            h[0] = h[1] = 0xCBF29CE484222325ull;
            for (size_t i = 0; i < n; i++)
                for (int a = 0; a <= 20; a++)
                    h[0] = fnv(h[0], av_route(r, E + i * d, d, (float)a / 20.0f));
            for (size_t i = 0; i < n; i += EXPLORE_STEP) {
                av_route_options o;
                av_route_options_init(&o);
                o.alpha = 0.7f;
                o.flags = AV_ROUTE_EXPLORE;
                o.explore_seed = i;
                h[1] = fnv(h[1], av_route_ex(r, E + i * d, d, &o, NULL));
            }
            av_router_free(r);
        }
    av_router_free(base);
    free(E);
    return rc;
}

#ifdef _WIN32
static const char *self_path;

/* Windows has no fork: the child is this program run again with AV_SIMD set and --print, read
   through a pipe (_popen); a backend this CPU or build lacks shows as the library's warning. */
static int on_backend(const char *name, uint64_t *hash)
{
    char cmd[1024], line[256];
    if (_putenv_s("AV_SIMD", name) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "\"%s\" --print 2>&1", self_path);
    FILE *f = _popen(cmd, "r");
    if (!f)
        return -1;
    int got = 0, warned = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (strstr(line, "libavengers:"))
            warned = 1;
        else if (got < N_BLOCKS && sscanf(line, " 0x%llx", &v) == 1)
            hash[got++] = v;
    }
    int rc = _pclose(f);
    _putenv_s("AV_SIMD", "");
    return got == N_BLOCKS && !warned && rc == 0 ? 0 : 1; /* 1: this CPU or build lacks it */
}
#else
/* The hashes on backend `name` (AV_SIMD is read once per process: a child each). */
static int on_backend(const char *name, uint64_t *hash)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        setenv("AV_SIMD", name, 1);
        uint64_t h[N_BLOCKS];
        int ok = decide(h) == 0 && strcmp(av_simd_backend(), name) == 0;
        if (ok && write(fd[1], h, sizeof h) != (ssize_t)sizeof h)
            ok = 0;
        _exit(ok ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], hash, N_BLOCKS * sizeof *hash);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)(N_BLOCKS * sizeof *hash) && WIFEXITED(status) &&
                   WEXITSTATUS(status) == 0
               ? 0
               : 1; /* 1: this CPU or build lacks the backend */
}
#endif

TEST(test_decisions_equal_those_of_0_2_0)
{
    static const char *const backends[] = {"scalar", "avx2", "avx512", "avx512vnni", "neon"};
    int checked = 0;
    for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
        uint64_t h[N_BLOCKS];
        if (on_backend(backends[b], h) != 0)
            continue;
        checked++;
        for (int i = 0; i < N_BLOCKS; i++)
            if (h[i] != EXPECTED[i]) {
                th_failed_checks++;
                fprintf(stderr, "  %s: block %d (settings %d, centroids %d, %s) differs from 0.2.0\n",
                        backends[b], i, i / (2 * N_TYPES), (i / 2) % N_TYPES,
                        i % 2 ? "exploration" : "21 alphas");
            }
        printf("     %s: %d blocks of decisions compared\n", backends[b], N_BLOCKS);
    }
    CHECK(checked >= 1);
}

int main(int argc, char **argv)
{
#ifdef _WIN32
    self_path = argv[0];
#endif
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        uint64_t h[N_BLOCKS];
        if (decide(h) != 0)
            return 1;
        for (int i = 0; i < N_BLOCKS; i++)
            printf("    0x%016llxull,\n", (unsigned long long)h[i]);
        return 0;
    }
    static const th_test tests[] = {T(test_decisions_equal_those_of_0_2_0)};
    return th_run(tests, 1, argc, argv);
}
