/* sql.h - the SQL models compiled into the binary.
 * scripts/embed_sql.cmake turns the files in src/warehouse/sql/ into
 * floe_sql_files[], sorted by name and terminated by {NULL, NULL}. Naming:
 * "0N_*.sql" set up schema and views (run when the warehouse opens),
 * "1N_*.sql".."9N_*.sql" are the transform steps, run in name order in one
 * transaction per batch. "NN_name.<engine>.sql" is engine-specific and
 * replaces "NN_name.sql" for that engine (none needed yet). */
#ifndef FLOE_WAREHOUSE_SQL_H
#define FLOE_WAREHOUSE_SQL_H

#include <stdbool.h>

struct floe_sql_file {
    const char *name; /* "40_customers.sql" */
    const char *text; /* the whole file, NUL-terminated */
};

extern const struct floe_sql_file floe_sql_files[];

/* Does `f` apply to `engine` ("duckdb")? False for another engine's file
 * and for a shared file that `engine` overrides with its own. */
bool floe_sql_applies(const struct floe_sql_file *f, const char *engine);
/* Is `f` a setup file (run at open) rather than a transform step? */
bool floe_sql_is_setup(const struct floe_sql_file *f);

#endif
