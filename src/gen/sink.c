/* sink.c - buffered file output (see sink.h).
 * write(2) is retried on EINTR and short writes; any other write error is
 * logged and returned, and emit then fails the whole run (exit non-zero),
 * so a short file is never reported as complete. */
#define FLOE_LOG_MOD "gen.sink"
#include "gen/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

void floe_sink_init(struct floe_sink *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

int floe_sink_open(struct floe_sink *s, const char *path, bool append)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);

    floe_sink_init(s);
    if ((size_t)snprintf(s->path, sizeof(s->path), "%s", path) >=
        sizeof(s->path))
        return FLOE_EINVAL;
    s->buf = malloc(FLOE_SINK_BUF);
    if (s->buf == NULL)
        return FLOE_ENOMEM;
    s->fd = open(path, flags, 0644);
    if (s->fd < 0) {
        floe_log_errno("open %s", path);
        free(s->buf);
        s->buf = NULL;
        return FLOE_EIO;
    }
    return FLOE_OK;
}

int floe_sink_flush(struct floe_sink *s)
{
    const char *p = s->buf;
    size_t left = s->len;

    while (left > 0) {
        ssize_t n = write(s->fd, p, left);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            floe_log_errno("write %s", s->path);
            return FLOE_EIO;
        }
        p += n;
        left -= (size_t)n;
    }
    s->len = 0;
    return FLOE_OK;
}

int floe_sink_write(struct floe_sink *s, const void *p, size_t n)
{
    const char *c = p;
    size_t i;
    int rc;

    for (i = 0; i < n; i++)
        s->lines += c[i] == '\n';
    s->bytes += n;
    while (n > 0) {
        size_t room = FLOE_SINK_BUF - s->len, take = n < room ? n : room;

        memcpy(s->buf + s->len, c, take);
        s->len += take;
        c += take;
        n -= take;
        if (s->len == FLOE_SINK_BUF) {
            rc = floe_sink_flush(s);
            if (rc != FLOE_OK)
                return rc;
        }
    }
    return FLOE_OK;
}

int floe_sink_close(struct floe_sink *s)
{
    int rc = FLOE_OK;

    if (s->fd >= 0) {
        rc = floe_sink_flush(s);
        if (close(s->fd) != 0 && rc == FLOE_OK) {
            floe_log_errno("close %s", s->path);
            rc = FLOE_EIO;
        }
    }
    free(s->buf);
    s->buf = NULL;
    s->fd = -1;
    s->len = 0;
    return rc;
}
