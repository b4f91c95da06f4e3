/* sink.c - minimal Firehose endpoint for the agent benchmark.
 * Answers every PutRecordBatch with success for each record (one
 * RequestResponses entry per {"Data": in the body) and anything else with
 * "{}", on one epoll thread, keep-alive, no durability: it shows what the
 * agent alone can do when the server costs (almost) nothing.
 * usage: sink PORTFILE [COUNTFILE]  (listens on 127.0.0.1, ephemeral port
 * written to PORTFILE); SIGTERM exits and prints {"requests":N,"records":M}.
 * With COUNTFILE the same JSON is also replaced there (write + rename) at
 * most every 10 ms while the counts change, so a caller can wait for "every
 * line acknowledged" without stopping the sink. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    char *buf;
    size_t len, cap;
};

static volatile sig_atomic_t stop;
static long n_req, n_rec;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) { /* tiny responses: rare; spin */
            usleep(100);
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t count_records(const char *b, size_t n)
{
    static const char pat[] = "{\"Data\":";
    size_t c = 0;
    const char *p = b, *end = b + n;

    while ((p = memmem(p, (size_t)(end - p), pat, sizeof(pat) - 1)) != NULL) {
        c++;
        p += sizeof(pat) - 1;
    }
    return c;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Replace `path` with the current counts (readers never see a partial). */
static void write_counts(const char *path)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return;
    f = fopen(tmp, "w");
    if (f == NULL)
        return;
    fprintf(f, "{\"requests\":%ld,\"records\":%ld}\n", n_req, n_rec);
    if (fclose(f) == 0)
        rename(tmp, path);
}

/* Handle every complete request in the buffer. -1: close the connection. */
static int serve(struct conn *c)
{
    static char *resp;
    static size_t resp_cap;

    for (;;) {
        char *he, *h, hdr[160];
        size_t hlen, clen = 0, nrec, i, need;
        int batch, hn;

        if (c->len < 4)
            return 0;
        he = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (he == NULL)
            return 0;
        hlen = (size_t)(he - c->buf) + 4;
        batch = 0;
        for (h = c->buf; h < he; h++) {
            if (strncasecmp(h, "\r\nContent-Length:", 17) == 0)
                clen = strtoul(h + 17, NULL, 10);
            else if (strncasecmp(h, "\r\nX-Amz-Target:", 15) == 0 &&
                     memmem(h, (size_t)(he - h), "PutRecordBatch", 14))
                batch = 1;
        }
        if (c->len < hlen + clen)
            return 0;
        nrec = batch ? count_records(c->buf + hlen, clen) : 0;
        n_req++;
        n_rec += (long)nrec;
        need = 320 + nrec * 24;
        if (need > resp_cap) {
            char *r = realloc(resp, need);
            if (r == NULL)
                return -1;
            resp = r;
            resp_cap = need;
        }
        if (batch) {
            size_t bl = (size_t)snprintf(resp, resp_cap,
                "{\"FailedPutCount\":0,\"Encrypted\":false,"
                "\"RequestResponses\":[");
            for (i = 0; i < nrec; i++)
                bl += (size_t)snprintf(resp + bl, resp_cap - bl,
                                       "%s{\"RecordId\":\"r%zu\"}",
                                       i ? "," : "", i);
            bl += (size_t)snprintf(resp + bl, resp_cap - bl, "]}");
            hn = snprintf(hdr, sizeof(hdr),
                          "HTTP/1.1 200 OK\r\nContent-Type: "
                          "application/x-amz-json-1.1\r\nContent-Length: "
                          "%zu\r\n\r\n", bl);
            /* one write: header and body in separate segments would meet
             * Nagle + delayed ACK (40 ms per request) */
            if (hn + bl + 1 > resp_cap) {
                char *r = realloc(resp, (size_t)hn + bl + 1);
                if (r == NULL)
                    return -1;
                resp = r;
                resp_cap = (size_t)hn + bl + 1;
            }
            memmove(resp + hn, resp, bl);
            memcpy(resp, hdr, (size_t)hn);
            if (send_all(c->fd, resp, (size_t)hn + bl) != 0)
                return -1;
        } else {
            hn = snprintf(hdr, sizeof(hdr),
                          "HTTP/1.1 200 OK\r\nContent-Type: "
                          "application/x-amz-json-1.1\r\nContent-Length: "
                          "2\r\n\r\n{}");
            if (send_all(c->fd, hdr, (size_t)hn) != 0)
                return -1;
        }
        memmove(c->buf, c->buf + hlen + clen, c->len - hlen - clen);
        c->len -= hlen + clen;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    struct epoll_event ev, evs[64];
    int lfd, ep, one = 1, i, n;
    const char *countfile = argc == 3 ? argv[2] : NULL;
    long written_rec = -1, written_at = 0;
    FILE *f;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: sink PORTFILE [COUNTFILE]\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0) {
        perror("sink: listen");
        return 1;
    }
    f = fopen(argv[1], "w");
    if (f == NULL)
        return 1;
    fprintf(f, "%d\n", ntohs(a.sin_port));
    fclose(f);
    ep = epoll_create1(EPOLL_CLOEXEC);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    while (!stop) {
        if (countfile != NULL && n_rec != written_rec &&
            now_ms() - written_at >= 10) {
            written_rec = n_rec;
            written_at = now_ms();
            write_counts(countfile);
        }
        n = epoll_wait(ep, evs, 64,
                       countfile != NULL && n_rec != written_rec ? 10 : 200);
        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    continue;
                c = calloc(1, sizeof(*c));
                if (c != NULL)
                    c->buf = malloc(1 << 16);
                if (c == NULL || c->buf == NULL) {
                    free(c);
                    close(fd);
                    continue;
                }
                c->fd = fd;
                c->cap = 1 << 16;
                ev.events = EPOLLIN;
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }
            for (;;) {
                ssize_t r;
                if (c->len == c->cap) {
                    char *nb = realloc(c->buf, c->cap * 2);
                    if (nb == NULL)
                        break;
                    c->buf = nb;
                    c->cap *= 2;
                }
                r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
                if (r > 0) {
                    c->len += (size_t)r;
                    continue;
                }
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    r = serve(c) < 0 ? 0 : 1;
                if (r <= 0) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    free(c->buf);
                    free(c);
                }
                break;
            }
        }
    }
    printf("{\"requests\":%ld,\"records\":%ld}\n", n_req, n_rec);
    return 0;
}
