/* test_firehose.c - unit tests of floe firehose: prefix evaluation and
 * rules, object key naming, JSON request validation through the
 * transport-free API, gzip delivery round trip (zlib inflate), WAL
 * append/replay/retire, error-output keys (rule 7) and the WAL's .done
 * sidecar (delivered entries are not replayed). */
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include <cjson/cJSON.h>

#include "core/b64.h"
#include "core/buf.h"
#include "core/util.h"
#include "firehose/api.h"
#include "firehose/deliver.h"
#include "firehose/prefix.h"
#include "firehose/stream.h"
#include "firehose/wal.h"
#include "store/store.h"
#include "fh_rig.h"
#include "test.h"

#define T0 1700000000123LL /* 2023-11-14T22:13:20.123Z */

static void test_prefix_eval_table(void)
{
    static const struct {
        const char *prefix, *want;
        int add_default;
    } cases[] = {
        { "orders/", "orders/2023/11/14/22/", 1 },
        { "", "2023/11/14/22/", 1 },
        { NULL, "2023/11/14/22/", 1 },
        { "orders", "orders2023/11/14/22/", 1 },
        { "x/!{timestamp:yyyy-MM-dd}/", "x/2023-11-14/", 1 },
        { "!{timestamp:yyyy'/lit''s/'HH:mm:ss.SSS}", "2023/lit's/22:13:20.123",
          1 },
        { "d=!{timestamp:DDD}/y=!{timestamp:yy}/m=!{timestamp:MMM}/",
          "d=318/y=23/m=Nov/", 1 },
        { "a/!{timestamp:M/d/H}/", "a/11/14/22/", 1 },
        { "plain/", "plain/", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_buf b;
        char err[FLOE_ERR_LEN];

        floe_buf_init(&b, 4096);
        CHECK(floe_fh_prefix_eval(cases[i].prefix, T0, NULL,
                                  cases[i].add_default, &b, err) == FLOE_OK);
        if (b.data == NULL || strcmp(b.data, cases[i].want) != 0) {
            fprintf(stderr, "  case %zu: got '%s' want '%s'\n", i,
                    b.data ? b.data : "(null)", cases[i].want);
            CHECK(0);
        }
        floe_buf_free(&b);
    }
}

static void test_prefix_random_and_error_type(void)
{
    struct floe_buf a, b;
    char err[FLOE_ERR_LEN];

    floe_buf_init(&a, 4096);
    floe_buf_init(&b, 4096);
    CHECK(floe_fh_prefix_eval("r/!{firehose:random-string}/", T0, NULL, 1, &a,
                              err) == FLOE_OK);
    CHECK(floe_fh_prefix_eval("r/!{firehose:random-string}/", T0, NULL, 1, &b,
                              err) == FLOE_OK);
    /* "r/" + 11 chars + "/" + "yyyy/MM/dd/HH/" */
    CHECK(a.len == 2 + 11 + 1 + 14 && a.data[10] == '-');
    CHECK(strcmp(a.data, b.data) != 0);
    floe_buf_reset(&a);
    CHECK(floe_fh_prefix_eval("e/!{firehose:error-output-type}/", T0,
                              "processing-failed", 0, &a,
                              err) == FLOE_OK);
    CHECK(strcmp(a.data, "e/processing-failed/") == 0);
    /* Not allowed in a Prefix evaluation; out is left unchanged. */
    floe_buf_reset(&a);
    CHECK(floe_fh_prefix_eval("e/!{firehose:error-output-type}/", T0, NULL,
                              1, &a, err) == FLOE_EINVAL);
    CHECK(a.len == 0);
    floe_buf_free(&a);
    floe_buf_free(&b);
}

static void test_prefix_rules(void)
{
    static const struct {
        const char *prefix, *eprefix;
        int rc;
    } cases[] = {
        { "orders/", NULL, FLOE_OK },
        { NULL, NULL, FLOE_OK },
        { "a/!{timestamp:yyyy}/", "err/!{firehose:error-output-type}/",
          FLOE_OK },
        { "a/!{timestamp:yyyy}/", "plain-errors/", FLOE_OK },
        { "a/!{timestamp:yyyy}/", NULL, FLOE_EINVAL },   /* rule 3 */
        { "a/!{timestamp:yyyy}/", "", FLOE_EINVAL },     /* rule 3 */
        { "a/!{timestamp:yyyy}/", "e/!{timestamp:yyyy}/",
          FLOE_EINVAL },                                   /* rule 4 */
        { "a/error-output-type/", NULL, FLOE_EINVAL },    /* rule 5 */
        { "a/!{timestamp:yyyy", "e/", FLOE_EINVAL },       /* rule 2 */
        { "a/!{foo:bar}/", "e/", FLOE_EINVAL },
        { "a/!{firehose:bogus}/", "e/", FLOE_EINVAL },
        { "a/!{timestamp:}/", "e/", FLOE_EINVAL },
        { "a/!{timestamp:QQ}/", "e/!{firehose:error-output-type}",
          FLOE_EINVAL },
        { "a/!{timestamp:'open}/", "e/!{firehose:error-output-type}",
          FLOE_EINVAL },
        { "a/!{partitionKeyFromQuery:id}/", "e/!{firehose:error-output-type}",
          FLOE_ENOTSUP },
    };
    char longp[700];
    char err[FLOE_ERR_LEN];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = floe_fh_prefix_check(cases[i].prefix, cases[i].eprefix, err);

        if (rc != cases[i].rc) {
            fprintf(stderr, "  case %zu: rc %d want %d (%s)\n", i, rc,
                    cases[i].rc, err);
            CHECK(0);
        }
    }
    memset(longp, 'a', sizeof(longp) - 1); /* rule 6: > 512 evaluated */
    longp[sizeof(longp) - 1] = '\0';
    CHECK(floe_fh_prefix_check(longp, NULL, err) == FLOE_EINVAL);
    CHECK(strstr(err, "512") != NULL);
}

