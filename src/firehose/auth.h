/* auth.h - optional SigV4 authentication of Firehose API requests.
 * When access keys are configured every API request must carry a valid
 * AWS4-HMAC-SHA256 Authorization header for service "firehose" (any
 * region), an X-Amz-Date within 5 minutes of the server clock (as AWS),
 * Host, X-Amz-Date and X-Amz-Target among the signed headers, and a
 * signature made with the configured secret (checked with aws/sigv4.h).
 * Errors use the names AWS JSON 1.1 (Coral) services answer with. */
#ifndef FLOE_FIREHOSE_AUTH_H
#define FLOE_FIREHOSE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* AWS's window for X-Amz-Date against the server clock. */
#define FLOE_FH_AUTH_SKEW_MS (5 * 60 * 1000LL)

/* The configured credential; both strings borrowed (they must outlive the
 * server). An empty or NULL key id disables authentication. */
struct floe_fh_auth {
    const char *access_key_id;
    const char *secret;
};

/* Returns the value of request header `name` (any case) or NULL. */
typedef const char *(*floe_fh_auth_header_fn)(void *ud, const char *name);

/* What a rejected request gets. */
struct floe_fh_auth_err {
    const char *type; /* "InvalidSignatureException"... */
    int status;       /* 400 or 403 */
    char msg[FLOE_ERR_LEN];
};

/* Check one request (method, path as sent, body) whose headers come from
 * `hdr(ud, name)`, at server time `now_ms`. 0 when authenticated (or
 * authentication is off), -1 with `e` filled otherwise. Never logs or
 * returns the secret or the signature. */
int floe_fh_auth_check(const struct floe_fh_auth *auth, const char *method,
                       const char *path, const void *body, size_t body_len,
                       floe_fh_auth_header_fn hdr, void *ud, int64_t now_ms,
                       struct floe_fh_auth_err *e);

#endif
