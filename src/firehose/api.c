/* api.c - Firehose JSON 1.1 dispatch, the data plane (PutRecord,
 * PutRecordBatch) and the HTTP handler.
 * A put is validated completely (counts, sizes, base64 shape) before any
 * byte is buffered; the base64 text is then decoded straight into the
 * stream's buffer by floe_fh_deliver_put under the registry's read lock;
 * the lock is dropped before waiting for the WAL's fdatasync
 * (floe_fh_deliver_sync), so an admin call never waits behind a disk. Put bodies of the usual shape are read by the
 * allocation-free putparse.h; the rest (and every other operation) by
 * cJSON, with the same answers. Every reply carries x-amzn-RequestId. */
#define FLOE_LOG_MOD "firehose.api"

#include "firehose/api.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/jscan.h"
#include "core/log.h"
#include "core/util.h"
#include "firehose/admin.h"
#include "firehose/putparse.h"
#include "firehose/tags.h"

int floe_fh_fail(struct floe_fh_err *e, const char *type, const char *fmt,
                 ...)
{
    va_list ap;

    e->type = type;
    e->status = strcmp(type, "ServiceUnavailableException") == 0 ||
                        strcmp(type, "InternalFailure") == 0
                    ? 500
                    : 400;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int floe_fh_api_init(struct floe_fh_api *api, struct floe_fh_registry *reg,
                     struct floe_fh_deliver *dlv, struct floe_metrics *metrics)
{
    unsigned char r[8];
    int i, rc;

    memset(api, 0, sizeof(*api));
    api->reg = reg;
    api->dlv = dlv;
    api->metrics = metrics;
    api->requests = floe_metrics_counter(
        metrics, "floe_firehose_requests_total", NULL,
        "Firehose API requests (POST /).");
    api->errors = floe_metrics_counter(
        metrics, "floe_firehose_request_errors_total", NULL,
        "Requests answered with an error.");
    api->records = floe_metrics_counter(
        metrics, "floe_firehose_records_total", NULL,
        "Records accepted by PutRecord and PutRecordBatch.");
    api->auth_failures = floe_metrics_counter(
        metrics, "floe_firehose_auth_failures_total", NULL,
        "Requests refused by SigV4 verification.");
    if (!api->requests || !api->errors || !api->records ||
        !api->auth_failures)
        return FLOE_ENOMEM;
    rc = floe_random(r, sizeof(r));
    for (i = 0; i < 8; i++)
        snprintf(api->run_id + 2 * i, 3, "%02x", r[i]);
    memcpy(api->run_bytes, r, sizeof(r));
    atomic_init(&api->record_seq, 0);
    atomic_init(&api->request_seq, 0);
    return rc;
}

/* x-amzn-RequestId: unique, not secret, so no system call per request:
 * the process's random run bytes, then a sequence number, as a UUID. */
static void request_id(struct floe_fh_api *api, char out[FLOE_UUID_LEN + 1])
{
    unsigned char b[16];
    unsigned long long seq = atomic_fetch_add(&api->request_seq, 1);
    int i;

    memcpy(b, api->run_bytes, 8);
    for (i = 0; i < 8; i++)
        b[15 - i] = (unsigned char)(seq >> (8 * i));
    floe_uuid_format(b, out);
}

/* Decoded size of standard padded base64, or -1 when the length or the
 * padding cannot be base64 (characters are checked while decoding). */
static long long b64_size(const char *s, size_t n)
{
    size_t pad = 0;

    if (n % 4 != 0)
        return -1;
    if (n > 0 && s[n - 1] == '=')
        pad++;
    if (n > 1 && s[n - 2] == '=')
        pad++;
    return (long long)(n / 4 * 3 - pad);
}

/* Lower-case hex of `v` in exactly 16 characters. */
static void hex16(char *out, unsigned long long v)
{
    static const char hex[] = "0123456789abcdef";
    int i;

    for (i = 15; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
}

/* Check a record's Data text (b64/b64_len set) and fill b->len. `idx` is
 * the record's index, < 0 for PutRecord's single record. */
static int check_data(struct floe_fh_blob *b, int idx, struct floe_fh_err *e)
{
    long long n = b64_size(b->b64, b->b64_len);
    char path[48];

    if (n >= 0 && n <= FLOE_FH_MAX_RECORD) {
        b->len = (size_t)n;
        return 0;
    }
    if (idx < 0)
        snprintf(path, sizeof(path), "record.data");
    else
        snprintf(path, sizeof(path), "records.%d.member.data", idx + 1);
    if (n < 0)
        return floe_fh_fail(e, "SerializationException",
                            "%s is not valid base64 (length %zu is not a "
                            "multiple of 4)", path, b->b64_len);
    return floe_fh_fail(e, "ValidationException",
                        "1 validation error detected: Value at '%s' "
                        "failed to satisfy constraint: Member must have "
                        "length less than or equal to %d", path,
                        FLOE_FH_MAX_RECORD);
}

/* Validate one record object; fills blob. `idx` < 0 for PutRecord. */
static int check_record(const cJSON *rec, int idx, struct floe_fh_blob *b,
                        struct floe_fh_err *e)
{
    const cJSON *data;
    char path[48];

    if (idx < 0)
        snprintf(path, sizeof(path), "record.data");
    else
        snprintf(path, sizeof(path), "records.%d.member.data", idx + 1);
    if (rec == NULL || cJSON_IsNull(rec))
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'%.*s' failed to satisfy constraint: Member "
                            "must not be null", (int)(strlen(path) - 5),
                            path);
    if (!cJSON_IsObject(rec))
        return floe_fh_fail(e, "SerializationException",
                            "%.*s must be an object",
                            (int)(strlen(path) - 5), path);
    data = cJSON_GetObjectItemCaseSensitive(rec, "Data");
    if (data == NULL || cJSON_IsNull(data))
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'%s' failed to satisfy constraint: Member must "
                            "not be null", path);
    if (!cJSON_IsString(data))
        return floe_fh_fail(e, "SerializationException",
                            "%s must be a base64 string", path);
    b->b64 = data->valuestring;
    b->b64_len = strlen(data->valuestring);
    return check_data(b, idx, e);
}

