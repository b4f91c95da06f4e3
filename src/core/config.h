/* config.h - floe.yaml: one YAML file, a section per command.
 *   firehose:
 *     port: 4573
 *     streams:                # sequences of mappings are read by parts
 *       - name: orders
 *         prefix: orders/
 * floe_opt_parse() applies the section named after the command between
 * the defaults and the environment (defaults < YAML < FLOE_* < argv), so
 * every scalar option is settable in the file with no extra code. The
 * file is chosen by `floe --config FILE <command>` or FLOE_CONFIG. */
#ifndef FLOE_CORE_CONFIG_H
#define FLOE_CORE_CONFIG_H

#include "core/err.h"

struct floe_config;     /* a parsed document */
struct floe_config_map; /* one mapping inside it */

/* Parse `path` (borrowed). On FLOE_OK *out is owned by the caller
 * (floe_config_free). Errors name the file, line and column. */
int floe_config_load(const char *path, struct floe_config **out, char *err);
void floe_config_free(struct floe_config *cfg); /* NULL is a no-op */

/* The process-wide document chosen on the command line; NULL if none.
 * Set once by main() before any command runs (takes ownership; a
 * previous document is freed, so set_current(NULL) at exit releases it).
 * `floe config --check` swaps in the file it checks. Not thread-safe:
 * only while one thread runs. */
const struct floe_config *floe_config_current(void);
void floe_config_set_current(struct floe_config *cfg);

/* The mapping at top-level key `section`, or NULL. */
const struct floe_config_map *floe_config_section(
    const struct floe_config *cfg, const char *section);
/* Scalar value of `key` in `m` as text, or NULL (absent or not scalar). */
const char *floe_config_get(const struct floe_config_map *m, const char *key);
/* Call `cb` for each mapping in the sequence at `key` of `m`; a non-zero
 * return stops and is returned. FLOE_EINVAL (err set) if `key` is not a
 * sequence of mappings. An absent key is FLOE_OK with no calls. */
int floe_config_each(const struct floe_config_map *m, const char *key,
                     int (*cb)(const struct floe_config_map *item, void *ud),
                     void *ud, char *err);
/* Keys of `m` in order, for unknown-key checks: calls `cb` per key. */
int floe_config_keys(const struct floe_config_map *m,
                     int (*cb)(const char *key, void *ud), void *ud);
/* "file.yaml:12" of a mapping, for messages. */
const char *floe_config_where(const struct floe_config_map *m);

/* --- Additions (beyond the seam above) ------------------------------ */

#include <stddef.h>

/* What a key of a mapping holds. A key written with no value (`port:`),
 * `~` or `null` is FLOE_CONFIG_NULL; floe_config_get() returns NULL then. */
enum floe_config_kind {
    FLOE_CONFIG_ABSENT = 0,
    FLOE_CONFIG_NULL,
    FLOE_CONFIG_SCALAR,
    FLOE_CONFIG_MAP,
    FLOE_CONFIG_SEQ,
};

/* Parse a document held in memory; `name` (borrowed) is what error
 * messages and floe_config_where() call it. Same ownership and errors as
 * floe_config_load(), which reads the file and calls this. Rejected with
 * file:line:column: YAML syntax errors, tabs in indentation, duplicate
 * keys, non-scalar keys, aliases, several documents, a top level that is
 * not a mapping, nesting deeper than 32. */
int floe_config_parse(const char *name, const char *text, size_t len,
                      struct floe_config **out, char *err);
/* The top-level mapping (never NULL for a loaded document). */
const struct floe_config_map *floe_config_root(const struct floe_config *cfg);
/* The file name given to load/parse; the document owns it. */
const char *floe_config_path(const struct floe_config *cfg);
/* Kind of the value at `key` of `m` (FLOE_CONFIG_ABSENT if none; `m` may
 * be NULL). */
enum floe_config_kind floe_config_kind(const struct floe_config_map *m,
                                       const char *key);
/* The mapping at `key` of `m`, or NULL (absent, null or not a mapping). */
const struct floe_config_map *floe_config_child(
    const struct floe_config_map *m, const char *key);
/* Append the value at `key` of `m` to `out` as JSON text: mappings as
 * objects (keys in file order), sequences as arrays, quoted scalars as
 * strings; a plain scalar in JSON number syntax is a number, true/false
 * a boolean, anything else a string (so True, +1, 0x1f, .inf stay text);
 * absent or null is null. Lets a part feed a floe.yaml subtree to a
 * reader of its native JSON format. */
struct floe_buf;
int floe_config_json(const struct floe_config_map *m, const char *key,
                     struct floe_buf *out);
/* 1-based line of `key` in `m` (0 if absent), and the file `m` is from;
 * together they make "file:line" messages about one key. */
int floe_config_line(const struct floe_config_map *m, const char *key);
const char *floe_config_file(const struct floe_config_map *m);

#endif
