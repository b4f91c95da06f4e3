/* stats.h - the agent's metrics: per-flow counters and gauges registered
 * in a floe_metrics registry (labels flow="<flow id>",stream="<name>"),
 * agent-wide gauges, and the optional GET /metrics server (Prometheus
 * text, the libmicrohttpd polling thread). The agent loop updates counters
 * with relaxed atomic adds; the server threads only render. */
#ifndef FLOE_AGENT_STATS_H
#define FLOE_AGENT_STATS_H

#include <stddef.h>

#include "core/buf.h"
#include "metrics/metrics.h"

/* One flow's metrics; every pointer lives as long as the registry. */
struct floe_flow_stats {
    struct floe_counter *parsed;        /* records read (incl. skipped) */
    struct floe_counter *parsed_bytes;  /* bytes of those records */
    struct floe_counter *skipped;       /* records a converter dropped */
    struct floe_counter *sent;          /* records acknowledged */
    struct floe_counter *sent_bytes;    /* bytes of those (as sent) */
    struct floe_counter *failed;        /* record send errors (per try) */
    struct floe_counter *bytes_read;    /* bytes read from files */
    struct floe_counter *lines_skipped; /* header lines, runaway rests */
    struct floe_counter *truncated;     /* records cut at the limit */
    struct floe_counter *puts;          /* PutRecordBatch requests */
    struct floe_counter *retries;       /* requests resending a batch */
    struct floe_counter *fail_partial;  /* answered, some rejected */
    struct floe_counter *fail_http;     /* error status or bad answer */
    struct floe_counter *fail_network;  /* no answer */
    struct floe_counter *commits;       /* checkpoint commits */
    struct floe_counter *commit_errors; /* checkpoint commits that failed */
    struct floe_histogram *latency;     /* PutRecordBatch seconds */
    struct floe_gauge *behind;          /* bytes on disk not yet read */
    struct floe_gauge *open_files;      /* files with an open descriptor */
    struct floe_gauge *queued;          /* closed buffers not in flight */
    struct floe_gauge *in_flight;       /* PutRecordBatch requests out */
    struct floe_gauge *window;          /* requests allowed out at once */
    struct floe_counter *rejected;      /* records refused even alone */
    struct floe_gauge *unsaved;         /* acknowledged, not checkpointed */
};

/* Agent-wide gauges. */
struct floe_agent_gauges {
    struct floe_gauge *buffered;        /* bytes held by record buffers */
    struct floe_gauge *buffered_limit;  /* --max-buffered-bytes */
};

/* Register the metrics of flow `flow_id` sending to `stream` (both
 * borrowed; label values are escaped). FLOE_ENOMEM. */
int floe_stats_flow(struct floe_metrics *m, const char *flow_id,
                    const char *stream, struct floe_flow_stats *out);
/* Register the agent-wide gauges. FLOE_ENOMEM. */
int floe_stats_agent(struct floe_metrics *m, struct floe_agent_gauges *out);

/* Append `s` to `out` escaped as a Prometheus label value (\\, \", \n). */
int floe_stats_label_value(struct floe_buf *out, const char *s);

struct floe_stats_server;

/* Serve GET /metrics of `m` (borrowed; must outlive the server) on
 * `bind`:`port` (0 picks a free port). On FLOE_OK *out is owned by the
 * caller (floe_stats_server_stop); err says why otherwise. */
int floe_stats_server_start(struct floe_metrics *m, const char *bind,
                            int port, struct floe_stats_server **out,
                            char *err);
/* The port actually listened on. */
int floe_stats_server_port(const struct floe_stats_server *s);
void floe_stats_server_stop(struct floe_stats_server *s); /* NULL ok */

#endif
