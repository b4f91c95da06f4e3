/* test_agent_tail.c - the file tracker: whole lines only, partial lines
 * wait, header skipping, over-long line truncation, END_OF_FILE start,
 * rename followed by inode, shrink = read again. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/jregex.h"
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

static void test_lines_partial_and_header(void)
{
    char dir[256], path[512];
    struct floe_tail t;
    struct got g = { 0 };
    bool first;
    size_t n;

    floe_buf_init(&g.all, FLOE_BUF_UNLIMITED);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "\n");
    append(path, "header\none\ntwo\nthr", 18);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK && first);
    CHECK(t.nfiles == 1 && t.files[0]->is_new);
    CHECK(floe_tail_seek(t.files[0], 0, 1) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(n == 18 && g.n == 2 && strcmp(g.all.data, "one\ntwo\n") == 0);
    CHECK(t.files[0]->offset == 15 && g.last_end == 15);
    CHECK(t.lines_skipped == 1);
    append(path, "ee\n", 3);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(g.n == 3 && strcmp(g.all.data, "one\ntwo\nthree\n") == 0);
    CHECK(g.last_end == 21);
    /* A final unterminated line is only handed out by flush. */
    append(path, "last", 4);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(g.n == 3);
    CHECK(floe_tail_flush(&t, 0, collect, &g) == FLOE_OK);
    CHECK(g.n == 4 && g.no_newline == 1 && g.last_end == 25);
    floe_tail_free(&t);
    floe_buf_free(&g.all);
    floe_rmtree(dir);
}

