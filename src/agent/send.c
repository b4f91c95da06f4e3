/* send.c - Firehose PutRecordBatch client on a libcurl multi handle
 * (send.h). Each request slot keeps its easy handle (and so its buffers)
 * for reuse; connections stay in the multi handle's cache. Bodies are
 * streamed from the batch through the read callback; when signing, the
 * body's SHA-256 is computed by streaming it once through a 64 KiB
 * scratch buffer first. HTTP/1.1 throughout: one connection per request
 * in flight, like the Kinesis Agent's sender threads. */
#define FLOE_LOG_MOD "agent.send"
#include "agent/send.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "aws/sigv4.h"
#include "core/log.h"
#include "core/util.h"
#include "http/client.h"

#define RESP_MAX (4u * 1024 * 1024)
#define SCRATCH (64u * 1024)
#define TARGET "Firehose_20150804.PutRecordBatch"
#define CTYPE "application/x-amz-json-1.1"

struct floe_put {                /* one request slot */
    struct floe_sender *s;
    CURL *easy;
    struct curl_slist *hdrs;     /* owned while busy */
    struct floe_batch_body body;
    struct floe_buf resp;
    struct floe_batch *batch;    /* borrowed while busy */
    void *ctx;
    size_t pending, pending_bytes;
    int64_t started_ms;
    double t0;                   /* monotonic seconds, for the round trip */
    bool overflow;
    char errbuf[CURL_ERROR_SIZE];
    struct floe_put *next_free;
};

struct floe_sender {
    CURLM *multi;
    char *url;
    char *host;       /* authority as sent in Host */
    char *region;
    char *access_key, *secret_key, *token;
    char *ca_file;
    long timeout_ms;
    struct floe_put **puts;      /* owned, every slot ever made */
    size_t nputs;
    struct floe_put *free_puts;
    size_t in_flight;
    char *scratch;               /* SCRATCH bytes, for hashing bodies */
    struct floe_buf auth;
    int warned_unsigned;
};

static void put_destroy(struct floe_put *p)
{
    if (p == NULL)
        return;
    if (p->easy != NULL)
        curl_easy_cleanup(p->easy);
    curl_slist_free_all(p->hdrs);
    floe_buf_free(&p->resp);
    free(p);
}

void floe_sender_destroy(struct floe_sender *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nputs; i++) {
        if (s->puts[i]->batch != NULL && s->multi != NULL)
            curl_multi_remove_handle(s->multi, s->puts[i]->easy);
        put_destroy(s->puts[i]);
    }
    free(s->puts);
    if (s->multi != NULL)
        curl_multi_cleanup(s->multi);
    free(s->url);
    free(s->host);
    free(s->region);
    free(s->access_key);
    if (s->secret_key != NULL)
        memset(s->secret_key, 0, strlen(s->secret_key));
    free(s->secret_key);
    free(s->token);
    free(s->ca_file);
    free(s->scratch);
    floe_buf_free(&s->auth);
    free(s);
}

static char *dup_or_null(const char *s, int *rc)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *rc = FLOE_ENOMEM;
    return d;
}

/* "firehose.<region>.amazonaws.com" -> region. */
static char *region_from_host(const char *host)
{
    const char *p = strstr(host, "firehose.");
    const char *e;

    if (p != host)
        return NULL;
    p += 9;
    e = strchr(p, '.');
    if (e == NULL || strncmp(e, ".amazonaws.com", 14) != 0)
        return NULL;
    return strndup(p, (size_t)(e - p));
}

