/* store.c - backend dispatch and key rules shared by every backend. */
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct floe_store {
    const struct floe_store_ops *ops;
    void *ctx;
    char *url;
};

static const struct floe_store_ops *const backends[] = {
    &floe_store_fs_ops,
    &floe_store_s3_ops,
};

/* The reason behind the last failed call, like errno: per thread because
 * stores are shared by delivery workers and the codes alone cannot carry
 * an S3 error code and message. */
static _Thread_local char last_err[FLOE_ERR_LEN];

void floe_store_set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_err, sizeof(last_err), fmt, ap);
    va_end(ap);
}

const char *floe_store_strerror(int rc)
{
    return last_err[0] != '\0' ? last_err : floe_strerror(rc);
}

/* Every entry point starts clean and checks the key. */
static int begin(const char *key)
{
    last_err[0] = '\0';
    if (key != NULL && floe_store_key_check(key) != FLOE_OK) {
        floe_store_set_error("invalid object key '%.300s' (1..1024 bytes, "
                             "no leading '/', no empty, '.' or '..' "
                             "segment, no control byte)", key);
        return FLOE_EINVAL;
    }
    return FLOE_OK;
}

int floe_store_open(const char *url, struct floe_store **out, char *err)
{
    const struct floe_store_ops *ops = NULL;
    const char *location = url, *sep;
    struct floe_store *st;
    size_t i;
    int rc;

    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return floe_err(err, FLOE_EINVAL, "empty store URL");
    sep = strstr(url, "://");
    if (sep == NULL) {
        ops = &floe_store_fs_ops; /* a plain path */
    } else {
        for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
            size_t n = strlen(backends[i]->scheme);
            if ((size_t)(sep - url) == n &&
                strncmp(url, backends[i]->scheme, n) == 0)
                ops = backends[i];
        }
        if (ops == NULL)
            return floe_err(err, FLOE_ENOTSUP,
                            "store URL '%s': unknown scheme (use file:///dir, "
                            "a directory path or s3://bucket/prefix)", url);
        location = sep + 3;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL || (st->url = strdup(url)) == NULL) {
        free(st);
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    }
    st->ops = ops;
    rc = ops->open(location, &st->ctx, err);
    if (rc != FLOE_OK) {
        free(st->url);
        free(st);
        return rc;
    }
    *out = st;
    return FLOE_OK;
}

void floe_store_close(struct floe_store *st)
{
    if (st == NULL)
        return;
    st->ops->close(st->ctx);
    free(st->url);
    free(st);
}

const char *floe_store_url(const struct floe_store *st)
{
    return st->url;
}

int floe_store_key_check(const char *key)
{
    size_t n = strlen(key), seg = 0, i;

    const size_t tn = sizeof(FLOE_STORE_TMP_DIR) - 1;

    if (n == 0 || n > FLOE_STORE_KEY_MAX || key[0] == '/')
        return FLOE_EINVAL;
    if (strncmp(key, FLOE_STORE_TMP_DIR, tn) == 0 &&
        (key[tn] == '/' || key[tn] == '\0'))
        return FLOE_EINVAL; /* the backends' temp files live there */
    for (i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)key[i];

        if (c == '/' || c == '\0') {
            const char *s = key + i - seg;
            if (seg == 0 && c == '/')
                return FLOE_EINVAL;
            if ((seg == 1 && s[0] == '.') ||
                (seg == 2 && s[0] == '.' && s[1] == '.'))
                return FLOE_EINVAL;
            seg = 0;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            return FLOE_EINVAL;
        seg++;
    }
    return FLOE_OK;
}

int floe_store_zone_check(const char *zone)
{
    if (strcmp(zone, FLOE_ZONE_PROCESSING) == 0 ||
        strcmp(zone, FLOE_ZONE_PROCESSED) == 0 ||
        strncmp(zone, ".floe", 5) == 0)
        return FLOE_EINVAL;
    return FLOE_OK;
}

int floe_store_put(struct floe_store *st, const char *key, const void *data,
                   size_t len)
{
    int rc = begin(key);

    return rc != FLOE_OK ? rc : st->ops->put(st->ctx, key, data, len);
}

int floe_store_put_file(struct floe_store *st, const char *key,
                        const char *path, bool move)
{
    int rc = begin(key);

    return rc != FLOE_OK ? rc : st->ops->put_file(st->ctx, key, path, move);
}

int floe_store_put_new(struct floe_store *st, const char *key,
                       const void *data, size_t len)
{
    int rc = begin(key);

    return rc != FLOE_OK ? rc : st->ops->put_new(st->ctx, key, data, len);
}

int floe_store_get(struct floe_store *st, const char *key,
                   struct floe_buf *out)
{
    int rc = begin(key);

    return rc != FLOE_OK ? rc : st->ops->get(st->ctx, key, out);
}

int floe_store_get_file(struct floe_store *st, const char *key,
                        const char *path)
{
    int rc = begin(key);

    return rc != FLOE_OK ? rc : st->ops->get_file(st->ctx, key, path);
}

int floe_store_head(struct floe_store *st, const char *key,
                    struct floe_obj_info *out)
{
    int rc = begin(key);

    return rc != FLOE_OK ? rc : st->ops->head(st->ctx, key, out);
}

int floe_store_list(struct floe_store *st, const char *prefix,
                    floe_store_list_cb cb, void *ud)
{
    begin(NULL);
    return st->ops->list(st->ctx, prefix ? prefix : "", cb, ud);
}

int floe_store_copy(struct floe_store *st, const char *src_key,
                    const char *dst_key)
{
    int rc = begin(src_key);

    if (rc == FLOE_OK)
        rc = begin(dst_key);
    return rc != FLOE_OK ? rc : st->ops->copy(st->ctx, src_key, dst_key);
}

int floe_store_delete(struct floe_store *st, const char *key)
{
    int rc = begin(key);

    return rc != FLOE_OK ? rc : st->ops->del(st->ctx, key);
}

int floe_store_local_path(struct floe_store *st, const char *key, char *out,
                          size_t n)
{
    int rc = begin(key);

    if (rc != FLOE_OK)
        return rc;
    if (st->ops->local_path == NULL)
        return FLOE_ENOTSUP;
    return st->ops->local_path(st->ctx, key, out, n);
}