/* Found by tests/fuzz/fuzz_prefix: the check evaluated at one time (a
 * zero second, single-digit month) and an ErrorOutputPrefix without its
 * default time path, so prefixes it accepted evaluated to more than 512
 * characters at other times or as delivery evaluates them. */
static void test_prefix_rule6_at_any_time(void)
{
    static const int64_t times[] = { 1536000000000LL, 1538351999999LL,
                                      1546300799999LL, 1700000000000LL };
    char p[1100], e[1100], err[FLOE_ERR_LEN];
    struct floe_buf out;
    size_t i, k;

    /* 432 literal + 40 x "s-": 512 at a zero second, 552 at :59 */
    memset(p, 'a', 432);
    memcpy(p + 432, "!{timestamp:", sizeof("!{timestamp:"));
    for (k = 0; k < 40; k++)
        strcat(p, "s-");
    strcat(p, "}");
    CHECK(floe_fh_prefix_check(p, "e/!{firehose:error-output-type}/", err) ==
          FLOE_EINVAL);
    CHECK(strstr(err, "512") != NULL);
    /* 505 literal: plus the default yyyy/MM/dd/HH/ is 519 */
    memset(e, 'e', 505);
    e[505] = '\0';
    CHECK(floe_fh_prefix_check(NULL, e, err) == FLOE_EINVAL);
    CHECK(strstr(err, "ErrorOutputPrefix") != NULL);
    /* the largest accepted ones stay within 512 whenever they run */
    e[512 - 14] = '\0';
    p[432 + 12 + 2 * 20] = '\0'; /* 20 x "s-": at most 492 */
    strcat(p, "}");
    CHECK(floe_fh_prefix_check(p, "e/!{firehose:error-output-type}/", err) ==
          FLOE_OK);
    CHECK(floe_fh_prefix_check(NULL, e, err) == FLOE_OK);
    floe_buf_init(&out, 1 << 16);
    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        floe_buf_reset(&out);
        CHECK(floe_fh_prefix_eval(p, times[i], NULL, 1, &out, err) ==
              FLOE_OK);
        CHECK(out.len <= FLOE_FH_PREFIX_EVAL_MAX);
        floe_buf_reset(&out);
        CHECK(floe_fh_prefix_eval(e, times[i], FLOE_FH_ERROR_TYPE_S3, 1, &out,
                                  err) == FLOE_OK);
        CHECK(out.len <= FLOE_FH_PREFIX_EVAL_MAX);
    }
    floe_buf_free(&out);
}

