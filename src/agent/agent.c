/* agent.c - `floe agent` entry point: options, start-up and the one loop.
 * Single-threaded and never blocked by the network: each turn moves every
 * request in flight on (libcurl multi) and takes in the answers, rescans
 * directories when due (or at once on an inotify create/move/delete),
 * reads new bytes of every flow (unless over the memory bound), closes due
 * batches, starts requests as each flow's window allows, refreshes the
 * gauges, and sleeps on the sockets and inotify together only when nothing
 * happened. --exit-at-eof ends the loop once every file is read and every
 * record acknowledged and checkpointed. The only other threads serve GET
 * /metrics (--metrics-port). */
#define FLOE_LOG_MOD "agent"
#include "agent/agent.h"

#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/flow.h"
#include "agent/stats.h"
#include "agent/watch.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/opt.h"
#include "core/util.h"

struct agent_opts {
    char *config;
    char *checkpoint_file;
    char *endpoint;
    char *region;
    char *ca_file;
    bool exit_at_eof;
    int64_t progress_interval;
    int64_t max_buffered;
    int64_t max_in_flight;
    int64_t request_timeout;
    int64_t metrics_port;
    char *metrics_bind;
    char *ready_file;
};

#define F(m) offsetof(struct agent_opts, m)
static const struct floe_opt agent_opts[] = {
    { "config", FLOE_OPT_STR, NULL, F(config), 0, 0, 0,
      "Kinesis Agent agent.json to read (also -c FILE). Required unless "
      "floe.yaml's agent section lists the flows itself (flows:)." },
    { "checkpoint-file", FLOE_OPT_STR, NULL, F(checkpoint_file), 0, 0, 0,
      "SQLite checkpoint database; overrides agent.json checkpointFile "
      "(default ./floe-state/agent/checkpoints.db)." },
    { "endpoint", FLOE_OPT_STR, NULL, F(endpoint), 0, 0, 0,
      "Firehose endpoint (host, http://host:port or https://host); "
      "overrides agent.json firehose.endpoint." },
    { "region", FLOE_OPT_STR, NULL, F(region), 0, 0, 0,
      "SigV4 signing region; overrides kinesis.region (default: from "
      "the endpoint host, else us-east-1)." },
    { "ca-file", FLOE_OPT_STR, NULL, F(ca_file), 0, 0, 0,
      "PEM bundle of the certificate authorities that verify an https "
      "endpoint (as the AWS CLI's --ca-bundle; default: $AWS_CA_BUNDLE, "
      "else the system's). Certificates are always verified." },
    { "exit-at-eof", FLOE_OPT_BOOL, "false", F(exit_at_eof), 0, 0, 0,
      "Batch mode: exit 0 once every matched file is read to its end and "
      "every record is acknowledged and checkpointed (an unterminated "
      "last line counts as a record)." },
    { "progress-interval", FLOE_OPT_MS, "30s", F(progress_interval), 0,
      86400000, 0, "How often to log the 'Agent: Progress:' line (0: "
      "never)." },
    { "max-buffered-bytes", FLOE_OPT_SIZE, "8M", F(max_buffered),
      1048576, 1073741824, 0,
      "Memory bound (all flows) for records read but not yet acknowledged "
      "(in flight included; request bodies are streamed, not stored), "
      "12 KiB per buffer included; above it reading pauses. It caps what "
      "can be in flight (about bytes/s x round trip are needed); reading "
      "also pauses while two closed buffers wait for the window, so a near "
      "endpoint uses far less." },
    { "max-in-flight", FLOE_OPT_INT, "128", F(max_in_flight), 1, 1024, 0,
      "Ceiling of PutRecordBatch requests in flight per flow. Each flow's "
      "window starts at 2 and grows while answers come back fine and as "
      "fast as the fastest recent one (so a near endpoint keeps few, a far "
      "one many); it shrinks when round trips grow past thrice that, and "
      "halves on throttling (ServiceUnavailableException, partial "
      "failures, 5xx, 429, timeouts)." },
    { "request-timeout", FLOE_OPT_MS, "60s", F(request_timeout), 1000,
      3600000, 0, "A PutRecordBatch without a whole answer by then is "
      "abandoned and retried." },
    { "metrics-port", FLOE_OPT_INT, "-1", F(metrics_port), -1, 65535, 0,
      "Serve GET /metrics (Prometheus text) on this port; 0 picks a free "
      "one (logged, see --ready-file); -1: off." },
    { "metrics-bind", FLOE_OPT_STR, "127.0.0.1", F(metrics_bind), 0, 0, 0,
      "Address for --metrics-port (numeric IPv4/IPv6; 0.0.0.0 for remote "
      "scrapes)." },
    { "ready-file", FLOE_OPT_STR, NULL, F(ready_file), 0, 0, 0,
      "Once started, atomically write the /metrics port (0 if off) and a "
      "newline here." },
    { NULL, 0, NULL, 0, 0, 0, 0, NULL },
};

