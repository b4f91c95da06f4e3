/* duck_load.c - DuckDB engine, load step: every line of every object of a
 * batch into raw.<stream> (the streams of the model set), in one
 * transaction.
 * Objects are decompressed in C (libdeflate) and their lines appended a
 * data chunk (a vector of rows) at a time, which is lossless by
 * construction (no CSV or JSON reader that could split on '\r', skip blank
 * lines or drop bad rows); the loaded row count per table is then checked
 * against the newline count. */
#define FLOE_LOG_MOD "warehouse.load"
#include "warehouse/duck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/engine.h"
#include "warehouse/lines.h"

static int appender_failed(duckdb_appender app, const char *key, char *err)
{
    duckdb_error_data e = duckdb_appender_error_data(app);
    int rc = floe_err(err, FLOE_EREMOTE, "duckdb append %s: %s", key,
                      e ? duckdb_error_data_message(e) : "unknown error");

    if (e != NULL)
        duckdb_destroy_error_data(&e);
    return rc;
}

/* Raw table columns, in table order. */
enum { C_BATCH, C_KEY, C_LINE_NO, C_LINE, C_VALID, NCOLS };

/* An appender fed a data chunk at a time (a whole vector per call instead
 * of five calls per row). */
struct sink {
    duckdb_appender app;
    duckdb_data_chunk chunk;
    duckdb_vector col[NCOLS];
    idx_t n, cap;
};

static void sink_bind(struct sink *k)
{
    int c;

    for (c = 0; c < NCOLS; c++)
        k->col[c] = duckdb_data_chunk_get_vector(k->chunk, (idx_t)c);
}

static int sink_open(duckdb_connection con, const char *table,
                     struct sink *k, char *err)
{
    static const duckdb_type types[NCOLS] = {
        DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_BIGINT,
        DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_BOOLEAN,
    };
    duckdb_logical_type lt[NCOLS];
    int c;

    memset(k, 0, sizeof(*k));
    if (duckdb_appender_create(con, "raw", table, &k->app) != DuckDBSuccess) {
        int rc = appender_failed(k->app, table, err);
        duckdb_appender_destroy(&k->app);
        k->app = NULL;
        return rc;
    }
    for (c = 0; c < NCOLS; c++)
        lt[c] = duckdb_create_logical_type(types[c]);
    k->chunk = duckdb_create_data_chunk(lt, NCOLS);
    for (c = 0; c < NCOLS; c++)
        duckdb_destroy_logical_type(&lt[c]);
    if (k->chunk == NULL)
        return floe_err(err, FLOE_ENOMEM, "duckdb: cannot create a chunk");
    k->cap = duckdb_vector_size();
    sink_bind(k);
    return FLOE_OK;
}

/* Hand the rows gathered so far to the appender. */
static int sink_flush(struct sink *k, const char *key, char *err)
{
    if (k->n == 0)
        return FLOE_OK;
    duckdb_data_chunk_set_size(k->chunk, k->n);
    if (duckdb_append_data_chunk(k->app, k->chunk) != DuckDBSuccess)
        return appender_failed(k->app, key, err);
    duckdb_data_chunk_reset(k->chunk);
    sink_bind(k); /* a reset may hand out new vectors */
    k->n = 0;
    return FLOE_OK;
}

/* Flush, then close the appender: its rows reach the table. */
static int sink_close(struct sink *k, const char *table, bool ok, char *err)
{
    int rc = FLOE_OK;

    if (ok && k->app != NULL) {
        rc = sink_flush(k, table, err);
        if (rc == FLOE_OK && duckdb_appender_close(k->app) != DuckDBSuccess)
            rc = appender_failed(k->app, table, err);
    }
    if (k->chunk != NULL)
        duckdb_destroy_data_chunk(&k->chunk);
    if (k->app != NULL)
        duckdb_appender_destroy(&k->app);
    memset(k, 0, sizeof(*k));
    return rc;
}

/* Append every line of `text` as rows of `k`; *out_lines counts them. */
static int append_lines(struct sink *k, const char *batch, const char *key,
                        const struct floe_buf *text, int64_t *out_lines,
                        char *err)
{
    struct floe_wh_lines it;
    const char *line;
    size_t len, blen = strlen(batch), klen = strlen(key);
    bool clean;
    int64_t n = 0;
    int got, rc = FLOE_OK;

    floe_wh_lines_init(&it, text->data ? text->data : "", text->len);
    while ((got = floe_wh_lines_next(&it, &line, &len, &clean)) == 1) {
        idx_t i = k->n;

        n++;
        duckdb_vector_assign_string_element_len(k->col[C_BATCH], i, batch,
                                                blen);
        duckdb_vector_assign_string_element_len(k->col[C_KEY], i, key, klen);
        ((int64_t *)duckdb_vector_get_data(k->col[C_LINE_NO]))[i] = n;
        duckdb_vector_assign_string_element_len(k->col[C_LINE], i, line, len);
        ((bool *)duckdb_vector_get_data(k->col[C_VALID]))[i] = clean;
        if (++k->n == k->cap && (rc = sink_flush(k, key, err)) != FLOE_OK)
            break;
    }
    if (got < 0)
        rc = floe_err(err, got, "%s: out of memory splitting lines", key);
    floe_wh_lines_free(&it);
    *out_lines = n;
    return rc;
}

