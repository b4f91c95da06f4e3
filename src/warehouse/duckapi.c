/* duckapi.c - loads libduckdb with dlopen and resolves the functions
 * listed in duckapi.h. The table is process-wide state on purpose: a
 * shared library is mapped once per process, so it is filled once under
 * pthread_once and never changes afterwards (the handle is never closed;
 * DuckDB's threads may outlive any one database). */
#define FLOE_DUCKAPI_IMPL
#include "warehouse/duckapi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dl.h"
#include "core/err.h"

#ifndef FLOE_DUCKDB_PATH
#define FLOE_DUCKDB_PATH ""
#endif

static struct floe_duckapi api;
static pthread_once_t api_once = PTHREAD_ONCE_INIT;
static int api_rc = FLOE_ENOTFOUND;
static char api_err[FLOE_ERR_LEN];

static void load_once(void)
{
    static const char *const where[] = { "@exe/libduckdb.so",
                                         "@exe/../lib/libduckdb.so",
                                         FLOE_DUCKDB_PATH, "libduckdb.so",
                                         NULL };
    const struct floe_dl_spec spec = { "FLOE_DUCKDB_LIB", where };
    char tried[2048];
    void *h;

    if (floe_dl_open(&spec, &h, tried, sizeof(tried)) != FLOE_OK) {
        api_rc = floe_err(api_err, FLOE_ENOTFOUND,
                          "cannot load the DuckDB library (libduckdb.so): "
                          "run scripts/bootstrap, or set FLOE_DUCKDB_LIB to "
                          "its path; tried:%s",
                          tried[0] ? tried : " nothing");
        return;
    }
#define FLOE_DUCKAPI_RESOLVE(f)                                                \
    if (floe_dl_sym(h, #f, &api.f) != FLOE_OK) {                               \
        api_rc = floe_err(api_err, FLOE_ENOTSUP,                               \
                          "the DuckDB library lacks %s: it is too old; "       \
                          "floe needs DuckDB 1.4 or later", #f);               \
        memset(&api, 0, sizeof(api));                                          \
        floe_dl_close(h);                                                      \
        return;                                                                \
    }
    FLOE_DUCKAPI_FUNCS(FLOE_DUCKAPI_RESOLVE)
#undef FLOE_DUCKAPI_RESOLVE
    api_rc = FLOE_OK;
}

int floe_duckapi_load(char *err)
{
    pthread_once(&api_once, load_once);
    if (api_rc != FLOE_OK && err != NULL)
        snprintf(err, FLOE_ERR_LEN, "%s", api_err);
    return api_rc;
}

const struct floe_duckapi *floe_duckapi(void)
{
    return &api;
}
