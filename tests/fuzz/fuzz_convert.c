/* fuzz_convert.c - the agent's dataProcessingOptions (agent/convert.h):
 * CSVTOJSON, LOGTOJSON (the five built-in log formats and custom
 * matchPatterns through jregex.h), and a SINGLELINE + CSVTOJSON +
 * ADDMETADATA chain. Byte 0 picks the mode, byte 1 a delimiter or a field
 * count; a custom pattern is the first line of the rest; what remains is
 * the record. Oracles: a converted record is one line of valid UTF-8
 * JSON (cJSON reads it), a refused one leaves the batch buffer as it was,
 * and no step writes past the buffer's cap. */
#include <cjson/cJSON.h>

#include "agent/convert.h"
#include "agent/utf8.h"
#include "core/err.h"
#include "fuzz.h"

#define NFORMATS 5

/* The built-in parsers, compiled once: a parse keeps no state between
 * records (match scratch only). */
static struct floe_logparse *builtin[NFORMATS];
static const char *const names[16] = { "f0", "f1", "f2",  "f3",  "f4",  "f5",
                                        "f6", "f7", "f8",  "f9",  "f10", "f11",
                                        "f12", "f13", "f14", "f15" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[FLOE_ERR_LEN];
    int i;

    fuzz_quiet();
    for (i = 0; i < NFORMATS; i++)
        FUZZ_CHECK(floe_logparse_create((enum floe_logformat)i, NULL, NULL, 0,
                                        &builtin[i], err) == FLOE_OK);
    return 0;
}

/* out[start..) must be JSON objects, one per line, valid UTF-8. */
static void check_json(const struct floe_buf *out, size_t start)
{
    const char *p = out->data + start, *end = out->data + out->len;

    FUZZ_CHECK(out->len > start && end[-1] == '\n');
    FUZZ_CHECK(floe_utf8_valid(p, (size_t)(end - p)) == (size_t)(end - p));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        cJSON *j;

        FUZZ_CHECK(nl != NULL);
        j = cJSON_ParseWithLength(p, (size_t)(nl - p));
        if (!cJSON_IsObject(j))
            fprintf(stderr, "not a JSON object: %.*s\n", (int)(nl - p), p);
        FUZZ_CHECK(cJSON_IsObject(j));
        cJSON_Delete(j);
        p = nl + 1;
    }
}

/* Apply `c` to rec with a small-capped buffer and an unlimited one. */
static void apply(struct floe_convert *c, const char *rec, size_t len)
{
    struct floe_buf small, big;
    int rc;

    floe_buf_init(&small, 64);
    floe_buf_init(&big, FLOE_BUF_UNLIMITED);
    floe_buf_adds(&small, "{}\n"); /* a batch already holding a record */
    floe_buf_adds(&big, "{}\n");
    rc = floe_convert_apply(c, rec, len, &big);
    if (rc == FLOE_OK)
        check_json(&big, 3);
    else
        FUZZ_CHECK(big.len == 3 && (rc == FLOE_ENOTFOUND || rc == FLOE_ETOOBIG));
    rc = floe_convert_apply(c, rec, len, &small);
    FUZZ_CHECK(small.len <= 64);
    if (rc == FLOE_OK)
        check_json(&small, 3);
    else
        FUZZ_CHECK(small.len == 3 && strcmp(small.data, "{}\n") == 0);
    floe_buf_free(&small);
    floe_buf_free(&big);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct floe_convert_step step;
    struct floe_convert c;
    struct floe_logparse *p = NULL;
    char err[FLOE_ERR_LEN];
    const char *rec;
    size_t len;
    int mode;

    if (size < 2)
        return 0;
    mode = data[0] % 8;
    rec = (const char *)data + 2;
    len = size - 2;
    floe_convert_init(&c);
    if (mode < NFORMATS) { /* LOGTOJSON, one step on its own */
        struct floe_buf out;
        int rc;

        memset(&step, 0, sizeof(step));
        step.kind = FLOE_CONVERT_LOGTOJSON;
        step.parser = builtin[mode];
        floe_buf_init(&out, FLOE_BUF_UNLIMITED);
        rc = floe_convert_logtojson(&step, rec, len, &out);
        if (rc == FLOE_OK)
            check_json(&out, 0);
        else
            FUZZ_CHECK(out.len == 0);
        floe_buf_free(&out);
    } else if (mode == 5) { /* CSVTOJSON, any delimiter */
        if (floe_convert_add_csv(&c, names, (size_t)data[1] % 16 + 1,
                                 (char)(data[1] >> 4 == 0 ? ',' : data[1]),
                                 err) == FLOE_OK)
            apply(&c, rec, len);
    } else if (mode == 6) { /* a custom matchPattern: the first line */
        const char *nl = memchr(rec, '\n', len);
        char *pat;

        if (nl == NULL)
            goto done;
        pat = fuzz_cstr((const uint8_t *)rec, (size_t)(nl - rec));
        FUZZ_CHECK(pat != NULL);
        if (floe_logparse_create(FLOE_LOGFORMAT_SYSLOG, pat, names,
                                 (size_t)data[1] % 16 + 1, &p, err) == FLOE_OK)
            floe_convert_add_logtojson(&c, p); /* takes p */
        free(pat);
        if (c.n == 1)
            apply(&c, nl + 1, len - (size_t)(nl + 1 - rec));
    } else { /* a chain: join lines, split columns, wrap with metadata */
        if (floe_convert_add_singleline(&c, data[1] & 1, data[1] & 2) ==
                FLOE_OK &&
            floe_convert_add_csv(&c, names, 3, '\t', err) == FLOE_OK &&
            floe_convert_add_metadata(&c, "{\"host\":\"h\"}", false, NULL) ==
                FLOE_OK)
            apply(&c, rec, len);
    }
done:
    floe_convert_free(&c);
    return 0;
}
