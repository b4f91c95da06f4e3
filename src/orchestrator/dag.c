/* dag.c - the landing_to_processed DAG runner: task list, attempts with
 * exponential backoff, batch state transitions and the runner lock.
 * A batch only moves forward (claimed -> loaded -> ... -> done); a task
 * that gives up marks it failed with the error, and re-running that task
 * (floe task <name> --batch <id>) puts it back on track. The warehouse is
 * opened lazily and closed after every pass, so the DuckDB file is only
 * held while work is under way; with cfg.hold a daemon keeps it (and the
 * runner lock) across passes until floe_dag_release, so a steady stream
 * does not reopen and checkpoint the database for every batch. */
#define FLOE_LOG_MOD "orch.dag"
#include "orchestrator/dag.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/backfill.h"

#define LOCK_NAME "orchestrator.lock"
#define BACKOFF_MAX_MS (5 * 60 * 1000)

struct floe_dag {
    struct floe_dag_cfg cfg;
    struct floe_store *store;
    struct floe_state *state;
    struct floe_wh *wh;
    struct floe_models *models; /* what the warehouse loads: its streams */
    int lock_fd;
    int64_t last_failed;   /* failed batches at the last warning */
    int64_t last_errors;   /* landing/errors/ objects at the last warning */
};

static const char *const task_names[FLOE_TASK_COUNT] = {
    "sense", "claim", "load", "transform", "unload", "finalize",
};

/* The batch state a task's success reaches, in DAG order. */
static const char *const reached[FLOE_TASK_COUNT] = {
    NULL, FLOE_BATCH_CLAIMED, FLOE_BATCH_LOADED, FLOE_BATCH_TRANSFORMED,
    FLOE_BATCH_UNLOADED, FLOE_BATCH_DONE,
};

int floe_dag_task_parse(const char *name)
{
    int i;

    for (i = 0; i < FLOE_TASK_COUNT; i++)
        if (strcmp(name, task_names[i]) == 0)
            return i;
    return -1;
}

const char *floe_dag_task_name(int task)
{
    return task >= 0 && task < FLOE_TASK_COUNT ? task_names[task] : "?";
}

static int claim_counts_json(const struct floe_claim_counts *c,
                             struct floe_buf *out)
{
    return floe_buf_addf(out,
                         "{\"objects\":%lld,\"bytes\":%lld,\"copied\":%lld,"
                         "\"deleted\":%lld,\"missing\":%lld,"
                         "\"quarantined\":%lld}",
                         (long long)c->objects, (long long)c->bytes,
                         (long long)c->copied, (long long)c->deleted,
                         (long long)c->missing, (long long)c->quarantined);
}

static void counts_text(int task, const struct floe_wh_counts *w,
                        const struct floe_claim_counts *c, char *out,
                        size_t n)
{
    if (task == FLOE_TASK_CLAIM)
        snprintf(out, n,
                 "objects=%lld bytes=%lld copied=%lld deleted=%lld%s%s",
                 (long long)c->objects, (long long)c->bytes,
                 (long long)c->copied, (long long)c->deleted,
                 c->missing ? " MISSING" : "",
                 c->quarantined ? " QUARANTINED" : "");
    else
        floe_dag_counts_text(w, out, n);
}

static bool stopped(const struct floe_dag *dag)
{
    return dag->cfg.stop != NULL && *dag->cfg.stop;
}

/* Sleep `ms`, in slices, so a stop signal cuts it short. */
static void nap(const struct floe_dag *dag, int64_t ms)
{
    int64_t end = floe_mono_ms() + ms;

    while (!stopped(dag)) {
        int64_t left = end - floe_mono_ms();
        struct timespec ts;

        if (left <= 0)
            break;
        if (left > 50)
            left = 50;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left * 1000000L;
        nanosleep(&ts, NULL);
    }
}

/* --- open, close, lock --------------------------------------------- */

/* The streams the warehouse has models for: sense claims only those. */
static const char *const *known_streams(const struct floe_dag *dag)
{
    return dag->models->stream_names;
}