/* Look the stream up (registry read lock taken; released by caller) and
 * buffer the records; *sync for floe_fh_deliver_sync. */
static int put(struct floe_fh_api *api, const char *name,
               const struct floe_fh_blob *recs, size_t n, size_t *accepted,
               uint64_t *sync, struct floe_fh_err *e)
{
    struct floe_fh_stream *s;
    size_t bad = 0;
    int rc;

    *accepted = 0;
    s = floe_fh_registry_find(api->reg, name);
    if (s == NULL)
        return floe_fh_admin_not_found(name, e);
    rc = floe_fh_deliver_put(api->dlv, s, recs, n, floe_now_ms(), accepted,
                             &bad, sync);
    if (rc == FLOE_EINVAL)
        return floe_fh_fail(e, "SerializationException",
                            "%s%zu%s is not valid base64",
                            n > 1 ? "records." : "record.data", bad + 1,
                            n > 1 ? ".member.data" : "");
    if (rc == FLOE_EAGAIN)
        return floe_fh_fail(e, "ServiceUnavailableException", "Slow down.");
    if (rc != FLOE_OK)
        return floe_fh_fail(e, "ServiceUnavailableException",
                            "Slow down. (records not stored: %s)",
                            floe_strerror(rc));
    return 0;
}

/* PutRecordBatch reply: one RecordId per accepted record (consecutive
 * sequence numbers from `seq`), the refused tail as ErrorCode entries.
 * Written straight into one reserved buffer. */
