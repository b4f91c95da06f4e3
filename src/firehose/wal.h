/* wal.h - write-ahead log of `floe firehose`: a record is acknowledged
 * only once it is on disk.
 * Segments <dir>/wal-<16 digits>.log hold CRC-checked entries (stream,
 * arrival time, record bytes). Appends are plain write(2)s; durability
 * comes from floe_fh_wal_sync(), a group commit (one fdatasync covers every
 * writer waiting). Each entry holds one reference on its segment until its
 * bytes are in the store; a sealed segment without references is deleted.
 * Delivered entries of a segment still in use are listed durably in a
 * sidecar <dir>/wal-<16 digits>.done (their offsets), so a crash replays
 * only what was not delivered yet.
 * Replay keeps every intact entry: past a damaged region it resumes at the
 * next entry whose magic, header CRC and payload CRC all check, and a
 * damaged segment is kept under <dir>/quarantine/ (never deleted by floe).
 * Failures: a write that fails is refused (the log is unhealthy until a
 * write succeeds, in a fresh segment); a failed fdatasync is fatal (see
 * floe_fh_wal_set_fatal). */
#ifndef FLOE_FIREHOSE_WAL_H
#define FLOE_FIREHOSE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"

struct floe_fh_wal;

/* Where an entry is: segment id and byte offset of its header. */
struct floe_fh_wal_pos {
    uint64_t seg;
    uint64_t off;
};

/* Open (creating) the log directory `dir` (borrowed). On FLOE_OK *out is
 * owned by the caller (floe_fh_wal_close). Nothing is written until
 * floe_fh_wal_replay() has run. The floe_firehose_wal_* counters and the
 * health gauge are registered in `metrics` (borrowed, must outlive the
 * log; NULL = not counted). */
int floe_fh_wal_open(const char *dir, int64_t segment_bytes,
                     struct floe_metrics *metrics, struct floe_fh_wal **out,
                     char *err);

/* Called once when an fdatasync (or the directory's fsync) of the log
 * failed: what the kernel kept of the unsynced pages is unknown, and a
 * retried fdatasync may report success over lost data, so the log refuses
 * every later append (FLOE_EIO) whatever the handler does. `msg` is
 * borrowed. The handler runs on the failing thread, possibly with the
 * log's lock held: it must not call back into the log. floe firehose
 * exits (crash-only; a restart replays what is on disk). */
typedef void (*floe_fh_wal_fatal_fn)(void *ud, const char *msg);
void floe_fh_wal_set_fatal(struct floe_fh_wal *wal, floe_fh_wal_fatal_fn fn,
                           void *ud);

/* Called for each intact, not yet delivered entry in log order.
 * `pos`/`stream`/`data` are borrowed. The entry's reference on its
 * segment moves to the callee (floe_fh_wal_done once delivered, or
 * floe_fh_wal_release at once if dropped). */
typedef void (*floe_fh_wal_replay_cb)(void *ud,
                                      const struct floe_fh_wal_pos *pos,
                                      const char *stream, int64_t arrival_ms,
                                      const void *data, size_t len);

/* What a replay found (also added to the floe_firehose_wal_* counters). */
struct floe_fh_wal_replay_stats {
    uint64_t entries;         /* handed to the callback */
    uint64_t delivered;       /* skipped: listed in a .done sidecar */
    uint64_t damaged_bytes;   /* skipped in damaged regions */
    uint64_t damaged_entries; /* lost there: at least this many (an entry
                                 counts by its start or a sound header) */
    uint64_t damaged_regions;
    uint64_t quarantined;     /* damaged segments kept in quarantine/ */
    uint64_t torn_bytes;      /* torn last entries (a crash cut the write
                                 short; never acknowledged), ignored */
};

/* Replay every existing segment, then start a new one for appends.
 * Entries listed in the segment's .done sidecar are skipped. A damaged
 * region (an entry failing its checks with intact data after it, or data
 * that is no entry at all) is skipped up to the next intact entry, logged
 * and counted; its segment is linked (else copied) into
 * <dir>/quarantine/wal-<id>[.<n>].log before the WAL may delete it. A
 * torn last entry (a header prefix, a sound header whose length runs past
 * the end, or a zero-filled tail) is ignored quietly (info line, counted
 * apart). *out (may be NULL) says what was found. FLOE_EIO, FLOE_ENOMEM. */
int floe_fh_wal_replay(struct floe_fh_wal *wal, floe_fh_wal_replay_cb cb,
                       void *ud, struct floe_fh_wal_replay_stats *out);

/* Append one entry (not yet durable). `data` is borrowed. On FLOE_OK the
 * caller holds one reference on out_pos->seg and must wait for *out_seq
 * with floe_fh_wal_sync() before acknowledging. FLOE_EIO: the write failed
 * (ENOSPC, EFBIG...; the partial entry is cut off again, the log is
 * unhealthy and the next append starts a fresh segment) or the log
 * failed for good (see floe_fh_wal_set_fatal). */
int floe_fh_wal_append(struct floe_fh_wal *wal, const char *stream,
                       int64_t arrival_ms, const void *data, size_t len,
                       struct floe_fh_wal_pos *out_pos, uint64_t *out_seq);

/* Return when every entry up to `seq` is durable (group commit). FLOE_EIO
 * when fdatasync failed: the entries must not be acknowledged (and the
 * fatal handler has run). */
int floe_fh_wal_sync(struct floe_fh_wal *wal, uint64_t seq);

/* False after a failed write until a write succeeds again, and for good
 * after a failed fdatasync (GET /ready answers 503 meanwhile). */
bool floe_fh_wal_healthy(struct floe_fh_wal *wal);

/* Drop `n` references on segment `seg` (its entries are delivered or
 * abandoned; a crash before the segment is deleted replays them). */
void floe_fh_wal_release(struct floe_fh_wal *wal, uint64_t seg, uint32_t n);

/* Entries pos[0..n) (borrowed) are in the store: list them in their
 * segments' .done sidecars (fdatasync'ed) when the segment stays, then
 * release their references. A sidecar write failure only costs
 * duplicates after a crash (logged). */
void floe_fh_wal_done(struct floe_fh_wal *wal,
                      const struct floe_fh_wal_pos *pos, size_t n);

/* Close; segments still referenced stay on disk for the next replay. */
void floe_fh_wal_close(struct floe_fh_wal *wal);

#endif
