/* convert.h - Kinesis Agent dataProcessingOptions applied to one record:
 * CSVTOJSON (RFC 4180 quoting, every value a JSON string, missing columns
 * null, extra columns dropped) and SINGLELINE (trim and join lines).
 * Output is appended straight into the caller's buffer (a batch); a chain
 * of several steps ping-pongs through two scratch buffers kept in the
 * chain, so no step allocates per record once warmed up. */
#ifndef FLOE_AGENT_CONVERT_H
#define FLOE_AGENT_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

enum floe_convert_kind {
    FLOE_CONVERT_SINGLELINE,
    FLOE_CONVERT_CSVTOJSON,
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

/* Append the converted form of `rec` (one record, normally ending in
 * '\n'; borrowed) to `out`. With no steps the record is copied as is.
 * FLOE_ETOOBIG if `out` would pass its max (out is left as it was). */
int floe_convert_apply(struct floe_convert *c, const char *rec, size_t len,
                       struct floe_buf *out);

/* The single steps, exposed for tests. */
int floe_convert_csvtojson(const struct floe_convert_step *s, const char *rec,
                           size_t len, struct floe_buf *out);
int floe_convert_singleline(const struct floe_convert_step *s,
                            const char *rec, size_t len,
                            struct floe_buf *out);

#endif
