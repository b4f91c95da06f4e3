/* demo.c - `floe demo`: the whole pipeline on one machine, reconciled.
 * Runs the real parts as child processes of this same binary, exactly as
 * a user would: emit the logs, start the Firehose server, create the two
 * delivery streams over the API, run the agent until every line is
 * acknowledged, stop the server (it flushes), run the DAG once, then prove
 * by record id that nothing was lost or doubled. Exit 0 only then. */
#define FLOE_LOG_MOD "demo"
#include "demo/demo.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/opt.h"
#include "core/util.h"
#include "demo/reconcile.h"
#include "http/client.h"
#include "store/store.h"

extern char **environ;

struct demo_cfg {
    int64_t orders;
    int64_t customers;
    char *dir;
    char *lake;
    int64_t seed;
    bool json;
    int64_t interval_s;
    int64_t timeout_ms;
    int64_t aggregate;
    char *engine;
};

#define F(m) offsetof(struct demo_cfg, m)
static const struct floe_opt demo_opts[] = {
    { "orders", FLOE_OPT_INT, "100000", F(orders), 1, 1e9, 0,
      "Valid order events to emit." },
    { "customers", FLOE_OPT_INT, "10000", F(customers), 1, 1e8, 0,
      "Distinct customers to emit." },
    { "dir", FLOE_OPT_STR, "demo", F(dir), 0, -1, 0,
      "Working directory: logs/, lake/, state/ are (re)created inside." },
    { "lake", FLOE_OPT_STR, NULL, F(lake), 0, -1, 0,
      "Object store instead of <dir>/lake, e.g. s3://bucket/prefix (AWS "
      "credentials, region and endpoint from the environment or ~/.aws). "
      "It must hold no object yet: the demo reconciles all of it." },
    { "seed", FLOE_OPT_INT, "1", F(seed), 0, 9e18, 0,
      "Generator seed (same seed, same data)." },
    { "json", FLOE_OPT_BOOL, "false", F(json), 0, -1, 0,
      "Print the reconciliation as one JSON object on stdout." },
    { "interval", FLOE_OPT_INT, "1", F(interval_s), 0, 900, 0,
      "Firehose buffering interval in seconds for the demo streams." },
    { "timeout", FLOE_OPT_MS, "10m", F(timeout_ms), 1000, -1, 0,
      "Give up (and say where it stopped) after this long." },
    { "aggregate", FLOE_OPT_SIZE, "0", F(aggregate), 0, 1024000, 0,
      "The agent's aggregatedRecordSizeBytes for both flows: whole lines "
      "packed into Firehose records up to this size (0: one line per "
      "record). The DAG splits them back into lines." },
    { "engine", FLOE_OPT_STR, "duckdb", F(engine), 0, -1, 0,
      "Warehouse engine of the DAG run: duckdb, or snowflake (its "
      "connection from floe.yaml 'run:' or FLOE_RUN_SNOWFLAKE_*)." },
    { NULL, 0, NULL, 0, 0, 0, 0, NULL },
};
#undef F

static const struct floe_cmd demo_cmd = {
    "demo",
    "floe demo [--orders N] [--customers M] [--dir D] [--lake URL] [--json]",
    "Runs the whole pipeline on this machine: emits customers.log and\n"
    "orders.log (with malformed lines and duplicate events), starts the\n"
    "Firehose server and the agent, waits until everything is delivered to\n"
    "the landing zone, runs the landing_to_processed DAG, and reconciles\n"
    "record by record: emitted, landed, processed per table, quarantined,\n"
    "lost, doubled. Exits non-zero unless lost = 0 and doubled = 0.",
    demo_opts,
    "Examples:\n"
    "  floe demo                          # ~100k orders, 10k customers\n"
    "  floe demo --orders 1000 --json     # small run, machine-readable\n"
    "  FLOE_RUN_SNOWFLAKE_ACCOUNT=... floe demo --engine snowflake\n"
    "Logs of each part are in <dir>/state/*.log.",
};

