/* server.c - HTTP server glue over libmicrohttpd (thread pool, epoll).
 * Each connection accumulates the request body into a capped floe_buf,
 * then the handler runs once on the pool thread and its response is queued
 * with keep-alive. A body declared larger than max_body is answered 413
 * at once, unread (libmicrohttpd then closes the connection); a chunked
 * one past it is read and discarded (memory stays bounded).
 * The listening socket is ours: a "door" thread accepts and hands each
 * connection to libmicrohttpd (MHD_add_connection), or closes it at once
 * when even the 503 allowance is used up, so a flood never leaves clients
 * waiting in the backlog. Connections past max_conns are answered 503 on
 * their first request and closed. The same thread enforces the head and
 * body deadlines (libmicrohttpd's own timeout is an idle one, which a
 * client dribbling a byte now and then never trips): a connection past
 * its deadline is shut down, which libmicrohttpd sees as closed. Quiesce
 * stops the door for a graceful stop.
 *
 * Counting. A handed-over connection waits in its worker's queue until
 * that worker starts it (NOTIFY_CONNECTION STARTED); libmicrohttpd counts
 * it only then, and a worker that finds its share of the limit used up
 * when it starts a queued connection closes it, but 0.9.75 (Debian 12;
 * fixed in 1.0.0) leaves its cleanup lock held on that path: the worker
 * hangs for good with every connection it holds. So the door counts a
 * connection from the moment it hands it over ("pending" until started),
 * admits at most max_conns + slack, and every worker's share of
 * libmicrohttpd's limit is that whole bound: no worker can reach it,
 * however the connections fall between workers. */
#define FLOE_LOG_MOD "http.server"

#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/log.h"
#include "core/util.h"
#include "metrics/metrics.h"

/* How often the door looks at deadlines. */
#define DOOR_TICK_MS 100
/* Descriptors kept for everything but connections (WAL, store, stdio,
 * epoll and wake-up fds of the pool, the listening socket). */
#define FD_RESERVE 128

/* One connection handed over: pending until its worker starts it, then
 * libmicrohttpd's socket context until it closes. */
struct track {
    struct track *prev, *next;
    int fd;
    bool over;                /* past max_conns when it came: answered 503 */
    _Atomic int64_t deadline; /* monotonic ms; 0: none (handler busy) */
};

/* A doubly linked list of tracks and its length. */
struct track_list {
    struct track *head;
    unsigned n;
};

struct floe_http_server {
    struct MHD_Daemon *mhd;
    floe_http_handler handler;
    void *ud;
    size_t max_body;
    size_t max_resp;
    int port;
    int lfd;                  /* listening socket, -1 once closed */
    int wake_fd;              /* eventfd: stop the door */
    pthread_t door;
    bool door_running;
    unsigned max_conns;       /* served */
    unsigned slack;           /* more accepted, only to be answered 503 */
    int64_t header_ms, body_ms;
    pthread_mutex_t lock;     /* conns, pending */
    struct track_list conns;  /* started */
    struct track_list pending; /* handed over, not yet started */
    char *tls_cert, *tls_key; /* owned copies (PEM) */
    struct floe_counter *refused, *dropped, *timed_out;
    struct floe_gauge *open;
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

static struct track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

static void set_deadline(struct MHD_Connection *c, int64_t ms_from_now)
{
    struct track *t = track_of(c);

    if (t != NULL)
        atomic_store(&t->deadline,
                     ms_from_now > 0 ? floe_mono_ms() + ms_from_now : 0);
}

static void list_push(struct track_list *l, struct track *t)
{
    t->prev = NULL;
    t->next = l->head;
    if (l->head != NULL)
        l->head->prev = t;
    l->head = t;
    l->n++;
}

static void list_unlink(struct track_list *l, struct track *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    l->n--;
}

static void list_free(struct track_list *l)
{
    struct track *t, *next;

    for (t = l->head; t != NULL; t = next) {
        next = t->next;
        free(t);
    }
    l->head = NULL;
    l->n = 0;
}

/* The pending track the door made for `fd`, unlinked; NULL when there is
 * none (its entry expired). The newest first: an older one for the same
 * number is stale (see door_sweep). Under srv->lock. */
static struct track *take_pending(struct floe_http_server *srv, int fd)
{
    struct track *t;

