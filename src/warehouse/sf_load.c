/* sf_load.c - Snowflake engine, load step: each object of a batch is
 * copied by Snowflake itself from the external stage on the lake
 * (COPY INTO raw.<stream> FROM (SELECT <batch>, <key>,
 * METADATA$FILE_ROW_NUMBER, $1, TRUE FROM @stage/...) FILES=('<object>')
 * ... FORCE=TRUE, so a re-run loads it again), one line per row as text.
 * An emulator without COPY transformations (snowflake-emulator) gets a
 * plain COPY into a scratch table instead, numbered in scan order. floe reads each
 * object once too, to count its lines: a COPY that loaded a different
 * number of rows fails the step (FLOE_ECORRUPT), so no line goes missing
 * unnoticed. A re-run first deletes the batch's raw rows. */
#define FLOE_LOG_MOD "warehouse.snowflake"
#include "warehouse/snowflake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/engine.h"
#include "warehouse/lines.h"

#define SCRATCH "raw._floe_lines"

/* The lake as the stage's URL: snowflake-stage-url, else the store's own
 * URL (s3://... or file:///dir), ending in '/'. */
int floe_sf_stage(struct floe_sf *sf, struct floe_store *st, char *err)
{
    const char *url = sf->cfg->stage_url;
    struct floe_buf q;
    char path[PATH_MAX];
    int rc;

    if (sf->stage_ok)
        return FLOE_OK;
    if (url == NULL && floe_store_local_path(st, FLOE_ZONE_PROCESSING, path,
                                             sizeof(path)) == FLOE_OK) {
        /* a local lake: its absolute root, as file://<root>/ below */
        path[strlen(path) - strlen(FLOE_ZONE_PROCESSING)] = '\0';
        url = path;
    } else if (url == NULL) {
        url = floe_store_url(st);
    }
    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "CREATE OR REPLACE STAGE " FLOE_SF_STAGE
                           " URL = '");
    if (rc == FLOE_OK && url[0] == '/')
        rc = floe_buf_adds(&q, "file://");
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, url);
    if (rc == FLOE_OK && (q.len == 0 || q.data[q.len - 1] != '/'))
        rc = floe_buf_addc(&q, '/');
    if (rc == FLOE_OK)
        rc = floe_buf_addc(&q, '\'');
    if (rc == FLOE_OK && sf->cfg->storage_integration != NULL)
        rc = floe_buf_addf(&q, " STORAGE_INTEGRATION = %s",
                           sf->cfg->storage_integration);
    if (rc == FLOE_OK)
        rc = floe_sf_exec(sf, "stage", q.data, NULL, err);
    floe_buf_free(&q);
    sf->stage_ok = rc == FLOE_OK;
    return rc;
}

/* " FROM @stage/<dir>/ FILES = ('<name>') FILE_FORMAT = (...) FORCE =
 * TRUE" for the object `key`, after `head`. Lines as text: no field
 * delimiter, no escapes, no quotes, so a line arrives byte for byte and
 * JSON is parsed by staging, where a bad line is quarantined instead of
 * failing the COPY. */
static int copy_sql(struct floe_buf *q, const char *head, const char *key,
                    bool emulator)
{
    const char *base = strrchr(key, '/');
    int rc = floe_buf_adds(q, head);

    if (rc == FLOE_OK)
        rc = floe_buf_add(q, key, (size_t)(base - key + 1));
    if (rc == FLOE_OK)
        rc = floe_buf_adds(q, emulator ? " FILES = (" : ") FILES = (");
    if (rc == FLOE_OK)
        rc = floe_sf_add_str(q, base + 1);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(q, ") FILE_FORMAT = (TYPE = CSV FIELD_DELIMITER "
                              "= NONE ESCAPE_UNENCLOSED_FIELD = NONE "
                              "EMPTY_FIELD_AS_NULL = FALSE");
    /* fakesnow refuses an empty NULL_IF; Snowflake needs it so that a
     * line "\\N" stays text. */
    if (rc == FLOE_OK)
        rc = floe_buf_adds(q, emulator ? ") FORCE = TRUE"
                                       : " NULL_IF = ()) FORCE = TRUE");
    return rc;
}

/* Load one object into raw.<stream>: on Snowflake one COPY with
 * METADATA$FILE_ROW_NUMBER as the line number; on an emulator (no COPY
 * transformations) a plain COPY into a scratch table numbered in scan
 * order, the production statement logged as not run. The rows loaded
 * must be the object's lines. */
static int load_object(struct floe_sf *sf, struct floe_store *st,
                       const char *stream, const char *batch,
                       const char *key, struct floe_buf *gz,
                       struct floe_buf *text, int64_t *lines, char *err)
{
    bool emu = sf->cfg->emulator;
    struct floe_buf q, head;
    int64_t expect, rows = -1;
    int rc;

