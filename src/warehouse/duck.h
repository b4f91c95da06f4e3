/* duck.h - internals shared by the DuckDB engine's files (duckdb.c: open,
 * transform; duck_load.c; duck_unload.c). Not a public API.
 * One database file per state dir, one connection, used by one thread at a
 * time (the orchestrator runs one step at a time per warehouse). */
#ifndef FLOE_WAREHOUSE_DUCK_H
#define FLOE_WAREHOUSE_DUCK_H

#include <limits.h>
#include <stdint.h>

#include "core/buf.h"
#include "warehouse/duckapi.h"
#include "warehouse/warehouse.h"

/* DuckDB's checkpoint_threshold (WAL size that triggers a checkpoint). */
#define FLOE_DUCK_CHECKPOINT "256MB"

struct floe_duck {
    duckdb_database db;
    duckdb_connection con;
    const struct floe_models *models; /* borrowed */
    char state_dir[PATH_MAX];
};

/* Run one or more statements; DuckDB's error text goes to err with
 * FLOE_EREMOTE. `what` names the step for the message. */
int floe_duck_exec(struct floe_duck *d, const char *what, const char *sql,
                   char *err);
/* Run a query whose first row has `n` BIGINT columns into out[0..n).
 * FLOE_ENOTFOUND when it returns no row. */
int floe_duck_i64(struct floe_duck *d, const char *sql, int64_t *out, int n,
                  char *err);
/* Append `s` as a SQL string literal ('' doubles a quote). */
int floe_duck_add_str(struct floe_buf *b, const char *s);
/* Append `sql` with every $b replaced by the batch id as a literal. */
int floe_duck_add_sql(struct floe_buf *b, const char *sql, const char *batch);
/* Roll back after a failure; errors are logged, not returned. */
void floe_duck_rollback(struct floe_duck *d);

int floe_duck_load(void *ctx, struct floe_store *st, const char *batch,
                   struct floe_wh_counts *out, char *err);
/* Unload the table `x` (the model set's i-th) as Parquet into the
 * processed zone, through the staging dir `stage` (exists, empty);
 * `select` replaces its SELECT when not NULL. *files counts the objects
 * written. */
int floe_duck_unload_table(struct floe_duck *d, struct floe_store *st,
                           const struct floe_model_table *x, size_t i,
                           const char *select, const char *batch,
                           const char *stage, int64_t *files, char *err);
int floe_duck_unload(void *ctx, struct floe_store *st, const char *batch,
                     struct floe_wh_counts *out, char *err);

#endif
