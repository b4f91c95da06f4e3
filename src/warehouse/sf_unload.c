/* sf_unload.c - Snowflake engine, unload step. Each table the models
 * declare goes to the processed zone in DuckDB's layout:
 *   partitioned  COPY INTO @stage/processed/<t>/dt=<day>/part-<batch>.parquet
 *                FROM (SELECT * EXCLUDE (dt) ... WHERE dt = '<day>'),
 *                one per day the batch touched
 *   batch        COPY INTO @stage/processed/<t>/part-<batch>.parquet
 *                (no row: the key is deleted, as DuckDB does)
 *   snapshot     COPY INTO @stage/processed/<t>/<file>
 * all with FILE_FORMAT = (TYPE = PARQUET) SINGLE = TRUE OVERWRITE = TRUE
 * HEADER = TRUE (the default: Snowflake writes).
 * An emulator cannot unload (fakesnow fails every COPY INTO @stage), so
 * with snowflake-emulator each such statement is logged as not run and
 * the rows are read through Arrow instead and written by floe: as JSON
 * lines into a local DuckDB table typed like the DuckDB engine's output
 * (the same models' DuckDB SELECT, run on empty tables), then unloaded by
 * the DuckDB engine's own code. The files then have the DuckDB engine's
 * schema and layout by construction. */
#define FLOE_LOG_MOD "warehouse.snowflake"
#include "warehouse/snowflake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/duck.h"
#include "warehouse/engine.h"

#define ROWS "_floe_sf_rows"
#define PARQUET_OPTS                                                        \
    " FILE_FORMAT = (TYPE = PARQUET) SINGLE = TRUE OVERWRITE = TRUE "       \
    "HEADER = TRUE MAX_FILE_SIZE = 5368709120"

/* --- the COPY INTO @stage statements -------------------------------- */

int floe_sf_unload_sql(struct floe_buf *q, const struct floe_model_table *x,
                       const char *batch, const char *day)
{
    const char *select = floe_model_table_select(x, "snowflake");
    int rc = floe_buf_addf(q, "COPY INTO @" FLOE_SF_STAGE "/%s/%s/",
                           FLOE_ZONE_PROCESSED, x->name);

    if (rc == FLOE_OK && day != NULL)
        rc = floe_buf_addf(q, "dt=%s/", day);
    if (rc == FLOE_OK)
        rc = x->layout == FLOE_MODEL_SNAPSHOT
                 ? floe_buf_adds(q, x->file)
                 : floe_buf_addf(q, "part-%s.parquet", batch);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(q, day != NULL ? " FROM (SELECT * EXCLUDE (dt) "
                                            "FROM ("
                                          : " FROM (");
    if (rc == FLOE_OK)
        rc = floe_sf_add_sql(q, select, batch);
    if (rc == FLOE_OK && day != NULL)
        rc = floe_buf_addf(q, ") WHERE dt = '%s'", day);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(q, ")" PARQUET_OPTS);
    return rc;
}

/* --- Arrow to JSON lines -------------------------------------------- */

static bool is_valid(const struct ArrowArray *a, int64_t i)
{
    const uint8_t *v = a->null_count != 0 && a->n_buffers > 0
                           ? a->buffers[0]
                           : NULL;

    i += a->offset;
    return v == NULL || (v[i / 8] >> (i % 8)) & 1;
}

/* Snowflake's logical type of a field (its "logicalType" metadata), e.g.
 * VARIANT, ARRAY, OBJECT; "" when there is none. */
static void logical_type(const struct ArrowSchema *f, char *out, size_t n)
{
    const char *p = f->metadata;
    int32_t count, klen, vlen, k;

    out[0] = '\0';
    if (p == NULL)
        return;
    memcpy(&count, p, 4);
    p += 4;
    for (k = 0; k < count; k++) {
        memcpy(&klen, p, 4);
        p += 4;
        memcpy(&vlen, p + klen, 4);
        if (klen == 11 && memcmp(p, "logicalType", 11) == 0) {
            snprintf(out, n, "%.*s", (int)vlen, p + klen + 4);
            return;
        }
        p += klen + 4 + vlen;
    }
}

