/* flow.c - one flow at run time (flow.h): start positions, line to record
 * (convert in place into the batch, aggregate), the FIFO of closed
 * batches, concurrent sends with an adaptive window and backoff, splits on
 * 413, checkpoints of the acknowledged prefix, metrics. Memory: the bytes
 * of every live batch (records + record table), in flight or not, count
 * against --max-buffered-bytes (bodies are streamed, never stored), and at
 * most MAX_FREE_BATCHES small ones are kept for reuse, so what the flows
 * hold stays near that bound. A flow whose sends fail may hold no more
 * than its share of it, so a dead stream never starves the others. */
#define FLOE_LOG_MOD "agent.flow"
#include "agent/flow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/rotate.h"
#include "core/b64.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_FREE_BATCHES 2
#define FREE_KEEP_CAP (256 * 1024) /* bigger data buffers are not kept */
#define SCAN_INTERVAL_MS 1000
#define COPY_WAIT_MS 5000 /* a new file that may be a copy in progress */
#define WINDOW_START 2.0
#define MAX_READY 2 /* closed batches waiting to go before reading pauses */
#define MIN_LEARNT_BYTES 4096 /* a 413 never shrinks batches below this */

int floe_flow_init(struct floe_flow *f, struct floe_agent_flow *cfg,
                   struct floe_flow_shared *sh, struct floe_ckpt *ck,
                   struct floe_metrics *m, char *err)
{
    int rc;

    memset(f, 0, sizeof(*f));
    f->cfg = cfg;
    f->sh = sh;
    f->ck = ck;
    rc = floe_stats_flow(m, cfg->id, cfg->stream, &f->st);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "%s: cannot register metrics", cfg->id);
    f->window = WINDOW_START;
    f->ssthresh = (double)sh->max_in_flight;
    f->max_bytes = (size_t)cfg->max_buffer_bytes;
    rc = floe_tail_init(&f->tail, cfg->file_pattern, cfg->trunc_term,
                        cfg->trunc_term_len, err);
    f->tail.start_re = cfg->start_re;
    return rc;
}

static void batch_destroy(struct floe_batch *b)
{
    floe_batch_free(b);
    free(b);
}

void floe_flow_free(struct floe_flow *f)
{
    struct floe_batch *b, *next;

    if (f == NULL)
        return;
    batch_destroy(f->open);
    for (b = f->qhead; b != NULL; b = next) {
        next = b->next;
        batch_destroy(b);
    }
    floe_tail_free(&f->tail);
    memset(f, 0, sizeof(*f));
}

void floe_flow_shared_free(struct floe_flow_shared *sh)
{
    struct floe_batch *b, *next;

    for (b = sh->free_list; b != NULL; b = next) {
        next = b->next;
        batch_destroy(b);
    }
    sh->free_list = NULL;
    sh->nfree = 0;
}

/* Bytes held by this flow's batches change by `d` (both tallies). */
static void account(struct floe_flow *f, ptrdiff_t d)
{
    f->sh->buffered = (size_t)((ptrdiff_t)f->sh->buffered + d);
    f->buffered = (size_t)((ptrdiff_t)f->buffered + d);
}

/* A batch to fill; its record table counts as buffered from now on (with
 * tiny lines the tables would otherwise dwarf the records). */
static struct floe_batch *batch_get(struct floe_flow *f)
{
    struct floe_batch *b = f->sh->free_list;

    if (b != NULL) {
        f->sh->free_list = b->next;
        f->sh->nfree--;
        floe_batch_reset(b);
        b->max_records = (size_t)f->cfg->max_buffer_records;
        b->max_bytes = f->max_bytes;
    } else {
        b = malloc(sizeof(*b));
        if (b == NULL)
            return NULL;
        floe_batch_init(b, (size_t)f->cfg->max_buffer_records,
                        f->max_bytes);
    }
    account(f, (ptrdiff_t)sizeof(*b));
    return b;
}

