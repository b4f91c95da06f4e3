/* jregex.c - Java regexes on PCRE2 (jregex.h). A one-pass rewrite turns
 * the few Java forms PCRE2 spells otherwise into PCRE2's and refuses the
 * ones it would read differently; every output byte remembers its offset
 * in the Java text, so PCRE2's error offsets point into what the user
 * wrote. Matching: the line is checked for valid UTF-8 (the fast path
 * copies nothing); an invalid one is matched as its repaired copy. */
#define FLOE_LOG_MOD "agent.jregex"
#include "agent/jregex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent/utf8.h"
#include "core/jscan.h"
#include "core/log.h"

struct floe_jregex_code {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *stack; /* NULL without JIT */
    bool jit;
    bool warned;            /* about a match that hit a limit */
    struct floe_buf fix;    /* the repaired subject */
    char java[48];          /* the pattern's start, for the warning */
};

struct tr {
    const char *java, *p;
    struct floe_buf *out;
    struct floe_buf *map; /* NULL, or a size_t per output byte */
    bool in_class;
    char *err;
};

/* Java's POSIX classes (US-ASCII) and PCRE2's names for them. */
static const char *const posix[][2] = {
    { "Lower", "lower" }, { "Upper", "upper" }, { "ASCII", "ascii" },
    { "Alpha", "alpha" }, { "Digit", "digit" }, { "Alnum", "alnum" },
    { "Punct", "punct" }, { "Graph", "graph" }, { "Print", "print" },
    { "Blank", "blank" }, { "Cntrl", "cntrl" }, { "XDigit", "xdigit" },
    { "Space", "space" },
};

/* Append `n` bytes standing for the Java text at offset `from`. */
static int emit(struct tr *t, const char *s, size_t n, size_t from)
{
    size_t i;
    int rc = floe_buf_add(t->out, s, n);

    for (i = 0; rc == FLOE_OK && t->map != NULL && i < n; i++)
        rc = floe_buf_add(t->map, &from, sizeof(from));
    return rc;
}

/* Copy `n` bytes of the Java text as they are. */
static int copy(struct tr *t, size_t n)
{
    size_t i, at = (size_t)(t->p - t->java);
    int rc = floe_buf_add(t->out, t->p, n);

    for (i = 0; rc == FLOE_OK && t->map != NULL && i < n; i++) {
        size_t from = at + i;

        rc = floe_buf_add(t->map, &from, sizeof(from));
    }
    t->p += n;
    return rc;
}

static int refuse(struct tr *t, const char *what, const char *instead)
{
    return floe_err(t->err, FLOE_ENOTSUP, "regex '%s': %s at offset %zu is "
                    "Java syntax that PCRE2 does not support; %s",
                    t->java, what, (size_t)(t->p - t->java), instead);
}

