/* customers.h - customers.log rows (CSV, RFC 4180, no header).
 * Columns: customer_id, name, email, country, segment, created_at,
 * updated_at. A customer's attributes are a pure function of (seed, index,
 * version), so update rows are rebuilt on demand and nothing is stored per
 * customer. Names include commas, doubled quotes and UTF-8. */
#ifndef FLOE_GEN_CUSTOMERS_H
#define FLOE_GEN_CUSTOMERS_H

#include <stddef.h>
#include <stdint.h>

#include "gen/line.h"
#include "gen/rng.h"

#define FLOE_CUSTOMER_VERSION_ID_MAX 64 /* "<customer_id>|<updated_at>" */

struct floe_customers {
    uint64_t seed;
    int64_t count;    /* customers are C000001 .. C<count> */
    int64_t start_ms; /* created_at falls in the year before this */
};

void floe_customers_init(struct floe_customers *c, uint64_t seed,
                         int64_t count, int64_t start_ms);
/* created_at of customer `idx` (1-based), always before start_ms. */
int64_t floe_customers_created(const struct floe_customers *c, int64_t idx);
/* Append customer_id "C000042" (at least 6 digits) to `l`. */
void floe_customers_add_id(struct floe_line *l, int64_t idx);
/* The valid row of customer `idx`, newline included, into `l` (reset
 * first). version 0 is the first row (updated_at = created_at); version
 * >= 1 is an update: same customer, maybe a new email, country or
 * segment, with `updated_ms` as updated_at (the caller keeps it later than
 * the previous version). The version id "<customer_id>|<updated_at>" goes
 * to id_out[FLOE_CUSTOMER_VERSION_ID_MAX]. */
void floe_customers_row(const struct floe_customers *c, int64_t idx,
                        int version, int64_t updated_ms, struct floe_line *l,
                        char *id_out);
/* A malformed row (too few columns, empty customer_id, or updated_at
 * "yesterday"), newline included, into `l` (reset first). */
void floe_customers_malformed(const struct floe_customers *c,
                              struct floe_rng *rng, int64_t now_ms,
                              struct floe_line *l);

#endif
