/* declare.h - delivery streams declared in floe.yaml (firehose.streams).
 * Each entry is created at start-up through the same CreateDeliveryStream
 * path as an API call, so it gets the same validation; a stream that
 * already exists is kept as it is. */
#ifndef FLOE_FIREHOSE_DECLARE_H
#define FLOE_FIREHOSE_DECLARE_H

#include "firehose/api.h"

/* Check every entry under firehose.streams of the current config exactly
 * as floe_fh_declare_streams() does before it creates anything: keys,
 * values, a name declared twice, and every check CreateDeliveryStream
 * makes. Every problem is reported with file:line: all but the last on
 * stderr, the last in `err` (FLOE_EINVAL). `cfg` is unused (the signature
 * of struct floe_cmd's check). */
int floe_fh_declare_check(const void *cfg, char *err);
/* Create the streams listed under firehose.streams of the current config
 * (none: FLOE_OK), once all of them pass the check above (problems but
 * the last are logged; the last is in `err`); a stream that already
 * exists is kept as it is. */
int floe_fh_declare_streams(struct floe_fh_api *api, char *err);

#endif
