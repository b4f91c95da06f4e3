/* config.c - agent.json reader (config.h). cJSON does the parsing after a
 * comment-stripping pass; each key is looked up in a table of supported
 * keys and a table of Kinesis Agent keys floe knows but ignores. */
#define FLOE_LOG_MOD "agent.config"
#include "agent/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent/batch.h"
#include "agent/jregex.h"
#include "agent/logparse.h"
#include "core/log.h"
#include "core/util.h"

/* Kinesis Agent keys that floe accepts but does not act on (yet). */
static const char *const ignored_top[] = {
    "kinesis.endpoint", "cloudwatch.endpoint", "sts.endpoint",
    "cloudwatch.emitMetrics", "cloudwatch.namespace",
    "cloudwatch.metricsBufferTimeMillis", "cloudwatch.metricsQueueSize",
    "cloudwatch.tagInstance",
    "checkpoints.queryTimeoutSeconds", "checkpoints.connectionTimeoutSeconds",
    "log.emitMetrics", "log.emitInternalMetrics",
    "log.statusReportingPeriodSeconds", "maxSendingThreads",
    "maxSendingThreadsPerCore", "sendingThreadsMaxQueueSize",
    "sendingThreadsKeepAliveMillis", "maxConnections",
    "connectionTimeoutMillis", "socketTimeoutMillis", "connectionTTLMillis",
    "useTcpKeepAlive", "useHttpGzip", "shutdownTimeoutMillis", "userAgent",
    "userAgentOverride", "assumeRoleARN", "assumeRoleExternalId",
    "userDefinedCredentialsProvider.classname",
    "userDefinedCredentialsProvider.location", NULL,
};
static const char *const ignored_flow[] = {
    "maxTimeBetweenFileTrackerRefreshMillis", "publishQueueCapacity",
    "waitOnFullPublishQueueMillis", "waitOnEmptyPublishQueueMillis",
    "partitionKeyOption", NULL,
};

static bool in_list(const char *const *list, const char *k)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, k) == 0)
            return true;
    return false;
}

int floe_agent_json_strip_comments(const char *text, size_t len,
                                   struct floe_buf *out)
{
    size_t i = 0, run = 0;
    bool in_str = false;
    int rc = FLOE_OK;

    floe_buf_reset(out);
    rc = floe_buf_reserve(out, len);
    while (rc == FLOE_OK && i < len) {
        char c = text[i];

        if (in_str) {
            if (c == '\\' && i + 1 < len)
                i++;
            else if (c == '"')
                in_str = false;
            i++;
            continue;
        }
        if (c == '"') {
            in_str = true;
            i++;
            continue;
        }
        if (c == '/' && i + 1 < len &&
            (text[i + 1] == '/' || text[i + 1] == '*')) {
            rc = floe_buf_add(out, text + run, i - run);
            if (text[i + 1] == '/') {
                while (i < len && text[i] != '\n')
                    i++;
            } else {
                i += 2;
                while (i + 1 < len && !(text[i] == '*' && text[i + 1] == '/'))
                    i++;
                i = i + 2 <= len ? i + 2 : len;
                if (rc == FLOE_OK)
                    rc = floe_buf_addc(out, ' ');
            }
            run = i;
            continue;
        }
        i++;
    }
    if (rc == FLOE_OK)
        rc = floe_buf_add(out, text + run, len - run);
    return rc;
}

/* A string value; a number is taken as its text, as Jackson coerces it
 * (a stream named 2024, unquoted in floe.yaml). */
static int get_str(const cJSON *v, const char *key, char **out, char *err)
{
    char num[64];
    char *s;

    if (cJSON_IsNumber(v)) {
        double d = cJSON_GetNumberValue(v);

        /* (the cast is defined only inside the range of long long) */
        if (d >= -0x1p63 && d < 0x1p63 && d == (double)(long long)d)
            snprintf(num, sizeof(num), "%lld", (long long)d);
        else
            snprintf(num, sizeof(num), "%.17g", d);
    } else if (!cJSON_IsString(v)) {
        return floe_err(err, FLOE_EINVAL, "\"%s\" must be a "
                        "string", key);
    }
    s = strdup(cJSON_IsNumber(v) ? num : v->valuestring);
    if (s == NULL)
        return FLOE_ENOMEM;
    free(*out);
    *out = s;
    return FLOE_OK;
}