static int add_decimal(struct floe_buf *b, const struct ArrowArray *a,
                       int64_t i, int scale)
{
    const uint64_t *w = (const uint64_t *)a->buffers[1] + 2 * (a->offset + i);
    unsigned __int128 v = ((unsigned __int128)w[1] << 64) | w[0];
    bool neg = (w[1] >> 63) != 0;
    char digits[48], *p = digits + sizeof(digits);
    int n = 0;

    if (neg)
        v = ~v + 1;
    *--p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
        if (++n == scale)
            *--p = '.';
    } while (v != 0 || n <= scale);
    if (*p == '.')
        *--p = '0';
    return floe_buf_addf(b, "\"%s%s\"", neg ? "-" : "", p);
}

static int add_timestamp(struct floe_buf *b, int64_t v, const char *fmt)
{
    int64_t per = fmt[2] == 's' ? 1 : fmt[2] == 'm' ? 1000
                  : fmt[2] == 'u' ? 1000000 : 1000000000;
    int64_t sec = v / per, frac = v % per;
    struct tm tm;
    time_t t;
    char day[32];

    if (frac < 0) {
        frac += per;
        sec--;
    }
    t = (time_t)sec;
    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
    if (per == 1)
        return floe_buf_addf(b, "\"%s\"", day);
    return floe_buf_addf(b, "\"%s.%0*lld\"", day,
                         per == 1000 ? 3 : per == 1000000 ? 6 : 9,
                         (long long)frac);
}

/* One cell of column `f`/`a` at row i as JSON. */
static int add_cell(struct floe_buf *b, const struct ArrowSchema *f,
                    const struct ArrowArray *a, int64_t i, char *err)
{
    const char *fmt = f->format;
    int64_t j = a->offset + i;
    char lt[32];

    if (!is_valid(a, i))
        return floe_buf_adds(b, "null");
    if (strcmp(fmt, "u") == 0) {
        const int32_t *off = a->buffers[1];
        const char *data = a->buffers[2];

        logical_type(f, lt, sizeof(lt));
        if (strcmp(lt, "VARIANT") == 0 || strcmp(lt, "ARRAY") == 0 ||
            strcmp(lt, "OBJECT") == 0) /* JSON text: nested as it is */
            return floe_buf_add(b, data + off[j], (size_t)(off[j + 1] -
                                                           off[j]));
        return floe_buf_add_json_str(b, data + off[j],
                                     (size_t)(off[j + 1] - off[j]));
    }
    if (strcmp(fmt, "l") == 0)
        return floe_buf_addf(b, "%lld",
                             (long long)((const int64_t *)a->buffers[1])[j]);
    if (strcmp(fmt, "i") == 0)
        return floe_buf_addf(b, "%d", ((const int32_t *)a->buffers[1])[j]);
    if (strcmp(fmt, "b") == 0)
        return floe_buf_adds(b, (((const uint8_t *)a->buffers[1])[j / 8] >>
                                 (j % 8)) & 1 ? "true" : "false");
    if (strcmp(fmt, "g") == 0)
        return floe_buf_addf(b, "%.17g", ((const double *)a->buffers[1])[j]);
    if (strncmp(fmt, "d:", 2) == 0) {
        const char *comma = strchr(fmt, ',');
        return add_decimal(b, a, i, comma ? atoi(comma + 1) : 0);
    }
    if (strcmp(fmt, "tdD") == 0) {
        time_t t = (time_t)((const int32_t *)a->buffers[1])[j] * 86400;
        struct tm tm;
        char day[16];

        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        return floe_buf_addf(b, "\"%s\"", day);
    }
    if (strncmp(fmt, "ts", 2) == 0 && strlen(fmt) >= 4)
        return add_timestamp(b, ((const int64_t *)a->buffers[1])[j], fmt);
    return floe_err(err, FLOE_ENOTSUP, "snowflake unload: column %s has "
                    "Arrow type '%s', which floe cannot write", f->name,
                    fmt);
}

/* A column name as a JSON key, lower-cased: Snowflake upper-cases
 * unquoted identifiers, the DuckDB models spell them in lower case. */
static int add_name(struct floe_buf *b, const char *name)
{
    char low[256];
    size_t i;

    for (i = 0; name[i] != '\0' && i + 1 < sizeof(low); i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32
                                                          : name[i]);
    low[i] = '\0';
    return floe_buf_add_json_str(b, low, i);
}

