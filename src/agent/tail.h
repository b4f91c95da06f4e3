/* tail.h - the file tracker of one flow: a literal directory and a glob
 * on file names. Files are identified by device + inode + a fingerprint
 * of their first bytes, so a rename keeps its reading state and a file
 * deleted and recreated with the same inode is a new file; a new inode at
 * a known path is a new file (the old one is read to its end through its
 * open descriptor); a file that shrinks below what was read, or whose
 * first bytes or bytes before the offset changed when it grew, was
 * truncated and is read again from 0. Bytes come in with big reads into a
 * per-file buffer and are split into lines ('\n' kept) by one memchr
 * pass, or into multi-line records when a start pattern is set. Copy
 * detection (copytruncate) is in rotate.h.
 * Descriptors: every tracker of the process shares one budget (from
 * RLIMIT_NOFILE). Past it, files found wait for a descriptor, and files
 * read to their end are closed ("parked", still tracked: path, identity,
 * offset) and reopened, checked to be the same file, when a scan sees
 * them change; so any number of files is read, in turn. */
#ifndef FLOE_AGENT_TAIL_H
#define FLOE_AGENT_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/rotate.h"
#include "core/err.h"

/* Bytes asked for per read(), and the size of a busy file's buffer
 * unless a longer line is pending. */
#define FLOE_TAIL_READ_SIZE (128 * 1024)

/* A file's identity (file_id): "(dev=<hex>,ino=<n>)", the JVM file key
 * the Kinesis Agent stores, then "#<len>:<16 hex>": the fingerprint, a
 * 64-bit FNV-1a hash of the first <len> bytes, len = min(size,
 * FLOE_TAIL_FP_LEN), taken again while the file is shorter than that.
 * An identity is compared against the same length of a file; a file
 * shorter than that length is another (or a truncated) file. Same size as
 * struct floe_ckpt_row.file_id, which stores it. */
#define FLOE_TAIL_FP_LEN 1024
#define FLOE_TAIL_ID_LEN 96

struct floe_jregex;

struct floe_tail_file {
    char *path;            /* owned; the current name */
    char file_id[FLOE_TAIL_ID_LEN]; /* identity, see FLOE_TAIL_FP_LEN */
    dev_t dev;
    ino_t ino;
    uint64_t fp_hash;      /* fingerprint of [0, fp_len) */
    uint32_t fp_len;
    int fd;                /* -1: waiting (is_new) or parked */
    uint64_t offset;       /* file offset just past the last line handed out */
    uint16_t gen;          /* bumped by floe_tail_seek: offsets handed out
                              before belong to an older reading of the
                              file and must not checkpoint it */
    uint64_t gen_off;      /* where this generation's reading started */
    int64_t mtime_ms;
    int64_t size;          /* at the last stat */
    char *buf;             /* owned read buffer; [0, len) not yet consumed */
    size_t len;
    size_t cap;            /* bytes allocated at buf (0: none) */
    bool is_new;           /* found by a scan, start not decided */
    bool first;            /* found by the first scan */
    bool grew;             /* parked and changed since: to reopen */
    bool replaced;         /* parked, and its inode now holds another
                              file: kept only for the batches that refer
                              to it, then pruned */
    int64_t first_seen_ms; /* monotonic, when the scan found it */
    bool eof;              /* the last read hit the end of the file */
    bool gone;             /* no longer matched: dropped at its end */
    bool discarding;       /* inside the rest of an over-long line */
    int64_t skip_lines;    /* header lines still to skip */
    size_t rec_len;        /* multi-line: buf[0, rec_len) is the pending
                              record's complete lines */
    bool ml_skip;          /* multi-line: dropping lines to the next start */
    struct floe_rotate_fp fp; /* of [0, offset): to recognise a copy */
};

/* What the tracker hands out per line: `line` (borrowed, valid during the
 * call) is `len` bytes including its '\n' (none when `no_newline`: the
 * unterminated end of a file, see floe_tail_flush). `end_off` is the file
 * offset just past it. Return FLOE_OK to go on, FLOE_EAGAIN to stop here
 * (the line is not consumed and comes again next time), anything else
 * aborts the read with that code. */
struct floe_tail_line {
    const char *line;
    size_t len;
    uint64_t end_off;
    bool truncated;        /* cut at the record limit */
    bool no_newline;
};
typedef int (*floe_tail_fn)(void *ctx, uint32_t slot,
                            const struct floe_tail_line *l);

