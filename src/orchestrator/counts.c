/* counts.c - warehouse counts and DAG summaries: sum, JSON, text.
 * One table names every field of struct floe_wh_counts, so the JSON kept
 * in task_runs, the --json summary and the progress lines cannot drift
 * apart when a count is added. */
#include "orchestrator/dag.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

#define WH_FIELD(f) { #f, offsetof(struct floe_wh_counts, f) }
static const struct {
    const char *name;
    size_t off;
} wh_fields[] = {
    WH_FIELD(objects), WH_FIELD(raw_orders), WH_FIELD(raw_customers),
    WH_FIELD(new_orders), WH_FIELD(duplicate_orders),
    WH_FIELD(new_customer_versions), WH_FIELD(duplicate_customers),
    WH_FIELD(quarantined_orders), WH_FIELD(quarantined_customers),
    WH_FIELD(enriched_orders), WH_FIELD(parquet_files),
};
#define N_WH_FIELDS (sizeof(wh_fields) / sizeof(wh_fields[0]))

static int64_t *wh_at(struct floe_wh_counts *c, size_t i)
{
    return (int64_t *)(void *)((char *)c + wh_fields[i].off);
}

static int64_t wh_get(const struct floe_wh_counts *c, size_t i)
{
    return *(const int64_t *)(const void *)((const char *)c +
                                            wh_fields[i].off);
}

int floe_dag_counts_json(const struct floe_wh_counts *c, struct floe_buf *out)
{
    size_t i;
    int rc = floe_buf_addc(out, '{');

    for (i = 0; rc == FLOE_OK && i < N_WH_FIELDS; i++)
        rc = floe_buf_addf(out, "%s\"%s\":%lld", i ? "," : "",
                           wh_fields[i].name, (long long)wh_get(c, i));
    return rc ? rc : floe_buf_addc(out, '}');
}

void floe_dag_counts_text(const struct floe_wh_counts *w, char *out,
                          size_t n)
{
    size_t i, len = 0;

    out[0] = '\0';
    for (i = 0; i < N_WH_FIELDS && len + 1 < n; i++) {
        if (wh_get(w, i) == 0)
            continue;
        int k = snprintf(out + len, n - len, "%s%s=%lld", len ? " " : "",
                         wh_fields[i].name, (long long)wh_get(w, i));
        if (k < 0)
            break;
        len += (size_t)k < n - len ? (size_t)k : n - len - 1;
    }
}

void floe_dag_counts_add(struct floe_wh_counts *dst,
                         const struct floe_wh_counts *src)
{
    size_t i;

    for (i = 0; i < N_WH_FIELDS; i++)
        *wh_at(dst, i) += wh_get(src, i);
}

void floe_dag_summary_add(struct floe_dag_summary *dst,
                          const struct floe_dag_summary *src)
{
    dst->batches += src->batches;
    dst->claimed += src->claimed;
    dst->objects += src->objects;
    dst->bytes += src->bytes;
    dst->failed += src->failed;
    dst->skipped += src->skipped;
    /* Landing is a snapshot: the latest one wins. */
    dst->landing_errors = src->landing_errors;
    dst->unknown = src->unknown;
    dst->pending = src->pending;
    dst->pending_bytes = src->pending_bytes;
    floe_dag_counts_add(&dst->counts, &src->counts);
    if (src->failed_batch[0] != '\0') {
        memcpy(dst->failed_batch, src->failed_batch,
               sizeof(dst->failed_batch));
        memcpy(dst->failed_task, src->failed_task, sizeof(dst->failed_task));
        memcpy(dst->error, src->error, sizeof(dst->error));
    }
    if (src->last_batch[0] != '\0')
        memcpy(dst->last_batch, src->last_batch, sizeof(dst->last_batch));
}