struct demo {
    struct demo_cfg cfg;
    char exe[PATH_MAX];
    char dir[PATH_MAX];
    int64_t t0;
    bool tty;
    int step;
};

#define STEPS 6

static void progress(struct demo *d, const char *fmt, ...) FLOE_PRINTF(2, 3);

static void progress(struct demo *d, const char *fmt, ...)
{
    va_list ap;

    if (d->cfg.json && !d->tty)
        return;
    fprintf(stderr, "[%d/%d %6.1fs] ", ++d->step, STEPS,
            (double)(floe_mono_ms() - d->t0) / 1000.0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Start `floe <args...>` with stdout+stderr to `log` (stdout to `out` if
 * given). */
static int spawn(struct demo *d, char *const args[], const char *log,
                 const char *out, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    char *argv[32];
    int i, rc;

    argv[0] = d->exe;
    for (i = 0; args[i] != NULL && i < 30; i++)
        argv[i + 1] = args[i];
    argv[i + 1] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log,
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out != NULL)
        posix_spawn_file_actions_addopen(&fa, 1, out,
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
    else
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
    rc = posix_spawn(pid, d->exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        floe_log_errno("cannot start %s %s", d->exe, args[0]);
        return FLOE_EIO;
    }
    return FLOE_OK;
}

/* Wait for `pid` until the demo's deadline; FLOE_OK if it exited 0. */
static int wait_exit(struct demo *d, pid_t pid, const char *what,
                     const char *log)
{
    int status = 0;

    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);

        if (got == pid)
            break;
        if (got < 0 && errno != EINTR)
            return FLOE_EIO;
        if (floe_mono_ms() - d->t0 > d->cfg.timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            floe_log_error("%s did not finish within --timeout; its log: %s",
                           what, log);
            return FLOE_EAGAIN;
        }
        usleep(20 * 1000);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return FLOE_OK;
    floe_log_error("%s failed (%s %d); see its log: %s", what,
                   WIFEXITED(status) ? "exit status" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                   log);
    return FLOE_EREMOTE;
}

static int run_child(struct demo *d, char *const args[], const char *what,
                     const char *log, const char *out)
{
    pid_t pid;
    int rc = spawn(d, args, log, out, &pid);

    return rc == FLOE_OK ? wait_exit(d, pid, what, log) : rc;
}

/* prepare_dir() keeps d->dir short enough for every name used here. */
static void path(const struct demo *d, char *out, const char *rel)
{
    if (snprintf(out, PATH_MAX, "%s/%s", d->dir, rel) >= PATH_MAX)
        FLOE_ASSERT(!"demo path too long");
}

/* Create a delivery stream through the Firehose API, like any client. */
static int create_stream(struct demo *d, int port, const char *name,
                         char *err)
{
    static const char *const headers[] = {
        "Content-Type: application/x-amz-json-1.1",
        "X-Amz-Target: Firehose_20150804.CreateDeliveryStream",
    };
    struct floe_http_client *c = NULL;
    struct floe_buf body, resp;
    char url[64];
    long status = 0;
    int rc;

    floe_buf_init(&body, 4096);
    floe_buf_init(&resp, 65536);
    rc = floe_buf_addf(&body,
                       "{\"DeliveryStreamName\":\"%s\","
                       "\"DeliveryStreamType\":\"DirectPut\","
                       "\"ExtendedS3DestinationConfiguration\":{"
                       "\"RoleARN\":\"arn:aws:iam::123456789012:role/floe\","
                       "\"BucketARN\":\"arn:aws:s3:::landing\","
                       "\"Prefix\":\"%s/\","
                       "\"ErrorOutputPrefix\":\"errors/%s/\","
                       "\"BufferingHints\":{\"SizeInMBs\":16,"
                       "\"IntervalInSeconds\":%lld},"
                       "\"CompressionFormat\":\"GZIP\"}}",
                       name, name, name, (long long)d->cfg.interval_s);
    if (rc == FLOE_OK)
        rc = floe_http_client_create(NULL, &c);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    if (rc == FLOE_OK)
        rc = floe_http_client_post(c, url, headers, 2, body.data, body.len,
                                   &status, &resp, err);
    if (rc == FLOE_OK && status != 200)
        rc = floe_err(err, FLOE_EREMOTE,
                      "CreateDeliveryStream %s: HTTP %ld %s", name, status,
                      resp.data ? resp.data : "");
    else if (rc != FLOE_OK && rc != FLOE_EIO)
        floe_err(err, rc, "CreateDeliveryStream %s: %s", name,
                 floe_strerror(rc));
    floe_http_client_destroy(c);
    floe_buf_free(&body);
    floe_buf_free(&resp);
    return rc;
}

static int write_agent_json(struct demo *d, int port, char *err)
{
    char p[PATH_MAX], logs[PATH_MAX];
    struct floe_buf j;
    int rc;

    path(d, p, "state/agent.json");
    path(d, logs, "logs");
    floe_buf_init(&j, 65536);
    rc = floe_buf_addf(
        &j,
        "{\n"
        "  \"firehose.endpoint\": \"http://127.0.0.1:%d\",\n"
        "  \"flows\": [\n"
        "    { \"filePattern\": \"%s/orders.log\",\n"
        "      \"deliveryStream\": \"orders\",\n"
        "      \"aggregatedRecordSizeBytes\": %lld,\n"
        "      \"initialPosition\": \"START_OF_FILE\" },\n"
        "    { \"filePattern\": \"%s/customers.log\",\n"
        "      \"deliveryStream\": \"customers\",\n"
        "      \"aggregatedRecordSizeBytes\": %lld,\n"
        "      \"initialPosition\": \"START_OF_FILE\",\n"
        "      \"dataProcessingOptions\": [\n"
        "        { \"optionName\": \"CSVTOJSON\",\n"
        "          \"customFieldNames\": [\"customer_id\", \"name\", "
        "\"email\", \"country\", \"segment\", \"created_at\", "
        "\"updated_at\"] } ] }\n"
        "  ]\n"
        "}\n",
        port, logs, (long long)d->cfg.aggregate, logs,
        (long long)d->cfg.aggregate);
    if (rc == FLOE_OK)
        rc = floe_write_file_atomic(p, j.data, j.len);
    floe_buf_free(&j);
    return rc == FLOE_OK ? FLOE_OK
                         : floe_err(err, rc, "cannot write %s", p);
}

/* Wait for the firehose ready file (its port) while the child lives. */
static int wait_ready(struct demo *d, pid_t pid, const char *ready,
                      int *port)
{
    struct floe_buf b;
    int status;

    floe_buf_init(&b, 64);
    while (floe_mono_ms() - d->t0 < d->cfg.timeout_ms) {
        floe_buf_reset(&b);
        if (floe_read_file(ready, &b) == FLOE_OK && b.len > 0) {
            *port = (int)strtol(b.data, NULL, 10);
            floe_buf_free(&b);
            return *port > 0 ? FLOE_OK : FLOE_ECORRUPT;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            floe_buf_free(&b);
            return FLOE_EREMOTE;
        }
        usleep(10 * 1000);
    }
    floe_buf_free(&b);
    return FLOE_EAGAIN;
}

static int64_t json_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* The reconciliation, as text or one JSON object. `zone` names the landing
 * figures: "landed" (what landed before the DAG ran) or "pending" (what is
 * still in landing/ now). */
static void report(bool json, const char *title, const char *zone,
                   const struct floe_reconcile *r, int64_t landed,
                   int64_t objects, double secs)
{
    int64_t valid = r->emitted_orders_valid + r->emitted_customers_valid;

    if (json) {
        printf("{\"emitted_valid\":%lld,\"emitted_invalid\":%lld,"
               "\"duplicates_emitted\":%lld,\"%s_records\":%lld,"
               "\"%s_objects\":%lld,"
               "\"processed_orders\":%lld,\"processed_customers\":%lld,"
               "\"processed_customers_latest\":%lld,"
               "\"processed_orders_enriched\":%lld,"
               "\"quarantined\":%lld,\"lost\":%lld,\"doubled\":%lld,"
               "\"unexpected\":%lld,\"seconds\":%.2f}\n",
               (long long)valid, (long long)r->emitted_invalid,
               (long long)r->duplicates_emitted, zone, (long long)landed,
               zone, (long long)objects, (long long)r->processed_orders,
               (long long)r->processed_customer_versions,
               (long long)r->processed_customers,
               (long long)r->processed_enriched,
               (long long)r->quarantined, (long long)r->lost,
               (long long)r->doubled, (long long)r->unexpected, secs);
        return;
    }
    printf("\n%s\n"
           "  emitted      %lld valid (%lld order events, %lld customer "
           "versions), %lld invalid, %lld duplicates\n"
           "  %-12s %lld records in %lld objects\n"
           "  processed    orders %lld, customer versions %lld, customers "
           "%lld, orders_enriched %lld\n"
           "  quarantined  %lld (invalid emitted: %lld)\n"
           "  lost         %lld\n"
           "  doubled      %lld\n"
           "  unexpected   %lld\n"
           "  seconds      %.1f\n",
           title, (long long)valid, (long long)r->emitted_orders_valid,
           (long long)r->emitted_customers_valid,
           (long long)r->emitted_invalid, (long long)r->duplicates_emitted,
           zone, (long long)landed, (long long)objects,
           (long long)r->processed_orders,
           (long long)r->processed_customer_versions,
           (long long)r->processed_customers,
           (long long)r->processed_enriched, (long long)r->quarantined,
           (long long)r->emitted_invalid, (long long)r->lost,
           (long long)r->doubled, (long long)r->unexpected, secs);
}

/* Exit status of a reconciliation: 0 only with nothing lost, doubled or
 * unexpected (the reason goes to stderr). */
static int verdict(const char *cmd, const struct floe_reconcile *r)
{
    if (r->lost == 0 && r->doubled == 0 && r->unexpected == 0)
        return 0;
    fprintf(stderr, "floe %s: FAILED: %lld lost, %lld doubled, %lld "
                    "unexpected records\n", cmd, (long long)r->lost,
            (long long)r->doubled, (long long)r->unexpected);
    return 1;
}

static int prepare_dir(struct demo *d, char *err)
{
    static const char *owned[] = { "lake", "state", "logs" };
    char p[PATH_MAX];
    size_t i;

    if (floe_mkdirs(d->cfg.dir) != FLOE_OK ||
        realpath(d->cfg.dir, d->dir) == NULL)
        return floe_err(err, FLOE_EIO, "cannot create --dir %s", d->cfg.dir);
    if (strlen(d->dir) > PATH_MAX - 64)
        return floe_err(err, FLOE_EINVAL, "--dir path is too long");
    for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        path(d, p, owned[i]);
        if (floe_rmtree(p) != FLOE_OK || floe_mkdirs(p) != FLOE_OK)
            return floe_err(err, FLOE_EIO, "cannot reset %s", p);
    }
    return FLOE_OK;
}

