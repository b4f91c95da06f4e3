/* jregex.h - the Java regular expressions of agent.json (matchPattern,
 * multiLineStartPattern) run by PCRE2 (JIT-compiled where the library
 * has JIT), with java.util.regex semantics: backtracking, first
 * alternative first, lazy and possessive quantifiers, lookaround, atomic
 * and named groups, \Q..\E. Like the Kinesis Agent, which matches the
 * line decoded from UTF-8, the input is matched as UTF-8 characters, an
 * invalid sequence being one U+FFFD; \w \d \s \b are ASCII as in Java.
 * A few Java forms are rewritten for PCRE2 (\uXXXX, \0ooo octal, the
 * POSIX classes \p{Alpha}.., \p{IsX} and \p{sc=X}); the ones PCRE2 would
 * read differently are refused with a message naming them: [a&&b],
 * nested classes [a[b]], \p{javaX}, Unicode blocks \p{InX}, the flags
 * (?U) (PCRE2: ungreedy) and (?u)/(?d). 'floe agent --help' lists the
 * remaining differences. */
#ifndef FLOE_AGENT_JREGEX_H
#define FLOE_AGENT_JREGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum floe_jregex_mode {
    FLOE_JREGEX_FULL,   /* Matcher.matches(): the whole input */
    FLOE_JREGEX_PREFIX, /* Matcher.lookingAt(): from the first byte */
};

#define FLOE_JREGEX_UNSET ((size_t)-1) /* a group that did not take part */

struct floe_jregex_code; /* opaque: compiled pattern and match scratch */

/* One regex; one match at a time (not thread-safe). */
struct floe_jregex {
    struct floe_jregex_code *code; /* owned */
    size_t ngroups;                /* capturing groups, numbered or named */
};

/* What floe_jregex_compile() found (its `out_info`). */
struct floe_jregex_info {
    bool jit;       /* JIT-compiled; else PCRE2's interpreter runs it */
    bool rewritten; /* Java syntax was rewritten for PCRE2 */
};

/* A successful match, valid until the next match with the same regex. */
struct floe_jregex_match {
    const char *subject; /* the input, or a repaired copy if it held
                          * invalid UTF-8 (each bad subpart U+FFFD) */
    size_t len;          /* of subject */
    const size_t *ov;    /* group i (1..ngroups) is subject bytes
                          * ov[2i]..ov[2i+1], FLOE_JREGEX_UNSET if unset */
};

/* Compile the Java regex `java` (borrowed) into `re`; on FLOE_OK release
 * it with floe_jregex_free(). *out_info (may be NULL) says how.
 * FLOE_ENOTSUP (a Java construct PCRE2 reads differently) or FLOE_EINVAL
 * (PCRE2's message and the offset in `java`) with err; `re` is zeroed. */
int floe_jregex_compile(struct floe_jregex *re, const char *java,
                        enum floe_jregex_mode mode,
                        struct floe_jregex_info *out_info, char *err);
void floe_jregex_free(struct floe_jregex *re); /* zeroed or NULL ok */

/* Match `s` (`len` bytes, NULs allowed; borrowed). On a match, *out (may
 * be NULL) tells where the groups are. A match that hits PCRE2's limits
 * (pathological backtracking) counts as no match, logged once. */
bool floe_jregex_match(struct floe_jregex *re, const char *s, size_t len,
                       struct floe_jregex_match *out);

/* The PCRE2 pattern `java` is rewritten into (reset first), for tests
 * and messages. Same errors as floe_jregex_compile. */
int floe_jregex_translate(const char *java, struct floe_buf *out,
                          char *err);

#endif
