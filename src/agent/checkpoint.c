/* checkpoint.c - Kinesis-Agent-compatible SQLite checkpoints
 * (checkpoint.h). Prepared statements are kept for the life of the handle;
 * puts are one BEGIN IMMEDIATE .. COMMIT each. A row's file identity is
 * split at '#': the file key goes to fileId, the rest to fingerprint. */
#define FLOE_LOG_MOD "agent.checkpoint"
#include "agent/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/util.h"

struct floe_ckpt {
    sqlite3 *db;
    sqlite3_stmt *get, *find, *put;
    char path_out[4096];
};

static const char schema[] =
    "create table if not exists FILE_CHECKPOINTS(flow text, path text, "
    "fileId text, lastModifiedTime bigint, size bigint, offset bigint, "
    "lastUpdated datetime, fingerprint text, primary key (flow, path));";

#define COLUMNS "path, fileId, lastModifiedTime, size, offset, fingerprint"

/* Add the fingerprint column to a table made by the Kinesis Agent or an
 * older floe (its rows get NULL: no fingerprint). */
static int migrate(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int has = 0;

    if (sqlite3_prepare_v2(db,
                           "select count(*) from pragma_table_info("
                           "'FILE_CHECKPOINTS') where name = 'fingerprint'",
                           -1, &st, NULL) != SQLITE_OK)
        return FLOE_EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        has = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (has)
        return FLOE_OK;
    if (sqlite3_exec(db, "alter table FILE_CHECKPOINTS add column "
                     "fingerprint text", NULL, NULL, NULL) != SQLITE_OK)
        return FLOE_EIO;
    floe_log_info("checkpoint database: added column FILE_CHECKPOINTS."
                  "fingerprint (existing rows have none)");
    return FLOE_OK;
}

void floe_ckpt_close(struct floe_ckpt *ck)
{
    if (ck == NULL)
        return;
    sqlite3_finalize(ck->get);
    sqlite3_finalize(ck->find);
    sqlite3_finalize(ck->put);
    sqlite3_close(ck->db);
    free(ck);
}