static int emitted_summary(const char *emit_out, char *line, size_t n)
{
    struct floe_buf b;
    cJSON *j;

    floe_buf_init(&b, 1 << 20);
    if (floe_read_file(emit_out, &b) != FLOE_OK) {
        floe_buf_free(&b);
        return FLOE_EIO;
    }
    j = cJSON_Parse(b.data);
    floe_buf_free(&b);
    if (j == NULL)
        return FLOE_ECORRUPT;
    snprintf(line, n, "%lld orders valid, %lld customers valid, %lld+%lld "
                      "invalid, %lld duplicates",
             (long long)json_int(j, "orders_valid"),
             (long long)json_int(j, "customers_valid"),
             (long long)json_int(j, "orders_invalid"),
             (long long)json_int(j, "customers_invalid"),
             (long long)json_int(j, "orders_duplicates"));
    cJSON_Delete(j);
    return FLOE_OK;
}

static int any_object(const struct floe_obj_info *info, void *ud)
{
    (void)info;
    (void)ud;
    return 1;
}

/* A --lake store must be empty: its objects would be reconciled too. */
static int lake_is_empty(const char *url, char *err)
{
    struct floe_store *st = NULL;
    int rc = floe_store_open(url, &st, err);

    if (rc != FLOE_OK)
        return rc;
    rc = floe_store_list(st, "", any_object, NULL);
    if (rc == 1)
        rc = floe_err(err, FLOE_EEXIST,
                      "--lake %s already holds objects: the demo needs an "
                      "empty one (another prefix will do)", url);
    else if (rc != FLOE_OK)
        floe_err(err, rc, "--lake %s: %s", url, floe_store_strerror(rc));
    floe_store_close(st);
    return rc;
}

