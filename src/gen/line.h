/* line.h - one output line built in a fixed buffer, no allocation.
 * Appends are bounded: past FLOE_LINE_MAX the line is marked overflowed
 * (sticky) instead of growing, and the caller rejects it. Also holds the
 * text formats emit needs: ISO 8601 UTC millis, cents, JSON strings and
 * RFC 4180 CSV fields, plus the ISO parser for --start. */
#ifndef FLOE_GEN_LINE_H
#define FLOE_GEN_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOE_LINE_MAX 2048
#define FLOE_LINE_ISO_LEN 24 /* "2026-11-24T19:56:00.123Z" */

struct floe_line {
    size_t len;
    bool overflow;          /* an append did not fit; contents truncated */
    char buf[FLOE_LINE_MAX];
};

static inline void floe_line_reset(struct floe_line *l)
{
    l->len = 0;
    l->overflow = false;
}

void floe_line_add(struct floe_line *l, const char *p, size_t n);
void floe_line_adds(struct floe_line *l, const char *s);
void floe_line_addc(struct floe_line *l, char c);
/* Decimal `v`, zero-padded to at least `width` digits (0: no padding). */
void floe_line_add_u64(struct floe_line *l, uint64_t v, int width);
/* Cents as a decimal amount: 1999 -> "19.99", 5 -> "0.05". */
void floe_line_add_cents(struct floe_line *l, int64_t cents);
/* Milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). */
void floe_line_add_iso(struct floe_line *l, int64_t ms);
/* `s` as a JSON string literal with quotes (escapes ", \ and controls;
 * UTF-8 passes through). */
void floe_line_add_json_str(struct floe_line *l, const char *s);
/* `s` as one CSV field: quoted (with "" for ") only when it holds a comma,
 * a quote, CR or LF (RFC 4180). */
void floe_line_add_csv(struct floe_line *l, const char *s);

/* Format `ms` into out[FLOE_LINE_ISO_LEN + 1]. */
void floe_line_iso(int64_t ms, char out[FLOE_LINE_ISO_LEN + 1]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC; 1-9 fraction digits) into
 * milliseconds. FLOE_EINVAL on anything else. */
int floe_line_parse_iso(const char *s, int64_t *out_ms);

#endif
