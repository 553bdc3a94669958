/* A tiny test harness: TEST(name) functions registered in a table, CHECK macros that count, and a
   summary line `N passed, N failed` at the end. A test passes when none of its checks failed. */
#ifndef AV_TEST_HARNESS_H
#define AV_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_failed_checks;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            th_failed_checks++;                                                     \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long th_a = (long long)(a), th_b = (long long)(b);                              \
        if (th_a != th_b) {                                                                  \
            th_failed_checks++;                                                              \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
                    #a, th_a, #b, th_b);                                                     \
        }                                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                       \
        double th_a = (double)(a), th_b = (double)(b);                                         \
        if (!(fabs(th_a - th_b) <= (tol))) {                                                   \
            th_failed_checks++;                                                                \
            fprintf(stderr, "  %s:%d: %s = %.17g, expected %.17g (tol %g)\n", __FILE__, __LINE__, \
                    #a, th_a, th_b, (double)(tol));                                            \
        }                                                                                      \
    } while (0)

/* Abort the current test (not the run) when a precondition fails. */
#define REQUIRE(cond)                                                               \
    do {                                                                            \
        if (!(cond)) {                                                              \
            th_failed_checks++;                                                     \
            fprintf(stderr, "  %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            return;                                                                 \
        }                                                                           \
    } while (0)

typedef struct th_test {
    const char *name;
    void (*fn)(void);
} th_test;

#define TEST(name) static void name(void)

/* AV_TEST_SKIP: test names (separated by spaces) that this platform cannot run, e.g. those that
   need fork or threads under WebAssembly; tests/portability/cross_check.py sets it and says why. */
static int th_skipped(const char *name)
{
    const char *s = getenv("AV_TEST_SKIP");
    size_t len = strlen(name);
    while (s && *s) {
        s += strspn(s, " ");
        size_t w = strcspn(s, " ");
        if (w == len && strncmp(s, name, len) == 0)
            return 1;
        s += w;
    }
    return 0;
}

static int th_run(const th_test *tests, size_t n, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        if (th_skipped(tests[i].name)) {
            printf("skip %s (AV_TEST_SKIP)\n", tests[i].name);
            continue;
        }
        int before = th_failed_checks;
        tests[i].fn();
        if (th_failed_checks == before) {
            passed++;
            printf("ok   %s\n", tests[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TH_MAIN(...)                                                                  \
    int main(int argc, char **argv)                                                   \
    {                                                                                 \
        static const th_test th_tests[] = {__VA_ARGS__};                              \
        return th_run(th_tests, sizeof th_tests / sizeof th_tests[0], argc, argv);    \
    }
#define T(fn) {#fn, fn}

#endif
