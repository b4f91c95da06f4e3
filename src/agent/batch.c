/* batch.c - PutRecordBatch buffer: build the request body, apply the
 * response (batch.h). The body is written in one pass: the base64 of each
 * record is encoded directly into reserved space of the body buffer; the
 * response is read by a scanner that allocates nothing (core/jscan.h), so
 * neither direction costs a malloc per record. */
#include "agent/batch.h"

#include <string.h>

#include "core/b64.h"
#include "core/jscan.h"
#include "core/util.h"

void floe_batch_init(struct floe_batch *b, size_t max_records,
                     size_t max_bytes)
{
    memset(b, 0, sizeof(*b));
    /* Room for one converted record past the limit: a record is built in
     * place and moved to a new batch if it does not fit. */
    floe_buf_init(&b->data, FLOE_BATCH_MAX_BYTES + 16 * 1024 * 1024);
    if (max_records == 0 || max_records > FLOE_BATCH_MAX_RECORDS)
        max_records = FLOE_BATCH_MAX_RECORDS;
    if (max_bytes == 0 || max_bytes > FLOE_BATCH_MAX_BYTES)
        max_bytes = FLOE_BATCH_MAX_BYTES;
    b->max_records = max_records;
    b->max_bytes = max_bytes;
}

void floe_batch_reset(struct floe_batch *b)
{
    floe_buf_reset(&b->data);
    b->n = 0;
    b->n_acked = 0;
    b->first_ms = 0;
    b->attempts = 0;
    b->state = FLOE_BATCH_QUEUED;
    b->sent_ms = 0;
    b->next = NULL;
}

void floe_batch_free(struct floe_batch *b)
{
    if (b == NULL)
        return;
    floe_buf_free(&b->data);
    b->n = b->n_acked = 0;
}

bool floe_batch_fits(const struct floe_batch *b, size_t len)
{
    size_t used;

    /* A record larger than maxBufferSizeBytes goes alone, as the Kinesis
     * Agent sends it: the limit shapes batches, it never refuses a line
     * (the record limit itself is applied before, by truncation). */
    if (b->n == 0)
        return true;
    used = b->recs[b->n - 1].off + b->recs[b->n - 1].len;
    return b->n < b->max_records && used + len <= b->max_bytes;
}

int floe_batch_commit(struct floe_batch *b, size_t start,
                      struct floe_rec_src src, uint64_t end_off,
                      int64_t now_ms)
{
    size_t len = b->data.len - start;
    struct floe_batch_rec *r;

    if (!floe_batch_fits(b, len) || len > FLOE_RECORD_MAX_BYTES)
        return FLOE_ETOOBIG;
    r = &b->recs[b->n++];
    r->off = (uint32_t)start;
    r->len = (uint32_t)len;
    r->file = src.file;
    r->gen = src.gen;
    r->end_off = end_off;
    r->acked = false;
    if (b->n == 1)
        b->first_ms = now_ms;
    return FLOE_OK;
}

int floe_batch_extend(struct floe_batch *b, size_t start,
                      struct floe_rec_src src, uint64_t end_off,
                      size_t max_len)
{
    struct floe_batch_rec *r;
    size_t add = b->data.len - start;

    if (b->n == 0)
        return FLOE_ETOOBIG;
    r = &b->recs[b->n - 1];
    if (r->file != src.file || r->gen != src.gen || r->acked || r->off + r->len != start ||
        r->len + add > max_len || r->len + add > FLOE_RECORD_MAX_BYTES ||
        r->off + r->len + add > b->max_bytes)
        return FLOE_ETOOBIG;
    r->len += (uint32_t)add;
    r->end_off = end_off;
    return FLOE_OK;
}

int floe_batch_split(struct floe_batch *b, size_t k, struct floe_batch *dst)
{
    size_t i, base;
    int rc;

    if (k >= b->n)
        return FLOE_OK;
    base = b->recs[k].off;
    rc = floe_buf_add(&dst->data, b->data.data + base, b->data.len - base);
    if (rc != FLOE_OK)
        return rc;
    for (i = k; i < b->n; i++) {
        dst->recs[dst->n] = b->recs[i];
        dst->recs[dst->n].off -= (uint32_t)base;
        if (b->recs[i].acked) {
            dst->n_acked++;
            b->n_acked--;
        }
        dst->n++;
    }
    dst->first_ms = b->first_ms;
    dst->attempts = b->attempts;
    b->n = k;
    b->data.len = base;
    b->data.data[base] = '\0';
    return FLOE_OK;
}

