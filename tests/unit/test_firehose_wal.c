/* test_firehose_wal.c - the write-ahead log's replay reader against damage
 * (a flipped byte at the start, middle or end of a segment, several
 * damaged regions, a length field pointing past the end): every intact
 * entry after a damaged one is kept, the segment is kept under
 * quarantine/, a torn last entry stays a quiet case. Plus a failed write
 * (RLIMIT_FSIZE: EFBIG, SIGXFSZ ignored): refused, then recovered. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/util.h"
#include "firehose/wal.h"
#include "test.h"

#define MAXREC 16

struct got {
    int n;
    char data[MAXREC][64];
};

static void collect(void *ud, const struct floe_fh_wal_pos *pos,
                    const char *stream, int64_t ms, const void *data,
                    size_t len)
{
    struct got *g = ud;

    (void)pos;
    (void)stream;
    (void)ms;
    if (g->n < MAXREC)
        snprintf(g->data[g->n], sizeof(g->data[0]), "%.*s", (int)len,
                 (const char *)data);
    g->n++;
}

/* A segment 1 holding records "record-<i>-..." 0..n-1; their offsets in
 * off[0..n] (off[n] = segment size). The WAL is closed as by a crash. */
static int make_seg(char *dir, size_t dlen, int n, uint64_t *off,
                    char *seg, size_t slen)
{
    char err[FLOE_ERR_LEN];
    struct floe_fh_wal *w = NULL;
    struct floe_fh_wal_replay_stats st;
    struct floe_fh_wal_pos pos;
    uint64_t seq = 0;
    int i, rc = -1;

    if (test_tmpdir(dir, dlen) == NULL)
        return -1;
    snprintf(seg, slen, "%s/wal-%016d.log", dir, 1);
    if (floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) != FLOE_OK ||
        floe_fh_wal_replay(w, collect, NULL, &st) != FLOE_OK)
        goto out;
    for (i = 0; i < n; i++) {
        char rec[64];
        int len = snprintf(rec, sizeof(rec), "record-%d-%s\n", i,
                           "abcdefghijklmnopqrstuvwxyz");

        if (floe_fh_wal_append(w, "orders", 1000 + i, rec, (size_t)len,
                               &pos, &seq) != FLOE_OK)
            goto out;
        off[i] = pos.off;
    }
    if (floe_fh_wal_sync(w, seq) != FLOE_OK)
        goto out;
    off[n] = pos.off + 16 + 2 + 6 + 8 + 36;
    rc = 0;
out:
    floe_fh_wal_close(w);
    return rc;
}

static void poke(const char *path, uint64_t off, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY);

    CHECK(fd >= 0 && pwrite(fd, b, n, (off_t)off) == (ssize_t)n);
    if (fd >= 0)
        close(fd);
}

static void flip(const char *path, uint64_t off)
{
    unsigned char c = 0;
    int fd = open(path, O_RDONLY);

    CHECK(fd >= 0 && pread(fd, &c, 1, (off_t)off) == 1);
    if (fd >= 0)
        close(fd);
    c ^= 0x5a;
    poke(path, off, &c, 1);
}

/* Replay `dir` into *g and *st; the WAL stays open in *out_w. */
static void replay(const char *dir, struct got *g,
                   struct floe_fh_wal_replay_stats *st,
                   struct floe_fh_wal **out_w)
{
    char err[FLOE_ERR_LEN];

    memset(g, 0, sizeof(*g));
    memset(st, 0xff, sizeof(*st));
    *out_w = NULL;
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, out_w, err) == FLOE_OK);
    CHECK(floe_fh_wal_replay(*out_w, collect, g, st) == FLOE_OK);
}

static int has(const struct got *g, int i, int rec)
{
    char want[16];

    snprintf(want, sizeof(want), "record-%d-", rec);
    return i < g->n && strncmp(g->data[i], want, strlen(want)) == 0;
}

static int quarantined(const char *dir)
{
    char q[512];

    snprintf(q, sizeof(q), "%s/quarantine/wal-%016d.log", dir, 1);
    return floe_path_exists(q);
}

