/* stats.c - agent metric registration and the GET /metrics server
 * (stats.h). Names follow Prometheus conventions: floe_agent_*_total for
 * counters, base units (bytes, seconds). The server renders the registry
 * on its own thread; everything it reads is atomic. */
#define FLOE_LOG_MOD "agent.metrics"
#include "agent/stats.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "http/server.h"

int floe_stats_label_value(struct floe_buf *out, const char *s)
{
    int rc = FLOE_OK;

    for (; rc == FLOE_OK && *s != '\0'; s++) {
        if (*s == '\\')
            rc = floe_buf_add(out, "\\\\", 2);
        else if (*s == '"')
            rc = floe_buf_add(out, "\\\"", 2);
        else if (*s == '\n')
            rc = floe_buf_add(out, "\\n", 2);
        else
            rc = floe_buf_addc(out, *s);
    }
    return rc;
}

/* Seconds: 1 ms .. 60 s, as a slow or retrying endpoint needs. */
static const double latency_bounds[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5,   1,      2.5,   5,    10,    30,    60,
};

#define S(m) offsetof(struct floe_flow_stats, m)
/* Per-flow series: field, name, extra label (or NULL), kind, help. The
 * members of a family after the first have no help of their own. */
static const struct {
    size_t off;
    const char *name, *extra;
    char kind; /* 'c' counter, 'g' gauge, 'h' latency histogram */
    const char *help;
} flow_series[] = {
    { S(parsed), "floe_agent_records_parsed_total", NULL, 'c',
      "Records read from files (including those a converter skipped)." },
    { S(parsed_bytes), "floe_agent_records_parsed_bytes_total", NULL, 'c',
      "Bytes of the records read from files, before conversion." },
    { S(skipped), "floe_agent_records_skipped_total", NULL, 'c',
      "Records a data processing option dropped (LOGTOJSON no match)." },
    { S(sent), "floe_agent_records_sent_total", NULL, 'c',
      "Records acknowledged by Firehose (a RecordId came back)." },
    { S(sent_bytes), "floe_agent_bytes_sent_total", NULL, 'c',
      "Bytes of acknowledged records, as sent (after conversion)." },
    { S(failed), "floe_agent_records_failed_total", NULL, 'c',
      "Record send errors: records rejected in a partial failure or in a "
      "failed request; each try counts (they are retried)." },
    { S(bytes_read), "floe_agent_bytes_read_total", NULL, 'c',
      "Bytes read from the files." },
    { S(lines_skipped), "floe_agent_lines_skipped_total", NULL, 'c',
      "Lines dropped while reading: skipHeaderLines and the rest of a "
      "runaway multi-line record." },
    { S(truncated), "floe_agent_records_truncated_total", NULL, 'c',
      "Records cut at the 1,024,000-byte record limit "
      "(truncatedRecordTerminator appended)." },
    { S(puts), "floe_agent_put_requests_total", NULL, 'c',
      "PutRecordBatch requests made." },
    { S(retries), "floe_agent_put_retries_total", NULL, 'c',
      "PutRecordBatch requests that resent (part of) a buffer." },
    { S(fail_partial), "floe_agent_put_failures_total", "kind=\"partial\"",
      'c', "PutRecordBatch requests that did not get every record in: "
      "partial (FailedPutCount > 0), http (error status or a bad answer), "
      "network (no answer)." },
    { S(fail_http), "floe_agent_put_failures_total", "kind=\"http\"", 'c',
      NULL },
    { S(fail_network), "floe_agent_put_failures_total", "kind=\"network\"",
      'c', NULL },
    { S(commits), "floe_agent_checkpoint_commits_total", NULL, 'c',
      "Checkpoint commits: one each time the acknowledged prefix of "
      "buffers grows (buffers acknowledged together share one)." },
    { S(commit_errors), "floe_agent_checkpoint_errors_total", NULL, 'c',
      "Checkpoint commits that failed (those records may be sent again "
      "after a restart)." },
    { S(latency), "floe_agent_put_latency_seconds", NULL, 'h',
      "PutRecordBatch round trips (answered or not), seconds." },
    { S(behind), "floe_agent_bytes_behind", NULL, 'g',
      "Bytes in the flow's files not yet read (lag behind the file end)." },
    { S(open_files), "floe_agent_open_files", NULL, 'g',
      "Files the flow holds open (tailing, or rotated and not done)." },
    { S(queued), "floe_agent_queued_buffers", NULL, 'g',
      "Closed buffers not in flight: waiting to be sent (or resent), or "
      "acknowledged and waiting for an older one before their checkpoint." },
    { S(in_flight), "floe_agent_requests_in_flight", NULL, 'g',
      "PutRecordBatch requests sent and not yet answered." },
    { S(window), "floe_agent_requests_window", NULL, 'g',
      "Requests the flow may have in flight now: grows while answers come "
      "back fine, halves on throttling, at most --max-in-flight." },
    { S(unsaved), "floe_agent_records_acked_unsaved", NULL, 'g',
      "Records acknowledged but not yet covered by the checkpoint (an "
      "older buffer is still on its way): at most what a crash now would "
      "send twice." },
    { S(rejected), "floe_agent_records_rejected_total", NULL, 'c',
      "Records the endpoint refused as too large even alone; kept with "
      "their reason in the rejects file beside the checkpoints." },
};

