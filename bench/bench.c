/* libavengers benchmark: prints one JSON object per line (bench/report.py turns them, with the
   peers' lines from bench/peers.py, into the table of docs/PERFORMANCE.md).

   usage: bench DATA_DIR          (DATA_DIR holds llm9_emb.npy, llm9_scores.npy, llm9_costs.npy
                                   written by bench/peers.py --prep)
   Every figure is the median over repeats with the quartiles; each repeat times a loop long enough
   to dwarf the clock's resolution. Centroids are cache-warm (the same router is routed repeatedly),
   the question the issue asks. Links the static library: it swaps a router's kernel table to time
   each backend in one process.

   AV_BENCH_OLD_LIB=path/to/libavengers.so.1 of an older release (make bench builds 1.1.0 from the
   git history, tests/abi/older_lib.sh): its av_router_load, opened with dlmopen in a namespace of
   its own, is timed on the same files, interleaved with this library's loads. */

#define _GNU_SOURCE /* dlmopen, LM_ID_NEWLM */
#include "internal.h" /* first: it declares the experimental interfaces too */
#include <cblas.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define REPEATS 15
#define M_MODELS 8
#define TOP_P 4
#define N_QUERIES 64      /* distinct queries cycled through by the single-route loops */
#define TARGET_NS 3000000 /* each repeat runs about this long */
#define BATCH_N 4096
#define BATCH_REPEATS 5

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static float nrand(void) /* roughly normal: sum of uniforms */
{
    return (float)(urand() + urand() + urand() + urand() - 2.0);
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stat3 {
    double med, q1, q3;
} stat3;

static stat3 summarize(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmpd);
    stat3 s = {v[n / 2], v[n / 4], v[(3 * n) / 4]};
    return s;
}

static void unit_rows(float *A, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t t = 0; t < d; t++)
            A[i * d + t] = nrand();
        av__normalize(A + i * d, A + i * d, d);
    }
}

static av_router *random_router(size_t d, size_t k)
{
    float *C = malloc(k * d * sizeof(float));
    double *cnt = malloc(k * M_MODELS * sizeof(double)), *ss = malloc(k * M_MODELS * sizeof(double)),
           *sc = malloc(k * M_MODELS * sizeof(double));
    const char *names[M_MODELS] = {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"};
    unit_rows(C, k, d);
    for (size_t t = 0; t < k * M_MODELS; t++) {
        cnt[t] = 10;
        ss[t] = 10 * urand();
        sc[t] = 10 * urand();
    }
    av_router *r = NULL;
    if (av_router_from_parts(&r, d, k, M_MODELS, names, C, cnt, ss, sc, TOP_P) != AV_OK) {
        fprintf(stderr, "from_parts: %s\n", av_last_error());
        exit(1);
    }
    free(C), free(cnt), free(ss), free(sc);
    return r;
}

/* The memory-bound floor of the exact float32 computation as the issue defines it: a plain
   streaming AVX2 sweep, one FMA accumulator per centroid row. */
__attribute__((target("avx2,fma"))) static void plain_sweep(const float *C, size_t k, size_t d,
                                                           const float *q, float *out)
{
    for (size_t j = 0; j < k; j++) {
        __m256 acc = _mm256_setzero_ps();
        for (size_t t = 0; t + 8 <= d; t += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(C + j * d + t), _mm256_loadu_ps(q + t), acc);
        float v[8];
        _mm256_storeu_ps(v, acc);
        out[j] = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
    }
}

static volatile int32_t sink;
static volatile float fsink;

/* ns per av_route, median over REPEATS. */
static stat3 time_route(const av_router *r, const float *Q, size_t d)
{
    double v[REPEATS];
    int iters = 1;
    for (;;) { /* calibrate */
        double t0 = now_ns();
        for (int i = 0; i < iters; i++)
            sink = av_route(r, Q + (size_t)(i % N_QUERIES) * d, d, 0.5f);
        if (now_ns() - t0 > TARGET_NS / 4 || iters > (1 << 24))
            break;
        iters *= 2;
    }
    iters *= 4;
    for (int rep = 0; rep < REPEATS; rep++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++)
            sink = av_route(r, Q + (size_t)(i % N_QUERIES) * d, d, 0.5f);
        v[rep] = (now_ns() - t0) / iters;
    }
    return summarize(v, REPEATS);
}

