/* checkpoint.h - the Kinesis Agent checkpoint database (SQLite):
 * FILE_CHECKPOINTS(flow, path, fileId, lastModifiedTime, size, offset,
 * lastUpdated, primary key (flow, path)), same table and columns, so an
 * existing agent's file can be read, plus an added column `fingerprint`
 * (older databases get it on open; their rows have none; the Kinesis
 * Agent's own positional insert does not fit the wider table). Rows are
 * written only after a whole buffer was acknowledged; several rows go in
 * one transaction. WAL mode: a crash can lose the newest rows (resend =
 * duplicates), never data. */
#ifndef FLOE_AGENT_CHECKPOINT_H
#define FLOE_AGENT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct floe_ckpt; /* opaque */

/* Bytes of a file identity: the JVM file key, optionally '#' and the
 * fingerprint (see struct floe_ckpt_row). */
#define FLOE_CKPT_ID_LEN 96

struct floe_ckpt_row {
    const char *path;     /* borrowed in put; owned by the db in get */
    /* "(dev=<hex>,ino=<n>)" like the JVM file key (column fileId), then
     * optionally '#' and a fingerprint of the file's content (column
     * fingerprint; the text is opaque here, see tail.h). */
    char file_id[FLOE_CKPT_ID_LEN];
    int64_t mtime_ms;
    int64_t size;
    int64_t offset;       /* just past the last acknowledged record */
};

/* Open or create the database at `path` (parent directories created). On
 * FLOE_OK *out is owned by the caller (floe_ckpt_close). */
int floe_ckpt_open(const char *path, struct floe_ckpt **out, char *err);
void floe_ckpt_close(struct floe_ckpt *ck); /* NULL ok */

/* The row of (flow, path). FLOE_ENOTFOUND if none. out->path points to
 * memory valid until the next call on `ck`. */
int floe_ckpt_get(struct floe_ckpt *ck, const char *flow, const char *path,
                  struct floe_ckpt_row *out);
/* Is the row's identity `file_id` (borrowed) the caller's file? */
typedef bool (*floe_ckpt_match_fn)(void *ctx, const char *file_id);
/* The newest row of `flow` whose fileId is the file key of `file_id` (a
 * renamed file) and that `match` accepts (NULL: any). FLOE_ENOTFOUND if
 * none; out->path as for floe_ckpt_get. */
int floe_ckpt_find_id(struct floe_ckpt *ck, const char *flow,
                      const char *file_id, floe_ckpt_match_fn match,
                      void *ctx, struct floe_ckpt_row *out);
/* Upsert `n` rows of `flow` in one transaction. FLOE_EIO on failure
 * (nothing written). */
int floe_ckpt_put(struct floe_ckpt *ck, const char *flow,
                  const struct floe_ckpt_row *rows, size_t n);
/* Delete the rows not updated for `days` days (checkpointTimeToLiveDays,
 * as the Kinesis Agent does: a file not seen that long is forgotten; a
 * file that comes back is read from its flow's initialPosition). The
 * count goes to *out_deleted (may be NULL). FLOE_EIO on failure. */
int floe_ckpt_expire(struct floe_ckpt *ck, int64_t days,
                     int64_t *out_deleted);

#endif
