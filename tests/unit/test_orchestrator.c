/* test_orchestrator.c - batch ids, sense, claim (exactly-once moves, crash
 * re-runs, quarantine of objects that cannot be loaded), manifests and the
 * state database (the DAG itself: test_orchestrator_dag.c). */
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include "core/util.h"
#include "orchestrator/claim.h"
#include "orchestrator/dag.h"
#include "orchestrator/state.h"
#include "store/store.h"
#include "orch_fixture.h"
#include "test.h"

/* --- batch ids and keys -------------------------------------------- */

static void test_batch_ids_sort_by_time(void)
{
    char a[FLOE_CLAIM_ID_LEN + 1], b[FLOE_CLAIM_ID_LEN + 1];
    char c[FLOE_CLAIM_ID_LEN + 1], d[FLOE_CLAIM_ID_LEN + 1];
    int64_t t = 1795550160123LL; /* 2026-11-24T19:56:00.123Z */
    int i;

    CHECK(floe_claim_batch_id(t, NULL, a) == FLOE_OK);
    CHECK(strlen(a) == FLOE_CLAIM_ID_LEN);
    CHECK(strncmp(a, "20261124T195600Z-", 17) == 0);
    for (i = 17; i < 23; i++)
        CHECK(strchr("0123456789abcdef", a[i]) != NULL);
    CHECK(floe_claim_check_id(a) == FLOE_OK);
    /* a later second always sorts later, whatever the random part */
    for (i = 0; i < 50; i++) {
        CHECK(floe_claim_batch_id(t + 1000, NULL, b) == FLOE_OK);
        CHECK(strcmp(a, b) < 0);
        CHECK(floe_claim_batch_id(t + 3600 * 1000 * 24, NULL, c) == FLOE_OK);
        CHECK(strcmp(b, c) < 0);
    }
    /* same second: made after `a`, so it sorts after `a` */
    for (i = 0; i < 50; i++) {
        CHECK(floe_claim_batch_id(t + 500, a, b) == FLOE_OK);
        CHECK(strcmp(a, b) < 0);
        CHECK(strncmp(a, b, 17) == 0);
    }
    /* clock stepped back: still after the last id */
    CHECK(floe_claim_batch_id(t + 3600 * 1000 * 24, NULL, c) == FLOE_OK);
    CHECK(floe_claim_batch_id(t, c, d) == FLOE_OK);
    CHECK(strcmp(c, d) < 0);
    /* the hex part counts up past the last id of the same second */
    CHECK(floe_claim_batch_id(t, "20261124T195600Z-fffffe", d) == FLOE_OK);
    CHECK(strcmp(d, "20261124T195600Z-ffffff") == 0);
    CHECK(floe_claim_batch_id(t, "20261124T195600Z-00000f", d) == FLOE_OK);
    CHECK(strcmp(d, "20261124T195600Z-00000f") > 0);
}

static void test_check_id(void)
{
    static const struct {
        const char *id;
        int ok;
    } cases[] = {
        { "20261124T195600Z-0a1b2c", 1 }, { "manual__2026-01-01", 1 },
        { "a", 1 },                       { "", 0 },
        { ".hidden", 0 },                 { "a/b", 0 },
        { "..", 0 },                      { "a b", 0 },
        { "x=1", 0 },
        { "0123456789012345678901234567890123456789012345678901234567890123",
          1 },
        { "01234567890123456789012345678901234567890123456789012345678901234",
          0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int ok = floe_claim_check_id(cases[i].id) == FLOE_OK;
        if (ok != cases[i].ok)
            fprintf(stderr, "  check_id('%s') = %d\n", cases[i].id, ok);
        CHECK(ok == cases[i].ok);
    }
}

static void test_dest_key(void)
{
    static const struct {
        const char *src, *want;
    } cases[] = {
        { "landing/orders/2026/11/24/19/orders-1-x.gz",
          "processing/batch=B1/orders/2026/11/24/19/orders-1-x.gz" },
        { "landing/customers/c.gz", "processing/batch=B1/customers/c.gz" },
        { "landing/x.gz", NULL },
        { "landing/orders/", NULL },
        { "landing//a", NULL },
        { "processed/orders/a", NULL },
    };
    char out[FLOE_STORE_KEY_MAX + 1];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = floe_claim_dest_key("B1", cases[i].src, out, sizeof(out));
        if (cases[i].want) {
            CHECK(rc == FLOE_OK && strcmp(out, cases[i].want) == 0);
        } else {
            CHECK(rc != FLOE_OK);
        }
    }
    CHECK(floe_claim_dest_key("B1", cases[0].src, out, 20) ==
          FLOE_ETOOBIG);
    CHECK(floe_claim_manifest_key("B1", out, sizeof(out)) == FLOE_OK &&
          strcmp(out, "processing/batch=B1/_manifest.json") == 0);
}

