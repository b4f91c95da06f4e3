/* orders.h - orders.log events (JSON lines) from a pool of live orders.
 * Up to FLOE_ORDERS_POOL orders are in flight at once; each step advances
 * one of them (or opens a new one), so events of an order interleave with
 * others and statuses follow a realistic path per order_id: created, then
 * paid, then maybe shipped and delivered, or cancelled. Totals are exact
 * (integer cents). No allocation: the pool lives in the struct. */
#ifndef FLOE_GEN_ORDERS_H
#define FLOE_GEN_ORDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "gen/line.h"
#include "gen/rng.h"

#define FLOE_ORDERS_POOL 32
#define FLOE_ORDER_ITEMS_MAX 4
#define FLOE_ORDER_PATH_MAX 4

struct floe_order_item {
    uint16_t sku;    /* SKU-0001 .. SKU-0500 */
    uint8_t qty;
    int32_t cents;   /* unit price; a function of the sku */
};

struct floe_order {
    uint64_t num;              /* order_id O00000042 */
    int64_t customer;          /* index; > customers when unknown */
    bool unknown;
    uint8_t nitems, npath, step;
    uint8_t path[FLOE_ORDER_PATH_MAX]; /* status indexes, in order */
    int8_t channel, coupon;    /* coupon -1: none */
    int64_t total;             /* cents: sum(qty * unit price) */
    struct floe_order_item items[FLOE_ORDER_ITEMS_MAX];
};

struct floe_orders {
    int64_t customers;         /* known customers are 1 .. customers */
    double unknown_rate;       /* fraction of orders with no such customer */
    uint64_t next_num;
    bool used[FLOE_ORDERS_POOL];
    struct floe_order slot[FLOE_ORDERS_POOL];
};

/* Order numbers start at `first_num` (>= 1). Cannot fail. */
void floe_orders_init(struct floe_orders *o, int64_t customers,
                      double unknown_rate, uint64_t first_num);
/* The next valid event, newline included, into `l` (reset first): a new
 * order's "created" or the next status of a live one. `drift` adds the
 * optional fields (channel, sometimes coupon). The fresh event_id goes to
 * event_id[FLOE_RNG_UUID_LEN + 1]; *out_unknown tells whether the order's
 * customer is one that customers.log never has. */
void floe_orders_next(struct floe_orders *o, struct floe_rng *rng,
                      int64_t ts_ms, bool drift, struct floe_line *l,
                      char *event_id, bool *out_unknown);
/* A malformed line about a live order, newline included, into `l` (reset
 * first): truncated JSON, garbage text, JSON without event_id, or a total
 * that is a string. Any event_id in it is fresh (never a valid one's). */
void floe_orders_malformed(struct floe_orders *o, struct floe_rng *rng,
                           int64_t ts_ms, bool drift, struct floe_line *l);

/* Status names, for validators: index 0..4. */
extern const char *const floe_order_statuses[5];

#endif
