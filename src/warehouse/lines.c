/* lines.c - decompress batch objects and split them into lines.
 * Whole-buffer libdeflate (several times faster than zlib streaming); the
 * output size is guessed from the gzip trailer and doubled on demand, and
 * concatenated members are decoded one after another. Line splitting is
 * memchr plus a UTF-8 check with an ASCII fast path; nothing is dropped.
 * floe_wh_scan checks an object before it is admitted to a batch: zlib
 * streaming into a fixed 64 KiB window, the same rules (members, zero
 * padding), plus the line and size limits. */
#define FLOE_LOG_MOD "warehouse.lines"
#include "warehouse/lines.h"

#include <libdeflate.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "core/log.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

static int is_gzip(const unsigned char *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* After a gzip member, at in[off]: 1 when another member starts there,
 * FLOE_OK at the end (trailing zero padding is tolerated, as gzip(1)
 * does), FLOE_ECORRUPT for anything else. */
static int next_member(const unsigned char *in, size_t len, size_t off,
                       char *err)
{
    size_t i = off;

    if (is_gzip(in + off, len - off))
        return 1;
    while (i < len && in[i] == 0)
        i++;
    return i == len ? FLOE_OK
                    : floe_err(err, FLOE_ECORRUPT,
                               "garbage after gzip member at byte %zu", off);
}

/* Decode one gzip member at in[0..n) onto the end of `out`. */
static int inflate_member(struct libdeflate_decompressor *dec,
                          const unsigned char *in, size_t n,
                          struct floe_buf *out, size_t *used, char *err)
{
    size_t guess, got = 0;
    enum libdeflate_result r;
    int rc;

    /* ISIZE of the last member is a fair first guess for a single one. */
    guess = n >= 18 ? (size_t)in[n - 4] | (size_t)in[n - 3] << 8 |
                          (size_t)in[n - 2] << 16 | (size_t)in[n - 1] << 24
                    : 0;
    if (guess < n * 2)
        guess = n * 4 + 1024;
    for (;;) {
        if (guess > out->max - out->len)
            guess = out->max - out->len;
        rc = floe_buf_reserve(out, guess);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "object inflates past %zu bytes",
                            out->max);
        r = libdeflate_gzip_decompress_ex(dec, in, n, out->data + out->len,
                                          guess, used, &got);
        if (r == LIBDEFLATE_SUCCESS)
            break;
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE)
            return floe_err(err, FLOE_ECORRUPT,
                            "bad gzip data (libdeflate result %d)", (int)r);
        if (out->max - out->len <= guess)
            return floe_err(err, FLOE_ETOOBIG,
                            "object inflates past %zu bytes", out->max);
        guess *= 2;
    }
    out->len += got;
    out->data[out->len] = '\0';
    return FLOE_OK;
}

