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
 * Each entry becomes a CreateDeliveryStream request body. */
#define FLOE_LOG_MOD "firehose.declare"
#include "firehose/declare.h"

#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"

static const char *const keys[] = { "name", "bucket", "prefix",
                                    "error_prefix", "compression",
                                    "buffer_size_mb", "buffer_interval_s",
                                    NULL };

struct ctx {
    struct floe_fh_api *api;
    char *err;
    const struct floe_config_map *item;
};

static int known_key(const char *key, void *ud)
{
    struct ctx *c = ud;
    size_t i;

    for (i = 0; keys[i] != NULL; i++)
        if (strcmp(key, keys[i]) == 0)
            return 0;
    floe_err(c->err, FLOE_EINVAL,
             "%s: unknown key '%s' in a firehose stream (known: name, "
             "bucket, prefix, error_prefix, compression, buffer_size_mb, "
             "buffer_interval_s)", floe_config_where(c->item), key);
    return FLOE_EINVAL;
}

static int add_str(struct floe_buf *b, const char *name, const char *v)
{
    int rc = floe_buf_addf(b, ",\"%s\":", name);

    return rc == FLOE_OK ? floe_buf_add_json_str(b, v, strlen(v)) : rc;
}

static int add_int(struct ctx *c, struct floe_buf *b, const char *name,
                   const char *key, const char *def)
{
    const char *v = floe_config_get(c->item, key);

    if (v == NULL)
        v = def;
    if (v[0] == '\0' || strspn(v, "0123456789") != strlen(v) ||
        strlen(v) > 9)
        return floe_err(c->err, FLOE_EINVAL, "%s: %s must be a whole "
                        "number, not '%s'", floe_config_where(c->item), key,
                        v);
    return floe_buf_addf(b, "\"%s\":%s", name, v);
}

static int declare_one(const struct floe_config_map *item, void *ud)
{
    struct ctx *c = ud;
    const char *name, *v, *type = NULL;
    struct floe_buf body, out;
    char prefix[1100], arn[300];
    int rc, status;

    c->item = item;
    rc = floe_config_keys(item, known_key, c);
    if (rc != FLOE_OK)
        return rc;
    name = floe_config_get(item, "name");
    if (name == NULL || name[0] == '\0')
        return floe_err(c->err, FLOE_EINVAL, "%s: a firehose stream needs "
                        "a name", floe_config_where(item));
    floe_buf_init(&body, 64 * 1024);
    floe_buf_init(&out, 64 * 1024);
    rc = floe_buf_adds(&body, "{\"DeliveryStreamType\":\"DirectPut\"");
    if (rc == FLOE_OK)
        rc = add_str(&body, "DeliveryStreamName", name);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&body, ",\"ExtendedS3DestinationConfiguration\":"
                                  "{\"RoleARN\":\"arn:aws:iam::123456789012:"
                                  "role/floe\"");
    v = floe_config_get(item, "bucket");
    if ((size_t)snprintf(arn, sizeof(arn), "arn:aws:s3:::%s",
                         v ? v : "landing") >= sizeof(arn))
        rc = floe_err(c->err, FLOE_EINVAL, "%s: bucket name too long",
                      floe_config_where(item));
    if (rc == FLOE_OK)
        rc = add_str(&body, "BucketARN", arn);
    v = floe_config_get(item, "prefix");
    snprintf(prefix, sizeof(prefix), "%s/", name);
    if (rc == FLOE_OK)
        rc = add_str(&body, "Prefix", v ? v : prefix);
    v = floe_config_get(item, "error_prefix");
    if (rc == FLOE_OK && v != NULL)
        rc = add_str(&body, "ErrorOutputPrefix", v);
    v = floe_config_get(item, "compression");
    if (rc == FLOE_OK)
        rc = add_str(&body, "CompressionFormat", v ? v : "GZIP");
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&body, ",\"BufferingHints\":{");
    if (rc == FLOE_OK)
        rc = add_int(c, &body, "SizeInMBs", "buffer_size_mb", "5");
    if (rc == FLOE_OK)
        rc = floe_buf_addc(&body, ',');
    if (rc == FLOE_OK)
        rc = add_int(c, &body, "IntervalInSeconds", "buffer_interval_s",
                     "300");
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&body, "}}}");
    if (rc == FLOE_OK) {
        status = floe_fh_api_call(c->api, "CreateDeliveryStream", body.data,
                                  body.len, &out, &type);
        if (type != NULL && strcmp(type, "ResourceInUseException") == 0)
            floe_log_info("stream %s from %s already exists; kept as is",
                          name, floe_config_where(item));
        else if (type != NULL)
            rc = floe_err(c->err, FLOE_EINVAL, "%s: stream %s: %s (HTTP %d)"
                          " %s", floe_config_where(item), name, type, status,
                          out.data ? out.data : "");
        else
            floe_log_info("created stream %s declared in %s", name,
                          floe_config_where(item));
    }
    floe_buf_free(&body);
    floe_buf_free(&out);
    return rc;
}

int floe_fh_declare_streams(struct floe_fh_api *api, char *err)
{
    const struct floe_config_map *sect =
        floe_config_section(floe_config_current(), "firehose");
    struct ctx c = { api, err, NULL };

    if (sect == NULL)
        return FLOE_OK;
    return floe_config_each(sect, "streams", declare_one, &c, err);
}
