/* run.c - the emit run: customers first, then order events with customer
 * updates interleaved, faults injected at the configured rates, every
 * line mirrored in the truth file. All randomness comes from one seeded
 * rng (plus per-customer streams), so output is a function of the config.
 * Optional pacing (--rate) flushes steadily so a tailing agent sees a live
 * file. */
#define FLOE_LOG_MOD "gen"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "gen/customers.h"
#include "gen/gen.h"
#include "gen/line.h"
#include "gen/orders.h"
#include "gen/rng.h"
#include "gen/sink.h"
#include "gen/truth.h"

#define RING 256 /* recent valid order lines a duplicate may copy */

struct ring_entry {
    size_t len;
    char id[FLOE_RNG_UUID_LEN + 1];
    char buf[FLOE_LINE_MAX];
};

struct run {
    const struct floe_gen_cfg *cfg;
    struct floe_gen_summary *sum;
    struct floe_sink cust, ord, truth;
    struct floe_rng rng;
    struct floe_customers cs;
    struct floe_orders os;
    struct floe_line line;
    struct ring_entry *ring; /* RING entries, owned */
    size_t ring_n, ring_next;
    int64_t start_ms;
    int64_t t0_ns, last_flush_ns; /* pacing */
    uint64_t paced;
};

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int flush_all(struct run *r)
{
    int rc = floe_sink_flush(&r->cust);

    if (rc == FLOE_OK)
        rc = floe_sink_flush(&r->ord);
    if (rc == FLOE_OK)
        rc = floe_sink_flush(&r->truth);
    return rc;
}

/* Called after every log line: with a rate, sleep until the line is due
 * and flush at least every 50 ms, so readers see a steady stream. */
static int pace(struct run *r)
{
    int64_t due, now;
    struct timespec ts;

    if (r->cfg->rate <= 0)
        return FLOE_OK;
    r->paced++;
    due = r->t0_ns + (int64_t)((double)r->paced * 1e9 / (double)r->cfg->rate);
    now = mono_ns();
    if (due > now + 1000000) {
        int rc = flush_all(r);

        if (rc != FLOE_OK)
            return rc;
        ts.tv_sec = (time_t)(due / 1000000000);
        ts.tv_nsec = (long)(due % 1000000000);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
               EINTR)
            ;
        r->last_flush_ns = due;
    } else if (now - r->last_flush_ns > 50000000) {
        r->last_flush_ns = now;
        return flush_all(r);
    }
    return FLOE_OK;
}

static int put(struct run *r, struct floe_sink *s, const char *p, size_t n,
               enum floe_truth_kind kind, const char *id,
               enum floe_truth_status status, char *err)
{
    int rc;

    if (r->line.overflow) /* lines are bounded by construction */
        return floe_err(err, FLOE_ETOOBIG, "internal: line over %d bytes",
                        FLOE_LINE_MAX);
    rc = floe_sink_write(s, p, n);
    if (rc == FLOE_OK)
        rc = floe_truth_add(&r->truth, kind, id, status);
    if (rc == FLOE_OK)
        rc = pace(r);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "writing %s: %s", s->path,
                        floe_strerror(rc));
    return FLOE_OK;
}

static int customer_line(struct run *r, int64_t idx, int version,
                         int64_t now_ms, char *err)
{
    char id[FLOE_CUSTOMER_VERSION_ID_MAX];
    int rc;

    if (floe_rng_chance(&r->rng, r->cfg->malformed_rate)) {
        floe_customers_malformed(&r->cs, &r->rng, now_ms, &r->line);
        rc = put(r, &r->cust, r->line.buf, r->line.len, FLOE_TRUTH_CUSTOMER,
                 NULL, FLOE_TRUTH_INVALID, err);
        if (rc != FLOE_OK)
            return rc;
        r->sum->customers_invalid++;
    }
    floe_customers_row(&r->cs, idx, version, now_ms, &r->line, id);
    rc = put(r, &r->cust, r->line.buf, r->line.len, FLOE_TRUTH_CUSTOMER, id,
             FLOE_TRUTH_VALID, err);
    if (rc != FLOE_OK)
        return rc;
    r->sum->customers_valid++;
    r->sum->customer_updates += version > 0;
    return FLOE_OK;
}

