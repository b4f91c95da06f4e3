/* s3.c - object store backend on any S3 API (s3://bucket/prefix).
 * Every store key lives at <prefix><key> in the bucket. Puts are atomic as
 * S3 makes them (a multipart upload is invisible until completed and is
 * aborted on failure); put_new is If-None-Match: *. Large bodies go up as
 * several parts in flight; gets stream into a buffer or a file. Requests,
 * signing and retries: s3req.c. Settings come from the AWS environment and
 * shared files (aws/creds.h) and the URL's query:
 *   s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=r
 *     &addressing=path|virtual&part_size=8M&attempts=4&copy_max=5G
 * A copy above copy_max (S3's CopyObject limit, 5 GiB) is a multipart
 * upload of UploadPartCopy ranges. */
#define FLOE_LOG_MOD "store.s3"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "store/s3req.h"

#define PART_MIN ((size_t)5 << 20)      /* S3: every part but the last */
#define PART_DEFAULT ((size_t)8 << 20)
#define PARTS_MAX 10000
#define PARTS_IN_FLIGHT 4
#define ATTEMPTS_DEFAULT 4
#define XML_MAX (16 << 20)
#define COPY_MAX_S3 ((uint64_t)5 << 30) /* CopyObject's limit */
#define COPY_PART ((size_t)512 << 20)

struct s3 {
    struct s3_conn c;
    size_t part_size; /* objects above this go up in parts of this size */
    uint64_t copy_max; /* objects above this are copied in parts */
};

/* --- opening ----------------------------------------------------------------- */

static int parse_size(const char *v, size_t *out)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);

    if (end == v)
        return FLOE_EINVAL;
    if (*end == 'K' || *end == 'k')
        n <<= 10, end++;
    else if (*end == 'M' || *end == 'm')
        n <<= 20, end++;
    else if (*end == 'G' || *end == 'g')
        n <<= 30, end++;
    if (*end == 'i' && end[-1] != 'i')
        end++;
    if (*end == 'B')
        end++;
    if (*end != '\0')
        return FLOE_EINVAL;
    *out = (size_t)n;
    return FLOE_OK;
}

static int replace(char **dst, const char *v)
{
    char *n = strdup(v);

    if (n == NULL)
        return FLOE_ENOMEM;
    free(*dst);
    *dst = n;
    return FLOE_OK;
}

/* The URL's "?name=value&..." settings. */
static int apply_query(struct s3 *s, char *q, char **addressing, char *err)
{
    char *save = NULL, *kv;
    int rc = FLOE_OK;

    for (kv = strtok_r(q, "&", &save); kv != NULL && rc == FLOE_OK;
         kv = strtok_r(NULL, "&", &save)) {
        char *v = strchr(kv, '=');

        if (v == NULL)
            return floe_err(err, FLOE_EINVAL, "S3 URL: '%s' needs a value",
                            kv);
        *v++ = '\0';
        if (strcmp(kv, "endpoint") == 0) {
            rc = replace(&s->c.env.endpoint, v);
        } else if (strcmp(kv, "region") == 0) {
            rc = replace(&s->c.env.region, v);
        } else if (strcmp(kv, "addressing") == 0) {
            rc = replace(addressing, v);
        } else if (strcmp(kv, "part_size") == 0) {
            if (parse_size(v, &s->part_size) != FLOE_OK ||
                s->part_size < PART_MIN)
                return floe_err(err, FLOE_EINVAL,
                                "S3 URL: part_size '%s' (at least 5M)", v);
        } else if (strcmp(kv, "copy_max") == 0) {
            size_t n;

            if (parse_size(v, &n) != FLOE_OK || n < PART_MIN ||
                n > COPY_MAX_S3)
                return floe_err(err, FLOE_EINVAL,
                                "S3 URL: copy_max '%s' (5M..5G)", v);
            s->copy_max = n;
        } else if (strcmp(kv, "attempts") == 0) {
            s->c.attempts = (int)strtol(v, NULL, 10);
            if (s->c.attempts < 1 || s->c.attempts > 20)
                return floe_err(err, FLOE_EINVAL,
                                "S3 URL: attempts '%s' (1..20)", v);
        } else {
            return floe_err(err, FLOE_EINVAL,
                            "S3 URL: unknown setting '%s' (endpoint, "
                            "region, addressing, part_size, attempts, "
                            "copy_max)", kv);
        }
    }
    return rc;
}

