/* test_firehose_putparse.c - the allocation-free PutRecord(Batch) body
 * parser: a table of shapes it must read (key order, whitespace, escapes
 * in the stream name, extra members of any type) or leave to cJSON
 * (escapes in Data or keys, duplicates, missing Data, truncation, bad
 * literals...), then random bodies, valid and mutated, checked against
 * cJSON: whenever the fast parser takes a body, cJSON must read the same
 * stream name and the same Data strings from it. */
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/b64.h"
#include "core/buf.h"
#include "core/util.h"
#include "firehose/admin.h"
#include "firehose/putparse.h"
#include "test.h"

#define CAP 500

struct want {
    const char *body;
    bool batch;
    int rc;           /* FLOE_OK or FLOE_ENOTSUP */
    const char *name; /* when FLOE_OK */
    size_t n;
    const char *data[3]; /* first Data strings, when FLOE_OK */
};

static void test_table(void)
{
    static const struct want cases[] = {
        { "{\"DeliveryStreamName\":\"orders\",\"Records\":[{\"Data\":\"eA==\"},"
          "{\"Data\":\"eHk=\"}]}", true, FLOE_OK, "orders", 2,
          { "eA==", "eHk=" } },
        /* key order, whitespace everywhere */
        { " \r\n{ \"Records\" : [ { \"Data\" : \"eA==\" } ,\t{\"Data\":\"\"} ]"
          " , \"DeliveryStreamName\" :\t\"a.b_c-1\" }\n ", true, FLOE_OK,
          "a.b_c-1", 2, { "eA==", "" } },
        /* unicode escapes in the name (and a backslash elsewhere) */
        { "{\"DeliveryStreamName\":\"\\u006frders\",\"Records\":[{\"Data\":"
          "\"eA==\"}]}", true, FLOE_OK, "orders", 1, { "eA==" } },
        { "{\"DeliveryStreamName\":\"o\\u0052\\u0044\",\"Records\":[{\"Data\":"
          "\"eA==\"}],\"X\":\"a\\\"b\\\\c\\/\\n\\u00e9\"}", true, FLOE_OK,
          "oRD", 1, { "eA==" } },
        /* extra members of every JSON type, at both levels */
        { "{\"A\":null,\"DeliveryStreamName\":\"s\",\"B\":[1,-2.5e+3,0,true,"
          "false,{\"c\":[[]]},{}],\"Records\":[{\"PartitionKey\":\"k\","
          "\"Data\":\"QUJD\",\"n\":-0.0E-1}],\"C\":{\"d\":\"}]\"}}", true,
          FLOE_OK, "s", 1, { "QUJD" } },
        /* PutRecord */
        { "{\"Record\":{\"Data\":\"eA==\"},\"DeliveryStreamName\":\"s\"}",
          false, FLOE_OK, "s", 1, { "eA==" } },
        /* Records is just another member in a PutRecord body */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":5,\"Record\":{\"Data\":"
          "\"\"}}", false, FLOE_OK, "s", 1, { "" } },
        /* bad base64 is the caller's business: taken as text */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"e!\"}]}",
          true, FLOE_OK, "s", 1, { "e!" } },
        /* left to cJSON: */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"eA\\u003d"
          "\\u003d\"}]}", true, FLOE_ENOTSUP },          /* escaped Data */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"a\\/b=\"}]}",
          true, FLOE_ENOTSUP },
        { "{\"Deliv\\u0065ryStreamName\":\"s\",\"Records\":[{\"Data\":\"\"}]}",
          true, FLOE_ENOTSUP },                          /* escaped key */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Dat\":\"eA==\"}]}",
          true, FLOE_ENOTSUP },                          /* missing Data */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":null}]}",
          true, FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":12}]}", true,
          FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"eA==\","
          "\"Data\":\"eHk=\"}]}", true, FLOE_ENOTSUP },  /* duplicate */
        { "{\"DeliveryStreamName\":\"s\",\"DeliveryStreamName\":\"t\","
          "\"Records\":[{\"Data\":\"\"}]}", true, FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[]}", true, FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\",\"Records\":{}}", true, FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[null]}", true,
          FLOE_ENOTSUP },
        { "{\"Records\":[{\"Data\":\"\"}]}", true, FLOE_ENOTSUP }, /* no name */
        { "{\"DeliveryStreamName\":\"s\"}", true, FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"a b\",\"Records\":[{\"Data\":\"\"}]}",
          true, FLOE_ENOTSUP },                          /* bad name */
        { "{\"DeliveryStreamName\":\"\",\"Records\":[{\"Data\":\"\"}]}", true,
          FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\\u0000\",\"Records\":[{\"Data\":\"\"}]}",
          true, FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"\\ud83d\\ude00\",\"Records\":[]}", true,
          FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"0123456789012345678901234567890123456789"
          "01234567890123456789012345\",\"Records\":[{\"Data\":\"\"}]}", true,
          FLOE_ENOTSUP },                                /* 66 characters */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"eA==\"}]",
          true, FLOE_ENOTSUP },                          /* truncated */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"eA==", true,
          FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"eA==\"},]}",
          true, FLOE_ENOTSUP },                          /* trailing comma */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"\"}]} x",
          true, FLOE_ENOTSUP },                          /* trailing text */
        { "{\"DeliveryStreamName\":\"s\",\"X\":01,\"Records\":[{\"Data\":\"\"}"
          "]}", true, FLOE_ENOTSUP },                    /* leading zero */
        { "{\"DeliveryStreamName\":\"s\",\"X\":nul,\"Records\":[{\"Data\":\"\"}"
          "]}", true, FLOE_ENOTSUP },
        { "{\"DeliveryStreamName\":\"s\",\"X\":\"\\ud800\",\"Records\":[{"
          "\"Data\":\"\"}]}", true, FLOE_ENOTSUP },       /* lone surrogate */
        { "{\"DeliveryStreamName\":\"s\",\"X\":\"\\x\",\"Records\":[{\"Data\":"
          "\"\"}]}", true, FLOE_ENOTSUP },               /* bad escape */
        { "{\"DeliveryStreamName\":\"s\",\f\"Records\":[{\"Data\":\"\"}]}", true,
          FLOE_ENOTSUP },                                /* odd whitespace */
        { "\xef\xbb\xbf{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":"
          "\"\"}]}", true, FLOE_ENOTSUP },               /* BOM */
        { "{\"DeliveryStreamName\":\"s\",\"Record\":{\"Data\":\"\"}}", true,
          FLOE_ENOTSUP },                                /* wrong op */
        { "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"\"}]}", false,
          FLOE_ENOTSUP },
        { "", true, FLOE_ENOTSUP },
        { "[]", true, FLOE_ENOTSUP },
    };
    struct floe_fh_blob recs[CAP];
    struct floe_fh_put_body pb;
    size_t i, k;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct want *w = &cases[i];
        int rc = floe_fh_put_parse(w->body, strlen(w->body), w->batch, &pb,
                                   recs, CAP);
        bool ok = rc == w->rc;

        if (ok && rc == FLOE_OK) {
            ok = strcmp(pb.name, w->name) == 0 && pb.n == w->n;
            for (k = 0; ok && k < w->n && k < 3; k++)
                ok = recs[k].b64_len == strlen(w->data[k]) &&
                     memcmp(recs[k].b64, w->data[k], recs[k].b64_len) == 0 &&
                     recs[k].len == 0;
        }
        if (!ok) {
            fprintf(stderr, "  case %zu: rc %d, name '%s', n %zu: %s\n", i,
                    rc, pb.name, pb.n, w->body);
            CHECK(0);
        }
    }
}

