/* models.h - a model set: the SQL and declarations that tell a warehouse
 * engine which streams it loads and what it derives and unloads. Models
 * are data, not code: the default set (models/ in the source tree) is
 * compiled into the binary; a folder named in floe.yaml replaces it.
 *
 * A folder holds, read in name order (not recursively):
 *   NN_name.sql            SQL: "0N_*" set up (run when the warehouse
 *                          opens), the others are transform steps run in
 *                          name order in one transaction per batch;
 *   NN_name.<engine>.sql   replaces NN_name.sql on that engine only;
 *   <name>.stream.yaml     a stream: its raw table raw.<stream> (one row
 *                          per line) and quarantine.<stream>, plus the
 *                          tables its transform steps fill (see below);
 *   <name>.table.yaml      an unloaded table: where it goes in processed/
 *                          and the SELECT that produces it.
 * Other files are ignored. Stream declaration keys: stream (landing/<stream>/
 * objects load into raw.<stream>), key (the record id, documentation),
 * staged (the table a transform step fills with the batch's parsed lines,
 * with a reason column: NULL for a valid line), new (the table holding the
 * records each batch added, with a _batch_id column), quarantine (default
 * quarantine.<stream>). Table declaration keys: table (path under
 * processed/), layout (partitioned: <table>/dt=<day>/part-<batch>.parquet,
 * the SELECT has a dt column; batch: <table>/part-<batch>.parquet, deleted
 * when the batch has no row; snapshot: <table>/<file>, the whole table),
 * file (snapshot only), select ($b is the batch id as a SQL string), and
 * select.<engine> to replace it on one engine, count (a name of struct
 * floe_wh_counts the transform fills with the SELECT's row count). */
#ifndef FLOE_WAREHOUSE_MODELS_H
#define FLOE_WAREHOUSE_MODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct floe_config;

struct floe_model_sql {
    char *name; /* "40_customers.sql" (owned by the set) */
    char *text; /* the whole file, NUL-terminated (owned) */
};

struct floe_model_stream {
    const char *name;       /* "orders" (strings borrowed from the set) */
    const char *key;        /* may be NULL */
    const char *staged;     /* "_stg_orders" */
    const char *new_table;  /* "core.order_events" */
    const char *quarantine; /* "quarantine.orders" */
    char *quarantine_owned; /* the default, when not declared */
};

enum floe_model_layout {
    FLOE_MODEL_PARTITIONED,
    FLOE_MODEL_BATCH,
    FLOE_MODEL_SNAPSHOT,
};

struct floe_model_table {
    const char *name;  /* "orders", "quarantine/orders" (borrowed) */
    enum floe_model_layout layout;
    const char *file;  /* snapshot file name, else NULL */
    const char *count; /* counts field or NULL */
    const struct floe_config *decl; /* its declaration (for select.*) */
};

struct floe_models {
    char *dir;                        /* NULL: the built-in set */
    struct floe_model_sql *sql;       /* name order */
    size_t nsql;
    struct floe_model_stream *streams;
    size_t nstreams;
    struct floe_model_table *tables;
    size_t ntables;
    const char **stream_names;        /* NULL-terminated, borrowed */
    struct floe_config **decls;       /* owned parsed declarations */
    size_t ndecls;
};

/* Load the set in `dir` (borrowed), or the built-in one when dir is NULL
 * or "". Every declaration is checked (unknown keys, missing ones, a
 * layout or count that does not exist, a stream declared twice); err
 * names the file. On FLOE_OK *out is owned by the caller
 * (floe_models_free). FLOE_EINVAL for a bad declaration, FLOE_EIO when the
 * folder cannot be read, FLOE_ENOTFOUND when it declares no stream. */
int floe_models_load(const char *dir, struct floe_models **out, char *err);
void floe_models_free(struct floe_models *m); /* NULL is a no-op */

/* Does m->sql[i] apply to `engine` ("duckdb")? False for another engine's
 * file and for a shared file the engine replaces with its own. */
bool floe_models_applies(const struct floe_models *m, size_t i,
                         const char *engine);
/* Is m->sql[i] a setup file (run at open) rather than a transform step? */
bool floe_models_is_setup(const struct floe_models *m, size_t i);
/* The stream named `name` (len bytes), or NULL. */
const struct floe_model_stream *floe_models_stream(
    const struct floe_models *m, const char *name, size_t len);
/* The SELECT of `t` on `engine`: select.<engine> when declared, else
 * select. Borrowed from the set. */
const char *floe_model_table_select(const struct floe_model_table *t,
                                    const char *engine);

#endif
