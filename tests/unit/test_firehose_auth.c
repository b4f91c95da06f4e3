/* test_firehose_auth.c - unit tests of the firehose SigV4 gate: a request
 * signed by the sigv4 signer passes; each way of getting it wrong maps to
 * the AWS error name (table-driven), and off means no check at all. */
#include <string.h>

#include "aws/sigv4.h"
#include "core/buf.h"
#include "firehose/auth.h"
#include "test.h"

#define NOW 1700000000000LL /* 2023-11-14T22:13:20Z */
#define BODY "{\"DeliveryStreamName\":\"orders\"}"

struct hdrs {
    const char *name[8];
    const char *value[8];
    int n;
};

static const char *get(void *ud, const char *name)
{
    struct hdrs *h = ud;
    int i;

    for (i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

/* Sign BODY at `when` with key/secret/service into auth (owned buf); the
 * first `nh` of host, x-amz-date, x-amz-target are signed. */
static void sign(int64_t when, const char *key, const char *secret,
                 const char *service, size_t nh, char date[17],
                 struct floe_buf *auth)
{
    struct floe_sigv4_hdr sh[3] = {
        { "host", "127.0.0.1:4573" },
        { "x-amz-date", date },
        { "x-amz-target", "Firehose_20150804.PutRecord" },
    };
    struct floe_sigv4_req req = { "POST", "/", NULL, sh, nh, BODY,
                                  strlen(BODY), NULL };

    floe_sigv4_amz_date(when, date);
    CHECK(floe_sigv4_authorization(&req, key, secret, "ap-south-1", service,
                                   date, auth) == FLOE_OK);
}

static void test_auth_table(void)
{
    static const struct {
        const char *what;
        int64_t skew_ms;
        const char *key, *secret, *service, *body, *override;
        const char *want; /* NULL = accepted */
        size_t nh;        /* headers signed (0: all three) */
    } cases[] = {
        { "good", 0, "AK", "sk", "firehose", BODY, NULL, NULL },
        { "4 min late ok", -4 * 60000, "AK", "sk", "firehose", BODY, NULL,
          NULL },
        { "4 min early ok", 4 * 60000, "AK", "sk", "firehose", BODY, NULL,
          NULL },
        /* AWS allows 5 minutes each way */
        { "6 min late", -6 * 60000, "AK", "sk", "firehose", BODY, NULL,
          "InvalidSignatureException" },
        { "6 min early", 6 * 60000, "AK", "sk", "firehose", BODY, NULL,
          "InvalidSignatureException" },
        /* a valid signature that leaves the operation out: replayable
         * with another X-Amz-Target */
        { "target not signed", 0, "AK", "sk", "firehose", BODY, NULL,
          "InvalidSignatureException", 2 },
        { "date not signed", 0, "AK", "sk", "firehose", BODY, NULL,
          "InvalidSignatureException", 1 },
        { "wrong secret", 0, "AK", "nope", "firehose", BODY, NULL,
          "InvalidSignatureException" },
        { "unknown key", 0, "AK2", "sk", "firehose", BODY, NULL,
          "UnrecognizedClientException" },
        { "other service", 0, "AK", "sk", "kinesis", BODY, NULL,
          "InvalidSignatureException" },
        { "body changed", 0, "AK", "sk", "firehose", "{}", NULL,
          "InvalidSignatureException" },
        { "missing", 0, "AK", "sk", "firehose", BODY, "",
          "MissingAuthenticationTokenException" },
        { "not sigv4", 0, "AK", "sk", "firehose", BODY, "Basic eDp5",
          "IncompleteSignatureException" },
        { "no signature", 0, "AK", "sk", "firehose", BODY,
          "AWS4-HMAC-SHA256 Credential=AK/20231114/us-east-1/firehose/"
          "aws4_request, SignedHeaders=host;x-amz-date",
          "IncompleteSignatureException" },
        { "host not signed", 0, "AK", "sk", "firehose", BODY,
          "AWS4-HMAC-SHA256 Credential=AK/20231114/us-east-1/firehose/"
          "aws4_request, SignedHeaders=x-amz-date;x-amz-target, Signature="
          "0000000000000000000000000000000000000000000000000000000000000000",
          "InvalidSignatureException" },
        { "unsent header signed", 0, "AK", "sk", "firehose", BODY,
          "AWS4-HMAC-SHA256 Credential=AK/20231114/us-east-1/firehose/"
          "aws4_request, SignedHeaders=host;x-amz-date;x-amz-target;"
          "x-extra, Signature="
          "0000000000000000000000000000000000000000000000000000000000000000",
          "IncompleteSignatureException" },
    };
    struct floe_fh_auth on = { "AK", "sk" };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_fh_auth_err e;
        struct floe_buf auth;
        struct hdrs h;
        char date[17];
        int rc;

        memset(&e, 0, sizeof(e));
        floe_buf_init(&auth, 4096);
        sign(NOW + cases[i].skew_ms, cases[i].key, cases[i].secret,
             cases[i].service, cases[i].nh ? cases[i].nh : 3, date, &auth);
        h.n = 0;
        h.name[h.n] = "Host";
        h.value[h.n++] = "127.0.0.1:4573";
        h.name[h.n] = "X-Amz-Date";
        h.value[h.n++] = date;
        h.name[h.n] = "X-Amz-Target";
        h.value[h.n++] = "Firehose_20150804.PutRecord";
        h.name[h.n] = "Authorization";
        h.value[h.n++] = cases[i].override ? cases[i].override : auth.data;
        rc = floe_fh_auth_check(&on, "POST", "/", cases[i].body,
                                strlen(cases[i].body), get, &h, NOW, &e);
        if (cases[i].want == NULL ? rc != 0
                                  : rc == 0 || strcmp(e.type, cases[i].want)) {
            fprintf(stderr, "  %s: rc %d type %s (%s)\n", cases[i].what, rc,
                    e.type ? e.type : "-", e.msg);
            CHECK(0);
        }
        CHECK(strstr(e.msg, "sk") == NULL || rc == 0);
        floe_buf_free(&auth);
    }
}

static void test_auth_off(void)
{
    struct floe_fh_auth off = { NULL, NULL }, empty = { "", "" };
    struct floe_fh_auth_err e;
    struct hdrs h = { { NULL }, { NULL }, 0 };

    CHECK(floe_fh_auth_check(NULL, "POST", "/", "", 0, get, &h, NOW, &e) ==
          0);
    CHECK(floe_fh_auth_check(&off, "POST", "/", "", 0, get, &h, NOW, &e) ==
          0);
    CHECK(floe_fh_auth_check(&empty, "POST", "/", "", 0, get, &h, NOW, &e) ==
          0);
}

FLOE_TESTS({ "auth_table", test_auth_table }, { "auth_off", test_auth_off });
