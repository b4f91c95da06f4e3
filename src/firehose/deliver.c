/* deliver.c - stream buffers, sealing and delivery workers.
 * Lock order: d->slots_mu -> slot->mu -> d->qmu. Request threads only take
 * slot->mu (and qmu to hand over a sealed buffer); compression and the put
 * run on worker threads without any lock. A sealed buffer ("gen") keeps
 * its WAL segment references until its object is in the store, so a crash
 * at any point replays it (at-least-once, never lost).
 * A worker makes one store attempt per turn and never sleeps on a gen: a
 * transient failure puts the gen back in the queue and backs its stream
 * ("lane") off, so a failing stream waits in the queue, not in a thread,
 * and the others keep every worker. A permanent failure goes to the error
 * output at once; error-output attempts are bounded; what is given up on
 * stays in the WAL and is delivered at the next start. */
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

/* A stream's delivery state, shared by its slot and every gen it sealed
 * (a deleted or updated stream's gens keep it). Every member is guarded
 * by d->qmu; freed with its last reference. */
struct lane {
    char name[FLOE_FH_NAME_MAX + 1];
    int refs;           /* the slot's, while attached, and each gen's */
    int inflight;       /* its gens being attempted now */
    int64_t backoff_ms; /* 0 = healthy; else the last transient failure's */
    int64_t not_before; /* monotonic ms: no attempt before (backoff) */
    bool deleted;       /* DeleteDeliveryStream: no more retry window */
    /* Read by request threads without d->qmu: */
    atomic_bool failing;          /* backing off after a transient error */
    _Atomic int64_t queued_bytes; /* of its sealed gens not yet settled */
};

/* Where a gen's delivery stands. */
enum phase {
    PH_PUT,      /* the object under its key */
    PH_ERROR,    /* its records under the error-output key */
    PH_FALLBACK, /* the error output was refused: the fallback key */
};

/* What one attempt decided. */
enum outcome {
    OUT_DONE,  /* in the store (object or error output) */
    OUT_RETRY, /* transient failure: back to the queue, lane backed off */
    OUT_KEEP,  /* given up for now: the records stay in the WAL */
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
    char *fkey;          /* fallback error key (no prefixes), when sealed */
    enum floe_fh_compression comp;
    struct lane *lane;   /* one reference, taken when sealed */
    enum phase phase;
    int attempts;        /* primary puts tried */
    int eattempts;       /* error-output puts tried */
    int store_rc;        /* the last primary put's error */
    char reason[FLOE_ERR_LEN]; /* its words (floe_store_strerror) */
    int64_t deadline;    /* monotonic end of the retry window; 0 = unset */
    bool skip;           /* give up without an attempt (abort, stopping) */
    struct gen *next;
};

struct floe_fh_slot {
    pthread_mutex_t mu;
    char name[FLOE_FH_NAME_MAX + 1];
    const struct floe_fh_stream *s; /* naming; valid while attached */
    int64_t size_bytes;
    int64_t interval_ms;
    struct gen *cur;
    struct lane *lane;   /* one reference */
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
        *error_objects, *kept;
    atomic_bool abort;

    pthread_mutex_t slots_mu;
    struct floe_fh_slot *slots;

    pthread_mutex_t qmu;
    pthread_cond_t qcv;      /* work queued, backoff over, or exit
                                (CLOCK_MONOTONIC) */
    pthread_cond_t drained;  /* queue empty and nothing in flight */
    struct gen *qhead, *qtail;
    int inflight;
    bool stopping;           /* shutdown: one last try, no retries */
    bool exit_workers;
    unsigned int jitter;     /* rand_r state for backoff jitter */

    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    bool stop_ticker;

    pthread_t ticker;
    bool ticker_started;
    pthread_t *workers;
    int nworkers;
    bool finished;           /* floe_fh_deliver_finish ran */
};

/* Drop one reference on `l` (NULL is a no-op). d->qmu held. */
static void lane_unref(struct lane *l)
{
    if (l != NULL && --l->refs == 0)
        free(l);
}

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
    free(g->fkey);
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