int floe_ckpt_open(const char *path, struct floe_ckpt **out, char *err)
{
    struct floe_ckpt *ck = NULL;
    char dir[4096];
    const char *slash;
    int rc = FLOE_OK;

    *out = NULL;
    slash = strrchr(path, '/');
    if (slash != NULL && slash != path) {
        size_t n = (size_t)(slash - path);

        if (n >= sizeof(dir))
            return floe_err(err, FLOE_EINVAL, "checkpoint path too long");
        memcpy(dir, path, n);
        dir[n] = '\0';
        if (floe_mkdirs(dir) != FLOE_OK)
            return floe_err(err, FLOE_EIO, "cannot create directory %s",
                            dir);
    }
    ck = calloc(1, sizeof(*ck));
    if (ck == NULL)
        return FLOE_ENOMEM;
    if (sqlite3_open_v2(path, &ck->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = floe_err(err, FLOE_EIO, "checkpoint database %s: %s", path,
                      ck->db ? sqlite3_errmsg(ck->db) : "out of memory");
        goto cleanup;
    }
    sqlite3_busy_timeout(ck->db, 5000);
    if (sqlite3_exec(ck->db,
                     "pragma journal_mode=wal; pragma synchronous=normal;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(ck->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        migrate(ck->db) != FLOE_OK ||
        sqlite3_prepare_v2(ck->db,
                           "select " COLUMNS " from FILE_CHECKPOINTS "
                           "where flow = ?1 and path = ?2",
                           -1, &ck->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ck->db,
                           "select " COLUMNS " from FILE_CHECKPOINTS "
                           "where flow = ?1 and fileId = ?2 "
                           "order by lastUpdated desc",
                           -1, &ck->find, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ck->db,
                           "insert into FILE_CHECKPOINTS(flow, path, fileId, "
                           "lastModifiedTime, size, offset, lastUpdated, "
                           "fingerprint) values (?1, ?2, ?3, ?4, ?5, ?6, "
                           "strftime('%Y-%m-%d %H:%M:%f','now'), ?7) "
                           "on conflict(flow, path) do update set "
                           "fileId = excluded.fileId, lastModifiedTime = "
                           "excluded.lastModifiedTime, size = excluded.size, "
                           "offset = excluded.offset, lastUpdated = "
                           "excluded.lastUpdated, fingerprint = "
                           "excluded.fingerprint",
                           -1, &ck->put, NULL) != SQLITE_OK) {
        rc = floe_err(err, FLOE_EIO, "checkpoint database %s: %s", path,
                      sqlite3_errmsg(ck->db));
        goto cleanup;
    }
    *out = ck;
    ck = NULL;
cleanup:
    floe_ckpt_close(ck);
    return rc;
}

/* The current row of `st` into *out (identity rejoined with '#'). */
static void fill_row(struct floe_ckpt *ck, sqlite3_stmt *st,
                     struct floe_ckpt_row *out)
{
    const unsigned char *p = sqlite3_column_text(st, 0);
    const unsigned char *id = sqlite3_column_text(st, 1);
    const unsigned char *fp = sqlite3_column_text(st, 5);

    snprintf(ck->path_out, sizeof(ck->path_out), "%s",
             p ? (const char *)p : "");
    snprintf(out->file_id, sizeof(out->file_id), "%s%s%s",
             id ? (const char *)id : "", fp && fp[0] ? "#" : "",
             fp ? (const char *)fp : "");
    out->path = ck->path_out;
    out->mtime_ms = sqlite3_column_int64(st, 2);
    out->size = sqlite3_column_int64(st, 3);
    out->offset = sqlite3_column_int64(st, 4);
}

/* Step `st` to the first row `match` accepts (NULL: the first row). */
static int read_row(struct floe_ckpt *ck, sqlite3_stmt *st,
                    floe_ckpt_match_fn match, void *ctx,
                    struct floe_ckpt_row *out)
{
    int s, rc = FLOE_ENOTFOUND;

    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        fill_row(ck, st, out);
        if (match == NULL || match(ctx, out->file_id)) {
            rc = FLOE_OK;
            break;
        }
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        floe_log_error("checkpoint read: %s", sqlite3_errmsg(ck->db));
        rc = FLOE_EIO;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Length of the file key at the start of an identity (up to '#'). */
static int key_len(const char *file_id)
{
    return (int)strcspn(file_id, "#");
}

int floe_ckpt_get(struct floe_ckpt *ck, const char *flow, const char *path,
                  struct floe_ckpt_row *out)
{
    sqlite3_bind_text(ck->get, 1, flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(ck->get, 2, path, -1, SQLITE_STATIC);
    return read_row(ck, ck->get, NULL, NULL, out);
}

int floe_ckpt_find_id(struct floe_ckpt *ck, const char *flow,
                      const char *file_id, floe_ckpt_match_fn match,
                      void *ctx, struct floe_ckpt_row *out)
{
    sqlite3_bind_text(ck->find, 1, flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(ck->find, 2, file_id, key_len(file_id),
                      SQLITE_STATIC);
    return read_row(ck, ck->find, match, ctx, out);
}

int floe_ckpt_put(struct floe_ckpt *ck, const char *flow,
                  const struct floe_ckpt_row *rows, size_t n)
{
    size_t i;
    int rc = FLOE_OK;

    if (sqlite3_exec(ck->db, "begin immediate", NULL, NULL, NULL) !=
        SQLITE_OK) {
        floe_log_error("checkpoint begin: %s", sqlite3_errmsg(ck->db));
        return FLOE_EIO;
    }
    for (i = 0; i < n && rc == FLOE_OK; i++) {
        const char *id = rows[i].file_id;
        int k = key_len(id);

        sqlite3_bind_text(ck->put, 1, flow, -1, SQLITE_STATIC);
        sqlite3_bind_text(ck->put, 2, rows[i].path, -1, SQLITE_STATIC);
        sqlite3_bind_text(ck->put, 3, id, k, SQLITE_STATIC);
        if (id[k] == '#')
            sqlite3_bind_text(ck->put, 7, id + k + 1, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ck->put, 7);
        sqlite3_bind_int64(ck->put, 4, rows[i].mtime_ms);
        sqlite3_bind_int64(ck->put, 5, rows[i].size);
        sqlite3_bind_int64(ck->put, 6, rows[i].offset);
        if (sqlite3_step(ck->put) != SQLITE_DONE) {
            floe_log_error("checkpoint write: %s", sqlite3_errmsg(ck->db));
            rc = FLOE_EIO;
        }
        sqlite3_reset(ck->put);
        sqlite3_clear_bindings(ck->put);
    }
    if (sqlite3_exec(ck->db, rc == FLOE_OK ? "commit" : "rollback", NULL,
                     NULL, NULL) != SQLITE_OK) {
        floe_log_error("checkpoint commit: %s", sqlite3_errmsg(ck->db));
        sqlite3_exec(ck->db, "rollback", NULL, NULL, NULL);
        rc = FLOE_EIO;
    }
    return rc;
}

int floe_ckpt_expire(struct floe_ckpt *ck, int64_t days,
                     int64_t *out_deleted)
{
    sqlite3_stmt *st = NULL;
    int rc = FLOE_OK;

    if (out_deleted != NULL)
        *out_deleted = 0;
    /* lastUpdated is written as UTC text by floe_ckpt_put (and by the
     * Kinesis Agent as a datetime): compared as julian days. */
    if (sqlite3_prepare_v2(ck->db,
                           "delete from FILE_CHECKPOINTS where "
                           "julianday(lastUpdated) < julianday('now') - ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        floe_log_error("checkpoint database: %s", sqlite3_errmsg(ck->db));
        return FLOE_EIO;
    }
    sqlite3_bind_int64(st, 1, days);
    if (sqlite3_step(st) != SQLITE_DONE) {
        floe_log_error("checkpoint database: expiring rows: %s",
                       sqlite3_errmsg(ck->db));
        rc = FLOE_EIO;
    } else if (out_deleted != NULL) {
        *out_deleted = sqlite3_changes(ck->db);
    }
    sqlite3_finalize(st);
    return rc;
}