static stat3 time_sweep(const float *C, size_t k, size_t d, const float *Q)
{
    double v[REPEATS];
    float out[256];
    int iters = 1;
    for (;;) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++)
            plain_sweep(C, k, d, Q + (size_t)(i % N_QUERIES) * d, out);
        fsink = out[0];
        if (now_ns() - t0 > TARGET_NS / 4 || iters > (1 << 24))
            break;
        iters *= 2;
    }
    iters *= 4;
    for (int rep = 0; rep < REPEATS; rep++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++)
            plain_sweep(C, k, d, Q + (size_t)(i % N_QUERIES) * d, out);
        fsink = out[1];
        v[rep] = (now_ns() - t0) / iters;
    }
    return summarize(v, REPEATS);
}

static void emit(const char *bench, const char *backend, const char *type, size_t d, size_t k,
                 stat3 s, const char *unit)
{
    printf("{\"src\":\"libavengers\",\"bench\":\"%s\",\"backend\":\"%s\",\"type\":\"%s\",\"d\":%zu,"
           "\"k\":%zu,\"m\":%d,\"p\":%d,\"median\":%.1f,\"q1\":%.1f,\"q3\":%.1f,\"unit\":\"%s\"}\n",
           bench, backend, type, d, k, M_MODELS, TOP_P, s.med, s.q1, s.q3, unit);
    fflush(stdout);
}

static const char *const TYPES[] = {"f32", "f16", "int8"};
static const char *const BACKENDS[] = {"scalar", "avx2", "avx512", "avx512vnni", "neon"};
#define N_BACKENDS (sizeof BACKENDS / sizeof BACKENDS[0])

static void bench_single(void)
{
    const size_t dims[] = {384, 1024, 4096}, ks[] = {64, 256};
    for (size_t di = 0; di < 3; di++)
        for (size_t ki = 0; ki < 2; ki++) {
            size_t d = dims[di], k = ks[ki];
            av_router *r32 = random_router(d, k);
            float *Q = malloc(N_QUERIES * d * sizeof(float));
            unit_rows(Q, N_QUERIES, d);
            if (av__kernels_by_name("avx2"))
                emit("sweep", "avx2", "f32", d, k, time_sweep(r32->ix.centroids, k, d, Q), "ns");
            for (int ty = 0; ty < 3; ty++) {
                av_router *r = NULL;
                if (av_router_convert(&r, r32, (av_centroid_type)ty) != AV_OK)
                    exit(1);
                for (size_t b = 0; b < N_BACKENDS; b++) {
                    const av_kernels *kern = av__kernels_by_name(BACKENDS[b]);
                    if (!kern || (b == 0 && d != 4096))
                        continue; /* scalar only at the headline size: it is slow */
                    r->ix.kern = kern;
                    emit("route", kern->name, TYPES[ty], d, k, time_route(r, Q, d), "ns");
                }
                av_router_free(r);
            }
            free(Q);
            av_router_free(r32);
        }
}

/* Batch: av_route_batch vs a loop of av_route, and the cblas_sgemm + top-p + scoring path (what
   a batch over OpenBLAS costs on this machine) as an in-process reference. */
static void bench_batch(void)
{
    size_t d = 4096, k = 64, n = BATCH_N;
    av_router *r = random_router(d, k);
    float *Q = malloc(n * d * sizeof(float)), *S = malloc((size_t)256 * k * sizeof(float));
    int32_t *out = malloc(n * sizeof(int32_t)), *ref = malloc(n * sizeof(int32_t));
    unit_rows(Q, n, d);
    for (size_t b = 1; b < N_BACKENDS; b++) {
        const av_kernels *kern = av__kernels_by_name(BACKENDS[b]);
        if (!kern)
            continue;
        r->ix.kern = kern;
        double v[BATCH_REPEATS], w[BATCH_REPEATS];
        for (int rep = 0; rep < BATCH_REPEATS; rep++) {
            double t0 = now_ns();
            av_route_batch(r, Q, n, d, d, 0.5f, out);
            v[rep] = (now_ns() - t0) / (double)n;
            t0 = now_ns();
            for (size_t i = 0; i < n; i++)
                ref[i] = av_route(r, Q + i * d, d, 0.5f);
            w[rep] = (now_ns() - t0) / (double)n;
        }
        size_t same = 0;
        for (size_t i = 0; i < n; i++)
            same += out[i] == ref[i];
        emit("batch", kern->name, "f32", d, k, summarize(v, BATCH_REPEATS), "ns/query");
        emit("route_loop", kern->name, "f32", d, k, summarize(w, BATCH_REPEATS), "ns/query");
        printf("{\"src\":\"libavengers\",\"bench\":\"batch_identity\",\"backend\":\"%s\","
               "\"identical\":%zu,\"n\":%zu}\n",
               kern->name, same, n);
    }
    double v[BATCH_REPEATS];
    for (int rep = 0; rep < BATCH_REPEATS; rep++) {
        double t0 = now_ns();
        for (size_t i0 = 0; i0 < n; i0 += 256) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 256, (int)k, (int)d, 1.0f,
                        Q + i0 * d, (int)d, r->ix.centroids, (int)d, 0.0f, S, (int)k);
            for (size_t i = 0; i < 256; i++) {
                uint32_t idx[TOP_P];
                av__top_p(S + i * k, k, TOP_P, idx);
                sink = av__rule_paper(av__table(r), idx, TOP_P, 0.5);
            }
        }
        v[rep] = (now_ns() - t0) / (double)n;
    }
    emit("batch_sgemm", "openblas", "f32", d, k, summarize(v, BATCH_REPEATS), "ns/query");
    free(Q), free(S), free(out), free(ref);
    av_router_free(r);
}