static int hex4(const char *s)
{
    int v = 0, i, h;

    for (i = 0; i < 4; i++) {
        h = floe_jscan_hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* \uXXXX (a surrogate pair of them is one character) -> \x{...}. */
static int unicode_escape(struct tr *t)
{
    size_t at = (size_t)(t->p - t->java), n = 6;
    long cp = hex4(t->p + 2), lo;
    char x[16];

    if (cp < 0)
        return copy(t, 2); /* PCRE2 refuses \u */
    if (cp >= 0xd800 && cp <= 0xdbff && t->p[6] == '\\' && t->p[7] == 'u' &&
        (lo = hex4(t->p + 8)) >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        n = 12;
    }
    t->p += n;
    snprintf(x, sizeof(x), "\\x{%lx}", cp);
    return emit(t, x, strlen(x), at);
}

/* Java's octal \0n, \0nn, \0mnn (m <= 3) -> \o{...}; PCRE2's \0 takes
 * two digits at most. */
static int octal_escape(struct tr *t)
{
    size_t at = (size_t)(t->p - t->java), n = 0;
    char x[16];

    while (n < 3 && t->p[2 + n] >= '0' && t->p[2 + n] <= '7')
        n++;
    if (n == 3 && t->p[2] > '3')
        n = 2;
    if (n == 0)
        return copy(t, 2);
    snprintf(x, sizeof(x), "\\o{%.*s}", (int)n, t->p + 2);
    t->p += 2 + n;
    return emit(t, x, strlen(x), at);
}

/* \p{..} / \P{..} (t->p at the backslash). */
static int property(struct tr *t)
{
    const char *name = t->p + 3, *end;
    bool neg = t->p[1] == 'P';
    size_t at = (size_t)(t->p - t->java), len, i;
    char x[32];
    int rc;

    if (t->p[2] != '{' || (end = strchr(name, '}')) == NULL)
        return copy(t, 2); /* \pL, or PCRE2 reports it */
    len = (size_t)(end - name);
    if (strncmp(name, "java", 4) == 0)
        return refuse(t, "a \\p{java...} class (java.lang.Character "
                      "methods)", "use \\p{Ll}, \\p{Lu}, \\p{L}, \\s or a "
                      "class like [a-z]");
    if (strncmp(name, "In", 2) == 0 || strncmp(name, "block=", 6) == 0 ||
        strncmp(name, "blk=", 4) == 0)
        return refuse(t, "a Unicode block \\p{In...}", "use a script "
                      "(\\p{IsGreek}) or a range [\\x{370}-\\x{3ff}]");
    for (i = 0; i < sizeof(posix) / sizeof(posix[0]); i++) {
        if (strlen(posix[i][0]) == len && strncmp(name, posix[i][0], len) ==
            0) {
            snprintf(x, sizeof(x), "%s[:%s%s:]%s", t->in_class ? "" : "[",
                     neg ? "^" : "", posix[i][1], t->in_class ? "" : "]");
            t->p = end + 1;
            return emit(t, x, strlen(x), at);
        }
    }
    /* \p{IsLatin}, \p{IsLu}, \p{sc=Latin}, \p{gc=Lu}: PCRE2 takes the
     * bare name. */
    if (strncmp(name, "Is", 2) == 0)
        name += 2;
    else if (strncmp(name, "sc=", 3) == 0 || strncmp(name, "gc=", 3) == 0)
        name += 3;
    else if (strncmp(name, "script=", 7) == 0)
        name += 7;
    else if (strncmp(name, "general_category=", 17) == 0)
        name += 17;
    t->p = end + 1;
    rc = emit(t, neg ? "\\P{" : "\\p{", 3, at);
    if (rc == FLOE_OK)
        rc = emit(t, name, (size_t)(end - name), at);
    if (rc == FLOE_OK)
        rc = emit(t, "}", 1, at);
    return rc;
}

static int escape(struct tr *t)
{
    const char *e;

    switch (t->p[1]) {
    case '\0':
        return copy(t, 1); /* PCRE2: \ at end of pattern */
    case 'Q': /* literal up to \E, in or out of a class */
        e = strstr(t->p + 2, "\\E");
        return copy(t, e ? (size_t)(e + 2 - t->p) : strlen(t->p));
    case 'u':
        return unicode_escape(t);
    case '0':
        return octal_escape(t);
    case 'p':
    case 'P':
        return property(t);
    case 'c': /* \c[ is a control character, not a class */
        return copy(t, t->p[2] != '\0' ? 3 : 2);
    default:
        return copy(t, 2);
    }
}

/* (?flags) or (?flags:...) (t->p at '('): Java's i m s x pass; u
 * (Unicode case folding) is what PCRE2 does in UTF mode anyway, so it is
 * dropped; U and d have no PCRE2 equivalent. Anything else is copied. */
static int group_open(struct tr *t)
{
    const char *f = t->p + 2, *e = f;
    size_t at = (size_t)(t->p - t->java);
    char x[32];
    size_t n = 0;
    bool any = false;
    int rc;

    while ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
           *e == '-')
        e++;
    if (e == f || (*e != ')' && *e != ':') || e - f > 20)
        return copy(t, 1);
    for (; f < e; f++) {
        if (*f == 'U')
            return refuse(t, "the flag (?U) (UNICODE_CHARACTER_CLASS; "
                          "PCRE2 reads it as ungreedy)", "write \\p{L} or "
                          "\\p{N} where Unicode classes are meant");
        if (*f == 'd')
            return refuse(t, "the flag (?d) (UNIX_LINES)", "write \\n "
                          "where only a line feed is meant");
        if (*f == 'u')
            continue;
        x[n++] = *f;
        any = any || *f != '-';
    }
    t->p = e + 1;
    if (!any && *e == ')')
        return FLOE_OK; /* (?u): nothing left to say */
    rc = emit(t, "(?", 2, at);
    if (rc == FLOE_OK)
        rc = emit(t, x, any ? n : 0, at);
    if (rc == FLOE_OK)
        rc = emit(t, e, 1, at);
    return rc;
}

static int translate(struct tr *t)
{
    int rc = FLOE_OK;

    while (rc == FLOE_OK && *t->p != '\0') {
        char c = *t->p;

        if (c == '\\') {
            rc = escape(t);
        } else if (t->in_class) {
            if (c == '[')
                return refuse(t, "a nested class [a[b]] (a union in Java, "
                              "and [[:alpha:]] is one too)", "write the "
                              "class out as one [...], or \\p{Alpha}");
            if (c == '&' && t->p[1] == '&')
                return refuse(t, "the class intersection &&", "write the "
                              "class out, or use a lookahead: "
                              "(?![aeiou])[a-z]");
            t->in_class = c != ']';
            rc = copy(t, 1);
        } else if (c == '[') {
            /* A ']' first in the class is a literal, in both. */
            size_t n = 1 + (t->p[1] == '^');

            n += t->p[n] == ']';
            t->in_class = true;
            rc = copy(t, n);
        } else if (c == '(' && t->p[1] == '?') {
            rc = group_open(t);
        } else {
            rc = copy(t, 1);
        }
    }
    return rc;
}

int floe_jregex_translate(const char *java, struct floe_buf *out, char *err)
{
    struct tr t;

    memset(&t, 0, sizeof(t));
    t.java = t.p = java;
    t.out = out;
    t.err = err;
    floe_buf_reset(out);
    return translate(&t);
}

static void code_destroy(struct floe_jregex_code *c)
{
    if (c == NULL)
        return;
    pcre2_match_data_free(c->md);
    pcre2_match_context_free(c->mctx);
    pcre2_jit_stack_free(c->stack);
    pcre2_code_free(c->code);
    floe_buf_free(&c->fix);
    free(c);
}

void floe_jregex_free(struct floe_jregex *re)
{
    if (re == NULL)
        return;
    code_destroy(re->code);
    memset(re, 0, sizeof(*re));
}

/* JIT-compile when the library can; the interpreter otherwise. */
static int use_jit(struct floe_jregex_code *re)
{
    uint32_t have = 0;

    if (pcre2_config(PCRE2_CONFIG_JIT, &have) < 0 || !have ||
        pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) != 0)
        return FLOE_OK;
    /* Deep backtracking needs more than the 32 KiB default; the stack is
     * reserved, not touched, up to its maximum. */
    re->stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (re->stack == NULL)
        return FLOE_ENOMEM;
    pcre2_jit_stack_assign(re->mctx, NULL, re->stack);
    re->jit = true;
    return FLOE_OK;
}

