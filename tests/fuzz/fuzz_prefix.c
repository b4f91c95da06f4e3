/* fuzz_prefix.c - Firehose S3 prefix expressions (firehose/prefix.h).
 * Input: a flag byte (bit 0: Prefix absent, bit 1: ErrorOutputPrefix
 * absent), 4 bytes of seconds since the epoch (little-endian), then the
 * Prefix and the ErrorOutputPrefix separated by a NUL byte. Oracle: a pair
 * that floe_fh_prefix_check accepts (as CreateDeliveryStream does)
 * evaluates at any time without error and within the 512-character rule,
 * and its object and error keys build: delivery never meets a prefix it
 * cannot name an object with. */
#include "core/buf.h"
#include "core/err.h"
#include "firehose/prefix.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

static void eval_ok(const char *prefix, int64_t ms, const char *etype)
{
    struct floe_buf out;
    char err[FLOE_ERR_LEN];
    int rc;

    floe_buf_init(&out, 1 << 16);
    rc = floe_fh_prefix_eval(prefix, ms, etype, 1, &out, err);
    if (rc != FLOE_OK || out.len > FLOE_FH_PREFIX_EVAL_MAX)
        fprintf(stderr, "prefix '%s' at %lld ms: rc %d, %zu chars: %s\n",
                prefix ? prefix : "(null)", (long long)ms, rc, out.len,
                rc != FLOE_OK ? err : out.data);
    FUZZ_CHECK(rc == FLOE_OK);
    FUZZ_CHECK(out.len <= FLOE_FH_PREFIX_EVAL_MAX);
    floe_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[FLOE_ERR_LEN], *text, *prefix, *eprefix, *nul;
    struct floe_buf key;
    int64_t ms;

    if (size < 5)
        return 0;
    ms = ((int64_t)data[1] | (int64_t)data[2] << 8 | (int64_t)data[3] << 16 |
          (int64_t)data[4] << 24) * 1000 + data[1] % 1000;
    text = fuzz_cstr(data + 5, size - 5);
    FUZZ_CHECK(text != NULL);
    nul = memchr(text, '\0', size - 5);
    prefix = (data[0] & 1) ? NULL : text;
    eprefix = (data[0] & 2) ? NULL : nul != NULL ? nul + 1 : "";
    if (floe_fh_prefix_check(prefix, eprefix, err) == FLOE_OK) {
        eval_ok(prefix, ms, NULL);
        if (eprefix != NULL)
            eval_ok(eprefix, ms, FLOE_FH_ERROR_TYPE_S3);
        floe_buf_init(&key, 1 << 16);
        FUZZ_CHECK(floe_fh_object_key("bucket", prefix, "stream", 1, ms,
                                      ".gz", &key, err) == FLOE_OK);
        floe_buf_reset(&key);
        FUZZ_CHECK(floe_fh_error_key("bucket", prefix, eprefix,
                                     FLOE_FH_ERROR_TYPE_S3, "stream", 1, ms,
                                     "", &key, err) == FLOE_OK);
        floe_buf_free(&key);
    }
    free(text);
    return 0;
}
