/* wal.c - segmented write-ahead log with group commit.
 * Entry: 16-byte header (magic, payload length, CRC-32 of the payload,
 * CRC-32 of the first 8 header bytes) then payload (u16 name length, name,
 * i64 arrival ms, record bytes), little-endian. Only one fdatasync runs at
 * a time; it covers every entry written before it started, so concurrent
 * writers share it. Rotation syncs the old segment before switching.
 * Sidecar wal-N.done: little-endian u64 offsets of delivered entries,
 * appended and fdatasync'ed per delivered object (a torn tail is ignored);
 * deleted with its segment, orphans removed at replay.
 * Replay never stops at damage: an entry is taken only when magic, header
 * CRC, payload CRC and stream name all check, so after a damaged region
 * the scan resumes at the next such entry (the payload CRC makes a false
 * start as unlikely as a CRC collision). Only a torn last entry, which no
 * fdatasync can have covered, is quiet. A write error is survivable (the
 * partial entry is cut, nothing was acknowledged); an fdatasync error is
 * not (the page cache state is unknown). */
#define FLOE_LOG_MOD "firehose.wal"

#include "firehose/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
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
    bool syncing;
    bool failed;      /* an fdatasync failed: nothing is acknowledged again */
    bool write_error; /* the last write failed; the next append rotates */
    floe_fh_wal_fatal_fn on_fatal;
    void *fatal_ud;
    pthread_mutex_t done_mu; /* serialises sidecar appends */
    /* Metrics (NULL when not counted). */
    struct floe_counter *m_replayed, *m_damaged_bytes, *m_damaged_entries,
        *m_quarantined, *m_torn_bytes, *m_write_errors;
    struct floe_gauge *m_healthy;
};

static void count(struct floe_counter *c, uint64_t n)
{
    if (c != NULL && n > 0)
        floe_counter_add(c, n);
}

static void set_healthy(struct floe_fh_wal *w, bool ok)
{
    if (w->m_healthy != NULL)
        floe_gauge_set(w->m_healthy, ok ? 1 : 0);
}

/* An fdatasync or directory fsync failed (errno set): see wal.h. From now
 * on nothing is acknowledged. mu held (or single-threaded). */
static void fail_sync(struct floe_fh_wal *w, const char *what)
{
    char msg[512], ebuf[128];
    int e = errno;

    floe_log_errno("%s", what);
    if (w->failed)
        return;
    w->failed = true;
    set_healthy(w, false);
    /* GNU strerror_r (we build with _GNU_SOURCE) is thread-safe. */
    snprintf(msg, sizeof(msg), "%s in %s failed: %s", what, w->dir,
             strerror_r(e, ebuf, sizeof(ebuf)));
    if (w->on_fatal != NULL)
        w->on_fatal(w->fatal_ud, msg);
}

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

#define M(m) offsetof(struct floe_fh_wal, m)
static const struct {
    size_t off;
    const char *name, *help;
} wal_counters[] = {
    { M(m_replayed), "floe_firehose_wal_replayed_entries_total",
      "WAL entries replayed into buffers at start-up." },
    { M(m_damaged_bytes), "floe_firehose_wal_damaged_bytes_total",
      "WAL bytes skipped at replay because they failed their checks "
      "(damage; torn last entries are not counted here)." },
    { M(m_damaged_entries), "floe_firehose_wal_damaged_entries_total",
      "WAL entries lost in damaged regions at replay (a lower bound: "
      "counted by their sound headers)." },
    { M(m_quarantined), "floe_firehose_wal_quarantined_segments_total",
      "Damaged WAL segments kept under wal/quarantine/." },
    { M(m_torn_bytes), "floe_firehose_wal_torn_bytes_total",
      "Bytes of torn last entries (a crash cut the write short, never "
      "acknowledged) ignored at replay." },
    { M(m_write_errors), "floe_firehose_wal_write_errors_total",
      "Failed WAL writes (the put was refused, not acknowledged)." },
    { 0, NULL, NULL },
};
#undef M

int floe_fh_wal_open(const char *dir, int64_t segment_bytes,
                     struct floe_metrics *metrics, struct floe_fh_wal **out,
                     char *err)
{
    struct floe_fh_wal *w;
    size_t i;
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
    for (i = 0; metrics != NULL && wal_counters[i].name != NULL; i++) {
        struct floe_counter **c =
            (struct floe_counter **)(void *)((char *)w + wal_counters[i].off);

        *c = floe_metrics_counter(metrics, wal_counters[i].name, NULL,
                                  wal_counters[i].help);
        if (*c == NULL)
            goto oom;
    }
    if (metrics != NULL) {
        w->m_healthy = floe_metrics_gauge(
            metrics, "floe_firehose_wal_healthy", NULL,
            "1 while WAL writes succeed; 0 after a failed write until one "
            "succeeds (GET /ready answers 503 meanwhile).");
        if (w->m_healthy == NULL)
            goto oom;
        set_healthy(w, true);
    }
    *out = w;
    return FLOE_OK;
oom:
    floe_fh_wal_close(w);
    return floe_err(err, FLOE_ENOMEM, "out of memory");
}