static void test_long_line_truncated(void)
{
    char dir[256], path[512];
    struct floe_tail t;
    struct got g = { 0 };
    size_t big = 1024000 + 5000, n;
    char *line = malloc(big + 1);
    bool first;

    floe_buf_init(&g.all, FLOE_BUF_UNLIMITED);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "<T>\n");
    memset(line, 'x', big);
    line[big] = '\n';
    append(path, line, big + 1);
    append(path, "short\n", 6);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(floe_tail_seek(t.files[0], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 64 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(g.n == 2 && g.truncated == 1 && t.lines_truncated == 1);
    CHECK(g.all.len == 1024000 + 6);
    CHECK(memcmp(g.all.data + 1024000 - 4, "<T>\nshort\n", 10) == 0);
    CHECK(g.last_end == big + 1 + 6);
    free(line);
    floe_tail_free(&t);
    floe_buf_free(&g.all);
    floe_rmtree(dir);
}

static void test_end_of_file_start_and_rename(void)
{
    char dir[256], path[512], rotated[600];
    struct floe_tail t;
    struct got g = { 0 };
    uint64_t off;
    bool first;
    size_t n;

    floe_buf_init(&g.all, FLOE_BUF_UNLIMITED);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "\n");
    append(path, "old1\nold2\npart", 14);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(floe_tail_end_offset(t.files[0], &off) == FLOE_OK && off == 10);
    CHECK(floe_tail_seek(t.files[0], off, 0) == FLOE_OK);
    append(path, "ial\n", 4);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(strcmp(g.all.data, "partial\n") == 0);
    /* logrotate-style rename + new file at the old name. */
    snprintf(rotated, sizeof(rotated), "%s.1", path);
    CHECK(rename(path, rotated) == 0);
    append(rotated, "tail-of-old\n", 12);
    append(path, "new1\n", 5);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK && !first);
    CHECK(t.nfiles == 2);
    CHECK(strcmp(t.files[0]->path, rotated) == 0 && !t.files[0]->is_new);
    CHECK(t.files[1]->is_new && strcmp(t.files[1]->path, path) == 0);
    CHECK(floe_tail_seek(t.files[1], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(floe_tail_read(&t, 1, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(strcmp(g.all.data, "partial\ntail-of-old\nnew1\n") == 0);
    /* Truncation: read again from 0. */
    CHECK(truncate(path, 0) == 0);
    append(path, "x\n", 2);
    CHECK(floe_tail_read(&t, 1, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(strcmp(g.all.data, "partial\ntail-of-old\nnew1\nx\n") == 0);
    floe_tail_free(&t);
    floe_buf_free(&g.all);
    floe_rmtree(dir);
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
    char dir[256], path[512], err[FLOE_ERR_LEN];
    struct floe_jregex re;
    struct floe_tail t;
    struct got g = { 0 };
    bool first;
    size_t n;

    floe_buf_init(&g.all, FLOE_BUF_UNLIMITED);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "\n");
    CHECK(floe_jregex_compile(&re, "\\d{4}-\\d\\d-\\d\\d ", FLOE_JREGEX_PREFIX,
                              NULL, err) == FLOE_OK);
    t.start_re = &re;
    /* A stray line before the first start is a record of its own. */
    append(path, "stray\n2026-01-01 a\n  at x\n  at y\n2026-01-02 b\n", 46);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(floe_tail_seek(t.files[0], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect_rec, &g, &n) == FLOE_OK);
    CHECK(g.all.data && strcmp(g.all.data,
                               "stray\n|2026-01-01 a\n  at x\n  at y\n|") == 0);
    /* The last record waits for the next start... */
    CHECK(t.files[0]->offset == 33 && g.last_end == 33);
    append(path, "  cont", 6);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect_rec, &g, &n) == FLOE_OK);
    CHECK(g.n == 2);
    append(path, "inued\n2026-01-03 c\n", 19);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect_rec, &g, &n) == FLOE_OK);
    CHECK(g.n == 3 && strstr(g.all.data, "|2026-01-02 b\n  continued\n|"));
    /* ... or for EOF in batch mode (flush). */
    CHECK(floe_tail_flush(&t, 0, collect_rec, &g) == FLOE_OK);
    CHECK(g.n == 4 && g.no_newline == 0);
    CHECK(strcmp(g.all.data + g.all.len - 15, "|2026-01-03 c\n|") == 0);
    CHECK(t.files[0]->offset == 46 + 6 + 19 && t.files[0]->len == 0);
    /* At EOF an unterminated start line is a record of its own. */
    append(path, "2026-01-04 d\n  x\n2026-01-05 e", 29);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect_rec, &g, &n) == FLOE_OK);
    CHECK(g.n == 4);
    CHECK(floe_tail_flush(&t, 0, collect_rec, &g) == FLOE_OK);
    CHECK(g.n == 6 && g.no_newline == 1);
    CHECK(strcmp(g.all.data + g.all.len - 32,
                 "|2026-01-04 d\n  x\n|2026-01-05 e|") == 0);
    CHECK(t.files[0]->offset == 46 + 6 + 19 + 29);
    /* A runaway record is cut at the limit, the rest dropped up to the
     * next start. */
    t.max_line = 64;
    floe_buf_reset(&g.all);
    g.n = 0;
    append(path, "2026-02-01 big\n", 15);
    {
        int i;

        for (i = 0; i < 10; i++)
            append(path, "  more more more\n", 17);
    }
    append(path, "2026-02-02 next\n2026-02-03 z\n", 29);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect_rec, &g, &n) == FLOE_OK);
    CHECK(g.n == 2 && g.truncated == 1);
    CHECK(strncmp(g.all.data, "2026-02-01 big\n  more", 21) == 0);
    CHECK(strstr(g.all.data, "\n|2026-02-02 next\n|") != NULL);
    floe_tail_free(&t);
    floe_jregex_free(&re);
    floe_buf_free(&g.all);
    floe_rmtree(dir);
}

/* copytruncate: the copy continues where the original was read to, the
 * original restarts at 0, whichever of the two is noticed first. */
