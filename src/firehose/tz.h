/* tz.h - time zones for CustomTimeZone, without touching TZ/localtime.
 * A zone is loaded once from the system TZ database (TZif v2+, $TZDIR or
 * /usr/share/zoneinfo) into a transition table; looking up an offset is
 * then a pure, thread-safe binary search. Past the table's last transition
 * (2037 in "fat" files, the last rule change in "slim" ones) the file's
 * footer rule (a POSIX TZ string) gives the offset, as in glibc. */
#ifndef FLOE_FIREHOSE_TZ_H
#define FLOE_FIREHOSE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct floe_fh_tz;

/* Load zone `name` ("Asia/Tokyo", "UTC"). On FLOE_OK *out is owned by the
 * caller (floe_fh_tz_free). FLOE_EINVAL (bad name), FLOE_ENOTFOUND (not in
 * the database), FLOE_ECORRUPT, with err saying why. */
int floe_fh_tz_load(const char *name, struct floe_fh_tz **out, char *err);
/* UTC offset in seconds at `ms` since the epoch; NULL = UTC (0). */
int32_t floe_fh_tz_offset(const struct floe_fh_tz *tz, int64_t ms);
void floe_fh_tz_free(struct floe_fh_tz *tz); /* NULL is a no-op */

#endif