/* Append `g` to the delivery queue. d->qmu held. */
static void enqueue(struct floe_fh_deliver *d, struct gen *g)
{
    g->next = NULL;
    if (d->qtail)
        d->qtail->next = g;
    else
        d->qhead = g;
    d->qtail = g;
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
    floe_buf_reset(&key);
    /* Where the records go when the store refuses the error output too:
     * <bucket>/s3-delivery-failed/yyyy/MM/dd/HH/..., no prefix at all. */
    if (floe_fh_error_key(s->bucket, "", "", FLOE_FH_ERROR_TYPE_S3, s->name,
                          s->version, local_ms,
                          floe_fh_compression_ext(g->comp), &key,
                          err) == FLOE_OK)
        g->fkey = floe_buf_take(&key, NULL);
    floe_buf_free(&key);
    pthread_mutex_lock(&d->qmu);
    g->lane = slot->lane;
    g->lane->refs++;
    atomic_fetch_add(&g->lane->queued_bytes, (int64_t)g->data.len);
    enqueue(d, g);
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
                        size_t *out_bad, uint64_t *out_sync)
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
    *out_sync = 0;
    if (slot == NULL) /* re-attach after an update ran out of memory */
        return FLOE_ENOMEM;
    /* A stream whose store puts keep failing may fill a quarter of the
     * budget, so the others keep room to buffer (back-pressure on it
     * alone). */
    if (atomic_load(&slot->lane->failing) &&
        atomic_load(&slot->lane->queued_bytes) >= d->max_buffered / 4)
        return n > 0 ? FLOE_EAGAIN : FLOE_OK;
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
    *out_sync = seq;
    *out_accepted = k;
    return FLOE_OK;
fail:
    if (fresh)
        gen_free(g);
    pthread_mutex_unlock(&slot->mu);
    floe_gauge_add(d->buffered, -(int64_t)total);
    return rc;
}

int floe_fh_deliver_sync(struct floe_fh_deliver *d, uint64_t sync)
{
    return d->wal != NULL ? floe_fh_wal_sync(d->wal, sync) : FLOE_OK;
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
    struct lane *lane = calloc(1, sizeof(*lane));

    if (slot == NULL || lane == NULL) {
        free(slot);
        free(lane);
        return FLOE_ENOMEM;
    }
    pthread_mutex_init(&slot->mu, NULL);
    snprintf(slot->name, sizeof(slot->name), "%s", s->name);
    snprintf(lane->name, sizeof(lane->name), "%s", s->name);
    lane->refs = 1;
    atomic_init(&lane->failing, false);
    atomic_init(&lane->queued_bytes, 0);
    slot->lane = lane;
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

static void detach(struct floe_fh_deliver *d, struct floe_fh_stream *s,
                   bool deleted)
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
    pthread_mutex_lock(&d->qmu);
    if (deleted) {
        /* Its gens get one more try now, then the error output. */
        slot->lane->deleted = true;
        slot->lane->not_before = 0;
        pthread_cond_broadcast(&d->qcv);
    }
    lane_unref(slot->lane);
    pthread_mutex_unlock(&d->qmu);
    pthread_mutex_destroy(&slot->mu);
    free(slot);
    s->slot = NULL;
}

void floe_fh_deliver_detach(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s)
{
    detach(d, s, false);
}

void floe_fh_deliver_delete(struct floe_fh_deliver *d,
                            struct floe_fh_stream *s)
{
    detach(d, s, true);
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

/* The error-output document of every record of `g`, one JSON per line. */
static int error_docs(const struct gen *g, int attempts,
                      struct floe_buf *out)
{
    size_t r = 0, off = 0, run = 0, in_run = 0, i;
    int64_t now = floe_now_ms();
    char msg[FLOE_STORE_KEY_MAX + FLOE_ERR_LEN + 64];
    int rc = FLOE_OK;

