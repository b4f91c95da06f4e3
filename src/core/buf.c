/* buf.c - growable byte buffer with a hard cap (see buf.h). */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void floe_buf_init(struct floe_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

int floe_buf_reserve(struct floe_buf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (n > b->max || b->len > b->max - n)
        return FLOE_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->cap)
        return FLOE_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return FLOE_ENOMEM;
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return FLOE_OK;
}

int floe_buf_add(struct floe_buf *b, const void *p, size_t n)
{
    int rc = floe_buf_reserve(b, n);

    if (rc != FLOE_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return FLOE_OK;
}

int floe_buf_adds(struct floe_buf *b, const char *s)
{
    return floe_buf_add(b, s, strlen(s));
}

int floe_buf_addc(struct floe_buf *b, char c)
{
    return floe_buf_add(b, &c, 1);
}

int floe_buf_vaddf(struct floe_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n, rc;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return FLOE_EINVAL;
    rc = floe_buf_reserve(b, (size_t)n);
    if (rc != FLOE_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return FLOE_OK;
}

int floe_buf_addf(struct floe_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = floe_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int floe_buf_add_json_str(struct floe_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = b->len, i, run = 0;
    int rc;

    /* Worst case is 6 output bytes per input byte; reserve lazily. */
    rc = floe_buf_addc(b, '"');
    for (i = 0; rc == FLOE_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t elen = 0;

        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        if (run > 0)
            rc = floe_buf_add(b, s + i - run, run);
        run = 0;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; elen = 2; break;
        case '\\': esc[1] = '\\'; elen = 2; break;
        case '\n': esc[1] = 'n'; elen = 2; break;
        case '\r': esc[1] = 'r'; elen = 2; break;
        case '\t': esc[1] = 't'; elen = 2; break;
        case '\b': esc[1] = 'b'; elen = 2; break;
        case '\f': esc[1] = 'f'; elen = 2; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            elen = 6;
        }
        if (rc == FLOE_OK)
            rc = floe_buf_add(b, esc, elen);
    }
    if (rc == FLOE_OK && run > 0)
        rc = floe_buf_add(b, s + n - run, run);
    if (rc == FLOE_OK)
        rc = floe_buf_addc(b, '"');
    if (rc != FLOE_OK && b->data != NULL) { /* leave it as it was */
        b->len = start;
        b->data[start] = '\0';
    }
    return rc;
}

void floe_buf_reset(struct floe_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

char *floe_buf_take(struct floe_buf *b, size_t *out_len)
{
    char *p;

    if (b->data == NULL && floe_buf_reserve(b, 0) != FLOE_OK)
        return NULL;
    p = b->data;
    if (out_len != NULL)
        *out_len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void floe_buf_free(struct floe_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
