/* prefix.c - Firehose prefix expressions: rule checks, UTC evaluation and
 * object key naming. The Java DateTimeFormatter subset is interpreted
 * directly (no strftime), so a pattern either formats exactly or is
 * rejected at CreateDeliveryStream time with the reason. */
#define FLOE_LOG_MOD "firehose.prefix"

#include "firehose/prefix.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

static const char *const month_short[] = { "Jan", "Feb", "Mar", "Apr",
                                           "May", "Jun", "Jul", "Aug",
                                           "Sep", "Oct", "Nov", "Dec" };
static const char *const month_long[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"
};

static int add_num(struct floe_buf *out, long v, int width)
{
    return floe_buf_addf(out, "%0*ld", width, v);
}

/* Format one Java pattern (`p`, `n` bytes) at tm/ms; out may be NULL to
 * only validate. */
static int fmt_pattern(const char *p, size_t n, const struct tm *tm, int ms,
                       struct floe_buf *out, char *err)
{
    size_t i = 0;
    int rc = FLOE_OK;

    while (i < n && rc == FLOE_OK) {
        char c = p[i];
        size_t run = 1;

        if (c == '\'') { /* quoted literal; '' is a quote */
            if (i + 1 < n && p[i + 1] == '\'') {
                if (out)
                    rc = floe_buf_addc(out, '\'');
                i += 2;
                continue;
            }
            i++;
            for (;;) {
                if (i >= n)
                    return floe_err(err, FLOE_EINVAL,
                                    "unterminated quote in timestamp "
                                    "pattern '%.*s'", (int)n, p);
                if (p[i] == '\'' && i + 1 < n && p[i + 1] == '\'') {
                    if (out)
                        rc = floe_buf_addc(out, '\'');
                    i += 2;
                } else if (p[i] == '\'') {
                    i++;
                    break;
                } else {
                    if (out)
                        rc = floe_buf_addc(out, p[i]);
                    i++;
                }
                if (rc != FLOE_OK)
                    return rc;
            }
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            if (out)
                rc = floe_buf_addc(out, c);
            i++;
            continue;
        }
        while (i + run < n && p[i + run] == c)
            run++;
        switch (c) {
        case 'y':
        case 'u':
            if (out)
                rc = run == 2 ? add_num(out, (tm->tm_year + 1900) % 100, 2)
                              : add_num(out, tm->tm_year + 1900, (int)run);
            break;
        case 'M':
        case 'L':
            if (run > 4)
                goto bad;
            if (out == NULL)
                break;
            if (run <= 2)
                rc = add_num(out, tm->tm_mon + 1, (int)run);
            else
                rc = floe_buf_adds(out, run == 3 ? month_short[tm->tm_mon]
                                                 : month_long[tm->tm_mon]);
            break;
        case 'd':
        case 'H':
        case 'm':
        case 's':
            if (run > 2)
                goto bad;
            if (out) {
                long v = c == 'd'   ? tm->tm_mday
                         : c == 'H' ? tm->tm_hour
                         : c == 'm' ? tm->tm_min
                                    : tm->tm_sec;
                rc = add_num(out, v, (int)run);
            }
            break;
        case 'D':
            if (run > 3)
                goto bad;
            if (out)
                rc = add_num(out, tm->tm_yday + 1, (int)run);
            break;
        case 'S': { /* fraction of second, `run` digits */
            char digits[16];
            size_t k;

            if (run > 9)
                goto bad;
            snprintf(digits, sizeof(digits), "%03d000000", ms);
            for (k = 0; out && k < run && rc == FLOE_OK; k++)
                rc = floe_buf_addc(out, digits[k]);
            break;
        }
        default:
            goto bad;
        }
        i += run;
    }
    return rc;
bad:
    return floe_err(err, FLOE_EINVAL,
                    "unsupported letter '%c' in timestamp pattern '%.*s' "
                    "(use yyyy, MM, dd, HH, mm, ss, DDD, SSS or quoted text)",
                    p[i], (int)n, p);
}

enum expr_kind { EX_TIMESTAMP, EX_RANDOM, EX_ERRTYPE, EX_PARTITION };

