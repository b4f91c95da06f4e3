/* sigv4.c - AWS Signature Version 4 signing and verification (sigv4.h).
 * Canonical request: METHOD \n path \n sorted query \n sorted lower-case
 * headers (trimmed, spaces collapsed) \n signed-header list \n payload hash.
 * SHA-256 via EVP_Digest, HMAC via the one-shot HMAC() of OpenSSL 3. */
#include "aws/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void floe_sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
        memset(md, 0, sizeof(md)); /* only on a broken libcrypto */
    hex(md, 32, out);
}

void floe_sigv4_amz_date(int64_t ms, char out[17])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int hmac(const void *key, size_t klen, const void *data, size_t n,
                unsigned char out[32])
{
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), key, (int)klen, data, n, out, &len) == NULL ||
        len != 32)
        return FLOE_EIO;
    return FLOE_OK;
}

/* Header sort order: by lower-case name. */
struct hdr_ref {
    const struct floe_sigv4_hdr *h;
};

static int hdr_cmp(const void *a, const void *b)
{
    return strcasecmp(((const struct hdr_ref *)a)->h->name,
                      ((const struct hdr_ref *)b)->h->name);
}

/* Append a header value trimmed, with inner whitespace runs as one space. */
static int add_trimmed(struct floe_buf *out, const char *v)
{
    const char *end = v + strlen(v);
    int rc = FLOE_OK, space = 0;

    while (v < end && isspace((unsigned char)*v))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    for (; v < end && rc == FLOE_OK; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }
        if (space)
            rc = floe_buf_addc(out, ' ');
        space = 0;
        if (rc == FLOE_OK)
            rc = floe_buf_addc(out, *v);
    }
    return rc;
}

static int add_lower(struct floe_buf *out, const char *s)
{
    int rc = FLOE_OK;

    for (; *s != '\0' && rc == FLOE_OK; s++)
        rc = floe_buf_addc(out, (char)tolower((unsigned char)*s));
    return rc;
}

struct qparam {
    const char *p;
    size_t n;
};

static int q_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);

    if (c != 0)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Sort the (already encoded) parameters; a bare "name" becomes "name=". */
static int add_query(struct floe_buf *out, const char *q)
{
    struct qparam params[128];
    size_t n = 0, i;
    int rc = FLOE_OK;

    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);

        if (len > 0) {
            if (n == sizeof(params) / sizeof(params[0]))
                return FLOE_EINVAL;
            params[n].p = q;
            params[n].n = len;
            n++;
        }
        q = amp ? amp + 1 : NULL;
    }
    qsort(params, n, sizeof(params[0]), q_cmp);
    for (i = 0; i < n && rc == FLOE_OK; i++) {
        if (i > 0)
            rc = floe_buf_addc(out, '&');
        if (rc == FLOE_OK)
            rc = floe_buf_add(out, params[i].p, params[i].n);
        if (rc == FLOE_OK && memchr(params[i].p, '=', params[i].n) == NULL)
            rc = floe_buf_addc(out, '=');
    }
    return rc;
}

int floe_sigv4_canonical_request(const struct floe_sigv4_req *req,
                                 const char *payload_hex,
                                 struct floe_buf *out,
                                 struct floe_buf *out_signed)
{
    struct hdr_ref refs[FLOE_SIGV4_MAX_HEADERS];
    size_t i, start = out->len;
    int rc;

    if (req->nhdrs > FLOE_SIGV4_MAX_HEADERS)
        return FLOE_EINVAL;
    for (i = 0; i < req->nhdrs; i++)
        refs[i].h = &req->hdrs[i];
    qsort(refs, req->nhdrs, sizeof(refs[0]), hdr_cmp);

