/* test_agent_tail.c - the file tracker: whole lines only, partial lines
 * wait, header skipping, over-long line truncation, END_OF_FILE start,
 * rename followed by inode, shrink = read again, copy detection, read
 * buffers that follow what is pending, identity by fingerprint, more files
 * than descriptors. Rotation cases share the `fx` fixture: a temporary
 * directory, app.log in it, a tracker and what it handed out. */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/jregex.h"
#include "agent/rotate.h"
#include "agent/tail.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "test.h"

struct got {
    struct floe_buf all;
    int n, truncated, no_newline;
    uint64_t last_end;
};

static int collect(void *ctx, uint32_t slot, const struct floe_tail_line *l)
{
    struct got *g = ctx;

    (void)slot;
    floe_buf_add(&g->all, l->line, l->len);
    g->n++;
    g->truncated += l->truncated;
    g->no_newline += l->no_newline;
    g->last_end = l->end_off;
    return FLOE_OK;
}

static void append(const char *path, const char *s, size_t n)
{
    FILE *f = fopen(path, "ab");

    fwrite(s, 1, n, f);
    fclose(f);
}

static void setup(char *dir, size_t dn, char *path, size_t pn,
                  struct floe_tail *t, const char *term)
{
    char pat[600], err[FLOE_ERR_LEN];

    CHECK(test_tmpdir(dir, dn) != NULL);
    snprintf(path, pn, "%s/app.log", dir);
    snprintf(pat, sizeof(pat), "%s/app.log*", dir);
    CHECK(floe_tail_init(t, pat, term, strlen(term), err) == FLOE_OK);
}

/* The rotation fixture: a tracker on <tmp>/app.log* and what it read. */
struct fx {
    char dir[256], path[512], other[600];
    struct floe_tail t;
    struct got g;
};

/* `term`: the truncatedRecordTerminator. */
static void fx_open(struct fx *x, const char *term)
{
    memset(x, 0, sizeof(*x));
    floe_buf_init(&x->g.all, FLOE_BUF_UNLIMITED);
    setup(x->dir, sizeof(x->dir), x->path, sizeof(x->path), &x->t, term);
}

/* Read every complete line of `slot` into x->g. */
static void fx_read(struct fx *x, uint32_t slot)
{
    size_t n;

    CHECK(floe_tail_read(&x->t, slot, 1 << 20, collect, &x->g, &n) ==
          FLOE_OK);
}

/* Write `text` to app.log, find it (first scan) and read it all. */
static void fx_start(struct fx *x, const char *text)
{
    bool first;

    append(x->path, text, strlen(text));
    CHECK(floe_tail_scan(&x->t, &first) == FLOE_OK && first);
    CHECK(x->t.nfiles == 1);
    CHECK(floe_tail_seek(x->t.files[0], 0, 0) == FLOE_OK);
    fx_read(x, 0);
}

/* Scan again; the file in `slot` must be a new one. */
static void fx_rescan(struct fx *x, size_t slot)
{
    bool first;

    CHECK(floe_tail_scan(&x->t, &first) == FLOE_OK && !first);
    CHECK(x->t.nfiles == slot + 1 && x->t.files[slot]->is_new);
}

/* x->other = app.log<suffix>. */
static const char *fx_other(struct fx *x, const char *suffix)
{
    snprintf(x->other, sizeof(x->other), "%s%s", x->path, suffix);
    return x->other;
}

static void fx_close(struct fx *x)
{
    floe_tail_free(&x->t);
    floe_buf_free(&x->g.all);
    floe_rmtree(x->dir);
}

static void test_lines_partial_and_header(void)
{
    struct fx x;
    bool first;
    size_t n;

    fx_open(&x, "\n");
    append(x.path, "header\none\ntwo\nthr", 18);
    CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK && first);
    CHECK(x.t.nfiles == 1 && x.t.files[0]->is_new);
    CHECK(floe_tail_seek(x.t.files[0], 0, 1) == FLOE_OK);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect, &x.g, &n) == FLOE_OK);
    CHECK(n == 18 && x.g.n == 2 && strcmp(x.g.all.data, "one\ntwo\n") == 0);
    CHECK(x.t.files[0]->offset == 15 && x.g.last_end == 15);
    CHECK(x.t.lines_skipped == 1);
    append(x.path, "ee\n", 3);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect, &x.g, &n) == FLOE_OK);
    CHECK(x.g.n == 3 && strcmp(x.g.all.data, "one\ntwo\nthree\n") == 0);
    CHECK(x.g.last_end == 21);
    /* A final unterminated line is only handed out by flush. */
    append(x.path, "last", 4);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect, &x.g, &n) == FLOE_OK);
    CHECK(x.g.n == 3);
    CHECK(floe_tail_flush(&x.t, 0, collect, &x.g) == FLOE_OK);
    CHECK(x.g.n == 4 && x.g.no_newline == 1 && x.g.last_end == 25);
    fx_close(&x);
}

