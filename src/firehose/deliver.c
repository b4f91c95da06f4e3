/* deliver.c - stream buffers, sealing and delivery workers.
 * Lock order: d->slots_mu -> slot->mu -> d->qmu. Request threads only take
 * slot->mu (and qmu to hand over a sealed buffer); compression and the put
 * run on worker threads without any lock. A sealed buffer ("gen") keeps
 * its WAL segment references until its object is in the store, so a crash
 * at any point replays it (at-least-once, never lost). */
#define FLOE_LOG_MOD "firehose.deliver"

#include "firehose/deliver.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libdeflate.h>

#include "core/b64.h"
#include "core/log.h"
#include "core/util.h"
#include "firehose/compress.h"
#include "firehose/prefix.h"
#include "firehose/tz.h"

#define TICK_MS 50
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* `n` consecutive records that arrived at `ms` (one put call). */
struct run {
    int64_t ms;
    uint32_t n;
};

/* One buffer generation: open in a slot, then sealed and queued. */
struct gen {
    struct floe_buf data;
    int64_t first_ms;    /* arrival of the oldest record */
    int64_t first_mono;
    struct floe_fh_wal_pos *refs; /* its WAL entries, in order */
    size_t nrefs, caprefs;
    uint32_t *lens;      /* record boundaries, for the error output */
    size_t nrec, caprec;
    struct run *runs;
    size_t nruns, capruns;
    char *key;           /* set when sealed */
    char *ekey;          /* error-output key, set when sealed */
    enum floe_fh_compression comp;
    struct gen *next;
};

struct floe_fh_slot {
    pthread_mutex_t mu;
    char name[FLOE_FH_NAME_MAX + 1];
    const struct floe_fh_stream *s; /* naming; valid while attached */
    int64_t size_bytes;
    int64_t interval_ms;
    struct gen *cur;
    struct floe_fh_slot *next;
};

struct floe_fh_deliver {
    struct floe_store *store;
    struct floe_fh_wal *wal;
    int64_t max_buffered;
    int64_t retry_window_ms;
    struct floe_metrics *own_metrics; /* when the cfg gave none */
    struct floe_gauge *buffered;      /* also the budget (CAS on its v) */
    struct floe_counter *objects, *bytes, *put_failures, *error_records,
        *error_objects;
    atomic_bool abort;

    pthread_mutex_t slots_mu;
    struct floe_fh_slot *slots;

    pthread_mutex_t qmu;
    pthread_cond_t qcv;      /* work queued or exit */
    pthread_cond_t drained;  /* queue empty and nothing in flight */
    struct gen *qhead, *qtail;
    int inflight;
    bool exit_workers;

    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    bool stop_ticker;

    pthread_t ticker;
    bool ticker_started;
    pthread_t *workers;
    int nworkers;
};

static void gen_free(struct gen *g)
{
    if (g == NULL)
        return;
    floe_buf_free(&g->data);
    free(g->refs);
    free(g->lens);
    free(g->runs);
    free(g->key);
    free(g->ekey);
    free(g);
}

static struct gen *gen_new(int64_t size_bytes, size_t first)
{
    struct gen *g = calloc(1, sizeof(*g));
    size_t want = first > (1u << 20) ? first : (1u << 20);

    if (g == NULL)
        return NULL;
    /* Hint plus the largest request (4 MiB) plus slack: hard cap. */
    floe_buf_init(&g->data, (size_t)size_bytes + (8u << 20));
    if ((int64_t)want > size_bytes)
        want = first;
    if (floe_buf_reserve(&g->data, want) != FLOE_OK) {
        gen_free(g);
        return NULL;
    }
    return g;
}

static int gen_ref(struct gen *g, const struct floe_fh_wal_pos *pos)
{
    if (g->nrefs == g->caprefs) {
        size_t cap = g->caprefs ? g->caprefs * 2 : 4;
        void *p = realloc(g->refs, cap * sizeof(*g->refs));

        if (p == NULL)
            return FLOE_ENOMEM;
        g->refs = p;
        g->caprefs = cap;
    }
    g->refs[g->nrefs++] = *pos;
    return FLOE_OK;
}

