/* test_orchestrator_dag.c - the DAG end to end against the embedded
 * warehouse: retries, failure, re-run, resume, unfinished claims, holding
 * the warehouse between passes, and damaged objects (a truncated .gz, a
 * gzip bomb) set aside while the rest of their batch goes on. */
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "core/util.h"
#include "orchestrator/claim.h"
#include "orchestrator/dag.h"
#include "orchestrator/state.h"
#include "store/store.h"
#include "orch_fixture.h"
#include "test.h"

/* --- the DAG against the embedded warehouse ------------------------ */

static const char orders_a[] =
    "{\"event_id\":\"6f1c1f0e-8a39-4c1e-9a55-0d2b7a1c0001\",\"order_id\":"
    "\"O00000001\",\"customer_id\":\"C000001\",\"status\":\"created\","
    "\"items\":[{\"sku\":\"SKU-0001\",\"qty\":2,\"unit_price\":19.99}],"
    "\"total\":39.98,\"currency\":\"EUR\",\"ts\":\"2026-11-24T19:56:00.123Z\"}"
    "\n"
    "{\"event_id\":\"6f1c1f0e-8a39-4c1e-9a55-0d2b7a1c0002\",\"order_id\":"
    "\"O00000001\",\"customer_id\":\"C000001\",\"status\":\"paid\","
    "\"items\":[{\"sku\":\"SKU-0001\",\"qty\":2,\"unit_price\":19.99}],"
    "\"total\":39.98,\"currency\":\"EUR\",\"ts\":\"2026-11-24T19:57:00.000Z\"}"
    "\n";
static const char orders_b[] =
    "{\"event_id\":\"6f1c1f0e-8a39-4c1e-9a55-0d2b7a1c0003\",\"order_id\":"
    "\"O00000002\",\"customer_id\":\"C000002\",\"status\":\"created\","
    "\"items\":[{\"sku\":\"SKU-0002\",\"qty\":1,\"unit_price\":5.5}],"
    "\"total\":5.5,\"currency\":\"EUR\",\"ts\":\"2026-11-24T19:58:00.000Z\","
    "\"channel\":\"web\"}\n"
    "{\"event_id\":\"6f1c1f0e-8a39-4c1e-9a55-0d2b7a1c0001\",\"order_id\":"
    "\"O00000001\",\"customer_id\":\"C000001\",\"status\":\"created\","
    "\"items\":[{\"sku\":\"SKU-0001\",\"qty\":2,\"unit_price\":19.99}],"
    "\"total\":39.98,\"currency\":\"EUR\",\"ts\":\"2026-11-24T19:56:00.123Z\"}"
    "\n";
static const char customers_a[] =
    "{\"customer_id\":\"C000001\",\"name\":\"Smith, Jane\",\"email\":"
    "\"jane@example.com\",\"country\":\"DE\",\"segment\":\"retail\","
    "\"created_at\":\"2026-11-24T19:00:00.000Z\",\"updated_at\":"
    "\"2026-11-24T19:00:00.000Z\"}\n"
    "{\"customer_id\":\"C000002\",\"name\":\"Bob\",\"email\":"
    "\"bob@example.com\",\"country\":\"FR\",\"segment\":\"pro\","
    "\"created_at\":\"2026-11-24T19:01:00.000Z\",\"updated_at\":"
    "\"2026-11-24T19:01:00.000Z\"}\n";

static void lake_with_data(struct floe_store *st)
{
    CHECK(put_gz(st, landing[0], customers_a) == FLOE_OK);
    CHECK(put_gz(st, landing[1], orders_a) == FLOE_OK);
    CHECK(put_gz(st, landing[2], orders_b) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/errors/2026/11/24/19/x.gz", "x", 1) ==
          FLOE_OK);
}

static void dag_cfg(struct floe_dag_cfg *c, const char *lake,
                    const char *state, const char *engine)
{
    memset(c, 0, sizeof(*c));
    c->lake = lake;
    c->state_dir = state;
    c->engine = engine;
    c->retries = 2;
    c->retry_delay_ms = 10;
}