static int batch_reply(struct floe_fh_api *api, size_t n, size_t accepted,
                       unsigned long long seq, struct floe_buf *out)
{
    static const char head[] = "{\"RecordId\":\"";
    const size_t per = sizeof(head) - 1 + 32 + 3; /* ,{"RecordId":"..."} */
    size_t i;
    char *p;
    int rc;

    rc = floe_buf_addf(out, "{\"FailedPutCount\":%zu,\"Encrypted\":false,"
                            "\"RequestResponses\":[", n - accepted);
    if (rc == FLOE_OK)
        rc = floe_buf_reserve(out, per * accepted + 2);
    if (rc != FLOE_OK)
        return rc;
    p = out->data + out->len;
    for (i = 0; i < accepted; i++) {
        if (i > 0)
            *p++ = ',';
        memcpy(p, head, sizeof(head) - 1);
        p += sizeof(head) - 1;
        memcpy(p, api->run_id, 16);
        hex16(p + 16, seq + i);
        p += 32;
        *p++ = '"';
        *p++ = '}';
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    for (i = accepted; i < n && rc == FLOE_OK; i++)
        rc = floe_buf_adds(out, i > 0 ? ",{\"ErrorCode\":\"ServiceUnavailable"
                                        "Exception\",\"ErrorMessage\":\"Slow "
                                        "down.\"}"
                                      : "{\"ErrorCode\":\"ServiceUnavailable"
                                        "Exception\",\"ErrorMessage\":\"Slow "
                                        "down.\"}");
    return rc == FLOE_OK ? floe_buf_adds(out, "]}") : rc;
}

/* The data plane once the body is read, whichever parser read it: `recs`
 * are checked (check_data) and in order. PutRecord when !batch. */
static int put_records(struct floe_fh_api *api, const char *name,
                       const struct floe_fh_blob *recs, size_t n, bool batch,
                       struct floe_buf *out, struct floe_fh_err *e)
{
    size_t total = 0, accepted = 0, i;
    unsigned long long seq;
    uint64_t sync = 0;
    int rc;

    for (i = 0; i < n; i++)
        total += recs[i].len;
    if (batch && total > FLOE_FH_MAX_BATCH_BYTES)
        return floe_fh_fail(e, "InvalidArgumentException",
                            "Records size exceeds 4 MB limit");
    floe_fh_registry_rdlock(api->reg);
    rc = put(api, name, recs, n, &accepted, &sync, e);
    floe_fh_registry_unlock(api->reg);
    if (rc != 0)
        return rc;
    rc = floe_fh_deliver_sync(api->dlv, sync);
    if (rc != FLOE_OK) /* buffered, but not durable: not acknowledged */
        return floe_fh_fail(e, "ServiceUnavailableException",
                            "Slow down. (records not stored: %s)",
                            floe_strerror(rc));
    floe_counter_add(api->records, accepted);
    if (!batch && accepted != 1) /* cannot happen: one fits or EAGAIN */
        return floe_fh_fail(e, "ServiceUnavailableException", "Slow down.");
    seq = atomic_fetch_add(&api->record_seq, accepted);
    if (!batch) {
        char id[33];

        memcpy(id, api->run_id, 16);
        hex16(id + 16, seq);
        id[32] = '\0';
        floe_buf_addf(out, "{\"RecordId\":\"%s\",\"Encrypted\":false}", id);
        return 0;
    }
    if (batch_reply(api, n, accepted, seq, out) != FLOE_OK)
        return floe_fh_fail(e, "ServiceUnavailableException",
                            "out of memory");
    if (accepted < n)
        floe_log_warn("%s: %zu of %zu records refused (buffer full: "
                      "back-pressure)", name, n - accepted, n);
    return 0;
}

static int op_put_record(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_blob b;
    const char *name;

    if (floe_fh_admin_name(req, &name, e) != 0 ||
        check_record(cJSON_GetObjectItemCaseSensitive(req, "Record"), -1, &b,
                     e) != 0)
        return -1;
    return put_records(api, name, &b, 1, false, out, e);
}

static int op_put_batch(struct floe_fh_api *api, const cJSON *req,
                        struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_blob recs[FLOE_FH_MAX_BATCH_RECORDS];
    const cJSON *arr, *rec;
    const char *name;
    size_t n = 0;
    int count;

    if (floe_fh_admin_name(req, &name, e) != 0)
        return -1;
    arr = cJSON_GetObjectItemCaseSensitive(req, "Records");
    if (arr == NULL || cJSON_IsNull(arr))
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'records' failed to satisfy constraint: Member "
                            "must not be null");
    if (!cJSON_IsArray(arr))
        return floe_fh_fail(e, "SerializationException",
                            "Records must be a list");
    count = cJSON_GetArraySize(arr);
    if (count < 1)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '[]' at "
                            "'records' failed to satisfy constraint: Member "
                            "must have length greater than or equal to 1");
    if (count > FLOE_FH_MAX_BATCH_RECORDS)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value at "
                            "'records' failed to satisfy constraint: Member "
                            "must have length less than or equal to %d "
                            "(got %d records)", FLOE_FH_MAX_BATCH_RECORDS,
                            count);
    cJSON_ArrayForEach(rec, arr) {
        if (check_record(rec, (int)n, &recs[n], e) != 0)
            return -1;
        n++;
    }
    return put_records(api, name, recs, n, true, out, e);
}

