/* orchestrator.c - `floe run` (built-in scheduler) and `floe task` (one DAG
 * task, what Airflow calls): option tables, signal handling, listing and
 * the human / JSON reports. The DAG itself lives in dag.c. Exit status: 0
 * success, 1 a task failed, 2 bad usage; floe task also 3 (--empty-exit)
 * when sense or claim found nothing pending. */
#define FLOE_LOG_MOD "orch"
#include "orchestrator/orchestrator.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/opt.h"
#include "core/util.h"
#include "orchestrator/backfill.h"
#include "orchestrator/dag.h"

struct orch_cfg {
    char *lake;
    char *state_dir;
    char *engine;
    char *models;
    struct floe_wh_snowflake sf;
    char *batch;
    int64_t schedule_ms;
    int64_t hold_ms;
    int64_t max_objects;
    int64_t max_bytes;
    int64_t retries;
    int64_t retry_delay_ms;
    int64_t empty_exit;
    char *from;
    char *to;
    bool once;
    bool dry_run;
    bool json;
    bool list;
    bool force;
};

#define F(m) offsetof(struct orch_cfg, m)
#define COMMON_OPTS                                                         \
    { "lake", FLOE_OPT_STR, "./lake", F(lake), 0, 0, 0,                     \
      "Object store holding landing/, processing/ and processed/: a "       \
      "directory, file:///dir or s3://bucket/prefix (Floe reads and "      \
      "writes the objects itself; DuckDB never touches the network)." },    \
    { "state-dir", FLOE_OPT_STR, "./floe-state", F(state_dir), 0, 0, 0,     \
      "Directory of the state database (orchestrator.db), the runner "      \
      "lock and the warehouse." },                                          \
    { "engine", FLOE_OPT_STR, "duckdb", F(engine), 0, 0, 0,                 \
      "Warehouse engine that loads, transforms and unloads batches." },     \
    { "models", FLOE_OPT_STR, NULL, F(models), 0, 0, 0,                     \
      "Folder of warehouse models (a .stream.yaml per stream, a "           \
      ".table.yaml per unloaded table, SQL steps); default: the built-in "  \
      "orders/customers set (models/ in the source tree)." },               \
    FLOE_WH_SNOWFLAKE_OPTS(F(sf)),                                          \
    { "max-objects", FLOE_OPT_INT, "1000", F(max_objects), 0, 1e9, 0,       \
      "Most landing objects one batch claims (0: no limit)." },             \
    { "max-bytes", FLOE_OPT_SIZE, "1G", F(max_bytes), 0, 1e15, 0,           \
      "Most bytes one batch claims (0: no limit); a single larger object "  \
      "still goes alone." },                                                \
    { "retries", FLOE_OPT_INT, "3", F(retries), 0, 100, 0,                  \
      "Retries of a failed task before its batch is marked failed." },      \
    { "retry-delay", FLOE_OPT_MS, "1s", F(retry_delay_ms), 0, 3600000, 0,   \
      "Backoff before the first retry; doubles for each further one "       \
      "(at most 5m)." },                                                    \
    { "json", FLOE_OPT_BOOL, "false", F(json), 0, 0, 0,                     \
      "Print one JSON object on stdout instead of text." }

static const struct floe_opt run_opts[] = {
    COMMON_OPTS,
    { "once", FLOE_OPT_BOOL, "false", F(once), 0, 0, 0,
      "Process what is pending now, then exit (default: run every "
      "--schedule until SIGINT/SIGTERM)." },
    { "schedule", FLOE_OPT_MS, "60s", F(schedule_ms), 100, 86400000.0, 0,
      "Time between passes when not --once. A pass that processed a batch "
      "is followed at once by another (objects that landed meanwhile do "
      "not wait for the next tick)." },
    { "hold", FLOE_OPT_MS, "5s", F(hold_ms), 0, 86400000.0, 0,
      "While batches keep coming, keep the warehouse open and the runner "
      "lock held between passes, until no batch came for this long; a "
      "steady stream then never pays for reopening (and checkpointing) the "
      "database. Other runners and 'floe task' wait meanwhile. 0: let go "
      "after every pass." },
    { "list", FLOE_OPT_BOOL, "false", F(list), 0, 0, 0,
      "List batches and their states (same as 'floe task list'), then "
      "exit." },
    { NULL },
};