size_t floe_batch_pending_bytes(const struct floe_batch *b)
{
    size_t i, sum = 0;

    for (i = 0; i < b->n; i++)
        if (!b->recs[i].acked)
            sum += b->recs[i].len;
    return sum;
}

enum { PH_PREFIX, PH_OPEN, PH_DATA, PH_CLOSE, PH_TAIL, PH_DONE };

#define OPEN_FIRST "{\"Data\":\""
#define OPEN_NEXT ",{\"Data\":\""
#define CLOSE_REC "\"}"
#define TAIL "]}"

int floe_batch_body_start(struct floe_batch_body *bb,
                          const struct floe_batch *b, const char *stream)
{
    struct floe_buf pre;
    size_t i;
    int rc;

    memset(bb, 0, sizeof(*bb));
    bb->b = b;
    floe_buf_init(&pre, sizeof(bb->prefix) - 1);
    rc = floe_buf_adds(&pre, "{\"DeliveryStreamName\":");
    if (rc == FLOE_OK)
        rc = floe_buf_add_json_str(&pre, stream, strlen(stream));
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&pre, ",\"Records\":[");
    if (rc == FLOE_OK) {
        memcpy(bb->prefix, pre.data, pre.len);
        bb->prefix_len = pre.len;
    }
    floe_buf_free(&pre);
    if (rc != FLOE_OK)
        return rc == FLOE_ETOOBIG ? FLOE_EINVAL : rc;
    bb->len = bb->prefix_len + strlen(TAIL);
    for (i = 0; i < b->n; i++)
        if (!b->recs[i].acked)
            bb->len += strlen(OPEN_NEXT) + floe_b64_enc_len(b->recs[i].len) +
                       strlen(CLOSE_REC);
    if (floe_batch_pending(b) > 0)
        bb->len -= 1; /* the first record has no comma */
    floe_batch_body_rewind(bb);
    return FLOE_OK;
}

void floe_batch_body_rewind(struct floe_batch_body *bb)
{
    bb->off = 0;
    bb->rec = 0;
    bb->pos = 0;
    bb->phase = PH_PREFIX;
    bb->first = true;
    bb->carry_len = bb->carry_off = 0;
}

/* Copy what fits of `src` to dst; the rest waits in the carry (src is a
 * token or one base64 quantum: at most 16 bytes). */
static size_t put(struct floe_batch_body *bb, char *dst, size_t room,
                  const char *src, size_t n)
{
    size_t k = n < room ? n : room;

    memcpy(dst, src, k);
    if (k < n) {
        memcpy(bb->carry, src + k, n - k);
        bb->carry_len = n - k;
        bb->carry_off = 0;
    }
    return k;
}

/* The next pending record at or after bb->rec: its token, or the tail. */
static void next_record(struct floe_batch_body *bb)
{
    while (bb->rec < bb->b->n && bb->b->recs[bb->rec].acked)
        bb->rec++;
    bb->pos = 0;
    bb->phase = bb->rec < bb->b->n ? PH_OPEN : PH_TAIL;
}