/* Load: av_router_load of a float32 router file in the page cache, av_router_load_buffer of its
   bytes in memory, av_router_load_mapped, and, over the same bytes in the same run, the peers the
   issue names: one plain CRC32 pass (zlib's crc32 over the whole file: the target's speed, whatever
   CRC the library uses), one pass of the library's CRC32 (the kernels' carry-less multiply of the
   active backend), the checks as 1.1 made them (a byte-at-a-time FNV-1a 64 over the centroid
   bytes, zlib's CRC32 of the whole file and of every section again: the old algorithm, kept here),
   the checks as 1.3.0 made them (zlib's CRC32 pass, then XXH64 over the centroid bytes), as 1.4
   made them (src/io/format.c: the centroid values in 128 KiB blocks, each taken by the library's
   CRC32, the finiteness test and XXH64 while in the cache; the other bytes by the CRC32) and as
   they are made now (the same without XXH64: since 1.4.1 the centroid hash is computed on its first
   request, not at load), and one checksum pass of the file as a load meets it: the file read in 128 KiB blocks,
   each taken by the library's CRC32 while in the cache, into memory from the allocator as the
   router's arrays are (read_crc_pass: malloc, which between the repeats reuses freed memory as it
   does for the loads) and into fresh pages of an anonymous mapping (read_crc_fresh: what the
   first load of a process pays, every page faulted in and cleared by the kernel). */
static uint32_t zlib_crc(const unsigned char *p, size_t n)
{
    return (uint32_t)crc32(0, p, (uInt)n); /* files here are far below 4 GiB */
}

static uint64_t fnv1a_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t t = 0; t < n; t++) {
        h ^= p[t];
        h *= 0x100000001B3ull;
    }
    return h;
}

static volatile uint64_t hsink;

static void checks_1_1(const unsigned char *f, size_t n)
{
    uint64_t acc = zlib_crc(f, n - 8);
    uint32_t nsec = av__get32(f + 32);
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = f + 64 + (size_t)i * 40;
        size_t off = (size_t)av__get64(e + 8), sl = (size_t)av__get64(e + 16);
        acc ^= zlib_crc(f + off, sl);
        if (av__get32(e) == 2 && sl > 8) /* the centroid values */
            acc ^= fnv1a_bytes(f + off + 8, sl - 8);
    }
    hsink = acc;
}

static void checks_1_3(const unsigned char *f, size_t n)
{
    uint64_t acc = zlib_crc(f, n - 8); /* the section CRCs come from this pass */
    uint32_t nsec = av__get32(f + 32);
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = f + 64 + (size_t)i * 40;
        size_t off = (size_t)av__get64(e + 8), sl = (size_t)av__get64(e + 16);
        if (av__get32(e) == 2 && sl > 8) {
            av_xxh64 s;
            av__xxh64_init(&s, 0);
            av__xxh64_update(&s, f + off + 8, sl - 8);
            acc ^= av__xxh64_final(&s);
        }
    }
    hsink = acc;
}

/* The checks as the loader makes them now: bytes before and after the f32 centroid values by the
   library's CRC32, the values in 128 KiB blocks (CRC32, any exponent all ones, XXH64). */
