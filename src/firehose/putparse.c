/* putparse.c - one pass over a PutRecord(Batch) body, no allocation.
 * Accepts a strict subset of what cJSON 1.7 accepts (RFC 8259 grammar,
 * whitespace limited to space/tab/CR/LF, nesting <= 64, numbers <= 63
 * characters, no surrogate escapes, no NUL byte anywhere), so a body it
 * takes means exactly what cJSON would make of it; every other body gets
 * FLOE_ENOTSUP. Strings are found with memchr; a body without a backslash
 * needs no escape handling at all. */
#include "firehose/putparse.h"

#include <string.h>

#include "core/err.h"
#include "firehose/admin.h"

#define MAX_DEPTH 64
#define MAX_NUMBER 63 /* cJSON copies at most 63 number characters */

struct cur {
    const char *p, *end;
    bool plain; /* the body holds no backslash: strings are raw */
};

static void ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' ||
                             *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

/* Consume `ch` (after whitespace); false if something else is there. */
static bool eat(struct cur *c, char ch)
{
    ws(c);
    if (c->p >= c->end || *c->p != ch)
        return false;
    c->p++;
    return true;
}

static int hex4(const char *p)
{
    int v = 0, i;

    for (i = 0; i < 4; i++) {
        char h = p[i];

        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= h - '0';
        else if (h >= 'a' && h <= 'f')
            v |= h - 'a' + 10;
        else if (h >= 'A' && h <= 'F')
            v |= h - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* A string without escapes at c->p (quotes included); s, n: its bytes. */
static bool raw_str(struct cur *c, const char **s, size_t *n)
{
    const char *q;

    if (c->p >= c->end || *c->p != '"')
        return false;
    q = memchr(c->p + 1, '"', (size_t)(c->end - c->p - 1));
    if (q == NULL)
        return false;
    *s = c->p + 1;
    *n = (size_t)(q - *s);
    if (!c->plain && memchr(*s, '\\', *n) != NULL)
        return false; /* escapes: the general parser unescapes */
    c->p = q + 1;
    return true;
}

/* Any string at c->p, escapes checked the way cJSON accepts them. */
static bool skip_str(struct cur *c)
{
    const char *s;
    size_t n;

    if (c->plain)
        return raw_str(c, &s, &n);
    if (c->p >= c->end || *c->p != '"')
        return false;
    for (c->p++; c->p < c->end; c->p++) {
        if (*c->p == '"') {
            c->p++;
            return true;
        }
        if (*c->p != '\\')
            continue;
        if (++c->p >= c->end)
            return false;
        if (*c->p == 'u') {
            int v = c->end - c->p > 4 ? hex4(c->p + 1) : -1;

            if (v < 0 || (v >= 0xD800 && v <= 0xDFFF))
                return false; /* surrogates: cJSON's pairing rules */
            c->p += 4;
        } else if (strchr("\"\\/bfnrt", *c->p) == NULL) {
            return false;
        }
    }
    return false;
}

/* The stream name: escapes decoded; valid (admin rules) or false. */
static bool name_str(struct cur *c, char *out)
{
    size_t o = 0;

    if (c->p >= c->end || *c->p != '"')
        return false;
    for (c->p++; c->p < c->end && *c->p != '"'; c->p++) {
        char ch = *c->p;

        if (ch == '\\') {
            int v;

            /* Only \uXXXX can spell a name character ([a-zA-Z0-9_.-]). */
            if (c->end - c->p < 6 || c->p[1] != 'u' ||
                (v = hex4(c->p + 2)) <= 0 || v >= 0x80)
                return false;
            ch = (char)v;
            c->p += 5;
        }
        if (o == FLOE_FH_NAME_MAX)
            return false; /* too long: the general path words the error */
        out[o++] = ch;
    }
    if (c->p >= c->end)
        return false;
    c->p++;
    out[o] = '\0';
    return floe_fh_admin_name_ok(out);
}

static bool digits(struct cur *c)
{
    const char *start = c->p;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > start;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool skip_number(struct cur *c)
{
    const char *start = c->p;

    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (c->p >= c->end || *c->p < '1' || *c->p > '9' || !digits(c))
        return false;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!digits(c))
            return false;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!digits(c))
            return false;
    }
    return c->p - start <= MAX_NUMBER;
}

