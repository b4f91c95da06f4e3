/* b64.h - standard base64 with padding (RFC 4648 section 4). Decoding
 * runs at memory speed (tables; AVX2 where the CPU has it): the Firehose
 * put path decodes every record with it. */
#ifndef FLOE_CORE_B64_H
#define FLOE_CORE_B64_H

#include <stddef.h>

/* Decode rejects bad characters and bad padding with FLOE_EINVAL; `out`
 * receives at most floe_b64_dec_max(n) bytes. */
size_t floe_b64_enc_len(size_t n);
size_t floe_b64_enc(const void *src, size_t n, char *out); /* no NUL */
size_t floe_b64_dec_max(size_t n);
int floe_b64_dec(const char *src, size_t n, void *out, size_t *out_len);

#endif
