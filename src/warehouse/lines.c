/* lines.c - decompress batch objects and split them into lines.
 * Whole-buffer libdeflate (several times faster than zlib streaming); the
 * output size is guessed from the gzip trailer and doubled on demand, and
 * concatenated members are decoded one after another. Line splitting is
 * memchr plus a UTF-8 check with an ASCII fast path; nothing is dropped. */
#define FLOE_LOG_MOD "warehouse.lines"
#include "warehouse/lines.h"

#include <libdeflate.h>
#include <string.h>

#include "core/log.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

static int is_gzip(const unsigned char *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
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
        /* Trailing zero padding after the last member is tolerated, as
         * gzip(1) does; anything else must be another member. */
        if (off > 0 && !is_gzip(in + off, len - off)) {
            size_t i = off;
            while (i < len && in[i] == 0)
                i++;
            if (i != len)
                rc = floe_err(err, FLOE_ECORRUPT,
                              "garbage after gzip member at byte %zu", off);
            break;
        }
        rc = inflate_member(dec, in + off, len - off, out, &used, err);
        off += used;
    }
    libdeflate_free_decompressor(dec);
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
