/* util.h - small helpers every part uses: clocks, randomness, UUIDs,
 * base64, and file-system basics (mkdir -p, whole-file read, durable
 * atomic write). */
#ifndef FLOE_CORE_UTIL_H
#define FLOE_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define FLOE_UUID_LEN 36 /* text form, NUL excluded */

int64_t floe_now_ms(void);       /* wall clock, ms since the epoch */
int64_t floe_mono_ms(void);      /* monotonic, ms */
/* "2026-11-24T19:56:00.123Z" into out[32]. */
void floe_time_iso(int64_t ms, char out[32]);

/* Fill `p` with `n` random bytes from the kernel. */
int floe_random(void *p, size_t n);
/* Random (version 4) UUID, lower-case, into out[FLOE_UUID_LEN + 1]. */
int floe_uuid(char out[FLOE_UUID_LEN + 1]);
/* Format 16 bytes as a version 4 UUID (sets the version and variant
 * bits), for generators that bring their own randomness. */
void floe_uuid_format(const unsigned char bytes[16],
                      char out[FLOE_UUID_LEN + 1]);

/* Raise the soft open-file limit (RLIMIT_NOFILE) to the hard one (logged
 * once raised) and return the soft limit then in force; 0 when unlimited
 * or unknown. */
uint64_t floe_fd_limit_raise(void);

/* write(2) all of `len` bytes, retrying short writes and EINTR. */
int floe_write_all(int fd, const void *data, size_t len);
/* mkdir -p with mode 0755; existing directories are fine. */
int floe_mkdirs(const char *path);
/* Read a whole file into `out` (appends; out->max applies). */
int floe_read_file(const char *path, struct floe_buf *out);
/* Write `data` to `path` durably: temp file beside it, fsync, rename,
 * fsync of the directory. Readers see the old or the new file, never a
 * part. */
int floe_write_file_atomic(const char *path, const void *data, size_t len);
int floe_fsync_dir(const char *dir);
/* Append `data` to `path` (created 0644 if missing) and fdatasync it. */
int floe_append_file_sync(const char *path, const void *data, size_t len);
/* Remove a tree (rm -rf); a missing path is fine. */
int floe_rmtree(const char *path);
bool floe_path_exists(const char *path);
/* Absolute path of the running binary into out[4096]. */
int floe_self_exe(char *out, size_t n);

#endif
