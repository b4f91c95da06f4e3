/* counts.c - warehouse counts and DAG summaries: sum, JSON, text.
 * The warehouse's one table names every field of struct floe_wh_counts
 * (floe_wh_counts_name), so the JSON kept in task_runs, the --json
 * summary and the progress lines cannot drift apart when a count is
 * added. */
#include "orchestrator/dag.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

/* The warehouse names its counts (one table, in warehouse.c). */
#define N_WH_FIELDS floe_wh_counts_n()
#define WH_NAME(i) floe_wh_counts_name(i)

static int64_t *wh_at(struct floe_wh_counts *c, size_t i)
{
    return floe_wh_counts_field(c, WH_NAME(i));
}

static int64_t wh_get(const struct floe_wh_counts *c, size_t i)
{
    return *floe_wh_counts_field((struct floe_wh_counts *)c, WH_NAME(i));
}

int floe_dag_counts_json(const struct floe_wh_counts *c, struct floe_buf *out)
{
    size_t i;
    int rc = floe_buf_addc(out, '{');

    for (i = 0; rc == FLOE_OK && i < N_WH_FIELDS; i++)
        rc = floe_buf_addf(out, "%s\"%s\":%lld", i ? "," : "",
                           WH_NAME(i), (long long)wh_get(c, i));
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
                         WH_NAME(i), (long long)wh_get(w, i));
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
    memcpy(dst->unknown_streams, src->unknown_streams,
           sizeof(dst->unknown_streams));
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