static void test_nul_and_limit(void)
{
    static const char body[] = "{\"DeliveryStreamName\":\"s\",\"Records\":"
                               "[{\"Data\":\"eA=\0\"}]}";
    struct floe_fh_blob recs[CAP];
    struct floe_fh_put_body pb;
    struct floe_buf b;
    size_t i;

    /* cJSON cuts a string at a NUL: such a body is not ours */
    CHECK(floe_fh_put_parse(body, sizeof(body) - 1, true, &pb, recs, CAP) ==
          FLOE_ENOTSUP);
    /* exactly cap records are read; one more is left to cJSON */
    floe_buf_init(&b, 1 << 20);
    floe_buf_adds(&b, "{\"DeliveryStreamName\":\"s\",\"Records\":[");
    for (i = 0; i < 3; i++)
        floe_buf_addf(&b, "%s{\"Data\":\"eA==\"}", i ? "," : "");
    floe_buf_adds(&b, "]}");
    CHECK(floe_fh_put_parse(b.data, b.len, true, &pb, recs, 3) == FLOE_OK &&
          pb.n == 3);
    CHECK(floe_fh_put_parse(b.data, b.len, true, &pb, recs, 2) ==
          FLOE_ENOTSUP);
    /* a body that is not NUL-terminated: only `len` bytes are read */
    CHECK(floe_fh_put_parse(b.data, b.len - 1, true, &pb, recs, 3) ==
          FLOE_ENOTSUP);
    floe_buf_free(&b);
}

