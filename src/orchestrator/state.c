/* state.c - the orchestrator state database on SQLite.
 * WAL mode with synchronous=NORMAL: a committed row survives a process
 * crash, readers (floe task list) never block the runner. Every statement
 * is prepared with bound parameters; one small varargs binder keeps the
 * call sites short. The schema is created on open (user_version 1). */
#define FLOE_LOG_MOD "orch.state"
#include "orchestrator/state.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

struct floe_state {
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS batches("
    " batch_id TEXT PRIMARY KEY,"
    " created_at TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK(state IN ('claimed','loaded','transformed',"
    "  'unloaded','done','failed')),"
    " objects INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " updated_at TEXT NOT NULL,"
    " error TEXT);"
    "CREATE TABLE IF NOT EXISTS task_runs("
    " id INTEGER PRIMARY KEY,"
    " batch_id TEXT NOT NULL,"
    " task TEXT NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK(state IN ('running','success','failed')),"
    " started_at TEXT NOT NULL,"
    " ended_at TEXT,"
    " duration_ms INTEGER,"
    " counts TEXT,"
    " error TEXT,"
    " UNIQUE(batch_id, task, attempt));"
    "CREATE INDEX IF NOT EXISTS task_runs_batch ON task_runs(batch_id, task);"
    "PRAGMA user_version = 1;";

static void now_iso(char out[32])
{
    floe_time_iso(floe_now_ms(), out);
}

static int db_err(struct floe_state *s, char *err, const char *what)
{
    return floe_err(err, FLOE_EIO, "state database: %s: %s", what,
                    sqlite3_errmsg(s->db));
}

/* Prepare `sql` and bind arguments described by `types`: 's' const char *
 * (NULL binds NULL), 'i' int64_t. */
static int prepare(struct floe_state *s, sqlite3_stmt **out, char *err,
                   const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int i, rc = FLOE_OK;

    *out = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "prepare");
    va_start(ap, types);
    for (i = 0; types[i] != '\0' && rc == FLOE_OK; i++) {
        int src;

        if (types[i] == 's') {
            const char *v = va_arg(ap, const char *);
            src = v ? sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT)
                    : sqlite3_bind_null(st, i + 1);
        } else {
            src = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
        if (src != SQLITE_OK)
            rc = db_err(s, err, "bind");
    }
    va_end(ap);
    if (rc != FLOE_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    *out = st;
    return FLOE_OK;
}

/* Step a statement that returns no rows, then finalize it. */
static int step_done(struct floe_state *s, sqlite3_stmt *st, char *err,
                     const char *what)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? FLOE_OK
                                             : db_err(s, err, what);

    sqlite3_finalize(st);
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t ? (const char *)t : "";
}

int floe_state_open(const char *state_dir, struct floe_state **out,
                    char *err)
{
    struct floe_state *s = NULL;
    char path[PATH_MAX];
    char *msg = NULL;
    int rc, tries;

    *out = NULL;
    if (floe_mkdirs(state_dir) != FLOE_OK)
        return floe_err(err, FLOE_EIO,
                        "cannot create state directory '%s' (check the "
                        "path and its permissions)", state_dir);
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir,
                         FLOE_STATE_DB) >= sizeof(path))
        return floe_err(err, FLOE_ETOOBIG, "state directory path too long");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = floe_err(err, FLOE_EIO, "cannot open state database %s: %s",
                      path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto cleanup;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* Processes opening a new database at once (two `floe run`, Airflow
     * tasks) meet in the switch to WAL and the schema, where SQLite may
     * answer "locked" at once rather than wait (deadlock avoidance): the
     * set-up is tried again for up to 10 s. */
    for (tries = 0;; tries++) {
        int src = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; "
                               "PRAGMA synchronous=NORMAL;", NULL, NULL, &msg);

        if (src == SQLITE_OK) {
            src = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
            if (src == SQLITE_OK) {
                src = sqlite3_exec(s->db, schema, NULL, NULL, &msg);
                if (src == SQLITE_OK)
                    src = sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg);
                if (src != SQLITE_OK)
                    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            }
        }
        if (src == SQLITE_OK)
            break;
        if ((src & 0xff) != SQLITE_BUSY && (src & 0xff) != SQLITE_LOCKED) {
            rc = floe_err(err, FLOE_EIO, "state database %s: %s", path,
                          msg ? msg : sqlite3_errmsg(s->db));
            goto cleanup;
        }
        if (tries >= 200) {
            rc = floe_err(err, FLOE_EAGAIN, "state database %s: %s (for "
                          "10 s; another process holds it)", path,
                          msg ? msg : sqlite3_errmsg(s->db));
            goto cleanup;
        }
        sqlite3_free(msg);
        msg = NULL;
        nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
    }
    *out = s;
    s = NULL;
    rc = FLOE_OK;
