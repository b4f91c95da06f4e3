/* test_agent_checkpoint.c - the Kinesis Agent checkpoint table: write,
 * read back, update, find by file id, reopen; the added fingerprint
 * column and the migration of a table without it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "agent/checkpoint.h"
#include "core/util.h"
#include "test.h"

static void test_put_get_update_reopen(void)
{
    char dir[256], path[512], err[FLOE_ERR_LEN];
    struct floe_ckpt *ck = NULL;
    struct floe_ckpt_row r[2], got;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(path, sizeof(path), "%s/sub/dir/ck.db", dir);
    CHECK(floe_ckpt_open(path, &ck, err) == FLOE_OK);
    CHECK(floe_ckpt_get(ck, "fh:orders:/l/o.log", "/l/o.log", &got) ==
          FLOE_ENOTFOUND);
    memset(r, 0, sizeof(r));
    r[0].path = "/l/o.log";
    snprintf(r[0].file_id, sizeof(r[0].file_id), "(dev=803,ino=12)");
    r[0].mtime_ms = 1000;
    r[0].size = 500;
    r[0].offset = 400;
    r[1] = r[0];
    r[1].path = "/l/o.log.1";
    snprintf(r[1].file_id, sizeof(r[1].file_id), "(dev=803,ino=11)");
    r[1].offset = 77;
    CHECK(floe_ckpt_put(ck, "fh:orders:/l/o.log", r, 2) == FLOE_OK);
    CHECK(floe_ckpt_get(ck, "fh:orders:/l/o.log", "/l/o.log", &got) ==
          FLOE_OK);
    CHECK(got.offset == 400 && got.size == 500 && got.mtime_ms == 1000);
    CHECK(strcmp(got.file_id, "(dev=803,ino=12)") == 0);
    CHECK(floe_ckpt_get(ck, "fh:other", "/l/o.log", &got) == FLOE_ENOTFOUND);
    r[0].offset = 500;
    CHECK(floe_ckpt_put(ck, "fh:orders:/l/o.log", r, 1) == FLOE_OK);
    CHECK(floe_ckpt_find_id(ck, "fh:orders:/l/o.log", "(dev=803,ino=11)",
                            NULL, NULL, &got) == FLOE_OK);
    CHECK(strcmp(got.path, "/l/o.log.1") == 0 && got.offset == 77);
    floe_ckpt_close(ck);
    ck = NULL;

    CHECK(floe_ckpt_open(path, &ck, err) == FLOE_OK);
    CHECK(floe_ckpt_get(ck, "fh:orders:/l/o.log", "/l/o.log", &got) ==
          FLOE_OK);
    CHECK(got.offset == 500);
    floe_ckpt_close(ck);

    /* Same table and columns as the Kinesis Agent. */
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;

        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        CHECK(sqlite3_prepare_v2(db,
                                 "select flow, path, fileId, "
                                 "lastModifiedTime, size, offset, "
                                 "lastUpdated from FILE_CHECKPOINTS "
                                 "order by path",
                                 -1, &st, NULL) == SQLITE_OK);
        CHECK(sqlite3_step(st) == SQLITE_ROW);
        CHECK(sqlite3_column_int64(st, 5) == 500);
        CHECK(sqlite3_column_text(st, 6) != NULL);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    floe_rmtree(dir);
}

/* The text of column `col` of the row of `path` (NULL if null), copied
 * into out[n]. */
static const char *column(const char *db_path, const char *col,
                          const char *path, char *out, size_t n)
{
    char sql[200];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *r = NULL;

    snprintf(sql, sizeof(sql),
             "select %s from FILE_CHECKPOINTS where path = ?1", col);
    CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
        r = out;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return r;
}

static bool accept_none(void *ctx, const char *file_id)
{
    (void)ctx;
    (void)file_id;
    return false;
}

/* A table the Kinesis Agent (or an older floe) made gets the fingerprint
 * column; its rows have none. The identity's '#' part goes to that
 * column, the file key stays alone in fileId. */