static void test_long_line_truncated(void)
{
    struct fx x;
    size_t big = 1024000 + 5000, n;
    char *line = malloc(big + 1);
    bool first;

    fx_open(&x, "<T>\n");
    memset(line, 'x', big);
    line[big] = '\n';
    append(x.path, line, big + 1);
    append(x.path, "short\n", 6);
    CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK);
    CHECK(floe_tail_seek(x.t.files[0], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&x.t, 0, 64 << 20, collect, &x.g, &n) == FLOE_OK);
    CHECK(x.g.n == 2 && x.g.truncated == 1 && x.t.lines_truncated == 1);
    CHECK(x.g.all.len == 1024000 + 6);
    CHECK(memcmp(x.g.all.data + 1024000 - 4, "<T>\nshort\n", 10) == 0);
    CHECK(x.g.last_end == big + 1 + 6);
    free(line);
    fx_close(&x);
}

static void test_end_of_file_start_and_rename(void)
{
    struct fx x;
    uint64_t off;
    bool first;

    fx_open(&x, "\n");
    append(x.path, "old1\nold2\npart", 14);
    CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK);
    CHECK(floe_tail_end_offset(x.t.files[0], &off) == FLOE_OK && off == 10);
    CHECK(floe_tail_seek(x.t.files[0], off, 0) == FLOE_OK);
    append(x.path, "ial\n", 4);
    fx_read(&x, 0);
    CHECK(strcmp(x.g.all.data, "partial\n") == 0);
    /* logrotate-style rename + new file at the old name. */
    CHECK(rename(x.path, fx_other(&x, ".1")) == 0);
    append(x.other, "tail-of-old\n", 12);
    append(x.path, "new1\n", 5);
    fx_rescan(&x, 1);
    CHECK(strcmp(x.t.files[0]->path, x.other) == 0 && !x.t.files[0]->is_new);
    CHECK(x.t.files[1]->is_new && strcmp(x.t.files[1]->path, x.path) == 0);
    CHECK(floe_tail_seek(x.t.files[1], 0, 0) == FLOE_OK);
    fx_read(&x, 0);
    fx_read(&x, 1);
    CHECK(strcmp(x.g.all.data, "partial\ntail-of-old\nnew1\n") == 0);
    /* Truncation: read again from 0. */
    CHECK(truncate(x.path, 0) == 0);
    append(x.path, "x\n", 2);
    fx_read(&x, 1);
    CHECK(strcmp(x.g.all.data, "partial\ntail-of-old\nnew1\nx\n") == 0);
    fx_close(&x);
}

/* Collects records separated by '|' to see record boundaries. */
static int collect_rec(void *ctx, uint32_t slot,
                       const struct floe_tail_line *l)
{
    struct got *g = ctx;

    (void)slot;
    floe_buf_add(&g->all, l->line, l->len);
    floe_buf_addc(&g->all, '|');
    g->n++;
    g->truncated += l->truncated;
    g->no_newline += l->no_newline;
    g->last_end = l->end_off;
    return FLOE_OK;
}

