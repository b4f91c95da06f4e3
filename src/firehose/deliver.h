/* deliver.h - per-stream buffers and delivery to the landing zone.
 * Request threads decode records straight into their stream's buffer (and
 * the WAL); a buffer is sealed when it reaches SizeInMBs or IntervalInSeconds
 * after its first record, then worker threads compress it (compress.h)
 * and put it with floe_store_put, retrying with backoff until it lands.
 * Bytes buffered or awaiting delivery are capped by max_buffered
 * (back-pressure: puts are refused, memory never grows unbounded). An
 * object whose put still fails after the retry window is written instead
 * under the stream's error output prefix (prefix.h, floe_fh_error_key) as
 * one JSON document per record (attemptsMade, arrivalTimestamp, errorCode,
 * errorMessage, attemptEndingTimestamp, rawData); that write is retried
 * until it lands, so an acknowledged record is never dropped. */
#ifndef FLOE_FIREHOSE_DELIVER_H
#define FLOE_FIREHOSE_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "firehose/stream.h"
#include "firehose/wal.h"
#include "metrics/metrics.h"
#include "store/store.h"

struct floe_fh_deliver;

struct floe_fh_deliver_cfg {
    struct floe_store *store; /* borrowed; must outlive the deliverer */
    struct floe_fh_wal *wal;  /* borrowed; NULL = no write-ahead log */
    int64_t max_buffered;     /* bytes across all streams */
    int workers;              /* delivery threads, >= 1 */
    int64_t retry_window_ms;  /* failing puts are retried this long, then
                                 the records go to the error output;
                                 <= 0 means 24 h */
    struct floe_metrics *metrics; /* borrowed: the delivery counters and
                                     the buffered-bytes gauge live here;
                                     NULL = a registry of its own */
};

/* One record as received: base64 text (borrowed) and its decoded size. */
struct floe_fh_blob {
    const char *b64;
    size_t b64_len;
    size_t len;
};

/* Start the interval ticker and the workers. On FLOE_OK *out is owned by
 * the caller (floe_fh_deliver_stop). */
int floe_fh_deliver_start(const struct floe_fh_deliver_cfg *cfg,
                          struct floe_fh_deliver **out, char *err);

/* Give stream `s` (borrowed; kept until detach) a buffer: sets s->slot. */
int floe_fh_deliver_attach(struct floe_fh_deliver *d,
                           struct floe_fh_stream *s);
/* Seal the stream's buffer for delivery and free s->slot. Buffered data is
 * still delivered (under the stream's naming) after detach. */
void floe_fh_deliver_detach(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s);

/* Append records[0..n) to the stream's buffer, in order, and make them
 * durable (WAL) before returning. Accepts the longest prefix that fits in
 * max_buffered: *out_accepted says how many (0 -> FLOE_EAGAIN). On
 * FLOE_EINVAL record *out_bad is not valid base64 and nothing was
 * accepted. FLOE_EIO: the WAL failed, nothing may be acknowledged. */
int floe_fh_deliver_put(struct floe_fh_deliver *d, struct floe_fh_stream *s,
                        const struct floe_fh_blob *recs, size_t n,
                        int64_t arrival_ms, size_t *out_accepted,
                        size_t *out_bad);

/* Re-buffer one WAL entry at start-up; takes its reference on pos->seg
 * (`pos` borrowed). Replayed entries count as one record each in the
 * error output (the WAL keeps a put call's records concatenated). */
void floe_fh_deliver_replay(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s,
                            const struct floe_fh_wal_pos *pos,
                            int64_t arrival_ms, const void *data, size_t len);

/* Seal every buffer now (graceful stop starts here). */
void floe_fh_deliver_flush_all(struct floe_fh_deliver *d);
/* Make workers give up retrying (second signal); undelivered data stays in
 * the WAL when there is one. */
void floe_fh_deliver_abort(struct floe_fh_deliver *d);
/* Flush everything, wait until delivered (or aborted), join, free. Streams
 * must be detached first. NULL is a no-op. */
void floe_fh_deliver_stop(struct floe_fh_deliver *d);

#endif
