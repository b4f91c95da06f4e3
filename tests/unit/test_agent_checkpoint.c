/* test_agent_checkpoint.c - the Kinesis Agent checkpoint table: write,
 * read back, update, find by file id, reopen. */
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
                            &got) == FLOE_OK);
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

static void test_open_error(void)
{
    struct floe_ckpt *ck = NULL;
    char err[FLOE_ERR_LEN];

    CHECK(floe_ckpt_open("/proc/no/such/dir/ck.db", &ck, err) != FLOE_OK);
    CHECK(ck == NULL);
}

FLOE_TESTS({ "put_get_update_reopen", test_put_get_update_reopen },
           { "open_error", test_open_error });