/* One flipped byte per case; which records survive. */
static void test_damage_table(void)
{
    static const struct {
        const char *name;
        int rec;   /* damaged record */
        int where; /* byte inside it: 0 magic, 5 length, 12 header CRC,
                      -1 last payload byte */
        int keep[4], nkeep;
    } cases[] = {
        { "start, magic", 0, 0, { 1, 2, 3 }, 3 },
        { "start, header crc", 0, 12, { 1, 2, 3 }, 3 },
        { "middle, length", 1, 5, { 0, 2, 3 }, 3 },
        { "middle, payload", 2, 30, { 0, 1, 3 }, 3 },
        { "end, payload", 3, -1, { 0, 1, 2 }, 3 },
        { "end, magic", 3, 1, { 0, 1, 2 }, 3 },
    };
    size_t c;

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char dir[256], seg[512];
        uint64_t off[5], at;
        struct got g;
        struct floe_fh_wal_replay_stats st;
        struct floe_fh_wal *w;
        int i, before = test_failures;

        CHECK(make_seg(dir, sizeof(dir), 4, off, seg, sizeof(seg)) == 0);
        at = cases[c].where >= 0 ? off[cases[c].rec] + (uint64_t)cases[c].where
                                 : off[cases[c].rec + 1] - 1;
        flip(seg, at);
        replay(dir, &g, &st, &w);
        CHECK(g.n == cases[c].nkeep && st.entries == (uint64_t)g.n);
        for (i = 0; i < cases[c].nkeep; i++)
            CHECK(has(&g, i, cases[c].keep[i]));
        CHECK(st.damaged_regions == 1 && st.damaged_entries == 1);
        CHECK(st.damaged_bytes ==
              off[cases[c].rec + 1] - off[cases[c].rec]);
        CHECK(st.quarantined == 1 && st.torn_bytes == 0);
        CHECK(quarantined(dir));
        /* Delivering the intact entries drops the segment from the WAL;
         * the quarantined copy stays. */
        floe_fh_wal_release(w, 1, (uint32_t)g.n);
        CHECK(!floe_path_exists(seg) && quarantined(dir));
        floe_fh_wal_close(w);
        if (test_failures != before)
            fprintf(stderr, "  in case '%s'\n", cases[c].name);
        floe_rmtree(dir);
    }
}

/* Two damaged regions, the second two entries long. */
static void test_several_damaged_regions(void)
{
    char dir[256], seg[512];
    uint64_t off[9];
    struct got g;
    struct floe_fh_wal_replay_stats st;
    struct floe_fh_wal *w;
    static const int keep[] = { 0, 2, 3, 6, 7 };
    size_t i;

    CHECK(make_seg(dir, sizeof(dir), 8, off, seg, sizeof(seg)) == 0);
    flip(seg, off[1] + 2);  /* magic of 1 */
    flip(seg, off[4] + 9);  /* payload CRC of 4 */
    flip(seg, off[5] + 20); /* payload of 5 */
    replay(dir, &g, &st, &w);
    CHECK(g.n == 5);
    for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        CHECK(has(&g, (int)i, keep[i]));
    CHECK(st.damaged_regions == 2 && st.damaged_entries == 3);
    CHECK(st.damaged_bytes == (off[2] - off[1]) + (off[6] - off[4]));
    CHECK(st.quarantined == 1 && quarantined(dir));
    floe_fh_wal_close(w);
    floe_rmtree(dir);
}

/* A length field that points past the end: its header CRC fails, so it
 * is damage (never mistaken for a torn tail), in the middle or last. */
static void test_length_past_end(void)
{
    static const unsigned char big[4] = { 0xff, 0xff, 0xff, 0x7f };
    int last;

    for (last = 0; last <= 1; last++) {
        char dir[256], seg[512];
        uint64_t off[4];
        struct got g;
        struct floe_fh_wal_replay_stats st;
        struct floe_fh_wal *w;
        int bad = last ? 2 : 1;

        CHECK(make_seg(dir, sizeof(dir), 3, off, seg, sizeof(seg)) == 0);
        poke(seg, off[bad] + 4, big, 4);
        replay(dir, &g, &st, &w);
        CHECK(g.n == 2 && has(&g, 0, 0) && has(&g, 1, last ? 1 : 2));
        CHECK(st.damaged_entries == 1 && st.torn_bytes == 0);
        CHECK(st.damaged_bytes == off[bad + 1] - off[bad]);
        CHECK(quarantined(dir));
        floe_fh_wal_close(w);
        floe_rmtree(dir);
    }
}

