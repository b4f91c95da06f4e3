/* stream.c - delivery-stream registry: sorted array behind a rwlock,
 * persisted to <state-dir>/streams.json with floe_write_file_atomic (temp
 * file, fsync, rename) so a crash leaves the old or the new registry. */
#define FLOE_LOG_MOD "firehose.stream"

#include "firehose/stream.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "firehose/tags.h"
#include "firehose/tz.h"

struct floe_fh_registry {
    pthread_rwlock_t lock;
    char *path;                       /* streams.json */
    struct floe_fh_stream **streams;  /* sorted by name */
    size_t n, cap;
};

static const char *const comp_names[] = { "UNCOMPRESSED", "GZIP", "ZIP",
                                          "Snappy", "HADOOP_SNAPPY" };

const char *floe_fh_compression_name(enum floe_fh_compression c)
{
    return (unsigned)c < 5 ? comp_names[c] : "UNCOMPRESSED";
}

int floe_fh_compression_parse(const char *name)
{
    int i;

    for (i = 0; name != NULL && i < 5; i++)
        if (strcmp(name, comp_names[i]) == 0)
            return i;
    return -1;
}

void floe_fh_stream_free(struct floe_fh_stream *s)
{
    if (s == NULL)
        return;
    free(s->bucket);
    free(s->bucket_arn);
    free(s->role_arn);
    free(s->prefix);
    free(s->error_prefix);
    free(s->time_zone);
    floe_fh_tz_free(s->tz);
    cJSON_Delete(s->tags);
    free(s);
}

