/* logparse.c - LOGTOJSON parsers (logparse.h). The format regexes below
 * are the Kinesis Agent's PatternConstants, kept in Java syntax so the
 * same rewrite (jregex.h) serves built-in and user patterns. Keys are
 * escaped once at creation; a parse is one match plus one escaping pass
 * into space reserved once. */
#include "agent/logparse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/jregex.h"
#include "agent/utf8.h"

/* PatternConstants building blocks (Java regex syntax). */
#define INT "(?:[+-]?(?:[0-9]+))"
#define POSINT "(?:[1-9][0-9]*)"
#define NONNEGINT "(?:[0-9]+)"
#define ANYDATA ".*"
#define WORD "\\w+"
#define NOQUOTE "[^\"]+"
#define IP "(?:[\\d\\.]+)"
#define HOSTNAME "(?:[\\w\\-]+)(?:\\.(?:[\\w\\-]+))*(?:\\.?|\\b)"
#define IPORHOST "(?:" HOSTNAME "|" IP ")"
#define URIHOST "(?:" IPORHOST "(?::" POSINT ")?)"
#define USER "(?:[a-zA-Z0-9._-]+)"
#define MONTHDAY "(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])"
#define DAY "(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|" \
    "Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)"
#define MONTH "\\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|" \
    "Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|" \
    "Nov(?:ember)?|Dec(?:ember)?)\\b"
#define YEAR "(?:[1-9]\\d*)"
#define HOUR "(?:2[0123]|[01]?[0-9])"
#define MINUTE "(?:[0-5][0-9])"
#define SECOND "(?:(?:[0-5]?[0-9]|60)(?:[:\\.,][0-9]+)?)"
#define TIME "(?:" HOUR ":" MINUTE ":" SECOND ")"
#define HTTPDATE "(?:" MONTHDAY "/" MONTH "/" YEAR ":" TIME "\\s" INT ")"
#define APACHEERRORLOGTIMESTAMP "(?:" DAY "\\s+" MONTH "\\s+" MONTHDAY \
    "\\s+" TIME "\\s+" YEAR ")"
#define SYSLOGTIMESTAMP "(?:" MONTH "\\s+" MONTHDAY "\\s+" TIME ")"
#define RFC3339 "(?:\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?)" \
    "(?:Z|(?:[-+]\\d{2}:\\d{2}))"
#define SYSLOGFACILITY "<" NONNEGINT "." NONNEGINT ">"
#define PROG "([\\w\\._/%-]+)"
#define SYSLOGPROG PROG "(?:\\[(" POSINT ")\\])?"

#define COMMON_APACHE_LOG "^(" IPORHOST ") (" USER ") (" USER ") \\[(" \
    HTTPDATE ")\\] \"(" NOQUOTE ")\" (" INT "|\\-) (" INT "|\\-)"
#define COMBINED_APACHE_LOG COMMON_APACHE_LOG " \"(" NOQUOTE ")\" \"(" \
    NOQUOTE ")\""
#define APACHE_ERROR_LOG "^\\[(" APACHEERRORLOGTIMESTAMP ")\\] \\[(?:(" \
    WORD "):)?(" WORD ")\\] \\[pid (" NONNEGINT ")(?::tid (" NONNEGINT \
    "))?\\] \\[client (" URIHOST ")\\] (" ANYDATA ")"
#define SYSLOG_BASE "^(" SYSLOGTIMESTAMP ") (?:" SYSLOGFACILITY " )?(" USER \
    ") " SYSLOGPROG ": (" ANYDATA ")"
#define RFC3339_SYSLOG_BASE "^(" RFC3339 ") (?:" SYSLOGFACILITY " )?(" USER \
    ") " SYSLOGPROG ": (" ANYDATA ")"

static const char *const common_fields[] = {
    "host", "ident", "authuser", "datetime", "request", "response", "bytes",
    "referer", "agent",
};
static const char *const error_fields[] = {
    "timestamp", "module", "severity", "processid", "threadid", "client",
    "message",
};
static const char *const syslog_fields[] = {
    "timestamp", "hostname", "program", "processid", "message",
};

static const struct {
    const char *name;
    const char *pattern;
    const char *const *fields;
    size_t nfields;
    bool apache; /* "-" means null */
} formats[] = {
    [FLOE_LOGFORMAT_COMMONAPACHELOG] = { "COMMONAPACHELOG",
        COMMON_APACHE_LOG ".*", common_fields, 7, true },
    [FLOE_LOGFORMAT_COMBINEDAPACHELOG] = { "COMBINEDAPACHELOG",
        COMBINED_APACHE_LOG ".*", common_fields, 9, true },
    [FLOE_LOGFORMAT_APACHEERRORLOG] = { "APACHEERRORLOG", APACHE_ERROR_LOG,
        error_fields, 7, true },
    [FLOE_LOGFORMAT_SYSLOG] = { "SYSLOG", SYSLOG_BASE, syslog_fields, 5,
        false },
    [FLOE_LOGFORMAT_RFC3339SYSLOG] = { "RFC3339SYSLOG", RFC3339_SYSLOG_BASE,
        syslog_fields, 5, false },
};

struct floe_logparse {
    struct floe_jregex re;
    bool apache;
    size_t nfields;
    char *keys;      /* "{\"f1\":" ",\"f2\":"... back to back */
    size_t *key_off; /* nfields + 1 */
};

