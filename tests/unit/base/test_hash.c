/* XXH64 (src/base/hash.c) against values of the reference implementation (libxxhash 0.8.1,
   Debian's libxxhash0: XXH64(buf, n, seed) through ctypes, the commands below), whatever way the
   input is split into updates; and the centroid hash (av_router_centroid_hash) against XXH64 of
   the bytes docs/FORMAT.md lists, assembled here from the router's parts.

   The reference values were printed by
     /usr/bin/python3 -c 'import ctypes; L = ctypes.CDLL("libxxhash.so.0");
       L.XXH64.restype = ctypes.c_uint64;
       L.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64];
       b = bytes((i * 131 + 7) & 255 for i in range(1000));
       [print(n, hex(L.XXH64(b, n, 0)), hex(L.XXH64(b, n, 7))) for n in (0, 1, ...)]' */
#include "internal.h"
#include "harness.h"

static const struct {
    size_t n;
    uint64_t seed0, seed7;
} VECTORS[] = {
    {0, 0xef46db3751d8e999ull, 0x95f0626f6f0a4409ull},
    {1, 0xa96c7f0ce858bbb7ull, 0x29e170c8a15e4885ull},
    {3, 0xbed43740ee6332bbull, 0xd0400c2b29151fc1ull},
    {4, 0xfa212ae44b3bb23dull, 0x53331d0b4fdfef6eull},
    {7, 0x2744460dd675d2c0ull, 0x10e9caafb47f3215ull},
    {8, 0x994b676b71ce94ddull, 0x2736715ac33932ffull},
    {15, 0x09e6451ed2ff8b1dull, 0x998b4dbe2f30e8ceull},
    {31, 0x6711d55e306b5d8full, 0x0a509613cd2b0817ull},
    {32, 0x07f7b8e3bc5d6e25ull, 0xca47f98ab0ac55c8ull},
    {33, 0x09f85eeb4e1cbe9full, 0x4c3846ad8bdd7724ull},
    {63, 0xb7c9968c066cb6a5ull, 0xb2bc18ab68d500beull},
    {64, 0x50d4159a0411632eull, 0x47fbd6e3abe5cc0eull},
    {100, 0x9ddada11d3dc2d8full, 0x5734ab74bed9b5d6ull},
    {1000, 0x0bf0bdbcc82eb373ull, 0xf1fe030c99644f72ull},
};
#define N_VECTORS (sizeof VECTORS / sizeof VECTORS[0])

static unsigned char BUF[1000];

static void fill(void)
{
    for (size_t i = 0; i < sizeof BUF; i++)
        BUF[i] = (unsigned char)((i * 131 + 7) & 255);
}

static uint64_t xxh64_split(size_t n, uint64_t seed, size_t piece)
{
    av_xxh64 s;
    av__xxh64_init(&s, seed);
    for (size_t i = 0; i < n; i += piece)
        av__xxh64_update(&s, BUF + i, n - i < piece ? n - i : piece);
    return av__xxh64_final(&s);
}

TEST(test_xxh64_reference_values)
{
    fill();
    for (size_t v = 0; v < N_VECTORS; v++) {
        CHECK(xxh64_split(VECTORS[v].n, 0, 1000) == VECTORS[v].seed0);
        CHECK(xxh64_split(VECTORS[v].n, 7, 1000) == VECTORS[v].seed7);
    }
    /* "abc", the example value of the xxHash documentation */
    av_xxh64 s;
    av__xxh64_init(&s, 0);
    av__xxh64_update(&s, "abc", 3);
    CHECK(av__xxh64_final(&s) == 0x44bc2cf5ad770999ull);
}

TEST(test_xxh64_any_split)
{
    fill();
    const size_t pieces[] = {1, 2, 3, 5, 8, 13, 31, 32, 33, 64, 999};
    for (size_t v = 0; v < N_VECTORS; v++)
        for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++)
            CHECK(xxh64_split(VECTORS[v].n, 0, pieces[p]) == VECTORS[v].seed0);
    /* an empty update changes nothing, final does not change the state */
    av_xxh64 s;
    av__xxh64_init(&s, 0);
    av__xxh64_update(&s, BUF, 40);
    av__xxh64_update(&s, BUF + 40, 0);
    uint64_t a = av__xxh64_final(&s);
    CHECK(a == av__xxh64_final(&s));
    av__xxh64_update(&s, BUF + 40, 60);
    CHECK(av__xxh64_final(&s) == VECTORS[12].seed0); /* n = 100 */
}

