/* test_agent_logparse.c - Java regexes on PCRE2 and the LOGTOJSON
 * formats, table-driven; expected objects follow the Kinesis Agent's
 * parsers (field names, "-" as null for Apache, whole-line match) and
 * java.util.regex (checked against Java 17). */
#include <string.h>

#include "agent/jregex.h"
#include "agent/logparse.h"
#include "core/log.h"
#include "test.h"

struct tr_case {
    const char *java, *pcre2; /* pcre2 NULL: must be rejected */
};

static const struct tr_case tr_cases[] = {
    { "a\\d+?b|(?<n>x*+)(?=y)", "a\\d+?b|(?<n>x*+)(?=y)" },
    { "\\u00e9\\uD83D\\uDE00", "\\x{e9}\\x{1f600}" },
    { "\\0101\\0477\\07", "\\o{101}\\o{47}7\\o{7}" },
    { "\\p{Alpha}+[\\p{Alnum}_]\\P{Digit}[^\\P{Space}]",
      "[[:alpha:]]+[[:alnum:]_][[:^digit:]][^[:^space:]]" },
    { "\\p{IsLatin}\\p{sc=Greek}\\P{IsLu}\\p{L}\\pN",
      "\\p{Latin}\\p{Greek}\\P{Lu}\\p{L}\\pN" },
    { "(?iu)x(?u)y(?u:z)(?-u)", "(?i)xy(?:z)" },
    { "\\Q[a&&b]\\E[\\Q[\\E]", "\\Q[a&&b]\\E[\\Q[\\E]" },
    { "[]a][^]b]\\c[x&&", "[]a][^]b]\\c[x&&" },
    { "[a&&b]", NULL },
    { "[a[b]]", NULL },
    { "[[:alpha:]]", NULL },
    { "\\p{javaLowerCase}", NULL },
    { "\\p{InGreek}", NULL },
    { "(?U)a", NULL },
    { "(?id:a)", NULL },
};

static void test_translate_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(tr_cases) / sizeof(tr_cases[0]); i++) {
        struct floe_buf out;
        char err[FLOE_ERR_LEN] = "";
        int rc;

        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        rc = floe_jregex_translate(tr_cases[i].java, &out, err);
        if (tr_cases[i].pcre2 == NULL) {
            CHECK(rc == FLOE_ENOTSUP && strstr(err, "offset") != NULL);
        } else if (rc != FLOE_OK ||
                   strcmp(out.data, tr_cases[i].pcre2) != 0) {
            fprintf(stderr, "  case %zu: got '%s' (%s)\n", i,
                    out.data ? out.data : "", err);
            CHECK(0);
        }
        floe_buf_free(&out);
    }
}

static bool group_is(const struct floe_jregex_match *m, size_t g,
                     const char *want)
{
    if (want == NULL)
        return m->ov[2 * g] == FLOE_JREGEX_UNSET;
    return m->ov[2 * g] != FLOE_JREGEX_UNSET &&
           m->ov[2 * g + 1] - m->ov[2 * g] == strlen(want) &&
           memcmp(m->subject + m->ov[2 * g], want, strlen(want)) == 0;
}

