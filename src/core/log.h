/* log.h - leveled logging to stderr.
 * Define FLOE_LOG_MOD ("agent.tail") before including. Macros cost one
 * compare when the level is off. error: a human must act; warn: data
 * rejected or retried; info: lifecycle; debug: per batch, never per record.
 * Secrets never reach a log. */
#ifndef FLOE_CORE_LOG_H
#define FLOE_CORE_LOG_H

#include <errno.h>

#include "core/err.h"

#ifndef FLOE_LOG_MOD
#define FLOE_LOG_MOD "floe"
#endif

enum floe_log_lvl {
    FLOE_LOG_ERROR = 0,
    FLOE_LOG_WARN = 1,
    FLOE_LOG_INFO = 2,
    FLOE_LOG_DEBUG = 3,
};

/* Process-wide on purpose: set once at start-up from --log-level or
 * FLOE_LOG_LEVEL, read everywhere. */
extern int floe_log_level;

/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int floe_log_parse_level(const char *name);
void floe_log_write(int lvl, const char *mod, int errnum, const char *fmt,
                    ...) FLOE_PRINTF(4, 5);

#define floe_log_at(lvl, errnum, ...)                              \
    do {                                                           \
        if ((lvl) <= floe_log_level)                               \
            floe_log_write((lvl), FLOE_LOG_MOD, (errnum), __VA_ARGS__); \
    } while (0)

#define floe_log_error(...) floe_log_at(FLOE_LOG_ERROR, 0, __VA_ARGS__)
#define floe_log_warn(...) floe_log_at(FLOE_LOG_WARN, 0, __VA_ARGS__)
#define floe_log_info(...) floe_log_at(FLOE_LOG_INFO, 0, __VA_ARGS__)
#define floe_log_debug(...) floe_log_at(FLOE_LOG_DEBUG, 0, __VA_ARGS__)
/* Appends the text of the current errno. */
#define floe_log_errno(...) floe_log_at(FLOE_LOG_ERROR, errno, __VA_ARGS__)

#endif