static void test_object_key(void)
{
    struct floe_buf k;
    char err[FLOE_ERR_LEN];
    const char *want = "landing/orders/2023/11/14/22/orders-1-2023-11-14-22-"
                       "13-20-";

    floe_buf_init(&k, 4096);
    CHECK(floe_fh_object_key("landing", "orders/", "orders", 1, T0, ".gz", &k,
                             err) == FLOE_OK);
    CHECK(strncmp(k.data, want, strlen(want)) == 0);
    CHECK(k.len == strlen(want) + FLOE_UUID_LEN + 3);
    CHECK(strcmp(k.data + k.len - 3, ".gz") == 0);
    CHECK(k.data[strlen(want) + 14] == '4'); /* uuid version 4 */
    CHECK(floe_store_key_check(k.data) == FLOE_OK);
    floe_buf_reset(&k);
    CHECK(floe_fh_object_key("b", "", "s", 7, T0, "", &k, err) == FLOE_OK);
    CHECK(strncmp(k.data, "b/2023/11/14/22/s-7-2023-11-14-22-13-20-", 40) ==
          0);
    CHECK(k.len == 40 + FLOE_UUID_LEN);
    floe_buf_free(&k);
}

static void test_error_key(void)
{
    static const struct {
        const char *prefix, *eprefix, *want;
    } cases[] = {
        { "orders/", "err/!{firehose:error-output-type}/",
          "landing/err/s3-delivery-failed/2023/11/14/22/orders-1-2023-11-14-"
          "22-13-20-" },
        { "o/!{timestamp:yyyy}/", "e/!{firehose:error-output-type}/"
          "!{timestamp:MM}/", "landing/e/s3-delivery-failed/11/orders-1-" },
        { "orders/", NULL,
          "landing/orders/s3-delivery-failed/2023/11/14/22/orders-1-" },
        { "orders/", "",
          "landing/orders/s3-delivery-failed/2023/11/14/22/orders-1-" },
        { "", NULL, "landing/s3-delivery-failed/2023/11/14/22/orders-1-" },
        { "x/", "plain/", "landing/plain/2023/11/14/22/orders-1-" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_buf k;
        char err[FLOE_ERR_LEN];

        floe_buf_init(&k, 4096);
        CHECK(floe_fh_error_key("landing", cases[i].prefix, cases[i].eprefix,
                                FLOE_FH_ERROR_TYPE_S3, "orders", 1, T0, ".gz",
                                &k, err) == FLOE_OK);
        if (k.data == NULL ||
            strncmp(k.data, cases[i].want, strlen(cases[i].want)) != 0) {
            fprintf(stderr, "  case %zu: got '%s'\n", i,
                    k.data ? k.data : "(null)");
            CHECK(0);
        }
        CHECK(k.data != NULL && strcmp(k.data + k.len - 3, ".gz") == 0);
        floe_buf_free(&k);
    }
}

static const char *CREATE =
    "{\"DeliveryStreamName\":\"orders\",\"ExtendedS3DestinationConfiguration\""
    ":{\"BucketARN\":\"arn:aws:s3:::landing\",\"RoleARN\":\"r\",\"Prefix\":"
    "\"orders/\",\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":"
    "900},\"CompressionFormat\":\"GZIP\"}}";

static void test_api_validation_table(void)
{
    static const struct {
        const char *op, *body, *type, *needle;
        int status;
    } cases[] = {
        { "ListDeliveryStreams", "", NULL, "\"DeliveryStreamNames\":[\"orders\"]",
          200 },
        { "ListDeliveryStreams", "{\"Limit\":0}", "ValidationException",
          "limit", 400 },
        { NULL, "{}", "UnknownOperationException", "X-Amz-Target", 400 },
        { "Nope", "{}", "UnknownOperationException", "Nope", 400 },
        { "PutRecord", "{", "SerializationException", NULL, 400 },
        { "PutRecord", "\"str\"", "SerializationException", NULL, 400 },
        { "PutRecord", "{\"DeliveryStreamName\":\"x\",\"Record\":{\"Data\":"
                       "\"eA==\"}}",
          "ResourceNotFoundException",
          "Firehose x under account 123456789012 not found.", 400 },
        { "PutRecord", "{\"DeliveryStreamName\":\"orders\"}",
          "ValidationException", "'record'", 400 },
        { "PutRecord", "{\"DeliveryStreamName\":\"orders\",\"Record\":{}}",
          "ValidationException", "'record.data'", 400 },
        { "PutRecord", "{\"DeliveryStreamName\":\"orders\",\"Record\":"
                       "{\"Data\":\"e\"}}",
          "SerializationException", "base64", 400 },
        { "PutRecord", "{\"DeliveryStreamName\":\"orders\",\"Record\":"
                       "{\"Data\":\"e!!=\"}}",
          "SerializationException", "base64", 400 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"orders\",\"Records\":"
                            "{}}",
          "SerializationException", NULL, 400 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"orders\",\"Records\":"
                            "[]}",
          "ValidationException", "greater than or equal to 1", 400 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"orders\",\"Records\":"
                            "[{\"Data\":\"eA==\"},{\"Data\":\"eA==\"},"
                            "{\"Data\":null}]}",
          "ValidationException", "'records.3.member.data'", 400 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"a b\",\"Records\":"
                            "[{\"Data\":\"eA==\"}]}",
          "ValidationException", "deliveryStreamName", 400 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"orders\",\"Records\":"
                            "[{\"Data\":\"eA==\"},{\"Data\":\"eA==\"}]}",
          NULL, "\"FailedPutCount\":0", 200 },
        /* the fast put parser and the cJSON fallback agree */
        { "PutRecordBatch", "{\"Records\":[{\"Data\":\"eA==\"}],"
                            "\"DeliveryStreamName\":\"\\u006frders\"}",
          NULL, "\"FailedPutCount\":0", 200 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"orders\",\"Records\":"
                            "[{\"Data\":\"eA\\u003d\\u003d\"},{\"Data\":"
                            "\"e\\/==\"}]}",
          NULL, "\"FailedPutCount\":0", 200 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"orders\",\"Records\":"
                            "[{\"Data\":\"eA==\"},{\"Data\":\"e!!=\"}]}",
          "SerializationException", "records.2.member.data is not valid "
          "base64", 400 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"orders\",\"Records\":"
                            "[{\"Data\":\"eA==\"},{\"Data\":\"eA=\"}]}",
          "SerializationException", "records.2.member.data is not valid "
          "base64 (length 3", 400 },
        { "PutRecord", "{\"DeliveryStreamName\":\"orders\",\"Record\":"
                       "{\"Data\":\"eA==\"}}",
          NULL, "\",\"Encrypted\":false}", 200 },
        { "PutRecordBatch", "{\"DeliveryStreamName\":\"nope\",\"Records\":"
                            "[{\"Data\":\"eA==\"}]}",
          "ResourceNotFoundException", "Firehose nope under account", 400 },
        { "CreateDeliveryStream", "{\"DeliveryStreamName\":\"orders\","
                                  "\"S3DestinationConfiguration\":{"
                                  "\"BucketARN\":\"arn:aws:s3:::b\"}}",
          "ResourceInUseException", "already exists", 400 },
        { "CreateDeliveryStream", "{\"DeliveryStreamName\":\"n\","
                                  "\"S3DestinationConfiguration\":{"
                                  "\"BucketARN\":\"arn:aws:s3:::a/b\"}}",
          "ValidationException", "bucketARN", 400 },
        { "CreateDeliveryStream", "{\"DeliveryStreamName\":\"n\","
                                  "\"S3DestinationConfiguration\":{}}",
          "ValidationException", "s3DestinationConfiguration.bucketARN", 400 },
        { "CreateDeliveryStream", "{\"DeliveryStreamName\":\"n\"}",
          "InvalidArgumentException", "destination", 400 },
        { "CreateDeliveryStream", "{\"DeliveryStreamName\":\"n\","
                                  "\"DeliveryStreamType\":\"MSKAsSource\","
                                  "\"S3DestinationConfiguration\":{"
                                  "\"BucketARN\":\"arn:aws:s3:::b\"}}",
          "InvalidArgumentException", "not supported", 400 },
        { "CreateDeliveryStream", "{\"DeliveryStreamName\":\"n\","
                                  "\"S3DestinationConfiguration\":{"
                                  "\"BucketARN\":\"arn:aws:s3:::b\","
                                  "\"BufferingHints\":{\"SizeInMBs\":1.5}}}",
          "SerializationException", "sizeInMBs", 400 },
        { "CreateDeliveryStream", "{\"DeliveryStreamName\":\"n\","
                                  "\"S3DestinationConfiguration\":{"
                                  "\"BucketARN\":\"arn:aws:s3:::b\","
                                  "\"CompressionFormat\":\"LZ4\"}}",
          "ValidationException", "enum", 400 },
        { "DescribeDeliveryStream", "{\"DeliveryStreamName\":\"orders\"}", NULL,
          "\"IntervalInSeconds\":900", 200 },
    };
    struct rig r;
    struct floe_buf out;
    const char *type;
    size_t i;
    int st;

    memset(&r, 0, sizeof(r));
    CHECK(rig_up(&r, false) == 0);
    floe_buf_init(&out, 1 << 20);
    st = call(&r, "CreateDeliveryStream", CREATE, &out, &type);
    CHECK(st == 200 && type == NULL);
    CHECK(strstr(out.data, "deliverystream/orders") != NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        st = call(&r, cases[i].op, cases[i].body, &out, &type);
        if (st != cases[i].status ||
            (cases[i].type == NULL) != (type == NULL) ||
            (type && strcmp(type, cases[i].type) != 0) ||
            (cases[i].needle && strstr(out.data, cases[i].needle) == NULL)) {
            fprintf(stderr, "  case %zu (%s): %d %s\n", i,
                    cases[i].op ? cases[i].op : "-", st, out.data);
            CHECK(0);
        }
        if (type != NULL) /* the error body names the type */
            CHECK(strstr(out.data, "\"__type\":") != NULL &&
                  strstr(out.data, "\"message\":") != NULL);
    }
    floe_buf_free(&out);
    rig_down(&r, false);
}

/* The batch reply: one 32-hex-digit RecordId per record, all distinct and
 * from one run (same 16-digit prefix), consecutive within a call. */
static void test_api_put_reply(void)
{
    static const char *body =
        "{\"DeliveryStreamName\":\"orders\",\"Records\":[{\"Data\":\"eA==\"},"
        "{\"Data\":\"eHk=\"},{\"Data\":\"\"}]}";
    struct rig r;
    struct floe_buf out;
    const char *type;
    cJSON *root = NULL;
    const cJSON *arr, *it;
    char ids[3][33];
    int n = 0, i;

    memset(&r, 0, sizeof(r));
    CHECK(rig_up(&r, false) == 0);
    floe_buf_init(&out, 1 << 20);
    CHECK(call(&r, "CreateDeliveryStream", CREATE, &out, &type) == 200);
    CHECK(call(&r, "PutRecordBatch", body, &out, &type) == 200 &&
          type == NULL);
    CHECK(strncmp(out.data, "{\"FailedPutCount\":0,\"Encrypted\":false,"
                            "\"RequestResponses\":[{\"RecordId\":\"", 71) == 0);
    root = cJSON_Parse(out.data);
    arr = cJSON_GetObjectItemCaseSensitive(root, "RequestResponses");
    CHECK(cJSON_GetArraySize(arr) == 3);
    cJSON_ArrayForEach(it, arr) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "RecordId");

        CHECK(cJSON_IsString(id) && strlen(id->valuestring) == 32 &&
              strspn(id->valuestring, "0123456789abcdef") == 32);
        if (n < 3 && cJSON_IsString(id))
            snprintf(ids[n++], sizeof(ids[0]), "%s", id->valuestring);
    }
    CHECK(n == 3);
    for (i = 1; i < n; i++) {
        CHECK(strncmp(ids[i], ids[0], 16) == 0);
        CHECK(strtoull(ids[i] + 16, NULL, 16) ==
              strtoull(ids[i - 1] + 16, NULL, 16) + 1);
    }
    cJSON_Delete(root);
    floe_buf_free(&out);
    rig_down(&r, false);
}

