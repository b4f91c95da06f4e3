/* snowflake.h - internals shared by the Snowflake engine's files
 * (snowflake.c: connection, statements, transform; sf_load.c;
 * sf_unload.c). Not a public API. One ADBC connection per warehouse
 * handle, used by one thread at a time. */
#ifndef FLOE_WAREHOUSE_SNOWFLAKE_H
#define FLOE_WAREHOUSE_SNOWFLAKE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "warehouse/adbcapi.h"
#include "warehouse/warehouse.h"

struct floe_sf {
    struct AdbcDatabase db;
    struct AdbcConnection con;
    bool db_ok, con_ok;
    const struct floe_models *models;     /* borrowed */
    const struct floe_wh_snowflake *cfg;  /* borrowed */
    bool stage_ok;                        /* the stage exists */
    struct AdbcStatement qstmt;           /* of the stream handed out */
    bool qstmt_open;
    void *duck;               /* local DuckDB writing Parquet (fetch) */
    struct floe_wh_options duck_opts;     /* what it was opened with */
    char state_dir[PATH_MAX];
};

/* The external stage on the lake that load and unload use. */
#define FLOE_SF_STAGE "raw.floe_lake"

/* Run one statement; the driver's error text goes to err (FLOE_EAGAIN for
 * connection trouble, FLOE_EREMOTE for SQL errors). `what` names the step
 * in the log line each statement gets (its text, cut, and its row count:
 * *out_rows, may be NULL; -1 when unknown). */
int floe_sf_exec(struct floe_sf *sf, const char *what, const char *sql,
                 int64_t *out_rows, char *err);
/* Run every statement of `text` (split at ';' outside strings and
 * comments), with $b replaced by the batch id (when batch is not NULL). */
int floe_sf_exec_script(struct floe_sf *sf, const char *what,
                        const char *text, const char *batch, char *err);
/* Read `n` integers of the first row of `sql` into out[0..n). */
int floe_sf_i64(struct floe_sf *sf, const char *sql, int64_t *out, int n,
                char *err);
/* Run `sql` and hand its Arrow result stream to the caller, who ends it
 * with floe_sf_query_end (the stream reads through its statement, which
 * lives until then; one such query at a time). */
int floe_sf_query(struct floe_sf *sf, const char *what, const char *sql,
                  struct ArrowArrayStream *out, char *err);
/* Release the stream `s` (may be NULL) and its statement. */
void floe_sf_query_end(struct floe_sf *sf, struct ArrowArrayStream *s);
/* `s` as a Snowflake string literal (quotes and backslashes escaped). */
int floe_sf_add_str(struct floe_buf *b, const char *s);
/* `sql` with every $b replaced by the batch id literal. */
int floe_sf_add_sql(struct floe_buf *b, const char *sql, const char *batch);
/* Create the stage on the lake once per connection. */
int floe_sf_stage(struct floe_sf *sf, struct floe_store *st, char *err);

/* Append the COPY INTO @stage statement that unloads table `x` of the
 * batch (for a partitioned table: its rows of `day`, YYYY-MM-DD) to `q`. */
int floe_sf_unload_sql(struct floe_buf *q, const struct floe_model_table *x,
                       const char *batch, const char *day);

int floe_sf_load(void *ctx, struct floe_store *st, const char *batch,
                 struct floe_wh_counts *out, char *err);
int floe_sf_unload(void *ctx, struct floe_store *st, const char *batch,
                   struct floe_wh_counts *out, char *err);

#endif
