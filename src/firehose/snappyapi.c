/* snappyapi.c - loads libsnappy with dlopen and resolves the functions
 * listed in snappyapi.h. The table is process-wide state on purpose: a
 * shared library is mapped once per process, so it is filled once under
 * pthread_once and never changes afterwards (the handle is never closed:
 * other threads may be compressing). */
#define FLOE_SNAPPYAPI_IMPL
#define FLOE_LOG_MOD "firehose.snappyapi"
#include "firehose/snappyapi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

#ifndef FLOE_SNAPPY_PATH
#define FLOE_SNAPPY_PATH ""
#endif

static struct floe_snappyapi api;
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

static void load_once(void)
{
    struct floe_buf tried;
    void *h = NULL, *sym;
    const char *env = getenv("FLOE_SNAPPY_LIB");

    floe_buf_init(&tried, 4096);
    if (env != NULL && env[0] != '\0') {
        h = try_open(env, &tried); /* an explicit choice stands alone */
    } else {
        /* The runtime package's soname first (libsnappy1v5 has no
         * unversioned link), then the library found at build time. */
        h = try_open("libsnappy.so.1", &tried);
        if (h == NULL && floe_path_exists(FLOE_SNAPPY_PATH))
            h = try_open(FLOE_SNAPPY_PATH, &tried);
        if (h == NULL)
            h = try_open("libsnappy.so", &tried);
    }
    if (h == NULL) {
        api_rc = floe_err(api_err, FLOE_ENOTFOUND,
                          "cannot load the Snappy library (libsnappy.so.1) "
                          "needed by Snappy and HADOOP_SNAPPY compression: "
                          "install libsnappy1v5 (Debian) or set "
                          "FLOE_SNAPPY_LIB to its path; tried:%s",
                          tried.len ? tried.data : " nothing");
        goto cleanup;
    }
#define FLOE_SNAPPYAPI_RESOLVE(f)                                              \
    sym = dlsym(h, #f);                                                        \
    if (sym == NULL) {                                                         \
        api_rc = floe_err(api_err, FLOE_ENOTSUP,                               \
                          "the Snappy library lacks %s: it is not "            \
                          "libsnappy's C API (snappy-c.h)", #f);               \
        dlclose(h);                                                            \
        goto cleanup;                                                          \
    }                                                                          \
    memcpy(&api.f, &sym, sizeof(sym));
    FLOE_SNAPPYAPI_FUNCS(FLOE_SNAPPYAPI_RESOLVE)
#undef FLOE_SNAPPYAPI_RESOLVE
    api_rc = FLOE_OK;
cleanup:
    floe_buf_free(&tried);
}

int floe_snappyapi_load(char *err)
{
    pthread_once(&api_once, load_once);
    if (api_rc != FLOE_OK && err != NULL)
        snprintf(err, FLOE_ERR_LEN, "%s", api_err);
    return api_rc;
}

const struct floe_snappyapi *floe_snappyapi(void)
{
    return &api;
}