static size_t lower_bound(struct floe_fh_registry *r, const char *name)
{
    size_t lo = 0, hi = r->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (strcmp(r->streams[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct floe_fh_stream *floe_fh_registry_find(struct floe_fh_registry *r,
                                             const char *name)
{
    size_t i = lower_bound(r, name);

    return i < r->n && strcmp(r->streams[i]->name, name) == 0 ? r->streams[i]
                                                               : NULL;
}

size_t floe_fh_registry_count(struct floe_fh_registry *r)
{
    return r->n;
}

struct floe_fh_stream *floe_fh_registry_at(struct floe_fh_registry *r,
                                           size_t i)
{
    return i < r->n ? r->streams[i] : NULL;
}

static int insert(struct floe_fh_registry *r, struct floe_fh_stream *s)
{
    size_t i = lower_bound(r, s->name);

    if (i < r->n && strcmp(r->streams[i]->name, s->name) == 0)
        return FLOE_EEXIST;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        void *p = realloc(r->streams, cap * sizeof(*r->streams));

        if (p == NULL)
            return FLOE_ENOMEM;
        r->streams = p;
        r->cap = cap;
    }
    memmove(r->streams + i + 1, r->streams + i,
            (r->n - i) * sizeof(*r->streams));
    r->streams[i] = s;
    r->n++;
    return FLOE_OK;
}

static int add_str(cJSON *o, const char *k, const char *v)
{
    return v == NULL || cJSON_AddStringToObject(o, k, v) != NULL ? FLOE_OK
                                                                 : FLOE_ENOMEM;
}

static int save(struct floe_fh_registry *r)
{
    cJSON *root = cJSON_CreateObject(), *arr = NULL;
    char *text = NULL;
    size_t i;
    int rc = FLOE_ENOMEM;

    if (root == NULL)
        goto cleanup;
    arr = cJSON_AddArrayToObject(root, "streams");
    if (arr == NULL)
        goto cleanup;
    for (i = 0; i < r->n; i++) {
        struct floe_fh_stream *s = r->streams[i];
        cJSON *o = cJSON_CreateObject();

        if (o == NULL)
            goto cleanup;
        cJSON_AddItemToArray(arr, o);
        if (add_str(o, "name", s->name) || add_str(o, "bucket", s->bucket) ||
            add_str(o, "bucket_arn", s->bucket_arn) ||
            add_str(o, "role_arn", s->role_arn) ||
            add_str(o, "prefix", s->prefix) ||
            add_str(o, "error_prefix", s->error_prefix) ||
            add_str(o, "time_zone", s->time_zone) ||
            add_str(o, "compression", floe_fh_compression_name(s->compression)) ||
            !cJSON_AddNumberToObject(o, "size_mb", s->size_mb) ||
            !cJSON_AddNumberToObject(o, "interval_s", s->interval_s) ||
            !cJSON_AddNumberToObject(o, "version", s->version) ||
            !cJSON_AddNumberToObject(o, "create_ts", s->create_ts) ||
            !cJSON_AddNumberToObject(o, "update_ts", s->update_ts) ||
            !cJSON_AddBoolToObject(o, "extended", s->extended))
            goto cleanup;
        if (s->tags != NULL) {
            cJSON *t = floe_fh_tags_copy(s->tags);

            if (t == NULL || !cJSON_AddItemToObject(o, "tags", t)) {
                cJSON_Delete(t);
                goto cleanup;
            }
        }
    }
    text = cJSON_Print(root);
    if (text == NULL)
        goto cleanup;
    rc = floe_write_file_atomic(r->path, text, strlen(text));
    if (rc != FLOE_OK)
        floe_log_error("cannot write %s: %s", r->path, floe_strerror(rc));
cleanup:
    free(text);
    cJSON_Delete(root);
    return rc;
}

static char *dup_member(const cJSON *o, const char *k, bool required,
                        int *rc)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    char *s;

    if (!cJSON_IsString(v)) {
        if (required || v != NULL)
            *rc = FLOE_ECORRUPT;
        return NULL;
    }
    s = strdup(v->valuestring);
    if (s == NULL)
        *rc = FLOE_ENOMEM;
    return s;
}

/* An integer member of a saved stream within [lo, hi]: a damaged file
 * (missing member, 1e300, NaN) is refused, never converted blindly. */
static int int_field(const cJSON *o, const char *name, int lo, int hi,
                     int *out)
{
    double v = cJSON_GetNumberValue(cJSON_GetObjectItem(o, name));

    if (!(v >= lo && v <= hi))
        return FLOE_ECORRUPT;
    *out = (int)v;
    return FLOE_OK;
}

static int load_one(const cJSON *o, struct floe_fh_stream **out)
{
    struct floe_fh_stream *s = calloc(1, sizeof(*s));
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "compression");
    int rc = FLOE_OK;

    if (s == NULL)
        return FLOE_ENOMEM;
    if (!cJSON_IsString(name) || strlen(name->valuestring) == 0 ||
        strlen(name->valuestring) > FLOE_FH_NAME_MAX) {
        free(s);
        return FLOE_ECORRUPT;
    }
    snprintf(s->name, sizeof(s->name), "%s", name->valuestring);
    s->bucket = dup_member(o, "bucket", true, &rc);
    s->bucket_arn = dup_member(o, "bucket_arn", true, &rc);
    s->role_arn = dup_member(o, "role_arn", true, &rc);
    s->prefix = dup_member(o, "prefix", true, &rc);
    s->error_prefix = dup_member(o, "error_prefix", false, &rc);
    s->time_zone = dup_member(o, "time_zone", false, &rc);
    if (rc == FLOE_OK && s->time_zone != NULL) {
        char err[FLOE_ERR_LEN];

        if (floe_fh_tz_load(s->time_zone, &s->tz, err) != FLOE_OK) {
            floe_log_error("stream %s: %s", s->name, err);
            rc = FLOE_ECORRUPT;
        }
    }
    if (floe_fh_compression_parse(cJSON_GetStringValue(c)) < 0)
        rc = FLOE_ECORRUPT;
    else
        s->compression = (enum floe_fh_compression)
            floe_fh_compression_parse(cJSON_GetStringValue(c));
    if (int_field(o, "size_mb", 1, 128, &s->size_mb) != FLOE_OK ||
        int_field(o, "interval_s", 0, 900, &s->interval_s) != FLOE_OK ||
        int_field(o, "version", 1, INT_MAX, &s->version) != FLOE_OK)
        rc = FLOE_ECORRUPT;
    s->create_ts = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "create_ts"));
    if (!isfinite(s->create_ts))
        s->create_ts = 0;
    if (cJSON_IsNumber(cJSON_GetObjectItem(o, "update_ts")))
        s->update_ts =
            cJSON_GetNumberValue(cJSON_GetObjectItem(o, "update_ts"));
    s->extended = cJSON_IsTrue(cJSON_GetObjectItem(o, "extended"));
    if (cJSON_IsObject(cJSON_GetObjectItem(o, "tags"))) {
        s->tags = floe_fh_tags_copy(cJSON_GetObjectItem(o, "tags"));
        if (s->tags == NULL)
            rc = FLOE_ENOMEM;
    }
    if (rc != FLOE_OK) {
        floe_fh_stream_free(s);
        return rc;
    }
    *out = s;
    return FLOE_OK;
}