int floe_wh_inflate(const void *data, size_t len, struct floe_buf *out,
                    char *err)
{
    const unsigned char *in = data;
    struct libdeflate_decompressor *dec;
    size_t off = 0, used = 0;
    int rc = FLOE_OK;

    if (!is_gzip(in, len)) {
        rc = floe_buf_add(out, data, len);
        return rc == FLOE_OK ? rc : floe_err(err, rc, "object too big");
    }
    dec = libdeflate_alloc_decompressor();
    if (dec == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    while (rc == FLOE_OK && off < len) {
        if (off > 0 && (rc = next_member(in, len, off, err)) != 1)
            break;
        rc = inflate_member(dec, in + off, len - off, out, &used, err);
        off += used;
    }
    libdeflate_free_decompressor(dec);
    return rc;
}

/* Account for out[0..n) in *sc; FLOE_ETOOBIG past a limit. `line` is the
 * length of the line under way. */
static int scan_chunk(struct floe_wh_scan *sc, size_t *line,
                      const unsigned char *out, size_t n, size_t max_line,
                      size_t max_bytes, char *err)
{
    const unsigned char *p = out, *end = out + n, *nl;

    sc->bytes += (int64_t)n;
    if ((size_t)sc->bytes > max_bytes)
        return floe_err(err, FLOE_ETOOBIG, "inflates past %zu bytes",
                        max_bytes);
    for (;;) {
        nl = memchr(p, '\n', (size_t)(end - p));
        *line += (size_t)((nl != NULL ? nl : end) - p);
        if (*line > sc->longest)
            sc->longest = *line;
        if (*line > max_line)
            return floe_err(err, FLOE_ETOOBIG,
                            "line %lld is longer than %zu bytes (stopped "
                            "after inflating %lld bytes)",
                            (long long)sc->lines + 1, max_line,
                            (long long)sc->bytes);
        if (nl == NULL)
            return FLOE_OK;
        sc->lines++;
        *line = 0;
        p = nl + 1;
    }
}

int floe_wh_scan(const void *data, size_t len, size_t max_line,
                 size_t max_bytes, struct floe_wh_scan *out, char *err)
{
    const unsigned char *in = data;
    unsigned char buf[64 * 1024];
    struct floe_wh_scan sc = { 0, 0, 0 };
    size_t line = 0, off = 0;
    z_stream z;
    bool open = false;
    int rc = FLOE_OK, zr;

    if (!is_gzip(in, len)) {
        rc = scan_chunk(&sc, &line, in, len, max_line, max_bytes, err);
        goto done;
    }
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto done;
    }
    open = true;
    while (rc == FLOE_OK && off < len) {
        if (off > 0 && (rc = next_member(in, len, off, err)) != 1)
            break;
        rc = FLOE_OK;
        if (inflateReset(&z) != Z_OK) {
            rc = floe_err(err, FLOE_ECORRUPT, "zlib reset failed");
            break;
        }
        do {
            size_t step = len - off < UINT_MAX / 2 ? len - off : UINT_MAX / 2;

            z.next_in = (unsigned char *)(uintptr_t)(in + off);
            z.avail_in = (uInt)step;
            z.next_out = buf;
            z.avail_out = sizeof(buf);
            zr = inflate(&z, Z_NO_FLUSH);
            off += step - z.avail_in;
            if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
                rc = floe_err(err, FLOE_ECORRUPT,
                              "bad gzip data at byte %zu: %s", off,
                              z.msg ? z.msg : "zlib error");
                break;
            }
            rc = scan_chunk(&sc, &line, buf, sizeof(buf) - z.avail_out,
                            max_line, max_bytes, err);
            /* No progress with room to write: the input ran out. */
            if (rc == FLOE_OK && zr == Z_BUF_ERROR)
                rc = floe_err(err, FLOE_ECORRUPT,
                              "truncated: the gzip stream stops at byte %zu "
                              "before its end (%lld bytes inflated)",
                              len, (long long)sc.bytes);
        } while (rc == FLOE_OK && zr != Z_STREAM_END);
    }
done:
    if (line > 0)
        sc.lines++; /* bytes after the last '\n' */
    if (open)
        inflateEnd(&z);
    if (out != NULL)
        *out = sc;
    return rc;
}

int64_t floe_wh_count_lines(const char *p, size_t n)
{
    const char *end = p + n, *nl;
    int64_t lines = 0;

    while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p = nl + 1;
    }
    return lines + (p < end ? 1 : 0);
}

size_t floe_wh_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (c < 0x80)
        return c == 0 ? 0 : 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    /* Overlongs, surrogates and code points past U+10FFFF are invalid:
     * they narrow the range of the second byte. */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Offset of the first byte that is not clean text, or n. */
static size_t clean_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        if (s[i] != 0 && s[i] < 0x80) {
            i++;
            continue;
        }
        k = floe_wh_utf8_seq(s + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

/* Copy s[0..n) into b with every bad byte replaced by U+FFFD. */
static int repair(struct floe_buf *b, const unsigned char *s, size_t n,
                  size_t bad)
{
    size_t i = bad, k;
    int rc;

    floe_buf_reset(b);
    rc = floe_buf_add(b, s, bad);
    while (rc == FLOE_OK && i < n) {
        k = floe_wh_utf8_seq(s + i, n - i);
        if (k == 0) {
            rc = floe_buf_add(b, REPLACEMENT, sizeof(REPLACEMENT) - 1);
            i++;
        } else {
            rc = floe_buf_add(b, s + i, k);
            i += k;
        }
    }
    return rc;
}

void floe_wh_lines_init(struct floe_wh_lines *it, const char *p, size_t n)
{
    it->p = p;
    it->end = p + n;
    floe_buf_init(&it->fix, FLOE_WH_OBJECT_MAX);
}

int floe_wh_lines_next(struct floe_wh_lines *it, const char **out_line,
                       size_t *out_len, bool *out_clean)
{
    const char *start = it->p, *nl;
    size_t len, bad;

    if (start >= it->end)
        return 0;
    nl = memchr(start, '\n', (size_t)(it->end - start));
    len = nl != NULL ? (size_t)(nl - start) : (size_t)(it->end - start);
    it->p = nl != NULL ? nl + 1 : it->end;
    bad = clean_prefix((const unsigned char *)start, len);
    if (bad == len) {
        *out_line = start;
        *out_len = len;
        *out_clean = true;
        return 1;
    }
    if (repair(&it->fix, (const unsigned char *)start, len, bad) != FLOE_OK)
        return FLOE_ENOMEM;
    *out_line = it->fix.data;
    *out_len = it->fix.len;
    *out_clean = false;
    return 1;
}

void floe_wh_lines_free(struct floe_wh_lines *it)
{
    floe_buf_free(&it->fix);
}