/* --- sense --------------------------------------------------------- */

/* The streams the default models declare. */
static const char *const streams[] = { "orders", "customers", NULL };

static void test_sense_ignores_errors_and_strays(void)
{
    struct floe_store *st = NULL;
    struct floe_pending p = { 0 };
    char dir[256], err[FLOE_ERR_LEN];

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    CHECK(floe_store_put(st, landing[2], "ccc", 3) == FLOE_OK);
    CHECK(floe_store_put(st, landing[0], "a", 1) == FLOE_OK);
    CHECK(floe_store_put(st, landing[1], "bb", 2) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/errors/2026/11/24/19/e.gz", "eeee",
                         4) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/stray.gz", "s", 1) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/orderz/x.gz", "s", 1) == FLOE_OK);
    CHECK(floe_store_put(st, "processing/batch=x/orders/a.gz", "p", 1) ==
          FLOE_OK);

    CHECK(floe_claim_sense(st, streams, &p, err) == FLOE_OK);
    CHECK(p.n == 3);
    if (p.n == 3) { /* sorted by key */
        CHECK(strcmp(p.v[0].source, landing[0]) == 0 && p.v[0].size == 1);
        CHECK(strcmp(p.v[1].source, landing[1]) == 0 && p.v[1].size == 2);
        CHECK(strcmp(p.v[2].source, landing[2]) == 0 && p.v[2].size == 3);
    }
    CHECK(p.bytes == 6);
    CHECK(p.errors == 1 && p.error_bytes == 4);
    CHECK(p.unknown == 2);
    CHECK(strcmp(p.unknown_streams, "orderz") == 0);

    /* limits: objects, bytes, and a lone oversize object still goes */
    CHECK(floe_claim_take(&p, 0, 0, 0) == 3);
    CHECK(floe_claim_take(&p, 0, 2, 0) == 2);
    CHECK(floe_claim_take(&p, 2, 2, 0) == 1);
    CHECK(floe_claim_take(&p, 0, 0, 3) == 2);
    CHECK(floe_claim_take(&p, 0, 0, 2) == 1);
    CHECK(floe_claim_take(&p, 2, 0, 1) == 1);
    CHECK(floe_claim_take(&p, 3, 0, 0) == 0);

    /* sense is read-only: everything is still there */
    CHECK(count_keys(st, "landing/") == 6);
    floe_pending_free(&p);
    floe_store_close(st);
    floe_rmtree(dir);
}

/* --- claim --------------------------------------------------------- */