/* Load one object into the sink of its stream. */
static int load_object(struct floe_store *st, struct sink *k,
                       const char *batch, const char *key,
                       struct floe_buf *gz, struct floe_buf *text,
                       int64_t *lines, char *err)
{
    int64_t expect, got = 0;
    int rc;

    floe_buf_reset(gz);
    floe_buf_reset(text);
    rc = floe_wh_fetch(st, key, gz, err);
    if (rc == FLOE_OK)
        rc = floe_wh_inflate(gz->data, gz->len, text, err);
    if (rc != FLOE_OK) {
        char inner[FLOE_ERR_LEN];
        snprintf(inner, sizeof(inner), "%s", err);
        return floe_err(err, rc, "%s: %s", key, inner);
    }
    expect = floe_wh_count_lines(text->data ? text->data : "", text->len);
    rc = append_lines(k, batch, key, text, &got, err);
    if (rc == FLOE_OK && got != expect)
        rc = floe_err(err, FLOE_ECORRUPT, "%s: %lld lines appended, %lld "
                      "in the object", key, (long long)got,
                      (long long)expect);
    *lines += got;
    return rc;
}

static int check_loaded(struct floe_duck *d, const char *batch,
                        const int64_t *lines, char *err)
{
    const struct floe_models *m = d->models;
    struct floe_buf q;
    int64_t *v = calloc(m->nstreams, sizeof(*v));
    size_t s;
    int rc;

    if (v == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "SELECT ");
    for (s = 0; rc == FLOE_OK && s < m->nstreams; s++) {
        rc = floe_buf_addf(&q, "%s(SELECT count(*) FROM raw.%s WHERE "
                           "batch_id = ", s ? ", " : "", m->streams[s].name);
        if (rc == FLOE_OK)
            rc = floe_duck_add_str(&q, batch);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, ")");
    }
    if (rc == FLOE_OK)
        rc = floe_duck_i64(d, q.data, v, (int)m->nstreams, err);
    floe_buf_free(&q);
    for (s = 0; rc == FLOE_OK && s < m->nstreams; s++)
        if (v[s] != lines[s])
            rc = floe_err(err, FLOE_ECORRUPT,
                          "batch %s: raw.%s holds %lld lines, its objects "
                          "had %lld", batch, m->streams[s].name,
                          (long long)v[s], (long long)lines[s]);
    free(v);
    return rc;
}

static int delete_batch(struct floe_duck *d, const char *batch, char *err)
{
    const struct floe_models *m = d->models;
    struct floe_buf q;
    size_t s;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "");
    for (s = 0; rc == FLOE_OK && s < m->nstreams; s++) {
        rc = floe_buf_addf(&q, "DELETE FROM raw.%s WHERE batch_id = ",
                           m->streams[s].name);
        if (rc == FLOE_OK)
            rc = floe_duck_add_str(&q, batch);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, ";\n");
    }
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "delete raw batch", q.data, err);
    floe_buf_free(&q);
    return rc;
}

int floe_duck_load(void *ctx, struct floe_store *st, const char *batch,
                   struct floe_wh_counts *out, char *err)
{
    struct floe_duck *d = ctx;
    const struct floe_models *m = d->models;
    size_t ns = m->nstreams;
    struct sink *sink = calloc(ns, sizeof(*sink));
    int64_t *lines = calloc(ns, sizeof(*lines));
    struct floe_wh_keys keys = { NULL, 0, 0 };
    struct floe_buf gz, text;
    char prefix[FLOE_STORE_KEY_MAX];
    int64_t objects = 0, t0 = floe_mono_ms(), t1 = t0;
    bool in_tx = false;
    size_t i;
    int rc, s;

    floe_buf_init(&gz, FLOE_WH_OBJECT_MAX);
    floe_buf_init(&text, FLOE_WH_OBJECT_MAX);
    if (sink == NULL || lines == NULL) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = floe_wh_batch_keys(st, batch, &keys, prefix, err);
    if (rc != FLOE_OK)
        goto cleanup;
    rc = floe_duck_exec(d, "begin", "BEGIN TRANSACTION", err);
    if (rc != FLOE_OK)
        goto cleanup;
    in_tx = true;
    rc = delete_batch(d, batch, err);
    for (i = 0; rc == FLOE_OK && i < ns; i++)
        rc = sink_open(d->con, m->streams[i].name, &sink[i], err);
    for (i = 0; rc == FLOE_OK && i < keys.n; i++) {
        s = floe_wh_stream_of(m, keys.v[i] + strlen(prefix));
        if (s == -1)
            continue;
        if (s < 0) {
            rc = floe_err(err, FLOE_EINVAL, "%s: not under a stream the "
                          "models declare (%s<stream>/)", keys.v[i], prefix);
            break;
        }
        rc = load_object(st, &sink[s], batch, keys.v[i], &gz, &text,
                         &lines[s], err);
        objects++;
    }
    for (i = 0; i < ns; i++) {
        int rc2 = sink_close(&sink[i], m->streams[i].name, rc == FLOE_OK,
                             err);
        if (rc == FLOE_OK)
            rc = rc2;
    }
    if (rc == FLOE_OK)
        rc = check_loaded(d, batch, lines, err);
    t1 = floe_mono_ms();
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "commit", "COMMIT", err);
    if (rc != FLOE_OK)
        goto cleanup;
    in_tx = false;
    out->objects = objects;
    for (i = 0; i < ns; i++) {
        struct floe_wh_stream_counts sc;

        floe_wh_stream_counts(out, m->streams[i].name, &sc);
        *sc.raw += lines[i];
    }
    floe_log_debug("load %s: %lld objects, %lld order, %lld customer and "
                   "%lld other lines in %lld ms (commit %lld ms)", batch,
                   (long long)objects, (long long)out->raw_orders,
                   (long long)out->raw_customers, (long long)out->raw_other,
                   (long long)(floe_mono_ms() - t0),
                   (long long)(floe_mono_ms() - t1));
cleanup:
    if (in_tx)
        floe_duck_rollback(d);
    floe_wh_keys_free(&keys);
    free(sink);
    free(lines);
    floe_buf_free(&gz);
    floe_buf_free(&text);
    return rc;
}