/* Batch limits need big bodies: built here. */
static void test_api_batch_limits(void)
{
    struct rig r;
    struct floe_buf body, out;
    const char *type;
    char *rec;
    size_t enc_len = floe_b64_enc_len(1000000), i;
    int st;

    memset(&r, 0, sizeof(r));
    CHECK(rig_up(&r, false) == 0);
    floe_buf_init(&body, 64 << 20);
    floe_buf_init(&out, 1 << 20);
    CHECK(call(&r, "CreateDeliveryStream", CREATE, &out, &type) == 200);
    rec = calloc(1, floe_b64_enc_len(1024001) + 1);
    CHECK(rec != NULL);
    if (rec == NULL)
        return;
    { /* 1,024,001 bytes: one too many */
        char *raw = calloc(1, 1024001);

        floe_b64_enc(raw, 1024001, rec);
        floe_buf_addf(&body, "{\"DeliveryStreamName\":\"orders\",\"Record\":"
                             "{\"Data\":\"%s\"}}", rec);
        st = floe_fh_api_call(&r.api, "PutRecord", body.data, body.len, &out,
                              &type);
        CHECK(st == 400 && type && strcmp(type, "ValidationException") == 0);
        CHECK(strstr(out.data, "1024000") != NULL);
        floe_b64_enc(raw, 1024000, rec); /* exactly the limit is fine */
        floe_buf_reset(&body);
        floe_buf_reset(&out);
        floe_buf_addf(&body, "{\"DeliveryStreamName\":\"orders\",\"Record\":"
                             "{\"Data\":\"%s\"}}", rec);
        st = floe_fh_api_call(&r.api, "PutRecord", body.data, body.len, &out,
                              &type);
        CHECK(st == 200 && type == NULL);
        free(raw);
    }
    /* 5 x 1,000,000: over 4 MiB. */
    memset(rec, 'Q', enc_len);
    rec[enc_len] = '\0';
    floe_buf_reset(&body);
    floe_buf_adds(&body, "{\"DeliveryStreamName\":\"orders\",\"Records\":[");
    for (i = 0; i < 5; i++)
        floe_buf_addf(&body, "%s{\"Data\":\"%s\"}", i ? "," : "", rec);
    floe_buf_adds(&body, "]}");
    floe_buf_reset(&out);
    st = floe_fh_api_call(&r.api, "PutRecordBatch", body.data, body.len, &out,
                          &type);
    CHECK(st == 400 && type && strcmp(type, "InvalidArgumentException") == 0);
    CHECK(strstr(out.data, "Records size exceeds 4 MB limit") != NULL);
    /* 501 records. */
    floe_buf_reset(&body);
    floe_buf_adds(&body, "{\"DeliveryStreamName\":\"orders\",\"Records\":[");
    for (i = 0; i < 501; i++)
        floe_buf_addf(&body, "%s{\"Data\":\"eA==\"}", i ? "," : "");
    floe_buf_adds(&body, "]}");
    floe_buf_reset(&out);
    st = floe_fh_api_call(&r.api, "PutRecordBatch", body.data, body.len, &out,
                          &type);
    CHECK(st == 400 && type && strcmp(type, "ValidationException") == 0);
    free(rec);
    floe_buf_free(&body);
    floe_buf_free(&out);
    rig_down(&r, false);
}