int floe_logformat_parse(const char *name, enum floe_logformat *out)
{
    size_t i;

    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(formats[i].name, name) == 0) {
            *out = (enum floe_logformat)i;
            return FLOE_OK;
        }
    }
    return FLOE_EINVAL;
}

void floe_logparse_destroy(struct floe_logparse *p)
{
    if (p == NULL)
        return;
    floe_jregex_free(&p->re);
    free(p->keys);
    free(p->key_off);
    free(p);
}

int floe_logparse_create(enum floe_logformat fmt, const char *match_pattern,
                         const char *const *names, size_t nnames,
                         struct floe_logparse **out, char *err)
{
    struct floe_logparse *p;
    struct floe_buf keys;
    const char *pattern = formats[fmt].pattern;
    size_t i;
    int rc;

    *out = NULL;
    if (match_pattern != NULL && nnames == 0)
        return floe_err(err, FLOE_EINVAL, "LOGTOJSON: \"matchPattern\" "
                        "needs \"customFieldNames\"");
    if (match_pattern == NULL && nnames > 0 &&
        nnames != formats[fmt].nfields)
        return floe_err(err, FLOE_EINVAL, "LOGTOJSON: %s has %zu fields "
                        "but customFieldNames has %zu (give a matchPattern "
                        "for other fields)", formats[fmt].name,
                        formats[fmt].nfields, nnames);
    if (nnames == 0) {
        names = formats[fmt].fields;
        nnames = formats[fmt].nfields;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return FLOE_ENOMEM;
    floe_buf_init(&keys, FLOE_BUF_UNLIMITED);
    p->apache = formats[fmt].apache;
    p->nfields = nnames;
    rc = floe_jregex_compile(&p->re, match_pattern ? match_pattern : pattern,
                             FLOE_JREGEX_FULL, NULL, err);
    if (rc != FLOE_OK)
        goto cleanup;
    if (p->re.ngroups != nnames) {
        rc = floe_err(err, FLOE_EINVAL, "LOGTOJSON: matchPattern has %zu "
                      "capturing groups but customFieldNames has %zu names",
                      p->re.ngroups, nnames);
        goto cleanup;
    }
    p->key_off = calloc(nnames + 1, sizeof(*p->key_off));
    if (p->key_off == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    for (i = 0; i < nnames && rc == FLOE_OK; i++) {
        p->key_off[i] = keys.len;
        rc = floe_buf_addc(&keys, i == 0 ? '{' : ',');
        if (rc == FLOE_OK)
            rc = floe_utf8_json_str(&keys, names[i], strlen(names[i]));
        if (rc == FLOE_OK)
            rc = floe_buf_addc(&keys, ':');
    }
    if (rc != FLOE_OK)
        goto cleanup;
    p->key_off[nnames] = keys.len;
    p->keys = floe_buf_take(&keys, NULL);
    if (p->keys == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    *out = p;
    p = NULL;
cleanup:
    floe_buf_free(&keys);
    floe_logparse_destroy(p);
    return rc;
}

/* Room for the object of match `m`: the worst case, or `exact`ly. */
static size_t json_room(const struct floe_logparse *p,
                        const struct floe_jregex_match *m, bool exact)
{
    size_t need = p->key_off[p->nfields] + 2, i, so, vl;

    for (i = 1; i <= p->nfields; i++) {
        so = m->ov[2 * i];
        vl = m->ov[2 * i + 1] - so;
        if (so == FLOE_JREGEX_UNSET)
            need += 4;
        else
            need += 2 + (exact ? floe_utf8_json_len(m->subject + so, vl)
                               : FLOE_UTF8_JSON_MAX(vl));
    }
    return need;
}

int floe_logparse_json(struct floe_logparse *p, const char *line,
                       size_t len, struct floe_buf *out)
{
    struct floe_jregex_match m;
    size_t i;
    char *w;
    int rc;

    /* Like CSVTOJSON, a CRLF line ends before its CR (the Kinesis Agent
     * keeps it, and then '.' cannot match it). */
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (!floe_jregex_match(&p->re, line, len, &m))
        return FLOE_ENOTFOUND;
    rc = floe_buf_reserve(out, json_room(p, &m, false));
    if (rc == FLOE_ETOOBIG)
        rc = floe_buf_reserve(out, json_room(p, &m, true));
    if (rc != FLOE_OK)
        return rc;
    /* The subject is valid UTF-8 now: values only need escaping. */
    w = out->data + out->len;
    for (i = 0; i < p->nfields; i++) {
        size_t so = m.ov[2 * i + 2], eo = m.ov[2 * i + 3];
        size_t kl = p->key_off[i + 1] - p->key_off[i];

        memcpy(w, p->keys + p->key_off[i], kl);
        w += kl;
        if (so == FLOE_JREGEX_UNSET ||
            (p->apache && eo - so == 1 && m.subject[so] == '-')) {
            memcpy(w, "null", 4);
            w += 4;
            continue;
        }
        *w++ = '"';
        w = floe_utf8_json_esc(w, m.subject + so, eo - so);
        *w++ = '"';
    }
    if (p->nfields == 0)
        *w++ = '{';
    *w++ = '}';
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return FLOE_OK;
}