static const struct floe_opt task_opts[] = {
    COMMON_OPTS,
    { "batch", FLOE_OPT_STR, NULL, F(batch), 0, 0, 0,
      "Batch id; required by load, transform, unload and finalize. claim "
      "without it creates a batch and prints its id; list with it shows "
      "the batch's attempts." },
    { "force", FLOE_OPT_BOOL, "false", F(force), 0, 0, 0,
      "Run the task even if it already succeeded for the batch." },
    { "empty-exit", FLOE_OPT_INT, "3", F(empty_exit), 0, 255, 0,
      "Exit status of sense and claim when nothing is pending (0 treats "
      "it as success; 99 makes Airflow's BashOperator skip the rest of "
      "the run)." },
    { NULL },
};

static const struct floe_opt backfill_opts[] = {
    COMMON_OPTS,
    { "from", FLOE_OPT_STR, NULL, F(from), 0, 0, FLOE_OPT_REQUIRED,
      "Start of the period, UTC: YYYY-MM-DD[THH[:MM[:SS]]][Z]." },
    { "to", FLOE_OPT_STR, NULL, F(to), 0, 0, FLOE_OPT_REQUIRED,
      "End of the period (excluded), same form as --from." },
    { "dry-run", FLOE_OPT_BOOL, "false", F(dry_run), 0, 0, 0,
      "Only count the objects that would be re-processed." },
    { NULL },
};

static const struct floe_opt runs_opts[] = {
    { "state-dir", FLOE_OPT_STR, "./floe-state", F(state_dir), 0, 0, 0,
      "Directory of the state database (orchestrator.db)." },
    { "batch", FLOE_OPT_STR, NULL, F(batch), 0, 0, 0,
      "Show this batch and every attempt of its tasks." },
    { "json", FLOE_OPT_BOOL, "false", F(json), 0, 0, 0,
      "Print JSON on stdout instead of text." },
    { NULL },
};

/* What floe run and floe task check before they start (and floe config
 * --check with them): the engine exists, the models folder (if any) is a
 * consistent model set. A value from floe.yaml is named
 * by file:line. */
static int check_section(const char *section, const struct orch_cfg *c,
                         char *err)
{
    const struct floe_config_map *m =
        floe_config_section(floe_config_current(), section);
    const char *v = floe_config_get(m, "engine");
    char why[FLOE_ERR_LEN];
    int rc = floe_wh_engine_check(c->engine, why);

    if (rc == FLOE_OK && c->models != NULL) {
        struct floe_models *set = NULL;

        rc = floe_models_load(c->models, &set, why);
        floe_models_free(set);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "%s.models: %s", section, why);
    }
    if (rc == FLOE_OK)
        return FLOE_OK;
    if (v != NULL && c->engine != NULL && strcmp(v, c->engine) == 0)
        return floe_err(err, rc, "%s:%d: %s.engine: %s",
                        floe_config_file(m), floe_config_line(m, "engine"),
                        section, why);
    return floe_err(err, rc, "%s", why);
}

static int check_run(const void *cfg, char *err)
{
    return check_section("run", cfg, err);
}

static int check_task(const void *cfg, char *err)
{
    return check_section("task", cfg, err);
}

static int check_backfill(const void *cfg, char *err)
{
    return check_section("backfill", cfg, err);
}

static const struct floe_cmd backfill_cmd = {
    "backfill", "floe backfill --from T --to T [options]",
    "Re-process what landed in a past period: every object that finished "
    "batches took\nfrom landing/ whose key carries an hour in [--from, "
    "--to) is put back at its\nlanding key (copied from processing/) and "
    "claimed into new batches, which run\nthrough finalize like 'floe "
    "run'. The warehouse keeps the first occurrence of\nevery record (by "
    "event id, customer version and quarantined line), so records\nit "
    "holds are never doubled in processed/ and records it lacks (a batch "
    "lost\nwith its warehouse, say) come back. Failed and unfinished "
    "batches are left\nalone: finish them with 'floe run' or 'floe "
    "task' first. Exit status: 0 done\n(also when nothing was in the "
    "period), 1 a batch failed, 2 bad usage.",
    backfill_opts,
    "Examples:\n"
    "  floe backfill --from 2026-11-24T19 --to 2026-11-24T20   # one hour\n"
    "  floe backfill --from 2026-11-24 --to 2026-11-25 --dry-run --json",
    NULL,
    check_backfill,
};