static void test_claim_moves_exactly_once(void)
{
    struct floe_store *st = NULL;
    struct floe_pending p = { 0 };
    struct floe_claim_counts c;
    struct floe_manifest m;
    char dir[256], err[FLOE_ERR_LEN], dst[FLOE_STORE_KEY_MAX + 1];
    int i;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    CHECK(floe_store_put(st, landing[0], "cust\n", 5) == FLOE_OK);
    CHECK(floe_store_put(st, landing[1], "ord1\n", 5) == FLOE_OK);
    CHECK(floe_store_put(st, landing[2], "ord22\n", 6) == FLOE_OK);
    CHECK(floe_store_put(st, "landing/errors/e.gz", "e", 1) == FLOE_OK);
    CHECK(floe_claim_sense(st, streams, &p, err) == FLOE_OK && p.n == 3);

    CHECK(floe_claim_new(st, "B1", "2026-11-24T19:56:00.000Z", p.v, p.n, &c,
                         err) == FLOE_OK);
    CHECK(c.objects == 3 && c.bytes == 16 && c.copied == 3 &&
          c.deleted == 3 && c.missing == 0);
    /* landing keeps only the error output */
    CHECK(count_keys(st, "landing/") == 1);
    CHECK(has_key(st, "landing/errors/e.gz"));
    /* processing: 3 objects + manifest, bytes intact */
    CHECK(count_keys(st, "processing/batch=B1/") == 4);
    CHECK(same_bytes(st, "processing/batch=B1/orders/2026/11/24/19/"
                         "orders-1-2026-11-24-19-57-00-c.gz", "ord22\n"));
    CHECK(same_bytes(st, "processing/batch=B1/customers/2026/11/24/19/"
                         "customers-1-2026-11-24-19-56-00-a.gz", "cust\n"));

    CHECK(floe_manifest_read(st, "B1", &m, err) == FLOE_OK);
    CHECK(strcmp(m.batch_id, "B1") == 0);
    CHECK(strcmp(m.state, FLOE_MANIFEST_CLAIMED) == 0);
    CHECK(strcmp(m.created_at, "2026-11-24T19:56:00.000Z") == 0);
    CHECK(m.n == 3);
    for (i = 0; i < 3 && m.n == 3; i++) {
        CHECK(strcmp(m.v[i].source, landing[i]) == 0);
        CHECK(floe_claim_dest_key("B1", landing[i], dst, sizeof(dst)) ==
                  FLOE_OK &&
              strcmp(m.v[i].key, dst) == 0);
        CHECK(!m.v[i].missing);
    }
    CHECK(m.n == 3 && m.v[2].size == 6);
    floe_manifest_free(&m);

    /* re-running is a no-op: nothing copied or deleted twice */
    CHECK(floe_claim_resume(st, "B1", &c, err) == FLOE_OK);
    CHECK(c.objects == 3 && c.copied == 0 && c.deleted == 0 &&
          c.missing == 0);
    CHECK(count_keys(st, "processing/") == 4);

    /* finalize's manifest update */
    CHECK(floe_manifest_set_state(st, "B1", FLOE_MANIFEST_DONE, err) ==
          FLOE_OK);
    CHECK(floe_manifest_read(st, "B1", &m, err) == FLOE_OK &&
          strcmp(m.state, "done") == 0 && m.n == 3);
    floe_manifest_free(&m);

    floe_pending_free(&p);
    floe_store_close(st);
    floe_rmtree(dir);
}

/* A claim that crashed half-way: the manifest is written, one object is
 * fully moved, one copied but not deleted, one not copied at all, and one
 * destination copy was lost. Re-running finishes without duplicates. */
static void test_claim_interrupted_reruns_to_completion(void)
{
    static const char *const body[] = { "c0\n", "o1\n", "o22\n" };
    struct floe_store *st = NULL;
    struct floe_claim_obj objs[3];
    struct floe_claim_counts c;
    struct floe_manifest m;
    char dir[256], err[FLOE_ERR_LEN], dst[3][FLOE_STORE_KEY_MAX + 1];
    int i;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    memset(&m, 0, sizeof(m));
    memset(objs, 0, sizeof(objs));
    snprintf(m.batch_id, sizeof(m.batch_id), "B2");
    snprintf(m.created_at, sizeof(m.created_at), "2026-11-24T19:56:00.000Z");
    snprintf(m.state, sizeof(m.state), "%s", FLOE_MANIFEST_CLAIMING);
    for (i = 0; i < 3; i++) {
        CHECK(floe_claim_dest_key("B2", landing[i], dst[i],
                                  sizeof(dst[i])) == FLOE_OK);
        objs[i].source = (char *)landing[i];
        objs[i].key = dst[i];
        objs[i].size = (int64_t)strlen(body[i]);
        objs[i].missing = false;
        CHECK(floe_store_put(st, landing[i], body[i], strlen(body[i])) ==
              FLOE_OK);
    }
    m.v = objs;
    m.n = 3;
    CHECK(floe_manifest_write(st, &m, err) == FLOE_OK);
    /* object 0 fully moved, object 1 copied only, object 2 untouched */
    CHECK(floe_store_copy(st, landing[0], dst[0]) == FLOE_OK);
    CHECK(floe_store_delete(st, landing[0]) == FLOE_OK);
    CHECK(floe_store_copy(st, landing[1], dst[1]) == FLOE_OK);

    CHECK(floe_claim_resume(st, "B2", &c, err) == FLOE_OK);
    CHECK(c.objects == 3 && c.copied == 1 && c.deleted == 2 &&
          c.missing == 0);
    CHECK(count_keys(st, "landing/") == 0);
    CHECK(count_keys(st, "processing/batch=B2/") == 4);
    for (i = 0; i < 3; i++)
        CHECK(same_bytes(st, dst[i], body[i]));
    memset(&m, 0, sizeof(m));
    CHECK(floe_manifest_read(st, "B2", &m, err) == FLOE_OK &&
          strcmp(m.state, FLOE_MANIFEST_CLAIMED) == 0);
    floe_manifest_free(&m);

    /* a lost destination copy whose landing object is still there (the
     * copy was never made durable) is copied again, once */
    CHECK(floe_store_delete(st, dst[2]) == FLOE_OK);
    CHECK(floe_store_put(st, landing[2], body[2], strlen(body[2])) ==
          FLOE_OK);
    CHECK(floe_claim_resume(st, "B2", &c, err) == FLOE_OK);
    CHECK(c.copied == 1 && c.deleted == 1 && c.missing == 0);
    CHECK(same_bytes(st, dst[2], body[2]));
    CHECK(count_keys(st, "landing/") == 0);
    CHECK(count_keys(st, "processing/batch=B2/") == 4);

    /* a claim that gave up (manifest "failed") is complete once re-run */
    CHECK(floe_manifest_set_state(st, "B2", FLOE_MANIFEST_FAILED, err) ==
          FLOE_OK);
    CHECK(floe_claim_resume(st, "B2", &c, err) == FLOE_OK && c.copied == 0);
    CHECK(floe_manifest_read(st, "B2", &m, err) == FLOE_OK &&
          strcmp(m.state, FLOE_MANIFEST_CLAIMED) == 0);
    floe_manifest_free(&m);

    /* gone from both places: recorded as missing, not a crash */
    CHECK(floe_store_delete(st, dst[1]) == FLOE_OK);
    CHECK(floe_claim_resume(st, "B2", &c, err) == FLOE_OK);
    CHECK(c.missing == 1 && c.copied == 0);
    CHECK(floe_manifest_read(st, "B2", &m, err) == FLOE_OK && m.n == 3 &&
          m.v[1].missing && !m.v[0].missing);
    floe_manifest_free(&m);

    floe_store_close(st);
    floe_rmtree(dir);
}