static bool bucket_ok(const char *b)
{
    size_t n = strlen(b), i;

    if (n < 3 || n > 63)
        return false;
    for (i = 0; i < n; i++) {
        char ch = b[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == '_' ||
              (ch >= 'A' && ch <= 'Z')))
            return false;
    }
    return true;
}

/* origin, host and base path from the endpoint and the addressing. */
static int address(struct s3 *s, const char *addressing, char *err)
{
    struct s3_conn *c = &s->c;
    struct floe_buf o, h;
    bool path_style;
    const char *ep = c->env.endpoint, *auth, *end;
    int rc = FLOE_OK;

    if (addressing != NULL && strcmp(addressing, "path") != 0 &&
        strcmp(addressing, "virtual") != 0 && strcmp(addressing, "auto") != 0)
        return floe_err(err, FLOE_EINVAL,
                        "S3 addressing '%s' (path or virtual)", addressing);
    /* A custom endpoint (a local server, most S3-compatible stores) is
     * path-style unless told otherwise; AWS is virtual-hosted, except for
     * bucket names with dots (TLS wildcard certificates). */
    if (addressing != NULL && strcmp(addressing, "auto") != 0)
        path_style = strcmp(addressing, "path") == 0;
    else
        path_style = ep != NULL || strchr(c->bucket, '.') != NULL;
    floe_buf_init(&o, FLOE_BUF_UNLIMITED);
    floe_buf_init(&h, FLOE_BUF_UNLIMITED);
    if (ep != NULL) {
        if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)
            return floe_err(err, FLOE_EINVAL,
                            "S3 endpoint '%s': want http://host[:port] or "
                            "https://...", ep);
        auth = strstr(ep, "://") + 3;
        end = strchr(auth, '/');
        if (end == NULL)
            end = auth + strlen(auth);
        if (end == auth)
            return floe_err(err, FLOE_EINVAL, "S3 endpoint '%s' has no host",
                            ep);
        if (path_style)
            rc = floe_buf_add(&h, auth, (size_t)(end - auth));
        else
            rc = floe_buf_addf(&h, "%s.%.*s", c->bucket, (int)(end - auth),
                               auth);
        if (rc == FLOE_OK)
            rc = floe_buf_addf(&o, "%.*s%s", (int)(auth - ep), ep, h.data);
    } else {
        if (path_style)
            rc = floe_buf_addf(&h, "s3.%s.amazonaws.com", c->env.region);
        else
            rc = floe_buf_addf(&h, "%s.s3.%s.amazonaws.com", c->bucket,
                               c->env.region);
        if (rc == FLOE_OK)
            rc = floe_buf_addf(&o, "https://%s", h.data);
    }
    if (rc == FLOE_OK) {
        c->origin = floe_buf_take(&o, NULL);
        c->host = floe_buf_take(&h, NULL);
        c->base_path = path_style ? NULL : strdup("");
        if (path_style && (rc = floe_buf_addf(&o, "/%s", c->bucket)) ==
                              FLOE_OK)
            c->base_path = floe_buf_take(&o, NULL);
        if (c->origin == NULL || c->host == NULL || c->base_path == NULL)
            rc = FLOE_ENOMEM;
    }
    floe_buf_free(&o);
    floe_buf_free(&h);
    return rc == FLOE_OK ? rc : floe_err(err, rc, "out of memory");
}

static void s3_close(void *ctx)
{
    struct s3 *s = ctx;

    if (s == NULL)
        return;
    s3_conn_free_pool(&s->c);
    pthread_mutex_destroy(&s->c.mu);
    floe_aws_env_free(&s->c.env);
    free(s->c.bucket);
    free(s->c.prefix);
    free(s->c.origin);
    free(s->c.host);
    free(s->c.base_path);
    free(s);
}

static int s3_probe(struct s3 *s);