int floe_dag_open(const struct floe_dag_cfg *cfg, struct floe_dag **out,
                  char *err)
{
    struct floe_dag *dag;
    int rc;

    *out = NULL;
    dag = calloc(1, sizeof(*dag));
    if (dag == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    dag->cfg = *cfg;
    dag->lock_fd = -1;
    rc = floe_models_load(cfg->models, &dag->models, err);
    if (rc == FLOE_OK)
        rc = floe_store_open(cfg->lake, &dag->store, err);
    if (rc == FLOE_OK)
        rc = floe_state_open(cfg->state_dir, &dag->state, err);
    if (rc != FLOE_OK) {
        floe_dag_close(dag);
        return rc;
    }
    *out = dag;
    return FLOE_OK;
}

void floe_dag_close(struct floe_dag *dag)
{
    if (dag == NULL)
        return;
    floe_wh_close(dag->wh);
    floe_models_free(dag->models);
    floe_state_close(dag->state);
    floe_store_close(dag->store);
    if (dag->lock_fd >= 0)
        close(dag->lock_fd);
    free(dag);
}

struct floe_store *floe_dag_store(struct floe_dag *dag)
{
    return dag->store;
}

struct floe_state *floe_dag_state(struct floe_dag *dag)
{
    return dag->state;
}

/* One runner per state directory: two would claim the same objects and
 * fight over the warehouse file. A second one waits. */
static int lock(struct floe_dag *dag, char *err)
{
    char path[PATH_MAX];

    if (dag->lock_fd >= 0)
        return FLOE_OK; /* still held from the last pass (cfg.hold) */
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dag->cfg.state_dir,
                         LOCK_NAME) >= sizeof(path))
        return floe_err(err, FLOE_ETOOBIG, "state directory path too long");
    dag->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (dag->lock_fd < 0)
        return floe_err(err, FLOE_EIO, "cannot open lock file %s", path);
    if (flock(dag->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return FLOE_OK;
    floe_log_info("another floe run or task holds %s; waiting for it", path);
    while (flock(dag->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR || stopped(dag)) {
            close(dag->lock_fd);
            dag->lock_fd = -1;
            return floe_err(err, FLOE_EAGAIN,
                            "gave up waiting for the lock %s", path);
        }
    }
    return FLOE_OK;
}

static void unlock(struct floe_dag *dag)
{
    /* Release the warehouse too, so other tools can open it between
     * passes. */
    floe_wh_close(dag->wh);
    dag->wh = NULL;
    if (dag->lock_fd >= 0) {
        flock(dag->lock_fd, LOCK_UN);
        close(dag->lock_fd);
        dag->lock_fd = -1;
    }
}

/* --- tasks ----------------------------------------------------------- */

/* Objects a new batch takes, chosen by the caller; NULL means "finish the
 * manifest, or claim from what is pending now if there is none". */
struct selection {
    const struct floe_claim_obj *v;
    size_t n;
};

static int exclude_claimed(struct floe_dag *dag, struct floe_pending *p,
                           char *err);

static int claim_exec(struct floe_dag *dag, const char *batch,
                      const struct selection *sel,
                      struct floe_claim_counts *cc, char *err)
{
    struct floe_state_batch b;
    struct floe_pending p = { 0 };
    int rc;

    if (sel == NULL) {
        rc = floe_claim_resume(dag->store, batch, cc, err);
        if (rc != FLOE_ENOTFOUND)
            goto done;
    }
    /* No manifest yet: nothing has moved, so claim afresh. */
    rc = floe_state_batch_get(dag->state, batch, &b, err);
    if (rc == FLOE_OK && sel == NULL) {
        rc = floe_claim_sense(dag->store, known_streams(dag), &p, err);
        if (rc == FLOE_OK)
            rc = exclude_claimed(dag, &p, err); /* others' half-done claims */
        if (rc == FLOE_OK)
            rc = floe_claim_new(dag->store, batch, b.created_at, p.v,
                                floe_claim_take(&p, 0, dag->cfg.max_objects,
                                                dag->cfg.max_bytes),
                                cc, err);
    } else if (rc == FLOE_OK) {
        rc = floe_claim_new(dag->store, batch, b.created_at, sel->v, sel->n,
                            cc, err);
    }
done:
    if (rc == FLOE_OK)
        rc = floe_state_batch_set_size(dag->state, batch, cc->objects,
                                       cc->bytes, err);
    floe_pending_free(&p);
    return rc;
}

static int wh_ready(struct floe_dag *dag, char *err)
{
    struct floe_wh_options o = { dag->models, dag->cfg.snowflake };

    if (dag->wh != NULL)
        return FLOE_OK;
    return floe_wh_open(dag->cfg.engine, dag->cfg.state_dir, &o, &dag->wh,
                        err);
}

static int exec_task(struct floe_dag *dag, int task, const char *batch,
                     const struct selection *sel, struct floe_wh_counts *wc,
                     struct floe_claim_counts *cc, char *err)
{
    int rc = FLOE_OK;

    memset(wc, 0, sizeof(*wc));
    memset(cc, 0, sizeof(*cc));
    if (task >= FLOE_TASK_LOAD && task <= FLOE_TASK_UNLOAD) {
        rc = wh_ready(dag, err);
        if (rc != FLOE_OK)
            return rc;
    }
    switch (task) {
    case FLOE_TASK_CLAIM:
        return claim_exec(dag, batch, sel, cc, err);
    case FLOE_TASK_LOAD:
        return floe_wh_load(dag->wh, dag->store, batch, wc, err);
    case FLOE_TASK_TRANSFORM:
        return floe_wh_transform(dag->wh, batch, wc, err);
    case FLOE_TASK_UNLOAD:
        return floe_wh_unload(dag->wh, dag->store, batch, wc, err);
    case FLOE_TASK_FINALIZE:
        /* Processing objects stay: they are the replay source. */
        return floe_manifest_set_state(dag->store, batch, FLOE_MANIFEST_DONE,
                                       err);
    default:
        return floe_err(err, FLOE_EINVAL, "task %s takes no batch",
                        floe_dag_task_name(task));
    }
}

static int state_rank(const char *state)
{
    int i;

    for (i = FLOE_TASK_CLAIM; i < FLOE_TASK_COUNT; i++)
        if (strcmp(state, reached[i]) == 0)
            return i;
    return 0; /* failed */
}

/* Move the batch forward after `task` succeeded; never backwards (a forced
 * re-run of load leaves a done batch done), but out of failed. */
static int advance(struct floe_dag *dag, const char *batch, int task,
                   char *err)
{
    struct floe_state_batch b;
    int rc = floe_state_batch_get(dag->state, batch, &b, err);

    if (rc != FLOE_OK)
        return rc;
    if (strcmp(b.state, FLOE_BATCH_FAILED) != 0 &&
        state_rank(b.state) >= task)
        return FLOE_OK;
    return floe_state_batch_set_state(dag->state, batch, reached[task], NULL,
                                      err);
}

static void give_up(struct floe_dag *dag, int task, const char *batch,
                    int attempts, const char *why,
                    struct floe_dag_summary *sum, char *err)
{
    char msg[FLOE_ERR_LEN], e2[FLOE_ERR_LEN];
    struct floe_manifest m;

    snprintf(msg, sizeof(msg), "%s: %s", task_names[task], why);
    if (floe_state_batch_set_state(dag->state, batch, FLOE_BATCH_FAILED, msg,
                                   e2) != FLOE_OK)
        floe_log_error("%s", e2);
    /* Tell manifest readers too, when there is a manifest. */
    if (floe_manifest_read(dag->store, batch, &m, e2) == FLOE_OK) {
        floe_manifest_free(&m);
        if (floe_manifest_set_state(dag->store, batch, FLOE_MANIFEST_FAILED,
                                    e2) != FLOE_OK)
            floe_log_warn("%s", e2);
    }
    sum->failed++;
    snprintf(sum->failed_batch, sizeof(sum->failed_batch), "%s", batch);
    snprintf(sum->failed_task, sizeof(sum->failed_task), "%s",
             task_names[task]);
    snprintf(sum->error, sizeof(sum->error), "%s", why);
    floe_err(err, FLOE_EIO,
             "task %s failed for batch %s after %d attempt%s: %s\n"
             "The batch is marked failed. Fix the cause, then re-run the "
             "task with:\n  floe task %s --batch %s --lake %s --state-dir %s\n"
             "and the next 'floe run' finishes the batch.",
             task_names[task], batch, attempts, attempts == 1 ? "" : "s", why,
             task_names[task], batch, dag->cfg.lake, dag->cfg.state_dir);
}

/* Run `task` for `batch` unless it already succeeded: attempts, backoff,
 * state. On giving up the batch is marked failed and err says how to
 * re-run. */
static int run_task(struct floe_dag *dag, int task, const char *batch,
                    const struct selection *sel, struct floe_dag_summary *sum,
                    char *err)
{
    struct floe_wh_counts wc;
    struct floe_claim_counts cc;
    struct floe_buf json;
    char why[FLOE_ERR_LEN], e2[FLOE_ERR_LEN], text[256];
    int64_t tries = dag->cfg.retries + 1, delay = dag->cfg.retry_delay_ms;
    int64_t i, run, t0, ms = 0;
    bool done = false;
    int attempt = 0, rc;

    rc = floe_state_task_succeeded(dag->state, batch, task_names[task], &done,
                                   err);
    if (rc != FLOE_OK)
        return rc;
    if (done && !dag->cfg.force) {
        floe_log_debug("%s %s: already succeeded, skipped", task_names[task],
                       batch);
        if (dag->cfg.progress)
            fprintf(stderr, "  %-9s %s  skipped (already succeeded)\n",
                    task_names[task], batch);
        sum->skipped++;
        return advance(dag, batch, task, err);
    }
    floe_buf_init(&json, 64 * 1024);
    for (i = 0; i < tries; i++) {
        rc = floe_state_task_begin(dag->state, batch, task_names[task], &run,
                                   &attempt, err);
        if (rc != FLOE_OK)
            goto cleanup;
        t0 = floe_mono_ms();
        why[0] = '\0';
        rc = exec_task(dag, task, batch, sel, &wc, &cc, why);
        ms = floe_mono_ms() - t0;
        if (rc != FLOE_OK && why[0] == '\0')
            snprintf(why, sizeof(why), "%s", floe_strerror(rc));
        floe_buf_reset(&json);
        if (rc == FLOE_OK && task == FLOE_TASK_CLAIM)
            claim_counts_json(&cc, &json);
        else if (rc == FLOE_OK && task != FLOE_TASK_FINALIZE)
            floe_dag_counts_json(&wc, &json);
        if (floe_state_task_end(dag->state, run, rc == FLOE_OK, ms,
                                json.len ? json.data : NULL, why,
                                e2) != FLOE_OK)
            floe_log_error("%s", e2); /* the work itself is done */
        if (rc == FLOE_OK)
            break;
        floe_log_warn("%s %s: attempt %d failed (try %lld of %lld): %s",
                      task_names[task], batch, attempt, (long long)(i + 1),
                      (long long)tries, why);
        /* A fresh warehouse handle for the next attempt. */
        floe_wh_close(dag->wh);
        dag->wh = NULL;
        if (i + 1 < tries && !stopped(dag)) {
            floe_log_info("retrying %s for %s in %lld ms", task_names[task],
                          batch, (long long)delay);
            nap(dag, delay);
            delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
        }
        if (stopped(dag)) {
            rc = floe_err(err, FLOE_EAGAIN,
                          "stopped while retrying %s for batch %s: %s",
                          task_names[task], batch, why);
            goto cleanup;
        }
    }
    if (rc != FLOE_OK) {
        give_up(dag, task, batch, attempt, why, sum, err);
        goto cleanup;
    }
    rc = advance(dag, batch, task, err);
    if (rc != FLOE_OK)
        goto cleanup;
    if (task == FLOE_TASK_CLAIM) {
        sum->claimed++;
        sum->objects += cc.objects;
        sum->bytes += cc.bytes;
    }
    if (task == FLOE_TASK_FINALIZE)
        sum->batches++;
    floe_dag_counts_add(&sum->counts, &wc);
    snprintf(sum->last_batch, sizeof(sum->last_batch), "%s", batch);
    counts_text(task, &wc, &cc, text, sizeof(text));
    if (dag->cfg.progress)
        fprintf(stderr, "  %-9s %s  %6.2fs  %s\n", task_names[task], batch,
                (double)ms / 1000.0, text);
    else
        floe_log_debug("%s %s: %lld ms %s", task_names[task], batch,
                       (long long)ms, text);
    if (cc.missing > 0)
        floe_log_warn("batch %s: %lld claimed objects vanished from landing/ "
                      "before they were copied (see its manifest)", batch,
                      (long long)cc.missing);
    if (cc.quarantined > 0)
        floe_log_warn("batch %s: %lld claimed object(s) cannot be loaded, "
                      "set aside under processed/quarantine/objects/ "
                      "(reasons in its manifest); the batch goes on without "
                      "them", batch, (long long)cc.quarantined);
cleanup:
    floe_buf_free(&json);
    return rc;
}

/* Run the batch from `first` through finalize. */
static int run_batch(struct floe_dag *dag, const char *batch, int first,
                     const struct selection *sel,
                     struct floe_dag_summary *sum, char *err)
{
    int64_t t0 = floe_mono_ms();
    int task, rc;

    for (task = first; task < FLOE_TASK_COUNT; task++) {
        if (stopped(dag))
            return floe_err(err, FLOE_EAGAIN,
                            "stopped before %s of batch %s; the next run "
                            "resumes it", task_names[task], batch);
        rc = run_task(dag, task, batch, task == FLOE_TASK_CLAIM ? sel : NULL,
                      sum, err);
        if (rc != FLOE_OK)
            return rc;
    }
    floe_log_info("batch %s done in %.2fs", batch,
                  (double)(floe_mono_ms() - t0) / 1000.0);
    return FLOE_OK;
}

/* --- passes and single tasks ---------------------------------------- */

struct id_list {
    char (*v)[FLOE_BATCH_ID_MAX + 1];
    size_t n, cap;
    int64_t count;
};

static int collect_id(const struct floe_state_batch *b, void *ud)
{
    struct id_list *l = ud;

    l->count++;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *v = realloc(l->v, cap * sizeof(*l->v));

        if (v == NULL)
            return FLOE_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    memcpy(l->v[l->n++], b->batch_id, sizeof(l->v[0]));
    return 0;
}

static int count_only(const struct floe_state_batch *b, void *ud)
{
    (void)b;
    (*(int64_t *)ud)++;
    return 0;
}

/* Create the row of a new batch; its id sorts after every earlier one. */
static int new_batch(struct floe_dag *dag, char id[FLOE_BATCH_ID_MAX + 1],
                     int64_t objects, int64_t bytes, char *err)
{
    char last[FLOE_BATCH_ID_MAX + 1];
    int rc;

    rc = floe_state_batch_last(dag->state, last, err);
    if (rc == FLOE_OK)
        rc = floe_claim_batch_id(floe_now_ms(), last, id);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot make a batch id: %s",
                        floe_strerror(rc));
    return floe_state_batch_add(dag->state, id, objects, bytes, err);
}

