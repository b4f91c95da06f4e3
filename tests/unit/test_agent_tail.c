/* test_agent_tail.c - the file tracker: whole lines only, partial lines
 * wait, header skipping, over-long line truncation, END_OF_FILE start,
 * rename followed by inode, shrink = read again. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
           { "pattern_rules", test_pattern_rules });