static int pipeline(struct demo *d, struct floe_reconcile *r,
                    int64_t *landed, int64_t *objects, char *err)
{
    char logs[PATH_MAX], lake[PATH_MAX], st_fh[PATH_MAX], ready[PATH_MAX];
    char fh_log[PATH_MAX], ag_log[PATH_MAX], run_log[PATH_MAX];
    char emit_log[PATH_MAX], emit_out[PATH_MAX], run_out[PATH_MAX];
    char st_dir[PATH_MAX], agent_json[PATH_MAX], ckpt[PATH_MAX];
    char truth[PATH_MAX], orders[32], customers[32], seed[32], line[256];
    struct floe_store *st = NULL;
    pid_t fh = -1;
    int port = 0, rc;

    path(d, logs, "logs");
    path(d, lake, "lake");
    if (d->cfg.lake != NULL && d->cfg.lake[0] != '\0') {
        snprintf(lake, sizeof(lake), "%s", d->cfg.lake);
        rc = lake_is_empty(lake, err);
        if (rc != FLOE_OK)
            return rc;
    }
    path(d, st_dir, "state");
    path(d, st_fh, "state/firehose");
    path(d, ready, "state/firehose.port");
    path(d, emit_log, "state/emit.log");
    path(d, fh_log, "state/firehose.log");
    path(d, ag_log, "state/agent.log");
    path(d, run_log, "state/run.log");
    path(d, emit_out, "state/emit.json");
    path(d, run_out, "state/run.json");
    path(d, agent_json, "state/agent.json");
    path(d, ckpt, "state/agent/checkpoints.db");
    path(d, truth, "logs/emit-truth.tsv");
    snprintf(orders, sizeof(orders), "%lld", (long long)d->cfg.orders);
    snprintf(customers, sizeof(customers), "%lld",
             (long long)d->cfg.customers);
    snprintf(seed, sizeof(seed), "%lld", (long long)d->cfg.seed);

    /* 1. the application writes its logs */
    {
        char *args[] = { "emit", "--dir", logs, "--orders", orders,
                         "--customers", customers, "--seed", seed,
                         "--truth", truth, "--json", NULL };
        rc = run_child(d, args, "floe emit", emit_log, emit_out);
    }
    if (rc != FLOE_OK)
        return floe_err(err, rc, "emit failed (log: %s)", emit_log);
    if (emitted_summary(emit_out, line, sizeof(line)) != FLOE_OK)
        return floe_err(err, FLOE_ECORRUPT, "emit wrote no summary to %s",
                        emit_out);
    progress(d, "emit: %s -> %s", line, logs);

    /* 2. the delivery stream server, and its two streams via the API */
    {
        char *args[] = { "firehose", "--lake", lake, "--state-dir", st_fh,
                         "--port", "0", "--ready-file", ready, NULL };
        rc = spawn(d, args, fh_log, NULL, &fh);
    }
    if (rc == FLOE_OK && (rc = wait_ready(d, fh, ready, &port)) != FLOE_OK)
        floe_err(err, rc, "firehose did not start (log: %s)", fh_log);
    if (rc == FLOE_OK)
        rc = create_stream(d, port, "orders", err);
    if (rc == FLOE_OK)
        rc = create_stream(d, port, "customers", err);
    if (rc != FLOE_OK)
        goto stop_firehose;
    progress(d, "firehose: listening on 127.0.0.1:%d, streams orders and "
                "customers (GZIP, %llds interval)", port,
             (long long)d->cfg.interval_s);

    /* 3. the agent tails both files until every line is acknowledged */
    rc = write_agent_json(d, port, err);
    if (rc == FLOE_OK) {
        char *args[] = { "agent", "--config", agent_json, "--checkpoint-file",
                         ckpt, "--exit-at-eof", NULL };
        rc = run_child(d, args, "floe agent", ag_log, NULL);
        if (rc != FLOE_OK)
            floe_err(err, rc, "agent failed (log: %s)", ag_log);
    }
    if (rc == FLOE_OK)
        progress(d, "agent: every line acknowledged by the delivery stream");

stop_firehose:
    /* 4. stopping the server flushes its buffers into the landing zone */
    if (fh > 0) {
        kill(fh, SIGTERM);
        int src = wait_exit(d, fh, "floe firehose", fh_log);
        if (rc == FLOE_OK && src != FLOE_OK)
            rc = floe_err(err, src, "firehose did not stop cleanly (log: %s)",
                          fh_log);
    }
    if (rc != FLOE_OK)
        return rc;
    rc = floe_store_open(lake, &st, err);
    if (rc == FLOE_OK)
        rc = floe_reconcile_count_records(st, "landing/", landed, objects,
                                          err);
    if (rc != FLOE_OK)
        goto out;
    progress(d, "landing: %lld records in %lld objects", (long long)*landed,
             (long long)*objects);

    /* 5. the DAG: claim, load, transform, unload, finalize */
    {
        char *args[] = { "run", "--once", "--lake", lake, "--state-dir",
                         st_dir, "--json", "--engine", d->cfg.engine,
                         NULL };
        rc = run_child(d, args, "floe run", run_log, run_out);
    }
    if (rc != FLOE_OK) {
        floe_err(err, rc, "the DAG run failed (log: %s)", run_log);
        goto out;
    }
    progress(d, "run: landing -> processing -> processed done");

    /* 6. record-by-record reconciliation */
    rc = floe_reconcile_run(truth, st, r, err);
    if (rc == FLOE_OK)
        progress(d, "reconcile: %lld lost, %lld doubled",
                 (long long)r->lost, (long long)r->doubled);
out:
    floe_store_close(st);
    return rc;
}