static void batch_put(struct floe_flow *f, struct floe_batch *b)
{
    account(f, -(ptrdiff_t)(b->data.len + sizeof(*b)));
    if (f->sh->nfree >= MAX_FREE_BATCHES) {
        batch_destroy(b);
        return;
    }
    if (b->data.cap > FREE_KEEP_CAP)
        floe_buf_free(&b->data); /* a big one: keep the table only */
    b->next = f->sh->free_list;
    f->sh->free_list = b;
    f->sh->nfree++;
}

static void close_open(struct floe_flow *f)
{
    struct floe_batch *b = f->open;

    if (b == NULL || b->n == 0)
        return;
    f->open = NULL;
    b->next = NULL;
    b->state = FLOE_BATCH_QUEUED;
    f->nready++;
    if (f->qtail != NULL)
        f->qtail->next = b;
    else
        f->qhead = b;
    f->qtail = b;
    f->nqueued++;
    floe_log_debug("%s: buffer of %zu records (%zu bytes) closed",
                   f->cfg->id, b->n, b->data.len);
}

/* Where a newly found file starts. A checkpoint row is its own when the
 * device, inode and fingerprint (first bytes) match: a file deleted and
 * created again with the same inode is another file. */
static int start_file(struct floe_flow *f, struct floe_tail_file *tf)
{
    struct floe_ckpt_row row;
    int64_t skip = f->cfg->skip_header_lines;
    uint64_t off = 0;
    bool first = tf->first, successor = false;
    int rc;

    _Static_assert(sizeof(row.file_id) == sizeof(tf->file_id),
                   "the checkpoint stores the tracker's file identity");
    rc = floe_ckpt_get(f->ck, f->cfg->id, tf->path, &row);
    if (rc == FLOE_OK && !floe_tail_same_file(tf, row.file_id)) {
        /* Another file lives at that path now (read from its start, not
         * from initialPosition: it came after the checkpointed one). */
        floe_log_info("%s: the checkpoint of this path is for another file "
                      "(%s; this one is %s)", tf->path, row.file_id,
                      tf->file_id);
        successor = true;
        rc = FLOE_ENOTFOUND;
    }
    if (rc == FLOE_ENOTFOUND)
        rc = floe_ckpt_find_id(f->ck, f->cfg->id, tf->file_id,
                               floe_tail_match_id, tf, &row);
    if (rc == FLOE_OK) {
        if (row.offset <= tf->size) {
            floe_log_info("%s: resuming at offset %" PRId64
                          " from the checkpoint", tf->path, row.offset);
            return floe_tail_seek(tf, (uint64_t)row.offset, 0);
        }
        floe_log_warn("%s: checkpoint offset %" PRId64 " is past the end "
                      "(%" PRId64 " bytes): the file was truncated; reading "
                      "it from the start", tf->path, row.offset, tf->size);
        return floe_tail_seek(tf, 0, skip);
    }
    if (rc != FLOE_ENOTFOUND)
        return rc;
    if (!first) {
        int copy = floe_rotate_find_copy(&f->tail, tf, &off);

        if (copy > 0)
            return floe_tail_seek(tf, off, 0);
        if (copy < 0 && floe_mono_ms() - tf->first_seen_ms < COPY_WAIT_MS)
            return FLOE_OK; /* maybe a copy being written: next scan */
        if (copy < 0) {
            floe_log_info("%s: %llu bytes matching the start of a file "
                          "already read; starting at offset %llu", tf->path,
                          (unsigned long long)tf->size,
                          (unsigned long long)off);
            return floe_tail_seek(tf, off, skip);
        }
    }
    if (first && !successor &&
        f->cfg->initial_position == FLOE_AGENT_END_OF_FILE) {
        rc = floe_tail_end_offset(tf, &off);
        if (rc != FLOE_OK)
            return rc;
        floe_log_info("%s: no checkpoint; starting at the end (offset %"
                      PRIu64 ", initialPosition END_OF_FILE)", tf->path, off);
        return floe_tail_seek(tf, off, 0);
    }
    return floe_tail_seek(tf, 0, skip);
}

