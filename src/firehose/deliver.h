/* deliver.h - per-stream buffers and delivery to the landing zone.
 * Request threads decode records straight into their stream's buffer (and
 * the WAL); a buffer is sealed when it reaches SizeInMBs or IntervalInSeconds
 * after its first record, then worker threads compress it (compress.h)
 * and put it with floe_store_put. Bytes buffered or awaiting delivery are
 * capped by max_buffered (back-pressure: puts are refused, memory never
 * grows unbounded); a stream whose puts keep failing may hold a quarter of
 * it, past which its own puts are refused and the others keep room.
 * Store errors (floe_store_transient): a transient one is retried with
 * backoff and jitter until the retry window ends; the backoff belongs to
 * the stream and the object waits in the queue, never in a worker, so a
 * failing stream does not hold the others' delivery. A permanent one (or
 * the end of the window, or a deleted stream) sends the object's records
 * at once to the stream's error output prefix (prefix.h,
 * floe_fh_error_key) as one JSON document per record (attemptsMade,
 * arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp,
 * rawData); when the store refuses that key, to the fallback
 * <bucket>/s3-delivery-failed/yyyy/MM/dd/HH/. Error-output puts are tried
 * FLOE_FH_ERROR_ATTEMPTS times; an object still not stored then stays in
 * the write-ahead log (counted, logged) and is delivered at the next
 * start, so an acknowledged record is never dropped. */
#ifndef FLOE_FIREHOSE_DELIVER_H
#define FLOE_FIREHOSE_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "firehose/stream.h"
#include "firehose/wal.h"
#include "metrics/metrics.h"
#include "store/store.h"

/* Error-output puts of one object before it is left to the WAL. */
#define FLOE_FH_ERROR_ATTEMPTS 8

struct floe_fh_deliver;

struct floe_fh_deliver_cfg {
    struct floe_store *store; /* borrowed; must outlive the deliverer */
    struct floe_fh_wal *wal;  /* borrowed; NULL = no write-ahead log */
    int64_t max_buffered;     /* bytes across all streams */
    int workers;              /* delivery threads, >= 1 */
    int64_t retry_window_ms;  /* transient put failures are retried this
                                 long, then the records go to the error
                                 output; <= 0 means 24 h */
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
/* Detach for DeleteDeliveryStream: the stream's objects still queued
 * (and its last buffer) get one more attempt and no retry window; what
 * fails goes to the error output at once, and what fails there stays in
 * the WAL. */
void floe_fh_deliver_delete(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s);

/* Append records[0..n) to the stream's buffer, in order, and write them
 * to the WAL. Accepts the longest prefix that fits in max_buffered:
 * *out_accepted says how many (0 -> FLOE_EAGAIN). On FLOE_EINVAL record
 * *out_bad is not valid base64 and nothing was accepted. FLOE_EIO: the WAL
 * write failed, nothing may be acknowledged. On FLOE_OK the records are
 * not durable yet: pass *out_sync to floe_fh_deliver_sync before
 * acknowledging them (after dropping the registry lock, which `s` needs
 * while this runs: the sync waits for an fdatasync). */
int floe_fh_deliver_put(struct floe_fh_deliver *d, struct floe_fh_stream *s,
                        const struct floe_fh_blob *recs, size_t n,
                        int64_t arrival_ms, size_t *out_accepted,
                        size_t *out_bad, uint64_t *out_sync);
/* Return once what floe_fh_deliver_put wrote (its `sync`) is durable.
 * FLOE_EIO: the fdatasync failed, nothing may be acknowledged. */
int floe_fh_deliver_sync(struct floe_fh_deliver *d, uint64_t sync);

/* Re-buffer one WAL entry at start-up; takes its reference on pos->seg
 * (`pos` borrowed). Replayed entries count as one record each in the
 * error output (the WAL keeps a put call's records concatenated). */
void floe_fh_deliver_replay(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s,
                            const struct floe_fh_wal_pos *pos,
                            int64_t arrival_ms, const void *data, size_t len);

/* Seal every buffer now (graceful stop starts here). */
void floe_fh_deliver_flush_all(struct floe_fh_deliver *d);
/* Make workers give up at once (second signal): queued objects are not
 * tried again and stay in the WAL when there is one. Callable from any
 * thread until floe_fh_deliver_stop. */
void floe_fh_deliver_abort(struct floe_fh_deliver *d);
/* Graceful stop: seal every buffer and try each queued object once more
 * (no retries, no waiting out a backoff: a stream failing now keeps its
 * objects in the WAL for the next start), then join the workers. Streams
 * must be detached first. Idempotent; NULL is a no-op. */
void floe_fh_deliver_finish(struct floe_fh_deliver *d);
/* floe_fh_deliver_finish, then free. NULL is a no-op. */
void floe_fh_deliver_stop(struct floe_fh_deliver *d);

#endif