static void note_landing(struct floe_dag *dag, const struct floe_pending *p,
                         struct floe_dag_summary *sum)
{
    sum->landing_errors = p->errors;
    sum->unknown = p->unknown;
    snprintf(sum->unknown_streams, sizeof(sum->unknown_streams), "%s",
             p->unknown_streams);
    sum->pending = (int64_t)p->n;
    sum->pending_bytes = p->bytes;
    if (p->errors > 0 && p->errors != dag->last_errors)
        floe_log_warn("%lld object%s (%lld bytes) under landing/errors/: "
                      "records Firehose could not deliver, left there for "
                      "a human", (long long)p->errors,
                      p->errors == 1 ? "" : "s", (long long)p->error_bytes);
    dag->last_errors = p->errors;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Drop from `p` the landing keys that the manifest of a batch whose claim
 * has not finished (it failed, or crashed) already lists: that batch owns
 * them (re-running its claim finishes the move), so a new batch must not
 * take them too. */
static int exclude_claimed(struct floe_dag *dag, struct floe_pending *p,
                           char *err)
{
    struct id_list ids = { 0 };
    struct floe_manifest m;
    const char **keys;
    size_t i, j, w;
    int rc;

    rc = floe_state_batch_list(dag->state, FLOE_STATE_UNCLAIMED, collect_id,
                               &ids, err);
    for (i = 0; rc == FLOE_OK && i < ids.n && p->n > 0; i++) {
        rc = floe_manifest_read(dag->store, ids.v[i], &m, err);
        if (rc == FLOE_ENOTFOUND) {
            rc = FLOE_OK; /* nothing of it moved */
            continue;
        }
        if (rc != FLOE_OK)
            break;
        keys = m.n ? malloc(m.n * sizeof(*keys)) : NULL;
        if (m.n && keys == NULL) {
            floe_manifest_free(&m);
            rc = floe_err(err, FLOE_ENOMEM, "out of memory");
            break;
        }
        for (j = 0; j < m.n; j++)
            keys[j] = m.v[j].source;
        qsort(keys, m.n, sizeof(*keys), cmp_str);
        for (j = 0, w = 0; j < p->n; j++) {
            const char *k = p->v[j].source;

            if (m.n && bsearch(&k, keys, m.n, sizeof(*keys), cmp_str)) {
                p->bytes -= p->v[j].size;
                free(p->v[j].source);
                free(p->v[j].key);
                continue;
            }
            p->v[w++] = p->v[j];
        }
        if (w < p->n)
            floe_log_warn("%zu landing objects belong to unfinished claim "
                          "of batch %s; left for 'floe task claim --batch "
                          "%s'", p->n - w,
                          ids.v[i], ids.v[i]);
        p->n = w;
        free(keys);
        floe_manifest_free(&m);
    }
    free(ids.v);
    return rc;
}

/* Claim the objects of `p` (landing keys) into new batches of at most
 * max_objects / max_bytes, each run through finalize; `why_stop` says
 * what a stop signal leaves behind. */
static int run_batches(struct floe_dag *dag, const struct floe_pending *p,
                       const char *why_stop, struct floe_dag_summary *sum,
                       char *err)
{
    char id[FLOE_BATCH_ID_MAX + 1];
    size_t i, from, k;
    int rc = FLOE_OK;

    for (from = 0; from < p->n && rc == FLOE_OK; from += k) {
        struct selection sel;
        int64_t bytes = 0;

        if (stopped(dag))
            return floe_err(err, FLOE_EAGAIN, "%s", why_stop);
        k = floe_claim_take(p, from, dag->cfg.max_objects,
                            dag->cfg.max_bytes);
        for (i = from; i < from + k; i++)
            bytes += p->v[i].size;
        rc = new_batch(dag, id, (int64_t)k, bytes, err);
        if (rc != FLOE_OK)
            break;
        sel.v = p->v + from;
        sel.n = k;
        if (dag->cfg.progress)
            fprintf(stderr, "batch %s: %zu object%s, %lld bytes\n", id, k,
                    k == 1 ? "" : "s", (long long)bytes);
        else
            floe_log_debug("batch %s: %zu objects, %lld bytes", id, k,
                           (long long)bytes);
        rc = run_batch(dag, id, FLOE_TASK_CLAIM, &sel, sum, err);
    }
    return rc;
}

static int run_pass(struct floe_dag *dag, struct floe_dag_summary *sum,
                    char *err)
{
    struct id_list ids = { 0 };
    struct floe_pending p = { 0 };
    int64_t failed = 0;
    size_t i;
    int rc;

    rc = floe_state_batch_list(dag->state, FLOE_STATE_FAILED, count_only,
                               &failed, err);
    if (rc != FLOE_OK)
        goto cleanup;
    if (failed > 0 && failed != dag->last_failed)
        floe_log_error("%lld failed batch%s wait for a human: see 'floe task "
                       "list --state-dir %s'", (long long)failed,
                       failed == 1 ? "" : "es", dag->cfg.state_dir);
    dag->last_failed = failed;

    /* Batches an earlier run left half-way (crash, stop signal). */
    rc = floe_state_batch_list(dag->state, FLOE_STATE_UNFINISHED, collect_id,
                               &ids, err);
    for (i = 0; rc == FLOE_OK && i < ids.n; i++) {
        floe_log_info("resuming batch %s, left unfinished by an earlier "
                      "run", ids.v[i]);
        rc = run_batch(dag, ids.v[i], FLOE_TASK_CLAIM, NULL, sum, err);
    }
    if (rc != FLOE_OK)
        goto cleanup;

    rc = floe_claim_sense(dag->store, known_streams(dag), &p, err);
    if (rc == FLOE_OK)
        rc = exclude_claimed(dag, &p, err);
    if (rc != FLOE_OK)
        goto cleanup;
    note_landing(dag, &p, sum);
    rc = run_batches(dag, &p, "stopped before claiming", sum, err);
cleanup:
    free(ids.v);
    floe_pending_free(&p);
    return rc;
}

int floe_dag_run_once(struct floe_dag *dag, struct floe_dag_summary *out,
                      char *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = lock(dag, err);
    if (rc != FLOE_OK)
        return rc;
    rc = run_pass(dag, out, err);
    if (!dag->cfg.hold || rc != FLOE_OK)
        unlock(dag);
    return rc;
}

/* --- backfill -------------------------------------------------------- */

static int collect_done(const struct floe_state_batch *b, void *ud)
{
    return strcmp(b->state, FLOE_BATCH_DONE) == 0 ? collect_id(b, ud) : 0;
}

static int cmp_obj_source(const void *a, const void *b)
{
    return strcmp(((const struct floe_claim_obj *)a)->source,
                  ((const struct floe_claim_obj *)b)->source);
}

/* Add the objects of manifest `m` whose hour overlaps [from, to) to `p`:
 * source = the landing key, key = the copy in processing/ (both owned). */
static int pick_in_range(const struct floe_manifest *m, int64_t from,
                         int64_t to, struct floe_pending *p, char *err)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        const struct floe_claim_obj *o = &m->v[i];
        struct floe_claim_obj *dst;
        int64_t hour;

