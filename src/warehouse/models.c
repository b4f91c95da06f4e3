/* models.c - load a model set (a folder, or the built-in default set that
 * scripts/embed_sql.cmake compiled from models/) and check its
 * declarations, so an engine only ever sees a consistent set: every
 * stream declared once with the tables it needs, every unloaded table with
 * a known layout. */
#define FLOE_LOG_MOD "warehouse.models"
#include "warehouse/models.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "warehouse/sql.h"
#include "warehouse/warehouse.h"

#define STREAM_SUFFIX ".stream.yaml"
#define TABLE_SUFFIX ".table.yaml"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n > k && strcmp(s + n - k, suffix) == 0;
}

void floe_models_free(struct floe_models *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nsql; i++) {
        free(m->sql[i].name);
        free(m->sql[i].text);
    }
    for (i = 0; i < m->nstreams; i++)
        free(m->streams[i].quarantine_owned);
    for (i = 0; i < m->ndecls; i++)
        floe_config_free(m->decls[i]);
    free(m->sql);
    free(m->streams);
    free(m->tables);
    free(m->stream_names);
    free(m->decls);
    free(m->dir);
    free(m);
}

/* A file of the set, in memory: name and text (borrowed, or owned by
 * own_name / own_text when read from a folder). */
struct src {
    const char *name, *text;
    size_t len;
    char *own_name;
    struct floe_buf own_text;
};

/* Keys a declaration may have; "select.<engine>" is also allowed. */
static const char *const stream_keys[] = { "stream", "key", "staged", "new",
                                           "quarantine", NULL };
static const char *const table_keys[] = { "table", "layout", "file",
                                          "select", "count", NULL };

struct keycheck {
    const char *const *allowed;
    const char *bad;
};

static int check_key(const char *key, void *ud)
{
    struct keycheck *k = ud;
    size_t i;

    if (strncmp(key, "select.", 7) == 0 && k->allowed == table_keys)
        return 0;
    for (i = 0; k->allowed[i] != NULL; i++)
        if (strcmp(k->allowed[i], key) == 0)
            return 0;
    k->bad = key;
    return 1;
}

/* A plain name: [a-z0-9_] and, in `extra`, more allowed bytes. */
static bool plain(const char *s, const char *extra)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || strchr(extra, *s) != NULL))
            return false;
    return true;
}

static int add_stream(struct floe_models *m, const struct floe_config *doc,
                      const char *name, char *err)
{
    const struct floe_config_map *r = floe_config_root(doc);
    struct floe_model_stream *s;
    const char *v = floe_config_get(r, "stream");

    if (!plain(v, "-"))
        return floe_err(err, FLOE_EINVAL, "%s: stream: a name of a-z 0-9 _ "
                        "- is required", name);
    if (floe_models_stream(m, v, strlen(v)) != NULL)
        return floe_err(err, FLOE_EINVAL, "%s: stream '%s' is declared "
                        "twice", name, v);
    if (strcmp(v, "errors") == 0)
        return floe_err(err, FLOE_EINVAL, "%s: 'errors' is Firehose's error "
                        "output, not a stream", name);
    s = &m->streams[m->nstreams];
    memset(s, 0, sizeof(*s));
    s->name = v;
    s->key = floe_config_get(r, "key");
    s->staged = floe_config_get(r, "staged");
    s->new_table = floe_config_get(r, "new");
    s->quarantine = floe_config_get(r, "quarantine");
    if (!plain(s->staged, ".") || !plain(s->new_table, "."))
        return floe_err(err, FLOE_EINVAL, "%s: staged and new must name "
                        "tables ([schema.]name)", name);
    if (s->quarantine == NULL) {
        size_t n = strlen(v) + sizeof("quarantine.");
        s->quarantine_owned = malloc(n);
        if (s->quarantine_owned == NULL)
            return FLOE_ENOMEM;
        snprintf(s->quarantine_owned, n, "quarantine.%s", v);
        s->quarantine = s->quarantine_owned;
    } else if (!plain(s->quarantine, ".")) {
        return floe_err(err, FLOE_EINVAL, "%s: quarantine must name a "
                        "table", name);
    }
    m->nstreams++;
    return FLOE_OK;
}