/* Room for `n` more records and one more run, so that note_records
 * cannot fail after the bytes are in. */
static int gen_room(struct gen *g, size_t n)
{
    if (g->nrec + n > g->caprec) {
        size_t cap = g->caprec ? g->caprec : 64;
        void *p;

        while (cap < g->nrec + n)
            cap *= 2;
        p = realloc(g->lens, cap * sizeof(*g->lens));
        if (p == NULL)
            return FLOE_ENOMEM;
        g->lens = p;
        g->caprec = cap;
    }
    if (g->nruns == g->capruns) {
        size_t cap = g->capruns ? g->capruns * 2 : 8;
        void *p = realloc(g->runs, cap * sizeof(*g->runs));

        if (p == NULL)
            return FLOE_ENOMEM;
        g->runs = p;
        g->capruns = cap;
    }
    return FLOE_OK;
}

/* Remember one record of `len` bytes that arrived at `ms` (room made). */
static void note_record(struct gen *g, int64_t ms, size_t len)
{
    g->lens[g->nrec++] = (uint32_t)len;
    if (g->nruns > 0 && g->runs[g->nruns - 1].ms == ms) {
        g->runs[g->nruns - 1].n++;
        return;
    }
    g->runs[g->nruns].ms = ms;
    g->runs[g->nruns].n = 1;
    g->nruns++;
}

/* Queue the slot's open buffer for delivery. slot->mu held. */
static void seal(struct floe_fh_deliver *d, struct floe_fh_slot *slot)
{
    struct gen *g = slot->cur;
    const struct floe_fh_stream *s = slot->s;
    struct floe_buf key;
    char err[FLOE_ERR_LEN];
    int64_t local_ms;

    if (g == NULL)
        return;
    slot->cur = NULL;
    g->comp = s->compression;
    floe_buf_init(&key, FLOE_STORE_KEY_MAX * 2);
    /* CustomTimeZone: local wall time = UTC fields of the shifted instant
     * (prefix and file-name timestamps alike). */
    local_ms = g->first_ms + (int64_t)floe_fh_tz_offset(s->tz, g->first_ms) *
                                 1000;
    if (floe_fh_object_key(s->bucket, s->prefix, s->name, s->version,
                           local_ms, floe_fh_compression_ext(g->comp), &key,
                           err) == FLOE_OK)
        g->key = floe_buf_take(&key, NULL);
    else /* prefixes are checked at create: only ENOMEM gets here */
        floe_log_error("%s: cannot name object: %s", s->name, err);
    floe_buf_reset(&key);
    if (floe_fh_error_key(s->bucket, s->prefix, s->error_prefix,
                          FLOE_FH_ERROR_TYPE_S3, s->name, s->version,
                          local_ms, floe_fh_compression_ext(g->comp),
                          &key, err) == FLOE_OK)
        g->ekey = floe_buf_take(&key, NULL);
    else
        floe_log_error("%s: cannot name error object: %s", s->name, err);
    floe_buf_free(&key);
    pthread_mutex_lock(&d->qmu);
    if (d->qtail)
        d->qtail->next = g;
    else
        d->qhead = g;
    d->qtail = g;
    pthread_cond_signal(&d->qcv);
    pthread_mutex_unlock(&d->qmu);
}

static bool reserve_budget(struct floe_fh_deliver *d, int64_t n)
{
    int64_t cur = floe_gauge_get(d->buffered);

    do {
        if (cur + n > d->max_buffered)
            return false;
    } while (!atomic_compare_exchange_weak(&d->buffered->v, &cur, cur + n));
    return true;
}

