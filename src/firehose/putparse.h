/* putparse.h - allocation-free fast parser for PutRecordBatch and
 * PutRecord request bodies. It accepts only bodies whose meaning is
 * certain: the general cJSON path (api.c) would read the very same stream
 * name and Data strings from them. Anything else (an error to report,
 * escapes inside a key or a Data string, duplicate keys, surrogate
 * escapes, more than `cap` records...) is left to that path, which also
 * produces the AWS errors. */
#ifndef FLOE_FIREHOSE_PUTPARSE_H
#define FLOE_FIREHOSE_PUTPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "firehose/deliver.h"
#include "firehose/stream.h"

/* What a put body says; `recs[i].b64` points into the body (borrowed),
 * b64_len is its length in bytes (never has escapes) and `len` is left 0
 * for the caller's validation to fill. */
struct floe_fh_put_body {
    char name[FLOE_FH_NAME_MAX + 1]; /* unescaped; a valid stream name */
    size_t n;                        /* records found, 1..cap */
};

/* Parse `body` (`len` bytes, borrowed; it need not be NUL-terminated) as
 * {"DeliveryStreamName":..,"Records":[{"Data":..},..]} when `batch`, or
 * {"DeliveryStreamName":..,"Record":{"Data":..}} otherwise; keys in any
 * order, other keys skipped. Fills out->name and recs[0..out->n).
 * FLOE_OK, or FLOE_ENOTSUP: use the general parser for this body. */
int floe_fh_put_parse(const char *body, size_t len, bool batch,
                      struct floe_fh_put_body *out, struct floe_fh_blob *recs,
                      size_t cap);

#endif
