/* loadgen.c - Firehose PutRecordBatch load generator for `bench/run`.
 * One thread per keep-alive connection (plain sockets, HTTP/1.1), each
 * sending the same prebuilt request; closed loop (as fast as answers come)
 * or open loop at a fixed total rate, where latency is measured from the
 * request's scheduled send time (so queueing behind a slow server counts).
 * Prints one JSON object: requests, records, errors, rates, latency
 * percentiles. Bounded by --requests and --duration; loopback only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct cfg {
    const char *host;
    int port;
    const char *stream;
    int conns;
    int recs;      /* records per request */
    int rec_size;  /* decoded bytes per record, '\n' included */
    long requests; /* total, 0 = until duration */
    double duration;
    double rate;   /* requests/s in total, 0 = closed loop */
    const char *auth; /* optional Authorization header value */
};

static struct cfg C = { "127.0.0.1", 4573, "orders", 16, 500, 130, 0, 10, 0,
                        NULL };
static char *req;
static size_t req_len;
static atomic_long issued;
static atomic_long n_ok, n_err, n_conn_err;
static double t_start, t_stop;

struct worker {
    pthread_t th;
    int id;
    double *lat; /* ms */
    size_t nlat, cap;
    char err[160];
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    double d = t - now_s();
    struct timespec ts;

