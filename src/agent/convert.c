/* convert.c - CSVTOJSON, SINGLELINE, LOGTOJSON and ADDMETADATA record
 * converters (convert.h); the log parsing itself is in logparse.c.
 * The worst-case output size is reserved once per record, then fields
 * are found with memchr and written through a pointer by the escaper of
 * utf8.h (eight plain bytes at a time, invalid UTF-8 becoming U+FFFD), so
 * there is no allocation on the hot path. */
#include "agent/convert.h"

#include <stdlib.h>
#include <string.h>

#include "agent/utf8.h"
#include "core/util.h"

void floe_convert_init(struct floe_convert *c)
{
    memset(c, 0, sizeof(*c));
    floe_buf_init(&c->scratch[0], FLOE_BUF_UNLIMITED);
    floe_buf_init(&c->scratch[1], FLOE_BUF_UNLIMITED);
}

void floe_convert_free(struct floe_convert *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++) {
        free(c->steps[i].keys);
        free(c->steps[i].key_off);
        floe_logparse_destroy(c->steps[i].parser);
        free(c->steps[i].metadata);
    }
    free(c->steps);
    c->steps = NULL;
    c->n = 0;
    floe_buf_free(&c->scratch[0]);
    floe_buf_free(&c->scratch[1]);
}

static struct floe_convert_step *add_step(struct floe_convert *c)
{
    struct floe_convert_step *s;

