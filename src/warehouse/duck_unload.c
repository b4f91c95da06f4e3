/* duck_unload.c - DuckDB engine, unload step: COPY what a batch added to
 * Parquet in a staging dir under the state dir, then move each file into
 * the processed zone (floe_store_put_file with move; atomic per object).
 * The tables and their layouts are the model set's declarations.
 * Per-batch files have fixed keys (part-<batch>.parquet), so a re-run
 * overwrites them; snapshots (customers, daily_sales) are replaced whole.
 * A per-batch export with no rows deletes its key instead. */
#define FLOE_LOG_MOD "warehouse.unload"
#include "warehouse/duck.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/util.h"

/* COPY (select [restricted to one dt]) TO dst as Parquet; *out_rows is
 * how many rows it wrote. */
static int copy_to(struct floe_duck *d, const struct floe_model_table *x,
                   const char *select, const char *batch, const char *dt,
                   const char *dst, bool partitioned, int64_t *out_rows,
                   char *err)
{
    struct floe_buf q;
    int rc;

    floe_buf_init(&q, FLOE_BUF_UNLIMITED);
    rc = floe_buf_adds(&q, "COPY (");
    if (rc == FLOE_OK && dt != NULL) {
        /* Hive layout: the day is in the path, not in the file. */
        rc = floe_buf_adds(&q, "SELECT * EXCLUDE (dt) FROM (");
        if (rc == FLOE_OK)
            rc = floe_duck_add_sql(&q, select, batch);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, ") WHERE dt = CAST(");
        if (rc == FLOE_OK)
            rc = floe_duck_add_str(&q, dt);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&q, " AS DATE)");
    } else if (rc == FLOE_OK) {
        rc = floe_duck_add_sql(&q, select, batch);
    }
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, ") TO ");
    if (rc == FLOE_OK)
        rc = floe_duck_add_str(&q, dst);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&q, partitioned
                                   ? " (FORMAT parquet, PARTITION_BY (dt), "
                                     "FILENAME_PATTERN 'part-{i}', "
                                     "OVERWRITE true)"
                                   : " (FORMAT parquet)");
    if (rc == FLOE_OK) {
        char why[FLOE_ERR_LEN];

        rc = floe_duck_i64(d, q.data, out_rows, 1, why);
        if (rc != FLOE_OK)
            floe_err(err, rc, "unload %s: %s", x->name, why);
    }
    floe_buf_free(&q);
    return rc;
}

static int put(struct floe_store *st, const char *key, const char *path,
               int64_t *files, char *err)
{
    int rc = floe_store_put_file(st, key, path, true);

    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot store %s: %s", key,
                        floe_store_strerror(rc));
    (*files)++;
    return FLOE_OK;
}

/* Regular files in `dir` (at most 2 are looked at); count in *out_n. */
static int files_in(const char *dir, char first[PATH_MAX], int *out_n)
{
    struct dirent *de;
    DIR *dh = opendir(dir);

    *out_n = 0;
    if (dh == NULL)
        return FLOE_EIO;
    while ((de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (*out_n == 0 &&
            (size_t)snprintf(first, PATH_MAX, "%s/%s", dir, de->d_name) >=
                PATH_MAX) {
            closedir(dh);
            return FLOE_ETOOBIG;
        }
        (*out_n)++;
    }
    closedir(dh);
    return FLOE_OK;
}

/* One partitioned COPY, then each dt=<day>/ directory becomes one object.
 * DuckDB may split a partition into several files (many partitions open
 * at once); such a day is re-exported on its own into a single file. */
static int unload_partitioned(struct floe_duck *d, struct floe_store *st,
                              const struct floe_model_table *x,
                              const char *select, const char *batch,
                              const char *stage, int64_t *files, char *err)
{
    char dir[PATH_MAX], sub[PATH_MAX], file[PATH_MAX];
    char key[FLOE_STORE_KEY_MAX];
    struct dirent *de;
    DIR *dh = NULL;
    int64_t rows = 0;
    int rc, n;

    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", stage, x->name) >=
        sizeof(dir))
        return floe_err(err, FLOE_ETOOBIG, "state dir path too long");
    rc = copy_to(d, x, select, batch, NULL, dir, true, &rows, err);
    if (rc != FLOE_OK)
        return rc;
    dh = opendir(dir);
    if (dh == NULL)
        return FLOE_OK; /* no rows: DuckDB made no directory */
    while (rc == FLOE_OK && (de = readdir(dh)) != NULL) {
        if (strncmp(de->d_name, "dt=", 3) != 0)
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >=
                sizeof(sub) ||
            (size_t)snprintf(key, sizeof(key), "%s/%s/%s/part-%s.parquet",
                             FLOE_ZONE_PROCESSED, x->name, de->d_name,
                             batch) >= sizeof(key)) {
            rc = floe_err(err, FLOE_ETOOBIG, "path too long");
            break;
        }
        rc = files_in(sub, file, &n);
        if (rc != FLOE_OK) {
            rc = floe_err(err, rc, "cannot read %s", sub);
            break;
        }
        if (n == 0)
            continue;
        if (n > 1) {
            if ((size_t)snprintf(file, sizeof(file), "%s/%s.parquet", dir,
                                 de->d_name) >= sizeof(file)) {
                rc = floe_err(err, FLOE_ETOOBIG, "path too long");
                break;
            }
            rc = copy_to(d, x, select, batch, de->d_name + 3, file, false,
                         &rows, err);
        }
        if (rc == FLOE_OK)
            rc = put(st, key, file, files, err);
    }
    closedir(dh);
    return rc;
}

