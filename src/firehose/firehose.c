/* firehose.c - `floe firehose`: entry point, options (incl. optional SigV4
 * credentials and the delivery retry window), start-up and graceful
 * shutdown. Start-up: stream registry, object store, WAL replay
 * into fresh buffers, HTTP server, ready file. SIGTERM/SIGINT: stop
 * accepting, finish requests, flush every buffer, try each object once
 * more, exit 0 (what the store refuses now stays in the WAL and is
 * delivered at the next start); a second signal stops trying at once.
 * WAL failures: a failed write refuses the put (retryable) and fails GET
 * /ready until a write succeeds; a failed fdatasync exits at once with
 * status FH_EXIT_WAL (crash-only: a restart replays what is on disk). */
#define FLOE_LOG_MOD "firehose"

#include "firehose/firehose.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/opt.h"
#include "core/util.h"
#include "firehose/api.h"
#include "firehose/declare.h"
#include "firehose/deliver.h"
#include "firehose/stream.h"
#include "firehose/wal.h"
#include "http/server.h"
#include "store/store.h"

/* Exit status after a failed WAL fdatasync (sysexits.h EX_IOERR). */
#define FH_EXIT_WAL 74

struct fh_cfg {
    char *lake;
    char *state_dir;
    char *bind;
    int64_t port;
    char *ready_file;
    int64_t threads;
    int64_t delivery_threads;
    int64_t max_buffered;
    int64_t max_request;
    bool wal;
    int64_t wal_segment;
    char *access_key_id;
    char *secret_access_key;
    int64_t retry_window;
    int64_t max_conns, header_timeout, body_timeout, idle_timeout;
    char *tls_cert, *tls_key;
};