    s = realloc(c->steps, (c->n + 1) * sizeof(*s));
    if (s == NULL)
        return NULL;
    c->steps = s;
    s = &c->steps[c->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

int floe_convert_add_singleline(struct floe_convert *c, bool no_trim,
                                bool escape_newline)
{
    struct floe_convert_step *s = add_step(c);

    if (s == NULL)
        return FLOE_ENOMEM;
    s->kind = FLOE_CONVERT_SINGLELINE;
    s->no_trim = no_trim;
    s->escape_newline = escape_newline;
    return FLOE_OK;
}

int floe_convert_add_csv(struct floe_convert *c, const char *const *names,
                         size_t nfields, char delim, char *err)
{
    struct floe_convert_step *s;
    struct floe_buf keys;
    size_t *off = NULL, i;
    int rc = FLOE_OK;

    if (nfields == 0)
        return floe_err(err, FLOE_EINVAL,
                        "CSVTOJSON needs a non-empty customFieldNames");
    floe_buf_init(&keys, FLOE_BUF_UNLIMITED);
    off = calloc(nfields + 1, sizeof(*off));
    if (off == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    for (i = 0; i < nfields && rc == FLOE_OK; i++) {
        off[i] = keys.len;
        rc = floe_utf8_json_str(&keys, names[i], strlen(names[i]));
        if (rc == FLOE_OK)
            rc = floe_buf_addc(&keys, ':');
    }
    if (rc != FLOE_OK)
        goto cleanup;
    off[nfields] = keys.len;
    s = add_step(c);
    if (s == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    s->kind = FLOE_CONVERT_CSVTOJSON;
    s->delim = delim;
    s->nfields = nfields;
    s->keys = floe_buf_take(&keys, NULL);
    s->key_off = off;
    off = NULL;
    if (s->keys == NULL) {
        c->n--;
        rc = FLOE_ENOMEM;
    }
cleanup:
    free(off);
    floe_buf_free(&keys);
    return rc;
}

/* Write the field at in[pos..len) escaped, up to the delimiter (not
 * taken); a field that starts with a quote runs to the closing quote,
 * "" inside it being one quote, and any text after it up to the
 * delimiter is kept too. Returns the position of the delimiter or len. */
static size_t csv_field(const char *in, size_t pos, size_t len, char delim,
                        char **pp)
{
    const char *q, *d;
    char *p = *pp;
    size_t end;

    if (pos < len && in[pos] == '"') {
        for (pos++;; pos += 2) {
            q = memchr(in + pos, '"', len - pos);
            end = q ? (size_t)(q - in) : len;
            p = floe_utf8_json_esc(p, in + pos, end - pos);
            pos = end;
            if (q == NULL || end + 1 >= len || in[end + 1] != '"') {
                pos += q != NULL; /* the closing quote */
                break;
            }
            *p++ = '\\';
            *p++ = '"';
        }
    }
    d = memchr(in + pos, delim, len - pos);
    end = d ? (size_t)(d - in) : len;
    *pp = floe_utf8_json_esc(p, in + pos, end - pos);
    return end;
}

int floe_convert_csvtojson(const struct floe_convert_step *s, const char *rec,
                           size_t len, struct floe_buf *out)
{
    size_t keys_len = s->key_off[s->nfields], pos = 0, f;
    char *p, *start;
    int rc;

    if (len > 0 && rec[len - 1] == '\n')
        len--;
    if (len > 0 && rec[len - 1] == '\r')
        len--;
    /* Worst case: every input byte escaped to 6, every field null; near
     * the buffer's cap, the escaped record bounds its escaped fields. */
    rc = floe_buf_reserve(out, keys_len + FLOE_UTF8_JSON_MAX(len) +
                                   7 * s->nfields + 4);
    if (rc == FLOE_ETOOBIG)
        rc = floe_buf_reserve(out, keys_len + floe_utf8_json_len(rec, len) +
                                       7 * s->nfields + 4);
    if (rc != FLOE_OK)
        return rc;
    start = p = out->data + out->len;
    *p++ = '{';
    for (f = 0; f < s->nfields; f++) {
        size_t kl = s->key_off[f + 1] - s->key_off[f];

        if (f > 0)
            *p++ = ',';
        memcpy(p, s->keys + s->key_off[f], kl);
        p += kl;
        if (pos > len) { /* the line has no more columns */
            memcpy(p, "null", 4);
            p += 4;
            continue;
        }
        *p++ = '"';
        pos = csv_field(rec, pos, len, s->delim, &p);
        *p++ = '"';
        pos++; /* past the delimiter, or len + 1 at the end */
    }
    *p++ = '}';
    *p++ = '\n';
    out->len += (size_t)(p - start);
    out->data[out->len] = '\0';
    return FLOE_OK;
}

static inline int is_java_space(unsigned char c)
{
    return c <= ' ';
}

int floe_convert_singleline(const struct floe_convert_step *s,
                            const char *rec, size_t len, struct floe_buf *out)
{
    const char *end = rec + len, *line = rec;
    char *p, *start;
    int rc, first = 1;

    rc = floe_buf_reserve(out, 2 * len + 1);
    if (rc != FLOE_OK)
        return rc;
    start = p = out->data + out->len;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *a = line, *b = nl ? nl : end;

        if (!s->no_trim) {
            while (a < b && is_java_space((unsigned char)*a))
                a++;
            while (b > a && is_java_space((unsigned char)b[-1]))
                b--;
        }
        if (!first && s->escape_newline) {
            *p++ = '\\';
            *p++ = 'n';
        }
        first = 0;
        memcpy(p, a, (size_t)(b - a));
        p += b - a;
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    *p++ = '\n';
    out->len += (size_t)(p - start);
    out->data[out->len] = '\0';
    return FLOE_OK;
}

int floe_convert_add_logtojson(struct floe_convert *c,
                               struct floe_logparse *parser)
{
    struct floe_convert_step *s = add_step(c);

    if (s == NULL) {
        floe_logparse_destroy(parser);
        return FLOE_ENOMEM;
    }
    s->kind = FLOE_CONVERT_LOGTOJSON;
    s->parser = parser;
    return FLOE_OK;
}

int floe_convert_add_metadata(struct floe_convert *c,
                              const char *metadata_json, bool timestamp,
                              struct floe_logparse *parser)
{
    struct floe_convert_step *s;
    char *md = strdup(metadata_json ? metadata_json : "null");

    s = md ? add_step(c) : NULL;
    if (s == NULL) {
        free(md);
        floe_logparse_destroy(parser);
        return FLOE_ENOMEM;
    }
    s->kind = FLOE_CONVERT_ADDMETADATA;
    s->metadata = md;
    s->timestamp = timestamp;
    s->parser = parser;
    return FLOE_OK;
}

static size_t strip_nl(const char *rec, size_t len)
{
    /* The Kinesis converters drop one trailing "\n" (and nothing else). */
    return len > 0 && rec[len - 1] == '\n' ? len - 1 : len;
}

int floe_convert_logtojson(const struct floe_convert_step *s,
                           const char *rec, size_t len, struct floe_buf *out)
{
    size_t start = out->len;
    int rc;

    rc = floe_logparse_json(s->parser, rec, strip_nl(rec, len), out);
    if (rc == FLOE_OK)
        rc = floe_buf_addc(out, '\n');
    if (rc != FLOE_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int floe_convert_addmetadata(const struct floe_convert_step *s,
                             const char *rec, size_t len, int64_t now_ms,
                             struct floe_buf *out)
{
    size_t start = out->len;
    char ts[32];
    int rc = FLOE_OK;

    len = strip_nl(rec, len);
    if (s->timestamp) {
        floe_time_iso(now_ms, ts);
        rc = floe_buf_addf(out, "{\"ts\":\"%s\",\"metadata\":", ts);
    } else {
        rc = floe_buf_adds(out, "{\"metadata\":");
    }
    if (rc == FLOE_OK)
        rc = floe_buf_adds(out, s->metadata);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(out, ",\"data\":");
    if (rc == FLOE_OK)
        rc = s->parser ? floe_logparse_json(s->parser, rec, len, out)
                       : floe_utf8_json_str(out, rec, len);
    if (rc == FLOE_OK)
        rc = floe_buf_add(out, "}\n", 2);
    if (rc != FLOE_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

static int apply_step(const struct floe_convert_step *s, const char *rec,
                      size_t len, struct floe_buf *out)
{
    switch (s->kind) {
    case FLOE_CONVERT_LOGTOJSON:
        return floe_convert_logtojson(s, rec, len, out);
    case FLOE_CONVERT_ADDMETADATA:
        return floe_convert_addmetadata(s, rec, len, floe_now_ms(), out);
    case FLOE_CONVERT_CSVTOJSON:
        return floe_convert_csvtojson(s, rec, len, out);
    case FLOE_CONVERT_SINGLELINE:
        return floe_convert_singleline(s, rec, len, out);
    }
    return FLOE_EINVAL;
}

int floe_convert_apply(struct floe_convert *c, const char *rec, size_t len,
                       struct floe_buf *out)
{
    const char *cur = rec;
    size_t cur_len = len, i;
    int rc;

    if (c->n == 0)
        return floe_buf_add(out, rec, len);
    for (i = 0; i + 1 < c->n; i++) {
        struct floe_buf *dst = &c->scratch[i & 1];

        floe_buf_reset(dst);
        rc = apply_step(&c->steps[i], cur, cur_len, dst);
        if (rc != FLOE_OK)
            return rc;
        cur = dst->data;
        cur_len = dst->len;
    }
    return apply_step(&c->steps[c->n - 1], cur, cur_len, out);
}
