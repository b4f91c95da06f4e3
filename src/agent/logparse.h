/* logparse.h - the Kinesis Agent LOGTOJSON log parsers: Apache common,
 * combined and error logs, syslog and RFC 3339 syslog, each a regex taken
 * from the agent's PatternConstants (run through jregex.h), or a custom
 * matchPattern with customFieldNames. A line (less a final CR) must match
 * as a whole (Java Matcher.matches()); the result is a flat JSON object
 * whose values are strings, null for a group that did not take part and,
 * for the Apache formats, null for "-". Output JSON is always valid
 * UTF-8: the line is matched as Java decodes it, each invalid sequence
 * one U+FFFD (utf8.h). */
#ifndef FLOE_AGENT_LOGPARSE_H
#define FLOE_AGENT_LOGPARSE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum floe_logformat {
    FLOE_LOGFORMAT_COMMONAPACHELOG,
    FLOE_LOGFORMAT_COMBINEDAPACHELOG,
    FLOE_LOGFORMAT_APACHEERRORLOG,
    FLOE_LOGFORMAT_SYSLOG,
    FLOE_LOGFORMAT_RFC3339SYSLOG,
};

struct floe_logparse; /* opaque */

/* "COMMONAPACHELOG"... -> *out. FLOE_EINVAL for an unknown name. */
int floe_logformat_parse(const char *name, enum floe_logformat *out);

/* A parser for `fmt`. `match_pattern` (Java regex, may be NULL) replaces
 * the format's regex and then needs `names`; without it `names` (may be
 * NULL/0) renames the default fields and must have as many. Everything
 * borrowed (copied). On FLOE_OK *out is owned by the caller
 * (floe_logparse_destroy). FLOE_EINVAL / FLOE_ENOTSUP with err. */
int floe_logparse_create(enum floe_logformat fmt, const char *match_pattern,
                         const char *const *names, size_t nnames,
                         struct floe_logparse **out, char *err);
void floe_logparse_destroy(struct floe_logparse *p); /* NULL ok */

/* Parse `line` (`len` bytes, no trailing '\n'; borrowed) and append its
 * JSON object (no newline) to `out`. FLOE_ENOTFOUND when the line does
 * not match, FLOE_ETOOBIG when out is full (out unchanged in both). */
int floe_logparse_json(struct floe_logparse *p, const char *line,
                       size_t len, struct floe_buf *out);

#endif
