/* prefix.h - Firehose S3 prefix expressions and object key naming.
 * Supports !{timestamp:<Java DateTimeFormatter pattern>} (y, u, M, d, H, m,
 * s, S, D fields, quoted literals), !{firehose:random-string} and
 * !{firehose:error-output-type}; checks the Firehose prefix rules at create
 * time; evaluates in UTC. */
#ifndef FLOE_FIREHOSE_PREFIX_H
#define FLOE_FIREHOSE_PREFIX_H

#include <stdint.h>

#include "core/buf.h"

#define FLOE_FH_PREFIX_MAX 1024     /* before evaluation */
#define FLOE_FH_PREFIX_EVAL_MAX 512 /* after evaluation */

/* Check Prefix and ErrorOutputPrefix (either may be NULL = absent) against
 * the Firehose rules. FLOE_EINVAL with err naming the rule broken, or
 * FLOE_ENOTSUP for expressions floe does not implement (dynamic
 * partitioning). */
int floe_fh_prefix_check(const char *prefix, const char *error_prefix,
                         char *err);

/* Append the evaluated `prefix` (NULL = "") at time `ms` (UTC) to `out`.
 * `error_type` replaces !{firehose:error-output-type} (NULL when evaluating
 * a Prefix). When `add_default` is set and the prefix has no timestamp
 * expression, "yyyy/MM/dd/HH/" is appended (Firehose rule 1).
 * FLOE_EINVAL (err says why) on a malformed expression. */
int floe_fh_prefix_eval(const char *prefix, int64_t ms, const char *error_type,
                        int add_default, struct floe_buf *out, char *err);

/* The landing object key: "<bucket>/<evaluated prefix><stream>-<version>-
 * yyyy-MM-dd-HH-mm-ss-<uuid><ext>" with time `ms` (the arrival time of the
 * oldest record). `ext` may be "" (uncompressed) or ".gz". Appends to out. */
int floe_fh_object_key(const char *bucket, const char *prefix,
                       const char *stream, int version, int64_t ms,
                       const char *ext, struct floe_buf *out, char *err);

/* What !{firehose:error-output-type} becomes for records that could not
 * be put into the store within the retry window. AWS writes no error
 * records for plain S3 failures, so this value is floe's own. */
#define FLOE_FH_ERROR_TYPE_S3 "s3-delivery-failed"

/* The key of an error-output object: "<bucket>/<evaluated error_prefix>
 * <stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><ext>" with
 * error-output-type `etype`. With no (or an empty) error_prefix it is
 * "<prefix><etype>/yyyy/MM/dd/HH/..." (Firehose rule 7; the prefix then
 * has no expressions). A missing timestamp expression gets the default
 * "yyyy/MM/dd/HH/" like a Prefix. Appends to out. */
int floe_fh_error_key(const char *bucket, const char *prefix,
                      const char *error_prefix, const char *etype,
                      const char *stream, int version, int64_t ms,
                      const char *ext, struct floe_buf *out, char *err);

#endif
