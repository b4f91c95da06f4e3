/* metrics.h - counters, gauges and histograms with Prometheus exposition.
 * A registry owns its metrics; registering returns a stable pointer the
 * hot path updates with one relaxed atomic add (no locks, no lookups).
 * Rendering takes the registry lock only to walk the list. Names follow
 * Prometheus rules (floe_firehose_records_total); `labels` is the label
 * set as text without braces ('stream="orders",result="ok"') or NULL. */
#ifndef FLOE_METRICS_METRICS_H
#define FLOE_METRICS_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define FLOE_METRICS_MAX_BUCKETS 16

struct floe_metrics;

struct floe_counter {
    _Atomic uint64_t v;
};

struct floe_gauge {
    _Atomic int64_t v;
};

struct floe_histogram {
    size_t nbounds;
    double bounds[FLOE_METRICS_MAX_BUCKETS]; /* upper bounds, ascending */
    _Atomic uint64_t counts[FLOE_METRICS_MAX_BUCKETS + 1]; /* last: +Inf */
    _Atomic uint64_t sum_micros; /* sum of observations x 1e6 */
};

/* On FLOE_OK *out is owned by the caller (floe_metrics_destroy). */
int floe_metrics_create(struct floe_metrics **out);
void floe_metrics_destroy(struct floe_metrics *m); /* NULL is a no-op */

/* Register (or find, if the same name+labels exists) a metric. The
 * pointer lives as long as the registry. `name`, `labels`, `help` are
 * copied. NULL when out of memory or the name is invalid. */
struct floe_counter *floe_metrics_counter(struct floe_metrics *m,
                                          const char *name,
                                          const char *labels,
                                          const char *help);
struct floe_gauge *floe_metrics_gauge(struct floe_metrics *m,
                                      const char *name, const char *labels,
                                      const char *help);
/* `bounds` (borrowed, ascending, at most FLOE_METRICS_MAX_BUCKETS). */
struct floe_histogram *floe_metrics_histogram(struct floe_metrics *m,
                                              const char *name,
                                              const char *labels,
                                              const char *help,
                                              const double *bounds,
                                              size_t nbounds);

static inline void floe_counter_add(struct floe_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

static inline uint64_t floe_counter_get(struct floe_counter *c)
{
    return atomic_load_explicit(&c->v, memory_order_relaxed);
}

static inline void floe_gauge_set(struct floe_gauge *g, int64_t v)
{
    atomic_store_explicit(&g->v, v, memory_order_relaxed);
}

static inline void floe_gauge_add(struct floe_gauge *g, int64_t d)
{
    atomic_fetch_add_explicit(&g->v, d, memory_order_relaxed);
}

static inline int64_t floe_gauge_get(struct floe_gauge *g)
{
    return atomic_load_explicit(&g->v, memory_order_relaxed);
}

void floe_histogram_observe(struct floe_histogram *h, double value);

/* Append the Prometheus text exposition (format 0.0.4) to `out`. */
int floe_metrics_render(struct floe_metrics *m, struct floe_buf *out);

#define FLOE_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
