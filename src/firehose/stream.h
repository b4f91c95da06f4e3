/* stream.h - the delivery-stream registry of `floe firehose`.
 * Streams are kept sorted by name behind a rwlock and persisted as one
 * JSON file (<state-dir>/streams.json) written atomically on every change,
 * so they survive restarts. */
#ifndef FLOE_FIREHOSE_STREAM_H
#define FLOE_FIREHOSE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOE_FH_NAME_MAX 64
#define FLOE_FH_ACCOUNT "123456789012"
#define FLOE_FH_REGION "us-east-1"

enum floe_fh_compression {
    FLOE_FH_UNCOMPRESSED = 0,
    FLOE_FH_GZIP = 1,
    FLOE_FH_ZIP = 2,
    FLOE_FH_SNAPPY = 3,
    FLOE_FH_HADOOP_SNAPPY = 4,
};

struct floe_fh_slot; /* deliver.c: the stream's buffer */
struct floe_fh_tz;   /* tz.h */
struct cJSON;        /* <cjson/cJSON.h> */

struct floe_fh_stream {
    char name[FLOE_FH_NAME_MAX + 1];
    char *bucket;        /* owned; from BucketARN arn:aws:s3:::<bucket> */
    char *bucket_arn;    /* owned */
    char *role_arn;      /* owned; may be "" */
    char *prefix;        /* owned; may be "" */
    char *error_prefix;  /* owned; NULL when absent */
    char *time_zone;     /* owned; CustomTimeZone, NULL = UTC */
    struct floe_fh_tz *tz; /* owned; loaded time_zone, NULL = UTC */
    int size_mb;         /* 1..128 */
    int interval_s;      /* 0..900 */
    enum floe_fh_compression compression;
    bool extended;       /* created with ExtendedS3DestinationConfiguration */
    int version;         /* VersionId */
    double create_ts;    /* epoch seconds */
    double update_ts;    /* last UpdateDestination, 0 = never */
    struct cJSON *tags;  /* owned; object key -> string value, keys sorted;
                            NULL = none */
    struct floe_fh_slot *slot; /* owned by deliver.c */
};

struct floe_fh_registry;

/* "GZIP", "UNCOMPRESSED", "ZIP", "Snappy", "HADOOP_SNAPPY" (AWS spelling) */
const char *floe_fh_compression_name(enum floe_fh_compression c);
/* The reverse; -1 when `name` is none of them. */
int floe_fh_compression_parse(const char *name);
/* Free a stream's strings and the struct; NULL is a no-op. Does not touch
 * s->slot (detach it first). */
void floe_fh_stream_free(struct floe_fh_stream *s);

/* Load <dir>/streams.json if present (dir is created). On FLOE_OK *out is
 * owned by the caller (floe_fh_registry_close). FLOE_ECORRUPT with err on a
 * bad file. */
int floe_fh_registry_open(const char *dir, struct floe_fh_registry **out,
                          char *err);
/* Frees every stream (their slots must be detached already). */
void floe_fh_registry_close(struct floe_fh_registry *r);

void floe_fh_registry_rdlock(struct floe_fh_registry *r);
void floe_fh_registry_wrlock(struct floe_fh_registry *r);
void floe_fh_registry_unlock(struct floe_fh_registry *r);

/* The following need the lock (read for find/count/at, write for
 * add/remove). Pointers are borrowed while the lock is held. */
struct floe_fh_stream *floe_fh_registry_find(struct floe_fh_registry *r,
                                             const char *name);
size_t floe_fh_registry_count(struct floe_fh_registry *r);
struct floe_fh_stream *floe_fh_registry_at(struct floe_fh_registry *r,
                                           size_t i); /* sorted by name */
/* Add and persist; takes `s` on FLOE_OK only. FLOE_EEXIST, FLOE_EIO. */
int floe_fh_registry_add(struct floe_fh_registry *r, struct floe_fh_stream *s);
/* Persist after a stream was changed in place (write lock held). */
int floe_fh_registry_save(struct floe_fh_registry *r);
/* Remove and persist; on FLOE_OK *out_s is owned by the caller. */
int floe_fh_registry_remove(struct floe_fh_registry *r, const char *name,
                            struct floe_fh_stream **out_s);

#endif