/* A truncated .gz among good objects: set aside with its reason at claim,
 * the others stay in the batch; re-running the claim changes nothing, and
 * a crash before the manifest recorded it ends the same way. */
static void test_claim_quarantines_what_cannot_load(void)
{
    static const char quarantined[] =
        "processed/quarantine/objects/batch=B4/orders/2026/11/24/19/"
        "orders-1-2026-11-24-19-57-00-c.gz";
    struct floe_store *st = NULL;
    struct floe_pending p = { 0 };
    struct floe_claim_counts c;
    struct floe_manifest m;
    struct floe_buf gz, q;
    char dir[256], err[FLOE_ERR_LEN], reason[400];
    int pass;

    floe_buf_init(&gz, 1 << 20);
    floe_buf_init(&q, 1 << 20);
    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    CHECK(floe_store_put(st, landing[0], "cust\n", 5) == FLOE_OK);
    CHECK(put_gz(st, landing[1], "ord1\nord2\n") == FLOE_OK);
    CHECK(put_gz(st, landing[2], "ord3\nord4\nord5\n") == FLOE_OK);
    CHECK(floe_store_get(st, landing[2], &gz) == FLOE_OK);
    CHECK(floe_store_put(st, landing[2], gz.data, gz.len - 6) == FLOE_OK);
    CHECK(floe_claim_sense(st, streams, &p, err) == FLOE_OK && p.n == 3);
    CHECK(floe_claim_new(st, "B4", "2026-11-24T19:56:00.000Z", p.v, p.n, &c,
                         err) == FLOE_OK);
    CHECK(c.objects == 3 && c.quarantined == 1 && c.missing == 0);
    snprintf(reason, sizeof(reason), "%s.reason.json", quarantined);
    for (pass = 0; pass < 3; pass++) {
        /* two objects + the manifest stay; the damaged one is set aside,
         * byte for byte, with its reason */
        CHECK(count_keys(st, "landing/") == 0);
        CHECK(count_keys(st, "processing/batch=B4/") == 3);
        floe_buf_reset(&q);
        CHECK(floe_store_get(st, quarantined, &q) == FLOE_OK &&
              q.len == gz.len - 6 && memcmp(q.data, gz.data, q.len) == 0);
        floe_buf_reset(&q);
        CHECK(floe_store_get(st, reason, &q) == FLOE_OK &&
              strstr(q.data, "\"source\":\"landing/orders/") != NULL &&
              strstr(q.data, "truncated") != NULL);
        CHECK(floe_manifest_read(st, "B4", &m, err) == FLOE_OK && m.n == 3);
        CHECK(m.n == 3 && m.v[0].checked && m.v[1].checked &&
              m.v[2].checked);
        CHECK(m.n == 3 && m.v[0].reason == NULL && m.v[1].reason == NULL &&
              m.v[2].reason != NULL &&
              strstr(m.v[2].reason, "truncated") != NULL);
        if (pass == 1) {
            /* as if the claim crashed after the quarantine copy, before the
             * manifest said so */
            free(m.v[2].reason);
            m.v[2].reason = NULL;
            m.v[2].checked = false;
            CHECK(floe_manifest_write(st, &m, err) == FLOE_OK);
            CHECK(floe_store_copy(st, quarantined, m.v[2].key) == FLOE_OK);
        }
        floe_manifest_free(&m);
        if (pass < 2) {
            CHECK(floe_claim_resume(st, "B4", &c, err) == FLOE_OK);
            CHECK(c.quarantined == 1 && c.copied == 0 && c.missing == 0);
        }
    }
    floe_pending_free(&p);
    floe_buf_free(&gz);
    floe_buf_free(&q);
    floe_store_close(st);
    floe_rmtree(dir);
}