/* PutRecord(Batch) through putparse.h, without building a cJSON tree: 0
 * done, -1 failed (e set), 1 the body needs the general parser. The fast
 * parser takes only bodies cJSON would read the same way, so both paths
 * give the same answer. */
static int put_fast(struct floe_fh_api *api, bool batch, const char *body,
                    size_t len, struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_blob recs[FLOE_FH_MAX_BATCH_RECORDS];
    struct floe_fh_put_body pb;
    size_t i;

    if (floe_fh_put_parse(body, len, batch, &pb, recs,
                          FLOE_FH_MAX_BATCH_RECORDS) != FLOE_OK)
        return 1;
    for (i = 0; i < pb.n; i++)
        if (check_data(&recs[i], batch ? (int)i : -1, e) != 0)
            return -1;
    return put_records(api, pb.name, recs, pb.n, batch, out, e);
}

/* Could the string text s[0..n) (escapes not decoded) hold a NUL: a raw
 * byte, or a \u0000 escape? */
static bool text_has_nul(const char *s, size_t n)
{
    size_t i;

    if (memchr(s, '\0', n) != NULL)
        return true;
    for (i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
            return true;
        i++; /* the escaped character: "\\u0000" is no NUL */
    }
    return false;
}

/* Walk one value; 1 (with its member path in `path`, AWS style:
 * "extendedS3DestinationConfiguration.prefix", "tags.1.member.key") when
 * a string in it (a member name too) holds a NUL, 0 when none does, -1
 * when the text is not JSON the scanner reads. */
static int nul_walk(struct floe_jscan *js, struct floe_buf *path, int depth)
{
    struct floe_jstr str;
    size_t mark = path->len, i = 0;
    char c = floe_jscan_peek(js);
    int r = 0;

    if (depth > FLOE_JSCAN_DEPTH_MAX)
        return -1;
    if (c == '"') {
        if (floe_jscan_string(js, &str) != FLOE_OK)
            return -1;
        return text_has_nul(str.s, str.len) ? 1 : 0;
    }
    if (c != '{' && c != '[')
        return floe_jscan_skip(js) == FLOE_OK ? 0 : -1;
    floe_jscan_take(js, c);
    if (floe_jscan_take(js, c == '{' ? '}' : ']'))
        return 0;
    do {
        path->len = mark;
        if (c == '{') {
            if (floe_jscan_string(js, &str) != FLOE_OK ||
                !floe_jscan_take(js, ':'))
                return -1;
            if (text_has_nul(str.s, str.len))
                return 1; /* the path of the object that has it */
            if ((mark > 0 && floe_buf_addc(path, '.') != FLOE_OK) ||
                floe_buf_add(path, str.s, str.len) != FLOE_OK)
                return -1;
            if (str.len > 0) /* AWS names members in lowerCamelCase */
                path->data[path->len - str.len] =
                    (char)tolower((unsigned char)str.s[0]);
        } else if (floe_buf_addf(path, "%s%zu.member", mark ? "." : "",
                                 ++i) != FLOE_OK) {
            return -1;
        }
        r = nul_walk(js, path, depth + 1);
        if (r != 0)
            return r;
    } while (floe_jscan_take(js, ','));
    path->len = mark;
    return floe_jscan_take(js, c == '{' ? '}' : ']') ? 0 : -1;
}

/* cJSON ends a string at a NUL, so "api\u0000junk" would be read as
 * "api": refuse any body whose strings hold one, naming the member, as
 * AWS's validation does (a stream name breaks its pattern). */