size_t floe_batch_body_read(struct floe_batch_body *bb, char *dst, size_t n)
{
    size_t done = 0;

    while (done < n) {
        size_t room = n - done;

        if (bb->carry_off < bb->carry_len) {
            size_t k = bb->carry_len - bb->carry_off;

            k = k < room ? k : room;
            memcpy(dst + done, bb->carry + bb->carry_off, k);
            bb->carry_off += k;
            done += k;
            continue;
        }
        if (bb->phase == PH_PREFIX) {
            size_t k = bb->prefix_len - bb->pos;

            k = k < room ? k : room;
            memcpy(dst + done, bb->prefix + bb->pos, k);
            bb->pos += k;
            done += k;
            if (bb->pos == bb->prefix_len) {
                bb->rec = 0;
                next_record(bb);
            }
        } else if (bb->phase == PH_OPEN) {
            const char *t = bb->first ? OPEN_FIRST : OPEN_NEXT;

            done += put(bb, dst + done, room, t, strlen(t));
            bb->first = false;
            bb->phase = PH_DATA;
        } else if (bb->phase == PH_DATA) {
            const struct floe_batch_rec *r = &bb->b->recs[bb->rec];
            const char *src = bb->b->data.data + r->off + bb->pos;
            size_t left = r->len - bb->pos, q;

            if (left == 0) {
                bb->phase = PH_CLOSE;
                continue;
            }
            /* Whole quanta straight into dst; the last (padded) one and
             * a quantum that does not fit go through put(). */
            q = (left / 3 < room / 4 ? left / 3 : room / 4) * 3;
            if (q > 0) {
                done += floe_b64_enc(src, q, dst + done);
                bb->pos += q;
            } else {
                char quantum[4];
                size_t k = left < 3 ? left : 3;

                floe_b64_enc(src, k, quantum);
                done += put(bb, dst + done, room, quantum, 4);
                bb->pos += k;
            }
        } else if (bb->phase == PH_CLOSE) {
            done += put(bb, dst + done, room, CLOSE_REC, strlen(CLOSE_REC));
            bb->rec++;
            next_record(bb);
        } else if (bb->phase == PH_TAIL) {
            done += put(bb, dst + done, room, TAIL, strlen(TAIL));
            bb->phase = PH_DONE;
        } else {
            break;
        }
    }
    bb->off += done;
    return done;
}

int floe_batch_body(const struct floe_batch *b, const char *stream,
                    struct floe_buf *body)
{
    struct floe_batch_body bb;
    int rc;

    floe_buf_reset(body);
    rc = floe_batch_body_start(&bb, b, stream);
    if (rc == FLOE_OK)
        rc = floe_buf_reserve(body, bb.len + 1);
    if (rc != FLOE_OK)
        return rc;
    body->len = floe_batch_body_read(&bb, body->data, bb.len);
    body->data[body->len] = '\0';
    return body->len == bb.len ? FLOE_OK : FLOE_EINVAL;
}

/* One RequestResponses entry: is it an acknowledgement (a RecordId and no
 * ErrorCode other than null)? The first failure's code and message go to
 * `err`. */
static int read_entry(struct floe_jscan *js, bool *out_ok, size_t *nfail,
                      char *err)
{
    struct floe_jstr key, id = { NULL, 0 }, code = { NULL, 0 },
                          msg = { NULL, 0 };
    bool has_id = false, has_code = false;
    int rc = FLOE_OK;

    if (!floe_jscan_take(js, '{'))
        return FLOE_EINVAL;
    if (!floe_jscan_take(js, '}')) {
        do {
            rc = floe_jscan_string(js, &key);
            if (rc == FLOE_OK && !floe_jscan_take(js, ':'))
                rc = FLOE_EINVAL;
            if (rc != FLOE_OK)
                return rc;
            if (floe_jstr_eq(&key, "RecordId") &&
                floe_jscan_peek(js) == '"') {
                rc = floe_jscan_string(js, &id);
                has_id = true;
            } else if (floe_jstr_eq(&key, "ErrorCode") &&
                       floe_jscan_peek(js) == '"') {
                rc = floe_jscan_string(js, &code);
                has_code = true;
            } else if (floe_jstr_eq(&key, "ErrorCode") &&
                       floe_jscan_peek(js) != 'n') {
                rc = floe_jscan_skip(js); /* odd, but an error all the same */
                has_code = true;
            } else if (floe_jstr_eq(&key, "ErrorMessage") &&
                       floe_jscan_peek(js) == '"') {
                rc = floe_jscan_string(js, &msg);
            } else {
                rc = floe_jscan_skip(js); /* incl. "ErrorCode": null */
            }
            if (rc != FLOE_OK)
                return rc;
        } while (floe_jscan_take(js, ','));
        if (!floe_jscan_take(js, '}'))
            return FLOE_EINVAL;
    }
    *out_ok = has_id && !has_code;
    if (!*out_ok && (*nfail)++ == 0) {
        char c[128] = "no RecordId", m[300] = "";

        if (has_code)
            floe_jstr_decode(&code, c, sizeof(c));
        if (msg.s != NULL)
            floe_jstr_decode(&msg, m, sizeof(m));
        floe_err(err, FLOE_EREMOTE, "%s: %s", c, m);
    }
    return FLOE_OK;
}