void floe_fh_wal_set_fatal(struct floe_fh_wal *w, floe_fh_wal_fatal_fn fn,
                           void *ud)
{
    pthread_mutex_lock(&w->mu);
    w->on_fatal = fn;
    w->fatal_ud = ud;
    pthread_mutex_unlock(&w->mu);
}

bool floe_fh_wal_healthy(struct floe_fh_wal *w)
{
    bool ok;

    pthread_mutex_lock(&w->mu);
    ok = !w->failed && !w->write_error;
    pthread_mutex_unlock(&w->mu);
    return ok;
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

static const unsigned char magic_le[4] = { 0x46, 0x48, 0x57, 0x31 };

/* The 16 header bytes at `h` check: magic and header CRC. */
static bool hdr_ok(const unsigned char *h)
{
    return rd32(h) == WAL_MAGIC && rd32(h + 12) == (uint32_t)crc32(0, h, 8);
}

/* Size of the intact entry at p[off..n) (header, payload CRC, stream
 * name), 0 when there is none. */
static size_t entry_at(const unsigned char *p, size_t n, size_t off)
{
    const unsigned char *h = p + off, *pl = h + HDR_LEN;
    size_t len, nlen;

    if (n - off < HDR_LEN || !hdr_ok(h))
        return 0;
    len = rd32(h + 4);
    if (len > n - off - HDR_LEN || len < 10 ||
        rd32(h + 8) != (uint32_t)crc32(0, pl, (uInt)len))
        return 0;
    nlen = (size_t)pl[0] | (size_t)pl[1] << 8;
    if (nlen == 0 || nlen > 64 || 2 + nlen + 8 > len)
        return 0;
    return HDR_LEN + len;
}

/* Are p[off..n) one entry whose write a crash cut short? A prefix of a
 * header, a sound header whose length runs past the end, or bytes never
 * written (off at or past `zeros`, where the trailing zero bytes start).
 * No fdatasync covered such an entry, so it was never acknowledged. */
static bool torn_at(const unsigned char *p, size_t n, size_t off,
                    size_t zeros)
{
    size_t rem = n - off;

    if (off >= zeros)
        return true;
    if (rem < HDR_LEN)
        return memcmp(p + off, magic_le, rem < 4 ? rem : 4) == 0;
    return hdr_ok(p + off) && rd32(p + off + 4) > rem - HDR_LEN;
}

/* The entry at `off` is damaged: where intact data resumes (the next
 * intact entry or torn tail, else n). *out_lost: entries lost in between,
 * the damaged one plus every sound header met on the way. */
static size_t resync(const unsigned char *p, size_t n, size_t off,
                     size_t zeros, uint64_t *out_lost)
{
    size_t q;

    *out_lost = 1;
    /* A sound header with a bad payload says where the next entry is:
     * trust that before scanning the payload (which may hold anything). */
    if (n - off >= HDR_LEN && hdr_ok(p + off)) {
        size_t end = off + HDR_LEN + rd32(p + off + 4);

        if (end == n ||
            (end < n && (entry_at(p, n, end) || torn_at(p, n, end, zeros))))
            return end;
    }
    for (q = off + 1; q < n; q++) {
        if (p[q] != magic_le[0] && q < zeros)
            continue;
        if (entry_at(p, n, q) > 0 || torn_at(p, n, q, zeros))
            return q;
        if (n - q >= HDR_LEN && hdr_ok(p + q))
            (*out_lost)++;
    }
    return n;
}

/* Hand the intact entry at `off` (payload pl[0..len)) to the callback
 * unless its offset is in the sorted done[0..ndone). */
static void replay_entry(struct floe_fh_wal *w, uint64_t id, size_t off,
                         const unsigned char *pl, size_t len,
                         const uint64_t *done, size_t ndone,
                         floe_fh_wal_replay_cb cb, void *ud,
                         struct floe_fh_wal_replay_stats *st)
{
    size_t nlen = (size_t)pl[0] | (size_t)pl[1] << 8;
    struct floe_fh_wal_pos pos = { id, off };
    uint64_t key = off;
    int64_t arrival = 0;
    char name[65];
    int i;

    if (ndone > 0 &&
        bsearch(&key, done, ndone, sizeof(*done), cmp_off) != NULL) {
        st->delivered++; /* delivered before the crash */
        return;
    }
    memcpy(name, pl + 2, nlen);
    name[nlen] = '\0';
    for (i = 7; i >= 0; i--)
        arrival = (int64_t)((uint64_t)arrival << 8 | pl[2 + nlen + i]);
    pthread_mutex_lock(&w->mu); /* workers release concurrently */
    find_seg(w, id)->refs++;
    pthread_mutex_unlock(&w->mu);
    st->entries++;
    cb(ud, &pos, name, arrival, pl + 2 + nlen + 8, len - 2 - nlen - 8);
}

/* Replay one segment's bytes; returns the number of damaged regions. */
static uint64_t replay_seg(struct floe_fh_wal *w, uint64_t id,
                           const unsigned char *p, size_t n,
                           const uint64_t *done, size_t ndone,
                           floe_fh_wal_replay_cb cb, void *ud,
                           struct floe_fh_wal_replay_stats *st)
{
    size_t off = 0, zeros = n;
    uint64_t regions = 0;

    while (zeros > 0 && p[zeros - 1] == 0)
        zeros--;
    while (off < n) {
        size_t len = entry_at(p, n, off), next;
        uint64_t lost;

        if (len > 0) {
            replay_entry(w, id, off, p + off + HDR_LEN, len - HDR_LEN, done,
                         ndone, cb, ud, st);
            off += len;
            continue;
        }
        if (torn_at(p, n, off, zeros)) {
            floe_log_info("segment %" PRIu64 ": last entry torn at offset "
                          "%zu (%zu bytes; a crash cut its write short, it "
                          "was never acknowledged), ignored",
                          id, off, n - off);
            st->torn_bytes += n - off;
            break;
        }
        next = resync(p, n, off, zeros, &lost);
        floe_log_warn("segment %" PRIu64 ": %zu damaged bytes at offset %zu "
                      "skipped (entries lost: at least %" PRIu64 "), %s",
                      id, next - off, off, lost,
                      next < n ? "intact data resumes after them"
                               : "nothing intact after them");
        st->damaged_bytes += next - off;
        st->damaged_entries += lost;
        st->damaged_regions++;
        regions++;
        off = next;
    }
    return regions;
}

/* Keep damaged segment `id` (its bytes data[0..len)) for a human under
 * <dir>/quarantine/: a hard link, so the WAL can still delete its own name
 * once the intact entries are delivered, else a copy. A name held by
 * another file gets a suffix (ids start again at 1 when the WAL empties);
 * a link to this very file (an earlier start) is kept as it is. The
 * chosen path goes to out[n]. */
static int quarantine_seg(struct floe_fh_wal *w, uint64_t id,
                          const void *data, size_t len, char *out, size_t n)
{
    char src[4096], qdir[4096];
    struct stat a, b;
    int i, rc;

    snprintf(qdir, sizeof(qdir), "%s/quarantine", w->dir);
    seg_path(w, id, src, sizeof(src));
    rc = floe_mkdirs(qdir);
    if (rc != FLOE_OK)
        return rc;
    if (stat(src, &a) != 0) {
        floe_log_errno("stat %s", src);
        return FLOE_EIO;
    }
    for (i = 0; i < 1000; i++) {
        int got = i == 0 ? snprintf(out, n, "%s/wal-%016" PRIu64 ".log",
                                    qdir, id)
                         : snprintf(out, n, "%s/wal-%016" PRIu64 ".%d.log",
                                    qdir, id, i);

        if (got < 0 || (size_t)got >= n)
            return FLOE_ETOOBIG;
        if (link(src, out) == 0)
            break;
        if (errno == EEXIST) {
            if (stat(out, &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino)
                return FLOE_OK;
            continue;
        }
        /* No hard links on this file system: a durable copy. */
        floe_log_debug("link %s: errno %d, copying", out, errno);
        rc = floe_write_file_atomic(out, data, len);
        if (rc != FLOE_OK)
            return rc;
        break;
    }
    if (i == 1000)
        return FLOE_EEXIST;
    rc = floe_fsync_dir(qdir);
    if (rc == FLOE_OK)
        rc = floe_fsync_dir(w->dir); /* quarantine/ itself may be new */
    return rc;
}

int floe_fh_wal_replay(struct floe_fh_wal *w, floe_fh_wal_replay_cb cb,
                       void *ud, struct floe_fh_wal_replay_stats *out)
{
    DIR *dir = NULL;
    struct dirent *de;
    struct floe_fh_wal_replay_stats st;
    uint64_t *ids = NULL, next = 1;
    size_t nids = 0, cap = 0, i, k, ndone;
    struct floe_buf data, done;
    char path[4096];
    int rc = FLOE_OK;

    memset(&st, 0, sizeof(st));
    floe_buf_init(&data, FLOE_BUF_UNLIMITED);
    floe_buf_init(&done, FLOE_BUF_UNLIMITED);
    dir = opendir(w->dir);
    if (dir == NULL) {
        floe_log_errno("opendir %s", w->dir);
        rc = FLOE_EIO;
        goto cleanup;
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
        struct floe_fh_wal_replay_stats before = st;
        struct seg *sg;
        bool pin = false;
        char qpath[4096];

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
        if (replay_seg(w, ids[i], (const unsigned char *)data.data, data.len,
                       (const uint64_t *)(void *)done.data, ndone, cb, ud,
                       &st) > 0) {
            seg_path(w, ids[i], path, sizeof(path));
            if (quarantine_seg(w, ids[i], data.data, data.len, qpath,
                               sizeof(qpath)) == FLOE_OK) {
                st.quarantined++;
                floe_log_error(
                    "WAL segment %s is damaged: %" PRIu64 " bytes in %" PRIu64
                    " region(s) skipped (entries lost: at least %" PRIu64
                    "), %" PRIu64 " intact entries kept; segment kept as %s",
                    path, st.damaged_bytes - before.damaged_bytes,
                    st.damaged_regions - before.damaged_regions,
                    st.damaged_entries - before.damaged_entries,
                    st.entries + st.delivered - before.entries -
                        before.delivered,
                    qpath);
            } else {
                pin = true; /* never delete what could not be kept */
                floe_log_error("WAL segment %s is damaged and cannot be "
                               "copied to %s/quarantine: it stays in place",
                               path, w->dir);
            }
        }
        pthread_mutex_lock(&w->mu);
        sg = find_seg(w, ids[i]);
        if (sg != NULL && !pin) {
            sg->refs--;
            maybe_drop(w, sg);
        }
        pthread_mutex_unlock(&w->mu);
        next = ids[i] + 1;
    }
    if (st.delivered > 0)
        floe_log_info("skipped %llu write-ahead log entries already "
                      "delivered before the restart",
                      (unsigned long long)st.delivered);
    count(w->m_replayed, st.entries);
    count(w->m_damaged_bytes, st.damaged_bytes);
    count(w->m_damaged_entries, st.damaged_entries);
    count(w->m_quarantined, st.quarantined);
    count(w->m_torn_bytes, st.torn_bytes);
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
cleanup:
    if (out != NULL)
        *out = st;
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
    if (w->failed)
        return FLOE_EIO;
    if (fdatasync(w->fd) != 0) {
        fail_sync(w, "fdatasync of the WAL segment before rotation");
        return FLOE_EIO;
    }
    w->synced = w->written;
    seg_path(w, w->cur_id + 1, path, sizeof(path));
    fd = create_seg(w, w->cur_id + 1);
    if (fd < 0 || push_seg(w, w->cur_id + 1) != FLOE_OK) {
        floe_log_errno("create %s", path);
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return FLOE_EIO;
    }
    close(w->fd);
    w->fd = fd;
    w->cur_id++;
    w->cur_size = 0;
    if (floe_fsync_dir(w->dir) != FLOE_OK) {
        fail_sync(w, "fsync of the WAL directory after rotation");
        return FLOE_EIO;
    }
    sg = find_seg(w, w->cur_id - 1);
    if (sg != NULL)
        maybe_drop(w, sg);
    return FLOE_OK;
}

/* A write (or the segment it needed) failed: refuse, count, rotate next
 * time. mu held. */
static void write_failed(struct floe_fh_wal *w)
{
    count(w->m_write_errors, 1);
    w->write_error = true;
    set_healthy(w, false);
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
    /* After a failed write, a fresh segment: the failure may belong to
     * this file (EFBIG at a file size limit). */
    if (w->cur_size > 0 && (w->write_error ||
                            w->cur_size + (int64_t)total > w->seg_bytes)) {
        rc = rotate(w);
        if (rc != FLOE_OK) {
            write_failed(w);
            goto out;
        }
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
            if (got == 0)
                errno = EIO;
            floe_log_errno("write WAL segment %" PRIu64 " (put refused)",
                           w->cur_id);
            write_failed(w);
            /* Cut the partial entry so the next one starts cleanly; if
             * even that fails the segment's content is unknown. */
            if (ftruncate(w->fd, w->cur_size) != 0)
                fail_sync(w, "ftruncate of a partly written WAL entry");
            rc = FLOE_EIO;
            goto out;
        }
        done += (size_t)got;
    }
    if (w->write_error) {
        w->write_error = false;
        set_healthy(w, true);
        floe_log_info("WAL writes succeed again (segment %" PRIu64 ")",
                      w->cur_id);
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
        if (r != 0)
            fail_sync(w, "fdatasync of the WAL segment");
        else if (target > w->synced)
            w->synced = target;
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
    if (floe_fsync_dir(w->dir) != FLOE_OK) /* the new segment's name */
        fail_sync(w, "fsync of the WAL directory after retiring a segment");
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