    snprintf(msg, sizeof(msg), "could not put %s into the store: %s",
             g->key ? g->key : "the object", g->reason);
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

/* One error-output put of `g` (phase PH_ERROR or PH_FALLBACK); a
 * refused error-output key falls back once to the fallback key. */
static enum outcome error_attempt(struct floe_fh_deliver *d, struct gen *g,
                                  bool stopping,
                                  struct libdeflate_compressor *c,
                                  struct floe_buf *z)
{
    struct floe_buf docs;
    const void *body;
    size_t len;
    int rc;

    for (;;) {
        const char *key = g->phase == PH_ERROR ? g->ekey : g->fkey;

        floe_buf_init(&docs, FLOE_BUF_UNLIMITED);
        rc = error_docs(g, g->attempts, &docs);
        if (rc == FLOE_OK)
            rc = encode(g, key, docs.data ? docs.data : "", docs.len, c, z,
                        &body, &len);
        if (rc == FLOE_OK) {
            rc = key ? floe_store_put(d->store, key, body, len)
                     : FLOE_ENOMEM;
            g->eattempts++;
        } else {
            floe_log_error("%s: cannot build its error output: %s",
                           g->lane->name, floe_strerror(rc));
            floe_buf_free(&docs);
            return OUT_KEEP;
        }
        floe_buf_free(&docs);
        if (rc == FLOE_OK) {
            floe_log_error("%zu records (%zu bytes) of %s could not be "
                           "delivered after %d attempts (%s): written to "
                           "the error output %s", g->nrec, g->data.len,
                           g->key ? g->key : "an object", g->attempts,
                           g->reason, key);
            floe_counter_add(d->error_records, g->nrec);
            floe_counter_add(d->error_objects, 1);
            return OUT_DONE;
        }
        floe_counter_add(d->put_failures, 1);
        if (key != NULL && floe_store_transient(rc)) {
            if (!stopping && g->eattempts < FLOE_FH_ERROR_ATTEMPTS) {
                floe_log_warn("error output %s failed (%s); retrying",
                              key, floe_store_strerror(rc));
                return OUT_RETRY;
            }
            floe_log_error("error output %s failed (%s) after %d attempts",
                           key, floe_store_strerror(rc), g->eattempts);
            return OUT_KEEP;
        }
        if (g->phase == PH_ERROR && g->fkey != NULL) {
            floe_log_error("error output %s refused by the store (%s): "
                           "writing %s instead", key ? key : "(unnamed)",
                           floe_store_strerror(rc), g->fkey);
            g->phase = PH_FALLBACK;
            continue;
        }
        floe_log_error("error output %s refused by the store (%s)",
                       key ? key : "(unnamed)", floe_store_strerror(rc));
        return OUT_KEEP;
    }
}

/* One delivery attempt of `g`: a put of its object, or of its error
 * output once the object failed for good (permanent error, retry window
 * over, stream deleted). Never sleeps: a transient failure is OUT_RETRY
 * and the caller backs the lane off. While `stopping` nothing is retried
 * (the WAL keeps it for the next start). */
static enum outcome attempt(struct floe_fh_deliver *d, struct gen *g,
                            bool stopping, bool deleted,
                            struct libdeflate_compressor *c,
                            struct floe_buf *z)
{
    const void *body;
    size_t len;
    int rc;

