/* latproxy.c - TCP proxy that delays each direction by a fixed time, to put
 * a real endpoint's round trip (default 25 ms each way = 50 ms) between the
 * agent and a local server. One epoll thread, non-blocking sockets: every
 * chunk read is stamped and written onward once its delay has passed, in
 * order per direction. A direction holds at most --queue-bytes; past that
 * its reader pauses, so TCP back-pressure reaches the sender (the queue is
 * the link's window: one connection carries at most queue-bytes / delay).
 * Wake-ups: one timerfd armed at the earliest due chunk (a min-heap of the
 * directions with data waiting). TCP connection setup itself is not delayed.
 * usage: latproxy --to HOST:PORT [--listen HOST:PORT] [--delay-ms MS]
 *                 [--queue-bytes N[K|M]] [--ready-file F]
 * Prints the port it listens on (and writes it, atomically, to F); SIGTERM
 * or SIGINT exits and prints {"connections":N,"max_open":M,"bytes_up":U,
 * "bytes_down":D} (up = client to server). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH (256 << 10) /* one read(2) at most: a chunk */
#define READS_PER_EVENT 4   /* then let other connections have a turn */
#define MAX_IOV 64

struct chunk {
    struct chunk *next;
    uint64_t due;    /* CLOCK_MONOTONIC ns */
    size_t len, off; /* len 0: end of stream, shut the writer down */
    char data[];
};

struct conn;

/* One direction: reads conn->fd[side], writes conn->fd[1 - side]. It is in
 * the timer heap exactly when it has chunks and is not waiting for
 * EPOLLOUT. */
struct dir {
    struct conn *c;
    int side;
    struct chunk *head, *tail;
    size_t queued;
    int heap_idx;     /* -1: not in the heap */
    int eof_read;     /* read(2) returned 0: reading is over */
    int paused;       /* queue full: reading waits */
    int blocked;      /* writer got EAGAIN (or is still connecting) */
    int done;         /* end of stream forwarded */
};

/* What epoll knows about one socket of a connection. */
struct end {
    struct conn *c;
    int side;      /* 0: client, 1: upstream */
    uint32_t mask; /* registered events; 0: not registered */
};

struct conn {
    int fd[2];
    struct end end[2];
    struct dir dir[2]; /* dir[0]: client -> upstream, dir[1]: back */
    int connecting;
    int dead;
    struct conn *next_dead;
};

static volatile sig_atomic_t stop;
static int ep;
static uint64_t delay_ns;
static size_t queue_max = 4 << 20;
static struct dir **heap;
static size_t heap_len, heap_cap;
static struct conn *dead_list;
static struct chunk *spare; /* a read buffer that got EAGAIN */
static long n_conns, n_open, max_open;
static uint64_t bytes_dir[2];

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------- min-heap of directions, keyed by their head chunk's due ---- */

static uint64_t key(size_t i)
{
    return heap[i]->head->due;
}

static void heap_swap(size_t a, size_t b)
{
    struct dir *t = heap[a];

    heap[a] = heap[b];
    heap[b] = t;
    heap[a]->heap_idx = (int)a;
    heap[b]->heap_idx = (int)b;
}

static void heap_fix(size_t i)
{
    while (i > 0 && key(i) < key((i - 1) / 2)) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < heap_len && key(l) < key(m))
            m = l;
        if (r < heap_len && key(r) < key(m))
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_remove(struct dir *d)
{
    size_t i = (size_t)d->heap_idx;

    d->heap_idx = -1;
    heap_len--;
    if (i == heap_len)
        return;
    heap[i] = heap[heap_len];
    heap[i]->heap_idx = (int)i;
    heap_fix(i);
}

/* Restore "in the heap iff it has chunks and may write", with the right
 * key. Returns -1 only when the heap cannot grow. */
static int reschedule(struct dir *d)
{
    int want = d->head != NULL && !d->blocked;

    if (!want) {
        if (d->heap_idx >= 0)
            heap_remove(d);
        return 0;
    }
    if (d->heap_idx >= 0) {
        heap_fix((size_t)d->heap_idx);
        return 0;
    }
    if (heap_len == heap_cap) {
        size_t nc = heap_cap ? heap_cap * 2 : 256;
        struct dir **nh = realloc(heap, nc * sizeof(*nh));

        if (nh == NULL)
            return -1;
        heap = nh;
        heap_cap = nc;
    }
    heap[heap_len] = d;
    d->heap_idx = (int)heap_len++;
    heap_fix((size_t)d->heap_idx);
    return 0;
}