int floe_demo_main(int argc, char **argv)
{
    struct demo d;
    struct floe_reconcile r;
    char err[FLOE_ERR_LEN] = "";
    int64_t landed = 0, objects = 0;
    int rc;

    memset(&d, 0, sizeof(d));
    memset(&r, 0, sizeof(r));
    rc = floe_opt_main(&demo_cmd, &d.cfg, argc, argv, NULL);
    if (rc != FLOE_OPT_GO) {
        floe_opt_free(demo_opts, &d.cfg);
        return rc;
    }
    d.t0 = floe_mono_ms();
    d.tty = isatty(2);
    if (floe_self_exe(d.exe, sizeof(d.exe)) != FLOE_OK) {
        fprintf(stderr, "floe demo: cannot find my own binary\n");
        floe_opt_free(demo_opts, &d.cfg);
        return 1;
    }
    rc = prepare_dir(&d, err);
    if (rc == FLOE_OK)
        rc = pipeline(&d, &r, &landed, &objects, err);
    if (rc != FLOE_OK) {
        fprintf(stderr, "floe demo: %s\n", err);
        floe_opt_free(demo_opts, &d.cfg);
        return 1;
    }
    {
        char title[PATH_MAX + 64];

        snprintf(title, sizeof(title), "Floe demo reconciliation (%s)",
                 d.dir);
        report(d.cfg.json, title, "landed", &r, landed, objects,
               (double)(floe_mono_ms() - d.t0) / 1000.0);
    }
    floe_opt_free(demo_opts, &d.cfg);
    if (verdict("demo", &r) != 0)
        return 1;
    if (!d.cfg.json)
        printf("OK: every valid record arrived exactly once.\n");
    return 0;
}

