/* jregex.c - Java regex to POSIX ERE translator and matcher (jregex.h).
 * One pass over the Java text; every character class (bracket or \d-like
 * escape) becomes a 256-bit byte set emitted in a canonical POSIX form,
 * so Java escapes inside [] need no special casing in the output. Runs
 * in the C locale: patterns and input are bytes. */
#include "agent/jregex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jscan.h"

#define MAX_GROUPS 255

struct tr {
    const char *p;
    struct floe_buf *out;
    unsigned char caps[MAX_GROUPS + 1]; /* per POSIX group: Java capture */
    size_t nposix;
    bool lazy, icase;
    char *err;
};

typedef unsigned char byteset[256];

static void set_range(byteset s, unsigned lo, unsigned hi)
{
    unsigned c;

    for (c = lo; c <= hi && c < 256; c++)
        s[c] = 1;
}

/* \d \w \s and their negations. */
static bool class_escape(char e, byteset s)
{
    byteset t;
    unsigned c;
    bool neg = false;

    memset(t, 0, sizeof(t));
    switch (e) {
    case 'D': neg = true; /* fall through */
    case 'd': set_range(t, '0', '9'); break;
    case 'W': neg = true; /* fall through */
    case 'w':
        set_range(t, 'a', 'z');
        set_range(t, 'A', 'Z');
        set_range(t, '0', '9');
        t['_'] = 1;
        break;
    case 'S': neg = true; /* fall through */
    case 's':
        t[' '] = t['\t'] = t['\n'] = t['\v'] = t['\f'] = t['\r'] = 1;
        break;
    default:
        return false;
    }
    for (c = 1; c < 256; c++)
        if (t[c] != neg)
            s[c] = 1;
    return true;
}

/* A one-character escape (\t, \x41, \. ...) at t->p (just past '\\').
 * Returns the byte or -1 (err set). */
static int char_escape(struct tr *t)
{
    char e = *t->p;
    int h1, h2;

    switch (e) {
    case 't': t->p++; return '\t';
    case 'n': t->p++; return '\n';
    case 'r': t->p++; return '\r';
    case 'f': t->p++; return '\f';
    case 'a': t->p++; return 7;
    case 'e': t->p++; return 27;
    case 'x':
        h1 = floe_jscan_hexval(t->p[1]);
        h2 = h1 < 0 ? -1 : floe_jscan_hexval(t->p[2]);
        if (h2 < 0 || (h1 == 0 && h2 == 0))
            break;
        t->p += 3;
        return h1 * 16 + h2;
    case '\0':
        floe_err(t->err, FLOE_EINVAL, "regex ends with a backslash");
        return -1;
    default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
            (e >= '0' && e <= '9'))
            break;
        if ((unsigned char)e >= 0x80)
            break;
        t->p++;
        return (unsigned char)e; /* escaped punctuation is literal */
    }
    floe_err(t->err, FLOE_ENOTSUP, "regex escape \\%c is not supported "
             "(POSIX regex; see 'floe agent --help')", e);
    return -1;
}

static const char ere_special[] = ".[]()*+?{}|^$\\";

static int emit_lit(struct tr *t, unsigned char c)
{
    int rc = FLOE_OK;

    if (c != 0 && strchr(ere_special, c) != NULL)
        rc = floe_buf_addc(t->out, '\\');
    if (rc == FLOE_OK)
        rc = floe_buf_addc(t->out, (char)c);
    return rc;
}