static void test_fingerprint_column_and_migration(void)
{
    char dir[256], path[512], err[FLOE_ERR_LEN], text[128];
    const char *flow = "fh:app:/l/a.log";
    struct floe_ckpt *ck = NULL;
    struct floe_ckpt_row r, got;
    sqlite3 *db = NULL;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(path, sizeof(path), "%s/ck.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "create table FILE_CHECKPOINTS(flow text, path text, "
                       "fileId text, lastModifiedTime bigint, size bigint, "
                       "offset bigint, lastUpdated datetime, "
                       "primary key (flow, path));"
                       "insert into FILE_CHECKPOINTS values ('fh:app:/l/a.log',"
                       " '/l/a.log', '(dev=803,ino=5)', 1, 90, 80, "
                       "strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    CHECK(floe_ckpt_open(path, &ck, err) == FLOE_OK);
    CHECK(floe_ckpt_get(ck, flow, "/l/a.log", &got) == FLOE_OK);
    CHECK(strcmp(got.file_id, "(dev=803,ino=5)") == 0 && got.offset == 80);
    memset(&r, 0, sizeof(r));
    r.path = "/l/b.log";
    snprintf(r.file_id, sizeof(r.file_id), "(dev=803,ino=6)#11:%016x", 171);
    r.offset = 11;
    CHECK(floe_ckpt_put(ck, flow, &r, 1) == FLOE_OK);
    CHECK(floe_ckpt_get(ck, flow, "/l/b.log", &got) == FLOE_OK);
    CHECK(strcmp(got.file_id, r.file_id) == 0 && got.offset == 11);
    /* Found by its file key whatever the fingerprint asked with; `match`
     * decides. */
    CHECK(floe_ckpt_find_id(ck, flow, "(dev=803,ino=6)#3:0000000000000000",
                            NULL, NULL, &got) == FLOE_OK);
    CHECK(strcmp(got.path, "/l/b.log") == 0);
    CHECK(floe_ckpt_find_id(ck, flow, "(dev=803,ino=6)", accept_none, NULL,
                            &got) == FLOE_ENOTFOUND);
    floe_ckpt_close(ck);

    CHECK(column(path, "fileId", "/l/b.log", text, sizeof(text)) != NULL &&
          strcmp(text, "(dev=803,ino=6)") == 0);
    CHECK(column(path, "fingerprint", "/l/b.log", text, sizeof(text)) !=
              NULL && strcmp(text, "11:00000000000000ab") == 0);
    CHECK(column(path, "fingerprint", "/l/a.log", text, sizeof(text)) ==
          NULL);
    /* Opened again: nothing to migrate; a row put without fingerprint
     * has none. */
    CHECK(floe_ckpt_open(path, &ck, err) == FLOE_OK);
    snprintf(r.file_id, sizeof(r.file_id), "(dev=803,ino=6)");
    CHECK(floe_ckpt_put(ck, flow, &r, 1) == FLOE_OK);
    floe_ckpt_close(ck);
    CHECK(column(path, "fingerprint", "/l/b.log", text, sizeof(text)) ==
          NULL);
    floe_rmtree(dir);
}

static void test_open_error(void)
{
    struct floe_ckpt *ck = NULL;
    char err[FLOE_ERR_LEN];

    CHECK(floe_ckpt_open("/proc/no/such/dir/ck.db", &ck, err) != FLOE_OK);
    CHECK(ck == NULL);
}

/* checkpointTimeToLiveDays: rows not updated for that many days go (the
 * Kinesis Agent's datetime text and floe's own both), fresh ones stay. */
static void test_expire_old_rows(void)
{
    char dir[256], path[512], err[FLOE_ERR_LEN];
    struct floe_ckpt *ck = NULL;
    struct floe_ckpt_row r[3], got;
    sqlite3 *db = NULL;
    int64_t n = -1;
    int i;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(path, sizeof(path), "%s/ck.db", dir);
    CHECK(floe_ckpt_open(path, &ck, err) == FLOE_OK);
    memset(r, 0, sizeof(r));
    for (i = 0; i < 3; i++) {
        static const char *const paths[] = { "/l/old", "/l/older", "/l/new" };

        r[i].path = paths[i];
        snprintf(r[i].file_id, sizeof(r[i].file_id), "(dev=1,ino=%d)", i);
        r[i].offset = 10 + i;
    }
    CHECK(floe_ckpt_put(ck, "f", r, 3) == FLOE_OK);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "update FILE_CHECKPOINTS set lastUpdated = "
                       "strftime('%Y-%m-%d %H:%M:%f', 'now', '-8 days') "
                       "where path = '/l/old'; update FILE_CHECKPOINTS set "
                       "lastUpdated = datetime('now', '-20 days') where "
                       "path = '/l/older'", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(floe_ckpt_expire(ck, 30, &n) == FLOE_OK && n == 0);
    CHECK(floe_ckpt_expire(ck, 7, &n) == FLOE_OK && n == 2);
    CHECK(floe_ckpt_get(ck, "f", "/l/old", &got) == FLOE_ENOTFOUND);
    CHECK(floe_ckpt_get(ck, "f", "/l/older", &got) == FLOE_ENOTFOUND);
    CHECK(floe_ckpt_get(ck, "f", "/l/new", &got) == FLOE_OK &&
          got.offset == 12);
    CHECK(floe_ckpt_expire(ck, 1, &n) == FLOE_OK && n == 0);
    floe_ckpt_close(ck);
}

FLOE_TESTS({ "put_get_update_reopen", test_put_get_update_reopen },
           { "expire_old_rows", test_expire_old_rows },
           { "fingerprint_column_and_migration",
             test_fingerprint_column_and_migration },
           { "open_error", test_open_error });
