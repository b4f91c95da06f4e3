/* snowflake.c - the Snowflake warehouse engine, through ADBC (the Apache
 * Arrow Snowflake driver, dlopened on first use; results as Arrow C Data
 * Interface streams, so no Snowflake wire format is written here).
 * Load: an external stage on the processing zone (the lake's URL, or
 * snowflake-stage-url) and one COPY INTO per batch object, lines as text
 * (CSV with no field delimiter: lossless, a line that is no JSON is
 * quarantined by staging instead of aborting the COPY), then checked
 * against the object's own line count. Transform: the model set's
 * "snowflake" SQL files, one statement at a time, with $b the batch id;
 * each step is idempotent by batch id (Snowflake commits DDL, so a batch
 * is redone, not rolled back). Unload: COPY INTO @stage ... PARQUET, or
 * (snowflake-emulator, for fakesnow) rows read through Arrow and
 * written as Parquet by floe. Every statement is logged with its row
 * count, secrets never are. */
#define FLOE_LOG_MOD "warehouse.snowflake"
#include "warehouse/snowflake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/engine.h"
#include "warehouse/lines.h"

#define ENGINE "snowflake"
#define STAGE "raw.floe_lake"
#define LOG_SQL_MAX 200

static void sf_error(struct AdbcError *e, int code, const char *what,
                     char *err, int *rc)
{
    /* Connection trouble is worth a retry; SQL errors are not. */
    *rc = code == ADBC_STATUS_IO || code == ADBC_STATUS_TIMEOUT ||
                  code == ADBC_STATUS_CANCELLED
              ? FLOE_EAGAIN
              : FLOE_EREMOTE;
    floe_err(err, *rc, "snowflake %s: %s", what,
             e->message ? e->message : "unknown error");
    if (e->release != NULL)
        e->release(e);
}

/* One line of `sql` for the log: whitespace runs folded, cut. */
static void log_sql(const char *what, const char *sql, int64_t rows)
{
    char line[LOG_SQL_MAX + 4];
    size_t n = 0;
    bool space = false;

    for (; *sql != '\0' && n < LOG_SQL_MAX; sql++) {
        bool ws = *sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r';

        if (ws && (space || n == 0))
            continue;
        line[n++] = ws ? ' ' : *sql;
        space = ws;
    }
    if (*sql != '\0')
        line[n++] = '.', line[n++] = '.', line[n++] = '.';
    line[n] = '\0';
    if (rows >= 0)
        floe_log_info("%s: %s (%lld rows)", what, line, (long long)rows);
    else
        floe_log_info("%s: %s", what, line);
}

/* Run `sql`; when `out` is not NULL the result stream goes there (the
 * caller releases it), else it is drained. *out_rows (may be NULL) is the
 * driver's affected-row count, -1 when unknown. */
static int run(struct floe_sf *sf, const char *what, const char *sql,
               struct ArrowArrayStream *out, int64_t *out_rows, char *err)
{
    struct AdbcStatement stmt;
    struct AdbcError e = ADBC_ERROR_INIT;
    struct ArrowArrayStream s;
    int64_t rows = -1;
    int code, rc = FLOE_OK;

    memset(&stmt, 0, sizeof(stmt));
    memset(&s, 0, sizeof(s));
    code = AdbcStatementNew(&sf->con, &stmt, &e);
    if (code != ADBC_STATUS_OK) {
        sf_error(&e, code, what, err, &rc);
        return rc;
    }
    code = AdbcStatementSetSqlQuery(&stmt, sql, &e);
    /* Without a result stream the driver runs it as an update and says
     * how many rows it changed. */
    if (code == ADBC_STATUS_OK)
        code = AdbcStatementExecuteQuery(&stmt, out != NULL ? &s : NULL,
                                         &rows, &e);
    if (code != ADBC_STATUS_OK) {
        sf_error(&e, code, what, err, &rc);
    } else if (out != NULL) {
        *out = s;
        s.release = NULL;
    }
    if (s.release != NULL) {
        struct ArrowArray a;

        while (s.get_next(&s, &a) == 0 && a.release != NULL) {
            if (rows < 0)
                rows = 0;
            rows += a.length;
            a.release(&a);
        }
        s.release(&s);
    }
    if (rc == FLOE_OK && out != NULL) {
        /* The stream reads through the statement: it lives until
         * floe_sf_query_end. */
        sf->qstmt = stmt;
        sf->qstmt_open = true;
    } else {
        AdbcStatementRelease(&stmt, &e);
    }
    if (e.release != NULL)
        e.release(&e);
    if (rc == FLOE_OK)
        log_sql(what, sql, out != NULL ? -1 : rows);
    if (out_rows != NULL)
        *out_rows = rows;
    return rc;
}