/* A byte set as a POSIX bracket expression (or a lone escaped char). */
static int emit_set(struct tr *t, const byteset in)
{
    byteset s;
    unsigned c, n = 0, only = 0;
    bool neg, any = false;
    struct floe_buf *o = t->out;
    int rc = FLOE_OK;

    for (c = 1; c < 256; c++)
        if (in[c]) {
            n++;
            only = c;
        }
    if (n == 0)
        return floe_err(t->err, FLOE_EINVAL, "regex: empty character "
                        "class");
    if (n == 1)
        return emit_lit(t, (unsigned char)only);
    neg = n > 128;
    for (c = 1; c < 256; c++)
        s[c] = neg ? !in[c] : in[c];
    s[0] = 0;
    rc = floe_buf_adds(o, neg ? "[^" : "[");
    if (rc == FLOE_OK && s[']']) {
        rc = floe_buf_addc(o, ']');
        any = true;
    }
    for (c = 1; c < 256 && rc == FLOE_OK; c++) {
        unsigned e;

        if (!s[c] || c == ']' || c == '^' || c == '-' || c == '[')
            continue;
        for (e = c; e + 1 < 256 && s[e + 1] && e + 1 != ']' &&
                    e + 1 != '^' && e + 1 != '-' && e + 1 != '[';
             e++)
            ;
        rc = floe_buf_addc(o, (char)c);
        if (rc == FLOE_OK && e >= c + 2) {
            rc = floe_buf_addc(o, '-');
            if (rc == FLOE_OK)
                rc = floe_buf_addc(o, (char)e);
        } else if (rc == FLOE_OK && e == c + 1) {
            rc = floe_buf_addc(o, (char)e);
        }
        c = e;
        any = true;
    }
    if (rc == FLOE_OK && s['[']) {
        rc = floe_buf_addc(o, '[');
        any = true;
    }
    if (rc == FLOE_OK && s['^']) {
        if (!any && !neg) { /* the set is {'^', '-'} (n >= 2) */
            rc = floe_buf_adds(o, "-^");
            s['-'] = 0;
        } else {
            rc = floe_buf_addc(o, '^');
        }
        any = true;
    }
    if (rc == FLOE_OK && s['-'])
        rc = floe_buf_addc(o, '-');
    if (rc == FLOE_OK)
        rc = floe_buf_addc(o, ']');
    return rc;
}

/* [ ... ] at t->p (just past '['). */
static int bracket(struct tr *t)
{
    byteset s;
    bool neg = false, first = true;
    unsigned c;

    memset(s, 0, sizeof(s));
    if (*t->p == '^') {
        neg = true;
        t->p++;
    }
    for (;;) {
        int lo, hi;

        if (*t->p == '\0')
            return floe_err(t->err, FLOE_EINVAL, "regex: unterminated [");
        if (*t->p == ']' && !first) {
            t->p++;
            break;
        }
        first = false;
        if (*t->p == '[' || (t->p[0] == '&' && t->p[1] == '&'))
            return floe_err(t->err, FLOE_ENOTSUP, "regex: nested classes "
                            "and [a&&b] are not supported");
        if (*t->p == '\\') {
            t->p++;
            if (class_escape(*t->p, s)) {
                t->p++;
                continue;
            }
            lo = char_escape(t);
            if (lo < 0)
                return FLOE_ENOTSUP;
        } else {
            lo = (unsigned char)*t->p++;
        }
        if (lo >= 0x80)
            return floe_err(t->err, FLOE_ENOTSUP, "regex: non-ASCII "
                            "characters inside [] are not supported");
        if (t->p[0] == '-' && t->p[1] != ']' && t->p[1] != '\0') {
            t->p++;
            if (*t->p == '\\') {
                t->p++;
                hi = char_escape(t);
                if (hi < 0)
                    return FLOE_ENOTSUP;
            } else {
                hi = (unsigned char)*t->p++;
            }
            if (hi >= 0x80 || hi < lo)
                return floe_err(t->err, FLOE_EINVAL, "regex: bad range "
                                "in []");
            set_range(s, (unsigned)lo, (unsigned)hi);
        } else {
            s[lo] = 1;
        }
    }
    if (neg)
        for (c = 1; c < 256; c++)
            s[c] = !s[c];
    return emit_set(t, s);
}

/* After a quantifier: a lazy '?' is dropped, a possessive '+' refused. */
static int quant_suffix(struct tr *t)
{
    if (*t->p == '?') {
        t->lazy = true;
        t->p++;
    } else if (*t->p == '+') {
        return floe_err(t->err, FLOE_ENOTSUP, "regex: possessive "
                        "quantifiers are not supported");
    }
    return FLOE_OK;
}

