/* send.c - Firehose PutRecordBatch client (send.h). Body and response
 * buffers live in the sender and are reused, so a send allocates only
 * inside libcurl and the JSON response parser. */
#define FLOE_LOG_MOD "agent.send"
#include "agent/send.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "core/log.h"
#include "core/util.h"
#include "http/client.h"

struct floe_sender {
    struct floe_http_client *http;
    char *url;
    char *host;       /* authority as sent in Host */
    char *region;
    char *access_key, *secret_key, *token;
    struct floe_buf body;
    struct floe_buf resp;
    struct floe_buf auth;
    int warned_unsigned;
};

void floe_sender_destroy(struct floe_sender *s)
{
    if (s == NULL)
        return;
    floe_http_client_destroy(s->http);
    free(s->url);
    free(s->host);
    free(s->region);
    free(s->access_key);
    if (s->secret_key != NULL)
        memset(s->secret_key, 0, strlen(s->secret_key));
    free(s->secret_key);
    free(s->token);
    floe_buf_free(&s->body);
    floe_buf_free(&s->resp);
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
    floe_buf_init(&s->body, 8 * 1024 * 1024);
    floe_buf_init(&s->resp, 4 * 1024 * 1024);
    floe_buf_init(&s->auth, 4096);
    floe_buf_init(&url, 4096);
    if (ep == NULL || ep[0] == '\0') {
        rc = floe_buf_addf(&url, "https://firehose.%s.amazonaws.com/",
                           o->region ? o->region : "us-east-1");
    } else if (strncmp(ep, "http://", 7) == 0 ||
               strncmp(ep, "https://", 8) == 0) {
        rc = floe_buf_adds(&url, ep);
        if (rc == FLOE_OK && strchr(strstr(ep, "//") + 2, '/') == NULL)
            rc = floe_buf_addc(&url, '/');
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
    if (rc == FLOE_OK)
        rc = floe_http_client_create(NULL, &s->http);
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

#define TARGET "Firehose_20150804.PutRecordBatch"
#define CTYPE "application/x-amz-json-1.1"

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

int floe_sender_put(struct floe_sender *s, const char *stream,
                    struct floe_batch *b, size_t *out_acked, char *err)
{
    char date[17], hdate[32], hhost[512], htok[4096];
    const char *hdrs[8];
    size_t nh = 0, pending = floe_batch_pending(b);
    long status = 0;
    int rc;

    *out_acked = 0;
    rc = floe_batch_body(b, stream, &s->body);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot build the request body (%s)",
                        floe_strerror(rc));
    floe_sigv4_amz_date(floe_now_ms(), date);
    snprintf(hdate, sizeof(hdate), "X-Amz-Date: %s", date);
    snprintf(hhost, sizeof(hhost), "Host: %s", s->host);
    hdrs[nh++] = "Content-Type: " CTYPE;
    hdrs[nh++] = "X-Amz-Target: " TARGET;
    hdrs[nh++] = hdate;
    hdrs[nh++] = hhost;
    if (s->access_key != NULL) {
        struct floe_sigv4_hdr sh[5] = {
            { "content-type", CTYPE },
            { "host", s->host },
            { "x-amz-date", date },
            { "x-amz-target", TARGET },
            { "x-amz-security-token", s->token },
        };
        struct floe_sigv4_req req = { "POST", "/", NULL, sh,
                                      s->token ? 5 : 4, s->body.data,
                                      s->body.len };

        floe_buf_reset(&s->auth);
        rc = floe_buf_adds(&s->auth, "Authorization: ");
        if (rc == FLOE_OK)
            rc = floe_sigv4_authorization(&req, s->access_key, s->secret_key,
                                          s->region, "firehose", date,
                                          &s->auth);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "cannot sign the request");
        hdrs[nh++] = s->auth.data;
        if (s->token != NULL) {
            snprintf(htok, sizeof(htok), "X-Amz-Security-Token: %s",
                     s->token);
            hdrs[nh++] = htok;
        }
    } else if (!s->warned_unsigned) {
        s->warned_unsigned = 1;
        floe_log_warn("no AWS credentials (agent.json awsAccessKeyId/"
                      "awsSecretAccessKey or AWS_ACCESS_KEY_ID/"
                      "AWS_SECRET_ACCESS_KEY): sending unsigned requests");
    }
    rc = floe_http_client_post(s->http, s->url, hdrs, nh, s->body.data,
                               s->body.len, &status, &s->resp, err);
    if (rc != FLOE_OK)
        return rc == FLOE_ETOOBIG ? FLOE_EREMOTE : FLOE_EIO;
    if (status != 200) {
        error_text(&s->resp, status, err);
        return FLOE_EREMOTE;
    }
    rc = floe_batch_apply_response(b, s->resp.data ? s->resp.data : "",
                                   s->resp.len, out_acked, err);
    if (rc != FLOE_OK)
        return FLOE_EREMOTE;
    if (*out_acked < pending)
        return FLOE_EAGAIN;
    return FLOE_OK;
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