static const struct floe_cmd runs_cmd = {
    "runs", "floe runs [--batch ID] [--json] [--state-dir DIR]",
    "The run history in the state database: per batch its state, task "
    "attempts (and\nhow many failed), start, duration (first attempt's "
    "start to last attempt's\nend), objects, records per table (counts of "
    "its last successful load, transform\nand unload) and last error. "
    "With --batch: that batch and every attempt of its\ntasks. 'floe "
    "task list' and 'floe run --list' show the plain batch list.",
    runs_opts,
    "Examples:\n"
    "  floe runs --state-dir ./floe-state\n"
    "  floe runs --batch 20261124T195600Z-0a1b2c --json",
    NULL,
    NULL,
};

static const struct floe_cmd run_cmd = {
    "run", "floe run [options]",
    "Run the landing_to_processed DAG with the built-in scheduler: sense "
    "-> claim -> load\n-> transform -> unload -> finalize. Each pass "
    "first finishes batches an earlier\nrun left half-way, then claims "
    "what is pending in landing/ in bounded batches.\nEvery task is "
    "recorded in the state database and skipped once it succeeded;\nfailed "
    "tasks are retried with exponential backoff, then the batch is marked\n"
    "failed and the exit status is 1. A progress line per task goes to "
    "stderr on a\nterminal.",
    run_opts,
    "Examples:\n"
    "  floe run --once --lake ./lake --state-dir ./floe-state\n"
    "  floe run --schedule 30s             # until Ctrl-C or SIGTERM\n"
    "  floe run --once --json              # summary: batches, objects, "
    "counts\n"
    "  floe run --list                     # batches and their states",
    NULL,
    check_run,
};

