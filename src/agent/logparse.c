/* logparse.c - LOGTOJSON parsers (logparse.h). The format regexes below
 * are the Kinesis Agent's PatternConstants, kept in Java syntax so the
 * same translator serves built-in and user patterns. Keys are escaped
 * once at creation; a parse is one regexec plus one escaping pass. */
#include "agent/logparse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/jregex.h"

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
    regmatch_t *g;   /* nfields + 1 */
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
    free(p->g);
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
    p->g = calloc(nnames + 1, sizeof(*p->g));
    if (p->key_off == NULL || p->g == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    for (i = 0; i < nnames && rc == FLOE_OK; i++) {
        p->key_off[i] = keys.len;
        rc = floe_buf_addc(&keys, i == 0 ? '{' : ',');
        if (rc == FLOE_OK)
            rc = floe_json_str_utf8(&keys, names[i], strlen(names[i]));
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

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
            return 0; /* overlong, surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

int floe_json_str_utf8(struct floe_buf *out, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, start = out->len;
    char *p;
    int rc;

    /* Worst case: 6 bytes per input byte (\u00XX; U+FFFD is 3). */
    rc = floe_buf_reserve(out, 6 * n + 2);
    if (rc != FLOE_OK)
        return rc;
    p = out->data + out->len;
    *p++ = '"';
    while (i < n) {
        unsigned char c = s[i];
        size_t l;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *p++ = (char)c;
            i++;
            continue;
        }
        if (c < 0x80) {
            *p++ = '\\';
            switch (c) {
            case '"': *p++ = '"'; break;
            case '\\': *p++ = '\\'; break;
            case '\n': *p++ = 'n'; break;
            case '\t': *p++ = 't'; break;
            case '\r': *p++ = 'r'; break;
            case '\b': *p++ = 'b'; break;
            case '\f': *p++ = 'f'; break;
            default:
                memcpy(p, "u00", 3);
                p[3] = hex[c >> 4];
                p[4] = hex[c & 15];
                p += 5;
            }
            i++;
            continue;
        }
        l = utf8_len(s + i, n - i);
        if (l == 0) {
            memcpy(p, "\xef\xbf\xbd", 3);
            p += 3;
            i++;
        } else {
            memcpy(p, s + i, l);
            p += l;
            i += l;
        }
    }
    *p++ = '"';
    out->len = start + (size_t)(p - (out->data + start));
    out->data[out->len] = '\0';
    return FLOE_OK;
}

int floe_logparse_json(struct floe_logparse *p, const char *line,
                       size_t len, struct floe_buf *out)
{
    size_t start = out->len, i;
    int rc = FLOE_OK;

    if (!floe_jregex_match(&p->re, line, len, p->g))
        return FLOE_ENOTFOUND;
    for (i = 0; i < p->nfields && rc == FLOE_OK; i++) {
        const regmatch_t *m = &p->g[i + 1];
        size_t vl = m->rm_so < 0 ? 0 : (size_t)(m->rm_eo - m->rm_so);

        rc = floe_buf_add(out, p->keys + p->key_off[i],
                          p->key_off[i + 1] - p->key_off[i]);
        if (rc != FLOE_OK)
            break;
        if (m->rm_so < 0 || (p->apache && vl == 1 && line[m->rm_so] == '-'))
            rc = floe_buf_add(out, "null", 4);
        else
            rc = floe_json_str_utf8(out, line + m->rm_so, vl);
    }
    if (rc == FLOE_OK)
        rc = p->nfields == 0 ? floe_buf_add(out, "{}", 2)
                             : floe_buf_addc(out, '}');
    if (rc != FLOE_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return rc;
}
