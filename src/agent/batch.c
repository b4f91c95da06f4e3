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

int floe_batch_commit(struct floe_batch *b, size_t start, uint32_t file,
                      uint64_t end_off, int64_t now_ms)
{
    size_t len = b->data.len - start;
    struct floe_batch_rec *r;

    if (!floe_batch_fits(b, len) || len > FLOE_RECORD_MAX_BYTES)
        return FLOE_ETOOBIG;
    r = &b->recs[b->n++];
    r->off = (uint32_t)start;
    r->len = (uint32_t)len;
    r->file = file;
    r->end_off = end_off;
    r->acked = false;
    if (b->n == 1)
        b->first_ms = now_ms;
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

int floe_batch_body(const struct floe_batch *b, const char *stream,
                    struct floe_buf *body)
{
    size_t i, need = 0;
    int rc, first = 1;

    floe_buf_reset(body);
    for (i = 0; i < b->n; i++)
        if (!b->recs[i].acked)
            need += floe_b64_enc_len(b->recs[i].len) + 12;
    rc = floe_buf_reserve(body, need + strlen(stream) * 6 + 64);
    if (rc != FLOE_OK)
        return rc;
    rc = floe_buf_adds(body, "{\"DeliveryStreamName\":");
    if (rc == FLOE_OK)
        rc = floe_buf_add_json_str(body, stream, strlen(stream));
    if (rc == FLOE_OK)
        rc = floe_buf_adds(body, ",\"Records\":[");
    for (i = 0; i < b->n && rc == FLOE_OK; i++) {
        const struct floe_batch_rec *r = &b->recs[i];

        if (r->acked)
            continue;
        rc = floe_buf_adds(body, first ? "{\"Data\":\"" : ",{\"Data\":\"");
        first = 0;
        if (rc != FLOE_OK)
            break;
        rc = floe_buf_reserve(body, floe_b64_enc_len(r->len) + 2);
        if (rc != FLOE_OK)
            break;
        body->len += floe_b64_enc(b->data.data + r->off, r->len,
                                  body->data + body->len);
        rc = floe_buf_add(body, "\"}", 2);
    }
    if (rc == FLOE_OK)
        rc = floe_buf_add(body, "]}", 2);
    return rc;
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
