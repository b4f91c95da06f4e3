/* duckdb.c - the embedded DuckDB warehouse engine: open, transform, and
 * the query helpers the load and unload files share.
 * The database is <state_dir>/warehouse.duckdb, opened with extension
 * auto-install/auto-load and community extensions off and the
 * configuration locked, so DuckDB never reaches the network. Transform runs
 * the model set's SQL steps in one transaction: a failed step leaves the
 * batch exactly as before; counts come from queries, and an invariant per
 * stream (raw = staged = valid + quarantined) proves no line went missing.
 * Open also creates the per-stream tables of every declared stream from
 * one layout and migrates a database an older floe wrote. */
#define FLOE_LOG_MOD "warehouse.duckdb"
#include "warehouse/duck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/engine.h"

#define ENGINE "duckdb"

int floe_duck_exec(struct floe_duck *d, const char *what, const char *sql,
                   char *err)
{
    duckdb_result res;
    int rc = FLOE_OK;

    if (duckdb_query(d->con, sql, &res) != DuckDBSuccess) {
        const char *msg = duckdb_result_error(&res);
        rc = floe_err(err, FLOE_EREMOTE, "duckdb %s: %s", what,
                      msg ? msg : "unknown error");
    }
    duckdb_destroy_result(&res);
    return rc;
}

int floe_duck_i64(struct floe_duck *d, const char *sql, int64_t *out, int n,
                  char *err)
{
    duckdb_data_chunk chunk = NULL;
    duckdb_result res;
    int rc = FLOE_OK, i;

    if (duckdb_query(d->con, sql, &res) != DuckDBSuccess) {
        const char *msg = duckdb_result_error(&res);
        rc = floe_err(err, FLOE_EREMOTE, "duckdb query: %s",
                      msg ? msg : "unknown error");
        goto cleanup;
    }
    if (duckdb_column_count(&res) < (idx_t)n) {
        rc = floe_err(err, FLOE_EINVAL, "duckdb query: %d columns expected",
                      n);
        goto cleanup;
    }
    for (i = 0; i < n; i++)
        if (duckdb_column_type(&res, (idx_t)i) != DUCKDB_TYPE_BIGINT) {
            rc = floe_err(err, FLOE_EINVAL,
                          "duckdb query: column %d is not BIGINT", i);
            goto cleanup;
        }
    chunk = duckdb_fetch_chunk(res);
    if (chunk == NULL || duckdb_data_chunk_get_size(chunk) == 0) {
        rc = floe_err(err, FLOE_ENOTFOUND, "duckdb query: no row");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk, (idx_t)i);
        uint64_t *valid = duckdb_vector_get_validity(v);
        out[i] = duckdb_validity_row_is_valid(valid, 0)
                     ? ((int64_t *)duckdb_vector_get_data(v))[0]
                     : 0;
    }
cleanup:
    if (chunk != NULL)
        duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
    return rc;
}

int floe_duck_add_str(struct floe_buf *b, const char *s)
{
    int rc = floe_buf_addc(b, '\'');

    for (; rc == FLOE_OK && *s != '\0'; s++)
        rc = *s == '\'' ? floe_buf_add(b, "''", 2) : floe_buf_addc(b, *s);
    return rc == FLOE_OK ? floe_buf_addc(b, '\'') : rc;
}

int floe_duck_add_sql(struct floe_buf *b, const char *sql, const char *batch)
{
    const char *p = sql, *at;
    int rc = FLOE_OK;

    while (rc == FLOE_OK && (at = strstr(p, "$b")) != NULL) {
        rc = floe_buf_add(b, p, (size_t)(at - p));
        if (rc == FLOE_OK)
            rc = floe_duck_add_str(b, batch);
        p = at + 2;
    }
    return rc == FLOE_OK ? floe_buf_adds(b, p) : rc;
}

void floe_duck_rollback(struct floe_duck *d)
{
    char err[FLOE_ERR_LEN];

    if (floe_duck_exec(d, "rollback", "ROLLBACK", err) != FLOE_OK)
        floe_log_warn("%s", err);
}

