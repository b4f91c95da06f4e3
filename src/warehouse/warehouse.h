/* warehouse.h - the warehouse engine seam: load, transform, unload.
 * One batch at a time, every step idempotent by batch id: re-running a
 * step for a batch replaces what that batch wrote before, so the
 * orchestrator can retry any step. Engines (DuckDB embedded by default,
 * Snowflake later) each fill one struct floe_wh_engine; SQL models live in
 * src/warehouse/sql/ and are compiled into the binary.
 *
 * Batch objects come from the processing zone:
 *   processing/batch=<id>/<stream>/<original landing path...>
 * where <stream> is "orders" or "customers"; each object is a Firehose
 * delivery (gzip or plain) of newline-terminated JSON records.
 * Outputs go to the processed zone (see DESIGN.md "Zones").
 *
 * A batch id is 1-128 characters of [A-Za-z0-9._:=-], not starting with
 * '.' (anything else is FLOE_EINVAL). A handle runs one step at a time
 * (not thread-safe); the DuckDB file allows one process at a time. Errors:
 * FLOE_EREMOTE (the engine's SQL error text is in err), FLOE_EIO,
 * FLOE_ECORRUPT (bad gzip; counts that do not add up), FLOE_EINVAL. */
#ifndef FLOE_WAREHOUSE_WAREHOUSE_H
#define FLOE_WAREHOUSE_WAREHOUSE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct floe_wh;

/* Row counts a step reports (fields a step does not touch stay 0). */
struct floe_wh_counts {
    int64_t objects;             /* batch objects read by load */
    int64_t raw_orders;          /* lines loaded from orders objects */
    int64_t raw_customers;       /* lines loaded from customers objects */
    int64_t new_orders;          /* core.orders rows this batch added */
    int64_t duplicate_orders;    /* dropped: event_id seen before */
    int64_t new_customer_versions;
    int64_t duplicate_customers; /* dropped: same customer_id+updated_at */
    int64_t quarantined_orders;
    int64_t quarantined_customers;
    int64_t enriched_orders;     /* mart.orders_enriched rows added */
    int64_t parquet_files;       /* files unload wrote */
};

/* Open the warehouse: `engine` is "duckdb" (NULL means duckdb); its
 * database lives under `state_dir` (borrowed). On FLOE_OK *out is owned by
 * the caller (floe_wh_close). */
int floe_wh_open(const char *engine, const char *state_dir,
                 struct floe_wh **out, char *err);
/* The engine check floe_wh_open() makes, without opening anything:
 * FLOE_OK, or FLOE_ENOTSUP with err naming the known engines. */
int floe_wh_engine_check(const char *engine, char *err);
void floe_wh_close(struct floe_wh *wh); /* NULL is a no-op */

/* Load every object under processing/batch=<batch>/ into the raw tables,
 * tagged with the batch id; every line is counted, none dropped (invalid
 * UTF-8 is kept, repaired and flagged, and quarantined by transform).
 * Files named "_*" at the batch root (the manifest) are skipped; an object
 * under any stream other than orders/ or customers/ is FLOE_EINVAL. */
int floe_wh_load(struct floe_wh *wh, struct floe_store *st,
                 const char *batch, struct floe_wh_counts *out, char *err);
/* Clean, type, validate (invalid rows to quarantine with a reason),
 * deduplicate (first occurrence of an event_id wins, across batches) and
 * add the batch's new orders, customer versions (MERGE into the latest
 * per customer) and the enriched orders (each new order with its
 * customer at this time); recompute mart.daily_sales for the days it
 * touches. Existing rows are read by key only (no whole-table rewrite).
 * One transaction: on error nothing of the batch changed. */
int floe_wh_transform(struct floe_wh *wh, const char *batch,
                      struct floe_wh_counts *out, char *err);
/* Write what the batch added as Parquet into the processed zone:
 *   processed/orders/dt=<YYYY-MM-DD>/part-<batch>.parquet
 *   processed/orders_enriched/dt=<YYYY-MM-DD>/part-<batch>.parquet
 *   processed/customer_versions/part-<batch>.parquet
 *   processed/customers/customers.parquet     (latest per id, replaced)
 *   processed/daily_sales/daily_sales.parquet (recomputed, replaced)
 *   processed/quarantine/<orders|customers>/part-<batch>.parquet */
int floe_wh_unload(struct floe_wh *wh, struct floe_store *st,
                   const char *batch, struct floe_wh_counts *out, char *err);

#endif