struct floe_tail {
    char *dir;             /* owned, literal directory */
    char *glob;            /* owned, fnmatch pattern on names */
    struct floe_tail_file **files; /* owned; a slot never moves */
    size_t nfiles;
    bool first_scan_done;
    size_t max_line;       /* record limit (1,024,000) */
    const char *trunc_term; /* borrowed */
    size_t trunc_term_len;
    uint64_t lines_truncated;
    uint64_t lines_skipped;
    struct floe_jregex *start_re; /* multiLineStartPattern, borrowed */
    struct floe_rotate_ghost ghosts[FLOE_ROTATE_GHOSTS];
    unsigned next_ghost;
    size_t next_admit;     /* round robin over files that want a fd */
    size_t nwaiting;       /* files that wait for a descriptor */
    int64_t warned_ms;     /* last warning about them (monotonic) */
};

/* Split "dir/pattern" (directory literal). FLOE_EINVAL with err if the
 * directory part has glob characters or the pattern is empty. */
int floe_tail_init(struct floe_tail *t, const char *file_pattern,
                   const char *trunc_term, size_t trunc_term_len,
                   char *err);
void floe_tail_free(struct floe_tail *t);

/* Raise the soft RLIMIT_NOFILE to the hard limit (logged) and set the
 * descriptor budget of all trackers to it less a reserve for sockets,
 * SQLite and inotify. Call once, before any scan. Returns that reserve
 * (0: no limit), which bounds the sender's connections. */
size_t floe_tail_limit_fds(void);
/* Set the budget of all trackers directly (0: none, the default). */
void floe_tail_set_fd_budget(size_t max);

/* List the directory and update the tracked set. New files get
 * is_new = true and offset 0 (`first` set on the first scan; it is
 * *out_first: initialPosition applies only to them), then descriptors are
 * handed out (floe_tail_admit); a new file without one keeps fd -1. */
int floe_tail_scan(struct floe_tail *t, bool *out_first);
/* Hand descriptors to the files that want one, in turn: when there are
 * not enough, first close files read to their end (parked); then open new
 * files and reopen parked ones that changed, a reopened file being
 * checked to be the one read (same first bytes and bytes before its
 * offset, not shorter), else it is tracked as a new file. Logs a warning
 * while files wait. *out_new gets how many new files got a descriptor
 * (their start is to be decided: is_new). FLOE_ENOMEM, else FLOE_OK (a
 * file that cannot be opened is logged and found again by a scan). */
int floe_tail_admit(struct floe_tail *t, size_t *out_new);
/* Is `id` (an identity from a checkpoint, borrowed) file `f`: same device
 * and inode, and when `id` has a fingerprint, the same hash of the same
 * number of first bytes (one pread)? */
bool floe_tail_same_file(const struct floe_tail_file *f, const char *id);
/* The same as a floe_ckpt_match_fn (`file`: the struct floe_tail_file). */
static inline bool floe_tail_match_id(void *file, const char *id)
{
    return floe_tail_same_file(file, id);
}
/* Start reading `f` (open) at `offset`, skipping `skip_lines` lines
 * first; its fingerprint is taken again. */
int floe_tail_seek(struct floe_tail_file *f, uint64_t offset,
                   int64_t skip_lines);
/* Offset just after the last '\n' of the file (END_OF_FILE start). */
int floe_tail_end_offset(struct floe_tail_file *f, uint64_t *out);

/* Read from slot `slot` and hand out complete lines until EOF, the
 * callback says FLOE_EAGAIN, or about `budget` bytes were read. */
int floe_tail_read(struct floe_tail *t, uint32_t slot, size_t budget,
                   floe_tail_fn fn, void *ctx, size_t *out_read);
/* Hand out the unterminated rest of `slot` (if any) as a final line. */
int floe_tail_flush(struct floe_tail *t, uint32_t slot, floe_tail_fn fn,
                    void *ctx);
/* Close and forget files that are gone (or replaced) and fully read. Only
 * call when no batch refers to any slot (slots are reused then). */
void floe_tail_prune(struct floe_tail *t);
/* Bytes on disk not yet handed out, over all files. */
uint64_t floe_tail_behind(const struct floe_tail *t);

#endif