static void test_multiline_records(void)
{
    char err[FLOE_ERR_LEN];
    struct floe_jregex re;
    struct fx x;
    bool first;
    size_t n;

    fx_open(&x, "\n");
    CHECK(floe_jregex_compile(&re, "\\d{4}-\\d\\d-\\d\\d ", FLOE_JREGEX_PREFIX,
                              NULL, err) == FLOE_OK);
    x.t.start_re = &re;
    /* A stray line before the first start is a record of its own. */
    append(x.path, "stray\n2026-01-01 a\n  at x\n  at y\n2026-01-02 b\n", 46);
    CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK);
    CHECK(floe_tail_seek(x.t.files[0], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect_rec, &x.g, &n) == FLOE_OK);
    CHECK(x.g.all.data && strcmp(x.g.all.data,
                               "stray\n|2026-01-01 a\n  at x\n  at y\n|") == 0);
    /* The last record waits for the next start... */
    CHECK(x.t.files[0]->offset == 33 && x.g.last_end == 33);
    append(x.path, "  cont", 6);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect_rec, &x.g, &n) == FLOE_OK);
    CHECK(x.g.n == 2);
    append(x.path, "inued\n2026-01-03 c\n", 19);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect_rec, &x.g, &n) == FLOE_OK);
    CHECK(x.g.n == 3 && strstr(x.g.all.data, "|2026-01-02 b\n  continued\n|"));
    /* ... or for EOF in batch mode (flush). */
    CHECK(floe_tail_flush(&x.t, 0, collect_rec, &x.g) == FLOE_OK);
    CHECK(x.g.n == 4 && x.g.no_newline == 0);
    CHECK(strcmp(x.g.all.data + x.g.all.len - 15, "|2026-01-03 c\n|") == 0);
    CHECK(x.t.files[0]->offset == 46 + 6 + 19 && x.t.files[0]->len == 0);
    /* At EOF an unterminated start line is a record of its own. */
    append(x.path, "2026-01-04 d\n  x\n2026-01-05 e", 29);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect_rec, &x.g, &n) == FLOE_OK);
    CHECK(x.g.n == 4);
    CHECK(floe_tail_flush(&x.t, 0, collect_rec, &x.g) == FLOE_OK);
    CHECK(x.g.n == 6 && x.g.no_newline == 1);
    CHECK(strcmp(x.g.all.data + x.g.all.len - 32,
                 "|2026-01-04 d\n  x\n|2026-01-05 e|") == 0);
    CHECK(x.t.files[0]->offset == 46 + 6 + 19 + 29);
    /* A runaway record is cut at the limit, the rest dropped up to the
     * next start. */
    x.t.max_line = 64;
    floe_buf_reset(&x.g.all);
    x.g.n = 0;
    append(x.path, "2026-02-01 big\n", 15);
    {
        int i;

        for (i = 0; i < 10; i++)
            append(x.path, "  more more more\n", 17);
    }
    append(x.path, "2026-02-02 next\n2026-02-03 z\n", 29);
    CHECK(floe_tail_read(&x.t, 0, 1 << 20, collect_rec, &x.g, &n) == FLOE_OK);
    CHECK(x.g.n == 2 && x.g.truncated == 1);
    CHECK(strncmp(x.g.all.data, "2026-02-01 big\n  more", 21) == 0);
    CHECK(strstr(x.g.all.data, "\n|2026-02-02 next\n|") != NULL);
    floe_jregex_free(&re);
    fx_close(&x);
}

/* copytruncate: the copy continues where the original was read to, the
 * original restarts at 0, whichever of the two is noticed first. */
static void copytruncate_case(bool copy_seen_first, bool refill)
{
    char cmd[1400];
    struct floe_buf text;
    struct fx x;
    uint64_t off = 0;
    int i;

    fx_open(&x, "\n");
    floe_buf_init(&text, FLOE_BUF_UNLIMITED);
    for (i = 0; i < 300; i++) /* past the 4 KiB window */
        floe_buf_addf(&text, "line %04d\n", i);
    fx_start(&x, text.data);
    floe_buf_free(&text);
    CHECK(x.g.n == 300);
    append(x.path, "unread 1\nunread 2\n", 18); /* written, not yet read */
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", x.path, fx_other(&x, ".1"));
    CHECK(system(cmd) == 0);
    CHECK(truncate(x.path, 0) == 0);
    append(x.path, "after 1\n", 8);
    for (i = 0; refill && i < 400; i++) /* past the old size */
        append(x.path, "refill ...\n", 11);
    if (!copy_seen_first)
        fx_read(&x, 0);
    fx_rescan(&x, 1);
    CHECK(floe_rotate_find_copy(&x.t, x.t.files[1], &off) == 1);
    CHECK(off == 3000);
    CHECK(floe_tail_seek(x.t.files[1], off, 0) == FLOE_OK);
    fx_read(&x, 0);
    fx_read(&x, 1);
    CHECK(x.g.n == 303 + (refill ? 400 : 0));
    CHECK(strstr(x.g.all.data, "line 0299\n") != NULL);
    CHECK(strstr(x.g.all.data, "unread 1\nunread 2\n") != NULL);
    CHECK(strstr(x.g.all.data, "after 1\n") != NULL);
    CHECK(strstr(x.g.all.data, "line 0000\n") == x.g.all.data); /* once */
    CHECK(strstr(x.g.all.data + 1, "line 0000\n") == NULL);
    fx_close(&x);
}