    floe_buf_reset(gz);
    floe_buf_reset(text);
    rc = floe_wh_fetch(st, key, gz, err);
    if (rc == FLOE_OK)
        rc = floe_wh_inflate(gz->data, gz->len, text, err);
    if (rc != FLOE_OK)
        return rc;
    expect = floe_wh_count_lines(text->data ? text->data : "", text->len);
    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    floe_buf_init(&head, FLOE_BUF_UNLIMITED);
    rc = floe_buf_addf(&head, "COPY INTO raw.%s (batch_id, source_key, "
                       "line_no, line, valid_utf8) FROM (SELECT ", stream);
    if (rc == FLOE_OK)
        rc = floe_sf_add_str(&head, batch);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&head, ", ");
    if (rc == FLOE_OK)
        rc = floe_sf_add_str(&head, key);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&head, ", METADATA$FILE_ROW_NUMBER, $1, TRUE "
                                  "FROM @" FLOE_SF_STAGE "/");
    if (rc == FLOE_OK)
        rc = copy_sql(&q, head.data, key, false);
    if (rc == FLOE_OK && !emu)
        rc = floe_sf_exec(sf, "load", q.data, &rows, err);
    if (rc == FLOE_OK && emu) {
        floe_log_info("load %s: not run (snowflake-emulator: no COPY "
                      "transformations): %s", stream, q.data);
        floe_buf_reset(&q);
        rc = copy_sql(&q, "COPY INTO " SCRATCH " (line) FROM @"
                      FLOE_SF_STAGE "/", key, true);
        if (rc == FLOE_OK)
            rc = floe_sf_exec(sf, "load", "TRUNCATE TABLE " SCRATCH, NULL,
                              err);
        if (rc == FLOE_OK)
            rc = floe_sf_exec(sf, "load", q.data, NULL, err);
        floe_buf_reset(&q);
        if (rc == FLOE_OK)
            rc = floe_buf_addf(&q, "INSERT INTO raw.%s SELECT ", stream);
        if (rc == FLOE_OK)
            rc = floe_sf_add_str(&q, batch);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, ", ");
        if (rc == FLOE_OK)
            rc = floe_sf_add_str(&q, key);
        /* The scratch table holds one object, in load order. */
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, ", SEQ8() + 1, coalesce(line, ''), TRUE "
                                   "FROM " SCRATCH);
        if (rc == FLOE_OK)
            rc = floe_sf_exec(sf, "load", q.data, &rows, err);
    }
    floe_buf_free(&q);
    floe_buf_free(&head);
    if (rc == FLOE_OK && rows != expect)
        rc = floe_err(err, FLOE_ECORRUPT, "%s: Snowflake loaded %lld rows, "
                      "the object has %lld lines", key, (long long)rows,
                      (long long)expect);
    *lines += expect;
    return rc;
}

int floe_sf_load(void *ctx, struct floe_store *st, const char *batch,
                 struct floe_wh_counts *out, char *err)
{
    struct floe_sf *sf = ctx;
    const struct floe_models *m = sf->models;
    struct floe_wh_keys keys = { NULL, 0, 0 };
    int64_t *lines = calloc(m->nstreams, sizeof(*lines));
    char prefix[FLOE_STORE_KEY_MAX];
    struct floe_buf gz, text, q;
    int64_t objects = 0, t0 = floe_mono_ms();
    size_t i;
    int rc, s;

    floe_buf_init(&gz, FLOE_WH_OBJECT_MAX);
    floe_buf_init(&text, FLOE_WH_OBJECT_MAX);
    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    if (lines == NULL) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = floe_wh_batch_keys(st, batch, &keys, prefix, err);
    if (rc == FLOE_OK)
        rc = floe_sf_stage(sf, st, err);
    if (rc == FLOE_OK && sf->cfg->emulator)
        rc = floe_sf_exec(sf, "load", "CREATE TABLE IF NOT EXISTS " SCRATCH
                          " (line VARCHAR)", NULL, err);
    for (i = 0; rc == FLOE_OK && i < m->nstreams; i++) {
        floe_buf_reset(&q);
        rc = floe_buf_addf(&q, "DELETE FROM raw.%s WHERE batch_id = $b",
                           m->streams[i].name);
        if (rc == FLOE_OK)
            rc = floe_sf_exec_script(sf, "load", q.data, batch, err);
    }
    for (i = 0; rc == FLOE_OK && i < keys.n; i++) {
        s = floe_wh_stream_of(m, keys.v[i] + strlen(prefix));
        if (s == -1)
            continue;
        if (s < 0) {
            rc = floe_err(err, FLOE_EINVAL, "%s: not under a stream the "
                          "models declare (%s<stream>/)", keys.v[i], prefix);
            break;
        }
        rc = load_object(sf, st, m->streams[s].name, batch, keys.v[i], &gz,
                         &text, &lines[s], err);
        objects++;
    }
    if (rc != FLOE_OK)
        goto cleanup;
    out->objects = objects;
    for (i = 0; i < m->nstreams; i++) {
        struct floe_wh_stream_counts sc;

        floe_wh_stream_counts(out, m->streams[i].name, &sc);
        *sc.raw += lines[i];
    }
    floe_log_info("load %s: %lld objects, %lld order, %lld customer and "
                  "%lld other lines in %lld ms", batch, (long long)objects,
                  (long long)out->raw_orders, (long long)out->raw_customers,
                  (long long)out->raw_other,
                  (long long)(floe_mono_ms() - t0));
cleanup:
    floe_wh_keys_free(&keys);
    free(lines);
    floe_buf_free(&gz);
    floe_buf_free(&text);
    floe_buf_free(&q);
    return rc;
}