    for (t = srv->pending.head; t != NULL; t = t->next)
        if (t->fd == fd) {
            list_unlink(&srv->pending, t);
            return t;
        }
    return NULL;
}

/* A connection starts or closes (on its pool thread). Closing comes before
 * libmicrohttpd closes the descriptor, so under srv->lock a tracked fd is
 * still this connection's. */
static void on_conn(void *cls, struct MHD_Connection *c, void **socket_ctx,
                    enum MHD_ConnectionNotificationCode code)
{
    struct floe_http_server *srv = cls;
    struct track *t = *socket_ctx;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        int fd = ci != NULL ? ci->connect_fd : -1;

        pthread_mutex_lock(&srv->lock);
        t = take_pending(srv, fd);
        if (t != NULL)
            list_push(&srv->conns, t);
        pthread_mutex_unlock(&srv->lock);
        if (t == NULL) { /* it waited past its pending entry: counted anew */
            t = calloc(1, sizeof(*t));
            if (t == NULL)
                return; /* untracked: only libmicrohttpd's timeout applies */
            t->fd = fd;
            atomic_init(&t->deadline, floe_mono_ms() + srv->header_ms);
            pthread_mutex_lock(&srv->lock);
            t->over = srv->conns.n + srv->pending.n >= srv->max_conns;
            list_push(&srv->conns, t);
            pthread_mutex_unlock(&srv->lock);
        }
        if (srv->open != NULL)
            floe_gauge_add(srv->open, 1);
        *socket_ctx = t;
        return;
    }
    if (t == NULL)
        return;
    pthread_mutex_lock(&srv->lock);
    list_unlink(&srv->conns, t);
    pthread_mutex_unlock(&srv->lock);
    if (srv->open != NULL)
        floe_gauge_add(srv->open, -1);
    free(t);
    *socket_ctx = NULL;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct floe_http_server *srv = cls;
    struct conn_state *st = *con_cls;

    (void)toe;
    /* keep-alive: the next request head is due within header_ms */
    set_deadline(c, srv->header_ms);
    if (st != NULL) {
        floe_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static enum MHD_Result send_resp(struct MHD_Connection *c,
                                 struct floe_http_resp *resp, bool close)
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
    if (close)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct floe_http_resp *resp_new(struct floe_http_server *srv)
{
    struct floe_http_resp *resp = calloc(1, sizeof(*resp)); /* ~2 KiB */

    if (resp == NULL)
        return NULL;
    resp->status = 200;
    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             "application/octet-stream");
    floe_buf_init(&resp->body, srv->max_resp);
    return resp;
}

static void resp_free(struct floe_http_resp *resp)
{
    if (resp != NULL)
        floe_buf_free(&resp->body);
    free(resp);
}

/* Past max_conns: a fast, retryable refusal, then the connection closes. */
static enum MHD_Result refuse_busy(struct floe_http_server *srv,
                                   struct MHD_Connection *c)
{
    struct floe_http_resp *resp = resp_new(srv);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    resp->status = 503;
    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             "application/x-amz-json-1.1");
    floe_http_resp_header(resp, "Retry-After", "1");
    floe_http_resp_header(resp, "x-amzn-ErrorType",
                          "ServiceUnavailableException");
    floe_buf_adds(&resp->body,
                  "{\"__type\":\"ServiceUnavailableException\",\"message\":"
                  "\"Slow down. (too many connections)\"}");
    if (srv->refused != NULL)
        floe_counter_add(srv->refused, 1);
    ret = send_resp(c, resp, true);
    resp_free(resp);
    return ret;
}

