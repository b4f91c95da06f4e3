/* duck_load.c - DuckDB engine, load step: every line of every object of a
 * batch into raw.orders / raw.customers, in one transaction.
 * Objects are decompressed in C (libdeflate) and appended line by line
 * with the appender, which is lossless by construction (no CSV or JSON
 * reader that could split on '\r', skip blank lines or drop bad rows); the
 * loaded row count per table is then checked against the newline count. */
#define FLOE_LOG_MOD "warehouse.load"
#include "warehouse/duck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/lines.h"

enum { ORDERS, CUSTOMERS, NSTREAMS };
static const char *const streams[NSTREAMS] = { "orders", "customers" };

struct keys {
    char **v;
    size_t n, cap;
};

static void keys_free(struct keys *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
}

static int collect_key(const struct floe_obj_info *info, void *ud)
{
    struct keys *k = ud;

    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        char **v = realloc(k->v, cap * sizeof(*v));
        if (v == NULL)
            return FLOE_ENOMEM;
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n] = strdup(info->key);
    if (k->v[k->n] == NULL)
        return FLOE_ENOMEM;
    k->n++;
    return 0;
}

/* The object's bytes: read from its local file when the store has one,
 * else downloaded (S3). */
static int fetch(struct floe_store *st, const char *key, struct floe_buf *out,
                 char *err)
{
    char path[PATH_MAX];
    int rc = floe_store_local_path(st, key, path, sizeof(path));

    if (rc == FLOE_OK)
        rc = floe_read_file(path, out);
    else if (rc == FLOE_ENOTSUP)
        rc = floe_store_get(st, key, out);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot read %s: %s", key,
                        floe_strerror(rc));
    return FLOE_OK;
}

static int appender_failed(duckdb_appender app, const char *key, char *err)
{
    duckdb_error_data e = duckdb_appender_error_data(app);
    int rc = floe_err(err, FLOE_EREMOTE, "duckdb append %s: %s", key,
                      e ? duckdb_error_data_message(e) : "unknown error");

    if (e != NULL)
        duckdb_destroy_error_data(&e);
    return rc;
}

/* Append every line of `text` as rows of `app`; *out_lines counts them. */
static int append_lines(duckdb_appender app, const char *batch,
                        const char *key, const struct floe_buf *text,
                        int64_t *out_lines, char *err)
{
    struct floe_wh_lines it;
    const char *line;
    size_t len, blen = strlen(batch), klen = strlen(key);
    bool clean;
    int64_t n = 0;
    int got, rc = FLOE_OK;

    floe_wh_lines_init(&it, text->data ? text->data : "", text->len);
    while ((got = floe_wh_lines_next(&it, &line, &len, &clean)) == 1) {
        n++;
        if (duckdb_append_varchar_length(app, batch, blen) ||
            duckdb_append_varchar_length(app, key, klen) ||
            duckdb_append_int64(app, n) ||
            duckdb_append_varchar_length(app, line, len) ||
            duckdb_append_bool(app, clean) || duckdb_appender_end_row(app)) {
            rc = appender_failed(app, key, err);
            break;
        }
    }
    if (got < 0)
        rc = floe_err(err, got, "%s: out of memory splitting lines", key);
    floe_wh_lines_free(&it);
    *out_lines = n;
    return rc;
}

/* Load one object into the appender of its stream. */
static int load_object(struct floe_store *st, duckdb_appender app[NSTREAMS],
                       const char *batch, const char *key, int s,
                       struct floe_buf *gz, struct floe_buf *text,
                       int64_t *lines, char *err)
{
    int64_t expect, got = 0;
    int rc;

    floe_buf_reset(gz);
    floe_buf_reset(text);
    rc = fetch(st, key, gz, err);
    if (rc == FLOE_OK)
        rc = floe_wh_inflate(gz->data, gz->len, text, err);
    if (rc != FLOE_OK) {
        char inner[FLOE_ERR_LEN];
        snprintf(inner, sizeof(inner), "%s", err);
        return floe_err(err, rc, "%s: %s", key, inner);
    }
    expect = floe_wh_count_lines(text->data ? text->data : "", text->len);
    rc = append_lines(app[s], batch, key, text, &got, err);
    if (rc == FLOE_OK && got != expect)
        rc = floe_err(err, FLOE_ECORRUPT, "%s: %lld lines appended, %lld "
                      "in the object", key, (long long)got,
                      (long long)expect);
    lines[s] += got;
    return rc;
}

/* Which stream an object belongs to: -1 for batch metadata ("_*" at the
 * batch root), -2 for anything unexpected. */
static int stream_of(const char *rel)
{
    const char *slash = strchr(rel, '/');
    int s;

    if (slash == NULL)
        return rel[0] == '_' ? -1 : -2;
    for (s = 0; s < NSTREAMS; s++)
        if (strlen(streams[s]) == (size_t)(slash - rel) &&
            memcmp(rel, streams[s], (size_t)(slash - rel)) == 0)
            return s;
    return -2;
}

