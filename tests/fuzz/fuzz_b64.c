/* fuzz_b64.c - base64 (core/b64.h), whose decoder runs on every record
 * the firehose takes. Oracles: encode then decode gives the bytes back;
 * a text the decoder accepts re-encodes to the same length and decodes
 * again to the same bytes, never past floe_b64_dec_max. */
#include "core/b64.h"
#include "core/err.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t elen = floe_b64_enc_len(size), n, n2;
    char *enc = malloc(elen + 1), *re = NULL;
    unsigned char *dec = malloc(floe_b64_dec_max(elen) + 1), *dec2 = NULL;

    FUZZ_CHECK(enc != NULL && dec != NULL);
    /* bytes -> text -> the same bytes */
    FUZZ_CHECK(floe_b64_enc(data, size, enc) == elen);
    FUZZ_CHECK(floe_b64_dec(enc, elen, dec, &n) == FLOE_OK);
    FUZZ_CHECK(n == size && memcmp(dec, data, size) == 0);
    free(dec);

    /* the input as text: exact-size buffer, so ASan sees any overrun */
    dec = malloc(floe_b64_dec_max(size) + 1);
    FUZZ_CHECK(dec != NULL);
    if (floe_b64_dec((const char *)data, size, dec, &n) == FLOE_OK) {
        FUZZ_CHECK(n <= floe_b64_dec_max(size));
        re = malloc(floe_b64_enc_len(n) + 1);
        dec2 = malloc(floe_b64_dec_max(size) + 1);
        FUZZ_CHECK(re != NULL && dec2 != NULL);
        FUZZ_CHECK(floe_b64_enc(dec, n, re) == size);
        FUZZ_CHECK(floe_b64_dec(re, size, dec2, &n2) == FLOE_OK);
        FUZZ_CHECK(n2 == n && memcmp(dec2, dec, n) == 0);
    }
    free(enc);
    free(dec);
    free(re);
    free(dec2);
    return 0;
}
