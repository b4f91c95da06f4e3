/* store.h - object store with S3 semantics: the one seam between delivery
 * and the rest of Floe.
 * Keys are '/'-separated like S3 keys; the first segment is the zone
 * (landing, processing, processed). Puts are atomic (a reader sees the
 * whole object or none) and durable when they return; list is sorted by
 * key bytes; copy then delete is how objects move between zones. A backend
 * is one file filling one struct floe_store_ops: fs.c (file:// or a plain
 * path, the default) and s3.c (s3://bucket/prefix, any S3 API).
 * A failed call returns a code (floe_store_transient says what to do with
 * it) and leaves the reason in floe_store_strerror(), per thread. */
#ifndef FLOE_STORE_STORE_H
#define FLOE_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define FLOE_ZONE_LANDING "landing"
#define FLOE_ZONE_PROCESSING "processing"
#define FLOE_ZONE_PROCESSED "processed"
#define FLOE_STORE_KEY_MAX 1024 /* S3's limit */
/* First key segment reserved for a backend's temp files (fs.c: puts are
 * written there, then renamed into place): floe_store_key_check refuses
 * it, so no object, stream prefix or bucket can collide with them, and
 * every legal key (say "landing/x.tmp-1/...") is listed. */
#define FLOE_STORE_TMP_DIR ".floe-tmp"

struct floe_store;

struct floe_obj_info {
    const char *key;   /* borrowed; valid during the callback only */
    int64_t size;      /* bytes */
    int64_t mtime_ms;  /* last modified, ms since the epoch */
};

/* Return non-zero to stop the listing; that value is returned by list. */
typedef int (*floe_store_list_cb)(const struct floe_obj_info *info,
                                  void *ud);

struct floe_store_ops {
    const char *scheme; /* "file", "s3" */
    int (*open)(const char *location, void **out_ctx, char *err);
    void (*close)(void *ctx);
    int (*put)(void *ctx, const char *key, const void *data, size_t len);
    int (*put_file)(void *ctx, const char *key, const char *path, bool move);
    int (*put_new)(void *ctx, const char *key, const void *data, size_t len);
    int (*get)(void *ctx, const char *key, struct floe_buf *out);
    int (*get_file)(void *ctx, const char *key, const char *path);
    int (*head)(void *ctx, const char *key, struct floe_obj_info *out);
    int (*list)(void *ctx, const char *prefix, floe_store_list_cb cb,
                void *ud);
    int (*copy)(void *ctx, const char *src_key, const char *dst_key);
    int (*del)(void *ctx, const char *key);
    int (*local_path)(void *ctx, const char *key, char *out, size_t n);
};

/* Open a store by URL: "file:///abs/dir", a plain directory path, or a
 * scheme another backend registers. On FLOE_OK *out is owned by the caller
 * (floe_store_close). On error err says what is wrong. */
int floe_store_open(const char *url, struct floe_store **out, char *err);
void floe_store_close(struct floe_store *st); /* NULL is a no-op */
const char *floe_store_url(const struct floe_store *st);

/* Atomic, durable put of `len` bytes (borrowed). Replaces an old object. */
int floe_store_put(struct floe_store *st, const char *key, const void *data,
                   size_t len);
/* Put the contents of the local file `path`; with `move` the file may be
 * consumed (renamed into place when the backend can). */
int floe_store_put_file(struct floe_store *st, const char *key,
                        const char *path, bool move);
/* Conditional create: put only if no object has `key` (S3 If-None-Match:
 * *). FLOE_EEXIST when one exists; never replaces it. */
int floe_store_put_new(struct floe_store *st, const char *key,
                       const void *data, size_t len);
/* Append the object's bytes to `out` (out->max applies). FLOE_ENOTFOUND. */
int floe_store_get(struct floe_store *st, const char *key,
                   struct floe_buf *out);
/* Stream the object into the local file `path` (created or truncated;
 * left incomplete or removed on error). FLOE_ENOTFOUND. */
int floe_store_get_file(struct floe_store *st, const char *key,
                        const char *path);
/* Size and time of one object; out->key is left NULL. FLOE_ENOTFOUND. */
int floe_store_head(struct floe_store *st, const char *key,
                    struct floe_obj_info *out);
/* Every object whose key starts with `prefix`, in key order. */
int floe_store_list(struct floe_store *st, const char *prefix,
                    floe_store_list_cb cb, void *ud);
int floe_store_copy(struct floe_store *st, const char *src_key,
                    const char *dst_key);
/* Delete; deleting a missing key is FLOE_OK, as in S3. */
int floe_store_delete(struct floe_store *st, const char *key);
/* A local file path holding the object, for engines that read files
 * (DuckDB). FLOE_ENOTSUP when the backend has none (S3: download first). */
int floe_store_local_path(struct floe_store *st, const char *key, char *out,
                          size_t n);

/* Whether a store error is worth retrying. Transient: FLOE_EAGAIN and
 * FLOE_EIO (a full disk, a 5xx or SlowDown, a reset connection): retry with
 * backoff and jitter, bounded. Every other code is permanent and retrying
 * cannot help: FLOE_EINVAL (the key or bucket is refused), FLOE_ENOTFOUND,
 * FLOE_ETOOBIG, FLOE_EREMOTE (the service refused the request, e.g.
 * AccessDenied or SignatureDoesNotMatch). Backends map their failures onto
 * this rule; callers act on it (error output, quarantine, exit). */
static inline bool floe_store_transient(int rc)
{
    return rc == FLOE_EAGAIN || rc == FLOE_EIO;
}

/* The reason the last floe_store_* call of this thread failed (for S3:
 * the operation, key, HTTP status, S3 error code and message), or
 * floe_strerror(rc) when the backend said nothing more. Valid until the
 * thread's next store call. */
const char *floe_store_strerror(int rc);
/* For backends: set that reason (printf-style). */
void floe_store_set_error(const char *fmt, ...) FLOE_PRINTF(1, 2);

/* FLOE_OK when `key` is a valid object key: 1..1024 bytes, no leading '/',
 * no empty, "." or ".." segments, no NUL or control bytes, and not under
 * FLOE_STORE_TMP_DIR. */
int floe_store_key_check(const char *key);

/* FLOE_OK when the zone (a key's first segment, e.g. a Firehose bucket)
 * may be written by others than Floe's DAG; FLOE_EINVAL for the zones the
 * DAG owns (processing, processed) and for names the store keeps for
 * itself (any starting with ".floe", e.g. the fs backend's .floe-tmp). */
int floe_store_zone_check(const char *zone);

extern const struct floe_store_ops floe_store_fs_ops;
extern const struct floe_store_ops floe_store_s3_ops;

#endif