static int check_loaded(struct floe_duck *d, const char *batch,
                        const int64_t *lines, char *err)
{
    struct floe_buf q;
    int64_t v[NSTREAMS];
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "SELECT (SELECT count(*) FROM raw.orders WHERE "
                           "batch_id = ");
    if (rc == FLOE_OK)
        rc = floe_duck_add_str(&q, batch);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, "), (SELECT count(*) FROM raw.customers "
                               "WHERE batch_id = ");
    if (rc == FLOE_OK)
        rc = floe_duck_add_str(&q, batch);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, ")");
    if (rc == FLOE_OK)
        rc = floe_duck_i64(d, q.data, v, NSTREAMS, err);
    floe_buf_free(&q);
    if (rc == FLOE_OK && (v[ORDERS] != lines[ORDERS] ||
                          v[CUSTOMERS] != lines[CUSTOMERS]))
        rc = floe_err(err, FLOE_ECORRUPT,
                      "batch %s: raw tables hold %lld/%lld lines, objects "
                      "had %lld/%lld", batch, (long long)v[ORDERS],
                      (long long)v[CUSTOMERS], (long long)lines[ORDERS],
                      (long long)lines[CUSTOMERS]);
    return rc;
}

static int delete_batch(struct floe_duck *d, const char *batch, char *err)
{
    struct floe_buf q;
    int rc, s;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "");
    for (s = 0; rc == FLOE_OK && s < NSTREAMS; s++) {
        rc = floe_buf_addf(&q, "DELETE FROM raw.%s WHERE batch_id = ",
                           streams[s]);
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
    duckdb_appender app[NSTREAMS] = { NULL, NULL };
    struct keys keys = { NULL, 0, 0 };
    struct floe_buf gz, text;
    char prefix[FLOE_STORE_KEY_MAX];
    int64_t lines[NSTREAMS] = { 0, 0 }, objects = 0;
    int64_t t0 = floe_mono_ms();
    bool in_tx = false;
    size_t i, plen;
    int rc, s;

    floe_buf_init(&gz, FLOE_WH_OBJECT_MAX);
    floe_buf_init(&text, FLOE_WH_OBJECT_MAX);
    plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/batch=%s/",
                            FLOE_ZONE_PROCESSING, batch);
    rc = floe_store_list(st, prefix, collect_key, &keys);
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "cannot list %s: %s", prefix,
                      floe_strerror(rc));
        goto cleanup;
    }
    rc = floe_duck_exec(d, "begin", "BEGIN TRANSACTION", err);
    if (rc != FLOE_OK)
        goto cleanup;
    in_tx = true;
    rc = delete_batch(d, batch, err);
    for (s = 0; rc == FLOE_OK && s < NSTREAMS; s++)
        if (duckdb_appender_create(d->con, "raw", streams[s], &app[s]) !=
            DuckDBSuccess) {
            rc = appender_failed(app[s], streams[s], err);
            duckdb_appender_destroy(&app[s]);
            app[s] = NULL;
        }
    for (i = 0; rc == FLOE_OK && i < keys.n; i++) {
        s = stream_of(keys.v[i] + plen);
        if (s == -1)
            continue;
        if (s < 0) {
            rc = floe_err(err, FLOE_EINVAL, "%s: not under %sorders/ or "
                          "%scustomers/", keys.v[i], prefix, prefix);
            break;
        }
        rc = load_object(st, app, batch, keys.v[i], s, &gz, &text, lines,
                         err);
        objects++;
    }
    for (s = 0; s < NSTREAMS; s++) {
        if (app[s] == NULL)
            continue;
        if (rc == FLOE_OK && duckdb_appender_close(app[s]) != DuckDBSuccess)
            rc = appender_failed(app[s], streams[s], err);
        duckdb_appender_destroy(&app[s]);
    }
    if (rc == FLOE_OK)
        rc = check_loaded(d, batch, lines, err);
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "commit", "COMMIT", err);
    if (rc != FLOE_OK)
        goto cleanup;
    in_tx = false;
    out->objects = objects;
    out->raw_orders = lines[ORDERS];
    out->raw_customers = lines[CUSTOMERS];
    floe_log_debug("load %s: %lld objects, %lld order and %lld customer "
                   "lines in %lld ms", batch, (long long)objects,
                   (long long)lines[ORDERS], (long long)lines[CUSTOMERS],
                   (long long)(floe_mono_ms() - t0));
cleanup:
    if (in_tx)
        floe_duck_rollback(d);
    keys_free(&keys);
    floe_buf_free(&gz);
    floe_buf_free(&text);
    return rc;
}
