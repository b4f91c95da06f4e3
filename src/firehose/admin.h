/* admin.h - Firehose control-plane operations: Create, Describe, List and
 * Delete DeliveryStream. Each parses its (already JSON-decoded) request,
 * validates it like AWS, and appends the JSON reply to `out`; on failure
 * it fills `e` and returns -1. */
#ifndef FLOE_FIREHOSE_ADMIN_H
#define FLOE_FIREHOSE_ADMIN_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "firehose/api.h"

int floe_fh_admin_create(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e);
/* Every check CreateDeliveryStream makes of `req` (borrowed), with no
 * side effect: on 0 *out_s is the stream it would add (owned by the
 * caller, floe_fh_stream_free); on -1 `e` says why. Shared with
 * floe.yaml's declared streams, so `floe config --check` refuses exactly
 * what the server would. */
int floe_fh_admin_stream_new(const cJSON *req, struct floe_fh_stream **out_s,
                             struct floe_fh_err *e);
int floe_fh_admin_describe(struct floe_fh_api *api, const cJSON *req,
                           struct floe_buf *out, struct floe_fh_err *e);
int floe_fh_admin_list(struct floe_fh_api *api, const cJSON *req,
                       struct floe_buf *out, struct floe_fh_err *e);
/* UpdateDestination: merges an (Extended)S3DestinationUpdate into the
 * stream's destination, re-validates it, bumps VersionId; a stale
 * CurrentDeliveryStreamVersionId is ConcurrentModificationException. The
 * open buffer is delivered under the old settings first. */
int floe_fh_admin_update(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e);
int floe_fh_admin_delete(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e);

/* Stream-name checks shared with the data plane: -1 with `e` set
 * (SerializationException for a non-string, ValidationException for a
 * missing/bad name). On 0 *out_name is borrowed from `req`. */
int floe_fh_admin_name(const cJSON *req, const char **out_name,
                       struct floe_fh_err *e);
/* True when `s` (borrowed) is 1-64 characters of [a-zA-Z0-9_.-]. */
bool floe_fh_admin_name_ok(const char *s);
/* The "not found" error for `name`. */
int floe_fh_admin_not_found(const char *name, struct floe_fh_err *e);

#endif
