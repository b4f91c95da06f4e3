/* wal.c - segmented write-ahead log with group commit.
 * Entry: 16-byte header (magic, payload length, CRC-32 of the payload,
 * CRC-32 of the first 8 header bytes) then payload (u16 name length, name,
 * i64 arrival ms, record bytes), little-endian. Only one fdatasync runs at
 * a time; it covers every entry written before it started, so concurrent
 * writers share it. Rotation syncs the old segment before switching.
 * Sidecar wal-N.done: little-endian u64 offsets of delivered entries,
 * appended and fdatasync'ed per delivered object (a torn tail is ignored);
 * deleted with its segment, orphans removed at replay. */
#define FLOE_LOG_MOD "firehose.wal"

#include "firehose/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#define WAL_MAGIC 0x31574846u /* "FHW1" */
#define HDR_LEN 16

struct seg {
    uint64_t id;
    int64_t refs;
};

struct floe_fh_wal {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *dir;
    int64_t seg_bytes;
    struct seg *segs; /* live segments, ascending id; the last is current */
    size_t nsegs, cap;
    int fd;           /* current segment, -1 before replay */
    uint64_t cur_id;
    int64_t cur_size;
    uint64_t written, synced;
    bool syncing, failed;
    pthread_mutex_t done_mu; /* serialises sidecar appends */
};

static void seg_path(const struct floe_fh_wal *w, uint64_t id, char *out,
                     size_t n)
{
    snprintf(out, n, "%s/wal-%016" PRIu64 ".log", w->dir, id);
}

static void done_path(const struct floe_fh_wal *w, uint64_t id, char *out,
                      size_t n)
{
    snprintf(out, n, "%s/wal-%016" PRIu64 ".done", w->dir, id);
}

/* Create segment `id` for appends (a stale sidecar of that id goes). */
static int create_seg(struct floe_fh_wal *w, uint64_t id)
{
    char path[4096];

    done_path(w, id, path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT)
        floe_log_errno("unlink %s", path);
    seg_path(w, id, path, sizeof(path));
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                0644);
}

static struct seg *find_seg(struct floe_fh_wal *w, uint64_t id)
{
    size_t i;

    for (i = 0; i < w->nsegs; i++)
        if (w->segs[i].id == id)
            return &w->segs[i];
    return NULL;
}

static int push_seg(struct floe_fh_wal *w, uint64_t id)
{
    if (w->nsegs == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        void *p = realloc(w->segs, cap * sizeof(*w->segs));

        if (p == NULL)
            return FLOE_ENOMEM;
        w->segs = p;
        w->cap = cap;
    }
    w->segs[w->nsegs].id = id;
    w->segs[w->nsegs].refs = 0;
    w->nsegs++;
    return FLOE_OK;
}

/* Delete a sealed, unreferenced segment. mu held (or single-threaded). */
static void maybe_drop(struct floe_fh_wal *w, struct seg *sg)
{
    char path[4096];
    size_t i = (size_t)(sg - w->segs);

    if (sg->refs > 0 || (w->fd >= 0 && sg->id == w->cur_id))
        return;
    done_path(w, sg->id, path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT)
        floe_log_errno("unlink %s", path);
    seg_path(w, sg->id, path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT)
        floe_log_errno("unlink %s", path);
    else
        floe_log_debug("segment %" PRIu64 " delivered, removed", sg->id);
    memmove(w->segs + i, w->segs + i + 1,
            (w->nsegs - i - 1) * sizeof(*w->segs));
    w->nsegs--;
}

int floe_fh_wal_open(const char *dir, int64_t segment_bytes,
                     struct floe_fh_wal **out, char *err)
{
    struct floe_fh_wal *w;
    int rc;