static void copytruncate_case(bool copy_seen_first, bool refill)
{
    char dir[256], path[512], copy[600], cmd[1400];
    struct floe_tail t;
    struct got g = { 0 };
    uint64_t off = 0;
    bool first;
    size_t n;
    int i;

    floe_buf_init(&g.all, FLOE_BUF_UNLIMITED);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "\n");
    for (i = 0; i < 300; i++) { /* past the 4 KiB window */
        char line[32];

        snprintf(line, sizeof(line), "line %04d\n", i);
        append(path, line, strlen(line));
    }
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(floe_tail_seek(t.files[0], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(g.n == 300);
    append(path, "unread 1\nunread 2\n", 18); /* written, not yet read */
    snprintf(copy, sizeof(copy), "%s.1", path);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, copy);
    CHECK(system(cmd) == 0);
    CHECK(truncate(path, 0) == 0);
    append(path, "after 1\n", 8);
    for (i = 0; refill && i < 400; i++) /* past the old size */
        append(path, "refill ...\n", 11);
    if (!copy_seen_first)
        CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK && !first);
    CHECK(t.nfiles == 2 && t.files[1]->is_new);
    CHECK(floe_tail_find_copy(&t, t.files[1], &off) == 1);
    CHECK(off == 3000);
    CHECK(floe_tail_seek(t.files[1], off, 0) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(floe_tail_read(&t, 1, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(g.n == 303 + (refill ? 400 : 0));
    CHECK(strstr(g.all.data, "line 0299\n") != NULL);
    CHECK(strstr(g.all.data, "unread 1\nunread 2\n") != NULL);
    CHECK(strstr(g.all.data, "after 1\n") != NULL);
    CHECK(strstr(g.all.data, "line 0000\n") == g.all.data); /* once */
    CHECK(strstr(g.all.data + 1, "line 0000\n") == NULL);
    floe_tail_free(&t);
    floe_buf_free(&g.all);
    floe_rmtree(dir);
}

static void test_copy_in_progress(void)
{
    char dir[256], path[512], copy[600];
    struct floe_tail t;
    struct got g = { 0 };
    uint64_t off = 1;
    bool first;
    size_t n;

    floe_buf_init(&g.all, FLOE_BUF_UNLIMITED);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "\n");
    append(path, "alpha 1\nalpha 2\n", 16);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(floe_tail_seek(t.files[0], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    snprintf(copy, sizeof(copy), "%s.1", path);
    append(copy, "alpha", 5); /* the copy is being written */
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK && t.files[1]->is_new);
    CHECK(floe_tail_find_copy(&t, t.files[1], &off) == -1);
    CHECK(off == 5); /* if it stays so: all of it was compared, skip it */
    append(copy, " 1\nalpha 2\n", 11);
    CHECK(floe_tail_find_copy(&t, t.files[1], &off) == 1 && off == 16);
    /* A new file that diverges is a file of its own. */
    append(copy, "", 0);
    snprintf(copy, sizeof(copy), "%s.2", path);
    append(copy, "alpha 9\n", 8);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(floe_tail_find_copy(&t, t.files[2], &off) == 0);
    floe_tail_free(&t);
    /* A copy of bytes the original has not read yet waits for it. */
    floe_buf_reset(&g.all);
    floe_rmtree(dir);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "\n");
    append(path, "alpha 1\nalpha 2\n", 16);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK && t.nfiles == 1);
    CHECK(floe_tail_seek(t.files[0], 0, 0) == FLOE_OK); /* nothing read */
    snprintf(copy, sizeof(copy), "%s.9", path);
    append(copy, "alpha 1\nalpha 2\n", 16);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK && t.nfiles == 2);
    CHECK(floe_tail_find_copy(&t, t.files[1], &off) == -1 && off == 0);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    CHECK(floe_tail_find_copy(&t, t.files[1], &off) == 1 && off == 16);
    floe_tail_free(&t);
    floe_buf_free(&g.all);
    floe_rmtree(dir);
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
    char dir[256], path[512], rotated[600];
    struct floe_tail t;
    struct got g = { 0 };
    uint64_t off = 0;
    bool first;
    size_t n;

    floe_buf_init(&g.all, FLOE_BUF_UNLIMITED);
    setup(dir, sizeof(dir), path, sizeof(path), &t, "\n");
    append(path, "header\nrow 1\n", 13);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(floe_tail_seek(t.files[0], 0, 0) == FLOE_OK);
    CHECK(floe_tail_read(&t, 0, 1 << 20, collect, &g, &n) == FLOE_OK);
    /* Rotation by rename; the new file starts with the same header. */
    snprintf(rotated, sizeof(rotated), "%s.1", path);
    CHECK(rename(path, rotated) == 0);
    append(path, "header\nrow 2\n", 13);
    CHECK(floe_tail_scan(&t, &first) == FLOE_OK);
    CHECK(t.files[1] != NULL && t.files[1]->is_new);
    CHECK(floe_tail_find_copy(&t, t.files[1], &off) == 0);
    floe_tail_free(&t);
    floe_buf_free(&g.all);
    floe_rmtree(dir);
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
           { "pattern_rules", test_pattern_rules });