/* An integer given as a number or a numeric string (Jackson allows it). */
static int get_int(const cJSON *v, const char *key, int64_t lo, int64_t hi,
                   int64_t *out, char *err)
{
    double d;

    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        char *end;

        errno = 0;
        d = strtod(v->valuestring, &end);
        if (end == v->valuestring || *end != '\0' || errno != 0)
            return floe_err(err, FLOE_EINVAL,
                            "\"%s\": '%s' is not a number", key,
                            v->valuestring);
    } else {
        return floe_err(err, FLOE_EINVAL, "\"%s\" must be a "
                        "number", key);
    }
    if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
        return floe_err(err, FLOE_EINVAL,
                        "\"%s\" is %g; it must be a whole "
                        "number from %lld to %lld",
                        key, d, (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return FLOE_OK;
}

/* Keys a log parser takes: logFormat, matchPattern, customFieldNames,
 * jsonFormat. With `required` false and no logFormat, *out stays NULL. */
/* customFieldNames: a non-empty array of strings. On FLOE_OK *out (free()
 * it) borrows the strings of `names`. */
static int get_names(const cJSON *names, const char *opt, const char ***out,
                     size_t *n, char *err)
{
    const cJSON *s;
    const char **list;

    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) == 0)
        return floe_err(err, FLOE_EINVAL, "%s needs \"customFieldNames\": a "
                        "non-empty array of strings", opt);
    list = calloc((size_t)cJSON_GetArraySize(names), sizeof(*list));
    if (list == NULL)
        return FLOE_ENOMEM;
    cJSON_ArrayForEach(s, names) {
        if (!cJSON_IsString(s)) {
            free(list);
            return floe_err(err, FLOE_EINVAL, "%s \"customFieldNames\" must "
                            "hold strings", opt);
        }
        list[(*n)++] = s->valuestring;
    }
    *out = list;
    return FLOE_OK;
}

static int parse_logparser(const cJSON *o, const char *opt, bool required,
                           struct floe_logparse **out, char *err)
{
    const cJSON *fmt, *mp, *names, *jf;
    enum floe_logformat lf;
    const char **list = NULL;
    size_t cnt = 0;
    int rc;

    *out = NULL;
    fmt = cJSON_GetObjectItemCaseSensitive(o, "logFormat");
    mp = cJSON_GetObjectItemCaseSensitive(o, "matchPattern");
    names = cJSON_GetObjectItemCaseSensitive(o, "customFieldNames");
    jf = cJSON_GetObjectItemCaseSensitive(o, "jsonFormat");
    if (jf != NULL && !(cJSON_IsString(jf) &&
                        strcmp(jf->valuestring, "COMPACT") == 0))
        return floe_err(err, FLOE_ENOTSUP, "%s \"jsonFormat\": "
                        "only COMPACT is supported by floe", opt);
    if (fmt == NULL && !required) {
        if (mp != NULL || names != NULL)
            return floe_err(err, FLOE_EINVAL, "%s: "
                            "\"matchPattern\"/\"customFieldNames\" need a "
                            "\"logFormat\"", opt);
        return FLOE_OK;
    }
    if (!cJSON_IsString(fmt) ||
        floe_logformat_parse(fmt->valuestring, &lf) != FLOE_OK)
        return floe_err(err, FLOE_EINVAL, "%s needs \"logFormat\""
                        ": COMMONAPACHELOG, COMBINEDAPACHELOG, APACHEERRORLOG,"
                        " SYSLOG or RFC3339SYSLOG", opt);
    if (mp != NULL && !cJSON_IsString(mp))
        return floe_err(err, FLOE_EINVAL, "%s \"matchPattern\" "
                        "must be a string", opt);
    if (names != NULL) {
        rc = get_names(names, opt, &list, &cnt, err);
        if (rc != FLOE_OK)
            return rc;
    }
    rc = floe_logparse_create(lf, mp ? mp->valuestring : NULL, list, cnt,
                              out, err);
    free(list);
    if (rc != FLOE_OK) {
        char tmp[FLOE_ERR_LEN];

        snprintf(tmp, sizeof(tmp), "%s", err);
        return floe_err(err, rc, "%s", tmp);
    }
    return FLOE_OK;
}

static void warn_keys(const cJSON *o, const char *opt,
                      const char *const *known)
{
    const cJSON *k;

    cJSON_ArrayForEach(k, o) {
        if (!in_list(known, k->string))
            floe_log_warn("%s: unknown key \"%s\" ignored", opt,
                          k->string);
    }
}

