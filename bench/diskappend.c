/* diskappend.c - raw durable append rate: the firehose WAL's floor.
 * Appends CHUNK bytes with write(2) then fdatasync(2), repeated until TOTAL
 * bytes, to a fresh file in DIR (same file system as the WAL under test),
 * one writer, no group commit. Prints {"chunk_bytes","chunks","seconds",
 * "mb_per_s","syncs_per_s"} and removes the file.
 * usage: diskappend DIR CHUNK_BYTES TOTAL_BYTES */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char path[4096];
    size_t chunk, total, done = 0, i;
    long n = 0;
    double t0, t;
    char *buf;
    int fd;

    if (argc != 4) {
        fprintf(stderr, "usage: diskappend DIR CHUNK_BYTES TOTAL_BYTES\n");
        return 2;
    }
    chunk = (size_t)strtoul(argv[2], NULL, 10);
    total = (size_t)strtoul(argv[3], NULL, 10);
    snprintf(path, sizeof(path), "%s/diskappend.%d", argv[1], (int)getpid());
    buf = malloc(chunk ? chunk : 1);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (buf == NULL || fd < 0 || chunk == 0) {
        perror("diskappend");
        return 1;
    }
    for (i = 0; i < chunk; i++) /* log-like bytes, not zeros */
        buf[i] = (char)(i % 97 == 96 ? '\n' : 'a' + (int)(i % 26));
    t0 = now_s();
    while (done < total) {
        size_t off = 0;
        while (off < chunk) {
            ssize_t w = write(fd, buf + off, chunk - off);
            if (w <= 0) {
                perror("diskappend: write");
                return 1;
            }
            off += (size_t)w;
        }
        if (fdatasync(fd) != 0) {
            perror("diskappend: fdatasync");
            return 1;
        }
        done += chunk;
        n++;
    }
    t = now_s() - t0;
    close(fd);
    unlink(path);
    printf("{\"chunk_bytes\":%zu,\"chunks\":%ld,\"seconds\":%.4f,"
           "\"mb_per_s\":%.1f,\"syncs_per_s\":%.1f}\n",
           chunk, n, t, (double)done / t / 1e6, (double)n / t);
    free(buf);
    return 0;
}