static int open_group(struct tr *t, bool capture)
{
    if (t->nposix >= MAX_GROUPS)
        return floe_err(t->err, FLOE_ENOTSUP, "regex: over %d groups",
                        MAX_GROUPS);
    t->caps[++t->nposix] = capture;
    return floe_buf_addc(t->out, '(');
}

static int translate(struct tr *t)
{
    int rc = FLOE_OK;

    if (strncmp(t->p, "(?i)", 4) == 0) {
        t->icase = true;
        t->p += 4;
    }
    while (rc == FLOE_OK && *t->p != '\0') {
        unsigned char c = (unsigned char)*t->p++;
        byteset s;
        int b;

        switch (c) {
        case '\\':
            memset(s, 0, sizeof(s));
            if (class_escape(*t->p, s)) {
                t->p++;
                rc = emit_set(t, s);
            } else if (*t->p == 'b' || *t->p == 'B') {
                rc = floe_buf_addc(t->out, '\\');
                if (rc == FLOE_OK)
                    rc = floe_buf_addc(t->out, *t->p++);
            } else if (*t->p == 'A') {
                t->p++;
                rc = floe_buf_addc(t->out, '^');
            } else if (*t->p == 'z' || *t->p == 'Z') {
                t->p++;
                rc = floe_buf_addc(t->out, '$');
            } else if (*t->p == 'Q') {
                const char *e = strstr(++t->p, "\\E");
                const char *end = e ? e : t->p + strlen(t->p);

                while (rc == FLOE_OK && t->p < end)
                    rc = emit_lit(t, (unsigned char)*t->p++);
                t->p = e ? e + 2 : end;
            } else {
                b = char_escape(t);
                rc = b < 0 ? FLOE_ENOTSUP : emit_lit(t, (unsigned char)b);
            }
            break;
        case '[':
            rc = bracket(t);
            break;
        case '(':
            if (t->p[0] != '?') {
                rc = open_group(t, true);
            } else if (t->p[1] == ':') {
                t->p += 2;
                rc = open_group(t, false);
            } else if (t->p[1] == '<' && t->p[2] != '=' && t->p[2] != '!') {
                const char *e = strchr(t->p, '>');

                if (e == NULL)
                    return floe_err(t->err, FLOE_EINVAL, "regex: bad named "
                                    "group");
                t->p = e + 1;
                rc = open_group(t, true);
            } else {
                return floe_err(t->err, FLOE_ENOTSUP, "regex: (%.3s...) "
                                "(lookaround, atomic group or inline flag) "
                                "is not supported", t->p);
            }
            break;
        case '.':
            rc = floe_buf_adds(t->out, "[^\n]");
            break;
        case '*':
        case '+':
        case '?':
            rc = floe_buf_addc(t->out, (char)c);
            if (rc == FLOE_OK)
                rc = quant_suffix(t);
            break;
        case '{': {
            const char *e = t->p;

            while ((*e >= '0' && *e <= '9') || *e == ',')
                e++;
            if (*e != '}' || e == t->p)
                return floe_err(t->err, FLOE_EINVAL, "regex: bad {n,m} "
                                "quantifier");
            rc = floe_buf_addc(t->out, '{');
            if (rc == FLOE_OK)
                rc = floe_buf_add(t->out, t->p, (size_t)(e - t->p) + 1);
            t->p = e + 1;
            if (rc == FLOE_OK)
                rc = quant_suffix(t);
            break;
        }
        case ')':
        case '|':
        case '^':
        case '$':
            rc = floe_buf_addc(t->out, (char)c);
            break;
        default:
            rc = emit_lit(t, c);
        }
    }
    return rc;
}