/* A bare number is a port someone meant to put after a host. */
static bool all_digits(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

int floe_sender_create(const struct floe_sender_opts *o,
                       struct floe_sender **out, char *err)
{
    struct floe_sender *s;
    struct floe_buf url;
    const char *ep = o->endpoint, *hstart, *hend;
    int rc = FLOE_OK;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return FLOE_ENOMEM;
    floe_buf_init(&s->auth, 4096);
    s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
    floe_buf_init(&url, 4096);
    if (ep == NULL || ep[0] == '\0') {
        rc = floe_buf_addf(&url, "https://firehose.%s.amazonaws.com/",
                           o->region ? o->region : "us-east-1");
    } else if (strncmp(ep, "http://", 7) == 0 ||
               strncmp(ep, "https://", 8) == 0) {
        rc = floe_buf_adds(&url, ep);
        if (rc == FLOE_OK && strchr(strstr(ep, "//") + 2, '/') == NULL)
            rc = floe_buf_addc(&url, '/');
    } else if (all_digits(ep)) {
        rc = floe_err(err, FLOE_EINVAL, "firehose endpoint '%s' is a bare "
                      "number: give host:port or http://host:port (e.g. "
                      "http://127.0.0.1:%s)", ep, ep);
    } else if (strstr(ep, "://") != NULL) {
        rc = floe_err(err, FLOE_EINVAL, "firehose endpoint '%s': use "
                      "http:// or https://", ep);
    } else {
        rc = floe_buf_addf(&url, "https://%s%s", ep,
                           strchr(ep, '/') ? "" : "/");
    }
    if (rc != FLOE_OK)
        goto cleanup;
    s->url = floe_buf_take(&url, NULL);
    if (s->url == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    hstart = strstr(s->url, "//") + 2;
    hend = strchr(hstart, '/');
    s->host = strndup(hstart, (size_t)(hend - hstart));
    if (s->host == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    if (o->region != NULL && o->region[0] != '\0')
        s->region = strdup(o->region);
    else if ((s->region = region_from_host(s->host)) == NULL)
        s->region = strdup("us-east-1");
    if (s->region == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    s->ca_file = dup_or_null(o->ca_file, &rc);
    if (rc != FLOE_OK)
        goto cleanup;
    if (s->ca_file != NULL && access(s->ca_file, R_OK) != 0) {
        rc = floe_err(err, FLOE_EINVAL, "CA file '%s' cannot be read: %s",
                      s->ca_file, strerror(errno));
        goto cleanup;
    }
    if (o->access_key != NULL && o->secret_key != NULL) {
        s->access_key = dup_or_null(o->access_key, &rc);
        s->secret_key = dup_or_null(o->secret_key, &rc);
        s->token = dup_or_null(o->session_token, &rc);
        if (rc != FLOE_OK)
            goto cleanup;
    }
    /* Before any SigV4 use of OpenSSL: a plain http endpoint gets the
     * lean OpenSSL init (client.h). */
    rc = floe_http_global_init(s->url);
    if (rc == FLOE_OK) {
        s->multi = curl_multi_init();
        if (s->multi != NULL && o->max_connections > 0)
            curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                              o->max_connections);
        s->scratch = malloc(SCRATCH);
        if (s->multi == NULL || s->scratch == NULL)
            rc = FLOE_ENOMEM;
    }
    if (rc != FLOE_OK) {
        floe_err(err, rc, "cannot set up the HTTP client");
        goto cleanup;
    }
    *out = s;
    s = NULL;
cleanup:
    floe_buf_free(&url);
    floe_sender_destroy(s);
    return rc;
}

const char *floe_sender_url(const struct floe_sender *s)
{
    return s->url;
}

const char *floe_sender_region(const struct floe_sender *s)
{
    return s->region;
}

size_t floe_sender_in_flight(const struct floe_sender *s)
{
    return s->in_flight;
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct floe_put *p = arg;
    size_t n = size * nmemb;

    if (floe_buf_add(&p->resp, data, n) != FLOE_OK) {
        p->overflow = true;
        return 0; /* aborts the transfer */
    }
    return n;
}

static size_t on_read(char *dst, size_t size, size_t nmemb, void *arg)
{
    struct floe_put *p = arg;

    return floe_batch_body_read(&p->body, dst, size * nmemb);
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
    struct floe_put *p = arg;

    if (offset != 0 || origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    floe_batch_body_rewind(&p->body); /* a resend on a fresh connection */
    return CURL_SEEKFUNC_OK;
}

/* A free request slot (made on first need, its easy handle kept). */
static struct floe_put *put_get(struct floe_sender *s)
{
    struct floe_put *p = s->free_puts, **grown;

    if (p != NULL) {
        s->free_puts = p->next_free;
        return p;
    }
    grown = realloc(s->puts, (s->nputs + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    s->puts = grown;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->s = s;
    floe_buf_init(&p->resp, RESP_MAX);
    p->easy = curl_easy_init();
    if (p->easy == NULL) {
        put_destroy(p);
        return NULL;
    }
    curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
    curl_easy_setopt(p->easy, CURLOPT_URL, s->url);
    curl_easy_setopt(p->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(p->easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(p->easy, CURLOPT_READDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(p->easy, CURLOPT_SEEKDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(p->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(p->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
    curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "floe/" FLOE_VERSION);
    /* libcurl verifies peer and host name by default; say so anyway */
    curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_file != NULL)
        curl_easy_setopt(p->easy, CURLOPT_CAINFO, s->ca_file);
    /* Small per-request buffers: answers are short, and a body goes out in
     * 16 KiB pieces (libcurl's least) straight from the encoder. */
    curl_easy_setopt(p->easy, CURLOPT_BUFFERSIZE, 4096L);
    curl_easy_setopt(p->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    s->puts[s->nputs++] = p;
    return p;
}

static void put_release(struct floe_sender *s, struct floe_put *p)
{
    curl_slist_free_all(p->hdrs);
    p->hdrs = NULL;
    p->batch = NULL;
    p->ctx = NULL;
    floe_buf_reset(&p->resp);
    if (p->resp.cap > 64 * 1024)
        floe_buf_free(&p->resp); /* an unusually long answer */
    p->next_free = s->free_puts;
    s->free_puts = p;
}

/* Hex SHA-256 of the body, streamed once through the scratch buffer. */
static int body_sha256(struct floe_sender *s, struct floe_put *p,
                       char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0, i;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n;
    int ok;

    if (ctx == NULL)
        return FLOE_ENOMEM;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    floe_batch_body_rewind(&p->body);
    while (ok && (n = floe_batch_body_read(&p->body, s->scratch, SCRATCH)))
        ok = EVP_DigestUpdate(ctx, s->scratch, n) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    floe_batch_body_rewind(&p->body);
    if (!ok)
        return FLOE_EIO;
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return FLOE_OK;
}

static int add_hdr(struct curl_slist **list, const char *h)
{
    struct curl_slist *t = curl_slist_append(*list, h);

    if (t == NULL)
        return FLOE_ENOMEM;
    *list = t;
    return FLOE_OK;
}

/* The request's headers (signed when credentials exist). */
static int build_headers(struct floe_sender *s, struct floe_put *p,
                         char *err)
{
    char date[17], line[600], payload[65];
    int rc;

    floe_sigv4_amz_date(floe_now_ms(), date);
    rc = add_hdr(&p->hdrs, "Content-Type: " CTYPE);
    if (rc == FLOE_OK)
        rc = add_hdr(&p->hdrs, "X-Amz-Target: " TARGET);
    snprintf(line, sizeof(line), "X-Amz-Date: %s", date);
    if (rc == FLOE_OK)
        rc = add_hdr(&p->hdrs, line);
    snprintf(line, sizeof(line), "Host: %s", s->host);
    if (rc == FLOE_OK)
        rc = add_hdr(&p->hdrs, line);
    /* No "Expect: 100-continue" round trip for big bodies. */
    if (rc == FLOE_OK)
        rc = add_hdr(&p->hdrs, "Expect:");
    if (rc != FLOE_OK)
        return floe_err(err, rc, "out of memory");
    if (s->access_key != NULL) {
        struct floe_sigv4_hdr sh[5] = {
            { "content-type", CTYPE },
            { "host", s->host },
            { "x-amz-date", date },
            { "x-amz-target", TARGET },
            { "x-amz-security-token", s->token },
        };
        struct floe_sigv4_req req = { "POST", "/", NULL, sh,
                                      s->token ? 5 : 4, NULL, 0, payload };

        rc = body_sha256(s, p, payload);
        floe_buf_reset(&s->auth);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&s->auth, "Authorization: ");
        if (rc == FLOE_OK)
            rc = floe_sigv4_authorization(&req, s->access_key, s->secret_key,
                                          s->region, "firehose", date,
                                          &s->auth);
        if (rc == FLOE_OK)
            rc = add_hdr(&p->hdrs, s->auth.data);
        if (rc == FLOE_OK && s->token != NULL) {
            floe_buf_reset(&s->auth);
            rc = floe_buf_addf(&s->auth, "X-Amz-Security-Token: %s",
                               s->token);
            if (rc == FLOE_OK)
                rc = add_hdr(&p->hdrs, s->auth.data);
        }
        if (rc != FLOE_OK)
            return floe_err(err, rc, "cannot sign the request");
    } else if (!s->warned_unsigned) {
        s->warned_unsigned = 1;
        floe_log_warn("no AWS credentials (agent.json awsAccessKeyId/"
                      "awsSecretAccessKey or AWS_ACCESS_KEY_ID/"
                      "AWS_SECRET_ACCESS_KEY): sending unsigned requests");
    }
    return FLOE_OK;
}

int floe_sender_start(struct floe_sender *s, const char *stream,
                      struct floe_batch *b, void *ctx, char *err)
{
    struct floe_put *p = put_get(s);
    int rc;

    if (p == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    rc = floe_batch_body_start(&p->body, b, stream);
    if (rc != FLOE_OK) {
        put_release(s, p);
        return floe_err(err, rc, "cannot build the request body (%s)",
                        floe_strerror(rc));
    }
    rc = build_headers(s, p, err);
    if (rc != FLOE_OK) {
        put_release(s, p);
        return rc;
    }
    curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->hdrs);
    curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)p->body.len);
    p->batch = b;
    p->ctx = ctx;
    p->pending = floe_batch_pending(b);
    p->pending_bytes = floe_batch_pending_bytes(b);
    p->started_ms = floe_mono_ms();
    p->t0 = mono_s();
    p->overflow = false;
    p->errbuf[0] = '\0';
    if (curl_multi_add_handle(s->multi, p->easy) != CURLM_OK) {
        put_release(s, p);
        return floe_err(err, FLOE_EIO, "cannot start the request");
    }
    s->in_flight++;
    return FLOE_OK;
}

/* Does an error answer mean "slow down"? */
static bool throttling(long status, const struct floe_buf *resp)
{
    const char *d = resp->data ? resp->data : "";

    return status >= 500 || status == 429 ||
           strstr(d, "ServiceUnavailableException") != NULL ||
           strstr(d, "ThrottlingException") != NULL ||
           strstr(d, "LimitExceededException") != NULL;
}

/* Error name from a JSON 1.1 error body: {"__type":"...","message":...}. */
static void error_text(const struct floe_buf *resp, long status, char *err)
{
    const char *t = resp->data ? strstr(resp->data, "\"__type\"") : NULL;

    if (t != NULL)
        floe_err(err, FLOE_EREMOTE, "HTTP %ld: %.300s", status, t);
    else
        floe_err(err, FLOE_EREMOTE, "HTTP %ld: %.200s", status,
                 resp->data ? resp->data : "");
}

/* Turn a finished transfer into its result; marks acknowledged records. */
static void finish(struct floe_sender *s, struct floe_put *p, CURLcode cc,
                   struct floe_put_result *r)
{
    struct floe_batch *b = p->batch;
    int rc;

    memset(r, 0, sizeof(*r));
    r->ctx = p->ctx;
    r->batch = b;
    r->pending = p->pending;
    r->started_ms = p->started_ms;
    r->secs = mono_s() - p->t0;
    if (p->overflow) {
        r->rc = floe_err(r->err, FLOE_EREMOTE, "response body over %u "
                         "bytes", RESP_MAX);
        return;
    }
    if (cc != CURLE_OK) {
        r->rc = floe_err(r->err, FLOE_EIO, "POST %s: %s", s->url,
                         p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc));
        r->throttled = true;
        return;
    }
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status == 413) {
        r->rc = floe_err(r->err, FLOE_ETOOBIG, "HTTP 413: a request of %zu "
                         "bytes is too large for %s", p->body.len, s->url);
        return;
    }
    if (r->status != 200) {
        error_text(&p->resp, r->status, r->err);
        r->rc = FLOE_EREMOTE;
        r->throttled = throttling(r->status, &p->resp);
        return;
    }
    rc = floe_batch_apply_response(b, p->resp.data ? p->resp.data : "",
                                   p->resp.len, &r->acked, r->err);
    r->acked_bytes = p->pending_bytes - floe_batch_pending_bytes(b);
    if (rc != FLOE_OK)
        r->rc = FLOE_EREMOTE;
    else if (r->acked < p->pending)
        r->rc = FLOE_EAGAIN;
    r->throttled = r->rc == FLOE_EAGAIN;
}

void floe_sender_perform(struct floe_sender *s, floe_sender_done_fn fn,
                         void *arg)
{
    struct floe_put_result r;
    CURLMsg *msg;
    int running, left;

    curl_multi_perform(s->multi, &running);
    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        struct floe_put *p = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
        finish(s, p, msg->data.result, &r);
        curl_multi_remove_handle(s->multi, p->easy);
        s->in_flight--;
        put_release(s, p);
        fn(arg, &r);
    }
}

void floe_sender_wait(struct floe_sender *s, int fd, int timeout_ms,
                      bool *out_fd_ready)
{
    struct curl_waitfd w = { fd, CURL_WAIT_POLLIN, 0 };
    int n = 0;

    *out_fd_ready = false;
    if (timeout_ms < 0)
        timeout_ms = 0;
    curl_multi_poll(s->multi, fd >= 0 ? &w : NULL, fd >= 0 ? 1 : 0,
                    timeout_ms, &n);
    *out_fd_ready = fd >= 0 && (w.revents & CURL_WAIT_POLLIN) != 0;
}

int64_t floe_send_backoff_ms(double failures, int64_t initial_ms,
                             int64_t max_ms)
{
    double d = (double)initial_ms * pow(2.0, failures), j;
    uint32_t r = 0;

    if (d > (double)max_ms || !isfinite(d))
        d = (double)max_ms;
    floe_random(&r, sizeof(r));
    j = ((double)r / 4294967295.0) * 0.6 - 0.3; /* -30 % .. +30 % */
    d *= 1.0 + j;
    return d < 1 ? 1 : (int64_t)d;
}
