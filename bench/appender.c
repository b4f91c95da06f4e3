/* appender.c - load for the agent's many-files figure: appends lines of
 * exactly 130 bytes ('\n' included, JSON access-log style like the agent
 * stage's app.log) to NFILES files DIR/app-<i>.log at RATE lines/s in all,
 * for SECONDS, then exits. Paced on 5 ms ticks (absolute sleeps, so it
 * catches up after a late wake-up); each tick writes every file's due lines
 * with one write(2), so readers also meet lines cut mid-way. The lines come
 * from a prebuilt 4096-line block (cheap: the writer must not steal the
 * agent's CPU). Prints {"lines":N,"bytes":B,"seconds":S} (S = wall time).
 * usage: appender DIR NFILES RATE SECONDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE 130
#define BLOCK_LINES 4096
#define TICK_NS 5000000L
#define MAX_FILES 256

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static char block[BLOCK_LINES * LINE];
    static int fds[MAX_FILES];
    static long long done[MAX_FILES];
    static long long pos[MAX_FILES];
    long long total, per_file_total, lines = 0;
    double rate, seconds, per_file_rate, t0, el;
    struct timespec next;
    int nfiles, i;

    if (argc != 5) {
        fprintf(stderr, "usage: appender DIR NFILES RATE SECONDS\n");
        return 2;
    }
    nfiles = (int)strtol(argv[2], NULL, 10);
    rate = strtod(argv[3], NULL);
    seconds = strtod(argv[4], NULL);
    if (nfiles < 1 || nfiles > MAX_FILES || rate <= 0 || seconds <= 0) {
        fprintf(stderr, "appender: bad NFILES, RATE or SECONDS\n");
        return 2;
    }
    for (i = 0; i < BLOCK_LINES; i++) {
        char *l = block + (size_t)i * LINE;
        int n = snprintf(l, LINE, "{\"ts\":\"2026-11-24T19:%02d:%02d.%03dZ\","
                         "\"level\":\"INFO\",\"req\":%d,\"path\":"
                         "\"/api/v1/orders/%07d\",\"status\":200,\"ms\":%d,"
                         "\"msg\":\"", i / 60000 % 60, i / 1000 % 60,
                         i % 1000, i, i, i % 500);
        memset(l + n, 'x', (size_t)(LINE - 3 - n));
        memcpy(l + LINE - 3, "\"}\n", 3);
    }
    for (i = 0; i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/app-%d.log", argv[1], i);
        fds[i] = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fds[i] < 0) {
            perror(path);
            return 1;
        }
        pos[i] = (i * 409) % BLOCK_LINES; /* files do not start alike */
    }
    per_file_rate = rate / nfiles;
    per_file_total = (long long)(per_file_rate * seconds + 0.5);
    total = per_file_total * nfiles;
    t0 = mono();
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (lines < total) {
        el = mono() - t0;
        for (i = 0; i < nfiles; i++) {
            long long due = (long long)(per_file_rate * el);
            if (due > per_file_total)
                due = per_file_total;
            while (done[i] < due) {
                long long n = due - done[i];
                if (n > BLOCK_LINES - pos[i])
                    n = BLOCK_LINES - pos[i];
                if (write_all(fds[i], block + pos[i] * LINE,
                              (size_t)n * LINE) != 0) {
                    perror("appender: write");
                    return 1;
                }
                done[i] += n;
                lines += n;
                pos[i] = (pos[i] + n) % BLOCK_LINES;
            }
        }
        next.tv_nsec += TICK_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        if (lines < total)
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    el = mono() - t0;
    for (i = 0; i < nfiles; i++)
        close(fds[i]);
    printf("{\"lines\":%lld,\"bytes\":%lld,\"seconds\":%.6f}\n", total,
           total * LINE, el);
    return 0;
}
