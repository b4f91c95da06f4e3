/* auth.c - SigV4 verification of Firehose requests.
 * Parses Authorization with floe_sigv4_parse_authorization, collects the
 * headers it names, checks the scope (service "firehose", any region),
 * the clock skew and the key id, then floe_sigv4_verify (constant-time).
 * Error names and statuses follow AWS JSON 1.1 services (Firehose,
 * Kinesis, DynamoDB answer 400 for every signature error; the 403 forms
 * InvalidClientTokenId / MissingAuthenticationToken belong to the query
 * protocol). Clients match on the name only. */
#define FLOE_LOG_MOD "firehose.auth"

#include "firehose/auth.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aws/sigv4.h"

static int fail(struct floe_fh_auth_err *e, const char *type, int status,
                const char *fmt, ...) FLOE_PRINTF(4, 5);

static int fail(struct floe_fh_auth_err *e, const char *type, int status,
                const char *fmt, ...)
{
    va_list ap;

    e->type = type;
    e->status = status;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* "20150830T123600Z" -> ms since the epoch; -1 when malformed. */
static int64_t parse_amz_date(const char *s)
{
    struct tm tm;
    int i;

    if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
                 (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

/* Is `name` (lower case) one of the ';'-separated names? */
static bool is_signed(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    while ((p = strstr(p, name)) != NULL) {
        if ((p == list || p[-1] == ';') && (p[n] == ';' || p[n] == '\0'))
            return true;
        p += n;
    }
    return false;
}

/* Headers a signature must cover, with the names AWS's message uses: the
 * host (else a signature replays against another endpoint), the date
 * (else against another time) and the operation (else a captured
 * PutRecord signature is a DeleteDeliveryStream one). */
static const struct {
    const char *name, *shown;
} must_sign[] = {
    { "host", "Host' or ':authority" },
    { "x-amz-date", "X-Amz-Date" },
    { "x-amz-target", "X-Amz-Target" },
};

int floe_fh_auth_check(const struct floe_fh_auth *auth, const char *method,
                       const char *path, const void *body, size_t body_len,
                       floe_fh_auth_header_fn hdr, void *ud, int64_t now_ms,
                       struct floe_fh_auth_err *e)
{
    struct floe_sigv4_hdr hdrs[FLOE_SIGV4_MAX_HEADERS];
    struct floe_sigv4_auth a;
    struct floe_sigv4_req req;
    char names[sizeof(a.signed_headers)], why[FLOE_ERR_LEN];
    char now_s[17], lim_s[17];
    const char *value, *date;
    char *p, *semi;
    size_t n = 0;
    int64_t t;

    if (auth == NULL || auth->access_key_id == NULL ||
        auth->access_key_id[0] == '\0')
        return 0;
    value = hdr(ud, "Authorization");
    if (value == NULL || value[0] == '\0')
        return fail(e, "MissingAuthenticationTokenException", 400,
                    "Missing Authentication Token");
    if (floe_sigv4_parse_authorization(value, &a, why) != FLOE_OK)
        return fail(e, "IncompleteSignatureException", 400, "%s", why);
    if (strcmp(a.service, "firehose") != 0)
        return fail(e, "InvalidSignatureException", 400,
                    "Credential should be scoped to correct service: "
                    "'firehose'.");
    date = hdr(ud, "X-Amz-Date");
    if (date == NULL)
        return fail(e, "IncompleteSignatureException", 400,
                    "Authorization header requires existence of either a "
                    "'X-Amz-Date' or a 'Date' header.");
    t = parse_amz_date(date);
    if (t < 0)
        return fail(e, "IncompleteSignatureException", 400,
                    "X-Amz-Date '%.32s' is not yyyyMMdd'T'HHmmss'Z'", date);
    floe_sigv4_amz_date(now_ms, now_s);
    if (t < now_ms - FLOE_FH_AUTH_SKEW_MS) {
        floe_sigv4_amz_date(now_ms - FLOE_FH_AUTH_SKEW_MS, lim_s);
        return fail(e, "InvalidSignatureException", 400,
                    "Signature expired: %s is now earlier than %s (%s - 5 "
                    "min.)", date, lim_s, now_s);
    }
    if (t > now_ms + FLOE_FH_AUTH_SKEW_MS) {
        floe_sigv4_amz_date(now_ms + FLOE_FH_AUTH_SKEW_MS, lim_s);
        return fail(e, "InvalidSignatureException", 400,
                    "Signature not yet current: %s is still later than %s "
                    "(%s + 5 min.)", date, lim_s, now_s);
    }
    if (strcmp(a.access_key, auth->access_key_id) != 0)
        return fail(e, "UnrecognizedClientException", 400,
                    "The security token included in the request is "
                    "invalid.");

    for (n = 0; n < sizeof(must_sign) / sizeof(must_sign[0]); n++)
        if (!is_signed(a.signed_headers, must_sign[n].name))
            return fail(e, "InvalidSignatureException", 400,
                        "'%s' must be a 'SignedHeader' in the AWS "
                        "Authorization.", must_sign[n].shown);
    n = 0;

    /* The headers the client signed, as it sent them. */
    memcpy(names, a.signed_headers, sizeof(names));
    for (p = names; p != NULL && *p != '\0'; p = semi) {
        semi = strchr(p, ';');
        if (semi != NULL)
            *semi++ = '\0';
        if (n == FLOE_SIGV4_MAX_HEADERS)
            return fail(e, "IncompleteSignatureException", 400,
                        "too many signed headers");
        hdrs[n].name = p;
        hdrs[n].value = hdr(ud, p);
        if (hdrs[n].value == NULL)
            return fail(e, "IncompleteSignatureException", 400,
                        "Signed header '%.64s' is not in the request", p);
        n++;
    }
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.query = NULL;
    req.hdrs = hdrs;
    req.nhdrs = n;
    req.payload = body != NULL ? body : "";
    req.payload_len = body != NULL ? body_len : 0;
    if (floe_sigv4_verify(&req, &a, auth->secret, date, why) != FLOE_OK)
        return fail(e, "InvalidSignatureException", 400,
                    "The request signature we calculated does not match the "
                    "signature you provided. Check your AWS Secret Access "
                    "Key and signing method.");
    return 0;
}
