/* warehouse.c - engine-neutral entry points of the warehouse seam.
 * Checks arguments once (batch id syntax, NULLs), zeroes the counts and
 * dispatches to the engine's struct floe_wh_engine; also names the
 * counts, so model declarations can refer to them. */
#define FLOE_LOG_MOD "warehouse"
#include "warehouse/warehouse.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/engine.h"

struct floe_wh {
    const struct floe_wh_engine *eng;
    void *ctx;
    struct floe_models *own_models; /* the built-in set, when not given */
};

static const struct floe_wh_engine *const engines[] = {
    &floe_wh_duckdb,
};

int floe_wh_batch_check(const char *batch)
{
    size_t i, n;

    if (batch == NULL)
        return FLOE_EINVAL;
    n = strlen(batch);
    if (n == 0 || n > 128 || batch[0] == '.')
        return FLOE_EINVAL;
    for (i = 0; i < n; i++) {
        char c = batch[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == ':' || c == '='))
            return FLOE_EINVAL;
    }
    return FLOE_OK;
}

#define WH_FIELD(f) { #f, offsetof(struct floe_wh_counts, f) }
static const struct {
    const char *name;
    size_t off;
} wh_fields[] = {
    WH_FIELD(objects), WH_FIELD(raw_orders), WH_FIELD(raw_customers),
    WH_FIELD(new_orders), WH_FIELD(duplicate_orders),
    WH_FIELD(new_customer_versions), WH_FIELD(duplicate_customers),
    WH_FIELD(quarantined_orders), WH_FIELD(quarantined_customers),
    WH_FIELD(enriched_orders), WH_FIELD(parquet_files), WH_FIELD(raw_other),
    WH_FIELD(new_other), WH_FIELD(duplicate_other),
    WH_FIELD(quarantined_other),
};

size_t floe_wh_counts_n(void)
{
    return sizeof(wh_fields) / sizeof(*wh_fields);
}

const char *floe_wh_counts_name(size_t i)
{
    return i < floe_wh_counts_n() ? wh_fields[i].name : NULL;
}

int64_t *floe_wh_counts_field(struct floe_wh_counts *c, const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(wh_fields) / sizeof(*wh_fields); i++)
        if (strcmp(wh_fields[i].name, name) == 0)
            return (int64_t *)(void *)((char *)c + wh_fields[i].off);
    return NULL;
}

void floe_wh_stream_counts(struct floe_wh_counts *c, const char *stream,
                           struct floe_wh_stream_counts *out)
{
    if (strcmp(stream, "orders") == 0) {
        out->raw = &c->raw_orders;
        out->added = &c->new_orders;
        out->duplicate = &c->duplicate_orders;
        out->quarantined = &c->quarantined_orders;
    } else if (strcmp(stream, "customers") == 0) {
        out->raw = &c->raw_customers;
        out->added = &c->new_customer_versions;
        out->duplicate = &c->duplicate_customers;
        out->quarantined = &c->quarantined_customers;
    } else {
        out->raw = &c->raw_other;
        out->added = &c->new_other;
        out->duplicate = &c->duplicate_other;
        out->quarantined = &c->quarantined_other;
    }
}

static int find_engine(const char *engine, size_t *out_i, char *err)
{
    size_t i;

    if (engine == NULL)
        engine = "duckdb";
    for (i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
        if (strcmp(engines[i]->name, engine) == 0) {
            *out_i = i;
            return FLOE_OK;
        }
    return floe_err(err, FLOE_ENOTSUP,
                    "warehouse: unknown engine '%s' (known: duckdb)",
                    engine);
}

int floe_wh_engine_check(const char *engine, char *err)
{
    size_t i;

    return find_engine(engine, &i, err);
}

int floe_wh_open(const char *engine, const char *state_dir,
                 const struct floe_models *models, struct floe_wh **out,
                 char *err)
{
    struct floe_wh *wh = NULL;
    size_t i;
    int rc;

    *out = NULL;
    if (state_dir == NULL || state_dir[0] == '\0')
        return floe_err(err, FLOE_EINVAL, "warehouse: no state directory");
    rc = find_engine(engine, &i, err);
    if (rc != FLOE_OK)
        return rc;
    if (floe_mkdirs(state_dir) != FLOE_OK)
        return floe_err(err, FLOE_EIO, "warehouse: cannot create '%s'",
                        state_dir);
    wh = calloc(1, sizeof(*wh));
    if (wh == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    wh->eng = engines[i];
    if (models == NULL) {
        rc = floe_models_load(NULL, &wh->own_models, err);
        models = wh->own_models;
    }
    if (rc == FLOE_OK)
        rc = wh->eng->open(state_dir, models, &wh->ctx, err);
    if (rc != FLOE_OK) {
        floe_models_free(wh->own_models);
        free(wh);
        return rc;
    }
    floe_log_debug("opened %s warehouse in %s", engine, state_dir);
    *out = wh;
    return FLOE_OK;
}

void floe_wh_close(struct floe_wh *wh)
{
    if (wh == NULL)
        return;
    wh->eng->close(wh->ctx);
    floe_models_free(wh->own_models);
    free(wh);
}

/* Common checks; points *out at `spare` when the caller passed NULL. */
static int prepare(struct floe_wh *wh, const char *batch,
                   struct floe_wh_counts **out, struct floe_wh_counts *spare,
                   char *err)
{
    if (*out == NULL)
        *out = spare;
    memset(*out, 0, sizeof(**out));
    if (wh == NULL)
        return floe_err(err, FLOE_EINVAL, "warehouse: not open");
    if (floe_wh_batch_check(batch) != FLOE_OK)
        return floe_err(err, FLOE_EINVAL,
                        "warehouse: bad batch id '%s' (1-128 characters of "
                        "A-Z a-z 0-9 . _ - : =)", batch ? batch : "(null)");
    return FLOE_OK;
}

int floe_wh_load(struct floe_wh *wh, struct floe_store *st,
                 const char *batch, struct floe_wh_counts *out, char *err)
{
    struct floe_wh_counts spare;
    int rc = prepare(wh, batch, &out, &spare, err);

    if (rc == FLOE_OK && st == NULL)
        rc = floe_err(err, FLOE_EINVAL, "warehouse: no store");
    return rc != FLOE_OK ? rc : wh->eng->load(wh->ctx, st, batch, out, err);
}

int floe_wh_transform(struct floe_wh *wh, const char *batch,
                      struct floe_wh_counts *out, char *err)
{
    struct floe_wh_counts spare;
    int rc = prepare(wh, batch, &out, &spare, err);

    return rc != FLOE_OK ? rc : wh->eng->transform(wh->ctx, batch, out, err);
}

int floe_wh_unload(struct floe_wh *wh, struct floe_store *st,
                   const char *batch, struct floe_wh_counts *out, char *err)
{
    struct floe_wh_counts spare;
    int rc = prepare(wh, batch, &out, &spare, err);

    if (rc == FLOE_OK && st == NULL)
        rc = floe_err(err, FLOE_EINVAL, "warehouse: no store");
    return rc != FLOE_OK ? rc : wh->eng->unload(wh->ctx, st, batch, out, err);
}