static const struct floe_cmd task_cmd = {
    "task", "floe task <sense|claim|load|transform|unload|finalize|list> "
            "[--batch ID] [options]",
    "Run one task of the landing_to_processed DAG for one batch (what the "
    "Airflow DAG\ncalls). sense prints what is pending; claim without "
    "--batch creates a batch and\nprints its id on stdout (nothing when "
    "nothing is pending); load, transform,\nunload and finalize need "
    "--batch and refuse to run before their predecessor\nsucceeded. A task "
    "that already succeeded is skipped unless --force. 'list'\nshows "
    "batches and their states. Every task is safe to re-run: a retried "
    "claim of\na named batch finishes that batch, never a second one.\n\n"
    "Exit status: 0 done (or already done), 1 the task failed (recorded "
    "as a failed\nattempt; re-running it retries), 2 bad usage or a "
    "predecessor has not succeeded,\n3 nothing pending (sense, claim; "
    "--empty-exit changes it). Floe uses 99 only\nwhen --empty-exit 99 "
    "asks for it. --json prints one object: task, batch,\nobjects, "
    "bytes, counts per table, error.",
    task_opts,
    "Examples:\n"
    "  id=$(floe task claim --empty-exit 0 --lake ./lake --state-dir "
    "./floe-state)\n"
    "  floe task load --batch \"$id\" --lake ./lake --state-dir ./floe-state\n"
    "  floe task list --batch \"$id\"           # its attempts and counts",
    NULL,
    check_task,
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* First SIGINT/SIGTERM stops between tasks; a second one kills. */
static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void dag_cfg_of(const struct orch_cfg *c, struct floe_dag_cfg *d)
{
    memset(d, 0, sizeof(*d));
    d->lake = c->lake;
    d->state_dir = c->state_dir;
    d->engine = c->engine;
    d->models = c->models;
    d->snowflake = &c->sf;
    d->retries = c->retries;
    d->retry_delay_ms = c->retry_delay_ms;
    d->max_objects = c->max_objects;
    d->max_bytes = c->max_bytes;
    d->force = c->force;
    d->progress = isatty(STDERR_FILENO) != 0;
    d->hold = false;
    d->stop = &g_stop;
}

/* --- list ---------------------------------------------------------- */

struct list_ctx {
    bool json;
    int n;
    struct floe_buf out;
};

static int list_batch(const struct floe_state_batch *b, void *ud)
{
    struct list_ctx *l = ud;
    int rc = FLOE_OK;

    if (!l->json) {
        if (l->n++ == 0)
            printf("%-32s %-12s %8s %12s  %-24s %s\n", "BATCH", "STATE",
                   "OBJECTS", "BYTES", "UPDATED", "ERROR");
        printf("%-32s %-12s %8lld %12lld  %-24s %s\n", b->batch_id, b->state,
               (long long)b->objects, (long long)b->bytes, b->updated_at,
               b->error);
        return 0;
    }
    rc = floe_buf_adds(&l->out, l->n++ ? ",{\"batch_id\":" : "{\"batch_id\":");
    rc = rc ? rc : floe_buf_add_json_str(&l->out, b->batch_id,
                                         strlen(b->batch_id));
    rc = rc ? rc : floe_buf_addf(&l->out, ",\"state\":\"%s\",\"objects\":%lld,"
                                 "\"bytes\":%lld,\"created_at\":\"%s\","
                                 "\"updated_at\":\"%s\",\"error\":",
                                 b->state, (long long)b->objects,
                                 (long long)b->bytes, b->created_at,
                                 b->updated_at);
    rc = rc ? rc : b->error[0] ? floe_buf_add_json_str(&l->out, b->error,
                                                       strlen(b->error))
                               : floe_buf_adds(&l->out, "null");
    return rc ? rc : floe_buf_addc(&l->out, '}');
}

static int list_run(const struct floe_state_run *r, void *ud)
{
    struct list_ctx *l = ud;
    int rc;

    if (!l->json) {
        if (l->n++ == 0)
            printf("\n%-10s %7s %-8s %-24s %9s  %s\n", "TASK", "ATTEMPT",
                   "STATE", "STARTED", "MS", "COUNTS / ERROR");
        printf("%-10s %7d %-8s %-24s %9lld  %s\n", r->task, r->attempt,
               r->state, r->started_at, (long long)r->duration_ms,
               r->error[0] ? r->error : r->counts);
        return 0;
    }
    rc = floe_buf_addf(&l->out, "%s{\"task\":\"%s\",\"attempt\":%d,"
                       "\"state\":\"%s\",\"started_at\":\"%s\","
                       "\"duration_ms\":%lld,\"counts\":%s,\"error\":",
                       l->n++ ? "," : "", r->task, r->attempt, r->state,
                       r->started_at, (long long)r->duration_ms,
                       r->counts[0] ? r->counts : "null");
    rc = rc ? rc : r->error[0] ? floe_buf_add_json_str(&l->out, r->error,
                                                       strlen(r->error))
                               : floe_buf_adds(&l->out, "null");
    return rc ? rc : floe_buf_addc(&l->out, '}');
}

static int do_list(const struct orch_cfg *c, const char *cmd)
{
    struct floe_state *st = NULL;
    struct list_ctx l = { c->json, 0, { 0 } };
    char err[FLOE_ERR_LEN];
    int rc;

    floe_buf_init(&l.out, FLOE_BUF_UNLIMITED);
    rc = floe_state_open(c->state_dir, &st, err);
    if (rc != FLOE_OK)
        goto cleanup;
    if (c->batch != NULL) {
        struct floe_state_batch b;

        rc = floe_state_batch_get(st, c->batch, &b, err);
        if (rc == FLOE_OK && c->json)
            rc = floe_buf_adds(&l.out, "{\"batch\":");
        if (rc == FLOE_OK)
            rc = list_batch(&b, &l);
        if (rc == FLOE_OK && c->json)
            rc = floe_buf_adds(&l.out, ",\"attempts\":[");
        l.n = 0;
        if (rc == FLOE_OK)
            rc = floe_state_task_list(st, c->batch, list_run, &l, err);
        if (rc == FLOE_OK && c->json)
            rc = floe_buf_adds(&l.out, "]}");
    } else {
        if (c->json)
            floe_buf_addc(&l.out, '[');
        rc = floe_state_batch_list(st, FLOE_STATE_ALL, list_batch, &l, err);
        if (rc == FLOE_OK && c->json)
            rc = floe_buf_addc(&l.out, ']');
        if (rc == FLOE_OK && !c->json && l.n == 0)
            printf("no batches yet in %s/%s\n", c->state_dir, FLOE_STATE_DB);
    }
    if (rc == FLOE_OK && c->json)
        printf("%s\n", l.out.data);
cleanup:
    if (rc != FLOE_OK)
        fprintf(stderr, "floe %s: %s\n", cmd,
                err[0] && rc != FLOE_ENOMEM ? err : floe_strerror(rc));
    floe_buf_free(&l.out);
    floe_state_close(st);
    return rc == FLOE_OK ? 0 : 1;
}

/* --- floe runs ------------------------------------------------------ */

static int runs_row(const struct floe_state_history *h, void *ud)
{
    struct list_ctx *l = ud;
    const struct floe_state_batch *b = h->batch;
    int rc;

    if (!l->json) {
        if (l->n++ == 0)
            printf("%-24s %-11s %8s %-24s %9s %7s  %s\n", "BATCH", "STATE",
                   "ATTEMPTS", "STARTED", "SECONDS", "OBJECTS",
                   "RECORDS / ERROR");
        printf("%-24s %-11s %4d (%d) %-24s %9.2f %7lld  %s\n", b->batch_id,
               b->state, h->attempts, h->failures,
               h->started_at[0] ? h->started_at : "-",
               (double)h->duration_ms / 1000.0, (long long)b->objects,
               b->error[0] ? b->error : h->records);
        return 0;
    }
    rc = floe_buf_adds(&l->out, l->n++ ? ",{\"batch_id\":" : "{\"batch_id\":");
    rc = rc ? rc : floe_buf_add_json_str(&l->out, b->batch_id,
                                         strlen(b->batch_id));
    rc = rc ? rc : floe_buf_addf(&l->out, ",\"state\":\"%s\",\"attempts\":%d,"
                                 "\"failed_attempts\":%d,\"started_at\":",
                                 b->state, h->attempts, h->failures);
    rc = rc ? rc : h->started_at[0] ? floe_buf_addf(&l->out, "\"%s\"",
                                                    h->started_at)
                                    : floe_buf_adds(&l->out, "null");
    rc = rc ? rc : floe_buf_addf(&l->out, ",\"duration_ms\":%lld,"
                                 "\"objects\":%lld,\"bytes\":%lld,"
                                 "\"records\":%s,\"error\":",
                                 (long long)h->duration_ms,
                                 (long long)b->objects, (long long)b->bytes,
                                 h->records);
    rc = rc ? rc : b->error[0] ? floe_buf_add_json_str(&l->out, b->error,
                                                       strlen(b->error))
                               : floe_buf_adds(&l->out, "null");
    return rc ? rc : floe_buf_addc(&l->out, '}');
}

static int do_runs(const struct orch_cfg *c)
{
    struct floe_state *st = NULL;
    struct list_ctx l = { c->json, 0, { 0 } };
    char err[FLOE_ERR_LEN] = "";
    int rc;

    floe_buf_init(&l.out, FLOE_BUF_UNLIMITED);
    rc = floe_state_open(c->state_dir, &st, err);
    if (rc != FLOE_OK)
        goto cleanup;
    if (c->json)
        rc = floe_buf_adds(&l.out, c->batch ? "{\"batch\":" : "[");
    if (rc == FLOE_OK)
        rc = floe_state_history(st, c->batch, runs_row, &l, err);
    if (rc == FLOE_OK && c->batch != NULL) {
        if (c->json)
            rc = floe_buf_adds(&l.out, ",\"attempts\":[");
        l.n = 0;
        if (rc == FLOE_OK)
            rc = floe_state_task_list(st, c->batch, list_run, &l, err);
        if (rc == FLOE_OK && c->json)
            rc = floe_buf_addc(&l.out, ']');
    }
    if (rc == FLOE_OK && c->json)
        rc = floe_buf_addc(&l.out, c->batch ? '}' : ']');
    if (rc == FLOE_OK && c->json)
        printf("%s\n", l.out.data);
    else if (rc == FLOE_OK && l.n == 0 && c->batch == NULL)
        printf("no batches yet in %s/%s\n", c->state_dir, FLOE_STATE_DB);
cleanup:
    if (rc != FLOE_OK)
        fprintf(stderr, "floe runs: %s\n",
                err[0] && rc != FLOE_ENOMEM ? err : floe_strerror(rc));
    floe_buf_free(&l.out);
    floe_state_close(st);
    return rc == FLOE_OK ? 0 : 1;
}

int floe_runs_main(int argc, char **argv)
{
    struct orch_cfg c;
    int status;

    memset(&c, 0, sizeof(c));
    status = floe_opt_main(&runs_cmd, &c, argc, argv, NULL);
    if (status == FLOE_OPT_GO)
        status = do_runs(&c);
    floe_opt_free(runs_opts, &c);
    return status;
}

/* --- reports ------------------------------------------------------- */

static void print_json(const struct floe_dag_summary *s, const char *task,
                       const char *batch)
{
    struct floe_buf b;
    int rc;

    floe_buf_init(&b, FLOE_BUF_UNLIMITED);
    rc = floe_buf_addf(&b, "{\"task\":");
    rc = rc ? rc : task ? floe_buf_addf(&b, "\"%s\"", task)
                        : floe_buf_adds(&b, "null");
    rc = rc ? rc : floe_buf_addf(&b,
                       ",\"dag\":\"%s\",\"batches\":%lld,\"claimed\":%lld,"
                       "\"objects\":%lld,\"bytes\":%lld,\"failed\":%lld,"
                       "\"skipped\":%lld,"
                       "\"pending\":%lld,\"pending_bytes\":%lld,"
                       "\"landing_errors\":%lld,\"unknown\":%lld,"
                       "\"unknown_streams\":",
                       FLOE_DAG_NAME, (long long)s->batches,
                       (long long)s->claimed, (long long)s->objects,
                       (long long)s->bytes, (long long)s->failed,
                       (long long)s->skipped,
                       (long long)s->pending, (long long)s->pending_bytes,
                       (long long)s->landing_errors, (long long)s->unknown);
    rc = rc ? rc : floe_buf_add_json_str(&b, s->unknown_streams,
                                         strlen(s->unknown_streams));
    rc = rc ? rc : floe_buf_adds(&b, ",\"counts\":");
    rc = rc ? rc : floe_dag_counts_json(&s->counts, &b);
    rc = rc ? rc : floe_buf_adds(&b, ",\"batch\":");
    rc = rc ? rc : batch && batch[0] ? floe_buf_add_json_str(&b, batch,
                                                             strlen(batch))
                                     : floe_buf_adds(&b, "null");
    if (rc == FLOE_OK && s->failed_batch[0] != '\0') {
        rc = floe_buf_addf(&b, ",\"failed_batch\":\"%s\",\"failed_task\":"
                           "\"%s\",\"error\":", s->failed_batch,
                           s->failed_task);
        rc = rc ? rc : floe_buf_add_json_str(&b, s->error, strlen(s->error));
    }
    rc = rc ? rc : floe_buf_addc(&b, '}');
    if (rc == FLOE_OK)
        printf("%s\n", b.data);
    else
        fprintf(stderr, "floe: cannot print the summary: %s\n",
                floe_strerror(rc));
    floe_buf_free(&b);
}

static const char *plural(int64_t n, const char *many)
{
    return n == 1 ? "" : many;
}

static void print_run_text(const struct orch_cfg *c,
                           const struct floe_dag_summary *s)
{
    const struct floe_wh_counts *w = &s->counts;

    if (s->batches == 0 && s->claimed == 0 && s->failed == 0) {
        printf("nothing pending in %s/landing/\n", c->lake);
    } else {
        printf("%lld batch%s done, %lld failed; %lld object%s (%lld bytes) "
               "claimed into %lld new batch%s\n",
               (long long)s->batches, plural(s->batches, "es"),
               (long long)s->failed, (long long)s->objects,
               plural(s->objects, "s"), (long long)s->bytes,
               (long long)s->claimed, plural(s->claimed, "es"));
        printf("orders: %lld new, %lld duplicate, %lld quarantined; "
               "customer versions: %lld new, %lld duplicate, %lld "
               "quarantined; %lld enriched orders; %lld parquet file%s\n",
               (long long)w->new_orders, (long long)w->duplicate_orders,
               (long long)w->quarantined_orders,
               (long long)w->new_customer_versions,
               (long long)w->duplicate_customers,
               (long long)w->quarantined_customers,
               (long long)w->enriched_orders, (long long)w->parquet_files,
               plural(w->parquet_files, "s"));
        if (w->raw_other > 0)
            printf("other streams: %lld lines, %lld new, %lld duplicate, "
                   "%lld quarantined\n", (long long)w->raw_other,
                   (long long)w->new_other, (long long)w->duplicate_other,
                   (long long)w->quarantined_other);
    }
    if (s->unknown > 0)
        printf("%lld object%s of no known stream left in landing/ (%s): "
               "add their models\n", (long long)s->unknown,
               plural(s->unknown, "s"),
               s->unknown_streams[0] ? s->unknown_streams : "not a stream");
    if (s->landing_errors > 0)
        printf("%lld object%s under landing/errors/ need%s a human\n",
               (long long)s->landing_errors, plural(s->landing_errors, "s"),
               s->landing_errors == 1 ? "s" : "");
}

/* --- floe run ------------------------------------------------------ */

int floe_run_main(int argc, char **argv)
{
    struct orch_cfg c;
    struct floe_dag_cfg dc;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary total, pass;
    char err[FLOE_ERR_LEN];
    int64_t next_tick, last_work;
    bool held;
    int status, rc;

    memset(&c, 0, sizeof(c));
    status = floe_opt_main(&run_cmd, &c, argc, argv, NULL);
    if (status != FLOE_OPT_GO)
        goto cleanup;
    if (check_run(&c, err) != FLOE_OK) {
        fprintf(stderr, "floe run: %s\n", err);
        status = 2;
        goto cleanup;
    }
    if (c.list) {
        status = do_list(&c, "run");
        goto cleanup;
    }
    dag_cfg_of(&c, &dc);
    dc.hold = !c.once && c.hold_ms > 0;
    rc = floe_dag_open(&dc, &dag, err);
    if (rc != FLOE_OK) {
        fprintf(stderr, "floe run: %s\n", err);
        status = 1;
        goto cleanup;
    }
    catch_signals();
    memset(&total, 0, sizeof(total));
    status = 0;
    if (!c.once)
        floe_log_info("running %s every %.1fs on %s (state in %s); Ctrl-C "
                      "stops", FLOE_DAG_NAME, (double)c.schedule_ms / 1000.0,
                      c.lake, c.state_dir);
    next_tick = floe_mono_ms();
    last_work = next_tick - c.hold_ms; /* no work yet: nothing to hold */
    while (!g_stop) {
        int64_t t0 = floe_mono_ms();

        rc = floe_dag_run_once(dag, &pass, err);
        floe_dag_summary_add(&total, &pass);
        if (rc == FLOE_EAGAIN && g_stop) {
            floe_log_info("stopped: %s", err);
            break;
        }
        if (rc != FLOE_OK) {
            fprintf(stderr, "floe run: %s\n", err);
            status = 1;
            if (c.once)
                break;
        } else if (!c.once && pass.claimed > 0) {
            floe_log_info("pass: %lld batches, %lld objects in %.2fs",
                          (long long)pass.batches, (long long)pass.objects,
                          (double)(floe_mono_ms() - t0) / 1000.0);
        }
        if (c.once)
            break;
        while (next_tick <= floe_mono_ms())
            next_tick += c.schedule_ms;
        if (rc == FLOE_OK && (pass.claimed > 0 || pass.batches > 0)) {
            last_work = floe_mono_ms();
            continue; /* more may have landed while it ran */
        }
        /* Sleep to the next tick, waking for a stop signal; once no
         * batch came for --hold, checkpoint and let others in. */
        held = true;
        while (!g_stop && floe_mono_ms() < next_tick) {
            struct timespec ts = { 0, 20 * 1000000L };

            if (held && floe_mono_ms() - last_work >= c.hold_ms) {
                floe_dag_release(dag);
                held = false;
            }
            nanosleep(&ts, NULL);
        }
    }
    if (c.json)
        print_json(&total, NULL, NULL);
    else if (c.once || total.claimed > 0)
        print_run_text(&c, &total);
cleanup:
    floe_dag_close(dag);
    floe_opt_free(run_opts, &c);
    return status;
}

/* --- floe task ----------------------------------------------------- */

static void print_task_text(int task, const char *batch,
                            const struct floe_dag_summary *s)
{
    char text[512];

    if (task == FLOE_TASK_SENSE) {
        printf("%lld object%s (%lld bytes) pending in landing/; %lld under "
               "landing/errors/; %lld of no known stream%s%s%s\n",
               (long long)s->pending, plural(s->pending, "s"),
               (long long)s->pending_bytes, (long long)s->landing_errors,
               (long long)s->unknown, s->unknown_streams[0] ? " (" : "",
               s->unknown_streams, s->unknown_streams[0] ? ")" : "");
        return;
    }
    if (task == FLOE_TASK_CLAIM && batch[0] != '\0')
        printf("%s\n", batch); /* the one line Airflow's XCom takes */
    if (batch[0] == '\0' || isatty(STDERR_FILENO))
        return; /* on a terminal the progress line said it all */
    if (s->skipped > 0) {
        floe_log_info("%s %s: already succeeded, skipped (--force re-runs "
                      "it)", floe_dag_task_name(task), batch);
    } else if (task == FLOE_TASK_CLAIM) {
        floe_log_info("claim %s: %lld object%s (%lld bytes)", batch,
                      (long long)s->objects, plural(s->objects, "s"),
                      (long long)s->bytes);
    } else {
        floe_dag_counts_text(&s->counts, text, sizeof(text));
        floe_log_info("%s %s succeeded%s%s", floe_dag_task_name(task), batch,
                      text[0] ? ": " : "", text);
    }
}

int floe_task_main(int argc, char **argv)
{
    struct orch_cfg c;
    struct floe_dag_cfg dc;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary s;
    char err[FLOE_ERR_LEN], batch[FLOE_BATCH_ID_MAX + 1] = "";
    const char *name = NULL;
    int next, status, rc, task = -1, off = 0;

    memset(&c, 0, sizeof(c));
    /* The task name comes first ("floe task load --batch X"), but options
     * before it work too. */
    if (argc > 1 && argv[1][0] != '-') {
        name = argv[1];
        off = 1;
    }
    status = floe_opt_main(&task_cmd, &c, argc - off, argv + off, &next);
    if (status != FLOE_OPT_GO)
        goto cleanup;
    if (check_task(&c, err) != FLOE_OK) {
        fprintf(stderr, "floe task: %s\n", err);
        status = 2;
        goto cleanup;
    }
    next += off;
    if (name == NULL && next < argc)
        name = argv[next++];
    if (next < argc) {
        fprintf(stderr, "floe task: unexpected argument '%s' (options go "
                        "after the task name)\n", argv[next]);
        status = 2;
        goto cleanup;
    }
    if (name == NULL) {
        fprintf(stderr, "floe task: which task? Usage: %s\n", task_cmd.usage);
        status = 2;
        goto cleanup;
    }
    if (strcmp(name, "list") == 0) {
        status = do_list(&c, "task list");
        goto cleanup;
    }
    task = floe_dag_task_parse(name);
    if (task < 0) {
        fprintf(stderr, "floe task: unknown task '%s' (sense, claim, load, "
                        "transform, unload, finalize or list)\n", name);
        status = 2;
        goto cleanup;
    }
    dag_cfg_of(&c, &dc);
    rc = floe_dag_open(&dc, &dag, err);
    if (rc == FLOE_OK)
        rc = floe_dag_task_run(dag, task, c.batch, batch, &s, err);
    if (rc != FLOE_OK) {
        fprintf(stderr, "floe task %s: %s\n", name, err);
        status = rc == FLOE_EINVAL ? 2 : 1;
        if (c.json && dag != NULL && status == 1)
            print_json(&s, name, batch); /* failed_task and error */
        goto cleanup;
    }
    if (c.json)
        print_json(&s, name, batch);
    else
        print_task_text(task, batch, &s);
    status = 0;
    if ((task == FLOE_TASK_SENSE && s.pending == 0) ||
        (task == FLOE_TASK_CLAIM && batch[0] == '\0')) {
        floe_log_info("nothing pending in %s/landing/", c.lake);
        status = (int)c.empty_exit;
    }
cleanup:
    floe_dag_close(dag);
    floe_opt_free(task_opts, &c);
    return status;
}

/* --- floe backfill -------------------------------------------------- */

int floe_backfill_main(int argc, char **argv)
{
    struct orch_cfg c;
    struct floe_dag_cfg dc;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary s;
    char err[FLOE_ERR_LEN];
    int64_t from, to;
    int status, rc;

    memset(&c, 0, sizeof(c));
    status = floe_opt_main(&backfill_cmd, &c, argc, argv, NULL);
    if (status != FLOE_OPT_GO)
        goto cleanup;
    status = 2;
    if (check_backfill(&c, err) != FLOE_OK) {
        fprintf(stderr, "floe backfill: %s\n", err);
        goto cleanup;
    }
    if (floe_backfill_parse_time(c.from, &from) != FLOE_OK ||
        floe_backfill_parse_time(c.to, &to) != FLOE_OK) {
        fprintf(stderr, "floe backfill: --from and --to take a UTC time "
                        "YYYY-MM-DD[THH[:MM[:SS]]][Z], got '%s' and '%s'\n",
                c.from, c.to);
        goto cleanup;
    }
    dag_cfg_of(&c, &dc);
    rc = floe_dag_open(&dc, &dag, err);
    if (rc == FLOE_OK) {
        catch_signals();
        rc = floe_dag_backfill(dag, from, to, c.dry_run, &s, err);
    }
    if (rc != FLOE_OK) {
        fprintf(stderr, "floe backfill: %s\n", err);
        status = rc == FLOE_EINVAL ? 2 : 1;
        goto cleanup;
    }
    status = 0;
    if (c.json) {
        print_json(&s, NULL, NULL);
    } else if (c.dry_run || s.pending == 0) {
        printf("%lld object%s (%lld bytes) from %s to %s%s\n",
               (long long)s.pending, plural(s.pending, "s"),
               (long long)s.pending_bytes, c.from, c.to,
               c.dry_run ? " would be re-processed" : ": nothing to do");
    } else {
        print_run_text(&c, &s);
    }
cleanup:
    floe_dag_close(dag);
    floe_opt_free(backfill_opts, &c);
    return status;
}