#define F(m) offsetof(struct fh_cfg, m)
static const struct floe_opt fh_opts[] = {
    { "lake", FLOE_OPT_STR, "./lake", F(lake), 0, 0, 0,
      "Object store (directory, file:// or s3:// URL); objects land under "
      "<bucket>/ of the BucketARN (arn:aws:s3:::landing -> landing/...)." },
    { "state-dir", FLOE_OPT_STR, "./floe-state/firehose", F(state_dir), 0, 0,
      0, "Stream registry (streams.json) and write-ahead log (wal/)." },
    { "bind", FLOE_OPT_STR, "127.0.0.1", F(bind), 0, 0, 0,
      "Address to listen on (numeric IPv4 or IPv6)." },
    { "port", FLOE_OPT_INT, "4573", F(port), 0, 65535, 0,
      "TCP port; 0 picks a free one (see --ready-file)." },
    { "ready-file", FLOE_OPT_STR, NULL, F(ready_file), 0, 0, 0,
      "Once listening, atomically write the actual port and a newline "
      "here." },
    { "threads", FLOE_OPT_INT, "32", F(threads), 1, 256, 0,
      "HTTP worker threads (each serves many keep-alive connections). A "
      "put holds its thread until the WAL group commit that covers it is "
      "done, so more threads let more puts share each fdatasync." },
    { "delivery-threads", FLOE_OPT_INT, "2", F(delivery_threads), 1, 64, 0,
      "Threads that compress sealed buffers and put them into the store." },
    { "max-buffered", FLOE_OPT_SIZE, "1G", F(max_buffered), 8 << 20,
      1099511627776.0, 0,
      "Bytes (all streams) buffered or awaiting delivery; past it puts get "
      "ServiceUnavailableException (back-pressure). A stream whose store "
      "puts keep failing may hold a quarter of it; then its own puts are "
      "refused so the other streams keep room." },
    { "max-request", FLOE_OPT_SIZE, "8M", F(max_request), 1 << 20, 64 << 20,
      0, "Largest request body accepted; a larger Content-Length is "
      "refused unread (413, then the connection is closed)." },
    { "max-connections", FLOE_OPT_INT, "1024", F(max_conns), 16, 1000000, 0,
      "Open connections served. Past it a request gets 503 "
      "ServiceUnavailableException (clients retry) and its connection is "
      "closed; past 1/16 more, new connections are closed at once. The "
      "open-file limit is raised to its hard limit at start, and this is "
      "lowered, with a warning, if it does not fit." },
    { "header-timeout", FLOE_OPT_MS, "10s", F(header_timeout), 100,
      3600000, 0, "A request head must be whole within this of the "
      "connection opening (TLS handshake included) or of the previous "
      "response; else the connection is closed. So it is also how long an "
      "idle keep-alive connection is kept." },
    { "body-timeout", FLOE_OPT_MS, "60s", F(body_timeout), 100, 3600000, 0,
      "A request body must be whole within this of its head (a "
      "Content-Length larger than what is sent ends here)." },
    { "idle-timeout", FLOE_OPT_MS, "30s", F(idle_timeout), 1000, 3600000, 0,
      "A connection on which no byte moves either way for this long is "
      "closed (a client not reading its answer)." },
    { "tls-cert", FLOE_OPT_STR, NULL, F(tls_cert), 0, 0, 0,
      "PEM certificate (chain) file: serve HTTPS only, as AWS does (with "
      "--tls-key)." },
    { "tls-key", FLOE_OPT_STR, NULL, F(tls_key), 0, 0, 0,
      "PEM private key file of --tls-cert." },
    { "wal", FLOE_OPT_BOOL, "true", F(wal), 0, 0, 0,
      "Write-ahead log: acknowledge a put only once its records are "
      "fdatasync'ed; replay them after a crash (--wal=false to disable)." },
    { "wal-segment-size", FLOE_OPT_SIZE, "64M", F(wal_segment), 1 << 20,
      1 << 30, 0, "Size at which the write-ahead log starts a new segment." },
    { "retry-window", FLOE_OPT_MS, "24h", F(retry_window), 100,
      7 * 86400000.0, 0,
      "How long a store put failing with a transient error (I/O, "
      "throttling, 5xx) is retried (backoff 0.1-5 s but at most this "
      "window, per stream, with jitter; a failing stream never holds a delivery thread while it "
      "waits) before the object's records are written under the stream's "
      "ErrorOutputPrefix instead (one JSON document per record, "
      "error-output-type s3-delivery-failed). A permanent error (a key or "
      "bucket the store refuses, access denied) goes to the error output "
      "at once. When the store refuses the error output too, the records "
      "go to <bucket>/s3-delivery-failed/yyyy/MM/dd/HH/; error-output puts "
      "are tried 8 times, then the records stay in the write-ahead log "
      "until the next start (floe_firehose_undelivered_objects_total). AWS "
      "keeps data 24 h." },
    { "access-key-id", FLOE_OPT_STR, NULL, F(access_key_id), 0, 0, 0,
      "When set (with --secret-access-key), every API request must be "
      "signed with AWS Signature V4 by this key for service firehose (any "
      "region; X-Amz-Date within 5 min, as AWS; Host, X-Amz-Date and "
      "X-Amz-Target signed). Unset: no authentication." },
    { "secret-access-key", FLOE_OPT_STR, NULL, F(secret_access_key), 0, 0,
      FLOE_OPT_SECRET,
      "Secret of --access-key-id (never logged; prefer the environment "
      "variable)." },
    { NULL },
};

static const char *const fh_yaml_keys[] = { "streams", NULL };

