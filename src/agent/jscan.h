/* jscan.h - a pull scanner over one JSON text that allocates nothing:
 * strings come back as spans of the input (still escaped) and can be
 * compared or decoded into a caller's buffer; values the caller does not
 * want are skipped (nesting bounded). Used where a response has one entry
 * per record (PutRecordBatch), so reading it costs no malloc per record.
 * Every function returns FLOE_OK or FLOE_EINVAL (not valid JSON there). */
#ifndef FLOE_AGENT_JSCAN_H
#define FLOE_AGENT_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct floe_jscan {
    const char *p, *end;   /* borrowed input; p moves forward */
};

/* A string's contents between its quotes, escapes not decoded. */
struct floe_jstr {
    const char *s;
    size_t len;
};

void floe_jscan_init(struct floe_jscan *js, const char *text, size_t len);
/* The next non-blank byte without taking it ('\0' at the end). */
char floe_jscan_peek(struct floe_jscan *js);
/* Take `c` (after blanks) if it is next; false (nothing taken) if not. */
bool floe_jscan_take(struct floe_jscan *js, char c);
/* A string (after blanks). */
int floe_jscan_string(struct floe_jscan *js, struct floe_jstr *out);
/* A number (after blanks). */
int floe_jscan_number(struct floe_jscan *js, double *out);
/* Skip one value of any kind (after blanks); at most 64 levels deep. */
int floe_jscan_skip(struct floe_jscan *js);
/* After the last value: only blanks may remain. */
int floe_jscan_end(struct floe_jscan *js);

/* Decode `str` (\uXXXX to UTF-8, surrogate pairs joined) into `out` of
 * `cap` bytes, NUL-terminated; cut (at a byte boundary) if longer. Returns
 * the decoded length before any cut, or (size_t)-1 if an escape is bad. */
size_t floe_jstr_decode(const struct floe_jstr *str, char *out, size_t cap);
/* The value of hex digit `c` (0-15), or -1. */
int floe_jscan_hexval(char c);
/* Does `str` decode to exactly the NUL-terminated `lit`? */
bool floe_jstr_eq(const struct floe_jstr *str, const char *lit);

#endif
