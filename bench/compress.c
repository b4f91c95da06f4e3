/* compress.c - flush-path compression benchmark for `bench/run`.
 * On one buffer of real JSON lines (a prefix of an emitted orders.log,
 * repeated to --mb MiB) it times: (1) libdeflate level-1 gzip alone in a
 * tight loop (the compressor's own speed); (2) the firehose flush path as
 * src/firehose/deliver.c runs it: reserve the bound in a floe_buf, gzip,
 * floe_store_put (atomic + durable) into a file:// store, linked from the
 * project's own floe_store/floe_core libraries; (3) zlib level-6 gzip for
 * reference. Prints one JSON object; MB/s are of uncompressed input. */
#define _GNU_SOURCE
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t zlib_gzip6(const char *in, size_t n, unsigned char *out,
                         size_t cap)
{
    z_stream z;
    size_t got;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return 0;
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        return 0;
    }
    got = z.total_out;
    deflateEnd(&z);
    return got;
}

int main(int argc, char **argv)
{
    struct libdeflate_compressor *c;
    struct floe_store *st = NULL;
    struct floe_buf z;
    char err[FLOE_ERR_LEN], key[128];
    unsigned char *out;
    char *buf;
    size_t size, have = 0, bound, clen = 0, zlen = 0;
    double min_s, t0, t, t_c = 0, t_f = 0, t_z = 0;
    long it_c = 0, it_f = 0, it_z = 0;
    FILE *f;

    if (argc != 5) {
        fprintf(stderr, "usage: compress LINES_FILE STORE_DIR MIB MIN_SECONDS\n");
        return 2;
    }
    size = (size_t)strtoul(argv[3], NULL, 10) << 20;
    min_s = strtod(argv[4], NULL);
    buf = malloc(size);
    f = fopen(argv[1], "rb");
    if (buf == NULL || f == NULL || size == 0) {
        fprintf(stderr, "compress: cannot read %s\n", argv[1]);
        return 1;
    }
    while (have < size) { /* whole lines, the file repeated if short */
        size_t r = fread(buf + have, 1, size - have, f);
        if (r == 0) {
            if (have == 0)
                return 1;
            rewind(f);
            continue;
        }
        have += r;
    }
    fclose(f);
    while (size > 0 && buf[size - 1] != '\n')
        size--;

    c = libdeflate_alloc_compressor(1);
    bound = libdeflate_gzip_compress_bound(c, size);
    out = malloc(bound > compressBound((uLong)size) + 64
                     ? bound
                     : compressBound((uLong)size) + 64);
    if (c == NULL || out == NULL)
        return 1;

    /* 1. the compressor alone */
    t0 = now_s();
    do {
        clen = libdeflate_gzip_compress(c, buf, size, out, bound);
        it_c++;
        t = now_s();
    } while (t - t0 < min_s || it_c < 3);
    t_c = t - t0;

    /* 2. the flush path: what deliver_one() does per sealed buffer */
    if (floe_store_open(argv[2], &st, err) != FLOE_OK) {
        fprintf(stderr, "compress: %s\n", err);
        return 1;
    }
    floe_buf_init(&z, FLOE_BUF_UNLIMITED);
    t0 = now_s();
    do {
        size_t len, b;

        snprintf(key, sizeof(key), "landing/bench/flush-%06ld.gz", it_f);
        b = libdeflate_gzip_compress_bound(c, size);
        floe_buf_reset(&z);
        if (floe_buf_reserve(&z, b) != FLOE_OK)
            return 1;
        len = libdeflate_gzip_compress(c, buf, size, z.data, b);
        if (len == 0 || floe_store_put(st, key, z.data, len) != FLOE_OK) {
            fprintf(stderr, "compress: flush failed\n");
            return 1;
        }
        it_f++;
        t = now_s();
    } while (t - t0 < min_s || it_f < 3);
    t_f = t - t0;
    floe_buf_free(&z);
    floe_store_close(st);

    /* 3. zlib level 6, the common default, for reference */
    t0 = now_s();
    do {
        zlen = zlib_gzip6(buf, size, out, compressBound((uLong)size) + 64);
        it_z++;
        t = now_s();
    } while (t - t0 < min_s || it_z < 2);
    t_z = t - t0;

    printf("{\"buffer_bytes\":%zu,"
           "\"libdeflate1_mb_s\":%.1f,\"libdeflate1_ratio\":%.3f,"
           "\"flush_path_mb_s\":%.1f,\"flush_iterations\":%ld,"
           "\"zlib6_mb_s\":%.1f,\"zlib6_ratio\":%.3f}\n",
           size, (double)size * it_c / t_c / 1e6, (double)clen / size,
           (double)size * it_f / t_f / 1e6, it_f,
           (double)size * it_z / t_z / 1e6, (double)zlen / size);
    libdeflate_free_compressor(c);
    free(out);
    free(buf);
    return 0;
}