/* Parse the expression starting at s ("!{" already seen at s[0..1]).
 * Fills kind, value span and total length. */
static int parse_expr(const char *s, enum expr_kind *kind, const char **val,
                      size_t *val_len, size_t *total, char *err)
{
    const char *end = strchr(s + 2, '}');
    const char *colon;
    size_t ns_len;

    if (end == NULL)
        return floe_err(err, FLOE_EINVAL,
                        "'!{' must start a complete expression like "
                        "!{timestamp:yyyy} (no closing '}')");
    colon = memchr(s + 2, ':', (size_t)(end - (s + 2)));
    if (colon == NULL)
        return floe_err(err, FLOE_EINVAL,
                        "expression '%.*s' lacks 'namespace:value'",
                        (int)(end - s + 1), s);
    ns_len = (size_t)(colon - (s + 2));
    *val = colon + 1;
    *val_len = (size_t)(end - colon - 1);
    *total = (size_t)(end - s + 1);
    if (ns_len == 9 && strncmp(s + 2, "timestamp", 9) == 0) {
        *kind = EX_TIMESTAMP;
        if (*val_len == 0)
            return floe_err(err, FLOE_EINVAL, "empty timestamp pattern");
        return fmt_pattern(*val, *val_len, NULL, 0, NULL, err);
    }
    if (ns_len == 8 && strncmp(s + 2, "firehose", 8) == 0) {
        if (*val_len == 13 && strncmp(*val, "random-string", 13) == 0) {
            *kind = EX_RANDOM;
            return FLOE_OK;
        }
        if (*val_len == 17 && strncmp(*val, "error-output-type", 17) == 0) {
            *kind = EX_ERRTYPE;
            return FLOE_OK;
        }
        return floe_err(err, FLOE_EINVAL,
                        "unknown firehose expression '%.*s' (use "
                        "random-string or error-output-type)",
                        (int)*val_len, *val);
    }
    if ((ns_len == 21 && strncmp(s + 2, "partitionKeyFromQuery", 21) == 0) ||
        (ns_len == 22 && strncmp(s + 2, "partitionKeyFromLambda", 22) == 0)) {
        *kind = EX_PARTITION;
        return floe_err(err, FLOE_ENOTSUP,
                        "dynamic partitioning (%.*s) is not supported yet",
                        (int)ns_len, s + 2);
    }
    return floe_err(err, FLOE_EINVAL,
                    "unknown expression namespace '%.*s' (use timestamp or "
                    "firehose)", (int)ns_len, s + 2);
}

/* Walk a prefix: count expressions per kind; validates each. */
static int scan(const char *p, int counts[4], char *err)
{
    size_t i = 0, n = strlen(p);
    int rc;

    memset(counts, 0, 4 * sizeof(int));
    while (i < n) {
        enum expr_kind kind;
        const char *val;
        size_t vlen, total;

        if (p[i] != '!' || i + 1 >= n || p[i + 1] != '{') {
            i++;
            continue;
        }
        rc = parse_expr(p + i, &kind, &val, &vlen, &total, err);
        if (rc != FLOE_OK)
            return rc;
        counts[kind]++;
        i += total;
    }
    return FLOE_OK;
}

