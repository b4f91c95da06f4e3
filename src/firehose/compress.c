/* compress.c - GZIP, ZIP, Snappy (framed) and HADOOP_SNAPPY encoders.
 * Each builds the whole object in memory (buffers are <= 136 MiB). ZIP is
 * written with sizes and CRC in the local header (no data descriptor),
 * version 2.0, UTF-8 name flag, then the central directory and the end
 * record. Snappy chunks fall back to the "uncompressed" chunk type when
 * compression does not help, as the framing spec allows. libsnappy is
 * loaded on the first Snappy object (snappyapi.h), not at startup. */
#define FLOE_LOG_MOD "firehose.compress"

#include "firehose/compress.h"

#include <string.h>
#include <time.h>

#include <libdeflate.h>
#include <zlib.h>

#include "core/log.h"
#include "firehose/snappyapi.h"

#define SNAPPY_CHUNK 65536        /* framing: max uncompressed per chunk */
#define HSNAPPY_BLOCK (128 << 10) /* Hadoop: below its 256 KiB buffer */

const char *floe_fh_compression_ext(enum floe_fh_compression c)
{
    switch (c) {
    case FLOE_FH_GZIP: return ".gz";
    case FLOE_FH_ZIP: return ".zip";
    case FLOE_FH_SNAPPY: return ".snappy";
    case FLOE_FH_HADOOP_SNAPPY: return ".hsnappy";
    default: return "";
    }
}

uint32_t floe_fh_crc32c(const void *p, size_t n)
{
    static uint32_t table[256];
    static int ready; /* benign race: every thread computes the same */
    const unsigned char *b = p;
    uint32_t crc = 0xffffffffu;
    size_t i;

    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        uint32_t k, v;
        int j;

        for (k = 0; k < 256; k++) {
            v = k;
            for (j = 0; j < 8; j++)
                v = v & 1 ? (v >> 1) ^ 0x82f63b78u : v >> 1;
            table[k] = v;
        }
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    for (i = 0; i < n; i++)
        crc = table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

uint32_t floe_fh_snappy_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static void le16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
    le16(p, v);
    le16(p + 2, v >> 16);
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int gzip(struct libdeflate_compressor *z, const void *in, size_t n,
                struct floe_buf *out)
{
    size_t bound = libdeflate_gzip_compress_bound(z, n), got;
    int rc = floe_buf_reserve(out, bound);

    if (rc != FLOE_OK)
        return rc;
    got = libdeflate_gzip_compress(z, in, n, out->data, bound);
    if (got == 0)
        return FLOE_ENOMEM;
    out->len = got;
    return FLOE_OK;
}

/* MS-DOS time and date (UTC) of `ms`. */
static void dos_time(int64_t ms, uint16_t *t, uint16_t *d)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    if (tm.tm_year < 80) { /* DOS dates start in 1980 */
        *t = 0;
        *d = (1 << 5) | 1;
        return;
    }
    *t = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
    *d = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 |
                    tm.tm_mday);
}

static uint32_t crc32_all(const void *in, size_t n)
{
    const unsigned char *b = in;
    uLong crc = crc32(0, NULL, 0);

    while (n > 0) { /* zlib takes uInt lengths */
        size_t k = n > (1u << 30) ? (1u << 30) : n;

        crc = crc32(crc, b, (uInt)k);
        b += k;
        n -= k;
    }
    return (uint32_t)crc;
}

static int zip(struct libdeflate_compressor *z, const void *in, size_t n,
               const char *entry, int64_t mtime_ms, struct floe_buf *out)
{
    size_t nlen = strlen(entry), lh = 30 + nlen, bound, clen, cdo;
    uint32_t crc = crc32_all(in, n);
    uint16_t dt, dd;
    unsigned char *h, *c;
    int rc;

    if (n > 0xfffffffeu || nlen > 0xffff)
        return FLOE_ETOOBIG; /* would need ZIP64 */
    dos_time(mtime_ms, &dt, &dd);
    bound = libdeflate_deflate_compress_bound(z, n);
    rc = floe_buf_reserve(out, lh + bound + 46 + nlen + 22);
    if (rc != FLOE_OK)
        return rc;
    clen = libdeflate_deflate_compress(z, in, n, out->data + lh, bound);
    if (clen == 0 || clen > 0xfffffffeu)
        return FLOE_ETOOBIG;
    /* Local file header. */
    h = (unsigned char *)out->data;
    le32(h, 0x04034b50u);
    le16(h + 4, 20);          /* version needed: 2.0 (deflate) */
    le16(h + 6, 1u << 11);    /* flags: UTF-8 name */
    le16(h + 8, 8);           /* method: deflate */
    le16(h + 10, dt);
    le16(h + 12, dd);
    le32(h + 14, crc);
    le32(h + 18, (uint32_t)clen);
    le32(h + 22, (uint32_t)n);
    le16(h + 26, (uint32_t)nlen);
    le16(h + 28, 0);          /* extra length */
    memcpy(h + 30, entry, nlen);
    /* Central directory: one entry. */
    cdo = lh + clen;
    c = h + cdo;
    le32(c, 0x02014b50u);
    le16(c + 4, 3u << 8 | 20); /* made by: UNIX, 2.0 */
    le16(c + 6, 20);
    le16(c + 8, 1u << 11);
    le16(c + 10, 8);
    le16(c + 12, dt);
    le16(c + 14, dd);
    le32(c + 16, crc);
    le32(c + 20, (uint32_t)clen);
    le32(c + 24, (uint32_t)n);
    le16(c + 28, (uint32_t)nlen);
    le16(c + 30, 0);          /* extra */
    le16(c + 32, 0);          /* comment */
    le16(c + 34, 0);          /* disk */
    le16(c + 36, 0);          /* internal attributes */
    le32(c + 38, 0100644u << 16); /* external: regular file, rw-r--r-- */
    le32(c + 42, 0);          /* local header offset */
    memcpy(c + 46, entry, nlen);
    /* End of central directory. */
    c += 46 + nlen;
    le32(c, 0x06054b50u);
    le16(c + 4, 0);
    le16(c + 6, 0);
    le16(c + 8, 1);
    le16(c + 10, 1);
    le32(c + 12, (uint32_t)(46 + nlen));
    le32(c + 16, (uint32_t)cdo);
    le16(c + 20, 0);
    out->len = cdo + 46 + nlen + 22;
    out->data[out->len] = '\0';
    return FLOE_OK;
}