/* ---- random bodies against cJSON ---- */

static unsigned seed = 424242u; /* fixed: a failure reproduces */

static unsigned rnd(unsigned n)
{
    return (unsigned)rand_r(&seed) % n;
}

static void add_ws(struct floe_buf *b)
{
    static const char *const w[] = { "", "", "", " ", "\n", "\t", " \r\n " };

    floe_buf_adds(b, w[rnd(7)]);
}

static void add_value(struct floe_buf *b, int depth)
{
    static const char *const atoms[] = {
        "null", "true", "false", "0", "-1", "3.25", "1e9", "-0.5E-3",
        "\"x\"", "\"\"", "\"a\\\"b\"", "\"\\u00e9\\n\"", "\"}]{[,:\""
    };
    unsigned k = depth > 3 ? 0 : rnd(4), i, n;

    if (k >= 2) {
        bool obj = k == 3;

        floe_buf_addc(b, obj ? '{' : '[');
        n = rnd(3);
        for (i = 0; i < n; i++) {
            if (i)
                floe_buf_addc(b, ',');
            add_ws(b);
            if (obj)
                floe_buf_addf(b, "\"k%u\":", i);
            add_value(b, depth + 1);
            add_ws(b);
        }
        floe_buf_addc(b, obj ? '}' : ']');
        return;
    }
    floe_buf_adds(b, atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))]);
}

static void add_name(struct floe_buf *b)
{
    static const char chars[] = "abcXYZ019_.-";
    unsigned n = 1 + rnd(8), i;

    floe_buf_addc(b, '"');
    for (i = 0; i < n; i++) {
        char c = chars[rnd(sizeof(chars) - 1)];

        if (rnd(5) == 0)
            floe_buf_addf(b, "\\u%04x", (unsigned)c);
        else
            floe_buf_addc(b, c);
    }
    floe_buf_addc(b, '"');
}

static void add_data(struct floe_buf *b)
{
    unsigned char raw[40];
    char enc[64];
    unsigned n = rnd(sizeof(raw)), i;
    size_t len;

    for (i = 0; i < n; i++)
        raw[i] = (unsigned char)rnd(256);
    len = floe_b64_enc(raw, n, enc);
    floe_buf_addc(b, '"');
    for (i = 0; i < len; i++) {
        if (enc[i] == '/' && rnd(3) == 0)
            floe_buf_adds(b, "\\/"); /* legal JSON escape */
        else
            floe_buf_addc(b, enc[i]);
    }
    floe_buf_addc(b, '"');
}

static void add_record(struct floe_buf *b)
{
    bool extra_first = rnd(4) == 0, extra_last = rnd(4) == 0;

    floe_buf_addc(b, '{');
    add_ws(b);
    if (extra_first) {
        floe_buf_adds(b, "\"PartitionKey\":");
        add_value(b, 1);
        floe_buf_addc(b, ',');
        add_ws(b);
    }
    floe_buf_adds(b, "\"Data\"");
    add_ws(b);
    floe_buf_addc(b, ':');
    add_ws(b);
    add_data(b);
    if (extra_last) {
        floe_buf_adds(b, ",\"Z\":");
        add_value(b, 1);
    }
    add_ws(b);
    floe_buf_addc(b, '}');
}

static void gen_body(struct floe_buf *b, bool batch)
{
    unsigned order = rnd(2), n = 1 + rnd(6), i, part;

    floe_buf_reset(b);
    add_ws(b);
    floe_buf_addc(b, '{');
    for (part = 0; part < 3; part++) {
        unsigned which = (part + order) % 3; /* name, records, extra */

        if (part)
            floe_buf_addc(b, ',');
        add_ws(b);
        if (which == 0) {
            floe_buf_adds(b, "\"DeliveryStreamName\":");
            add_ws(b);
            add_name(b);
        } else if (which == 1) {
            floe_buf_adds(b, batch ? "\"Records\":" : "\"Record\":");
            add_ws(b);
            if (!batch) {
                add_record(b);
                continue;
            }
            floe_buf_addc(b, '[');
            for (i = 0; i < n; i++) {
                if (i)
                    floe_buf_addc(b, ',');
                add_ws(b);
                add_record(b);
                add_ws(b);
            }
            floe_buf_addc(b, ']');
        } else {
            floe_buf_adds(b, "\"Extra\":");
            add_value(b, 0);
        }
        add_ws(b);
    }
    floe_buf_addc(b, '}');
    add_ws(b);
}

