/* declare.c - create the streams listed in floe.yaml at start-up:
 *   firehose:
 *     streams:
 *       - name: orders            # required
 *         bucket: landing         # default landing
 *         prefix: orders/         # default <name>/
 *         error_prefix: errors/orders/!{firehose:error-output-type}/
 *         compression: GZIP       # default GZIP
 *         buffer_size_mb: 5       # default 5
 *         buffer_interval_s: 60   # default 300
 * Each entry becomes a CreateDeliveryStream request body. One checker
 * serves `floe config --check` and the start-up: it runs every check
 * CreateDeliveryStream makes (floe_fh_admin_stream_new) on every entry,
 * refuses a name declared twice, and reports every problem with
 * file:line; the server creates streams only once all entries pass. */
#define FLOE_LOG_MOD "firehose.declare"
#include "firehose/declare.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "firehose/admin.h"

static const char *const keys[] = { "name", "bucket", "prefix",
                                    "error_prefix", "compression",
                                    "buffer_size_mb", "buffer_interval_s",
                                    NULL };

/* One declared stream. */
struct decl {
    const struct floe_config_map *item; /* borrowed from the document */
    const char *name;                   /* borrowed; NULL if absent */
    int line;
    char *body;                         /* CreateDeliveryStream request */
};

struct ctx {
    char *err;     /* the latest problem */
    int problems;  /* how many were found */
    bool to_log;   /* earlier problems go to the log, else to stderr */
    const struct floe_config_map *item;
    struct decl *d;
    size_t n;
};

/* Record a problem: the one before it is printed now, the latest stays in
 * c->err for the caller, so each is printed exactly once. */
static int problem(struct ctx *c, const char *fmt, ...) FLOE_PRINTF(2, 3);
static int problem(struct ctx *c, const char *fmt, ...)
{
    va_list ap;

    if (c->problems++ > 0) {
        if (c->to_log)
            floe_log_error("%s", c->err);
        else
            fprintf(stderr, "floe firehose: %s\n", c->err);
    }
    va_start(ap, fmt);
    vsnprintf(c->err, FLOE_ERR_LEN, fmt, ap);
    va_end(ap);
    return FLOE_EINVAL;
}

static int known_key(const char *key, void *ud)
{
    struct ctx *c = ud;
    size_t i;

    for (i = 0; keys[i] != NULL; i++)
        if (strcmp(key, keys[i]) == 0)
            return 0;
    problem(c, "%s:%d: unknown key '%s' in a firehose stream (known: name, "
            "bucket, prefix, error_prefix, compression, buffer_size_mb, "
            "buffer_interval_s)", floe_config_file(c->item),
            floe_config_line(c->item, key), key);
    return 0; /* go on: report every key */
}

static int add_str(struct floe_buf *b, const char *name, const char *v)
{
    int rc = floe_buf_addf(b, ",\"%s\":", name);

    return rc == FLOE_OK ? floe_buf_add_json_str(b, v, strlen(v)) : rc;
}

/* A whole number stays a JSON number, so CreateDeliveryStream checks its
 * range; anything else would be a SerializationException about JSON the
 * user never wrote. */
static int add_int(struct ctx *c, struct floe_buf *b, const char *name,
                   const char *key, const char *def)
{
    const char *v = floe_config_get(c->item, key);

    if (v == NULL)
        v = def;
    if (v[0] == '\0' || strspn(v, "0123456789") != strlen(v) ||
        strlen(v) > 9)
        return problem(c, "%s:%d: %s must be a whole number, not '%s'",
                       floe_config_file(c->item),
                       floe_config_line(c->item, key), key, v);
    return floe_buf_addf(b, "\"%s\":%s", name, v);
}

/* The request body of one entry; FLOE_EINVAL after a problem. */
static int build_body(struct ctx *c, const char *name, struct floe_buf *body)
{
    const struct floe_config_map *item = c->item;
    const char *v;
    char arn[300];
    int rc;

    rc = floe_buf_adds(body, "{\"DeliveryStreamType\":\"DirectPut\"");
    if (rc == FLOE_OK)
        rc = add_str(body, "DeliveryStreamName", name);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(body, ",\"ExtendedS3DestinationConfiguration\":"
                                 "{\"RoleARN\":\"arn:aws:iam::123456789012:"
                                 "role/floe\"");
    v = floe_config_get(item, "bucket");
    if (rc == FLOE_OK &&
        (size_t)snprintf(arn, sizeof(arn), "arn:aws:s3:::%s",
                         v ? v : "landing") >= sizeof(arn))
        rc = problem(c, "%s:%d: bucket name too long",
                     floe_config_file(item), floe_config_line(item, "bucket"));
    if (rc == FLOE_OK)
        rc = add_str(body, "BucketARN", arn);
    v = floe_config_get(item, "prefix");
    if (rc == FLOE_OK && v != NULL)
        rc = add_str(body, "Prefix", v);
    else if (rc == FLOE_OK) { /* default <name>/ */
        struct floe_buf def;

        floe_buf_init(&def, FLOE_BUF_UNLIMITED);
        rc = floe_buf_addf(&def, "%s/", name);
        if (rc == FLOE_OK)
            rc = add_str(body, "Prefix", def.data);
        floe_buf_free(&def);
    }
    v = floe_config_get(item, "error_prefix");
    if (rc == FLOE_OK && v != NULL)
        rc = add_str(body, "ErrorOutputPrefix", v);
    v = floe_config_get(item, "compression");
    if (rc == FLOE_OK)
        rc = add_str(body, "CompressionFormat", v ? v : "GZIP");
    if (rc == FLOE_OK)
        rc = floe_buf_adds(body, ",\"BufferingHints\":{");
    if (rc == FLOE_OK)
        rc = add_int(c, body, "SizeInMBs", "buffer_size_mb", "5");
    if (rc == FLOE_OK)
        rc = floe_buf_addc(body, ',');
    if (rc == FLOE_OK)
        rc = add_int(c, body, "IntervalInSeconds", "buffer_interval_s",
                     "300");
    if (rc == FLOE_OK)
        rc = floe_buf_adds(body, "}}}");
    return rc;
}