/* The documented hash input of a router's storage, built from the public parts: u64 dim, k, type
   (and members for an ensemble), the values as little-endian bytes, the int8 row and dimension
   scales. */
static uint64_t expected_hash(const av_router *r)
{
    const av_index *ix = &r->ix;
    size_t n = ix->k * ix->dim, bytes = 32 + 4 * n + 4 * (ix->k + ix->dim), pos = 0;
    unsigned char *b = malloc(bytes);
    av__put64(b, ix->dim), av__put64(b + 8, ix->k), av__put64(b + 16, ix->centroid_type);
    pos = 24;
    if (ix->members > 1)
        av__put64(b + pos, ix->members), pos += 8;
    for (size_t t = 0; t < n; t++) {
        uint32_t u;
        switch (ix->centroid_type) {
        case AV_CENTROIDS_F32:
            memcpy(&u, &ix->centroids[t], 4);
            av__put32(b + pos, u), pos += 4;
            break;
        case AV_CENTROIDS_F16:
            av__put16(b + pos, ix->centroids_f16[t]), pos += 2;
            break;
        default:
            b[pos++] = (unsigned char)ix->centroids_i8[t];
            break;
        }
    }
    if (ix->centroid_type == AV_CENTROIDS_INT8) {
        for (size_t j = 0; j < ix->k; j++) {
            uint32_t u;
            memcpy(&u, &ix->centroid_scale[j], 4);
            av__put32(b + pos, u), pos += 4;
        }
        for (size_t t = 0; t < ix->dim; t++) {
            uint32_t u;
            memcpy(&u, &ix->centroid_colscale[t], 4);
            av__put32(b + pos, u), pos += 4;
        }
    }
    av_xxh64 s; /* in one piece: the library feeds it in several */
    av__xxh64_init(&s, 0);
    av__xxh64_update(&s, b, pos);
    free(b);
    return av__xxh64_final(&s);
}

static av_router *make(size_t d, size_t k)
{
    float *C = malloc(k * d * sizeof(float));
    double cnt[3 * 64], ss[3 * 64], sc[3 * 64];
    const char *names[3] = {"a", "b", "c"};
    for (size_t t = 0; t < k * d; t++)
        C[t] = (float)((int)(t * 37 % 101) - 50) / 50.0f;
    for (size_t t = 0; t < 3 * k; t++)
        cnt[t] = 1 + t % 3, ss[t] = 0.5 * cnt[t], sc[t] = 0.25 * cnt[t];
    av_router *r = NULL;
    av_router_from_parts(&r, d, k, 3, names, C, cnt, ss, sc, 1);
    free(C);
    return r;
}

TEST(test_centroid_hash_is_xxh64_of_documented_bytes)
{
    const size_t dims[] = {1, 5, 37}, ks[] = {1, 4, 64};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++) {
            av_router *r = make(dims[a], ks[b]);
            REQUIRE(r);
            for (int ty = 0; ty < 3; ty++) {
                av_router *c = NULL;
                REQUIRE(av_router_convert(&c, r, (av_centroid_type)ty) == AV_OK);
                char want[17];
                snprintf(want, sizeof want, "%016llx", (unsigned long long)expected_hash(c));
                CHECK(strcmp(av_router_centroid_hash(c), want) == 0);
                /* an ensemble's member count enters the hash */
                if (ks[b] == 4) {
                    REQUIRE(av__router_set_members(c, 2) == AV_OK);
                    av__index_hash(&c->ix, c->ix.centroid_hash);
                    snprintf(want, sizeof want, "%016llx", (unsigned long long)expected_hash(c));
                    CHECK(strcmp(av_router_centroid_hash(c), want) == 0);
                }
                av_router_free(c);
            }
            av_router_free(r);
        }
}

TH_MAIN(T(test_xxh64_reference_values), T(test_xxh64_any_split),
        T(test_centroid_hash_is_xxh64_of_documented_bytes))