cleanup:
    sqlite3_free(msg);
    floe_state_close(s);
    return rc;
}

void floe_state_close(struct floe_state *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db); /* NULL is a no-op for SQLite too */
    free(s);
}

int floe_state_batch_add(struct floe_state *s, const char *batch,
                         int64_t objects, int64_t bytes, char *err)
{
    sqlite3_stmt *st;
    char now[32];
    int rc;

    now_iso(now);
    rc = prepare(s, &st, err,
                 "INSERT OR IGNORE INTO batches(batch_id, created_at, state,"
                 " objects, bytes, updated_at) VALUES(?, ?, 'claimed', ?, ?,"
                 " ?)",
                 "ssiis", batch, now, objects, bytes, now);
    return rc == FLOE_OK ? step_done(s, st, err, "add batch") : rc;
}

int floe_state_batch_set_size(struct floe_state *s, const char *batch,
                              int64_t objects, int64_t bytes, char *err)
{
    sqlite3_stmt *st;
    char now[32];
    int rc;

    now_iso(now);
    rc = prepare(s, &st, err,
                 "UPDATE batches SET objects = ?, bytes = ?, updated_at = ?"
                 " WHERE batch_id = ?",
                 "iiss", objects, bytes, now, batch);
    return rc == FLOE_OK ? step_done(s, st, err, "update batch") : rc;
}

int floe_state_batch_set_state(struct floe_state *s, const char *batch,
                               const char *state, const char *error,
                               char *err)
{
    sqlite3_stmt *st;
    char now[32];
    int rc;

    now_iso(now);
    rc = prepare(s, &st, err,
                 "UPDATE batches SET state = ?, error = ?, updated_at = ?"
                 " WHERE batch_id = ?",
                 "ssss", state, error && error[0] ? error : NULL, now, batch);
    if (rc != FLOE_OK)
        return rc;
    rc = step_done(s, st, err, "set batch state");
    if (rc == FLOE_OK && sqlite3_changes(s->db) == 0)
        rc = floe_err(err, FLOE_ENOTFOUND, "no batch '%s'", batch);
    return rc;
}

static void fill_batch(sqlite3_stmt *st, struct floe_state_batch *b)
{
    snprintf(b->batch_id, sizeof(b->batch_id), "%s", col_text(st, 0));
    snprintf(b->created_at, sizeof(b->created_at), "%s", col_text(st, 1));
    snprintf(b->state, sizeof(b->state), "%s", col_text(st, 2));
    b->objects = sqlite3_column_int64(st, 3);
    b->bytes = sqlite3_column_int64(st, 4);
    snprintf(b->updated_at, sizeof(b->updated_at), "%s", col_text(st, 5));
    snprintf(b->error, sizeof(b->error), "%s", col_text(st, 6));
}

#define BATCH_COLS \
    "batch_id, created_at, state, objects, bytes, updated_at, error"

int floe_state_batch_get(struct floe_state *s, const char *batch,
                         struct floe_state_batch *out, char *err)
{
    sqlite3_stmt *st;
    int rc, step;

    memset(out, 0, sizeof(*out));
    rc = prepare(s, &st, err,
                 "SELECT " BATCH_COLS " FROM batches WHERE batch_id = ?",
                 "s", batch);
    if (rc != FLOE_OK)
        return rc;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        fill_batch(st, out);
    else if (step == SQLITE_DONE)
        rc = floe_err(err, FLOE_ENOTFOUND,
                      "no batch '%s' in the state database (see 'floe "
                      "task list')", batch);
    else
        rc = db_err(s, err, "get batch");
    sqlite3_finalize(st);
    return rc;
}

int floe_state_batch_last(struct floe_state *s,
                          char out[FLOE_BATCH_ID_MAX + 1], char *err)
{
    sqlite3_stmt *st;
    int rc, step;

    out[0] = '\0';
    rc = prepare(s, &st, err, "SELECT max(batch_id) FROM batches", "");
    if (rc != FLOE_OK)
        return rc;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(out, FLOE_BATCH_ID_MAX + 1, "%s", col_text(st, 0));
    else
        rc = db_err(s, err, "last batch");
    sqlite3_finalize(st);
    return rc;
}

