/* test_store.c - the fs backend honours S3 semantics. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "store/store.h"
#include "test.h"

struct seen {
    char keys[16][128];
    int n;
};

static int collect(const struct floe_obj_info *info, void *ud)
{
    struct seen *s = ud;

    if (s->n < 16)
        snprintf(s->keys[s->n++], 128, "%s", info->key);
    return 0;
}

static void test_put_get_list_copy_delete(void)
{
    struct floe_store *st = NULL;
    struct floe_buf b;
    struct seen s = { .n = 0 };
    char dir[256], err[FLOE_ERR_LEN];
    struct floe_obj_info info;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/orders/2026/b.gz", "bb", 2) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/orders/2026/a.gz", "a", 1) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/orders-x/z", "z", 1) == FLOE_OK);
    CHECK(floe_store_put(st, "processed/t/p=1/f", "f", 1) == FLOE_OK);

    CHECK(floe_store_list(st, "landing/orders/", collect, &s) == FLOE_OK);
    CHECK(s.n == 2 && strcmp(s.keys[0], "landing/orders/2026/a.gz") == 0 &&
          strcmp(s.keys[1], "landing/orders/2026/b.gz") == 0);
    s.n = 0;
    CHECK(floe_store_list(st, "landing/orders", collect, &s) == FLOE_OK);
    CHECK(s.n == 3 && strcmp(s.keys[2], "landing/orders/2026/b.gz") == 0 &&
          strcmp(s.keys[0], "landing/orders-x/z") == 0); /* '-' < '/' */

    floe_buf_init(&b, 1024);
    CHECK(floe_store_copy(st, "landing/orders/2026/b.gz",
                          "processing/batch=1/b.gz") == FLOE_OK);
    CHECK(floe_store_delete(st, "landing/orders/2026/b.gz") == FLOE_OK);
    CHECK(floe_store_get(st, "processing/batch=1/b.gz", &b) == FLOE_OK);
    CHECK(b.len == 2 && memcmp(b.data, "bb", 2) == 0);
    CHECK(floe_store_get(st, "landing/orders/2026/b.gz", &b) ==
          FLOE_ENOTFOUND);
    CHECK(floe_store_delete(st, "landing/never") == FLOE_OK);
    CHECK(floe_store_head(st, "processing/batch=1/b.gz", &info) == FLOE_OK &&
          info.size == 2);

    /* overwrite is atomic replacement */
    CHECK(floe_store_put(st, "processing/batch=1/b.gz", "new", 3) == FLOE_OK);
    floe_buf_reset(&b);
    CHECK(floe_store_get(st, "processing/batch=1/b.gz", &b) == FLOE_OK &&
          b.len == 3);
    floe_buf_free(&b);

    /* deleting the last object prunes empty directories */
    CHECK(floe_store_delete(st, "processed/t/p=1/f") == FLOE_OK);
    s.n = 0;
    CHECK(floe_store_list(st, "processed/", collect, &s) == FLOE_OK &&
          s.n == 0);
    floe_store_close(st);
    floe_rmtree(dir);
}

static void test_key_rules(void)
{
    CHECK(floe_store_key_check("landing/a") == FLOE_OK);
    CHECK(floe_store_key_check("processing/batch=7/_manifest.json") ==
          FLOE_OK);
    CHECK(floe_store_key_check("") == FLOE_EINVAL);
    CHECK(floe_store_key_check("/abs") == FLOE_EINVAL);
    CHECK(floe_store_key_check("a//b") == FLOE_EINVAL);
    CHECK(floe_store_key_check("a/../b") == FLOE_EINVAL);
    CHECK(floe_store_key_check("a/./b") == FLOE_EINVAL);
    CHECK(floe_store_key_check("a/b\n") == FLOE_EINVAL);
}

static void test_put_file_move(void)
{
    struct floe_store *st = NULL;
    char dir[256], src[300], err[FLOE_ERR_LEN];
    struct floe_buf b;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    snprintf(src, sizeof(src), "%s/local.parquet", dir);
    CHECK(floe_write_file_atomic(src, "PAR1", 4) == FLOE_OK);
    CHECK(floe_store_put_file(st, "processed/orders/dt=2026-01-01/p.parquet",
                              src, true) == FLOE_OK);
    CHECK(!floe_path_exists(src));
    floe_buf_init(&b, 64);
    CHECK(floe_store_get(st, "processed/orders/dt=2026-01-01/p.parquet",
                         &b) == FLOE_OK && b.len == 4);
    floe_buf_free(&b);
    floe_store_close(st);
    floe_rmtree(dir);
}

static void test_put_new_and_get_file(void)
{
    struct floe_store *st = NULL;
    char dir[256], path[300], err[FLOE_ERR_LEN];
    struct floe_buf b;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    CHECK(floe_store_put_new(st, "processing/batch=1/_m", "one", 3) ==
          FLOE_OK);
    CHECK(floe_store_put_new(st, "processing/batch=1/_m", "two", 3) ==
          FLOE_EEXIST);
    snprintf(path, sizeof(path), "%s/copy", dir);
    CHECK(floe_store_get_file(st, "processing/batch=1/_m", path) == FLOE_OK);
    floe_buf_init(&b, 64);
    CHECK(floe_read_file(path, &b) == FLOE_OK && b.len == 3 &&
          memcmp(b.data, "one", 3) == 0);
    CHECK(floe_store_get_file(st, "processing/none", path) ==
          FLOE_ENOTFOUND);
    floe_buf_free(&b);
    /* a refused key says why */
    CHECK(floe_store_put(st, "a//b", "x", 1) == FLOE_EINVAL);
    CHECK(strstr(floe_store_strerror(FLOE_EINVAL), "a//b") != NULL);
    floe_store_close(st);
    floe_rmtree(dir);
}