/* The checks of 1.4.0 (hash: the centroid hash in the same blocked pass) and of now (no hash: since
   1.4.1 it is computed on the first av_router_centroid_hash, not at load). */
static void checks_blocked(const unsigned char *f, size_t n, bool hash)
{
    const av_kernels *K = av__kernels();
    uint32_t nsec = av__get32(f + 32);
    size_t v0 = 0, v1 = 0;
    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *e = f + 64 + (size_t)i * 40;
        if (av__get32(e) == 2)
            v0 = (size_t)av__get64(e + 8) + 8, v1 = (size_t)av__get64(e + 8) + av__get64(e + 16);
    }
    uint32_t c = K->crc32(0, f, v0), cv = 0, bad = 0;
    av_xxh64 s;
    av__xxh64_init(&s, 0);
    for (size_t b = v0; b < v1; b += (size_t)128 << 10) {
        size_t len = v1 - b < ((size_t)128 << 10) ? v1 - b : (size_t)128 << 10;
        cv = K->crc32(cv, f + b, len);
        for (size_t t = 0; t + 4 <= len; t += 4) {
            uint32_t u;
            memcpy(&u, f + b + t, 4);
            bad |= (u & 0x7F800000u) == 0x7F800000u;
        }
        if (hash)
            av__xxh64_update(&s, f + b, len);
    }
    c = (uint32_t)crc32_combine(c, cv, (z_off_t)(v1 - v0));
    c = K->crc32(c, f + v1, n - 8 - v1);
    hsink = c ^ bad ^ (hash ? av__xxh64_final(&s) : 0);
}

enum { LOAD_FILE, LOAD_BUFFER, LOAD_MAPPED, PLAIN_CRC, LIB_CRC, CHECKS_1_1, CHECKS_1_3,
       CHECKS_1_4, CHECKS_NOW, READ_CRC, READ_CRC_FRESH, LOAD_OLD_LIB, N_LOAD_KINDS };
static const char *const LOAD_KINDS[N_LOAD_KINDS] = {
    "av_router_load", "av_router_load_buffer", "av_router_load_mapped", "crc32_pass",
    "crc32_lib_pass", "checks_1_1", "checks_1_3", "checks_1_4", "checks_now", "read_crc_pass",
    "read_crc_fresh", "old_lib_load"};

/* read_crc_pass (fresh: false) and read_crc_fresh: the file into a new buffer, 128 KiB at a time,
   each block's CRC32 while hot. */
