/* wal.h - write-ahead log of `floe firehose`: a record is acknowledged
 * only once it is on disk.
 * Segments <dir>/wal-<16 digits>.log hold CRC-checked entries (stream,
 * arrival time, record bytes). Appends are plain write(2)s; durability
 * comes from floe_fh_wal_sync(), a group commit (one fdatasync covers every
 * writer waiting). Each entry holds one reference on its segment until its
 * bytes are in the store; a sealed segment without references is deleted. */
#ifndef FLOE_FIREHOSE_WAL_H
#define FLOE_FIREHOSE_WAL_H

#include <stddef.h>
#include <stdint.h>

struct floe_fh_wal;

/* Open (creating) the log directory `dir` (borrowed). On FLOE_OK *out is
 * owned by the caller (floe_fh_wal_close). Nothing is written until
 * floe_fh_wal_replay() has run. */
int floe_fh_wal_open(const char *dir, int64_t segment_bytes,
                     struct floe_fh_wal **out, char *err);

/* Called for each intact entry in log order. `stream`/`data` are borrowed.
 * The entry's reference on segment `seg` moves to the callee (release it
 * with floe_fh_wal_release once delivered, or at once if dropped). */
typedef void (*floe_fh_wal_replay_cb)(void *ud, uint64_t seg,
                                      const char *stream, int64_t arrival_ms,
                                      const void *data, size_t len);

/* Replay every existing segment, then start a new one for appends. A torn
 * or corrupt tail is logged and skipped. *out_entries counts entries. */
int floe_fh_wal_replay(struct floe_fh_wal *wal, floe_fh_wal_replay_cb cb,
                       void *ud, uint64_t *out_entries);

/* Append one entry (not yet durable). `data` is borrowed. On FLOE_OK the
 * caller holds one reference on *out_seg and must wait for *out_seq with
 * floe_fh_wal_sync() before acknowledging. FLOE_EIO. */
int floe_fh_wal_append(struct floe_fh_wal *wal, const char *stream,
                       int64_t arrival_ms, const void *data, size_t len,
                       uint64_t *out_seg, uint64_t *out_seq);

/* Return when every entry up to `seq` is durable (group commit). FLOE_EIO
 * when fdatasync failed: the entries must not be acknowledged. */
int floe_fh_wal_sync(struct floe_fh_wal *wal, uint64_t seq);

/* Drop `n` references on segment `seg` (its entries are delivered). */
void floe_fh_wal_release(struct floe_fh_wal *wal, uint64_t seg, uint32_t n);

/* Close; segments still referenced stay on disk for the next replay. */
void floe_fh_wal_close(struct floe_fh_wal *wal);

#endif
