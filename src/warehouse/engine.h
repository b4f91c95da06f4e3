/* engine.h - what a warehouse engine implements (internal to the part).
 * warehouse.c checks arguments (batch id syntax, NULLs), zeroes the counts
 * and dispatches to one struct floe_wh_engine; an engine is one file
 * (duckdb.c; snowflake.c later) running a model set (models.h). */
#ifndef FLOE_WAREHOUSE_ENGINE_H
#define FLOE_WAREHOUSE_ENGINE_H

#include "warehouse/warehouse.h"

struct floe_wh_engine {
    const char *name; /* "duckdb" */
    /* `state_dir` exists; `models` is borrowed and outlives the context;
     * *out_ctx is released with close(). */
    int (*open)(const char *state_dir, const struct floe_models *models,
                void **out_ctx, char *err);
    void (*close)(void *ctx);
    /* `out` is zeroed; `batch` passed floe_wh_batch_check. */
    int (*load)(void *ctx, struct floe_store *st, const char *batch,
                struct floe_wh_counts *out, char *err);
    int (*transform)(void *ctx, const char *batch,
                     struct floe_wh_counts *out, char *err);
    int (*unload)(void *ctx, struct floe_store *st, const char *batch,
                  struct floe_wh_counts *out, char *err);
};

extern const struct floe_wh_engine floe_wh_duckdb;

/* The counts a stream's rows go to: orders and customers have their own
 * fields, every other stream adds to the *_other ones. */
struct floe_wh_stream_counts {
    int64_t *raw, *added, *duplicate, *quarantined;
};
void floe_wh_stream_counts(struct floe_wh_counts *c, const char *stream,
                           struct floe_wh_stream_counts *out);

/* FLOE_OK when `batch` is 1..128 bytes of [A-Za-z0-9._:=-], not starting
 * with '.': safe inside a key, a file name and a SQL string literal. */
int floe_wh_batch_check(const char *batch);

#endif
