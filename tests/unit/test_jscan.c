/* test_jscan.c - the allocation-free JSON scanner (core/jscan.h): which
 * texts it accepts as one value (table), its flags (raw control bytes,
 * surrogate escapes), string spans (the escape flag, the remembered
 * backslash), decoding (escapes, \u with surrogate pairs, cuts), key
 * comparison, numbers (with and without a value, the length limit), and
 * random strings checked against a byte-by-byte reference. */
#include <stdio.h>
#include <string.h>

#include "core/jscan.h"
#include "test.h"

static int skip_all(const char *text, unsigned flags)
{
    struct floe_jscan js;
    int rc;

    floe_jscan_init(&js, text, strlen(text), flags);
    rc = floe_jscan_skip(&js);
    return rc == FLOE_OK ? floe_jscan_end(&js) : rc;
}

static void test_skip_table(void)
{
    static const struct {
        const char *text;
        int ok;      /* with flags 0 */
        int ok_cjson; /* with FLOE_JSCAN_CJSON */
    } cases[] = {
        { "{}", 1, 1 },
        { " [ ] ", 1, 1 },
        { "{\"a\":[1,-2.5e3,true,false,null,{\"b\":\"\\u00e9\\n\"}]}", 1, 1 },
        { "\"caf\xc3\xa9 \\\"q\\\" \\\\ \\/\"", 1, 1 },
        { "0", 1, 1 },
        { "-0.0E+1", 1, 1 },
        { "\"a\x01\"", 0, 1 },        /* raw control byte */
        { "\"\\\\\x1f\"", 0, 1 },     /* ... after an escape */
        { "\"\\ud83d\\ude00\"", 1, 0 }, /* surrogates */
        { "\"\\uDFFF\"", 1, 0 },
        { "\"\\ud7ff\\ue000\"", 1, 1 }, /* just outside them */
        { "{\"a\":1,}", 0, 0 },       /* trailing comma */
        { "[1 2]", 0, 0 },
        { "{\"a\" 1}", 0, 0 },
        { "{\"a\":1", 0, 0 },         /* truncated */
        { "\"ab", 0, 0 },
        { "\"a\\\"", 0, 0 },          /* the quote is escaped */
        { "\"\\x\"", 0, 0 },          /* bad escape */
        { "\"\\u12g4\"", 0, 0 },
        { "\"\\u12\"", 0, 0 },
        { "01", 0, 0 },
        { "1.", 0, 0 },
        { "1e", 0, 0 },
        { "-", 0, 0 },
        { "+1", 0, 0 },
        { "tru", 0, 0 },
        { "nul", 0, 0 },
        { "{} x", 0, 0 },             /* garbage after the value */
        { "\f{}", 0, 0 },             /* not a JSON blank */
        { "", 0, 0 },
        { "{'a':1}", 0, 0 },
        { "[\"a\" \\ \"b\"]", 0, 0 }, /* a backslash between strings */
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = skip_all(cases[i].text, 0);
        int rc2 = skip_all(cases[i].text, FLOE_JSCAN_CJSON);

        if ((rc == FLOE_OK) != cases[i].ok ||
            (rc2 == FLOE_OK) != cases[i].ok_cjson) {
            fprintf(stderr, "  case %zu: %d %d: %s\n", i, rc, rc2,
                    cases[i].text);
            CHECK(0);
        }
    }
}

static void test_depth_bounded(void)
{
    char deep[300];
    int n = FLOE_JSCAN_DEPTH_MAX + 1;

    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    CHECK(skip_all(deep, 0) == FLOE_EINVAL);
    /* exactly the limit: n containers deep; one more is refused */
    memset(deep, '[', (size_t)n);
    memset(deep + n, ']', (size_t)n);
    deep[2 * n] = '\0';
    CHECK(skip_all(deep, 0) == FLOE_OK);
    memset(deep, '[', (size_t)n + 1);
    memset(deep + n + 1, ']', (size_t)n + 1);
    deep[2 * n + 2] = '\0';
    CHECK(skip_all(deep, 0) == FLOE_EINVAL);
}

static void test_strings_decode(void)
{
    struct floe_jscan js;
    struct floe_jstr s;
    const char *text = "\"a\\tb\\u00e9\\ud83d\\ude00\\ud800x\\\"\"";
    char out[64], small[4];
    size_t n;

    floe_jscan_init(&js, text, strlen(text), 0);
    CHECK(floe_jscan_string(&js, &s) == FLOE_OK);
    CHECK(s.s == text + 1 && s.len == strlen(text) - 2 && s.esc);
    n = floe_jstr_decode(&s, out, sizeof(out));
    /* tab, U+00E9, U+1F600 (a pair), a lone surrogate -> U+FFFD, quote */
    CHECK(n == strlen("a\tb\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\""));
    CHECK(strcmp(out, "a\tb\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\"") == 0);
    n = floe_jstr_decode(&s, small, sizeof(small));
    CHECK(n == strlen(out) && strcmp(small, "a\tb") == 0); /* cut */
    CHECK(floe_jscan_end(&js) == FLOE_OK);
    /* the same text in cJSON mode: the surrogates are refused */
    floe_jscan_init(&js, text, strlen(text), FLOE_JSCAN_CJSON);
    CHECK(floe_jscan_string(&js, &s) == FLOE_EINVAL);
}