int floe_jregex_compile(struct floe_jregex *out, const char *java,
                        enum floe_jregex_mode mode,
                        struct floe_jregex_info *out_info, char *err)
{
    struct floe_jregex_code *re = NULL;
    struct floe_buf pat, map;
    pcre2_compile_context *cc = NULL;
    struct tr t;
    uint32_t opts = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_ANCHORED;
    uint32_t ncap = 0;
    PCRE2_SIZE off = 0;
    int rc, code = 0;

    memset(out, 0, sizeof(*out));
    floe_buf_init(&pat, 1024 * 1024);
    floe_buf_init(&map, FLOE_BUF_UNLIMITED);
    memset(&t, 0, sizeof(t));
    t.java = t.p = java;
    t.out = &pat;
    t.map = &map;
    t.err = err;
    rc = translate(&t);
    if (rc == FLOE_OK)
        rc = floe_buf_reserve(&pat, 1); /* data set even for "" */
    if (rc != FLOE_OK)
        goto cleanup;
    re = calloc(1, sizeof(*re));
    cc = pcre2_compile_context_create(NULL);
    if (re == NULL || cc == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    floe_buf_init(&re->fix, FLOE_BUF_UNLIMITED);
    snprintf(re->java, sizeof(re->java), "%s", java);
    /* '.' stops at CR and LF as Java's does (Java also stops at U+0085,
     * U+2028 and U+2029). */
    pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
    if (mode == FLOE_JREGEX_FULL)
        opts |= PCRE2_ENDANCHORED;
    re->code = pcre2_compile((PCRE2_SPTR)pat.data, pat.len, opts, &code,
                             &off, cc);
    if (re->code == NULL) {
        PCRE2_UCHAR msg[256];
        size_t at = off < pat.len ? ((size_t *)map.data)[off]
                                  : strlen(java);

        pcre2_get_error_message(code, msg, sizeof(msg));
        rc = floe_err(err, FLOE_EINVAL, "regex '%s' is invalid: %s at "
                      "offset %zu", java, (const char *)msg, at);
        goto cleanup;
    }
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &ncap);
    re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
    re->mctx = pcre2_match_context_create(NULL);
    if (re->md == NULL || re->mctx == NULL) {
        rc = FLOE_ENOMEM;
        goto cleanup;
    }
    rc = use_jit(re);
    if (rc != FLOE_OK)
        goto cleanup;
    if (out_info != NULL) {
        out_info->jit = re->jit;
        out_info->rewritten = pat.len != strlen(java) ||
                              memcmp(pat.data, java, pat.len) != 0;
    }
    out->code = re;
    out->ngroups = ncap;
    re = NULL;
cleanup:
    if (rc == FLOE_ENOMEM || rc == FLOE_ETOOBIG)
        floe_err(err, rc, "regex '%.40s': out of memory or too long", java);
    code_destroy(re);
    pcre2_compile_context_free(cc);
    floe_buf_free(&pat);
    floe_buf_free(&map);
    return rc;
}

