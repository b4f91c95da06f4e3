/* send.h - PutRecordBatch to a Firehose endpoint over one kept-alive HTTP
 * connection, SigV4-signed (service "firehose") when credentials exist.
 * A send marks the records that got a RecordId; the caller resends the
 * rest later (backoff from floe_send_backoff_ms). */
#ifndef FLOE_AGENT_SEND_H
#define FLOE_AGENT_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "agent/batch.h"

struct floe_sender; /* opaque */

struct floe_sender_opts {
    const char *endpoint;      /* "host", "http://h:p", "https://h"; NULL:
                                  https://firehose.<region>.amazonaws.com */
    const char *region;        /* NULL: from the host name, else us-east-1 */
    const char *access_key;    /* NULL: requests go unsigned */
    const char *secret_key;
    const char *session_token; /* may be NULL */
};

/* All strings borrowed (copied). On FLOE_OK *out is owned by the caller
 * (floe_sender_destroy). */
int floe_sender_create(const struct floe_sender_opts *o,
                       struct floe_sender **out, char *err);
void floe_sender_destroy(struct floe_sender *s); /* NULL ok */
/* The URL and signing region in use (borrowed from `s`). */
const char *floe_sender_url(const struct floe_sender *s);
const char *floe_sender_region(const struct floe_sender *s);

/* Send the pending records of `b` to `stream`. FLOE_OK: every record is
 * now acknowledged. FLOE_EAGAIN: some were rejected (still pending;
 * *out_acked says how many went in). FLOE_EIO (no answer) or FLOE_EREMOTE
 * (HTTP error, bad response): none went in. err says why. */
int floe_sender_put(struct floe_sender *s, const char *stream,
                    struct floe_batch *b, size_t *out_acked, char *err);

/* Kinesis Agent backoff: min(max, initial * 2^failures) +/- 30 % jitter. */
int64_t floe_send_backoff_ms(double failures, int64_t initial_ms,
                             int64_t max_ms);

#endif
