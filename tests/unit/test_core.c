/* test_core.c - buffers, options, base64, UUIDs, files. */
#include <stdint.h>
#include <stdlib.h>

#include "core/b64.h"
#include "core/buf.h"
#include "core/opt.h"
#include "core/util.h"
#include "test.h"

static void test_add_past_max_fails_and_keeps_data(void)
{
    struct floe_buf b;

    floe_buf_init(&b, 8);
    CHECK(floe_buf_add(&b, "12345678", 8) == FLOE_OK);
    CHECK(floe_buf_add(&b, "9", 1) == FLOE_ETOOBIG);
    CHECK(b.len == 8 && strcmp(b.data, "12345678") == 0);
    floe_buf_free(&b);
}

static void test_addf_and_take(void)
{
    struct floe_buf b;
    size_t n;
    char *p;

    floe_buf_init(&b, FLOE_BUF_UNLIMITED);
    CHECK(floe_buf_addf(&b, "%s-%d", "x", 42) == FLOE_OK);
    p = floe_buf_take(&b, &n);
    CHECK(p != NULL && n == 4 && strcmp(p, "x-42") == 0);
    CHECK(b.data == NULL && b.len == 0);
    free(p);
    p = floe_buf_take(&b, &n); /* empty buffer still gives a string */
    CHECK(p != NULL && n == 0 && p[0] == '\0');
    free(p);
}

