/* test_agent_convert.c - CSVTOJSON and SINGLELINE, table-driven. */
#include <string.h>

#include "agent/convert.h"
#include "test.h"

#define FFFD "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

static const char *const names[] = { "a", "b", "c" };

struct csv_case {
    const char *in, *want;
    char delim;
};

static const struct csv_case csv_cases[] = {
    { "1,2,3\n", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}\n", ',' },
    { "1,2,3\r\n", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}\n", ',' },
    { "1,2,3", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}\n", ',' },
    /* RFC 4180 quoting: delimiter inside quotes, "" escape */
    { "\"Smith, Jane\",x,y\n",
      "{\"a\":\"Smith, Jane\",\"b\":\"x\",\"c\":\"y\"}\n", ',' },
    { "\"say \"\"hi\"\"\",,\"\"\n",
      "{\"a\":\"say \\\"hi\\\"\",\"b\":\"\",\"c\":\"\"}\n", ',' },
    /* missing columns are null, extra ones dropped */
    { "only\n", "{\"a\":\"only\",\"b\":null,\"c\":null}\n", ',' },
    { "1,2\n", "{\"a\":\"1\",\"b\":\"2\",\"c\":null}\n", ',' },
    { "1,2,3,4,5\n", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}\n", ',' },
    { "1,2,\n", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"\"}\n", ',' },
    { "\n", "{\"a\":\"\",\"b\":null,\"c\":null}\n", ',' },
    /* JSON escapes and UTF-8 passed through */
    { "back\\slash,tab\there,Zo\xc3\xab \xe2\x82\xac\n",
      "{\"a\":\"back\\\\slash\",\"b\":\"tab\\there\","
      "\"c\":\"Zo\xc3\xab \xe2\x82\xac\"}\n", ',' },
    { "\x01,\"multi\nline\",x\n",
      "{\"a\":\"\\u0001\",\"b\":\"multi\\nline\",\"c\":\"x\"}\n", ',' },
    /* unterminated quote: the rest of the line is the value */
    { "\"open,1,2\n", "{\"a\":\"open,1,2\",\"b\":null,\"c\":null}\n", ',' },
    /* other delimiter */
    { "1|\"x|y\"|3\n", "{\"a\":\"1\",\"b\":\"x|y\",\"c\":\"3\"}\n", '|' },
    { "1,2\t3\n", "{\"a\":\"1,2\",\"b\":\"3\",\"c\":null}\n", '\t' },
    /* Invalid UTF-8 becomes U+FFFD, one per maximal subpart (as Java's
     * decoder does): a stray byte, a truncated sequence before a
     * delimiter, a surrogate, an overlong form, past U+10FFFF. */
    { "a\xff,b\xe2\x82,\xed\xa0\x80\n",
      "{\"a\":\"a" FFFD "\",\"b\":\"b" FFFD "\",\"c\":\"" FFFD FFFD FFFD
      "\"}\n", ',' },
    { "\"x\xc0\xafy\",\"\xf0\x9f\x98\",\xe0\x80\x80\xf4\x90\x80\x80\n",
      "{\"a\":\"x" FFFD FFFD "y\",\"b\":\"" FFFD "\",\"c\":\"" FFFD FFFD
      FFFD FFFD FFFD FFFD FFFD "\"}\n", ',' },
    /* valid runs longer than a word, escapes and bad bytes between them */
    { "0123456789abcdef\"q\"0123456789\xfe" "0123456789\x7f\t,"
      "\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xf0\x9f\x98\x80 \"\"x\"\"\","
      "abc\xf0\x9f\x98\n",
      "{\"a\":\"0123456789abcdef\\\"q\\\"0123456789" FFFD "0123456789\x7f"
      "\\t\",\"b\":\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xf0\x9f\x98\x80 "
      "\\\"x\\\"\",\"c\":\"abc" FFFD "\"}\n", ',' },
};

