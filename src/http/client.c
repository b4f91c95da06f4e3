/* client.c - blocking HTTP client on a reused libcurl easy handle.
 * The handle keeps its connection cache, so consecutive requests to one
 * endpoint reuse the TCP (and TLS) connection. The body is written into a
 * capped floe_buf; a body over the cap aborts the transfer. */
#define FLOE_LOG_MOD "http.client"
#include "http/client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/log.h"

struct floe_http_client {
    CURL *curl;
    struct floe_buf *sink; /* current response body, borrowed */
    int overflow;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct floe_http_client *c = arg;
    size_t n = size * nmemb;

    if (floe_buf_add(c->sink, p, n) != FLOE_OK) {
        c->overflow = 1;
        return 0; /* aborts the transfer */
    }
    return n;
}

int floe_http_client_create(const struct floe_http_client_opts *opts,
                            struct floe_http_client **out)
{
    struct floe_http_client *c = NULL;
    long connect_ms = 10000, total_ms = 60000;
    int rc = FLOE_OK;

    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return FLOE_EIO;
    if (opts != NULL && opts->connect_timeout_ms > 0)
        connect_ms = opts->connect_timeout_ms;
    if (opts != NULL && opts->timeout_ms > 0)
        total_ms = opts->timeout_ms;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return FLOE_ENOMEM;
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT,
                     opts && opts->user_agent ? opts->user_agent
                                              : "floe/" FLOE_VERSION);
    *out = c;
    c = NULL;
cleanup:
    floe_http_client_destroy(c);
    return rc;
}

void floe_http_client_destroy(struct floe_http_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c);
}

int floe_http_client_post(struct floe_http_client *c, const char *url,
                          const char *const *headers, size_t nheaders,
                          const void *body, size_t len, long *out_status,
                          struct floe_buf *out_body, char *err)
{
    struct curl_slist *list = NULL, *tmp;
    CURLcode cc;
    size_t i;
    int rc = FLOE_OK;

    *out_status = 0;
    floe_buf_reset(out_body);
    for (i = 0; i < nheaders; i++) {
        tmp = curl_slist_append(list, headers[i]);
        if (tmp == NULL) {
            rc = floe_err(err, FLOE_ENOMEM, "out of memory");
            goto cleanup;
        }
        list = tmp;
    }
    /* No "Expect: 100-continue" round trip for big bodies. */
    tmp = curl_slist_append(list, "Expect:");
    if (tmp == NULL) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto cleanup;
    }
    list = tmp;
    c->sink = out_body;
    c->overflow = 0;
    c->errbuf[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, list);
    cc = curl_easy_perform(c->curl);
    if (c->overflow) {
        rc = floe_err(err, FLOE_ETOOBIG,
                      "POST %s: response body over %zu bytes", url,
                      out_body->max);
    } else if (cc != CURLE_OK) {
        rc = floe_err(err, FLOE_EIO, "POST %s: %s", url,
                      c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, out_status);
    }
    /* The list is freed below: do not leave a dangling pointer behind. */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    c->sink = NULL;
cleanup:
    curl_slist_free_all(list);
    return rc;
}
