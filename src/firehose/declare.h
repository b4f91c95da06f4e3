/* declare.h - delivery streams declared in floe.yaml (firehose.streams).
 * Each entry is created at start-up through the same CreateDeliveryStream
 * path as an API call, so it gets the same validation; a stream that
 * already exists is kept as it is. */
#ifndef FLOE_FIREHOSE_DECLARE_H
#define FLOE_FIREHOSE_DECLARE_H

#include "firehose/api.h"

/* Create the streams listed under firehose.streams of the current config
 * (none: FLOE_OK). On error `err` names the file, line and the problem. */
int floe_fh_declare_streams(struct floe_fh_api *api, char *err);

#endif