/* Decide the start of every new file that has a descriptor (the others
 * wait for one). */
static int start_new(struct floe_flow *f)
{
    size_t i;
    int rc;

    for (i = 0; i < f->tail.nfiles; i++) {
        struct floe_tail_file *tf = f->tail.files[i];

        if (tf != NULL && tf->is_new && tf->fd >= 0) {
            rc = start_file(f, tf);
            if (rc != FLOE_OK)
                return rc;
        }
    }
    return FLOE_OK;
}

int floe_flow_scan(struct floe_flow *f, int64_t now_ms)
{
    bool first;
    int rc;

    f->next_scan_ms = now_ms + SCAN_INTERVAL_MS;
    rc = floe_tail_scan(&f->tail, &first);
    if (rc != FLOE_OK && rc != FLOE_EIO)
        return rc;
    return start_new(f);
}

/* May the flow take more lines? Not while MAX_READY closed batches wait
 * for the window (reading ahead of the sender only holds memory); not
 * above the budget; and while its sends fail, not above its share of it
 * (the rest stays for healthy flows). */
static bool may_read(const struct floe_flow *f)
{
    const struct floe_flow_shared *sh = f->sh;

    return f->nready < MAX_READY && sh->buffered < sh->max_buffered &&
           (f->failures < 1 || sh->nflows <= 1 ||
            f->buffered < sh->max_buffered / sh->nflows);
}

/* The tail callback: one line becomes one record in the open batch, or
 * joins the last one (aggregatedRecordSizeBytes). */
static int on_line(void *ctx, uint32_t slot, const struct floe_tail_line *l)
{
    struct floe_flow *f = ctx;
    struct floe_agent_flow *cfg = f->cfg;
    struct floe_batch *b;
    struct floe_rec_src src;
    size_t start, len;
    int rc, tries;

    if (!may_read(f))
        return FLOE_EAGAIN; /* back-pressure: the line comes again */
    for (tries = 0;; tries++) {
        if (f->open == NULL) {
            f->open = batch_get(f);
            if (f->open == NULL)
                return FLOE_ENOMEM;
        }
        b = f->open;
        start = b->data.len;
        rc = floe_convert_apply(&cfg->conv, l->line, l->len, &b->data);
        if (rc == FLOE_ENOTFOUND) {
            /* A converter dropped it (LOGTOJSON: no match): counted. */
            floe_counter_add(f->st.skipped, 1);
            floe_counter_add(f->st.parsed, 1);
            floe_counter_add(f->st.parsed_bytes, l->len);
            return FLOE_OK;
        }
        if (rc == FLOE_OK && l->no_newline && cfg->conv.n == 0)
            rc = floe_buf_addc(&b->data, '\n');
        if (rc == FLOE_ETOOBIG && b->n > 0 && tries == 0) {
            b->data.len = start;
            b->data.data[start] = '\0';
            close_open(f);
            continue;
        }
        break;
    }
    if (rc != FLOE_OK)
        return rc;
    len = b->data.len - start;
    if (len > FLOE_RECORD_MAX_BYTES) {
        /* The converted record is over the API limit: cut it like the
         * Kinesis Agent cuts raw lines. */
        b->data.len = start + FLOE_RECORD_MAX_BYTES - cfg->trunc_term_len;
        memcpy(b->data.data + b->data.len, cfg->trunc_term,
               cfg->trunc_term_len);
        b->data.len += cfg->trunc_term_len;
        b->data.data[b->data.len] = '\0';
        if (!l->truncated) /* a cut line is counted once, below */
            floe_counter_add(f->st.truncated, 1);
        floe_log_warn("%s: a converted record of %zu bytes is over %d "
                      "bytes; truncated", cfg->id, len,
                      FLOE_RECORD_MAX_BYTES);
        len = FLOE_RECORD_MAX_BYTES;
    }
    src.file = slot;
    src.gen = f->tail.files[slot]->gen;
    if (cfg->agg_bytes > 0 &&
        floe_batch_extend(b, start, src, l->end_off,
                          (size_t)cfg->agg_bytes) == FLOE_OK)
        rc = FLOE_OK;
    else
        rc = floe_batch_commit(b, start, src, l->end_off, f->now_ms);
    if (rc == FLOE_ETOOBIG && b->n > 0) {
        /* Does not fit: move the bytes to a fresh batch. */
        struct floe_batch *nb = batch_get(f);

        if (nb == NULL)
            return FLOE_ENOMEM;
        rc = floe_buf_add(&nb->data, b->data.data + start, len);
        b->data.len = start;
        b->data.data[start] = '\0';
        close_open(f);
        f->open = nb;
        if (rc == FLOE_OK)
            rc = floe_batch_commit(nb, 0, src, l->end_off, f->now_ms);
        b = nb;
    }
    if (rc != FLOE_OK)
        return rc;
    account(f, (ptrdiff_t)len);
    floe_counter_add(f->st.parsed, 1);
    floe_counter_add(f->st.parsed_bytes, l->len);
    if (l->truncated)
        floe_counter_add(f->st.truncated, 1);
    if (l->no_newline)
        floe_log_warn("%s: the last line of %s has no newline; sent as a "
                      "complete record (--exit-at-eof)", cfg->id,
                      f->tail.files[slot]->path);
    if (b->n >= b->max_records)
        close_open(f);
    return FLOE_OK;
}