/* Read the whole answer into ok[] (one flag per pending record) before
 * marking anything, so a bad answer changes nothing. */
int floe_batch_apply_response(struct floe_batch *b, const char *json,
                              size_t len, size_t *out_acked, char *err)
{
    bool ok[FLOE_BATCH_MAX_RECORDS];
    struct floe_jscan js;
    struct floe_jstr key;
    size_t pending = floe_batch_pending(b), i, k = 0, nresp = 0, nfail = 0;
    bool has_failed = false, has_resps = false;
    const char *shape = NULL;
    double failed = 0;
    int rc = FLOE_OK;

    *out_acked = 0;
    floe_jscan_init(&js, json, len, 0);
    if (!floe_jscan_take(&js, '{'))
        return floe_err(err, FLOE_EREMOTE,
                        "PutRecordBatch response is not a JSON object");
    if (!floe_jscan_take(&js, '}')) {
        do {
            rc = floe_jscan_string(&js, &key);
            if (rc == FLOE_OK && !floe_jscan_take(&js, ':'))
                rc = FLOE_EINVAL;
            if (rc != FLOE_OK)
                break;
            if (floe_jstr_eq(&key, "FailedPutCount") &&
                floe_jscan_peek(&js) != 'n') {
                rc = floe_jscan_number(&js, &failed);
                has_failed = rc == FLOE_OK;
            } else if (floe_jstr_eq(&key, "RequestResponses")) {
                has_resps = true;
                if (!floe_jscan_take(&js, '[')) {
                    shape = "RequestResponses is not a list";
                    rc = FLOE_EINVAL;
                    break;
                }
                if (floe_jscan_take(&js, ']'))
                    continue;
                do {
                    bool e = false;

                    rc = read_entry(&js, &e, &nfail, err);
                    if (nresp < FLOE_BATCH_MAX_RECORDS)
                        ok[nresp] = e;
                    nresp++;
                } while (rc == FLOE_OK && floe_jscan_take(&js, ','));
                if (rc == FLOE_OK && !floe_jscan_take(&js, ']'))
                    rc = FLOE_EINVAL;
            } else {
                rc = floe_jscan_skip(&js);
            }
        } while (rc == FLOE_OK && floe_jscan_take(&js, ','));
        if (rc == FLOE_OK && !floe_jscan_take(&js, '}'))
            rc = FLOE_EINVAL;
    }
    if (rc == FLOE_OK)
        rc = floe_jscan_end(&js);
    if (rc != FLOE_OK && shape != NULL)
        return floe_err(err, FLOE_EREMOTE, "PutRecordBatch response: %s",
                        shape);
    if (rc != FLOE_OK)
        return floe_err(err, FLOE_EREMOTE,
                        "PutRecordBatch response is not valid JSON (at byte "
                        "%zu)", (size_t)(js.p - json));
    if (!has_failed)
        return floe_err(err, FLOE_EREMOTE,
                        "PutRecordBatch response has no FailedPutCount");
    if (!has_resps && failed == 0) {
        for (i = 0; i < b->n; i++) /* lenient: all in, no per-record list */
            b->recs[i].acked = true;
        b->n_acked = b->n;
        *out_acked = pending;
        return FLOE_OK;
    }
    if (!has_resps || nresp != pending)
        return floe_err(err, FLOE_EREMOTE,
                        "PutRecordBatch response has %ld RequestResponses "
                        "for %zu records", has_resps ? (long)nresp : -1L,
                        pending);
    if (failed != (double)nfail) /* contradicts itself: trust nothing */
        return floe_err(err, FLOE_EREMOTE,
                        "PutRecordBatch response says FailedPutCount %g but "
                        "%zu entries failed", failed, nfail);
    for (i = 0; i < b->n; i++) {
        if (b->recs[i].acked)
            continue;
        if (ok[k++]) {
            b->recs[i].acked = true;
            (*out_acked)++;
        }
    }
    b->n_acked += *out_acked;
    return FLOE_OK;
}
