/* metrics.c - metric registry and Prometheus text rendering.
 * Metrics are kept in registration order, one heap node each, so pointers
 * handed out stay valid; families (same name) are rendered together with
 * one HELP/TYPE header, as the exposition format requires. */
#include "metrics/metrics.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum kind { COUNTER, GAUGE, HISTOGRAM };

struct node {
    struct node *next;
    enum kind kind;
    char *name, *labels, *help;
    union {
        struct floe_counter c;
        struct floe_gauge g;
        struct floe_histogram h;
    } u;
};

struct floe_metrics {
    pthread_mutex_t lock;
    struct node *head, *tail;
};

int floe_metrics_create(struct floe_metrics **out)
{
    struct floe_metrics *m = calloc(1, sizeof(*m));

    *out = NULL;
    if (m == NULL)
        return FLOE_ENOMEM;
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return FLOE_OK;
}

static void node_free(struct node *n)
{
    free(n->name);
    free(n->labels);
    free(n->help);
    free(n);
}

void floe_metrics_destroy(struct floe_metrics *m)
{
    struct node *n, *next;

    if (m == NULL)
        return;
    for (n = m->head; n != NULL; n = next) {
        next = n->next;
        node_free(n);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static bool valid_name(const char *s)
{
    if (s == NULL || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == ':'))
            return false;
    return true;
}

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static struct node *add(struct floe_metrics *m, enum kind kind,
                        const char *name, const char *labels,
                        const char *help)
{
    struct node *n;

    if (!valid_name(name))
        return NULL;
    pthread_mutex_lock(&m->lock);
    for (n = m->head; n != NULL; n = n->next)
        if (n->kind == kind && strcmp(n->name, name) == 0 &&
            same(n->labels, labels))
            goto out;
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        goto out;
    n->kind = kind;
    n->name = strdup(name);
    n->labels = labels ? strdup(labels) : NULL;
    n->help = strdup(help ? help : "");
    if (n->name == NULL || n->help == NULL || (labels && !n->labels)) {
        node_free(n);
        n = NULL;
        goto out;
    }
    if (m->tail != NULL)
        m->tail->next = n;
    else
        m->head = n;
    m->tail = n;
out:
    pthread_mutex_unlock(&m->lock);
    return n;
}

struct floe_counter *floe_metrics_counter(struct floe_metrics *m,
                                          const char *name,
                                          const char *labels,
                                          const char *help)
{
    struct node *n = add(m, COUNTER, name, labels, help);

    return n ? &n->u.c : NULL;
}

struct floe_gauge *floe_metrics_gauge(struct floe_metrics *m,
                                      const char *name, const char *labels,
                                      const char *help)
{
    struct node *n = add(m, GAUGE, name, labels, help);

    return n ? &n->u.g : NULL;
}

struct floe_histogram *floe_metrics_histogram(struct floe_metrics *m,
                                              const char *name,
                                              const char *labels,
                                              const char *help,
                                              const double *bounds,
                                              size_t nbounds)
{
    struct node *n;
    size_t i;

    if (nbounds > FLOE_METRICS_MAX_BUCKETS)
        return NULL;
    for (i = 1; i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    n = add(m, HISTOGRAM, name, labels, help);
    if (n == NULL)
        return NULL;
    if (n->u.h.nbounds == 0) { /* new: set the buckets once */
        n->u.h.nbounds = nbounds;
        memcpy(n->u.h.bounds, bounds, nbounds * sizeof(*bounds));
    }
    return &n->u.h;
}

void floe_histogram_observe(struct floe_histogram *h, double value)
{
    size_t i = 0;

    while (i < h->nbounds && value > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    if (value > 0)
        atomic_fetch_add_explicit(&h->sum_micros,
                                  (uint64_t)(value * 1e6),
                                  memory_order_relaxed);
}

static const char *type_name(enum kind k)
{
    return k == COUNTER ? "counter" : k == GAUGE ? "gauge" : "histogram";
}

static int labels_with(struct floe_buf *out, const char *labels,
                       const char *extra)
{
    if (labels == NULL && extra == NULL)
        return FLOE_OK;
    return floe_buf_addf(out, "{%s%s%s}", labels ? labels : "",
                         labels && extra ? "," : "", extra ? extra : "");
}

static int render_histogram(struct floe_buf *out, const struct node *n)
{
    const struct floe_histogram *h = &n->u.h;
    uint64_t cum = 0;
    char le[48];
    size_t i;
    int rc = FLOE_OK;

    for (i = 0; rc == FLOE_OK && i <= h->nbounds; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        if (i < h->nbounds)
            snprintf(le, sizeof(le), "le=\"%g\"", h->bounds[i]);
        else
            snprintf(le, sizeof(le), "le=\"+Inf\"");
        rc = floe_buf_addf(out, "%s_bucket", n->name);
        if (rc == FLOE_OK)
            rc = labels_with(out, n->labels, le);
        if (rc == FLOE_OK)
            rc = floe_buf_addf(out, " %llu\n", (unsigned long long)cum);
    }
    if (rc == FLOE_OK)
        rc = floe_buf_addf(out, "%s_sum", n->name);
    if (rc == FLOE_OK)
        rc = labels_with(out, n->labels, NULL);
    if (rc == FLOE_OK)
        rc = floe_buf_addf(out, " %.6f\n%s_count",
                           (double)atomic_load_explicit(
                               &h->sum_micros, memory_order_relaxed) / 1e6,
                           n->name);
    if (rc == FLOE_OK)
        rc = labels_with(out, n->labels, NULL);
    if (rc == FLOE_OK)
        rc = floe_buf_addf(out, " %llu\n", (unsigned long long)cum);
    return rc;
}

int floe_metrics_render(struct floe_metrics *m, struct floe_buf *out)
{
    struct node *n, *f;
    int rc = FLOE_OK;

    pthread_mutex_lock(&m->lock);
    for (n = m->head; rc == FLOE_OK && n != NULL; n = n->next) {
        /* A family is rendered at its first member only. */
        for (f = m->head; f != n; f = f->next)
            if (strcmp(f->name, n->name) == 0)
                break;
        if (f != n)
            continue;
        rc = floe_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", n->name,
                           n->help, n->name, type_name(n->kind));
        for (f = n; rc == FLOE_OK && f != NULL; f = f->next) {
            if (strcmp(f->name, n->name) != 0)
                continue;
            if (f->kind == HISTOGRAM) {
                rc = render_histogram(out, f);
                continue;
            }
            rc = floe_buf_adds(out, f->name);
            if (rc == FLOE_OK)
                rc = labels_with(out, f->labels, NULL);
            if (rc == FLOE_OK && f->kind == COUNTER)
                rc = floe_buf_addf(out, " %llu\n",
                                   (unsigned long long)floe_counter_get(
                                       &f->u.c));
            else if (rc == FLOE_OK)
                rc = floe_buf_addf(out, " %lld\n",
                                   (long long)floe_gauge_get(&f->u.g));
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}