/* --- floe reconcile ---------------------------------------------------- */

struct reconcile_cfg {
    char *truth;
    char *lake;
    bool json;
};

#define F(m) offsetof(struct reconcile_cfg, m)
static const struct floe_opt reconcile_opts[] = {
    { "truth", FLOE_OPT_STR, NULL, F(truth), 0, -1, 0,
      "Truth file written by 'floe emit --truth' (required): one "
      "'<kind>\\t<id>\\t<status>' line per emitted line." },
    { "lake", FLOE_OPT_STR, "./lake", F(lake), 0, -1, 0,
      "Object store (directory, file:// or s3:// URL) whose processed/ "
      "zone is checked." },
    { "json", FLOE_OPT_BOOL, "false", F(json), 0, -1, 0,
      "Print the reconciliation as one JSON object on stdout." },
    { NULL, 0, NULL, 0, 0, 0, 0, NULL },
};
#undef F

static const struct floe_cmd reconcile_cmd = {
    "reconcile",
    "floe reconcile --truth FILE [--lake DIR] [--json]",
    "Proves, record id by record id, that the processed zone holds every "
    "valid\nrecord 'floe emit' wrote exactly once, table by table and by "
    "its key: each\nvalid order event_id in processed/orders and "
    "processed/orders_enriched, each\nvalid customer version (customer_id, "
    "updated_at) in processed/customer_versions\nand each customer_id in "
    "processed/customers. Prints emitted (valid, invalid,\nduplicate "
    "lines), pending (records and objects still in landing/, not yet\n"
    "claimed by the DAG), processed rows per table, quarantined rows, and:"
    "\n  lost        valid ids absent from a table\n  doubled     extra "
    "rows of an id present more than once in a table\n  unexpected  "
    "processed ids the truth file does not list as valid\nExit status 0 "
    "only when all three are 0; 1 when not, or when the lake or\nthe "
    "truth file cannot be read; 2 on a usage error. Run it once the DAG "
    "has\nprocessed everything (pending 0), e.g. after 'floe run --once'.",
    reconcile_opts,
    "Examples:\n"
    "  floe emit --dir logs --truth logs/truth.tsv ...   # then the "
    "pipeline\n"
    "  floe reconcile --truth logs/truth.tsv --lake ./lake\n"
    "  floe reconcile --truth logs/truth.tsv --lake ./lake --json | jq "
    ".lost",
    NULL,
    NULL,
};