static int load(struct floe_fh_registry *r, char *err)
{
    struct floe_buf text;
    cJSON *root = NULL;
    const cJSON *arr, *o;
    int rc;

    floe_buf_init(&text, 64 << 20);
    rc = floe_read_file(r->path, &text);
    if (rc == FLOE_ENOTFOUND || !floe_path_exists(r->path)) {
        rc = FLOE_OK; /* first start */
        goto cleanup;
    }
    if (rc != FLOE_OK) {
        floe_err(err, rc, "cannot read %s", r->path);
        goto cleanup;
    }
    root = cJSON_ParseWithLength(text.data ? text.data : "", text.len);
    arr = cJSON_GetObjectItemCaseSensitive(root, "streams");
    if (!cJSON_IsArray(arr)) {
        rc = floe_err(err, FLOE_ECORRUPT,
                      "%s is not a floe stream registry (fix or remove it)",
                      r->path);
        goto cleanup;
    }
    cJSON_ArrayForEach(o, arr) {
        struct floe_fh_stream *s = NULL;

        rc = load_one(o, &s);
        if (rc == FLOE_OK) {
            rc = insert(r, s);
            if (rc != FLOE_OK)
                floe_fh_stream_free(s);
        }
        if (rc != FLOE_OK) {
            floe_err(err, rc == FLOE_ENOMEM ? rc : FLOE_ECORRUPT,
                     "%s: bad or duplicate stream entry (fix or remove it)",
                     r->path);
            rc = rc == FLOE_ENOMEM ? rc : FLOE_ECORRUPT;
            goto cleanup;
        }
    }
cleanup:
    cJSON_Delete(root);
    floe_buf_free(&text);
    return rc;
}

int floe_fh_registry_open(const char *dir, struct floe_fh_registry **out,
                          char *err)
{
    struct floe_fh_registry *r = NULL;
    struct floe_buf path;
    int rc;

    *out = NULL;
    floe_buf_init(&path, 4096);
    rc = floe_mkdirs(dir);
    if (rc != FLOE_OK) {
        floe_err(err, rc, "cannot create state directory %s", dir);
        goto cleanup;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL || floe_buf_addf(&path, "%s/streams.json", dir) != FLOE_OK) {
        free(r);
        r = NULL;
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto cleanup;
    }
    {   /* writers (create/delete) must not starve behind puts */
        pthread_rwlockattr_t attr;

        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(
            &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&r->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
    }
    r->path = floe_buf_take(&path, NULL);
    if (r->path == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    rc = load(r, err);
    if (rc != FLOE_OK)
        goto cleanup;
    *out = r;
    r = NULL;
cleanup:
    floe_fh_registry_close(r);
    floe_buf_free(&path);
    return rc;
}

void floe_fh_registry_close(struct floe_fh_registry *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++)
        floe_fh_stream_free(r->streams[i]);
    free(r->streams);
    free(r->path);
    pthread_rwlock_destroy(&r->lock);
    free(r);
}

void floe_fh_registry_rdlock(struct floe_fh_registry *r)
{
    pthread_rwlock_rdlock(&r->lock);
}

void floe_fh_registry_wrlock(struct floe_fh_registry *r)
{
    pthread_rwlock_wrlock(&r->lock);
}

void floe_fh_registry_unlock(struct floe_fh_registry *r)
{
    pthread_rwlock_unlock(&r->lock);
}

int floe_fh_registry_add(struct floe_fh_registry *r, struct floe_fh_stream *s)
{
    int rc = insert(r, s);

    if (rc != FLOE_OK)
        return rc;
    rc = save(r);
    if (rc != FLOE_OK) { /* undo: the caller keeps `s` */
        size_t i = lower_bound(r, s->name);

        memmove(r->streams + i, r->streams + i + 1,
                (r->n - i - 1) * sizeof(*r->streams));
        r->n--;
    }
    return rc;
}

int floe_fh_registry_save(struct floe_fh_registry *r)
{
    return save(r);
}

int floe_fh_registry_remove(struct floe_fh_registry *r, const char *name,
                            struct floe_fh_stream **out_s)
{
    size_t i = lower_bound(r, name);
    struct floe_fh_stream *s;
    int rc;

    *out_s = NULL;
    if (i >= r->n || strcmp(r->streams[i]->name, name) != 0)
        return FLOE_ENOTFOUND;
    s = r->streams[i];
    memmove(r->streams + i, r->streams + i + 1,
            (r->n - i - 1) * sizeof(*r->streams));
    r->n--;
    rc = save(r);
    if (rc != FLOE_OK) {
        insert(r, s); /* cannot fail: capacity is there */
        return rc;
    }
    *out_s = s;
    return FLOE_OK;
}