/* A torn last entry (crash mid-write: cut short, or a header alone, or a
 * zero-filled tail) is dropped quietly: no damage, no quarantine. */
static void test_torn_tail_is_quiet(void)
{
    int k;

    for (k = 0; k < 4; k++) {
        char dir[256], seg[512];
        uint64_t off[4], size = 0;
        struct got g;
        struct floe_fh_wal_replay_stats st;
        struct floe_fh_wal *w;

        CHECK(make_seg(dir, sizeof(dir), 3, off, seg, sizeof(seg)) == 0);
        if (k == 0)
            size = off[3] - 7; /* inside the payload */
        else if (k == 1)
            size = off[2] + 16; /* the header alone */
        else if (k == 2)
            size = off[2] + 3; /* part of the magic */
        if (k < 3) {
            CHECK(truncate(seg, (off_t)size) == 0);
        } else { /* the last entry's blocks never written */
            static const unsigned char zero[128];

            poke(seg, off[2], zero, (size_t)(off[3] - off[2]));
            size = off[3];
        }
        replay(dir, &g, &st, &w);
        CHECK(g.n == 2 && has(&g, 0, 0) && has(&g, 1, 1));
        CHECK(st.torn_bytes == size - off[2]);
        CHECK(st.damaged_bytes == 0 && st.damaged_entries == 0);
        CHECK(st.quarantined == 0 && !quarantined(dir));
        floe_fh_wal_close(w);
        if (test_failures)
            fprintf(stderr, "  in torn case %d\n", k);
        floe_rmtree(dir);
    }
}

/* Damage, then intact entries, then a torn tail: each counted apart. */
static void test_damage_then_torn_tail(void)
{
    char dir[256], seg[512];
    uint64_t off[5];
    struct got g;
    struct floe_fh_wal_replay_stats st;
    struct floe_fh_wal *w;

    CHECK(make_seg(dir, sizeof(dir), 4, off, seg, sizeof(seg)) == 0);
    flip(seg, off[0] + 1);
    CHECK(truncate(seg, (off_t)(off[4] - 5)) == 0);
    replay(dir, &g, &st, &w);
    CHECK(g.n == 2 && has(&g, 0, 1) && has(&g, 1, 2));
    CHECK(st.damaged_entries == 1 && st.damaged_bytes == off[1] - off[0]);
    CHECK(st.torn_bytes == off[4] - 5 - off[3]);
    CHECK(st.quarantined == 1);
    floe_fh_wal_close(w);
    floe_rmtree(dir);
}

/* A segment that is garbage from start to end: all of it is damage and
 * it is quarantined; replay still succeeds and a fresh segment follows. */
static void test_garbage_segment(void)
{
    char dir[256], seg[512], junk[300];
    uint64_t off[2];
    struct got g;
    struct floe_fh_wal_replay_stats st;
    struct floe_fh_wal *w;
    struct floe_fh_wal_pos pos;
    uint64_t seq;

    memset(junk, 'J', sizeof(junk));
    CHECK(make_seg(dir, sizeof(dir), 1, off, seg, sizeof(seg)) == 0);
    CHECK(floe_write_file_atomic(seg, junk, sizeof(junk)) == FLOE_OK);
    replay(dir, &g, &st, &w);
    CHECK(g.n == 0 && st.damaged_bytes == sizeof(junk));
    CHECK(st.damaged_entries == 1 && st.quarantined == 1);
    CHECK(quarantined(dir) && !floe_path_exists(seg));
    CHECK(floe_fh_wal_append(w, "s", 1, "x", 1, &pos, &seq) == FLOE_OK);
    CHECK(pos.seg == 2 && floe_fh_wal_sync(w, seq) == FLOE_OK);
    floe_fh_wal_close(w);
    floe_rmtree(dir);
}

/* A second damaged segment 1 (ids start again at 1 once the WAL is
 * empty) does not overwrite the first one's quarantined copy. */
