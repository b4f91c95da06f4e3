/* tail.c - per-flow file tracker and line splitter (tail.h).
 * Each busy file has a read buffer of FLOE_TAIL_READ_SIZE that grows (up
 * to the record limit plus one read) only while a longer line or record is
 * pending, shrinks back once it is handed out, and is freed when the file
 * is idle: memory follows what is pending, not the number of files.
 * Offsets are counted in bytes handed out, so a checkpoint is exact.
 * Descriptors are counted process-wide against one budget; a scan only
 * stats, and floe_tail_admit opens. */
#define FLOE_LOG_MOD "agent.tail"
#include "agent/tail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdint.h>

#include "agent/jregex.h"
#include "core/log.h"
#include "core/util.h"

#define WAIT_WARN_MS 60000 /* repeat the warning about waiting files */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* Descriptors belong to the process: one budget for every tracker. */
static size_t fd_budget;  /* 0: none of ours (the kernel's still holds) */
static size_t fd_open;    /* held by all trackers */
static size_t fd_wanted;  /* files of all trackers waiting for one */
static bool fd_exhausted; /* the last open failed with EMFILE/ENFILE */

/* Make room for one read of at least half FLOE_TAIL_READ_SIZE after the
 * pending bytes. A split leaves fewer than max_line bytes (or cuts), so
 * max_line + FLOE_TAIL_READ_SIZE always leaves a whole read. */
static int reserve(const struct floe_tail *t, struct floe_tail_file *f)
{
    size_t max = t->max_line + FLOE_TAIL_READ_SIZE, cap;
    char *p;

    if (f->buf != NULL && f->cap - f->len >= FLOE_TAIL_READ_SIZE / 2)
        return FLOE_OK;
    cap = f->cap == 0 ? FLOE_TAIL_READ_SIZE : f->cap * 2;
    if (cap < f->len + FLOE_TAIL_READ_SIZE)
        cap = f->len + FLOE_TAIL_READ_SIZE;
    if (cap > max)
        cap = max > f->cap ? max : f->cap;
    if (f->buf != NULL && cap == f->cap)
        return FLOE_OK; /* at the ceiling: the split cuts before it fills */
    p = realloc(f->buf, cap);
    if (p == NULL)
        return FLOE_ENOMEM;
    f->buf = p;
    f->cap = cap;
    return FLOE_OK;
}

/* After a long line went out: give the grown buffer back (idle files keep
 * none at all). */
static void shrink(struct floe_tail_file *f)
{
    char *p;

    if (f->buf == NULL)
        return;
    if (f->len == 0 && f->eof) {
        free(f->buf);
        f->buf = NULL;
        f->cap = 0;
        return;
    }
    if (f->cap <= FLOE_TAIL_READ_SIZE || f->len > FLOE_TAIL_READ_SIZE / 2)
        return;
    p = realloc(f->buf, FLOE_TAIL_READ_SIZE);
    if (p != NULL) {
        f->buf = p;
        f->cap = FLOE_TAIL_READ_SIZE;
    }
}

int floe_tail_init(struct floe_tail *t, const char *file_pattern,
                   const char *trunc_term, size_t trunc_term_len, char *err)
{
    const char *slash = strrchr(file_pattern, '/');
    size_t dlen;

    memset(t, 0, sizeof(*t));
    t->max_line = 1024000;
    t->trunc_term = trunc_term;
    t->trunc_term_len = trunc_term_len;
    if (slash == NULL) {
        t->dir = strdup(".");
        t->glob = strdup(file_pattern);
    } else {
        dlen = slash == file_pattern ? 1 : (size_t)(slash - file_pattern);
        t->dir = strndup(file_pattern, dlen);
        t->glob = strdup(slash + 1);
    }
    if (t->dir == NULL || t->glob == NULL) {
        floe_tail_free(t);
        return FLOE_ENOMEM;
    }
    if (strpbrk(t->dir, "*?[") != NULL) {
        floe_err(err, FLOE_EINVAL,
                 "filePattern '%s': the directory part must be literal "
                 "(a glob is allowed on the file name only)",
                 file_pattern);
        floe_tail_free(t);
        return FLOE_EINVAL;
    }
    if (t->glob[0] == '\0') {
        floe_err(err, FLOE_EINVAL,
                 "filePattern '%s' has no file name part", file_pattern);
        floe_tail_free(t);
        return FLOE_EINVAL;
    }
    return FLOE_OK;
}

