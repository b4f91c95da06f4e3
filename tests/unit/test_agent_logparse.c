/* test_agent_logparse.c - Java regex translation and the LOGTOJSON
 * formats, table-driven; expected objects follow the Kinesis Agent's
 * parsers (field names, "-" as null for Apache, whole-line match). */
#include <string.h>

#include "agent/jregex.h"
#include "agent/logparse.h"
#include "test.h"

struct tr_case {
    const char *java, *ere; /* ere NULL: must be rejected */
};

static const struct tr_case tr_cases[] = {
    { "a\\d+b", "a[0-9]+b" },
    { "(?:x)(y)", "(x)(y)" },
    { "[\\d.]+", "[.0-9]+" },
    { "[\\w\\-]+", "[0-9A-Z_a-z-]+" },
    { "[^\"]+", "[^\"]+" },
    { "\\[(\\S+)\\]", "\\[([^\t-\r ]+)\\]" },
    { "a.b", "a[^\n]b" },
    { "x{2,3}?y", "x{2,3}y" },
    { "\\Qa.b\\E", "a\\.b" },
    { "[]^a]", "[]a^]" },
    { "[\\^-]", "[-^]" },
    { "\\x41\\t", "A\t" },
    { "(?<name>a)", "(a)" },
    { "(?=a)", NULL },
    { "a*+", NULL },
    { "\\1", NULL },
    { "\\p{Alpha}", NULL },
    { "[a&&b]", NULL },
    { "[\xc3\xa9]", NULL },
};

static void test_translate_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(tr_cases) / sizeof(tr_cases[0]); i++) {
        struct floe_buf out;
        char err[FLOE_ERR_LEN] = "";
        int rc;

        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        rc = floe_jregex_translate(tr_cases[i].java, &out, NULL, NULL, err);
        if (tr_cases[i].ere == NULL) {
            CHECK(rc != FLOE_OK && err[0] != '\0');
        } else if (rc != FLOE_OK || strcmp(out.data, tr_cases[i].ere) != 0) {
            fprintf(stderr, "  case %zu: got '%s' (%s)\n", i,
                    out.data ? out.data : "", err);
            CHECK(0);
        }
        floe_buf_free(&out);
    }
}

static void test_match_modes_and_groups(void)
{
    struct floe_jregex re;
    regmatch_t g[3];
    char err[FLOE_ERR_LEN];
    bool lazy = false;

    CHECK(floe_jregex_compile(&re, "(a+)(?:-(\\d+))?", FLOE_JREGEX_FULL,
                              &lazy, err) == FLOE_OK);
    CHECK(re.ngroups == 2 && !lazy);
    CHECK(floe_jregex_match(&re, "aa-12", 5, g));
    CHECK(g[1].rm_so == 0 && g[1].rm_eo == 2);
    CHECK(g[2].rm_so == 3 && g[2].rm_eo == 5);
    CHECK(floe_jregex_match(&re, "a", 1, g) && g[2].rm_so == -1);
    CHECK(!floe_jregex_match(&re, "aa-12x", 6, NULL)); /* whole input */
    CHECK(!floe_jregex_match(&re, "aa-1\n2", 6, NULL));
    floe_jregex_free(&re);
    /* lookingAt(): a prefix; alternation stays inside the anchor. */
    CHECK(floe_jregex_compile(&re, "\\d{4}-|START", FLOE_JREGEX_PREFIX,
                              &lazy, err) == FLOE_OK);
    CHECK(floe_jregex_match(&re, "2026-11-24 x", 12, NULL));
    CHECK(floe_jregex_match(&re, "START here", 10, NULL));
    CHECK(!floe_jregex_match(&re, "  at x START", 12, NULL));
    CHECK(!floe_jregex_match(&re, "x2026-", 6, NULL));
    floe_jregex_free(&re);
    CHECK(floe_jregex_compile(&re, "(?i)err.*?x", FLOE_JREGEX_FULL, &lazy,
                              err) == FLOE_OK);
    CHECK(lazy && floe_jregex_match(&re, "ERROR x", 7, NULL));
    floe_jregex_free(&re);
    /* NUL bytes in the input do not end it. */
    CHECK(floe_jregex_compile(&re, "a.b", FLOE_JREGEX_FULL, NULL, err) ==
          FLOE_OK);
    CHECK(floe_jregex_match(&re, "a\0b", 3, NULL));
    floe_jregex_free(&re);
    CHECK(floe_jregex_compile(&re, "(a", FLOE_JREGEX_FULL, NULL, err) ==
          FLOE_EINVAL);
    floe_jregex_free(&re);
}

struct log_case {
    enum floe_logformat fmt;
    const char *line, *want; /* want NULL: no match (skipped) */
};