/* Append key="<escaped value>". */
static int label(struct floe_buf *b, const char *key, const char *value)
{
    int rc = floe_buf_addf(b, "%s%s=\"", b->len > 0 ? "," : "", key);

    if (rc == FLOE_OK)
        rc = floe_stats_label_value(b, value);
    return rc == FLOE_OK ? floe_buf_addc(b, '"') : rc;
}

int floe_stats_flow(struct floe_metrics *m, const char *flow_id,
                    const char *stream, struct floe_flow_stats *out)
{
    struct floe_buf base, l;
    size_t i, nb = sizeof(latency_bounds) / sizeof(latency_bounds[0]);
    int rc;

    memset(out, 0, sizeof(*out));
    floe_buf_init(&base, 1 << 16);
    floe_buf_init(&l, 1 << 16);
    rc = label(&base, "flow", flow_id);
    if (rc == FLOE_OK)
        rc = label(&base, "stream", stream);
    for (i = 0; rc == FLOE_OK && i < sizeof(flow_series) /
                                         sizeof(flow_series[0]); i++) {
        void *p;

        floe_buf_reset(&l);
        rc = floe_buf_add(&l, base.data, base.len);
        if (rc == FLOE_OK && flow_series[i].extra != NULL)
            rc = floe_buf_addf(&l, ",%s", flow_series[i].extra);
        if (rc != FLOE_OK)
            break;
        if (flow_series[i].kind == 'c')
            p = floe_metrics_counter(m, flow_series[i].name, l.data,
                                     flow_series[i].help);
        else if (flow_series[i].kind == 'g')
            p = floe_metrics_gauge(m, flow_series[i].name, l.data,
                                   flow_series[i].help);
        else
            p = floe_metrics_histogram(m, flow_series[i].name, l.data,
                                       flow_series[i].help, latency_bounds,
                                       nb);
        /* Every field is a pointer to the kind's struct: same
         * representation as void * on every platform we build for. */
        memcpy((char *)out + flow_series[i].off, &p, sizeof(p));
        if (p == NULL)
            rc = FLOE_ENOMEM;
    }
    floe_buf_free(&base);
    floe_buf_free(&l);
    return rc;
}

int floe_stats_agent(struct floe_metrics *m, struct floe_agent_gauges *out)
{
    out->buffered = floe_metrics_gauge(
        m, "floe_agent_buffered_bytes", NULL,
        "Bytes held by record buffers (read, not yet acknowledged), all "
        "flows.");
    out->buffered_limit = floe_metrics_gauge(
        m, "floe_agent_buffered_bytes_limit", NULL,
        "--max-buffered-bytes: above it files are not read.");
    return out->buffered && out->buffered_limit ? FLOE_OK : FLOE_ENOMEM;
}

struct floe_stats_server {
    struct floe_http_server *srv;
    struct floe_metrics *m;
};

static void handle(void *ud, const struct floe_http_req *req,
                   struct floe_http_resp *resp)
{
    struct floe_stats_server *s = ud;
    bool get = strcmp(req->method, "GET") == 0;

    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             "text/plain; charset=utf-8");
    if (strcmp(req->path, "/metrics") != 0) {
        resp->status = 404;
        floe_buf_adds(&resp->body, "not found; metrics are GET /metrics\n");
        return;
    }
    if (!get && strcmp(req->method, "HEAD") != 0) {
        resp->status = 405;
        floe_http_resp_header(resp, "Allow", "GET, HEAD");
        floe_buf_adds(&resp->body, "use GET /metrics\n");
        return;
    }
    snprintf(resp->content_type, sizeof(resp->content_type), "%s",
             FLOE_METRICS_CONTENT_TYPE);
    if (floe_metrics_render(s->m, &resp->body) != FLOE_OK) {
        resp->status = 500;
        floe_buf_reset(&resp->body);
        floe_buf_adds(&resp->body, "metrics too large to render\n");
    }
}

int floe_stats_server_start(struct floe_metrics *m, const char *bind,
                            int port, struct floe_stats_server **out,
                            char *err)
{
    struct floe_http_server_cfg cfg;
    struct floe_stats_server *s;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return FLOE_ENOMEM;
    s->m = m;
    memset(&cfg, 0, sizeof(cfg));
    cfg.bind = bind;
    cfg.port = port;
    /* Scrapes are rare and cheap: the polling thread alone serves them. */
    cfg.threads = 1;
    cfg.max_body = 4096;    /* GET has none */
    cfg.max_resp = 16u << 20;
    cfg.timeout_s = 30;
    rc = floe_http_server_start(&cfg, handle, s, &s->srv, err);
    if (rc != FLOE_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return FLOE_OK;
}

int floe_stats_server_port(const struct floe_stats_server *s)
{
    return floe_http_server_port(s->srv);
}

void floe_stats_server_stop(struct floe_stats_server *s)
{
    if (s == NULL)
        return;
    floe_http_server_stop(s->srv);
    free(s);
}
