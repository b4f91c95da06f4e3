/* jscan.c - allocation-free JSON pull scanner (jscan.h). Validates what
 * it passes over (RFC 8259 grammar: escapes, control bytes unless the
 * caller takes them raw, numbers, literals), so a truncated or garbled
 * text is an error, not a guess. A string costs a memchr for its closing
 * quote; the next backslash of the text is found once and remembered, so
 * only strings that hold one are walked byte by byte. */
#include "core/jscan.h"

#include <stdlib.h>
#include <string.h>

void floe_jscan_init(struct floe_jscan *js, const char *text, size_t len,
                     unsigned flags)
{
    js->p = text;
    js->end = text + len;
    js->bs = text; /* stale: no string starts before text + 1 */
    js->flags = flags;
}

int floe_jscan_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits; above 0xFFFF if one is not a digit. */
static unsigned hex4(const char *p)
{
    unsigned v = 0;
    int i, d;

    for (i = 0; i < 4; i++) {
        d = floe_jscan_hexval(p[i]);
        if (d < 0)
            return 0x10000;
        v = v << 4 | (unsigned)d;
    }
    return v;
}

/* Does [s, s + n) hold a byte below 0x20? (No early exit: vectorizes.) */
static bool has_ctrl(const char *s, size_t n)
{
    unsigned char bad = 0;
    size_t i;

    for (i = 0; i < n; i++)
        bad |= (unsigned char)s[i] < 0x20;
    return bad != 0;
}

/* A string holding an escape, its contents starting at `s`: walked byte
 * by byte to its closing quote. */
static int string_escaped(struct floe_jscan *js, const char *s,
                          struct floe_jstr *out)
{
    const char *p, *end = js->end;
    bool raw = (js->flags & FLOE_JSCAN_RAW_CTRL) != 0;
    unsigned v;

    for (p = s; p < end; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '"') {
            out->s = s;
            out->len = (size_t)(p - s);
            out->esc = true;
            js->p = p + 1;
            return FLOE_OK;
        }
        if (c < 0x20 && !raw)
            return FLOE_EINVAL;
        if (c != '\\')
            continue;
        if (++p == end)
            return FLOE_EINVAL;
        switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            break;
        case 'u':
            if (end - p < 5 || (v = hex4(p + 1)) > 0xFFFF)
                return FLOE_EINVAL;
            if (v >= 0xD800 && v <= 0xDFFF &&
                (js->flags & FLOE_JSCAN_NO_SURROGATE))
                return FLOE_EINVAL;
            p += 4;
            break;
        default:
            return FLOE_EINVAL;
        }
    }
    return FLOE_EINVAL;
}

int floe_jscan_string(struct floe_jscan *js, struct floe_jstr *out)
{
    const char *s, *q;

    if (!floe_jscan_take(js, '"'))
        return FLOE_EINVAL;
    s = js->p;
    q = memchr(s, '"', (size_t)(js->end - s));
    if (q == NULL)
        return FLOE_EINVAL;
    if (js->bs < s) { /* passed the last one found: look for the next */
        js->bs = memchr(s, '\\', (size_t)(js->end - s));
        if (js->bs == NULL)
            js->bs = js->end;
    }
    if (js->bs < q)
        return string_escaped(js, s, out);
    if (!(js->flags & FLOE_JSCAN_RAW_CTRL) && has_ctrl(s, (size_t)(q - s)))
        return FLOE_EINVAL;
    out->s = s;
    out->len = (size_t)(q - s);
    out->esc = false;
    js->p = q + 1;
    return FLOE_OK;
}

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
int floe_jscan_number(struct floe_jscan *js, double *out)
{
    const char *p, *q, *end = js->end;
    char tmp[FLOE_JSCAN_NUMBER_MAX + 1];
    size_t n;

    (void)floe_jscan_peek(js);
    p = js->p;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        p = digits(p, end);
    else
        return FLOE_EINVAL;
    if (p < end && *p == '.') {
        q = digits(p + 1, end);
        if (q == p + 1)
            return FLOE_EINVAL;
        p = q;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        q = digits(p, end);
        if (q == p)
            return FLOE_EINVAL;
        p = q;
    }
    n = (size_t)(p - js->p);
    if (n > FLOE_JSCAN_NUMBER_MAX)
        return FLOE_EINVAL;
    if (out != NULL) {
        memcpy(tmp, js->p, n);
        tmp[n] = '\0';
        *out = strtod(tmp, NULL);
    }
    js->p = p;
    return FLOE_OK;
}