int floe_fh_deliver_put(struct floe_fh_deliver *d, struct floe_fh_stream *s,
                        const struct floe_fh_blob *recs, size_t n,
                        int64_t arrival_ms, size_t *out_accepted,
                        size_t *out_bad)
{
    struct floe_fh_slot *slot = s->slot;
    struct gen *g;
    size_t k = 0, total = 0, old, i;
    struct floe_fh_wal_pos pos = { 0, 0 };
    uint64_t seq = 0;
    bool fresh = false;
    int rc = FLOE_OK;

    *out_accepted = 0;
    *out_bad = 0;
    if (slot == NULL) /* re-attach after an update ran out of memory */
        return FLOE_ENOMEM;
    /* Longest prefix that fits the budget. */
    while (k < n && total + recs[k].len <= (size_t)d->max_buffered)
        total += recs[k++].len;
    while (k > 0 && !reserve_budget(d, (int64_t)total))
        total -= recs[--k].len;
    if (k == 0)
        return n > 0 ? FLOE_EAGAIN : FLOE_OK;
    if (total == 0) { /* only empty records: nothing to buffer */
        *out_accepted = k;
        return FLOE_OK;
    }

    pthread_mutex_lock(&slot->mu);
    g = slot->cur;
    if (g == NULL) {
        g = gen_new(slot->size_bytes, total);
        if (g == NULL) {
            rc = FLOE_ENOMEM;
            goto fail;
        }
        fresh = true;
    }
    old = g->data.len;
    rc = floe_buf_reserve(&g->data, total);
    if (rc == FLOE_OK)
        rc = gen_room(g, k);
    if (rc != FLOE_OK)
        goto fail;
    for (i = 0; i < k; i++) {
        size_t got = 0;

        if (recs[i].len == 0)
            continue;
        rc = floe_b64_dec(recs[i].b64, recs[i].b64_len,
                          g->data.data + g->data.len, &got);
        if (rc != FLOE_OK || got != recs[i].len) {
            *out_bad = i;
            rc = FLOE_EINVAL;
            g->data.len = old;
            goto fail;
        }
        g->data.len += got;
    }
    g->data.data[g->data.len] = '\0';
    if (d->wal != NULL) {
        rc = floe_fh_wal_append(d->wal, s->name, arrival_ms,
                                g->data.data + old, total, &pos, &seq);
        if (rc == FLOE_OK) {
            rc = gen_ref(g, &pos);
            if (rc != FLOE_OK) /* the entry is written: keep it pinned */
                floe_log_error("%s: out of memory tracking the WAL",
                               s->name);
        }
        if (rc != FLOE_OK) {
            g->data.len = old;
            g->data.data[old] = '\0';
            goto fail;
        }
    }
    for (i = 0; i < k; i++)
        if (recs[i].len > 0) /* empty records carry nothing to deliver */
            note_record(g, arrival_ms, recs[i].len);
    if (fresh) {
        g->first_ms = arrival_ms;
        g->first_mono = floe_mono_ms();
        slot->cur = g;
    }
    if ((int64_t)g->data.len >= slot->size_bytes)
        seal(d, slot);
    pthread_mutex_unlock(&slot->mu);
    if (d->wal != NULL) {
        rc = floe_fh_wal_sync(d->wal, seq);
        if (rc != FLOE_OK)
            return rc; /* buffered, but not durable: not acknowledged */
    }
    *out_accepted = k;
    return FLOE_OK;
fail:
    if (fresh)
        gen_free(g);
    pthread_mutex_unlock(&slot->mu);
    floe_gauge_add(d->buffered, -(int64_t)total);
    return rc;
}

void floe_fh_deliver_replay(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s,
                            const struct floe_fh_wal_pos *pos,
                            int64_t arrival_ms, const void *data, size_t len)
{
    struct floe_fh_slot *slot = s->slot;
    struct gen *g;

    pthread_mutex_lock(&slot->mu);
    g = slot->cur;
    if (g == NULL) {
        g = gen_new(slot->size_bytes, len);
        if (g == NULL)
            goto oom;
        g->first_ms = arrival_ms;
        g->first_mono = floe_mono_ms();
        slot->cur = g;
    }
    if (gen_room(g, 1) != FLOE_OK || floe_buf_add(&g->data, data, len) !=
                                             FLOE_OK)
        goto oom;
    if (gen_ref(g, pos) != FLOE_OK) {
        g->data.len -= len;
        goto oom;
    }
    note_record(g, arrival_ms, len);
    floe_gauge_add(d->buffered, (int64_t)len);
    if ((int64_t)g->data.len >= slot->size_bytes)
        seal(d, slot);
    pthread_mutex_unlock(&slot->mu);
    return;
oom: /* the entry stays in the WAL (reference kept) for the next start */
    floe_log_error("%s: out of memory replaying the WAL", s->name);
    pthread_mutex_unlock(&slot->mu);
}

