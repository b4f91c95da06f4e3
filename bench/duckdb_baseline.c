/* duckdb_baseline.c - run SQL on the project's own libduckdb and time it.
 * The warehouse baseline of `bench/run`: DuckDB doing the least a
 * JSON-to-Parquet job can do (read_json -> COPY ... (FORMAT parquet)) on
 * the same landing files floe's warehouse loads. Same library, same
 * version as the floe binary (.deps/duckdb), in-memory database, default
 * threads. usage: duckdb_baseline SQL...  -> one JSON object on stdout:
 * {"seconds":total,"statements":[s1,s2,...]}; exit 1 with the SQL error. */
#include <duckdb.h>
#include <stdio.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    double total = 0, secs[64];
    int i, n = argc - 1;

    if (n < 1 || n > 64) {
        fprintf(stderr, "usage: duckdb_baseline SQL...\n");
        return 2;
    }
    if (duckdb_open(NULL, &db) != DuckDBSuccess ||
        duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "duckdb_baseline: cannot open DuckDB\n");
        return 1;
    }
    for (i = 0; i < n; i++) {
        duckdb_result res;
        double t0 = now_s();

        if (duckdb_query(con, argv[i + 1], &res) != DuckDBSuccess) {
            fprintf(stderr, "duckdb_baseline: %s\n  in: %s\n",
                    duckdb_result_error(&res), argv[i + 1]);
            duckdb_destroy_result(&res);
            return 1;
        }
        duckdb_destroy_result(&res);
        secs[i] = now_s() - t0;
        total += secs[i];
    }
    printf("{\"seconds\":%.4f,\"duckdb_version\":\"%s\",\"statements\":[",
           total, duckdb_library_version());
    for (i = 0; i < n; i++)
        printf("%s%.4f", i ? "," : "", secs[i]);
    printf("]}\n");
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}
