/* test_agent_utf8.c - UTF-8 check, repair and JSON escaping: a table of
 * edge cases, then random inputs against a slow reference built by
 * encoding every code point (so it shares no logic with utf8.c). */
#include <stdint.h>
#include <string.h>

#include "agent/utf8.h"
#include "test.h"

#define FFFD "\xef\xbf\xbd"

static void test_json_str_table(void)
{
    static const struct {
        const char *in, *want;
        size_t n;
    } cases[] = {
        { "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80", "\"Zo\xc3\xab \xe2\x82"
          "\xac \xf0\x9f\x98\x80\"", 0 },
        { "bad \xc3 x", "\"bad " FFFD " x\"", 0 },
        { "\xe2\x82" "A\xe2\x82", "\"" FFFD "A" FFFD "\"", 0 },
        { "\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"", 0 },
        { "\xc0\xaf\xc1\xbf", "\"" FFFD FFFD FFFD FFFD "\"", 0 },
        { "\xf4\x8f\xbf\xbf\xf4\x90\x80\x80", "\"\xf4\x8f\xbf\xbf" FFFD FFFD
          FFFD FFFD "\"", 0 },
        { "\xf0\x9f\x98" "0123456789", "\"" FFFD "0123456789\"", 0 },
        { "a\0b", "\"a\\u0000b\"", 3 },
        { "\x1f\x7f\b\f\r\n\t\"\\/", "\"\\u001f\x7f\\b\\f\\r\\n\\t\\\"\\\\/\"",
          0 },
        { "", "\"\"", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_buf out;
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].in);

        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        CHECK(floe_utf8_json_str(&out, cases[i].in, n) == FLOE_OK);
        if (strcmp(out.data, cases[i].want) != 0) {
            fprintf(stderr, "  case %zu: got %s\n", i, out.data);
            CHECK(0);
        }
        floe_buf_free(&out);
    }
}

/* Near the cap the worst case (6 bytes a byte) does not fit, but what is
 * really written may. */
static void test_near_cap(void)
{
    struct floe_buf out;

    floe_buf_init(&out, 9);
    CHECK(floe_buf_adds(&out, "ab") == FLOE_OK);
    CHECK(floe_utf8_json_str(&out, "c\xff", 2) == FLOE_OK);
    CHECK(strcmp(out.data, "ab\"c" FFFD "\"") == 0);
    CHECK(floe_utf8_json_str(&out, "", 0) == FLOE_ETOOBIG);
    CHECK(floe_utf8_repair(&out, "x", 1) == FLOE_ETOOBIG);
    CHECK(out.len == 8 && strcmp(out.data, "ab\"c" FFFD "\"") == 0);
    CHECK(floe_utf8_json_len("a\"\x01\xc3\xa9\xe2\x82", 7) ==
          1 + 2 + 6 + 2 + 3);
    floe_buf_free(&out);
}

/* The reference: which 1..3-byte strings begin a well-formed sequence,
 * and which 2..3-byte ones are one, from encoding every scalar value. */
static unsigned char pre1[256], full2[1 << 16], pre2[1 << 16];
static unsigned char pre3[1 << 21], full3[1 << 21]; /* bit sets */

static void ref_init(void)
{
    uint32_t cp;

    for (cp = 0x80; cp <= 0x10ffff; cp++) {
        unsigned char b[4];
        uint32_t k;

        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        if (cp < 0x800) {
            b[0] = (unsigned char)(0xc0 | cp >> 6);
            b[1] = (unsigned char)(0x80 | (cp & 0x3f));
            pre1[b[0]] = 1;
            full2[b[0] << 8 | b[1]] = 1;
        } else if (cp < 0x10000) {
            b[0] = (unsigned char)(0xe0 | cp >> 12);
            b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
            b[2] = (unsigned char)(0x80 | (cp & 0x3f));
            pre1[b[0]] = 1;
            pre2[b[0] << 8 | b[1]] = 1;
            k = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
            full3[k >> 3] |= (unsigned char)(1u << (k & 7));
        } else {
            b[0] = (unsigned char)(0xf0 | cp >> 18);
            b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
            b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
            pre1[b[0]] = 1;
            pre2[b[0] << 8 | b[1]] = 1;
            k = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
            pre3[k >> 3] |= (unsigned char)(1u << (k & 7));
        }
    }
}

static int bit(const unsigned char *set, uint32_t k)
{
    return set[k >> 3] >> (k & 7) & 1;
}

/* At s[0] >= 0x80: the length of the sequence there if valid, else 0 and
 * *bad = its maximal subpart. */
