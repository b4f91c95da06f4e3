/* gen.c - `floe emit`: option table, defaults, summary and the command.
 * Every option is declared once below (core/opt.h); floe_gen_run (run.c)
 * does the work, so the demo and tests can call it without a process. */
#define FLOE_LOG_MOD "gen"
#include "gen/gen.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/log.h"
#include "core/opt.h"

#define F(m) offsetof(struct floe_gen_cfg, m)
static const struct floe_opt emit_opts[] = {
    { "dir", FLOE_OPT_STR, ".", F(dir), 0, 0, 0,
      "Directory for customers.log, orders.log (created if missing)." },
    { "orders", FLOE_OPT_INT, "100000", F(orders), 0, 1e9, 0,
      "Valid order events to emit (duplicates and malformed lines come on "
      "top)." },
    { "customers", FLOE_OPT_INT, "10000", F(customers), 1, 1e8, 0,
      "Distinct customers (C000001 ..), all written before any order." },
    { "seed", FLOE_OPT_INT, "1", F(seed), 0, 9007199254740991.0, 0,
      "Random seed: the same seed and options give byte-identical files." },
    { "start", FLOE_OPT_STR, "2026-11-24T00:00:00.000Z", F(start), 0, 0, 0,
      "Base time of the events, ISO 8601 UTC, or 'now'." },
    { "span", FLOE_OPT_MS, "1h", F(span_ms), 0, 3.2e12, 0,
      "Time the order events cover, from --start (e.g. 10m, 1h)." },
    { "malformed-rate", FLOE_OPT_DOUBLE, "0.005", F(malformed_rate), 0, 0.5,
      0, "Fraction of lines, both files, that are malformed." },
    { "duplicate-rate", FLOE_OPT_DOUBLE, "0.01", F(duplicate_rate), 0, 1, 0,
      "Fraction of order events re-emitted verbatim later." },
    { "late-rate", FLOE_OPT_DOUBLE, "0.01", F(late_rate), 0, 1, 0,
      "Fraction of order events whose ts is up to --span earlier." },
    { "unknown-customer-rate", FLOE_OPT_DOUBLE, "0.002",
      F(unknown_customer_rate), 0, 1, 0,
      "Fraction of orders naming a customer customers.log never has." },
    { "update-rate", FLOE_OPT_DOUBLE, "0.2", F(update_rate), 0, 1, 0,
      "Fraction of customers that get one later updated row." },
    { "drift-after", FLOE_OPT_DOUBLE, "0.5", F(drift_after), 0, 1, 0,
      "Fraction of order events after which optional fields \"channel\" "
      "and sometimes \"coupon\" appear (schema drift)." },
    { "append", FLOE_OPT_BOOL, "false", F(append), 0, 0, 0,
      "Append to existing files instead of truncating (order numbers "
      "continue; ids differ from the earlier run)." },
    { "truth", FLOE_OPT_STR, NULL, F(truth), 0, 0, 0,
      "Truth file, one '<kind>\\t<id>\\t<status>' line per emitted line "
      "[default: <dir>/emit-truth.tsv]." },
    { "json", FLOE_OPT_BOOL, "false", F(json), 0, 0, 0,
      "Print the summary as one JSON object on stdout." },
    { "rate", FLOE_OPT_INT, "0", F(rate), 0, 1e8, 0,
      "Lines per second, written and flushed steadily (0: as fast as "
      "possible)." },
    { NULL },
};

static const struct floe_cmd emit_cmd = {
    "emit",
    "floe emit [options]",
    "Writes customers.log (CSV) and orders.log (JSON lines) as an\n"
    "application would, with realistic faults: malformed lines, duplicate\n"
    "events, late events, unknown customers, customer updates and schema\n"
    "drift. Output is deterministic for a given seed. A truth file lists\n"
    "every emitted line as valid, duplicate or invalid, for reconciliation.",
    emit_opts,
    "Examples:\n"
    "  floe emit --dir logs --orders 100000 --customers 10000 --seed 7\n"
    "  floe emit --dir logs --orders 5000 --rate 200 --start now   "
    "# a live file\n"
    "  floe emit --dir logs --json | jq .orders_valid\n\n"
    "Summary fields: orders_valid (distinct valid events), orders_invalid,\n"
    "orders_duplicates, customers_valid (all valid rows), customers_invalid,\n"
    "customer_updates, late_events, unknown_customer_events, lines, bytes,\n"
    "seconds.",
};

int floe_gen_cfg_init(struct floe_gen_cfg *cfg, char *err)
{
    const struct floe_opt *o;
    int rc;

    *cfg = (struct floe_gen_cfg){ 0 };
    for (o = emit_opts; o->name != NULL; o++) {
        rc = floe_opt_set(emit_opts, cfg, o->name, o->def, err);
        if (rc != FLOE_OK)
            return rc;
    }
    return FLOE_OK;
}

void floe_gen_cfg_free(struct floe_gen_cfg *cfg)
{
    if (cfg != NULL)
        floe_opt_free(emit_opts, cfg);
}

void floe_gen_summary_json(const struct floe_gen_summary *s, char *out,
                           size_t n)
{
    snprintf(out, n,
             "{\"orders_valid\":%lld,\"orders_invalid\":%lld,"
             "\"orders_duplicates\":%lld,\"customers_valid\":%lld,"
             "\"customers_invalid\":%lld,\"customer_updates\":%lld,"
             "\"late_events\":%lld,\"unknown_customer_events\":%lld,"
             "\"lines\":%lld,\"bytes\":%lld,\"seconds\":%.3f}",
             (long long)s->orders_valid, (long long)s->orders_invalid,
             (long long)s->orders_duplicates, (long long)s->customers_valid,
             (long long)s->customers_invalid, (long long)s->customer_updates,
             (long long)s->late_events,
             (long long)s->unknown_customer_events, (long long)s->lines,
             (long long)s->bytes, s->seconds);
}

int floe_emit_main(int argc, char **argv)
{
    struct floe_gen_cfg cfg = { 0 };
    struct floe_gen_summary sum;
    char err[FLOE_ERR_LEN], json[512];
    int rc;

    rc = floe_opt_main(&emit_cmd, &cfg, argc, argv, NULL);
    if (rc != FLOE_OPT_GO) {
        floe_gen_cfg_free(&cfg);
        return rc;
    }
    rc = floe_gen_run(&cfg, &sum, err);
    if (rc != FLOE_OK) {
        floe_log_error("%s", err);
        floe_gen_cfg_free(&cfg);
        return 1;
    }
    if (cfg.json) {
        floe_gen_summary_json(&sum, json, sizeof(json));
        printf("%s\n", json);
    } else {
        fprintf(stderr,
                "floe emit: %lld order events (+%lld duplicates, +%lld "
                "malformed; %lld late, %lld unknown customer), %lld "
                "customer rows (%lld updates, +%lld malformed): %lld lines, "
                "%.1f MB in %.2f s -> %s\n",
                (long long)sum.orders_valid, (long long)sum.orders_duplicates,
                (long long)sum.orders_invalid, (long long)sum.late_events,
                (long long)sum.unknown_customer_events,
                (long long)sum.customers_valid, (long long)sum.customer_updates,
                (long long)sum.customers_invalid, (long long)sum.lines,
                (double)sum.bytes / 1e6, sum.seconds, cfg.dir);
    }
    floe_gen_cfg_free(&cfg);
    return 0;
}
