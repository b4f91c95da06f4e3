/* engine.h - what a warehouse engine implements (internal to the part).
 * warehouse.c checks arguments (batch id syntax, NULLs), zeroes the counts
 * and dispatches to one struct floe_wh_engine; an engine is one file
 * (duckdb.c; snowflake.c later) running a model set (models.h). */
#ifndef FLOE_WAREHOUSE_ENGINE_H
#define FLOE_WAREHOUSE_ENGINE_H

#include "core/buf.h"
#include "warehouse/warehouse.h"

struct floe_wh_engine {
    const char *name; /* "duckdb" */
    /* `state_dir` exists; `opts` and its `models` (never NULL) are
     * borrowed and outlive the context; *out_ctx is released with
     * close(). */
    int (*open)(const char *state_dir, const struct floe_wh_options *opts,
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
extern const struct floe_wh_engine floe_wh_snowflake;

/* The counts a stream's rows go to: orders and customers have their own
 * fields, every other stream adds to the *_other ones. */
struct floe_wh_stream_counts {
    int64_t *raw, *added, *duplicate, *quarantined;
};
void floe_wh_stream_counts(struct floe_wh_counts *c, const char *stream,
                           struct floe_wh_stream_counts *out);

/* The keys of a batch's objects. */
struct floe_wh_keys {
    char **v; /* owned */
    size_t n, cap;
};
void floe_wh_keys_free(struct floe_wh_keys *k);
/* List processing/batch=<batch>/ into `out` (zeroed by the caller; freed
 * with floe_wh_keys_free in every case); `prefix` gets that prefix. */
int floe_wh_batch_keys(struct floe_store *st, const char *batch,
                       struct floe_wh_keys *out,
                       char prefix[FLOE_STORE_KEY_MAX], char *err);
/* Which stream of `m` an object belongs to, from its key relative to the
 * batch prefix: the stream's index, -1 for batch metadata ("_*" at the
 * batch root), -2 for anything else. */
int floe_wh_stream_of(const struct floe_models *m, const char *rel);
/* The object's bytes into `out`: read from its local file when the store
 * has one, else downloaded. */
int floe_wh_fetch(struct floe_store *st, const char *key,
                  struct floe_buf *out, char *err);

/* Runs `sql` and reads `n` integers of its first row into out[0..n). */
typedef int (*floe_wh_i64_fn)(void *ctx, const char *sql, int64_t *out,
                              int n, char *err);
/* Append the counts query of a transformed batch to `out` ($b for the
 * batch id): per stream its staged, valid, new, quarantined and raw rows,
 * then one count per table declaring `count`. Plain SQL both engines
 * accept. */
int floe_wh_counts_query(const struct floe_models *m, const char *engine,
                         struct floe_buf *out);
/* Run the counts query `sql` (with the batch id in) through `fn`, add
 * the counts to `out` and check per stream that raw = staged = valid +
 * quarantined and new <= valid (FLOE_ECORRUPT naming the stream). */
int floe_wh_counts_run(const struct floe_models *m, const char *batch,
                       const char *sql, struct floe_wh_counts *out,
                       floe_wh_i64_fn fn, void *ctx, char *err);

/* FLOE_OK when `batch` is 1..128 bytes of [A-Za-z0-9._:=-], not starting
 * with '.': safe inside a key, a file name and a SQL string literal. */
int floe_wh_batch_check(const char *batch);

#endif