int floe_flow_read(struct floe_flow *f, int64_t now_ms, size_t budget,
                   size_t *out_read)
{
    size_t i, total = 0, admitted = 0;
    uint64_t skipped = f->tail.lines_skipped;
    int rc = FLOE_OK;

    *out_read = 0;
    f->now_ms = now_ms;
    for (i = 0; i < f->tail.nfiles && total < budget; i++) {
        struct floe_tail_file *tf = f->tail.files[i];
        size_t n = 0;

        if (tf == NULL)
            continue; /* a parked file may still flush what it holds */
        if (!may_read(f))
            break;
        rc = floe_tail_read(&f->tail, (uint32_t)i, budget - total, on_line,
                            f, &n);
        total += n;
        if (rc != FLOE_OK)
            break;
        if (f->sh->exit_at_eof && tf->eof && tf->len > 0 && may_read(f))
            rc = floe_tail_flush(&f->tail, (uint32_t)i, on_line, f);
        if (rc != FLOE_OK)
            break;
    }
    /* Files read to their end make way for those waiting. */
    if (rc == FLOE_OK)
        rc = floe_tail_admit(&f->tail, &admitted);
    if (rc == FLOE_OK && admitted > 0)
        rc = start_new(f);
    floe_counter_add(f->st.lines_skipped, f->tail.lines_skipped - skipped);
    floe_counter_add(f->st.bytes_read, total);
    *out_read = total;
    return rc;
}

/* A batch fills to its record and byte limits unless its age expires.
 * Memory pressure closes it early only when the flow has nothing else on
 * its way, whose answer would free memory: then waiting cannot help. */
void floe_flow_close_due(struct floe_flow *f, int64_t now_ms, bool force)
{
    if (f->open == NULL || f->open->n == 0)
        return;
    if (force || now_ms - f->open->first_ms >= f->cfg->max_buffer_age_ms ||
        (!may_read(f) && f->qhead == NULL))
        close_open(f);
}

/* Commit `n` checkpoint rows; counted. */
static int commit(struct floe_flow *f, const struct floe_ckpt_row *rows,
                  size_t n)
{
    int rc = floe_ckpt_put(f->ck, f->cfg->id, rows, n);

    floe_counter_add(rc == FLOE_OK ? f->st.commits : f->st.commit_errors, 1);
    return rc;
}