        if (o->missing || o->reason != NULL ||
            floe_backfill_key_hour(o->source, &hour) != FLOE_OK ||
            hour >= to || hour + FLOE_HOUR_MS <= from)
            continue;
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            void *v = realloc(p->v, cap * sizeof(*p->v));

            if (v == NULL)
                return floe_err(err, FLOE_ENOMEM, "out of memory");
            p->v = v;
            p->cap = cap;
        }
        dst = &p->v[p->n];
        memset(dst, 0, sizeof(*dst));
        dst->source = strdup(o->source);
        dst->key = strdup(o->key);
        dst->size = o->size;
        p->n++; /* owned by p from here, even half-built */
        if (dst->source == NULL || dst->key == NULL)
            return floe_err(err, FLOE_ENOMEM, "out of memory");
        p->bytes += o->size;
    }
    return FLOE_OK;
}

/* Sort by landing key and keep one of each (an object re-processed by an
 * earlier backfill is listed by two batches). */
static void unique_sources(struct floe_pending *p)
{
    size_t i, w = 0;

    if (p->n > 1)
        qsort(p->v, p->n, sizeof(*p->v), cmp_obj_source);
    for (i = 0; i < p->n; i++) {
        if (w > 0 && strcmp(p->v[w - 1].source, p->v[i].source) == 0) {
            p->bytes -= p->v[i].size;
            free(p->v[i].source);
            free(p->v[i].key);
            continue;
        }
        p->v[w++] = p->v[i];
    }
    p->n = w;
}