int floe_sf_exec(struct floe_sf *sf, const char *what, const char *sql,
                 int64_t *out_rows, char *err)
{
    return run(sf, what, sql, NULL, out_rows, err);
}

int floe_sf_query(struct floe_sf *sf, const char *what, const char *sql,
                  struct ArrowArrayStream *out, char *err)
{
    floe_sf_query_end(sf, NULL);
    return run(sf, what, sql, out, NULL, err);
}

void floe_sf_query_end(struct floe_sf *sf, struct ArrowArrayStream *s)
{
    struct AdbcError e = ADBC_ERROR_INIT;

    if (s != NULL && s->release != NULL)
        s->release(s);
    if (sf->qstmt_open) {
        AdbcStatementRelease(&sf->qstmt, &e);
        sf->qstmt_open = false;
    }
    if (e.release != NULL)
        e.release(&e);
}

/* The integer at row 0 of child `c` of a struct array: int64, int32 or
 * decimal128 with scale 0 (Snowflake's NUMBER). */
static int cell_i64(const struct ArrowSchema *f, const struct ArrowArray *a,
                    int64_t *out)
{
    const uint8_t *valid = a->n_buffers > 0 ? a->buffers[0] : NULL;
    int64_t i = a->offset;

    *out = 0;
    if (a->length < 1)
        return FLOE_ENOTFOUND;
    if (valid != NULL && !(valid[i / 8] & (1u << (i % 8))))
        return FLOE_OK; /* NULL counts as 0 */
    if (strcmp(f->format, "l") == 0)
        *out = ((const int64_t *)a->buffers[1])[i];
    else if (strcmp(f->format, "i") == 0)
        *out = ((const int32_t *)a->buffers[1])[i];
    else if (strncmp(f->format, "d:", 2) == 0 &&
             strstr(f->format, ",0") != NULL)
        *out = ((const int64_t *)a->buffers[1])[2 * i]; /* low half, LE */
    else
        return FLOE_EINVAL;
    return FLOE_OK;
}

int floe_sf_i64(struct floe_sf *sf, const char *sql, int64_t *out, int n,
                char *err)
{
    struct ArrowArrayStream s;
    struct ArrowSchema schema;
    struct ArrowArray a;
    int rc, i;

    memset(&schema, 0, sizeof(schema));
    memset(&a, 0, sizeof(a));
    rc = floe_sf_query(sf, "query", sql, &s, err);
    if (rc != FLOE_OK)
        return rc;
    if (s.get_schema(&s, &schema) != 0 || schema.n_children < n) {
        rc = floe_err(err, FLOE_EREMOTE, "snowflake query: %d columns "
                      "expected", n);
        goto cleanup;
    }
    do {
        if (a.release != NULL)
            a.release(&a);
        if (s.get_next(&s, &a) != 0) {
            const char *m = s.get_last_error(&s);
            rc = floe_err(err, FLOE_EREMOTE, "snowflake query: %s",
                          m ? m : "cannot read the result");
            goto cleanup;
        }
    } while (a.release != NULL && a.length == 0);
    if (a.release == NULL) {
        rc = floe_err(err, FLOE_ENOTFOUND, "snowflake query: no row");
        goto cleanup;
    }
    for (i = 0; rc == FLOE_OK && i < n; i++)
        if (cell_i64(schema.children[i], a.children[i], &out[i]) != FLOE_OK)
            rc = floe_err(err, FLOE_EINVAL, "snowflake query: column %d "
                          "(%s) is not an integer", i,
                          schema.children[i]->format);
cleanup:
    if (a.release != NULL)
        a.release(&a);
    if (schema.release != NULL)
        schema.release(&schema);
    floe_sf_query_end(sf, &s);
    return rc;
}

/* Statements of a SQL file, split at ';' outside quotes and comments. */
int floe_sf_exec_script(struct floe_sf *sf, const char *what,
                        const char *text, const char *batch, char *err)
{
    struct floe_buf stmt, sql;
    const char *p = text;
    int rc = FLOE_OK;

    floe_buf_init(&stmt, FLOE_BUF_UNLIMITED);
    floe_buf_init(&sql, FLOE_BUF_UNLIMITED);
    while (rc == FLOE_OK && *p != '\0') {
        const char *start;
        bool body = false;

        /* Leading blanks and comments are not part of the statement. */
        for (;;) {
            p += strspn(p, " \t\r\n");
            if (p[0] != '-' || p[1] != '-')
                break;
            p += strcspn(p, "\n");
        }
        start = p;
        floe_buf_reset(&stmt);
        while (*p != '\0' && *p != ';') {
            if (p[0] == '-' && p[1] == '-') {
                p += strcspn(p, "\n");
                continue;
            }
            if (*p == '\'') {
                for (p++; *p != '\0' && !(p[0] == '\'' && p[1] != '\'');
                     p++)
                    if (p[0] == '\'')
                        p++; /* '' inside a string */
                if (*p != '\0')
                    p++;
                body = true;
                continue;
            }
            if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
                body = true;
            p++;
        }
        if (body) {
            rc = floe_buf_add(&stmt, start, (size_t)(p - start));
            floe_buf_reset(&sql);
            if (rc == FLOE_OK)
                rc = floe_sf_add_sql(&sql, stmt.data, batch);
            if (rc == FLOE_OK)
                rc = floe_sf_exec(sf, what, sql.data, NULL, err);
        }
        if (*p == ';')
            p++;
    }
    floe_buf_free(&stmt);
    floe_buf_free(&sql);
    return rc;
}