int floe_reconcile_main(int argc, char **argv)
{
    struct reconcile_cfg cfg;
    struct floe_reconcile r;
    struct floe_store *st = NULL;
    char err[FLOE_ERR_LEN] = "";
    int64_t pending = 0, objects = 0, t0 = floe_mono_ms();
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    memset(&r, 0, sizeof(r));
    rc = floe_opt_main(&reconcile_cmd, &cfg, argc, argv, NULL);
    if (rc != FLOE_OPT_GO) {
        floe_opt_free(reconcile_opts, &cfg);
        return rc;
    }
    if (cfg.truth == NULL || cfg.truth[0] == '\0') {
        fprintf(stderr, "floe reconcile: --truth FILE is required (see "
                        "'floe reconcile --help')\n");
        floe_opt_free(reconcile_opts, &cfg);
        return 2;
    }
    rc = floe_store_open(cfg.lake, &st, err);
    if (rc == FLOE_OK)
        rc = floe_reconcile_count_records(st, "landing/", &pending, &objects,
                                          err);
    if (rc == FLOE_OK)
        rc = floe_reconcile_run(cfg.truth, st, &r, err);
    floe_store_close(st);
    if (rc != FLOE_OK) {
        fprintf(stderr, "floe reconcile: %s\n", err);
        floe_opt_free(reconcile_opts, &cfg);
        return 1;
    }
    {
        char title[PATH_MAX + 64];

        snprintf(title, sizeof(title), "Floe reconciliation (%s)", cfg.lake);
        report(cfg.json, title, "pending", &r, pending, objects,
               (double)(floe_mono_ms() - t0) / 1000.0);
    }
    rc = verdict("reconcile", &r);
    floe_opt_free(reconcile_opts, &cfg);
    return rc;
}
