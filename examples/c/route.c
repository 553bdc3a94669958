/* Route the rows of a .npy file (float32, n x dim, C order) with a saved router and print the
   chosen model's name for each row.

     cc route.c $(pkg-config --cflags --libs avengers) -o route
     ./route router.avr embeddings.npy [alpha=0.5] [max_rows]                                  */
#include <avengers/avengers.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A minimal .npy reader: format 1.x, dtype '<f4', C order, 2-D. Returns a malloc'ed n x d array. */
static float *read_npy(const char *path, size_t *n, size_t *d)
{
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    char hdr[4096] = {0};
    float *x = NULL;
    if (!f)
        return NULL;
    if (fread(pre, 1, 10, f) == 10 && memcmp(pre, "\x93NUMPY\x01", 7) == 0) {
        size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        const char *shape;
        unsigned long r, c;
        if (hlen < sizeof hdr && fread(hdr, 1, hlen, f) == hlen && strstr(hdr, "'<f4'") &&
            strstr(hdr, "'fortran_order': False") && (shape = strstr(hdr, "'shape': (")) &&
            sscanf(shape, "'shape': (%lu, %lu)", &r, &c) == 2 && r > 0 && c > 0 &&
            (x = malloc(r * c * sizeof *x)) && fread(x, sizeof *x, r * c, f) == r * c) {
            *n = r;
            *d = c;
        } else {
            free(x);
            x = NULL;
        }
    }
    fclose(f);
    return x;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s router.avr embeddings.npy [alpha] [max_rows]\n", argv[0]);
        return 2;
    }
    float alpha = argc > 3 ? strtof(argv[3], NULL) : 0.5f;
    size_t n, d, max_rows = argc > 4 ? strtoul(argv[4], NULL, 10) : (size_t)-1;
    av_router *r;
    if (av_router_load(&r, argv[1]) != AV_OK) {
        fprintf(stderr, "%s\n", av_last_error());
        return 1;
    }
    float *x = read_npy(argv[2], &n, &d);
    if (!x) {
        fprintf(stderr, "%s: not a 2-D float32 .npy\n", argv[2]);
        av_router_free(r);
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < n && i < max_rows; i++) {
        int32_t m = av_route(r, x + i * d, d, alpha);
        if (m < 0) {
            fprintf(stderr, "row %zu: %s\n", i, av_last_error());
            status = 1;
            break;
        }
        printf("%zu\t%s\n", i, av_router_model_name(r, (size_t)m));
    }
    free(x);
    av_router_free(r);
    return status;
}