static void test_match_modes_and_groups(void)
{
    struct floe_jregex re;
    struct floe_jregex_info info;
    struct floe_jregex_match m;
    char err[FLOE_ERR_LEN];

    CHECK(floe_jregex_compile(&re, "(a+)(?:-(\\d+))?", FLOE_JREGEX_FULL,
                              &info, err) == FLOE_OK);
    CHECK(re.ngroups == 2 && !info.rewritten);
    CHECK(floe_jregex_match(&re, "aa-12", 5, &m));
    CHECK(m.subject != NULL && group_is(&m, 1, "aa") &&
          group_is(&m, 2, "12"));
    CHECK(floe_jregex_match(&re, "a", 1, &m) && group_is(&m, 2, NULL));
    CHECK(!floe_jregex_match(&re, "aa-12x", 6, NULL)); /* whole input */
    CHECK(!floe_jregex_match(&re, "aa-1\n2", 6, NULL));
    CHECK(!floe_jregex_match(&re, "aa-12\n", 6, NULL)); /* no $ slack */
    floe_jregex_free(&re);
    /* lookingAt(): a prefix; alternation stays inside the anchor. */
    CHECK(floe_jregex_compile(&re, "\\d{4}-|START", FLOE_JREGEX_PREFIX,
                              NULL, err) == FLOE_OK);
    CHECK(floe_jregex_match(&re, "2026-11-24 x", 12, NULL));
    CHECK(floe_jregex_match(&re, "START here", 10, NULL));
    CHECK(!floe_jregex_match(&re, "  at x START", 12, NULL));
    CHECK(!floe_jregex_match(&re, "x2026-", 6, NULL));
    floe_jregex_free(&re);
    CHECK(floe_jregex_compile(&re, "(?iu)err.*?\\u00e9", FLOE_JREGEX_FULL,
                              &info, err) == FLOE_OK);
    CHECK(info.rewritten && floe_jregex_match(&re, "ERROR \xc3\x89", 8,
                                              NULL));
    floe_jregex_free(&re);
    /* NUL bytes in the input do not end it; '.' stops at CR as Java's. */
    CHECK(floe_jregex_compile(&re, "a.b", FLOE_JREGEX_FULL, NULL, err) ==
          FLOE_OK);
    CHECK(floe_jregex_match(&re, "a\0b", 3, NULL));
    CHECK(!floe_jregex_match(&re, "a\rb", 3, NULL));
    floe_jregex_free(&re);
    /* Invalid UTF-8 is matched as U+FFFD, in a repaired copy. */
    CHECK(floe_jregex_compile(&re, "(\\W)(.)\\x{FFFD}", FLOE_JREGEX_FULL,
                              NULL, err) == FLOE_OK);
    CHECK(floe_jregex_match(&re, "\xff\xc3\xa9\xe2\x82", 5, &m));
    CHECK(group_is(&m, 1, "\xef\xbf\xbd") && group_is(&m, 2, "\xc3\xa9"));
    CHECK(m.len == 8 && memcmp(m.subject, "\xef\xbf\xbd\xc3\xa9\xef\xbf"
                               "\xbd", 8) == 0);
    floe_jregex_free(&re);
    CHECK(floe_jregex_compile(&re, "(a", FLOE_JREGEX_FULL, NULL, err) ==
          FLOE_EINVAL && re.code == NULL);
    CHECK(strstr(err, "missing closing parenthesis at offset 2") != NULL);
    CHECK(floe_jregex_compile(&re, "[a&&b]", FLOE_JREGEX_PREFIX, NULL,
                              err) == FLOE_ENOTSUP && re.code == NULL);
    floe_jregex_free(&re);
}

/* A pattern that backtracks without end hits PCRE2's limit: no match,
 * not a hang. */
static void test_match_limit_is_no_match(void)
{
    struct floe_jregex re;
    char err[FLOE_ERR_LEN], line[64];
    int lvl = floe_log_level;

    memset(line, 'a', sizeof(line));
    line[sizeof(line) - 1] = 'b';
    CHECK(floe_jregex_compile(&re, "(a*)*c", FLOE_JREGEX_FULL, NULL, err) ==
          FLOE_OK);
    floe_log_level = FLOE_LOG_ERROR; /* the warning is expected */
    CHECK(!floe_jregex_match(&re, line, sizeof(line), NULL));
    floe_log_level = lvl;
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
    CHECK(floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, "[a&&b](b)(c)(d)",
                               three, 3, &p, err) == FLOE_ENOTSUP);
    floe_buf_free(&out);
}

/* Custom matchPatterns whose groups must be what java.util.regex gives
 * (Matcher.matches() on the line decoded from UTF-8; every row checked
 * with Java 17). The POSIX translation got many wrong: lazy quantifiers
 * ran greedy, '.' was a byte, lookaround and the like were refused. Java
 * constructs PCRE2 reads differently are refused with a message naming
 * them, and one PCRE2 cannot compile gives its message and the offset in
 * the Java text. */
struct java_case {
    const char *pattern, *line, *want; /* want NULL: no match */
    const char *err; /* not NULL: refused, with this in the message */
};