/* Run the handler on `req` and queue its answer (`close`: then close). */
static enum MHD_Result answer(struct floe_http_server *srv,
                              struct MHD_Connection *c,
                              const struct floe_http_req *req, bool close)
{
    struct floe_http_resp *resp = resp_new(srv);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    srv->handler(srv->ud, req, resp);
    ret = send_resp(c, resp, close);
    resp_free(resp);
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

    (void)version;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.conn = c;
    if (st == NULL) { /* the head is in */
        const struct track *t = track_of(c);
        const char *cl;

        if (t != NULL && t->over)
            return refuse_busy(srv, c);
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > srv->max_body) {
            /* refused unread: libmicrohttpd skips the body and closes */
            req.too_big = true;
            return answer(srv, c, &req, true);
        }
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        floe_buf_init(&st->body, srv->max_body);
        if (cl != NULL && floe_buf_reserve(&st->body, strtoull(cl, NULL, 10)))
            st->too_big = true;
        *con_cls = st;
        set_deadline(c, srv->body_ms);
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
    set_deadline(c, 0); /* the handler may wait (WAL group commit) */
    req.too_big = st->too_big;
    req.body = st->too_big ? NULL : (st->body.data ? st->body.data : "");
    req.body_len = st->too_big ? 0 : st->body.len;
    return answer(srv, c, &req, false);
}

static int make_addr(const char *bind, int port, struct sockaddr_storage *ss,
                     socklen_t *len, char *err)
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
    *len = res->ai_addrlen;
    if (res->ai_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return FLOE_OK;
}

/* Our listening socket (non-blocking), and the port it got. */
static int listen_on(const struct floe_http_server_cfg *cfg, int *out_fd,
                     int *out_port, char *err)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int fd, one = 1, rc;

    rc = make_addr(cfg->bind, cfg->port, &ss, &len, err);
    if (rc != FLOE_OK)
        return rc;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        rc = floe_err(err, FLOE_EIO, "cannot listen on %s:%d: %s",
                      cfg->bind, cfg->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *out_port = ntohs(ss.ss_family == AF_INET6
                          ? ((struct sockaddr_in6 *)&ss)->sin6_port
                          : ((struct sockaddr_in *)&ss)->sin_port);
    *out_fd = fd;
    return FLOE_OK;
}

/* Hand `fd` over, counted as pending; false when it was closed instead
 * (the limit and its 503 allowance are in use, or no memory). */
static bool door_hand_over(struct floe_http_server *srv, int fd,
                           const struct sockaddr_storage *ss, socklen_t len)
{
    struct track *t = calloc(1, sizeof(*t));
    bool room;

    if (t == NULL) {
        close(fd);
        return false;
    }
    t->fd = fd;
    atomic_init(&t->deadline, floe_mono_ms() + srv->header_ms);
    pthread_mutex_lock(&srv->lock);
    room = srv->conns.n + srv->pending.n < srv->max_conns + srv->slack;
    /* in the order of arrival: workers start connections in any order */
    t->over = srv->conns.n + srv->pending.n >= srv->max_conns;
    if (room)
        list_push(&srv->pending, t);
    pthread_mutex_unlock(&srv->lock);
    if (!room) {
        free(t);
        close(fd);
        return false;
    }
    if (MHD_add_connection(srv->mhd, fd, (const struct sockaddr *)ss, len) ==
        MHD_YES)
        return true; /* t may be started (and even closed) by now */
    /* not queued, so not started: t is still pending; the socket is
     * closed */
    pthread_mutex_lock(&srv->lock);
    list_unlink(&srv->pending, t);
    pthread_mutex_unlock(&srv->lock);
    free(t);
    return false;
}

/* Accept what is waiting: hand it over, or close it at once when even the
 * 503 allowance is in use. */
static void door_accept(struct floe_http_server *srv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, i;

    for (i = 0; i < 256; i++) {
        len = sizeof(ss);
        fd = accept4(srv->lfd, (struct sockaddr *)&ss, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                floe_log_warn("accept: %s (open-file limit reached)",
                              strerror(errno));
            return;
        }
        if (!door_hand_over(srv, fd, &ss, len) && srv->dropped != NULL)
            floe_counter_add(srv->dropped, 1);
    }
}

/* Shut down connections past their deadline. A pending entry past its
 * deadline is dropped, not shut down: a worker that takes that long to
 * start a connection is rare, and one that fails to start it (no memory
 * for its pool) closes it without a word, so the number may belong to a
 * newer connection by now. If the connection does start, it is counted
 * then. */
