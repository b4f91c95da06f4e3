/* test_firehose_compress.c - unit tests of firehose object compression:
 * CRC-32C check values, the snappy framing layout (stream identifier,
 * chunk types, masked CRCs) decoded back with libsnappy, the Hadoop block
 * layout, a ZIP archive parsed field by field and inflated with zlib, and
 * a gzip round trip; sizes around the chunk boundaries. */
#include <string.h>

#include <libdeflate.h>
#include <zlib.h>

#include "core/buf.h"
#include "firehose/compress.h"
#include "firehose/snappyapi.h" /* snappy_uncompress (loaded) */
#include "test.h"

static uint32_t rd_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t rd_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* Input of n bytes: text lines, with a random-ish tail when `noisy`. */
static char *make_input(size_t n, int noisy)
{
    char *p = malloc(n + 1);
    uint32_t x = 12345;
    size_t i;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = noisy ? (char)(x >> 16) : (char)("order-line-\n"[i % 12]);
    }
    return p;
}

static void test_crc32c(void)
{
    /* RFC 3720 B.4 / the usual check value. */
    CHECK(floe_fh_crc32c("123456789", 9) == 0xe3069283u);
    CHECK(floe_fh_crc32c("", 0) == 0);
    {
        unsigned char z[32];

        memset(z, 0, sizeof(z));
        CHECK(floe_fh_crc32c(z, 32) == 0x8a9136aau);
    }
    CHECK(floe_fh_snappy_mask(0) == 0xa282ead8u);
}

static const size_t sizes[] = { 0, 1, 100, 65535, 65536, 65537, 200000,
                                (128 << 10) + 1, 1 << 20 };

static void test_snappy_framed(void)
{
    size_t si;
    int noisy;

    for (noisy = 0; noisy < 2; noisy++)
        for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            size_t n = sizes[si], off = 10, got_total = 0;
            char *in = make_input(n, noisy);
            const unsigned char *p;
            struct floe_buf out;

            floe_buf_init(&out, FLOE_BUF_UNLIMITED);
            CHECK(floe_fh_compress(FLOE_FH_SNAPPY, NULL, in, n, "x", 0,
                                   &out) == FLOE_OK);
            p = (const unsigned char *)out.data;
            CHECK(out.len >= 10 && memcmp(p, "\xff\x06\x00\x00sNaPpY", 10) ==
                                       0);
            while (off < out.len) {
                size_t clen = (size_t)p[off + 1] | (size_t)p[off + 2] << 8 |
                              (size_t)p[off + 3] << 16;
                char raw[65536];
                size_t rlen = sizeof(raw);

                CHECK(clen >= 4 && off + 4 + clen <= out.len);
                if (p[off] == 0x00) {
                    CHECK(snappy_uncompress((const char *)p + off + 8,
                                            clen - 4, raw, &rlen) ==
                          SNAPPY_OK);
                } else {
                    CHECK(p[off] == 0x01);
                    rlen = clen - 4;
                    memcpy(raw, p + off + 8, rlen);
                }
                CHECK(rlen <= 65536 && got_total + rlen <= n);
                CHECK(memcmp(raw, in + got_total, rlen) == 0);
                CHECK(rd_le32(p + off + 4) ==
                      floe_fh_snappy_mask(floe_fh_crc32c(raw, rlen)));
                got_total += rlen;
                off += 4 + clen;
            }
            CHECK(off == out.len && got_total == n);
            floe_buf_free(&out);
            free(in);
        }
}

static void test_hadoop_snappy(void)
{
    size_t si;

    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si], off = 0, got_total = 0;
        char *in = make_input(n, si % 2), *raw = malloc(256 << 10);
        const unsigned char *p;
        struct floe_buf out;

        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        CHECK(floe_fh_compress(FLOE_FH_HADOOP_SNAPPY, NULL, in, n, "x", 0,
                               &out) == FLOE_OK);
        p = (const unsigned char *)out.data;
        while (off + 8 <= out.len) {
            size_t ulen = rd_be32(p + off), clen = rd_be32(p + off + 4);
            size_t rlen = 256 << 10;

            CHECK(ulen <= (256 << 10) && off + 8 + clen <= out.len);
            CHECK(snappy_uncompress((const char *)p + off + 8, clen, raw,
                                    &rlen) == SNAPPY_OK);
            CHECK(rlen == ulen && memcmp(raw, in + got_total, rlen) == 0);
            got_total += rlen;
            off += 8 + clen;
        }
        CHECK(off == out.len && got_total == n);
        floe_buf_free(&out);
        free(in);
        free(raw);
    }
}