static int add_table(struct floe_models *m, const struct floe_config *doc,
                     const char *name, char *err)
{
    const struct floe_config_map *r = floe_config_root(doc);
    struct floe_model_table *t = &m->tables[m->ntables];
    const char *layout = floe_config_get(r, "layout");
    struct floe_wh_counts probe;
    size_t i;

    memset(t, 0, sizeof(*t));
    t->decl = doc;
    t->name = floe_config_get(r, "table");
    t->file = floe_config_get(r, "file");
    t->count = floe_config_get(r, "count");
    if (!plain(t->name, "/-") || t->name[0] == '/' ||
        strstr(t->name, "//") != NULL || ends_with(t->name, "/"))
        return floe_err(err, FLOE_EINVAL, "%s: table: a path of a-z 0-9 _ "
                        "- / is required", name);
    for (i = 0; i < m->ntables; i++)
        if (strcmp(m->tables[i].name, t->name) == 0)
            return floe_err(err, FLOE_EINVAL, "%s: table '%s' is declared "
                            "twice", name, t->name);
    if (floe_config_get(r, "select") == NULL)
        return floe_err(err, FLOE_EINVAL, "%s: select is required", name);
    if (layout != NULL && strcmp(layout, "partitioned") == 0)
        t->layout = FLOE_MODEL_PARTITIONED;
    else if (layout != NULL && strcmp(layout, "batch") == 0)
        t->layout = FLOE_MODEL_BATCH;
    else if (layout != NULL && strcmp(layout, "snapshot") == 0)
        t->layout = FLOE_MODEL_SNAPSHOT;
    else
        return floe_err(err, FLOE_EINVAL, "%s: layout must be partitioned, "
                        "batch or snapshot", name);
    if ((t->layout == FLOE_MODEL_SNAPSHOT) != (t->file != NULL) ||
        (t->file != NULL && !plain(t->file, ".-")))
        return floe_err(err, FLOE_EINVAL, "%s: file (a plain file name) is "
                        "required by a snapshot and only there", name);
    if (t->count != NULL && floe_wh_counts_field(&probe, t->count) == NULL)
        return floe_err(err, FLOE_EINVAL, "%s: count: '%s' is no count "
                        "of the warehouse", name, t->count);
    m->ntables++;
    return FLOE_OK;
}

static int add_decl(struct floe_models *m, const struct src *f, char *err)
{
    struct floe_config *doc = NULL;
    struct keycheck kc;
    bool stream = ends_with(f->name, STREAM_SUFFIX);
    char why[FLOE_ERR_LEN];
    int rc;

    rc = floe_config_parse(f->name, f->text, f->len, &doc, why);
    if (rc != FLOE_OK)
        return floe_err(err, FLOE_EINVAL, "model %s", why);
    m->decls[m->ndecls++] = doc;
    kc.allowed = stream ? stream_keys : table_keys;
    kc.bad = NULL;
    if (floe_config_keys(floe_config_root(doc), check_key, &kc) != 0)
        return floe_err(err, FLOE_EINVAL, "model %s: unknown key '%s'",
                        f->name, kc.bad ? kc.bad : "?");
    return stream ? add_stream(m, doc, f->name, err)
                  : add_table(m, doc, f->name, err);
}

static int cmp_src(const void *a, const void *b)
{
    return strcmp(((const struct src *)a)->name,
                  ((const struct src *)b)->name);
}

/* Build the set from files[0..n) (sorted by name; borrowed). */
static int build(struct floe_models *m, const struct src *files, size_t n,
                 char *err)
{
    size_t i, ndecl = 0;
    int rc = FLOE_OK;

    for (i = 0; i < n; i++)
        if (ends_with(files[i].name, STREAM_SUFFIX) ||
            ends_with(files[i].name, TABLE_SUFFIX))
            ndecl++;
    m->sql = calloc(n + 1, sizeof(*m->sql));
    m->streams = calloc(ndecl + 1, sizeof(*m->streams));
    m->tables = calloc(ndecl + 1, sizeof(*m->tables));
    m->decls = calloc(ndecl + 1, sizeof(*m->decls));
    m->stream_names = calloc(ndecl + 1, sizeof(*m->stream_names));
    if (m->sql == NULL || m->streams == NULL || m->tables == NULL ||
        m->decls == NULL || m->stream_names == NULL)
        return FLOE_ENOMEM;
    for (i = 0; rc == FLOE_OK && i < n; i++) {
        if (ends_with(files[i].name, ".sql")) {
            struct floe_model_sql *s = &m->sql[m->nsql];

            s->name = strdup(files[i].name);
            s->text = strndup(files[i].text, files[i].len);
            if (s->name == NULL || s->text == NULL) {
                free(s->name);
                free(s->text);
                return FLOE_ENOMEM;
            }
            m->nsql++;
        } else if (ends_with(files[i].name, STREAM_SUFFIX) ||
                   ends_with(files[i].name, TABLE_SUFFIX)) {
            rc = add_decl(m, &files[i], err);
        }
    }
    if (rc != FLOE_OK)
        return rc;
    if (m->nstreams == 0)
        return floe_err(err, FLOE_ENOTFOUND, "models %s: no stream is "
                        "declared (no *%s file)",
                        m->dir ? m->dir : "(built-in)", STREAM_SUFFIX);
    for (i = 0; i < m->nstreams; i++)
        m->stream_names[i] = m->streams[i].name;
    return FLOE_OK;
}

/* Read the model files of `dir` into *out_files (the caller frees each
 * own_name and own_text, then the array, also on error). */