static int check_nul(const char *body, size_t len, struct floe_fh_err *e)
{
    struct floe_jscan js;
    struct floe_buf path;
    const char *where;
    int r;

    if (!text_has_nul(body, len))
        return 0;
    floe_buf_init(&path, 512);
    floe_jscan_init(&js, body, len, FLOE_JSCAN_RAW_CTRL);
    r = nul_walk(&js, &path, 0);
    if (path.data != NULL)
        path.data[path.len] = '\0'; /* the walk cuts len back */
    where = r == 1 && path.len > 0 ? path.data : "request";
    if (strcmp(where, "deliveryStreamName") == 0)
        floe_fh_fail(e, "ValidationException",
                     "1 validation error detected: Value at "
                     "'deliveryStreamName' failed to satisfy constraint: "
                     "Member must satisfy regular expression pattern: "
                     "[a-zA-Z0-9_.-]+");
    else
        floe_fh_fail(e, "ValidationException",
                     "1 validation error detected: Value at '%s' failed "
                     "to satisfy constraint: Member must not contain the "
                     "character U+0000", where);
    floe_buf_free(&path);
    return -1;
}

typedef int (*op_fn)(struct floe_fh_api *api, const cJSON *req,
                     struct floe_buf *out, struct floe_fh_err *e);

static const struct {
    const char *name;
    op_fn fn;
} ops[] = {
    { "PutRecordBatch", op_put_batch },
    { "PutRecord", op_put_record },
    { "CreateDeliveryStream", floe_fh_admin_create },
    { "DescribeDeliveryStream", floe_fh_admin_describe },
    { "ListDeliveryStreams", floe_fh_admin_list },
    { "DeleteDeliveryStream", floe_fh_admin_delete },
    { "UpdateDestination", floe_fh_admin_update },
    { "TagDeliveryStream", floe_fh_tags_tag },
    { "UntagDeliveryStream", floe_fh_tags_untag },
    { "ListTagsForDeliveryStream", floe_fh_tags_list },
    { NULL, NULL },
};

int floe_fh_api_call(struct floe_fh_api *api, const char *op,
                     const char *body, size_t len, struct floe_buf *out,
                     const char **out_type)
{
    struct floe_fh_err e;
    cJSON *req = NULL;
    op_fn fn = NULL;
    size_t start = out->len;
    int i;

    memset(&e, 0, sizeof(e));
    floe_counter_add(api->requests, 1);
    for (i = 0; op != NULL && ops[i].name != NULL; i++)
        if (strcmp(op, ops[i].name) == 0)
            fn = ops[i].fn;
    if (fn == NULL) {
        floe_fh_fail(&e, "UnknownOperationException",
                     op == NULL ? "Missing X-Amz-Target header (expected "
                                  "Firehose_20150804.<Operation>)"
                                : "Unknown operation %.64s",
                     op);
        goto fail;
    }
    while (len > 0 && (body[len - 1] == ' ' || body[len - 1] == '\n' ||
                       body[len - 1] == '\r' || body[len - 1] == '\t'))
        len--;
    if (fn == op_put_batch || fn == op_put_record) {
        int r = put_fast(api, fn == op_put_batch, body, len, out, &e);

        if (r < 0)
            goto fail;
        if (r == 0)
            goto done;
    }
    if (check_nul(body, len, &e) != 0)
        goto fail;
    req = len == 0 ? cJSON_CreateObject() : cJSON_ParseWithLength(body, len);
    if (req == NULL || !cJSON_IsObject(req)) {
        floe_fh_fail(&e, "SerializationException",
                     "Request body is not a JSON object");
        goto fail;
    }
    if (fn(api, req, out, &e) != 0)
        goto fail;
    cJSON_Delete(req);
done:
    *out_type = NULL;
    return 200;
fail:
    cJSON_Delete(req);
    floe_counter_add(api->errors, 1);
    out->len = start; /* drop a partial reply */
    if (out->data != NULL)
        out->data[start] = '\0';
    floe_buf_addf(out, "{\"__type\":\"%s\",\"message\":", e.type);
    floe_buf_add_json_str(out, e.msg, strlen(e.msg));
    floe_buf_addc(out, '}');
    floe_log_debug("%s -> %s: %s", op ? op : "(no target)", e.type, e.msg);
    *out_type = e.type;
    return e.status;
}

