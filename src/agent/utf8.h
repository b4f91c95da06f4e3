/* utf8.h - UTF-8 checking, repair and JSON string escaping for the
 * agent's converters. The Kinesis Agent decodes every record with Java's
 * UTF-8 decoder before converting it, so an invalid sequence becomes
 * U+FFFD; here too, one U+FFFD per maximal subpart (the longest prefix of
 * a well-formed sequence, or one byte: Unicode ch. 3, "U+FFFD
 * Substitution of Maximal Subparts", which Java's decoder follows except
 * for encoded surrogates). Runs of plain ASCII go eight bytes at a time. */
#ifndef FLOE_AGENT_UTF8_H
#define FLOE_AGENT_UTF8_H

#include <stddef.h>

#include "core/buf.h"

#define FLOE_UTF8_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Bytes of the longest valid UTF-8 prefix of `s` (`n` when it is all
 * valid). NUL bytes are valid. */
size_t floe_utf8_valid(const char *s, size_t n);

/* Append `s` (borrowed) to `out` with each invalid subpart replaced by
 * U+FFFD. FLOE_ETOOBIG leaves `out` unchanged. */
int floe_utf8_repair(struct floe_buf *out, const char *s, size_t n);

/* Most bytes floe_utf8_json_esc() writes for `n` input bytes (a control
 * character becomes \u00XX; U+FFFD takes 3 bytes, for at least one). */
#define FLOE_UTF8_JSON_MAX(n) (6 * (n))

/* Write `s` JSON-escaped, without quotes, invalid UTF-8 replaced by
 * U+FFFD, at `p`, which has room for FLOE_UTF8_JSON_MAX(n) bytes; returns
 * the end of what was written. Escapes " \ and U+0000..U+001F (\b \t \n
 * \f \r short, others \u00XX), as Jackson does. */
char *floe_utf8_json_esc(char *p, const char *s, size_t n);

/* Exactly how many bytes floe_utf8_json_esc() writes for `s`: for a
 * buffer whose cap the worst case would pass. */
size_t floe_utf8_json_len(const char *s, size_t n);

/* Append `s` as a JSON string, quotes included (floe_utf8_json_esc).
 * FLOE_ETOOBIG leaves `out` unchanged. */
int floe_utf8_json_str(struct floe_buf *out, const char *s, size_t n);

#endif