static const struct log_case log_cases[] = {
    { FLOE_LOGFORMAT_COMMONAPACHELOG,
      "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET "
      "/apache_pb.gif HTTP/1.0\" 200 2326",
      "{\"host\":\"127.0.0.1\",\"ident\":null,\"authuser\":\"frank\","
      "\"datetime\":\"10/Oct/2000:13:55:36 -0700\",\"request\":\"GET "
      "/apache_pb.gif HTTP/1.0\",\"response\":\"200\",\"bytes\":\"2326\"}" },
    /* a combined line is a common line with more after it */
    { FLOE_LOGFORMAT_COMMONAPACHELOG,
      "www.example.com - - [01/Jan/2026:00:00:00 +0000] \"GET / "
      "HTTP/1.1\" 304 - \"-\" \"curl/8\"",
      "{\"host\":\"www.example.com\",\"ident\":null,\"authuser\":null,"
      "\"datetime\":\"01/Jan/2026:00:00:00 +0000\",\"request\":\"GET / "
      "HTTP/1.1\",\"response\":\"304\",\"bytes\":null}" },
    { FLOE_LOGFORMAT_COMBINEDAPACHELOG,
      "10.0.0.2 - - [24/Nov/2026:19:56:00 +0100] \"POST /api?q=\\x22 "
      "HTTP/1.1\" 201 17 \"https://shop/\xc3\xa4\" \"Mozilla/5.0 (X11)\"",
      "{\"host\":\"10.0.0.2\",\"ident\":null,\"authuser\":null,"
      "\"datetime\":\"24/Nov/2026:19:56:00 +0100\",\"request\":\"POST "
      "/api?q=\\\\x22 HTTP/1.1\",\"response\":\"201\",\"bytes\":\"17\","
      "\"referer\":\"https://shop/\xc3\xa4\",\"agent\":\"Mozilla/5.0 "
      "(X11)\"}" },
    /* quotes inside the request do not fit NOQUOTE: skipped */
    { FLOE_LOGFORMAT_COMBINEDAPACHELOG,
      "1.2.3.4 - - [24/Nov/2026:19:56:00 +0100] \"GET /\"x HTTP/1.1\" 200 "
      "1 \"-\" \"a\"", NULL },
    { FLOE_LOGFORMAT_COMMONAPACHELOG, "garbage", NULL },
    { FLOE_LOGFORMAT_COMMONAPACHELOG, "", NULL },
    { FLOE_LOGFORMAT_APACHEERRORLOG,
      "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid "
      "4328636416] [client 72.15.99.187] File does not exist: "
      "/usr/local/apache2/htdocs/favicon.ico",
      "{\"timestamp\":\"Fri Sep 09 10:42:29.902022 2011\",\"module\":"
      "\"core\",\"severity\":\"error\",\"processid\":\"35708\","
      "\"threadid\":\"4328636416\",\"client\":\"72.15.99.187\","
      "\"message\":\"File does not exist: "
      "/usr/local/apache2/htdocs/favicon.ico\"}" },
    { FLOE_LOGFORMAT_APACHEERRORLOG,
      "[Mon Nov 23 01:02:03 2026] [warn] [pid 1] [client 10.1.1.1:5050] "
      "tab\there",
      "{\"timestamp\":\"Mon Nov 23 01:02:03 2026\",\"module\":null,"
      "\"severity\":\"warn\",\"processid\":\"1\",\"threadid\":null,"
      "\"client\":\"10.1.1.1:5050\",\"message\":\"tab\\there\"}" },
    { FLOE_LOGFORMAT_SYSLOG,
      "Mar 12 12:00:08 server2 rcd[308]: Loaded 12 packages in 'ximian-red"
      "-carpet|351' (0.01878 seconds)",
      "{\"timestamp\":\"Mar 12 12:00:08\",\"hostname\":\"server2\","
      "\"program\":\"rcd\",\"processid\":\"308\",\"message\":\"Loaded 12 "
      "packages in 'ximian-red-carpet|351' (0.01878 seconds)\"}" },
    { FLOE_LOGFORMAT_SYSLOG,
      "Nov  4 09:01:02 host-1 kernel: \"quoted\" \\ \xff end",
      "{\"timestamp\":\"Nov  4 09:01:02\",\"hostname\":\"host-1\","
      "\"program\":\"kernel\",\"processid\":null,\"message\":"
      "\"\\\"quoted\\\" \\\\ \xef\xbf\xbd end\"}" },
    /* syslog keeps "-" as a string */
    { FLOE_LOGFORMAT_SYSLOG, "Jan 1 00:00:00 h p: -",
      "{\"timestamp\":\"Jan 1 00:00:00\",\"hostname\":\"h\",\"program\":"
      "\"p\",\"processid\":null,\"message\":\"-\"}" },
    { FLOE_LOGFORMAT_SYSLOG, "2026-11-24T19:56:00Z h p: x", NULL },
    { FLOE_LOGFORMAT_RFC3339SYSLOG,
      "2026-11-24T19:56:00.123+01:00 web1 nginx[42]: GET / 200",
      "{\"timestamp\":\"2026-11-24T19:56:00.123+01:00\",\"hostname\":"
      "\"web1\",\"program\":\"nginx\",\"processid\":\"42\",\"message\":"
      "\"GET / 200\"}" },
    { FLOE_LOGFORMAT_RFC3339SYSLOG, "2026-11-24T19:56:00Z <1.2> h p: m",
      "{\"timestamp\":\"2026-11-24T19:56:00Z\",\"hostname\":\"h\","
      "\"program\":\"p\",\"processid\":null,\"message\":\"m\"}" },
};

