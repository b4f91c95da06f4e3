/* test_agent_batch.c - PutRecordBatch buffer limits (500 records, 4 MiB),
 * body encoding and partial-failure handling. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agent/batch.h"
#include "core/b64.h"
#include "core/util.h"
#include "test.h"

/* Records of file slot 0, generation 0. */
#define SRC0 ((struct floe_rec_src){0, 0})

static int add(struct floe_batch *b, const char *p, size_t n, uint64_t end)
{
    size_t start = b->data.len;
    int rc = floe_buf_add(&b->data, p, n);

    if (rc != FLOE_OK)
        return rc;
    rc = floe_batch_commit(b, start, SRC0, end, 1);
    if (rc != FLOE_OK) {
        b->data.len = start;
        b->data.data[start] = '\0';
    }
    return rc;
}

static void test_record_limit_500(void)
{
    struct floe_batch b;
    int i;

    floe_batch_init(&b, 10000, 0); /* clamped to 500 */
    CHECK(b.max_records == 500 && b.max_bytes == FLOE_BATCH_MAX_BYTES);
    for (i = 0; i < 500; i++)
        CHECK(add(&b, "x\n", 2, (uint64_t)(i + 1) * 2) == FLOE_OK);
    CHECK(add(&b, "x\n", 2, 0) == FLOE_ETOOBIG);
    CHECK(b.n == 500 && b.data.len == 1000);
    floe_batch_free(&b);
}

static void test_byte_limit_4mib(void)
{
    struct floe_batch b;
    char *rec = malloc(FLOE_RECORD_MAX_BYTES);
    int i;

    memset(rec, 'a', FLOE_RECORD_MAX_BYTES);
    floe_batch_init(&b, 0, 0);
    for (i = 0; i < 4; i++) /* 4 x 1,024,000 = 4,096,000 <= 4,194,304 */
        CHECK(add(&b, rec, FLOE_RECORD_MAX_BYTES, 0) == FLOE_OK);
    CHECK(!floe_batch_fits(&b, 98305));
    CHECK(floe_batch_fits(&b, 98304));
    CHECK(add(&b, rec, 98305, 0) == FLOE_ETOOBIG);
    CHECK(add(&b, rec, 98304, 0) == FLOE_OK);
    CHECK(b.data.len == FLOE_BATCH_MAX_BYTES);
    floe_batch_free(&b);
    /* A record over the per-record limit never fits. */
    floe_batch_init(&b, 0, 0);
    CHECK(add(&b, rec, FLOE_RECORD_MAX_BYTES, 0) == FLOE_OK);
    floe_batch_reset(&b);
    memset(rec, 'b', 10);
    floe_buf_add(&b.data, rec, FLOE_RECORD_MAX_BYTES);
    floe_buf_addc(&b.data, 'x');
    CHECK(floe_batch_commit(&b, 0, SRC0, 0, 0) == FLOE_ETOOBIG);
    floe_batch_free(&b);
    /* A smaller configured byte limit. */
    floe_batch_init(&b, 0, 10);
    CHECK(add(&b, "12345", 5, 0) == FLOE_OK);
    CHECK(add(&b, "123456", 6, 0) == FLOE_ETOOBIG);
    CHECK(add(&b, "12345", 5, 0) == FLOE_OK);
    floe_batch_free(&b);
    /* A record over maxBufferSizeBytes goes alone, never refused. */
    floe_batch_init(&b, 0, 10);
    CHECK(floe_batch_fits(&b, 50));
    CHECK(add(&b, rec, 50, 0) == FLOE_OK && b.n == 1);
    CHECK(add(&b, "1", 1, 0) == FLOE_ETOOBIG);
    floe_batch_free(&b);
    free(rec);
}

