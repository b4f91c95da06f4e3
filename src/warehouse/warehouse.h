/* warehouse.h - the warehouse engine seam: load, transform, unload.
 * One batch at a time, every step idempotent by batch id: re-running a
 * step for a batch replaces what that batch wrote before, so the
 * orchestrator can retry any step. Engines (DuckDB embedded by default,
 * Snowflake later) each fill one struct floe_wh_engine; what they load,
 * derive and unload is a model set (models.h: the default set in models/
 * is compiled into the binary, a folder can replace it).
 *
 * Batch objects come from the processing zone:
 *   processing/batch=<id>/<stream>/<original landing path...>
 * where <stream> is a stream the model set declares; each object is a
 * Firehose delivery (gzip or plain) of newline-terminated records.
 * Outputs go to the processed zone (see DESIGN.md "Zones").
 *
 * A batch id is 1-128 characters of [A-Za-z0-9._:=-], not starting with
 * '.' (anything else is FLOE_EINVAL). A handle runs one step at a time
 * (not thread-safe); the DuckDB file allows one process at a time. Errors:
 * FLOE_EREMOTE (the engine's SQL error text is in err), FLOE_EIO,
 * FLOE_ECORRUPT (bad gzip; counts that do not add up), FLOE_EINVAL. */
#ifndef FLOE_WAREHOUSE_WAREHOUSE_H
#define FLOE_WAREHOUSE_WAREHOUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/opt.h"

#include "store/store.h"
#include "warehouse/models.h"

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
    /* The same for every stream other than orders and customers, summed. */
    int64_t raw_other;
    int64_t new_other;
    int64_t duplicate_other;
    int64_t quarantined_other;
};

/* The field of `c` named `name` ("raw_orders"), or NULL. */
int64_t *floe_wh_counts_field(struct floe_wh_counts *c, const char *name);
/* The fields' names, in struct order: i < floe_wh_counts_n(). */
size_t floe_wh_counts_n(void);
const char *floe_wh_counts_name(size_t i);

/* How to reach Snowflake (engine "snowflake"); every string borrowed,
 * NULL when unset. Secrets (password, the key file's content) are never
 * logged. */
struct floe_wh_snowflake {
    char *account, *user, *password, *private_key; /* key file (PKCS#8 PEM)
                                                       for key-pair JWT */
    char *role, *warehouse, *database, *schema;
    char *host, *protocol;  /* default: <account>.snowflakecomputing.com */
    int64_t port;           /* 0: the protocol's */
    char *stage_url;        /* the processing zone as Snowflake sees it;
                               default: the lake's URL (file:// or s3://) */
    char *storage_integration; /* for an s3:// stage */
    bool emulator;          /* the server is an emulator (fakesnow): run
                               the closest statements it supports, log
                               each production one it cannot run */
};

/* Options of the warehouse beyond the engine's name. */
struct floe_wh_options {
    const struct floe_models *models; /* NULL: the built-in set */
    const struct floe_wh_snowflake *snowflake; /* NULL: all unset */
};

/* The snowflake options as rows of a struct floe_opt table, for a command
 * whose config struct has a struct floe_wh_snowflake at offset `base`
 * (so run and task declare them once). */
