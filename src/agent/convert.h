/* convert.h - Kinesis Agent dataProcessingOptions applied to one record:
 * CSVTOJSON (RFC 4180 quoting, every value a JSON string, missing columns
 * null, extra columns dropped), SINGLELINE (trim and join lines),
 * LOGTOJSON (logparse.h; a line that does not match is dropped) and
 * ADDMETADATA ({"ts":..?,"metadata":<json>,"data":"<line>"|<parsed>}).
 * Output is appended straight into the caller's buffer (a batch); a chain
 * of several steps ping-pongs through two scratch buffers kept in the
 * chain, so no step allocates per record once warmed up. */
#ifndef FLOE_AGENT_CONVERT_H
#define FLOE_AGENT_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/logparse.h"
#include "core/buf.h"

enum floe_convert_kind {
    FLOE_CONVERT_SINGLELINE,
    FLOE_CONVERT_CSVTOJSON,
    FLOE_CONVERT_LOGTOJSON,
    FLOE_CONVERT_ADDMETADATA,
};

struct floe_convert_step {
    enum floe_convert_kind kind;
    /* SINGLELINE */
    bool no_trim;         /* parseOptions NO_TRIM */
    bool escape_newline;  /* parseOptions ESCAPE_NEW_LINE: join with "\n" */
    /* CSVTOJSON */
    char delim;
    size_t nfields;
    char *keys;           /* owned: "\"f1\":" "\"f2\":"... back to back */
    size_t *key_off;      /* owned: nfields + 1 offsets into keys */
    /* LOGTOJSON; ADDMETADATA with a logFormat (data is then the object) */
    struct floe_logparse *parser; /* owned or NULL */
    /* ADDMETADATA */
    char *metadata;       /* owned: compact JSON text ("null" if none) */
    bool timestamp;       /* add "ts" (UTC, millis) first */
};

struct floe_convert {
    struct floe_convert_step *steps; /* owned, n of them */
    size_t n;
    struct floe_buf scratch[2];
};

void floe_convert_init(struct floe_convert *c);
void floe_convert_free(struct floe_convert *c); /* NULL ok */
/* Add a SINGLELINE step. */
int floe_convert_add_singleline(struct floe_convert *c, bool no_trim,
                                bool escape_newline);
/* Add a CSVTOJSON step with `nfields` names (borrowed, copied) split on
 * `delim`. FLOE_EINVAL (with err) if there are no names. */
int floe_convert_add_csv(struct floe_convert *c, const char *const *names,
                         size_t nfields, char delim, char *err);

/* Add a LOGTOJSON step; takes `parser` (freed with the chain, even on
 * error). */
int floe_convert_add_logtojson(struct floe_convert *c,
                               struct floe_logparse *parser);
/* Add an ADDMETADATA step: `metadata_json` (borrowed, copied; NULL means
 * null) is written as is; `parser` (taken, may be NULL) turns "data" into
 * the parsed object and drops lines that do not match. */
int floe_convert_add_metadata(struct floe_convert *c,
                              const char *metadata_json, bool timestamp,
                              struct floe_logparse *parser);

/* Append the converted form of `rec` (one record, normally ending in
 * '\n'; borrowed) to `out`. With no steps the record is copied as is.
 * FLOE_ETOOBIG if `out` would pass its max, FLOE_ENOTFOUND if a step
 * dropped the record (a line LOGTOJSON could not parse); `out` is left as
 * it was in both cases. */
int floe_convert_apply(struct floe_convert *c, const char *rec, size_t len,
                       struct floe_buf *out);

/* The single steps, exposed for tests. */
int floe_convert_csvtojson(const struct floe_convert_step *s, const char *rec,
                           size_t len, struct floe_buf *out);
int floe_convert_singleline(const struct floe_convert_step *s,
                            const char *rec, size_t len,
                            struct floe_buf *out);
int floe_convert_logtojson(const struct floe_convert_step *s,
                           const char *rec, size_t len,
                           struct floe_buf *out);
/* `now_ms` (wall clock) stamps "ts". */
int floe_convert_addmetadata(const struct floe_convert_step *s,
                             const char *rec, size_t len, int64_t now_ms,
                             struct floe_buf *out);

#endif