/* Per batch: its attempts, their span, and the counts of the last
 * successful load, transform and unload (a forced re-run replaces, never
 * adds to, what a task reported). */
#define HISTORY_SQL                                                         \
    "SELECT b.batch_id, b.created_at, b.state, b.objects, b.bytes,"         \
    " b.updated_at, b.error,"                                               \
    " (SELECT count(*) FROM task_runs t WHERE t.batch_id = b.batch_id),"    \
    " (SELECT count(*) FROM task_runs t WHERE t.batch_id = b.batch_id"      \
    "   AND t.state = 'failed'),"                                           \
    " (SELECT min(started_at) FROM task_runs t"                             \
    "   WHERE t.batch_id = b.batch_id),"                                    \
    " (SELECT max(ended_at) FROM task_runs t WHERE t.batch_id = b.batch_id),"\
    " (SELECT CAST(round((julianday(max(ended_at)) -"                       \
    "   julianday(min(started_at))) * 86400000) AS INTEGER)"                \
    "   FROM task_runs t WHERE t.batch_id = b.batch_id),"                   \
    " (SELECT json_group_object(k, v) FROM (SELECT j.key AS k,"             \
    "   sum(j.value) AS v FROM task_runs t, json_each(t.counts) j"          \
    "   WHERE t.batch_id = b.batch_id AND t.state = 'success'"              \
    "   AND t.task IN ('load', 'transform', 'unload')"                      \
    "   AND t.id = (SELECT max(id) FROM task_runs u"                        \
    "     WHERE u.batch_id = t.batch_id AND u.task = t.task"                \
    "     AND u.state = 'success')"                                         \
    "   GROUP BY j.key HAVING sum(j.value) != 0 ORDER BY j.key))"           \
    " FROM batches b WHERE ?1 IS NULL OR b.batch_id = ?1"                   \
    " ORDER BY b.batch_id"

int floe_state_history(struct floe_state *s, const char *batch,
                       floe_state_history_cb cb, void *ud, char *err)
{
    sqlite3_stmt *st;
    int rc, step, n = 0;

    rc = prepare(s, &st, err, HISTORY_SQL, "s", batch);
    if (rc != FLOE_OK)
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct floe_state_batch b;
        struct floe_state_history h;

        fill_batch(st, &b);
        h.batch = &b;
        h.attempts = sqlite3_column_int(st, 7);
        h.failures = sqlite3_column_int(st, 8);
        h.started_at = col_text(st, 9);
        h.ended_at = col_text(st, 10);
        h.duration_ms = sqlite3_column_int64(st, 11);
        h.records = col_text(st, 12);
        if (h.records[0] == '\0')
            h.records = "{}";
        n++;
        rc = cb(&h, ud);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_err(s, err, "list batch history");
    else if (rc == 0 && n == 0 && batch != NULL)
        rc = floe_err(err, FLOE_ENOTFOUND,
                      "no batch '%s' in the state database (see 'floe "
                      "runs')", batch);
    sqlite3_finalize(st);
    return rc;
}

int floe_state_batch_list(struct floe_state *s, int which,
                          floe_state_batch_cb cb, void *ud, char *err)
{
    static const char *const where[] = {
        "",
        " WHERE state NOT IN ('done', 'failed')",
        " WHERE state = 'failed'",
        " WHERE NOT EXISTS (SELECT 1 FROM task_runs t WHERE"
        " t.batch_id = batches.batch_id AND t.task = 'claim' AND"
        " t.state = 'success')",
    };
    char sql[512];
    sqlite3_stmt *st;
    int rc, step;

    if (which < 0 || which > FLOE_STATE_UNCLAIMED)
        return floe_err(err, FLOE_EINVAL, "bad batch filter %d", which);
    snprintf(sql, sizeof(sql),
             "SELECT " BATCH_COLS " FROM batches%s ORDER BY batch_id",
             where[which]);
    rc = prepare(s, &st, err, sql, "");
    if (rc != FLOE_OK)
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct floe_state_batch b;

        fill_batch(st, &b);
        rc = cb(&b, ud);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_err(s, err, "list batches");
    sqlite3_finalize(st);
    return rc;
}