static int s3_open(const char *location, void **out_ctx, char *err)
{
    struct s3 *s = NULL;
    char *loc = strdup(location), *q, *slash, *addressing = NULL;
    struct floe_buf pfx;
    int rc;

    *out_ctx = NULL;
    floe_buf_init(&pfx, FLOE_BUF_UNLIMITED);
    s = calloc(1, sizeof(*s));
    if (loc == NULL || s == NULL) {
        free(loc);
        free(s);
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&s->c.mu, NULL);
    s->part_size = PART_DEFAULT;
    s->c.attempts = ATTEMPTS_DEFAULT;
    s->copy_max = COPY_MAX_S3;
    rc = floe_aws_env_load("S3", &s->c.env);
    if (rc != FLOE_OK) {
        floe_err(err, rc, "out of memory");
        goto fail;
    }
    q = strchr(loc, '?');
    if (q != NULL) {
        *q++ = '\0';
        rc = apply_query(s, q, &addressing, err);
        if (rc != FLOE_OK)
            goto fail;
    }
    slash = strchr(loc, '/');
    if (slash != NULL)
        *slash++ = '\0';
    if (!bucket_ok(loc)) {
        rc = floe_err(err, FLOE_EINVAL,
                      "S3 URL 's3://%s': bad bucket name '%s' (3..63 of "
                      "a-z 0-9 . -)", location, loc);
        goto fail;
    }
    /* The prefix: no leading or doubled '/', one trailing '/'. */
    while (slash != NULL && *slash != '\0') {
        size_t n = strcspn(slash, "/");

        if (n > 0 && (floe_buf_add(&pfx, slash, n) != FLOE_OK ||
                      floe_buf_addc(&pfx, '/') != FLOE_OK)) {
            rc = floe_err(err, FLOE_ENOMEM, "out of memory");
            goto fail;
        }
        slash += n + (slash[n] == '/');
    }
    s->c.bucket = strdup(loc);
    s->c.prefix = pfx.data ? floe_buf_take(&pfx, NULL) : strdup("");
    if (s->c.bucket == NULL || s->c.prefix == NULL) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto fail;
    }
    if (addressing == NULL && s->c.env.addressing != NULL)
        addressing = strdup(s->c.env.addressing);
    rc = address(s, addressing, err);
    if (rc != FLOE_OK)
        goto fail;
    if (s->c.env.access_key == NULL) {
        rc = floe_err(err, FLOE_EINVAL,
                      "S3: no AWS credentials (set AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY, or a profile in "
                      "~/.aws/credentials; AWS_PROFILE=%s)",
                      s->c.env.profile);
        goto fail;
    }
    /* One cheap list says at once whether the bucket is there and the
     * keys work; a store that cannot answer now may later (transient). */
    rc = s3_probe(s);
    if (rc != FLOE_OK && !floe_store_transient(rc)) {
        floe_err(err, rc, "%s", floe_store_strerror(rc));
        goto fail;
    }
    if (rc != FLOE_OK)
        floe_log_warn("%s; going on, requests will retry",
                      floe_store_strerror(rc));
    floe_log_debug("S3 store s3://%s/%s at %s (%s-style, region %s, keys "
                   "from the %s)", s->c.bucket, s->c.prefix, s->c.origin,
                   s->c.base_path[0] ? "path" : "virtual-hosted",
                   s->c.env.region, s->c.env.source);
    free(loc);
    free(addressing);
    *out_ctx = s;
    return FLOE_OK;
fail:
    free(loc);
    free(addressing);
    floe_buf_free(&pfx);
    s3_close(s);
    return rc;
}

/* --- helpers ---------------------------------------------------------------- */

/* <prefix><key>, owned by the caller. */
static char *full_key(const struct s3 *s, const char *key)
{
    size_t a = strlen(s->c.prefix), b = strlen(key);
    char *k = malloc(a + b + 1);

    if (k != NULL) {
        memcpy(k, s->c.prefix, a);
        memcpy(k + a, key, b + 1);
    }
    return k;
}

static int put_one(struct s3 *s, const char *fk, const void *data,
                   size_t len, bool if_absent, const char *what)
{
    struct s3_req r = { .method = "PUT", .key = fk, .body = data,
                        .len = len, .out_fd = -1, .what = what };

    if (if_absent)
        r.extra[r.nextra++] = (struct floe_sigv4_hdr){ "if-none-match", "*" };
    return s3_do(&s->c, &r);
}

