/* test_snappyapi.c - libsnappy (and with it libstdc++) is loaded on first
 * use, not at startup: neither is mapped before the first Snappy object,
 * the loaded table round-trips data, and a missing or wrong library is a
 * clear error naming what was tried and the way out. */
#include "firehose/snappyapi.h"

#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "firehose/compress.h"
#include "test.h"

/* Run `lib` as FLOE_SNAPPY_LIB in a child (the load outcome is per
 * process); the child exits 0 when load and compress both fail with
 * `want` and the error names `lib`. */
static void expect_failure(const char *lib, int want)
{
    int status = 0;
    pid_t pid = fork();

    CHECK(pid >= 0);
    if (pid == 0) {
        char err[FLOE_ERR_LEN] = "";
        struct floe_buf out;
        int rc, crc;

        setenv("FLOE_SNAPPY_LIB", lib, 1);
        rc = floe_snappyapi_load(err);
        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        crc = floe_fh_compress(FLOE_FH_SNAPPY, NULL, "abc", 3, NULL, 0, &out);
        floe_buf_free(&out);
        _exit(rc == want && crc == want &&
                      (want == FLOE_ENOTSUP ||
                       (strstr(err, "FLOE_SNAPPY_LIB") &&
                        strstr(err, lib) && strstr(err, "libsnappy")))
                  ? 0
                  : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* FLOE_SNAPPY_LIB pointing nowhere is reported, not second-guessed by
 * falling back to the system copy. */
static void test_missing_library(void)
{
    expect_failure("/nonexistent/libsnappy.so.1", FLOE_ENOTFOUND);
}

/* A library without snappy's C API (zlib) is refused by name. */
static void test_wrong_library(void)
{
    expect_failure("libz.so.1", FLOE_ENOTSUP);
}

/* Runs after the forks: nothing has loaded snappy in this process yet. The
 * first Snappy object loads it; the table then round-trips raw blocks. */
static void test_lazy_load(void)
{
    static const char text[] = "floe floe floe floe floe floe floe floe";
    char comp[128], back[sizeof(text)];
    size_t clen = sizeof(comp), blen = sizeof(back);
    struct floe_buf out;
    char err[FLOE_ERR_LEN];

    CHECK(!test_mapped("libsnappy"));
#ifndef __SANITIZE_ADDRESS__ /* the ASan/UBSan runtime maps libstdc++ */
    CHECK(!test_mapped("libstdc++"));
#endif
    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_fh_compress(FLOE_FH_HADOOP_SNAPPY, NULL, text, sizeof(text),
                           NULL, 0, &out) == FLOE_OK);
    CHECK(out.len > 8);
    floe_buf_free(&out);
    CHECK(test_mapped("libsnappy"));
    CHECK(floe_snappyapi_load(err) == FLOE_OK); /* idempotent */
    CHECK(snappy_max_compressed_length(sizeof(text)) >= sizeof(text));
    CHECK(snappy_compress(text, sizeof(text), comp, &clen) == SNAPPY_OK);
    CHECK(clen < sizeof(text));
    CHECK(snappy_validate_compressed_buffer(comp, clen) == SNAPPY_OK);
    CHECK(snappy_uncompressed_length(comp, clen, &blen) == SNAPPY_OK &&
          blen == sizeof(text));
    blen = sizeof(back);
    CHECK(snappy_uncompress(comp, clen, back, &blen) == SNAPPY_OK);
    CHECK(blen == sizeof(text) && memcmp(back, text, blen) == 0);
    CHECK(snappy_validate_compressed_buffer("\xff\xff\xff", 3) != SNAPPY_OK);
}

FLOE_TESTS({ "test_missing_library", test_missing_library },
           { "test_wrong_library", test_wrong_library },
           { "test_lazy_load", test_lazy_load })
