/* send.h - PutRecordBatch to a Firehose endpoint, many requests in
 * flight on one libcurl multi handle, driven by the agent's loop without
 * ever blocking it. Bodies are not stored: each is encoded from its batch
 * as the socket takes it (batch.h), so a request costs the records it
 * carries and a response buffer. Requests are SigV4-signed (service
 * "firehose") when credentials exist. A finished request reports back
 * through a callback; the caller decides what to resend and when
 * (floe_send_backoff_ms). */
#ifndef FLOE_AGENT_SEND_H
#define FLOE_AGENT_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/batch.h"
#include "core/err.h"

struct floe_sender; /* opaque */

struct floe_sender_opts {
    const char *endpoint;      /* "host[:port]", "http://h:p", "https://h";
                                  NULL: https://firehose.<region>.amazonaws
                                  .com */
    const char *region;        /* NULL: from the host name, else us-east-1 */
    const char *access_key;    /* NULL: requests go unsigned */
    const char *secret_key;
    const char *session_token; /* may be NULL */
    long timeout_ms;           /* whole request; 0: 60000 */
    long max_connections;      /* open at once (more requests wait for
                                  one); 0: no limit */
    const char *ca_file;       /* PEM CA bundle that verifies an https
                                  endpoint's certificate; NULL: the
                                  system's. Verification is never off. */
};

/* All strings borrowed (copied). FLOE_EINVAL (err says why) for an
 * endpoint that cannot be one. On FLOE_OK *out is owned by the caller
 * (floe_sender_destroy). */
int floe_sender_create(const struct floe_sender_opts *o,
                       struct floe_sender **out, char *err);
/* Abandons requests still in flight (their batches are not touched). */
void floe_sender_destroy(struct floe_sender *s); /* NULL ok */
/* The URL and signing region in use (borrowed from `s`). */
const char *floe_sender_url(const struct floe_sender *s);
const char *floe_sender_region(const struct floe_sender *s);

/* What became of one request. */
struct floe_put_result {
    void *ctx;                 /* as given to floe_sender_start */
    struct floe_batch *batch;  /* the batch sent, given back */
    /* FLOE_OK: every record sent is now acknowledged. FLOE_EAGAIN: some
     * were rejected (still pending). FLOE_EIO: no answer. FLOE_ETOOBIG:
     * the endpoint refused the request as too large (413): none went in.
     * FLOE_EREMOTE: an HTTP error or a bad answer: none went in. */
    int rc;
    bool throttled;            /* the endpoint is overloaded: 5xx, 429,
                                  ServiceUnavailable/Throttling, a partial
                                  failure, or no answer */
    long status;               /* HTTP status, 0 if none */
    size_t pending;            /* records the request carried */
    size_t acked;              /* of those, now acknowledged */
    size_t acked_bytes;
    int64_t started_ms;        /* monotonic */
    double secs;               /* round trip */
    char err[FLOE_ERR_LEN];    /* why, when rc != FLOE_OK */
};
typedef void (*floe_sender_done_fn)(void *arg,
                                    const struct floe_put_result *r);

/* Start sending the records of `b` not yet acknowledged to `stream`
 * (borrowed, copied). `b` is borrowed until its result is reported and
 * must not change meanwhile. FLOE_OK, or an error (err says why) and
 * nothing started. */
int floe_sender_start(struct floe_sender *s, const char *stream,
                      struct floe_batch *b, void *ctx, char *err);
/* Move every transfer on as far as it goes without waiting, then report
 * each finished request to fn(arg, result), in the order they finished;
 * responses are applied to their batch (acknowledged records marked)
 * before fn sees them. */
void floe_sender_perform(struct floe_sender *s, floe_sender_done_fn fn,
                         void *arg);
/* Sleep until a transfer can move, `fd` (-1: none) is readable, or
 * `timeout_ms` passed. *out_fd_ready says whether `fd` is readable. */
void floe_sender_wait(struct floe_sender *s, int fd, int timeout_ms,
                      bool *out_fd_ready);
/* Requests in flight. */
size_t floe_sender_in_flight(const struct floe_sender *s);

/* Kinesis Agent backoff: min(max, initial * 2^failures) +/- 30 % jitter. */
int64_t floe_send_backoff_ms(double failures, int64_t initial_ms,
                             int64_t max_ms);

#endif
