/* gen.h - floe emit: deterministic customers.log + orders.log with faults.
 * The same configuration (seed included) always writes byte-identical
 * files, plus a truth file naming every emitted line (truth.h) so a
 * reconciliation can prove nothing was lost or doubled downstream. Usable
 * as a library (floe_gen_run) or as the `floe emit` command. */
#ifndef FLOE_GEN_GEN_H
#define FLOE_GEN_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Filled by floe_gen_cfg_init (defaults) or the command line; strings are
 * owned by the config and released by floe_gen_cfg_free. */
struct floe_gen_cfg {
    char *dir;                    /* output directory (created) */
    int64_t orders;               /* valid order events */
    int64_t customers;            /* distinct customers */
    int64_t seed;
    char *start;                  /* ISO 8601 UTC base time, or "now" */
    int64_t span_ms;              /* time the events cover */
    double malformed_rate;        /* of lines, both files */
    double duplicate_rate;        /* of valid order events, re-emitted */
    double late_rate;             /* of valid order events */
    double unknown_customer_rate; /* of orders */
    double update_rate;           /* of customers, one update row each */
    double drift_after;           /* fraction of order events */
    bool append;                  /* append instead of truncating */
    char *truth;                  /* NULL: <dir>/emit-truth.tsv */
    bool json;                    /* summary as JSON on stdout */
    int64_t rate;                 /* lines per second; 0 = unpaced */
};

/* What a run wrote. orders_valid counts distinct valid events (not
 * duplicates); customers_valid counts every valid customer row, the
 * customer_updates among them; lines and bytes cover both log files. */
struct floe_gen_summary {
    int64_t orders_valid, orders_invalid, orders_duplicates;
    int64_t customers_valid, customers_invalid, customer_updates;
    int64_t late_events, unknown_customer_events;
    int64_t lines, bytes;
    double seconds;
};

/* Defaults from the option table (environment not applied). On error
 * (out of memory) err says so; release with floe_gen_cfg_free either way. */
int floe_gen_cfg_init(struct floe_gen_cfg *cfg, char *err);
void floe_gen_cfg_free(struct floe_gen_cfg *cfg); /* NULL is a no-op */

/* Write <dir>/customers.log, <dir>/orders.log and the truth file as `cfg`
 * (borrowed) says; counts into *out. FLOE_EINVAL (bad --start, bounds),
 * FLOE_EIO, FLOE_ENOMEM with err[FLOE_ERR_LEN] filled. */
int floe_gen_run(const struct floe_gen_cfg *cfg, struct floe_gen_summary *out,
                 char *err);
/* The summary as one JSON object (no newline) into out[n]. */
void floe_gen_summary_json(const struct floe_gen_summary *s, char *out,
                           size_t n);

/* The 'floe emit' subcommand; argv[0] is the command name. Exit status. */
int floe_emit_main(int argc, char **argv);

#endif
