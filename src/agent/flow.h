/* flow.h - one agent.json flow at run time: its file tracker, the batch
 * being filled, the FIFO of closed batches, the requests in flight and
 * counters. Lines go tail -> convert -> batch in place (whole lines packed
 * into one record up to aggregatedRecordSizeBytes). Closed batches go out
 * concurrently, up to a window that grows while answers come back fine
 * and halves on throttling; a batch is resent whole (only its failed
 * entries on a partial failure), split in two when the endpoint refuses
 * it as too large. Checkpoints follow the FIFO: they advance only past the
 * longest prefix of batches that are wholly acknowledged, so answers in
 * any order never skip a line. */
#ifndef FLOE_AGENT_FLOW_H
#define FLOE_AGENT_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/batch.h"
#include "agent/checkpoint.h"
#include "agent/config.h"
#include "agent/send.h"
#include "agent/stats.h"
#include "agent/tail.h"

/* State shared by every flow of one agent (borrowed by each flow). */
struct floe_flow_shared {
    size_t buffered;        /* bytes held by open and queued batches: their
                               records plus each batch's record table */
    size_t max_buffered;    /* stop reading files above this */
    struct floe_batch *free_list; /* recycled batches */
    size_t nfree;
    bool exit_at_eof;       /* treat an unterminated last line as whole */
    size_t nflows;          /* a failing flow holds at most its share */
    size_t max_in_flight;   /* per flow: the window's ceiling */
    const char *rejects;    /* borrowed: where refused records go */
};

struct floe_flow {
    struct floe_agent_flow *cfg;   /* borrowed from the conf */
    struct floe_flow_shared *sh;   /* borrowed */
    struct floe_ckpt *ck;          /* borrowed */
    struct floe_tail tail;
    struct floe_batch *open;       /* owned; being filled, or NULL */
    struct floe_batch *qhead, *qtail; /* owned FIFO of closed batches, in
                                         file order, whatever their state */
    size_t nqueued;
    size_t buffered;               /* this flow's part of sh->buffered */
    size_t in_flight;              /* requests out */
    size_t nready;                 /* closed batches waiting to go */
    size_t unsaved;                /* records acknowledged, not yet in the
                                      checkpoint */
    double window;                 /* buffers allowed out (sent and not
                                      yet checkpointed) at once */
    bool limited;                  /* the last pump left ready buffers
                                      unsent for want of window */
    double ssthresh;               /* slow start below, +1/window above */
    int64_t last_cut_ms;           /* window last cut (monotonic) */
    double rtt_min, rtt_min_next;  /* least round trip (s) seen in the
                                      last period, and in this one */
    int64_t rtt_period_ms;         /* when the period ends */
    size_t max_bytes;              /* batch byte limit learnt from 413s */
    double failures;               /* backoff exponent */
    int64_t next_send_ms;          /* monotonic: no send before (backoff) */
    int64_t next_scan_ms;
    int64_t now_ms;                /* stamp for records being added */
    struct floe_flow_stats st;     /* counters, in the agent's registry */
};

/* `cfg`, `sh`, `ck` and `m` are borrowed and must outlive the flow; its
 * metrics are registered in `m`. */
int floe_flow_init(struct floe_flow *f, struct floe_agent_flow *cfg,
                   struct floe_flow_shared *sh, struct floe_ckpt *ck,
                   struct floe_metrics *m, char *err);
void floe_flow_free(struct floe_flow *f);
/* Release the shared free list. */
void floe_flow_shared_free(struct floe_flow_shared *sh);

/* Rescan the directory; decide where new files start (checkpoint, else
 * initialPosition on the first scan, else offset 0). */
int floe_flow_scan(struct floe_flow *f, int64_t now_ms);
/* Read every file up to `budget` bytes in all; *out_read gets the bytes
 * read. Stops early under back-pressure. */
int floe_flow_read(struct floe_flow *f, int64_t now_ms, size_t budget,
                   size_t *out_read);
/* Close the open batch if it is old enough, full, or `force`. */
void floe_flow_close_due(struct floe_flow *f, int64_t now_ms, bool force);
/* Start requests for closed batches, oldest first, while the window and
 * the backoff allow. *out_did says whether one was started. A request
 * that cannot even start (out of memory) is logged and retried later. */
void floe_flow_pump(struct floe_flow *f, struct floe_sender *s,
                    int64_t now_ms, bool *out_did);
/* A floe_sender_done_fn: r->ctx is the flow. Counts, adapts the window,
 * requeues or splits what failed, checkpoints the acknowledged prefix. */
void floe_flow_on_done(void *arg, const struct floe_put_result *r);
/* Every file read to its end, nothing buffered or queued. */
bool floe_flow_drained(const struct floe_flow *f);
/* The earliest monotonic time this flow needs attention (INT64_MAX). */
int64_t floe_flow_deadline(const struct floe_flow *f);
/* Refresh the flow's gauges (lag, open files, queued buffers). */
void floe_flow_gauges(const struct floe_flow *f);

#endif
