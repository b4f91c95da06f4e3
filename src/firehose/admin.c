/* admin.c - CreateDeliveryStream, DescribeDeliveryStream,
 * ListDeliveryStreams, DeleteDeliveryStream, UpdateDestination. Supports DirectPut streams
 * with an (Extended)S3 destination and every CompressionFormat; other
 * sources and destinations answer InvalidArgumentException "not supported
 * yet".
 * Wrong JSON types are SerializationException, constraint breaks are
 * ValidationException with AWS's member paths. */
#define FLOE_LOG_MOD "firehose.admin"

#include "firehose/admin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "firehose/compress.h"
#include "firehose/prefix.h"
#include "firehose/snappyapi.h"
#include "firehose/tags.h"
#include "firehose/tz.h"
#include "store/store.h"

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

bool floe_fh_admin_name_ok(const char *s)
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
    if (!floe_fh_admin_name_ok(v->valuestring))
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

/* A VersionId string as a number; -1 unless 1..9 decimal digits. */
static long long atoll_ok(const char *v)
{
    long long n = 0;
    size_t i, len = strlen(v);

    if (len == 0 || len > 9)
        return -1;
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    return n;
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

/* Keys the store would refuse (an empty, "." or ".." segment, a leading
 * '/', a control character) are refused now rather than at every flush:
 * the object and error-output keys of `s` (named, configured) are
 * evaluated once at a sample time and checked. A timestamp field never
 * yields an empty segment or a '/', so one time stands for all. */
static int check_keys(const struct floe_fh_stream *s, struct floe_fh_err *e)
{
    const int64_t sample_ms = 1536000000000LL; /* 2018-09-03T18:40:00Z */
    const char *ext = floe_fh_compression_ext(s->compression);
    char why[FLOE_ERR_LEN] = "";
    struct floe_buf key;
    int rc, bad = 0;

    floe_buf_init(&key, FLOE_STORE_KEY_MAX * 4);
    rc = floe_fh_object_key(s->bucket, s->prefix, s->name, s->version,
                            sample_ms, ext, &key, why);
    if (rc == FLOE_OK && floe_store_key_check(key.data) != FLOE_OK)
        bad = 1;
    if (rc == FLOE_OK && bad == 0) {
        floe_buf_reset(&key);
        rc = floe_fh_error_key(s->bucket, s->prefix, s->error_prefix,
                               FLOE_FH_ERROR_TYPE_S3, s->name, s->version,
                               sample_ms, ext, &key, why);
        if (rc == FLOE_OK && floe_store_key_check(key.data) != FLOE_OK)
            bad = 2;
    }
    if (rc != FLOE_OK)
        rc = floe_fh_fail(e, rc == FLOE_ENOMEM ? "ServiceUnavailableException"
                                               : "InvalidArgumentException",
                          "%s", rc == FLOE_ENOMEM ? "out of memory" : why);
    else if (bad != 0)
        rc = floe_fh_fail(e, "InvalidArgumentException",
                          "%s gives object keys the store refuses (e.g. "
                          "'%.300s'): a key must not start with '/' nor "
                          "have an empty, '.' or '..' segment or control "
                          "characters", bad == 1 ? "Prefix"
                                                 : "ErrorOutputPrefix",
                          key.data);
    floe_buf_free(&key);
    return rc == FLOE_OK ? 0 : -1;
}

static int parse_s3(const cJSON *cfg, const char *path,
                    struct floe_fh_stream *s, struct floe_fh_err *e)
{
    const char *bucket_arn, *role, *prefix, *eprefix, *comp, *tzname;
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
    if (floe_store_zone_check(b) != FLOE_OK)
        return floe_fh_fail(e, "InvalidArgumentException",
                            "bucket name '%s' is reserved by floe (its own "
                            "zones and folders in the object store); "
                            "deliver to another bucket, e.g. landing", b);
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
    if (comp == NULL) {
        s->compression = FLOE_FH_UNCOMPRESSED;
    } else if (floe_fh_compression_parse(comp) >= 0) {
        s->compression = (enum floe_fh_compression)
            floe_fh_compression_parse(comp);
    } else {
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value '%.64s' at "
                            "'%s' failed to satisfy constraint: Member must "
                            "satisfy enum value set: [UNCOMPRESSED, GZIP, "
                            "ZIP, Snappy, HADOOP_SNAPPY]", comp, p);
    }
    /* libsnappy is loaded on first use: a stream that could never deliver
     * is refused now rather than failing at its first flush. */
    if ((s->compression == FLOE_FH_SNAPPY ||
         s->compression == FLOE_FH_HADOOP_SNAPPY) &&
        floe_snappyapi_load(why) != FLOE_OK)
        return floe_fh_fail(e, "InvalidArgumentException", "%s", why);
    snprintf(p, sizeof(p), "%s.customTimeZone", path);
    if (opt_str(cfg, "CustomTimeZone", p, &tzname, e) != 0)
        return -1;
    if (tzname != NULL && strlen(tzname) > 50)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value at '%s' "
                            "failed to satisfy constraint: Member must have "
                            "length less than or equal to 50", p);
    if (tzname != NULL && tzname[0] != '\0') {
        if (floe_fh_tz_load(tzname, &s->tz, why) != FLOE_OK)
            return floe_fh_fail(e, "InvalidArgumentException",
                                "CustomTimeZone: %s", why);
        s->time_zone = strdup(tzname);
        if (s->time_zone == NULL)
            return floe_fh_fail(e, "ServiceUnavailableException",
                                "out of memory");
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
    return check_keys(s, e);
}