#define FLOE_WH_SNOWFLAKE_OPTS(base)                                          \
    { "snowflake-account", FLOE_OPT_STR, NULL,                                \
      (base) + offsetof(struct floe_wh_snowflake, account), 0, 0, 0,          \
      "Snowflake account identifier (engine snowflake)." },                   \
    { "snowflake-user", FLOE_OPT_STR, NULL,                                   \
      (base) + offsetof(struct floe_wh_snowflake, user), 0, 0, 0,             \
      "Snowflake user." },                                                    \
    { "snowflake-password", FLOE_OPT_STR, NULL,                               \
      (base) + offsetof(struct floe_wh_snowflake, password), 0, 0,            \
      FLOE_OPT_SECRET, "Snowflake password (better from the environment; "    \
      "never printed)." },                                                    \
    { "snowflake-private-key", FLOE_OPT_STR, NULL,                            \
      (base) + offsetof(struct floe_wh_snowflake, private_key), 0, 0, 0,      \
      "PKCS#8 PEM key file for key-pair (JWT) authentication instead of a "   \
      "password." },                                                          \
    { "snowflake-role", FLOE_OPT_STR, NULL,                                   \
      (base) + offsetof(struct floe_wh_snowflake, role), 0, 0, 0,             \
      "Snowflake role." },                                                    \
    { "snowflake-warehouse", FLOE_OPT_STR, NULL,                              \
      (base) + offsetof(struct floe_wh_snowflake, warehouse), 0, 0, 0,        \
      "Snowflake virtual warehouse." },                                       \
    { "snowflake-database", FLOE_OPT_STR, "FLOE",                             \
      (base) + offsetof(struct floe_wh_snowflake, database), 0, 0, 0,         \
      "Snowflake database holding the raw, core, mart and quarantine "        \
      "schemas." },                                                           \
    { "snowflake-schema", FLOE_OPT_STR, "PUBLIC",                             \
      (base) + offsetof(struct floe_wh_snowflake, schema), 0, 0, 0,           \
      "Session schema." },                                                    \
    { "snowflake-host", FLOE_OPT_STR, NULL,                                   \
      (base) + offsetof(struct floe_wh_snowflake, host), 0, 0, 0,             \
      "Host to connect to instead of the account's (an emulator)." },         \
    { "snowflake-port", FLOE_OPT_INT, "0",                                    \
      (base) + offsetof(struct floe_wh_snowflake, port), 0, 65535, 0,         \
      "Port (0: the protocol's)." },                                          \
    { "snowflake-protocol", FLOE_OPT_STR, "https",                            \
      (base) + offsetof(struct floe_wh_snowflake, protocol), 0, 0, 0,         \
      "https, or http for an emulator on loopback." },                        \
    { "snowflake-stage-url", FLOE_OPT_STR, NULL,                              \
      (base) + offsetof(struct floe_wh_snowflake, stage_url), 0, 0, 0,        \
      "URL of the lake as Snowflake reads it for the external stage "         \
      "(default: the lake's own, s3://bucket/... or file:///dir/)." },        \
    { "snowflake-storage-integration", FLOE_OPT_STR, NULL,                    \
      (base) + offsetof(struct floe_wh_snowflake, storage_integration), 0,    \
      0, 0, "Storage integration of the external stage on s3://." },          \
    { "snowflake-emulator", FLOE_OPT_BOOL, "false",                          \
      (base) + offsetof(struct floe_wh_snowflake, emulator), 0, 0, 0,         \
      "The server is an emulator (fakesnow): load numbers lines in scan "     \
      "order instead of METADATA$FILE_ROW_NUMBER and unload reads rows "      \
      "through Arrow and writes the Parquet in floe instead of COPY INTO "    \
      "@stage; each statement not run is logged." }

/* Open the warehouse: `engine` is "duckdb" or "snowflake" (NULL means
 * duckdb); its local files live under `state_dir` (borrowed); `opts`
 * (may be NULL; borrowed, must outlive the handle) gives the model set
 * and the engine's connection options. On FLOE_OK *out is owned by the
 * caller (floe_wh_close). */
int floe_wh_open(const char *engine, const char *state_dir,
                 const struct floe_wh_options *opts, struct floe_wh **out,
                 char *err);
/* The engine check floe_wh_open() makes, without opening anything:
 * FLOE_OK, or FLOE_ENOTSUP with err naming the known engines. */
int floe_wh_engine_check(const char *engine, char *err);
void floe_wh_close(struct floe_wh *wh); /* NULL is a no-op */

/* Load every object under processing/batch=<batch>/ into the raw tables,
 * tagged with the batch id; every line is counted, none dropped (invalid
 * UTF-8 is kept, repaired and flagged, and quarantined by transform).
 * Files named "_*" at the batch root (the manifest) are skipped; an object
 * under a stream the model set does not declare is FLOE_EINVAL. */
int floe_wh_load(struct floe_wh *wh, struct floe_store *st,
                 const char *batch, struct floe_wh_counts *out, char *err);
/* Run the model set's transform steps for the batch in one transaction
 * (on error nothing of the batch changed), then check each stream: every
 * raw line of the batch staged, and each staged line either valid or
 * quarantined (FLOE_ECORRUPT otherwise). The default set cleans, types,
 * validates (invalid rows to quarantine with a reason), deduplicates
 * (first occurrence of an event_id wins, across batches) and adds the
 * batch's new orders, customer versions (MERGE into the latest per
 * customer) and the enriched orders (each new order with its customer at
 * this time); it recomputes mart.daily_sales for the days it touches.
 * Existing rows are read by key only (no whole-table rewrite). */
int floe_wh_transform(struct floe_wh *wh, const char *batch,
                      struct floe_wh_counts *out, char *err);
/* Write what the batch added as Parquet into the processed zone, one
 * file per table the model set declares; for the default set:
 *   processed/orders/dt=<YYYY-MM-DD>/part-<batch>.parquet
 *   processed/orders_enriched/dt=<YYYY-MM-DD>/part-<batch>.parquet
 *   processed/customer_versions/part-<batch>.parquet
 *   processed/customers/customers.parquet     (latest per id, replaced)
 *   processed/daily_sales/daily_sales.parquet (recomputed, replaced)
 *   processed/quarantine/<orders|customers>/part-<batch>.parquet */
int floe_wh_unload(struct floe_wh *wh, struct floe_store *st,
                   const char *batch, struct floe_wh_counts *out, char *err);

#endif