    if (g->phase != PH_PUT)
        return error_attempt(d, g, stopping, c, z);
    if (g->deadline == 0)
        g->deadline = floe_mono_ms() + d->retry_window_ms;
    rc = encode(g, g->key, g->data.data, g->data.len, c, z, &body, &len);
    if (rc != FLOE_OK) {
        floe_log_error("%s: cannot compress %zu bytes: %s", g->lane->name,
                       g->data.len, floe_strerror(rc));
        return OUT_KEEP;
    }
    rc = g->key ? floe_store_put(d->store, g->key, body, len) : FLOE_ENOMEM;
    g->attempts++;
    if (rc == FLOE_OK) {
        floe_log_debug("delivered %s (%zu bytes, %zu stored)", g->key,
                       g->data.len, len);
        floe_counter_add(d->objects, 1);
        floe_counter_add(d->bytes, g->data.len);
        return OUT_DONE;
    }
    floe_counter_add(d->put_failures, 1);
    g->store_rc = rc;
    snprintf(g->reason, sizeof(g->reason), "%s", floe_store_strerror(rc));
    if (g->key != NULL && floe_store_transient(rc)) {
        if (stopping) {
            floe_log_warn("put %s failed (%s) while stopping", g->key,
                          g->reason);
            return OUT_KEEP;
        }
        if (!deleted && floe_mono_ms() < g->deadline) {
            floe_log_warn("put %s failed (%s); retrying (attempt %d)",
                          g->key, g->reason, g->attempts);
            return OUT_RETRY;
        }
        floe_log_warn("put %s failed (%s): %s after %d attempts", g->key,
                      g->reason,
                      deleted ? "stream deleted" : "retry window over",
                      g->attempts);
    } else {
        floe_log_warn("put %s refused by the store (%s, permanent): "
                      "writing the error output", g->key ? g->key
                                                         : "(unnamed)",
                      g->reason);
    }
    g->phase = PH_ERROR;
    return error_attempt(d, g, stopping, c, z);
}

/* The first queued gen that may be attempted now (unlinked), or NULL;
 * *out_wake is the earliest end of a backoff among the others (-1 =
 * none). A gen waiting on its lane's backoff while stopping or aborted
 * is taken to be given up (skip). d->qmu held. */
static struct gen *take(struct floe_fh_deliver *d, int64_t now,
                        int64_t *out_wake)
{
    struct gen **pp, *prev = NULL;
    bool abort = atomic_load(&d->abort);

    *out_wake = -1;
    for (pp = &d->qhead; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
        struct gen *g = *pp;
        struct lane *l = g->lane;
        /* A lane backing off probes with one gen at a time. */
        bool waiting = l->not_before > now ||
                       (l->backoff_ms > 0 && l->inflight > 0);

        if (waiting && !abort && !d->stopping) {
            if (l->not_before > now &&
                (*out_wake < 0 || l->not_before < *out_wake))
                *out_wake = l->not_before;
            continue;
        }
        *pp = g->next;
        if (d->qtail == g)
            d->qtail = prev;
        g->next = NULL;
        g->skip = abort || waiting;
        return g;
    }
    return NULL;
}

/* Wait for work, or until `wake` (monotonic ms, -1 = no deadline). */
static void wait_work(struct floe_fh_deliver *d, int64_t wake)
{
    struct timespec ts;

    if (wake < 0) {
        pthread_cond_wait(&d->qcv, &d->qmu);
        return;
    }
    ts.tv_sec = (time_t)(wake / 1000);
    ts.tv_nsec = (long)(wake % 1000) * 1000000L;
    pthread_cond_timedwait(&d->qcv, &d->qmu, &ts);
}

/* Record `out` for `g`'s lane: success clears its backoff, a transient
 * failure doubles it (with jitter) and requeues `g`. d->qmu held. */
static void settle(struct floe_fh_deliver *d, struct gen *g,
                   enum outcome out)
{
    struct lane *l = g->lane;