/* --- multipart ---------------------------------------------------------------- */

struct upload {
    struct s3 *s;
    const char *fk, *what;
    char *id_enc;          /* the upload id, URL-encoded */
    const char *mem;       /* the body in memory, or */
    int fd;                /* read parts from this file, or */
    const char *copy_src;  /* copy ranges of this x-amz-copy-source */
    size_t len, part;
    int nparts, next, rc;
    char (*etags)[256];
    char err[FLOE_ERR_LEN];
    pthread_mutex_t mu;
};

static int upload_id_cb(void *ud, const char *path, const char *text)
{
    char **id = ud;

    if (strcmp(path, "InitiateMultipartUploadResult/UploadId") == 0 &&
        *id == NULL)
        *id = strdup(text);
    return 0;
}

static int copy_etag_cb(void *ud, const char *path, const char *text)
{
    if (strcmp(path, "CopyPartResult/ETag") == 0)
        snprintf(ud, 256, "%s", text);
    return 0;
}

static void *part_worker(void *arg)
{
    struct upload *u = arg;
    struct floe_buf q, xml;
    char *buf = NULL;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    floe_buf_init(&xml, XML_MAX);
    for (;;) {
        struct s3_req r = { .method = "PUT", .key = u->fk, .out_fd = -1,
                            .what = u->what };
        size_t off, n;
        int i, rc = FLOE_OK;
        char ebuf[128], range[64];

        pthread_mutex_lock(&u->mu);
        i = u->rc == FLOE_OK && u->next < u->nparts ? u->next++ : -1;
        pthread_mutex_unlock(&u->mu);
        if (i < 0)
            break;
        off = (size_t)i * u->part;
        n = u->len - off < u->part ? u->len - off : u->part;
        if (u->copy_src != NULL) {
            snprintf(range, sizeof(range), "bytes=%zu-%zu", off, off + n - 1);
            r.extra[r.nextra++] =
                (struct floe_sigv4_hdr){ "x-amz-copy-source", u->copy_src };
            r.extra[r.nextra++] =
                (struct floe_sigv4_hdr){ "x-amz-copy-source-range", range };
            floe_buf_reset(&xml);
            r.out = &xml; /* the ETag comes in CopyPartResult */
            n = 0;
        } else if (u->mem != NULL) {
            r.body = u->mem + off;
        } else {
            if (buf == NULL && (buf = malloc(u->part)) == NULL)
                rc = FLOE_ENOMEM;
            for (size_t got = 0; rc == FLOE_OK && got < n;) {
                ssize_t k = pread(u->fd, buf + got, n - got,
                                  (off_t)(off + got));
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0) {
                    rc = FLOE_EIO;
                    floe_store_set_error("S3 %s: reading the local file: %s",
                                         u->what,
                                         k < 0 ? strerror_r(errno, ebuf,
                                                            sizeof(ebuf))
                                               : "shorter than it was");
                }
                got += k > 0 ? (size_t)k : 0;
            }
            r.body = buf;
        }
        r.len = n;
        floe_buf_reset(&q);
        if (rc == FLOE_OK &&
            floe_buf_addf(&q, "partNumber=%d&uploadId=%s", i + 1,
                          u->id_enc) != FLOE_OK)
            rc = FLOE_ENOMEM;
        r.query = q.data;
        if (rc == FLOE_OK)
            rc = s3_do(&u->s->c, &r);
        if (rc == FLOE_OK && u->copy_src != NULL)
            (void)s3_xml_walk(xml.data, xml.len, copy_etag_cb, r.etag);
        if (rc == FLOE_OK && r.etag[0] == '\0') {
            rc = FLOE_EREMOTE;
            floe_store_set_error("S3 %s: part %d answered without an ETag",
                                 u->what, i + 1);
        }
        pthread_mutex_lock(&u->mu);
        if (rc == FLOE_OK) {
            memcpy(u->etags[i], r.etag, sizeof(r.etag));
        } else if (u->rc == FLOE_OK) {
            u->rc = rc; /* the first failure is the one reported */
            snprintf(u->err, sizeof(u->err), "%s", floe_store_strerror(rc));
        }
        pthread_mutex_unlock(&u->mu);
    }
    free(buf);
    floe_buf_free(&q);
    floe_buf_free(&xml);
    return NULL;
}

