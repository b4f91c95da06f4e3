/* test_agent_jscan.c - the allocation-free JSON scanner: which texts it
 * accepts as one value (table), string spans and their decoding (escapes,
 * \u with surrogate pairs, cuts), key comparison, numbers. */
#include <stdio.h>
#include <string.h>

#include "agent/jscan.h"
#include "test.h"

static int skip_all(const char *text)
{
    struct floe_jscan js;
    int rc;

    floe_jscan_init(&js, text, strlen(text));
    rc = floe_jscan_skip(&js);
    return rc == FLOE_OK ? floe_jscan_end(&js) : rc;
}

static void test_skip_table(void)
{
    static const struct {
        const char *text;
        int ok;
    } cases[] = {
        { "{}", 1 },
        { " [ ] ", 1 },
        { "{\"a\":[1,-2.5e3,true,false,null,{\"b\":\"\\u00e9\\n\"}]}", 1 },
        { "\"caf\xc3\xa9 \\\"q\\\" \\\\ \\/\"", 1 },
        { "0", 1 },
        { "-0.0E+1", 1 },
        { "{\"a\":1,}", 0 },      /* trailing comma */
        { "[1 2]", 0 },
        { "{\"a\" 1}", 0 },
        { "{\"a\":1", 0 },        /* truncated */
        { "\"ab", 0 },
        { "\"a\x01\"", 0 },       /* raw control byte */
        { "\"\\x\"", 0 },         /* bad escape */
        { "\"\\u12g4\"", 0 },
        { "01", 0 },
        { "1.", 0 },
        { "-", 0 },
        { "tru", 0 },
        { "nul", 0 },
        { "{} x", 0 },            /* garbage after the value */
        { "", 0 },
        { "{'a':1}", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = skip_all(cases[i].text);

        CHECK((rc == FLOE_OK) == cases[i].ok);
        if ((rc == FLOE_OK) != cases[i].ok)
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].text);
    }
}

static void test_depth_bounded(void)
{
    char deep[300];

    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    CHECK(skip_all(deep) == FLOE_EINVAL);
    deep[20] = '\0';
    memset(deep + 10, ']', 10);
    CHECK(skip_all(deep) == FLOE_OK);
}

static void test_strings_decode(void)
{
    struct floe_jscan js;
    struct floe_jstr s;
    const char *text = "\"a\\tb\\u00e9\\ud83d\\ude00\\ud800x\\\"\"";
    char out[64], small[4];
    size_t n;

    floe_jscan_init(&js, text, strlen(text));
    CHECK(floe_jscan_string(&js, &s) == FLOE_OK);
    CHECK(s.s == text + 1 && s.len == strlen(text) - 2);
    n = floe_jstr_decode(&s, out, sizeof(out));
    /* tab, U+00E9, U+1F600 (a pair), a lone surrogate -> U+FFFD, quote */
    CHECK(n == strlen("a\tb\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\""));
    CHECK(strcmp(out, "a\tb\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\"") == 0);
    n = floe_jstr_decode(&s, small, sizeof(small));
    CHECK(n == strlen(out) && strcmp(small, "a\tb") == 0); /* cut */
    CHECK(floe_jscan_end(&js) == FLOE_OK);
}

static void test_keys_and_numbers(void)
{
    struct floe_jscan js;
    struct floe_jstr k;
    const char *text = " { \"Record\\u0049d\" : 12.5e1 , \"x\":-3 } ";
    double d = 0;

    floe_jscan_init(&js, text, strlen(text));
    CHECK(floe_jscan_take(&js, '{'));
    CHECK(!floe_jscan_take(&js, '}'));
    CHECK(floe_jscan_string(&js, &k) == FLOE_OK);
    CHECK(floe_jstr_eq(&k, "RecordId"));
    CHECK(!floe_jstr_eq(&k, "Record"));
    CHECK(floe_jscan_take(&js, ':'));
    CHECK(floe_jscan_number(&js, &d) == FLOE_OK && d == 125.0);
    CHECK(floe_jscan_take(&js, ','));
    CHECK(floe_jscan_string(&js, &k) == FLOE_OK && floe_jstr_eq(&k, "x"));
    CHECK(floe_jscan_take(&js, ':'));
    CHECK(floe_jscan_peek(&js) == '-');
    CHECK(floe_jscan_number(&js, &d) == FLOE_OK && d == -3.0);
    CHECK(floe_jscan_take(&js, '}'));
    CHECK(floe_jscan_end(&js) == FLOE_OK);
    CHECK(floe_jscan_peek(&js) == '\0' && !floe_jscan_take(&js, '}'));
}

FLOE_TESTS({ "skip_table", test_skip_table },
           { "depth_bounded", test_depth_bounded },
           { "strings_decode", test_strings_decode },
           { "keys_and_numbers", test_keys_and_numbers });