static size_t ref_seq(const unsigned char *s, size_t n, size_t *bad)
{
    uint32_t k2 = n >= 2 ? (uint32_t)s[0] << 8 | s[1] : 0;
    uint32_t k3 = n >= 3 ? k2 << 8 | s[2] : 0;

    *bad = 1;
    if (n >= 2 && full2[k2])
        return 2;
    if (n >= 3 && bit(full3, k3))
        return 3;
    if (n >= 4 && bit(pre3, k3) && (s[3] & 0xc0) == 0x80)
        return 4;
    if (n >= 3 && bit(pre3, k3))
        *bad = 3;
    else if (n >= 2 && pre2[k2])
        *bad = 2;
    return 0;
}

/* `s` as a JSON string into `out`; returns where the first invalid
 * sequence starts (n if none). */
static size_t ref_json(struct floe_buf *out, const unsigned char *s,
                       size_t n)
{
    size_t i = 0, l, bad, first_bad = n;
    char tmp[8];

    floe_buf_addc(out, '"');
    while (i < n) {
        if (s[i] >= 0x80) {
            l = ref_seq(s + i, n - i, &bad);
            floe_buf_add(out, l ? (const char *)s + i : FFFD, l ? l : 3);
            if (l == 0 && first_bad == n)
                first_bad = i;
            i += l ? l : bad;
        } else if (s[i] == '"' || s[i] == '\\') {
            snprintf(tmp, sizeof(tmp), "\\%c", s[i++]);
            floe_buf_adds(out, tmp);
        } else if (s[i] < 0x20) {
            switch (s[i]) {
            case '\b': floe_buf_adds(out, "\\b"); break;
            case '\t': floe_buf_adds(out, "\\t"); break;
            case '\n': floe_buf_adds(out, "\\n"); break;
            case '\f': floe_buf_adds(out, "\\f"); break;
            case '\r': floe_buf_adds(out, "\\r"); break;
            default:
                snprintf(tmp, sizeof(tmp), "\\u%04x", s[i]);
                floe_buf_adds(out, tmp);
            }
            i++;
        } else {
            floe_buf_addc(out, (char)s[i++]);
        }
    }
    floe_buf_addc(out, '"');
    return first_bad;
}

static void test_random_against_reference(void)
{
    /* Bytes that matter more often than chance would pick them. */
    static const unsigned char pick[] = {
        'a', 'b', ' ', '"', '\\', 0, '\n', 0x1f, 0x7f, 0x80, 0x8f, 0x90,
        0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee,
        0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff,
    };
    uint64_t x = 88172645463325252u;
    struct floe_buf got, want;
    unsigned char in[48];
    int iter, fails = 0;

    ref_init();
    floe_buf_init(&got, FLOE_BUF_UNLIMITED);
    floe_buf_init(&want, FLOE_BUF_UNLIMITED);
    for (iter = 0; iter < 200000 && fails < 5; iter++) {
        size_t n, i, valid;

        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        n = (size_t)(x % sizeof(in));
        for (i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[i] = x & 1 ? (unsigned char)(x >> 8)
                          : pick[(x >> 8) % sizeof(pick)];
        }
        floe_buf_reset(&got);
        floe_buf_reset(&want);
        floe_utf8_json_str(&got, (const char *)in, n);
        valid = ref_json(&want, in, n);
        if (got.len != want.len || memcmp(got.data, want.data, got.len) ||
            floe_utf8_valid((const char *)in, n) != valid) {
            fprintf(stderr, "  input of %zu bytes:", n);
            for (i = 0; i < n; i++)
                fprintf(stderr, " %02x", in[i]);
            fprintf(stderr, "\n  got  %s\n  want %s\n", got.data, want.data);
            fails++;
            CHECK(0);
        }
        /* repair = the JSON text less quotes and escapes, for inputs
         * without characters JSON escapes */
        if (memchr(in, '"', n) == NULL && memchr(in, '\\', n) == NULL &&
            valid < n) {
            size_t j, plain = 1;

            for (j = 0; j < n; j++)
                plain = plain && in[j] >= 0x20;
            if (plain) {
                floe_buf_reset(&got);
                floe_utf8_repair(&got, (const char *)in, n);
                CHECK(got.len == want.len - 2 &&
                      memcmp(got.data, want.data + 1, got.len) == 0 &&
                      floe_utf8_valid(got.data, got.len) == got.len);
            }
        }
    }
    floe_buf_free(&got);
    floe_buf_free(&want);
}

FLOE_TESTS({ "json_str_table", test_json_str_table },
           { "near_cap", test_near_cap },
           { "random_against_reference", test_random_against_reference });