int floe_sf_add_str(struct floe_buf *b, const char *s)
{
    int rc = floe_buf_addc(b, '\'');

    for (; rc == FLOE_OK && *s != '\0'; s++)
        rc = *s == '\'' ? floe_buf_add(b, "''", 2)
             : *s == '\\' ? floe_buf_add(b, "\\\\", 2)
                          : floe_buf_addc(b, *s);
    return rc == FLOE_OK ? floe_buf_addc(b, '\'') : rc;
}

int floe_sf_add_sql(struct floe_buf *b, const char *sql, const char *batch)
{
    const char *p = sql, *at;
    int rc = FLOE_OK;

    while (rc == FLOE_OK && (at = strstr(p, "$b")) != NULL) {
        rc = floe_buf_add(b, p, (size_t)(at - p));
        if (rc == FLOE_OK)
            rc = batch != NULL ? floe_sf_add_str(b, batch)
                               : floe_buf_add(b, "$b", 2);
        p = at + 2;
    }
    return rc == FLOE_OK ? floe_buf_adds(b, p) : rc;
}

static void sf_close(void *ctx)
{
    struct floe_sf *sf = ctx;
    struct AdbcError e = ADBC_ERROR_INIT;

    if (sf == NULL)
        return;
    floe_sf_query_end(sf, NULL);
    if (sf->duck != NULL)
        floe_wh_duckdb.close(sf->duck);
    if (sf->con_ok)
        AdbcConnectionRelease(&sf->con, &e);
    if (sf->db_ok)
        AdbcDatabaseRelease(&sf->db, &e);
    if (e.release != NULL)
        e.release(&e);
    free(sf);
}

static int set_opt(struct floe_sf *sf, const char *key, const char *value,
                   char *err)
{
    struct AdbcError e = ADBC_ERROR_INIT;
    int code, rc = FLOE_OK;

    if (value == NULL || value[0] == '\0')
        return FLOE_OK;
    code = AdbcDatabaseSetOption(&sf->db, key, value, &e);
    if (code != ADBC_STATUS_OK)
        sf_error(&e, code, key, err, &rc); /* names the key, not value */
    return rc;
}

/* The per-stream tables (the same layout as DuckDB's), then the setup
 * files of the model set. */
static int setup(struct floe_sf *sf, char *err)
{
    const struct floe_models *m = sf->models;
    struct floe_buf q;
    size_t i;
    int rc = FLOE_OK;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    for (i = 0; rc == FLOE_OK && i < m->nsql; i++) {
        if (!floe_models_is_setup(m, i) ||
            !floe_models_applies(m, i, ENGINE))
            continue;
        rc = floe_sf_exec_script(sf, m->sql[i].name, m->sql[i].text, NULL,
                                 err);
        if (rc != FLOE_OK || strncmp(m->sql[i].name, "00_", 3) != 0)
            continue;
        for (size_t s = 0; rc == FLOE_OK && s < m->nstreams; s++) {
            floe_buf_reset(&q);
            rc = floe_buf_addf(
                &q,
                "CREATE TABLE IF NOT EXISTS raw.%s (batch_id VARCHAR NOT "
                "NULL, source_key VARCHAR NOT NULL, line_no NUMBER NOT NULL, "
                "line VARCHAR NOT NULL, valid_utf8 BOOLEAN NOT NULL);\n"
                "CREATE TABLE IF NOT EXISTS %s (table_name VARCHAR NOT NULL, "
                "batch_id VARCHAR NOT NULL, source_key VARCHAR NOT NULL, "
                "line_no NUMBER NOT NULL, raw VARCHAR NOT NULL, reason "
                "VARCHAR NOT NULL)", m->streams[s].name,
                m->streams[s].quarantine);
            if (rc == FLOE_OK)
                rc = floe_sf_exec_script(sf, "stream tables", q.data, NULL,
                                         err);
        }
    }
    floe_buf_free(&q);
    return rc;
}

