/* flow.c - one flow at run time (flow.h): start positions, line to record
 * (convert in place into the batch), batch queue, send with backoff,
 * checkpoint after the whole batch was acknowledged, metrics. Memory: the
 * bytes of every live batch (records + record table) count against
 * --max-buffered-bytes, and at most MAX_FREE_BATCHES small ones are kept
 * for reuse, so what the flows hold stays near that bound. */
#define FLOE_LOG_MOD "agent.flow"
#include "agent/flow.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/rotate.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_FREE_BATCHES 2
#define FREE_KEEP_CAP (256 * 1024) /* bigger data buffers are not kept */
#define SCAN_INTERVAL_MS 1000
#define COPY_WAIT_MS 5000 /* a new file that may be a copy in progress */

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
        b->max_bytes = (size_t)f->cfg->max_buffer_bytes;
    } else {
        b = malloc(sizeof(*b));
        if (b == NULL)
            return NULL;
        floe_batch_init(b, (size_t)f->cfg->max_buffer_records,
                        (size_t)f->cfg->max_buffer_bytes);
    }
    f->sh->buffered += sizeof(*b);
    return b;
}

static void batch_put(struct floe_flow *f, struct floe_batch *b)
{
    f->sh->buffered -= b->data.len + sizeof(*b);
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

/* The tail callback: one line becomes one record in the open batch. */
static int on_line(void *ctx, uint32_t slot, const struct floe_tail_line *l)
{
    struct floe_flow *f = ctx;
    struct floe_agent_flow *cfg = f->cfg;
    struct floe_batch *b;
    size_t start, len;
    int rc, tries;

    if (f->sh->buffered >= f->sh->max_buffered)
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
    rc = floe_batch_commit(b, start, slot, l->end_off, f->now_ms);
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
            rc = floe_batch_commit(nb, 0, slot, l->end_off, f->now_ms);
        b = nb;
    }
    if (rc != FLOE_OK)
        return rc;
    f->sh->buffered += len;
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
        if (f->sh->buffered >= f->sh->max_buffered)
            break;
        rc = floe_tail_read(&f->tail, (uint32_t)i, budget - total, on_line,
                            f, &n);
        total += n;
        if (rc != FLOE_OK)
            break;
        if (f->sh->exit_at_eof && tf->eof && tf->len > 0 &&
            f->sh->buffered < f->sh->max_buffered)
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

void floe_flow_close_due(struct floe_flow *f, int64_t now_ms, bool force)
{
    if (f->open == NULL || f->open->n == 0)
        return;
    if (force || now_ms - f->open->first_ms >= f->cfg->max_buffer_age_ms ||
        f->sh->buffered >= f->sh->max_buffered)
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

/* Write the checkpoint rows of a fully acknowledged batch. */
static void checkpoint(struct floe_flow *f, const struct floe_batch *b)
{
    struct floe_ckpt_row rows[16];
    uint32_t slots[16];
    size_t n = 0, i, j;
    int rc = FLOE_OK;

    for (i = b->n; i > 0; i--) { /* the last record of each file wins */
        const struct floe_batch_rec *r = &b->recs[i - 1];
        const struct floe_tail_file *tf;

        for (j = 0; j < n && slots[j] != r->file; j++)
            ;
        if (j < n)
            continue;
        tf = r->file < f->tail.nfiles ? f->tail.files[r->file] : NULL;
        if (tf == NULL)
            continue;
        if (n == sizeof(rows) / sizeof(rows[0])) {
            if (commit(f, rows, n) != FLOE_OK)
                rc = FLOE_EIO;
            n = 0;
        }
        slots[n] = r->file;
        rows[n].path = tf->path;
        memcpy(rows[n].file_id, tf->file_id, sizeof(rows[n].file_id));
        rows[n].mtime_ms = tf->mtime_ms;
        rows[n].size = tf->size;
        rows[n].offset = (int64_t)r->end_off;
        n++;
    }
    if (n > 0 && commit(f, rows, n) != FLOE_OK)
        rc = FLOE_EIO;
    if (rc != FLOE_OK)
        floe_log_error("%s: checkpoint not saved; those records may be "
                       "sent again after a restart", f->cfg->id);
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Count one PutRecordBatch: its outcome, its records and its time. */
static void count_put(struct floe_flow *f, int rc, size_t pending,
                      size_t acked, size_t acked_bytes, double secs,
                      unsigned attempt)
{
    floe_counter_add(f->st.puts, 1);
    if (attempt > 1)
        floe_counter_add(f->st.retries, 1);
    floe_histogram_observe(f->st.latency, secs);
    floe_counter_add(f->st.sent, acked);
    floe_counter_add(f->st.sent_bytes, acked_bytes);
    floe_counter_add(f->st.failed, pending - acked);
    if (rc == FLOE_EAGAIN)
        floe_counter_add(f->st.fail_partial, 1);
    else if (rc == FLOE_EIO)
        floe_counter_add(f->st.fail_network, 1);
    else if (rc != FLOE_OK)
        floe_counter_add(f->st.fail_http, 1);
}

int floe_flow_send(struct floe_flow *f, struct floe_sender *s,
                   int64_t now_ms, bool *out_did)
{
    struct floe_batch *b = f->qhead;
    char err[FLOE_ERR_LEN] = "";
    size_t acked = 0, pending, pending_bytes;
    double t0;
    int rc;

    *out_did = false;
    if (b == NULL || now_ms < f->next_send_ms)
        return FLOE_OK;
    *out_did = true;
    pending = floe_batch_pending(b);
    pending_bytes = floe_batch_pending_bytes(b);
    b->attempts++;
    t0 = mono_s();
    rc = floe_sender_put(s, f->cfg->stream, b, &acked, err);
    count_put(f, rc, pending, acked,
              pending_bytes - floe_batch_pending_bytes(b), mono_s() - t0,
              b->attempts);
    if (rc == FLOE_OK) {
        f->failures /= 10;
        f->next_send_ms = 0;
        floe_log_debug("%s: %zu records sent to %s (attempt %u)", f->cfg->id,
                       b->n, f->cfg->stream, b->attempts);
        checkpoint(f, b);
        f->qhead = b->next;
        if (f->qhead == NULL)
            f->qtail = NULL;
        f->nqueued--;
        batch_put(f, b);
        return FLOE_OK;
    }
    if (rc == FLOE_EAGAIN)
        f->failures += (double)(pending - acked) / (double)pending;
    else
        f->failures += 1;
    {
        int64_t d = floe_send_backoff_ms(f->failures, f->cfg->retry_initial_ms,
                                         f->cfg->retry_max_ms);

        f->next_send_ms = now_ms + d;
        if (rc == FLOE_EAGAIN)
            floe_log_warn("%s: %zu of %zu records rejected by %s (%s); "
                          "resending only those in %" PRId64 " ms",
                          f->cfg->id, pending - acked, pending,
                          f->cfg->stream, err, d);
        else
            floe_log_warn("%s: PutRecordBatch of %zu records to %s failed "
                          "(%s); retrying in %" PRId64 " ms", f->cfg->id,
                          pending, f->cfg->stream, err, d);
    }
    return FLOE_OK;
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

    if (f->qhead != NULL && f->next_send_ms < d)
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
    floe_gauge_set(f->st.queued, (int64_t)f->nqueued);
}