    rc = floe_buf_addf(out, "%s\n%s\n", req->method,
                       req->path && req->path[0] ? req->path : "/");
    if (rc == FLOE_OK)
        rc = add_query(out, req->query);
    if (rc == FLOE_OK)
        rc = floe_buf_addc(out, '\n');
    for (i = 0; i < req->nhdrs && rc == FLOE_OK; i++) {
        rc = add_lower(out, refs[i].h->name);
        if (rc == FLOE_OK)
            rc = floe_buf_addc(out, ':');
        if (rc == FLOE_OK)
            rc = add_trimmed(out, refs[i].h->value);
        if (rc == FLOE_OK)
            rc = floe_buf_addc(out, '\n');
    }
    if (rc == FLOE_OK)
        rc = floe_buf_addc(out, '\n');
    {
        size_t sh_start = out->len;

        for (i = 0; i < req->nhdrs && rc == FLOE_OK; i++) {
            if (i > 0)
                rc = floe_buf_addc(out, ';');
            if (rc == FLOE_OK)
                rc = add_lower(out, refs[i].h->name);
        }
        if (rc == FLOE_OK && out_signed != NULL)
            rc = floe_buf_add(out_signed, out->data + sh_start,
                              out->len - sh_start);
    }
    if (rc == FLOE_OK)
        rc = floe_buf_addf(out, "\n%s", payload_hex);
    if (rc != FLOE_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int floe_sigv4_string_to_sign(const char *amz_date, const char *scope,
                              const char *creq, size_t creq_len,
                              struct floe_buf *out)
{
    char h[65];

    floe_sigv4_sha256_hex(creq, creq_len, h);
    return floe_buf_addf(out, "%s\n%s\n%s\n%s", FLOE_SIGV4_ALGO, amz_date,
                         scope, h);
}

int floe_sigv4_signing_key(const char *secret, const char *date8,
                           const char *region, const char *service,
                           unsigned char out[32])
{
    unsigned char k[32];
    char *first;
    size_t slen = strlen(secret);
    int rc;

    first = malloc(slen + 5);
    if (first == NULL)
        return FLOE_ENOMEM;
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, secret, slen + 1);
    rc = hmac(first, slen + 4, date8, strlen(date8), k);
    OPENSSL_cleanse(first, slen + 4);
    free(first);
    if (rc == FLOE_OK)
        rc = hmac(k, 32, region, strlen(region), k);
    if (rc == FLOE_OK)
        rc = hmac(k, 32, service, strlen(service), k);
    if (rc == FLOE_OK)
        rc = hmac(k, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(k, sizeof(k));
    return rc;
}

int floe_sigv4_signature(const unsigned char key[32], const char *sts,
                         size_t sts_len, char out[65])
{
    unsigned char mac[32];
    int rc = hmac(key, 32, sts, sts_len, mac);

    if (rc == FLOE_OK)
        hex(mac, 32, out);
    return rc;
}

int floe_sigv4_compute(const struct floe_sigv4_req *req, const char *secret,
                       const char *region, const char *service,
                       const char *amz_date, char out_sig[65],
                       struct floe_buf *out_signed)
{
    struct floe_buf creq, sts;
    char payload_hex[65], scope[256], date8[9];
    unsigned char key[32];
    int rc;

    floe_buf_init(&creq, FLOE_BUF_UNLIMITED);
    floe_buf_init(&sts, FLOE_BUF_UNLIMITED);
    if (strlen(amz_date) != 16) {
        rc = FLOE_EINVAL;
        goto cleanup;
    }
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date8, region,
             service);
    if (req->payload_hex != NULL)
        snprintf(payload_hex, sizeof(payload_hex), "%s", req->payload_hex);
    else
        floe_sigv4_sha256_hex(req->payload ? req->payload : "",
                              req->payload_len, payload_hex);
    rc = floe_sigv4_canonical_request(req, payload_hex, &creq, out_signed);
    if (rc == FLOE_OK)
        rc = floe_sigv4_string_to_sign(amz_date, scope, creq.data, creq.len,
                                       &sts);
    if (rc == FLOE_OK)
        rc = floe_sigv4_signing_key(secret, date8, region, service, key);
    if (rc == FLOE_OK)
        rc = floe_sigv4_signature(key, sts.data, sts.len, out_sig);
    OPENSSL_cleanse(key, sizeof(key));
cleanup:
    floe_buf_free(&creq);
    floe_buf_free(&sts);
    return rc;
}

int floe_sigv4_authorization(const struct floe_sigv4_req *req,
                             const char *access_key, const char *secret,
                             const char *region, const char *service,
                             const char *amz_date, struct floe_buf *out)
{
    struct floe_buf signed_hdrs;
    char sig[65];
    int rc;

    floe_buf_init(&signed_hdrs, FLOE_BUF_UNLIMITED);
    rc = floe_sigv4_compute(req, secret, region, service, amz_date, sig,
                            &signed_hdrs);
    if (rc == FLOE_OK)
        rc = floe_buf_addf(out,
                           "%s Credential=%s/%.8s/%s/%s/aws4_request, "
                           "SignedHeaders=%s, Signature=%s",
                           FLOE_SIGV4_ALGO, access_key, amz_date, region,
                           service, signed_hdrs.data ? signed_hdrs.data : "",
                           sig);
    floe_buf_free(&signed_hdrs);
    return rc;
}

/* Copy the value of "Name=" up to ',' or the end into out[n]. */
static int take_field(const char *value, const char *name, char *out,
                      size_t n, char *err)
{
    const char *p = value, *end;
    size_t nl = strlen(name), len;

    for (;;) {
        p = strstr(p, name);
        if (p == NULL)
            return floe_err(err, FLOE_EINVAL,
                            "Authorization header has no %.*s", (int)nl - 1,
                            name);
        if (p == value || p[-1] == ' ' || p[-1] == ',')
            break;
        p += nl;
    }
    p += nl;
    end = strchr(p, ',');
    len = end ? (size_t)(end - p) : strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    if (len == 0 || len >= n)
        return floe_err(err, FLOE_EINVAL,
                        "Authorization header: bad %.*s", (int)nl - 1, name);
    memcpy(out, p, len);
    out[len] = '\0';
    return FLOE_OK;
}

int floe_sigv4_parse_authorization(const char *value,
                                   struct floe_sigv4_auth *out, char *err)
{
    char cred[512], *parts[5], *s;
    size_t alen = strlen(FLOE_SIGV4_ALGO);
    int rc, i;