static void metrics(struct floe_fh_api *api, struct floe_http_resp *resp)
{
    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             FLOE_METRICS_CONTENT_TYPE);
    if (floe_metrics_render(api->metrics, &resp->body) != FLOE_OK) {
        resp->status = 500;
        floe_buf_reset(&resp->body);
        floe_buf_adds(&resp->body, "metrics too large to render\n");
    }
}

/* Readiness: can a put be acknowledged now? */
static void ready(struct floe_fh_api *api, struct floe_http_resp *resp)
{
    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             "text/plain; charset=utf-8");
    if (api->wal != NULL && !floe_fh_wal_healthy(api->wal)) {
        resp->status = 503;
        floe_buf_adds(&resp->body, "not ready: the write-ahead log cannot "
                                   "be written (puts are refused; see "
                                   "floe_firehose_wal_write_errors_total)\n");
        return;
    }
    floe_buf_adds(&resp->body, "ready\n");
}

static const char *req_header(void *ud, const char *name)
{
    return floe_http_req_header(ud, name);
}

void floe_fh_api_handle(void *ud, const struct floe_http_req *req,
                        struct floe_http_resp *resp)
{
    struct floe_fh_api *api = ud;
    const char *target, *op = NULL, *type = NULL;
    char rid[FLOE_UUID_LEN + 1], bad[128];
    struct floe_fh_auth_err ae;

    request_id(api, rid);
    floe_http_resp_header(resp, "x-amzn-RequestId", rid);
    if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/metrics") == 0) {
        metrics(api, resp);
        return;
    }
    if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/ready") == 0) {
        ready(api, resp);
        return;
    }
    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             "application/x-amz-json-1.1");
    if (strcmp(req->method, "POST") != 0 || strcmp(req->path, "/") != 0) {
        resp->status = 404;
        type = "UnknownOperationException";
        floe_buf_adds(&resp->body, "{\"__type\":\"UnknownOperationException\","
                                   "\"message\":\"Firehose API is POST /; "
                                   "metrics are GET /metrics, readiness "
                                   "GET /ready\"}");
    } else if (req->too_big) {
        resp->status = 413;
        type = "SerializationException";
        floe_buf_adds(&resp->body,
                      "{\"__type\":\"SerializationException\",\"message\":"
                      "\"Request body too large\"}");
    } else if (floe_fh_auth_check(&api->auth, req->method, req->path,
                                  req->body, req->body_len, req_header,
                                  (void *)req, floe_now_ms(), &ae) != 0) {
        floe_counter_add(api->requests, 1);
        floe_counter_add(api->errors, 1);
        floe_counter_add(api->auth_failures, 1);
        resp->status = ae.status;
        type = ae.type;
        floe_buf_addf(&resp->body, "{\"__type\":\"%s\",\"message\":",
                      ae.type);
        floe_buf_add_json_str(&resp->body, ae.msg, strlen(ae.msg));
        floe_buf_addc(&resp->body, '}');
        floe_log_debug("request refused: %s: %s", ae.type, ae.msg);
    } else {
        target = floe_http_req_header(req, "X-Amz-Target");
        if (target != NULL &&
            strncmp(target, FLOE_FH_TARGET_PREFIX,
                    strlen(FLOE_FH_TARGET_PREFIX)) == 0)
            op = target + strlen(FLOE_FH_TARGET_PREFIX);
        else if (target != NULL) /* matches no operation: named in msg */
            op = snprintf(bad, sizeof(bad), "'%.64s' (expected %s<Op>)",
                          target, FLOE_FH_TARGET_PREFIX) > 0 ? bad : NULL;
        resp->status = floe_fh_api_call(api, op, req->body, req->body_len,
                                        &resp->body, &type);
    }
    if (type != NULL)
        floe_http_resp_header(resp, "x-amzn-ErrorType", type);
}
