/* test_metrics.c - registry and Prometheus exposition. */
#include "metrics/metrics.h"
#include "test.h"

static void test_counters_families_and_text(void)
{
    struct floe_metrics *m = NULL;
    struct floe_counter *ok, *bad, *again;
    struct floe_gauge *depth;
    struct floe_buf b;

    CHECK(floe_metrics_create(&m) == FLOE_OK);
    ok = floe_metrics_counter(m, "floe_requests_total", "result=\"ok\"",
                              "Requests by result.");
    depth = floe_metrics_gauge(m, "floe_buffer_bytes", NULL, "Buffered.");
    bad = floe_metrics_counter(m, "floe_requests_total", "result=\"error\"",
                               "Requests by result.");
    again = floe_metrics_counter(m, "floe_requests_total", "result=\"ok\"",
                                 "Requests by result.");
    CHECK(ok && bad && depth && again == ok);
    CHECK(floe_metrics_counter(m, "9bad name", NULL, "x") == NULL);
    floe_counter_add(ok, 3);
    floe_counter_add(bad, 1);
    floe_gauge_set(depth, 42);
    floe_gauge_add(depth, -2);
    floe_buf_init(&b, 1 << 16);
    CHECK(floe_metrics_render(m, &b) == FLOE_OK);
    CHECK(strcmp(b.data,
                 "# HELP floe_requests_total Requests by result.\n"
                 "# TYPE floe_requests_total counter\n"
                 "floe_requests_total{result=\"ok\"} 3\n"
                 "floe_requests_total{result=\"error\"} 1\n"
                 "# HELP floe_buffer_bytes Buffered.\n"
                 "# TYPE floe_buffer_bytes gauge\n"
                 "floe_buffer_bytes 40\n") == 0);
    floe_buf_free(&b);
    floe_metrics_destroy(m);
}

static void test_histogram_buckets_are_cumulative(void)
{
    static const double bounds[] = { 0.001, 0.01, 0.1 };
    struct floe_metrics *m = NULL;
    struct floe_histogram *h;
    struct floe_buf b;

    CHECK(floe_metrics_create(&m) == FLOE_OK);
    h = floe_metrics_histogram(m, "floe_latency_seconds", "op=\"put\"",
                               "Latency.", bounds, 3);
    CHECK(h != NULL);
    floe_histogram_observe(h, 0.0005);
    floe_histogram_observe(h, 0.05);
    floe_histogram_observe(h, 3);
    floe_buf_init(&b, 1 << 16);
    CHECK(floe_metrics_render(m, &b) == FLOE_OK);
    CHECK(strstr(b.data, "floe_latency_seconds_bucket{op=\"put\","
                         "le=\"0.001\"} 1\n") != NULL);
    CHECK(strstr(b.data, "le=\"0.01\"} 1\n") != NULL);
    CHECK(strstr(b.data, "le=\"0.1\"} 2\n") != NULL);
    CHECK(strstr(b.data, "le=\"+Inf\"} 3\n") != NULL);
    CHECK(strstr(b.data, "floe_latency_seconds_count{op=\"put\"} 3\n") !=
          NULL);
    CHECK(strstr(b.data, "floe_latency_seconds_sum{op=\"put\"} 3.0505") !=
          NULL);
    floe_buf_free(&b);
    floe_metrics_destroy(m);
}

FLOE_TESTS({ "counters", test_counters_families_and_text },
           { "histogram", test_histogram_buckets_are_cumulative })
