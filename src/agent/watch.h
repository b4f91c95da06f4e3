/* watch.h - inotify on each flow's directory so the agent wakes as soon
 * as a file is written, created, moved or deleted, instead of sleeping
 * out its poll interval. Polling stays as the fallback: when inotify is
 * unavailable or a directory cannot be watched (missing yet, out of
 * watches), that flow is simply polled as before. */
#ifndef FLOE_AGENT_WATCH_H
#define FLOE_AGENT_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct floe_watch {
    int fd;       /* inotify descriptor, -1: polling only */
    int *wd;      /* owned: per flow, -1 when not watched */
    size_t n;
};

/* Set up for `nflows` flows; never fails hard (fd stays -1 and *w polls).
 * FLOE_ENOMEM only. */
int floe_watch_open(struct floe_watch *w, size_t nflows);
void floe_watch_close(struct floe_watch *w); /* zeroed ok */
/* Watch `dir` (borrowed) for flow `idx` if not watched yet. */
void floe_watch_add(struct floe_watch *w, size_t idx, const char *dir);
/* Is every flow watched (so the caller may sleep longer)? */
bool floe_watch_all(const struct floe_watch *w);
/* Sleep up to `timeout_ms` or until an event. rescan[i] (n entries,
 * caller's) is set for flows whose directory gained, lost or renamed a
 * file (or all on queue overflow). Returns true if anything arrived. */
bool floe_watch_wait(struct floe_watch *w, int timeout_ms, bool *rescan);
/* Take the events already queued (w->fd polled readable elsewhere, e.g.
 * with the sender's sockets); rescan[] as for floe_watch_wait. */
bool floe_watch_read(struct floe_watch *w, bool *rescan);

#endif
