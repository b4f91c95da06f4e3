/* fuzz_wal.c - the write-ahead log replay reader (firehose/wal.h) on
 * damaged, torn and forged segments. Input: byte 0 = flags (bits 0-3: how
 * many delivered offsets the .done sidecar lists, each 2 bytes of input
 * as a u16; bit 4: a torn sidecar tail; bit 5: the segment bytes are
 * split into segments 1 and 3), then those offsets, then the segment
 * bytes. Each run writes them into a per-process directory under
 * /dev/shm (or $TMPDIR), replays with the real reader, releases every
 * entry, replays again and empties the directory. Oracles: replay
 * succeeds; each entry handed over has a sound stream name and lies
 * inside its segment; every damaged segment is quarantined; once all is
 * released, a second replay finds nothing left. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "firehose/wal.h"
#include "fuzz.h"

static char dir[256];

struct run {
    struct floe_fh_wal *wal;
    size_t seg_len[4]; /* bytes written per segment id */
    uint64_t calls;
};

/* Remove what a run left under `path` (files, quarantine/); keep `path`. */
static void empty_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char sub[512];

    FUZZ_CHECK(d != NULL);
    while ((de = readdir(d)) != NULL) {
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            empty_dir(sub);
            FUZZ_CHECK(rmdir(sub) == 0);
        } else {
            FUZZ_CHECK(unlink(sub) == 0);
        }
    }
    closedir(d);
}

static void cleanup(void)
{
    if (dir[0] != '\0') {
        empty_dir(dir);
        rmdir(dir);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *base = getenv("TMPDIR");

    fuzz_quiet();
    if (access("/dev/shm", W_OK) == 0)
        base = "/dev/shm"; /* the reader fsyncs: keep that off real disks */
    snprintf(dir, sizeof(dir), "%s/floe-fuzz-wal-XXXXXX",
             base != NULL ? base : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    return 0;
}

static void write_file(const char *name, const void *p, size_t n)
{
    char path[512];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static void on_entry(void *ud, const struct floe_fh_wal_pos *pos,
                     const char *stream, int64_t arrival_ms, const void *data,
                     size_t len)
{
    struct run *r = ud;
    size_t n = strlen(stream);

    FUZZ_CHECK(pos->seg == 1 || pos->seg == 3);
    FUZZ_CHECK(n >= 1 && n <= 64);
    /* header + name length + name + arrival + data inside the segment */
    FUZZ_CHECK(pos->off + 16 + 2 + n + 8 + len <= r->seg_len[pos->seg]);
    r->calls++;
    floe_fh_wal_release(r->wal, pos->seg, 1); /* "delivered" at once */
}

static void replay(struct run *r, struct floe_fh_wal_replay_stats *st,
                   unsigned nseg_damaged_max)
{
    char err[FLOE_ERR_LEN];

    FUZZ_CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &r->wal, err) == FLOE_OK);
    r->calls = 0;
    FUZZ_CHECK(floe_fh_wal_replay(r->wal, on_entry, r, st) == FLOE_OK);
    FUZZ_CHECK(st->entries == r->calls);
    FUZZ_CHECK(st->quarantined <= nseg_damaged_max);
    FUZZ_CHECK((st->damaged_regions > 0) == (st->quarantined > 0));
    FUZZ_CHECK(st->damaged_bytes >= st->damaged_regions);
    floe_fh_wal_close(r->wal);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct floe_fh_wal_replay_stats st;
    struct run r;
    unsigned char done[16 * 8 + 3];
    size_t ndone, i, dlen, half;
    const uint8_t *seg;
    unsigned flags;

    if (size < 1)
        return 0;
    flags = data[0];
    ndone = flags & 15;
    if (size < 1 + 2 * ndone)
        return 0;
    memset(&r, 0, sizeof(r));
    memset(done, 0, sizeof(done));
    for (i = 0; i < ndone; i++) { /* u16 offsets -> u64 LE */
        done[8 * i] = data[1 + 2 * i];
        done[8 * i + 1] = data[2 + 2 * i];
    }
    dlen = 8 * ndone + ((flags & 16) ? 3 : 0);
    seg = data + 1 + 2 * ndone;
    size -= 1 + 2 * ndone;
    half = (flags & 32) ? size / 2 : size;
    write_file("wal-0000000000000001.log", seg, half);
    r.seg_len[1] = half;
    if (dlen > 0)
        write_file("wal-0000000000000001.done", done, dlen);
    if (flags & 32) {
        write_file("wal-0000000000000003.log", seg + half, size - half);
        r.seg_len[3] = size - half;
    }
    replay(&r, &st, (flags & 32) ? 2 : 1);
    /* Everything was released: nothing may come back. */
    replay(&r, &st, 0);
    FUZZ_CHECK(st.entries == 0 && st.delivered == 0 && st.torn_bytes == 0);
    empty_dir(dir);
    return 0;
}