static void test_body_and_partial_failure(void)
{
    struct floe_batch b;
    struct floe_buf body;
    char err[FLOE_ERR_LEN];
    size_t acked;
    cJSON *j, *recs;

    floe_batch_init(&b, 0, 0);
    floe_buf_init(&body, FLOE_BUF_UNLIMITED);
    CHECK(add(&b, "hello\n", 6, 6) == FLOE_OK);
    CHECK(add(&b, "world\n", 6, 12) == FLOE_OK);
    CHECK(add(&b, "third\n", 6, 18) == FLOE_OK);
    CHECK(floe_batch_body(&b, "orders", &body) == FLOE_OK);
    CHECK(strcmp(body.data,
                 "{\"DeliveryStreamName\":\"orders\",\"Records\":["
                 "{\"Data\":\"aGVsbG8K\"},{\"Data\":\"d29ybGQK\"},"
                 "{\"Data\":\"dGhpcmQK\"}]}") == 0);
    j = cJSON_Parse(body.data);
    CHECK(j != NULL);
    cJSON_Delete(j);

    /* The middle one fails: only it is sent again. */
    {
        const char *resp =
            "{\"FailedPutCount\":1,\"Encrypted\":false,\"RequestResponses\":["
            "{\"RecordId\":\"r1\"},{\"ErrorCode\":\"ServiceUnavailable"
            "Exception\",\"ErrorMessage\":\"Slow down.\"},"
            "{\"RecordId\":\"r3\"}]}";

        CHECK(floe_batch_apply_response(&b, resp, strlen(resp), &acked,
                                        err) == FLOE_OK);
        CHECK(acked == 2 && floe_batch_pending(&b) == 1);
        CHECK(strstr(err, "Slow down.") != NULL);
    }
    CHECK(floe_batch_body(&b, "orders", &body) == FLOE_OK);
    j = cJSON_Parse(body.data);
    recs = cJSON_GetObjectItem(j, "Records");
    CHECK(cJSON_GetArraySize(recs) == 1);
    CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 0), "Data")
                     ->valuestring, "d29ybGQK") == 0);
    cJSON_Delete(j);
    /* A response with the wrong number of entries changes nothing. */
    {
        const char *bad = "{\"FailedPutCount\":0,\"RequestResponses\":["
                          "{\"RecordId\":\"a\"},{\"RecordId\":\"b\"}]}";
        const char *ok = "{\"FailedPutCount\":0,\"RequestResponses\":["
                         "{\"RecordId\":\"a\"}]}";

        CHECK(floe_batch_apply_response(&b, bad, strlen(bad), &acked, err) ==
              FLOE_EREMOTE);
        CHECK(floe_batch_pending(&b) == 1);
        CHECK(floe_batch_apply_response(&b, "nope", 4, &acked, err) ==
              FLOE_EREMOTE);
        CHECK(floe_batch_apply_response(&b, ok, strlen(ok), &acked, err) ==
              FLOE_OK);
        CHECK(acked == 1 && floe_batch_pending(&b) == 0);
    }
    floe_buf_free(&body);
    floe_batch_free(&b);
}

static void test_body_roundtrip_binary(void)
{
    struct floe_batch b;
    struct floe_buf body;
    unsigned char raw[256], dec[300];
    size_t dlen = 0;
    cJSON *j;
    const char *d;
    int i;

    for (i = 0; i < 256; i++)
        raw[i] = (unsigned char)i;
    floe_batch_init(&b, 0, 0);
    floe_buf_init(&body, FLOE_BUF_UNLIMITED);
    CHECK(add(&b, (const char *)raw, 256, 256) == FLOE_OK);
    CHECK(floe_batch_body(&b, "s\"q", &body) == FLOE_OK);
    j = cJSON_Parse(body.data);
    CHECK(j != NULL);
    CHECK(strcmp(cJSON_GetObjectItem(j, "DeliveryStreamName")->valuestring,
                 "s\"q") == 0);
    d = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j,
                                                                   "Records"),
                                               0),
                            "Data")->valuestring;
    CHECK(floe_b64_dec(d, strlen(d), dec, &dlen) == FLOE_OK);
    CHECK(dlen == 256 && memcmp(dec, raw, 256) == 0);
    cJSON_Delete(j);
    floe_buf_free(&body);
    floe_batch_free(&b);
}

/* Answers to a 3-record batch: how many records each acknowledges, or -1
 * for an answer that must be refused (and change nothing). */
