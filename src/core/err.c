/* err.c - names of the floe_rc codes and the err[] helper. */
#include "core/err.h"

#include <stdarg.h>

const char *floe_strerror(int rc)
{
    switch (rc) {
    case FLOE_OK: return "success";
    case FLOE_ENOMEM: return "out of memory";
    case FLOE_EINVAL: return "invalid argument";
    case FLOE_EIO: return "I/O error";
    case FLOE_ETOOBIG: return "too big";
    case FLOE_EAGAIN: return "try again later";
    case FLOE_ENOTFOUND: return "not found";
    case FLOE_EEXIST: return "already exists";
    case FLOE_ENOTSUP: return "not supported";
    case FLOE_ECORRUPT: return "corrupt data";
    case FLOE_EHELP: return "help shown";
    case FLOE_EREMOTE: return "remote error";
    default: return "unknown error";
    }
}

int floe_err(char *err, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return rc;
    va_start(ap, fmt);
    vsnprintf(err, FLOE_ERR_LEN, fmt, ap);
    va_end(ap);
    return rc;
}
