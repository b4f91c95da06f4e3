/* batch.c - PutRecordBatch buffer: build the request body, apply the
 * response (batch.h). The body is written in one pass: the base64 of each
 * record is encoded directly into reserved space of the body buffer. */
#include "agent/batch.h"

#include <string.h>

#include <cjson/cJSON.h>

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
    size_t used = b->n > 0 ? b->recs[b->n - 1].off + b->recs[b->n - 1].len
                           : 0;

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
    r->off = start;
    r->len = (uint32_t)len;
    r->file = file;
    r->end_off = end_off;
    r->acked = false;
    if (b->n == 1)
        b->first_ms = now_ms;
    return FLOE_OK;
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

int floe_batch_apply_response(struct floe_batch *b, const char *json,
                              size_t len, size_t *out_acked, char *err)
{
    cJSON *root = NULL, *failed, *resps, *e;
    size_t pending = floe_batch_pending(b), i, k = 0, acked = 0;
    int rc = FLOE_OK;

    *out_acked = 0;
    root = cJSON_ParseWithLength(json, len);
    if (root == NULL || !cJSON_IsObject(root)) {
        rc = floe_err(err, FLOE_EREMOTE,
                      "PutRecordBatch response is not a JSON object");
        goto cleanup;
    }
    failed = cJSON_GetObjectItemCaseSensitive(root, "FailedPutCount");
    resps = cJSON_GetObjectItemCaseSensitive(root, "RequestResponses");
    if (!cJSON_IsNumber(failed)) {
        rc = floe_err(err, FLOE_EREMOTE,
                      "PutRecordBatch response has no FailedPutCount");
        goto cleanup;
    }
    if (resps == NULL && failed->valuedouble == 0) {
        acked = pending; /* lenient: all in, no per-record list */
        for (i = 0; i < b->n; i++)
            b->recs[i].acked = true;
        b->n_acked = b->n;
        goto cleanup;
    }
    if (!cJSON_IsArray(resps) ||
        (size_t)cJSON_GetArraySize(resps) != pending) {
        rc = floe_err(err, FLOE_EREMOTE,
                      "PutRecordBatch response has %d RequestResponses for "
                      "%zu records",
                      cJSON_IsArray(resps) ? cJSON_GetArraySize(resps) : -1,
                      pending);
        goto cleanup;
    }
    e = resps->child;
    for (i = 0; i < b->n && e != NULL; i++) {
        cJSON *id, *code;

        if (b->recs[i].acked)
            continue;
        id = cJSON_GetObjectItemCaseSensitive(e, "RecordId");
        code = cJSON_GetObjectItemCaseSensitive(e, "ErrorCode");
        if (cJSON_IsString(id) && code == NULL) {
            b->recs[i].acked = true;
            acked++;
        } else if (k++ == 0) {
            cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "ErrorMessage");

            floe_err(err, FLOE_EREMOTE, "%s: %s",
                     cJSON_IsString(code) ? code->valuestring : "no RecordId",
                     cJSON_IsString(msg) ? msg->valuestring : "");
        }
        e = e->next;
    }
    b->n_acked += acked;
cleanup:
    *out_acked = acked;
    cJSON_Delete(root);
    return rc;
}
