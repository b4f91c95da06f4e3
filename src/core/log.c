/* log.c - one line per event: time, level, module, message. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int floe_log_level = FLOE_LOG_INFO;

int floe_log_parse_level(const char *name)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

void floe_log_write(int lvl, const char *mod, int errnum, const char *fmt, ...)
{
    static const char *tags[] = { "error", "warn", "info", "debug" };
    char msg[2048], ebuf[128], ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    if (errnum != 0) {
        /* GNU strerror_r (we build with _GNU_SOURCE) is thread-safe. */
        const char *etext = strerror_r(errnum, ebuf, sizeof(ebuf));

        fprintf(stderr, "%s.%03ldZ %-5s [%s] %s: %s\n", ts,
                now.tv_nsec / 1000000, tags[lvl], mod, msg, etext);
    } else {
        fprintf(stderr, "%s.%03ldZ %-5s [%s] %s\n", ts,
                now.tv_nsec / 1000000, tags[lvl], mod, msg);
    }
}