static void test_manifest_errors(void)
{
    static const char *const bad[] = {
        "not json",
        "{\"batch_id\":\"OTHER\",\"created_at\":\"x\",\"state\":\"claimed\","
        "\"objects\":[]}",
        "{\"batch_id\":\"B3\",\"state\":\"claimed\",\"objects\":[]}",
        "{\"batch_id\":\"B3\",\"created_at\":\"x\",\"state\":\"claimed\","
        "\"objects\":[{\"source\":\"landing/orders/a\",\"key\":"
        "\"processing/batch=B9/orders/a\",\"size\":1}]}",
        "{\"batch_id\":\"B3\",\"created_at\":\"x\",\"state\":\"claimed\","
        "\"objects\":[{\"source\":\"landing/orders/a\",\"key\":"
        "\"processing/batch=B3/orders/a\",\"size\":-1}]}",
    };
    struct floe_store *st = NULL;
    struct floe_manifest m;
    struct floe_claim_counts c;
    char dir[256], err[FLOE_ERR_LEN];
    size_t i;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    CHECK(floe_manifest_read(st, "B3", &m, err) == FLOE_ENOTFOUND);
    CHECK(floe_claim_resume(st, "B3", &c, err) == FLOE_ENOTFOUND);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(floe_store_put(st, "processing/batch=B3/_manifest.json",
                             bad[i], strlen(bad[i])) == FLOE_OK);
        CHECK(floe_manifest_read(st, "B3", &m, err) == FLOE_ECORRUPT);
        CHECK(strstr(err, "_manifest.json") != NULL);
    }
    floe_store_close(st);
    floe_rmtree(dir);
}

/* --- state database ------------------------------------------------ */


