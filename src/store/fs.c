/* fs.c - local-directory store backend (file:///dir or a plain path).
 * An object is a file at <root>/<key>. Puts write a temp file in this
 * store's own folder <root>/.floe-tmp/<random> (a name no key can have:
 * floe_store_key_check refuses FLOE_STORE_TMP_DIR), fsync it, rename it
 * into place and fsync the directory, so objects are atomic and durable.
 * Each open store holds an flock on its folder; at open, folders whose
 * lock is free (their process died) are removed with their temp files.
 * Objects are never written in place, which lets copy be a hard link.
 * Empty directories left by deletes are pruned so listings stay S3-like. */
#define FLOE_LOG_MOD "store.fs"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define TMP_DIR FLOE_STORE_TMP_DIR

struct fs {
    char root[PATH_MAX];
    char tmp[PATH_MAX]; /* this store's temp folder, under <root>/TMP_DIR */
    int lock_fd;        /* the folder, flocked while the store is open */
};

/* Remove the files in folder `name` of `parent`, then the folder. */
static size_t remove_folder(int parent, const char *name)
{
    struct dirent *de;
    size_t n = 0;
    DIR *d;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            unlinkat(dirfd(d), de->d_name, 0) == 0)
            n++;
    closedir(d);
    unlinkat(parent, name, AT_REMOVEDIR);
    return n;
}

/* With <root>/TMP_DIR locked: remove what dead processes left there, the
 * folders nobody holds a lock on (and loose files of older versions). */
static void clean_tmp(int tmpfd, const char *where)
{
    struct dirent *de;
    size_t files = 0;
    DIR *d;
    int fd = dup(tmpfd);

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        int sub;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            fstatat(tmpfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (!S_ISDIR(st.st_mode)) {
            if (unlinkat(tmpfd, de->d_name, 0) == 0)
                files++;
            continue;
        }
        sub = openat(tmpfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0)
            continue;
        if (flock(sub, LOCK_EX | LOCK_NB) == 0) /* its owner is gone */
            files += remove_folder(tmpfd, de->d_name);
        close(sub);
    }
    closedir(d);
    if (files > 0)
        floe_log_info("removed %zu temp file%s left in %s by a process "
                      "that stopped mid-put", files, files == 1 ? "" : "s",
                      where);
}

/* Create and lock this store's own temp folder under <root>/TMP_DIR,
 * cleaning up after dead processes first. The folder lock is taken
 * exclusively for that, so no folder is removed between its creation and
 * its lock. */
static int make_tmp(struct fs *fs)
{
    char top[PATH_MAX];
    int tmpfd, rc = FLOE_EIO;

    if ((size_t)snprintf(top, sizeof(top), "%s/%s", fs->root, TMP_DIR) >=
            sizeof(top) ||
        (size_t)snprintf(fs->tmp, sizeof(fs->tmp), "%s/XXXXXX", top) >=
            sizeof(fs->tmp) ||
        floe_mkdirs(top) != FLOE_OK)
        return FLOE_EIO;
    tmpfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tmpfd < 0)
        return FLOE_EIO;
    while (flock(tmpfd, LOCK_EX) != 0)
        if (errno != EINTR)
            goto done;
    clean_tmp(tmpfd, top);
    if (mkdtemp(fs->tmp) == NULL)
        goto done;
    fs->lock_fd = open(fs->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fs->lock_fd >= 0 && flock(fs->lock_fd, LOCK_EX | LOCK_NB) == 0)
        rc = FLOE_OK;
    else
        rmdir(fs->tmp);
done:
    close(tmpfd); /* releases the folder lock */
    return rc;
}