static void test_dag_run_end_to_end(void)
{
    struct floe_dag_cfg cfg;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary s;
    struct keys k = { .n = 0 };
    struct floe_manifest m;
    char dir[256], lake[300], state[300], err[FLOE_ERR_LEN];
    struct runs r = { 0 };
    int i, parquet = 0;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(lake, sizeof(lake), "%s/lake", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    dag_cfg(&cfg, lake, state, "duckdb");
    cfg.max_objects = 2; /* three objects: two batches */
    CHECK(floe_dag_open(&cfg, &dag, err) == FLOE_OK);
    if (dag == NULL) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    lake_with_data(floe_dag_store(dag));

    if (floe_dag_run_once(dag, &s, err) != FLOE_OK)
        fprintf(stderr, "  run: %s\n", err);
    CHECK(s.failed == 0 && s.claimed == 2 && s.batches == 2);
    CHECK(s.objects == 3 && s.landing_errors == 1);
    CHECK(s.counts.raw_orders == 4 && s.counts.raw_customers == 2);
    CHECK(s.counts.new_orders == 3 && s.counts.duplicate_orders == 1);
    CHECK(s.counts.parquet_files > 0);
    floe_store_list(floe_dag_store(dag), "processed/", collect, &k);
    for (i = 0; i < k.n; i++)
        parquet += strstr(k.v[i], ".parquet") != NULL;
    CHECK(parquet > 0);
    /* landing holds only the error output now */
    CHECK(count_keys(floe_dag_store(dag), "landing/") == 1);

    /* every batch done, its manifest too, each task once */
    k.n = 0;
    CHECK(floe_state_batch_list(floe_dag_state(dag), FLOE_STATE_ALL,
                                collect_batch, &k, err) == FLOE_OK);
    CHECK(k.n == 2);
    for (i = 0; i < k.n; i++) {
        char id[FLOE_BATCH_ID_MAX + 1];

        CHECK(strstr(k.v[i], ":done") != NULL);
        snprintf(id, sizeof(id), "%.*s",
                 (int)(strchr(k.v[i], ':') - k.v[i]), k.v[i]);
        CHECK(floe_manifest_read(floe_dag_store(dag), id, &m, err) ==
                  FLOE_OK &&
              strcmp(m.state, "done") == 0);
        floe_manifest_free(&m);
    }
    CHECK(k.n == 2 && strcmp(k.v[0], k.v[1]) < 0);
    CHECK(floe_state_task_list(floe_dag_state(dag), NULL, collect_run, &r,
                               err) == FLOE_OK);
    CHECK(r.n == 8 || r.n > 8); /* 5 tasks x 2 batches, capped at 8 */

    /* a second run finds nothing pending */
    CHECK(floe_dag_run_once(dag, &s, err) == FLOE_OK);
    CHECK(s.claimed == 0 && s.batches == 0 && s.pending == 0);
    floe_dag_close(dag);
    floe_rmtree(dir);
}

static void test_dag_retries_fail_and_rerun(void)
{
    struct floe_dag_cfg cfg;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary s;
    struct floe_state_batch b;
    struct runs r = { 0 };
    char dir[256], lake[300], state[300], err[FLOE_ERR_LEN];
    char batch[FLOE_BATCH_ID_MAX + 1], id[FLOE_BATCH_ID_MAX + 1];
    int64_t t0;
    int i;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(lake, sizeof(lake), "%s/lake", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    /* an engine that cannot open makes load fail on every attempt */
    dag_cfg(&cfg, lake, state, "no-such-engine");
    CHECK(floe_dag_open(&cfg, &dag, err) == FLOE_OK);
    if (dag == NULL)
        return;
    lake_with_data(floe_dag_store(dag));
    t0 = floe_mono_ms();
    CHECK(floe_dag_run_once(dag, &s, err) != FLOE_OK);
    CHECK(floe_mono_ms() - t0 >= 30); /* backoff 10ms + 20ms */
    CHECK(s.failed == 1 && s.claimed == 1 && s.batches == 0);
    CHECK(strcmp(s.failed_task, "load") == 0);
    snprintf(batch, sizeof(batch), "%s", s.failed_batch);
    CHECK(strstr(err, "task load failed for batch") != NULL);
    CHECK(strstr(err, "floe task load --batch ") != NULL);
    CHECK(strstr(err, batch) != NULL);
    CHECK(floe_state_batch_get(floe_dag_state(dag), batch, &b, err) ==
              FLOE_OK &&
          strcmp(b.state, "failed") == 0 && strncmp(b.error, "load:", 5) == 0);
    CHECK(floe_state_task_list(floe_dag_state(dag), batch, collect_run, &r,
                               err) == FLOE_OK);
    CHECK(r.n == 4); /* claim + 3 load attempts */
    for (i = 1; i < r.n; i++)
        CHECK(r.attempt[i] == i && strcmp(r.state[i], "failed") == 0);

    /* refused out of order */
    CHECK(floe_dag_task_run(dag, FLOE_TASK_TRANSFORM, batch, id, &s, err) ==
          FLOE_EINVAL);
    CHECK(strstr(err, "load has not succeeded") != NULL);
    CHECK(floe_dag_task_run(dag, FLOE_TASK_UNLOAD, NULL, id, &s, err) ==
          FLOE_EINVAL);
    CHECK(floe_dag_task_run(dag, FLOE_TASK_LOAD, "../x", id, &s, err) ==
          FLOE_EINVAL);
    CHECK(floe_dag_task_run(dag, FLOE_TASK_LOAD, "B404", id, &s, err) ==
          FLOE_ENOTFOUND);
    floe_dag_close(dag);

    /* the cause fixed, re-run the failed task, then the run finishes */
    dag_cfg(&cfg, lake, state, "duckdb");
    CHECK(floe_dag_open(&cfg, &dag, err) == FLOE_OK);
    if (dag == NULL)
        return;
    CHECK(floe_dag_task_run(dag, FLOE_TASK_LOAD, batch, id, &s, err) ==
          FLOE_OK);
    CHECK(strcmp(id, batch) == 0 && s.counts.raw_orders == 4);
    CHECK(floe_state_batch_get(floe_dag_state(dag), batch, &b, err) ==
              FLOE_OK &&
          strcmp(b.state, "loaded") == 0 && b.error[0] == '\0');
    /* already succeeded: skipped, counts nothing */
    CHECK(floe_dag_task_run(dag, FLOE_TASK_LOAD, batch, id, &s, err) ==
          FLOE_OK);
    CHECK(s.counts.raw_orders == 0);
    CHECK(floe_dag_run_once(dag, &s, err) == FLOE_OK);
    CHECK(s.batches == 1 && s.claimed == 0 && s.failed == 0);
    CHECK(floe_state_batch_get(floe_dag_state(dag), batch, &b, err) ==
              FLOE_OK &&
          strcmp(b.state, "done") == 0);

    /* task by task, as Airflow runs it */
    CHECK(floe_dag_task_run(dag, FLOE_TASK_CLAIM, NULL, id, &s, err) ==
          FLOE_OK && id[0] == '\0'); /* nothing pending */
    CHECK(put_gz(floe_dag_store(dag),
                 "landing/orders/2026/11/25/08/orders-1-2026-11-25-08-00-00-"
                 "d.gz", orders_b) == FLOE_OK);
    CHECK(floe_dag_task_run(dag, FLOE_TASK_SENSE, NULL, id, &s, err) ==
          FLOE_OK && s.pending == 1 && s.landing_errors == 1);
    CHECK(floe_dag_task_run(dag, FLOE_TASK_CLAIM, NULL, id, &s, err) ==
          FLOE_OK);
    CHECK(strcmp(id, batch) > 0 && s.objects == 1);
    snprintf(batch, sizeof(batch), "%s", id);
    for (i = FLOE_TASK_LOAD; i < FLOE_TASK_COUNT; i++) {
        if (floe_dag_task_run(dag, i, batch, id, &s, err) != FLOE_OK)
            fprintf(stderr, "  %s: %s\n", floe_dag_task_name(i), err);
        if (i == FLOE_TASK_TRANSFORM)
            CHECK(s.counts.duplicate_orders == 2 && s.counts.new_orders == 0);
    }
    CHECK(floe_state_batch_get(floe_dag_state(dag), batch, &b, err) ==
              FLOE_OK &&
          strcmp(b.state, "done") == 0 && b.objects == 1);
    floe_dag_close(dag);
    floe_rmtree(dir);
}

/* A claim that crashed (manifest written, objects still in landing/)
 * keeps its objects: a new claim does not take them, re-running the old
 * claim finishes it. Needs no warehouse. */
static void test_dag_claim_respects_unfinished_claim(void)
{
    struct floe_dag_cfg cfg;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary s;
    struct floe_claim_obj objs[2];
    struct floe_manifest m;
    struct runs r = { 0 };
    struct keys k = { .n = 0 };
    char dir[256], lake[300], state[300], err[FLOE_ERR_LEN];
    char id[FLOE_BATCH_ID_MAX + 1], dst[2][FLOE_STORE_KEY_MAX + 1];
    struct floe_store *st;
    int64_t run;
    int i, attempt;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(lake, sizeof(lake), "%s/lake", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    dag_cfg(&cfg, lake, state, "duckdb");
    CHECK(floe_dag_open(&cfg, &dag, err) == FLOE_OK);
    if (dag == NULL)
        return;
    st = floe_dag_store(dag);
    for (i = 0; i < 3; i++)
        CHECK(floe_store_put(st, landing[i], "x\n", 2) == FLOE_OK);
    /* the crashed claim of B0: row, running attempt, manifest of 0 and 1 */
    CHECK(floe_state_batch_add(floe_dag_state(dag), "B0", 2, 4, err) ==
          FLOE_OK);
    CHECK(floe_state_task_begin(floe_dag_state(dag), "B0", "claim", &run,
                                &attempt, err) == FLOE_OK);
    memset(&m, 0, sizeof(m));
    memset(objs, 0, sizeof(objs));
    snprintf(m.batch_id, sizeof(m.batch_id), "B0");
    snprintf(m.created_at, sizeof(m.created_at), "2026-11-24T19:00:00Z");
    snprintf(m.state, sizeof(m.state), "%s", FLOE_MANIFEST_CLAIMING);
    for (i = 0; i < 2; i++) {
        CHECK(floe_claim_dest_key("B0", landing[i], dst[i],
                                  sizeof(dst[i])) == FLOE_OK);
        objs[i].source = (char *)landing[i];
        objs[i].key = dst[i];
        objs[i].size = 2;
        objs[i].missing = false;
    }
    m.v = objs;
    m.n = 2;
    CHECK(floe_manifest_write(st, &m, err) == FLOE_OK);
    CHECK(floe_state_batch_list(floe_dag_state(dag), FLOE_STATE_UNCLAIMED,
                                collect_batch, &k, err) == FLOE_OK);
    CHECK(k.n == 1 && strcmp(k.v[0], "B0:claimed") == 0);

    /* a new claim takes only the object no manifest lists */
    CHECK(floe_dag_task_run(dag, FLOE_TASK_CLAIM, NULL, id, &s, err) ==
          FLOE_OK);
    CHECK(id[0] != '\0' && s.objects == 1 && s.claimed == 1);
    CHECK(floe_manifest_read(st, id, &m, err) == FLOE_OK && m.n == 1 &&
          strcmp(m.v[0].source, landing[2]) == 0);
    floe_manifest_free(&m);
    CHECK(count_keys(st, "landing/") == 2);

    /* re-running B0's claim finishes it; the dead attempt is closed */
    CHECK(floe_dag_task_run(dag, FLOE_TASK_CLAIM, "B0", id, &s, err) ==
          FLOE_OK);
    CHECK(strcmp(id, "B0") == 0 && s.objects == 2);
    CHECK(count_keys(st, "landing/") == 0);
    CHECK(count_keys(st, "processing/batch=B0/") == 3);
    CHECK(floe_state_task_list(floe_dag_state(dag), "B0", collect_run, &r,
                               err) == FLOE_OK);
    CHECK(r.n == 2 && strcmp(r.state[0], "failed") == 0 &&
          strcmp(r.state[1], "success") == 0 && r.attempt[1] == 2);
    /* and once claimed it is skipped */
    CHECK(floe_dag_task_run(dag, FLOE_TASK_CLAIM, "B0", id, &s, err) ==
          FLOE_OK && s.skipped == 1 && s.objects == 0);
    floe_dag_close(dag);
    floe_rmtree(dir);
}

/* Can another runner take the state directory's lock right now? */
static bool lock_free(const char *state)
{
    char path[400];
    bool ok;
    int fd;

    snprintf(path, sizeof(path), "%s/orchestrator.lock", state);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    ok = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd); /* drops the lock too */
    return ok;
}

/* cfg.hold (floe run between busy passes): the lock and the open
 * warehouse stay until floe_dag_release, which checkpoints the database
 * (no write-ahead log left) and lets other runners in. */
static void test_dag_hold_and_release(void)
{
    struct floe_dag_cfg cfg;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary s;
    char dir[256], lake[300], state[300], wal[400], err[FLOE_ERR_LEN];

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(lake, sizeof(lake), "%s/lake", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    snprintf(wal, sizeof(wal), "%s/warehouse.duckdb.wal", state);
    dag_cfg(&cfg, lake, state, "duckdb");
    cfg.hold = true;
    cfg.max_objects = 2;
    CHECK(floe_dag_open(&cfg, &dag, err) == FLOE_OK);
    if (dag == NULL)
        return;
    CHECK(lock_free(state));
    CHECK(put_gz(floe_dag_store(dag), landing[1], orders_a) == FLOE_OK);
    CHECK(floe_dag_run_once(dag, &s, err) == FLOE_OK);
    CHECK(s.batches == 1 && s.counts.new_orders > 0);
    CHECK(!lock_free(state));      /* held between passes */
    CHECK(floe_path_exists(wal));  /* the batch is in the WAL, open */
    CHECK(put_gz(floe_dag_store(dag), landing[2], orders_b) == FLOE_OK);
    CHECK(floe_dag_run_once(dag, &s, err) == FLOE_OK); /* re-entrant */
    CHECK(s.batches == 1 && !lock_free(state));
    floe_dag_release(dag);
    CHECK(lock_free(state));
    CHECK(!floe_path_exists(wal)); /* closed: checkpointed */
    floe_dag_release(dag);         /* twice is harmless */
    CHECK(floe_dag_run_once(dag, &s, err) == FLOE_OK);
    CHECK(s.batches == 0 && !lock_free(state));
    floe_dag_close(dag);
    CHECK(lock_free(state));
    floe_rmtree(dir);
}

/* 200 MiB of zero bytes in one gzip member (about 200 KB). */
static int put_bomb(struct floe_store *st, const char *key)
{
    static unsigned char zeros[1 << 20];
    unsigned char out[1 << 16];
    struct floe_buf b;
    z_stream z;
    int i, rc = Z_OK;

    floe_buf_init(&b, 1 << 20);
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return FLOE_EIO;
    for (i = 0; i < 200 && rc != Z_STREAM_END; i++) {
        z.next_in = zeros;
        z.avail_in = sizeof(zeros);
        do {
            z.next_out = out;
            z.avail_out = sizeof(out);
            rc = deflate(&z, i == 199 ? Z_FINISH : Z_NO_FLUSH);
            if (floe_buf_add(&b, out, sizeof(out) - z.avail_out) != FLOE_OK)
                rc = Z_STREAM_ERROR;
        } while (z.avail_out == 0 && rc != Z_STREAM_ERROR);
    }
    deflateEnd(&z);
    rc = rc == Z_STREAM_END ? floe_store_put(st, key, b.data, b.len)
                            : FLOE_EIO;
    floe_buf_free(&b);
    return rc;
}

/* `text` gzip-compressed, cut to its first half. */
static int put_truncated_gz(struct floe_store *st, const char *key,
                            const char *text)
{
    struct floe_buf b;
    int rc;

    floe_buf_init(&b, 1 << 20);
    rc = put_gz(st, key, text);
    if (rc == FLOE_OK)
        rc = floe_store_get(st, key, &b);
    if (rc == FLOE_OK)
        rc = floe_store_put(st, key, b.data, b.len / 2);
    floe_buf_free(&b);
    return rc;
}

static long max_rss_kb(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* A truncated .gz and a gzip bomb among good objects: both are set aside
 * in quarantine with their reasons, the good objects claimed with them are
 * loaded, and the bomb costs neither time nor memory (it used to take 30 s
 * and 3 GB, and the truncated object failed the whole batch). */
static void test_dag_damaged_objects_quarantined(void)
{
    static const char *const bad[] = {
        "landing/orders/2026/11/24/19/orders-1-2026-11-24-19-56-30-t.gz",
        "landing/orders/2026/11/24/19/orders-1-2026-11-24-19-56-40-z.gz",
    };
    struct floe_dag_cfg cfg;
    struct floe_dag *dag = NULL;
    struct floe_dag_summary s;
    struct keys k = { .n = 0 };
    char dir[256], lake[300], state[300], err[FLOE_ERR_LEN], key[600];
    struct floe_buf reason;
    long rss0;
    int64_t t0;
    int i;

    floe_buf_init(&reason, 1 << 16);
    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(lake, sizeof(lake), "%s/lake", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    dag_cfg(&cfg, lake, state, "duckdb");
    CHECK(floe_dag_open(&cfg, &dag, err) == FLOE_OK);
    if (dag == NULL)
        return;
    lake_with_data(floe_dag_store(dag));
    CHECK(put_truncated_gz(floe_dag_store(dag), bad[0], orders_b) ==
          FLOE_OK);
    CHECK(put_bomb(floe_dag_store(dag), bad[1]) == FLOE_OK);
    rss0 = max_rss_kb();
    t0 = floe_mono_ms();
    if (floe_dag_run_once(dag, &s, err) != FLOE_OK)
        fprintf(stderr, "  run: %s\n", err);
    CHECK(s.failed == 0 && s.claimed == 1 && s.batches == 1);
    CHECK(s.objects == 5);
    CHECK(s.counts.raw_orders == 4 && s.counts.raw_customers == 2);
    CHECK(s.counts.new_orders == 3 && s.counts.quarantined_orders == 0);
    CHECK(floe_mono_ms() - t0 < 10000);
    CHECK(max_rss_kb() - rss0 < 256 * 1024);
    /* Each damaged object and its reason, under its batch. */
    floe_store_list(floe_dag_store(dag), "processed/quarantine/objects/",
                    collect, &k);
    CHECK(k.n == 4);
    for (i = 0; i < 2; i++) {
        snprintf(key, sizeof(key),
                 "processed/quarantine/objects/batch=%s/%s", s.last_batch,
                 bad[i] + strlen("landing/"));
        CHECK(has_key(floe_dag_store(dag), key));
        strcat(key, ".reason.json");
        floe_buf_reset(&reason);
        CHECK(floe_store_get(floe_dag_store(dag), key, &reason) == FLOE_OK);
        CHECK(reason.data != NULL &&
              strstr(reason.data, i == 0 ? "truncated" : "longer than") !=
                  NULL);
    }
    floe_buf_free(&reason);
    CHECK(count_keys(floe_dag_store(dag), "landing/orders/") == 0);
    floe_dag_close(dag);
    floe_rmtree(dir);
}

FLOE_TESTS({ "dag_damaged_objects_quarantined",
             test_dag_damaged_objects_quarantined },
           { "dag_claim_respects_unfinished_claim",
             test_dag_claim_respects_unfinished_claim },
           { "dag_run_end_to_end", test_dag_run_end_to_end },
           { "dag_retries_fail_and_rerun", test_dag_retries_fail_and_rerun },
           { "dag_hold_and_release", test_dag_hold_and_release });