static bool lit(struct cur *c, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool skip_value(struct cur *c, int depth);

/* Members or elements after the opening bracket, up to `close`. */
static bool skip_items(struct cur *c, char close, int depth)
{
    if (eat(c, close))
        return true;
    do {
        ws(c);
        if (close == '}' && (!skip_str(c) || !eat(c, ':')))
            return false;
        if (!skip_value(c, depth))
            return false;
    } while (eat(c, ','));
    return eat(c, close);
}

static bool skip_value(struct cur *c, int depth)
{
    ws(c);
    if (c->p >= c->end || depth > MAX_DEPTH)
        return false;
    switch (*c->p) {
    case '"':
        return skip_str(c);
    case '{':
    case '[':
        c->p++;
        return skip_items(c, c->p[-1] == '{' ? '}' : ']', depth + 1);
    case 't':
        return lit(c, "true");
    case 'f':
        return lit(c, "false");
    case 'n':
        return lit(c, "null");
    default:
        return skip_number(c);
    }
}

/* A key (no escapes) and its colon; k, kn: its bytes. */
static bool key(struct cur *c, const char **k, size_t *kn)
{
    ws(c);
    return raw_str(c, k, kn) && eat(c, ':');
}

static bool is_key(const char *k, size_t kn, const char *want)
{
    return kn == strlen(want) && memcmp(k, want, kn) == 0;
}

/* {"Data":"<base64>", other members skipped} */
static bool record(struct cur *c, struct floe_fh_blob *b)
{
    const char *k;
    size_t kn;
    bool have = false;

    if (!eat(c, '{'))
        return false;
    do {
        if (!key(c, &k, &kn))
            return false;
        if (is_key(k, kn, "Data")) {
            ws(c);
            if (have || !raw_str(c, &b->b64, &b->b64_len))
                return false; /* duplicate, null or not a string */
            have = true;
        } else if (!skip_value(c, 1)) {
            return false;
        }
    } while (eat(c, ','));
    return have && eat(c, '}');
}

static bool records(struct cur *c, struct floe_fh_blob *recs, size_t cap,
                    size_t *n)
{
    if (!eat(c, '['))
        return false;
    do {
        if (*n == cap)
            return false; /* over the limit: the general path says so */
        recs[*n].len = 0;
        if (!record(c, &recs[*n]))
            return false;
        (*n)++;
    } while (eat(c, ','));
    return eat(c, ']');
}

int floe_fh_put_parse(const char *body, size_t len, bool batch,
                      struct floe_fh_put_body *out, struct floe_fh_blob *recs,
                      size_t cap)
{
    struct cur c = { body, body + len, false };
    const char *k;
    size_t kn;
    bool named = false, have = false;

    out->name[0] = '\0';
    out->n = 0;
    /* cJSON reads a NUL as whitespace and cuts strings at it. */
    if (len == 0 || memchr(body, '\0', len) != NULL)
        return FLOE_ENOTSUP;
    c.plain = memchr(body, '\\', len) == NULL;
    if (!eat(&c, '{'))
        return FLOE_ENOTSUP;
    do {
        if (!key(&c, &k, &kn))
            return FLOE_ENOTSUP;
        ws(&c);
        if (is_key(k, kn, "DeliveryStreamName")) {
            if (named || !name_str(&c, out->name))
                return FLOE_ENOTSUP;
            named = true;
        } else if (batch ? is_key(k, kn, "Records")
                         : is_key(k, kn, "Record")) {
            if (have || (batch ? !records(&c, recs, cap, &out->n)
                               : cap < 1 || !record(&c, &recs[0])))
                return FLOE_ENOTSUP;
            if (!batch) {
                recs[0].len = 0;
                out->n = 1;
            }
            have = true;
        } else if (!skip_value(&c, 1)) {
            return FLOE_ENOTSUP;
        }
    } while (eat(&c, ','));
    if (!eat(&c, '}') || !named || !have)
        return FLOE_ENOTSUP;
    ws(&c); /* cJSON ignores what follows; we leave that case to it */
    return c.p == c.end ? FLOE_OK : FLOE_ENOTSUP;
}
