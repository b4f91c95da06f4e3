/* fuzz_jscan.c - the allocation-free JSON scanner (core/jscan.h).
 * Byte 0 holds the flags (enum floe_jscan_flag); the rest is the text.
 * Oracles: a text the scanner validates in cJSON mode (no surrogate
 * escapes, no NUL byte) cJSON parses too; a top-level string decodes to
 * what cJSON makes of it, cut or not; and a token walk over anything never
 * reads outside the input or loops. */
#include <cjson/cJSON.h>

#include "core/jscan.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

/* Decode `s` into a full buffer and a cut one; both must agree. Returns
 * the full decoded text (caller frees) or NULL for a bad escape. */
static char *decode(const struct floe_jstr *s, size_t *out_len)
{
    size_t cap = s->len + 1, n, cut;
    char *full = malloc(cap), small[8];

    FUZZ_CHECK(full != NULL);
    n = floe_jstr_decode(s, full, cap);
    cut = floe_jstr_decode(s, small, sizeof(small));
    FUZZ_CHECK(cut == n);
    if (n == (size_t)-1) {
        free(full);
        return NULL;
    }
    FUZZ_CHECK(n <= s->len && full[n] == '\0'); /* escapes only shrink */
    /* the cut copy is a NUL-terminated prefix (cut at a byte boundary) */
    FUZZ_CHECK(strlen(small) < sizeof(small));
    FUZZ_CHECK(memcmp(small, full, strlen(small)) == 0);
    FUZZ_CHECK(floe_jstr_eq(s, full) == (memchr(full, '\0', n) == NULL));
    *out_len = n;
    return full;
}

/* Every token of the text in turn, whatever its grammar. */
static void walk(const char *text, size_t len, unsigned flags)
{
    struct floe_jscan js;
    struct floe_jstr s;
    size_t steps = 0, n;
    char c;

    floe_jscan_init(&js, text, len, flags);
    while ((c = floe_jscan_peek(&js)) != '\0' || js.p < js.end) {
        const char *before = js.p;
        char *d;

        FUZZ_CHECK(++steps <= len + 1);
        if (c == '"') {
            if (floe_jscan_string(&js, &s) == FLOE_OK) {
                FUZZ_CHECK(s.s >= text && s.s + s.len <= text + len);
                d = decode(&s, &n);
                FUZZ_CHECK(d != NULL || s.esc);
                free(d);
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            double v;

            floe_jscan_number(&js, (steps & 1) ? &v : NULL);
        } else if (c == '{' || c == '[' || c == ':' || c == ',' ||
                   c == '}' || c == ']') {
            FUZZ_CHECK(floe_jscan_take(&js, c));
        } else {
            floe_jscan_skip(&js);
        }
        FUZZ_CHECK(js.p >= before && js.p <= js.end);
        if (js.p == before)
            js.p++; /* refused here: step over the byte */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct floe_jscan js;
    struct floe_jstr s;
    const char *text;
    unsigned flags;
    bool cjson_mode, valid;
    size_t len;

    if (size < 1)
        return 0;
    flags = data[0] & (FLOE_JSCAN_RAW_CTRL | FLOE_JSCAN_NO_SURROGATE);
    text = (const char *)data + 1;
    len = size - 1;
    cjson_mode = (flags & FLOE_JSCAN_NO_SURROGATE) &&
                 memchr(text, '\0', len) == NULL;

    floe_jscan_init(&js, text, len, flags);
    valid = floe_jscan_skip(&js) == FLOE_OK && floe_jscan_end(&js) == FLOE_OK;
    if (valid && cjson_mode) {
        cJSON *root = cJSON_ParseWithLength(text, len);

        FUZZ_CHECK(root != NULL);
        cJSON_Delete(root);
    }

    floe_jscan_init(&js, text, len, flags);
    if (floe_jscan_peek(&js) == '"' && floe_jscan_string(&js, &s) == FLOE_OK &&
        floe_jscan_end(&js) == FLOE_OK) {
        size_t n;
        char *d = decode(&s, &n);

        if (d != NULL && cjson_mode && memchr(d, '\0', n) == NULL) {
            cJSON *root = cJSON_ParseWithLength(text, len);

            FUZZ_CHECK(cJSON_IsString(root));
            FUZZ_CHECK(strcmp(root->valuestring, d) == 0);
            cJSON_Delete(root);
        }
        free(d);
    }
    walk(text, len, flags);
    return 0;
}