    if (d <= 0)
        return;
    ts.tv_sec = (time_t)d;
    ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64(const unsigned char *in, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = B64[v >> 6 & 63];
        out[o++] = B64[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = B64[v >> 6 & 63];
        out[o++] = '=';
    }
    return o;
}

/* A ~rec_size-byte JSON log line, different per record. */
static size_t make_record(int i, char *out, size_t size)
{
    int n = snprintf(out, size,
                     "{\"event_id\":\"%08x-0000-4000-8000-%012x\","
                     "\"order_id\":\"O%08d\",\"status\":\"paid\","
                     "\"total\":%d.%02d,\"msg\":\"",
                     (unsigned)i * 2654435761u, (unsigned)i, i, i % 997,
                     i % 100);
    size_t len = (size_t)n;

    while (len + 3 < size) {
        out[len] = (char)('a' + (i + (int)len) % 26);
        len++;
    }
    out[len++] = '"';
    out[len++] = '}';
    out[len++] = '\n';
    return len;
}

static int build_request(void)
{
    size_t body_cap = 256 + (size_t)C.recs * ((size_t)C.rec_size * 4 / 3 + 32);
    char *body = malloc(body_cap), rec[8192];
    size_t bl = 0;
    int i, n;

    if (body == NULL || C.rec_size < 64 || C.rec_size > 8000)
        return -1;
    bl += (size_t)snprintf(body, body_cap,
                           "{\"DeliveryStreamName\":\"%s\",\"Records\":[",
                           C.stream);
    for (i = 0; i < C.recs; i++) {
        size_t rl = make_record(i, rec, (size_t)C.rec_size);
        bl += (size_t)snprintf(body + bl, body_cap - bl, "%s{\"Data\":\"",
                               i ? "," : "");
        bl += b64((unsigned char *)rec, rl, body + bl);
        body[bl++] = '"';
        body[bl++] = '}';
    }
    bl += (size_t)snprintf(body + bl, body_cap - bl, "]}");
    req = malloc(bl + 1024);
    if (req == NULL)
        return -1;
    n = snprintf(req, 1024,
                 "POST / HTTP/1.1\r\nHost: %s:%d\r\n"
                 "Content-Type: application/x-amz-json-1.1\r\n"
                 "X-Amz-Target: Firehose_20150804.PutRecordBatch\r\n"
                 "%s%s%s"
                 "Content-Length: %zu\r\n\r\n",
                 C.host, C.port, C.auth ? "Authorization: " : "",
                 C.auth ? C.auth : "", C.auth ? "\r\n" : "", bl);
    memcpy(req + n, body, bl);
    req_len = (size_t)n + bl;
    free(body);
    return 0;
}

static int dial(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)C.port);
    if (inet_pton(AF_INET, C.host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one response. Returns HTTP status (0 on a broken connection);
 * *ok is set when the body reports FailedPutCount 0; *keep when the
 * connection can be reused. */
static int read_response(int fd, char *buf, size_t cap, int *ok, int *keep)
{
    size_t have = 0, hdr_end = 0, clen = 0;
    int status = 0, has_clen = 0;
    char *p;

    *ok = 0;
    *keep = 1;
    for (;;) {
        ssize_t r;
        if (hdr_end == 0) {
            buf[have] = '\0';
            p = strstr(buf, "\r\n\r\n");
            if (p != NULL) {
                char *h;
                hdr_end = (size_t)(p - buf) + 4;
                status = (int)strtol(buf + 9, NULL, 10);
                for (h = buf; h < p; h++) {
                    if (strncasecmp(h, "\r\nContent-Length:", 17) == 0) {
                        clen = (size_t)strtoul(h + 17, NULL, 10);
                        has_clen = 1;
                    } else if (strncasecmp(h, "\r\nConnection: close", 19) == 0) {
                        *keep = 0;
                    }
                }
                if (strncmp(buf, "HTTP/1.0", 8) == 0)
                    *keep = 0;
            }
        }
        if (hdr_end != 0 && has_clen && have >= hdr_end + clen)
            break;
        if (have + 1 >= cap)
            return 0;
        r = recv(fd, buf + have, cap - 1 - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (hdr_end != 0 && !has_clen) { /* body until close */
                *keep = 0;
                break;
            }
            return 0;
        }
        have += (size_t)r;
    }
    buf[have] = '\0';
    if (status == 200 && hdr_end != 0 &&
        (strstr(buf + hdr_end, "\"FailedPutCount\":0") != NULL ||
         strstr(buf + hdr_end, "\"FailedPutCount\": 0") != NULL))
        *ok = 1;
    return status;
}

static void add_lat(struct worker *w, double ms)
{
    if (w->nlat == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 4096;
        double *n = realloc(w->lat, nc * sizeof(*n));
        if (n == NULL)
            return;
        w->lat = n;
        w->cap = nc;
    }
    w->lat[w->nlat++] = ms;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    double interval = C.rate > 0 ? (double)C.conns / C.rate : 0;
    double next = t_start + interval * w->id / C.conns;
    int fd = -1;

    while (buf != NULL) {
        double t0, t1;
        int ok, keep, status;
        long k;

        if (now_s() >= t_stop)
            break;
        if (C.requests > 0) {
            k = atomic_fetch_add(&issued, 1);
            if (k >= C.requests)
                break;
        }
        if (interval > 0) {
            sleep_until(next);
            t0 = next;
            next += interval;
        } else {
            t0 = now_s();
        }
        if (fd < 0 && (fd = dial()) < 0) {
            atomic_fetch_add(&n_conn_err, 1);
            snprintf(w->err, sizeof(w->err), "connect %s:%d: errno %d", C.host,
                     C.port, errno);
            usleep(10000);
            continue;
        }
        if (send_all(fd, req, req_len) != 0) {
            close(fd);
            fd = -1;
            atomic_fetch_add(&n_conn_err, 1);
            continue;
        }
        status = read_response(fd, buf, cap, &ok, &keep);
        t1 = now_s();
        if (status == 0) {
            close(fd);
            fd = -1;
            atomic_fetch_add(&n_conn_err, 1);
            continue;
        }
        if (ok) {
            atomic_fetch_add(&n_ok, 1);
            add_lat(w, (t1 - t0) * 1e3);
        } else {
            atomic_fetch_add(&n_err, 1);
            if (w->err[0] == '\0')
                snprintf(w->err, sizeof(w->err), "HTTP %d: %.100s", status,
                         strstr(buf, "\r\n\r\n") ? strstr(buf, "\r\n\r\n") + 4
                                                 : "");
        }
        if (!keep) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen [--host IP] [--port N] [--stream NAME] "
            "[--conns N] [--records N] [--record-size BYTES] "
            "[--requests N] [--duration S] [--rate REQ_PER_S] "
            "[--auth HEADER_VALUE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct worker *ws;
    double *all, elapsed, t_end;
    size_t nall = 0, i;
    long ok, err, cerr;
    int a;
    const char *first_err = "";

    for (a = 1; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (v == NULL)
            usage();
        if (!strcmp(o, "--host")) C.host = v;
        else if (!strcmp(o, "--port")) C.port = (int)strtol(v, NULL, 10);
        else if (!strcmp(o, "--stream")) C.stream = v;
        else if (!strcmp(o, "--conns")) C.conns = (int)strtol(v, NULL, 10);
        else if (!strcmp(o, "--records")) C.recs = (int)strtol(v, NULL, 10);
        else if (!strcmp(o, "--record-size")) C.rec_size = (int)strtol(v, NULL, 10);
        else if (!strcmp(o, "--requests")) C.requests = strtol(v, NULL, 10);
        else if (!strcmp(o, "--duration")) C.duration = strtod(v, NULL);
        else if (!strcmp(o, "--rate")) C.rate = strtod(v, NULL);
        else if (!strcmp(o, "--auth")) C.auth = v;
        else usage();
        a++;
    }
    if (C.conns < 1 || C.conns > 1024 || C.recs < 1 || C.recs > 500 ||
        C.duration <= 0 || C.duration > 600)
        usage();
    if (build_request() != 0) {
        fprintf(stderr, "loadgen: cannot build the request\n");
        return 1;
    }
    ws = calloc((size_t)C.conns, sizeof(*ws));
    if (ws == NULL)
        return 1;
    t_start = now_s() + 0.01;
    t_stop = t_start + C.duration;
    for (a = 0; a < C.conns; a++) {
        ws[a].id = a;
        if (pthread_create(&ws[a].th, NULL, worker_main, &ws[a]) != 0) {
            fprintf(stderr, "loadgen: pthread_create failed\n");
            return 1;
        }
    }
    for (a = 0; a < C.conns; a++) {
        pthread_join(ws[a].th, NULL);
        nall += ws[a].nlat;
    }
    t_end = now_s();
    elapsed = t_end - t_start;
    all = malloc((nall + 1) * sizeof(*all));
    if (all == NULL)
        return 1;
    nall = 0;
    for (a = 0; a < C.conns; a++) {
        memcpy(all + nall, ws[a].lat, ws[a].nlat * sizeof(*all));
        nall += ws[a].nlat;
        if (first_err[0] == '\0' && ws[a].err[0] != '\0')
            first_err = ws[a].err;
    }
    qsort(all, nall, sizeof(*all), cmp_d);
    ok = atomic_load(&n_ok);
    err = atomic_load(&n_err);
    cerr = atomic_load(&n_conn_err);
    printf("{\"conns\":%d,\"records_per_request\":%d,\"record_bytes\":%d,"
           "\"request_bytes\":%zu,\"target_rate\":%.1f,"
           "\"requests_ok\":%ld,\"requests_failed\":%ld,"
           "\"connection_errors\":%ld,\"seconds\":%.4f,"
           "\"requests_per_s\":%.1f,\"records_per_s\":%.1f,"
           "\"mb_per_s\":%.2f,\"lat_p50_ms\":%.3f,\"lat_p90_ms\":%.3f,"
           "\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f,\"first_error\":\"",
           C.conns, C.recs, C.rec_size, req_len, C.rate, ok, err, cerr,
           elapsed, (double)ok / elapsed, (double)ok * C.recs / elapsed,
           (double)ok * C.recs * C.rec_size / elapsed / 1e6,
           pct(all, nall, 0.50), pct(all, nall, 0.90), pct(all, nall, 0.99),
           nall ? all[nall - 1] : 0.0);
    for (i = 0; first_err[i] != '\0'; i++)
        if (first_err[i] != '"' && first_err[i] != '\\' &&
            (unsigned char)first_err[i] >= 32)
            putchar(first_err[i]);
    printf("\"}\n");
    for (a = 0; a < C.conns; a++)
        free(ws[a].lat);
    free(ws);
    free(all);
    free(req);
    return 0;
}