/* Damage the body the way a client or the network might. */
static void mutate(struct floe_buf *b)
{
    static const char sig[] = "{}[],:\"\\ 0aZ=/\x01\x7f\x80";
    size_t at = b->len ? rnd((unsigned)b->len) : 0;

    switch (rnd(4)) {
    case 0: /* truncate */
        b->len = at;
        b->data[at] = '\0';
        break;
    case 1: /* overwrite one byte with a JSON-significant one */
        if (b->len)
            b->data[at] = sig[rnd(sizeof(sig) - 1)];
        break;
    case 2: /* delete one byte */
        if (b->len) {
            memmove(b->data + at, b->data + at + 1, b->len - at);
            b->len--;
        }
        break;
    default: /* duplicate a stretch */
        if (b->len > 8) {
            size_t n = 1 + rnd(8);

            if (at + n <= b->len)
                floe_buf_add(b, b->data + at, n);
        }
        break;
    }
}

/* What cJSON makes of it, when it is a clean put: the name and the Data
 * strings, as the general path would read them. */
static bool cjson_view(const struct floe_buf *b, bool batch, char *name,
                       const char **data, size_t *n, cJSON **root)
{
    const cJSON *v, *arr, *rec;

    *n = 0;
    *root = cJSON_ParseWithLength(b->data, b->len);
    if (!cJSON_IsObject(*root))
        return false;
    v = cJSON_GetObjectItemCaseSensitive(*root, "DeliveryStreamName");
    if (!cJSON_IsString(v) || !floe_fh_admin_name_ok(v->valuestring))
        return false;
    snprintf(name, FLOE_FH_NAME_MAX + 1, "%s", v->valuestring);
    arr = cJSON_GetObjectItemCaseSensitive(*root,
                                           batch ? "Records" : "Record");
    if (!batch) {
        v = cJSON_GetObjectItemCaseSensitive(arr, "Data");
        if (!cJSON_IsObject(arr) || !cJSON_IsString(v))
            return false;
        data[(*n)++] = v->valuestring;
        return true;
    }
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
        cJSON_GetArraySize(arr) > CAP)
        return false;
    cJSON_ArrayForEach(rec, arr) {
        v = cJSON_GetObjectItemCaseSensitive(rec, "Data");
        if (!cJSON_IsObject(rec) || !cJSON_IsString(v))
            return false;
        data[(*n)++] = v->valuestring;
    }
    return true;
}

static void test_random_against_cjson(void)
{
    static struct floe_fh_blob recs[CAP];
    static const char *data[CAP];
    struct floe_fh_put_body pb;
    struct floe_buf b;
    char name[FLOE_FH_NAME_MAX + 1];
    int iter, fast_valid = 0, valid = 0, fast_bad = 0, mismatches = 0;

    floe_buf_init(&b, 1 << 20);
    for (iter = 0; iter < 20000; iter++) {
        bool batch = rnd(3) != 0, damaged = rnd(2) == 0;
        cJSON *root = NULL;
        size_t n, k;
        int rc;
        bool clean;

        gen_body(&b, batch);
        if (damaged)
            mutate(&b);
        rc = floe_fh_put_parse(b.data, b.len, batch, &pb, recs, CAP);
        clean = cjson_view(&b, batch, name, data, &n, &root);
        if (!damaged) {
            valid++;
            fast_valid += rc == FLOE_OK;
        } else {
            fast_bad += rc == FLOE_OK;
        }
        if (rc == FLOE_OK) {
            bool same = clean && strcmp(name, pb.name) == 0 && n == pb.n;

            for (k = 0; same && k < n; k++)
                same = strlen(data[k]) == recs[k].b64_len &&
                       memcmp(data[k], recs[k].b64, recs[k].b64_len) == 0;
            if (!same && mismatches++ < 5)
                fprintf(stderr, "  mismatch: %.*s\n", (int)b.len, b.data);
        }
        cJSON_Delete(root);
    }
    CHECK(mismatches == 0);
    /* Undamaged bodies take the fast path unless a Data string has an
     * escaped '/', which about a third do. */
    CHECK(fast_valid > valid / 3);
    CHECK(fast_bad > 0); /* some damage (extra bytes in a string) is benign */
    fprintf(stderr, "  %d/%d valid bodies parsed fast, %d damaged taken\n",
            fast_valid, valid, fast_bad);
    floe_buf_free(&b);
}

FLOE_TESTS({ "table", test_table },
           { "nul_and_limit", test_nul_and_limit },
           { "random_against_cjson", test_random_against_cjson });