static const char *const agent_yaml_keys[] = { "flows", NULL };
static int check_flows(const void *cfg, char *err);

static const struct floe_cmd agent_cmd = {
    "agent",
    "floe agent --config agent.json [options]\n"
    "       floe --config floe.yaml agent [options]   (flows in floe.yaml)",
    "Tail log files like the Amazon Kinesis Agent and send each line as a "
    "record to a\nKinesis Data Firehose endpoint (floe firehose, AWS, or "
    "any compatible server) with\nPutRecordBatch: up to 500 records and "
    "4 MiB per call, SigV4-signed when AWS\ncredentials exist (agent.json "
    "awsAccessKeyId/awsSecretAccessKey, else\nAWS_ACCESS_KEY_ID, "
    "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Many requests are\nin "
    "flight at once (--max-in-flight per flow, adapting to throttling); "
    "reading,\nrotation tracking and /metrics never wait for them. Only "
    "failed records are\nresent, with exponential backoff; a request "
    "refused as too large (413) is split\nin two and resent, and a record "
    "refused even alone goes to rejected.jsonl\nbeside the checkpoint "
    "database (with its reason; counted). A file's checkpoint\nadvances "
    "only past batches that were wholly acknowledged, in file order, so a\n"
    "restart resumes without loss (what was in flight may be sent twice)."
    "\n\nagent.json keys used: firehose.endpoint, "
    "kinesis.region, awsAccessKeyId,\nawsSecretAccessKey, checkpointFile, "
    "checkpointTimeToLiveDays (default 7: rows of\nfiles not seen for that "
    "many days are deleted, at start and hourly); per flow:\nfilePattern "
    "(glob on the file name, literal directory), "
    "deliveryStream, initialPosition (END_OF_FILE | START_OF_FILE),\n"
    "maxBufferAgeMillis (1000-900000, default 60000), maxBufferSizeBytes "
    "(<= 4194304),\nmaxBufferSizeRecords (<= 500), aggregatedRecordSizeBytes (pack "
    "whole lines of one\nfile into one record up to this size; Firehose "
    "bills records in 5 KB units),\nskipHeaderLines, "
    "truncatedRecordTerminator,\nminTimeBetweenFilePollsMillis, "
    "retryInitialBackoffMillis, retryMaxBackoffMillis,\n"
    "multiLineStartPattern (a record runs until the next line matching it; "
    "the last one\nwaits for the next start, or EOF with --exit-at-eof),\n"
    "dataProcessingOptions, applied in order: CSVTOJSON (customFieldNames, "
    "delimiter),\nSINGLELINE (parseOptions NO_TRIM, ESCAPE_NEW_LINE), "
    "LOGTOJSON (logFormat\nCOMMONAPACHELOG | COMBINEDAPACHELOG | "
    "APACHEERRORLOG | SYSLOG | RFC3339SYSLOG,\ncustomFieldNames, "
    "matchPattern; a line that does not match is skipped and counted;\n"
    "Apache \"-\" becomes null) and ADDMETADATA (metadata, timestamp, and "
    "optionally\nlogFormat/matchPattern/customFieldNames to send the parsed "
    "object as \"data\").\n\n"
    "Converted records are valid UTF-8 JSON: as in the Kinesis Agent, an "
    "invalid byte\nor sequence (overlong, surrogate, truncated) becomes "
    "U+FFFD, one per maximal\ninvalid subpart (an encoded surrogate gives "
    "one per byte; Java 8 gives one,\nJava 9+ two). CSVTOJSON differs from "
    "the Kinesis Agent's, which splits on the\ndelimiter as a Java regex: a "
    "field that starts with a double quote is\nRFC 4180-quoted (the delimiter"
    " inside is kept, \"\" is one quote, text after the\nclosing quote up to "
    "the delimiter is kept, an unclosed quote runs to the end of\nthe record)"
    " where the Kinesis Agent splits inside it and keeps the quotes (a\nquote"
    " inside an unquoted field is kept by both); trailing empty fields are "
    "\"\"\n(\"a,b,\" gives \"\" for the third column, null only for a column "
    "the line does not\nhave) where Java's split drops them and gives null; "
    "a CR before the line end is\ndropped where the Kinesis Agent keeps it "
    "at the end of the last value; the\ndelimiter is one ASCII character or "
    "an escaped one (\"\\\\t\", \"\\\\|\"), not a regex.\nLOGTOJSON drops tha"
    "t CR too before matching (there '.' would not match it).\n\n"
    "Regular expressions (matchPattern, multiLineStartPattern) are Java's, "
    "run by\nPCRE2 (JIT-compiled when available) with java.util.regex "
    "semantics:\nbacktracking, the first alternative that lets the line "
    "match, lazy and\npossessive quantifiers, lookaround, atomic and named "
    "(?<name>) groups,\nbackreferences, \\Q..\\E, \\uXXXX, \\p{Alpha}-style "
    "POSIX classes, \\p{Lu},\n\\p{IsLatin}. matchPattern must match the "
    "whole line (Matcher.matches()),\nmultiLineStartPattern its start "
    "(lookingAt()). As in the Kinesis Agent the line\nis matched as UTF-8 tex"
    "t, an invalid sequence being one U+FFFD; \\w \\d \\s are\nASCII. Refused"
    ", with a message: [a&&b] intersections, nested classes [a[b]] (and\nso ["
    "[:alpha:]]), \\p{javaLowerCase}-style and block (\\p{InGreek}) classes, "
    "the\nflags (?U) and (?d). Still different from Java: \\b is ASCII "
    "(Java's takes\nnon-ASCII letters for word characters too); (?i) also "
    "folds non-ASCII letters\n(Java only with (?u)); '.' matches U+0085, "
    "U+2028 and U+2029; lookbehind needs a\nfixed length per alternative; in "
    "(?x) mode a space inside [] counts; a group\nrepeated by a quantifier "
    "whose iteration can match empty may capture otherwise.\nA pattern PCRE2 "
    "cannot compile is a configuration error with its message and\noffset.\n"
    "\nfilePattern should be absolute (the Kinesis Agent needs that); a "
    "relative one,\nor one whose directory does not exist (yet), is warned "
    "about when the flows are\nloaded, by floe config --check too.\n\n"
    "Other Kinesis Agent keys are warned about and ignored; comments (// and "
    "/* */)\nare allowed.",
    agent_opts,
    "Example agent.json:\n"
    "  {\n"
    "    \"firehose.endpoint\": \"http://127.0.0.1:4573\",\n"
    "    \"checkpointFile\": \"./floe-state/agent/checkpoints.db\",\n"
    "    \"flows\": [\n"
    "      { \"filePattern\": \"/var/log/shop/orders.log*\",\n"
    "        \"deliveryStream\": \"orders\",\n"
    "        \"initialPosition\": \"START_OF_FILE\" },\n"
    "      { \"filePattern\": \"/var/log/shop/customers.log\",\n"
    "        \"deliveryStream\": \"customers\",\n"
    "        \"initialPosition\": \"START_OF_FILE\",\n"
    "        \"maxBufferAgeMillis\": 5000,\n"
    "        \"dataProcessingOptions\": [\n"
    "          { \"optionName\": \"CSVTOJSON\",\n"
    "            \"customFieldNames\": [\"customer_id\", \"name\", "
    "\"email\", \"country\",\n"
    "              \"segment\", \"created_at\", \"updated_at\"] } ] }\n"
    "    ]\n"
    "  }\n\n"
    "Examples:\n"
    "  floe agent -c agent.json\n"
    "  floe agent --config agent.json --endpoint http://127.0.0.1:4573 "
    "--exit-at-eof\n"
    "  floe agent -c agent.json --metrics-port 9464   # then: curl "
    "127.0.0.1:9464/metrics\n\n"
    "Metrics (off unless --metrics-port is set: an agent runs on every "
    "host and takes\nno port it was not given). Per flow, labelled "
    "flow=\"<flow id>\",stream=\"<name>\":\n"
    "  floe_agent_records_{parsed,skipped,sent,failed,truncated}_total,\n"
    "  floe_agent_records_parsed_bytes_total, "
    "floe_agent_bytes_{read,sent}_total,\n"
    "  floe_agent_lines_skipped_total, floe_agent_put_requests_total,\n"
    "  floe_agent_put_retries_total, floe_agent_put_latency_seconds "
    "(histogram),\n"
    "  floe_agent_put_failures_total{kind=\"partial|http|network\"},\n"
    "  floe_agent_checkpoint_{commits,errors}_total, "
    "floe_agent_bytes_behind (lag),\n"
    "  floe_agent_open_files, floe_agent_queued_buffers,\n"
    "  floe_agent_requests_{in_flight,window}, "
    "floe_agent_records_rejected_total,\n"
    "  floe_agent_records_acked_unsaved (what a crash now would resend); "
    "agent-wide:\n"
    "  floe_agent_buffered_bytes, floe_agent_buffered_bytes_limit.\n\n"
    "Flows may instead be listed in floe.yaml, under agent: flows:, with "
    "the same keys\nas in agent.json (not beside 'config:'; a --config on the "
    "command line wins):\n"
    "  agent:\n"
    "    endpoint: http://127.0.0.1:4573\n"
    "    flows:\n"
    "      - filePattern: /var/log/shop/orders.log*\n"
    "        deliveryStream: orders\n"
    "        initialPosition: START_OF_FILE\n\n"
    "Exit status: 0 done or stopped by SIGINT/SIGTERM, 1 runtime failure, "
    "2 bad usage\nor configuration.",
    agent_yaml_keys, /* agent.flows: see load_conf() */
    check_flows,
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

#define DEFAULT_CHECKPOINT "./floe-state/agent/checkpoints.db"
/* Bytes read per flow per turn: small enough that answers are taken in
 * (and new requests started) often while files are being read. */
#define READ_BUDGET (2u * 1024 * 1024)
#define EXPIRY_MS (3600 * 1000) /* checkpointTimeToLiveDays is in days */
#define DRAIN_MS 2000 /* on SIGTERM: how long answers in flight are awaited */

static void progress(const struct floe_flow *flows, size_t nflows,
                     int64_t start_ms)
{
    uint64_t parsed = 0, bytes = 0, sent = 0;
    size_t i;

    for (i = 0; i < nflows; i++) {
        parsed += floe_counter_get(flows[i].st.parsed);
        bytes += floe_counter_get(flows[i].st.parsed_bytes);
        sent += floe_counter_get(flows[i].st.sent);
    }
    floe_log_info("Agent: Progress: %" PRIu64 " records parsed (%" PRIu64
                  " bytes), and %" PRIu64 " records sent successfully to "
                  "destinations. Uptime: %" PRId64 "ms",
                  parsed, bytes, sent, floe_mono_ms() - start_ms);
}

static void tailer_progress(const struct floe_flow *f)
{
    uint64_t behind = floe_tail_behind(&f->tail);
    uint64_t parsed = floe_counter_get(f->st.parsed);
    uint64_t skipped = floe_counter_get(f->st.skipped);
    size_t i, unread = 0;

    for (i = 0; i < f->tail.nfiles; i++) {
        const struct floe_tail_file *tf = f->tail.files[i];

        if (tf != NULL && (uint64_t)tf->size > tf->offset)
            unread++; /* open, parked or waiting for a descriptor */
    }
    floe_log_info("%s: Tailer Progress: Tailer has parsed %" PRIu64
                  " records (%" PRIu64 " bytes), transformed %" PRIu64
                  " records, skipped %" PRIu64 " records, and has "
                  "successfully sent %" PRIu64 " records to destination; "
                  "%zu buffers queued; %" PRIu64 " lines skipped (headers, "
                  "runaway records), %" PRIu64 " truncated",
                  f->cfg->id, parsed,
                  floe_counter_get(f->st.parsed_bytes),
                  f->cfg->conv.n > 0 ? parsed - skipped : 0, skipped,
                  floe_counter_get(f->st.sent), f->nqueued,
                  f->tail.lines_skipped, f->tail.lines_truncated);
    /* Like the Kinesis Agent; WARN from 40 MiB behind. */
    floe_log_at(behind >= 40u * 1024 * 1024 ? FLOE_LOG_WARN : FLOE_LOG_INFO,
                0, "%s: Tailer is %.2f MB (%" PRIu64 " bytes) behind. "
                "There are %zu file(s) not yet read to the end (%zu waiting "
                "for a file descriptor).", f->cfg->id,
                (double)behind / 1048576.0, behind, unread,
                f->tail.nwaiting);
}

/* Rewrite "-c FILE" as "--config FILE" (floe_opt_parse knows long names
 * only). Returns a new argv (free() it; strings borrowed) or NULL. */
static char **rewrite_short(int argc, char **argv)
{
    char **v = calloc((size_t)argc + 1, sizeof(*v));
    int i;

    if (v == NULL)
        return NULL;
    for (i = 0; i < argc; i++)
        v[i] = strcmp(argv[i], "-c") == 0 ? (char *)"--config" : argv[i];
    return v;
}

/* Start the /metrics server if asked; write the ready file. */
static int serve(const struct agent_opts *o, struct floe_metrics *m,
                 struct floe_stats_server **out)
{
    char err[FLOE_ERR_LEN] = "", text[16];
    int port = 0, n, rc = FLOE_OK;

    *out = NULL;
    if (o->metrics_port >= 0) {
        rc = floe_stats_server_start(m, o->metrics_bind, (int)o->metrics_port,
                                     out, err);
        if (rc != FLOE_OK) {
            floe_log_error("--metrics-port %d: %s", (int)o->metrics_port,
                           err[0] ? err : floe_strerror(rc));
            return rc;
        }
        port = floe_stats_server_port(*out);
        floe_log_info("metrics: GET http://%s%s%s:%d/metrics",
                      strchr(o->metrics_bind, ':') ? "[" : "",
                      o->metrics_bind,
                      strchr(o->metrics_bind, ':') ? "]" : "", port);
    }
    if (o->ready_file != NULL) {
        n = snprintf(text, sizeof(text), "%d\n", port);
        rc = floe_write_file_atomic(o->ready_file, text, (size_t)n);
        if (rc != FLOE_OK)
            floe_log_error("cannot write --ready-file %s", o->ready_file);
    }
    return rc;
}

/* checkpointTimeToLiveDays: rows of files not seen for that long go, at
 * start and every EXPIRY_MS (a failure is logged and tried again). */
static void expire_checkpoints(struct floe_ckpt *ck, int64_t days)
{
    int64_t n = 0;

    if (floe_ckpt_expire(ck, days, &n) == FLOE_OK && n > 0)
        floe_log_info("forgot %lld checkpoint%s of files not seen for %lld "
                      "day%s (checkpointTimeToLiveDays)", (long long)n,
                      n == 1 ? "" : "s", (long long)days,
                      days == 1 ? "" : "s");
}

/* rejected.jsonl in the checkpoint database's directory. */
static char *rejects_path(const char *ckpath)
{
    const char *slash = strrchr(ckpath, '/');
    struct floe_buf p;

    floe_buf_init(&p, FLOE_BUF_UNLIMITED);
    if (floe_buf_addf(&p, "%.*s%s", slash ? (int)(slash - ckpath + 1) : 0,
                      ckpath, "rejected.jsonl") != FLOE_OK) {
        floe_buf_free(&p);
        return NULL;
    }
    return floe_buf_take(&p, NULL);
}

/* Stopping: give the answers in flight a moment, so what they acknowledge
 * is checkpointed rather than sent again after the restart. */
static void drain(struct floe_sender *s, int64_t ms)
{
    int64_t until = floe_mono_ms() + ms;
    bool ready;

    if (floe_sender_in_flight(s) == 0)
        return;
    floe_log_info("waiting up to %" PRId64 " ms for %zu request(s) in "
                  "flight", ms, floe_sender_in_flight(s));
    while (floe_sender_in_flight(s) > 0 && floe_mono_ms() < until) {
        floe_sender_perform(s, floe_flow_on_done, NULL);
        if (floe_sender_in_flight(s) > 0)
            floe_sender_wait(s, -1, 50, &ready);
    }
}

static void gauges(const struct floe_flow *flows, size_t nflows,
                   const struct floe_flow_shared *sh,
                   const struct floe_agent_gauges *g)
{
    size_t i;

    for (i = 0; i < nflows; i++)
        floe_flow_gauges(&flows[i]);
    floe_gauge_set(g->buffered, (int64_t)sh->buffered);
}

static int run(struct agent_opts *o, struct floe_agent_conf *conf)
{
    struct floe_flow_shared sh;
    struct floe_flow *flows = NULL;
    struct floe_ckpt *ck = NULL;
    struct floe_sender *sender = NULL;
    struct floe_metrics *metrics = NULL;
    struct floe_stats_server *msrv = NULL;
    struct floe_agent_gauges ag;
    struct floe_sender_opts so;
    struct floe_watch w;
    bool *rescan = NULL;
    char err[FLOE_ERR_LEN] = "", *rejects = NULL;
    int64_t start = floe_mono_ms(), next_progress, next_expiry;
    size_t i, reserve, nflows = conf->nflows;
    int rc = FLOE_OK;
    const char *ckpath;

    reserve = floe_tail_limit_fds(); /* before any file is opened */
    memset(&sh, 0, sizeof(sh));
    memset(&w, 0, sizeof(w));
    w.fd = -1;
    sh.max_buffered = (size_t)o->max_buffered;
    sh.exit_at_eof = o->exit_at_eof;
    sh.nflows = nflows;
    sh.max_in_flight = (size_t)o->max_in_flight;
    ckpath = o->checkpoint_file   ? o->checkpoint_file
             : conf->checkpoint_file ? conf->checkpoint_file
                                     : DEFAULT_CHECKPOINT;
    rejects = rejects_path(ckpath);
    if (rejects == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    sh.rejects = rejects;
    rc = floe_ckpt_open(ckpath, &ck, err);
    if (rc != FLOE_OK) {
        floe_log_error("%s", err);
        goto cleanup;
    }
    expire_checkpoints(ck, conf->checkpoint_ttl_days);
    memset(&so, 0, sizeof(so));
    so.endpoint = o->endpoint ? o->endpoint : conf->endpoint;
    so.region = o->region ? o->region : conf->region;
    so.access_key = conf->access_key;
    so.secret_key = conf->secret_key;
    so.session_token = conf->session_token;
    so.timeout_ms = (long)o->request_timeout;
    /* Half the descriptors kept from the files: requests past that wait
     * for a connection instead of failing with EMFILE. */
    so.max_connections = reserve == 0 ? 0 : (long)(reserve / 2 < 4 ? 4
                                                   : reserve / 2);
    so.ca_file = o->ca_file ? o->ca_file : getenv("AWS_CA_BUNDLE");
    if (so.ca_file != NULL && so.ca_file[0] == '\0')
        so.ca_file = NULL;
    rc = floe_sender_create(&so, &sender, err);
    if (rc != FLOE_OK) {
        floe_log_error("%s", err);
        rc = rc == FLOE_EINVAL ? FLOE_EINVAL : rc;
        goto cleanup;
    }
    rc = floe_metrics_create(&metrics);
    if (rc == FLOE_OK)
        rc = floe_stats_agent(metrics, &ag);
    if (rc != FLOE_OK)
        goto cleanup;
    floe_gauge_set(ag.buffered_limit, o->max_buffered);
    flows = calloc(nflows, sizeof(*flows));
    if (flows == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    for (i = 0; i < nflows; i++) {
        rc = floe_flow_init(&flows[i], &conf->flows[i], &sh, ck, metrics,
                            err);
        if (rc != FLOE_OK) {
            floe_log_error("%s", err);
            nflows = i; /* only the ones set up are freed */
            goto cleanup;
        }
    }
    rescan = calloc(nflows, sizeof(*rescan));
    rc = rescan ? floe_watch_open(&w, nflows) : FLOE_ENOMEM;
    if (rc != FLOE_OK)
        goto cleanup;
    for (i = 0; i < nflows; i++)
        floe_watch_add(&w, i, flows[i].tail.dir);
    floe_log_info("agent started: %zu flow(s) to %s (region %s, %s), "
                  "checkpoints in %s", nflows, floe_sender_url(sender),
                  floe_sender_region(sender),
                  conf->access_key ? "SigV4-signed" : "unsigned", ckpath);
    for (i = 0; i < nflows; i++) {
        rc = floe_flow_scan(&flows[i], floe_mono_ms());
        if (rc != FLOE_OK)
            goto cleanup;
    }
    gauges(flows, nflows, &sh, &ag);
    rc = serve(o, metrics, &msrv);
    if (rc != FLOE_OK)
        goto cleanup;
    next_expiry = start + EXPIRY_MS;
    next_progress = start + (o->progress_interval > 0 ? o->progress_interval
                                                      : INT64_MAX / 4);
    while (!stop_signal) {
        int64_t now, wake;
        bool busy = false, drained = true, ready;

        floe_sender_perform(sender, floe_flow_on_done, NULL);
        now = floe_mono_ms();
        for (i = 0; i < nflows; i++) {
            struct floe_flow *f = &flows[i];
            size_t nread = 0;
            bool did = false;

            if (now >= f->next_scan_ms || rescan[i]) {
                rescan[i] = false;
                floe_watch_add(&w, i, f->tail.dir);
                rc = floe_flow_scan(f, now);
                if (rc != FLOE_OK)
                    goto cleanup;
            }
            rc = floe_flow_read(f, now, READ_BUDGET, &nread);
            if (rc != FLOE_OK) {
                floe_log_error("%s: reading failed (%s)", f->cfg->id,
                               floe_strerror(rc));
                goto cleanup;
            }
            busy = busy || nread > 0;
            /* In batch mode a buffer closes as soon as the files are
             * read; otherwise by size, age or memory pressure. */
            floe_flow_close_due(f, floe_mono_ms(),
                                o->exit_at_eof && nread == 0);
            floe_flow_pump(f, sender, floe_mono_ms(), &did);
            busy = busy || did;
            if (f->qhead == NULL && (f->open == NULL || f->open->n == 0))
                floe_tail_prune(&f->tail);
            drained = drained && floe_flow_drained(f);
        }
        gauges(flows, nflows, &sh, &ag);
        now = floe_mono_ms();
        if (now >= next_expiry) {
            expire_checkpoints(ck, conf->checkpoint_ttl_days);
            next_expiry = now + EXPIRY_MS;
        }
        if (now >= next_progress) {
            progress(flows, nflows, start);
            for (i = 0; i < nflows; i++)
                tailer_progress(&flows[i]);
            next_progress = now + o->progress_interval;
        }
        if (o->exit_at_eof && drained) {
            /* Look once more for files that appeared meanwhile. */
            bool still = true;

            for (i = 0; i < nflows; i++) {
                rc = floe_flow_scan(&flows[i], now);
                if (rc != FLOE_OK)
                    goto cleanup;
                still = still && floe_flow_drained(&flows[i]);
            }
            if (still)
                break;
            continue;
        }
        if (busy)
            continue;
        /* Sleep on the sockets in flight and inotify together. Watched
         * directories wake us on any write; unwatched ones are polled
         * every minTimeBetweenFilePollsMillis (the fallback). A watched
         * flow still looks once a second (files on network file systems
         * may not raise events). */
        wake = now + (floe_watch_all(&w) ? 1000 : 100);
        for (i = 0; i < nflows; i++) {
            int64_t d = floe_flow_deadline(&flows[i]);
            int64_t poll_at = now + flows[i].cfg->poll_ms;

            if (d < wake)
                wake = d;
            if (w.wd[i] < 0 && poll_at < wake)
                wake = poll_at;
        }
        if (wake > now) {
            floe_sender_wait(sender, w.fd, (int)(wake - now), &ready);
            if (ready)
                floe_watch_read(&w, rescan);
        }
    }
    if (stop_signal)
        drain(sender, DRAIN_MS);
    progress(flows, nflows, start);
    for (i = 0; i < nflows; i++)
        tailer_progress(&flows[i]);
    if (stop_signal)
        floe_log_info("stopping on signal %d; unacknowledged records will be "
                      "read again from the checkpoint", (int)stop_signal);
    else
        floe_log_info("every file read and every record acknowledged; "
                      "exiting (--exit-at-eof)");
    rc = FLOE_OK;
cleanup:
    floe_stats_server_stop(msrv); /* before the registry it renders */
    for (i = 0; flows != NULL && i < nflows; i++)
        floe_flow_free(&flows[i]);
    free(flows);
    floe_flow_shared_free(&sh);
    floe_watch_close(&w);
    free(rescan);
    floe_sender_destroy(sender);
    floe_ckpt_close(ck);
    free(rejects);
    floe_metrics_destroy(metrics);
    return rc;
}

/* The flows come from agent.json (--config) or from floe.yaml's
 * agent.flows. Both in the same floe.yaml section is an error; a --config
 * from the command line or the environment wins over the file, as every
 * option does. The YAML list is turned into the agent.json text it
 * stands for, so both go through the same checks and warnings. */
static int load_conf(const struct agent_opts *o, bool announce,
                     struct floe_agent_conf *c, char *err)
{
    const struct floe_config_map *sect =
        floe_config_section(floe_config_current(), "agent");
    bool yaml = floe_config_kind(sect, "flows") != FLOE_CONFIG_ABSENT;
    struct floe_buf json;
    char why[FLOE_ERR_LEN];
    int rc;

    if (!yaml && o->config == NULL)
        return floe_err(err, FLOE_EINVAL, "no flows: give --config "
                        "agent.json, or list them in floe.yaml under "
                        "agent: flows: (see 'floe agent --help')");
    if (yaml && floe_config_kind(sect, "config") != FLOE_CONFIG_ABSENT)
        return floe_err(err, FLOE_EINVAL, "%s:%d: agent: 'flows' and "
                        "'config' both give flows: keep one",
                        floe_config_file(sect),
                        floe_config_line(sect, "flows"));
    if (o->config != NULL) {
        if (announce)
            floe_log_info("flows from %s%s", o->config,
                          yaml ? " (--config wins over floe.yaml "
                                 "agent.flows)"
                               : "");
        return floe_agent_conf_load(o->config, c, err);
    }
    if (announce)
        floe_log_info("flows from %s:%d (agent.flows)",
                      floe_config_file(sect), floe_config_line(sect, "flows"));
    floe_buf_init(&json, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&json, "{\"flows\":");
    if (rc == FLOE_OK)
        rc = floe_config_json(sect, "flows", &json);
    if (rc == FLOE_OK)
        rc = floe_buf_addc(&json, '}');
    if (rc != FLOE_OK)
        rc = floe_err(err, rc, "out of memory");
    else if ((rc = floe_agent_conf_parse(json.data, json.len, c, why)) !=
             FLOE_OK)
        floe_err(err, rc, "%s:%d: agent.flows: %s", floe_config_file(sect),
                 floe_config_line(sect, "flows"), why);
    floe_buf_free(&json);
    return rc;
}

/* floe config --check: the flows too, if the file gives them (else they
 * come with -c when the agent runs). */
static int check_flows(const void *cfg, char *err)
{
    const struct agent_opts *o = cfg;
    struct floe_agent_conf conf;
    int rc;

    if (o->config == NULL &&
        floe_config_kind(floe_config_section(floe_config_current(), "agent"),
                         "flows") == FLOE_CONFIG_ABSENT)
        return FLOE_OK;
    memset(&conf, 0, sizeof(conf));
    rc = load_conf(o, false, &conf, err);
    floe_agent_conf_free(&conf);
    return rc;
}

int floe_agent_main(int argc, char **argv)
{
    struct agent_opts o;
    struct floe_agent_conf conf;
    char err[FLOE_ERR_LEN] = "";
    char **args = NULL;
    int rc, status;
    struct sigaction sa;

    memset(&o, 0, sizeof(o));
    memset(&conf, 0, sizeof(conf));
    args = rewrite_short(argc, argv);
    if (args == NULL) {
        fprintf(stderr, "floe agent: out of memory\n");
        return 1;
    }
    status = floe_opt_main(&agent_cmd, &o, argc, args, NULL);
    if (status != FLOE_OPT_GO)
        goto cleanup;
    rc = load_conf(&o, true, &conf, err);
    if (rc == FLOE_OK)
        rc = floe_agent_conf_env(&conf);
    if (rc != FLOE_OK) {
        fprintf(stderr, "floe agent: %s\n", err[0] ? err : floe_strerror(rc));
        status = 2;
        goto cleanup;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = run(&o, &conf);
    status = rc == FLOE_OK ? 0 : rc == FLOE_EINVAL ? 2 : 1;
cleanup:
    floe_agent_conf_free(&conf);
    floe_opt_free(agent_opts, &o);
    free(args);
    return status;
}
