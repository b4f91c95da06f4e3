/* rotate.c - copy and copytruncate detection by fingerprint (rotate.h).
 * Everything here compares a few hundred bytes to a few KiB read with
 * pread, so it never moves a file's read position; the tracker (tail.c)
 * calls it when a size changed or a scan found a new file. */
#define FLOE_LOG_MOD "agent.tail"
#include "agent/rotate.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/tail.h"
#include "core/log.h"

void floe_rotate_fp_load(struct floe_tail_file *f, uint64_t offset)
{
    struct floe_rotate_fp *fp = &f->fp;
    size_t k;

    k = offset < FLOE_ROTATE_HEAD ? (size_t)offset : FLOE_ROTATE_HEAD;
    fp->head_len = pread(f->fd, fp->head, k, 0) == (ssize_t)k ? k : 0;
    k = offset < FLOE_ROTATE_WIN ? (size_t)offset : FLOE_ROTATE_WIN;
    fp->win_len = pread(f->fd, fp->win, k, (off_t)(offset - k)) ==
                          (ssize_t)k ? k : 0;
}

void floe_rotate_fp_note(struct floe_tail_file *f, const char *p, size_t n)
{
    struct floe_rotate_fp *fp = &f->fp;

    if (fp->head_len == f->offset && f->offset < FLOE_ROTATE_HEAD) {
        size_t k = FLOE_ROTATE_HEAD - (size_t)f->offset;

        k = k < n ? k : n;
        memcpy(fp->head + fp->head_len, p, k);
        fp->head_len += k;
    }
    if (n >= FLOE_ROTATE_WIN) {
        memcpy(fp->win, p + n - FLOE_ROTATE_WIN, FLOE_ROTATE_WIN);
        fp->win_len = FLOE_ROTATE_WIN;
    } else {
        size_t keep = fp->win_len + n > FLOE_ROTATE_WIN
                          ? FLOE_ROTATE_WIN - n : fp->win_len;

        memmove(fp->win, fp->win + fp->win_len - keep, keep);
        memcpy(fp->win + keep, p, n);
        fp->win_len = keep + n;
    }
}

/* A file truncated and refilled past our offset between two looks
 * (copytruncate under load) is not smaller, but its first bytes and the
 * bytes before our offset have changed. */
bool floe_rotate_unchanged(const struct floe_tail_file *f)
{
    const struct floe_rotate_fp *fp = &f->fp;
    unsigned char tmp[FLOE_ROTATE_HEAD];
    size_t k = fp->win_len < 64 ? fp->win_len : 64;

    if (fp->head_len > 0 &&
        (pread(f->fd, tmp, fp->head_len, 0) != (ssize_t)fp->head_len ||
         memcmp(tmp, fp->head, fp->head_len) != 0))
        return false;
    return k == 0 ||
           (pread(f->fd, tmp, k, (off_t)(f->offset - k)) == (ssize_t)k &&
            memcmp(tmp, fp->win + fp->win_len - k, k) == 0);
}

void floe_rotate_remember(struct floe_tail *t, const struct floe_tail_file *f)
{
    struct floe_rotate_ghost *g = &t->ghosts[t->next_ghost];

    t->next_ghost = (t->next_ghost + 1) % FLOE_ROTATE_GHOSTS;
    g->used = f->offset > 0;
    g->offset = f->offset;
    g->fp = f->fp;
}

/* Does the file `fd` hold, at [0, head_len) and [offset - win_len,
 * offset), the bytes of this fingerprint? */
static bool same_prefix(int fd, uint64_t size, uint64_t offset,
                        const struct floe_rotate_fp *fp)
{
    unsigned char tmp[FLOE_ROTATE_WIN];

    if (offset == 0 || size < offset ||
        fp->head_len != (offset < FLOE_ROTATE_HEAD ? offset
                                                   : FLOE_ROTATE_HEAD) ||
        fp->win_len != (offset < FLOE_ROTATE_WIN ? offset : FLOE_ROTATE_WIN))
        return false;
    if (pread(fd, tmp, fp->head_len, 0) != (ssize_t)fp->head_len ||
        memcmp(tmp, fp->head, fp->head_len) != 0)
        return false;
    return pread(fd, tmp, fp->win_len, (off_t)(offset - fp->win_len)) ==
               (ssize_t)fp->win_len &&
           memcmp(tmp, fp->win, fp->win_len) == 0;
}

/* Could the file `fd` (size `size`) still become a copy of this
 * fingerprint: its bytes so far are the start of it? */