static const struct floe_cmd fh_cmd = {
    "firehose",
    "floe firehose [options]",
    "Serve the Amazon Kinesis Data Firehose API (JSON 1.1: "
    "CreateDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams, "
    "DeleteDeliveryStream, UpdateDestination, PutRecord, PutRecordBatch, "
    "Tag/UntagDeliveryStream, ListTagsForDeliveryStream) and deliver each "
    "DirectPut stream to the object store like Firehose's S3 destination: "
    "records concatenated byte for byte, buffered up to SizeInMBs or "
    "IntervalInSeconds, compressed as CompressionFormat says (GZIP .gz, ZIP "
    ".zip, Snappy framed .snappy, HADOOP_SNAPPY .hsnappy), named <prefix>"
    "<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext> in UTC or the "
    "stream's CustomTimeZone. A put is acknowledged once it is in the "
    "write-ahead log; an object that cannot be stored within --retry-window "
    "goes to the ErrorOutputPrefix as JSON lines; SIGTERM flushes "
    "every buffer, tries each object once more and exits 0 (objects the "
    "store refuses then stay in the write-ahead log and are delivered at "
    "the next start). With --access-key-id every request must be "
    "SigV4-signed. GET /metrics serves Prometheus counters; GET /ready "
    "answers 200, or 503 while the write-ahead log cannot be written.\n\n"
    "Write-ahead log failures. A failed write (disk full, quota, file "
    "size limit) refuses the put with ServiceUnavailableException (the "
    "client retries; nothing was acknowledged), counts "
    "floe_firehose_wal_write_errors_total, sets floe_firehose_wal_healthy "
    "to 0 and fails GET /ready until a write succeeds again, in a fresh "
    "segment. A failed fdatasync is fatal (crash-only, as in PostgreSQL: "
    "the kernel may have dropped the unsynced pages, and a retry could "
    "report success over lost data): floe firehose logs the error and "
    "exits at once with status 74 without acknowledging anything more; run "
    "it under a supervisor that restarts it (systemd Restart=on-failure), "
    "and the restart replays the log from disk. At start-up, damaged "
    "log data is skipped up to the next intact entry, counted "
    "(floe_firehose_wal_damaged_bytes_total, _damaged_entries_total, "
    "_quarantined_segments_total) and its segment kept under "
    "<state-dir>/wal/quarantine/; a torn last entry left by a crash is "
    "ignored quietly.",
    fh_opts,
    "Example:\n"
    "  floe firehose --lake ./lake --port 4573 &\n"
    "  aws --endpoint-url http://127.0.0.1:4573 firehose "
    "create-delivery-stream \\\n"
    "      --delivery-stream-name orders --extended-s3-destination-"
    "configuration \\\n"
    "      'BucketARN=arn:aws:s3:::landing,RoleARN=arn:aws:iam::"
    "123456789012:role/x,Prefix=orders/,CompressionFormat=GZIP'\n",
    fh_yaml_keys, /* firehose.streams: see declare.c */
    floe_fh_declare_check, /* the same checks as at start-up */
};

struct replay_ctx {
    struct floe_fh_registry *reg;
    struct floe_fh_deliver *dlv;
    struct floe_fh_wal *wal;
    uint64_t dropped;
};

static void on_replay(void *ud, const struct floe_fh_wal_pos *pos,
                      const char *stream, int64_t arrival_ms,
                      const void *data, size_t len)
{
    struct replay_ctx *rc = ud;
    struct floe_fh_stream *s = floe_fh_registry_find(rc->reg, stream);

    if (s == NULL) { /* deleted stream: nothing to deliver it to */
        rc->dropped += len;
        floe_fh_wal_release(rc->wal, pos->seg, 1);
        return;
    }
    floe_fh_deliver_replay(rc->dlv, s, pos, arrival_ms, data, len);
}

/* Crash-only (see the file comment): no answer goes out for what was not
 * synced, the supervisor restarts us, replay reads what is on disk. */
static void wal_fatal(void *ud, const char *msg)
{
    (void)ud;
    floe_log_error("FATAL: %s. Exiting with status %d without "
                   "acknowledging anything more: restart floe firehose and "
                   "it replays the write-ahead log from disk",
                   msg, FH_EXIT_WAL);
    _exit(FH_EXIT_WAL);
}

/* Watches for a second SIGTERM/SIGINT while the first one's graceful stop
 * runs. Joinable: main wakes it (SIGUSR1, `done` set) and joins it before
 * the deliverer it borrows is freed. */
struct watcher {
    pthread_t thread;
    struct floe_fh_deliver *dlv; /* borrowed */
    atomic_bool done;
};

static void *second_signal(void *arg)
{
    struct watcher *w = arg;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    while (sigwait(&set, &sig) != 0)
        ;
    if (!atomic_load(&w->done) && sig != SIGUSR1) {
        floe_log_warn("second signal: giving up on undelivered objects "
                      "(the write-ahead log keeps them)");
        floe_fh_deliver_abort(w->dlv);
    }
    return NULL;
}

static int write_ready(const char *path, int port)
{
    char text[16];
    int n = snprintf(text, sizeof(text), "%d\n", port);

    return floe_write_file_atomic(path, text, (size_t)n);
}

static void detach_all(struct floe_fh_registry *reg,
                       struct floe_fh_deliver *dlv)
{
    size_t i;

