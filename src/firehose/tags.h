/* tags.h - TagDeliveryStream, UntagDeliveryStream,
 * ListTagsForDeliveryStream and the Tags member of CreateDeliveryStream.
 * Tags live on the stream (sorted by key) and persist with the registry.
 * AWS limits: 50 tags per stream, keys 1-128 and values 0-256 characters,
 * at most 50 keys per call, "aws:" keys reserved. */
#ifndef FLOE_FIREHOSE_TAGS_H
#define FLOE_FIREHOSE_TAGS_H

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "firehose/api.h"

int floe_fh_tags_tag(struct floe_fh_api *api, const cJSON *req,
                     struct floe_buf *out, struct floe_fh_err *e);
int floe_fh_tags_untag(struct floe_fh_api *api, const cJSON *req,
                       struct floe_buf *out, struct floe_fh_err *e);
int floe_fh_tags_list(struct floe_fh_api *api, const cJSON *req,
                      struct floe_buf *out, struct floe_fh_err *e);

/* A sorted copy of a tags object (NULL -> empty object); owned by the
 * caller (cJSON_Delete); NULL when out of memory. */
cJSON *floe_fh_tags_copy(const cJSON *tags);

/* Apply the list `tags` ([{"Key":..,"Value":..}], borrowed; NULL = none)
 * to `s` (not yet shared: no lock needed). -1 with `e` on a bad list. */
int floe_fh_tags_apply(struct floe_fh_stream *s, const cJSON *tags,
                       struct floe_fh_err *e);

#endif