static void read_crc(const char *path, size_t n, bool fresh)
{
    int fd = open(path, O_RDONLY);
    unsigned char *buf = fresh ? mmap(NULL, n, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                               : malloc(n);
    if (fd < 0 || !buf || buf == MAP_FAILED)
        exit(1);
    uint32_t c = 0;
    for (size_t off = 0; off < n;) {
        size_t want = n - off < 131072 ? n - off : 131072;
        ssize_t got = pread(fd, buf + off, want, (off_t)off);
        if (got <= 0)
            exit(1);
        c = av__kernels()->crc32(c, buf + off, (size_t)got);
        off += (size_t)got;
    }
    close(fd);
    hsink = c ^ buf[n / 2];
    if (fresh)
        munmap(buf, n);
    else
        free(buf);
}

/* The older release's library (AV_BENCH_OLD_LIB), or all NULL. */
static struct {
    int (*load)(av_router **, const char *);
    void (*free)(av_router *);
    int32_t (*route)(const av_router *, const float *, size_t, float);
    const char *version;
} old_lib;

static void open_old_lib(void)
{
    const char *path = getenv("AV_BENCH_OLD_LIB");
    if (!path || !*path)
        return;
    void *h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
    void *f[4] = {NULL, NULL, NULL, NULL};
    if (h) {
        const char *names[4] = {"av_router_load", "av_router_free", "av_route",
                                "av_version_string"};
        for (int i = 0; i < 4; i++)
            f[i] = dlsym(h, names[i]);
    }
    if (!f[0] || !f[1] || !f[2] || !f[3]) {
        fprintf(stderr, "bench: %s: %s (the older library's load is not measured)\n", path,
                h ? "a function is missing" : dlerror());
        return;
    }
    memcpy(&old_lib.load, &f[0], sizeof f[0]); /* object to function pointer, as POSIX allows */
    memcpy(&old_lib.free, &f[1], sizeof f[1]);
    memcpy(&old_lib.route, &f[2], sizeof f[2]);
    const char *(*version)(void);
    memcpy(&version, &f[3], sizeof f[3]);
    old_lib.version = version();
}

/* The older library loads the file and decides as this one on 64 random queries, or is dropped. */
static void check_old_lib(const av_router *r, const char *path, size_t d)
{
    av_router *x = NULL;
    if (old_lib.load(&x, path) != AV_OK) {
        fprintf(stderr, "bench: libavengers %s refuses the file; its load is not measured\n",
                old_lib.version);
        old_lib.load = NULL;
        return;
    }
    float *q = malloc(d * sizeof(float));
    size_t same = 0;
    for (int i = 0; i < 64; i++) {
        unit_rows(q, 1, d);
        same += av_route(r, q, d, 0.5f) == old_lib.route(x, q, d, 0.5f);
    }
    free(q);
    old_lib.free(x);
    if (same != 64) {
        fprintf(stderr, "bench: libavengers %s decides differently (%zu/64 the same); its load is "
                        "not measured\n", old_lib.version, same);
        old_lib.load = NULL;
    }
}

static double time_load_kind(int kind, const char *path, const unsigned char *f, size_t n)
{
    av_router *x = NULL;
    double ms, t0 = now_ns();
    switch (kind) {
    case LOAD_FILE:
        if (av_router_load(&x, path) != AV_OK)
            exit(1);
        break;
    case LOAD_BUFFER:
        if (av_router_load_buffer(&x, f, n) != AV_OK)
            exit(1);
        break;
    case LOAD_MAPPED:
        if (av_router_load_mapped(&x, path) != AV_OK)
            exit(1);
        break;
    case LOAD_OLD_LIB:
        if (old_lib.load(&x, path) != AV_OK)
            exit(1);
        ms = (now_ns() - t0) / 1e6;
        old_lib.free(x);
        return ms;
    case PLAIN_CRC:
        hsink = zlib_crc(f, n);
        break;
    case LIB_CRC:
        hsink = av__crc32(f, n);
        break;
    case CHECKS_1_1:
        checks_1_1(f, n);
        break;
    case CHECKS_1_3:
        checks_1_3(f, n);
        break;
    case READ_CRC:
    case READ_CRC_FRESH:
        read_crc(path, n, kind == READ_CRC_FRESH);
        break;
    case CHECKS_1_4:
        checks_blocked(f, n, true);
        break;
    default:
        checks_blocked(f, n, false);
        break;
    }
    ms = (now_ns() - t0) / 1e6;
    av_router_free(x);
    return ms;
}

static void bench_load(void)
{
    const size_t ks[] = {64, 256, 1024, 4096}; /* 1, 4, 16 and 64 MB */
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        size_t d = 4096, k = ks[ki];
        av_router *r = random_router(d, k);
        char path[] = "/tmp/avbench.XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
            exit(1);
        close(fd);
        void *bytes;
        size_t n;
        if (av_router_save(r, path) != AV_OK || av_router_save_buffer(r, &bytes, &n) != AV_OK)
            exit(1);
        double mb = (double)n / 1048576.0;
        if (old_lib.load)
            check_old_lib(r, path, d);
        int kinds = old_lib.load ? N_LOAD_KINDS : LOAD_OLD_LIB;
        /* the kinds interleaved within each repeat, so that a busy spell of the machine hits all */
        double v[N_LOAD_KINDS][REPEATS];
        for (int rep = 0; rep < REPEATS; rep++)
            for (int kind = 0; kind < kinds; kind++)
                v[kind][rep] = time_load_kind(kind, path, bytes, n);
        stat3 s[N_LOAD_KINDS];
        for (int kind = 0; kind < kinds; kind++)
            s[kind] = summarize(v[kind], REPEATS);
        emit("load", "-", "f32", d, k, s[LOAD_FILE], "ms");
        printf("{\"src\":\"libavengers\",\"bench\":\"load_rate\",\"d\":%zu,\"k\":%zu,\"mb\":%.2f,"
               "\"ms_per_mb\":%.3f,\"crc32_backend\":\"%s\"",
               d, k, mb, s[LOAD_FILE].med / mb, av_simd_backend());
        for (int kind = 0; kind < kinds; kind++)
            printf(",\"%s\":[%.3f,%.3f,%.3f]", LOAD_KINDS[kind], s[kind].med / mb,
                   s[kind].q1 / mb, s[kind].q3 / mb);
        if (old_lib.load)
            printf(",\"old_lib_version\":\"%s\"", old_lib.version);
        printf("}\n");
        fflush(stdout);
        av_free(bytes);
        unlink(path);
        av_router_free(r);
    }
}