/* Load libsnappy on first use; its error (what was tried, what to do) is
 * logged here because floe_fh_compress() returns only a code. */
static int snappy_ready(void)
{
    char err[FLOE_ERR_LEN];
    int rc = floe_snappyapi_load(err);

    if (rc != FLOE_OK)
        floe_log_error("%s", err);
    return rc;
}

/* Snappy framing format. */
static int snappy_framed(const void *in, size_t n, struct floe_buf *out)
{
    static const unsigned char ident[10] = { 0xff, 6, 0, 0, 's', 'N', 'a',
                                             'P', 'p', 'Y' };
    const char *p = in;
    size_t max, chunks = n / SNAPPY_CHUNK + 1;
    int rc = snappy_ready();

    if (rc != FLOE_OK)
        return rc;
    max = snappy_max_compressed_length(SNAPPY_CHUNK);
    rc = floe_buf_reserve(out, sizeof(ident) + chunks * (8 + max));
    if (rc != FLOE_OK)
        return rc;
    memcpy(out->data, ident, sizeof(ident));
    out->len = sizeof(ident);
    while (n > 0) {
        size_t k = n > SNAPPY_CHUNK ? SNAPPY_CHUNK : n, clen = max;
        unsigned char *h = (unsigned char *)out->data + out->len;
        uint32_t crc = floe_fh_snappy_mask(floe_fh_crc32c(p, k));

        if (snappy_compress(p, k, (char *)h + 8, &clen) != SNAPPY_OK)
            return FLOE_ENOMEM;
        if (clen >= k) { /* incompressible: store it */
            h[0] = 0x01;
            memcpy(h + 8, p, k);
            clen = k;
        } else {
            h[0] = 0x00;
        }
        h[1] = (unsigned char)(clen + 4);
        h[2] = (unsigned char)((clen + 4) >> 8);
        h[3] = (unsigned char)((clen + 4) >> 16);
        le32(h + 4, crc);
        out->len += 8 + clen;
        p += k;
        n -= k;
    }
    out->data[out->len] = '\0';
    return FLOE_OK;
}

/* Hadoop BlockCompressorStream with SnappyCodec: per block BE32
 * uncompressed length, then one BE32 compressed length + raw snappy. */
static int snappy_hadoop(const void *in, size_t n, struct floe_buf *out)
{
    const char *p = in;
    size_t max, blocks = n / HSNAPPY_BLOCK + 1;
    int rc = snappy_ready();

    if (rc != FLOE_OK)
        return rc;
    max = snappy_max_compressed_length(HSNAPPY_BLOCK);
    rc = floe_buf_reserve(out, blocks * (8 + max));
    if (rc != FLOE_OK)
        return rc;
    out->len = 0;
    while (n > 0) {
        size_t k = n > HSNAPPY_BLOCK ? HSNAPPY_BLOCK : n, clen = max;
        unsigned char *h = (unsigned char *)out->data + out->len;

        if (snappy_compress(p, k, (char *)h + 8, &clen) != SNAPPY_OK)
            return FLOE_ENOMEM;
        be32(h, (uint32_t)k);
        be32(h + 4, (uint32_t)clen);
        out->len += 8 + clen;
        p += k;
        n -= k;
    }
    out->data[out->len] = '\0';
    return FLOE_OK;
}

int floe_fh_compress(enum floe_fh_compression c,
                     struct libdeflate_compressor *z, const void *in,
                     size_t n, const char *entry, int64_t mtime_ms,
                     struct floe_buf *out)
{
    floe_buf_reset(out);
    switch (c) {
    case FLOE_FH_GZIP: return gzip(z, in, n, out);
    case FLOE_FH_ZIP: return zip(z, in, n, entry, mtime_ms, out);
    case FLOE_FH_SNAPPY: return snappy_framed(in, n, out);
    case FLOE_FH_HADOOP_SNAPPY: return snappy_hadoop(in, n, out);
    default: return FLOE_EINVAL;
    }
}
