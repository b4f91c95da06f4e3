/* test_warehouse_lines.c - floe_wh_scan, the streaming check of a batch
 * object: it agrees with floe_wh_inflate on what is valid (members, zero
 * padding, plain bytes), names truncation and damage, and refuses a line
 * over the limit or an object over the size limit with bounded memory and
 * time (a gzip bomb of 200 MiB of zeros). */
#include <string.h>
#include <sys/resource.h>

#include <zlib.h>

#include "core/buf.h"
#include "core/util.h"
#include "warehouse/lines.h"
#include "test.h"

/* Append `n` bytes of `p` gzip-compressed (one member) to `out`. */
static void gz(struct floe_buf *out, const void *p, size_t n)
{
    unsigned char buf[1 << 16];
    z_stream z;
    int rc;

    memset(&z, 0, sizeof(z));
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = (unsigned char *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    do {
        z.next_out = buf;
        z.avail_out = sizeof(buf);
        rc = deflate(&z, Z_FINISH);
        CHECK(floe_buf_add(out, buf, sizeof(buf) - z.avail_out) == FLOE_OK);
    } while (rc == Z_OK);
    CHECK(rc == Z_STREAM_END);
    deflateEnd(&z);
}

static const char text[] = "a\nbb\n\n{\"x\":1}\nlast-no-newline";

/* Valid objects: the same line count as the loader's rule. */
static void test_scan_valid(void)
{
    struct floe_buf in, two;
    struct floe_wh_scan sc;
    char err[FLOE_ERR_LEN];
    int64_t want = floe_wh_count_lines(text, sizeof(text) - 1);

    floe_buf_init(&in, 1 << 20);
    floe_buf_init(&two, 1 << 20);
    /* plain */
    CHECK(floe_wh_scan(text, sizeof(text) - 1, 100, 1000, &sc, err) ==
          FLOE_OK);
    CHECK(sc.lines == want && sc.bytes == (int64_t)sizeof(text) - 1);
    CHECK(sc.longest == strlen("last-no-newline"));
    CHECK(floe_wh_scan("", 0, 100, 1000, &sc, err) == FLOE_OK &&
          sc.lines == 0);
    /* one member */
    gz(&in, text, sizeof(text) - 1);
    CHECK(floe_wh_scan(in.data, in.len, 100, 1000, &sc, err) == FLOE_OK);
    CHECK(sc.lines == want);
    /* two members (a line continues across them), then zero padding */
    gz(&two, "x\ny", 3);
    gz(&two, "z\n", 2);
    CHECK(floe_buf_add(&two, "\0\0\0\0", 4) == FLOE_OK);
    CHECK(floe_wh_scan(two.data, two.len, 100, 1000, &sc, err) == FLOE_OK);
    CHECK(sc.lines == 2 && sc.bytes == 5 && sc.longest == 2);
    floe_buf_free(&in);
    floe_buf_free(&two);
}

/* Damaged gzip: every way of cutting or breaking it is FLOE_ECORRUPT with
 * a reason, never a success with fewer lines. */
static void test_scan_damage_table(void)
{
    static const struct {
        const char *name;
        int cut;    /* bytes cut off the end (-1: none) */
        int flip;   /* byte flipped, counted from the start (-1: none) */
        const char *append;
        const char *why;
    } cases[] = {
        { "cut in half", -2, -1, NULL, "truncated" },
        { "trailer cut", 3, -1, NULL, "truncated" },
        { "header only", -3, -1, NULL, "truncated" },
        { "deflate data", -1, 14, NULL, "bad gzip data" },
        { "crc", -1, -8, NULL, "bad gzip data" },
        { "garbage after", -1, -1, "junk", "garbage after gzip member" },
    };
    size_t c;

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct floe_buf in;
        char err[FLOE_ERR_LEN] = "";
        int before = test_failures;

        floe_buf_init(&in, 1 << 20);
        gz(&in, text, sizeof(text) - 1);
        if (cases[c].cut == -2)
            in.len /= 2;
        else if (cases[c].cut == -3)
            in.len = 10;
        else if (cases[c].cut > 0)
            in.len -= (size_t)cases[c].cut;
        if (cases[c].flip >= 0)
            in.data[cases[c].flip] ^= 0x55;
        else if (cases[c].flip < -1)
            in.data[in.len - (size_t)-cases[c].flip] ^= 0x55;
        if (cases[c].append != NULL)
            CHECK(floe_buf_adds(&in, cases[c].append) == FLOE_OK);
        CHECK(floe_wh_scan(in.data, in.len, 100, 1000, NULL, err) ==
              FLOE_ECORRUPT);
        CHECK(strstr(err, cases[c].why) != NULL);
        if (test_failures != before)
            fprintf(stderr, "  in case '%s': %s\n", cases[c].name, err);
        floe_buf_free(&in);
    }
}