int floe_fh_prefix_check(const char *prefix, const char *error_prefix,
                         char *err)
{
    /* 2018-09-30T23:59:59.999Z, 2018-12-31T23:59:59.999Z (see rule 6) */
    static const int64_t widest[2] = { 1538351999999LL, 1546300799999LL };
    int pc[4], ec[4], rc, i;
    char sub[FLOE_ERR_LEN];
    struct floe_buf tmp;

    if (prefix != NULL && strlen(prefix) > FLOE_FH_PREFIX_MAX)
        return floe_err(err, FLOE_EINVAL, "Prefix is longer than %d characters",
                        FLOE_FH_PREFIX_MAX);
    if (error_prefix != NULL && strlen(error_prefix) > FLOE_FH_PREFIX_MAX)
        return floe_err(err, FLOE_EINVAL,
                        "ErrorOutputPrefix is longer than %d characters",
                        FLOE_FH_PREFIX_MAX);
    memset(pc, 0, sizeof(pc));
    memset(ec, 0, sizeof(ec));
    if (prefix != NULL) {
        if (strstr(prefix, "error-output-type") != NULL)
            return floe_err(err, FLOE_EINVAL,
                            "Prefix must not contain error-output-type; it "
                            "is allowed only in ErrorOutputPrefix");
        rc = scan(prefix, pc, sub);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "Prefix: %s", sub);
    }
    if (error_prefix != NULL) {
        rc = scan(error_prefix, ec, sub);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "ErrorOutputPrefix: %s", sub);
    }
    if (pc[EX_TIMESTAMP] + pc[EX_RANDOM] > 0 &&
        (error_prefix == NULL || error_prefix[0] == '\0'))
        return floe_err(err, FLOE_EINVAL,
                        "ErrorOutputPrefix must be given when Prefix uses "
                        "expressions");
    if (ec[EX_TIMESTAMP] + ec[EX_RANDOM] + ec[EX_ERRTYPE] > 0 &&
        ec[EX_ERRTYPE] == 0)
        return floe_err(err, FLOE_EINVAL,
                        "ErrorOutputPrefix with expressions must contain "
                        "!{firehose:error-output-type}");
    /* Rule 6: at most 512 characters after evaluation, at any time. Only
     * field widths vary: month names and one-letter fields (M d H m s D)
     * one or two digits. The first time has the widest name (September),
     * the second the widest numbers, and both two-digit days, hours,
     * minutes, seconds and three-digit days of year: the longer of the
     * two is the longest a prefix gets. The error type is the longest
     * floe writes, and an ErrorOutputPrefix gets the default time path as
     * when delivery evaluates it. */
    floe_buf_init(&tmp, 1 << 16);
    rc = FLOE_OK;
    for (i = 0; i < 2 && rc == FLOE_OK; i++) {
        floe_buf_reset(&tmp);
        rc = floe_fh_prefix_eval(prefix, widest[i], NULL, 1, &tmp, sub);
        if (rc == FLOE_OK && tmp.len > FLOE_FH_PREFIX_EVAL_MAX)
            rc = floe_err(sub, FLOE_EINVAL, "evaluates to %zu characters",
                          tmp.len);
        if (rc != FLOE_OK) {
            floe_buf_free(&tmp);
            return floe_err(err, FLOE_EINVAL, "Prefix: %s (at most %d)",
                            sub, FLOE_FH_PREFIX_EVAL_MAX);
        }
        floe_buf_reset(&tmp);
        if (error_prefix != NULL && error_prefix[0] != '\0')
            rc = floe_fh_prefix_eval(error_prefix, widest[i],
                                     "format-conversion-failed", 1, &tmp,
                                     sub);
        if (rc != FLOE_OK)
            rc = floe_err(err, rc, "ErrorOutputPrefix: %s", sub);
        else if (tmp.len > FLOE_FH_PREFIX_EVAL_MAX)
            rc = floe_err(err, FLOE_EINVAL,
                          "ErrorOutputPrefix evaluates to %zu characters (at "
                          "most %d)", tmp.len, FLOE_FH_PREFIX_EVAL_MAX);
    }
    floe_buf_free(&tmp);
    return rc;
}

static int add_random(struct floe_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[10];
    char s[12];
    int i, rc;

    rc = floe_random(r, sizeof(r));
    if (rc != FLOE_OK)
        return rc;
    for (i = 0; i < 11; i++) /* "046b6c7f-0b": 8 hex, '-', 2 hex */
        s[i] = i == 8 ? '-' : hex[r[i < 8 ? i : i - 1] & 15];
    s[11] = '\0';
    return floe_buf_add(out, s, 11);
}

