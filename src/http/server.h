/* server.h - generic HTTP/1.1 server glue over libmicrohttpd, fit for a
 * public endpoint. A thread pool reads each request whole (body bounded
 * by max_body; a larger declared Content-Length is refused with 413
 * before any of it is read) and calls one handler with method, path, a
 * header getter and the body; the handler fills status, content type,
 * extra headers and body. Keep-alive is on. Connections are bounded
 * (past max_conns a request gets 503 and the connection is closed, and
 * past that accept closes at once), and so is the time a client may take
 * to send a request head and a body; optional TLS (GnuTLS through
 * libmicrohttpd). Used by `floe firehose` (AWS JSON API) and /metrics. */
#ifndef FLOE_HTTP_SERVER_H
#define FLOE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define FLOE_HTTP_MAX_HEADERS 8

struct floe_http_server;

/* One request; everything is borrowed for the duration of the handler. */
struct floe_http_req {
    const char *method;   /* "POST" */
    const char *path;     /* "/" (no query string) */
    const char *body;     /* NUL-terminated; NULL when too_big */
    size_t body_len;
    bool too_big;         /* body passed max_body and was discarded */
    void *conn;           /* internal: for floe_http_req_header() */
};

/* What the handler answers. status defaults to 200, content_type to
 * "application/octet-stream"; body is owned by the server (capped at
 * max_resp bytes). Header names/values are copied. */
struct floe_http_resp {
    int status;
    char content_type[96];
    struct floe_buf body;
    int nheaders;
    char hname[FLOE_HTTP_MAX_HEADERS][64];
    char hvalue[FLOE_HTTP_MAX_HEADERS][192];
};

/* Called on a pool thread; must be thread-safe. */
typedef void (*floe_http_handler)(void *ud, const struct floe_http_req *req,
                                  struct floe_http_resp *resp);

struct floe_metrics;

struct floe_http_server_cfg {
    const char *bind;     /* "127.0.0.1" (IPv4 or IPv6 literal) */
    int port;             /* 0 picks a free port */
    int threads;          /* pool size; 1 = the polling thread alone */
    size_t max_body;      /* larger bodies are refused (413), too_big set
                             for a chunked one read past it */
    size_t max_resp;      /* cap for resp->body */
    unsigned timeout_s;   /* idle: no byte either way for this long closes
                             the connection (0: 30) */
    unsigned max_conns;   /* open connections served (0: 1024); a few more
                             are accepted to be answered 503; lowered to
                             fit the open-file limit (raised to its hard
                             limit here) with a warning */
    unsigned header_ms;   /* a request head must be whole within this of
                             the connection opening or the previous
                             response (so also the keep-alive idle
                             limit); 0: 10000 */
    unsigned body_ms;     /* the body must be whole within this of its
                             head (0: 60000) */
    const char *tls_cert; /* PEM text of the certificate (chain) and key:
                             both set for HTTPS; copied */
    const char *tls_key;
    struct floe_metrics *metrics; /* NULL, or where the connection counters
                                     go (floe_http_connections_*) */
};

/* Value of request header `name` (case-insensitive) or NULL; borrowed. */
const char *floe_http_req_header(const struct floe_http_req *req,
                                 const char *name);
/* Add a response header; FLOE_ETOOBIG when full or too long. */
int floe_http_resp_header(struct floe_http_resp *resp, const char *name,
                          const char *value);

/* Listen and serve (HTTPS when cfg->tls_cert is set). On FLOE_OK *out is owned by the caller
 * (floe_http_server_stop). `ud` is borrowed and must outlive the server.
 * On error err says why (address in use, bad bind address...). */
int floe_http_server_start(const struct floe_http_server_cfg *cfg,
                           floe_http_handler handler, void *ud,
                           struct floe_http_server **out, char *err);
/* The port actually bound (useful with port 0). */
int floe_http_server_port(const struct floe_http_server *srv);
/* Stop accepting new connections; requests in flight finish. */
void floe_http_server_quiesce(struct floe_http_server *srv);
/* Close everything, wait for handlers to return, free. NULL is a no-op. */
void floe_http_server_stop(struct floe_http_server *srv);

#endif