/* The limits: a line one byte over, an object one byte over. */
static void test_scan_limits(void)
{
    struct floe_wh_scan sc;
    char err[FLOE_ERR_LEN];

    CHECK(floe_wh_scan("12345\n1234", 10, 5, 100, &sc, err) == FLOE_OK);
    CHECK(floe_wh_scan("123456\n", 7, 5, 100, &sc, err) == FLOE_ETOOBIG);
    CHECK(strstr(err, "line 1 is longer than 5 bytes") != NULL);
    CHECK(floe_wh_scan("1\n12\n123456", 11, 5, 100, &sc, err) ==
          FLOE_ETOOBIG);
    CHECK(strstr(err, "line 3 ") != NULL);
    CHECK(floe_wh_scan("1\n2\n", 4, 5, 4, &sc, err) == FLOE_OK);
    CHECK(floe_wh_scan("1\n2\n3", 5, 5, 4, &sc, err) == FLOE_ETOOBIG);
    CHECK(strstr(err, "inflates past 4 bytes") != NULL);
}

static long max_rss_kb(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* 200 MiB of zeros (one endless line) in about 200 KB: refused after the
 * line limit, in a bounded window; and 200 MiB of newlines (short lines)
 * by the size limit. */
static void test_scan_gzip_bomb(void)
{
    static const char fill[2] = { '\0', '\n' };
    int k;

    for (k = 0; k < 2; k++) {
        unsigned char *block = malloc(1 << 20), out[1 << 16];
        struct floe_buf in;
        struct floe_wh_scan sc;
        char err[FLOE_ERR_LEN];
        z_stream z;
        long rss0;
        int i, rc = Z_OK;

        CHECK(block != NULL);
        if (block == NULL)
            return;
        memset(block, fill[k], 1 << 20);
        floe_buf_init(&in, 1 << 20);
        memset(&z, 0, sizeof(z));
        CHECK(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) ==
              Z_OK);
        for (i = 0; i < 200; i++) {
            z.next_in = block;
            z.avail_in = 1 << 20;
            do {
                z.next_out = out;
                z.avail_out = sizeof(out);
                rc = deflate(&z, i == 199 ? Z_FINISH : Z_NO_FLUSH);
                CHECK(floe_buf_add(&in, out, sizeof(out) - z.avail_out) ==
                      FLOE_OK);
            } while (z.avail_out == 0);
        }
        CHECK(rc == Z_STREAM_END && in.len < 300 * 1024);
        deflateEnd(&z);
        free(block);
        rss0 = max_rss_kb();
        CHECK(floe_wh_scan(in.data, in.len, FLOE_WH_LINE_MAX,
                           k == 0 ? FLOE_WH_OBJECT_MAX : 64 << 20, &sc,
                           err) == FLOE_ETOOBIG);
        CHECK(strstr(err, k == 0 ? "longer than" : "inflates past") !=
              NULL);
        /* Stopped at the limit, not at the end of the 200 MiB. */
        CHECK(k == 0 ? sc.bytes <= (int64_t)FLOE_WH_LINE_MAX + (1 << 16)
                     : sc.bytes <= (64 << 20) + (1 << 16));
        CHECK(max_rss_kb() - rss0 < 4096); /* no inflated copy kept */
        /* No time limit here: sc.bytes above proves it stopped early, and
         * a timed check fails on a loaded machine or under TSan. */
        floe_buf_free(&in);
    }
}

FLOE_TESTS({ "scan_valid", test_scan_valid },
           { "scan_damage_table", test_scan_damage_table },
           { "scan_limits", test_scan_limits },
           { "scan_gzip_bomb", test_scan_gzip_bomb });