/* open() for a tracker: counted in the budget; -1 with errno set. */
static int open_fd(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    fd_exhausted = fd < 0 && (errno == EMFILE || errno == ENFILE);
    if (fd >= 0)
        fd_open++;
    return fd;
}

static void close_fd(struct floe_tail_file *f)
{
    if (f->fd < 0)
        return;
    close(f->fd);
    f->fd = -1;
    fd_open--;
}

static void drop_buf(struct floe_tail_file *f)
{
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
}

static void file_free(struct floe_tail_file *f)
{
    if (f == NULL)
        return;
    close_fd(f);
    free(f->buf);
    free(f->path);
    free(f);
}

void floe_tail_free(struct floe_tail *t)
{
    size_t i;

    for (i = 0; i < t->nfiles; i++)
        file_free(t->files[i]);
    fd_wanted -= t->nwaiting;
    free(t->files);
    free(t->dir);
    free(t->glob);
    memset(t, 0, sizeof(*t));
}

static bool ignored_name(const char *name)
{
    size_t n = strlen(name);

    return (n > 3 && strcmp(name + n - 3, ".gz") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".bz2") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".zip") == 0);
}

static int64_t mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* The hash of the first `len` bytes of `fd`; false if it has fewer. */
static bool head_hash(int fd, uint64_t len, uint64_t *out)
{
    unsigned char buf[4096];
    uint64_t h = FNV_OFFSET, done = 0;

    while (done < len) {
        size_t k = len - done < sizeof(buf) ? (size_t)(len - done)
                                            : sizeof(buf);

        if (pread(fd, buf, k, (off_t)done) != (ssize_t)k)
            return false;
        h = fnv1a(h, buf, k);
        done += k;
    }
    *out = h;
    return true;
}

/* file_id from the device, inode and fingerprint (tail.h). */
static void format_id(struct floe_tail_file *f)
{
    int n = snprintf(f->file_id, sizeof(f->file_id), "(dev=%llx,ino=%llu)",
                     (unsigned long long)f->dev, (unsigned long long)f->ino);

    if (f->fp_len > 0 && n > 0 && (size_t)n < sizeof(f->file_id))
        snprintf(f->file_id + n, sizeof(f->file_id) - (size_t)n,
                 "#%u:%016llx", (unsigned)f->fp_len,
                 (unsigned long long)f->fp_hash);
}

/* Take the fingerprint of the first min(size, FLOE_TAIL_FP_LEN) bytes (an
 * unreadable file gets none: its device and inode identify it alone). */
static void fingerprint(struct floe_tail_file *f)
{
    unsigned char buf[FLOE_TAIL_FP_LEN];
    ssize_t n = pread(f->fd, buf, sizeof(buf), 0);

    f->fp_len = n > 0 ? (uint32_t)n : 0;
    f->fp_hash = fnv1a(FNV_OFFSET, buf, f->fp_len);
    format_id(f);
}

static void set_id(struct floe_tail_file *f, const struct stat *st)
{
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    format_id(f);
    f->mtime_ms = mtime_ms(st);
    f->size = (int64_t)st->st_size;
}

bool floe_tail_same_file(const struct floe_tail_file *f, const char *id)
{
    size_t k = strcspn(id, "#");
    unsigned long long hash;
    unsigned len;
    uint64_t h;

    if (strncmp(id, f->file_id, k) != 0 ||
        (f->file_id[k] != '#' && f->file_id[k] != '\0'))
        return false;
    if (id[k] != '#')
        return true; /* no fingerprint (an older row): the key decides */
    if (sscanf(id + k + 1, "%u:%llx", &len, &hash) != 2)
        return false;
    if (len == f->fp_len)
        return hash == f->fp_hash;
    /* Another length: hash as many bytes of the file (fewer: not it). */
    return f->fd >= 0 && head_hash(f->fd, len, &h) && h == hash;
}

