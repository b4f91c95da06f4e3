/* state.h - the orchestrator's state database (SQLite, WAL mode) under
 * <state_dir>/orchestrator.db: one row per batch (its DAG state) and one
 * row per task attempt (timings, counts as JSON, error). Tasks are keyed by
 * batch id, so "has this task succeeded for this batch?" decides what a
 * re-run skips. Attempts are numbered per (batch, task) across runs. */
#ifndef FLOE_ORCHESTRATOR_STATE_H
#define FLOE_ORCHESTRATOR_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define FLOE_STATE_DB "orchestrator.db"
#define FLOE_BATCH_ID_MAX 64 /* bytes, NUL excluded */

/* Batch states, in DAG order; "failed" is set when a task gave up. */
#define FLOE_BATCH_CLAIMED "claimed"
#define FLOE_BATCH_LOADED "loaded"
#define FLOE_BATCH_TRANSFORMED "transformed"
#define FLOE_BATCH_UNLOADED "unloaded"
#define FLOE_BATCH_DONE "done"
#define FLOE_BATCH_FAILED "failed"

struct floe_state;

struct floe_state_batch {
    char batch_id[FLOE_BATCH_ID_MAX + 1];
    char state[16];
    char created_at[32]; /* ISO 8601 UTC */
    char updated_at[32];
    int64_t objects;
    int64_t bytes;
    char error[FLOE_ERR_LEN]; /* last failure, "" when none */
};

struct floe_state_run {
    const char *batch_id;   /* all borrowed: valid during the callback */
    const char *task;
    int attempt;            /* 1, 2, ... per (batch, task) */
    const char *state;      /* running, success, failed */
    const char *started_at;
    const char *ended_at;   /* "" while running */
    int64_t duration_ms;
    const char *counts;     /* JSON object text, "" when none */
    const char *error;      /* "" when none */
};

/* Open or create the database in `state_dir` (borrowed; created if
 * missing). On FLOE_OK *out is owned by the caller (floe_state_close). */
int floe_state_open(const char *state_dir, struct floe_state **out,
                    char *err);
void floe_state_close(struct floe_state *s); /* NULL is a no-op */

/* Create the batch row in state "claimed"; an existing row is kept as it
 * is (claim is re-runnable). */
int floe_state_batch_add(struct floe_state *s, const char *batch,
                         int64_t objects, int64_t bytes, char *err);
/* Record what the batch holds once its manifest is known. */
int floe_state_batch_set_size(struct floe_state *s, const char *batch,
                              int64_t objects, int64_t bytes, char *err);
/* Set the batch state; `error` (NULL or "" clears it) is kept with it.
 * FLOE_ENOTFOUND when there is no such batch. */
int floe_state_batch_set_state(struct floe_state *s, const char *batch,
                               const char *state, const char *error,
                               char *err);
/* FLOE_ENOTFOUND when there is no such batch. */
int floe_state_batch_get(struct floe_state *s, const char *batch,
                         struct floe_state_batch *out, char *err);
/* The greatest batch id, "" when there is none. */
int floe_state_batch_last(struct floe_state *s,
                          char out[FLOE_BATCH_ID_MAX + 1], char *err);

#define FLOE_STATE_ALL 0        /* every batch */
#define FLOE_STATE_UNFINISHED 1 /* neither done nor failed */
#define FLOE_STATE_FAILED 2     /* failed only */
#define FLOE_STATE_UNCLAIMED 3  /* no successful claim attempt yet */
/* Batches in id order (that is, creation order); a non-zero return from
 * `cb` stops the walk and is returned. `b` is borrowed. */
typedef int (*floe_state_batch_cb)(const struct floe_state_batch *b,
                                   void *ud);
int floe_state_batch_list(struct floe_state *s, int which,
                          floe_state_batch_cb cb, void *ud, char *err);

/* A batch with its attempts summed up (what 'floe runs' shows). */
struct floe_state_history {
    const struct floe_state_batch *batch; /* all borrowed: valid during
                                             the callback */
    int attempts;            /* task attempts, every task */
    int failures;            /* of those, failed ones */
    const char *started_at;  /* first attempt's start, "" when none */
    const char *ended_at;    /* last attempt's end, "" when none */
    int64_t duration_ms;     /* first start to last end */
    const char *records;     /* JSON object: the non-zero counts of the
                                last successful load, transform and
                                unload, summed ("{}" when none) */
};
typedef int (*floe_state_history_cb)(const struct floe_state_history *h,
                                     void *ud);
/* Batches in id order (only `batch` when not NULL; FLOE_ENOTFOUND when
 * there is no such batch), with their history. */
int floe_state_history(struct floe_state *s, const char *batch,
                       floe_state_history_cb cb, void *ud, char *err);

/* Start an attempt of `task` for `batch`: attempts of it still marked
 * running (a process that died) are closed as failed first. On FLOE_OK
 * *out_run names the attempt for floe_state_task_end and *out_attempt is
 * its number. */
int floe_state_task_begin(struct floe_state *s, const char *batch,
                          const char *task, int64_t *out_run,
                          int *out_attempt, char *err);
/* Close an attempt: success or failure, its duration, `counts` (a JSON
 * object text or NULL) and `error` (NULL on success). All borrowed. */
int floe_state_task_end(struct floe_state *s, int64_t run, bool ok,
                        int64_t duration_ms, const char *counts,
                        const char *error, char *err);
/* *out is true when an attempt of `task` for `batch` succeeded. */
int floe_state_task_succeeded(struct floe_state *s, const char *batch,
                              const char *task, bool *out, char *err);
/* Attempts for `batch` (every batch when NULL), oldest first. */
typedef int (*floe_state_run_cb)(const struct floe_state_run *r, void *ud);
int floe_state_task_list(struct floe_state *s, const char *batch,
                         floe_state_run_cb cb, void *ud, char *err);

#endif
