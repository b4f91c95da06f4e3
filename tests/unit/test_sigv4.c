/* test_sigv4.c - SigV4 against AWS's published example values
 * (get-vanilla, post-vanilla, the IAM signing-key example) and a Firehose
 * request with a session token, plus verify and header parsing. */
#include <string.h>

#include "aws/sigv4.h"
#include "test.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE "20150830T123600Z"

static void test_sha256_empty(void)
{
    char h[65];

    floe_sigv4_sha256_hex("", 0, h);
    CHECK(strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495"
                    "991b7852b855") == 0);
}

static void test_signing_key_iam_example(void)
{
    unsigned char k[32];
    char h[65];
    static const char dig[] = "0123456789abcdef";
    int i;

    CHECK(floe_sigv4_signing_key(SECRET, "20150830", "us-east-1", "iam", k) ==
          FLOE_OK);
    for (i = 0; i < 32; i++) {
        h[2 * i] = dig[k[i] >> 4];
        h[2 * i + 1] = dig[k[i] & 15];
    }
    h[64] = '\0';
    CHECK(strcmp(h, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6e"
                    "d3c154a4b9") == 0);
}

struct vec {
    const char *name, *method, *host;
    const char *ctype, *target, *token, *body;
    const char *service;
    const char *creq, *sts_hash, *sig;
};

static const struct vec vecs[] = {
    { "get-vanilla", "GET", "example.amazonaws.com", NULL, NULL, NULL, "",
      "service",
      "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
      "host;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    { "post-vanilla", "POST", "example.amazonaws.com", NULL, NULL, NULL, "",
      "service", NULL,
      "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
      "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
    /* Values cross-checked with botocore's SigV4Auth. */
    { "firehose-token", "POST", "127.0.0.1:4573",
      "application/x-amz-json-1.1", "Firehose_20150804.PutRecordBatch",
      "SESSIONTOKEN/EXAMPLE+=",
      "{\"DeliveryStreamName\":\"orders\",\"Records\":[{\"Data\":"
      "\"aGVsbG8K\"}]}",
      "firehose",
      "POST\n/\n\ncontent-type:application/x-amz-json-1.1\n"
      "host:127.0.0.1:4573\nx-amz-date:20150830T123600Z\n"
      "x-amz-security-token:SESSIONTOKEN/EXAMPLE+=\n"
      "x-amz-target:Firehose_20150804.PutRecordBatch\n\n"
      "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
      "80fb9ce7e21739b0f9ae689711ac8faf085990d8cce18a8b21dce909a4c59858",
      "1b11b6ec97e1998f8906988450034a0878871b01b769fcd1b7f56eed4d8883a1",
      "b941407939ebbbc1e6d1517e6db45a91154e1e83d81f0bd63123682401148a2d" },
};

static size_t make_req(const struct vec *v, struct floe_sigv4_hdr *h,
                       struct floe_sigv4_req *req)
{
    size_t n = 0;

    /* Deliberately unsorted and mixed case. */
    if (v->target)
        h[n++] = (struct floe_sigv4_hdr){ "X-Amz-Target", v->target };
    h[n++] = (struct floe_sigv4_hdr){ "X-Amz-Date", DATE };
    if (v->token)
        h[n++] = (struct floe_sigv4_hdr){ "X-Amz-Security-Token", v->token };
    h[n++] = (struct floe_sigv4_hdr){ "Host", v->host };
    if (v->ctype)
        h[n++] = (struct floe_sigv4_hdr){ "Content-Type", v->ctype };
    memset(req, 0, sizeof(*req));
    req->method = v->method;
    req->path = "/";
    req->hdrs = h;
    req->nhdrs = n;
    req->payload = v->body;
    req->payload_len = strlen(v->body);
    return n;
}

static void test_vectors(void)
{
    size_t i;

    for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const struct vec *v = &vecs[i];
        struct floe_sigv4_hdr h[8];
        struct floe_sigv4_req req;
        struct floe_buf creq, sts, auth, want;
        char ph[65], sig[65], scope[128];

        make_req(v, h, &req);
        floe_buf_init(&creq, FLOE_BUF_UNLIMITED);
        floe_buf_init(&sts, FLOE_BUF_UNLIMITED);
        floe_buf_init(&auth, FLOE_BUF_UNLIMITED);
        floe_buf_init(&want, FLOE_BUF_UNLIMITED);
        floe_sigv4_sha256_hex(v->body, strlen(v->body), ph);
        CHECK(floe_sigv4_canonical_request(&req, ph, &creq, NULL) == FLOE_OK);
        if (v->creq != NULL && strcmp(creq.data, v->creq) != 0) {
            fprintf(stderr, "  %s: canonical request\n%s\n", v->name,
                    creq.data);
            CHECK(0);
        }
        snprintf(scope, sizeof(scope), "20150830/us-east-1/%s/aws4_request",
                 v->service);
        CHECK(floe_sigv4_string_to_sign(DATE, scope, creq.data, creq.len,
                                        &sts) == FLOE_OK);
        CHECK(strstr(sts.data, v->sts_hash) != NULL);
        CHECK(floe_sigv4_compute(&req, SECRET, "us-east-1", v->service, DATE,
                                 sig, NULL) == FLOE_OK);
        if (strcmp(sig, v->sig) != 0) {
            fprintf(stderr, "  %s: signature %s\n", v->name, sig);
            CHECK(0);
        }
        CHECK(floe_sigv4_authorization(&req, "AKIDEXAMPLE", SECRET,
                                       "us-east-1", v->service, DATE,
                                       &auth) == FLOE_OK);
        floe_buf_addf(&want,
                      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
                      "us-east-1/%s/aws4_request, SignedHeaders=",
                      v->service);
        CHECK(strncmp(auth.data, want.data, want.len) == 0);
        CHECK(strstr(auth.data, v->sig) != NULL);

        /* The same code verifies what it signed... */
        {
            struct floe_sigv4_auth pa;
            char err[FLOE_ERR_LEN];

            CHECK(floe_sigv4_parse_authorization(auth.data, &pa, err) ==
                  FLOE_OK);
            CHECK(strcmp(pa.access_key, "AKIDEXAMPLE") == 0);
            CHECK(strcmp(pa.region, "us-east-1") == 0);
            CHECK(strcmp(pa.service, v->service) == 0);
            CHECK(strcmp(pa.signature, v->sig) == 0);
            CHECK(floe_sigv4_verify(&req, &pa, SECRET, DATE, err) == FLOE_OK);
            /* ...and rejects a wrong secret or a changed body. */
            CHECK(floe_sigv4_verify(&req, &pa, "other", DATE, err) ==
                  FLOE_EINVAL);
            req.payload = "x";
            req.payload_len = 1;
            CHECK(floe_sigv4_verify(&req, &pa, SECRET, DATE, err) ==
                  FLOE_EINVAL);
        }
        floe_buf_free(&creq);
        floe_buf_free(&sts);
        floe_buf_free(&auth);
        floe_buf_free(&want);
    }
}

