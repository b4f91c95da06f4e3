/* fuzz.h - what every libFuzzer harness in tests/fuzz shares: quiet logs,
 * a NUL-terminated copy of the input, and an oracle that aborts (so the
 * fuzzer keeps the input) when the code under test breaks a promise its
 * header makes. Harnesses call the project's own libraries; nothing here
 * re-implements project code. */
#ifndef FLOE_FUZZ_H
#define FLOE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken promise: say which, then abort (a crash to libFuzzer). */
#define FUZZ_CHECK(cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                     \
            abort();                                                      \
        }                                                                 \
    } while (0)

/* Logs off: the harnesses feed bad input on purpose, millions of times. */
static inline void fuzz_quiet(void)
{
    floe_log_level = -1;
}

/* data[0..size) as a NUL-terminated heap string (caller frees); NULL
 * only when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s != NULL) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