static void test_csv_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(csv_cases) / sizeof(csv_cases[0]); i++) {
        struct floe_convert c;
        struct floe_buf out;
        char err[FLOE_ERR_LEN];

        floe_convert_init(&c);
        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        CHECK(floe_convert_add_csv(&c, names, 3, csv_cases[i].delim, err) ==
              FLOE_OK);
        CHECK(floe_convert_apply(&c, csv_cases[i].in, strlen(csv_cases[i].in),
                                 &out) == FLOE_OK);
        if (out.data == NULL || strcmp(out.data, csv_cases[i].want) != 0) {
            fprintf(stderr, "  case %zu: got %s", i, out.data);
            CHECK(0);
        }
        floe_buf_free(&out);
        floe_convert_free(&c);
    }
}

/* Keys are escaped too, and one with invalid UTF-8 (agent.json saved in
 * Latin-1) still gives valid JSON. */
static void test_csv_appends_and_escapes_keys(void)
{
    static const char *const odd[] = { "we\"ird", "Gr\xf6\xdf" "e",
                                       "ok\xe2\x82" };
    struct floe_convert c;
    struct floe_buf out;
    char err[FLOE_ERR_LEN];

    floe_convert_init(&c);
    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_convert_add_csv(&c, odd, 3, ',', err) == FLOE_OK);
    CHECK(floe_convert_add_csv(&c, odd, 0, ',', err) == FLOE_EINVAL);
    floe_buf_adds(&out, "PREFIX");
    CHECK(floe_convert_apply(&c, "v,1,2\n", 6, &out) == FLOE_OK);
    CHECK(strcmp(out.data, "PREFIX{\"we\\\"ird\":\"v\",\"Gr" FFFD FFFD
                 "e\":\"1\",\"ok" FFFD "\":\"2\"}\n") == 0);
    floe_buf_free(&out);
    floe_convert_free(&c);
}

static void test_csv_over_cap_leaves_buffer(void)
{
    struct floe_convert c;
    struct floe_buf out;
    char err[FLOE_ERR_LEN];

    floe_convert_init(&c);
    floe_buf_init(&out, 16);
    CHECK(floe_convert_add_csv(&c, names, 3, ',', err) == FLOE_OK);
    floe_buf_adds(&out, "keep");
    CHECK(floe_convert_apply(&c, "1,2,3\n", 6, &out) == FLOE_ETOOBIG);
    CHECK(out.len == 4 && strcmp(out.data, "keep") == 0);
    floe_buf_free(&out);
    floe_convert_free(&c);
}

struct sl_case {
    bool no_trim, esc;
    const char *in, *want;
};

static const struct sl_case sl_cases[] = {
    { false, false, "  hello world \t\n", "hello world\n" },
    { false, false, " a \n b \n", "ab\n" },
    { true, false, " a \n b \n", " a  b \n" },
    { false, true, "a\nb\n", "a\\nb\n" },
    { false, false, "no newline", "no newline\n" },
};

static void test_singleline_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(sl_cases) / sizeof(sl_cases[0]); i++) {
        struct floe_convert c;
        struct floe_buf out;

        floe_convert_init(&c);
        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        CHECK(floe_convert_add_singleline(&c, sl_cases[i].no_trim,
                                          sl_cases[i].esc) == FLOE_OK);
        CHECK(floe_convert_apply(&c, sl_cases[i].in, strlen(sl_cases[i].in),
                                 &out) == FLOE_OK);
        if (out.data == NULL || strcmp(out.data, sl_cases[i].want) != 0) {
            fprintf(stderr, "  case %zu: got [%s]\n", i, out.data);
            CHECK(0);
        }
        floe_buf_free(&out);
        floe_convert_free(&c);
    }
}

static void test_chain_singleline_then_csv(void)
{
    struct floe_convert c;
    struct floe_buf out;
    char err[FLOE_ERR_LEN];
    int i;

    floe_convert_init(&c);
    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_convert_add_singleline(&c, false, false) == FLOE_OK);
    CHECK(floe_convert_add_csv(&c, names, 3, ',', err) == FLOE_OK);
    for (i = 0; i < 3; i++) { /* scratch buffers are reused */
        floe_buf_reset(&out);
        CHECK(floe_convert_apply(&c, "  1,2,3  \n", 10, &out) == FLOE_OK);
        CHECK(strcmp(out.data, "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}\n") == 0);
    }
    floe_buf_free(&out);
    floe_convert_free(&c);
}

