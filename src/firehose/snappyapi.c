/* snappyapi.c - loads libsnappy with dlopen and resolves the functions
 * listed in snappyapi.h. The table is process-wide state on purpose: a
 * shared library is mapped once per process, so it is filled once under
 * pthread_once and never changes afterwards (the handle is never closed:
 * other threads may be compressing). */
#define FLOE_SNAPPYAPI_IMPL
#include "firehose/snappyapi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dl.h"
#include "core/err.h"

#ifndef FLOE_SNAPPY_PATH
#define FLOE_SNAPPY_PATH ""
#endif

static struct floe_snappyapi api;
static pthread_once_t api_once = PTHREAD_ONCE_INIT;
static int api_rc = FLOE_ENOTFOUND;
static char api_err[FLOE_ERR_LEN];

static void load_once(void)
{
    /* The runtime package's soname first (libsnappy1v5 has no
     * unversioned link), then the library found at build time. */
    static const char *const where[] = { "libsnappy.so.1", FLOE_SNAPPY_PATH,
                                         "libsnappy.so", NULL };
    const struct floe_dl_spec spec = { "FLOE_SNAPPY_LIB", where };
    char tried[2048];
    void *h;

    if (floe_dl_open(&spec, &h, tried, sizeof(tried)) != FLOE_OK) {
        api_rc = floe_err(api_err, FLOE_ENOTFOUND,
                          "cannot load the Snappy library (libsnappy.so.1) "
                          "needed by Snappy and HADOOP_SNAPPY compression: "
                          "install libsnappy1v5 (Debian) or set "
                          "FLOE_SNAPPY_LIB to its path; tried:%s",
                          tried[0] ? tried : " nothing");
        return;
    }
#define FLOE_SNAPPYAPI_RESOLVE(f)                                              \
    if (floe_dl_sym(h, #f, &api.f) != FLOE_OK) {                               \
        api_rc = floe_err(api_err, FLOE_ENOTSUP,                               \
                          "the Snappy library lacks %s: it is not "            \
                          "libsnappy's C API (snappy-c.h)", #f);               \
        memset(&api, 0, sizeof(api));                                          \
        floe_dl_close(h);                                                      \
        return;                                                                \
    }
    FLOE_SNAPPYAPI_FUNCS(FLOE_SNAPPYAPI_RESOLVE)
#undef FLOE_SNAPPYAPI_RESOLVE
    api_rc = FLOE_OK;
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