int floe_fh_admin_stream_new(const cJSON *req,
                             struct floe_fh_stream **out_s,
                             struct floe_fh_err *e)
{
    struct floe_fh_stream *s = NULL;
    const cJSON *ext, *plain, *cfg;
    const char *name, *type, *path;
    int ndest = 0, i;

    *out_s = NULL;
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
    if (parse_s3(cfg, path, s, e) != 0 ||
        floe_fh_tags_apply(s, cJSON_GetObjectItemCaseSensitive(req, "Tags"),
                           e) != 0) {
        floe_fh_stream_free(s);
        return -1;
    }
    *out_s = s;
    return 0;
}

int floe_fh_admin_create(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_stream *s = NULL;
    char name[FLOE_FH_NAME_MAX + 1]; /* s belongs to the registry later */
    int rc = -1;

    if (floe_fh_admin_stream_new(req, &s, e) != 0)
        return -1;
    memcpy(name, s->name, sizeof(name));
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
    if (extended && s->time_zone != NULL) {
        floe_buf_adds(o, ",\"CustomTimeZone\":");
        floe_buf_add_json_str(o, s->time_zone, strlen(s->time_zone));
    }
    floe_buf_addc(o, '}');
}

int floe_fh_admin_describe(struct floe_fh_api *api, const cJSON *req,
                           struct floe_buf *out, struct floe_fh_err *e)
{
    const struct floe_fh_stream *s;
    const char *name;
    char upd[64];
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
    upd[0] = '\0';
    if (s->update_ts > 0)
        snprintf(upd, sizeof(upd), "\"LastUpdateTimestamp\":%.3f,",
                 s->update_ts);
    floe_buf_addf(out,
                  "{\"DeliveryStreamDescription\":{\"DeliveryStreamName\":"
                  "\"%s\",\"DeliveryStreamARN\":\"arn:aws:firehose:%s:%s:"
                  "deliverystream/%s\",\"DeliveryStreamStatus\":\"ACTIVE\","
                  "\"DeliveryStreamType\":\"DirectPut\",\"VersionId\":\"%d\","
                  "\"CreateTimestamp\":%.3f,%s\"HasMoreDestinations\":false,"
                  "\"DeliveryStreamEncryptionConfiguration\":{\"Status\":"
                  "\"DISABLED\"},\"Destinations\":[{\"DestinationId\":"
                  "\"destinationId-000000000001\","
                  "\"ExtendedS3DestinationDescription\":",
                  s->name, FLOE_FH_REGION, FLOE_FH_ACCOUNT, s->name,
                  s->version, s->create_ts, upd);
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
        /* Its buffer is sealed and tried once more under its naming;
         * nothing of it is retried past that (error output, then WAL). */
        floe_fh_deliver_delete(api->dlv, s);
        floe_log_info("deleted stream %s (buffer flushed)", name);
    }
    floe_fh_registry_unlock(api->reg);
    floe_fh_stream_free(s);
    if (rc == 0)
        floe_buf_adds(out, "{}");
    return rc;
}

