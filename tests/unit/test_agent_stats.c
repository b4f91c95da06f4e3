/* test_agent_stats.c - agent metrics: label values escaped, every per-flow
 * series registered with flow and stream labels and rendered with its
 * value, and the /metrics server answering GET (200), other paths (404)
 * and other methods (405) over a real socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/stats.h"
#include "core/log.h"
#include "test.h"

static void test_label_escape(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "plain", "plain" },
        { "a\"b", "a\\\"b" },
        { "c:\\dir\\x.log", "c:\\\\dir\\\\x.log" },
        { "two\nlines", "two\\nlines" },
        { "caf\xc3\xa9", "caf\xc3\xa9" },
        { "", "" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_buf b;

        floe_buf_init(&b, 1024);
        CHECK(floe_stats_label_value(&b, cases[i].in) == FLOE_OK);
        CHECK(strcmp(b.data ? b.data : "", cases[i].out) == 0);
        floe_buf_free(&b);
    }
}

static void test_flow_series_render(void)
{
    struct floe_metrics *m = NULL;
    struct floe_flow_stats st, again;
    struct floe_agent_gauges g;
    struct floe_buf out;

    CHECK(floe_metrics_create(&m) == FLOE_OK);
    CHECK(floe_stats_agent(m, &g) == FLOE_OK);
    CHECK(floe_stats_flow(m, "fh:o\"x:/l/a.log*", "o\"x", &st) == FLOE_OK);
    CHECK(st.parsed && st.sent && st.failed && st.latency && st.behind &&
          st.open_files && st.queued && st.fail_network && st.commits);
    /* Registering the same flow again finds the same series. */
    CHECK(floe_stats_flow(m, "fh:o\"x:/l/a.log*", "o\"x", &again) ==
          FLOE_OK);
    CHECK(again.sent == st.sent && again.latency == st.latency);
    floe_counter_add(st.sent, 1234);
    floe_counter_add(st.fail_partial, 2);
    floe_gauge_set(st.behind, 77);
    floe_gauge_set(g.buffered, 4096);
    floe_histogram_observe(st.latency, 0.003);
    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_metrics_render(m, &out) == FLOE_OK);
    CHECK(strstr(out.data, "\nfloe_agent_records_sent_total{flow=\"fh:o\\\"x:"
                           "/l/a.log*\",stream=\"o\\\"x\"} 1234\n") != NULL);
    CHECK(strstr(out.data, "stream=\"o\\\"x\",kind=\"partial\"} 2\n") != NULL);
    CHECK(strstr(out.data, "stream=\"o\\\"x\",kind=\"http\"} 0\n") != NULL);
    CHECK(strstr(out.data, "floe_agent_bytes_behind{") != NULL);
    CHECK(strstr(out.data, "\"} 77\n") != NULL);
    CHECK(strstr(out.data, "floe_agent_buffered_bytes 4096\n") != NULL);
    CHECK(strstr(out.data, "le=\"0.0025\"} 0\n") != NULL);
    CHECK(strstr(out.data, "le=\"0.005\"} 1\n") != NULL);
    /* One HELP/TYPE per family, not per series. */
    {
        const char *t = "# TYPE floe_agent_put_failures_total counter\n";
        const char *p = strstr(out.data, t);

        CHECK(p != NULL && strstr(p + 1, t) == NULL);
    }
    floe_buf_free(&out);
    floe_metrics_destroy(m);
}

/* One HTTP/1.0 exchange with the server; the whole answer in `out`. */
static void exchange(int port, const char *req, char *out, size_t cap)
{
    struct sockaddr_in a;
    size_t len = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out[0] = '\0';
    CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    while (len + 1 < cap && (n = read(fd, out + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fd);
}

static void test_server(void)
{
    struct floe_metrics *m = NULL;
    struct floe_stats_server *s = NULL;
    struct floe_flow_stats st;
    char err[FLOE_ERR_LEN] = "", resp[65536];
    int port;

    CHECK(floe_metrics_create(&m) == FLOE_OK);
    CHECK(floe_stats_flow(m, "f1", "s1", &st) == FLOE_OK);
    floe_counter_add(st.parsed, 5);
    CHECK(floe_stats_server_start(m, "127.0.0.1", 0, &s, err) == FLOE_OK);
    port = floe_stats_server_port(s);
    CHECK(port > 0);
    exchange(port, "GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    CHECK(strncmp(resp, "HTTP/1.0 200", 12) == 0 ||
          strncmp(resp, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(resp, "text/plain; version=0.0.4") != NULL);
    CHECK(strstr(resp, "floe_agent_records_parsed_total{flow=\"f1\","
                       "stream=\"s1\"} 5\n") != NULL);
    exchange(port, "GET /other HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    CHECK(strstr(resp, " 404 ") != NULL);
    exchange(port, "DELETE /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    CHECK(strstr(resp, " 405 ") != NULL);
    floe_stats_server_stop(s);
    floe_metrics_destroy(m);
}

static void quiet(void)
{
    floe_log_level = FLOE_LOG_ERROR;
}

FLOE_TESTS({ "quiet", quiet },
           { "label_escape", test_label_escape },
           { "flow_series_render", test_flow_series_render },
           { "server", test_server });