    l->inflight--;
    if (out != OUT_RETRY)
        atomic_fetch_sub(&l->queued_bytes, (int64_t)g->data.len);
    if (out == OUT_DONE) {
        l->backoff_ms = 0;
        l->not_before = 0;
        atomic_store(&l->failing, false);
    } else if (out == OUT_RETRY) {
        int64_t b = l->backoff_ms * 2;
        /* never longer than the window it waits in */
        int64_t max = d->retry_window_ms < BACKOFF_MAX_MS ? d->retry_window_ms
                                                          : BACKOFF_MAX_MS;

        b = b < BACKOFF_MIN_MS ? BACKOFF_MIN_MS : b > max ? max : b;
        l->backoff_ms = b;
        atomic_store(&l->failing, true);
        /* Jitter: wait between half and the whole backoff. */
        l->not_before = floe_mono_ms() + b / 2 +
                        (int64_t)(rand_r(&d->jitter) % (unsigned)(b / 2 + 1));
        enqueue(d, g);
    }
    /* Others may wait on this lane's backoff or probe. */
    pthread_cond_broadcast(&d->qcv);
}

/* A gen given up on for now: its WAL references stay pinned, so the next
 * start replays and delivers it. */
static void keep(struct floe_fh_deliver *d, struct gen *g)
{
    floe_counter_add(d->kept, 1);
    floe_log_error("%s: %zu records (%zu bytes) not delivered%s",
                   g->lane->name, g->nrec, g->data.len,
                   d->wal ? ": kept in the write-ahead log, delivered at "
                            "the next start"
                          : " and LOST (no write-ahead log)");
}

static void *worker_main(void *arg)
{
    struct floe_fh_deliver *d = arg;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    struct floe_buf z;

    floe_buf_init(&z, FLOE_BUF_UNLIMITED);
    pthread_mutex_lock(&d->qmu);
    for (;;) {
        struct gen *g;
        enum outcome out;
        bool stopping, deleted;
        int64_t wake;

        g = take(d, floe_mono_ms(), &wake);
        if (g == NULL) {
            if (d->exit_workers && d->qhead == NULL)
                break;
            wait_work(d, wake);
            continue;
        }
        d->inflight++;
        g->lane->inflight++;
        stopping = d->stopping;
        deleted = g->lane->deleted;
        pthread_mutex_unlock(&d->qmu);

        if (g->skip || c == NULL)
            out = OUT_KEEP;
        else
            out = attempt(d, g, stopping, deleted, c, &z);
        if (out == OUT_DONE && d->wal != NULL && g->nrefs > 0)
            floe_fh_wal_done(d->wal, g->refs, g->nrefs);
        if (out == OUT_KEEP)
            keep(d, g);
        if (out != OUT_RETRY)
            floe_gauge_add(d->buffered, -(int64_t)g->data.len);

        pthread_mutex_lock(&d->qmu);
        settle(d, g, out);
        if (out != OUT_RETRY) {
            lane_unref(g->lane);
            gen_free(g);
        }
        d->inflight--;
        if (d->qhead == NULL && d->inflight == 0)
            pthread_cond_broadcast(&d->drained);
    }
    pthread_mutex_unlock(&d->qmu);
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
        "Records written to the error output (the store refused their object, "
        "or the retry window ran out).");
    d->error_objects = floe_metrics_counter(
        m, "floe_firehose_error_output_objects_total", NULL,
        "Error-output objects written.");
    d->kept = floe_metrics_counter(
        m, "floe_firehose_undelivered_objects_total", NULL,
        "Objects given up on until the next start (the store and the "
        "error output both failing, or the store failing at shutdown): "
        "their records stay in the write-ahead log.");
    return d->buffered && d->objects && d->bytes && d->put_failures &&
                   d->error_records && d->error_objects && d->kept
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
    {   /* timed waits on the monotonic clock (backoff ends) */
        pthread_condattr_t attr;

        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&d->qcv, &attr);
        pthread_condattr_destroy(&attr);
    }
    d->jitter = (unsigned int)floe_mono_ms();
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
    pthread_mutex_lock(&d->qmu);
    pthread_cond_broadcast(&d->qcv);
    pthread_mutex_unlock(&d->qmu);
}

void floe_fh_deliver_finish(struct floe_fh_deliver *d)
{
    int i;

    if (d == NULL || d->finished)
        return;
    d->finished = true;
    if (d->ticker_started) {
        pthread_mutex_lock(&d->tick_mu);
        d->stop_ticker = true;
        pthread_cond_signal(&d->tick_cv);
        pthread_mutex_unlock(&d->tick_mu);
        pthread_join(d->ticker, NULL);
    }
    sweep(d, true);
    pthread_mutex_lock(&d->qmu);
    d->stopping = true;
    pthread_cond_broadcast(&d->qcv);
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
}

void floe_fh_deliver_stop(struct floe_fh_deliver *d)
{
    if (d == NULL)
        return;
    floe_fh_deliver_finish(d);
    while (d->qhead != NULL) { /* only when no worker ever started */
        struct gen *g = d->qhead;

        d->qhead = g->next;
        lane_unref(g->lane);
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