/* The tracked file with this device and inode (open, waiting or parked;
 * not one whose inode was taken by another file). */
static struct floe_tail_file *find_inode(struct floe_tail *t, dev_t dev,
                                         ino_t ino)
{
    size_t i;

    for (i = 0; i < t->nfiles; i++) {
        struct floe_tail_file *f = t->files[i];

        if (f != NULL && !f->replaced && f->dev == dev && f->ino == ino)
            return f;
    }
    return NULL;
}

/* Track a new file; takes `fd` (-1: not open yet), even on error. */
static int add_file(struct floe_tail *t, const char *path, int fd,
                    const struct stat *st, bool first)
{
    struct floe_tail_file *f, **files;
    size_t i;

    f = calloc(1, sizeof(*f));
    if (f == NULL || (f->path = strdup(path)) == NULL) {
        free(f);
        if (fd >= 0) {
            close(fd);
            fd_open--;
        }
        return FLOE_ENOMEM;
    }
    f->fd = fd;
    set_id(f, st);
    if (fd >= 0)
        fingerprint(f);
    f->is_new = true;
    f->first = first;
    f->first_seen_ms = floe_mono_ms();
    for (i = 0; i < t->nfiles; i++) {
        if (t->files[i] == NULL) {
            t->files[i] = f;
            return FLOE_OK;
        }
    }
    files = realloc(t->files, (t->nfiles + 1) * sizeof(*files));
    if (files == NULL) {
        file_free(f);
        return FLOE_ENOMEM;
    }
    t->files = files;
    t->files[t->nfiles++] = f;
    return FLOE_OK;
}

int floe_tail_scan(struct floe_tail *t, bool *out_first)
{
    DIR *d;
    struct dirent *de;
    char path[4096];
    size_t i, n;
    int rc = FLOE_OK;

    *out_first = !t->first_scan_done;
    t->first_scan_done = true;
    d = opendir(t->dir);
    if (d == NULL) {
        if (errno != ENOENT)
            floe_log_errno("opendir %s", t->dir);
        for (i = 0; i < t->nfiles; i++)
            if (t->files[i] != NULL)
                t->files[i]->gone = true;
        return errno == ENOENT ? FLOE_OK : FLOE_EIO;
    }
    for (i = 0; i < t->nfiles; i++)
        if (t->files[i] != NULL)
            t->files[i]->gone = true; /* until seen again */
    while ((de = readdir(d)) != NULL && rc == FLOE_OK) {
        struct floe_tail_file *f;
        struct stat st;

        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
                                     strcmp(de->d_name, "..") == 0))
            continue;
        if (fnmatch(t->glob, de->d_name, FNM_PERIOD) != 0 ||
            ignored_name(de->d_name))
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->dir,
                             de->d_name) >= sizeof(path))
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        f = find_inode(t, st.st_dev, st.st_ino);
        if (f == NULL) {
            rc = add_file(t, path, -1, &st, *out_first); /* opened below */
            continue;
        }
        f->gone = false;
        if (strcmp(f->path, path) != 0) {
            char *np = strdup(path);

            if (np == NULL) {
                rc = FLOE_ENOMEM;
                break;
            }
            floe_log_info("%s was renamed to %s; following it", f->path,
                          path);
            free(f->path);
            f->path = np;
        }
        if (f->fd < 0 && f->is_new)
            f->size = (int64_t)st.st_size; /* waiting: for the lag */
        else if (f->fd < 0 &&
                 (st.st_size != f->size || mtime_ms(&st) != f->mtime_ms))
            f->grew = true; /* parked: to reopen */
    }
    closedir(d);
    if (rc == FLOE_OK)
        rc = floe_tail_admit(t, &n);
    return rc;
}

/* Open a file found by a scan. FLOE_EAGAIN: no descriptor now. A file
 * that cannot be opened is forgotten (the next scan finds it again). */