/* ---------- connections ---------- */

static void kill_conn(struct conn *c)
{
    int s;

    if (c->dead)
        return;
    c->dead = 1;
    for (s = 0; s < 2; s++) {
        struct dir *d = &c->dir[s];

        if (d->heap_idx >= 0)
            heap_remove(d);
        while (d->head != NULL) {
            struct chunk *k = d->head;

            d->head = k->next;
            free(k);
        }
        d->tail = NULL;
        if (c->fd[s] >= 0)
            close(c->fd[s]); /* also leaves the epoll set */
        c->fd[s] = -1;
    }
    n_open--;
    c->next_dead = dead_list; /* freed after this batch of events */
    dead_list = c;
}

/* Register exactly the events end `s` waits for: input while its outgoing
 * direction reads, output while its incoming direction is blocked (or the
 * upstream connect is pending). Nothing wanted: out of the epoll set, so a
 * hang-up is not reported again and again. */
static void update_mask(struct conn *c, int s)
{
    struct end *e = &c->end[s];
    struct dir *out = &c->dir[s], *in = &c->dir[1 - s];
    struct epoll_event ev;
    uint32_t want = 0;
    int op;

    if (c->dead)
        return;
    if (s == 1 && c->connecting)
        want = EPOLLOUT;
    else {
        if (!out->eof_read && !out->paused)
            want |= EPOLLIN;
        if (in->blocked)
            want |= EPOLLOUT;
    }
    if (want == e->mask)
        return;
    op = want == 0 ? EPOLL_CTL_DEL
                   : e->mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    ev.events = want;
    ev.data.ptr = e;
    if (epoll_ctl(ep, op, c->fd[s], &ev) != 0) {
        perror("latproxy: epoll_ctl");
        kill_conn(c);
        return;
    }
    e->mask = want;
}

static void maybe_finish(struct conn *c)
{
    if (c->dir[0].done && c->dir[1].done)
        kill_conn(c);
}

/* Write every chunk of `d` that is due; stop on EAGAIN (then wait for
 * EPOLLOUT) or at the first chunk still in the future. */
static void flush(struct dir *d)
{
    struct conn *c = d->c;
    int to = c->fd[1 - d->side];
    uint64_t now = mono_ns();

    while (!c->dead && d->head != NULL && d->head->due <= now &&
           !d->blocked) {
        struct iovec iov[MAX_IOV];
        struct chunk *k;
        size_t total = 0;
        ssize_t w;
        int n = 0;

        if (d->head->len == 0) { /* end of stream, in its turn */
            k = d->head;
            d->head = k->next;
            if (d->head == NULL)
                d->tail = NULL;
            free(k);
            shutdown(to, SHUT_WR);
            d->done = 1;
            maybe_finish(c);
            break;
        }
        for (k = d->head; k != NULL && k->len > 0 && k->due <= now &&
                          n < MAX_IOV;
             k = k->next) {
            iov[n].iov_base = k->data + k->off;
            iov[n].iov_len = k->len - k->off;
            total += iov[n].iov_len;
            n++;
        }
        w = writev(to, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                d->blocked = 1;
                break;
            }
            kill_conn(c); /* EPIPE, ECONNRESET: the peer is gone */
            return;
        }
        bytes_dir[d->side] += (uint64_t)w;
        if ((size_t)w < total)
            d->blocked = 1; /* short write: the socket buffer is full */
        while (w > 0) {
            k = d->head;
            if ((size_t)w < k->len - k->off) {
                k->off += (size_t)w;
                break;
            }
            w -= (ssize_t)(k->len - k->off);
            d->queued -= k->len;
            d->head = k->next;
            if (d->head == NULL)
                d->tail = NULL;
            free(k);
        }
    }
    if (c->dead)
        return;
    if (d->paused && d->queued < queue_max)
        d->paused = 0;
    if (reschedule(d) != 0) {
        kill_conn(c);
        return;
    }
    update_mask(c, d->side);     /* reading may resume */
    update_mask(c, 1 - d->side); /* EPOLLOUT on or off */
}