bool floe_jregex_match(struct floe_jregex *rx, const char *s, size_t len,
                       struct floe_jregex_match *out)
{
    struct floe_jregex_code *re = rx->code;
    size_t ok = floe_utf8_valid(s, len);
    int r;

    if (ok < len) {
        floe_buf_reset(&re->fix);
        if (floe_buf_add(&re->fix, s, ok) != FLOE_OK ||
            floe_utf8_repair(&re->fix, s + ok, len - ok) != FLOE_OK)
            return false;
        s = re->fix.data;
        len = re->fix.len;
    }
    if (re->jit)
        r = pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md,
                            re->mctx);
    else
        r = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK,
                        re->md, re->mctx);
    if (r == PCRE2_ERROR_JIT_STACKLIMIT) /* the interpreter uses the heap */
        r = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0,
                        PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, re->md, re->mctx);
    if (r < 0) {
        if (r != PCRE2_ERROR_NOMATCH && !re->warned) {
            PCRE2_UCHAR msg[128];

            pcre2_get_error_message(r, msg, sizeof(msg));
            floe_log_warn("regex '%s': a %zu-byte line was taken as not "
                          "matching: %s (logged once)", re->java, len,
                          (const char *)msg);
            re->warned = true;
        }
        return false;
    }
    if (out != NULL) {
        out->subject = s;
        out->len = len;
        out->ov = pcre2_get_ovector_pointer(re->md);
    }
    return true;
}
