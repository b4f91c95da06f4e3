/* adbcapi.h - the ADBC C API (Apache Arrow Database Connectivity) of the
 * Snowflake driver, loaded with dlopen on first use. The driver
 * (libadbc_driver_snowflake.so, ~74 MB, Go inside) exports the ADBC entry
 * points itself, so no driver manager sits between: floe resolves them
 * from the driver into a table, as duckapi.h does for libduckdb, and only
 * the Snowflake engine ever maps it. Results arrive as Arrow C Data
 * Interface streams (struct ArrowArrayStream in adbc.h). */
#ifndef FLOE_WAREHOUSE_ADBCAPI_H
#define FLOE_WAREHOUSE_ADBCAPI_H

#include <adbc.h>

#define FLOE_ADBCAPI_FUNCS(X)                                                  \
    X(AdbcDatabaseNew) X(AdbcDatabaseSetOption) X(AdbcDatabaseInit)            \
    X(AdbcDatabaseRelease) X(AdbcConnectionNew) X(AdbcConnectionInit)          \
    X(AdbcConnectionRelease) X(AdbcConnectionSetOption)                        \
    X(AdbcConnectionCommit) X(AdbcConnectionRollback) X(AdbcStatementNew)      \
    X(AdbcStatementSetSqlQuery) X(AdbcStatementExecuteQuery)                   \
    X(AdbcStatementRelease)

struct floe_adbcapi {
#define FLOE_ADBCAPI_FIELD(f) __typeof__(f) *f;
    FLOE_ADBCAPI_FUNCS(FLOE_ADBCAPI_FIELD)
#undef FLOE_ADBCAPI_FIELD
};

/* Load the driver once per process (thread-safe). Tries
 * $FLOE_ADBC_SNOWFLAKE_LIB, libadbc_driver_snowflake.so beside the floe
 * binary and in ../lib, the copy floe was built against, then the dynamic
 * linker's search path. FLOE_ENOTFOUND with what was tried and what to
 * do. Later calls return the first outcome. */
int floe_adbcapi_load(char *err);
/* The loaded table; only valid after floe_adbcapi_load() returned FLOE_OK. */
const struct floe_adbcapi *floe_adbcapi(void);

#ifndef FLOE_ADBCAPI_IMPL
#define AdbcDatabaseNew (floe_adbcapi()->AdbcDatabaseNew)
#define AdbcDatabaseSetOption (floe_adbcapi()->AdbcDatabaseSetOption)
#define AdbcDatabaseInit (floe_adbcapi()->AdbcDatabaseInit)
#define AdbcDatabaseRelease (floe_adbcapi()->AdbcDatabaseRelease)
#define AdbcConnectionNew (floe_adbcapi()->AdbcConnectionNew)
#define AdbcConnectionInit (floe_adbcapi()->AdbcConnectionInit)
#define AdbcConnectionRelease (floe_adbcapi()->AdbcConnectionRelease)
#define AdbcConnectionSetOption (floe_adbcapi()->AdbcConnectionSetOption)
#define AdbcConnectionCommit (floe_adbcapi()->AdbcConnectionCommit)
#define AdbcConnectionRollback (floe_adbcapi()->AdbcConnectionRollback)
#define AdbcStatementNew (floe_adbcapi()->AdbcStatementNew)
#define AdbcStatementSetSqlQuery (floe_adbcapi()->AdbcStatementSetSqlQuery)
#define AdbcStatementExecuteQuery (floe_adbcapi()->AdbcStatementExecuteQuery)
#define AdbcStatementRelease (floe_adbcapi()->AdbcStatementRelease)
#endif

#endif
