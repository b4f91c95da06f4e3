/* err.h - the one error enum every Floe function returns.
 * Codes are never renumbered; floe_strerror() names them. Text meant for a
 * human goes into a caller-provided char err[FLOE_ERR_LEN]. */
#ifndef FLOE_CORE_ERR_H
#define FLOE_CORE_ERR_H

#include <stdio.h>
#include <stdlib.h>

#define FLOE_ERR_LEN 512

enum floe_rc {
    FLOE_OK = 0,
    FLOE_ENOMEM = -1,    /* allocation failed */
    FLOE_EINVAL = -2,    /* bad argument or input */
    FLOE_EIO = -3,       /* system or disk error */
    FLOE_ETOOBIG = -4,   /* would pass a hard limit */
    FLOE_EAGAIN = -5,    /* retry later */
    FLOE_ENOTFOUND = -6, /* no such object, stream, batch... */
    FLOE_EEXIST = -7,    /* already exists */
    FLOE_ENOTSUP = -8,   /* not supported by this backend or build */
    FLOE_ECORRUPT = -9,  /* stored data failed a check */
    FLOE_EHELP = -10,    /* --help was printed; the caller exits 0 */
    FLOE_EREMOTE = -11,  /* a peer (HTTP, SQL engine) reported an error */
};

/* Static text naming `rc`; never NULL. */
const char *floe_strerror(int rc);

#if defined(__GNUC__)
#define FLOE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FLOE_PRINTF(f, a)
#endif

/* Writes into err[FLOE_ERR_LEN] (may be NULL); returns `rc` for chaining:
 * return floe_err(err, FLOE_EINVAL, "bad %s", name); */
int floe_err(char *err, int rc, const char *fmt, ...) FLOE_PRINTF(3, 4);

/* Broken invariants only: prints where and aborts. */
#define FLOE_ASSERT(cond)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "floe: assertion failed: %s (%s:%d)\n", #cond, \
                    __FILE__, __LINE__);                                   \
            abort();                                                       \
        }                                                                  \
    } while (0)

#endif