static void duck_close(void *ctx)
{
    struct floe_duck *d = ctx;
    int64_t t0 = floe_mono_ms();

    if (d == NULL)
        return;
    if (d->con != NULL)
        duckdb_disconnect(&d->con);
    if (d->db != NULL) {
        duckdb_close(&d->db); /* checkpoints what the WAL holds */
        floe_log_debug("close (checkpoint): %lld ms",
                       (long long)(floe_mono_ms() - t0));
    }
    free(d);
}

static int set_config(duckdb_config cfg, const char *name, const char *value,
                      char *err)
{
    if (duckdb_set_config(cfg, name, value) != DuckDBSuccess)
        return floe_err(err, FLOE_EREMOTE, "duckdb: cannot set %s=%s", name,
                        value);
    return FLOE_OK;
}

/* Tables each declared stream has one of, with one layout per
 * kind; "%s" is the stream. raw.<stream>: one row per line of a batch
 * object, byte for byte (invalid UTF-8 and NULs replaced by U+FFFD and
 * flagged valid_utf8 = false), in the column order duck_load.c appends.
 * quarantine.<stream>: every rejected line, verbatim, with its reason. */
static const char *const stream_tables[] = {
    "raw.%s (\n"
    "    batch_id VARCHAR NOT NULL USING COMPRESSION dictionary,\n"
    "    source_key VARCHAR NOT NULL USING COMPRESSION dictionary,\n"
    "    line_no BIGINT NOT NULL,\n"
    "    line VARCHAR NOT NULL USING COMPRESSION uncompressed,\n"
    "    valid_utf8 BOOLEAN NOT NULL)",
    "quarantine.%s (\n"
    "    table_name VARCHAR NOT NULL,\n"
    "    batch_id VARCHAR NOT NULL,\n"
    "    source_key VARCHAR NOT NULL,\n"
    "    line_no BIGINT NOT NULL,\n"
    "    raw VARCHAR NOT NULL,\n"
    "    reason VARCHAR NOT NULL)",
};

static int create_stream_tables(struct floe_duck *d, char *err)
{
    const struct floe_models *m = d->models;
    struct floe_buf q;
    size_t i, k;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "");
    for (i = 0; rc == FLOE_OK && i < m->nstreams; i++)
        for (k = 0; rc == FLOE_OK &&
                    k < sizeof(stream_tables) / sizeof(*stream_tables); k++) {
            rc = floe_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ");
            if (rc == FLOE_OK)
                rc = floe_buf_addf(&q, stream_tables[k],
                                   m->streams[i].name);
            if (rc == FLOE_OK)
                rc = floe_buf_adds(&q, ";\n");
        }
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "stream tables", q.data, err);
    floe_buf_free(&q);
    return rc;
}

/* Bring a database written by an older floe up to date, once: each step
 * runs when its old table still exists (a view of that name is the new
 * layout), in its own transaction. floe 0.1 stored mart.orders_enriched
 * as whole order rows (its customer columns move to mart.order_customers)
 * and core.orders with each line copied into a raw column (the rows move
 * to core.order_events; the view core.orders joins the line back from
 * raw.orders, which holds every batch's lines). */
static const struct migration {
    const char *schema, *table, *sql;
} migrations[] = {
    { "mart", "orders_enriched",
      "INSERT INTO mart.order_customers\n"
      "    SELECT event_id, customer_known, customer_name,\n"
      "           customer_email, customer_country,\n"
      "           customer_segment, _batch_id\n"
      "    FROM mart.orders_enriched;\n"
      "DROP TABLE mart.orders_enriched" },
    { "core", "orders",
      "INSERT INTO core.order_events BY NAME\n"
      "    SELECT * EXCLUDE (raw) FROM core.orders;\n"
      "DROP TABLE core.orders" },
};