static const struct java_case java_cases[] = {
    /* lazy quantifiers */
    { "(\\w+?)(\\d*)", "abc123", "{\"a\":\"abc\",\"b\":\"123\"}" },
    { "key=(.*?),(.*)", "key=x,y,z", "{\"a\":\"x\",\"b\":\"y,z\"}" },
    { "(.+?)(?:-(\\d+))?", "a-b-12", "{\"a\":\"a-b\",\"b\":\"12\"}" },
    { "(\\S+?)\\s+(.*?)\\s*", "GET   /x  ", "{\"a\":\"GET\",\"b\":\"/x\"}" },
    /* the first alternative that lets the whole line match wins */
    { "(a|ab)(.*)", "abc", "{\"a\":\"a\",\"b\":\"bc\"}" },
    { "(\\d+|\\d+\\.\\d+)(.*)", "3.14", "{\"a\":\"3\",\"b\":\".14\"}" },
    { "(INFO|INFORMATION)(.*)", "INFORMATION x",
      "{\"a\":\"INFO\",\"b\":\"RMATION x\"}" },
    /* alternatives in a repeated group: the last iteration counts, an
     * empty one too (glibc's POSIX matcher kept a longer one) */
    { "(.*|\\d\\d+)*(x?)", "b ba1a", "{\"a\":\"\",\"b\":\"\"}" },
    { "(\\w*[ab]?|xa*)+(x?)", "cbac", "{\"a\":\"\",\"b\":\"\"}" },
    { "(ab.?b+|a?|x)*(x?)", "aaa", "{\"a\":\"\",\"b\":\"\"}" },
    /* constructs POSIX regex could not run */
    { "(\\w+)(?=-)-(\\d+)", "ab-12", "{\"a\":\"ab\",\"b\":\"12\"}" },
    { "(\\d++)(\\w*)", "123abc", "{\"a\":\"123\",\"b\":\"abc\"}" },
    { "(\\d++)(\\d)", "123", NULL },
    { "(?>(a+))(b)", "aab", "{\"a\":\"aa\",\"b\":\"b\"}" },
    { "(?<level>[A-Z]+) (?<msg>.*)", "WARN disk full",
      "{\"a\":\"WARN\",\"b\":\"disk full\"}" },
    { "\\Q[x]\\E (\\w+)(.*)", "[x] word rest",
      "{\"a\":\"word\",\"b\":\" rest\"}" },
    { "(?<!x)(a)(b)", "ab", "{\"a\":\"a\",\"b\":\"b\"}" },
    /* '.' is a character, not a byte */
    { "(.)(.*)", "\xc3\xa9!", "{\"a\":\"\xc3\xa9\",\"b\":\"!\"}" },
    { "([^a]) (.*)", "\xe2\x82\xac x", "{\"a\":\"\xe2\x82\xac\",\"b\":\"x\"}" },
    /* an invalid sequence is one U+FFFD character, as in Java */
    { "(.) (.*)", "\xe2\x82 x", "{\"a\":\"\xef\xbf\xbd\",\"b\":\"x\"}" },
    { "(\\S+) (.*)", "ab\xff\xfe c",
      "{\"a\":\"ab\xef\xbf\xbd\xef\xbf\xbd\",\"b\":\"c\"}" },
    /* \w, \d, \b are ASCII as in Java */
    { "(\\w+)(.*)", "\xc3\xa9t\xc3\xa9", NULL },
    { "(?i)(error) (.*)", "ERROR x", "{\"a\":\"ERROR\",\"b\":\"x\"}" },
    /* refused */
    { "([a-z&&[^x]])(b)", NULL, NULL, "&&" },
    { "([a[bc]])(d)", NULL, NULL, "nested" },
    { "(\\p{javaLowerCase})(b)", NULL, NULL, "\\p{java...}" },
    { "(?U)(\\w)(b)", NULL, NULL, "(?U)" },
    { "(\\p{InGreek})(b)", NULL, NULL, "block" },
    { "(a)(b", NULL, NULL, "missing closing parenthesis at offset 5" },
    { "(a)(\\uD83D\\uDE00\\p{Bogus})", NULL, NULL, "offset 25" },
};

static void test_java_semantics_table(void)
{
    static const char *const ab[] = { "a", "b" };
    size_t i;

    for (i = 0; i < sizeof(java_cases) / sizeof(java_cases[0]); i++) {
        const struct java_case *jc = &java_cases[i];
        struct floe_logparse *p = NULL;
        struct floe_buf out;
        char err[FLOE_ERR_LEN] = "";
        int rc;

        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        rc = floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, jc->pattern, ab, 2,
                                  &p, err);
        if (jc->err != NULL) {
            if (rc == FLOE_OK || strstr(err, jc->err) == NULL) {
                fprintf(stderr, "  case %zu (%s): rc %d: %s\n", i,
                        jc->pattern, rc, err);
                CHECK(0);
            }
        } else if (rc != FLOE_OK) {
            fprintf(stderr, "  case %zu (%s): %s\n", i, jc->pattern, err);
            CHECK(0);
        } else {
            rc = floe_logparse_json(p, jc->line, strlen(jc->line), &out);
            if (jc->want == NULL ? rc != FLOE_ENOTFOUND
                                 : rc != FLOE_OK || strcmp(out.data,
                                                           jc->want)) {
                fprintf(stderr, "  case %zu (%s): rc %d got %s\n", i,
                        jc->pattern, rc, out.data ? out.data : "");
                CHECK(0);
            }
        }
        floe_buf_free(&out);
        floe_logparse_destroy(p);
    }
}


FLOE_TESTS({ "translate_table", test_translate_table },
           { "match_modes_and_groups", test_match_modes_and_groups },
           { "match_limit_is_no_match", test_match_limit_is_no_match },
           { "formats_table", test_formats_table },
           { "custom_names_and_pattern", test_custom_names_and_pattern },
           { "java_semantics_table", test_java_semantics_table });