/* A single-file export; a per-batch one with no rows deletes its key
 * (COPY reports how many rows it wrote, so nothing is counted twice).
 * `i` numbers the file in the stage dir. */
static int unload_file(struct floe_duck *d, struct floe_store *st,
                       const struct floe_model_table *x, const char *select,
                       size_t i, const char *batch, const char *stage,
                       int64_t *files, char *err)
{
    char file[PATH_MAX], key[FLOE_STORE_KEY_MAX];
    int64_t rows = 0;
    int rc;

    if (x->layout == FLOE_MODEL_SNAPSHOT)
        rc = snprintf(key, sizeof(key), "%s/%s/%s", FLOE_ZONE_PROCESSED,
                      x->name, x->file) >= (int)sizeof(key);
    else
        rc = snprintf(key, sizeof(key), "%s/%s/part-%s.parquet",
                      FLOE_ZONE_PROCESSED, x->name, batch) >=
             (int)sizeof(key);
    if (rc != 0 || (size_t)snprintf(file, sizeof(file), "%s/%zu.parquet",
                                    stage, i) >=
                       sizeof(file))
        return floe_err(err, FLOE_ETOOBIG, "path too long");
    rc = copy_to(d, x, select, batch, NULL, file, false, &rows, err);
    if (rc != FLOE_OK)
        return rc;
    if (x->layout == FLOE_MODEL_BATCH && rows == 0) {
        if (remove(file) != 0)
            floe_log_warn("cannot remove %s", file);
        rc = floe_store_delete(st, key);
        return rc == FLOE_OK ? rc
                             : floe_err(err, rc, "cannot delete %s: %s", key,
                                        floe_store_strerror(rc));
    }
    return put(st, key, file, files, err);
}

int floe_duck_unload_table(struct floe_duck *d, struct floe_store *st,
                           const struct floe_model_table *x, size_t i,
                           const char *select, const char *batch,
                           const char *stage, int64_t *files, char *err)
{
    if (select == NULL)
        select = floe_model_table_select(x, "duckdb");
    return x->layout == FLOE_MODEL_PARTITIONED
               ? unload_partitioned(d, st, x, select, batch, stage, files,
                                    err)
               : unload_file(d, st, x, select, i, batch, stage, files, err);
}

int floe_duck_unload(void *ctx, struct floe_store *st, const char *batch,
                     struct floe_wh_counts *out, char *err)
{
    struct floe_duck *d = ctx;
    const struct floe_models *m = d->models;
    char stage[PATH_MAX];
    int64_t files = 0, t0 = floe_mono_ms();
    size_t i;
    int rc;

    if ((size_t)snprintf(stage, sizeof(stage), "%s/unload/batch=%s",
                         d->state_dir, batch) >= sizeof(stage))
        return floe_err(err, FLOE_ETOOBIG, "state dir path too long");
    /* Leftovers of a crashed run must not be picked up. */
    if (floe_rmtree(stage) != FLOE_OK || floe_mkdirs(stage) != FLOE_OK)
        return floe_err(err, FLOE_EIO, "cannot prepare %s", stage);
    rc = FLOE_OK;
    for (i = 0; rc == FLOE_OK && i < m->ntables; i++) {
        const struct floe_model_table *x = &m->tables[i];
        int64_t t1 = floe_mono_ms();

        rc = floe_duck_unload_table(d, st, x, i, NULL, batch, stage, &files,
                                    err);
        floe_log_debug("unload %s %s: %lld ms", batch, x->name,
                       (long long)(floe_mono_ms() - t1));
    }
    if (floe_rmtree(stage) != FLOE_OK)
        floe_log_warn("cannot remove %s", stage);
    if (rc != FLOE_OK)
        return rc;
    out->parquet_files = files;
    floe_log_debug("unload %s: %lld parquet files in %lld ms", batch,
                   (long long)files, (long long)(floe_mono_ms() - t0));
    return FLOE_OK;
}