    *out = NULL;
    rc = floe_mkdirs(dir);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot create WAL directory %s", dir);
    w = calloc(1, sizeof(*w));
    if (w == NULL || (w->dir = strdup(dir)) == NULL) {
        free(w);
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->done_mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->fd = -1;
    w->seg_bytes = segment_bytes > 0 ? segment_bytes : (64 << 20);
    *out = w;
    return FLOE_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static int cmp_off(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Parse one segment's bytes, skipping the sorted offsets done[0..ndone);
 * returns entries replayed. */
static uint64_t replay_seg(struct floe_fh_wal *w, uint64_t id,
                           const unsigned char *p, size_t n,
                           const uint64_t *done, size_t ndone,
                           floe_fh_wal_replay_cb cb, void *ud,
                           uint64_t *skipped)
{
    size_t off = 0;
    uint64_t entries = 0;

    while (off + HDR_LEN <= n) {
        const unsigned char *h = p + off, *pl = h + HDR_LEN;
        uint32_t len = rd32(h + 4);
        size_t nlen;
        int64_t arrival = 0;
        char name[256];
        int i;

        if (rd32(h) != WAL_MAGIC ||
            rd32(h + 12) != (uint32_t)crc32(0, h, 8) ||
            len > n - off - HDR_LEN || len < 10 ||
            rd32(h + 8) != (uint32_t)crc32(0, pl, len))
            break;
        nlen = (size_t)pl[0] | (size_t)pl[1] << 8;
        if (nlen == 0 || nlen > 64 || 2 + nlen + 8 > len)
            break;
        memcpy(name, pl + 2, nlen);
        name[nlen] = '\0';
        for (i = 7; i >= 0; i--)
            arrival = (int64_t)((uint64_t)arrival << 8 | pl[2 + nlen + i]);
        {
            uint64_t key = off;
            struct floe_fh_wal_pos pos = { id, off };

            if (ndone > 0 && bsearch(&key, done, ndone, sizeof(*done),
                                     cmp_off) != NULL) {
                (*skipped)++; /* delivered before the crash */
                off += HDR_LEN + len;
                continue;
            }
            pthread_mutex_lock(&w->mu); /* workers release concurrently */
            find_seg(w, id)->refs++;
            pthread_mutex_unlock(&w->mu);
            cb(ud, &pos, name, arrival, pl + 2 + nlen + 8,
               len - 2 - nlen - 8);
        }
        entries++;
        off += HDR_LEN + len;
    }
    if (off < n)
        floe_log_warn("segment %" PRIu64 ": torn or corrupt entry at offset "
                      "%zu, %zu trailing bytes ignored (crash mid-write?)",
                      id, off, n - off);
    return entries;
}

int floe_fh_wal_replay(struct floe_fh_wal *w, floe_fh_wal_replay_cb cb,
                       void *ud, uint64_t *out_entries)
{
    DIR *dir = NULL;
    struct dirent *de;
    uint64_t *ids = NULL, next = 1, total = 0, skipped = 0;
    size_t nids = 0, cap = 0, i, k, ndone;
    struct floe_buf data, done;
    char path[4096];
    int rc = FLOE_OK;

    *out_entries = 0;
    floe_buf_init(&data, FLOE_BUF_UNLIMITED);
    floe_buf_init(&done, FLOE_BUF_UNLIMITED);
    dir = opendir(w->dir);
    if (dir == NULL) {
        floe_log_errno("opendir %s", w->dir);
        return FLOE_EIO;
    }
    while ((de = readdir(dir)) != NULL) {
        unsigned long long id;
        char tail[8];

        if (sscanf(de->d_name, "wal-%16llu.%4s", &id, tail) != 2)
            continue;
        if (strcmp(tail, "done") == 0) { /* orphan: its segment is gone */
            seg_path(w, id, path, sizeof(path));
            if (!floe_path_exists(path)) {
                done_path(w, id, path, sizeof(path));
                if (unlink(path) != 0)
                    floe_log_errno("unlink %s", path);
            }
            continue;
        }
        if (strcmp(tail, "log") != 0)
            continue;
        if (nids == cap) {
            void *p = realloc(ids, (cap = cap ? cap * 2 : 16) * sizeof(*ids));

            if (p == NULL) {
                rc = FLOE_ENOMEM;
                goto cleanup;
            }
            ids = p;
        }
        ids[nids++] = id;
    }
    if (nids > 0)
        qsort(ids, nids, sizeof(*ids), cmp_u64);
    for (i = 0; i < nids; i++) {
        struct seg *sg;

        pthread_mutex_lock(&w->mu);
        rc = push_seg(w, ids[i]);
        if (rc == FLOE_OK)
            w->segs[w->nsegs - 1].refs = 1; /* pinned while parsing */
        pthread_mutex_unlock(&w->mu);
        if (rc != FLOE_OK)
            goto cleanup;
        seg_path(w, ids[i], path, sizeof(path));
        floe_buf_reset(&data);
        rc = floe_read_file(path, &data);
        if (rc != FLOE_OK) {
            floe_log_error("cannot read WAL segment %s", path);
            goto cleanup;
        }
        floe_buf_reset(&done);
        done_path(w, ids[i], path, sizeof(path));
        if (floe_path_exists(path) &&
            floe_read_file(path, &done) != FLOE_OK) {
            floe_log_warn("cannot read %s: replaying the whole segment",
                          path);
            floe_buf_reset(&done);
        }
        ndone = done.len / 8; /* a torn last offset is ignored */
        for (k = 0; k < ndone; k++) /* in place: 8-byte LE -> u64 */
        {
            uint64_t v = rd64((const unsigned char *)done.data + 8 * k);

            memcpy(done.data + 8 * k, &v, 8);
        }
        if (ndone > 1)
            qsort(done.data, ndone, 8, cmp_off);
        total += replay_seg(w, ids[i], (const unsigned char *)data.data,
                            data.len, (const uint64_t *)(void *)done.data,
                            ndone, cb, ud, &skipped);
        pthread_mutex_lock(&w->mu);
        sg = find_seg(w, ids[i]);
        if (sg != NULL) {
            sg->refs--;
            maybe_drop(w, sg);
        }
        pthread_mutex_unlock(&w->mu);
        next = ids[i] + 1;
    }
    if (skipped > 0)
        floe_log_info("skipped %llu write-ahead log entries already "
                      "delivered before the restart",
                      (unsigned long long)skipped);
    /* A fresh segment for new appends. */
    seg_path(w, next, path, sizeof(path));
    w->fd = create_seg(w, next);
    if (w->fd < 0) {
        floe_log_errno("create %s", path);
        rc = FLOE_EIO;
        goto cleanup;
    }
    pthread_mutex_lock(&w->mu);
    w->cur_id = next;
    rc = push_seg(w, next);
    pthread_mutex_unlock(&w->mu);
    if (rc == FLOE_OK)
        rc = floe_fsync_dir(w->dir);
    *out_entries = total;
cleanup:
    if (dir != NULL)
        closedir(dir);
    free(ids);
    floe_buf_free(&data);
    floe_buf_free(&done);
    return rc;
}

/* Seal the current segment and open the next. mu held. */
static int rotate(struct floe_fh_wal *w)
{
    char path[4096];
    struct seg *sg;
    int fd;

    while (w->syncing)
        pthread_cond_wait(&w->cv, &w->mu);
    if (fdatasync(w->fd) != 0) {
        floe_log_errno("fdatasync WAL segment %" PRIu64, w->cur_id);
        w->failed = true;
        return FLOE_EIO;
    }
    w->synced = w->written;
    seg_path(w, w->cur_id + 1, path, sizeof(path));
    fd = create_seg(w, w->cur_id + 1);
    if (fd < 0 || push_seg(w, w->cur_id + 1) != FLOE_OK) {
        floe_log_errno("create %s", path);
        if (fd >= 0)
            close(fd);
        return FLOE_EIO;
    }
    close(w->fd);
    w->fd = fd;
    w->cur_id++;
    w->cur_size = 0;
    if (floe_fsync_dir(w->dir) != FLOE_OK) {
        w->failed = true;
        return FLOE_EIO;
    }
    sg = find_seg(w, w->cur_id - 1);
    if (sg != NULL)
        maybe_drop(w, sg);
    return FLOE_OK;
}

int floe_fh_wal_append(struct floe_fh_wal *w, const char *stream,
                       int64_t arrival_ms, const void *data, size_t len,
                       struct floe_fh_wal_pos *out_pos, uint64_t *out_seq)
{
    unsigned char hdr[HDR_LEN], meta[2 + 64 + 8];
    size_t nlen = strlen(stream), mlen = 2 + nlen + 8, plen = mlen + len;
    struct iovec iov[3];
    size_t done = 0, total = HDR_LEN + plen;
    uint32_t crc;
    int i, rc = FLOE_OK;

    if (nlen == 0 || nlen > 64 || plen > UINT32_MAX)
        return FLOE_EINVAL;
    meta[0] = (unsigned char)nlen;
    meta[1] = (unsigned char)(nlen >> 8);
    memcpy(meta + 2, stream, nlen);
    for (i = 0; i < 8; i++)
        meta[2 + nlen + (size_t)i] =
            (unsigned char)((uint64_t)arrival_ms >> (8 * i));
    crc = (uint32_t)crc32(0, meta, (uInt)mlen);
    crc = (uint32_t)crc32(crc, data, (uInt)len);
    wr32(hdr, WAL_MAGIC);
    wr32(hdr + 4, (uint32_t)plen);
    wr32(hdr + 8, crc);
    wr32(hdr + 12, (uint32_t)crc32(0, hdr, 8));

    pthread_mutex_lock(&w->mu);
    if (w->fd < 0 || w->failed) {
        rc = FLOE_EIO;
        goto out;
    }
    if (w->cur_size > 0 && w->cur_size + (int64_t)total > w->seg_bytes) {
        rc = rotate(w);
        if (rc != FLOE_OK)
            goto out;
    }
    while (done < total) {
        struct iovec *v = iov;
        int cnt = 0;
        size_t skip = done;
        ssize_t got;

        if (skip < HDR_LEN) {
            iov[cnt].iov_base = hdr + skip;
            iov[cnt++].iov_len = HDR_LEN - skip;
            skip = 0;
        } else {
            skip -= HDR_LEN;
        }
        if (skip < mlen) {
            iov[cnt].iov_base = meta + skip;
            iov[cnt++].iov_len = mlen - skip;
            skip = 0;
        } else {
            skip -= mlen;
        }
        iov[cnt].iov_base = (char *)data + skip;
        iov[cnt++].iov_len = len - skip;
        got = writev(w->fd, v, cnt);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            floe_log_errno("write WAL segment %" PRIu64, w->cur_id);
            /* Cut the partial entry so the next one starts cleanly. */
            if (ftruncate(w->fd, w->cur_size) != 0)
                w->failed = true;
            rc = FLOE_EIO;
            goto out;
        }
        done += (size_t)got;
    }
    out_pos->seg = w->cur_id;
    out_pos->off = (uint64_t)w->cur_size;
    w->cur_size += (int64_t)total;
    w->written++;
    find_seg(w, w->cur_id)->refs++;
    *out_seq = w->written;
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int floe_fh_wal_sync(struct floe_fh_wal *w, uint64_t seq)
{
    int rc;

    pthread_mutex_lock(&w->mu);
    while (w->synced < seq && !w->failed) {
        uint64_t target;
        int fd, r;

        if (w->syncing) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        w->syncing = true;
        target = w->written;
        fd = w->fd;
        pthread_mutex_unlock(&w->mu);
        r = fdatasync(fd);
        pthread_mutex_lock(&w->mu);
        w->syncing = false;
        if (r != 0) {
            floe_log_errno("fdatasync WAL segment %" PRIu64, w->cur_id);
            w->failed = true;
        } else if (target > w->synced) {
            w->synced = target;
        }
        pthread_cond_broadcast(&w->cv);
    }
    rc = w->synced >= seq ? FLOE_OK : FLOE_EIO;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* Every entry of the current segment is delivered: start a fresh one and
 * delete it, so a restart does not replay delivered data. mu held. */
static void retire_current(struct floe_fh_wal *w)
{
    char path[4096];
    struct seg *sg;
    int fd;

    while (w->syncing)
        pthread_cond_wait(&w->cv, &w->mu);
    sg = find_seg(w, w->cur_id);
    if (sg == NULL || sg->refs != 0 || w->cur_size == 0 || w->failed)
        return; /* an append came in while we waited */
    seg_path(w, w->cur_id + 1, path, sizeof(path));
    fd = create_seg(w, w->cur_id + 1);
    if (fd < 0 || push_seg(w, w->cur_id + 1) != FLOE_OK) {
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return; /* harmless: the old segment stays until next time */
    }
    close(w->fd);
    w->fd = fd;
    w->cur_id++;
    w->cur_size = 0;
    w->synced = w->written; /* nothing unsynced was in the old segment */
    sg = find_seg(w, w->cur_id - 1);
    if (sg != NULL)
        maybe_drop(w, sg);
    if (floe_fsync_dir(w->dir) != FLOE_OK)
        floe_log_warn("fsync %s failed", w->dir);
}

void floe_fh_wal_release(struct floe_fh_wal *w, uint64_t seg, uint32_t n)
{
    struct seg *sg;

    pthread_mutex_lock(&w->mu);
    sg = find_seg(w, seg);
    if (sg != NULL) {
        sg->refs -= n;
        FLOE_ASSERT(sg->refs >= 0);
        if (sg->refs == 0 && w->fd >= 0 && seg == w->cur_id)
            retire_current(w);
        else
            maybe_drop(w, sg);
    }
    pthread_mutex_unlock(&w->mu);
}

/* Append offsets to segment `seg`'s sidecar, durably. */
static void write_done(struct floe_fh_wal *w, uint64_t seg,
                       const struct floe_fh_wal_pos *pos, size_t n)
{
    unsigned char *buf = malloc(n * 8);
    char path[4096];
    struct stat st;
    size_t i, done = 0;
    int fd;

    if (buf == NULL)
        return;
    for (i = 0; i < n; i++) {
        wr32(buf + 8 * i, (uint32_t)pos[i].off);
        wr32(buf + 8 * i + 4, (uint32_t)(pos[i].off >> 32));
    }
    done_path(w, seg, path, sizeof(path));
    pthread_mutex_lock(&w->done_mu);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        floe_log_errno("open %s", path);
        goto out;
    }
    /* Cut a torn tail left by an earlier failed write. */
    if (fstat(fd, &st) == 0 && st.st_size % 8 != 0 &&
        ftruncate(fd, st.st_size - st.st_size % 8) != 0)
        floe_log_errno("ftruncate %s", path);
    while (done < n * 8) {
        ssize_t got = write(fd, buf + done, n * 8 - done);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            floe_log_errno("write %s", path);
            break;
        }
        done += (size_t)got;
    }
    if (fdatasync(fd) != 0)
        floe_log_errno("fdatasync %s", path);
    if (fstat(fd, &st) == 0 && (size_t)st.st_size == done &&
        floe_fsync_dir(w->dir) != FLOE_OK) /* new file: make it visible */
        floe_log_warn("fsync %s failed", w->dir);
    close(fd);
out:
    pthread_mutex_unlock(&w->done_mu);
    free(buf);
}

void floe_fh_wal_done(struct floe_fh_wal *w,
                      const struct floe_fh_wal_pos *pos, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t j = i + 1;
        struct seg *sg;
        bool keep;

        while (j < n && pos[j].seg == pos[i].seg)
            j++;
        /* Worth a sidecar only when the segment outlives this release. */
        pthread_mutex_lock(&w->mu);
        sg = find_seg(w, pos[i].seg);
        keep = sg != NULL && (sg->refs > (int64_t)(j - i) ||
                              (w->fd >= 0 && sg->id == w->cur_id));
        pthread_mutex_unlock(&w->mu);
        if (keep)
            write_done(w, pos[i].seg, pos + i, j - i);
        floe_fh_wal_release(w, pos[i].seg, (uint32_t)(j - i));
        i = j;
    }
}

void floe_fh_wal_close(struct floe_fh_wal *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0) {
        if (fdatasync(w->fd) != 0)
            floe_log_errno("fdatasync WAL segment %" PRIu64, w->cur_id);
        close(w->fd);
        w->fd = -1;
        /* An empty current segment is useless: drop it. */
        if (w->nsegs > 0 && w->segs[w->nsegs - 1].id == w->cur_id &&
            w->segs[w->nsegs - 1].refs == 0)
            maybe_drop(w, &w->segs[w->nsegs - 1]);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->done_mu);
    pthread_cond_destroy(&w->cv);
    free(w->segs);
    free(w->dir);
    free(w);
}