/* Put each object back at its landing key (a copy; an object already
 * there, from a backfill that stopped half-way, stays). */
static int reland(struct floe_dag *dag, const struct floe_pending *p,
                  char *err)
{
    struct floe_obj_info info;
    size_t i;
    int rc;

    for (i = 0; i < p->n; i++) {
        rc = floe_store_head(dag->store, p->v[i].source, &info);
        if (rc == FLOE_OK && info.size == p->v[i].size)
            continue;
        if (rc != FLOE_OK && rc != FLOE_ENOTFOUND)
            return floe_err(err, rc, "cannot check %s: %s", p->v[i].source,
                            floe_strerror(rc));
        rc = floe_store_copy(dag->store, p->v[i].key, p->v[i].source);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "cannot copy %s back to %s: %s",
                            p->v[i].key, p->v[i].source, floe_strerror(rc));
    }
    return FLOE_OK;
}

static int backfill_locked(struct floe_dag *dag, int64_t from, int64_t to,
                           bool dry_run, struct floe_dag_summary *sum,
                           char *err)
{
    struct id_list ids = { 0 };
    struct floe_pending p = { 0 };
    struct floe_manifest m;
    size_t i;
    int rc;

    rc = floe_state_batch_list(dag->state, FLOE_STATE_ALL, collect_done,
                               &ids, err);
    for (i = 0; rc == FLOE_OK && i < ids.n; i++) {
        rc = floe_manifest_read(dag->store, ids.v[i], &m, err);
        if (rc == FLOE_ENOTFOUND) {
            floe_log_warn("batch %s has no manifest; its objects cannot be "
                          "re-processed", ids.v[i]);
            rc = FLOE_OK;
            continue;
        }
        if (rc == FLOE_OK) {
            rc = pick_in_range(&m, from, to, &p, err);
            floe_manifest_free(&m);
        }
    }
    if (rc != FLOE_OK)
        goto cleanup;
    unique_sources(&p);
    sum->pending = (int64_t)p.n;
    sum->pending_bytes = p.bytes;
    if (dry_run || p.n == 0)
        goto cleanup;
    rc = reland(dag, &p, err);
    if (rc == FLOE_OK)
        rc = run_batches(dag, &p, "stopped; the objects put back in "
                         "landing/ go with the next run", sum, err);
cleanup:
    free(ids.v);
    floe_pending_free(&p);
    return rc;
}

