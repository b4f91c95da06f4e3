/* client.h - a small blocking HTTP client on one reused libcurl easy
 * handle (keep-alive across calls). POST a body with headers; get the
 * status and the response body into a capped floe_buf. Not thread-safe:
 * one client per thread. */
#ifndef FLOE_HTTP_CLIENT_H
#define FLOE_HTTP_CLIENT_H

#include <stddef.h>

#include "core/buf.h"

struct floe_http_client; /* opaque */

struct floe_http_client_opts {
    long connect_timeout_ms; /* 0 = 10000 */
    long timeout_ms;         /* whole request; 0 = 60000 */
    const char *user_agent;  /* borrowed; NULL = "floe/<version>" */
};

/* Initialise libcurl for the whole process, once, for `url` (borrowed,
 * may be NULL): when it is not https, OpenSSL is first initialised lean
 * (no config file, error texts or legacy name tables; https still works,
 * with an info log). Call it before anything else in the process uses
 * OpenSSL (SigV4 does) to get the lean init; later calls only check.
 * floe_http_client_post() calls it with its URL. FLOE_EIO on failure. */
int floe_http_global_init(const char *url);

/* Create a client; `opts` may be NULL (defaults). No libcurl call happens
 * until the first request. On FLOE_OK *out is owned by the caller,
 * released with floe_http_client_destroy(). */
int floe_http_client_create(const struct floe_http_client_opts *opts,
                            struct floe_http_client **out);
void floe_http_client_destroy(struct floe_http_client *c); /* NULL ok */

/* POST `body` (borrowed) to `url` with `headers` ("Name: value", borrowed,
 * `nheaders` of them). The response body is appended to `out_body` (reset
 * first); its `max` caps it (FLOE_ETOOBIG). FLOE_OK means an HTTP status
 * arrived (*out_status, any code); FLOE_EIO means no response (connection
 * refused, timeout...) with the reason in err. */
int floe_http_client_post(struct floe_http_client *c, const char *url,
                          const char *const *headers, size_t nheaders,
                          const void *body, size_t len, long *out_status,
                          struct floe_buf *out_body, char *err);

#endif