struct found {
    char key[1024];
    int n;
};

static int on_obj(const struct floe_obj_info *info, void *ud)
{
    struct found *f = ud;

    snprintf(f->key, sizeof(f->key), "%s", info->key);
    f->n++;
    return 0;
}

static int gunzip_buf(const struct floe_buf *in, struct floe_buf *out)
{
    z_stream z;
    char chunk[65536];
    int zr;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -1;
    z.next_in = (unsigned char *)in->data;
    z.avail_in = (uInt)in->len;
    do {
        z.next_out = (unsigned char *)chunk;
        z.avail_out = sizeof(chunk);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END)
            break;
        floe_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
    } while (zr != Z_STREAM_END);
    /* one member: nothing may follow it */
    zr = zr == Z_STREAM_END && z.avail_in == 0 ? 0 : -1;
    inflateEnd(&z);
    return zr;
}

static void test_gzip_round_trip(void)
{
    static const char *batch =
        "{\"DeliveryStreamName\":\"orders\",\"Records\":[{\"Data\":"
        "\"aGVsbG8K\"},{\"Data\":\"AAEC/w==\"},{\"Data\":\"\"},{\"Data\":"
        "\"d29ybGQK\"}]}";
    static const char want[] = "hello\n\x00\x01\x02\xffworld\n";
    struct rig r;
    struct floe_buf out, obj, plain;
    struct found f;
    const char *type;

    memset(&r, 0, sizeof(r));
    memset(&f, 0, sizeof(f));
    CHECK(rig_up(&r, false) == 0);
    floe_buf_init(&out, 1 << 20);
    floe_buf_init(&obj, 1 << 20);
    floe_buf_init(&plain, 1 << 20);
    CHECK(call(&r, "CreateDeliveryStream", CREATE, &out, &type) == 200);
    CHECK(call(&r, "PutRecordBatch", batch, &out, &type) == 200);
    CHECK(strstr(out.data, "\"FailedPutCount\":0") != NULL);
    CHECK(strstr(out.data, "\"RecordId\"") != NULL);
    rig_down(&r, true); /* graceful stop: flush and deliver */
    {
        char path[512];

        snprintf(path, sizeof(path), "%s/lake", r.dir);
        CHECK(floe_store_open(path, &r.store, NULL) == FLOE_OK);
    }
    floe_store_list(r.store, "landing/orders/", on_obj, &f);
    CHECK(f.n == 1);
    CHECK(strstr(f.key, "/orders-1-") != NULL);
    CHECK(strcmp(f.key + strlen(f.key) - 3, ".gz") == 0);
    CHECK(floe_store_get(r.store, f.key, &obj) == FLOE_OK);
    CHECK(gunzip_buf(&obj, &plain) == 0);
    CHECK(plain.len == sizeof(want) - 1 &&
          memcmp(plain.data, want, plain.len) == 0);
    floe_store_close(r.store);
    floe_rmtree(r.dir);
    floe_buf_free(&out);
    floe_buf_free(&obj);
    floe_buf_free(&plain);
}

