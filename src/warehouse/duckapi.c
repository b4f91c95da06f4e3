/* duckapi.c - loads libduckdb with dlopen and resolves the functions
 * listed in duckapi.h. The table is process-wide state on purpose: a
 * shared library is mapped once per process, so it is filled once under
 * pthread_once and never changes afterwards (the handle is never closed;
 * DuckDB's threads may outlive any one database). */
#define FLOE_DUCKAPI_IMPL
#define FLOE_LOG_MOD "warehouse.duckapi"
#include "warehouse/duckapi.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

#ifndef FLOE_DUCKDB_PATH
#define FLOE_DUCKDB_PATH ""
#endif

static struct floe_duckapi api;
static pthread_once_t api_once = PTHREAD_ONCE_INIT;
static int api_rc = FLOE_ENOTFOUND;
static char api_err[FLOE_ERR_LEN];

/* Try one candidate; on failure, note dlerror() in `tried`. */
static void *try_open(const char *path, struct floe_buf *tried)
{
    void *h;

    if (path == NULL || path[0] == '\0')
        return NULL;
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h != NULL) {
        floe_log_debug("loaded %s", path);
        return h;
    }
    (void)floe_buf_addf(tried, "\n  %s", dlerror());
    return NULL;
}

/* Candidate paths beside the running binary: <dir>/libduckdb.so and
 * <dir>/../lib/libduckdb.so. */
static void *open_beside_exe(struct floe_buf *tried)
{
    char exe[PATH_MAX], path[PATH_MAX + 32], *slash;
    void *h;

    if (floe_self_exe(exe, sizeof(exe)) != FLOE_OK)
        return NULL;
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    snprintf(path, sizeof(path), "%s/libduckdb.so", exe);
    if (floe_path_exists(path) && (h = try_open(path, tried)) != NULL)
        return h;
    snprintf(path, sizeof(path), "%s/../lib/libduckdb.so", exe);
    if (floe_path_exists(path) && (h = try_open(path, tried)) != NULL)
        return h;
    return NULL;
}

static void load_once(void)
{
    struct floe_buf tried;
    void *h = NULL, *sym;
    const char *env = getenv("FLOE_DUCKDB_LIB");

    floe_buf_init(&tried, 4096);
    if (env != NULL && env[0] != '\0') {
        /* An explicit choice is never second-guessed. */
        h = try_open(env, &tried);
    } else {
        h = open_beside_exe(&tried);
        if (h == NULL && floe_path_exists(FLOE_DUCKDB_PATH))
            h = try_open(FLOE_DUCKDB_PATH, &tried);
        if (h == NULL)
            h = try_open("libduckdb.so", &tried);
    }
    if (h == NULL) {
        api_rc = floe_err(api_err, FLOE_ENOTFOUND,
                          "cannot load the DuckDB library (libduckdb.so): "
                          "run scripts/bootstrap, or set FLOE_DUCKDB_LIB to "
                          "its path; tried:%s",
                          tried.len ? tried.data : " nothing");
        goto cleanup;
    }
#define FLOE_DUCKAPI_RESOLVE(f)                                                \
    sym = dlsym(h, #f);                                                        \
    if (sym == NULL) {                                                         \
        api_rc = floe_err(api_err, FLOE_ENOTSUP,                               \
                          "the DuckDB library lacks %s: it is too old; "       \
                          "floe needs DuckDB 1.4 or later", #f);               \
        memset(&api, 0, sizeof(api));                                          \
        dlclose(h);                                                            \
        goto cleanup;                                                          \
    }                                                                          \
    memcpy(&api.f, &sym, sizeof(sym));
    FLOE_DUCKAPI_FUNCS(FLOE_DUCKAPI_RESOLVE)
#undef FLOE_DUCKAPI_RESOLVE
    api_rc = FLOE_OK;
cleanup:
    floe_buf_free(&tried);
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