#define CKPT_ROWS 16

/* Checkpoint rows being gathered: the newest offset per file wins. */
struct ckpt_set {
    struct floe_ckpt_row rows[CKPT_ROWS];
    uint32_t slots[CKPT_ROWS];
    size_t n;
    int rc;
};

/* Note where record `r` says its file resumes. A record read before the
 * file was truncated (an older generation) says nothing about the file's
 * new content: the file resumes where its current reading started (0
 * after a truncation), never past lines not yet acknowledged. */
static void ckpt_note(struct floe_flow *f, struct ckpt_set *cs,
                      const struct floe_batch_rec *r)
{
    uint32_t slot = r->file;
    const struct floe_tail_file *tf =
        slot < f->tail.nfiles ? f->tail.files[slot] : NULL;
    size_t j;

    if (tf == NULL)
        return;
    for (j = 0; j < cs->n && cs->slots[j] != slot; j++)
        ;
    if (j == cs->n) {
        if (cs->n == CKPT_ROWS) {
            if (commit(f, cs->rows, cs->n) != FLOE_OK)
                cs->rc = FLOE_EIO;
            cs->n = j = 0;
        }
        cs->n++;
        cs->slots[j] = slot;
        cs->rows[j].path = tf->path;
        memcpy(cs->rows[j].file_id, tf->file_id, sizeof(cs->rows[j].file_id));
    }
    cs->rows[j].mtime_ms = tf->mtime_ms;
    cs->rows[j].size = tf->size;
    cs->rows[j].offset =
        (int64_t)(tf->gen == r->gen ? r->end_off : tf->gen_off);
}

/* Pop the wholly acknowledged batches at the head of the FIFO and write
 * their checkpoint rows in one commit: the longest acknowledged prefix. */
static void advance(struct floe_flow *f)
{
    struct ckpt_set cs;
    size_t i;

    cs.n = 0;
    cs.rc = FLOE_OK;
    while (f->qhead != NULL && f->qhead->state == FLOE_BATCH_DONE) {
        struct floe_batch *b = f->qhead;

        for (i = 0; i < b->n; i++)
            ckpt_note(f, &cs, &b->recs[i]);
        f->unsaved -= b->n;
        f->qhead = b->next;
        if (f->qhead == NULL)
            f->qtail = NULL;
        f->nqueued--;
        batch_put(f, b);
    }
    if (cs.n > 0 && commit(f, cs.rows, cs.n) != FLOE_OK)
        cs.rc = FLOE_EIO;
    if (cs.rc != FLOE_OK)
        floe_log_error("%s: checkpoint not saved; those records may be "
                       "sent again after a restart", f->cfg->id);
}

/* Count one PutRecordBatch: its outcome, its records and its time. */
static void count_put(struct floe_flow *f, const struct floe_put_result *r,
                      unsigned attempt)
{
    floe_counter_add(f->st.puts, 1);
    if (attempt > 1)
        floe_counter_add(f->st.retries, 1);
    floe_histogram_observe(f->st.latency, r->secs);
    floe_counter_add(f->st.sent, r->acked);
    floe_counter_add(f->st.sent_bytes, r->acked_bytes);
    floe_counter_add(f->st.failed, r->pending - r->acked);
    if (r->rc == FLOE_EAGAIN)
        floe_counter_add(f->st.fail_partial, 1);
    else if (r->rc == FLOE_EIO)
        floe_counter_add(f->st.fail_network, 1);
    else if (r->rc != FLOE_OK)
        floe_counter_add(f->st.fail_http, 1);
}