int floe_dag_backfill(struct floe_dag *dag, int64_t from_ms, int64_t to_ms,
                      bool dry_run, struct floe_dag_summary *out, char *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (to_ms <= from_ms)
        return floe_err(err, FLOE_EINVAL, "--to must be later than --from");
    rc = lock(dag, err);
    if (rc != FLOE_OK)
        return rc;
    rc = backfill_locked(dag, from_ms, to_ms, dry_run, out, err);
    unlock(dag);
    return rc;
}

void floe_dag_release(struct floe_dag *dag)
{
    if (dag != NULL)
        unlock(dag);
}

/* A task for an existing batch needs its predecessor to have succeeded. */
static int check_ready(struct floe_dag *dag, int task, const char *batch,
                       char *err)
{
    struct floe_state_batch b;
    bool ok = false;
    int rc;

    rc = floe_state_batch_get(dag->state, batch, &b, err);
    if (rc != FLOE_OK || task == FLOE_TASK_CLAIM)
        return rc;
    rc = floe_state_task_succeeded(dag->state, batch, task_names[task - 1],
                                   &ok, err);
    if (rc == FLOE_OK && !ok)
        rc = floe_err(err, FLOE_EINVAL,
                      "cannot run %s for batch %s: %s has not succeeded for "
                      "it yet (batch state: %s); run 'floe task %s --batch "
                      "%s' first", task_names[task], batch,
                      task_names[task - 1], b.state, task_names[task - 1],
                      batch);
    return rc;
}