static int read_dir(const char *dir, struct src **out_files, size_t *out_n,
                    char *err)
{
    struct dirent *de;
    char path[4096];
    DIR *dh = opendir(dir);
    size_t cap = 0;
    int rc = FLOE_OK;

    if (dh == NULL)
        return floe_err(err, FLOE_EIO, "models: cannot open the folder '%s'",
                        dir);
    while (rc == FLOE_OK && (de = readdir(dh)) != NULL) {
        struct src *f;

        if (de->d_name[0] == '.' ||
            !(ends_with(de->d_name, ".sql") ||
              ends_with(de->d_name, STREAM_SUFFIX) ||
              ends_with(de->d_name, TABLE_SUFFIX)))
            continue;
        if (*out_n == cap) {
            size_t c = cap ? cap * 2 : 32;

            f = realloc(*out_files, c * sizeof(*f));
            if (f == NULL) {
                rc = FLOE_ENOMEM;
                break;
            }
            *out_files = f;
            cap = c;
        }
        f = &(*out_files)[(*out_n)++];
        memset(f, 0, sizeof(*f));
        floe_buf_init(&f->own_text, (size_t)16 << 20);
        f->own_name = strdup(de->d_name);
        if (f->own_name == NULL) {
            rc = FLOE_ENOMEM;
            break;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
            sizeof(path)) {
            rc = floe_err(err, FLOE_ETOOBIG, "models: path too long");
            break;
        }
        rc = floe_read_file(path, &f->own_text);
        if (rc == FLOE_OK)
            rc = floe_buf_adds(&f->own_text, ""); /* an empty file */
        if (rc != FLOE_OK) {
            rc = floe_err(err, rc, "models: cannot read %s: %s", path,
                          floe_strerror(rc));
            break;
        }
        f->name = f->own_name;
        f->text = f->own_text.data;
        f->len = f->own_text.len;
    }
    closedir(dh);
    return rc;
}

int floe_models_load(const char *dir, struct floe_models **out, char *err)
{
    struct floe_models *m;
    struct src *files = NULL;
    size_t n = 0, i;
    int rc;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    if (dir != NULL && dir[0] != '\0') {
        m->dir = strdup(dir);
        rc = m->dir ? read_dir(dir, &files, &n, err) : FLOE_ENOMEM;
    } else {
        const struct floe_sql_file *f;

        for (f = floe_sql_files; f->name != NULL; f++)
            n++;
        files = calloc(n + 1, sizeof(*files));
        rc = files ? FLOE_OK : FLOE_ENOMEM;
        for (i = 0; rc == FLOE_OK && i < n; i++) {
            files[i].name = floe_sql_files[i].name;
            files[i].text = floe_sql_files[i].text;
            files[i].len = strlen(files[i].text);
        }
        if (rc != FLOE_OK)
            n = 0;
    }
    if (rc == FLOE_OK) {
        qsort(files, n, sizeof(*files), cmp_src);
        rc = build(m, files, n, err);
    }
    if (rc == FLOE_ENOMEM)
        floe_err(err, rc, "out of memory");
    for (i = 0; i < n; i++) {
        free(files[i].own_name);
        floe_buf_free(&files[i].own_text);
    }
    free(files);
    if (rc != FLOE_OK) {
        floe_models_free(m);
        return rc;
    }
    floe_log_debug("models %s: %zu SQL files, %zu streams, %zu tables",
                   m->dir ? m->dir : "(built-in)", m->nsql, m->nstreams,
                   m->ntables);
    *out = m;
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

bool floe_models_applies(const struct floe_models *m, size_t i,
                         const char *engine)
{
    const char *tag, *gtag, *name = m->sql[i].name;
    size_t stem, tag_len, gstem, gtag_len, j;

    split_name(name, &stem, &tag, &tag_len);
    if (tag != NULL)
        return strlen(engine) == tag_len &&
               memcmp(tag, engine, tag_len) == 0;
    for (j = 0; j < m->nsql; j++) {
        const char *g = m->sql[j].name;

        split_name(g, &gstem, &gtag, &gtag_len);
        if (gtag != NULL && gstem == stem && memcmp(g, name, stem) == 0 &&
            strlen(engine) == gtag_len && memcmp(gtag, engine, gtag_len) == 0)
            return false; /* overridden by the engine's own file */
    }
    return true;
}

bool floe_models_is_setup(const struct floe_models *m, size_t i)
{
    return m->sql[i].name[0] == '0';
}

const struct floe_model_stream *floe_models_stream(
    const struct floe_models *m, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < m->nstreams; i++)
        if (strlen(m->streams[i].name) == len &&
            memcmp(m->streams[i].name, name, len) == 0)
            return &m->streams[i];
    return NULL;
}

const char *floe_model_table_select(const struct floe_model_table *t,
                                    const char *engine)
{
    const struct floe_config_map *r = floe_config_root(t->decl);
    char key[64];
    const char *v = NULL;

    if ((size_t)snprintf(key, sizeof(key), "select.%s", engine) <
        sizeof(key))
        v = floe_config_get(r, key);
    return v != NULL ? v : floe_config_get(r, "select");
}