struct seen {
    int n;
    char names[8][16];
    char data[8][32];
    int64_t ms[8];
    uint64_t seg[8];
};

static void collect(void *ud, const struct floe_fh_wal_pos *pos,
                    const char *stream, int64_t ms, const void *data,
                    size_t len)
{
    struct seen *s = ud;

    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", stream);
        snprintf(s->data[s->n], sizeof(s->data[0]), "%.*s", (int)len,
                 (const char *)data);
        s->ms[s->n] = ms;
        s->seg[s->n] = pos->seg;
    }
    s->n++;
}

static int count_segments(const char *dir)
{
    char cmd[600];
    FILE *p;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^wal-'", dir);
    p = popen(cmd, "r");
    if (p != NULL) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static void test_wal_replay_torn_tail_and_retire(void)
{
    char dir[256], err[FLOE_ERR_LEN], seg1[512];
    struct floe_fh_wal *w = NULL;
    struct seen s;
    struct floe_fh_wal_replay_stats rs;
    uint64_t seq = 0;
    struct floe_fh_wal_pos pos, sg[3];
    FILE *fp;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    memset(&s, 0, sizeof(s));
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK &&
          rs.entries == 0);
    CHECK(floe_fh_wal_append(w, "orders", 11, "a1\n", 3, &sg[0], &seq) ==
          FLOE_OK);
    CHECK(floe_fh_wal_append(w, "customers", 22, "c1\n", 3, &sg[1], &seq) ==
          FLOE_OK);
    CHECK(floe_fh_wal_append(w, "orders", 33, "", 0, &sg[2], &seq) ==
          FLOE_OK);
    CHECK(floe_fh_wal_sync(w, seq) == FLOE_OK);
    floe_fh_wal_close(w); /* "crash": nothing released */
    /* A torn write after the last good entry. */
    snprintf(seg1, sizeof(seg1), "%s/wal-%016d.log", dir, 1);
    fp = fopen(seg1, "ab");
    CHECK(fp != NULL);
    if (fp != NULL) {
        fwrite("FHW1garbage", 1, 11, fp);
        fclose(fp);
    }

    w = NULL;
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    memset(&s, 0, sizeof(s));
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK);
    CHECK(rs.entries == 3 && s.n == 3);
    CHECK(strcmp(s.names[0], "orders") == 0 && strcmp(s.data[0], "a1\n") == 0);
    CHECK(s.ms[0] == 11 && s.ms[1] == 22 && s.ms[2] == 33);
    CHECK(strcmp(s.names[1], "customers") == 0 &&
          strcmp(s.data[1], "c1\n") == 0);
    CHECK(s.data[2][0] == '\0');
    CHECK(s.seg[0] == 1);
    CHECK(count_segments(dir) == 2); /* old one + the new current one */
    /* New appends go to segment 2; releasing all of segment 1 deletes it. */
    CHECK(floe_fh_wal_append(w, "orders", 44, "x", 1, &pos, &seq) == FLOE_OK);
    CHECK(pos.seg == 2);
    CHECK(floe_fh_wal_sync(w, seq) == FLOE_OK);
    floe_fh_wal_release(w, 1, 3);
    CHECK(!floe_path_exists(seg1));
    /* Releasing the current segment's last entry retires it too. */
    floe_fh_wal_release(w, 2, 1);
    CHECK(count_segments(dir) == 1);
    CHECK(floe_fh_wal_append(w, "orders", 55, "y", 1, &pos, &seq) == FLOE_OK);
    CHECK(pos.seg == 3 && floe_fh_wal_sync(w, seq) == FLOE_OK);
    floe_fh_wal_release(w, 3, 1);
    floe_fh_wal_close(w);
    w = NULL;
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    memset(&s, 0, sizeof(s));
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK &&
          rs.entries == 0);
    floe_fh_wal_close(w);
    floe_rmtree(dir);
}

