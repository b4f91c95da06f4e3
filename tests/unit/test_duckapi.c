/* test_duckapi.c - libduckdb is loaded on first use, not at startup: it is
 * not mapped before floe_duckapi_load(), the loaded table works, and a
 * missing library is a clear FLOE_ENOTFOUND naming the way out. */
#include "warehouse/duckapi.h"

#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "test.h"

/* Runs first: nothing has loaded DuckDB yet in this process. */
static void test_lazy_load(void)
{
    char err[FLOE_ERR_LEN];
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_result res;

    CHECK(!test_mapped("libduckdb"));
    CHECK(floe_duckapi_load(err) == FLOE_OK);
    CHECK(test_mapped("libduckdb"));
    CHECK(floe_duckapi_load(err) == FLOE_OK); /* idempotent */
    CHECK(strlen(duckdb_library_version()) > 0);
    CHECK(duckdb_open(NULL, &db) == DuckDBSuccess);
    CHECK(duckdb_connect(db, &con) == DuckDBSuccess);
    CHECK(duckdb_query(con, "SELECT 42", &res) == DuckDBSuccess);
    CHECK(duckdb_column_count(&res) == 1);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

/* In a child (the load outcome is per process): FLOE_DUCKDB_LIB pointing
 * nowhere is reported, not second-guessed by falling back elsewhere. */
static void test_missing_library(void)
{
    int status = 0;
    pid_t pid = fork();

    CHECK(pid >= 0);
    if (pid == 0) {
        char err[FLOE_ERR_LEN] = "";
        int rc;

        setenv("FLOE_DUCKDB_LIB", "/nonexistent/libduckdb.so", 1);
        rc = floe_duckapi_load(err);
        _exit(rc == FLOE_ENOTFOUND && strstr(err, "FLOE_DUCKDB_LIB") &&
                      strstr(err, "/nonexistent/libduckdb.so")
                  ? 0
                  : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

FLOE_TESTS({ "test_missing_library", test_missing_library },
           { "test_lazy_load", test_lazy_load })