static int complete_body(const struct upload *u, struct floe_buf *b)
{
    int rc = floe_buf_adds(b, "<CompleteMultipartUpload>");

    for (int i = 0; i < u->nparts && rc == FLOE_OK; i++)
        rc = floe_buf_addf(b, "<Part><PartNumber>%d</PartNumber><ETag>%s"
                              "</ETag></Part>", i + 1, u->etags[i]);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(b, "</CompleteMultipartUpload>");
    return rc;
}

/* Upload `len` bytes from memory, `fd` or (`copy_src`) ranges of another
 * object in parts, several in flight; complete (If-None-Match with
 * `if_absent`), or abort on any failure so nothing half-written stays
 * behind. */
static int multipart(struct s3 *s, const char *fk, const char *mem, int fd,
                     const char *copy_src, size_t len, bool if_absent,
                     const char *what)
{
    struct upload u = { .s = s, .fk = fk, .what = what, .mem = mem,
                        .fd = fd, .copy_src = copy_src, .len = len,
                        .part = s->part_size };
    struct s3_req r = { .method = "POST", .key = fk, .query = "uploads=",
                        .out_fd = -1, .what = what };
    pthread_t th[PARTS_IN_FLIGHT];
    struct floe_buf out, q, body;
    char *id = NULL;
    int rc, nth = 0, i;

    pthread_mutex_init(&u.mu, NULL);
    floe_buf_init(&out, XML_MAX);
    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    floe_buf_init(&body, FLOE_BUF_UNLIMITED);
    if (copy_src != NULL && s->copy_max >= COPY_MAX_S3)
        u.part = COPY_PART; /* nothing goes through us: big ranges */
    while ((len + u.part - 1) / u.part > PARTS_MAX)
        u.part *= 2;
    u.nparts = (int)((len + u.part - 1) / u.part);
    u.etags = calloc((size_t)u.nparts, sizeof(*u.etags));
    if (u.etags == NULL) {
        rc = FLOE_ENOMEM;
        goto done;
    }
    r.out = &out;
    rc = s3_do(&s->c, &r);
    if (rc == FLOE_OK)
        (void)s3_xml_walk(out.data, out.len, upload_id_cb, &id);
    if (rc == FLOE_OK && id == NULL) {
        rc = FLOE_EREMOTE;
        floe_store_set_error("S3 %s: no UploadId in the answer", what);
    }
    if (rc != FLOE_OK)
        goto done;
    rc = s3_uri_encode(&q, id, false);
    u.id_enc = q.data;
    for (i = 0; rc == FLOE_OK && i < PARTS_IN_FLIGHT && i < u.nparts; i++)
        if (pthread_create(&th[nth], NULL, part_worker, &u) == 0)
            nth++;
    if (nth == 0 && rc == FLOE_OK)
        part_worker(&u); /* no thread: do it here */
    for (i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    if (rc == FLOE_OK && u.rc != FLOE_OK) {
        rc = u.rc;
        floe_store_set_error("%s", u.err);
    }
    if (rc == FLOE_OK)
        rc = complete_body(&u, &body);
    if (rc == FLOE_OK) {
        struct s3_req cr = { .method = "POST", .key = fk, .body = body.data,
                             .len = body.len, .out = &out, .out_fd = -1,
                             .what = what };
        struct floe_buf cq;

        floe_buf_init(&cq, FLOE_BUF_UNLIMITED);
        rc = floe_buf_addf(&cq, "uploadId=%s", u.id_enc);
        cr.query = cq.data;
        cr.extra[cr.nextra++] = (struct floe_sigv4_hdr){ "content-type",
                                                         "application/xml" };
        if (if_absent)
            cr.extra[cr.nextra++] =
                (struct floe_sigv4_hdr){ "if-none-match", "*" };
        floe_buf_reset(&out);
        if (rc == FLOE_OK)
            rc = s3_do(&s->c, &cr);
        floe_buf_free(&cq);
    }
    if (rc != FLOE_OK) {
        char keep[FLOE_ERR_LEN];
        struct s3_req ar = { .method = "DELETE", .key = fk, .out_fd = -1,
                             .what = "abort multipart upload" };
        struct floe_buf aq;

        snprintf(keep, sizeof(keep), "%s", floe_store_strerror(rc));
        floe_buf_init(&aq, FLOE_BUF_UNLIMITED);
        if (floe_buf_addf(&aq, "uploadId=%s", u.id_enc) == FLOE_OK) {
            ar.query = aq.data;
            if (s3_do(&s->c, &ar) != FLOE_OK)
                floe_log_warn("%s (the parts stay until a bucket lifecycle "
                              "rule removes them)", floe_store_strerror(0));
        }
        floe_buf_free(&aq);
        floe_store_set_error("%s", keep);
    }
done:
    free(id);
    free(u.etags);
    floe_buf_free(&out);
    floe_buf_free(&q);
    floe_buf_free(&body);
    pthread_mutex_destroy(&u.mu);
    return rc;
}

/* --- operations ------------------------------------------------------------- */

static int put_any(void *ctx, const char *key, const void *data, size_t len,
                   bool if_absent)
{
    struct s3 *s = ctx;
    char *fk = full_key(s, key);
    int rc;

    if (fk == NULL)
        return FLOE_ENOMEM;
    if (len > s->part_size)
        rc = multipart(s, fk, data, -1, NULL, len, if_absent, key);
    else
        rc = put_one(s, fk, data, len, if_absent, key);
    free(fk);
    return rc;
}

static int s3_put(void *ctx, const char *key, const void *data, size_t len)
{
    return put_any(ctx, key, data, len, false);
}

static int s3_put_new(void *ctx, const char *key, const void *data,
                      size_t len)
{
    return put_any(ctx, key, data, len, true);
}

static int s3_put_file(void *ctx, const char *key, const char *path,
                       bool move)
{
    struct s3 *s = ctx;
    struct floe_buf b;
    struct stat st;
    char *fk;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char ebuf[128];
        int e = errno;

        floe_store_set_error("put %s: cannot open %s: %s", key, path,
                             strerror_r(e, ebuf, sizeof(ebuf)));
        return e == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO;
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return FLOE_EIO;
    }
    if ((size_t)st.st_size <= s->part_size) {
        close(fd);
        floe_buf_init(&b, FLOE_BUF_UNLIMITED);
        rc = floe_read_file(path, &b);
        if (rc == FLOE_OK)
            rc = s3_put(ctx, key, b.data ? b.data : "", b.len);
        floe_buf_free(&b);
    } else {
        fk = full_key(s, key);
        rc = fk ? multipart(s, fk, NULL, fd, NULL, (size_t)st.st_size, false,
                            key)
                : FLOE_ENOMEM;
        free(fk);
        close(fd);
    }
    if (rc == FLOE_OK && move)
        unlink(path);
    return rc;
}