static int parse_addmetadata(struct floe_agent_flow *f, const cJSON *o,
                             char *err)
{
    static const char *const known[] = {
        "optionName", "metadata", "timestamp", "logFormat", "matchPattern",
        "customFieldNames", "jsonFormat", NULL,
    };
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
    struct floe_logparse *lp = NULL;
    char *text = NULL;
    bool stamp = false;
    int rc;

    warn_keys(o, "ADDMETADATA", known);
    if (ts != NULL) {
        /* Java: new Boolean(String): "true" in any case, else false. */
        if (cJSON_IsBool(ts))
            stamp = cJSON_IsTrue(ts);
        else if (cJSON_IsString(ts))
            stamp = strcasecmp(ts->valuestring, "true") == 0;
        else
            return floe_err(err, FLOE_EINVAL, "ADDMETADATA "
                            "\"timestamp\" must be \"true\" or \"false\"");
    }
    rc = parse_logparser(o, "ADDMETADATA", false, &lp, err);
    if (rc != FLOE_OK)
        return rc;
    if (md != NULL) {
        text = cJSON_PrintUnformatted(md);
        if (text == NULL) {
            floe_logparse_destroy(lp);
            return FLOE_ENOMEM;
        }
    }
    rc = floe_convert_add_metadata(&f->conv, text, stamp, lp);
    cJSON_free(text);
    return rc;
}

static int parse_options(struct floe_agent_flow *f, const cJSON *arr,
                         char *err)
{
    const cJSON *o;
    int rc = FLOE_OK;

    if (!cJSON_IsArray(arr))
        return floe_err(err, FLOE_EINVAL,
                        "\"dataProcessingOptions\" must be an array");
    cJSON_ArrayForEach(o, arr) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "optionName");
        const cJSON *k;

        if (!cJSON_IsObject(o) || !cJSON_IsString(name))
            return floe_err(err, FLOE_EINVAL, "each "
                            "dataProcessingOptions entry needs an "
                            "\"optionName\"");
        if (strcmp(name->valuestring, "SINGLELINE") == 0) {
            const cJSON *po = cJSON_GetObjectItemCaseSensitive(o,
                                                               "parseOptions");
            bool no_trim = false, esc = false;

            cJSON_ArrayForEach(k, o) {
                if (strcmp(k->string, "optionName") != 0 &&
                    strcmp(k->string, "parseOptions") != 0)
                    floe_log_warn("SINGLELINE: unknown key "
                                  "\"%s\" ignored", k->string);
            }
            if (po != NULL) {
                const cJSON *p;

                if (!cJSON_IsArray(po))
                    return floe_err(err, FLOE_EINVAL,
                                    "SINGLELINE \"parseOptions\" must be an "
                                    "array");
                cJSON_ArrayForEach(p, po) {
                    if (cJSON_IsString(p) &&
                        strcmp(p->valuestring, "NO_TRIM") == 0)
                        no_trim = true;
                    else if (cJSON_IsString(p) &&
                             strcmp(p->valuestring, "ESCAPE_NEW_LINE") == 0)
                        esc = true;
                    else
                        return floe_err(err, FLOE_EINVAL,
                                        "SINGLELINE parseOptions: use "
                                        "NO_TRIM or ESCAPE_NEW_LINE");
                }
            }
            rc = floe_convert_add_singleline(&f->conv, no_trim, esc);
        } else if (strcmp(name->valuestring, "CSVTOJSON") == 0) {
            const cJSON *names, *d;
            const char **list = NULL;
            size_t cnt = 0;
            char delim = ',';

            names = cJSON_GetObjectItemCaseSensitive(o, "customFieldNames");
            d = cJSON_GetObjectItemCaseSensitive(o, "delimiter");
            cJSON_ArrayForEach(k, o) {
                if (strcmp(k->string, "optionName") != 0 &&
                    strcmp(k->string, "customFieldNames") != 0 &&
                    strcmp(k->string, "delimiter") != 0)
                    floe_log_warn("CSVTOJSON: key \"%s\" is not "
                                  "supported by floe; ignored", k->string);
            }
            if (d != NULL) {
                const char *ds = cJSON_IsString(d) ? d->valuestring : "";

                /* Kinesis treats it as a Java regex: allow one character
                 * or one escaped character ("\\|", "\\t"). */
                if (strlen(ds) == 1)
                    delim = ds[0];
                else if (strlen(ds) == 2 && ds[0] == '\\')
                    delim = ds[1] == 't' ? '\t' : ds[1];
                else
                    return floe_err(err, FLOE_EINVAL, "CSVTOJSON "
                                    "\"delimiter\" must be one character "
                                    "(regular expressions are not "
                                    "supported)");
                if (delim == '"' || delim == '\n')
                    return floe_err(err, FLOE_EINVAL, "CSVTOJSON "
                                    "\"delimiter\" cannot be a quote or a "
                                    "newline");
                if ((unsigned char)delim >= 0x80)
                    return floe_err(err, FLOE_EINVAL, "CSVTOJSON "
                                    "\"delimiter\" must be an ASCII "
                                    "character");
            }
            rc = get_names(names, "CSVTOJSON", &list, &cnt, err);
            if (rc != FLOE_OK)
                return rc;
            rc = floe_convert_add_csv(&f->conv, list, cnt, delim, err);
            free(list);
        } else if (strcmp(name->valuestring, "LOGTOJSON") == 0) {
            static const char *const known[] = {
                "optionName", "logFormat", "matchPattern",
                "customFieldNames", "jsonFormat", NULL,
            };
            struct floe_logparse *lp = NULL;

            warn_keys(o, "LOGTOJSON", known);
            rc = parse_logparser(o, "LOGTOJSON", true, &lp, err);
            if (rc == FLOE_OK)
                rc = floe_convert_add_logtojson(&f->conv, lp);
        } else if (strcmp(name->valuestring, "ADDMETADATA") == 0) {
            rc = parse_addmetadata(f, o, err);
        } else if (strcmp(name->valuestring, "ADDEC2METADATA") == 0 ||
                   strcmp(name->valuestring, "ADDBRACKETS") == 0 ||
                   strcmp(name->valuestring, "USINGPLUGGIN") == 0) {
            return floe_err(err, FLOE_ENOTSUP, ""
                            "dataProcessingOptions \"%s\" is not supported "
                            "yet by floe (supported: CSVTOJSON, SINGLELINE, "
                            "LOGTOJSON, ADDMETADATA)",
                            name->valuestring);
        } else {
            return floe_err(err, FLOE_EINVAL, "unknown "
                            "dataProcessingOptions optionName \"%s\"",
                            name->valuestring);
        }
        if (rc != FLOE_OK)
            return rc;
    }
    return FLOE_OK;
}