/* Read once from the direction's socket straight into a new chunk (no
 * copy), shrunk to what came. 1: got data or end of stream; 0: nothing
 * (EAGAIN); -1: error, the connection is gone. */
static int read_chunk(struct dir *d)
{
    struct conn *c = d->c;
    struct chunk *k = spare, *kk;
    ssize_t r;

    spare = NULL;
    if (k == NULL)
        k = malloc(sizeof(*k) + SCRATCH);
    if (k == NULL) {
        fprintf(stderr, "latproxy: out of memory\n");
        kill_conn(c);
        return -1;
    }
    do
        r = read(c->fd[d->side], k->data, SCRATCH);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        spare = k;
        if (errno == EAGAIN)
            return 0;
        kill_conn(c); /* ECONNRESET: pass the reset on at once */
        return -1;
    }
    if (r < SCRATCH && (kk = realloc(k, sizeof(*k) + (size_t)r)) != NULL)
        k = kk; /* glibc shrinks in place */
    k->next = NULL;
    k->due = mono_ns() + delay_ns;
    k->len = (size_t)r;
    k->off = 0;
    if (d->tail != NULL)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    d->queued += (size_t)r;
    if (r == 0)
        d->eof_read = 1;
    if (reschedule(d) != 0) {
        kill_conn(c);
        return -1;
    }
    return r == SCRATCH ? 2 : 1;
}

static void on_readable(struct dir *d)
{
    struct conn *c = d->c;
    int i, rc = 2;

    /* a full read may mean more is waiting; a short one drained it */
    for (i = 0; i < READS_PER_EVENT && rc == 2 && !d->eof_read; i++) {
        if (d->queued >= queue_max)
            break;
        rc = read_chunk(d);
        if (rc < 0)
            return;
    }
    if (d->queued >= queue_max)
        d->paused = 1;
    update_mask(c, d->side);
}

static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0) {
        fprintf(stderr, "latproxy: connect upstream: %s\n",
                strerror(err ? err : errno));
        kill_conn(c);
        return;
    }
    c->connecting = 0;
    c->dir[0].blocked = 0;
    update_mask(c, 1);
    flush(&c->dir[0]);
}

static void on_event(struct end *e, uint32_t ev)
{
    struct conn *c = e->c;
    int s = e->side;

    if (c->dead)
        return;
    if (s == 1 && c->connecting) {
        on_connected(c);
        return;
    }
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (e->mask & EPOLLIN))
        on_readable(&c->dir[s]);
    if (c->dead)
        return;
    if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && c->dir[1 - s].blocked) {
        c->dir[1 - s].blocked = 0;
        flush(&c->dir[1 - s]);
    }
}