/* Everything CreateDeliveryStream checks, with no side effect. */
static int check_like_create(struct ctx *c, const char *name,
                             const char *body)
{
    struct floe_fh_stream *s = NULL;
    struct floe_fh_err e;
    cJSON *req = cJSON_Parse(body);

    if (req == NULL)
        return problem(c, "out of memory");
    memset(&e, 0, sizeof(e));
    if (floe_fh_admin_stream_new(req, &s, &e) != 0)
        problem(c, "%s: stream %s: %s: %s", floe_config_where(c->item), name,
                e.type ? e.type : "error", e.msg);
    floe_fh_stream_free(s);
    cJSON_Delete(req);
    return e.type != NULL ? FLOE_EINVAL : FLOE_OK;
}

static int check_one(const struct floe_config_map *item, void *ud)
{
    struct ctx *c = ud;
    struct decl *d = &c->d[c->n++];
    struct floe_buf body;
    int before = c->problems, rc;

    c->item = item;
    d->item = item;
    d->name = floe_config_get(item, "name");
    d->line = floe_config_line(item, "name");
    floe_config_keys(item, known_key, c);
    if (d->name == NULL || d->name[0] == '\0') {
        problem(c, "%s: a firehose stream needs a name",
                floe_config_where(item));
        return 0;
    }
    floe_buf_init(&body, 64 * 1024);
    rc = build_body(c, d->name, &body);
    if (rc == FLOE_OK && c->problems == before)
        rc = check_like_create(c, d->name, body.data);
    if (rc == FLOE_OK)
        d->body = floe_buf_take(&body, NULL);
    else if (rc != FLOE_EINVAL)
        problem(c, "%s: %s", floe_config_where(item), floe_strerror(rc));
    floe_buf_free(&body);
    return 0; /* go on: report every entry */
}

static int count_one(const struct floe_config_map *item, void *ud)
{
    (void)item;
    (*(size_t *)ud)++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const struct decl *x = *(const struct decl *const *)a;
    const struct decl *y = *(const struct decl *const *)b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* A name declared twice: sorted, so O(n log n) however many entries. */
static int check_duplicates(struct ctx *c)
{
    struct decl **v;
    size_t i, n = 0;

    v = malloc((c->n + 1) * sizeof(*v));
    if (v == NULL)
        return problem(c, "out of memory");
    for (i = 0; i < c->n; i++)
        if (c->d[i].name != NULL && c->d[i].name[0] != '\0')
            v[n++] = &c->d[i];
    qsort(v, n, sizeof(*v), by_name);
    for (i = 1; i < n; i++)
        if (strcmp(v[i]->name, v[i - 1]->name) == 0)
            problem(c, "%s:%d: firehose stream '%s' is declared twice "
                    "(first at line %d)", floe_config_file(v[i]->item),
                    v[i]->line, v[i]->name, v[i - 1]->line);
    free(v);
    return FLOE_OK;
}

static void decls_free(struct ctx *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        free(c->d[i].body);
    free(c->d);
}

/* Check every entry; on FLOE_OK c->d holds them with their bodies. */
static int check_all(struct ctx *c)
{
    const struct floe_config_map *sect =
        floe_config_section(floe_config_current(), "firehose");
    size_t n = 0;
    int rc;

    rc = floe_config_each(sect, "streams", count_one, &n, c->err);
    if (rc != FLOE_OK || n == 0)
        return rc;
    c->d = calloc(n, sizeof(*c->d));
    if (c->d == NULL)
        return floe_err(c->err, FLOE_ENOMEM, "out of memory");
    floe_config_each(sect, "streams", check_one, c, c->err);
    check_duplicates(c);
    return c->problems > 0 ? FLOE_EINVAL : FLOE_OK;
}

int floe_fh_declare_check(const void *cfg, char *err)
{
    struct ctx c;
    int rc;

    (void)cfg;
    memset(&c, 0, sizeof(c));
    c.err = err;
    rc = check_all(&c);
    decls_free(&c);
    return rc;
}

int floe_fh_declare_streams(struct floe_fh_api *api, char *err)
{
    struct floe_buf out;
    struct ctx c;
    const char *type;
    size_t i;
    int rc, status;

    memset(&c, 0, sizeof(c));
    c.err = err;
    c.to_log = true;
    rc = check_all(&c);
    floe_buf_init(&out, 64 * 1024);
    for (i = 0; rc == FLOE_OK && i < c.n; i++) {
        const struct decl *d = &c.d[i];

        type = NULL;
        floe_buf_reset(&out);
        status = floe_fh_api_call(api, "CreateDeliveryStream", d->body,
                                  strlen(d->body), &out, &type);
        if (type != NULL && strcmp(type, "ResourceInUseException") == 0)
            floe_log_info("stream %s from %s already exists; kept as is",
                          d->name, floe_config_where(d->item));
        else if (type != NULL)
            rc = floe_err(err, FLOE_EINVAL, "%s: stream %s: %s (HTTP %d)"
                          " %s", floe_config_where(d->item), d->name, type,
                          status, out.data ? out.data : "");
        else
            floe_log_info("created stream %s declared in %s", d->name,
                          floe_config_where(d->item));
    }
    floe_buf_free(&out);
    decls_free(&c);
    return rc;
}
