/* s3req.c - a signed S3 request with bounded retries (s3req.h).
 * libcurl easy handles come from a small pool per bucket connection, so
 * every delivery worker has its own and idle ones keep their TCP (and TLS)
 * connections. The body is sent from memory (SigV4 needs its SHA-256
 * first anyway); the answer goes to a capped buffer or a file. */
#define FLOE_LOG_MOD "store.s3"
#include "store/s3req.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <expat.h>

#include "core/log.h"
#include "core/util.h"
#include "http/client.h"
#include "store/store.h"

#define ERR_BODY_MAX (64 << 10)
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 3000

int s3_uri_encode(struct floe_buf *out, const char *s, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    int rc = FLOE_OK;

    for (; *s != '\0' && rc == FLOE_OK; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~' || (c == '/' && keep_slash)) {
            rc = floe_buf_addc(out, (char)c);
        } else {
            char e[3] = { '%', digits[c >> 4], digits[c & 15] };
            rc = floe_buf_add(out, e, 3);
        }
    }
    return rc;
}

/* --- XML ------------------------------------------------------------------ */

struct xw {
    XML_Parser p;
    char path[512];
    size_t plen;
    struct floe_buf text;
    s3_xml_cb cb;
    void *ud;
    int stopped;
};

static void XMLCALL x_start(void *arg, const XML_Char *name,
                            const XML_Char **attrs)
{
    struct xw *w = arg;
    size_t n = strlen(name);

    (void)attrs;
    if (w->plen + n + 2 < sizeof(w->path)) {
        if (w->plen > 0)
            w->path[w->plen++] = '/';
        memcpy(w->path + w->plen, name, n + 1);
        w->plen += n;
    }
    floe_buf_reset(&w->text);
}

static void XMLCALL x_end(void *arg, const XML_Char *name)
{
    struct xw *w = arg;
    char *slash;

    (void)name;
    if (!w->stopped &&
        w->cb(w->ud, w->path, w->text.data ? w->text.data : "") != 0) {
        w->stopped = 1;
        XML_StopParser(w->p, XML_FALSE);
    }
    floe_buf_reset(&w->text);
    slash = strrchr(w->path, '/');
    w->plen = slash ? (size_t)(slash - w->path) : 0;
    w->path[w->plen] = '\0';
}

static void XMLCALL x_text(void *arg, const XML_Char *s, int len)
{
    struct xw *w = arg;

    (void)floe_buf_add(&w->text, s, (size_t)len); /* capped: cut, not fail */
}

int s3_xml_walk(const char *body, size_t len, s3_xml_cb cb, void *ud)
{
    struct xw w = { .cb = cb, .ud = ud };
    int rc = FLOE_OK;

    w.p = XML_ParserCreate("UTF-8");
    if (w.p == NULL)
        return FLOE_ENOMEM;
    floe_buf_init(&w.text, 1 << 20);
    XML_SetUserData(w.p, &w);
    XML_SetElementHandler(w.p, x_start, x_end);
    XML_SetCharacterDataHandler(w.p, x_text);
    if (XML_Parse(w.p, body, (int)len, XML_TRUE) == XML_STATUS_ERROR &&
        !w.stopped)
        rc = FLOE_EREMOTE;
    XML_ParserFree(w.p);
    floe_buf_free(&w.text);
    return rc;
}

struct s3_err {
    char code[64];
    char msg[320];
    bool is_error;
};

static int err_cb(void *ud, const char *path, const char *text)
{
    struct s3_err *e = ud;

    if (strcmp(path, "Error/Code") == 0) {
        e->is_error = true;
        snprintf(e->code, sizeof(e->code), "%s", text);
    } else if (strcmp(path, "Error/Message") == 0) {
        snprintf(e->msg, sizeof(e->msg), "%s", text);
    } else if (strcmp(path, "Error") == 0) {
        e->is_error = true;
    }
    return 0;
}

/* --- handles ---------------------------------------------------------------- */

static CURL *handle_get(struct s3_conn *c)
{
    CURL *h = NULL;

    pthread_mutex_lock(&c->mu);
    if (c->npool > 0)
        h = c->pool[--c->npool];
    pthread_mutex_unlock(&c->mu);
    if (h == NULL)
        h = curl_easy_init();
    else
        curl_easy_reset(h); /* keeps the connection cache */
    return h;
}