/* Write the result stream as JSON lines into `path`; *out_rows rows. */
static int write_json_lines(struct ArrowArrayStream *s, const char *path,
                            int64_t *out_rows, char *err)
{
    struct ArrowSchema schema;
    struct ArrowArray a;
    struct floe_buf line;
    FILE *f = fopen(path, "w");
    int64_t i, c;
    int rc = FLOE_OK;

    *out_rows = 0;
    memset(&schema, 0, sizeof(schema));
    floe_buf_init(&line, FLOE_BUF_UNLIMITED);
    if (f == NULL)
        return floe_err(err, FLOE_EIO, "cannot create %s", path);
    if (s->get_schema(s, &schema) != 0) {
        rc = floe_err(err, FLOE_EREMOTE, "snowflake unload: no schema");
        goto cleanup;
    }
    while (rc == FLOE_OK) {
        memset(&a, 0, sizeof(a));
        if (s->get_next(s, &a) != 0) {
            const char *m = s->get_last_error(s);
            rc = floe_err(err, FLOE_EREMOTE, "snowflake unload: %s",
                          m ? m : "cannot read the result");
            break;
        }
        if (a.release == NULL)
            break;
        for (i = 0; rc == FLOE_OK && i < a.length; i++) {
            floe_buf_reset(&line);
            rc = floe_buf_addc(&line, '{');
            for (c = 0; rc == FLOE_OK && c < schema.n_children; c++) {
                rc = floe_buf_adds(&line, c ? "," : "");
                if (rc == FLOE_OK)
                    rc = add_name(&line, schema.children[c]->name);
                if (rc == FLOE_OK)
                    rc = floe_buf_addc(&line, ':');
                if (rc == FLOE_OK)
                    rc = add_cell(&line, schema.children[c], a.children[c],
                                  i, err);
            }
            if (rc == FLOE_OK)
                rc = floe_buf_adds(&line, "}\n");
            if (rc == FLOE_OK &&
                fwrite(line.data, 1, line.len, f) != line.len)
                rc = floe_err(err, FLOE_EIO, "cannot write %s", path);
            (*out_rows)++;
        }
        a.release(&a);
    }
cleanup:
    if (schema.release != NULL)
        schema.release(&schema);
    if (fclose(f) != 0 && rc == FLOE_OK)
        rc = floe_err(err, FLOE_EIO, "cannot write %s", path);
    floe_buf_free(&line);
    return rc;
}

/* --- the local DuckDB that writes the Parquet (fetch) ---------------- */

static int local_duck(struct floe_sf *sf, char *err)
{
    char dir[PATH_MAX];

    if (sf->duck != NULL)
        return FLOE_OK;
    if ((size_t)snprintf(dir, sizeof(dir), "%s/snowflake-fetch",
                         sf->state_dir) >= sizeof(dir))
        return floe_err(err, FLOE_ETOOBIG, "state dir path too long");
    if (floe_mkdirs(dir) != FLOE_OK)
        return floe_err(err, FLOE_EIO, "cannot create %s", dir);
    sf->duck_opts.models = sf->models;
    return floe_wh_duckdb.open(dir, &sf->duck_opts, &sf->duck, err);
}