static void test_copy_in_progress(void)
{
    struct fx x;
    uint64_t off = 1;

    fx_open(&x, "\n");
    fx_start(&x, "alpha 1\nalpha 2\n");
    append(fx_other(&x, ".1"), "alpha", 5); /* the copy is being written */
    fx_rescan(&x, 1);
    CHECK(floe_rotate_find_copy(&x.t, x.t.files[1], &off) == -1);
    CHECK(off == 5); /* if it stays so: all of it was compared, skip it */
    append(x.other, " 1\nalpha 2\n", 11);
    CHECK(floe_rotate_find_copy(&x.t, x.t.files[1], &off) == 1 && off == 16);
    /* A new file that diverges is a file of its own. */
    append(fx_other(&x, ".2"), "alpha 9\n", 8);
    fx_rescan(&x, 2);
    CHECK(floe_rotate_find_copy(&x.t, x.t.files[2], &off) == 0);
    fx_close(&x);
    /* A copy of bytes the original has not read yet waits for it. */
    fx_open(&x, "\n");
    append(x.path, "alpha 1\nalpha 2\n", 16);
    {
        bool first;

        CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK && x.t.nfiles == 1);
    }
    CHECK(floe_tail_seek(x.t.files[0], 0, 0) == FLOE_OK); /* nothing read */
    append(fx_other(&x, ".9"), "alpha 1\nalpha 2\n", 16);
    fx_rescan(&x, 1);
    CHECK(floe_rotate_find_copy(&x.t, x.t.files[1], &off) == -1 && off == 0);
    fx_read(&x, 0);
    CHECK(floe_rotate_find_copy(&x.t, x.t.files[1], &off) == 1 && off == 16);
    fx_close(&x);
}

static void test_copytruncate(void)
{
    copytruncate_case(true, false);
    copytruncate_case(false, false);
    /* Truncated and refilled past the old size before the next look. */
    copytruncate_case(true, true);
    copytruncate_case(false, true);
}

static void test_new_file_is_not_a_copy(void)
{
    struct fx x;
    uint64_t off = 0;

    fx_open(&x, "\n");
    fx_start(&x, "header\nrow 1\n");
    /* Rotation by rename; the new file starts with the same header. */
    CHECK(rename(x.path, fx_other(&x, ".1")) == 0);
    append(x.path, "header\nrow 2\n", 13);
    fx_rescan(&x, 1);
    CHECK(floe_rotate_find_copy(&x.t, x.t.files[1], &off) == 0);
    fx_close(&x);
}

/* A busy file's buffer is FLOE_TAIL_READ_SIZE; it grows only while a
 * longer line is pending, shrinks back after it, and an idle file (read to
 * its end, nothing pending) keeps none. */
static void test_read_buffer_follows_pending(void)
{
    size_t big = 3 * FLOE_TAIL_READ_SIZE + 77;
    char *line = malloc(big);
    struct floe_tail_file *f;
    struct fx x;

    memset(line, 'y', big);
    line[big - 1] = '\n';
    fx_open(&x, "\n");
    append(x.path, line, big);
    fx_start(&x, "short\n");
    f = x.t.files[0];
    CHECK(x.g.n == 2 && x.g.truncated == 0 && x.g.all.len == big + 6);
    CHECK(f->eof && f->len == 0 && f->buf == NULL && f->cap == 0);
    /* A long unterminated line waits in a grown buffer... */
    append(x.path, line, big - 1);
    fx_read(&x, 0);
    CHECK(x.g.n == 2 && f->len == big - 1 && f->cap >= big);
    /* ... which shrinks once it went out, a short partial line left. */
    append(x.path, "\npart", 5);
    fx_read(&x, 0);
    CHECK(x.g.n == 3 && x.g.last_end == 2 * big + 6);
    CHECK(f->len == 4 && f->cap == FLOE_TAIL_READ_SIZE);
    append(x.path, "\n", 1);
    fx_read(&x, 0);
    CHECK(x.g.n == 4 && f->buf == NULL && f->cap == 0);
    CHECK(memcmp(x.g.all.data + x.g.all.len - 5, "part\n", 5) == 0);
    free(line);
    fx_close(&x);
}

