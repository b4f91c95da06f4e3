/* dl.h - optional shared libraries opened on first use (dlopen), for the
 * big or C++ dependencies only some commands need (libduckdb for the
 * warehouse, libsnappy for Snappy objects): the processes that never use
 * them never map them. A part keeps its own function table and once-only
 * state; this module finds the library and resolves symbols. */
#ifndef FLOE_CORE_DL_H
#define FLOE_CORE_DL_H

#include <stddef.h>

#include "core/err.h"

/* Where a library may be. `env` names a variable that, when set and not
 * empty, is the only candidate (an explicit choice is never
 * second-guessed). Otherwise `candidates` (NULL-terminated) are tried in
 * order: a name starting with "@exe/" is relative to the directory of the
 * running binary, an absolute path is tried only if it exists, anything
 * else goes to the dynamic linker's search. */
struct floe_dl_spec {
    const char *env;
    const char *const *candidates;
};

/* Open the first candidate that loads (RTLD_NOW | RTLD_LOCAL). On
 * FLOE_ENOTFOUND `tried` (cap bytes) lists each failure's dlerror() on
 * its own indented line, for the caller's message. */
int floe_dl_open(const struct floe_dl_spec *spec, void **out_handle,
                 char *tried, size_t cap);
/* Resolve `name` into the function pointer at `fn` (its size is that of a
 * data pointer on every platform floe runs on). FLOE_ENOTSUP if absent. */
int floe_dl_sym(void *handle, const char *name, void *fn);
void floe_dl_close(void *handle); /* NULL ok */

#endif
