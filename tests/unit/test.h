/* test.h - a tiny table-driven unit-test harness for CTest.
 * CHECK records a failure and goes on; FLOE_TESTS defines main(), runs
 * each case and prints "N passed, N failed". */
#ifndef FLOE_TEST_H
#define FLOE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond)                                                     \
    do {                                                                \
        if (!(cond)) {                                                  \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                             \
            test_failures++;                                            \
        }                                                               \
    } while (0)

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define FLOE_TESTS(...)                                                 \
    static const struct test_case test_cases[] = { __VA_ARGS__,         \
                                                   { NULL, NULL } };    \
    int main(void)                                                      \
    {                                                                   \
        int passed = 0, failed = 0, i;                                  \
        for (i = 0; test_cases[i].name != NULL; i++) {                  \
            int before = test_failures;                                 \
            test_cases[i].fn();                                         \
            if (test_failures == before) {                              \
                passed++;                                               \
            } else {                                                    \
                failed++;                                               \
                fprintf(stderr, "FAILED: %s\n", test_cases[i].name);    \
            }                                                           \
        }                                                               \
        printf("%d passed, %d failed\n", passed, failed);               \
        return failed == 0 ? 0 : 1;                                     \
    }

/* Is a file whose path contains `name` mapped into this process (a
 * shared library loaded, for instance)? */
static inline int test_mapped(const char *name)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, name) != NULL)
            found = 1;
    fclose(f);
    return found;
}

/* A fresh temporary directory for one test; caller frees with
 * floe_rmtree(). */
static inline char *test_tmpdir(char *out, size_t n)
{
    const char *base = getenv("TMPDIR");

    snprintf(out, n, "%s/floe-test-XXXXXX", base ? base : "/tmp");
    return mkdtemp(out);
}

#endif
