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
 * Set once by main() before any command runs (takes ownership). */
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

#endif
