/* util.c - clocks, randomness, base64 and file-system helpers. */
#define FLOE_LOG_MOD "core"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

int64_t floe_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t floe_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void floe_time_iso(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char head[24];

    gmtime_r(&s, &tm);
    strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", head, (int)(ms % 1000));
}

int floe_random(void *p, size_t n)
{
    char *c = p;

    while (n > 0) {
        ssize_t got = getrandom(c, n, 0);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            return FLOE_EIO;
        }
        c += got;
        n -= (size_t)got;
    }
    return FLOE_OK;
}

void floe_uuid_format(const unsigned char bytes[16],
                      char out[FLOE_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    int i, o = 0;

    for (i = 0; i < 16; i++) {
        unsigned char c = bytes[i];

        if (i == 6)
            c = (unsigned char)((c & 0x0f) | 0x40); /* version 4 */
        else if (i == 8)
            c = (unsigned char)((c & 0x3f) | 0x80); /* RFC 4122 variant */
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[c >> 4];
        out[o++] = hex[c & 15];
    }
    out[o] = '\0';
}

int floe_uuid(char out[FLOE_UUID_LEN + 1])
{
    unsigned char b[16];
    int rc = floe_random(b, sizeof(b));

    if (rc == FLOE_OK)
        floe_uuid_format(b, out);
    return rc;
}

int floe_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path), i;

    if (n == 0 || n >= sizeof(tmp))
        return FLOE_EINVAL;
    memcpy(tmp, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char c = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            floe_log_errno("mkdir %s", tmp);
            return FLOE_EIO;
        }
        tmp[i] = c;
    }
    return FLOE_OK;
}

int floe_read_file(const char *path, struct floe_buf *out)
{
    char chunk[65536];
    int fd, rc = FLOE_OK;
    ssize_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO;
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = FLOE_EIO;
            break;
        }
        rc = floe_buf_add(out, chunk, (size_t)n);
        if (rc != FLOE_OK)
            break;
    }
    if (rc == FLOE_OK && out->data == NULL)
        rc = floe_buf_reserve(out, 0); /* empty file: still a string */
    close(fd);
    return rc;
}

int floe_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = FLOE_OK;

    if (fd < 0)
        return FLOE_EIO;
    if (fsync(fd) != 0)
        rc = FLOE_EIO;
    close(fd);
    return rc;
}

int floe_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FLOE_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return FLOE_OK;
}

int floe_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX], dir[PATH_MAX], *slash;
    unsigned char r[6];
    int fd, rc;

    if (floe_random(r, sizeof(r)) != FLOE_OK)
        return FLOE_EIO;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%02x%02x%02x%02x%02x%02x",
                         path, r[0], r[1], r[2], r[3], r[4], r[5]) >=
        sizeof(tmp))
        return FLOE_EINVAL;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        floe_log_errno("create %s", tmp);
        return FLOE_EIO;
    }
    rc = floe_write_all(fd, data, len);
    if (rc == FLOE_OK && fsync(fd) != 0)
        rc = FLOE_EIO;
    if (close(fd) != 0)
        rc = FLOE_EIO;
    if (rc == FLOE_OK && rename(tmp, path) != 0)
        rc = FLOE_EIO;
    if (rc != FLOE_OK) {
        floe_log_errno("write %s", path);
        unlink(tmp);
        return rc;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        return floe_fsync_dir(dir[0] ? dir : "/");
    }
    return floe_fsync_dir(".");
}

int floe_append_file_sync(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int rc;

    if (fd < 0) {
        floe_log_errno("open %s", path);
        return FLOE_EIO;
    }
    rc = floe_write_all(fd, data, len);
    if (rc == FLOE_OK && fdatasync(fd) != 0)
        rc = FLOE_EIO;
    if (close(fd) != 0)
        rc = FLOE_EIO;
    if (rc != FLOE_OK)
        floe_log_errno("append %s", path);
    return rc;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p) != 0 && errno != ENOENT ? -1 : 0;
}

int floe_rmtree(const char *path)
{
    if (!floe_path_exists(path))
        return FLOE_OK;
    return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) == 0 ? FLOE_OK
                                                             : FLOE_EIO;
}

bool floe_path_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

int floe_self_exe(char *out, size_t n)
{
    ssize_t got = readlink("/proc/self/exe", out, n - 1);

    if (got < 0 || (size_t)got >= n - 1)
        return FLOE_EIO;
    out[got] = '\0';
    return FLOE_OK;
}

uint64_t floe_fd_limit_raise(void)
{
    struct rlimit rl;
    rlim_t was;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        floe_log_errno("getrlimit RLIMIT_NOFILE");
        return 0;
    }
    was = rl.rlim_cur;
    if (rl.rlim_cur != rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            floe_log_info("open-file limit (RLIMIT_NOFILE) raised from %llu "
                          "to the hard limit %llu", (unsigned long long)was,
                          (unsigned long long)rl.rlim_cur);
        } else {
            floe_log_errno("setrlimit RLIMIT_NOFILE %llu (staying at %llu)",
                           (unsigned long long)rl.rlim_max,
                           (unsigned long long)was);
            rl.rlim_cur = was;
        }
    }
    return rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur;
}
