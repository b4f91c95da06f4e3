/* compress.h - object compression of `floe firehose` (Firehose
 * CompressionFormat): GZIP (one gzip member), ZIP (a .zip archive with one
 * deflated entry), Snappy (the Snappy framing format: stream identifier,
 * chunks of <= 64 KiB with masked CRC-32C) and HADOOP_SNAPPY (Hadoop's
 * block format: BE32 raw length, BE32 compressed length, raw snappy).
 * Deflate is libdeflate level 1, snappy is libsnappy (loaded on first
 * use, see snappyapi.h). Pure functions. */
#ifndef FLOE_FIREHOSE_COMPRESS_H
#define FLOE_FIREHOSE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "firehose/stream.h"

struct libdeflate_compressor;

/* Default object-name extension: "", ".gz", ".zip", ".snappy",
 * ".hsnappy" (Firehose's HADOOP_SNAPPY extension is not documented). */
const char *floe_fh_compression_ext(enum floe_fh_compression c);

/* Compress `in` (`n` bytes, borrowed) as `c` into `out` (reset first).
 * `z` is a libdeflate compressor (borrowed, used by GZIP and ZIP);
 * `entry` names the ZIP entry and `mtime_ms` dates it. FLOE_ENOMEM,
 * FLOE_ETOOBIG (over 4 GiB for ZIP), FLOE_EINVAL for UNCOMPRESSED,
 * FLOE_ENOTFOUND/FLOE_ENOTSUP (logged) when libsnappy cannot be loaded. */
int floe_fh_compress(enum floe_fh_compression c,
                     struct libdeflate_compressor *z, const void *in,
                     size_t n, const char *entry, int64_t mtime_ms,
                     struct floe_buf *out);

/* CRC-32C (Castagnoli) of `p`, and the snappy framing mask of it. */
uint32_t floe_fh_crc32c(const void *p, size_t n);
uint32_t floe_fh_snappy_mask(uint32_t crc);

#endif