/* The directory part of a filePattern, as the tailer splits it. */
static void pattern_dir(const char *pattern, char *dir, size_t n)
{
    const char *slash = strrchr(pattern, '/');

    if (slash == NULL)
        snprintf(dir, n, ".");
    else
        snprintf(dir, n, "%.*s",
                 (int)(slash == pattern ? 1 : slash - pattern), pattern);
}

bool floe_agent_conf_path_warning(const char *file_pattern, char *warn)
{
    char dir[PATH_MAX], cwd[PATH_MAX];
    const char *why = NULL;
    struct stat st;
    size_t n = 0;

    warn[0] = '\0';
    pattern_dir(file_pattern, dir, sizeof(dir));
    if (file_pattern[0] != '/') {
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            snprintf(cwd, sizeof(cwd), "(unknown)");
        n += (size_t)snprintf(warn, FLOE_ERR_LEN, "filePattern '%s' is "
                              "relative: floe resolves it against its "
                              "working directory, %.200s; the Kinesis Agent "
                              "needs an absolute path", file_pattern, cwd);
    }
    if (stat(dir, &st) != 0)
        why = errno == ENOENT ? "does not exist (yet); its files are read "
                                "once it is created"
                              : "cannot be examined by this user";
    else if (!S_ISDIR(st.st_mode))
        why = "is not a directory";
    else if (access(dir, R_OK | X_OK) != 0)
        why = "cannot be listed by this user";
    if (why != NULL && n < FLOE_ERR_LEN)
        snprintf(warn + n, FLOE_ERR_LEN - n, "%sdirectory %.200s %s",
                 n > 0 ? "; " : "", dir, why);
    return warn[0] != '\0';
}