static bool may_become(int fd, uint64_t size, uint64_t offset,
                       const struct floe_rotate_fp *fp)
{
    unsigned char tmp[FLOE_ROTATE_HEAD];
    size_t k = size < fp->head_len ? (size_t)size : fp->head_len;

    if (size >= offset)
        return false;
    return k == 0 || (pread(fd, tmp, k, 0) == (ssize_t)k &&
                      memcmp(tmp, fp->head, k) == 0);
}

/* Does `nf` (size `size`) hold what a file read to `offset` had handed
 * out (`fp`)? When it is shorter but may still become such a copy,
 * *pending is set and *verified gets how much of it was compared. */
static bool copies(const struct floe_tail_file *nf, uint64_t size,
                   uint64_t offset, const struct floe_rotate_fp *fp,
                   bool *pending, size_t *verified)
{
    if (may_become(nf->fd, size, offset, fp)) {
        *pending = true;
        *verified = fp->head_len;
    }
    return same_prefix(nf->fd, size, offset, fp);
}

/* Do two files start with the same bytes (up to FLOE_ROTATE_HEAD, or all
 * of the `size` bytes of the second)? */
static bool same_start(int fd_a, int fd_b, uint64_t size)
{
    unsigned char a[FLOE_ROTATE_HEAD], b[FLOE_ROTATE_HEAD];
    size_t k = size < FLOE_ROTATE_HEAD ? (size_t)size : FLOE_ROTATE_HEAD;

    return pread(fd_a, a, k, 0) == (ssize_t)k &&
           pread(fd_b, b, k, 0) == (ssize_t)k && memcmp(a, b, k) == 0;
}

/* Does the file `fd` (size `size`) start like tracked file `f`? Read from
 * f's descriptor, or for a parked file (closed for want of descriptors)
 * compared with the first bytes handed out of it. */
static bool starts_like(const struct floe_tail_file *f, int fd,
                        uint64_t size)
{
    unsigned char b[FLOE_ROTATE_HEAD];
    size_t k = size < FLOE_ROTATE_HEAD ? (size_t)size : FLOE_ROTATE_HEAD;

    if (f->fd >= 0)
        return same_start(f->fd, fd, size);
    return f->fp.head_len >= k && pread(fd, b, k, 0) == (ssize_t)k &&
           memcmp(b, f->fp.head, k) == 0;
}

int floe_rotate_find_copy(struct floe_tail *t, struct floe_tail_file *nf,
                          uint64_t *out_offset)
{
    struct stat st;
    uint64_t size;
    bool pending = false;
    size_t i, verified = 0;

    if (fstat(nf->fd, &st) != 0)
        return 0;
    size = (uint64_t)st.st_size;
    nf->size = st.st_size;
    for (i = 0; i < t->nfiles; i++) {
        struct floe_tail_file *f = t->files[i];

        if (f == NULL || f == nf || f->is_new || f->replaced)
            continue;
        if (f->offset < size && starts_like(f, nf->fd, size)) {
            /* `nf` may copy bytes `f` has not read yet: decide once `f`
             * has read them (or was truncated first). */
            pending = true;
            continue;
        }
        if (!copies(nf, size, f->offset, &f->fp, &pending, &verified))
            continue;
        *out_offset = f->offset;
        floe_log_info("%s is a copy of %s (rotated by copy): continuing it "
                      "at offset %llu, where %s was read to", nf->path,
                      f->path, (unsigned long long)f->offset, f->path);
        /* The original may have been truncated and refilled since (a
         * parked one is checked when it is reopened). */
        if (f->fd >= 0 &&
            !same_prefix(f->fd, UINT64_MAX, f->offset, &f->fp)) {
            floe_log_warn("%s was truncated (its old content is now in %s); "
                          "reading it again from 0", f->path, nf->path);
            floe_tail_seek(f, 0, 0);
        }
        return 1;
    }
    for (i = 0; i < FLOE_ROTATE_GHOSTS; i++) {
        struct floe_rotate_ghost *g = &t->ghosts[i];

        if (!g->used ||
            !copies(nf, size, g->offset, &g->fp, &pending, &verified))
            continue;
        g->used = false;
        *out_offset = g->offset;
        floe_log_info("%s holds the content of a file truncated earlier "
                      "(copytruncate): continuing it at offset %llu",
                      nf->path, (unsigned long long)g->offset);
        return 1;
    }
    if (!pending)
        return 0;
    /* If it never grows: all of it was checked and sent already, or not
     * all of it could be checked and it is read from 0 (duplicates rather
     * than loss). */
    *out_offset = size <= verified ? size : 0;
    return -1;
}
