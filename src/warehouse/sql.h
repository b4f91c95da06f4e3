/* sql.h - the default model set compiled into the binary.
 * scripts/embed_sql.cmake turns the files in models/ (SQL and
 * declarations) into floe_sql_files[], sorted by name and terminated by
 * {NULL, NULL}; models.c reads them as it reads a folder. */
#ifndef FLOE_WAREHOUSE_SQL_H
#define FLOE_WAREHOUSE_SQL_H

struct floe_sql_file {
    const char *name; /* "40_customers.sql" */
    const char *text; /* the whole file, NUL-terminated */
};

extern const struct floe_sql_file floe_sql_files[];

#endif