/* filePattern errors the tailer would only find when it starts. */
static int check_pattern(const char *pattern, size_t idx, char *err)
{
    char dir[PATH_MAX], warn[FLOE_ERR_LEN];
    size_t len = strlen(pattern);

    if (len == 0 || pattern[len - 1] == '/')
        return floe_err(err, FLOE_EINVAL, "flows[%zu]: filePattern '%s' "
                        "has no file name part", idx, pattern);
    pattern_dir(pattern, dir, sizeof(dir));
    if (strpbrk(dir, "*?[") != NULL)
        return floe_err(err, FLOE_EINVAL, "flows[%zu]: filePattern '%s': "
                        "the directory part must be literal (a glob is "
                        "allowed on the file name only)", idx, pattern);
    if (floe_agent_conf_path_warning(pattern, warn))
        floe_log_warn("flows[%zu]: %s", idx, warn);
    return FLOE_OK;
}

static int parse_flow(struct floe_agent_conf *c, struct floe_agent_flow *f,
                      const cJSON *o, size_t idx, char *err)
{
    const cJSON *k;
    int rc = FLOE_OK;

    f->initial_position = FLOE_AGENT_END_OF_FILE;
    f->max_buffer_age_ms = 60000;
    f->max_buffer_bytes = FLOE_BATCH_MAX_BYTES;
    f->max_buffer_records = FLOE_BATCH_MAX_RECORDS;
    f->poll_ms = 100;
    f->retry_initial_ms = 100;
    f->retry_max_ms = 10000;
    floe_convert_init(&f->conv);
    if (!cJSON_IsObject(o))
        return floe_err(err, FLOE_EINVAL, "flows[%zu] must be "
                        "an object", idx);
    cJSON_ArrayForEach(k, o) {
        const char *key = k->string;

        if (strcmp(key, "filePattern") == 0) {
            rc = get_str(k, key, &f->file_pattern, err);
        } else if (strcmp(key, "deliveryStream") == 0) {
            rc = get_str(k, key, &f->stream, err);
        } else if (strcmp(key, "kinesisStream") == 0) {
            rc = floe_err(err, FLOE_ENOTSUP, "flows[%zu] uses "
                          "\"kinesisStream\": floe agent sends to Firehose "
                          "delivery streams only (use \"deliveryStream\")",
                          idx);
        } else if (strcmp(key, "initialPosition") == 0) {
            if (cJSON_IsString(k) &&
                strcmp(k->valuestring, "END_OF_FILE") == 0)
                f->initial_position = FLOE_AGENT_END_OF_FILE;
            else if (cJSON_IsString(k) &&
                     strcmp(k->valuestring, "START_OF_FILE") == 0)
                f->initial_position = FLOE_AGENT_START_OF_FILE;
            else
                rc = floe_err(err, FLOE_EINVAL, "flows[%zu]: "
                              "\"initialPosition\" must be END_OF_FILE or "
                              "START_OF_FILE", idx);
        } else if (strcmp(key, "maxBufferAgeMillis") == 0) {
            rc = get_int(k, key, 1000, 900000, &f->max_buffer_age_ms, err);
        } else if (strcmp(key, "maxBufferSizeBytes") == 0) {
            rc = get_int(k, key, 1, FLOE_BATCH_MAX_BYTES,
                         &f->max_buffer_bytes, err);
        } else if (strcmp(key, "maxBufferSizeRecords") == 0) {
            rc = get_int(k, key, 1, FLOE_BATCH_MAX_RECORDS,
                         &f->max_buffer_records, err);
        } else if (strcmp(key, "aggregatedRecordSizeBytes") == 0) {
            rc = get_int(k, key, 0, FLOE_RECORD_MAX_BYTES, &f->agg_bytes,
                         err);
        } else if (strcmp(key, "skipHeaderLines") == 0) {
            rc = get_int(k, key, 0, INT32_MAX, &f->skip_header_lines, err);
        } else if (strcmp(key, "minTimeBetweenFilePollsMillis") == 0) {
            rc = get_int(k, key, 1, 60000, &f->poll_ms, err);
        } else if (strcmp(key, "retryInitialBackoffMillis") == 0) {
            rc = get_int(k, key, 1, 600000, &f->retry_initial_ms, err);
        } else if (strcmp(key, "retryMaxBackoffMillis") == 0) {
            rc = get_int(k, key, 1, 600000, &f->retry_max_ms, err);
        } else if (strcmp(key, "truncatedRecordTerminator") == 0) {
            rc = get_str(k, key, &f->trunc_term, err);
            if (rc == FLOE_OK && (strlen(f->trunc_term) == 0 ||
                                  strlen(f->trunc_term) > 63))
                rc = floe_err(err, FLOE_EINVAL, "flows[%zu]: "
                              "\"truncatedRecordTerminator\" must be 1 to 63 "
                              "bytes", idx);
        } else if (strcmp(key, "multiLineStartPattern") == 0) {
            if (!cJSON_IsString(k) || k->valuestring[0] == '\0')
                return floe_err(err, FLOE_EINVAL, "flows[%zu]: "
                                "\"multiLineStartPattern\" must be a "
                                "non-empty string (a regex)", idx);
            floe_jregex_free(f->start_re);
            free(f->start_re);
            f->start_re = calloc(1, sizeof(*f->start_re));
            if (f->start_re == NULL)
                return FLOE_ENOMEM;
            rc = floe_jregex_compile(f->start_re, k->valuestring,
                                     FLOE_JREGEX_PREFIX, NULL, err);
            if (rc != FLOE_OK) {
                char tmp[FLOE_ERR_LEN];

                free(f->start_re);
                f->start_re = NULL;
                snprintf(tmp, sizeof(tmp), "%s", err);
                return floe_err(err, rc, "flows[%zu]: "
                                "multiLineStartPattern: %s", idx, tmp);
            }
        } else if (strcmp(key, "dataProcessingOptions") == 0) {
            rc = parse_options(f, k, err);
        } else if (in_list(ignored_flow, key)) {
            floe_log_warn("flows[%zu]: \"%s\" is not supported "
                          "by floe; ignored", idx, key);
            c->warnings++;
        } else {
            floe_log_warn("flows[%zu]: unknown key \"%s\" "
                          "ignored", idx, key);
            c->warnings++;
        }
        if (rc != FLOE_OK)
            return rc;
    }
    if (f->file_pattern == NULL || f->file_pattern[0] == '\0')
        return floe_err(err, FLOE_EINVAL, "flows[%zu] needs a "
                        "\"filePattern\"", idx);
    rc = check_pattern(f->file_pattern, idx, err);
    if (rc != FLOE_OK)
        return rc;
    if (f->stream == NULL || f->stream[0] == '\0')
        return floe_err(err, FLOE_EINVAL, "flows[%zu] needs a "
                        "\"deliveryStream\"", idx);
    if (f->retry_max_ms < f->retry_initial_ms)
        f->retry_max_ms = f->retry_initial_ms;
    if (f->trunc_term == NULL) {
        f->trunc_term = strdup("\n");
        if (f->trunc_term == NULL)
            return FLOE_ENOMEM;
    }
    f->trunc_term_len = strlen(f->trunc_term);
    {
        struct floe_buf id;

        floe_buf_init(&id, FLOE_BUF_UNLIMITED);
        rc = floe_buf_addf(&id, "fh:%s:%s", f->stream, f->file_pattern);
        f->id = rc == FLOE_OK ? floe_buf_take(&id, NULL) : NULL;
        floe_buf_free(&id);
        if (f->id == NULL)
            return FLOE_ENOMEM;
    }
    return FLOE_OK;
}