static int order_event(struct run *r, int64_t e, int64_t t_ms, char *err)
{
    const struct floe_gen_cfg *c = r->cfg;
    char id[FLOE_RNG_UUID_LEN + 1];
    bool drift = (double)e >= c->drift_after * (double)c->orders;
    bool unknown, late = false;
    struct ring_entry *re;
    int64_t ts = t_ms;
    int rc;

    if (floe_rng_chance(&r->rng, c->malformed_rate)) {
        floe_orders_malformed(&r->os, &r->rng, t_ms, drift, &r->line);
        rc = put(r, &r->ord, r->line.buf, r->line.len, FLOE_TRUTH_ORDER, NULL,
                 FLOE_TRUTH_INVALID, err);
        if (rc != FLOE_OK)
            return rc;
        r->sum->orders_invalid++;
    }
    if (c->span_ms > 0 && floe_rng_chance(&r->rng, c->late_rate)) {
        ts = t_ms - 1 - (int64_t)floe_rng_below(&r->rng, (uint64_t)c->span_ms);
        late = true;
    }
    floe_orders_next(&r->os, &r->rng, ts, drift, &r->line, id, &unknown);
    rc = put(r, &r->ord, r->line.buf, r->line.len, FLOE_TRUTH_ORDER, id,
             FLOE_TRUTH_VALID, err);
    if (rc != FLOE_OK)
        return rc;
    r->sum->orders_valid++;
    r->sum->late_events += late;
    r->sum->unknown_customer_events += unknown;

    re = &r->ring[r->ring_next];
    memcpy(re->buf, r->line.buf, r->line.len);
    re->len = r->line.len;
    memcpy(re->id, id, sizeof(id));
    r->ring_next = (r->ring_next + 1) % RING;
    if (r->ring_n < RING)
        r->ring_n++;

    if (floe_rng_chance(&r->rng, c->duplicate_rate)) {
        /* an earlier line again, byte for byte (an at-least-once retry) */
        re = &r->ring[floe_rng_below(&r->rng, r->ring_n)];
        rc = put(r, &r->ord, re->buf, re->len, FLOE_TRUTH_ORDER, re->id,
                 FLOE_TRUTH_DUPLICATE, err);
        if (rc != FLOE_OK)
            return rc;
        r->sum->orders_duplicates++;
    }
    return FLOE_OK;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int emit_all(struct run *r, char *err)
{
    const struct floe_gen_cfg *c = r->cfg;
    uint64_t m = (uint64_t)c->customers, n = (uint64_t)c->orders;
    uint64_t updates = (uint64_t)llround(c->update_rate * (double)m);
    uint64_t a = 1, b, j = 0, e;
    int64_t t = r->start_ms;
    int rc;

    for (e = 1; e <= m; e++) {
        rc = customer_line(r, (int64_t)e, 0, r->start_ms, err);
        if (rc != FLOE_OK)
            return rc;
    }
    /* update j goes to customer 1 + (a*j + b) mod m: a bijection when
     * gcd(a, m) = 1, so no customer is updated twice */
    if (m > 1)
        do
            a = 1 + floe_rng_below(&r->rng, m - 1);
        while (gcd(a, m) != 1);
    b = floe_rng_below(&r->rng, m);
    for (e = 0; e < n; e++) {
        t = r->start_ms +
            (int64_t)((double)c->span_ms *
                      ((double)e + floe_rng_unit(&r->rng)) / (double)n);
        rc = order_event(r, (int64_t)e, t, err);
        if (rc != FLOE_OK)
            return rc;
        /* updates spread evenly over the order stream */
        while (j < updates && (j + 1) * n / (updates + 1) <= e + 1) {
            rc = customer_line(r, 1 + (int64_t)((a * j + b) % m), 1, t, err);
            if (rc != FLOE_OK)
                return rc;
            j++;
        }
    }
    for (; j < updates; j++) { /* no orders to interleave with */
        rc = customer_line(r, 1 + (int64_t)((a * j + b) % m), 1,
                           r->start_ms + c->span_ms, err);
        if (rc != FLOE_OK)
            return rc;
    }
    return FLOE_OK;
}

/* Lines already in `path` (0 if missing): order numbers continue after. */
static int count_lines(const char *path, uint64_t *out)
{
    char chunk[65536];
    ssize_t got;
    int fd;

    *out = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FLOE_OK : FLOE_EIO;
    while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
        const char *p = chunk, *end;

        if (got < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return FLOE_EIO;
        }
        end = chunk + got;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            (*out)++;
            p++;
        }
    }
    close(fd);
    return FLOE_OK;
}