/* The identity: device, inode and a hash of the first bytes, compared on
 * the length it was taken on; a file shorter than that is another. */
static void test_identity_fingerprint(void)
{
    char id[FLOE_TAIL_ID_LEN], other[FLOE_TAIL_ID_LEN + 32];
    struct floe_tail_file *f;
    struct fx x;
    int k;

    fx_open(&x, "\n");
    fx_start(&x, "first line\n");
    f = x.t.files[0];
    CHECK(f->fp_len == 11 && strchr(f->file_id, '#') != NULL);
    CHECK(floe_tail_same_file(f, f->file_id));
    snprintf(id, sizeof(id), "%s", f->file_id);
    k = (int)strcspn(id, "#");
    /* A row without fingerprint (Kinesis Agent, older floe): the key. */
    snprintf(other, sizeof(other), "%.*s", k, id);
    CHECK(floe_tail_same_file(f, other));
    CHECK(!floe_tail_same_file(f, "(dev=1,ino=2)"));
    snprintf(other, sizeof(other), "%.*s#11:0000000000000001", k, id);
    CHECK(!floe_tail_same_file(f, other)); /* other first bytes */
    snprintf(other, sizeof(other), "%.*s#500:%016llx", k, id,
             (unsigned long long)f->fp_hash);
    CHECK(!floe_tail_same_file(f, other)); /* now shorter than that */
    /* It grows: the fingerprint follows what was read, and the identity
     * taken before still matches over its own length. */
    append(x.path, "second\n", 7);
    fx_read(&x, 0);
    CHECK(f->fp_len == 18 && strcmp(f->file_id, id) != 0);
    CHECK(floe_tail_same_file(f, id));
    {
        char big[3000];

        memset(big, 'z', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\n';
        append(x.path, big, sizeof(big));
    }
    fx_read(&x, 0);
    CHECK(f->fp_len == FLOE_TAIL_FP_LEN && floe_tail_same_file(f, id));
    fx_close(&x);
}

static size_t open_files(const struct floe_tail *t)
{
    size_t i, n = 0;

    for (i = 0; i < t->nfiles; i++)
        n += t->files[i] != NULL && t->files[i]->fd >= 0;
    return n;
}

/* What the flow does each turn: start new files at 0, read every file,
 * then hand descriptors on. Returns the files that were open at most. */
static size_t fx_turn(struct fx *x)
{
    size_t i, n, most = open_files(&x->t);

    for (i = 0; i < x->t.nfiles; i++) {
        struct floe_tail_file *f = x->t.files[i];

        if (f != NULL && f->is_new && f->fd >= 0)
            CHECK(floe_tail_seek(f, 0, 0) == FLOE_OK);
        if (f != NULL)
            fx_read(x, (uint32_t)i);
    }
    CHECK(floe_tail_admit(&x->t, &n) == FLOE_OK);
    return open_files(&x->t) > most ? open_files(&x->t) : most;
}

/* Past the descriptor budget, new files wait; files read to their end are
 * closed (parked) for them, and reopened at their offset once a scan sees
 * them grow: every line once, never more than the budget open. */
static void test_fd_budget_cycles(void)
{
    char name[700];
    size_t most = 0;
    struct fx x;
    bool first;
    int i;

    fx_open(&x, "\n");
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "%s.%d", x.path, i);
        append(name, "l1\nl2\nl3\n", 9);
    }
    floe_tail_set_fd_budget(2);
    CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK && x.t.nfiles == 5);
    CHECK(open_files(&x.t) == 2 && x.t.nwaiting == 3);
    CHECK(x.t.files[0]->first && x.t.files[4]->first);
    for (i = 0; i < 10 && x.g.n < 15; i++) {
        size_t m = fx_turn(&x);

        most = m > most ? m : most;
    }
    CHECK(x.g.n == 15 && x.g.all.len == 45 && most == 2);
    CHECK(x.t.nwaiting == 0);
    /* All read: the first ones are parked, still tracked. */
    CHECK(open_files(&x.t) <= 2 && x.t.files[0]->fd < 0);
    CHECK(x.t.files[0]->offset == 9 && !x.t.files[0]->is_new);
    append(x.t.files[0]->path, "l4\n", 3);
    CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK && !first);
    CHECK(x.t.nfiles == 5 && x.t.files[0]->fd >= 0);
    fx_turn(&x);
    CHECK(x.g.n == 16 && strcmp(x.g.all.data + 45, "l4\n") == 0);
    floe_tail_set_fd_budget(0);
    fx_close(&x);
}