static int migrate(struct floe_duck *d, char *err)
{
    const struct migration *m;
    struct floe_buf q;
    int64_t n = 0;
    int rc = FLOE_OK;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    for (m = migrations; rc == FLOE_OK &&
                         m < migrations + sizeof(migrations) / sizeof(*m);
         m++) {
        floe_buf_reset(&q);
        rc = floe_buf_addf(&q, "SELECT count(*) FROM duckdb_tables() WHERE "
                               "database_name = current_database() AND "
                               "schema_name = '%s' AND table_name = '%s'",
                           m->schema, m->table);
        if (rc == FLOE_OK)
            rc = floe_duck_i64(d, q.data, &n, 1, err);
        if (rc != FLOE_OK || n == 0)
            continue;
        floe_log_info("migrating the table %s.%s to the current layout",
                      m->schema, m->table);
        floe_buf_reset(&q);
        rc = floe_buf_addf(&q, "BEGIN TRANSACTION;\n%s;\nCOMMIT", m->sql);
        if (rc == FLOE_OK)
            rc = floe_duck_exec(d, "migrate", q.data, err);
        if (rc != FLOE_OK)
            floe_duck_rollback(d);
    }
    floe_buf_free(&q);
    return rc;
}

/* The setup files (tables, then views) or the transform steps, in name
 * order. Setup creates the per-stream tables and migrates an older
 * database right after 00_schema.sql, before any view refers to them. */
static int run_sql_files(struct floe_duck *d, bool setup, char *err)
{
    const struct floe_models *m = d->models;
    const struct floe_model_sql *f;
    int64_t t0;
    size_t i;
    int rc;

    for (i = 0; i < m->nsql; i++) {
        f = &m->sql[i];
        if (floe_models_is_setup(m, i) != setup ||
            !floe_models_applies(m, i, ENGINE))
            continue;
        t0 = floe_mono_ms();
        rc = floe_duck_exec(d, f->name, f->text, err);
        if (rc == FLOE_OK && setup && strncmp(f->name, "00_", 3) == 0) {
            rc = create_stream_tables(d, err);
            if (rc == FLOE_OK)
                rc = migrate(d, err);
        }
        if (rc != FLOE_OK)
            return rc;
        floe_log_debug("%s: %lld ms", f->name,
                       (long long)(floe_mono_ms() - t0));
    }
    return FLOE_OK;
}

static int duck_open(const char *state_dir,
                     const struct floe_wh_options *opts, void **out_ctx,
                     char *err)
{
    struct floe_duck *d = NULL;
    duckdb_config cfg = NULL;
    char path[PATH_MAX], *open_err = NULL;
    int64_t t0 = floe_mono_ms();
    int rc;

    *out_ctx = NULL;
    rc = floe_duckapi_load(err);
    if (rc != FLOE_OK)
        return rc;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    d->models = opts->models;
    if ((size_t)snprintf(d->state_dir, sizeof(d->state_dir), "%s",
                         state_dir) >= sizeof(d->state_dir) ||
        (size_t)snprintf(path, sizeof(path), "%s/warehouse.duckdb",
                         state_dir) >= sizeof(path)) {
        rc = floe_err(err, FLOE_ETOOBIG, "state dir path too long");
        goto cleanup;
    }
    if (duckdb_create_config(&cfg) != DuckDBSuccess) {
        rc = floe_err(err, FLOE_ENOMEM, "duckdb: cannot create config");
        goto cleanup;
    }
    /* No network, ever: no extension downloads or auto-loading. */
    rc = set_config(cfg, "autoinstall_known_extensions", "false", err);
    if (rc == FLOE_OK)
        rc = set_config(cfg, "autoload_known_extensions", "false", err);
    if (rc == FLOE_OK)
        rc = set_config(cfg, "allow_community_extensions", "false", err);
    /* A checkpoint compresses what the write-ahead log holds and rewrites
     * each table's last, partly filled row group: at DuckDB's default
     * (16 MiB of WAL) a stream of small batches paid that every batch or
     * two, inside a commit. A larger threshold makes checkpoints rare; the
     * runner also checkpoints when it goes idle (floe_wh_close). */
    if (rc == FLOE_OK)
        rc = set_config(cfg, "checkpoint_threshold", FLOE_DUCK_CHECKPOINT,
                        err);
    if (rc != FLOE_OK)
        goto cleanup;
    if (duckdb_open_ext(path, &d->db, cfg, &open_err) != DuckDBSuccess) {
        rc = floe_err(err, FLOE_EIO, "duckdb: cannot open %s: %s", path,
                      open_err ? open_err : "unknown error");
        d->db = NULL;
        goto cleanup;
    }
    if (duckdb_connect(d->db, &d->con) != DuckDBSuccess) {
        rc = floe_err(err, FLOE_EIO, "duckdb: cannot connect to %s", path);
        d->con = NULL;
        goto cleanup;
    }
    /* Time zone fixed before the lock so results never depend on the
     * host's zone (ICU registers the option, hence SET, not config). */
    rc = floe_duck_exec(d, "configure",
                        "SET TimeZone = 'UTC'; SET lock_configuration = true",
                        err);
    if (rc == FLOE_OK)
        rc = run_sql_files(d, true, err);
    if (rc != FLOE_OK)
        goto cleanup;
    floe_log_debug("duckdb %s: %s opened in %lld ms",
                   duckdb_library_version(), path,
                   (long long)(floe_mono_ms() - t0));
    *out_ctx = d;
    d = NULL;
cleanup:
    if (open_err != NULL)
        duckdb_free(open_err);
    if (cfg != NULL)
        duckdb_destroy_config(&cfg);
    duck_close(d);
    return rc;
}