static void test_passthrough(void)
{
    struct floe_convert c;
    struct floe_buf out;

    floe_convert_init(&c);
    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_convert_apply(&c, "{\"x\":1}\n", 8, &out) == FLOE_OK);
    CHECK(strcmp(out.data, "{\"x\":1}\n") == 0);
    floe_buf_free(&out);
    floe_convert_free(&c);
}

static void test_logtojson_and_metadata(void)
{
    struct floe_convert c;
    struct floe_logparse *p = NULL;
    struct floe_buf out;
    char err[FLOE_ERR_LEN];
    const char *line = "Mar 12 12:00:08 srv2 cron[8]: \"job\" ok\n";

    floe_convert_init(&c);
    floe_buf_init(&out, 256);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, NULL, NULL, 0, &p,
                               err) == FLOE_OK);
    CHECK(floe_convert_add_logtojson(&c, p) == FLOE_OK);
    CHECK(floe_convert_apply(&c, line, strlen(line), &out) == FLOE_OK);
    CHECK(strcmp(out.data, "{\"timestamp\":\"Mar 12 12:00:08\",\"hostname\""
                 ":\"srv2\",\"program\":\"cron\",\"processid\":\"8\","
                 "\"message\":\"\\\"job\\\" ok\"}\n") == 0);
    /* No match: dropped, buffer untouched. */
    CHECK(floe_convert_apply(&c, "junk\n", 5, &out) == FLOE_ENOTFOUND);
    CHECK(out.len == strlen(out.data) && out.data[out.len - 1] == '\n');
    floe_convert_free(&c);

    /* ADDMETADATA with a timestamp; data is the line as a string. */
    floe_convert_init(&c);
    floe_buf_reset(&out);
    CHECK(floe_convert_add_metadata(&c, "{\"host\":\"a\"}", true, NULL) ==
          FLOE_OK);
    CHECK(floe_convert_addmetadata(&c.steps[0], "x\t\"y\"\xff\n", 7,
                                   1795550160123LL, &out) == FLOE_OK);
    CHECK(strcmp(out.data, "{\"ts\":\"2026-11-24T19:56:00.123Z\","
                 "\"metadata\":{\"host\":\"a\"},\"data\":\"x\\t\\\"y\\\""
                 "\xef\xbf\xbd\"}\n") == 0);
    floe_convert_free(&c);

    /* ADDMETADATA with a log format: data is the parsed object; a
     * non-matching line is dropped; no metadata means null. */
    floe_convert_init(&c);
    floe_buf_reset(&out);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, "(\\w+)", (const char
                               *const[]){ "w" }, 1, &p, err) == FLOE_OK);
    CHECK(floe_convert_add_metadata(&c, NULL, false, p) == FLOE_OK);
    CHECK(floe_convert_apply(&c, "abc\n", 4, &out) == FLOE_OK);
    CHECK(strcmp(out.data, "{\"metadata\":null,\"data\":{\"w\":\"abc\"}}\n")
          == 0);
    CHECK(floe_convert_apply(&c, "a b\n", 4, &out) == FLOE_ENOTFOUND);
    /* Over the buffer's cap: ETOOBIG, unchanged. */
    {
        char big[300];
        size_t before = out.len;

        memset(big, 'a', sizeof(big));
        CHECK(floe_convert_apply(&c, big, sizeof(big), &out) ==
              FLOE_ETOOBIG);
        CHECK(out.len == before);
    }
    floe_buf_free(&out);
    floe_convert_free(&c);
}

FLOE_TESTS({ "csv_table", test_csv_table },
           { "csv_appends_and_escapes_keys", test_csv_appends_and_escapes_keys },
           { "csv_over_cap_leaves_buffer", test_csv_over_cap_leaves_buffer },
           { "singleline_table", test_singleline_table },
           { "chain_singleline_then_csv", test_chain_singleline_then_csv },
           { "passthrough", test_passthrough },
           { "logtojson_and_metadata", test_logtojson_and_metadata });