static void test_s3_url_errors(void)
{
    struct floe_store *st = NULL;
    char err[FLOE_ERR_LEN];

    /* Refused before any request is made. */
    CHECK(floe_store_open("s3://x/p", &st, err) == FLOE_EINVAL);
    CHECK(strstr(err, "bucket name") != NULL);
    CHECK(floe_store_open("s3://bucket/p?colour=red", &st, err) ==
          FLOE_EINVAL);
    CHECK(strstr(err, "colour") != NULL);
    CHECK(floe_store_open("s3://bucket/p?part_size=1M", &st, err) ==
          FLOE_EINVAL);
    CHECK(floe_store_open("s3://bucket/p?endpoint=ftp://h", &st, err) ==
          FLOE_EINVAL);
    CHECK(st == NULL);
}

static void test_bad_url(void)
{
    struct floe_store *st = NULL;
    char err[FLOE_ERR_LEN];

    CHECK(floe_store_open("gopher://x", &st, err) == FLOE_ENOTSUP);
    CHECK(st == NULL && strstr(err, "unknown scheme") != NULL);
}

/* Entries of directory `path` (0 if missing). */
static int count_entries(const char *path)
{
    struct dirent *de;
    DIR *d = opendir(path);
    int n = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* Any legal key is listed, ".tmp-" in it or not; only the reserved temp
 * folder is outside the key space. */
static void test_tmp_like_keys_are_listed(void)
{
    struct floe_store *st = NULL;
    struct seen s = { .n = 0 };
    char dir[256], err[FLOE_ERR_LEN];

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/x.tmp-1/a.gz", "a", 1) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/x/y.tmp-2", "b", 1) == FLOE_OK);
    CHECK(floe_store_copy(st, "landing/x/y.tmp-2", "landing/z.tmp-") ==
          FLOE_OK);
    CHECK(floe_store_list(st, "", collect, &s) == FLOE_OK);
    CHECK(s.n == 3 && strcmp(s.keys[0], "landing/x.tmp-1/a.gz") == 0 &&
          strcmp(s.keys[1], "landing/x/y.tmp-2") == 0 &&
          strcmp(s.keys[2], "landing/z.tmp-") == 0);
    CHECK(floe_store_key_check(FLOE_STORE_TMP_DIR) == FLOE_EINVAL);
    CHECK(floe_store_key_check(FLOE_STORE_TMP_DIR "/x") == FLOE_EINVAL);
    CHECK(floe_store_put(st, FLOE_STORE_TMP_DIR "/x", "x", 1) ==
          FLOE_EINVAL);
    CHECK(floe_store_key_check(FLOE_STORE_TMP_DIR "x/y") == FLOE_OK);
    CHECK(floe_store_key_check("landing/" FLOE_STORE_TMP_DIR) == FLOE_OK);
    floe_store_close(st);
}

/* Temp files a killed process left are removed at the next open; those
 * of a store still open are not. */
static void test_crash_leftovers_cleaned_at_open(void)
{
    struct floe_store *a = NULL, *b = NULL;
    struct seen s = { .n = 0 };
    char dir[256], tmp[512], dead[600], err[FLOE_ERR_LEN];
    FILE *f;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(tmp, sizeof(tmp), "%s/" FLOE_STORE_TMP_DIR, dir);
    CHECK(mkdir(tmp, 0755) == 0);
    snprintf(dead, sizeof(dead), "%s/dead01", tmp); /* nobody's lock */
    CHECK(mkdir(dead, 0755) == 0);
    snprintf(dead, sizeof(dead), "%s/dead01/half-written", tmp);
    CHECK((f = fopen(dead, "w")) != NULL && fputs("x", f) >= 0 &&
          fclose(f) == 0);
    snprintf(dead, sizeof(dead), "%s/loose", tmp); /* an older layout */
    CHECK((f = fopen(dead, "w")) != NULL && fclose(f) == 0);

    CHECK(floe_store_open(dir, &a, err) == FLOE_OK);
    CHECK(count_entries(tmp) == 1); /* a's own folder only */
    CHECK(floe_store_open(dir, &b, err) == FLOE_OK);
    CHECK(count_entries(tmp) == 2); /* a's survives b's clean-up */
    CHECK(floe_store_put(a, "landing/s/1", "1", 1) == FLOE_OK);
    CHECK(floe_store_put(b, "landing/s/2", "2", 1) == FLOE_OK);
    CHECK(floe_store_list(b, "landing/", collect, &s) == FLOE_OK);
    CHECK(s.n == 2);
    floe_store_close(a);
    floe_store_close(b);
    CHECK(count_entries(tmp) == 0);
}

FLOE_TESTS({ "put_get_list_copy_delete", test_put_get_list_copy_delete },
           { "tmp_like_keys", test_tmp_like_keys_are_listed },
           { "crash_leftovers", test_crash_leftovers_cleaned_at_open },
           { "key_rules", test_key_rules },
           { "put_file_move", test_put_file_move },
           { "put_new_and_get_file", test_put_new_and_get_file },
           { "s3_url_errors", test_s3_url_errors },
           { "bad_url", test_bad_url })