/* columns={'name': 'TYPE', ...} of the local table ROWS, for read_json. */
static int columns_of(struct floe_duck *d, struct floe_buf *out, char *err)
{
    duckdb_result res;
    duckdb_data_chunk chunk;
    int rc = FLOE_OK;
    bool first = true;

    if (duckdb_query(d->con, "SELECT column_name, data_type FROM "
                             "information_schema.columns WHERE table_name = '"
                             ROWS "' ORDER BY ordinal_position",
                     &res) != DuckDBSuccess) {
        rc = floe_err(err, FLOE_EREMOTE, "duckdb columns: %s",
                      duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    rc = floe_buf_adds(out, "{");
    while (rc == FLOE_OK && (chunk = duckdb_fetch_chunk(res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(chunk), r;
        duckdb_string_t *name = duckdb_vector_get_data(
            duckdb_data_chunk_get_vector(chunk, 0));
        duckdb_string_t *type = duckdb_vector_get_data(
            duckdb_data_chunk_get_vector(chunk, 1));

        for (r = 0; rc == FLOE_OK && r < n; r++) {
            rc = floe_buf_addf(out, "%s'%.*s': '%.*s'", first ? "" : ", ",
                               (int)duckdb_string_t_length(name[r]),
                               duckdb_string_t_data(&name[r]),
                               (int)duckdb_string_t_length(type[r]),
                               duckdb_string_t_data(&type[r]));
            first = false;
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    return rc == FLOE_OK ? floe_buf_adds(out, "}") : rc;
}

/* Rows of the table's Snowflake SELECT into the local table ROWS, typed
 * as its DuckDB SELECT's result. */
static int fetch_rows(struct floe_sf *sf, const struct floe_model_table *x,
                      const char *batch, const char *stage, char *err)
{
    struct floe_duck *d = sf->duck;
    struct ArrowArrayStream s;
    struct floe_buf q;
    char path[PATH_MAX];
    int64_t rows = 0;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    if ((size_t)snprintf(path, sizeof(path), "%s/rows.json", stage) >=
        sizeof(path))
        return floe_err(err, FLOE_ETOOBIG, "state dir path too long");
    rc = floe_sf_add_sql(&q, floe_model_table_select(x, "snowflake"),
                         batch);
    if (rc == FLOE_OK)
        rc = floe_sf_query(sf, "unload (fetch)", q.data, &s, err);
    if (rc == FLOE_OK) {
        rc = write_json_lines(&s, path, &rows, err);
        floe_sf_query_end(sf, &s);
    }
    floe_buf_reset(&q);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, "CREATE OR REPLACE TEMP TABLE " ROWS
                               " AS SELECT * FROM (");
    if (rc == FLOE_OK)
        rc = floe_duck_add_sql(&q, floe_model_table_select(x, "duckdb"),
                               batch);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, ") LIMIT 0");
    if (rc == FLOE_OK)
        rc = floe_duck_exec(d, "unload (fetch)", q.data, err);
    if (rc == FLOE_OK && rows > 0) {
        floe_buf_reset(&q);
        rc = floe_buf_adds(&q, "INSERT INTO " ROWS " SELECT * FROM "
                               "read_json(");
        if (rc == FLOE_OK)
            rc = floe_duck_add_str(&q, path);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, ", format = 'newline_delimited', "
                                   "hive_partitioning = false, columns = ");
        if (rc == FLOE_OK)
            rc = columns_of(d, &q, err);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, ")");
        if (rc == FLOE_OK)
            rc = floe_duck_exec(d, "unload (fetch)", q.data, err);
    }
    floe_buf_free(&q);
    remove(path);
    return rc;
}

/* --- the step -------------------------------------------------------- */

/* The days (YYYY-MM-DD) a partitioned table's batch rows fall on,
 * '\n'-separated in `out`. */
static int days_of(struct floe_sf *sf, const struct floe_model_table *x,
                   const char *batch, struct floe_buf *out, char *err)
{
    struct ArrowArrayStream s;
    struct ArrowSchema schema;
    struct ArrowArray a;
    struct floe_buf q;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "SELECT DISTINCT TO_VARCHAR(dt, 'YYYY-MM-DD') "
                           "AS day FROM (");
    if (rc == FLOE_OK)
        rc = floe_sf_add_sql(&q, floe_model_table_select(x, "snowflake"),
                             batch);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, ") ORDER BY 1");
    if (rc == FLOE_OK)
        rc = floe_sf_query(sf, "unload", q.data, &s, err);
    floe_buf_free(&q);
    if (rc != FLOE_OK)
        return rc;
    memset(&schema, 0, sizeof(schema));
    if (s.get_schema(&s, &schema) != 0 || schema.n_children < 1 ||
        strcmp(schema.children[0]->format, "u") != 0)
        rc = floe_err(err, FLOE_EREMOTE, "snowflake unload: days are not "
                      "text");
    while (rc == FLOE_OK) {
        memset(&a, 0, sizeof(a));
        if (s.get_next(&s, &a) != 0 || a.release == NULL)
            break;
        for (int64_t i = 0; rc == FLOE_OK && i < a.length; i++) {
            const struct ArrowArray *c = a.children[0];
            const int32_t *off = c->buffers[1];
            int64_t j = c->offset + i;

            if (is_valid(c, i))
                rc = floe_buf_addf(out, "%.*s\n",
                                   (int)(off[j + 1] - off[j]),
                                   (const char *)c->buffers[2] + off[j]);
        }
        a.release(&a);
    }
    if (schema.release != NULL)
        schema.release(&schema);
    floe_sf_query_end(sf, &s);
    return rc;
}

