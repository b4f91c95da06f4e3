/* admin.c - CreateDeliveryStream, DescribeDeliveryStream,
 * ListDeliveryStreams, DeleteDeliveryStream. Supports DirectPut streams
 * with an (Extended)S3 destination; other sources, destinations and
 * compression formats answer InvalidArgumentException "not supported yet".
 * Wrong JSON types are SerializationException, constraint breaks are
 * ValidationException with AWS's member paths. */
#define FLOE_LOG_MOD "firehose.admin"

#include "firehose/admin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "firehose/prefix.h"

static const char *const other_dests[] = {
    "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",
    "AmazonopensearchserviceDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration",
    "SplunkDestinationConfiguration",
    "HttpEndpointDestinationConfiguration",
    "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration",
    NULL,
};

int floe_fh_admin_not_found(const char *name, struct floe_fh_err *e)
{
    return floe_fh_fail(e, "ResourceNotFoundException",
                        "Firehose %s under account %s not found.", name,
                        FLOE_FH_ACCOUNT);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n < 1 || n > FLOE_FH_NAME_MAX)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int floe_fh_admin_name(const cJSON *req, const char **out_name,
                       struct floe_fh_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req,
                                                      "DeliveryStreamName");

    if (v == NULL || cJSON_IsNull(v))
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'deliveryStreamName' failed to satisfy "
                            "constraint: Member must not be null");
    if (!cJSON_IsString(v))
        return floe_fh_fail(e, "SerializationException",
                            "DeliveryStreamName must be a string");
    if (strlen(v->valuestring) > FLOE_FH_NAME_MAX)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.80s' at "
                            "'deliveryStreamName' failed to satisfy "
                            "constraint: Member must have length less than "
                            "or equal to 64", v->valuestring);
    if (!name_ok(v->valuestring))
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.80s' at "
                            "'deliveryStreamName' failed to satisfy "
                            "constraint: Member must satisfy regular "
                            "expression pattern: [a-zA-Z0-9_.-]+",
                            v->valuestring);
    *out_name = v->valuestring;
    return 0;
}

/* Optional string member: absent/null -> *out NULL. */
static int opt_str(const cJSON *o, const char *k, const char *path,
                   const char **out, struct floe_fh_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return floe_fh_fail(e, "SerializationException",
                            "%s must be a string", path);
    *out = v->valuestring;
    return 0;
}

/* Optional integer member within [lo, hi]; absent keeps *out. */
static int opt_int(const cJSON *o, const char *k, const char *path, int lo,
                   int hi, int *out, struct floe_fh_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return floe_fh_fail(e, "SerializationException",
                            "%s must be an integer", path);
    if (v->valuedouble < lo)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.0f' at "
                            "'%s' failed to satisfy constraint: Member must "
                            "have value greater than or equal to %d",
                            v->valuedouble, path, lo);
    if (v->valuedouble > hi)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.0f' at "
                            "'%s' failed to satisfy constraint: Member must "
                            "have value less than or equal to %d",
                            v->valuedouble, path, hi);
    *out = (int)v->valuedouble;
    return 0;
}

/* A feature block that floe does not implement: refuse it when enabled. */
static int refuse_enabled(const cJSON *cfg, const char *k,
                          struct floe_fh_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, k);

    if (cJSON_IsObject(v) &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "Enabled")))
        return floe_fh_fail(e, "InvalidArgumentException",
                            "%s is not supported yet by floe firehose", k);
    return 0;
}

static int parse_s3(const cJSON *cfg, const char *path,
                    struct floe_fh_stream *s, struct floe_fh_err *e)
{
    const char *bucket_arn, *role, *prefix, *eprefix, *comp;
    const cJSON *hints;
    char p[160], why[FLOE_ERR_LEN];
    const char *b;
    size_t i;
    int rc;