int floe_fh_deliver_attach(struct floe_fh_deliver *d,
                           struct floe_fh_stream *s)
{
    struct floe_fh_slot *slot = calloc(1, sizeof(*slot));

    if (slot == NULL)
        return FLOE_ENOMEM;
    pthread_mutex_init(&slot->mu, NULL);
    snprintf(slot->name, sizeof(slot->name), "%s", s->name);
    slot->s = s;
    slot->size_bytes = (int64_t)s->size_mb << 20;
    slot->interval_ms = (int64_t)s->interval_s * 1000;
    pthread_mutex_lock(&d->slots_mu);
    slot->next = d->slots;
    d->slots = slot;
    pthread_mutex_unlock(&d->slots_mu);
    s->slot = slot;
    return FLOE_OK;
}

void floe_fh_deliver_detach(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s)
{
    struct floe_fh_slot *slot = s->slot, **pp;

    if (slot == NULL)
        return;
    pthread_mutex_lock(&d->slots_mu);
    for (pp = &d->slots; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == slot) {
            *pp = slot->next;
            break;
        }
    }
    pthread_mutex_lock(&slot->mu);
    seal(d, slot);
    pthread_mutex_unlock(&slot->mu);
    pthread_mutex_unlock(&d->slots_mu);
    pthread_mutex_destroy(&slot->mu);
    free(slot);
    s->slot = NULL;
}

/* Seal due buffers (all of them when `all`). */
static void sweep(struct floe_fh_deliver *d, bool all)
{
    struct floe_fh_slot *slot;
    int64_t now = floe_mono_ms();

    pthread_mutex_lock(&d->slots_mu);
    for (slot = d->slots; slot != NULL; slot = slot->next) {
        pthread_mutex_lock(&slot->mu);
        if (slot->cur != NULL &&
            (all || now - slot->cur->first_mono >= slot->interval_ms))
            seal(d, slot);
        pthread_mutex_unlock(&slot->mu);
    }
    pthread_mutex_unlock(&d->slots_mu);
}

void floe_fh_deliver_flush_all(struct floe_fh_deliver *d)
{
    sweep(d, true);
}

static void *ticker_main(void *arg)
{
    struct floe_fh_deliver *d = arg;

    pthread_mutex_lock(&d->tick_mu);
    while (!d->stop_ticker) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->tick_cv, &d->tick_mu, &ts);
        if (d->stop_ticker)
            break;
        pthread_mutex_unlock(&d->tick_mu);
        sweep(d, false);
        pthread_mutex_lock(&d->tick_mu);
    }
    pthread_mutex_unlock(&d->tick_mu);
    return NULL;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Compress `in` as the object `key` wants (ZIP entry = its file name
 * without ".zip"). On FLOE_OK *body and *len point at `in` or into `z`. */
static int encode(const struct gen *g, const char *key, const void *in,
                  size_t n, struct libdeflate_compressor *c,
                  struct floe_buf *z, const void **body, size_t *len)
{
    char entry[FLOE_STORE_KEY_MAX];
    const char *base = key ? strrchr(key, '/') : NULL;
    size_t elen;
    int rc;

    *body = in;
    *len = n;
    if (g->comp == FLOE_FH_UNCOMPRESSED)
        return FLOE_OK;
    snprintf(entry, sizeof(entry), "%s", base ? base + 1 : "records");
    elen = strlen(entry);
    if (elen > 4 && strcmp(entry + elen - 4, ".zip") == 0)
        entry[elen - 4] = '\0';
    rc = floe_fh_compress(g->comp, c, in, n, entry, g->first_ms, z);
    if (rc != FLOE_OK)
        return rc;
    *body = z->data;
    *len = z->len;
    return FLOE_OK;
}