void floe_flow_pump(struct floe_flow *f, struct floe_sender *s,
                    int64_t now_ms, bool *out_did)
{
    struct floe_batch *b;
    char err[FLOE_ERR_LEN] = "";
    size_t out = 0; /* sent and not yet checkpointed, from the head: the
                       window bounds what a crash could send twice */

    *out_did = false;
    if (now_ms < f->next_send_ms)
        return;
    for (b = f->qhead; b != NULL && (double)out + 1 <= f->window;
         b = b->next) {
        out++;
        if (b->state != FLOE_BATCH_QUEUED)
            continue;
        if (floe_sender_start(s, f->cfg->stream, b, f, err) != FLOE_OK) {
            floe_log_warn("%s: cannot send a buffer of %zu records (%s); "
                          "retrying in a second", f->cfg->id,
                          floe_batch_pending(b), err);
            f->next_send_ms = now_ms + 1000;
            return;
        }
        b->state = FLOE_BATCH_IN_FLIGHT;
        f->nready--;
        b->attempts++;
        b->sent_ms = now_ms;
        f->in_flight++;
        *out_did = true;
    }
    /* Buffers ready and not sent: only the window holds them back. */
    f->limited = f->nready > 0;
}

/* Round trips tell whether more requests in flight would help (as
 * Vector's adaptive request concurrency and TCP Vegas do): far from the
 * endpoint the round trip is mostly distance and stays near its least
 * value as the window grows, so the window grows; when the endpoint (or
 * the link) queues, round trips grow past that, and more in flight would
 * only hold memory, so growth stops, and past thrice the least value the
 * window shrinks. The least value is renewed every RTT_PERIOD_MS. */
#define RTT_PERIOD_MS 10000
#define RTT_GROW_SLACK 0.002 /* s: loop and scheduling noise */

static void window_cut(struct floe_flow *f, double factor, int64_t sent_ms,
                       int64_t now_ms);

static void note_rtt(struct floe_flow *f, double rtt, int64_t now_ms)
{
    if (f->rtt_min == 0 || rtt < f->rtt_min)
        f->rtt_min = rtt;
    if (f->rtt_min_next == 0 || rtt < f->rtt_min_next)
        f->rtt_min_next = rtt;
    if (now_ms >= f->rtt_period_ms) {
        f->rtt_min = f->rtt_min_next;
        f->rtt_min_next = 0;
        f->rtt_period_ms = now_ms + RTT_PERIOD_MS;
    }
}

/* An answer came back fine after `rtt` seconds. */
static void window_grow(struct floe_flow *f, double rtt, int64_t sent_ms,
                        int64_t now_ms)
{
    note_rtt(f, rtt, now_ms);
    if (rtt > 3 * f->rtt_min + 10 * RTT_GROW_SLACK) {
        window_cut(f, 0.9, sent_ms, now_ms);
        return;
    }
    if (rtt > 1.5 * f->rtt_min + RTT_GROW_SLACK || !f->limited)
        return; /* queueing, or not window-limited: more would not help */
    f->window += f->window < f->ssthresh ? 1.0 : 1.0 / f->window;
    if (f->window > (double)f->sh->max_in_flight)
        f->window = (double)f->sh->max_in_flight;
}

/* Cut the window by `factor` (0.5 on throttling, after which it grows by
 * one per window only; 0.9 when round trips grow, which keeps fast
 * growth), once per round of requests: only for a request sent after the
 * last cut, as TCP reacts once per window. */
static void window_cut(struct floe_flow *f, double factor, int64_t sent_ms,
                       int64_t now_ms)
{
    if (sent_ms < f->last_cut_ms)
        return;
    f->window = f->window * factor < 1 ? 1 : f->window * factor;
    if (factor <= 0.5)
        f->ssthresh = f->window; /* throttled: probe carefully from here */
    f->last_cut_ms = now_ms;
}

/* Keep a record the endpoint refuses whatever we do (alone and still too
 * large) in the rejects file with its reason, and count it: it is not
 * retried forever and not dropped silently. FLOE_EIO if it could not be
 * written (then it stays pending and is retried). */