    if (!cJSON_IsObject(cfg))
        return floe_fh_fail(e, "SerializationException",
                            "%s must be an object", path);
    snprintf(p, sizeof(p), "%s.bucketARN", path);
    if (opt_str(cfg, "BucketARN", p, &bucket_arn, e) != 0)
        return -1;
    if (bucket_arn == NULL)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'%s' failed to satisfy constraint: Member must "
                            "not be null", p);
    b = strstr(bucket_arn, ":s3:::");
    if (strncmp(bucket_arn, "arn:", 4) != 0 || b == NULL ||
        strlen(b + 6) < 1 || strlen(b + 6) > 255)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.300s' at "
                            "'%s' failed to satisfy constraint: Member must "
                            "satisfy regular expression pattern: "
                            "arn:.*:s3:::[\\w\\.\\-]{1,255}", bucket_arn, p);
    b += 6;
    for (i = 0; b[i] != '\0'; i++) {
        char c = b[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return floe_fh_fail(e, "ValidationException",
                                "1 validation error detected: Value "
                                "'%.300s' at '%s' failed to satisfy "
                                "constraint: Member must satisfy regular "
                                "expression pattern: "
                                "arn:.*:s3:::[\\w\\.\\-]{1,255}",
                                bucket_arn, p);
    }
    if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
        return floe_fh_fail(e, "InvalidArgumentException",
                            "bucket name '%s' is not usable", b);
    snprintf(p, sizeof(p), "%s.roleARN", path);
    if (opt_str(cfg, "RoleARN", p, &role, e) != 0)
        return -1;
    snprintf(p, sizeof(p), "%s.prefix", path);
    if (opt_str(cfg, "Prefix", p, &prefix, e) != 0)
        return -1;
    snprintf(p, sizeof(p), "%s.errorOutputPrefix", path);
    if (opt_str(cfg, "ErrorOutputPrefix", p, &eprefix, e) != 0)
        return -1;
    rc = floe_fh_prefix_check(prefix, eprefix, why);
    if (rc != FLOE_OK)
        return floe_fh_fail(e, "InvalidArgumentException", "%s", why);

    s->size_mb = 5;
    s->interval_s = 300;
    hints = cJSON_GetObjectItemCaseSensitive(cfg, "BufferingHints");
    if (hints != NULL && !cJSON_IsNull(hints)) {
        if (!cJSON_IsObject(hints))
            return floe_fh_fail(e, "SerializationException",
                                "%s.bufferingHints must be an object", path);
        snprintf(p, sizeof(p), "%s.bufferingHints.sizeInMBs", path);
        if (opt_int(hints, "SizeInMBs", p, 1, 128, &s->size_mb, e) != 0)
            return -1;
        snprintf(p, sizeof(p), "%s.bufferingHints.intervalInSeconds", path);
        if (opt_int(hints, "IntervalInSeconds", p, 0, 900, &s->interval_s,
                    e) != 0)
            return -1;
    }
    snprintf(p, sizeof(p), "%s.compressionFormat", path);
    if (opt_str(cfg, "CompressionFormat", p, &comp, e) != 0)
        return -1;
    if (comp == NULL || strcmp(comp, "UNCOMPRESSED") == 0) {
        s->compression = FLOE_FH_UNCOMPRESSED;
    } else if (strcmp(comp, "GZIP") == 0) {
        s->compression = FLOE_FH_GZIP;
    } else if (strcmp(comp, "ZIP") == 0 || strcmp(comp, "Snappy") == 0 ||
               strcmp(comp, "HADOOP_SNAPPY") == 0) {
        return floe_fh_fail(e, "InvalidArgumentException",
                            "CompressionFormat %s is not supported yet by "
                            "floe firehose (use GZIP or UNCOMPRESSED)", comp);
    } else {
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.64s' at "
                            "'%s' failed to satisfy constraint: Member must "
                            "satisfy enum value set: [UNCOMPRESSED, GZIP, "
                            "ZIP, Snappy, HADOOP_SNAPPY]", comp, p);
    }
    if (refuse_enabled(cfg, "DataFormatConversionConfiguration", e) != 0 ||
        refuse_enabled(cfg, "DynamicPartitioningConfiguration", e) != 0 ||
        refuse_enabled(cfg, "ProcessingConfiguration", e) != 0)
        return -1;

    s->bucket = strdup(b);
    s->bucket_arn = strdup(bucket_arn);
    s->role_arn = strdup(role ? role : "");
    s->prefix = strdup(prefix ? prefix : "");
    s->error_prefix = eprefix ? strdup(eprefix) : NULL;
    if (!s->bucket || !s->bucket_arn || !s->role_arn || !s->prefix ||
        (eprefix && !s->error_prefix))
        return floe_fh_fail(e, "ServiceUnavailableException",
                            "out of memory");
    return 0;
}