/* The escape flag of each string, across texts where the remembered
 * backslash is before, inside and after the string being read. */
static void test_escape_flags(void)
{
    static const struct {
        const char *text; /* an array of strings */
        const char *esc;  /* '1' per escaped string */
    } cases[] = {
        { "[\"a\",\"b\",\"\"]", "000" },
        { "[\"a\",\"b\\n\",\"c\",\"d\\\\\",\"e\"]", "01010" },
        { "[\"\\\"\",\"\\\\\",\"x\"]", "110" },
        { "[\"x\",\"y\",\"\\u0041\"]", "001" },
        { "[\"\\/\", \"\\\"\\\"\" ,\"\",\"\\t\"]", "1101" },
    };
    size_t i, k;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_jscan js;
        struct floe_jstr s;
        bool ok;

        floe_jscan_init(&js, cases[i].text, strlen(cases[i].text), 0);
        ok = floe_jscan_take(&js, '[');
        for (k = 0; ok && cases[i].esc[k] != '\0'; k++) {
            if (k > 0)
                ok = floe_jscan_take(&js, ',');
            ok = ok && floe_jscan_string(&js, &s) == FLOE_OK &&
                 s.esc == (cases[i].esc[k] == '1');
        }
        ok = ok && floe_jscan_take(&js, ']') && floe_jscan_end(&js) == 0;
        if (!ok) {
            fprintf(stderr, "  case %zu, string %zu: %s\n", i, k,
                    cases[i].text);
            CHECK(0);
        }
    }
}

static void test_keys_and_numbers(void)
{
    struct floe_jscan js;
    struct floe_jstr k;
    const char *text = " { \"Record\\u0049d\" : 12.5e1 , \"x\":-3 } ";
    double d = 0;

    floe_jscan_init(&js, text, strlen(text), 0);
    CHECK(floe_jscan_take(&js, '{'));
    CHECK(!floe_jscan_take(&js, '}'));
    CHECK(floe_jscan_string(&js, &k) == FLOE_OK && k.esc);
    CHECK(floe_jstr_eq(&k, "RecordId"));
    CHECK(!floe_jstr_eq(&k, "Record"));
    CHECK(floe_jscan_take(&js, ':'));
    CHECK(floe_jscan_number(&js, &d) == FLOE_OK && d == 125.0);
    CHECK(floe_jscan_take(&js, ','));
    CHECK(floe_jscan_string(&js, &k) == FLOE_OK && floe_jstr_eq(&k, "x"));
    CHECK(!k.esc);
    CHECK(floe_jscan_take(&js, ':'));
    CHECK(floe_jscan_peek(&js) == '-');
    CHECK(floe_jscan_number(&js, &d) == FLOE_OK && d == -3.0);
    CHECK(floe_jscan_take(&js, '}'));
    CHECK(floe_jscan_end(&js) == FLOE_OK);
    CHECK(floe_jscan_peek(&js) == '\0' && !floe_jscan_take(&js, '}'));
}

static void test_number_limit(void)
{
    char num[FLOE_JSCAN_NUMBER_MAX + 8];
    struct floe_jscan js;
    double d = 0;

    /* "1" then zeros: exactly the limit, then one more */
    memset(num, '0', sizeof(num));
    num[0] = '1';
    num[FLOE_JSCAN_NUMBER_MAX] = '\0';
    floe_jscan_init(&js, num, strlen(num), 0);
    CHECK(floe_jscan_number(&js, &d) == FLOE_OK && d == 1e62);
    floe_jscan_init(&js, num, strlen(num), 0);
    CHECK(floe_jscan_number(&js, NULL) == FLOE_OK &&
          floe_jscan_end(&js) == FLOE_OK);
    num[FLOE_JSCAN_NUMBER_MAX] = '0';
    num[FLOE_JSCAN_NUMBER_MAX + 1] = '\0';
    floe_jscan_init(&js, num, strlen(num), 0);
    CHECK(floe_jscan_number(&js, NULL) == FLOE_EINVAL);
    CHECK(js.p == num); /* nothing taken */
    /* checked without a value: the grammar still holds */
    floe_jscan_init(&js, " -0.5e-3,", 9, 0);
    CHECK(floe_jscan_number(&js, NULL) == FLOE_OK && *js.p == ',');
    floe_jscan_init(&js, "-.5", 3, 0);
    CHECK(floe_jscan_number(&js, NULL) == FLOE_EINVAL);
    /* the text need not be NUL-terminated: "12" of "123" */
    floe_jscan_init(&js, "123", 2, 0);
    CHECK(floe_jscan_number(&js, &d) == FLOE_OK && d == 12.0);
}

/* ---- random strings against a byte-by-byte reference ---- */

static unsigned seed = 777u; /* fixed: a failure reproduces */