static int fs_open(const char *location, void **out_ctx, char *err)
{
    struct fs *fs;
    char abs[PATH_MAX];

    *out_ctx = NULL;
    if (location[0] == '\0')
        return floe_err(err, FLOE_EINVAL, "empty store directory");
    if (floe_mkdirs(location) != FLOE_OK)
        return floe_err(err, FLOE_EIO,
                        "cannot create store directory '%s' (check the "
                        "path and its permissions)", location);
    if (realpath(location, abs) == NULL)
        return floe_err(err, FLOE_EIO, "cannot resolve '%s'", location);
    fs = calloc(1, sizeof(*fs));
    if (fs == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    fs->lock_fd = -1;
    snprintf(fs->root, sizeof(fs->root), "%s", abs);
    if (make_tmp(fs) != FLOE_OK) {
        if (fs->lock_fd >= 0)
            close(fs->lock_fd);
        free(fs);
        return floe_err(err, FLOE_EIO, "cannot create a temp folder in "
                        "%s/%s", abs, TMP_DIR);
    }
    *out_ctx = fs;
    return FLOE_OK;
}

static void fs_close(void *ctx)
{
    struct fs *fs = ctx;
    const char *slash;
    char top[PATH_MAX];
    int topfd;

    if (fs == NULL)
        return;
    /* Empty unless a put is being abandoned; the name is ours alone. */
    slash = strrchr(fs->tmp, '/');
    snprintf(top, sizeof(top), "%.*s", (int)(slash - fs->tmp), fs->tmp);
    topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (topfd >= 0) {
        remove_folder(topfd, slash + 1);
        close(topfd);
    }
    close(fs->lock_fd);
    free(fs);
}

static int path_of(const struct fs *fs, const char *key, char *out, size_t n)
{
    if ((size_t)snprintf(out, n, "%s/%s", fs->root, key) >= n)
        return FLOE_ETOOBIG;
    return FLOE_OK;
}

static int tmp_path(const struct fs *fs, char *out, size_t n)
{
    char id[FLOE_UUID_LEN + 1];

    if (floe_uuid(id) != FLOE_OK)
        return FLOE_EIO;
    if ((size_t)snprintf(out, n, "%s/%s", fs->tmp, id) >= n)
        return FLOE_ETOOBIG;
    return FLOE_OK;
}

static int parent_dir(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL || (size_t)(slash - path) >= n)
        return FLOE_EINVAL;
    memcpy(out, path, (size_t)(slash - path));
    out[slash - path] = '\0';
    return FLOE_OK;
}

/* Move a finished temp file to its key. A concurrent delete may prune the
 * parent directory between mkdir and rename, so retry a few times. */
static int publish(const struct fs *fs, const char *tmp, const char *key)
{
    char dst[PATH_MAX], dir[PATH_MAX];
    int attempt, rc;

    rc = path_of(fs, key, dst, sizeof(dst));
    if (rc == FLOE_OK)
        rc = parent_dir(dst, dir, sizeof(dir));
    if (rc != FLOE_OK)
        return rc;
    for (attempt = 0; attempt < 5; attempt++) {
        rc = floe_mkdirs(dir);
        if (rc != FLOE_OK)
            return rc;
        if (rename(tmp, dst) == 0)
            return floe_fsync_dir(dir);
        if (errno != ENOENT) {
            floe_log_errno("rename to %s", dst);
            return errno == EISDIR || errno == ENOTDIR ? FLOE_EEXIST
                                                       : FLOE_EIO;
        }
    }
    floe_log_errno("rename to %s", dst);
    return FLOE_EIO;
}

/* Write `data` to a new durable temp file; *tmp names it. */
static int write_tmp(struct fs *fs, const void *data, size_t len, char *tmp,
                     size_t n)
{
    int fd, rc;

    rc = tmp_path(fs, tmp, n);
    if (rc != FLOE_OK)
        return rc;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        floe_log_errno("create %s", tmp);
        return FLOE_EIO;
    }
    rc = floe_write_all(fd, data, len);
    if (rc == FLOE_OK && fsync(fd) != 0)
        rc = FLOE_EIO;
    if (close(fd) != 0 && rc == FLOE_OK)
        rc = FLOE_EIO;
    if (rc != FLOE_OK)
        unlink(tmp);
    return rc;
}

static int fs_put(void *ctx, const char *key, const void *data, size_t len)
{
    struct fs *fs = ctx;
    char tmp[PATH_MAX];
    int rc;

    rc = write_tmp(fs, data, len, tmp, sizeof(tmp));
    if (rc == FLOE_OK) {
        rc = publish(fs, tmp, key);
        if (rc != FLOE_OK)
            unlink(tmp);
    }
    if (rc != FLOE_OK)
        floe_log_errno("put %s", key);
    return rc;
}

/* link() fails with EEXIST when the key exists: an atomic create. */
static int fs_put_new(void *ctx, const char *key, const void *data,
                      size_t len)
{
    struct fs *fs = ctx;
    char tmp[PATH_MAX], dst[PATH_MAX], dir[PATH_MAX];
    int rc, attempt;

    rc = path_of(fs, key, dst, sizeof(dst));
    if (rc == FLOE_OK)
        rc = parent_dir(dst, dir, sizeof(dir));
    if (rc == FLOE_OK)
        rc = write_tmp(fs, data, len, tmp, sizeof(tmp));
    if (rc != FLOE_OK)
        return rc;
    rc = FLOE_EIO;
    for (attempt = 0; attempt < 5; attempt++) { /* see publish() */
        if (floe_mkdirs(dir) != FLOE_OK)
            break;
        if (link(tmp, dst) == 0) {
            rc = floe_fsync_dir(dir);
            break;
        }
        if (errno == EEXIST) {
            rc = FLOE_EEXIST;
            break;
        }
        if (errno != ENOENT) {
            floe_log_errno("link to %s", dst);
            break;
        }
    }
    unlink(tmp);
    return rc;
}