static void test_formats_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(log_cases) / sizeof(log_cases[0]); i++) {
        struct floe_logparse *p = NULL;
        struct floe_buf out;
        char err[FLOE_ERR_LEN] = "";
        int rc;

        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        CHECK(floe_logparse_create(log_cases[i].fmt, NULL, NULL, 0, &p,
                                   err) == FLOE_OK);
        if (p == NULL) {
            fprintf(stderr, "  case %zu: %s\n", i, err);
            continue;
        }
        rc = floe_logparse_json(p, log_cases[i].line,
                                strlen(log_cases[i].line), &out);
        if (log_cases[i].want == NULL) {
            CHECK(rc == FLOE_ENOTFOUND && out.len == 0);
        } else if (rc != FLOE_OK || strcmp(out.data, log_cases[i].want)) {
            fprintf(stderr, "  case %zu: rc %d got %s\n", i, rc,
                    out.data ? out.data : "");
            CHECK(0);
        }
        floe_buf_free(&out);
        floe_logparse_destroy(p);
    }
}

static void test_custom_names_and_pattern(void)
{
    static const char *const three[] = { "ts", "level", "msg" };
    static const char *const seven[] = { "a", "b", "c", "d", "e", "f", "g" };
    struct floe_logparse *p = NULL;
    struct floe_buf out;
    char err[FLOE_ERR_LEN] = "";

    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG,
                               "^(\\S+) \\[(\\w+)\\] (.*)$", three, 3, &p,
                               err) == FLOE_OK);
    CHECK(floe_logparse_json(p, "12:00 [WARN] disk \"sda\" 91%", 27, &out)
          == FLOE_OK);
    CHECK(strcmp(out.data, "{\"ts\":\"12:00\",\"level\":\"WARN\",\"msg\":"
                 "\"disk \\\"sda\\\" 91%\"}") == 0);
    CHECK(floe_logparse_json(p, "no brackets", 11, &out) == FLOE_ENOTFOUND);
    floe_logparse_destroy(p);
    /* Apache + custom pattern: "-" becomes null. */
    floe_buf_reset(&out);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_COMMONAPACHELOG,
                               "(\\S+) (\\S+) (.*)", three, 3, &p, err) ==
          FLOE_OK);
    CHECK(floe_logparse_json(p, "- x -", 5, &out) == FLOE_OK);
    CHECK(strcmp(out.data, "{\"ts\":null,\"level\":\"x\",\"msg\":null}") ==
          0);
    floe_logparse_destroy(p);
    /* Renaming the default fields. */
    floe_buf_reset(&out);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_COMMONAPACHELOG, NULL, seven,
                               7, &p, err) == FLOE_OK);
    {
        const char *l = "h i u [01/Jan/2026:00:00:00 +0000] \"r\" 200 5";

        CHECK(floe_logparse_json(p, l, strlen(l), &out) == FLOE_OK);
    }
    CHECK(strncmp(out.data, "{\"a\":\"h\",\"b\":\"i\"", 16) == 0);
    floe_logparse_destroy(p);
    /* Config errors. */
    p = NULL;
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, NULL, three, 3, &p,
                               err) == FLOE_EINVAL && p == NULL);
    CHECK(strstr(err, "5 fields") != NULL);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, "(a)(b)", three, 3,
                               &p, err) == FLOE_EINVAL);
    CHECK(strstr(err, "2 capturing groups") != NULL);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, "(a)", NULL, 0, &p,
                               err) == FLOE_EINVAL);
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, "(?<=a)(b)(c)(d)",
                               three, 3, &p, err) == FLOE_ENOTSUP);
    floe_buf_free(&out);
}

static void test_json_utf8(void)
{
    static const struct {
        const char *in, *want;
        size_t n;
    } cases[] = {
        { "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80", "\"Zo\xc3\xab \xe2\x82"
          "\xac \xf0\x9f\x98\x80\"", 0 },
        { "bad \xc3 x", "\"bad \xef\xbf\xbd x\"", 0 },
        { "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", 0 },
        { "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"", 0 },
        { "a\0b", "\"a\\u0000b\"", 3 },
        { "\x1f\x7f", "\"\\u001f\x7f\"", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_buf out;
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].in);

        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        CHECK(floe_json_str_utf8(&out, cases[i].in, n) == FLOE_OK);
        if (strcmp(out.data, cases[i].want) != 0) {
            fprintf(stderr, "  case %zu: got %s\n", i, out.data);
            CHECK(0);
        }
        floe_buf_free(&out);
    }
}

FLOE_TESTS({ "translate_table", test_translate_table },
           { "match_modes_and_groups", test_match_modes_and_groups },
           { "formats_table", test_formats_table },
           { "custom_names_and_pattern", test_custom_names_and_pattern },
           { "json_utf8", test_json_utf8 });