static void door_sweep(struct floe_http_server *srv, int64_t now)
{
    struct track *t, *next;
    unsigned n = 0;

    pthread_mutex_lock(&srv->lock);
    for (t = srv->pending.head; t != NULL; t = next) {
        next = t->next;
        if (now >= atomic_load(&t->deadline)) {
            list_unlink(&srv->pending, t);
            free(t);
        }
    }
    for (t = srv->conns.head; t != NULL; t = t->next) {
        int64_t d = atomic_load(&t->deadline);

        if (d != 0 && now >= d && t->fd >= 0) {
            atomic_store(&t->deadline, 0);
            shutdown(t->fd, SHUT_RDWR);
            n++;
        }
    }
    pthread_mutex_unlock(&srv->lock);
    if (n > 0) {
        floe_log_debug("%u connections closed: request head or body not "
                       "received in time", n);
        if (srv->timed_out != NULL)
            floe_counter_add(srv->timed_out, n);
    }
}

static void *door_main(void *arg)
{
    struct floe_http_server *srv = arg;
    struct pollfd pf[2];

    pf[0].fd = srv->wake_fd;
    pf[0].events = POLLIN;
    pf[1].fd = srv->lfd;
    pf[1].events = POLLIN;
    for (;;) {
        pf[0].revents = pf[1].revents = 0;
        if (poll(pf, 2, DOOR_TICK_MS) < 0 && errno != EINTR)
            break;
        if (pf[0].revents != 0)
            break;
        if (pf[1].revents != 0)
            door_accept(srv);
        door_sweep(srv, floe_mono_ms());
    }
    return NULL;
}

