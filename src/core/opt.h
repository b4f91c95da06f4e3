/* opt.h - every option declared once, in a table.
 * A table gives defaults, parses the command line (--name value,
 * --name=value, --flag), applies FLOE_<SECTION>_<NAME> environment
 * overrides, checks bounds and prints help; later the same table reads the
 * YAML section and prints `floe config --doc`. No option is parsed
 * anywhere else. */
#ifndef FLOE_CORE_OPT_H
#define FLOE_CORE_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

enum floe_opt_type {
    FLOE_OPT_STR,      /* char * (owned by the config, freed by _free) */
    FLOE_OPT_INT,      /* int64_t */
    FLOE_OPT_SIZE,     /* int64_t bytes; accepts 4M, 512K, 1G */
    FLOE_OPT_MS,       /* int64_t milliseconds; accepts 250ms, 2s, 1m */
    FLOE_OPT_BOOL,     /* bool; on the command line a bare --flag = true */
    FLOE_OPT_DOUBLE,   /* double */
};

#define FLOE_OPT_REQUIRED 0x1u /* must be given */
#define FLOE_OPT_SECRET 0x2u   /* never printed */

struct floe_opt {
    const char *name;      /* "batch-max-bytes"; env uses upper, '_' */
    enum floe_opt_type type;
    const char *def;       /* default as text; NULL = unset/0 */
    size_t off;            /* offsetof the field in the config struct */
    double min, max;       /* bounds for numbers (ignored if min > max) */
    unsigned flags;
    const char *doc;       /* one line for --help and config --doc */
};

/* The command's help: usage line, summary and the option table. */
struct floe_cmd {
    const char *name;      /* "agent" (also the env section) */
    const char *usage;     /* "floe agent [options]" */
    const char *summary;   /* a paragraph */
    const struct floe_opt *opts;
    const char *epilog;    /* examples; may be NULL */
    /* Keys of the command's floe.yaml section that are not options but
     * read by the command itself (e.g. firehose "streams"): NULL or a
     * NULL-terminated list. Any other non-option key is an error. */
    const char *const *yaml_keys;
    /* Checks `cfg` further in --config-check mode, once the options are
     * valid (the structured yaml_keys, files they name...); NULL = none.
     * FLOE_OK or an error with err set. */
    int (*check)(const void *cfg, char *err);
};

/* Defaults, then the floe.yaml section named cmd->name of
 * floe_config_current() (keys spelled "max-bytes" or "max_bytes"; unknown
 * keys and lists/mappings for an option are errors naming file:line),
 * then FLOE_<SECTION>_<NAME>, then argv[1..]. Positional
 * arguments are left for the caller: argv[*out_next .. argc). On
 * FLOE_EHELP help went to stdout and the caller should exit 0; on an
 * error err says what to do. The caller releases strings with
 * floe_opt_free() in every case. */
int floe_opt_parse(const struct floe_cmd *cmd, void *cfg, int argc,
                   char **argv, int *out_next, char *err);
/* floe_opt_parse() for a command's main(): prints "floe <cmd>: <error>"
 * to stderr. Returns FLOE_OPT_GO to carry on, else the exit status (0
 * after --help, 2 after a usage error). With out_next == NULL positional
 * arguments are a usage error; otherwise they start at *out_next. As with
 * floe_opt_parse(), the caller frees cfg in every case. */
#define FLOE_OPT_GO (-1)
int floe_opt_main(const struct floe_cmd *cmd, void *cfg, int argc,
                  char **argv, int *out_next);
/* Two generic first arguments serve `floe config`: argv[1] ==
 * "--config-doc" prints floe_opt_doc() and returns FLOE_EHELP;
 * "--config-check" applies defaults and the YAML section only, runs
 * cmd->check, and returns FLOE_EHELP if the section is valid, else the
 * error. */
struct floe_config;
/* Apply the section cmd->name of `doc` (borrowed; NULL = nothing) to
 * `cfg`: what floe_opt_parse() does between defaults and environment. */
int floe_opt_apply_config(const struct floe_cmd *cmd, void *cfg,
                          const struct floe_config *doc, char *err);
/* The command's options as YAML: section, then per key its type,
 * default, bounds, environment variable, flag and doc. */
void floe_opt_doc(const struct floe_cmd *cmd, FILE *out);
/* Set one option from text; bounds checked. */
int floe_opt_set(const struct floe_opt *opts, void *cfg, const char *name,
                 const char *value, char *err);
void floe_opt_help(const struct floe_cmd *cmd, FILE *out);
void floe_opt_free(const struct floe_opt *opts, void *cfg);

/* Text parsers shared with config readers. */
int floe_parse_size(const char *s, int64_t *out);
int floe_parse_ms(const char *s, int64_t *out);
int floe_parse_bool(const char *s, bool *out);

#endif