int floe_jregex_translate(const char *java, struct floe_buf *out,
                          bool *out_icase, bool *out_lazy, char *err)
{
    struct tr t;
    int rc;

    memset(&t, 0, sizeof(t));
    t.p = java;
    t.out = out;
    t.err = err;
    floe_buf_reset(out);
    rc = translate(&t);
    if (out_icase != NULL)
        *out_icase = t.icase;
    if (out_lazy != NULL)
        *out_lazy = t.lazy;
    return rc;
}

int floe_jregex_compile(struct floe_jregex *re, const char *java,
                        enum floe_jregex_mode mode, bool *out_lazy,
                        char *err)
{
    struct floe_buf ere;
    struct tr t;
    size_t i, j;
    int rc, r;

    memset(re, 0, sizeof(*re));
    re->mode = mode;
    memset(&t, 0, sizeof(t));
    floe_buf_init(&ere, 1024 * 1024);
    t.out = &ere;
    t.err = err;
    t.p = java;
    /* The whole pattern in one non-capturing group, anchored. */
    rc = floe_buf_adds(&ere, "^");
    if (rc == FLOE_OK)
        rc = open_group(&t, false);
    if (rc == FLOE_OK)
        rc = translate(&t);
    if (rc == FLOE_OK)
        rc = floe_buf_adds(&ere, mode == FLOE_JREGEX_FULL ? ")$" : ")");
    if (rc != FLOE_OK) {
        if (rc == FLOE_ENOMEM || rc == FLOE_ETOOBIG)
            floe_err(err, rc, "regex too long");
        goto cleanup;
    }
    if (out_lazy != NULL)
        *out_lazy = t.lazy;
    r = regcomp(&re->re, ere.data, REG_EXTENDED | (t.icase ? REG_ICASE : 0));
    if (r != 0) {
        char msg[128];

        regerror(r, &re->re, msg, sizeof(msg));
        rc = floe_err(err, FLOE_EINVAL, "regex '%s' is invalid: %s", java,
                      msg);
        goto cleanup;
    }
    re->compiled = true;
    re->nposix = t.nposix;
    for (i = 1; i <= t.nposix; i++)
        re->ngroups += t.caps[i];
    re->map = calloc(re->ngroups + 1, sizeof(*re->map));
    re->m = calloc(re->nposix + 1, sizeof(*re->m));
    if (re->map == NULL || re->m == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    for (i = 1, j = 0; i <= t.nposix; i++)
        if (t.caps[i])
            re->map[j++] = i;
cleanup:
    if (rc != FLOE_OK)
        floe_jregex_free(re);
    floe_buf_free(&ere);
    return rc;
}

void floe_jregex_free(struct floe_jregex *re)
{
    if (re == NULL)
        return;
    if (re->compiled)
        regfree(&re->re);
    free(re->map);
    free(re->m);
    free(re->copy);
    memset(re, 0, sizeof(*re));
}

bool floe_jregex_match(struct floe_jregex *re, const char *s, size_t len,
                       regmatch_t *groups)
{
    size_t i;

    /* REG_STARTEND bounds the match, but sanitizer interceptors still
     * read up to a NUL: match a NUL-terminated copy (one memcpy). */
    if (len + 1 > re->copy_cap) {
        size_t cap = len + 1 < 4096 ? 4096 : len + 1;
        char *c = realloc(re->copy, cap);

        if (c != NULL) {
            re->copy = c;
            re->copy_cap = cap;
        }
    }
    if (len + 1 <= re->copy_cap) {
        memcpy(re->copy, s, len);
        re->copy[len] = '\0';
        s = re->copy;
    }
    re->m[0].rm_so = 0;
    re->m[0].rm_eo = (regoff_t)len;
    if (regexec(&re->re, s, re->nposix + 1, re->m, REG_STARTEND) != 0)
        return false;
    if (re->m[0].rm_so != 0)
        return false;
    if (re->mode == FLOE_JREGEX_FULL && (size_t)re->m[0].rm_eo != len)
        return false;
    if (groups != NULL)
        for (i = 0; i < re->ngroups; i++)
            groups[i + 1] = re->m[re->map[i]];
    return true;
}