static void test_wal_rotation_keeps_order(void)
{
    char dir[256], err[FLOE_ERR_LEN];
    struct floe_fh_wal *w = NULL;
    struct seen s;
    char big[300000];
    struct floe_fh_wal_replay_stats rs;
    uint64_t seq = 0;
    struct floe_fh_wal_pos pos = { 0, 0 };
    int i;

    memset(big, 'b', sizeof(big));
    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK);
    for (i = 0; i < 8; i++) /* 2.4 MB over 1 MiB segments */
        CHECK(floe_fh_wal_append(w, "s", i, big, sizeof(big), &pos, &seq) ==
              FLOE_OK);
    CHECK(pos.seg >= 3);
    CHECK(floe_fh_wal_sync(w, seq) == FLOE_OK);
    floe_fh_wal_close(w);
    w = NULL;
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    memset(&s, 0, sizeof(s));
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK);
    CHECK(rs.entries == 8);
    for (i = 0; i < 8; i++)
        CHECK(s.ms[i] == i);
    floe_fh_wal_close(w);
    floe_rmtree(dir);
}

/* Delivered entries are listed in the .done sidecar: a crash replays only
 * the others; the sidecar goes with its segment. */
static void test_wal_done_sidecar(void)
{
    char dir[256], err[FLOE_ERR_LEN], done1[512], seg1[512];
    struct floe_fh_wal *w = NULL;
    struct floe_fh_wal_pos p[4], both[2];
    struct seen s;
    struct floe_fh_wal_replay_stats rs;
    uint64_t seq = 0;
    int i;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(done1, sizeof(done1), "%s/wal-%016d.done", dir, 1);
    snprintf(seg1, sizeof(seg1), "%s/wal-%016d.log", dir, 1);
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK);
    for (i = 0; i < 4; i++) {
        char rec[8];

        snprintf(rec, sizeof(rec), "r%d\n", i);
        CHECK(floe_fh_wal_append(w, "s", i, rec, 3, &p[i], &seq) == FLOE_OK);
    }
    CHECK(floe_fh_wal_sync(w, seq) == FLOE_OK);
    CHECK(p[0].off == 0 && p[1].off > p[0].off && p[3].seg == 1);
    both[0] = p[0];
    both[1] = p[2];
    floe_fh_wal_done(w, both, 2); /* r0, r2 delivered */
    CHECK(floe_path_exists(done1));
    floe_fh_wal_close(w);         /* crash with r1, r3 pending */
    w = NULL;
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    memset(&s, 0, sizeof(s));
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK);
    CHECK(rs.entries == 2 && s.n == 2);
    CHECK(strcmp(s.data[0], "r1\n") == 0 && strcmp(s.data[1], "r3\n") == 0);
    /* Delivering the rest removes segment 1 and its sidecar. */
    floe_fh_wal_done(w, &p[1], 1);
    floe_fh_wal_done(w, &p[3], 1);
    CHECK(!floe_path_exists(seg1) && !floe_path_exists(done1));
    floe_fh_wal_close(w);
    /* An orphan sidecar (segment gone) is removed at the next replay and
     * never applies to a new segment of the same id. */
    CHECK(floe_write_file_atomic(done1, "\0\0\0\0\0\0\0\0", 8) ==
          FLOE_OK);
    w = NULL;
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    memset(&s, 0, sizeof(s));
    CHECK(floe_fh_wal_replay(w, collect, &s, &rs) == FLOE_OK &&
          rs.entries == 0);
    CHECK(!floe_path_exists(done1));
    floe_fh_wal_close(w);
    floe_rmtree(dir);
}

FLOE_TESTS({ "prefix_eval_table", test_prefix_eval_table },
           { "prefix_random_and_error_type", test_prefix_random_and_error_type },
           { "prefix_rules", test_prefix_rules },
           { "prefix_rule6_at_any_time", test_prefix_rule6_at_any_time },
           { "object_key", test_object_key },
           { "error_key", test_error_key },
           { "wal_done_sidecar", test_wal_done_sidecar },
           { "api_validation_table", test_api_validation_table },
           { "api_batch_limits", test_api_batch_limits },
           { "api_put_reply", test_api_put_reply },
           { "gzip_round_trip", test_gzip_round_trip },
           { "wal_replay_torn_tail_and_retire",
             test_wal_replay_torn_tail_and_retire },
           { "wal_rotation_keeps_order", test_wal_rotation_keeps_order });
