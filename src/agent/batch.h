/* batch.h - one PutRecordBatch buffer: up to 500 records and 4 MiB of
 * decoded data, stored back to back in one floe_buf with a small fixed
 * record table (no allocation per record). Records remember the file slot
 * and the file offset just past them, for the checkpoint once the whole
 * buffer is acknowledged. Partial failures mark records acknowledged one
 * by one, so a resend carries only the failed entries. */
#ifndef FLOE_AGENT_BATCH_H
#define FLOE_AGENT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define FLOE_BATCH_MAX_RECORDS 500
#define FLOE_BATCH_MAX_BYTES 4194304     /* decoded bytes per call */
#define FLOE_RECORD_MAX_BYTES 1024000    /* decoded bytes per record */

/* Where a record's bytes come from: a file slot in the flow's tracker
 * and that file's generation (struct floe_tail_file.gen), which changes
 * when the file is read again from another place (truncation): a record
 * of an older generation no longer says where to resume. */
struct floe_rec_src {
    uint32_t file;
    uint16_t gen;
};

struct floe_batch_rec {   /* 24 bytes: 500 of them per buffer */
    uint64_t end_off;  /* file offset just past this record */
    uint32_t off;      /* into data (< 4 GiB: data is capped far below) */
    uint32_t len;
    uint32_t file;     /* file slot in the flow's tracker */
    bool acked;
    uint16_t gen;      /* the file's generation (struct floe_rec_src) */
};

/* Where a closed batch is on its way; a flow's batches are checkpointed
 * strictly in the order they were closed, so a DONE batch behind one not
 * yet acknowledged waits. */
enum floe_batch_state {
    FLOE_BATCH_QUEUED = 0, /* to send (again) */
    FLOE_BATCH_IN_FLIGHT,  /* a request carries it */
    FLOE_BATCH_DONE,       /* every record acknowledged */
};

struct floe_batch {
    struct floe_buf data;  /* records back to back, decoded */
    struct floe_batch_rec recs[FLOE_BATCH_MAX_RECORDS];
    size_t n;              /* records */
    size_t n_acked;
    size_t max_records;    /* <= FLOE_BATCH_MAX_RECORDS */
    size_t max_bytes;      /* <= FLOE_BATCH_MAX_BYTES */
    int64_t first_ms;      /* monotonic time of the first record */
    unsigned attempts;     /* sends tried */
    enum floe_batch_state state;
    int64_t sent_ms;       /* monotonic start of the last request */
    struct floe_batch *next; /* queue link, owned by the queue */
};

/* Set up an empty batch with the given limits (clamped to the API's). */
void floe_batch_init(struct floe_batch *b, size_t max_records,
                     size_t max_bytes);
void floe_batch_reset(struct floe_batch *b); /* empty, keeps memory */
void floe_batch_free(struct floe_batch *b);  /* NULL ok */

/* Would a record of `len` bytes still fit (records and bytes)? An empty
 * batch takes any record: one over max_bytes is sent alone. */
bool floe_batch_fits(const struct floe_batch *b, size_t len);
/* Make data[start .. data.len) the next record. FLOE_ETOOBIG if it does
 * not fit (nothing changes; the caller moves those bytes to a new batch).
 * `now_ms` stamps the first record. */
int floe_batch_commit(struct floe_batch *b, size_t start,
                      struct floe_rec_src src, uint64_t end_off,
                      int64_t now_ms);
/* Aggregation: append data[start .. data.len) to the last record, which
 * must come from the same `src` (file and generation) and stay within `max_len` bytes and the
 * batch's byte limit; its end offset becomes `end_off`. FLOE_ETOOBIG
 * (nothing changes) otherwise: the caller commits a new record. */
int floe_batch_extend(struct floe_batch *b, size_t start,
                      struct floe_rec_src src, uint64_t end_off,
                      size_t max_len);
/* Move the records from index `k` on into `dst` (empty, same limits),
 * keeping their order and acknowledgement; `b` keeps [0, k). */
int floe_batch_split(struct floe_batch *b, size_t k, struct floe_batch *dst);
/* Records not yet acknowledged. */
static inline size_t floe_batch_pending(const struct floe_batch *b)
{
    return b->n - b->n_acked;
}

/* Bytes of the records not yet acknowledged. */
size_t floe_batch_pending_bytes(const struct floe_batch *b);

/* The PutRecordBatch JSON body of the records of `b` not yet acknowledged,
 * produced piece by piece (a libcurl read callback) so it is never held
 * whole: base64 is encoded from the batch's records as the socket takes
 * it. `b` is borrowed and must not change while a body reads from it. */
#define FLOE_BATCH_PREFIX_MAX 512
struct floe_batch_body {
    const struct floe_batch *b;
    char prefix[FLOE_BATCH_PREFIX_MAX]; /* {"DeliveryStreamName":..[ */
    size_t prefix_len;
    size_t len;            /* total bytes of the body */
    size_t off;            /* bytes produced so far */
    size_t rec;            /* record being produced */
    size_t pos;            /* bytes of it encoded so far */
    int phase;
    bool first;            /* no record produced yet */
    char carry[16];        /* produced but not yet taken */
    size_t carry_len, carry_off;
};

/* Set up `bb` for the pending records of `b` to `stream` (borrowed).
 * FLOE_EINVAL if the stream name is too long. */
int floe_batch_body_start(struct floe_batch_body *bb,
                          const struct floe_batch *b, const char *stream);
/* Start again from the first byte (libcurl rewinds to resend). */
void floe_batch_body_rewind(struct floe_batch_body *bb);
/* Produce up to `n` next bytes into `dst`; returns how many (0: done). */
size_t floe_batch_body_read(struct floe_batch_body *bb, char *dst, size_t n);
/* The whole body into `body` (reset first): for tests and small tools. */
int floe_batch_body(const struct floe_batch *b, const char *stream,
                    struct floe_buf *body);
/* Apply a PutRecordBatch response (borrowed JSON): entries map in order
 * to the records that were pending when the body was built; those with a
 * RecordId are marked acknowledged. *out_acked gets how many were newly
 * acknowledged. FLOE_EREMOTE (err says why) if the response is not a
 * valid answer for this batch; nothing is marked then. */
int floe_batch_apply_response(struct floe_batch *b, const char *json,
                              size_t len, size_t *out_acked, char *err);

#endif