static int task_locked(struct floe_dag *dag, int task, const char *batch,
                       char out_batch[FLOE_BATCH_ID_MAX + 1],
                       struct floe_dag_summary *sum, char *err)
{
    struct floe_pending p = { 0 };
    struct selection sel;
    const char *named = NULL;
    int64_t bytes = 0;
    size_t i;
    int rc;

    if (batch != NULL && floe_claim_check_id(batch) != FLOE_OK) {
        rc = floe_err(err, FLOE_EINVAL,
                      "'%s' is not a batch id (letters, digits, '.', '_' "
                      "and '-', at most %d)", batch, FLOE_CLAIM_ID_MAX);
        goto cleanup;
    }
    /* A caller may name a new batch (the Airflow DAG derives one from its
     * run id, so a retried claim finishes the same batch): with no row
     * yet it claims like an unnamed one, nothing when nothing is
     * pending. */
    if (task == FLOE_TASK_CLAIM && batch != NULL) {
        struct floe_state_batch b;

        rc = floe_state_batch_get(dag->state, batch, &b, err);
        if (rc == FLOE_ENOTFOUND)
            named = batch;
        else if (rc != FLOE_OK)
            goto cleanup;
    }
    if (task == FLOE_TASK_SENSE || (task == FLOE_TASK_CLAIM && !batch) ||
        named != NULL) {
        rc = floe_claim_sense(dag->store, known_streams(dag), &p, err);
        if (rc == FLOE_OK)
            rc = exclude_claimed(dag, &p, err);
        if (rc != FLOE_OK)
            goto cleanup;
        note_landing(dag, &p, sum);
        if (task == FLOE_TASK_SENSE || p.n == 0)
            goto cleanup;
        sel.v = p.v;
        sel.n = floe_claim_take(&p, 0, dag->cfg.max_objects,
                                dag->cfg.max_bytes);
        for (i = 0; i < sel.n; i++)
            bytes += p.v[i].size;
        if (named != NULL) {
            snprintf(out_batch, FLOE_BATCH_ID_MAX + 1, "%s", named);
            rc = floe_state_batch_add(dag->state, named, (int64_t)sel.n,
                                      bytes, err);
        } else {
            rc = new_batch(dag, out_batch, (int64_t)sel.n, bytes, err);
        }
        if (rc == FLOE_OK)
            rc = run_task(dag, task, out_batch, &sel, sum, err);
        goto cleanup;
    }
    snprintf(out_batch, FLOE_BATCH_ID_MAX + 1, "%s", batch);
    rc = check_ready(dag, task, batch, err);
    if (rc == FLOE_OK)
        rc = run_task(dag, task, batch, NULL, sum, err);
cleanup:
    floe_pending_free(&p);
    return rc;
}

int floe_dag_task_run(struct floe_dag *dag, int task, const char *batch,
                      char out_batch[FLOE_BATCH_ID_MAX + 1],
                      struct floe_dag_summary *out, char *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out_batch[0] = '\0';
    if (batch != NULL && batch[0] == '\0')
        batch = NULL;
    if (task < 0 || task >= FLOE_TASK_COUNT)
        return floe_err(err, FLOE_EINVAL, "unknown task");
    if (batch == NULL && task > FLOE_TASK_CLAIM)
        return floe_err(err, FLOE_EINVAL,
                        "task %s needs --batch ID (see 'floe task list')",
                        task_names[task]);
    rc = lock(dag, err);
    if (rc != FLOE_OK)
        return rc;
    rc = task_locked(dag, task, batch, out_batch, out, err);
    unlock(dag);
    return rc;
}
