/* test_b64.c - the fast base64 decoder (core/b64.c: tables, AVX2 blocks)
 * must accept exactly what a plain reference decoder accepts and write
 * the same bytes:
 * round trips of every length around the 32-character vector blocks,
 * every byte value at every position of a long input, padding rules, and
 * random strings over a biased alphabet. */
#include <stdbool.h>
#include <string.h>

#include "core/b64.h"
#include "core/util.h"
#include "test.h"

static unsigned seed = 20261124u; /* fixed: a failure reproduces */

static unsigned rnd(unsigned n)
{
    return (unsigned)rand_r(&seed) % n;
}

/* The reference: one group at a time, straight from the definition. */
static int ref_dec(const char *src, size_t n, unsigned char *o, size_t *len)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, k = 0;
    int pad = 0;

    if (n % 4 != 0)
        return FLOE_EINVAL;
    if (n >= 1 && src[n - 1] == '=')
        pad++;
    if (n >= 2 && src[n - 2] == '=')
        pad++;
    for (i = 0; i < n; i += 4) {
        int last = i + 4 == n, v[4], j;

        for (j = 0; j < 4; j++) {
            const char *p = src[i + j] != '\0' ? strchr(a, src[i + j]) : NULL;

            if (last && j >= 4 - pad)
                v[j] = 0;
            else if (p == NULL)
                return FLOE_EINVAL;
            else
                v[j] = (int)(p - a);
        }
        o[k++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (!(last && pad == 2))
            o[k++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        if (!(last && pad >= 1))
            o[k++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    *len = k;
    return FLOE_OK;
}

/* Both decoders on src; false (and a message) when they disagree. */
static bool same(const char *src, size_t n)
{
    static unsigned char a[4096 + 8], b[4096 + 8];
    size_t la = 0, lb = 0;
    int ra, rb;

    if (n > 4096)
        return false;
    ra = ref_dec(src, n, a, &la);
    rb = floe_b64_dec(src, n, b, &lb);
    if (ra != rb || (ra == FLOE_OK && (la != lb || memcmp(a, b, la) != 0))) {
        fprintf(stderr, "  differ (%d/%d, %zu/%zu) on %.*s\n", ra, rb, la,
                lb, (int)n, src);
        return false;
    }
    return true;
}

static void test_round_trip_lengths(void)
{
    unsigned char raw[400], out[600];
    char enc[600];
    size_t n, len, got;

    for (n = 0; n < sizeof(raw); n++) {
        size_t i;

        for (i = 0; i < n; i++)
            raw[i] = (unsigned char)rnd(256);
        len = floe_b64_enc(raw, n, enc);
        CHECK(floe_b64_dec(enc, len, out, &got) == FLOE_OK);
        CHECK(got == n && memcmp(out, raw, n) == 0);
        CHECK(same(enc, len));
    }
}

/* Each byte value at each position of a 200-character valid input. */
static void test_every_byte_everywhere(void)
{
    char src[200];
    size_t pos, i;
    int c, bad = 0;

    for (pos = 0; pos < sizeof(src); pos++) {
        for (c = 0; c < 256; c++) {
            for (i = 0; i < sizeof(src); i++)
                src[i] = "QUJDREVGR0hJ+/9z"[i % 16];
            src[pos] = (char)c;
            if (!same(src, sizeof(src)))
                bad++;
        }
    }
    CHECK(bad == 0);
}

static void test_padding_rules(void)
{
    static const struct {
        const char *s;
        int rc;
        const char *want;
    } cases[] = {
        { "", FLOE_OK, "" },
        { "eA==", FLOE_OK, "x" },
        { "eHk=", FLOE_OK, "xy" },
        { "eHl6", FLOE_OK, "xyz" },
        { "eB==", FLOE_OK, "x" },  /* non-zero padding bits: ignored */
        { "e===", FLOE_EINVAL, NULL },
        { "====", FLOE_EINVAL, NULL },
        { "eA=a", FLOE_EINVAL, NULL },
        { "e=A=", FLOE_EINVAL, NULL },
        { "eA==eA==", FLOE_EINVAL, NULL }, /* '=' before the last group */
        { "eA=", FLOE_EINVAL, NULL },
        { "eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eHl6eA==",
          FLOE_OK, "xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxyzx" },
    };
    unsigned char out[128];
    size_t i, got;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = floe_b64_dec(cases[i].s, strlen(cases[i].s), out, &got);

        if (rc != cases[i].rc ||
            (rc == FLOE_OK && (got != strlen(cases[i].want) ||
                               memcmp(out, cases[i].want, got) != 0))) {
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].s);
            CHECK(0);
        }
        CHECK(same(cases[i].s, strlen(cases[i].s)));
    }
}

static void test_random_strings(void)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        "=-_ \n\"\\";
    char src[300];
    int iter, bad = 0;

    for (iter = 0; iter < 100000; iter++) {
        size_t n = 4 * rnd(75), i;
        unsigned mode = rnd(3);

        for (i = 0; i < n; i++)
            src[i] = mode == 0 ? (char)rnd(256)
                               : alpha[rnd(mode == 1 ? 64 : sizeof(alpha) -
                                                               1)];
        if (mode == 1 && n > 0 && rnd(3) == 0)
            src[n - 1] = '=';
        if (mode == 1 && n > 1 && rnd(6) == 0)
            src[n - 2] = '=';
        if (!same(src, n))
            bad++;
    }
    CHECK(bad == 0);
}

FLOE_TESTS({ "round_trip_lengths", test_round_trip_lengths },
           { "every_byte_everywhere", test_every_byte_everywhere },
           { "padding_rules", test_padding_rules },
           { "random_strings", test_random_strings });