/* The COPY INTO @stage statements of table `x`: run (copy) or logged as
 * not run (fetch). *files counts the objects written. */
static int copy_out(struct floe_sf *sf, struct floe_store *st,
                    const struct floe_model_table *x, const char *batch,
                    bool fetch, int64_t *files, char *err)
{
    struct floe_buf days, q;
    const char *day = NULL, *nl;
    int64_t rows = -1;
    int rc = FLOE_OK;

    floe_buf_init(&days, FLOE_BUF_UNLIMITED);
    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    if (x->layout == FLOE_MODEL_PARTITIONED) {
        rc = days_of(sf, x, batch, &days, err);
        day = days.data;
    }
    do {
        char one[16] = "";

        if (day != NULL && *day == '\0')
            break;
        if (day != NULL) {
            nl = strchr(day, '\n');
            snprintf(one, sizeof(one), "%.*s", (int)(nl - day), day);
            day = nl + 1;
        }
        floe_buf_reset(&q);
        if (rc == FLOE_OK)
            rc = floe_sf_unload_sql(&q, x, batch, one[0] ? one : NULL);
        if (rc == FLOE_OK && fetch)
            floe_log_info("unload %s: not run (snowflake-emulator: an "
                          "emulator cannot unload): %s", x->name, q.data);
        else if (rc == FLOE_OK)
            rc = floe_sf_exec(sf, "unload", q.data, &rows, err);
        if (rc == FLOE_OK && !fetch) {
            if (x->layout == FLOE_MODEL_BATCH && rows == 0) {
                char key[FLOE_STORE_KEY_MAX];

                snprintf(key, sizeof(key), "%s/%s/part-%s.parquet",
                         FLOE_ZONE_PROCESSED, x->name, batch);
                rc = floe_store_delete(st, key);
            } else {
                (*files)++;
            }
        }
    } while (rc == FLOE_OK && day != NULL);
    floe_buf_free(&days);
    floe_buf_free(&q);
    return rc;
}

int floe_sf_unload(void *ctx, struct floe_store *st, const char *batch,
                   struct floe_wh_counts *out, char *err)
{
    struct floe_sf *sf = ctx;
    const struct floe_models *m = sf->models;
    bool fetch = sf->cfg->emulator;
    char stage[PATH_MAX];
    int64_t files = 0;
    size_t i;
    int rc;

    rc = floe_sf_stage(sf, st, err);
    if (rc == FLOE_OK && fetch)
        rc = local_duck(sf, err);
    if (rc != FLOE_OK)
        return rc;
    if ((size_t)snprintf(stage, sizeof(stage), "%s/unload/batch=%s",
                         sf->state_dir, batch) >= sizeof(stage))
        return floe_err(err, FLOE_ETOOBIG, "state dir path too long");
    for (i = 0; rc == FLOE_OK && i < m->ntables; i++) {
        const struct floe_model_table *x = &m->tables[i];

        rc = copy_out(sf, st, x, batch, fetch, &files, err);
        if (rc != FLOE_OK || !fetch)
            continue;
        if (floe_rmtree(stage) != FLOE_OK || floe_mkdirs(stage) != FLOE_OK)
            rc = floe_err(err, FLOE_EIO, "cannot prepare %s", stage);
        if (rc == FLOE_OK)
            rc = fetch_rows(sf, x, batch, stage, err);
        if (rc == FLOE_OK)
            rc = floe_duck_unload_table(sf->duck, st, x, i,
                                        "SELECT * FROM " ROWS, batch, stage,
                                        &files, err);
    }
    if (fetch && floe_rmtree(stage) != FLOE_OK)
        floe_log_warn("cannot remove %s", stage);
    if (rc != FLOE_OK)
        return rc;
    out->parquet_files = files;
    floe_log_info("unload %s: %lld parquet files (%s)", batch,
                  (long long)files, fetch ? "fetched through Arrow" :
                  "COPY INTO @stage");
    return FLOE_OK;
}
