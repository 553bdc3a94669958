/* Standalone replayer for the fuzz targets (no libFuzzer needed, builds with gcc): runs every file
   named on the command line, or every file in a named directory, through the target's
   LLVMFuzzerTestOneInput and prints `N passed, N failed`. An input that breaks an invariant
   aborts the process, so a failure is a crash with the file name printed just before. */
#include "fuzz/fuzz.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return -1;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *g = realloc(buf, cap * 2);
        if (!g)
            free(buf);
        buf = g;
        cap *= 2;
    }
    fclose(f);
    fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
    /* exact-size copy so that ASan catches over-reads */
    unsigned char *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            fprintf(stderr, "no such file or directory: %s\n", argv[a]);
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[a]) == 0)
                passed++;
            else
                failed++;
            continue;
        }
        DIR *d = opendir(argv[a]);
        if (!d) {
            failed++;
            continue;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char **g = realloc(names, (n + 1) * sizeof *names);
            if (!g)
                break;
            names = g;
            size_t l = strlen(argv[a]) + strlen(e->d_name) + 2;
            if (!(names[n] = malloc(l)))
                break;
            snprintf(names[n++], l, "%s/%s", argv[a], e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp_str); /* same order on every machine */
        for (size_t i = 0; i < n; i++) {
            if (run_file(names[i]) == 0)
                passed++;
            else
                failed++;
            free(names[i]);
        }
        free(names);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