static int reject(struct floe_flow *f, const struct floe_batch_rec *r,
                  const char *data, const char *why)
{
    const struct floe_tail_file *tf =
        r->file < f->tail.nfiles ? f->tail.files[r->file] : NULL;
    struct floe_buf line;
    int rc;

    floe_buf_init(&line, FLOE_BUF_UNLIMITED);
    rc = floe_buf_addf(&line, "{\"time_ms\":%" PRId64 ",\"flow\":",
                       floe_now_ms());
    if (rc == FLOE_OK)
        rc = floe_buf_add_json_str(&line, f->cfg->id, strlen(f->cfg->id));
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&line, ",\"file\":");
    if (rc == FLOE_OK)
        rc = tf ? floe_buf_add_json_str(&line, tf->path, strlen(tf->path))
                : floe_buf_adds(&line, "null");
    if (rc == FLOE_OK)
        rc = floe_buf_addf(&line, ",\"end_offset\":%" PRIu64 ",\"reason\":",
                           r->end_off);
    if (rc == FLOE_OK)
        rc = floe_buf_add_json_str(&line, why, strlen(why));
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&line, ",\"data_base64\":\"");
    if (rc == FLOE_OK)
        rc = floe_buf_reserve(&line, floe_b64_enc_len(r->len) + 4);
    if (rc == FLOE_OK) {
        line.len += floe_b64_enc(data, r->len, line.data + line.len);
        rc = floe_buf_adds(&line, "\"}\n");
    }
    if (rc == FLOE_OK)
        rc = floe_append_file_sync(f->sh->rejects, line.data, line.len);
    floe_buf_free(&line);
    if (rc != FLOE_OK) {
        floe_log_error("%s: cannot write a refused record to %s; keeping "
                       "it to retry", f->cfg->id, f->sh->rejects);
        return FLOE_EIO;
    }
    floe_counter_add(f->st.rejected, 1);
    floe_log_error("%s: a record of %u bytes ending at offset %" PRIu64
                   " of %s is refused by %s even alone (%s); kept in %s",
                   f->cfg->id, r->len, r->end_off, tf ? tf->path : "?",
                   f->cfg->stream, why, f->sh->rejects);
    return FLOE_OK;
}

/* The endpoint refused `b` as too large: halve what it sends from now on
 * and split `b` in two batches (the second right behind it in the FIFO,
 * so checkpoints keep their order); a lone record goes to the rejects
 * file. */
static void too_large(struct floe_flow *f, struct floe_batch *b,
                      const char *why)
{
    size_t pending = floe_batch_pending(b), half = 0, k, bytes;
    struct floe_batch *nb;

    bytes = floe_batch_pending_bytes(b) / 2;
    if (bytes < MIN_LEARNT_BYTES)
        bytes = MIN_LEARNT_BYTES;
    if (bytes < f->max_bytes) {
        f->max_bytes = bytes;
        floe_log_warn("%s: %s refuses requests this large; buffers of at "
                      "most %zu bytes from now on", f->cfg->id,
                      f->cfg->stream, bytes);
    }
    if (pending == 1) {
        for (k = 0; k < b->n && b->recs[k].acked; k++)
            ;
        if (reject(f, &b->recs[k], b->data.data + b->recs[k].off, why) ==
            FLOE_OK) {
            b->recs[k].acked = true;
            b->n_acked++;
            f->unsaved++;
            b->state = FLOE_BATCH_DONE;
            f->nready--;
        }
        return;
    }
    for (k = 0; k < b->n && half < pending / 2; k++)
        if (!b->recs[k].acked)
            half++;
    nb = batch_get(f);
    if (nb == NULL || floe_batch_split(b, k, nb) != FLOE_OK) {
        if (nb != NULL)
            batch_put(f, nb);
        floe_log_error("%s: out of memory splitting a buffer", f->cfg->id);
        return;
    }
    nb->state = FLOE_BATCH_QUEUED;
    f->nready++;
    nb->next = b->next;
    b->next = nb;
    if (f->qtail == b)
        f->qtail = nb;
    f->nqueued++;
    floe_log_info("%s: resending a buffer of %zu records as two of %zu and "
                  "%zu", f->cfg->id, pending, floe_batch_pending(b),
                  floe_batch_pending(nb));
}