static void test_json_escape(void)
{
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        { "plain", 5, "\"plain\"" },
        { "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
        { "l1\nl2\t", 6, "\"l1\\nl2\\t\"" },
        { "\x01z", 2, "\"\\u0001z\"" },
        { "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
        { "nul\0x", 5, "\"nul\\u0000x\"" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_buf b;

        floe_buf_init(&b, 64);
        CHECK(floe_buf_add_json_str(&b, cases[i].in, cases[i].n) == FLOE_OK);
        CHECK(b.data && strcmp(b.data, cases[i].out) == 0);
        floe_buf_free(&b);
    }
}

static void test_json_escape_too_big_restores(void)
{
    struct floe_buf b;

    floe_buf_init(&b, 6);
    CHECK(floe_buf_adds(&b, "ab") == FLOE_OK);
    CHECK(floe_buf_add_json_str(&b, "\n\n\n", 3) == FLOE_ETOOBIG);
    CHECK(b.len == 2 && strcmp(b.data, "ab") == 0);
    floe_buf_free(&b);
}

static void test_base64_round_trip(void)
{
    static const char *vectors[][2] = {
        { "", "" },           { "f", "Zg==" },         { "fo", "Zm8=" },
        { "foo", "Zm9v" },    { "foob", "Zm9vYg==" },  { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };
    size_t i;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char enc[16], dec[16];
        size_t n = floe_b64_enc(vectors[i][0], strlen(vectors[i][0]), enc);
        size_t dn = 0;

        CHECK(n == strlen(vectors[i][1]) &&
              memcmp(enc, vectors[i][1], n) == 0);
        CHECK(floe_b64_dec(vectors[i][1], n, dec, &dn) == FLOE_OK);
        CHECK(dn == strlen(vectors[i][0]) &&
              memcmp(dec, vectors[i][0], dn) == 0);
    }
}

static void test_base64_rejects_garbage(void)
{
    char out[16];
    size_t n;

    CHECK(floe_b64_dec("Zm9", 3, out, &n) == FLOE_EINVAL);
    CHECK(floe_b64_dec("Zm!v", 4, out, &n) == FLOE_EINVAL);
    CHECK(floe_b64_dec("Z===", 4, out, &n) == FLOE_EINVAL);
}

static void test_uuid_shape(void)
{
    char a[FLOE_UUID_LEN + 1], b[FLOE_UUID_LEN + 1];

    CHECK(floe_uuid(a) == FLOE_OK && floe_uuid(b) == FLOE_OK);
    CHECK(strlen(a) == 36 && a[8] == '-' && a[14] == '4');
    CHECK(strcmp(a, b) != 0);
}

struct cfg {
    char *name;
    int64_t size;
    int64_t wait;
    bool fast;
    double rate;
};

static const struct floe_opt opts[] = {
    { "name", FLOE_OPT_STR, "orders", offsetof(struct cfg, name), 0, -1, 0,
      "A name." },
    { "size", FLOE_OPT_SIZE, "4M", offsetof(struct cfg, size), 1, 8 << 20, 0,
      "A size." },
    { "wait", FLOE_OPT_MS, "1s", offsetof(struct cfg, wait), 0, -1, 0,
      "A wait." },
    { "fast", FLOE_OPT_BOOL, "false", offsetof(struct cfg, fast), 0, -1, 0,
      "Go fast." },
    { "rate", FLOE_OPT_DOUBLE, "0.5", offsetof(struct cfg, rate), 0, 1, 0,
      "A rate." },
    { NULL, 0, NULL, 0, 0, 0, 0, NULL },
};
static const struct floe_cmd cmd = { "unit", "floe unit [options]",
                                     "Unit-test command.", opts, NULL };

static void test_opt_defaults_env_argv(void)
{
    char *argv[] = { "unit", "--size=512K", "--fast", "--wait", "250ms",
                     "rest", NULL };
    struct cfg c = { 0 };
    char err[FLOE_ERR_LEN];
    int next = 0;

    setenv("FLOE_UNIT_NAME", "customers", 1);
    CHECK(floe_opt_parse(&cmd, &c, 6, argv, &next, err) == FLOE_OK);
    unsetenv("FLOE_UNIT_NAME");
    CHECK(c.name && strcmp(c.name, "customers") == 0);
    CHECK(c.size == 512 * 1024 && c.wait == 250 && c.fast && c.rate == 0.5);
    CHECK(next == 5 && strcmp(argv[next], "rest") == 0);
    floe_opt_free(opts, &c);
}

static void test_opt_rejects_bad_input(void)
{
    char *bad_range[] = { "unit", "--rate", "2", NULL };
    char *unknown[] = { "unit", "--nope", NULL };
    char *bad_size[] = { "unit", "--size", "4X", NULL };
    char *no_value[] = { "unit", "--name", NULL };
    struct cfg c = { 0 };
    char err[FLOE_ERR_LEN];
    int next;

    CHECK(floe_opt_parse(&cmd, &c, 3, bad_range, &next, err) == FLOE_EINVAL);
    CHECK(strstr(err, "out of range") != NULL);
    CHECK(floe_opt_parse(&cmd, &c, 2, unknown, &next, err) == FLOE_EINVAL);
    CHECK(strstr(err, "--nope") != NULL);
    CHECK(floe_opt_parse(&cmd, &c, 3, bad_size, &next, err) == FLOE_EINVAL);
    CHECK(floe_opt_parse(&cmd, &c, 2, no_value, &next, err) == FLOE_EINVAL);
    floe_opt_free(opts, &c);
}

/* floe_opt_main: exit statuses for a command's main(). */
static void test_opt_main_statuses(void)
{
    char *help[] = { "unit", "--help", NULL };
    char *extra[] = { "unit", "--fast", "rest", NULL };
    char *bad[] = { "unit", "--nope", NULL };
    struct cfg c = { 0 };
    int next = 0;

    CHECK(floe_opt_main(&cmd, &c, 2, help, NULL) == 0);
    CHECK(floe_opt_main(&cmd, &c, 2, bad, NULL) == 2);
    CHECK(floe_opt_main(&cmd, &c, 3, extra, NULL) == 2);
    CHECK(floe_opt_main(&cmd, &c, 3, extra, &next) == FLOE_OPT_GO);
    CHECK(next == 2 && c.fast);
    floe_opt_free(opts, &c);
}

static void test_atomic_write_and_read(void)
{
    char dir[256], path[300];
    struct floe_buf b;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(path, sizeof(path), "%s/a/b/c.txt", dir);
    CHECK(floe_mkdirs(path) == FLOE_OK); /* makes c.txt a dir: then fix */
    CHECK(floe_rmtree(path) == FLOE_OK);
    CHECK(floe_write_file_atomic(path, "hello", 5) == FLOE_OK);
    floe_buf_init(&b, 1024);
    CHECK(floe_read_file(path, &b) == FLOE_OK);
    CHECK(b.len == 5 && strcmp(b.data, "hello") == 0);
    floe_buf_free(&b);
    CHECK(floe_rmtree(dir) == FLOE_OK);
    CHECK(!floe_path_exists(dir));
}

/* Found by tests/fuzz/fuzz_floe_yaml (UBSan): an integer option given
 * 1e47 was converted to int64_t before any range check, which is
 * undefined; without bounds the garbage was kept. */
static void test_opt_int_out_of_int64_range(void)
{
    struct icfg {
        int64_t any, bounded;
    } c = { 7, 7 };
    static const struct floe_opt iopts[] = {
        { "any", FLOE_OPT_INT, NULL, offsetof(struct icfg, any), 0, -1, 0,
          "Unbounded." },
        { "bounded", FLOE_OPT_INT, NULL, offsetof(struct icfg, bounded), 0,
          1000, 0, "Bounded." },
        { NULL, 0, NULL, 0, 0, 0, 0, NULL },
    };
    static const char *const bad[] = { "1e47", "-1e30", "9223372036854775808",
                                       "-9.3e18" };
    char err[FLOE_ERR_LEN];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(floe_opt_set(iopts, &c, "any", bad[i], err) == FLOE_EINVAL);
        CHECK(strstr(err, "out of range") != NULL);
        CHECK(floe_opt_set(iopts, &c, "bounded", bad[i], err) ==
              FLOE_EINVAL);
    }
    CHECK(c.any == 7 && c.bounded == 7);
    CHECK(floe_opt_set(iopts, &c, "any", "-9223372036854775808", err) ==
          FLOE_OK && c.any == INT64_MIN);
    CHECK(floe_opt_set(iopts, &c, "any", "1e15", err) == FLOE_OK &&
          c.any == 1000000000000000LL);
}

FLOE_TESTS({ "add_past_max", test_add_past_max_fails_and_keeps_data },
           { "opt_int_range", test_opt_int_out_of_int64_range },
           { "addf_take", test_addf_and_take },
           { "json_escape", test_json_escape },
           { "json_escape_too_big", test_json_escape_too_big_restores },
           { "base64", test_base64_round_trip },
           { "base64_garbage", test_base64_rejects_garbage },
           { "uuid", test_uuid_shape },
           { "opt_main", test_opt_main_statuses },
           { "opt_parse", test_opt_defaults_env_argv },
           { "opt_bad", test_opt_rejects_bad_input },
           { "atomic_write", test_atomic_write_and_read })