int floe_agent_conf_parse(const char *text, size_t len,
                          struct floe_agent_conf *out, char *err)
{
    struct floe_buf clean;
    cJSON *root = NULL;
    const cJSON *k, *flows = NULL;
    size_t i;
    int rc = FLOE_OK;

    memset(out, 0, sizeof(*out));
    out->checkpoint_ttl_days = 7; /* the Kinesis Agent's default */
    floe_buf_init(&clean, FLOE_BUF_UNLIMITED);
    rc = floe_agent_json_strip_comments(text, len, &clean);
    if (rc != FLOE_OK)
        goto cleanup;
    root = cJSON_ParseWithLength(clean.data, clean.len);
    if (root == NULL || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();

        rc = floe_err(err, FLOE_EINVAL, "not a JSON object%s"
                      "%.40s%s", at ? " (error near: " : "", at ? at : "",
                      at ? ")" : "");
        goto cleanup;
    }
    cJSON_ArrayForEach(k, root) {
        const char *key = k->string;

        if (strcmp(key, "firehose.endpoint") == 0)
            rc = get_str(k, key, &out->endpoint, err);
        else if (strcmp(key, "kinesis.region") == 0)
            rc = get_str(k, key, &out->region, err);
        else if (strcmp(key, "awsAccessKeyId") == 0)
            rc = get_str(k, key, &out->access_key, err);
        else if (strcmp(key, "awsSecretAccessKey") == 0)
            rc = get_str(k, key, &out->secret_key, err);
        else if (strcmp(key, "checkpointFile") == 0)
            rc = get_str(k, key, &out->checkpoint_file, err);
        else if (strcmp(key, "checkpointTimeToLiveDays") == 0)
            rc = get_int(k, key, 1, 36500, &out->checkpoint_ttl_days, err);
        else if (strcmp(key, "flows") == 0)
            flows = k;
        else if (in_list(ignored_top, key)) {
            floe_log_warn("\"%s\" is not supported by floe; "
                          "ignored", key);
            out->warnings++;
        } else {
            floe_log_warn("unknown key \"%s\" ignored", key);
            out->warnings++;
        }
        if (rc != FLOE_OK)
            goto cleanup;
    }
    if (!cJSON_IsArray(flows) || cJSON_GetArraySize(flows) == 0) {
        rc = floe_err(err, FLOE_EINVAL, "\"flows\" must be a non-empty "
                      "list of flows");
        goto cleanup;
    }
    out->flows = calloc((size_t)cJSON_GetArraySize(flows),
                        sizeof(*out->flows));
    if (out->flows == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    i = 0;
    cJSON_ArrayForEach(k, flows) {
        out->nflows = i + 1;
        rc = parse_flow(out, &out->flows[i], k, i, err);
        if (rc != FLOE_OK)
            goto cleanup;
        i++;
    }
    for (i = 0; i < out->nflows; i++) {
        size_t j;

        for (j = 0; j < i; j++) {
            if (strcmp(out->flows[i].id, out->flows[j].id) == 0) {
                rc = floe_err(err, FLOE_EINVAL, "flows[%zu] and "
                              "flows[%zu] are the same flow (%s)", j, i,
                              out->flows[i].id);
                goto cleanup;
            }
        }
    }
cleanup:
    if (rc != FLOE_OK)
        floe_agent_conf_free(out);
    cJSON_Delete(root);
    floe_buf_free(&clean);
    return rc;
}

int floe_agent_conf_load(const char *path, struct floe_agent_conf *out,
                         char *err)
{
    struct floe_buf text;
    int rc;

    memset(out, 0, sizeof(*out));
    floe_buf_init(&text, 64 * 1024 * 1024);
    rc = floe_read_file(path, &text);
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc == FLOE_ENOTFOUND ? FLOE_ENOTFOUND : FLOE_EIO,
                      "cannot read agent config %s (%s)", path,
                      floe_strerror(rc));
    } else {
        char why[FLOE_ERR_LEN];

        rc = floe_agent_conf_parse(text.data ? text.data : "", text.len, out,
                                   why);
        if (rc != FLOE_OK)
            floe_err(err, rc, "%s: %s", path, why);
    }
    floe_buf_free(&text);
    return rc;
}