/* Copy what is left of `in` into `out`. */
static int copy_fd(int in, int out)
{
    char chunk[1 << 16];
    ssize_t got;
    int rc = FLOE_OK;

    while (rc == FLOE_OK && (got = read(in, chunk, sizeof(chunk))) != 0) {
        if (got < 0) {
            if (errno != EINTR)
                rc = FLOE_EIO;
            continue;
        }
        rc = floe_write_all(out, chunk, (size_t)got);
    }
    return rc;
}

/* Copy file `src` to a new durable temp file; *out_tmp names it. */
static int copy_to_tmp(struct fs *fs, const char *src, char *out_tmp,
                       size_t n)
{
    int in, out, rc;

    rc = tmp_path(fs, out_tmp, n);
    if (rc != FLOE_OK)
        return rc;
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO;
    out = open(out_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return FLOE_EIO;
    }
    if (rc == FLOE_OK)
        rc = copy_fd(in, out);
    if (rc == FLOE_OK && fsync(out) != 0)
        rc = FLOE_EIO;
    close(in);
    if (close(out) != 0 && rc == FLOE_OK)
        rc = FLOE_EIO;
    if (rc != FLOE_OK)
        unlink(out_tmp);
    return rc;
}

static int fs_put_file(void *ctx, const char *key, const char *path,
                       bool move)
{
    struct fs *fs = ctx;
    char tmp[PATH_MAX];
    int rc, fd;

    if (move) {
        /* The caller gives the file up: make it durable, then rename it
         * (same file system) or fall back to a copy. */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO;
        rc = fsync(fd) == 0 ? FLOE_OK : FLOE_EIO;
        close(fd);
        if (rc != FLOE_OK)
            return rc;
        rc = tmp_path(fs, tmp, sizeof(tmp));
        if (rc != FLOE_OK)
            return rc;
        if (rename(path, tmp) == 0)
            return publish(fs, tmp, key);
        if (errno != EXDEV)
            return FLOE_EIO;
    }
    rc = copy_to_tmp(fs, path, tmp, sizeof(tmp));
    if (rc != FLOE_OK)
        return rc;
    rc = publish(fs, tmp, key);
    if (rc != FLOE_OK)
        unlink(tmp);
    else if (move)
        unlink(path);
    return rc;
}

static int fs_get(void *ctx, const char *key, struct floe_buf *out)
{
    char path[PATH_MAX];
    int rc = path_of(ctx, key, path, sizeof(path));

    return rc == FLOE_OK ? floe_read_file(path, out) : rc;
}

static int fs_get_file(void *ctx, const char *key, const char *path)
{
    char src[PATH_MAX];
    int in, out, rc = path_of(ctx, key, src, sizeof(src));

    if (rc != FLOE_OK)
        return rc;
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO;
    out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        floe_log_errno("create %s", path);
        close(in);
        return FLOE_EIO;
    }
    if (rc == FLOE_OK)
        rc = copy_fd(in, out);
    close(in);
    if (close(out) != 0 && rc == FLOE_OK)
        rc = FLOE_EIO;
    if (rc != FLOE_OK)
        unlink(path);
    return rc;
}

static int fs_head(void *ctx, const char *key, struct floe_obj_info *out)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = path_of(ctx, key, path, sizeof(path));

    if (rc != FLOE_OK)
        return rc;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return FLOE_ENOTFOUND;
    out->key = NULL;
    out->size = (int64_t)st.st_size;
    out->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
                    st.st_mtim.tv_nsec / 1000000;
    return FLOE_OK;
}

struct entry {
    char *key;
    int64_t size, mtime_ms;
};

struct walk {
    struct entry *v;
    size_t n, cap;
    const char *prefix;
    size_t plen;
};

/* Can a key under directory `rel` (no trailing '/') start with prefix? */
static int dir_may_match(const struct walk *w, const char *rel, size_t rlen)
{
    size_t n = rlen < w->plen ? rlen : w->plen;

    if (strncmp(rel, w->prefix, n) != 0)
        return 0;
    /* "land" cannot hold "landing/x"; "landing" can. */
    return rlen >= w->plen || w->prefix[rlen] == '/';
}

