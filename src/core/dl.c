/* dl.c - finding and opening optional shared libraries (dl.h). */
#define FLOE_LOG_MOD "core.dl"
#include "core/dl.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

/* Note a failure as "\n  <dlerror>", cut to what fits. */
static void note(char *tried, size_t cap, const char *what)
{
    size_t len = strlen(tried);

    if (len + 1 < cap)
        snprintf(tried + len, cap - len, "\n  %s", what);
}

static void *try_open(const char *path, char *tried, size_t cap)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

    if (h != NULL)
        floe_log_debug("loaded %s", path);
    else
        note(tried, cap, dlerror());
    return h;
}

int floe_dl_open(const struct floe_dl_spec *spec, void **out_handle,
                 char *tried, size_t cap)
{
    const char *env = spec->env ? getenv(spec->env) : NULL;
    const char *const *c;
    char exe[PATH_MAX], path[PATH_MAX + 64], *slash;
    void *h = NULL;

    *out_handle = NULL;
    if (cap > 0)
        tried[0] = '\0';
    if (env != NULL && env[0] != '\0') {
        h = try_open(env, tried, cap);
    } else {
        exe[0] = '\0';
        if (floe_self_exe(exe, sizeof(exe)) == FLOE_OK &&
            (slash = strrchr(exe, '/')) != NULL)
            *slash = '\0';
        for (c = spec->candidates; h == NULL && c && *c != NULL; c++) {
            if (strncmp(*c, "@exe/", 5) == 0) {
                if (exe[0] == '\0')
                    continue;
                snprintf(path, sizeof(path), "%s/%s", exe, *c + 5);
                if (floe_path_exists(path))
                    h = try_open(path, tried, cap);
            } else if ((*c)[0] == '/') {
                if (floe_path_exists(*c))
                    h = try_open(*c, tried, cap);
            } else if ((*c)[0] != '\0') {
                h = try_open(*c, tried, cap);
            }
        }
    }
    if (h == NULL)
        return FLOE_ENOTFOUND;
    *out_handle = h;
    return FLOE_OK;
}

int floe_dl_sym(void *handle, const char *name, void *fn)
{
    void *sym = dlsym(handle, name);

    if (sym == NULL)
        return FLOE_ENOTSUP;
    memcpy(fn, &sym, sizeof(sym));
    return FLOE_OK;
}

void floe_dl_close(void *handle)
{
    if (handle != NULL)
        dlclose(handle);
}
