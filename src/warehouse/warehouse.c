/* warehouse.c - engine-neutral entry points of the warehouse seam.
 * Checks arguments once (batch id syntax, NULLs), zeroes the counts and
 * dispatches to the engine's struct floe_wh_engine; also decides which
 * compiled-in SQL files apply to an engine. */
#define FLOE_LOG_MOD "warehouse"
#include "warehouse/warehouse.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "warehouse/engine.h"
#include "warehouse/sql.h"

struct floe_wh {
    const struct floe_wh_engine *eng;
    void *ctx;
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

/* "40_x.duckdb.sql" -> tag "duckdb", stem "40_x"; "40_x.sql" -> no tag. */
static void split_name(const char *name, size_t *stem_len, const char **tag,
                       size_t *tag_len)
{
    const char *ext = strstr(name, ".sql");
    const char *dot;
    size_t n = ext != NULL ? (size_t)(ext - name) : strlen(name);

    *tag = NULL;
    *tag_len = 0;
    *stem_len = n;
    dot = memchr(name, '.', n);
    if (dot != NULL) {
        *stem_len = (size_t)(dot - name);
        *tag = dot + 1;
        *tag_len = n - *stem_len - 1;
    }
}

bool floe_sql_applies(const struct floe_sql_file *f, const char *engine)
{
    const struct floe_sql_file *g;
    const char *tag, *gtag;
    size_t stem, tag_len, gstem, gtag_len;

    split_name(f->name, &stem, &tag, &tag_len);
    if (tag != NULL)
        return strlen(engine) == tag_len &&
               memcmp(tag, engine, tag_len) == 0;
    for (g = floe_sql_files; g->name != NULL; g++) {
        split_name(g->name, &gstem, &gtag, &gtag_len);
        if (gtag != NULL && gstem == stem &&
            memcmp(g->name, f->name, stem) == 0 &&
            strlen(engine) == gtag_len && memcmp(gtag, engine, gtag_len) == 0)
            return false; /* overridden by the engine's own file */
    }
    return true;
}

bool floe_sql_is_setup(const struct floe_sql_file *f)
{
    return f->name[0] == '0';
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
                 struct floe_wh **out, char *err)
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
    rc = wh->eng->open(state_dir, &wh->ctx, err);
    if (rc != FLOE_OK) {
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
