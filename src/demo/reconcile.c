/* reconcile.c - lost/doubled by record id, with DuckDB as the reader.
 * The truth file is loaded into a table; the processed Parquet files are
 * listed through the store seam and read with read_parquet (downloaded
 * to a temporary directory first when the store is S3); anti-joins
 * and group counts give lost, doubled and unexpected ids. */
#define FLOE_LOG_MOD "demo.reconcile"
#include "demo/reconcile.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "warehouse/duckapi.h"

static int exec(duckdb_connection con, const char *sql, char *err)
{
    duckdb_result res;
    int rc = FLOE_OK;

    if (duckdb_query(con, sql, &res) == DuckDBError) {
        rc = floe_err(err, FLOE_EREMOTE, "DuckDB: %s",
                      duckdb_result_error(&res));
        floe_log_debug("failed SQL: %s", sql);
    }
    duckdb_destroy_result(&res);
    return rc;
}

/* First column of the first row as an integer (NULL -> 0). */
static int scalar(duckdb_connection con, const char *sql, int64_t *out,
                  char *err)
{
    duckdb_result res;
    duckdb_data_chunk chunk;
    int rc = FLOE_OK;

    *out = 0;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        rc = floe_err(err, FLOE_EREMOTE, "DuckDB: %s",
                      duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    chunk = duckdb_fetch_chunk(res);
    if (chunk != NULL) {
        if (duckdb_data_chunk_get_size(chunk) > 0) {
            duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
            uint64_t *valid = duckdb_vector_get_validity(v);

            if (duckdb_validity_row_is_valid(valid, 0))
                *out = ((int64_t *)duckdb_vector_get_data(v))[0];
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    return rc;
}

struct file_list {
    struct floe_store *st;
    const char *tmp; /* where objects of a store without files go (S3) */
    const char *view;
    struct floe_buf sql; /* "['a','b']" */
    int n, seq;
    int rc;
};

static int add_parquet(const struct floe_obj_info *info, void *ud)
{
    struct file_list *fl = ud;
    char path[4096];
    size_t klen = strlen(info->key);
    const char *p;

    if (klen < 8 || strcmp(info->key + klen - 8, ".parquet") != 0)
        return 0;
    fl->rc = floe_store_local_path(fl->st, info->key, path, sizeof(path));
    if (fl->rc == FLOE_ENOTSUP) {
        /* DuckDB reads local files only: Floe downloads the object. */
        snprintf(path, sizeof(path), "%s/%s-%d.parquet", fl->tmp, fl->view,
                 fl->seq++);
        fl->rc = floe_store_get_file(fl->st, info->key, path);
    }
    if (fl->rc != FLOE_OK)
        return 1;
    fl->rc = floe_buf_adds(&fl->sql, fl->n++ ? ",'" : "'");
    for (p = path; fl->rc == FLOE_OK && *p; p++)
        fl->rc = *p == '\'' ? floe_buf_adds(&fl->sql, "''")
                            : floe_buf_addc(&fl->sql, *p);
    if (fl->rc == FLOE_OK)
        fl->rc = floe_buf_addc(&fl->sql, '\'');
    return fl->rc != FLOE_OK;
}

/* CREATE VIEW <name> over the Parquet files under `prefix`; a zone with no
 * files gives an empty view with `empty_cols`. */
static int parquet_view(duckdb_connection con, struct floe_store *st,
                        const char *tmp, const char *name,
                        const char *prefix, const char *empty_cols,
                        char *err)
{
    struct file_list fl = { .st = st, .tmp = tmp, .view = name,
                            .rc = FLOE_OK };
    struct floe_buf sql;
    int rc;

    floe_buf_init(&fl.sql, FLOE_BUF_UNLIMITED);
    floe_buf_init(&sql, FLOE_BUF_UNLIMITED);
    rc = floe_store_list(st, prefix, add_parquet, &fl);
    if (rc == FLOE_OK)
        rc = fl.rc;
    if (rc == FLOE_OK && fl.n > 0)
        rc = floe_buf_addf(&sql,
                           "CREATE OR REPLACE VIEW %s AS SELECT * FROM "
                           "read_parquet([%s], union_by_name = true)",
                           name, fl.sql.data);
    else if (rc == FLOE_OK)
        rc = floe_buf_addf(&sql,
                           "CREATE OR REPLACE VIEW %s AS SELECT %s LIMIT 0",
                           name, empty_cols);
    if (rc == FLOE_OK)
        rc = exec(con, sql.data, err);
    else
        floe_err(err, rc, "reading %s: %s", prefix, floe_store_strerror(rc));
    floe_buf_free(&fl.sql);
    floe_buf_free(&sql);
    return rc;
}

static int64_t count_newlines(const unsigned char *p, size_t n)
{
    int64_t c = 0;
    const unsigned char *e = p + n;

    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

/* Newlines in a gzip stream of possibly several members. */
static int count_gz(const struct floe_buf *obj, int64_t *out)
{
    unsigned char chunk[1 << 16];
    z_stream zs;
    int zrc = Z_OK;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return FLOE_ENOMEM;
    zs.next_in = (unsigned char *)obj->data;
    zs.avail_in = (uInt)obj->len;
    while (zrc != Z_STREAM_END || zs.avail_in > 0) {
        if (zrc == Z_STREAM_END)
            inflateReset(&zs); /* next member */
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        zrc = inflate(&zs, Z_NO_FLUSH);
        if (zrc != Z_OK && zrc != Z_STREAM_END) {
            inflateEnd(&zs);
            return FLOE_ECORRUPT;
        }
        *out += count_newlines(chunk, sizeof(chunk) - zs.avail_out);
        if (zrc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            inflateEnd(&zs);
            return FLOE_ECORRUPT; /* truncated */
        }
    }
    inflateEnd(&zs);
    return FLOE_OK;
}

struct counter {
    struct floe_store *st;
    int64_t records, objects;
    int rc;
    const char *bad_key;
};

static int count_one(const struct floe_obj_info *info, void *ud)
{
    struct counter *c = ud;
    struct floe_buf obj;
    size_t klen = strlen(info->key);

    floe_buf_init(&obj, FLOE_BUF_UNLIMITED);
    c->rc = floe_store_get(c->st, info->key, &obj);
    if (c->rc == FLOE_OK) {
        if (klen > 3 && strcmp(info->key + klen - 3, ".gz") == 0)
            c->rc = count_gz(&obj, &c->records);
        else
            c->records += count_newlines((unsigned char *)obj.data, obj.len);
    }
    if (c->rc != FLOE_OK)
        floe_log_error("cannot read %s: %s", info->key, floe_store_strerror(c->rc));
    c->objects++;
    floe_buf_free(&obj);
    return c->rc != FLOE_OK;
}

int floe_reconcile_count_records(struct floe_store *st, const char *prefix,
                                 int64_t *out_records, int64_t *out_objects,
                                 char *err)
{
    struct counter c = { st, 0, 0, FLOE_OK, NULL };
    int rc = floe_store_list(st, prefix, count_one, &c);

    if (rc == FLOE_OK)
        rc = c.rc;
    *out_records = c.records;
    *out_objects = c.objects;
    if (rc != FLOE_OK)
        return floe_err(err, rc, "counting records under %s: %s", prefix,
                        floe_store_strerror(rc));
    return FLOE_OK;
}

/* The checks, in order; each result lands in one field of *out. */
static int measure(duckdb_connection con, struct floe_reconcile *out,
                   char *err)
{
    static const struct {
        size_t off;
        const char *sql;
    } q[] = {
#define OFF(f) offsetof(struct floe_reconcile, f)
        { OFF(emitted_orders_valid),
          "SELECT count(DISTINCT id) FROM truth WHERE kind = 'order' AND "
          "status = 'valid'" },
        { OFF(emitted_customers_valid),
          "SELECT count(DISTINCT id) FROM truth WHERE kind = 'customer' AND "
          "status = 'valid'" },
        { OFF(emitted_invalid),
          "SELECT count(*) FROM truth WHERE status = 'invalid'" },
        { OFF(duplicates_emitted),
          "SELECT count(*) FROM truth WHERE status = 'duplicate'" },
        { OFF(processed_orders), "SELECT count(*) FROM p_orders" },
        { OFF(processed_customer_versions),
          "SELECT count(*) FROM p_versions" },
        { OFF(processed_customers), "SELECT count(*) FROM p_customers" },
        { OFF(processed_enriched), "SELECT count(*) FROM p_enriched" },
        { OFF(quarantined), "SELECT count(*) FROM p_quarantine" },
        { OFF(lost),
          "SELECT (SELECT count(*) FROM want w ANTI JOIN got g "
          "        ON w.kind = g.kind AND w.id = g.id)" },
        { OFF(doubled), "SELECT coalesce(sum(n - 1), 0)::BIGINT FROM got" },
        { OFF(unexpected),
          "SELECT count(*) FROM got g ANTI JOIN want w "
          "ON w.kind = g.kind AND w.id = g.id" },
#undef OFF
    };
    size_t i;
    int rc = FLOE_OK;

    for (i = 0; rc == FLOE_OK && i < sizeof(q) / sizeof(q[0]); i++)
        rc = scalar(con, q[i].sql, (int64_t *)(void *)((char *)out + q[i].off),
                    err);
    return rc;
}

int floe_reconcile_run(const char *truth_path, struct floe_store *st,
                       struct floe_reconcile *out, char *err)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_config cfg = NULL;
    struct floe_buf sql;
    char *derr = NULL, tmp[PATH_MAX] = "";
    int rc = FLOE_OK;

    memset(out, 0, sizeof(*out));
    rc = floe_duckapi_load(err);
    if (rc != FLOE_OK)
        return rc;
    floe_buf_init(&sql, FLOE_BUF_UNLIMITED);
    if (duckdb_create_config(&cfg) == DuckDBError)
        return floe_err(err, FLOE_ENOMEM, "DuckDB config");
    {
        const char *t = getenv("TMPDIR");

        snprintf(tmp, sizeof(tmp), "%s/floe-reconcile-XXXXXX",
                 t && t[0] ? t : "/tmp");
        if (mkdtemp(tmp) == NULL) {
            duckdb_destroy_config(&cfg);
            return floe_err(err, FLOE_EIO, "cannot create %s", tmp);
        }
    }
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    if (duckdb_open_ext(NULL, &db, cfg, &derr) == DuckDBError) {
        rc = floe_err(err, FLOE_EREMOTE, "DuckDB open: %s",
                      derr ? derr : "?");
        duckdb_free(derr);
        goto cleanup;
    }
    if (duckdb_connect(db, &con) == DuckDBError) {
        rc = floe_err(err, FLOE_EREMOTE, "DuckDB connect failed");
        goto cleanup;
    }
    rc = exec(con, "SET TimeZone = 'UTC'", err);
    if (rc == FLOE_OK)
        rc = floe_buf_addf(&sql,
                           "CREATE TABLE truth AS SELECT * FROM read_csv('%s', "
                           "delim = '\t', header = false, quote = '', "
                           "escape = '', auto_detect = false, columns = "
                           "{'kind': 'VARCHAR', 'id': 'VARCHAR', "
                           "'status': 'VARCHAR'})", truth_path);
    if (rc == FLOE_OK && strchr(truth_path, '\'') != NULL)
        rc = floe_err(err, FLOE_EINVAL, "truth path has a quote: %s",
                      truth_path);
    if (rc == FLOE_OK)
        rc = exec(con, sql.data, err);
    if (rc == FLOE_OK)
        rc = parquet_view(con, st, tmp, "p_orders", "processed/orders/",
                          "NULL::VARCHAR AS event_id", err);
    if (rc == FLOE_OK)
        rc = parquet_view(con, st, tmp, "p_versions",
                          "processed/customer_versions/",
                          "NULL::VARCHAR AS customer_id, "
                          "NULL::TIMESTAMP AS updated_at", err);
    if (rc == FLOE_OK)
        rc = parquet_view(con, st, tmp, "p_customers", "processed/customers/",
                          "NULL::VARCHAR AS customer_id", err);
    if (rc == FLOE_OK)
        rc = parquet_view(con, st, tmp, "p_enriched", "processed/orders_enriched/",
                          "NULL::VARCHAR AS event_id", err);
    if (rc == FLOE_OK)
        rc = parquet_view(con, st, tmp, "p_quarantine", "processed/quarantine/",
                          "NULL::VARCHAR AS reason", err);
    /* Every table is checked by its key: order events in orders and
     * orders_enriched by event_id, customer versions by (customer_id,
     * updated_at), compared as instants, not as text, and the latest
     * customers by customer_id. */
    if (rc == FLOE_OK)
        rc = exec(con,
                  "CREATE TABLE want AS "
                  "SELECT DISTINCT 'order' AS kind, id FROM truth "
                  "WHERE kind = 'order' AND status = 'valid' "
                  "UNION ALL "
                  "SELECT DISTINCT 'customer', split_part(id, '|', 1) || '|' "
                  "|| CAST(CAST(split_part(id, '|', 2) AS TIMESTAMP) AS "
                  "VARCHAR) FROM truth "
                  "WHERE kind = 'customer' AND status = 'valid' "
                  "UNION ALL "
                  "SELECT DISTINCT 'enriched', id FROM truth "
                  "WHERE kind = 'order' AND status = 'valid' "
                  "UNION ALL "
                  "SELECT DISTINCT 'latest', split_part(id, '|', 1) "
                  "FROM truth WHERE kind = 'customer' AND status = 'valid'",
                  err);
    if (rc == FLOE_OK)
        rc = exec(con,
                  "CREATE TABLE got AS "
                  "SELECT 'order' AS kind, event_id AS id, count(*) AS n "
                  "FROM p_orders GROUP BY ALL "
                  "UNION ALL "
                  "SELECT 'customer', customer_id || '|' || "
                  "CAST(CAST(updated_at AS TIMESTAMP) AS VARCHAR), count(*) "
                  "FROM p_versions GROUP BY ALL "
                  "UNION ALL "
                  "SELECT 'enriched', event_id, count(*) FROM p_enriched "
                  "GROUP BY ALL "
                  "UNION ALL "
                  "SELECT 'latest', customer_id, count(*) FROM p_customers "
                  "GROUP BY ALL",
                  err);
    if (rc == FLOE_OK)
        rc = measure(con, out, err);
cleanup:
    floe_buf_free(&sql);
    if (con != NULL)
        duckdb_disconnect(&con);
    if (db != NULL)
        duckdb_close(&db);
    duckdb_destroy_config(&cfg);
    floe_rmtree(tmp);
    return rc;
}