int floe_fh_admin_create(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_stream *s = NULL;
    const cJSON *ext, *plain, *cfg;
    const char *name, *type, *path;
    int ndest = 0, i, rc = -1;

    if (floe_fh_admin_name(req, &name, e) != 0)
        return -1;
    if (opt_str(req, "DeliveryStreamType", "deliveryStreamType", &type, e))
        return -1;
    if (type != NULL && strcmp(type, "DirectPut") != 0) {
        if (strcmp(type, "KinesisStreamAsSource") == 0 ||
            strcmp(type, "MSKAsSource") == 0 ||
            strcmp(type, "DatabaseAsSource") == 0)
            return floe_fh_fail(e, "InvalidArgumentException",
                                "DeliveryStreamType %s is not supported yet "
                                "by floe firehose (use DirectPut)", type);
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.64s' at "
                            "'deliveryStreamType' failed to satisfy "
                            "constraint: Member must satisfy enum value "
                            "set: [DirectPut, KinesisStreamAsSource, "
                            "MSKAsSource, DatabaseAsSource]", type);
    }
    ext = cJSON_GetObjectItemCaseSensitive(req,
                                           "ExtendedS3DestinationConfiguration");
    plain = cJSON_GetObjectItemCaseSensitive(req, "S3DestinationConfiguration");
    if (ext != NULL && !cJSON_IsNull(ext))
        ndest++;
    else
        ext = NULL;
    if (plain != NULL && !cJSON_IsNull(plain))
        ndest++;
    else
        plain = NULL;
    for (i = 0; other_dests[i] != NULL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, other_dests[i]);

        if (v != NULL && !cJSON_IsNull(v)) {
            if (ndest == 0 && ext == NULL && plain == NULL)
                return floe_fh_fail(e, "InvalidArgumentException",
                                    "%s is not supported yet by floe "
                                    "firehose (use "
                                    "ExtendedS3DestinationConfiguration)",
                                    other_dests[i]);
            ndest++;
        }
    }
    if (ndest != 1)
        return floe_fh_fail(e, "InvalidArgumentException",
                            ndest == 0 ? "A destination configuration is "
                                         "required (floe supports "
                                         "ExtendedS3DestinationConfiguration)"
                                       : "Exactly one destination "
                                         "configuration is supported for a "
                                         "Firehose");
    cfg = ext ? ext : plain;
    path = ext ? "extendedS3DestinationConfiguration"
               : "s3DestinationConfiguration";
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->extended = ext != NULL;
    s->version = 1;
    s->create_ts = (double)floe_now_ms() / 1000.0;
    if (parse_s3(cfg, path, s, e) != 0)
        goto cleanup;

    floe_fh_registry_wrlock(api->reg);
    if (floe_fh_registry_find(api->reg, name) != NULL) {
        floe_fh_fail(e, "ResourceInUseException",
                     "Firehose %s under accountId %s already exists", name,
                     FLOE_FH_ACCOUNT);
    } else if (floe_fh_deliver_attach(api->dlv, s) != FLOE_OK) {
        floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
    } else if (floe_fh_registry_add(api->reg, s) != FLOE_OK) {
        floe_fh_deliver_detach(api->dlv, s);
        floe_fh_fail(e, "ServiceUnavailableException",
                     "cannot persist the stream registry (disk full?)");
    } else {
        floe_log_info("created stream %s -> %s/%s (%s, %d MiB / %d s)", name,
                      s->bucket, s->prefix,
                      floe_fh_compression_name(s->compression), s->size_mb,
                      s->interval_s);
        s = NULL; /* the registry owns it */
        rc = 0;
    }
    floe_fh_registry_unlock(api->reg);
    if (rc == 0 &&
        floe_buf_addf(out,
                      "{\"DeliveryStreamARN\":\"arn:aws:firehose:%s:%s:"
                      "deliverystream/%s\"}",
                      FLOE_FH_REGION, FLOE_FH_ACCOUNT, name) != FLOE_OK)
        rc = floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
cleanup:
    floe_fh_stream_free(s);
    return rc;
}

static void add_s3_desc(struct floe_buf *o, const struct floe_fh_stream *s,
                        bool extended)
{
    floe_buf_adds(o, "{\"RoleARN\":");
    floe_buf_add_json_str(o, s->role_arn, strlen(s->role_arn));
    floe_buf_adds(o, ",\"BucketARN\":");
    floe_buf_add_json_str(o, s->bucket_arn, strlen(s->bucket_arn));
    floe_buf_adds(o, ",\"Prefix\":");
    floe_buf_add_json_str(o, s->prefix, strlen(s->prefix));
    if (s->error_prefix != NULL) {
        floe_buf_adds(o, ",\"ErrorOutputPrefix\":");
        floe_buf_add_json_str(o, s->error_prefix, strlen(s->error_prefix));
    }
    floe_buf_addf(o,
                  ",\"BufferingHints\":{\"SizeInMBs\":%d,"
                  "\"IntervalInSeconds\":%d},\"CompressionFormat\":\"%s\","
                  "\"EncryptionConfiguration\":{\"NoEncryptionConfig\":"
                  "\"NoEncryption\"},\"CloudWatchLoggingOptions\":"
                  "{\"Enabled\":false}",
                  s->size_mb, s->interval_s,
                  floe_fh_compression_name(s->compression));
    if (extended)
        floe_buf_adds(o, ",\"S3BackupMode\":\"Disabled\"");
    floe_buf_addc(o, '}');
}

