/* sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256) on OpenSSL 3.
 * Deterministic: every step (canonical request, string to sign, signing
 * key, signature) is exposed, so a client signs and a server verifies with
 * the same code. Nothing here logs; secrets never leave the caller's
 * memory except as HMAC input. */
#ifndef FLOE_AWS_SIGV4_H
#define FLOE_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define FLOE_SIGV4_ALGO "AWS4-HMAC-SHA256"
#define FLOE_SIGV4_MAX_HEADERS 64
#define FLOE_SIGV4_HEX_LEN 64 /* a SHA-256 in hex, NUL excluded */

/* One header to sign. Names in any case; values are trimmed and inner runs
 * of spaces collapsed, as SigV4 requires. Both borrowed. */
struct floe_sigv4_hdr {
    const char *name;
    const char *value;
};

/* A request as seen on the wire; every pointer borrowed. `path` is the
 * URI path already percent-encoded as sent ("" means "/"); `query` is the
 * encoded query string without '?' (NULL or "" for none); its parameters
 * are sorted here. `hdrs` must include "host" and "x-amz-date" (and
 * "x-amz-security-token" when a session token is used). */
struct floe_sigv4_req {
    const char *method;
    const char *path;
    const char *query;
    const struct floe_sigv4_hdr *hdrs;
    size_t nhdrs;
    const void *payload;
    size_t payload_len;
    const char *payload_hex; /* NULL, or the body's hex SHA-256 already
                                computed (a streamed body): then payload
                                is not read */
};

/* The parts of an Authorization header, for a verifying server. */
struct floe_sigv4_auth {
    char access_key[129];
    char date[9];          /* yyyymmdd from the credential scope */
    char region[64];
    char service[64];
    char signed_headers[1024]; /* "content-type;host;x-amz-date" */
    char signature[FLOE_SIGV4_HEX_LEN + 1];
};

/* Lower-case hex SHA-256 of `p` into out[65] (NUL-terminated). */
void floe_sigv4_sha256_hex(const void *p, size_t n, char out[65]);
/* "20150830T123600Z" for `ms` since the epoch, into out[17]. */
void floe_sigv4_amz_date(int64_t ms, char out[17]);

/* Append the canonical request to `out` and the signed-header list
 * ("host;x-amz-date") to `out_signed` (may be NULL). `payload_hex` is the
 * hex SHA-256 of the body. FLOE_EINVAL on too many headers. */
int floe_sigv4_canonical_request(const struct floe_sigv4_req *req,
                                 const char *payload_hex,
                                 struct floe_buf *out,
                                 struct floe_buf *out_signed);
/* Append the string to sign for `creq` (the canonical request) to `out`.
 * `scope` is "yyyymmdd/region/service/aws4_request". */
int floe_sigv4_string_to_sign(const char *amz_date, const char *scope,
                              const char *creq, size_t creq_len,
                              struct floe_buf *out);
/* HMAC chain "AWS4"+secret -> date -> region -> service -> aws4_request. */
int floe_sigv4_signing_key(const char *secret, const char *date8,
                           const char *region, const char *service,
                           unsigned char out[32]);
/* Hex HMAC-SHA256(key, sts) into out[65]. */
int floe_sigv4_signature(const unsigned char key[32], const char *sts,
                         size_t sts_len, char out[65]);

/* Compute the whole signature of `req` for `amz_date` (its first 8
 * characters are the scope date) into out_sig[65], and the signed-header
 * list into `out_signed` (may be NULL). */
int floe_sigv4_compute(const struct floe_sigv4_req *req, const char *secret,
                       const char *region, const char *service,
                       const char *amz_date, char out_sig[65],
                       struct floe_buf *out_signed);
/* Append the value of the Authorization header for `req` to `out`:
 * "AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request,
 * SignedHeaders=..., Signature=...". */
int floe_sigv4_authorization(const struct floe_sigv4_req *req,
                             const char *access_key, const char *secret,
                             const char *region, const char *service,
                             const char *amz_date, struct floe_buf *out);

/* Parse an Authorization header value. FLOE_EINVAL with a reason in err
 * (which never contains the signature). */
int floe_sigv4_parse_authorization(const char *value,
                                   struct floe_sigv4_auth *out, char *err);
/* Verify `req` (whose hdrs must be exactly the headers named in
 * auth->signed_headers) against `auth`, using `secret` for
 * auth->access_key. Constant-time compare. FLOE_OK if it matches,
 * FLOE_EINVAL (with a reason in err) if not. */
int floe_sigv4_verify(const struct floe_sigv4_req *req,
                      const struct floe_sigv4_auth *auth, const char *secret,
                      const char *amz_date, char *err);

#endif