/* Perform `r` on the object `key` (the store prefix added here). */
static int key_do(struct s3 *s, const char *key, struct s3_req *r)
{
    char *fk = full_key(s, key);
    int rc;

    if (fk == NULL)
        return FLOE_ENOMEM;
    r->key = fk;
    r->what = key;
    rc = s3_do(&s->c, r);
    free(fk);
    r->key = NULL;
    return rc;
}

static int get_any(struct s3 *s, const char *key, struct floe_buf *out,
                   int fd)
{
    struct s3_req r = { .method = "GET", .out = out, .out_fd = fd };

    return key_do(s, key, &r);
}

static int s3_get(void *ctx, const char *key, struct floe_buf *out)
{
    return get_any(ctx, key, out, -1);
}

static int s3_get_file(void *ctx, const char *key, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc;

    if (fd < 0) {
        char ebuf[128];

        floe_store_set_error("get %s: cannot create %s: %s", key, path,
                             strerror_r(errno, ebuf, sizeof(ebuf)));
        return FLOE_EIO;
    }
    rc = get_any(ctx, key, NULL, fd);
    if (close(fd) != 0 && rc == FLOE_OK)
        rc = FLOE_EIO;
    if (rc != FLOE_OK)
        unlink(path);
    return rc;
}

static int s3_head(void *ctx, const char *key, struct floe_obj_info *out)
{
    struct s3_req r = { .method = "HEAD", .out_fd = -1 };
    int rc = key_do(ctx, key, &r);

    if (rc == FLOE_OK) {
        out->key = NULL;
        out->size = r.size < 0 ? 0 : r.size;
        out->mtime_ms = r.mtime_ms;
    }
    return rc;
}