static int join(char out[PATH_MAX], const char *dir, const char *name)
{
    return (size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX
               ? FLOE_OK
               : FLOE_EINVAL;
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int floe_gen_run(const struct floe_gen_cfg *cfg, struct floe_gen_summary *out,
                 char *err)
{
    char cpath[PATH_MAX], opath[PATH_MAX], tpath[PATH_MAX];
    const char *dir = cfg->dir != NULL ? cfg->dir : ".";
    uint64_t seed = (uint64_t)cfg->seed, first_num = 1;
    int64_t began = mono_ns();
    struct run *r;
    int rc, rc2;

    memset(out, 0, sizeof(*out));
    if (cfg->customers < 1 || cfg->orders < 0 || cfg->span_ms < 0)
        return floe_err(err, FLOE_EINVAL,
                        "--customers must be >= 1, --orders and --span >= 0");
    if (join(cpath, dir, "customers.log") != FLOE_OK ||
        join(opath, dir, "orders.log") != FLOE_OK ||
        (cfg->truth != NULL
             ? (size_t)snprintf(tpath, sizeof(tpath), "%s", cfg->truth) >=
                   sizeof(tpath)
             : join(tpath, dir, "emit-truth.tsv") != FLOE_OK))
        return floe_err(err, FLOE_EINVAL, "path too long under %s", dir);

    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    floe_sink_init(&r->cust);
    floe_sink_init(&r->ord);
    floe_sink_init(&r->truth);
    r->cfg = cfg;
    r->sum = out;
    r->ring = malloc(RING * sizeof(*r->ring));
    if (r->ring == NULL) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (cfg->start == NULL || strcmp(cfg->start, "now") == 0) {
        r->start_ms = floe_now_ms();
    } else if (floe_line_parse_iso(cfg->start, &r->start_ms) != FLOE_OK) {
        rc = floe_err(err, FLOE_EINVAL,
                      "--start: '%s' is not an ISO 8601 UTC time like "
                      "2026-11-24T00:00:00.000Z (or 'now')", cfg->start);
        goto cleanup;
    }
    rc = floe_mkdirs(dir);
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "cannot create directory %s", dir);
        goto cleanup;
    }
    if (cfg->append) {
        /* Continue rather than repeat: order numbers go on after the
         * existing lines, and the seed absorbs the files' sizes so event
         * ids and customer versions differ from the earlier run's, while
         * the same files + config still give the same bytes. */
        rc = count_lines(opath, &first_num);
        if (rc != FLOE_OK) {
            rc = floe_err(err, rc, "cannot read %s", opath);
            goto cleanup;
        }
        first_num++;
        seed ^= file_size(opath) * 0x9e3779b97f4a7c15ull ^
                file_size(cpath) * 0xc2b2ae3d27d4eb4full;
    }
    floe_rng_seed(&r->rng, seed);
    floe_customers_init(&r->cs, seed, cfg->customers, r->start_ms);
    floe_orders_init(&r->os, cfg->customers, cfg->unknown_customer_rate,
                     first_num);
    if ((rc = floe_sink_open(&r->cust, cpath, cfg->append)) != FLOE_OK ||
        (rc = floe_sink_open(&r->ord, opath, cfg->append)) != FLOE_OK ||
        (rc = floe_sink_open(&r->truth, tpath, cfg->append)) != FLOE_OK) {
        rc = floe_err(err, rc, "cannot open output files in %s (%s)", dir,
                      floe_strerror(rc));
        goto cleanup;
    }
    r->t0_ns = r->last_flush_ns = mono_ns();
    rc = emit_all(r, err);

cleanup:
    rc2 = floe_sink_close(&r->cust);
    if (rc2 == FLOE_OK)
        rc2 = floe_sink_close(&r->ord);
    else
        floe_sink_close(&r->ord);
    if (rc2 == FLOE_OK)
        rc2 = floe_sink_close(&r->truth);
    else
        floe_sink_close(&r->truth);
    if (rc == FLOE_OK && rc2 != FLOE_OK)
        rc = floe_err(err, rc2, "writing output files in %s failed", dir);
    out->lines = (int64_t)(r->cust.lines + r->ord.lines);
    out->bytes = (int64_t)(r->cust.bytes + r->ord.bytes);
    out->seconds = (double)(mono_ns() - began) / 1e9;
    free(r->ring);
    free(r);
    return rc;
}