static void on_accept(int lfd, const struct addrinfo *to)
{
    for (;;) {
        struct conn *c;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int up, one = 1, s, rc;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                perror("latproxy: accept");
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        up = socket(to->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
        c = calloc(1, sizeof(*c));
        if (up < 0 || c == NULL) {
            perror("latproxy: upstream socket");
            if (up >= 0)
                close(up);
            free(c);
            close(fd);
            continue;
        }
        setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        rc = connect(up, to->ai_addr, to->ai_addrlen);
        if (rc != 0 && errno != EINPROGRESS) {
            perror("latproxy: connect upstream");
            close(up);
            free(c);
            close(fd);
            continue;
        }
        c->fd[0] = fd;
        c->fd[1] = up;
        c->connecting = rc != 0;
        for (s = 0; s < 2; s++) {
            c->end[s].c = c;
            c->end[s].side = s;
            c->dir[s].c = c;
            c->dir[s].side = s;
            c->dir[s].heap_idx = -1;
        }
        c->dir[0].blocked = c->connecting; /* nothing goes up before it */
        n_conns++;
        if (++n_open > max_open)
            max_open = n_open;
        update_mask(c, 0);
        update_mask(c, 1);
    }
}

/* ---------- setup ---------- */

static int resolve(const char *hp, int passive, struct addrinfo **out)
{
    char host[256];
    const char *colon = strrchr(hp, ':');
    struct addrinfo hints;
    size_t hl;
    int rc;

    if (colon == NULL || (hl = (size_t)(colon - hp)) >= sizeof(host)) {
        fprintf(stderr, "latproxy: %s: want HOST:PORT\n", hp);
        return -1;
    }
    memcpy(host, hp, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') { /* [::1]:80 */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, out);
    if (rc != 0) {
        fprintf(stderr, "latproxy: %s: %s\n", hp, gai_strerror(rc));
        return -1;
    }
    return 0;
}

static int write_ready(const char *path, int port)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static size_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (*end == 'K' || *end == 'k')
        v *= 1024;
    else if (*end == 'M' || *end == 'm')
        v *= 1024 * 1024;
    return v < 1 ? 0 : (size_t)v;
}

static void usage(void)
{
    fprintf(stderr, "usage: latproxy --to HOST:PORT [--listen HOST:PORT] "
                    "[--delay-ms MS] [--queue-bytes N[K|M]] "
                    "[--ready-file F]\n");
}

int main(int argc, char **argv)
{
    const char *listen_at = "127.0.0.1:0", *to_at = NULL, *ready = NULL;
    struct addrinfo *la = NULL, *ta = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct epoll_event ev, evs[256];
    struct sigaction sa;
    uint64_t armed = 0;
    double delay_ms = 25;
    int lfd, tfd, one = 1, i, port;

    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL) {
            usage();
            return 2;
        }
        if (strcmp(argv[i], "--listen") == 0)
            listen_at = v;
        else if (strcmp(argv[i], "--to") == 0)
            to_at = v;
        else if (strcmp(argv[i], "--delay-ms") == 0)
            delay_ms = strtod(v, NULL);
        else if (strcmp(argv[i], "--queue-bytes") == 0)
            queue_max = parse_size(v);
        else if (strcmp(argv[i], "--ready-file") == 0)
            ready = v;
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (to_at == NULL || delay_ms < 0 || queue_max == 0) {
        usage();
        return 2;
    }
    delay_ns = (uint64_t)(delay_ms * 1e6);
    if (resolve(listen_at, 1, &la) != 0 || resolve(to_at, 0, &ta) != 0)
        return 2;
    /* freed chunks stay in the heap for the next reads: no mmap/munmap
     * and no fresh zeroed pages per chunk */
    mallopt(M_MMAP_THRESHOLD, 2 * SCRATCH);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    lfd = socket(la->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 0);
    if (lfd < 0 ||
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, la->ai_addr, la->ai_addrlen) != 0 ||
        listen(lfd, SOMAXCONN) != 0 ||
        getsockname(lfd, (struct sockaddr *)&ss, &sl) != 0) {
        perror("latproxy: listen");
        return 1;
    }
    port = ntohs(ss.ss_family == AF_INET6
                     ? ((struct sockaddr_in6 *)&ss)->sin6_port
                     : ((struct sockaddr_in *)&ss)->sin_port);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || tfd < 0) {
        perror("latproxy: epoll/timerfd");
        return 1;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = &tfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    if (ready != NULL && write_ready(ready, port) != 0) {
        perror("latproxy: ready file");
        return 1;
    }
    printf("%d\n", port);
    fflush(stdout);

    while (!stop) {
        int n = epoll_wait(ep, evs, 256, -1);

        if (n < 0 && errno != EINTR) {
            perror("latproxy: epoll_wait");
            return 1;
        }
        for (i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;

            if (p == &lfd)
                on_accept(lfd, ta);
            else if (p == &tfd) {
                uint64_t ticks;

                if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                    perror("latproxy: timerfd");
                armed = 0;
            } else
                on_event(p, evs[i].events);
        }
        /* everything due, earliest first */
        while (heap_len > 0 && heap[0]->head->due <= mono_ns())
            flush(heap[0]);
        while (dead_list != NULL) {
            struct conn *c = dead_list;

            dead_list = c->next_dead;
            free(c);
        }
        if (heap_len > 0 && heap[0]->head->due != armed) {
            struct itimerspec its;

            memset(&its, 0, sizeof(its));
            armed = heap[0]->head->due;
            its.it_value.tv_sec = (time_t)(armed / 1000000000u);
            its.it_value.tv_nsec = (long)(armed % 1000000000u);
            timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
        }
    }
    printf("{\"connections\":%ld,\"max_open\":%ld,\"bytes_up\":%llu,"
           "\"bytes_down\":%llu}\n",
           n_conns, max_open, (unsigned long long)bytes_dir[0],
           (unsigned long long)bytes_dir[1]);
    return 0;
}