void floe_flow_on_done(void *arg, const struct floe_put_result *r)
{
    struct floe_flow *f = r->ctx;
    struct floe_batch *b = r->batch;
    int64_t now = floe_mono_ms(), d;

    (void)arg;
    f->in_flight--;
    f->unsaved += r->acked;
    count_put(f, r, b->attempts);
    if (r->rc == FLOE_OK) {
        b->state = FLOE_BATCH_DONE;
        f->failures /= 10;
        window_grow(f, r->secs, r->started_ms, now);
        floe_log_debug("%s: %zu records sent to %s (attempt %u)", f->cfg->id,
                       r->pending, f->cfg->stream, b->attempts);
        advance(f);
        return;
    }
    b->state = FLOE_BATCH_QUEUED;
    f->nready++;
    if (r->rc == FLOE_ETOOBIG) {
        too_large(f, b, r->err);
        advance(f);
        return;
    }
    if (r->throttled)
        window_cut(f, 0.5, r->started_ms, now);
    if (r->rc == FLOE_EAGAIN)
        f->failures += (double)(r->pending - r->acked) / (double)r->pending;
    else
        f->failures += 1;
    d = floe_send_backoff_ms(f->failures, f->cfg->retry_initial_ms,
                             f->cfg->retry_max_ms);
    if (now + d > f->next_send_ms)
        f->next_send_ms = now + d;
    if (r->rc == FLOE_EAGAIN)
        floe_log_warn("%s: %zu of %zu records rejected by %s (%s); "
                      "resending only those in %" PRId64 " ms", f->cfg->id,
                      r->pending - r->acked, r->pending, f->cfg->stream,
                      r->err, d);
    else
        floe_log_warn("%s: PutRecordBatch of %zu records to %s failed "
                      "(%s); retrying in %" PRId64 " ms", f->cfg->id,
                      r->pending, f->cfg->stream, r->err, d);
}

bool floe_flow_drained(const struct floe_flow *f)
{
    size_t i;

    if (f->qhead != NULL || (f->open != NULL && f->open->n > 0))
        return false;
    for (i = 0; i < f->tail.nfiles; i++) {
        const struct floe_tail_file *tf = f->tail.files[i];

        /* Waiting for a descriptor (is_new), parked but changed since
         * (grew) or not read to its end: not done. */
        if (tf != NULL && !tf->replaced &&
            (tf->is_new || tf->grew || !tf->eof || tf->len > 0))
            return false;
    }
    return true;
}

int64_t floe_flow_deadline(const struct floe_flow *f)
{
    int64_t d = f->next_scan_ms;

    if (f->qhead != NULL && f->next_send_ms < d &&
        (double)f->in_flight + 1 <= f->window)
        d = f->next_send_ms;
    if (f->open != NULL && f->open->n > 0 &&
        f->open->first_ms + f->cfg->max_buffer_age_ms < d)
        d = f->open->first_ms + f->cfg->max_buffer_age_ms;
    return d;
}

void floe_flow_gauges(const struct floe_flow *f)
{
    size_t i, open = 0;

    for (i = 0; i < f->tail.nfiles; i++)
        if (f->tail.files[i] != NULL && f->tail.files[i]->fd >= 0)
            open++;
    floe_gauge_set(f->st.behind, (int64_t)floe_tail_behind(&f->tail));
    floe_gauge_set(f->st.open_files, (int64_t)open);
    floe_gauge_set(f->st.queued, (int64_t)(f->nqueued - f->in_flight));
    floe_gauge_set(f->st.in_flight, (int64_t)f->in_flight);
    floe_gauge_set(f->st.window, (int64_t)f->window);
    floe_gauge_set(f->st.unsaved, (int64_t)f->unsaved);
}
