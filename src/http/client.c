/* client.c - blocking HTTP client on a reused libcurl easy handle.
 * The handle keeps its connection cache, so consecutive requests to one
 * endpoint reuse the TCP (and TLS) connection. The body is written into a
 * capped floe_buf; a body over the cap aborts the transfer.
 * libcurl's global init initialises OpenSSL whatever the flags; for a
 * process whose first URL is plain http it is preceded by a lean OpenSSL
 * init (no config file, error texts or legacy name tables: ~1.3 MiB less
 * resident), so the handle is made on the first request, once the URL is
 * known. An https URL gets OpenSSL's full default initialisation. */
#define FLOE_LOG_MOD "http.client"
#include "http/client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "core/log.h"

struct floe_http_client {
    CURL *curl; /* NULL until the first request */
    long connect_ms, total_ms;
    char *user_agent;
    struct floe_buf *sink; /* current response body, borrowed */
    int overflow;
    char errbuf[CURL_ERROR_SIZE];
};

/* What OpenSSL skips when no https URL came first: the config file, the
 * error strings and the legacy cipher/digest name tables (TLS and EVP
 * fetch their algorithms from providers without them). */
#define LEAN_OPENSSL_INIT                                                      \
    (OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |      \
     OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS)

static pthread_mutex_t global_mu = PTHREAD_MUTEX_INITIALIZER;
static bool global_done, global_lean, global_warned;
static CURLcode global_rc;

static bool is_https(const char *url)
{
    return url != NULL && strncasecmp(url, "https:", 6) == 0;
}

int floe_http_global_init(const char *url)
{
    bool tls = is_https(url);

    pthread_mutex_lock(&global_mu);
    if (!global_done) {
        /* OpenSSL runs each init step once: a step declined here stays
         * declined when libcurl asks for it below. */
        if (!tls && OPENSSL_init_crypto(LEAN_OPENSSL_INIT, NULL) == 1)
            global_lean = true;
        global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
        floe_log_debug("libcurl initialised (%s OpenSSL init)",
                       global_lean ? "lean" : "full");
    } else if (tls && global_lean && !global_warned) {
        global_warned = true;
        floe_log_info("%s: TLS works, but without OpenSSL's config file and "
                      "error texts: this process first used plain http", url);
    }
    pthread_mutex_unlock(&global_mu);
    return global_rc == CURLE_OK ? FLOE_OK : FLOE_EIO;
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
    struct floe_http_client *c;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return FLOE_ENOMEM;
    c->connect_ms = 10000;
    c->total_ms = 60000;
    if (opts != NULL && opts->connect_timeout_ms > 0)
        c->connect_ms = opts->connect_timeout_ms;
    if (opts != NULL && opts->timeout_ms > 0)
        c->total_ms = opts->timeout_ms;
    c->user_agent = strdup(opts && opts->user_agent ? opts->user_agent
                                                    : "floe/" FLOE_VERSION);
    if (c->user_agent == NULL) {
        free(c);
        return FLOE_ENOMEM;
    }
    *out = c;
    return FLOE_OK;
}

/* The easy handle, made on the first request (after the global init that
 * `url` decides). */
static int ensure_handle(struct floe_http_client *c, const char *url,
                         char *err)
{
    if (c->curl != NULL)
        return FLOE_OK;
    if (floe_http_global_init(url) != FLOE_OK)
        return floe_err(err, FLOE_EIO, "cannot initialise libcurl");
    c->curl = curl_easy_init();
    if (c->curl == NULL)
        return floe_err(err, FLOE_ENOMEM, "cannot create a libcurl handle");
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->total_ms);
    curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, c->user_agent);
    return FLOE_OK;
}

void floe_http_client_destroy(struct floe_http_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c->user_agent);
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
    rc = ensure_handle(c, url, err);
    if (rc != FLOE_OK)
        return rc;
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
