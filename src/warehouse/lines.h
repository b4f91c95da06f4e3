/* lines.h - turn a batch object into lines, losslessly and engine-neutral.
 * An object is gzip (one or more members) or plain bytes; a line ends at
 * '\n' (excluded), and bytes after the last '\n' form one more line, so
 * lines == newlines + (trailing bytes ? 1 : 0). Engines store lines as text,
 * so invalid UTF-8 and NUL bytes are replaced by U+FFFD and the line is
 * flagged; no line is ever skipped. */
#ifndef FLOE_WAREHOUSE_LINES_H
#define FLOE_WAREHOUSE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Largest decompressed object accepted (Firehose buffers at most 128 MiB
 * of records, so this is generous); larger is FLOE_ETOOBIG. */
#define FLOE_WH_OBJECT_MAX ((size_t)1 << 30)

/* Longest line accepted (a Firehose record is at most 1,000 KiB; a line
 * four times that is not a log line): floe_wh_scan refuses an object with
 * a longer one, so a gzip bomb of zeros (one endless line) is refused
 * after 4 MiB of output instead of being inflated. */
#define FLOE_WH_LINE_MAX ((size_t)4 << 20)

/* Append the decompressed bytes of `data` (borrowed) to `out`: gzip when it
 * starts with the gzip magic, else copied as is. FLOE_ECORRUPT for a broken
 * gzip stream (err says where), FLOE_ETOOBIG past out->max. */
int floe_wh_inflate(const void *data, size_t len, struct floe_buf *out,
                    char *err);

/* What floe_wh_scan found. */
struct floe_wh_scan {
    int64_t bytes;  /* decompressed bytes */
    int64_t lines;  /* by the rule of floe_wh_count_lines */
    size_t longest; /* longest line, '\n' excluded */
};

/* Read `data` (borrowed) as floe_wh_inflate would, but streaming (zlib,
 * 64 KiB at a time) and keeping nothing: memory stays bounded whatever the
 * object inflates to. Stops at the first problem, err says which and
 * where: FLOE_ECORRUPT for a broken or truncated gzip stream or garbage
 * after it, FLOE_ETOOBIG for a line longer than `max_line` or more than
 * `max_bytes` in all; FLOE_ENOMEM. *out (may be NULL) holds what was seen
 * up to there. */
int floe_wh_scan(const void *data, size_t len, size_t max_line,
                 size_t max_bytes, struct floe_wh_scan *out, char *err);

/* Number of lines in `p` by the rule above. */
int64_t floe_wh_count_lines(const char *p, size_t n);

struct floe_wh_lines {
    const char *p, *end; /* borrowed input, not yet consumed */
    struct floe_buf fix; /* owned: the repaired copy of an invalid line */
};

/* Iterate over the lines of `p[0..n)` (borrowed; must outlive the
 * iterator). Release with floe_wh_lines_free. */
void floe_wh_lines_init(struct floe_wh_lines *it, const char *p, size_t n);
/* Next line: 1 with *out_line, *out_len set (valid until the next call) and
 * *out_clean false when bytes were replaced; 0 at the end; FLOE_ENOMEM. */
int floe_wh_lines_next(struct floe_wh_lines *it, const char **out_line,
                       size_t *out_len, bool *out_clean);
void floe_wh_lines_free(struct floe_wh_lines *it);

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when it is
 * invalid or a NUL byte. */
size_t floe_wh_utf8_seq(const unsigned char *s, size_t n);

#endif