/* Raise the open-file limit and fit the connection bound under it. */
static int fit_fds(struct floe_http_server *srv, int threads, char *err)
{
    uint64_t lim = floe_fd_limit_raise(), need;

    need = (uint64_t)srv->max_conns + 2 * srv->slack + FD_RESERVE +
           4 * (uint64_t)threads;
    if (lim == 0 || need <= lim)
        return FLOE_OK;
    if (lim < FD_RESERVE + 4 * (uint64_t)threads + 32)
        return floe_err(err, FLOE_EINVAL,
                        "open-file limit %llu is too low to serve HTTP "
                        "(raise ulimit -n)", (unsigned long long)lim);
    floe_log_warn("open-file limit %llu: serving at most %llu connections "
                  "instead of %u (raise ulimit -n)", (unsigned long long)lim,
                  (unsigned long long)((lim - FD_RESERVE - 4 * threads) * 8 /
                                       10),
                  srv->max_conns);
    srv->max_conns = (unsigned)((lim - FD_RESERVE - 4 * threads) * 8 / 10);
    srv->slack = srv->max_conns / 16 + 4;
    return FLOE_OK;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void counters(struct floe_http_server *srv, struct floe_metrics *m)
{
    if (m == NULL)
        return;
    srv->refused = floe_metrics_counter(
        m, "floe_http_connections_refused_total", NULL,
        "Requests answered 503 because the connection limit was reached.");
    srv->dropped = floe_metrics_counter(
        m, "floe_http_connections_dropped_total", NULL,
        "Connections closed at accept: the limit and its 503 allowance "
        "were both in use.");
    srv->timed_out = floe_metrics_counter(
        m, "floe_http_connections_timed_out_total", NULL,
        "Connections closed because a request head or body was not "
        "received in time (or a keep-alive connection stayed idle).");
    srv->open = floe_metrics_gauge(m, "floe_http_connections_open", NULL,
                                   "Open HTTP connections.");
}

int floe_http_server_start(const struct floe_http_server_cfg *cfg,
                           floe_http_handler handler, void *ud,
                           struct floe_http_server **out, char *err)
{
    struct floe_http_server *srv = NULL;
    struct MHD_OptionItem opts[5];
    unsigned flags, threads = cfg->threads > 1 ? (unsigned)cfg->threads : 1;
    uint64_t per_worker;
    int rc, n = 0;

    *out = NULL;
    if ((cfg->tls_cert != NULL) != (cfg->tls_key != NULL))
        return floe_err(err, FLOE_EINVAL, "a TLS certificate needs its key "
                                          "and the key its certificate");
    if (cfg->tls_cert != NULL && MHD_is_feature_supported(MHD_FEATURE_TLS) !=
                                     MHD_YES)
        return floe_err(err, FLOE_EINVAL, "this libmicrohttpd has no TLS");
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    srv->lfd = srv->wake_fd = -1;
    pthread_mutex_init(&srv->lock, NULL);
    srv->handler = handler;
    srv->ud = ud;
    srv->max_body = cfg->max_body;
    srv->max_resp = cfg->max_resp ? cfg->max_resp : FLOE_BUF_UNLIMITED;
    srv->max_conns = cfg->max_conns ? cfg->max_conns : 1024;
    srv->slack = srv->max_conns / 16 + 4;
    srv->header_ms = cfg->header_ms ? cfg->header_ms : 10000;
    srv->body_ms = cfg->body_ms ? cfg->body_ms : 60000;
    counters(srv, cfg->metrics);
    rc = fit_fds(srv, (int)threads, err);
    if (rc == FLOE_OK)
        rc = listen_on(cfg, &srv->lfd, &srv->port, err);
    if (rc != FLOE_OK)
        goto fail;
    srv->tls_cert = dup_or_null(cfg->tls_cert);
    srv->tls_key = dup_or_null(cfg->tls_key);
    if ((cfg->tls_cert != NULL && srv->tls_cert == NULL) ||
        (cfg->tls_key != NULL && srv->tls_key == NULL)) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto fail;
    }

    flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
            MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;
    if (srv->tls_cert != NULL) {
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
                                             srv->tls_cert };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
                                             srv->tls_key };
    }
    /* One thread is the internal polling thread alone: libmicrohttpd
     * warns about a pool of one. */
    if (threads > 1)
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
                                             (intptr_t)threads, NULL };
    opts[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    /* The pool splits the limit evenly: each worker's share is the most
     * the door lets in (see Counting above), with room for the few that
     * start after their pending entry expired. */
    per_worker = (uint64_t)srv->max_conns + 2 * (uint64_t)srv->slack + 16;
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_ARRAY, opts,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(per_worker * threads > UINT_MAX ? UINT_MAX
                                                   : per_worker * threads),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(cfg->timeout_s ? cfg->timeout_s : 30),
        MHD_OPTION_NOTIFY_CONNECTION, on_conn, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        rc = floe_err(err, FLOE_EIO, "cannot start the HTTP server on "
                                     "%s:%d%s", cfg->bind, srv->port,
                      srv->tls_cert ? " (is the TLS certificate and key "
                                      "PEM, and do they match?)"
                                    : "");
        goto fail;
    }
    srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (srv->wake_fd < 0 ||
        pthread_create(&srv->door, NULL, door_main, srv) != 0) {
        rc = floe_err(err, FLOE_EIO, "cannot start the accept thread");
        goto fail;
    }
    srv->door_running = true;
    *out = srv;
    return FLOE_OK;
fail:
    floe_http_server_stop(srv);
    return rc;
}

int floe_http_server_port(const struct floe_http_server *srv)
{
    return srv->port;
}

void floe_http_server_quiesce(struct floe_http_server *srv)
{
    uint64_t one = 1;

    if (srv == NULL)
        return;
    if (srv->door_running) {
        if (write(srv->wake_fd, &one, sizeof(one)) < 0)
            floe_log_errno("eventfd");
        pthread_join(srv->door, NULL);
        srv->door_running = false;
    }
    if (srv->lfd >= 0)
        close(srv->lfd);
    srv->lfd = -1;
}

void floe_http_server_stop(struct floe_http_server *srv)
{
    if (srv == NULL)
        return;
    floe_http_server_quiesce(srv);
    if (srv->mhd != NULL)
        MHD_stop_daemon(srv->mhd);
    list_free(&srv->pending); /* queued, never started: closed unnamed */
    list_free(&srv->conns);   /* empty: every started one was closed */
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    pthread_mutex_destroy(&srv->lock);
    free(srv->tls_cert);
    if (srv->tls_key != NULL) /* private key: not left in freed memory */
        memset(srv->tls_key, 0, strlen(srv->tls_key));
    free(srv->tls_key);
    free(srv);
}
