/* adbcapi.c - loads the ADBC Snowflake driver with dlopen and resolves
 * the functions listed in adbcapi.h. Process-wide on purpose, like
 * duckapi.c: the library is mapped once, the table filled once under
 * pthread_once and never changed (the handle is never closed: the Go
 * runtime inside cannot be unloaded). */
#define FLOE_ADBCAPI_IMPL
#include "warehouse/adbcapi.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/dl.h"
#include "core/err.h"

#ifndef FLOE_ADBC_SNOWFLAKE_PATH
#define FLOE_ADBC_SNOWFLAKE_PATH ""
#endif

static struct floe_adbcapi api;
static pthread_once_t api_once = PTHREAD_ONCE_INIT;
static int api_rc = FLOE_ENOTFOUND;
static char api_err[FLOE_ERR_LEN];

static void load_once(void)
{
    static const char *const where[] = {
        "@exe/libadbc_driver_snowflake.so",
        "@exe/../lib/libadbc_driver_snowflake.so", FLOE_ADBC_SNOWFLAKE_PATH,
        "libadbc_driver_snowflake.so", NULL
    };
    const struct floe_dl_spec spec = { "FLOE_ADBC_SNOWFLAKE_LIB", where };
    char tried[2048];
    void *h;

    if (floe_dl_open(&spec, &h, tried, sizeof(tried)) != FLOE_OK) {
        api_rc = floe_err(api_err, FLOE_ENOTFOUND,
                          "cannot load the ADBC Snowflake driver "
                          "(libadbc_driver_snowflake.so): run "
                          "scripts/bootstrap, or set FLOE_ADBC_SNOWFLAKE_LIB "
                          "to its path; tried:%s",
                          tried[0] ? tried : " nothing");
        return;
    }
#define FLOE_ADBCAPI_RESOLVE(f)                                                \
    if (floe_dl_sym(h, #f, &api.f) != FLOE_OK) {                               \
        api_rc = floe_err(api_err, FLOE_ENOTSUP,                               \
                          "the ADBC Snowflake driver lacks %s: floe needs "    \
                          "ADBC 1.1 (driver 1.0 or later)", #f);               \
        memset(&api, 0, sizeof(api));                                          \
        floe_dl_close(h);                                                      \
        return;                                                                \
    }
    FLOE_ADBCAPI_FUNCS(FLOE_ADBCAPI_RESOLVE)
#undef FLOE_ADBCAPI_RESOLVE
    api_rc = FLOE_OK;
}

int floe_adbcapi_load(char *err)
{
    pthread_once(&api_once, load_once);
    if (api_rc != FLOE_OK && err != NULL)
        snprintf(err, FLOE_ERR_LEN, "%s", api_err);
    return api_rc;
}

const struct floe_adbcapi *floe_adbcapi(void)
{
    return &api;
}