static void test_quarantine_keeps_earlier_copy(void)
{
    char dir[256], seg[512], q2[600], err[FLOE_ERR_LEN];
    uint64_t off[3], seq;
    struct got g;
    struct floe_fh_wal_replay_stats st;
    struct floe_fh_wal *w;
    struct floe_fh_wal_pos pos;

    CHECK(make_seg(dir, sizeof(dir), 2, off, seg, sizeof(seg)) == 0);
    flip(seg, off[0]);
    replay(dir, &g, &st, &w);
    floe_fh_wal_release(w, 1, (uint32_t)g.n); /* segment 1 goes */
    floe_fh_wal_close(w);                     /* and the empty 2 */
    w = NULL;
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    CHECK(floe_fh_wal_replay(w, collect, &g, &st) == FLOE_OK);
    CHECK(floe_fh_wal_append(w, "s", 1, "yy", 2, &pos, &seq) == FLOE_OK);
    CHECK(pos.seg == 1 && floe_fh_wal_sync(w, seq) == FLOE_OK);
    floe_fh_wal_close(w);
    flip(seg, 0);
    replay(dir, &g, &st, &w);
    CHECK(g.n == 0 && st.quarantined == 1);
    floe_fh_wal_close(w);
    CHECK(quarantined(dir)); /* the first one, untouched */
    snprintf(q2, sizeof(q2), "%s/quarantine/wal-%016d.1.log", dir, 1);
    CHECK(floe_path_exists(q2));
    floe_rmtree(dir);
}

/* A write that fails (here EFBIG past RLIMIT_FSIZE, a real write(2)
 * failure) is refused and marks the log unhealthy; the next append starts
 * a fresh segment and succeeds; nothing acknowledged is lost. */
static void test_write_failure_recovers(void)
{
    char dir[256], err[FLOE_ERR_LEN], rec[4000];
    struct floe_fh_wal *w = NULL;
    struct floe_fh_wal_replay_stats st;
    struct floe_fh_wal_pos pos;
    struct rlimit old, lim;
    struct got g;
    uint64_t seq = 0, seg = 0;
    int i, ok = 0, failed = -1;

    memset(rec, 'w', sizeof(rec));
    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_fh_wal_open(dir, 1 << 20, NULL, &w, err) == FLOE_OK);
    CHECK(floe_fh_wal_replay(w, collect, NULL, &st) == FLOE_OK);
    CHECK(floe_fh_wal_healthy(w));
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    lim = old;
    lim.rlim_cur = 10000;
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    for (i = 0; i < 4 && failed < 0; i++) {
        int rc = floe_fh_wal_append(w, "s", i, rec, sizeof(rec), &pos, &seq);

        if (rc == FLOE_OK) {
            CHECK(floe_fh_wal_sync(w, seq) == FLOE_OK);
            ok++;
            seg = pos.seg;
        } else {
            CHECK(rc == FLOE_EIO);
            failed = i;
        }
    }
    CHECK(failed == 2 && ok == 2);
    CHECK(!floe_fh_wal_healthy(w));
    /* The next one goes to a fresh segment: healthy again. */
    CHECK(floe_fh_wal_append(w, "s", 9, rec, sizeof(rec), &pos, &seq) ==
          FLOE_OK);
    CHECK(pos.seg == seg + 1 && pos.off == 0);
    CHECK(floe_fh_wal_sync(w, seq) == FLOE_OK);
    CHECK(floe_fh_wal_healthy(w));
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, SIG_DFL);
    floe_fh_wal_close(w);
    replay(dir, &g, &st, &w);
    CHECK(g.n == 3 && st.damaged_bytes == 0 && st.torn_bytes == 0);
    floe_fh_wal_close(w);
    floe_rmtree(dir);
}

FLOE_TESTS({ "damage_table", test_damage_table },
           { "several_damaged_regions", test_several_damaged_regions },
           { "length_past_end", test_length_past_end },
           { "torn_tail_is_quiet", test_torn_tail_is_quiet },
           { "damage_then_torn_tail", test_damage_then_torn_tail },
           { "garbage_segment", test_garbage_segment },
           { "quarantine_keeps_earlier_copy",
             test_quarantine_keeps_earlier_copy },
           { "write_failure_recovers", test_write_failure_recovers });
