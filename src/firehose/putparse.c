/* putparse.c - one pass over a PutRecord(Batch) body, no allocation, on
 * the core JSON scanner (core/jscan.h) in its cJSON mode: it accepts a
 * strict subset of what cJSON 1.7 accepts (RFC 8259 grammar, blanks limited
 * to space/tab/CR/LF, bounded nesting, numbers <= 63 characters, no
 * surrogate escapes, no NUL byte anywhere), so a body it takes means
 * exactly what cJSON would make of it; every other body gets FLOE_ENOTSUP.
 * Keys and Data strings must be free of escapes; only the stream name is
 * decoded. */
#include "firehose/putparse.h"

#include <string.h>

#include "core/err.h"
#include "core/jscan.h"
#include "firehose/admin.h"

/* A key without escapes and its colon. */
static bool key(struct floe_jscan *js, struct floe_jstr *k)
{
    return floe_jscan_string(js, k) == FLOE_OK && !k->esc &&
           floe_jscan_take(js, ':');
}

/* The stream name: escapes decoded; valid (admin rules) or false. */
static bool name(struct floe_jscan *js, char *out)
{
    struct floe_jstr s;
    size_t n;

    if (floe_jscan_string(js, &s) != FLOE_OK)
        return false;
    if (s.esc) {
        /* (size_t)-1 for a bad escape is over the limit too */
        n = floe_jstr_decode(&s, out, FLOE_FH_NAME_MAX + 1);
        if (n > FLOE_FH_NAME_MAX || memchr(out, '\0', n) != NULL)
            return false; /* \u0000: cJSON's string would end there */
    } else {
        if (s.len > FLOE_FH_NAME_MAX)
            return false; /* too long: the general path words the error */
        memcpy(out, s.s, s.len);
        out[s.len] = '\0';
    }
    return floe_fh_admin_name_ok(out);
}

/* {"Data":"<base64>", other members skipped} */
static bool record(struct floe_jscan *js, struct floe_fh_blob *b)
{
    struct floe_jstr k, d;
    bool have = false;

    if (!floe_jscan_take(js, '{'))
        return false;
    do {
        if (!key(js, &k))
            return false;
        if (floe_jstr_eq(&k, "Data")) {
            /* a duplicate, null, not a string or escaped: cJSON's */
            if (have || floe_jscan_string(js, &d) != FLOE_OK || d.esc)
                return false;
            b->b64 = d.s;
            b->b64_len = d.len;
            have = true;
        } else if (floe_jscan_skip(js) != FLOE_OK) {
            return false;
        }
    } while (floe_jscan_take(js, ','));
    return have && floe_jscan_take(js, '}');
}

static bool records(struct floe_jscan *js, struct floe_fh_blob *recs,
                    size_t cap, size_t *n)
{
    if (!floe_jscan_take(js, '['))
        return false;
    do {
        if (*n == cap)
            return false; /* over the limit: the general path says so */
        recs[*n].len = 0;
        if (!record(js, &recs[*n]))
            return false;
        (*n)++;
    } while (floe_jscan_take(js, ','));
    return floe_jscan_take(js, ']');
}

int floe_fh_put_parse(const char *body, size_t len, bool batch,
                      struct floe_fh_put_body *out, struct floe_fh_blob *recs,
                      size_t cap)
{
    struct floe_jscan js;
    struct floe_jstr k;
    bool named = false, have = false;

    out->name[0] = '\0';
    out->n = 0;
    /* cJSON reads a NUL as whitespace and cuts strings at it. */
    if (len == 0 || memchr(body, '\0', len) != NULL)
        return FLOE_ENOTSUP;
    floe_jscan_init(&js, body, len, FLOE_JSCAN_CJSON);
    if (!floe_jscan_take(&js, '{'))
        return FLOE_ENOTSUP;
    do {
        if (!key(&js, &k))
            return FLOE_ENOTSUP;
        if (floe_jstr_eq(&k, "DeliveryStreamName")) {
            if (named || !name(&js, out->name))
                return FLOE_ENOTSUP;
            named = true;
        } else if (floe_jstr_eq(&k, batch ? "Records" : "Record")) {
            if (have || (batch ? !records(&js, recs, cap, &out->n)
                               : cap < 1 || !record(&js, &recs[0])))
                return FLOE_ENOTSUP;
            if (!batch) {
                recs[0].len = 0;
                out->n = 1;
            }
            have = true;
        } else if (floe_jscan_skip(&js) != FLOE_OK) {
            return FLOE_ENOTSUP;
        }
    } while (floe_jscan_take(&js, ','));
    if (!floe_jscan_take(&js, '}') || !named || !have)
        return FLOE_ENOTSUP;
    /* cJSON ignores what follows; we leave that case to it */
    return floe_jscan_end(&js) == FLOE_OK ? FLOE_OK : FLOE_ENOTSUP;
}
