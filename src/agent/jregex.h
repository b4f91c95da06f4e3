/* jregex.h - the Java regular expressions of agent.json (matchPattern,
 * multiLineStartPattern) run by POSIX <regex.h>. A translator rewrites the
 * common Java syntax into a POSIX ERE and remembers which POSIX groups are
 * Java capturing groups. Supported: (?:) (?<name>) groups, leading (?i),
 * \d \D \w \W \s \S (also inside []), \b \B \A \z \Z, \t \n \r \f \e \a,
 * \xhh, \Q..\E, escaped punctuation, {n,m}. Differences from Java (the
 * config is rejected with a message naming the construct when it cannot
 * be translated): no lookaround, atomic or possessive forms, backrefs,
 * \p{..}, [a&&b] or nested classes; lazy quantifiers (*? +? ?? {}?) run
 * greedy, so a group's extent can differ, never whether a line matches;
 * POSIX picks the leftmost-longest match where Java picks the first
 * alternative; '.' is any byte but '\n' and \w, \d, \s are ASCII only;
 * non-ASCII characters inside [] are rejected. */
#ifndef FLOE_AGENT_JREGEX_H
#define FLOE_AGENT_JREGEX_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum floe_jregex_mode {
    FLOE_JREGEX_FULL,   /* Matcher.matches(): the whole input */
    FLOE_JREGEX_PREFIX, /* Matcher.lookingAt(): from the first byte */
};

struct floe_jregex {
    regex_t re;
    bool compiled;
    enum floe_jregex_mode mode;
    size_t ngroups;      /* Java capturing groups */
    size_t *map;         /* owned: Java group i (1-based) -> POSIX group */
    size_t nposix;       /* POSIX groups */
    regmatch_t *m;       /* owned scratch: nposix + 1 (not thread-safe) */
    char *copy;          /* owned: NUL-terminated copy of the input */
    size_t copy_cap;
};

/* Translate `java` (borrowed) and compile it. On FLOE_OK `re` must be
 * released with floe_jregex_free(). FLOE_EINVAL / FLOE_ENOTSUP with err
 * naming the problem. *out_lazy (may be NULL) tells whether lazy
 * quantifiers were turned greedy (the caller may warn). */
int floe_jregex_compile(struct floe_jregex *re, const char *java,
                        enum floe_jregex_mode mode, bool *out_lazy,
                        char *err);
void floe_jregex_free(struct floe_jregex *re); /* zeroed or NULL ok */

/* Match `s` (`len` bytes, NULs allowed; borrowed). On a match, and when
 * `groups` is not NULL, groups[i] for i in 1..ngroups gets the Java
 * group's byte range, rm_so == -1 for a group that did not take part. */
bool floe_jregex_match(struct floe_jregex *re, const char *s, size_t len,
                       regmatch_t *groups);

/* The POSIX ERE for `java` into `out` (reset first), for tests and
 * messages. Same errors as floe_jregex_compile. */
int floe_jregex_translate(const char *java, struct floe_buf *out,
                          bool *out_icase, bool *out_lazy, char *err);

#endif
