/* b64.h - fast standard-base64 decoding for the put path (Data members).
 * Same contract, same accepted inputs and same output as floe_b64_dec
 * (core/util.h): length a multiple of 4, '=' only as the last one or two
 * characters, non-zero padding bits ignored. */
#ifndef FLOE_FIREHOSE_B64_H
#define FLOE_FIREHOSE_B64_H

#include <stddef.h>

/* Decode src[0..n) (borrowed) into `out`, which must have room for
 * floe_b64_dec_max(n) bytes. FLOE_OK with *out_len set, or FLOE_EINVAL
 * (out then holds garbage). */
int floe_fh_b64_dec(const char *src, size_t n, void *out, size_t *out_len);

#endif