static int literal(struct floe_jscan *js, const char *word, size_t n)
{
    if ((size_t)(js->end - js->p) < n || memcmp(js->p, word, n) != 0)
        return FLOE_EINVAL;
    js->p += n;
    return FLOE_OK;
}

static int skip(struct floe_jscan *js, int depth)
{
    struct floe_jstr s;
    char c = floe_jscan_peek(js);
    int rc;

    if (depth > FLOE_JSCAN_DEPTH_MAX)
        return FLOE_EINVAL;
    switch (c) {
    case '"':
        return floe_jscan_string(js, &s);
    case 't':
        return literal(js, "true", 4);
    case 'f':
        return literal(js, "false", 5);
    case 'n':
        return literal(js, "null", 4);
    case '[':
        js->p++;
        if (floe_jscan_take(js, ']'))
            return FLOE_OK;
        do {
            rc = skip(js, depth + 1);
            if (rc != FLOE_OK)
                return rc;
        } while (floe_jscan_take(js, ','));
        return floe_jscan_take(js, ']') ? FLOE_OK : FLOE_EINVAL;
    case '{':
        js->p++;
        if (floe_jscan_take(js, '}'))
            return FLOE_OK;
        do {
            rc = floe_jscan_string(js, &s);
            if (rc == FLOE_OK && !floe_jscan_take(js, ':'))
                rc = FLOE_EINVAL;
            if (rc == FLOE_OK)
                rc = skip(js, depth + 1);
            if (rc != FLOE_OK)
                return rc;
        } while (floe_jscan_take(js, ','));
        return floe_jscan_take(js, '}') ? FLOE_OK : FLOE_EINVAL;
    default:
        return floe_jscan_number(js, NULL);
    }
}

int floe_jscan_skip(struct floe_jscan *js)
{
    return skip(js, 0);
}

int floe_jscan_end(struct floe_jscan *js)
{
    (void)floe_jscan_peek(js);
    return js->p == js->end ? FLOE_OK : FLOE_EINVAL;
}

/* Code point `cp` as UTF-8 into u[4]; returns its length. */
static size_t utf8(unsigned char u[4], unsigned cp)
{
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | cp >> 18);
    u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the unit (a byte or an escape) at *pp (< end) into u[4]: its
 * length, *pp moved past it; 0 for a bad escape. */
static size_t unit(const char **pp, const char *end, unsigned char u[4])
{
    const char *p = *pp;
    char c = *p++;
    unsigned cp, lo;

    if (c == '\\') {
        if (p == end)
            return 0;
        c = *p++;
        if (c == 'u') {
            if (end - p < 4 || (cp = hex4(p)) > 0xFFFF)
                return 0;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 &&
                p[0] == '\\' && p[1] == 'u' &&
                (lo = hex4(p + 2)) >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* a lone surrogate */
            }
            *pp = p;
            return utf8(u, cp);
        }
        c = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n'
            : c == 'r' ? '\r' : c == 't' ? '\t' : c;
    }
    *pp = p;
    u[0] = (unsigned char)c;
    return 1;
}

size_t floe_jstr_decode(const struct floe_jstr *str, char *out, size_t cap)
{
    const char *p = str->s, *end = str->s + str->len;
    unsigned char u[4];
    size_t n = 0, k, i;

    while (p < end) {
        k = unit(&p, end, u);
        if (k == 0)
            return (size_t)-1;
        for (i = 0; i < k; i++, n++) /* counted even past cap */
            if (n + 1 < cap)
                out[n] = (char)u[i];
    }
    if (cap > 0)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

bool floe_jstr_eq_esc(const struct floe_jstr *str, const char *lit)
{
    const char *p = str->s, *end = str->s + str->len;
    unsigned char u[4];
    size_t k;

    while (p < end) {
        k = unit(&p, end, u);
        if (k == 0 || strncmp(lit, (const char *)u, k) != 0 ||
            memchr(u, '\0', k) != NULL)
            return false;
        lit += k;
    }
    return *lit == '\0';
}