/* The stream's current destination as a configuration object, so that an
 * update can be overlaid on it and re-validated by parse_s3. */
static cJSON *current_cfg(const struct floe_fh_stream *s)
{
    cJSON *o = cJSON_CreateObject(), *h;

    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "BucketARN", s->bucket_arn);
    cJSON_AddStringToObject(o, "RoleARN", s->role_arn);
    cJSON_AddStringToObject(o, "Prefix", s->prefix);
    if (s->error_prefix != NULL)
        cJSON_AddStringToObject(o, "ErrorOutputPrefix", s->error_prefix);
    if (s->time_zone != NULL)
        cJSON_AddStringToObject(o, "CustomTimeZone", s->time_zone);
    cJSON_AddStringToObject(o, "CompressionFormat",
                            floe_fh_compression_name(s->compression));
    h = cJSON_AddObjectToObject(o, "BufferingHints");
    if (h != NULL) {
        cJSON_AddNumberToObject(h, "SizeInMBs", s->size_mb);
        cJSON_AddNumberToObject(h, "IntervalInSeconds", s->interval_s);
    }
    return o;
}

/* Append a deep copy of `v` to `o` under `k`; -1 when out of memory. */
static int add_copy(cJSON *o, const char *k, const cJSON *v)
{
    cJSON *c = cJSON_Duplicate(v, 1);

    if (c == NULL || !cJSON_AddItemToObject(o, k, c)) {
        cJSON_Delete(c);
        return -1;
    }
    return 0;
}

/* Move the configuration of `from` into `to` (names, version, slot and
 * timestamps of `to` stay); `from` keeps the old strings to free. */
static void swap_cfg(struct floe_fh_stream *to, struct floe_fh_stream *from)
{
    struct floe_fh_stream t = *to;

#define SWAP(m) do { to->m = from->m; from->m = t.m; } while (0)
    SWAP(bucket);
    SWAP(bucket_arn);
    SWAP(role_arn);
    SWAP(prefix);
    SWAP(error_prefix);
    SWAP(time_zone);
    SWAP(tz);
    SWAP(size_mb);
    SWAP(interval_s);
    SWAP(compression);
#undef SWAP
}