static void test_header_value_trim_and_query_sort(void)
{
    struct floe_sigv4_hdr h[] = { { "My-Header", "  a   b  c " },
                                  { "host", "h" } };
    struct floe_sigv4_req req = { "GET", "/p", "b=2&a=1&c", h, 2, "", 0, NULL };
    struct floe_buf creq, sh;

    floe_buf_init(&creq, FLOE_BUF_UNLIMITED);
    floe_buf_init(&sh, FLOE_BUF_UNLIMITED);
    CHECK(floe_sigv4_canonical_request(&req, "x", &creq, &sh) == FLOE_OK);
    CHECK(strcmp(creq.data, "GET\n/p\na=1&b=2&c=\nhost:h\nmy-header:a b c\n\n"
                            "host;my-header\nx") == 0);
    CHECK(strcmp(sh.data, "host;my-header") == 0);
    floe_buf_free(&creq);
    floe_buf_free(&sh);
}

static void test_parse_bad_authorization(void)
{
    struct floe_sigv4_auth a;
    char err[FLOE_ERR_LEN];

    CHECK(floe_sigv4_parse_authorization("Basic Zm9v", &a, err) ==
          FLOE_EINVAL);
    CHECK(floe_sigv4_parse_authorization(
              "AWS4-HMAC-SHA256 Credential=AK/2015/us/s/aws4_request, "
              "SignedHeaders=host, Signature=00",
              &a, err) == FLOE_EINVAL);
    CHECK(floe_sigv4_parse_authorization(
              "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/firehose, "
              "SignedHeaders=host, Signature=5fa00fa31553b73ebf1942676e8629"
              "1e8372ff2a2260956d9b8aae1d763fbf31",
              &a, err) == FLOE_EINVAL);
}

static void test_amz_date(void)
{
    char d[17];

    floe_sigv4_amz_date(1440938160000LL, d);
    CHECK(strcmp(d, DATE) == 0);
}

FLOE_TESTS({ "sha256_empty", test_sha256_empty },
           { "signing_key_iam_example", test_signing_key_iam_example },
           { "vectors", test_vectors },
           { "trim_and_query_sort", test_header_value_trim_and_query_sort },
           { "parse_bad_authorization", test_parse_bad_authorization },
           { "amz_date", test_amz_date });