static int env_dup(const char *name, char **out)
{
    const char *v = getenv(name);

    if (*out != NULL || v == NULL || v[0] == '\0')
        return FLOE_OK;
    *out = strdup(v);
    return *out ? FLOE_OK : FLOE_ENOMEM;
}

int floe_agent_conf_env(struct floe_agent_conf *c)
{
    int rc = FLOE_OK;

    /* Never mix a key from the file with a secret from the environment. */
    if (c->access_key == NULL && c->secret_key == NULL) {
        rc = env_dup("AWS_ACCESS_KEY_ID", &c->access_key);
        if (rc == FLOE_OK)
            rc = env_dup("AWS_SECRET_ACCESS_KEY", &c->secret_key);
        if (rc == FLOE_OK)
            rc = env_dup("AWS_SESSION_TOKEN", &c->session_token);
    }
    return rc;
}

void floe_agent_conf_free(struct floe_agent_conf *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->nflows; i++) {
        struct floe_agent_flow *f = &c->flows[i];

        free(f->id);
        free(f->file_pattern);
        free(f->stream);
        free(f->trunc_term);
        floe_jregex_free(f->start_re);
        free(f->start_re);
        floe_convert_free(&f->conv);
    }
    free(c->flows);
    free(c->endpoint);
    free(c->region);
    free(c->access_key);
    if (c->secret_key != NULL)
        memset(c->secret_key, 0, strlen(c->secret_key));
    free(c->secret_key);
    free(c->session_token);
    free(c->checkpoint_file);
    memset(c, 0, sizeof(*c));
}