/* One ListObjectsV2 page. */
struct page {
    struct s3 *s;
    struct { char *key; int64_t size, mtime_ms; } *v;
    size_t n, cap;
    char *cur_key;
    int64_t cur_size, cur_mtime;
    bool truncated;
    char *token;
    int rc;
};

static int64_t iso_ms(const char *t)
{
    struct tm tm = { 0 };
    int ms = 0;

    if (sscanf(t, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + (ms % 1000);
}

static int page_cb(void *ud, const char *path, const char *text)
{
    struct page *p = ud;

    if (strncmp(path, "ListBucketResult/", 17) != 0)
        return 0;
    path += 17;
    if (strcmp(path, "Contents/Key") == 0) {
        free(p->cur_key);
        p->cur_key = strdup(text);
    } else if (strcmp(path, "Contents/Size") == 0) {
        p->cur_size = strtoll(text, NULL, 10);
    } else if (strcmp(path, "Contents/LastModified") == 0) {
        p->cur_mtime = iso_ms(text);
    } else if (strcmp(path, "Contents") == 0 && p->cur_key != NULL) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 256;
            void *v = realloc(p->v, cap * sizeof(*p->v));

            if (v == NULL) {
                p->rc = FLOE_ENOMEM;
                return 1;
            }
            p->v = v;
            p->cap = cap;
        }
        p->v[p->n].key = p->cur_key;
        p->v[p->n].size = p->cur_size;
        p->v[p->n].mtime_ms = p->cur_mtime;
        p->n++;
        p->cur_key = NULL;
    } else if (strcmp(path, "IsTruncated") == 0) {
        p->truncated = strcmp(text, "true") == 0;
    } else if (strcmp(path, "NextContinuationToken") == 0) {
        free(p->token);
        p->token = strdup(text);
    }
    return 0;
}

static void page_reset(struct page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].key);
    p->n = 0;
    free(p->cur_key);
    p->cur_key = NULL;
    p->truncated = false;
}

/* GET ?list-type=2 for `fk_prefix`, after `token` (NULL: the first). */
static int list_page(struct s3 *s, const char *fk_prefix, const char *token,
                     int max_keys, struct page *p, struct floe_buf *out)
{
    struct s3_req r = { .method = "GET", .out = out, .out_fd = -1,
                        .what = "list" };
    struct floe_buf q;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    floe_buf_reset(out);
    rc = floe_buf_adds(&q, "list-type=2");
    if (rc == FLOE_OK && token != NULL) {
        rc = floe_buf_adds(&q, "&continuation-token=");
        if (rc == FLOE_OK)
            rc = s3_uri_encode(&q, token, false);
    }
    if (rc == FLOE_OK)
        rc = floe_buf_addf(&q, "&max-keys=%d&prefix=", max_keys);
    if (rc == FLOE_OK)
        rc = s3_uri_encode(&q, fk_prefix, false);
    r.query = q.data;
    if (rc == FLOE_OK)
        rc = s3_do(&s->c, &r);
    if (rc == FLOE_OK) {
        rc = s3_xml_walk(out->data, out->len, page_cb, p);
        if (rc == FLOE_OK)
            rc = p->rc;
        if (rc != FLOE_OK && rc != FLOE_ENOMEM)
            floe_store_set_error("S3 list s3://%s/%s: the answer is not "
                                 "ListObjectsV2 XML", s->c.bucket, fk_prefix);
    }
    floe_buf_free(&q);
    return rc;
}