/* .npy (version 1, little-endian, C order) of the given element size. */
static void *load_npy(const char *dir, const char *name, size_t esz, size_t *rows, size_t *cols)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    if (!f || fread(pre, 1, 10, f) != 10) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    size_t hl = (size_t)pre[8] | ((size_t)pre[9] << 8);
    char *h = calloc(1, hl + 1);
    if (fread(h, 1, hl, f) != hl)
        exit(1);
    unsigned long r = 0, c = 1;
    sscanf(strstr(h, "'shape': ("), "'shape': (%lu, %lu", &r, &c);
    free(h);
    void *data = malloc(r * c * esz);
    if (fread(data, esz, r * c, f) != r * c)
        exit(1);
    fclose(f);
    *rows = r;
    *cols = c;
    return data;
}

/* llmrouter9: training time and inertia (paper settings, k=60, 10 restarts), and how often the
   f16 and int8 routers route like the float32 one over all queries for alpha 0, 0.5, 1. */
static void bench_llm9(const char *dir)
{
    size_t n, d, n2, m;
    float *E = load_npy(dir, "llm9_emb.npy", 4, &n, &d);
    float *S = load_npy(dir, "llm9_scores.npy", 4, &n2, &m);
    float *Cst = load_npy(dir, "llm9_costs.npy", 4, &n2, &m);
    char *names[64];
    for (size_t i = 0; i < m; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "model%zu", i);
    }
    av_builder *b = NULL;
    if (av_builder_new(&b, d, m, (const char *const *)names) != AV_OK)
        exit(1);
    for (size_t i = 0; i < n; i++)
        if (av_builder_add(b, E + i * d, d, S + i * m, Cst + i * m) != AV_OK)
            exit(1);
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = 60;
    o.top_p = TOP_P;
    o.n_init = 10;
    enum { FIT_REPEATS = 3 };
    double v[FIT_REPEATS];
    av_router *r = NULL;
    for (int rep = 0; rep < FIT_REPEATS; rep++) {
        av_router_free(r);
        r = NULL;
        double t0 = now_ns();
        if (av_builder_fit(b, &o, &r) != AV_OK)
            exit(1);
        v[rep] = (now_ns() - t0) / 1e6;
    }
    stat3 s = summarize(v, FIT_REPEATS);
    emit("train", "-", "f32", d, 60, s, "ms");
    printf("{\"src\":\"libavengers\",\"bench\":\"inertia\",\"n\":%zu,\"d\":%zu,\"k\":60,"
           "\"n_init\":10,\"inertia\":%.4f}\n",
           n, d, av_builder_inertia(b));
    const float alphas[] = {0.0f, 0.5f, 1.0f};
    for (int ty = 1; ty < 3; ty++) {
        av_router *c = NULL;
        if (av_router_convert(&c, r, (av_centroid_type)ty) != AV_OK)
            exit(1);
        for (int a = 0; a < 3; a++) {
            size_t same = 0;
            for (size_t i = 0; i < n; i++)
                same += av_route(r, E + i * d, d, alphas[a]) == av_route(c, E + i * d, d, alphas[a]);
            printf("{\"src\":\"libavengers\",\"bench\":\"agreement\",\"type\":\"%s\",\"alpha\":%.1f,"
                   "\"same\":%zu,\"n\":%zu,\"pct\":%.3f}\n",
                   TYPES[ty], (double)alphas[a], same, n, 100.0 * (double)same / (double)n);
        }
        av_router_free(c);
    }
    fflush(stdout);
    av_router_free(r);
    av_builder_free(b);
    for (size_t i = 0; i < m; i++)
        free(names[i]);
    free(E), free(S), free(Cst);
}

int main(int argc, char **argv)
{
    const char *only = argc > 2 ? argv[2] : "";
    printf("{\"src\":\"libavengers\",\"bench\":\"env\",\"backend\":\"%s\",\"version\":\"%s\"}\n",
           av_simd_backend(), av_version_string());
    if (!*only || strstr(only, "single"))
        bench_single();
    if (!*only || strstr(only, "batch"))
        bench_batch();
    if (!*only || strstr(only, "load")) {
        open_old_lib();
        bench_load();
    }
    if ((!*only || strstr(only, "llm9")) && argc > 1)
        bench_llm9(argv[1]);
    return 0;
}
