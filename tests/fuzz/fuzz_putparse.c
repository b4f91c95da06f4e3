/* fuzz_putparse.c - the allocation-free PutRecord(Batch) body parser
 * against cJSON, the general path it stands in for: whenever
 * floe_fh_put_parse takes a body, cJSON must read the same stream name
 * and the same Data strings from it (putparse.h's promise). The first
 * byte picks PutRecordBatch (odd) or PutRecord; the rest is the body. */
#include <cjson/cJSON.h>

#include "firehose/putparse.h"
#include "fuzz.h"

#define CAP 500

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

static void check_data(const cJSON *rec, const struct floe_fh_blob *b)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "Data");

    FUZZ_CHECK(cJSON_IsString(d));
    FUZZ_CHECK(strlen(d->valuestring) == b->b64_len);
    FUZZ_CHECK(memcmp(d->valuestring, b->b64, b->b64_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct floe_fh_blob recs[CAP];
    struct floe_fh_put_body pb;
    const char *body;
    const cJSON *name, *arr, *rec;
    cJSON *root;
    bool batch;
    size_t len, i = 0;

    if (size < 1)
        return 0;
    batch = data[0] & 1;
    body = (const char *)data + 1;
    len = size - 1;
    if (floe_fh_put_parse(body, len, batch, &pb, recs, CAP) != FLOE_OK)
        return 0;
    FUZZ_CHECK(pb.n >= 1 && pb.n <= CAP && (batch || pb.n == 1));
    for (i = 0; i < pb.n; i++) /* spans inside the body */
        FUZZ_CHECK(recs[i].b64 >= body &&
                   recs[i].b64 + recs[i].b64_len <= body + len);
    root = cJSON_ParseWithLength(body, len);
    FUZZ_CHECK(cJSON_IsObject(root));
    name = cJSON_GetObjectItemCaseSensitive(root, "DeliveryStreamName");
    FUZZ_CHECK(cJSON_IsString(name) && strcmp(name->valuestring, pb.name) == 0);
    if (batch) {
        arr = cJSON_GetObjectItemCaseSensitive(root, "Records");
        FUZZ_CHECK(cJSON_IsArray(arr) &&
                   (size_t)cJSON_GetArraySize(arr) == pb.n);
        i = 0;
        cJSON_ArrayForEach(rec, arr) check_data(rec, &recs[i++]);
    } else {
        rec = cJSON_GetObjectItemCaseSensitive(root, "Record");
        FUZZ_CHECK(cJSON_IsObject(rec));
        check_data(rec, &recs[0]);
    }
    cJSON_Delete(root);
    return 0;
}