static int open_new(struct floe_tail *t, size_t slot)
{
    struct floe_tail_file *f = t->files[slot];
    struct stat st;
    int fd = open_fd(f->path);

    if (fd < 0 && fd_exhausted)
        return FLOE_EAGAIN;
    if (fd < 0 || fstat(fd, &st) != 0) {
        floe_log_errno("open %s", f->path);
        f->fd = fd;
        file_free(f);
        t->files[slot] = NULL;
        return FLOE_EIO;
    }
    f->fd = fd;
    set_id(f, &st); /* it may have been replaced since the scan */
    fingerprint(f);
    floe_log_info("tailing %s", f->path);
    return FLOE_OK;
}

/* Give a parked file its descriptor back if it still is the file read:
 * same inode, not shorter than what was read, same first bytes and bytes
 * before the offset. Otherwise its inode holds another file now (deleted
 * and created again, or truncated while closed): that one is tracked as a
 * new file (*out_new), this slot stays until no batch refers to it.
 * FLOE_EAGAIN: no descriptor now. */
static int reopen(struct floe_tail *t, struct floe_tail_file *f,
                  bool *out_new)
{
    struct stat st;
    uint64_t h;
    int fd = open_fd(f->path);

    *out_new = false;
    if (fd < 0 && fd_exhausted)
        return FLOE_EAGAIN;
    f->grew = false;
    if (fd < 0)
        return FLOE_OK; /* gone meanwhile: the next scan tells */
    if (fstat(fd, &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino) {
        close(fd); /* another file at its path now: the next scan tells */
        fd_open--;
        return FLOE_OK;
    }
    f->fd = fd;
    if ((uint64_t)st.st_size >= f->offset + f->len &&
        (f->fp_len == 0 || (head_hash(fd, f->fp_len, &h) &&
                            h == f->fp_hash)) &&
        floe_rotate_unchanged(f)) {
        f->eof = false;
        if (lseek(fd, (off_t)(f->offset + f->len), SEEK_SET) < 0) {
            floe_log_errno("lseek %s (trying again later)", f->path);
            close_fd(f);
            f->grew = true;
        }
        return FLOE_OK;
    }
    floe_log_warn("%s: same device and inode as the file read to offset "
                  "%llu, but other content (deleted and created again, or "
                  "truncated while closed): reading it as a new file",
                  f->path, (unsigned long long)f->offset);
    floe_rotate_remember(t, f); /* a copy of the old content continues */
    f->fd = -1;                 /* moves to the new file's slot */
    f->replaced = f->gone = f->eof = true;
    f->len = f->rec_len = 0;
    drop_buf(f);
    *out_new = true;
    return add_file(t, f->path, fd, &st, false);
}

/* Close an open file read to its end (nothing more on disk now); it keeps
 * its slot, identity and offset. False if it has unread bytes. */
static bool park(struct floe_tail_file *f)
{
    struct stat st;

    if (fstat(f->fd, &st) != 0 ||
        (uint64_t)st.st_size != f->offset + f->len)
        return false;
    close_fd(f);
    f->size = (int64_t)st.st_size;
    f->mtime_ms = mtime_ms(&st);
    if (f->len == 0)
        drop_buf(f);
    return true;
}

static bool wants_fd(const struct floe_tail_file *f)
{
    return f != NULL && f->fd < 0 && !f->replaced && (f->is_new || f->grew);
}

/* Forget files that went away before they got a descriptor back. */
static void drop_unreachable(struct floe_tail *t)
{
    size_t i;

    for (i = 0; i < t->nfiles; i++) {
        struct floe_tail_file *f = t->files[i];

        if (!wants_fd(f) || !f->gone)
            continue;
        if (f->is_new) { /* never read: no batch refers to it */
            floe_log_warn("%s went away while waiting for a file "
                          "descriptor; not read", f->path);
            file_free(f);
            t->files[i] = NULL;
        } else {
            floe_log_warn("%s changed while closed for want of "
                          "descriptors, then went away; what it had past "
                          "offset %llu is not read", f->path,
                          (unsigned long long)(f->offset + f->len));
            f->grew = false;
        }
    }
}

static void warn_waiting(struct floe_tail *t, size_t waiting)
{
    int64_t now = floe_mono_ms();
    char limit[64];

    fd_wanted = fd_wanted - t->nwaiting + waiting;
    t->nwaiting = waiting;
    if (waiting == 0 ||
        (t->warned_ms != 0 && now - t->warned_ms < WAIT_WARN_MS))
        return;
    t->warned_ms = now;
    if (fd_budget > 0)
        snprintf(limit, sizeof(limit), "at most %zu", fd_budget);
    else
        snprintf(limit, sizeof(limit), "the process limit");
    floe_log_warn("%s/%s: %zu matched file(s) wait for a file descriptor "
                  "(%zu open, %s); files read to their end are closed and "
                  "reopened when they change, so all are read in turn",
                  t->dir, t->glob, waiting, fd_open, limit);
}

int floe_tail_admit(struct floe_tail *t, size_t *out_new)
{
    size_t i, k, n, start = t->next_admit, want = 0, waiting = 0;
    bool full;
    int rc = FLOE_OK;

    *out_new = 0;
    drop_unreachable(t);
    n = t->nfiles;
    for (i = 0; i < n; i++)
        want += wants_fd(t->files[i]);
    /* Short of descriptors for what waits here or elsewhere: close every
     * file read to its end (the scans reopen those that change). */
    if (fd_exhausted || (fd_budget > 0 && fd_open + want + fd_wanted -
                                              t->nwaiting > fd_budget)) {
        for (i = 0; i < n; i++) {
            struct floe_tail_file *f = t->files[i];

            if (f != NULL && f->fd >= 0 && !f->is_new && f->eof)
                park(f);
        }
    }
    full = false;
    for (k = 0; k < n && want > 0 && rc != FLOE_ENOMEM; k++) {
        struct floe_tail_file *f;
        bool added = false;

        i = (start + k) % n;
        f = t->files[i];
        if (!wants_fd(f))
            continue;
        full = full || (fd_budget > 0 && fd_open >= fd_budget);
        rc = full ? FLOE_EAGAIN
             : f->is_new ? open_new(t, i) : reopen(t, f, &added);
        if (rc == FLOE_EAGAIN) {
            full = true;
            waiting++;
            continue;
        }
        if (rc == FLOE_OK && (f->is_new || added))
            (*out_new)++;
        t->next_admit = i + 1;
    }
    warn_waiting(t, waiting);
    return rc == FLOE_ENOMEM ? rc : FLOE_OK;
}

int floe_tail_seek(struct floe_tail_file *f, uint64_t offset,
                   int64_t skip_lines)
{
    f->offset = offset;
    f->gen++;
    f->gen_off = offset;
    f->len = 0;
    f->rec_len = 0;
    f->discarding = false;
    f->ml_skip = false;
    f->eof = false;
    f->is_new = false;
    f->skip_lines = offset == 0 ? skip_lines : 0;
    fingerprint(f);
    floe_rotate_fp_load(f, offset); /* copy detection */
    if (lseek(f->fd, (off_t)offset, SEEK_SET) < 0) {
        floe_log_errno("lseek %s", f->path);
        return FLOE_EIO;
    }
    return FLOE_OK;
}

int floe_tail_end_offset(struct floe_tail_file *f, uint64_t *out)
{
    char tmp[65536];
    uint64_t pos = (uint64_t)f->size;
    /* Like the Kinesis Agent: look back at most 4 MiB for a newline. */
    uint64_t limit = pos > 4194304 ? pos - 4194304 : 0;

    while (pos > limit) {
        size_t n = pos - limit < sizeof(tmp) ? (size_t)(pos - limit)
                                             : sizeof(tmp);
        ssize_t r = pread(f->fd, tmp, n, (off_t)(pos - n));
        size_t i;

        if (r != (ssize_t)n) {
            floe_log_errno("pread %s", f->path);
            return FLOE_EIO;
        }
        for (i = n; i > 0; i--) {
            if (tmp[i - 1] == '\n') {
                *out = pos - n + i; /* just past this newline */
                return FLOE_OK;
            }
        }
        pos -= n;
    }
    *out = limit;
    return FLOE_OK;
}

/* Mark the first `n` buffered bytes as handed out. */
static void consume(struct floe_tail_file *f, size_t n)
{
    if (n == 0)
        return;
    floe_rotate_fp_note(f, f->buf, n);
    f->offset += n;
    memmove(f->buf, f->buf + n, f->len - n);
    f->len -= n;
}

/* Emit the first max_line bytes at buf[pos] as one record ending in the
 * truncation terminator; `end_off` is the file offset the record covers
 * up to (the rest is discarded). */
static int emit_cut(struct floe_tail *t, struct floe_tail_file *f,
                    uint32_t slot, size_t pos, uint64_t end_off,
                    floe_tail_fn fn, void *ctx)
{
    struct floe_tail_line l;
    size_t keep = t->max_line - t->trunc_term_len;
    char saved[64];
    int rc;

    /* Write the terminator over the buffer just after the kept part (the
     * rest of the record is discarded anyway), then restore it. */
    memcpy(saved, f->buf + pos + keep, t->trunc_term_len);
    memcpy(f->buf + pos + keep, t->trunc_term, t->trunc_term_len);
    l.line = f->buf + pos;
    l.len = t->max_line;
    l.end_off = end_off;
    l.truncated = true;
    l.no_newline = false;
    rc = fn(ctx, slot, &l);
    memcpy(f->buf + pos + keep, saved, t->trunc_term_len);
    if (rc == FLOE_OK) {
        t->lines_truncated++;
        floe_log_warn("%s: a record at offset %llu is over %zu bytes; "
                      "truncated with the truncatedRecordTerminator",
                      f->path, (unsigned long long)(f->offset + pos),
                      t->max_line);
    }
    return rc;
}

/* Hand out the complete lines in the buffer; keeps the partial tail. */
static int split(struct floe_tail *t, struct floe_tail_file *f, uint32_t slot,
                 floe_tail_fn fn, void *ctx)
{
    size_t pos = 0;
    int rc = FLOE_OK;

    while (pos < f->len) {
        char *nl = memchr(f->buf + pos, '\n', f->len - pos);
        size_t n;

        if (nl == NULL)
            break;
        n = (size_t)(nl - (f->buf + pos)) + 1;
        if (f->discarding) {
            f->discarding = false;
        } else if (f->skip_lines > 0) {
            f->skip_lines--;
            t->lines_skipped++;
        } else if (n > t->max_line) {
            /* A whole over-long line in the buffer. */
            rc = emit_cut(t, f, slot, pos, f->offset + pos + n, fn, ctx);
            if (rc != FLOE_OK)
                break;
        } else {
            struct floe_tail_line l = { f->buf + pos, n,
                                        f->offset + pos + n, false, false };

            rc = fn(ctx, slot, &l);
            if (rc != FLOE_OK)
                break;
        }
        pos += n;
    }
    if (rc == FLOE_EAGAIN || rc == FLOE_OK)
        consume(f, pos);
    if (rc == FLOE_OK && f->len >= t->max_line) {
        /* No newline within the limit: cut here, drop the rest of it. */
        if (f->discarding) {
            consume(f, f->len);
        } else if (f->skip_lines == 0) {
            rc = emit_cut(t, f, slot, 0, f->offset + f->len, fn, ctx);
            if (rc == FLOE_OK) {
                consume(f, f->len);
                f->discarding = true;
            }
        } else {
            consume(f, f->len);
            f->discarding = true;
            f->skip_lines--;
            t->lines_skipped++;
        }
    }
    return rc;
}

/* multiLineStartPattern: a record is a start line plus the lines up to
 * the next start line. The pending record stays at buf[0, rec_len) (its
 * lines are matched once); it is handed out when the next start arrives
 * (or by floe_tail_flush at EOF in batch mode). */
static int split_multi(struct floe_tail *t, struct floe_tail_file *f,
                       uint32_t slot, floe_tail_fn fn, void *ctx)
{
    size_t pos = 0, scan = f->rec_len;
    int rc = FLOE_OK;

    while (scan < f->len) {
        char *nl = memchr(f->buf + scan, '\n', f->len - scan);
        size_t n;
        bool start;

        if (nl == NULL)
            break;
        n = (size_t)(nl - (f->buf + scan)) + 1;
        if (f->discarding) { /* the rest of a cut line */
            f->discarding = false;
            pos = scan = scan + n;
            continue;
        }
        if (f->skip_lines > 0) {
            f->skip_lines--;
            t->lines_skipped++;
            pos = scan = scan + n;
            continue;
        }
        start = floe_jregex_match(t->start_re, f->buf + scan, n - 1, NULL);
        if (f->ml_skip) { /* after a cut record: up to the next start */
            if (!start) {
                t->lines_skipped++;
                pos = scan = scan + n;
                continue;
            }
            f->ml_skip = false;
        }
        if (start && scan > pos) {
            struct floe_tail_line l = { f->buf + pos, scan - pos,
                                        f->offset + scan, false, false };

            rc = fn(ctx, slot, &l);
            if (rc != FLOE_OK)
                break;
            pos = scan;
        }
        scan += n;
        if (scan - pos > t->max_line) {
            rc = emit_cut(t, f, slot, pos, f->offset + scan, fn, ctx);
            if (rc != FLOE_OK) {
                scan -= n;
                break;
            }
            pos = scan;
            f->ml_skip = true;
        }
    }
    if (rc == FLOE_EAGAIN || rc == FLOE_OK) {
        consume(f, pos);
        f->rec_len = scan - pos;
    }
    if (rc == FLOE_OK && f->len >= t->max_line) {
        /* The pending record plus an unfinished line pass the limit. */
        if (!f->ml_skip && !f->discarding && f->skip_lines == 0) {
            rc = emit_cut(t, f, slot, 0, f->offset + f->len, fn, ctx);
            if (rc != FLOE_OK)
                return rc;
        } else {
            t->lines_skipped++;
        }
        consume(f, f->len);
        f->rec_len = 0;
        f->discarding = true;
        f->ml_skip = true;
    }
    return rc;
}

int floe_tail_read(struct floe_tail *t, uint32_t slot, size_t budget,
                   floe_tail_fn fn, void *ctx, size_t *out_read)
{
    struct floe_tail_file *f = t->files[slot];
    size_t total = 0;
    struct stat st;
    int rc;

    *out_read = 0;
    if (f == NULL || f->fd < 0 || f->is_new)
        return FLOE_OK;
    if (fstat(f->fd, &st) == 0) {
        if ((uint64_t)st.st_size < f->offset + f->len ||
            (st.st_size != f->size && !floe_rotate_unchanged(f))) {
            floe_log_warn("%s was truncated (%llu bytes read, now %lld "
                          "bytes of other content; e.g. copytruncate); "
                          "reading it again from 0",
                          f->path, (unsigned long long)(f->offset + f->len),
                          (long long)st.st_size);
            floe_rotate_remember(t, f);
            rc = floe_tail_seek(f, 0, 0);
            if (rc != FLOE_OK)
                return rc;
        }
        f->size = (int64_t)st.st_size;
        f->mtime_ms = mtime_ms(&st);
    }
    /* First what is already buffered (a previous stop left it). */
    rc = f->len == 0 ? FLOE_OK
         : t->start_re ? split_multi(t, f, slot, fn, ctx)
                       : split(t, f, slot, fn, ctx);
    while (rc == FLOE_OK && total < budget) {
        ssize_t n;

        rc = reserve(t, f);
        if (rc != FLOE_OK)
            return rc;
        FLOE_ASSERT(f->cap > f->len); /* 0 bytes would read as EOF */
        n = read(f->fd, f->buf + f->len, f->cap - f->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            floe_log_errno("read %s", f->path);
            return FLOE_EIO;
        }
        if (n == 0) {
            f->eof = true;
            break;
        }
        f->eof = false;
        f->len += (size_t)n;
        total += (size_t)n;
        rc = t->start_re ? split_multi(t, f, slot, fn, ctx)
                         : split(t, f, slot, fn, ctx);
    }
    *out_read = total;
    if (f->fp_len < FLOE_TAIL_FP_LEN && f->offset + f->len > f->fp_len)
        fingerprint(f); /* cover what was read, up to FLOE_TAIL_FP_LEN */
    if (rc == FLOE_OK || rc == FLOE_EAGAIN)
        shrink(f);
    return rc == FLOE_EAGAIN ? FLOE_OK : rc;
}

int floe_tail_flush(struct floe_tail *t, uint32_t slot, floe_tail_fn fn,
                    void *ctx)
{
    struct floe_tail_file *f = t->files[slot];
    struct floe_tail_line l;
    int rc;

    if (f == NULL || f->len == 0)
        return FLOE_OK;
    if (f->discarding || f->skip_lines > 0 || f->ml_skip) {
        if (f->skip_lines > 0) {
            f->skip_lines--;
            t->lines_skipped++;
        }
        consume(f, f->len);
        f->discarding = false;
        f->rec_len = 0;
        return FLOE_OK;
    }
    if (t->start_re != NULL && f->rec_len > 0 && f->rec_len < f->len &&
        floe_jregex_match(t->start_re, f->buf + f->rec_len,
                          f->len - f->rec_len, NULL)) {
        /* The unterminated last line starts a record of its own. */
        l.line = f->buf;
        l.len = f->rec_len;
        l.end_off = f->offset + f->rec_len;
        l.truncated = false;
        l.no_newline = false;
        rc = fn(ctx, slot, &l);
        if (rc != FLOE_OK)
            return rc == FLOE_EAGAIN ? FLOE_OK : rc;
        consume(f, f->rec_len);
        f->rec_len = 0;
    }
    l.line = f->buf;
    l.len = f->len;
    l.end_off = f->offset + f->len;
    l.truncated = false;
    l.no_newline = f->buf[f->len - 1] != '\n';
    rc = fn(ctx, slot, &l);
    if (rc == FLOE_OK) {
        consume(f, f->len);
        f->rec_len = 0;
    }
    return rc == FLOE_EAGAIN ? FLOE_OK : rc;
}

void floe_tail_prune(struct floe_tail *t)
{
    size_t i;

    for (i = 0; i < t->nfiles; i++) {
        struct floe_tail_file *f = t->files[i];

        if (f != NULL && f->gone && f->eof && f->len == 0) {
            floe_log_info("%s: done (no longer matched), closing", f->path);
            file_free(f);
            t->files[i] = NULL;
        }
    }
}

uint64_t floe_tail_behind(const struct floe_tail *t)
{
    uint64_t sum = 0;
    size_t i;

    for (i = 0; i < t->nfiles; i++) {
        const struct floe_tail_file *f = t->files[i];

        if (f != NULL && (uint64_t)f->size > f->offset)
            sum += (uint64_t)f->size - f->offset;
    }
    return sum;
}

void floe_tail_set_fd_budget(size_t max)
{
    fd_budget = max;
}

size_t floe_tail_limit_fds(void)
{
    uint64_t lim = floe_fd_limit_raise();
    size_t reserve;

    if (lim == 0 || lim > SIZE_MAX / 2)
        return 0; /* no budget of ours */
    /* Sockets (sends, /metrics), SQLite (database, WAL, shm), inotify,
     * stdio and directory scans use the rest. */
    reserve = (size_t)lim / 4;
    reserve = reserve < 16 ? 16 : reserve > 1024 ? 1024 : reserve;
    fd_budget = (size_t)lim > reserve + 1
                    ? (size_t)lim - reserve : 1;
    floe_log_info("tailing at most %zu files at a time (open-file limit "
                  "%llu less %zu kept for sockets and the checkpoint "
                  "database); more are read in turn", fd_budget,
                  (unsigned long long)lim, reserve);
    return reserve;
}