static unsigned rnd(unsigned n)
{
    return (unsigned)rand_r(&seed) % n;
}

/* The reference: one string at `p` (its opening quote) validated the
 * slow, obvious way; returns its end (after the quote) or NULL. */
static const char *ref_string(const char *p, const char *end, unsigned fl,
                              bool *esc)
{
    *esc = false;
    if (p >= end || *p++ != '"')
        return NULL;
    while (p < end) {
        unsigned char c = (unsigned char)*p++;
        int i;
        unsigned v = 0;

        if (c == '"')
            return p;
        if (c < 0x20 && !(fl & FLOE_JSCAN_RAW_CTRL))
            return NULL;
        if (c != '\\')
            continue;
        *esc = true;
        if (p == end)
            return NULL;
        c = (unsigned char)*p++;
        if (c == 'u') {
            for (i = 0; i < 4; i++, p++) {
                if (p == end || floe_jscan_hexval(*p) < 0)
                    return NULL;
                v = v << 4 | (unsigned)floe_jscan_hexval(*p);
            }
            if (v >= 0xD800 && v <= 0xDFFF && (fl & FLOE_JSCAN_NO_SURROGATE))
                return NULL;
        } else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
            return NULL;
        }
    }
    return NULL;
}

static void test_random_strings(void)
{
    static const char *const bits[] = {
        "a", "b", "\"", "\\", "\\\\", "\\\"", "\\n", "\\u", "00", "d8",
        "DC", "e9", "\x01", "\x1f", " ", "\xc3\xa9", "\\x", "g",
    };
    static const unsigned flags[] = { 0, FLOE_JSCAN_RAW_CTRL,
                                      FLOE_JSCAN_NO_SURROGATE,
                                      FLOE_JSCAN_CJSON };
    char text[256];
    int iter, accepted = 0, escaped = 0, mismatches = 0;

    for (iter = 0; iter < 40000; iter++) {
        unsigned fl = flags[rnd(4)], parts = rnd(4), i, j;
        size_t len = 0;
        const char *p, *end, *want;
        struct floe_jscan js;

        /* up to three strings, separated by commas; a body of random bits */
        for (i = 0; i < 1 + parts; i++) {
            unsigned n = rnd(8);

            if (i)
                text[len++] = ',';
            text[len++] = '"';
            for (j = 0; j < n; j++) {
                const char *b = bits[rnd(sizeof(bits) / sizeof(bits[0]))];

                memcpy(text + len, b, strlen(b));
                len += strlen(b);
            }
            if (rnd(8) != 0)
                text[len++] = '"';
        }
        end = text + len;
        floe_jscan_init(&js, text, len, fl);
        /* read strings while the reference can; compare each one */
        for (p = text, i = 0; p < end; i++) {
            struct floe_jstr s;
            bool esc;
            int rc;

            if (i > 0) {
                if (*p != ',' || !floe_jscan_take(&js, ','))
                    break;
                p++;
            }
            want = ref_string(p, end, fl, &esc);
            rc = floe_jscan_string(&js, &s);
            if ((want != NULL) != (rc == FLOE_OK) ||
                (want != NULL && (js.p != want || s.s != p + 1 ||
                                  s.len != (size_t)(want - p - 2) ||
                                  s.esc != esc))) {
                if (mismatches++ < 5)
                    fprintf(stderr, "  mismatch (flags %u, string %u): "
                            "%.*s\n", fl, i, (int)len, text);
                break;
            }
            if (want == NULL)
                break;
            accepted++;
            escaped += esc;
            p = want;
        }
    }
    CHECK(mismatches == 0);
    CHECK(accepted > 1000 && escaped > 100); /* both paths were run */
}

/* Found by tests/fuzz/fuzz_jscan: an escaped string never matched a
 * literal of 64 bytes or more (the decode went into a 64-byte scratch). */
static void test_eq_long_literal(void)
{
    char lit[200], text[220];
    struct floe_jscan js;
    struct floe_jstr s;

    memset(lit, 'k', sizeof(lit) - 1);
    lit[sizeof(lit) - 1] = '\0';
    snprintf(text, sizeof(text), "\"\\u006b%s\"", lit + 1);
    floe_jscan_init(&js, text, strlen(text), 0);
    CHECK(floe_jscan_string(&js, &s) == FLOE_OK && s.esc);
    CHECK(floe_jstr_eq(&s, lit));
    lit[sizeof(lit) - 2] = 'x';
    CHECK(!floe_jstr_eq(&s, lit));
    lit[sizeof(lit) - 2] = '\0';
    CHECK(!floe_jstr_eq(&s, lit));
}

FLOE_TESTS({ "skip_table", test_skip_table },
           { "depth_bounded", test_depth_bounded },
           { "strings_decode", test_strings_decode },
           { "escape_flags", test_escape_flags },
           { "keys_and_numbers", test_keys_and_numbers },
           { "number_limit", test_number_limit },
           { "random_strings", test_random_strings },
           { "eq_long_literal", test_eq_long_literal });