static int duck_i64(void *ctx, const char *sql, int64_t *out, int n,
                    char *err)
{
    return floe_duck_i64(ctx, sql, out, n, err);
}

/* Counts of a transformed batch, all from the tables, plus the check per
 * stream that every raw line was staged and every staged line is either
 * valid or quarantined. */
static int transform_counts(struct floe_duck *d, const char *batch,
                            struct floe_wh_counts *out, char *err)
{
    struct floe_buf q, sql;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    floe_buf_init(&sql, FLOE_BUF_UNLIMITED);
    rc = floe_wh_counts_query(d->models, ENGINE, &q);
    /* $b is spelled out: batch ids are checked to be quote-free. */
    if (rc == FLOE_OK)
        rc = floe_duck_add_sql(&sql, q.data, batch);
    if (rc == FLOE_OK)
        rc = floe_wh_counts_run(d->models, batch, sql.data, out, duck_i64, d,
                                err);
    floe_buf_free(&q);
    floe_buf_free(&sql);
    return rc;
}

static int duck_transform(void *ctx, const char *batch,
                          struct floe_wh_counts *out, char *err)
{
    struct floe_duck *d = ctx;
    struct floe_buf q;
    int64_t t0 = floe_mono_ms(), t1, t2;
    bool in_tx = false;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "SET VARIABLE floe_batch = ");
    if (rc == FLOE_OK)
        rc = floe_duck_add_str(&q, batch);
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "set batch", q.data, err);
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "begin", "BEGIN TRANSACTION", err);
    if (rc != FLOE_OK)
        goto cleanup;
    in_tx = true;
    rc = run_sql_files(d, false, err);
    t1 = floe_mono_ms();
    if (rc == FLOE_OK)
        rc = transform_counts(d, batch, out, err);
    t2 = floe_mono_ms();
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "commit", "COMMIT", err);
    if (rc != FLOE_OK)
        goto cleanup;
    in_tx = false;
    floe_log_debug("transform %s: counts %lld ms, commit %lld ms", batch,
                   (long long)(t2 - t1), (long long)(floe_mono_ms() - t2));
    floe_log_debug("transform %s: %lld new orders, %lld duplicates, %lld + "
                   "%lld quarantined, %lld new customer versions in %lld ms",
                   batch, (long long)out->new_orders,
                   (long long)out->duplicate_orders,
                   (long long)out->quarantined_orders,
                   (long long)out->quarantined_customers,
                   (long long)out->new_customer_versions,
                   (long long)(floe_mono_ms() - t0));
cleanup:
    if (in_tx)
        floe_duck_rollback(d);
    if (rc != FLOE_OK)
        memset(out, 0, sizeof(*out)); /* a failed step reports nothing */
    floe_buf_free(&q);
    return rc;
}

const struct floe_wh_engine floe_wh_duckdb = {
    .name = ENGINE,
    .open = duck_open,
    .close = duck_close,
    .load = floe_duck_load,
    .transform = duck_transform,
    .unload = floe_duck_unload,
};
