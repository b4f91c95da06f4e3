/* utf8.c - UTF-8 checking, repair and JSON escaping (utf8.h).
 * The fast path loads eight bytes and tests them all at once (SWAR): for
 * validation, whether any has its top bit set; for escaping, also whether
 * any is below 0x20, '"' or '\\'. Such a word is copied whole; otherwise
 * the bytes go one by one until the next word boundary. */
#include "agent/utf8.h"

#include <stdint.h>
#include <string.h>

#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)

static inline uint64_t load8(const unsigned char *s)
{
    uint64_t w;

    memcpy(&w, s, sizeof(w));
    return w;
}

/* Nonzero if a byte of `w` is < 0x20, '"', '\\' or >= 0x80. Each test is
 * exact for "some byte is" (borrows only add bits above a true hit). */
static inline uint64_t needs_care(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

    return (((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
            ((b - ONES) & ~b) | w) & HIGH;
}

/* The sequence at `s` (s[0] >= 0x80, `n` >= 1 bytes left): its length if
 * well-formed (2..4), else 0 and *out_bad = the maximal subpart (1..3). */
static size_t seq_len(const unsigned char *s, size_t n, size_t *out_bad)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t need, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        if (s[0] == 0xe0)
            lo = 0xa0; /* overlong */
        else if (s[0] == 0xed)
            hi = 0x9f; /* surrogate */
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        if (s[0] == 0xf0)
            lo = 0x90; /* overlong */
        else if (s[0] == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        *out_bad = 1; /* continuation, C0, C1, F5..FF */
        return 0;
    }
    for (i = 1; i < need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *out_bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xbf;
    }
    return need;
}

size_t floe_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, l, bad;

    while (i < n) {
        if (n - i >= 8 && (load8(s + i) & HIGH) == 0) {
            i += 8;
            continue;
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        l = seq_len(s + i, n - i, &bad);
        if (l == 0)
            return i;
        i += l;
    }
    return n;
}

int floe_utf8_repair(struct floe_buf *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, ok, bad;
    char *p;
    int rc;

    /* A bad byte grows to 3 at most. */
    rc = floe_buf_reserve(out, 3 * n);
    if (rc != FLOE_OK)
        return rc;
    p = out->data + out->len;
    while (i < n) {
        ok = floe_utf8_valid(str + i, n - i);
        memcpy(p, s + i, ok);
        p += ok;
        i += ok;
        if (i < n) {
            seq_len(s + i, n - i, &bad);
            memcpy(p, FLOE_UTF8_REPLACEMENT, 3);
            p += 3;
            i += bad;
        }
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return FLOE_OK;
}

/* 0: copy as is; otherwise the character after '\\' ('u': \u00XX). */
static const char esc_tab[0x80] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
    ['"'] = '"', ['\\'] = '\\',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
    [0x05] = 'u', [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u',
    [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u',
    [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u',
    [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u',
};

char *floe_utf8_json_esc(char *p, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, l, bad;

    while (i < n) {
        unsigned char c;

        if (n - i >= 8 && needs_care(load8(s + i)) == 0) {
            memcpy(p, s + i, 8);
            p += 8;
            i += 8;
            continue;
        }
        c = s[i];
        if (c >= 0x80) {
            l = seq_len(s + i, n - i, &bad);
            if (l > 0) {
                memcpy(p, s + i, l);
                p += l;
                i += l;
            } else {
                memcpy(p, FLOE_UTF8_REPLACEMENT, 3);
                p += 3;
                i += bad;
            }
            continue;
        }
        i++;
        if (esc_tab[c] == 0) {
            *p++ = (char)c;
        } else if (esc_tab[c] != 'u') {
            *p++ = '\\';
            *p++ = esc_tab[c];
        } else {
            memcpy(p, "\\u00", 4);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            p += 6;
        }
    }
    return p;
}

size_t floe_utf8_json_len(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, len = 0, l, bad;

    while (i < n) {
        if (n - i >= 8 && needs_care(load8(s + i)) == 0) {
            len += 8;
            i += 8;
        } else if (s[i] >= 0x80) {
            l = seq_len(s + i, n - i, &bad);
            len += l > 0 ? l : 3;
            i += l > 0 ? l : bad;
        } else {
            len += esc_tab[s[i]] == 0 ? 1 : esc_tab[s[i]] == 'u' ? 6 : 2;
            i++;
        }
    }
    return len;
}

int floe_utf8_json_str(struct floe_buf *out, const char *s, size_t n)
{
    char *p;
    int rc;

    rc = floe_buf_reserve(out, FLOE_UTF8_JSON_MAX(n) + 2);
    if (rc == FLOE_ETOOBIG)
        rc = floe_buf_reserve(out, floe_utf8_json_len(s, n) + 2);
    if (rc != FLOE_OK)
        return rc;
    p = out->data + out->len;
    *p++ = '"';
    p = floe_utf8_json_esc(p, s, n);
    *p++ = '"';
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return FLOE_OK;
}
