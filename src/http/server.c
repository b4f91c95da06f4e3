/* server.c - HTTP server glue over libmicrohttpd (thread pool, epoll).
 * Each connection accumulates the request body into a capped floe_buf
 * (past max_body the rest is read and discarded, so memory stays bounded),
 * then the handler runs once on the pool thread and its response is queued
 * with keep-alive. Quiesce closes the listening socket for graceful stop. */
#define FLOE_LOG_MOD "http.server"

#include "http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/log.h"

struct floe_http_server {
    struct MHD_Daemon *mhd;
    floe_http_handler handler;
    void *ud;
    size_t max_body;
    size_t max_resp;
    int port;
    int quiesced;
};

/* Per-request state, lives from the first callback to NOTIFY_COMPLETED. */
struct conn_state {
    struct floe_buf body;
    bool too_big;
};

const char *floe_http_req_header(const struct floe_http_req *req,
                                 const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int floe_http_resp_header(struct floe_http_resp *resp, const char *name,
                          const char *value)
{
    int i = resp->nheaders;

    if (i >= FLOE_HTTP_MAX_HEADERS || strlen(name) >= sizeof(resp->hname[0]) ||
        strlen(value) >= sizeof(resp->hvalue[0]))
        return FLOE_ETOOBIG;
    snprintf(resp->hname[i], sizeof(resp->hname[i]), "%s", name);
    snprintf(resp->hvalue[i], sizeof(resp->hvalue[i]), "%s", value);
    resp->nheaders++;
    return FLOE_OK;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    floe_log_debug("mhd: %s", msg);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (st != NULL) {
        floe_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static enum MHD_Result send_resp(struct MHD_Connection *c,
                                 struct floe_http_resp *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = 0;
    char *data;
    int i;

    data = floe_buf_take(&resp->body, &len);
    if (data == NULL)
        return MHD_NO;
    r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type);
    for (i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->hname[i], resp->hvalue[i]);
    ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct floe_http_server *srv = cls;
    struct conn_state *st = *con_cls;
    struct floe_http_req req;
    struct floe_http_resp *resp;
    enum MHD_Result ret;

    (void)version;
    if (st == NULL) {
        const char *cl;

        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        floe_buf_init(&st->body, srv->max_body);
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            unsigned long long n = strtoull(cl, NULL, 10);

            if (n > srv->max_body)
                st->too_big = true;
            else if (n > 0 && floe_buf_reserve(&st->body, (size_t)n) != FLOE_OK)
                st->too_big = true;
        }
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!st->too_big &&
            floe_buf_add(&st->body, upload_data, *upload_data_size) != FLOE_OK) {
            st->too_big = true;
            floe_buf_free(&st->body);
            floe_buf_init(&st->body, srv->max_body);
        }
        *upload_data_size = 0; /* consumed (or discarded) */
        return MHD_YES;
    }

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.too_big = st->too_big;
    req.body = st->too_big ? NULL : (st->body.data ? st->body.data : "");
    req.body_len = st->too_big ? 0 : st->body.len;
    req.conn = c;

    resp = calloc(1, sizeof(*resp)); /* ~2 KiB: keep it off small stacks */
    if (resp == NULL)
        return MHD_NO;
    resp->status = 200;
    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             "application/octet-stream");
    floe_buf_init(&resp->body, srv->max_resp);
    srv->handler(srv->ud, &req, resp);
    ret = send_resp(c, resp);
    floe_buf_free(&resp->body);
    free(resp);
    return ret;
}

static int make_addr(const char *bind, int port, struct sockaddr_storage *ss,
                     bool *v6, char *err)
{
    struct addrinfo hints, *res = NULL;
    int gai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(bind, NULL, &hints, &res);
    if (gai != 0 || res == NULL)
        return floe_err(err, FLOE_EINVAL,
                        "--bind '%s' is not a numeric IPv4/IPv6 address (%s)",
                        bind, gai_strerror(gai));
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    if (*v6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return FLOE_OK;
}

int floe_http_server_start(const struct floe_http_server_cfg *cfg,
                           floe_http_handler handler, void *ud,
                           struct floe_http_server **out, char *err)
{
    struct floe_http_server *srv = NULL;
    struct sockaddr_storage ss;
    struct MHD_OptionItem pool[2];
    const union MHD_DaemonInfo *info;
    unsigned flags;
    bool v6 = false;
    int rc;

    *out = NULL;
    rc = make_addr(cfg->bind, cfg->port, &ss, &v6, err);
    if (rc != FLOE_OK)
        return rc;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    srv->handler = handler;
    srv->ud = ud;
    srv->max_body = cfg->max_body;
    srv->max_resp = cfg->max_resp ? cfg->max_resp : FLOE_BUF_UNLIMITED;

    flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
            MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* One thread is the internal polling thread alone: libmicrohttpd
     * warns about a pool of one, so the pool option is only given for
     * more (MHD_OPTION_ARRAY with an empty array is a no-op). */
    pool[0] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
                                       cfg->threads, NULL };
    pool[1] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    srv->mhd = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_ARRAY, cfg->threads > 1 ? &pool[0] : &pool[1],
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(cfg->timeout_s ? cfg->timeout_s : 120),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 256u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        rc = floe_err(err, FLOE_EIO,
                      "cannot listen on %s:%d (address in use or not "
                      "available?)", cfg->bind, cfg->port);
        free(srv);
        return rc;
    }
    info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : cfg->port;
    *out = srv;
    return FLOE_OK;
}

int floe_http_server_port(const struct floe_http_server *srv)
{
    return srv->port;
}

void floe_http_server_quiesce(struct floe_http_server *srv)
{
    MHD_socket fd;

    if (srv == NULL || srv->quiesced)
        return;
    srv->quiesced = 1;
    fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void floe_http_server_stop(struct floe_http_server *srv)
{
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->mhd);
    free(srv);
}