    memset(out, 0, sizeof(*out));
    if (strncmp(value, FLOE_SIGV4_ALGO, alen) != 0 || value[alen] != ' ')
        return floe_err(err, FLOE_EINVAL,
                        "Authorization header is not %s", FLOE_SIGV4_ALGO);
    value += alen;
    rc = take_field(value, "Credential=", cred, sizeof(cred), err);
    if (rc == FLOE_OK)
        rc = take_field(value, "SignedHeaders=", out->signed_headers,
                        sizeof(out->signed_headers), err);
    if (rc == FLOE_OK)
        rc = take_field(value, "Signature=", out->signature,
                        sizeof(out->signature), err);
    if (rc != FLOE_OK)
        return rc;
    if (strlen(out->signature) != FLOE_SIGV4_HEX_LEN)
        return floe_err(err, FLOE_EINVAL,
                        "Authorization header: signature is not 64 hex "
                        "digits");
    /* AK/yyyymmdd/region/service/aws4_request */
    s = cred;
    for (i = 0; i < 5 && s != NULL; i++) {
        parts[i] = s;
        s = strchr(s, '/');
        if (s != NULL)
            *s++ = '\0';
    }
    if (i != 5 || s != NULL || strcmp(parts[4], "aws4_request") != 0 ||
        strlen(parts[1]) != 8 || parts[0][0] == '\0' ||
        strlen(parts[0]) >= sizeof(out->access_key) ||
        strlen(parts[2]) >= sizeof(out->region) ||
        strlen(parts[3]) >= sizeof(out->service))
        return floe_err(err, FLOE_EINVAL,
                        "Authorization header: credential scope must be "
                        "<key>/<yyyymmdd>/<region>/<service>/aws4_request");
    memcpy(out->access_key, parts[0], strlen(parts[0]) + 1);
    memcpy(out->date, parts[1], 9);
    memcpy(out->region, parts[2], strlen(parts[2]) + 1);
    memcpy(out->service, parts[3], strlen(parts[3]) + 1);
    return FLOE_OK;
}

int floe_sigv4_verify(const struct floe_sigv4_req *req,
                      const struct floe_sigv4_auth *auth, const char *secret,
                      const char *amz_date, char *err)
{
    struct floe_buf signed_hdrs;
    char sig[65];
    int rc;

    if (strncmp(amz_date, auth->date, 8) != 0)
        return floe_err(err, FLOE_EINVAL,
                        "credential scope date %s does not match X-Amz-Date",
                        auth->date);
    floe_buf_init(&signed_hdrs, FLOE_BUF_UNLIMITED);
    rc = floe_sigv4_compute(req, secret, auth->region, auth->service,
                            amz_date, sig, &signed_hdrs);
    if (rc != FLOE_OK)
        goto cleanup;
    if (signed_hdrs.data == NULL ||
        strcmp(signed_hdrs.data, auth->signed_headers) != 0) {
        rc = floe_err(err, FLOE_EINVAL,
                      "signed headers differ from SignedHeaders=%s",
                      auth->signed_headers);
        goto cleanup;
    }
    if (CRYPTO_memcmp(sig, auth->signature, FLOE_SIGV4_HEX_LEN) != 0)
        rc = floe_err(err, FLOE_EINVAL,
                      "The request signature we calculated does not match "
                      "the signature you provided.");
cleanup:
    floe_buf_free(&signed_hdrs);
    return rc;
}