static void test_state_records_attempts(void)
{
    struct floe_state *s = NULL;
    struct floe_state_batch b;
    struct runs r = { 0 };
    struct keys k = { .n = 0 };
    char dir[256], err[FLOE_ERR_LEN], path[300], last[FLOE_BATCH_ID_MAX + 1];
    int64_t run;
    int attempt;
    bool ok;
    sqlite3 *db;
    sqlite3_stmt *q;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_state_open(dir, &s, err) == FLOE_OK);
    CHECK(floe_state_batch_last(s, last, err) == FLOE_OK && last[0] == 0);
    CHECK(floe_state_batch_add(s, "B1", 3, 100, err) == FLOE_OK);
    CHECK(floe_state_batch_add(s, "B1", 9, 999, err) == FLOE_OK); /* kept */
    CHECK(floe_state_batch_add(s, "B2", 1, 10, err) == FLOE_OK);
    CHECK(floe_state_batch_get(s, "B1", &b, err) == FLOE_OK);
    CHECK(strcmp(b.state, "claimed") == 0 && b.objects == 3 &&
          b.bytes == 100 && b.created_at[0] == '2' && b.error[0] == 0);
    CHECK(floe_state_batch_get(s, "nope", &b, err) == FLOE_ENOTFOUND);
    CHECK(floe_state_batch_last(s, last, err) == FLOE_OK &&
          strcmp(last, "B2") == 0);

    /* attempt 1 fails, attempt 2 succeeds */
    CHECK(floe_state_task_succeeded(s, "B1", "load", &ok, err) == FLOE_OK &&
          !ok);
    CHECK(floe_state_task_begin(s, "B1", "load", &run, &attempt, err) ==
          FLOE_OK && attempt == 1);
    CHECK(floe_state_task_end(s, run, false, 12, NULL, "disk full", err) ==
          FLOE_OK);
    CHECK(floe_state_task_begin(s, "B1", "load", &run, &attempt, err) ==
          FLOE_OK && attempt == 2);
    CHECK(floe_state_task_end(s, run, true, 34, "{\"raw_orders\":5}", NULL,
                              err) == FLOE_OK);
    CHECK(floe_state_task_succeeded(s, "B1", "load", &ok, err) == FLOE_OK &&
          ok);
    /* attempts are per task: transform starts at 1; a "running" leftover
     * of a dead process is closed as failed by the next attempt */
    CHECK(floe_state_task_begin(s, "B1", "transform", &run, &attempt, err) ==
          FLOE_OK && attempt == 1);
    CHECK(floe_state_task_begin(s, "B1", "transform", &run, &attempt, err) ==
          FLOE_OK && attempt == 2);
    CHECK(floe_state_task_succeeded(s, "B1", "transform", &ok, err) ==
          FLOE_OK && !ok);

    CHECK(floe_state_task_list(s, "B1", collect_run, &r, err) == FLOE_OK);
    CHECK(r.n == 4);
    CHECK(r.attempt[0] == 1 && strcmp(r.state[0], "failed") == 0 &&
          strcmp(r.err[0], "disk full") == 0);
    CHECK(r.attempt[1] == 2 && strcmp(r.state[1], "success") == 0 &&
          strcmp(r.counts[1], "{\"raw_orders\":5}") == 0 && r.err[1][0] == 0);
    CHECK(strcmp(r.state[2], "failed") == 0 &&
          strstr(r.err[2], "interrupted") != NULL);
    CHECK(strcmp(r.state[3], "running") == 0);

    CHECK(floe_state_batch_set_state(s, "B1", "failed", "load: boom", err) ==
          FLOE_OK);
    CHECK(floe_state_batch_get(s, "B1", &b, err) == FLOE_OK &&
          strcmp(b.state, "failed") == 0 &&
          strcmp(b.error, "load: boom") == 0);
    CHECK(floe_state_batch_set_state(s, "B1", "bogus", NULL, err) != FLOE_OK);
    CHECK(floe_state_batch_set_state(s, "nope", "done", NULL, err) ==
          FLOE_ENOTFOUND);
    CHECK(floe_state_batch_list(s, FLOE_STATE_UNFINISHED, collect_batch, &k,
                                err) == FLOE_OK);
    CHECK(k.n == 1 && strcmp(k.v[0], "B2:claimed") == 0);
    k.n = 0;
    CHECK(floe_state_batch_list(s, FLOE_STATE_FAILED, collect_batch, &k,
                                err) == FLOE_OK);
    CHECK(k.n == 1 && strcmp(k.v[0], "B1:failed") == 0);
    floe_state_close(s);

    /* durable and in WAL mode */
    CHECK(floe_state_open(dir, &s, err) == FLOE_OK);
    CHECK(floe_state_batch_get(s, "B1", &b, err) == FLOE_OK &&
          strcmp(b.state, "failed") == 0 && b.error[0] == 'l');
    floe_state_close(s);
    snprintf(path, sizeof(path), "%s/orchestrator.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) ==
          SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW &&
          strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    floe_rmtree(dir);
}

FLOE_TESTS({ "batch_ids_sort_by_time", test_batch_ids_sort_by_time },
           { "check_id", test_check_id },
           { "dest_key", test_dest_key },
           { "sense_ignores_errors", test_sense_ignores_errors_and_strays },
           { "claim_moves_exactly_once", test_claim_moves_exactly_once },
           { "claim_interrupted_reruns",
             test_claim_interrupted_reruns_to_completion },
           { "claim_quarantines", test_claim_quarantines_what_cannot_load },
           { "manifest_errors", test_manifest_errors },
           { "state_records_attempts", test_state_records_attempts });
