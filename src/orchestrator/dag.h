/* dag.h - the landing_to_processed DAG: sense -> claim -> load ->
 * transform -> unload -> finalize, per batch. Every task is idempotent and
 * keyed by batch id; the state database records each attempt, a task that
 * already succeeded is skipped (unless forced), a failed one is retried
 * with exponential backoff and then marks its batch failed. One runner at
 * a time per state directory (an flock on <state_dir>/orchestrator.lock);
 * others wait for it. */
#ifndef FLOE_ORCHESTRATOR_DAG_H
#define FLOE_ORCHESTRATOR_DAG_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "orchestrator/claim.h"
#include "orchestrator/state.h"
#include "warehouse/warehouse.h"

#define FLOE_DAG_NAME "landing_to_processed"

/* Task names, in DAG order. */
enum floe_dag_task {
    FLOE_TASK_SENSE,
    FLOE_TASK_CLAIM,
    FLOE_TASK_LOAD,
    FLOE_TASK_TRANSFORM,
    FLOE_TASK_UNLOAD,
    FLOE_TASK_FINALIZE,
    FLOE_TASK_COUNT
};

struct floe_dag_cfg {
    const char *lake;          /* store URL or directory (borrowed) */
    const char *state_dir;     /* state DB, lock and warehouse (borrowed) */
    const char *engine;        /* warehouse engine; NULL = duckdb */
    const char *models;        /* model folder; NULL = the built-in set */
    const struct floe_wh_snowflake *snowflake; /* engine snowflake; may
                                                  be NULL */
    int64_t retries;           /* retries after a failed attempt */
    int64_t retry_delay_ms;    /* first backoff; doubles per retry */
    int64_t max_objects;       /* per batch; <= 0 no limit */
    int64_t max_bytes;         /* per batch; <= 0 no limit */
    bool force;                /* re-run tasks that already succeeded */
    bool progress;             /* one line per task on stderr */
    bool hold;                 /* keep the runner lock and the open
                                  warehouse after a pass, until
                                  floe_dag_release (a daemon between busy
                                  passes); false: let go after each */
    volatile sig_atomic_t *stop; /* set by a signal: stop between tasks and
                                    cut backoff short; may be NULL */
};

/* What one run (or one task) did; counts are summed over the tasks run. */
struct floe_dag_summary {
    int64_t batches;           /* batches finished (done) */
    int64_t claimed;           /* batches claimed */
    int64_t objects;           /* objects claimed */
    int64_t bytes;
    int64_t failed;            /* batches that failed */
    int64_t skipped;           /* tasks skipped: they had succeeded */
    int64_t landing_errors;    /* objects under landing/errors/ */
    int64_t unknown;           /* landing objects of no known stream */
    char unknown_streams[256]; /* their streams: "a, b" */
    int64_t pending;           /* claimable objects sense found */
    int64_t pending_bytes;
    struct floe_wh_counts counts;
    char failed_batch[FLOE_BATCH_ID_MAX + 1];
    char failed_task[16];
    char last_batch[FLOE_BATCH_ID_MAX + 1]; /* last batch worked on */
    char error[FLOE_ERR_LEN];  /* the failed task's last error */
};

struct floe_dag;

/* Open the store and the state database (cfg and its strings are borrowed
 * and must outlive the dag). The warehouse is opened when a task first
 * needs it. On FLOE_OK *out is owned by the caller (floe_dag_close). */
int floe_dag_open(const struct floe_dag_cfg *cfg, struct floe_dag **out,
                  char *err);
void floe_dag_close(struct floe_dag *dag); /* NULL is a no-op */

struct floe_store *floe_dag_store(struct floe_dag *dag); /* borrowed */
struct floe_state *floe_dag_state(struct floe_dag *dag); /* borrowed */

/* "load" -> FLOE_TASK_LOAD; -1 when unknown. */
int floe_dag_task_parse(const char *name);
const char *floe_dag_task_name(int task);

/* One pass: finish batches a previous run left unfinished (failed ones
 * are left to a human), then claim what was pending in landing/ when the
 * pass started, batch by batch, running each through finalize. Stops at
 * the first batch that fails: `out` names the batch and task and err says
 * how to re-run it. FLOE_EAGAIN when cfg->stop cut the pass short (the
 * batch under way is finished by the next pass). */
int floe_dag_run_once(struct floe_dag *dag, struct floe_dag_summary *out,
                      char *err);
/* Re-process what done batches took from landing/ in [from_ms, to_ms):
 * every object of theirs whose key carries an hour overlapping the range
 * (objects set aside or missing at claim excepted) is copied from its
 * batch's processing/ folder back to its landing key, then claimed into
 * new batches (by max_objects / max_bytes) and run through finalize, as
 * floe run would. The warehouse keeps the first occurrence of every
 * record, so rows it holds are never doubled and rows it lacks come back;
 * the old batches keep their objects (still a replay source). Failed and
 * unfinished batches are left alone. With dry_run only counts: out->
 * pending objects (pending_bytes) would be re-processed. */
int floe_dag_backfill(struct floe_dag *dag, int64_t from_ms, int64_t to_ms,
                      bool dry_run, struct floe_dag_summary *out, char *err);

/* Let go of what cfg->hold kept: close the warehouse (DuckDB checkpoints
 * its write-ahead log then) and release the runner lock, so other runners
 * and tools can open the state directory. No-op when nothing is held. */
void floe_dag_release(struct floe_dag *dag);

/* Run one task with retries. `batch` is required except for sense and
 * claim: a claim without a batch creates one from what is pending and
 * writes its id to out_batch ("" when nothing is pending). A claim of an
 * existing batch finishes it from its manifest. A task whose predecessor
 * has not succeeded for the batch is refused (FLOE_EINVAL). */
int floe_dag_task_run(struct floe_dag *dag, int task, const char *batch,
                      char out_batch[FLOE_BATCH_ID_MAX + 1],
                      struct floe_dag_summary *out, char *err);

/* Add every count of `src` into `dst`. */
void floe_dag_counts_add(struct floe_wh_counts *dst,
                         const struct floe_wh_counts *src);
/* Add `src` into `dst` (a daemon's totals over its passes). */
void floe_dag_summary_add(struct floe_dag_summary *dst,
                          const struct floe_dag_summary *src);

/* "raw_orders=120 new_orders=118" (the counts that are not 0) into
 * out[n]; "" when all are 0. */
void floe_dag_counts_text(const struct floe_wh_counts *c, char *out,
                          size_t n);
/* Counts as a JSON object into `out` (appends). */
int floe_dag_counts_json(const struct floe_wh_counts *c, struct floe_buf *out);

#endif