static void handle_put(struct s3_conn *c, CURL *h)
{
    pthread_mutex_lock(&c->mu);
    if (c->npool < S3_POOL_MAX) {
        c->pool[c->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h != NULL)
        curl_easy_cleanup(h);
}

void s3_conn_free_pool(struct s3_conn *c)
{
    while (c->npool > 0)
        curl_easy_cleanup(c->pool[--c->npool]);
}

/* --- one attempt ---------------------------------------------------------- */

struct xfer {
    struct s3_req *r;
    CURL *h;
    struct floe_buf err; /* error answer (or a 2xx body nobody asked for) */
    int overflow, ioerr;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    long status = 0;

    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        if (x->r->out_fd >= 0) {
            if (floe_write_all(x->r->out_fd, p, n) != FLOE_OK) {
                x->ioerr = errno ? errno : EIO;
                return 0;
            }
            return n;
        }
        if (x->r->out != NULL) {
            if (floe_buf_add(x->r->out, p, n) != FLOE_OK) {
                x->overflow = 1;
                return 0;
            }
            return n;
        }
    }
    (void)floe_buf_add(&x->err, p, n); /* kept up to its cap */
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb, len;

    if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
        const char *v = p + 5;

        while (*v == ' ' || *v == '\t')
            v++;
        len = n - (size_t)(v - p);
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' ||
                           v[len - 1] == ' '))
            len--;
        if (len < sizeof(x->r->etag)) {
            memcpy(x->r->etag, v, len);
            x->r->etag[len] = '\0';
        }
    }
    return n;
}

static int add_header(struct curl_slist **l, const char *name,
                      const char *value)
{
    struct floe_buf b;
    struct curl_slist *n;

    floe_buf_init(&b, FLOE_BUF_UNLIMITED);
    if (floe_buf_addf(&b, "%s: %s", name, value) != FLOE_OK)
        return FLOE_ENOMEM;
    n = curl_slist_append(*l, b.data);
    floe_buf_free(&b);
    if (n == NULL)
        return FLOE_ENOMEM;
    *l = n;
    return FLOE_OK;
}

/* Build, sign and send; on return x has the answer. */
static int attempt(struct s3_conn *c, struct s3_req *r, struct xfer *x,
                   CURLcode *out_cc)
{
    struct floe_sigv4_hdr hdrs[4 + S3_MAX_EXTRA];
    struct floe_sigv4_req sreq;
    struct floe_buf path, url, auth;
    struct curl_slist *list = NULL;
    char date[17], sha[65];
    bool has_ctype = false;
    size_t nh = 0, i;
    int rc;

    floe_buf_init(&path, FLOE_BUF_UNLIMITED);
    floe_buf_init(&url, FLOE_BUF_UNLIMITED);
    floe_buf_init(&auth, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&path, c->base_path);
    if (rc == FLOE_OK && (r->key != NULL || c->base_path[0] == '\0'))
        rc = floe_buf_addc(&path, '/');
    if (rc == FLOE_OK && r->key != NULL)
        rc = s3_uri_encode(&path, r->key, true);
    if (rc == FLOE_OK)
        rc = floe_buf_addf(&url, "%s%s%s%s", c->origin, path.data,
                           r->query ? "?" : "", r->query ? r->query : "");
    if (rc != FLOE_OK)
        goto done;

    floe_sigv4_amz_date(floe_now_ms(), date);
    floe_sigv4_sha256_hex(r->body ? r->body : "", r->len, sha);
    hdrs[nh++] = (struct floe_sigv4_hdr){ "host", c->host };
    hdrs[nh++] = (struct floe_sigv4_hdr){ "x-amz-date", date };
    hdrs[nh++] = (struct floe_sigv4_hdr){ "x-amz-content-sha256", sha };
    if (c->env.token != NULL)
        hdrs[nh++] = (struct floe_sigv4_hdr){ "x-amz-security-token",
                                              c->env.token };
    for (i = 0; i < r->nextra; i++) {
        hdrs[nh++] = r->extra[i];
        if (strcasecmp(r->extra[i].name, "content-type") == 0)
            has_ctype = true;
    }
    sreq = (struct floe_sigv4_req){ .method = r->method,
                                    .path = path.data,
                                    .query = r->query,
                                    .hdrs = hdrs,
                                    .nhdrs = nh,
                                    .payload_hex = sha };
    if (c->env.access_key != NULL)
        rc = floe_sigv4_authorization(&sreq, c->env.access_key,
                                      c->env.secret, c->env.region, "s3",
                                      date, &auth);
    for (i = 0; i < nh && rc == FLOE_OK; i++)
        rc = add_header(&list, hdrs[i].name, hdrs[i].value);
    if (rc == FLOE_OK && auth.len > 0)
        rc = add_header(&list, "Authorization", auth.data);
    /* No "Expect: 100-continue" round trip; no form content type. */
    if (rc == FLOE_OK && (list = curl_slist_append(list, "Expect:")) == NULL)
        rc = FLOE_ENOMEM;
    if (rc == FLOE_OK && !has_ctype &&
        (list = curl_slist_append(list, "Content-Type:")) == NULL)
        rc = FLOE_ENOMEM;
    if (rc != FLOE_OK)
        goto done;

    curl_easy_setopt(x->h, CURLOPT_URL, url.data);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(x->h, CURLOPT_FILETIME, 1L);
    curl_easy_setopt(x->h, CURLOPT_USERAGENT, "floe/" FLOE_VERSION);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, r->method);
        if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
            curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)r->len);
            curl_easy_setopt(x->h, CURLOPT_POSTFIELDS,
                             r->body ? (const char *)r->body : "");
        }
    }
    *out_cc = curl_easy_perform(x->h);