int floe_fh_admin_update(struct floe_fh_api *api, const cJSON *req,
                         struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_stream *s, *fresh = NULL;
    const cJSON *upd, *ext, *plain, *v;
    const char *name, *ver, *dest;
    cJSON *merged = NULL, *cur = NULL;
    int rc = -1, saved;

    if (floe_fh_admin_name(req, &name, e) != 0 ||
        opt_str(req, "CurrentDeliveryStreamVersionId",
                "currentDeliveryStreamVersionId", &ver, e) != 0 ||
        opt_str(req, "DestinationId", "destinationId", &dest, e) != 0)
        return -1;
    if (ver == NULL || dest == NULL)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'%s' failed to satisfy constraint: Member must "
                            "not be null",
                            ver == NULL ? "currentDeliveryStreamVersionId"
                                        : "destinationId");
    ext = cJSON_GetObjectItemCaseSensitive(req, "ExtendedS3DestinationUpdate");
    plain = cJSON_GetObjectItemCaseSensitive(req, "S3DestinationUpdate");
    if (cJSON_IsNull(ext))
        ext = NULL;
    if (cJSON_IsNull(plain))
        plain = NULL;
    if ((ext != NULL) + (plain != NULL) != 1)
        return floe_fh_fail(e, "InvalidArgumentException",
                            "Exactly one S3 destination update "
                            "(ExtendedS3DestinationUpdate or "
                            "S3DestinationUpdate) is supported");
    upd = ext ? ext : plain;
    if (!cJSON_IsObject(upd))
        return floe_fh_fail(e, "SerializationException",
                            "the destination update must be an object");

    floe_fh_registry_wrlock(api->reg);
    s = floe_fh_registry_find(api->reg, name);
    if (s == NULL) {
        floe_fh_admin_not_found(name, e);
        goto out;
    }
    if (strcmp(dest, "destinationId-000000000001") != 0) {
        floe_fh_fail(e, "InvalidArgumentException",
                     "Destination %.64s not found for firehose %s", dest,
                     name);
        goto out;
    }
    if (atoll_ok(ver) != s->version) {
        floe_fh_fail(e, "ConcurrentModificationException",
                     "Cannot update firehose: %s since the current version "
                     "id: %d and the specified version id: %.32s do not "
                     "match", name, s->version, ver);
        goto out;
    }
    cur = current_cfg(s);
    merged = cJSON_CreateObject();
    fresh = calloc(1, sizeof(*fresh));
    if (cur == NULL || merged == NULL || fresh == NULL) {
        floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
        goto out;
    }
    /* named like the stream it becomes, for the key check */
    memcpy(fresh->name, s->name, sizeof(fresh->name));
    fresh->version = s->version + 1;
    /* Built by appending only (cJSON 1.7.15's Replace/Insert are buggy):
     * current members, overridden by the update, then new members. */
    cJSON_ArrayForEach(v, cur) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(upd, v->string);

        if (add_copy(merged, v->string, u != NULL ? u : v) != 0)
            goto oom;
    }
    cJSON_ArrayForEach(v, upd)
        if (cJSON_GetObjectItemCaseSensitive(cur, v->string) == NULL &&
            add_copy(merged, v->string, v) != 0)
            goto oom;
    /* Members given in the update replace the old ones whole (so do
     * BufferingHints: AWS wants both hints or neither). */
    if (parse_s3(merged, ext ? "extendedS3DestinationUpdate"
                             : "s3DestinationUpdate", fresh, e) != 0)
        goto out;
    /* New configuration from the next buffer on: seal the current one
     * under the old naming, then swap and re-attach. */
    floe_fh_deliver_detach(api->dlv, s);
    swap_cfg(s, fresh);
    s->version++;
    s->update_ts = (double)floe_now_ms() / 1000.0;
    saved = floe_fh_registry_save(api->reg);
    if (floe_fh_deliver_attach(api->dlv, s) != FLOE_OK) {
        floe_log_error("%s: out of memory re-attaching after update", name);
        floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
        goto out;
    }
    if (saved != FLOE_OK) { /* undo: the file still has the old config */
        floe_fh_deliver_detach(api->dlv, s);
        swap_cfg(s, fresh);
        s->version--;
        floe_fh_deliver_attach(api->dlv, s);
        floe_fh_fail(e, "ServiceUnavailableException",
                     "cannot persist the stream registry (disk full?)");
        goto out;
    }
    floe_log_info("updated stream %s to version %d (%s/%s, %s, %d MiB / "
                  "%d s)", name, s->version, s->bucket, s->prefix,
                  floe_fh_compression_name(s->compression), s->size_mb,
                  s->interval_s);
    rc = 0;
    floe_buf_adds(out, "{}");
    goto out;
oom:
    floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
out:
    floe_fh_registry_unlock(api->reg);
    cJSON_Delete(cur);
    cJSON_Delete(merged);
    floe_fh_stream_free(fresh);
    return rc;
}