int floe_fh_prefix_eval(const char *prefix, int64_t ms, const char *error_type,
                        int add_default, struct floe_buf *out, char *err)
{
    time_t t = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    struct tm tm;
    size_t i = 0, n, start = out->len;
    int has_ts = 0, rc = FLOE_OK;

    if (prefix == NULL)
        prefix = "";
    n = strlen(prefix);
    if (gmtime_r(&t, &tm) == NULL)
        return floe_err(err, FLOE_EINVAL, "time out of range");
    while (i < n && rc == FLOE_OK) {
        enum expr_kind kind;
        const char *val;
        size_t vlen, total, lit = i;

        while (i < n && !(prefix[i] == '!' && i + 1 < n && prefix[i + 1] == '{'))
            i++;
        if (i > lit)
            rc = floe_buf_add(out, prefix + lit, i - lit);
        if (rc != FLOE_OK || i >= n)
            break;
        rc = parse_expr(prefix + i, &kind, &val, &vlen, &total, err);
        if (rc != FLOE_OK)
            break;
        switch (kind) {
        case EX_TIMESTAMP:
            has_ts = 1;
            rc = fmt_pattern(val, vlen, &tm, frac, out, err);
            break;
        case EX_RANDOM:
            rc = add_random(out);
            break;
        case EX_ERRTYPE:
            rc = error_type == NULL
                     ? floe_err(err, FLOE_EINVAL,
                                "error-output-type is allowed only in "
                                "ErrorOutputPrefix")
                     : floe_buf_adds(out, error_type);
            break;
        default:
            rc = floe_err(err, FLOE_ENOTSUP, "unsupported expression");
            break;
        }
        i += total;
    }
    if (rc == FLOE_OK && add_default && !has_ts)
        rc = fmt_pattern("yyyy/MM/dd/HH/", 14, &tm, frac, out, err);
    if (rc != FLOE_OK && out->len > start) {
        out->len = start; /* leave out as it was */
        out->data[start] = '\0';
    }
    return rc;
}

/* Shared by the two key builders: `eval` appends the evaluated prefix. */
static int name_key(const char *bucket, const char *stream, int version,
                    int64_t ms, const char *ext, struct floe_buf *out,
                    char *err, const char *prefix, const char *error_prefix,
                    const char *etype);

int floe_fh_object_key(const char *bucket, const char *prefix,
                       const char *stream, int version, int64_t ms,
                       const char *ext, struct floe_buf *out, char *err)
{
    return name_key(bucket, stream, version, ms, ext, out, err, prefix, NULL,
                    NULL);
}

int floe_fh_error_key(const char *bucket, const char *prefix,
                      const char *error_prefix, const char *etype,
                      const char *stream, int version, int64_t ms,
                      const char *ext, struct floe_buf *out, char *err)
{
    return name_key(bucket, stream, version, ms, ext, out, err,
                    prefix ? prefix : "",
                    error_prefix ? error_prefix : "", etype);
}

static int name_key(const char *bucket, const char *stream, int version,
                    int64_t ms, const char *ext, struct floe_buf *out,
                    char *err, const char *prefix, const char *error_prefix,
                    const char *etype)
{
    char uuid[FLOE_UUID_LEN + 1];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    int rc;

    if (gmtime_r(&t, &tm) == NULL)
        return floe_err(err, FLOE_EINVAL, "time out of range");
    rc = floe_uuid(uuid);
    if (rc == FLOE_OK)
        rc = floe_buf_addf(out, "%s/", bucket);
    if (rc == FLOE_OK && etype == NULL) {
        rc = floe_fh_prefix_eval(prefix, ms, NULL, 1, out, err);
    } else if (rc == FLOE_OK && error_prefix[0] != '\0') {
        rc = floe_fh_prefix_eval(error_prefix, ms, etype, 1, out, err);
    } else if (rc == FLOE_OK) { /* rule 7: <Prefix><type>/yyyy/MM/dd/HH/ */
        rc = floe_fh_prefix_eval(prefix, ms, NULL, 0, out, err);
        if (rc == FLOE_OK)
            rc = floe_buf_addf(out, "%s/", etype);
        if (rc == FLOE_OK)
            rc = floe_fh_prefix_eval(NULL, ms, NULL, 1, out, err);
    }
    if (rc == FLOE_OK)
        rc = floe_buf_addf(out, "%s-%d-%04d-%02d-%02d-%02d-%02d-%02d-%s%s",
                           stream, version, tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, uuid,
                           ext);
    return rc;
}
