/* watch.c - inotify wake-ups for the agent loop (watch.h). One
 * non-blocking inotify descriptor for all flows; events are drained in
 * one go per wake-up and only tell which flows must rescan. */
#define FLOE_LOG_MOD "agent.watch"
#include "agent/watch.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

#define DIR_EVENTS (IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | \
                    IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
#define LAYOUT_EVENTS (IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | \
                       IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)

int floe_watch_open(struct floe_watch *w, size_t nflows)
{
    size_t i;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->wd = malloc((nflows ? nflows : 1) * sizeof(*w->wd));
    if (w->wd == NULL)
        return FLOE_ENOMEM;
    w->n = nflows;
    for (i = 0; i < nflows; i++)
        w->wd[i] = -1;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0)
        floe_log_errno("inotify unavailable; polling files instead");
    return FLOE_OK;
}

void floe_watch_close(struct floe_watch *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0 && w->wd != NULL)
        close(w->fd);
    free(w->wd);
    memset(w, 0, sizeof(*w));
    w->fd = -1;
}

void floe_watch_add(struct floe_watch *w, size_t idx, const char *dir)
{
    if (w->fd < 0 || idx >= w->n || w->wd[idx] >= 0)
        return;
    w->wd[idx] = inotify_add_watch(w->fd, dir, DIR_EVENTS | IN_ONLYDIR);
    if (w->wd[idx] < 0 && errno != ENOENT)
        floe_log_errno("inotify_add_watch %s (polling it instead)", dir);
}

bool floe_watch_all(const struct floe_watch *w)
{
    size_t i;

    if (w->fd < 0)
        return false;
    for (i = 0; i < w->n; i++)
        if (w->wd[i] < 0)
            return false;
    return true;
}

bool floe_watch_wait(struct floe_watch *w, int timeout_ms, bool *rescan)
{
    struct pollfd p;

    if (w->fd < 0) {
        if (timeout_ms > 0)
            poll(NULL, 0, timeout_ms);
        return false;
    }
    p.fd = w->fd;
    p.events = POLLIN;
    if (poll(&p, 1, timeout_ms) <= 0)
        return false;
    return floe_watch_read(w, rescan);
}

bool floe_watch_read(struct floe_watch *w, bool *rescan)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;
    size_t i;

    if (w->fd < 0)
        return false;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        char *ptr;

        if (n <= 0)
            break;
        any = true;
        for (ptr = buf; ptr < buf + n;) {
            const struct inotify_event *ev = (const void *)ptr;

            ptr += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                for (i = 0; i < w->n; i++)
                    rescan[i] = true;
                continue;
            }
            if (!(ev->mask & LAYOUT_EVENTS))
                continue;
            for (i = 0; i < w->n; i++) {
                if (w->wd[i] != ev->wd)
                    continue;
                rescan[i] = true;
                if (ev->mask & IN_IGNORED)
                    w->wd[i] = -1; /* directory gone: watch again later */
            }
        }
    }
    return any;
}
