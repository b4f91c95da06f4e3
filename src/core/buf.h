/* buf.h - growable byte buffer with a hard cap.
 * A failed add leaves the buffer as it was; growth past `max` fails with
 * FLOE_ETOOBIG, so data-path buffers reject oversize instead of growing. */
#ifndef FLOE_CORE_BUF_H
#define FLOE_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

#define FLOE_BUF_UNLIMITED ((size_t)-1)

struct floe_buf {
    char *data;  /* NUL-terminated once allocated */
    size_t len;  /* bytes used, NUL excluded */
    size_t cap;  /* bytes allocated */
    size_t max;  /* growth past this fails with FLOE_ETOOBIG */
};

void floe_buf_init(struct floe_buf *b, size_t max); /* cannot fail */
/* Make room for `n` more bytes (plus the NUL). */
int floe_buf_reserve(struct floe_buf *b, size_t n);
int floe_buf_add(struct floe_buf *b, const void *p, size_t n);
int floe_buf_adds(struct floe_buf *b, const char *s);
int floe_buf_addc(struct floe_buf *b, char c);
int floe_buf_addf(struct floe_buf *b, const char *fmt, ...) FLOE_PRINTF(2, 3);
int floe_buf_vaddf(struct floe_buf *b, const char *fmt, va_list ap);
/* Append `s` as a JSON string literal, quotes included. */
int floe_buf_add_json_str(struct floe_buf *b, const char *s, size_t n);
void floe_buf_reset(struct floe_buf *b); /* len = 0, keeps memory */
/* Hand the bytes to the caller (free()), leaving `b` empty. Never NULL
 * unless out of memory. */
char *floe_buf_take(struct floe_buf *b, size_t *out_len);
void floe_buf_free(struct floe_buf *b);

#endif
