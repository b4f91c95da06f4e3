/* jscan.h - a pull scanner over one JSON text that allocates nothing:
 * strings come back as spans of the input (still escaped, flagged when
 * they hold an escape) that can be compared or decoded into a caller's
 * buffer; values the caller does not want are skipped and validated
 * (nesting bounded, numbers checked without strtod). Strings are found
 * with memchr; a text without a backslash needs no escape handling.
 * Every int function returns FLOE_OK or FLOE_EINVAL (not valid there). */
#ifndef FLOE_CORE_JSCAN_H
#define FLOE_CORE_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/err.h"

/* What the scanner accepts; 0 is RFC 8259 (blanks: space, tab, CR, LF). */
enum floe_jscan_flag {
    /* Raw bytes below 0x20 inside strings are taken as they are (cJSON
     * does so); strings then cost a memchr and nothing more. */
    FLOE_JSCAN_RAW_CTRL = 1 << 0,
    /* A \uD800-\uDFFF escape is an error: parsers pair surrogates in
     * different ways, so a caller that must agree with one refuses them. */
    FLOE_JSCAN_NO_SURROGATE = 1 << 1,
    /* Only texts that cJSON 1.7 reads the same way (with the caller
     * refusing NUL bytes, which cJSON reads as blanks or string ends). */
    FLOE_JSCAN_CJSON = FLOE_JSCAN_RAW_CTRL | FLOE_JSCAN_NO_SURROGATE,
};

/* Numbers longer than this are refused (cJSON reads at most 63 bytes). */
#define FLOE_JSCAN_NUMBER_MAX 63
/* floe_jscan_skip goes at most this many containers deep. */
#define FLOE_JSCAN_DEPTH_MAX 64

struct floe_jscan {
    const char *p, *end; /* borrowed input; p moves forward */
    const char *bs;      /* private: the next backslash once found */
    unsigned flags;      /* enum floe_jscan_flag */
};

/* A string's contents between its quotes, escapes not decoded. */
struct floe_jstr {
    const char *s;
    size_t len;
    bool esc; /* holds a backslash escape: decode before use */
};

/* Scan `len` bytes at `text` (borrowed for the scanner's life; no NUL
 * terminator needed) with `flags` (enum floe_jscan_flag, or'ed). */
void floe_jscan_init(struct floe_jscan *js, const char *text, size_t len,
                     unsigned flags);

/* The next non-blank byte without taking it ('\0' at the end). */
static inline char floe_jscan_peek(struct floe_jscan *js)
{
    while (js->p < js->end) {
        char c = *js->p;

        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            return c;
        js->p++;
    }
    return '\0';
}

/* Take `c` (after blanks; not '\0') if it is next; false (nothing taken)
 * if not. */
static inline bool floe_jscan_take(struct floe_jscan *js, char c)
{
    if (floe_jscan_peek(js) != c || js->p == js->end)
        return false;
    js->p++;
    return true;
}

/* A string (after blanks); *out points into the input. */
int floe_jscan_string(struct floe_jscan *js, struct floe_jstr *out);
/* A number (after blanks), at most FLOE_JSCAN_NUMBER_MAX bytes; `out` may
 * be NULL to check and pass over it (no strtod then). */
int floe_jscan_number(struct floe_jscan *js, double *out);
/* Skip one value of any kind (after blanks), FLOE_JSCAN_DEPTH_MAX deep. */
int floe_jscan_skip(struct floe_jscan *js);
/* After the last value: only blanks may remain. */
int floe_jscan_end(struct floe_jscan *js);

/* Decode `str` (\uXXXX to UTF-8, surrogate pairs joined, a lone one to
 * U+FFFD) into `out` of `cap` bytes, NUL-terminated; cut (at a byte
 * boundary) if longer. Returns the decoded length before any cut, or
 * (size_t)-1 if an escape is bad. */
size_t floe_jstr_decode(const struct floe_jstr *str, char *out, size_t cap);
/* Does `str` (from floe_jscan_string) decode to exactly the
 * NUL-terminated `lit`? (Inline: a key test costs a length check and a
 * memcmp; floe_jstr_eq_esc decodes the escaped ones.) */
bool floe_jstr_eq_esc(const struct floe_jstr *str, const char *lit);
static inline bool floe_jstr_eq(const struct floe_jstr *str, const char *lit)
{
    if (str->esc)
        return floe_jstr_eq_esc(str, lit);
    return str->len == strlen(lit) && memcmp(str->s, lit, str->len) == 0;
}
/* The value of hex digit `c` (0-15), or -1. */
int floe_jscan_hexval(char c);

#endif