static void test_zip_layout(void)
{
    struct libdeflate_compressor *z = libdeflate_alloc_compressor(1);
    size_t n = 300000, nl = strlen("orders-1-x");
    char *in = make_input(n, 0), *back = malloc(n);
    const unsigned char *p, *c, *e;
    struct floe_buf out;
    uint32_t clen, cdo;
    z_stream zs;

    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    /* 2026-11-24T19:56:10Z */
    CHECK(floe_fh_compress(FLOE_FH_ZIP, z, in, n, "orders-1-x",
                           1795550170000LL, &out) == FLOE_OK);
    p = (const unsigned char *)out.data;
    e = p + out.len - 22;
    CHECK(rd_le32(p) == 0x04034b50u);
    CHECK(p[8] == 8 && p[9] == 0);                       /* deflate */
    CHECK(rd_le32(p + 14) == (uint32_t)crc32(0, (void *)in, (uInt)n));
    clen = rd_le32(p + 18);
    CHECK(rd_le32(p + 22) == n);
    CHECK(memcmp(p + 30, "orders-1-x", nl) == 0);
    /* DOS date: 2026-11-24 -> (46 << 9) | (11 << 5) | 24; time 19:56:10 */
    CHECK((p[12] | p[13] << 8) == ((46 << 9) | (11 << 5) | 24));
    CHECK((p[10] | p[11] << 8) == ((19 << 11) | (56 << 5) | 5));
    CHECK(rd_le32(e) == 0x06054b50u);
    CHECK((e[10] | e[11] << 8) == 1);
    cdo = rd_le32(e + 16);
    CHECK(cdo == 30 + nl + clen);
    c = p + cdo;
    CHECK(rd_le32(c) == 0x02014b50u);
    CHECK(rd_le32(c + 16) == rd_le32(p + 14) && rd_le32(c + 20) == clen);
    CHECK(rd_le32(c + 42) == 0 && memcmp(c + 46, "orders-1-x", nl) == 0);
    CHECK(rd_le32(e + 12) == 46 + nl && cdo + 46 + nl + 22 == out.len);
    memset(&zs, 0, sizeof(zs));
    CHECK(inflateInit2(&zs, -15) == Z_OK);
    zs.next_in = (Bytef *)p + 30 + nl;
    zs.avail_in = clen;
    zs.next_out = (Bytef *)back;
    zs.avail_out = (uInt)n;
    CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
    CHECK(zs.total_out == n && memcmp(back, in, n) == 0);
    inflateEnd(&zs);
    CHECK(strcmp(floe_fh_compression_ext(FLOE_FH_ZIP), ".zip") == 0);
    CHECK(strcmp(floe_fh_compression_ext(FLOE_FH_SNAPPY), ".snappy") == 0);
    CHECK(strcmp(floe_fh_compression_ext(FLOE_FH_HADOOP_SNAPPY),
                 ".hsnappy") == 0);
    CHECK(strcmp(floe_fh_compression_ext(FLOE_FH_UNCOMPRESSED), "") == 0);
    CHECK(floe_fh_compress(FLOE_FH_UNCOMPRESSED, z, in, n, "x", 0, &out) ==
          FLOE_EINVAL);
    floe_buf_free(&out);
    libdeflate_free_compressor(z);
    free(in);
    free(back);
}

static void test_gzip(void)
{
    struct libdeflate_compressor *z = libdeflate_alloc_compressor(1);
    size_t n = 100000;
    char *in = make_input(n, 0), *back = malloc(n);
    struct floe_buf out;
    uLongf blen = n;
    z_stream zs;

    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_fh_compress(FLOE_FH_GZIP, z, in, n, "x", 0, &out) == FLOE_OK);
    CHECK(out.len > 18 && (unsigned char)out.data[0] == 0x1f &&
          (unsigned char)out.data[1] == 0x8b);
    memset(&zs, 0, sizeof(zs));
    CHECK(inflateInit2(&zs, 16 + 15) == Z_OK);
    zs.next_in = (Bytef *)out.data;
    zs.avail_in = (uInt)out.len;
    zs.next_out = (Bytef *)back;
    zs.avail_out = (uInt)blen;
    CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
    CHECK(zs.total_out == n && memcmp(back, in, n) == 0);
    inflateEnd(&zs);
    floe_buf_free(&out);
    libdeflate_free_compressor(z);
    free(in);
    free(back);
}

FLOE_TESTS({ "crc32c", test_crc32c }, { "snappy_framed", test_snappy_framed },
           { "hadoop_snappy", test_hadoop_snappy },
           { "zip_layout", test_zip_layout }, { "gzip", test_gzip });