int floe_fh_admin_describe(struct floe_fh_api *api, const cJSON *req,
                           struct floe_buf *out, struct floe_fh_err *e)
{
    const struct floe_fh_stream *s;
    const char *name;
    int lim = 10000;
    int rc = 0;

    if (floe_fh_admin_name(req, &name, e) != 0 ||
        opt_int(req, "Limit", "limit", 1, 10000, &lim, e) != 0)
        return -1;
    floe_fh_registry_rdlock(api->reg);
    s = floe_fh_registry_find(api->reg, name);
    if (s == NULL) {
        rc = floe_fh_admin_not_found(name, e);
        goto out;
    }
    floe_buf_addf(out,
                  "{\"DeliveryStreamDescription\":{\"DeliveryStreamName\":"
                  "\"%s\",\"DeliveryStreamARN\":\"arn:aws:firehose:%s:%s:"
                  "deliverystream/%s\",\"DeliveryStreamStatus\":\"ACTIVE\","
                  "\"DeliveryStreamType\":\"DirectPut\",\"VersionId\":\"%d\","
                  "\"CreateTimestamp\":%.3f,\"HasMoreDestinations\":false,"
                  "\"DeliveryStreamEncryptionConfiguration\":{\"Status\":"
                  "\"DISABLED\"},\"Destinations\":[{\"DestinationId\":"
                  "\"destinationId-000000000001\","
                  "\"ExtendedS3DestinationDescription\":",
                  s->name, FLOE_FH_REGION, FLOE_FH_ACCOUNT, s->name,
                  s->version, s->create_ts);
    add_s3_desc(out, s, true);
    floe_buf_adds(out, ",\"S3DestinationDescription\":");
    add_s3_desc(out, s, false);
    if (floe_buf_adds(out, "}]}}") != FLOE_OK)
        rc = floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
out:
    floe_fh_registry_unlock(api->reg);
    return rc;
}

int floe_fh_admin_list(struct floe_fh_api *api, const cJSON *req,
                       struct floe_buf *out, struct floe_fh_err *e)
{
    const char *start, *type;
    int limit = 10, listed = 0;
    size_t i, n;
    bool more = false;

    if (opt_int(req, "Limit", "limit", 1, 10000, &limit, e) != 0 ||
        opt_str(req, "ExclusiveStartDeliveryStreamName",
                "exclusiveStartDeliveryStreamName", &start, e) != 0 ||
        opt_str(req, "DeliveryStreamType", "deliveryStreamType", &type, e))
        return -1;
    floe_buf_adds(out, "{\"DeliveryStreamNames\":[");
    floe_fh_registry_rdlock(api->reg);
    n = floe_fh_registry_count(api->reg);
    /* Every floe stream is DirectPut: another type lists nothing. */
    for (i = 0; i < n && (type == NULL || strcmp(type, "DirectPut") == 0);
         i++) {
        const struct floe_fh_stream *s = floe_fh_registry_at(api->reg, i);

        if (start != NULL && strcmp(s->name, start) <= 0)
            continue;
        if (listed == limit) {
            more = true;
            break;
        }
        if (listed++ > 0)
            floe_buf_addc(out, ',');
        floe_buf_add_json_str(out, s->name, strlen(s->name));
    }
    floe_fh_registry_unlock(api->reg);
    if (floe_buf_addf(out, "],\"HasMoreDeliveryStreams\":%s}",
                      more ? "true" : "false") != FLOE_OK)
        return floe_fh_fail(e, "ServiceUnavailableException",
                            "out of memory");
    return 0;
}

int floe_fh_admin_delete(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_stream *s = NULL;
    const char *name;
    int rc = 0, frc;

    if (floe_fh_admin_name(req, &name, e) != 0)
        return -1;
    floe_fh_registry_wrlock(api->reg);
    if (floe_fh_registry_find(api->reg, name) == NULL) {
        rc = floe_fh_admin_not_found(name, e);
    } else if ((frc = floe_fh_registry_remove(api->reg, name, &s)) !=
               FLOE_OK) {
        rc = floe_fh_fail(e, "ServiceUnavailableException",
                          "cannot persist the stream registry: %s",
                          floe_strerror(frc));
    } else {
        /* Its buffer is sealed and still delivered under its naming. */
        floe_fh_deliver_detach(api->dlv, s);
        floe_log_info("deleted stream %s (buffer flushed)", name);
    }
    floe_fh_registry_unlock(api->reg);
    floe_fh_stream_free(s);
    if (rc == 0)
        floe_buf_adds(out, "{}");
    return rc;
}