int floe_state_task_begin(struct floe_state *s, const char *batch,
                          const char *task, int64_t *out_run,
                          int *out_attempt, char *err)
{
    sqlite3_stmt *st = NULL;
    char now[32];
    int64_t attempt = 1;
    int rc;

    *out_run = 0;
    *out_attempt = 0;
    now_iso(now);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_err(s, err, "begin");
    /* Only one runner holds the orchestrator lock, so a "running" row of
     * this task is a leftover of a process that died mid-task. */
    rc = prepare(s, &st, err,
                 "UPDATE task_runs SET state = 'failed', ended_at = ?,"
                 " error = 'interrupted: the process ended before the task"
                 " finished' WHERE batch_id = ? AND task = ? AND"
                 " state = 'running'",
                 "sss", now, batch, task);
    if (rc == FLOE_OK)
        rc = step_done(s, st, err, "close stale attempts");
    if (rc == FLOE_OK)
        rc = prepare(s, &st, err,
                     "SELECT coalesce(max(attempt), 0) + 1 FROM task_runs"
                     " WHERE batch_id = ? AND task = ?",
                     "ss", batch, task);
    if (rc == FLOE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            attempt = sqlite3_column_int64(st, 0);
        else
            rc = db_err(s, err, "count attempts");
        sqlite3_finalize(st);
    }
    if (rc == FLOE_OK)
        rc = prepare(s, &st, err,
                     "INSERT INTO task_runs(batch_id, task, attempt, state,"
                     " started_at) VALUES(?, ?, ?, 'running', ?)",
                     "ssis", batch, task, attempt, now);
    if (rc == FLOE_OK)
        rc = step_done(s, st, err, "insert attempt");
    if (rc == FLOE_OK &&
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_err(s, err, "commit");
    if (rc != FLOE_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    *out_run = sqlite3_last_insert_rowid(s->db);
    *out_attempt = (int)attempt;
    return FLOE_OK;
}

int floe_state_task_end(struct floe_state *s, int64_t run, bool ok,
                        int64_t duration_ms, const char *counts,
                        const char *error, char *err)
{
    sqlite3_stmt *st;
    char now[32];
    int rc;

    now_iso(now);
    rc = prepare(s, &st, err,
                 "UPDATE task_runs SET state = ?, ended_at = ?,"
                 " duration_ms = ?, counts = ?, error = ? WHERE id = ?",
                 "ssissi", ok ? "success" : "failed", now, duration_ms,
                 counts, ok ? NULL : (error ? error : "failed"), run);
    return rc == FLOE_OK ? step_done(s, st, err, "end attempt") : rc;
}

int floe_state_task_succeeded(struct floe_state *s, const char *batch,
                              const char *task, bool *out, char *err)
{
    sqlite3_stmt *st;
    int rc;

    *out = false;
    rc = prepare(s, &st, err,
                 "SELECT 1 FROM task_runs WHERE batch_id = ? AND task = ?"
                 " AND state = 'success' LIMIT 1",
                 "ss", batch, task);
    if (rc != FLOE_OK)
        return rc;
    switch (sqlite3_step(st)) {
    case SQLITE_ROW: *out = true; break;
    case SQLITE_DONE: break;
    default: rc = db_err(s, err, "task state"); break;
    }
    sqlite3_finalize(st);
    return rc;
}

int floe_state_task_list(struct floe_state *s, const char *batch,
                         floe_state_run_cb cb, void *ud, char *err)
{
    sqlite3_stmt *st;
    int rc, step;

    rc = prepare(s, &st, err,
                 "SELECT batch_id, task, attempt, state, started_at,"
                 " ended_at, duration_ms, counts, error FROM task_runs"
                 " WHERE ?1 IS NULL OR batch_id = ?1 ORDER BY id",
                 "s", batch);
    if (rc != FLOE_OK)
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct floe_state_run r = {
            .batch_id = col_text(st, 0),
            .task = col_text(st, 1),
            .attempt = sqlite3_column_int(st, 2),
            .state = col_text(st, 3),
            .started_at = col_text(st, 4),
            .ended_at = col_text(st, 5),
            .duration_ms = sqlite3_column_int64(st, 6),
            .counts = col_text(st, 7),
            .error = col_text(st, 8),
        };
        rc = cb(&r, ud);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_err(s, err, "list attempts");
    sqlite3_finalize(st);
    return rc;
}