    floe_fh_registry_wrlock(reg);
    for (i = 0; i < floe_fh_registry_count(reg); i++)
        floe_fh_deliver_detach(dlv, floe_fh_registry_at(reg, i));
    floe_fh_registry_unlock(reg);
}

int floe_firehose_main(int argc, char **argv)
{
    struct fh_cfg cfg;
    char err[FLOE_ERR_LEN] = "";
    struct floe_fh_registry *reg = NULL;
    struct floe_store *store = NULL;
    struct floe_fh_wal *wal = NULL;
    struct floe_fh_deliver *dlv = NULL;
    struct floe_http_server *srv = NULL;
    struct floe_metrics *metrics = NULL;
    struct floe_fh_deliver_cfg dcfg;
    struct floe_http_server_cfg hcfg;
    struct floe_fh_api api;
    struct floe_buf wal_dir, pem_cert, pem_key;
    struct floe_fh_wal_replay_stats rs;
    sigset_t set;
    struct watcher watcher;
    bool watching = false;
    size_t i, nstreams;
    int sig = 0, rc, status;

    memset(&cfg, 0, sizeof(cfg));
    floe_buf_init(&wal_dir, 4096);
    floe_buf_init(&pem_cert, 1 << 20);
    floe_buf_init(&pem_key, 1 << 20);
    status = floe_opt_main(&fh_cmd, &cfg, argc, argv, NULL);
    if (status != FLOE_OPT_GO)
        goto cleanup;
    status = 1;

    if ((cfg.access_key_id != NULL && cfg.access_key_id[0] != '\0') !=
        (cfg.secret_access_key != NULL && cfg.secret_access_key[0] != '\0')) {
        fprintf(stderr, "floe firehose: --access-key-id and "
                        "--secret-access-key go together\n");
        status = 2;
        goto cleanup;
    }
    if ((cfg.tls_cert != NULL) != (cfg.tls_key != NULL) ||
        (cfg.tls_cert != NULL &&
         (floe_read_file(cfg.tls_cert, &pem_cert) != FLOE_OK ||
          floe_read_file(cfg.tls_key, &pem_key) != FLOE_OK))) {
        fprintf(stderr, "floe firehose: --tls-cert and --tls-key go "
                        "together and must be readable PEM files\n");
        status = 2;
        goto cleanup;
    }

    /* Threads created from here on inherit the blocked signals; the main
     * thread takes them with sigwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1); /* wakes the second-signal watcher */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigdelset(&set, SIGUSR1);
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit (ulimit -f) is then a failed write (EFBIG), which
     * the WAL survives, not a killed process. */
    signal(SIGXFSZ, SIG_IGN);

    rc = floe_metrics_create(&metrics);
    if (rc == FLOE_OK)
        rc = floe_fh_registry_open(cfg.state_dir, &reg, err);
    if (rc == FLOE_OK)
        rc = floe_store_open(cfg.lake, &store, err);
    if (rc == FLOE_OK && cfg.wal) {
        rc = floe_buf_addf(&wal_dir, "%s/wal", cfg.state_dir);
        if (rc == FLOE_OK)
            rc = floe_fh_wal_open(wal_dir.data, cfg.wal_segment, metrics,
                                  &wal, err);
        if (rc == FLOE_OK)
            floe_fh_wal_set_fatal(wal, wal_fatal, NULL);
    }
    if (rc != FLOE_OK) {
        floe_log_error("%s", err[0] ? err : floe_strerror(rc));
        goto cleanup;
    }
    memset(&dcfg, 0, sizeof(dcfg));
    dcfg.store = store;
    dcfg.wal = wal;
    dcfg.max_buffered = cfg.max_buffered;
    dcfg.workers = (int)cfg.delivery_threads;
    dcfg.retry_window_ms = cfg.retry_window;
    dcfg.metrics = metrics;
    rc = floe_fh_deliver_start(&dcfg, &dlv, err);
    for (i = 0; rc == FLOE_OK && i < floe_fh_registry_count(reg); i++)
        rc = floe_fh_deliver_attach(dlv, floe_fh_registry_at(reg, i));
    if (rc != FLOE_OK) {
        floe_log_error("%s", err[0] ? err : floe_strerror(rc));
        goto cleanup;
    }
    if (wal != NULL) {
        struct replay_ctx rctx = { reg, dlv, wal, 0 };

        rc = floe_fh_wal_replay(wal, on_replay, &rctx, &rs);
        if (rc != FLOE_OK) {
            floe_log_error("cannot replay the write-ahead log in %s: %s",
                           wal_dir.data, floe_strerror(rc));
            goto cleanup;
        }
        if (rs.entries > 0)
            floe_log_info("replayed %llu write-ahead log entries "
                          "(%llu bytes of deleted streams dropped)",
                          (unsigned long long)rs.entries,
                          (unsigned long long)rctx.dropped);
    }
    rc = floe_fh_api_init(&api, reg, dlv, metrics);
    if (rc != FLOE_OK)
        goto cleanup;
    api.wal = wal;
    api.auth.access_key_id = cfg.access_key_id;
    api.auth.secret = cfg.secret_access_key;
    rc = floe_fh_declare_streams(&api, err);
    if (rc != FLOE_OK) {
        floe_log_error("%s", err);
        goto cleanup;
    }

    memset(&hcfg, 0, sizeof(hcfg));
    hcfg.bind = cfg.bind;
    hcfg.port = (int)cfg.port;
    hcfg.threads = (int)cfg.threads;
    hcfg.max_body = (size_t)cfg.max_request;
    hcfg.max_resp = 1 << 20;
    hcfg.timeout_s = (unsigned)(cfg.idle_timeout / 1000);
    hcfg.max_conns = (unsigned)cfg.max_conns;
    hcfg.header_ms = (unsigned)cfg.header_timeout;
    hcfg.body_ms = (unsigned)cfg.body_timeout;
    hcfg.tls_cert = pem_cert.data;
    hcfg.tls_key = pem_key.data;
    hcfg.metrics = metrics;
    /* Counted now: once the server runs, requests change the registry. */
    nstreams = floe_fh_registry_count(reg);
    rc = floe_http_server_start(&hcfg, floe_fh_api_handle, &api, &srv, err);
    if (rc != FLOE_OK) {
        floe_log_error("%s", err);
        goto cleanup;
    }
    floe_log_info("listening on %s:%d (%s%zu streams, lake %s, WAL %s, "
                  "SigV4 %s)", cfg.bind, floe_http_server_port(srv),
                  cfg.tls_cert ? "HTTPS, " : "", nstreams,
                  floe_store_url(store),
                  wal ? "on" : "off",
                  api.auth.access_key_id ? "required" : "off");
    if (cfg.ready_file != NULL) {
        rc = write_ready(cfg.ready_file, floe_http_server_port(srv));
        if (rc != FLOE_OK) {
            floe_log_error("cannot write --ready-file %s", cfg.ready_file);
            goto cleanup;
        }
    }

    while (sigwait(&set, &sig) != 0)
        ;
    floe_log_info("%s: stopping (finishing requests, flushing buffers)",
                  sig == SIGINT ? "SIGINT" : "SIGTERM");
    watcher.dlv = dlv;
    atomic_init(&watcher.done, false);
    watching = pthread_create(&watcher.thread, NULL, second_signal,
                              &watcher) == 0;
    floe_http_server_quiesce(srv);
    floe_http_server_stop(srv);
    srv = NULL;
    status = 0;
cleanup:
    floe_http_server_stop(srv);
    if (dlv != NULL) {
        detach_all(reg, dlv);
        /* Each object is tried once more; what the store refuses now
         * stays in the WAL for the next start. */
        floe_fh_deliver_finish(dlv);
    }
    if (watching) { /* it may still use dlv: join it before the free */
        atomic_store(&watcher.done, true);
        pthread_kill(watcher.thread, SIGUSR1);
        pthread_join(watcher.thread, NULL);
    }
    floe_fh_deliver_stop(dlv);
    floe_fh_wal_close(wal);
    floe_fh_registry_close(reg);
    floe_store_close(store);
    floe_metrics_destroy(metrics);
    floe_buf_free(&wal_dir);
    floe_buf_free(&pem_cert);
    if (pem_key.data != NULL) /* the private key: not left in freed memory */
        memset(pem_key.data, 0, pem_key.len);
    floe_buf_free(&pem_key);
    floe_opt_free(fh_opts, &cfg);
    return status;
}
