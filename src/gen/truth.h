/* truth.h - the emit truth file: one TSV line per emitted log line.
 * "<kind>\t<id>\t<status>" in emission order; kind order|customer, id the
 * event_id or "<customer_id>|<updated_at>" ("-" for malformed lines),
 * status valid|duplicate|invalid. The demo reconciles against it: a
 * duplicate carries its original's id. */
#ifndef FLOE_GEN_TRUTH_H
#define FLOE_GEN_TRUTH_H

#include "gen/sink.h"

enum floe_truth_kind { FLOE_TRUTH_ORDER, FLOE_TRUTH_CUSTOMER };
enum floe_truth_status {
    FLOE_TRUTH_VALID,
    FLOE_TRUTH_DUPLICATE,
    FLOE_TRUTH_INVALID,
};

/* Append one truth line to `s`; `id` (borrowed) NULL writes "-". An id
 * never holds a tab or newline (uuids, customer ids, ISO times). FLOE_EIO
 * from the sink. */
int floe_truth_add(struct floe_sink *s, enum floe_truth_kind kind,
                   const char *id, enum floe_truth_status status);

#endif
