/* reconcile.h - prove a pipeline run lost nothing and doubled nothing.
 * Compares, record id by record id, what `floe emit` wrote (its truth
 * file) with what the processed zone holds, read back through the store
 * seam with DuckDB. Nothing here is derived from counters: every valid
 * emitted order event and customer version is looked up in each table
 * that must hold it. */
#ifndef FLOE_DEMO_RECONCILE_H
#define FLOE_DEMO_RECONCILE_H

#include <stdint.h>

#include "store/store.h"

struct floe_reconcile {
    int64_t emitted_orders_valid;     /* distinct valid event ids */
    int64_t emitted_customers_valid;  /* distinct valid versions */
    int64_t emitted_invalid;          /* malformed lines */
    int64_t duplicates_emitted;       /* lines re-emitting a valid id */
    int64_t processed_orders;         /* rows in processed/orders */
    int64_t processed_customer_versions;
    int64_t processed_customers;      /* rows in customers.parquet */
    int64_t processed_enriched;       /* rows in processed/orders_enriched */
    int64_t quarantined;              /* rows in processed/quarantine */
    /* By key, over orders and orders_enriched (event_id),
     * customer_versions (customer_id, updated_at) and customers
     * (customer_id): */
    int64_t lost;                     /* valid ids absent from a table */
    int64_t doubled;                  /* extra copies of an id */
    int64_t unexpected;               /* processed ids never emitted valid */
};

/* Count records (newline-terminated lines) in every object under
 * `prefix`, decompressing .gz objects. */
int floe_reconcile_count_records(struct floe_store *st, const char *prefix,
                                 int64_t *out_records, int64_t *out_objects,
                                 char *err);

/* Fill `out` from the truth TSV at `truth_path` (borrowed) and the
 * processed zone of `st`. */
int floe_reconcile_run(const char *truth_path, struct floe_store *st,
                       struct floe_reconcile *out, char *err);

#endif
