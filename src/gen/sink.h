/* sink.h - an output file written through one big buffer.
 * Lines are copied into a 1 MiB buffer and written with write(2) when it
 * fills or on flush, so a run does a few hundred syscalls, not one per
 * line. Counts lines and bytes. Nothing is fsynced: these are log files a
 * tailing agent reads, like an application's. */
#ifndef FLOE_GEN_SINK_H
#define FLOE_GEN_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOE_SINK_BUF (1u << 20)

struct floe_sink {
    int fd;              /* -1 when closed */
    char *buf;           /* owned, FLOE_SINK_BUF bytes */
    size_t len;
    uint64_t bytes;      /* accepted by floe_sink_write (this run) */
    uint64_t lines;      /* '\n' bytes accepted */
    char path[4096];
};

/* Make `s` safe to close before opening. Cannot fail. */
void floe_sink_init(struct floe_sink *s);
/* Create `path` (borrowed), truncating it or, with `append`, appending.
 * FLOE_EIO (logged) or FLOE_ENOMEM. */
int floe_sink_open(struct floe_sink *s, const char *path, bool append);
/* Buffer `n` bytes of `p` (borrowed). FLOE_EIO when a flush fails. */
int floe_sink_write(struct floe_sink *s, const void *p, size_t n);
/* Hand buffered bytes to the kernel. FLOE_EIO (logged). */
int floe_sink_flush(struct floe_sink *s);
/* Flush, then close and release; returns the first error. A sink that
 * was never opened is a no-op. */
int floe_sink_close(struct floe_sink *s);

#endif