/* Put until it lands, we are aborted (FLOE_EAGAIN) or, when deadline >= 0,
 * the monotonic deadline passes (last store error). Counts attempts. */
static int put_retry(struct floe_fh_deliver *d, const char *key,
                     const void *body, size_t len, int64_t deadline,
                     int *attempts)
{
    int64_t backoff = BACKOFF_MIN_MS, wait, left;
    int rc;

    for (;;) {
        rc = key ? floe_store_put(d->store, key, body, len) : FLOE_ENOMEM;
        (*attempts)++;
        if (rc == FLOE_OK)
            return FLOE_OK;
        floe_counter_add(d->put_failures, 1);
        left = deadline >= 0 ? deadline - floe_mono_ms() : backoff;
        if (left <= 0) {
            floe_log_warn("put %s failed (%s); retry window over after %d "
                          "attempts", key ? key : "(unnamed)",
                          floe_store_strerror(rc), *attempts);
            return rc;
        }
        wait = left < backoff ? left : backoff;
        floe_log_warn("put %s failed (%s); retrying in %lld ms",
                      key ? key : "(unnamed)", floe_store_strerror(rc),
                      (long long)wait);
        if (atomic_load(&d->abort))
            return FLOE_EAGAIN;
        sleep_ms(wait);
        if (atomic_load(&d->abort))
            return FLOE_EAGAIN;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

/* The error-output document of every record of `g`, one JSON per line. */
static int error_docs(const struct gen *g, int attempts, int store_rc,
                      struct floe_buf *out)
{
    size_t r = 0, off = 0, run = 0, in_run = 0, i;
    int64_t now = floe_now_ms();
    char msg[FLOE_ERR_LEN];
    int rc = FLOE_OK;

    snprintf(msg, sizeof(msg), "could not put %s into the store: %s",
             g->key ? g->key : "the object", floe_store_strerror(store_rc));
    floe_buf_reset(out);
    for (r = 0; r < g->nrec && rc == FLOE_OK; r++) {
        size_t n = g->lens[r];
        char *p;

        while (run < g->nruns && in_run == g->runs[run].n) {
            run++;
            in_run = 0;
        }
        rc = floe_buf_addf(out,
                           "{\"attemptsMade\":%d,\"arrivalTimestamp\":%lld,"
                           "\"errorCode\":\"S3.PutObjectFailed\","
                           "\"errorMessage\":", attempts,
                           (long long)(run < g->nruns ? g->runs[run].ms
                                                      : g->first_ms));
        if (rc == FLOE_OK)
            rc = floe_buf_add_json_str(out, msg, strlen(msg));
        if (rc == FLOE_OK)
            rc = floe_buf_addf(out,
                               ",\"attemptEndingTimestamp\":%lld,"
                               "\"rawData\":\"", (long long)now);
        if (rc == FLOE_OK)
            rc = floe_buf_reserve(out, floe_b64_enc_len(n) + 3);
        if (rc != FLOE_OK)
            break;
        p = out->data + out->len;
        i = floe_b64_enc(g->data.data + off, n, p);
        out->len += i;
        rc = floe_buf_adds(out, "\"}\n");
        off += n;
        in_run++;
    }
    return rc;
}

/* Compress (if asked) and put until it lands; past the retry window write
 * the records to the error output instead (retried until it lands). False
 * only when aborted or out of memory: the data stays in the WAL. */
static bool deliver_one(struct floe_fh_deliver *d, struct gen *g,
                        struct libdeflate_compressor *c, struct floe_buf *z)
{
    const void *body;
    size_t len;
    int attempts = 0, eattempts = 0, rc;
    struct floe_buf docs;

    rc = encode(g, g->key, g->data.data, g->data.len, c, z, &body, &len);
    if (rc != FLOE_OK) {
        floe_log_error("%s: cannot compress %zu bytes: %s",
                       g->key ? g->key : "object", g->data.len,
                       floe_strerror(rc));
        return false;
    }
    rc = put_retry(d, g->key, body, len, floe_mono_ms() + d->retry_window_ms,
                   &attempts);
    if (rc == FLOE_OK) {
        floe_log_debug("delivered %s (%zu bytes, %zu stored)", g->key,
                       g->data.len, len);
        floe_counter_add(d->objects, 1);
        floe_counter_add(d->bytes, g->data.len);
        return true;
    }
    if (rc == FLOE_EAGAIN)
        return false;
    floe_buf_init(&docs, FLOE_BUF_UNLIMITED);
    rc = error_docs(g, attempts, rc, &docs);
    if (rc == FLOE_OK)
        rc = encode(g, g->ekey, docs.data ? docs.data : "", docs.len, c, z,
                    &body, &len);
    if (rc == FLOE_OK)
        rc = put_retry(d, g->ekey, body, len, -1, &eattempts);
    if (rc == FLOE_OK) {
        floe_log_error("%zu records (%zu bytes) of %s could not be delivered "
                       "after %d attempts: written to the error output %s",
                       g->nrec, g->data.len, g->key ? g->key : "an object",
                       attempts, g->ekey);
        floe_counter_add(d->error_records, g->nrec);
        floe_counter_add(d->error_objects, 1);
    }
    floe_buf_free(&docs);
    return rc == FLOE_OK;
}

static void *worker_main(void *arg)
{
    struct floe_fh_deliver *d = arg;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    struct floe_buf z;

    floe_buf_init(&z, FLOE_BUF_UNLIMITED);
    for (;;) {
        struct gen *g;
        bool ok;

        pthread_mutex_lock(&d->qmu);
        while (d->qhead == NULL && !d->exit_workers)
            pthread_cond_wait(&d->qcv, &d->qmu);
        g = d->qhead;
        if (g == NULL) { /* exit_workers and nothing left */
            pthread_mutex_unlock(&d->qmu);
            break;
        }
        d->qhead = g->next;
        if (d->qhead == NULL)
            d->qtail = NULL;
        d->inflight++;
        pthread_mutex_unlock(&d->qmu);

        ok = c != NULL && deliver_one(d, g, c, &z);
        if (ok) {
            if (d->wal != NULL && g->nrefs > 0)
                floe_fh_wal_done(d->wal, g->refs, g->nrefs);
        } else {
            floe_log_error("%s: %zu bytes not delivered%s",
                           g->key ? g->key : "object", g->data.len,
                           d->wal ? " (kept in the WAL for the next start)"
                                  : " (LOST: no WAL)");
        }
        floe_gauge_add(d->buffered, -(int64_t)g->data.len);
        gen_free(g);
        pthread_mutex_lock(&d->qmu);
        d->inflight--;
        if (d->qhead == NULL && d->inflight == 0)
            pthread_cond_broadcast(&d->drained);
        pthread_mutex_unlock(&d->qmu);
    }
    floe_buf_free(&z);
    if (c != NULL)
        libdeflate_free_compressor(c);
    return NULL;
}

static int register_metrics(struct floe_fh_deliver *d, struct floe_metrics *m)
{
    if (m == NULL) {
        if (floe_metrics_create(&d->own_metrics) != FLOE_OK)
            return FLOE_ENOMEM;
        m = d->own_metrics;
    }
    d->buffered = floe_metrics_gauge(
        m, "floe_firehose_buffered_bytes", NULL,
        "Record bytes accepted and not yet delivered to the store.");
    d->objects = floe_metrics_counter(m,
                                      "floe_firehose_objects_delivered_total",
                                      NULL, "Objects delivered to the store.");
    d->bytes = floe_metrics_counter(
        m, "floe_firehose_bytes_delivered_total", NULL,
        "Record bytes delivered (before compression).");
    d->put_failures = floe_metrics_counter(
        m, "floe_firehose_store_put_failures_total", NULL,
        "Store puts that failed (and were retried).");
    d->error_records = floe_metrics_counter(
        m, "floe_firehose_error_output_records_total", NULL,
        "Records written to the error output after the retry window.");
    d->error_objects = floe_metrics_counter(
        m, "floe_firehose_error_output_objects_total", NULL,
        "Error-output objects written.");
    return d->buffered && d->objects && d->bytes && d->put_failures &&
                   d->error_records && d->error_objects
               ? FLOE_OK
               : FLOE_ENOMEM;
}

int floe_fh_deliver_start(const struct floe_fh_deliver_cfg *cfg,
                          struct floe_fh_deliver **out, char *err)
{
    struct floe_fh_deliver *d = calloc(1, sizeof(*d));
    int i;

    *out = NULL;
    if (d == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    if (register_metrics(d, cfg->metrics) != FLOE_OK) {
        floe_metrics_destroy(d->own_metrics);
        free(d);
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    }
    d->store = cfg->store;
    d->wal = cfg->wal;
    d->max_buffered = cfg->max_buffered;
    d->retry_window_ms = cfg->retry_window_ms > 0 ? cfg->retry_window_ms
                                                  : 24LL * 3600 * 1000;
    pthread_mutex_init(&d->slots_mu, NULL);
    pthread_mutex_init(&d->qmu, NULL);
    pthread_cond_init(&d->qcv, NULL);
    pthread_cond_init(&d->drained, NULL);
    pthread_mutex_init(&d->tick_mu, NULL);
    pthread_cond_init(&d->tick_cv, NULL);
    d->workers = calloc((size_t)(cfg->workers > 0 ? cfg->workers : 1),
                        sizeof(pthread_t));
    if (d->workers == NULL) {
        floe_fh_deliver_stop(d);
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    }
    for (i = 0; i < (cfg->workers > 0 ? cfg->workers : 1); i++) {
        if (pthread_create(&d->workers[i], NULL, worker_main, d) != 0)
            break;
        d->nworkers++;
    }
    if (d->nworkers > 0 &&
        pthread_create(&d->ticker, NULL, ticker_main, d) == 0)
        d->ticker_started = true;
    if (!d->ticker_started) {
        floe_fh_deliver_stop(d);
        return floe_err(err, FLOE_EIO, "cannot start delivery threads");
    }
    *out = d;
    return FLOE_OK;
}

void floe_fh_deliver_abort(struct floe_fh_deliver *d)
{
    atomic_store(&d->abort, true);
}

void floe_fh_deliver_stop(struct floe_fh_deliver *d)
{
    int i;

    if (d == NULL)
        return;
    if (d->ticker_started) {
        pthread_mutex_lock(&d->tick_mu);
        d->stop_ticker = true;
        pthread_cond_signal(&d->tick_cv);
        pthread_mutex_unlock(&d->tick_mu);
        pthread_join(d->ticker, NULL);
    }
    sweep(d, true);
    pthread_mutex_lock(&d->qmu);
    while (d->nworkers > 0 && (d->qhead != NULL || d->inflight > 0))
        pthread_cond_wait(&d->drained, &d->qmu);
    d->exit_workers = true;
    pthread_cond_broadcast(&d->qcv);
    pthread_mutex_unlock(&d->qmu);
    for (i = 0; i < d->nworkers; i++)
        pthread_join(d->workers[i], NULL);
    floe_log_info("delivery stopped: %lld objects, %lld bytes delivered, "
                  "%lld bytes left undelivered",
                  (long long)floe_counter_get(d->objects),
                  (long long)floe_counter_get(d->bytes),
                  (long long)floe_gauge_get(d->buffered));
    while (d->qhead != NULL) { /* only when no worker ever started */
        struct gen *g = d->qhead;

        d->qhead = g->next;
        gen_free(g);
    }
    free(d->workers);
    pthread_mutex_destroy(&d->slots_mu);
    pthread_mutex_destroy(&d->qmu);
    pthread_cond_destroy(&d->qcv);
    pthread_cond_destroy(&d->drained);
    pthread_mutex_destroy(&d->tick_mu);
    pthread_cond_destroy(&d->tick_cv);
    floe_metrics_destroy(d->own_metrics);
    free(d);
}
