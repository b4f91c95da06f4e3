/* warehouse.c - engine-neutral entry points of the warehouse seam.
 * Checks arguments once (batch id syntax, NULLs), zeroes the counts and
 * dispatches to the engine's struct floe_wh_engine; also names the
 * counts, so model declarations can refer to them. */
#define FLOE_LOG_MOD "warehouse"
#include "warehouse/warehouse.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/engine.h"

struct floe_wh {
    const struct floe_wh_engine *eng;
    void *ctx;
    struct floe_wh_options opts;    /* what the engine sees */
    struct floe_models *own_models; /* the built-in set, when not given */
};

static const struct floe_wh_engine *const engines[] = {
    &floe_wh_duckdb,
    &floe_wh_snowflake,
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

void floe_wh_keys_free(struct floe_wh_keys *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

static int collect_key(const struct floe_obj_info *info, void *ud)
{
    struct floe_wh_keys *k = ud;

    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        char **v = realloc(k->v, cap * sizeof(*v));
        if (v == NULL)
            return FLOE_ENOMEM;
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n] = strdup(info->key);
    if (k->v[k->n] == NULL)
        return FLOE_ENOMEM;
    k->n++;
    return 0;
}

int floe_wh_batch_keys(struct floe_store *st, const char *batch,
                       struct floe_wh_keys *out,
                       char prefix[FLOE_STORE_KEY_MAX], char *err)
{
    int rc;

    snprintf(prefix, FLOE_STORE_KEY_MAX, "%s/batch=%s/",
             FLOE_ZONE_PROCESSING, batch);
    rc = floe_store_list(st, prefix, collect_key, out);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot list %s: %s", prefix,
                        floe_store_strerror(rc));
    return FLOE_OK;
}

int floe_wh_stream_of(const struct floe_models *m, const char *rel)
{
    const char *slash = strchr(rel, '/');
    const struct floe_model_stream *s;

    if (slash == NULL)
        return rel[0] == '_' ? -1 : -2;
    s = floe_models_stream(m, rel, (size_t)(slash - rel));
    return s != NULL ? (int)(s - m->streams) : -2;
}

int floe_wh_fetch(struct floe_store *st, const char *key,
                  struct floe_buf *out, char *err)
{
    char path[PATH_MAX];
    int rc = floe_store_local_path(st, key, path, sizeof(path));

    if (rc == FLOE_OK) {
        rc = floe_read_file(path, out);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "cannot read %s (%s): %s", key, path,
                            floe_strerror(rc));
        return FLOE_OK;
    }
    if (rc == FLOE_ENOTSUP)
        rc = floe_store_get(st, key, out);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot read %s: %s", key,
                        floe_store_strerror(rc));
    return FLOE_OK;
}

/* A staged or quarantined line's object key without processing/batch=<id>/
 * (its landing key): the same line re-processed by floe backfill is
 * quarantined once. Spelled the same in DuckDB and Snowflake. */
#define LANDING_KEY(t) \
    "regexp_replace(" t ".source_key, '^processing/batch=[^/]*/', '')"

int floe_wh_counts_query(const struct floe_models *m, const char *engine,
                         struct floe_buf *out)
{
    size_t i;
    int rc = floe_buf_adds(out, "SELECT ");

    for (i = 0; rc == FLOE_OK && i < m->nstreams; i++) {
        const struct floe_model_stream *s = &m->streams[i];

        /* Short names: the long ones Snowflake would make up confuse
         * some drivers. */
        rc = floe_buf_addf(out, "%s(SELECT count(*) FROM %s) AS s%zu, "
                           "(SELECT count(*) FROM %s WHERE reason IS NULL) "
                           "AS v%zu, (SELECT count(*) FROM %s WHERE "
                           "_batch_id = $b) AS n%zu, (SELECT count(*) FROM "
                           "%s WHERE batch_id = $b) AS q%zu, (SELECT "
                           "count(*) FROM raw.%s WHERE batch_id = $b) AS "
                           "r%zu, (SELECT count(*) FROM %s x WHERE x.reason "
                           "IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %s y "
                           "WHERE y.line_no = x.line_no AND " LANDING_KEY("y")
                           " = " LANDING_KEY("x") ")) AS u%zu",
                           i ? ", " : "", s->staged, i, s->staged, i,
                           s->new_table, i, s->quarantine, i, s->name, i,
                           s->staged, s->quarantine, i);
    }
    for (i = 0; rc == FLOE_OK && i < m->ntables; i++)
        if (m->tables[i].count != NULL)
            rc = floe_buf_addf(out, ", (SELECT count(*) FROM (%s)) AS t%zu",
                               floe_model_table_select(&m->tables[i],
                                                       engine), i);
    return rc;
}

int floe_wh_counts_run(const struct floe_models *m, const char *batch,
                       const char *sql, struct floe_wh_counts *out,
                       floe_wh_i64_fn fn, void *ctx, char *err)
{
    size_t i, n = 6 * m->nstreams, k = 0;
    int64_t *v;
    int rc;

    for (i = 0; i < m->ntables; i++)
        n += m->tables[i].count != NULL;
    v = calloc(n, sizeof(*v));
    if (v == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    rc = fn(ctx, sql, v, (int)n, err);
    for (i = 0; rc == FLOE_OK && i < m->nstreams; i++, k += 6) {
        struct floe_wh_stream_counts sc;
        /* staged, valid, new, quarantined (by this batch), raw, rejected
         * and in no quarantine row: every rejected line is quarantined
         * once, by this batch or, for a re-processed object, before */
        const int64_t *c = v + k;

        floe_wh_stream_counts(out, m->streams[i].name, &sc);
        *sc.added += c[2];
        *sc.duplicate += c[1] - c[2];
        *sc.quarantined += c[3];
        if (c[0] != c[4] || c[1] + c[3] > c[0] || c[5] != 0 || c[2] > c[1])
            rc = floe_err(err, FLOE_ECORRUPT,
                          "batch %s: %s counts do not add up (raw %lld "
                          "staged %lld valid %lld quarantined %lld, not "
                          "quarantined %lld, new %lld)", batch,
                          m->streams[i].name, (long long)c[4],
                          (long long)c[0], (long long)c[1], (long long)c[3],
                          (long long)c[5], (long long)c[2]);
    }
    for (i = 0; rc == FLOE_OK && i < m->ntables; i++)
        if (m->tables[i].count != NULL)
            *floe_wh_counts_field(out, m->tables[i].count) += v[k++];
    free(v);
    return rc;
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
                    "warehouse: unknown engine '%s' (known: duckdb, "
                    "snowflake)",
                    engine);
}

int floe_wh_engine_check(const char *engine, char *err)
{
    size_t i;

    return find_engine(engine, &i, err);
}

int floe_wh_open(const char *engine, const char *state_dir,
                 const struct floe_wh_options *opts, struct floe_wh **out,
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
    if (opts != NULL)
        wh->opts = *opts;
    if (wh->opts.models == NULL) {
        rc = floe_models_load(NULL, &wh->own_models, err);
        wh->opts.models = wh->own_models;
    }
    if (rc == FLOE_OK)
        rc = wh->eng->open(state_dir, &wh->opts, &wh->ctx, err);
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