static int s3_list(void *ctx, const char *prefix, floe_store_list_cb cb,
                   void *ud)
{
    struct s3 *s = ctx;
    struct page p = { .s = s };
    struct floe_buf out;
    size_t plen = strlen(s->c.prefix);
    char *fk = full_key(s, prefix), *token = NULL;
    int rc = fk ? FLOE_OK : FLOE_ENOMEM;

    floe_buf_init(&out, XML_MAX);
    while (rc == FLOE_OK) {
        rc = list_page(s, fk, token, 1000, &p, &out);
        for (size_t i = 0; rc == FLOE_OK && i < p.n; i++) {
            struct floe_obj_info info = { p.v[i].key + plen, p.v[i].size,
                                          p.v[i].mtime_ms };

            if (strncmp(p.v[i].key, s->c.prefix, plen) == 0)
                rc = cb(&info, ud);
        }
        free(token);
        token = p.token;
        p.token = NULL;
        if (rc != FLOE_OK || !p.truncated)
            break;
        if (token == NULL) {
            rc = FLOE_EREMOTE;
            floe_store_set_error("S3 list s3://%s/%s: truncated answer "
                                 "without NextContinuationToken",
                                 s->c.bucket, fk);
        }
        page_reset(&p);
    }
    page_reset(&p);
    free(p.v);
    free(token);
    free(fk);
    floe_buf_free(&out);
    return rc;
}

static int s3_probe(struct s3 *s)
{
    struct page p = { .s = s };
    struct floe_buf out;
    int rc;

    floe_buf_init(&out, XML_MAX);
    rc = list_page(s, s->c.prefix, NULL, 1, &p, &out);
    page_reset(&p);
    free(p.v);
    free(p.token);
    floe_buf_free(&out);
    return rc;
}

static int s3_copy(void *ctx, const char *src_key, const char *dst_key)
{
    struct s3 *s = ctx;
    char *src = full_key(s, src_key), *dst = full_key(s, dst_key);
    struct s3_req r = { .method = "PUT", .key = dst, .out_fd = -1,
                        .what = dst_key };
    struct floe_obj_info info = { 0 };
    struct floe_buf from, out;
    bool parts = false;
    int rc = src && dst ? FLOE_OK : FLOE_ENOMEM;

    floe_buf_init(&from, FLOE_BUF_UNLIMITED);
    floe_buf_init(&out, XML_MAX);
    if (rc == FLOE_OK)
        rc = floe_buf_addf(&from, "/%s/", s->c.bucket);
    if (rc == FLOE_OK)
        rc = s3_uri_encode(&from, src, true);
    /* Below S3's limit a copy is one CopyObject; a lower copy_max asks
     * for the size first. */
    if (rc == FLOE_OK && s->copy_max < COPY_MAX_S3) {
        rc = s3_head(s, src_key, &info);
        parts = rc == FLOE_OK && (uint64_t)info.size > s->copy_max;
    }
    if (rc == FLOE_OK && !parts) {
        /* A 200 may still carry an <Error>: s3_do reads the body. */
        r.out = &out;
        r.extra[r.nextra++] =
            (struct floe_sigv4_hdr){ "x-amz-copy-source", from.data };
        rc = s3_do(&s->c, &r);
        if (rc == FLOE_EREMOTE && (strcmp(r.code, "InvalidRequest") == 0 ||
                                   strcmp(r.code, "EntityTooLarge") == 0)) {
            char keep[FLOE_ERR_LEN];

            snprintf(keep, sizeof(keep), "%s", floe_store_strerror(rc));
            parts = s3_head(s, src_key, &info) == FLOE_OK &&
                    (uint64_t)info.size > COPY_MAX_S3;
            if (!parts)
                floe_store_set_error("%s", keep);
            else
                rc = FLOE_OK;
        }
    }
    if (rc == FLOE_OK && parts)
        rc = multipart(s, dst, NULL, -1, from.data, (size_t)info.size, false,
                       dst_key);
    free(src);
    free(dst);
    floe_buf_free(&from);
    floe_buf_free(&out);
    return rc;
}

static int s3_del(void *ctx, const char *key)
{
    struct s3_req r = { .method = "DELETE", .out_fd = -1 };
    int rc = key_do(ctx, key, &r);

    return rc == FLOE_ENOTFOUND ? FLOE_OK : rc;
}

const struct floe_store_ops floe_store_s3_ops = {
    .scheme = "s3",
    .open = s3_open,
    .close = s3_close,
    .put = s3_put,
    .put_file = s3_put_file,
    .put_new = s3_put_new,
    .get = s3_get,
    .get_file = s3_get_file,
    .head = s3_head,
    .list = s3_list,
    .copy = s3_copy,
    .del = s3_del,
    .local_path = NULL,
};