done:
    curl_slist_free_all(list);
    floe_buf_free(&path);
    floe_buf_free(&url);
    floe_buf_free(&auth);
    return rc;
}

/* What an answer means for the store. `code` is the S3 error code. */
static int classify(long status, const char *code)
{
    if (strcmp(code, "SlowDown") == 0 || strcmp(code, "RequestTimeout") == 0 ||
        strcmp(code, "InternalError") == 0 ||
        strcmp(code, "ServiceUnavailable") == 0 ||
        strcmp(code, "OperationAborted") == 0 ||
        strcmp(code, "ConditionalRequestConflict") == 0)
        return FLOE_EAGAIN;
    if (status == 404 && strcmp(code, "NoSuchBucket") != 0 &&
        strcmp(code, "NoSuchUpload") != 0)
        return FLOE_ENOTFOUND;
    if (status == 412)
        return FLOE_EEXIST;
    if (status == 501)
        return FLOE_ENOTSUP;
    if (status == 408 || status == 429 || status >= 500)
        return FLOE_EAGAIN;
    return FLOE_EREMOTE;
}

static void backoff(int tried)
{
    uint32_t rnd = 0;
    long cap = BACKOFF_BASE_MS << (tried < 6 ? tried : 6), ms;
    struct timespec ts;

    if (cap > BACKOFF_CAP_MS)
        cap = BACKOFF_CAP_MS;
    (void)floe_random(&rnd, sizeof(rnd));
    ms = cap / 2 + (long)(rnd % (uint32_t)(cap / 2 + 1)); /* equal jitter */
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Bytes of the answer's body received so far by `r`. */
static int64_t received(const struct s3_req *r, size_t out_start,
                        off_t fd_start)
{
    off_t at;

    if (r->out != NULL)
        return (int64_t)(r->out->len - out_start);
    if (r->out_fd < 0)
        return 0;
    at = lseek(r->out_fd, 0, SEEK_CUR);
    return at > fd_start ? (int64_t)(at - fd_start) : 0;
}

int s3_do(struct s3_conn *c, struct s3_req *r)
{
    struct xfer x = { .r = r };
    size_t out_start = r->out ? r->out->len : 0;
    off_t fd_start = r->out_fd >= 0 ? lseek(r->out_fd, 0, SEEK_CUR) : 0;
    char reason[400] = "";
    /* A GET cut short resumes where it stopped (Range), as long as the
     * object is the same one (If-Match on its ETag). */
    bool resumable = strcmp(r->method, "GET") == 0 &&
                     (r->out != NULL || r->out_fd >= 0) &&
                     r->nextra + 2 <= S3_MAX_EXTRA;
    size_t nextra0 = r->nextra;
    char etag0[sizeof(r->etag)] = "", range[48];
    int64_t have = 0;
    bool ranged;
    int rc = FLOE_OK, tries;

    if (floe_http_global_init(c->origin) != FLOE_OK)
        return FLOE_EIO;
    x.h = handle_get(c);
    if (x.h == NULL)
        return FLOE_ENOMEM;
    floe_buf_init(&x.err, ERR_BODY_MAX);
    for (tries = 1;; tries++) {
        CURLcode cc = CURLE_OK;
        struct s3_err e = { .is_error = false };
        const char *body;
        size_t blen;

        r->status = 0;
        r->etag[0] = r->code[0] = '\0';
        x.overflow = x.ioerr = 0;
        floe_buf_reset(&x.err);
        r->nextra = nextra0;
        have = resumable && etag0[0] != '\0'
                   ? received(r, out_start, fd_start) : 0;
        ranged = have > 0;
        if (ranged) {
            snprintf(range, sizeof(range), "bytes=%lld-", (long long)have);
            r->extra[r->nextra++] = (struct floe_sigv4_hdr){ "range", range };
            r->extra[r->nextra++] =
                (struct floe_sigv4_hdr){ "if-match", etag0 };
        } else {
            if (r->out != NULL)
                r->out->len = out_start;
            if (r->out_fd >= 0 &&
                (lseek(r->out_fd, fd_start, SEEK_SET) < 0 ||
                 ftruncate(r->out_fd, fd_start) != 0)) {
                rc = FLOE_EIO;
                snprintf(reason, sizeof(reason),
                         "cannot rewind the local file");
                break;
            }
        }
        rc = attempt(c, r, &x, &cc);
        r->nextra = nextra0;
        if (rc != FLOE_OK) {
            snprintf(reason, sizeof(reason), "%s", floe_strerror(rc));
            break;
        }
        if (x.overflow) {
            rc = FLOE_ETOOBIG;
            snprintf(reason, sizeof(reason), "object larger than %zu bytes",
                     r->out->max);
            break;
        }
        if (x.ioerr) {
            rc = FLOE_EIO;
            char ebuf[128];

            snprintf(reason, sizeof(reason), "writing the local file: %s",
                     strerror_r(x.ioerr, ebuf, sizeof(ebuf)));
            break;
        }
        if (resumable && !ranged) {
            long st = 0;

            curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &st);
            if (st == 200 && r->etag[0] != '\0')
                memcpy(etag0, r->etag, sizeof(etag0));
        }
        if (cc != CURLE_OK) {
            rc = FLOE_EAGAIN;
            snprintf(reason, sizeof(reason), "no answer from %s: %s",
                     c->origin, curl_easy_strerror(cc));
        } else {
            curl_off_t cl = -1, ft = -1;

            curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &r->status);
            curl_easy_getinfo(x.h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            curl_easy_getinfo(x.h, CURLINFO_FILETIME_T, &ft);
            r->size = cl;
            r->mtime_ms = ft > 0 ? (int64_t)ft * 1000 : 0;
            /* An error may come in a 200 (CopyObject, Complete...). */
            body = x.err.len > 0 ? x.err.data
                                 : (r->out && r->status / 100 == 2
                                        ? r->out->data + out_start : NULL);
            blen = x.err.len > 0 ? x.err.len
                                 : (r->out ? r->out->len - out_start : 0);
            if (body != NULL && blen > 0 && memmem(body, blen, "<Error", 6))
                (void)s3_xml_walk(body, blen, err_cb, &e);
            if (ranged && (r->status == 412 ||
                           (r->status / 100 == 2 && r->status != 206 &&
                            !e.is_error))) {
                /* The whole object again (Range ignored), or it changed
                 * (412): start over from its first byte. */
                etag0[0] = '\0';
                rc = FLOE_EAGAIN;
                snprintf(reason, sizeof(reason), "HTTP %ld to a resumed "
                         "download: starting it again", r->status);
                if (tries >= c->attempts)
                    break;
                continue;
            }
            if (r->status / 100 == 2 && !e.is_error) {
                if (ranged)
                    r->size += have; /* the whole object's length */
                rc = FLOE_OK;
                break;
            }
            snprintf(r->code, sizeof(r->code), "%s", e.code);
            rc = classify(r->status, e.code);
            if (e.code[0] != '\0')
                snprintf(reason, sizeof(reason), "HTTP %ld %s: %s",
                         r->status, e.code, e.msg);
            else
                snprintf(reason, sizeof(reason), "HTTP %ld%s", r->status,
                         strcmp(r->method, "HEAD") == 0
                             ? " (a HEAD answer has no error text)"
                             : "");
        }
        if (rc != FLOE_EAGAIN || tries >= c->attempts)
            break;
        floe_log_debug("S3 %s %s: %s; trying again", r->method, r->what,
                       reason);
        backoff(tries);
    }
    if (rc != FLOE_OK && rc != FLOE_ENOTFOUND) {
        char after[32] = "";

        if (tries > 1)
            snprintf(after, sizeof(after), " (after %d tries)", tries);
        floe_store_set_error("S3 %s %s (s3://%s/%s): %s%s", r->method,
                             r->what, c->bucket, c->prefix, reason, after);
    } else if (rc == FLOE_ENOTFOUND)
        floe_store_set_error("S3 %s %s: no such object", r->method,
                             r->what);
    floe_buf_free(&x.err);
    handle_put(c, x.h);
    return rc;
}