static void test_response_table(void)
{
    static const struct {
        const char *resp;
        int acked;
        const char *err;
    } cases[] = {
        { "{\"FailedPutCount\":0,\"RequestResponses\":[{\"RecordId\":\"a\"},"
          "{\"RecordId\":\"b\"},{\"RecordId\":\"c\"}]}", 3, NULL },
        /* blanks, other keys and nested values anywhere, escaped key */
        { " {\n \"Encrypted\" : false, \"X\":{\"y\":[1,{\"z\":null}]},\r\n"
          "\"RequestResponses\" : [ {\"Record\\u0049d\":\"a\",\"k\":[]} ,"
          "{\"RecordId\":\"b\",\"ErrorCode\":null}, {\"RecordId\":\"c\"} ],"
          "\"FailedPutCount\": 0 }\t", 3, NULL },
        /* the first failure is reported, decoded */
        { "{\"FailedPutCount\":2,\"RequestResponses\":[{\"ErrorCode\":"
          "\"InternalFailure\",\"ErrorMessage\":\"caf\\u00e9 \\\"x\\\"\"},"
          "{\"RecordId\":\"b\"},{}]}", 1, "InternalFailure: caf\xc3\xa9 \"x\"" },
        { "{\"FailedPutCount\":0}", 3, NULL },             /* lenient */
        { "{\"FailedPutCount\":1}", -1, "RequestResponses" },
        { "{\"RequestResponses\":[]}", -1, "FailedPutCount" },
        { "{\"FailedPutCount\":0,\"RequestResponses\":null}", -1,
          "RequestResponses is not a list" },
        /* FailedPutCount contradicting the entries: nothing is trusted */
        { "{\"FailedPutCount\":3,\"RequestResponses\":[{\"RecordId\":\"a\"},"
          "{\"RecordId\":\"b\"},{\"RecordId\":\"c\"}]}", -1,
          "FailedPutCount 3 but 0 entries failed" },
        { "{\"FailedPutCount\":0,\"RequestResponses\":[{\"RecordId\":\"a\","
          "\"ErrorCode\":\"X\"},{\"RecordId\":\"b\"},{\"RecordId\":\"c\"}]}",
          -1, "FailedPutCount 0 but 1 entries failed" },
        /* an ErrorCode of another type is still an error */
        { "{\"FailedPutCount\":1,\"RequestResponses\":[{\"RecordId\":\"a\","
          "\"ErrorCode\":500},{\"RecordId\":\"b\"},{\"RecordId\":\"c\"}]}",
          2, NULL },
        { "{\"FailedPutCount\":\"0\",\"RequestResponses\":[]}", -1, NULL },
        { "{\"FailedPutCount\":0,\"RequestResponses\":[{\"RecordId\":\"a\"},"
          "{\"RecordId\":\"b\"},{\"RecordId\":\"c\"}", -1, "JSON" },
        { "{\"FailedPutCount\":0,\"RequestResponses\":[{\"RecordId\":\"a\"},"
          "{\"RecordId\":\"b\"},{\"RecordId\":\"c\"},{\"RecordId\":\"d\"}]}",
          -1, "4 RequestResponses for 3" },
        { "[]", -1, "not a JSON object" },
        { "", -1, NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_batch b;
        char err[FLOE_ERR_LEN] = "";
        size_t acked = 99;
        int rc;

        floe_batch_init(&b, 0, 0);
        CHECK(add(&b, "a\n", 2, 2) == FLOE_OK);
        CHECK(add(&b, "b\n", 2, 4) == FLOE_OK);
        CHECK(add(&b, "c\n", 2, 6) == FLOE_OK);
        rc = floe_batch_apply_response(&b, cases[i].resp,
                                       strlen(cases[i].resp), &acked, err);
        if (cases[i].acked < 0) {
            CHECK(rc == FLOE_EREMOTE && acked == 0);
            CHECK(floe_batch_pending(&b) == 3);
        } else {
            CHECK(rc == FLOE_OK && acked == (size_t)cases[i].acked);
            CHECK(floe_batch_pending(&b) == 3 - (size_t)cases[i].acked);
        }
        CHECK(cases[i].err == NULL || strstr(err, cases[i].err) != NULL);
        if (cases[i].err != NULL && strstr(err, cases[i].err) == NULL)
            fprintf(stderr, "  case %zu: err '%s'\n", i, err);
        floe_batch_free(&b);
    }
}

/* The streamed body is the same whatever size libcurl asks for at a time
 * (1 byte: every token and quantum crosses a boundary), and after a
 * rewind; acknowledged records stay out. */
static void test_body_streamed_in_pieces(void)
{
    struct floe_batch b;
    struct floe_batch_body bb;
    struct floe_buf whole;
    char line[300], out[8192];
    size_t i, step, got, n;

    floe_batch_init(&b, 0, 0);
    floe_buf_init(&whole, FLOE_BUF_UNLIMITED);
    for (i = 0; i < 9; i++) {
        n = 1 + i * 31 % 200; /* every length mod 3 */
        memset(line, 'a' + (int)i, n);
        CHECK(add(&b, line, n, i) == FLOE_OK);
    }
    b.recs[4].acked = true;
    b.n_acked = 1;
    CHECK(floe_batch_body(&b, "s\"1", &whole) == FLOE_OK);
    CHECK(strstr(whole.data, "ZWVl") == NULL); /* record 4: "eee" gone */
    for (step = 1; step <= 17; step++) {
        CHECK(floe_batch_body_start(&bb, &b, "s\"1") == FLOE_OK);
        CHECK(bb.len == whole.len);
        if (step == 5) { /* part, rewind, whole */
            CHECK(floe_batch_body_read(&bb, out, 100) == 100);
            floe_batch_body_rewind(&bb);
        }
        for (got = 0; (n = floe_batch_body_read(&bb, out + got, step)) > 0;)
            got += n;
        CHECK(got == whole.len && memcmp(out, whole.data, got) == 0);
    }
    floe_buf_free(&whole);
    floe_batch_free(&b);
}

/* Aggregation packs whole lines of one file into the last record, within
 * the size given, the record limit and the batch's byte limit. */
static void test_extend_packs_lines_of_one_file(void)
{
    struct floe_batch b;
    size_t start;

    floe_batch_init(&b, 0, 64);
    CHECK(add(&b, "aaaa\n", 5, 5) == FLOE_OK);
    start = b.data.len;
    CHECK(floe_buf_add(&b.data, "bbbb\n", 5) == FLOE_OK);
    CHECK(floe_batch_extend(&b, start, SRC0, 10, 12) == FLOE_OK);
    CHECK(b.n == 1 && b.recs[0].len == 10 && b.recs[0].end_off == 10);
    start = b.data.len;
    CHECK(floe_buf_add(&b.data, "cccc\n", 5) == FLOE_OK);
    CHECK(floe_batch_extend(&b, start, SRC0, 15, 12) == FLOE_ETOOBIG);
    /* another file, or the same file read again after a truncation */
    CHECK(floe_batch_extend(&b, start, (struct floe_rec_src){1, 0}, 15,
                            100) == FLOE_ETOOBIG);
    CHECK(floe_batch_extend(&b, start, (struct floe_rec_src){0, 1}, 15,
                            100) == FLOE_ETOOBIG);
    CHECK(floe_batch_extend(&b, start, SRC0, 15, 100) == FLOE_OK);
    CHECK(b.recs[0].len == 15 && b.recs[0].end_off == 15);
    start = b.data.len;
    CHECK(floe_buf_add(&b.data, "d", 1) == FLOE_OK);
    b.max_bytes = 15; /* the batch is full */
    CHECK(floe_batch_extend(&b, start, SRC0, 16, 100) == FLOE_ETOOBIG);
    floe_batch_free(&b);
}

/* A split keeps order and acknowledgements on both sides. */
static void test_split_keeps_order(void)
{
    struct floe_batch b, nb;
    struct floe_buf body;
    char line[8];
    size_t i;

    floe_batch_init(&b, 0, 0);
    floe_batch_init(&nb, 0, 0);
    floe_buf_init(&body, FLOE_BUF_UNLIMITED);
    for (i = 0; i < 6; i++) {
        snprintf(line, sizeof(line), "r%zu\n", i);
        CHECK(add(&b, line, 3, (i + 1) * 3) == FLOE_OK);
    }
    b.recs[4].acked = true;
    b.n_acked = 1;
    CHECK(floe_batch_split(&b, 3, &nb) == FLOE_OK);
    CHECK(b.n == 3 && b.n_acked == 0 && b.data.len == 9);
    CHECK(nb.n == 3 && nb.n_acked == 1 && nb.recs[1].acked);
    CHECK(nb.recs[0].end_off == 12 && memcmp(nb.data.data, "r3\nr4\nr5\n",
                                             9) == 0);
    CHECK(floe_batch_body(&nb, "s", &body) == FLOE_OK);
    CHECK(strstr(body.data, "cjMK") && strstr(body.data, "cjUK") &&
          !strstr(body.data, "cjQK")); /* r3, r5; r4 was acknowledged */
    floe_buf_free(&body);
    floe_batch_free(&b);
    floe_batch_free(&nb);
}

FLOE_TESTS({ "record_limit_500", test_record_limit_500 },
           { "byte_limit_4mib", test_byte_limit_4mib },
           { "body_and_partial_failure", test_body_and_partial_failure },
           { "body_roundtrip_binary", test_body_roundtrip_binary },
           { "body_streamed_in_pieces", test_body_streamed_in_pieces },
           { "extend_packs_lines", test_extend_packs_lines_of_one_file },
           { "split_keeps_order", test_split_keeps_order },
           { "response_table", test_response_table });
