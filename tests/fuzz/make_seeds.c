/* Writes the seed corpora of the fuzz targets from real data (run by `make fuzz-seeds`; the output
   under tests/fuzz/corpus/ is committed): routers trained on tests/data/llm9 with small k, in each
   centroid storage, plus truncated, re-checksummed bit-flipped and extended variants; and a few
   operation sequences for the route target. Deterministic: the same files on every machine. */
#define AV_STATIC_LINKING_ONLY /* av_router_set_price */
#include "avengers/avengers.h"
#include "fuzz/small_router.h"

#include <stdio.h>

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int train_and_save(av_router **keep, uint32_t k, uint32_t top_p, int glove,
                          uint32_t ctype, unsigned char **file, size_t *size)
{
    av_router *r = sr_train_as(k, top_p, 5, glove, ctype);
    void *buf;
    if (!r || av_router_save_buffer(r, &buf, size) != AV_OK) {
        av_router_free(r);
        return -1;
    }
    *file = buf;
    *keep = r;
    return 0;
}

int main(int argc, char **argv)
{
    const char *load_dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/load";
    const char *route_dir = argc > 2 ? argv[2] : "tests/fuzz/corpus/route";
    static const struct {
        const char *name;
        uint32_t k, top_p, ctype;
        int glove;
    } routers[] = {
        {"glove_k3_f32.avr", 3, 1, AV_CENTROIDS_F32, 1},
        {"glove_k8_f32.avr", 8, 2, AV_CENTROIDS_F32, 1},
        {"glove_k4_f16.avr", 4, 2, AV_CENTROIDS_F16, 1},
        {"glove_k4_int8.avr", 4, 3, AV_CENTROIDS_INT8, 1},
        {"svd384_k2_f32.avr", 2, 1, AV_CENTROIDS_F32, 0},
    };
    int bad = 0;
    for (size_t t = 0; t < sizeof routers / sizeof routers[0]; t++) {
        av_router *r = NULL;
        unsigned char *f = NULL;
        size_t n = 0;
        if (train_and_save(&r, routers[t].k, routers[t].top_p, routers[t].glove, routers[t].ctype,
                           &f, &n) != 0) {
            fprintf(stderr, "cannot train %s\n", routers[t].name);
            return 1;
        }
        bad |= write_file(load_dir, routers[t].name, f, n);
        if (t == 2 || t == 3) { /* ensembles (format 1.2) of the same storage type */
            av_router *e = sr_train_members(routers[t].k, 1, 5, 1, routers[t].ctype, 3);
            void *eb;
            size_t en;
            if (!e || av_router_save_buffer(e, &eb, &en) != AV_OK)
                return 1;
            bad |= write_file(load_dir, t == 2 ? "glove_k4x3_ensemble_f16.avr"
                                               : "glove_k4x3_ensemble_int8.avr", eb, en);
            av_free(eb);
            av_router_free(e);
        }
        if (t == 0) { /* estimator defaults live in the metadata, parsed on load */
            av_estimator_options eo;
            av_estimator_options_init(&eo);
            eo.kappa = 4.0;
            eo.weighting = AV_WEIGHTING_SOFTMAX;
            eo.temperature = 0.25f;
            eo.guard = 1;
            eo.guard_margin = 0.01;
            eo.normalisation = AV_NORMALISE_GLOBAL;
            void *eb;
            size_t en;
            if (av_router_set_estimator(r, &eo) != AV_OK || av_router_save_buffer(r, &eb, &en) != AV_OK)
                return 1;
            bad |= write_file(load_dir, "glove_k3_estimator.avr", eb, en);
            av_free(eb);
            /* prices (format 1.4): one per query, one per token */
            av_price pq, pt;
            av_price_init(&pq);
            av_price_init(&pt);
            pq.cost_per_query = 0.002;
            pt.unit = AV_PRICE_PER_TOKEN;
            pt.input_price = 1e-6;
            pt.output_price = 4e-6;
            pt.input_tokens = 350;
            pt.output_tokens = 120;
            if (av_router_set_price(r, 0, &pq, NULL) != AV_OK ||
                av_router_set_price(r, 1, &pt, NULL) != AV_OK ||
                av_router_save_buffer(r, &eb, &en) != AV_OK)
                return 1;
            bad |= write_file(load_dir, "glove_k3_prices.avr", eb, en);
            av_free(eb);
        }
        if (t == 1) { /* variants of the k=8 file */
            char name[128];
            size_t cuts[] = {0, 8, 63, 64 + 40, n / 2, n - 9, n - 1};
            for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
                snprintf(name, sizeof name, "trunc_%zu.avr", cuts[c]);
                bad |= write_file(load_dir, name, f, cuts[c]);
            }
            unsigned char *v = malloc(n + 16);
            if (!v)
                return 1;
            /* re-checksummed flips in the header counts, the table and the statistics */
            size_t flips[] = {16 * 8 + 3, 20 * 8 + 1, 24 * 8 + 7, 28 * 8, 32 * 8 + 1,
                              (64 + 16) * 8 + 5, (64 + 40 + 24) * 8 + 2, (64 + 80 + 4) * 8,
                              (n - 100) * 8 + 6};
            for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
                memcpy(v, f, n);
                v[flips[i] / 8] ^= (unsigned char)(1u << (flips[i] % 8));
                sr_fix_crcs(v, n);
                snprintf(name, sizeof name, "flip_%zu.avr", flips[i]);
                bad |= write_file(load_dir, name, v, n);
            }
            memcpy(v, f, n);
            memset(v + n, 0xAB, 16);
            bad |= write_file(load_dir, "extended.avr", v, n + 16);
            free(v);
            /* an unknown section appended */
            sr_file sf;
            if (sr_split(&sf, f, n) == 0 && sf.nsec < SR_MAX_SECS) {
                static const unsigned char extra[] = "a section from a newer minor version";
                memset(&sf.secs[sf.nsec], 0, sizeof sf.secs[0]);
                if (sr_set_section(&sf, sf.nsec, 0, extra, sizeof extra, sizeof extra) == 0) {
                    sf.secs[sf.nsec++].id = 99;
                    size_t jn;
                    unsigned char *j = sr_join(&sf, &jn);
                    if (j)
                        bad |= write_file(load_dir, "unknown_section.avr", j, jn);
                    free(j);
                }
                sr_file_free(&sf);
            }
        }
        av_free(f);
        av_router_free(r);
    }
    /* route target: op bytes then operands (see fuzz_route.c); small exact floats (mode >= 64) */
    uint64_t g = 20260101u; /* xorshift64: any fixed sequence will do */
    for (int s = 0; s < 8; s++) {
        unsigned char ops[512];
        for (size_t i = 0; i < sizeof ops; i++) {
            g ^= g << 13;
            g ^= g >> 7;
            g ^= g << 17;
            uint64_t x = g;
            /* mostly small exact values so that the sequence stays valid for a while */
            ops[i] = (unsigned char)(i % 5 == 1 && s % 2 == 0 ? 64 + x % 192 : x);
        }
        char name[64];
        snprintf(name, sizeof name, "ops_%d.bin", s);
        bad |= write_file(route_dir, name, ops, sizeof ops / (size_t)(1 + s % 3));
    }
    return bad ? 1 : 0;
}
