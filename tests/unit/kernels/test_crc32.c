/* The CRC-32 kernel (src/kernels/crc32.c) of every backend this CPU has against zlib's crc32 over
   the same bytes: the standard check value, every length 0..4096, every start offset 0..63 (the
   kernels load unaligned), sizes up to a few MiB, chained calls (the CRC of a then b from the CRC
   of a), and inputs that stress the reduction (all zeros, all ones). Backends the CPU lacks are
   skipped and named; AV_SIMD=avx2 (and =scalar) forces each through the dispatch. */
#include "internal.h"
#include "harness.h"

#include <stdint.h>
#include <zlib.h>

static const char *const BACKENDS[] = {"scalar", "avx2", "avx512", "avx512vnni", "neon",
                                       "wasm-simd128"};
#define N_BACKENDS (sizeof BACKENDS / sizeof BACKENDS[0])

static uint64_t lcg_state = 0x9E3779B97F4A7C15ull;
static unsigned char rbyte(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned char)(lcg_state >> 56);
}

/* zlib's own CRC: the reference, computed outside the library's kernels. */
static uint32_t ref(uint32_t c, const unsigned char *p, size_t n)
{
    return (uint32_t)crc32(c, p, (uInt)n);
}

#define BIG ((size_t)4 << 20)
static unsigned char *buf; /* BIG + 64 random bytes */

static size_t backends(const av_kernels **ks)
{
    static bool told;
    size_t n = 0;
    for (size_t b = 0; b < N_BACKENDS; b++) {
        const av_kernels *k = av__kernels_by_name(BACKENDS[b]);
        if (k)
            ks[n++] = k;
        else if (!told)
            printf("     crc32: backend %s not on this CPU or build: skipped\n", BACKENDS[b]);
    }
    told = true;
    return n;
}

TEST(test_check_value)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nk = backends(ks);
    static const char nine[] = "123456789";
    /* the catalogue's check value of CRC-32 (zlib, PKZIP, IEEE 802.3) */
    CHECK_EQ_INT(ref(0, (const unsigned char *)nine, 9), 0xCBF43926u);
    for (size_t b = 0; b < nk; b++) {
        CHECK_EQ_INT(ks[b]->crc32(0, nine, 9), 0xCBF43926u);
        CHECK_EQ_INT(ks[b]->crc32(0, nine, 0), 0);
        CHECK_EQ_INT(ks[b]->crc32(0x12345678u, nine, 0), 0x12345678u);
    }
}

TEST(test_every_length_and_offset)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nk = backends(ks);
    size_t bad = 0, runs = 0;
    for (size_t b = 0; b < nk; b++) {
        /* every length 0..4096, each at a start offset that cycles through 0..63 */
        for (size_t n = 0; n <= 4096; n++) {
            size_t o = (n * 7) % 64;
            uint32_t seed = (uint32_t)(n * 2654435761u);
            bad += ks[b]->crc32(seed, buf + o, n) != ref(seed, buf + o, n);
            bad += ks[b]->crc32(0, buf + o, n) != ref(0, buf + o, n);
            runs += 2;
        }
        /* every offset 0..63 with every length up to 600 and some around the 256-byte step */
        for (size_t o = 0; o < 64; o++) {
            for (size_t n = 0; n <= 600; n++, runs++)
                bad += ks[b]->crc32(0, buf + o, n) != ref(0, buf + o, n);
            for (size_t n = 1000; n <= 1100; n++, runs++)
                bad += ks[b]->crc32(0, buf + o, n) != ref(0, buf + o, n);
        }
    }
    printf("     crc32: %zu lengths and offsets on %zu backends, %zu differ from zlib\n", runs, nk,
           bad);
    CHECK_EQ_INT(bad, 0);
}

TEST(test_large_sizes)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nk = backends(ks);
    static const size_t sizes[] = {65536, 65536 + 17, 262144 - 3, 1000003, (size_t)1 << 20, BIG};
    for (size_t b = 0; b < nk; b++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            for (size_t o = 0; o < 64; o += 21)
                CHECK_EQ_INT(ks[b]->crc32(0, buf + o, sizes[i]), ref(0, buf + o, sizes[i]));
}

TEST(test_chained)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nk = backends(ks);
    const size_t n = 300000;
    uint32_t whole = ref(0, buf + 3, n);
    for (size_t b = 0; b < nk; b++) {
        for (int trial = 0; trial < 50; trial++) {
            /* random cut points, pieces from 0 bytes to tens of KiB */
            uint32_t c = 0;
            size_t pos = 0;
            while (pos < n) {
                size_t step = trial % 2 ? (size_t)rbyte() : (size_t)rbyte() * 97 + rbyte();
                if (step > n - pos)
                    step = n - pos;
                c = ks[b]->crc32(c, buf + 3 + pos, step);
                pos += step;
            }
            CHECK_EQ_INT(c, whole);
        }
        /* a || b = crc(crc(a), b) at every cut of a 1 KiB message */
        uint32_t w = ref(0, buf, 1024);
        size_t bad = 0;
        for (size_t cut = 0; cut <= 1024; cut++)
            bad += ks[b]->crc32(ks[b]->crc32(0, buf, cut), buf + cut, 1024 - cut) != w;
        CHECK_EQ_INT(bad, 0);
    }
}

TEST(test_constant_bytes)
{
    const av_kernels *ks[N_BACKENDS];
    size_t nk = backends(ks);
    unsigned char *z = calloc(70000, 1), *f = malloc(70000);
    REQUIRE(z && f);
    memset(f, 0xFF, 70000);
    static const size_t sizes[] = {16, 64, 255, 256, 257, 4096, 69999};
    for (size_t b = 0; b < nk; b++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            CHECK_EQ_INT(ks[b]->crc32(0, z, n), ref(0, z, n));
            CHECK_EQ_INT(ks[b]->crc32(0, f, n), ref(0, f, n));
            CHECK_EQ_INT(ks[b]->crc32(0xFFFFFFFFu, z, n), ref(0xFFFFFFFFu, z, n));
            CHECK_EQ_INT(ks[b]->crc32(0xFFFFFFFFu, f, n), ref(0xFFFFFFFFu, f, n));
        }
    free(z);
    free(f);
}

/* The active backend's CRC is the one the library uses (av__kernels()->crc32); it agrees with zlib
   whatever AV_SIMD chose (tests/unit/kernels/test_simd.c checks that AV_SIMD forces a backend). */
TEST(test_active)
{
    printf("     crc32: active backend %s\n", av__kernels()->name);
    CHECK_EQ_INT(av__kernels()->crc32(0, buf, BIG), ref(0, buf, BIG));
}

static const th_test TESTS[] = {
    T(test_check_value), T(test_every_length_and_offset), T(test_large_sizes),
    T(test_chained),     T(test_constant_bytes),          T(test_active),
};

int main(int argc, char **argv)
{
    buf = malloc(BIG + 64);
    if (!buf)
        return 1;
    for (size_t i = 0; i < BIG + 64; i++)
        buf[i] = rbyte();
    int rc = th_run(TESTS, sizeof TESTS / sizeof TESTS[0], argc, argv);
    free(buf);
    return rc;
}