static int sf_open(const char *state_dir, const struct floe_wh_options *opts,
                   void **out_ctx, char *err)
{
    static const struct floe_wh_snowflake none = { 0 };
    const struct floe_wh_snowflake *c = opts->snowflake ? opts->snowflake
                                                        : &none;
    struct AdbcError e = ADBC_ERROR_INIT;
    struct floe_sf *sf;
    char port[16];
    int code, rc;

    *out_ctx = NULL;
    if (c->account == NULL || c->user == NULL)
        return floe_err(err, FLOE_EINVAL, "snowflake: snowflake-account and "
                        "snowflake-user are required");
    if ((c->password == NULL) == (c->private_key == NULL))
        return floe_err(err, FLOE_EINVAL, "snowflake: give either "
                        "snowflake-password or snowflake-private-key");
    rc = floe_adbcapi_load(err);
    if (rc != FLOE_OK)
        return rc;
    sf = calloc(1, sizeof(*sf));
    if (sf == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    sf->models = opts->models;
    sf->cfg = c;
    snprintf(sf->state_dir, sizeof(sf->state_dir), "%s", state_dir);
    code = AdbcDatabaseNew(&sf->db, &e);
    if (code != ADBC_STATUS_OK) {
        sf_error(&e, code, "database", err, &rc);
        goto cleanup;
    }
    sf->db_ok = true;
    snprintf(port, sizeof(port), "%lld", (long long)c->port);
    rc = set_opt(sf, "adbc.snowflake.sql.account", c->account, err);
    rc = rc ? rc : set_opt(sf, "username", c->user, err);
    if (c->private_key != NULL) {
        rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.auth_type",
                               "auth_jwt", err);
        rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.client_option."
                               "jwt_private_key", c->private_key, err);
    } else {
        rc = rc ? rc : set_opt(sf, "password", c->password, err);
    }
    rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.role", c->role, err);
    rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.warehouse", c->warehouse,
                           err);
    rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.db", c->database, err);
    rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.schema", c->schema, err);
    rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.uri.host", c->host, err);
    rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.uri.protocol",
                           c->protocol, err);
    if (c->port > 0)
        rc = rc ? rc : set_opt(sf, "adbc.snowflake.sql.uri.port", port, err);
    if (rc != FLOE_OK)
        goto cleanup;
    code = AdbcDatabaseInit(&sf->db, &e);
    if (code == ADBC_STATUS_OK)
        code = AdbcConnectionNew(&sf->con, &e);
    if (code == ADBC_STATUS_OK) {
        code = AdbcConnectionInit(&sf->con, &sf->db, &e);
        sf->con_ok = code == ADBC_STATUS_OK;
    }
    if (code != ADBC_STATUS_OK) {
        sf_error(&e, code, "connect", err, &rc);
        goto cleanup;
    }
    floe_log_info("connected to account %s as %s (database %s)",
                  c->account, c->user, c->database ? c->database : "-");
    rc = setup(sf, err);
    if (rc != FLOE_OK)
        goto cleanup;
    *out_ctx = sf;
    sf = NULL;
cleanup:
    sf_close(sf);
    return rc;
}

static int sf_i64(void *ctx, const char *sql, int64_t *out, int n,
                  char *err)
{
    return floe_sf_i64(ctx, sql, out, n, err);
}

/* Counts of a transformed batch and the per-stream check, as DuckDB's
 * (the same queries, plain SQL both dialects accept). */
static int sf_transform(void *ctx, const char *batch,
                        struct floe_wh_counts *out, char *err)
{
    struct floe_sf *sf = ctx;
    const struct floe_models *m = sf->models;
    struct floe_buf q;
    size_t i;
    int rc = FLOE_OK;

    for (i = 0; rc == FLOE_OK && i < m->nsql; i++)
        if (!floe_models_is_setup(m, i) &&
            floe_models_applies(m, i, ENGINE))
            rc = floe_sf_exec_script(sf, m->sql[i].name, m->sql[i].text,
                                     batch, err);
    if (rc != FLOE_OK)
        return rc;
    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_wh_counts_query(m, ENGINE, &q);
    if (rc == FLOE_OK) {
        struct floe_buf sql;

        floe_buf_init(&sql, FLOE_BUF_UNLIMITED);
        rc = floe_sf_add_sql(&sql, q.data, batch);
        if (rc == FLOE_OK)
            rc = floe_wh_counts_run(m, batch, sql.data, out,
                                    sf_i64, sf, err);
        floe_buf_free(&sql);
    }
    floe_buf_free(&q);
    if (rc != FLOE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

const struct floe_wh_engine floe_wh_snowflake = {
    .name = ENGINE,
    .open = sf_open,
    .close = sf_close,
    .load = floe_sf_load,
    .transform = sf_transform,
    .unload = floe_sf_unload,
};