/* A parked file whose inode now holds another file (deleted and created
 * again: the same device and inode, other first bytes) is read as a new
 * file from 0; the old slot stays until pruned. Reuse by the file system
 * is simulated by giving the slot the new file's inode. */
static void test_parked_file_replaced(void)
{
    struct floe_tail_file *old;
    struct stat st;
    struct fx x;
    size_t n;
    bool first;

    fx_open(&x, "\n");
    floe_tail_set_fd_budget(1);
    fx_start(&x, "old 1\nold 2\n");
    old = x.t.files[0];
    append(fx_other(&x, ".b"), "b 1\n", 4);
    fx_rescan(&x, 1); /* app.log parked to open app.log.b */
    CHECK(old->fd < 0 && x.t.files[1]->fd >= 0);
    fx_turn(&x);
    CHECK(unlink(x.path) == 0);
    append(x.path, "new one\nnew two\nnew three\n", 26);
    CHECK(stat(x.path, &st) == 0);
    old->dev = st.st_dev;
    old->ino = st.st_ino;
    CHECK(floe_tail_scan(&x.t, &first) == FLOE_OK);
    CHECK(old->replaced && old->gone && old->fd < 0);
    CHECK(x.t.nfiles == 3 && x.t.files[2]->is_new);
    CHECK(x.t.files[2]->fd >= 0 && strcmp(x.t.files[2]->path, x.path) == 0);
    fx_turn(&x);
    CHECK(x.g.n == 6);
    CHECK(strcmp(x.g.all.data,
                 "old 1\nold 2\nb 1\nnew one\nnew two\nnew three\n") == 0);
    floe_tail_prune(&x.t);
    CHECK(x.t.files[0] == NULL);
    CHECK(floe_tail_admit(&x.t, &n) == FLOE_OK && n == 0);
    floe_tail_set_fd_budget(0);
    fx_close(&x);
}

static void test_pattern_rules(void)
{
    struct floe_tail t;
    char err[FLOE_ERR_LEN];

    CHECK(floe_tail_init(&t, "/var/*/app.log", "\n", 1, err) == FLOE_EINVAL);
    CHECK(strstr(err, "literal") != NULL);
    CHECK(floe_tail_init(&t, "/var/log/", "\n", 1, err) == FLOE_EINVAL);
    CHECK(floe_tail_init(&t, "app.log", "\n", 1, err) == FLOE_OK);
    CHECK(strcmp(t.dir, ".") == 0 && strcmp(t.glob, "app.log") == 0);
    floe_tail_free(&t);
}

static void quiet(void)
{
    floe_log_level = FLOE_LOG_ERROR;
}

FLOE_TESTS({ "quiet", quiet },
           { "lines_partial_and_header", test_lines_partial_and_header },
           { "long_line_truncated", test_long_line_truncated },
           { "end_of_file_start_and_rename",
             test_end_of_file_start_and_rename },
           { "multiline_records", test_multiline_records },
           { "copytruncate", test_copytruncate },
           { "copy_in_progress", test_copy_in_progress },
           { "new_file_is_not_a_copy", test_new_file_is_not_a_copy },
           { "read_buffer_follows_pending",
             test_read_buffer_follows_pending },
           { "identity_fingerprint", test_identity_fingerprint },
           { "fd_budget_cycles", test_fd_budget_cycles },
           { "parked_file_replaced", test_parked_file_replaced },
           { "pattern_rules", test_pattern_rules });