static int walk_dir(struct fs *fs, struct walk *w, char *rel, size_t rlen)
{
    char path[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int rc = FLOE_OK;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", fs->root, rel) >=
        sizeof(path))
        return FLOE_ETOOBIG;
    d = opendir(path);
    if (d == NULL)
        return errno == ENOENT ? FLOE_OK : FLOE_EIO;
    while (rc == FLOE_OK && (de = readdir(d)) != NULL) {
        size_t nlen = strlen(de->d_name), klen;
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (rlen == 0 && strcmp(de->d_name, TMP_DIR) == 0)
            continue;
        klen = rlen ? rlen + 1 + nlen : nlen;
        if (klen >= PATH_MAX)
            continue;
        if (rlen)
            rel[rlen] = '/';
        memcpy(rel + (rlen ? rlen + 1 : 0), de->d_name, nlen + 1);
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rel[rlen] = '\0';
            continue; /* deleted while we walked */
        }
        if (S_ISDIR(st.st_mode)) {
            if (dir_may_match(w, rel, klen))
                rc = walk_dir(fs, w, rel, klen);
        } else if (S_ISREG(st.st_mode) &&
                   strncmp(rel, w->prefix, w->plen) == 0) {
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 256;
                struct entry *v = realloc(w->v, cap * sizeof(*v));
                if (v == NULL) {
                    rc = FLOE_ENOMEM;
                    break;
                }
                w->v = v;
                w->cap = cap;
            }
            w->v[w->n].key = strdup(rel);
            if (w->v[w->n].key == NULL) {
                rc = FLOE_ENOMEM;
                break;
            }
            w->v[w->n].size = (int64_t)st.st_size;
            w->v[w->n].mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
                                  st.st_mtim.tv_nsec / 1000000;
            w->n++;
        }
        rel[rlen] = '\0';
    }
    closedir(d);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->key,
                  ((const struct entry *)b)->key);
}

static int fs_list(void *ctx, const char *prefix, floe_store_list_cb cb,
                   void *ud)
{
    struct walk w = { NULL, 0, 0, prefix, strlen(prefix) };
    char rel[PATH_MAX] = "";
    size_t i;
    int rc;

    rc = walk_dir(ctx, &w, rel, 0);
    if (rc == FLOE_OK && w.n > 1)
        qsort(w.v, w.n, sizeof(*w.v), cmp_entry);
    for (i = 0; i < w.n; i++) {
        if (rc == FLOE_OK) {
            struct floe_obj_info info = { w.v[i].key, w.v[i].size,
                                          w.v[i].mtime_ms };
            rc = cb(&info, ud);
        }
        free(w.v[i].key);
    }
    free(w.v);
    return rc;
}

static int fs_copy(void *ctx, const char *src_key, const char *dst_key)
{
    struct fs *fs = ctx;
    char src[PATH_MAX], tmp[PATH_MAX];
    int rc;

    rc = path_of(fs, src_key, src, sizeof(src));
    if (rc == FLOE_OK)
        rc = tmp_path(fs, tmp, sizeof(tmp));
    if (rc != FLOE_OK)
        return rc;
    /* Objects are immutable files, so sharing the inode is a true copy. */
    if (link(src, tmp) != 0) {
        if (errno == ENOENT)
            return FLOE_ENOTFOUND;
        rc = copy_to_tmp(fs, src, tmp, sizeof(tmp));
        if (rc != FLOE_OK)
            return rc;
    }
    rc = publish(fs, tmp, dst_key);
    if (rc != FLOE_OK)
        unlink(tmp);
    return rc;
}

static int fs_del(void *ctx, const char *key)
{
    struct fs *fs = ctx;
    char path[PATH_MAX], dir[PATH_MAX];
    size_t rootlen = strlen(fs->root);
    int rc;

    rc = path_of(fs, key, path, sizeof(path));
    if (rc != FLOE_OK)
        return rc;
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return FLOE_OK;
        if (errno == EISDIR)
            return FLOE_OK; /* a "directory" is not an object */
        floe_log_errno("delete %s", path);
        return FLOE_EIO;
    }
    /* Prune now-empty parents; failure just means "not empty". */
    snprintf(dir, sizeof(dir), "%s", path);
    while (parent_dir(dir, dir, sizeof(dir)) == FLOE_OK &&
           strlen(dir) > rootlen && rmdir(dir) == 0)
        ;
    return FLOE_OK;
}

static int fs_local_path(void *ctx, const char *key, char *out, size_t n)
{
    return path_of(ctx, key, out, n);
}

const struct floe_store_ops floe_store_fs_ops = {
    .scheme = "file",
    .open = fs_open,
    .close = fs_close,
    .put = fs_put,
    .put_file = fs_put_file,
    .put_new = fs_put_new,
    .get = fs_get,
    .get_file = fs_get_file,
    .head = fs_head,
    .list = fs_list,
    .copy = fs_copy,
    .del = fs_del,
    .local_path = fs_local_path,
};
