/* claim.h - sense what is pending in landing/ and claim it into a batch.
 * A claim writes processing/batch=<id>/_manifest.json FIRST (every claimed
 * landing key, its size and its destination), then copies each object to
 * processing/batch=<id>/<stream>/<rest of the landing key> and deletes the
 * landing object. The manifest makes a claim crash-safe: re-running it for
 * the batch finishes the copies and deletes, never duplicating an object.
 * Each copy is then read once (floe_wh_scan: streaming, bounded memory):
 * an object the warehouse could not load (a truncated or broken gzip
 * stream, a line over FLOE_WH_LINE_MAX, more than FLOE_WH_OBJECT_MAX
 * inflated) is set aside to processed/quarantine/objects/batch=<id>/...
 * with <key>.reason.json beside it and its reason in the manifest, and
 * the rest of the batch goes on without it.
 * landing/errors/ (Firehose's error output) is counted, never claimed, and
 * so are objects of a stream no model declares (named in the pending set,
 * so a run reports them). */
#ifndef FLOE_ORCHESTRATOR_CLAIM_H
#define FLOE_ORCHESTRATOR_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define FLOE_CLAIM_ID_LEN 23 /* "YYYYMMDDTHHMMSSZ-xxxxxx", NUL excluded */
#define FLOE_CLAIM_ID_MAX 64 /* longest id floe_claim_check_id accepts */
#define FLOE_MANIFEST_NAME "_manifest.json"

/* Manifest states: claiming (moves under way), claimed, done, failed. */
#define FLOE_MANIFEST_CLAIMING "claiming"
#define FLOE_MANIFEST_CLAIMED "claimed"
#define FLOE_MANIFEST_DONE "done"
#define FLOE_MANIFEST_FAILED "failed"

struct floe_claim_obj {
    char *source;  /* landing key (owned by the containing struct) */
    char *key;     /* destination key in processing/ (owned) */
    int64_t size;  /* bytes */
    bool missing;  /* neither source nor destination existed at claim */
    bool checked;  /* its copy was read and judged (manifest: "checked") */
    char *reason;  /* set aside: why (owned; manifest: "quarantined") */
};

/* What sense found. */
struct floe_pending {
    struct floe_claim_obj *v; /* claimable landing objects, key order;
                                 `key` is NULL until claimed */
    size_t n, cap;
    int64_t bytes;        /* sum of v[].size */
    int64_t errors;       /* objects under landing/errors/ (left alone) */
    int64_t error_bytes;
    int64_t unknown;      /* objects of no known stream (left alone) */
    char unknown_streams[256]; /* their streams, "a, b" (as many as fit) */
    const char *const *streams; /* the known ones (borrowed) */
};

void floe_pending_free(struct floe_pending *p); /* NULL-safe, re-usable */

/* List landing/ (sorted) into `out` (initialise it with {0}; the caller
 * frees it with floe_pending_free in every case). `streams` (borrowed,
 * NULL-terminated) are the streams the warehouse has models for; objects
 * of any other stream are counted in out->unknown, named in
 * out->unknown_streams and logged, never claimed. */
int floe_claim_sense(struct floe_store *st, const char *const *streams,
                     struct floe_pending *out, char *err);

/* How many of p->v[from..] one batch takes: at most `max_objects` and
 * `max_bytes` (<= 0 means no limit), but always at least one object when
 * any is left, so an object larger than max_bytes still moves. */
size_t floe_claim_take(const struct floe_pending *p, size_t from,
                       int64_t max_objects, int64_t max_bytes);

/* A new batch id for time `now_ms`: "YYYYMMDDTHHMMSSZ-" and 6 random hex
 * digits. When `after` (may be NULL) is a batch id of the same second that
 * would not sort before the new one, the hex part is `after`'s plus one,
 * so ids made by one state database always sort in creation order. */
int floe_claim_batch_id(int64_t now_ms, const char *after,
                        char out[FLOE_CLAIM_ID_LEN + 1]);
/* FLOE_OK when `id` is usable as a batch id: 1..64 bytes of [A-Za-z0-9._-],
 * not starting with '.' (it becomes part of object keys). */
int floe_claim_check_id(const char *id);

/* processing/batch=<batch>/<stream>/<rest> for a landing key
 * landing/<stream>/<rest> into out[n]. FLOE_EINVAL for a key that is not
 * under a stream; FLOE_ETOOBIG when out is too small. */
int floe_claim_dest_key(const char *batch, const char *landing_key,
                        char *out, size_t n);
/* processed/quarantine/objects/<dest_key without "processing/"> into
 * out[n]: where an object of a batch that cannot be loaded is set aside. */
int floe_claim_quarantine_key(const char *dest_key, char *out, size_t n);
/* processing/batch=<batch>/_manifest.json into out[n]. */
int floe_claim_manifest_key(const char *batch, char *out, size_t n);

/* A parsed manifest. */
struct floe_manifest {
    char batch_id[FLOE_CLAIM_ID_MAX + 1];
    char created_at[32];
    char state[16];
    struct floe_claim_obj *v; /* owned */
    size_t n;
};
void floe_manifest_free(struct floe_manifest *m); /* NULL-safe */

/* Read and check the batch's manifest. FLOE_ENOTFOUND when there is none,
 * FLOE_ECORRUPT (err says why) when it does not parse. On FLOE_OK the
 * caller frees `out` with floe_manifest_free. */
int floe_manifest_read(struct floe_store *st, const char *batch,
                       struct floe_manifest *out, char *err);
/* Write `m` as processing/batch=<id>/_manifest.json (atomic put). */
int floe_manifest_write(struct floe_store *st, const struct floe_manifest *m,
                        char *err);
/* Read, change "state", write back (atomic put). */
int floe_manifest_set_state(struct floe_store *st, const char *batch,
                            const char *state, char *err);

struct floe_claim_counts {
    int64_t objects;  /* in the manifest */
    int64_t bytes;
    int64_t copied;   /* copies made by this call */
    int64_t deleted;  /* landing objects this call deleted */
    int64_t missing;  /* gone from landing and never copied */
    int64_t quarantined; /* set aside: they cannot be loaded */
};

/* Claim objs[0..n) (borrowed; `key` fields are ignored and recomputed)
 * into `batch`: manifest first, then copy + delete each, check each copy
 * (quarantining what cannot be loaded), then the manifest state becomes
 * "claimed". */
int floe_claim_new(struct floe_store *st, const char *batch,
                   const char *created_at, const struct floe_claim_obj *objs,
                   size_t n, struct floe_claim_counts *out, char *err);
/* Finish a claim from the batch's manifest: objects whose destination
 * exists are only deleted from landing, the others copied first; copies
 * not checked yet are checked. Safe to repeat any number of times.
 * FLOE_ENOTFOUND when there is no manifest. */
int floe_claim_resume(struct floe_store *st, const char *batch,
                      struct floe_claim_counts *out, char *err);

#endif
