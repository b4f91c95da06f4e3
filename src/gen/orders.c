/* orders.c - order lifecycles and their JSON lines (see orders.h).
 * Field order is fixed (event_id, order_id, customer_id, status, items,
 * total, currency, ts, then drift fields) so lines are byte-reproducible;
 * numbers are formatted by hand from integer cents. */
#include "gen/orders.h"

#include <string.h>

#include "gen/customers.h"

enum { CREATED, PAID, SHIPPED, DELIVERED, CANCELLED };

const char *const floe_order_statuses[5] = { "created", "paid", "shipped",
                                             "delivered", "cancelled" };
static const char *const channels[] = { "web", "app", "store", "phone" };
static const char *const coupons[] = { "WELCOME10", "BLACKFRIDAY",
                                       "FREESHIP", "VIP20" };

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SKUS 500

static int32_t sku_cents(unsigned sku)
{
    return (int32_t)(199 + (sku * 7919u) % 9801u); /* 1.99 .. 99.99 */
}

static void create(struct floe_orders *o, struct floe_rng *r, uint64_t num,
                   struct floe_order *ord)
{
    uint64_t roll;
    int i;

    memset(ord, 0, sizeof(*ord));
    ord->num = num;
    ord->unknown = floe_rng_chance(r, o->unknown_rate);
    if (ord->unknown) /* past the last customer: never in customers.log */
        ord->customer = o->customers + 1 +
                        (int64_t)floe_rng_below(r, (uint64_t)o->customers +
                                                       1000);
    else
        ord->customer = 1 + (int64_t)floe_rng_below(r, (uint64_t)o->customers);
    roll = floe_rng_below(r, 10); /* 1..4 items: 40%, 30%, 20%, 10% */
    ord->nitems = (uint8_t)(roll < 4 ? 1 : roll < 7 ? 2 : roll < 9 ? 3 : 4);
    for (i = 0; i < ord->nitems; i++) {
        struct floe_order_item *it = &ord->items[i];
        uint64_t q = floe_rng_below(r, 10);

        it->sku = (uint16_t)(1 + floe_rng_below(r, SKUS));
        it->qty = (uint8_t)(q < 6 ? 1 : q < 9 ? 2 : 3 + floe_rng_below(r, 3));
        it->cents = sku_cents(it->sku);
        ord->total += (int64_t)it->qty * it->cents;
    }
    ord->channel = (int8_t)floe_rng_below(r, N(channels));
    ord->coupon = floe_rng_chance(r, 0.25)
                      ? (int8_t)floe_rng_below(r, N(coupons))
                      : -1;
    /* the lifecycle, decided up front */
    ord->path[ord->npath++] = CREATED;
    roll = floe_rng_below(r, 100);
    if (roll < 8) {
        ord->path[ord->npath++] = CANCELLED;
    } else if (roll >= 13) { /* 5% are abandoned after "created" */
        ord->path[ord->npath++] = PAID;
        roll = floe_rng_below(r, 100);
        if (roll < 3) {
            ord->path[ord->npath++] = CANCELLED;
        } else if (roll >= 15) {
            ord->path[ord->npath++] = SHIPPED;
            if (floe_rng_chance(r, 0.9))
                ord->path[ord->npath++] = DELIVERED;
        }
    }
}

enum total_form { TOTAL_NUMBER, TOTAL_TEXT };

/* One event of `ord` with status path[step]; event_id NULL omits it. */
static void format(const struct floe_order *ord, const char *event_id,
                   enum total_form tf, int64_t ts_ms, bool drift,
                   struct floe_line *l)
{
    struct floe_line id;
    int i;

    floe_line_reset(l);
    floe_line_addc(l, '{');
    if (event_id != NULL) {
        floe_line_adds(l, "\"event_id\":");
        floe_line_add_json_str(l, event_id);
        floe_line_addc(l, ',');
    }
    floe_line_adds(l, "\"order_id\":\"O");
    floe_line_add_u64(l, ord->num, 8);
    floe_line_adds(l, "\",\"customer_id\":");
    floe_line_reset(&id);
    floe_customers_add_id(&id, ord->customer);
    floe_line_addc(&id, '\0');
    floe_line_add_json_str(l, id.buf);
    floe_line_adds(l, ",\"status\":");
    floe_line_add_json_str(l, floe_order_statuses[ord->path[ord->step]]);
    floe_line_adds(l, ",\"items\":[");
    for (i = 0; i < ord->nitems; i++) {
        const struct floe_order_item *it = &ord->items[i];

        floe_line_adds(l, i ? ",{\"sku\":\"SKU-" : "{\"sku\":\"SKU-");
        floe_line_add_u64(l, it->sku, 4);
        floe_line_adds(l, "\",\"qty\":");
        floe_line_add_u64(l, it->qty, 0);
        floe_line_adds(l, ",\"unit_price\":");
        floe_line_add_cents(l, it->cents);
        floe_line_addc(l, '}');
    }
    floe_line_adds(l, "],\"total\":");
    if (tf == TOTAL_TEXT) {
        floe_line_addc(l, '"');
        floe_line_add_cents(l, ord->total);
        floe_line_adds(l, " EUR\"");
    } else {
        floe_line_add_cents(l, ord->total);
    }
    floe_line_adds(l, ",\"currency\":\"EUR\",\"ts\":\"");
    floe_line_add_iso(l, ts_ms);
    floe_line_addc(l, '"');
    if (drift) {
        floe_line_adds(l, ",\"channel\":");
        floe_line_add_json_str(l, channels[ord->channel]);
        if (ord->coupon >= 0) {
            floe_line_adds(l, ",\"coupon\":");
            floe_line_add_json_str(l, coupons[ord->coupon]);
        }
    }
    floe_line_addc(l, '}');
}

void floe_orders_init(struct floe_orders *o, int64_t customers,
                      double unknown_rate, uint64_t first_num)
{
    memset(o, 0, sizeof(*o));
    o->customers = customers > 0 ? customers : 1;
    o->unknown_rate = unknown_rate;
    o->next_num = first_num > 0 ? first_num : 1;
}

void floe_orders_next(struct floe_orders *o, struct floe_rng *rng,
                      int64_t ts_ms, bool drift, struct floe_line *l,
                      char *event_id, bool *out_unknown)
{
    size_t s = (size_t)floe_rng_below(rng, FLOE_ORDERS_POOL);
    struct floe_order *ord = &o->slot[s];

    if (!o->used[s]) {
        create(o, rng, o->next_num++, ord);
        o->used[s] = true;
    } else {
        ord->step++;
    }
    floe_rng_uuid(rng, event_id);
    format(ord, event_id, TOTAL_NUMBER, ts_ms, drift, l);
    floe_line_addc(l, '\n');
    *out_unknown = ord->unknown;
    if (ord->step + 1 >= ord->npath)
        o->used[s] = false; /* the order's last event: free the slot */
}

static const char *const garbage[] = {
    "ERROR [worker-3] connection reset by peer while writing event",
    "<html><head><title>502 Bad Gateway</title></head></html>",
    "order_id=O00000000 status=paid total=?? (legacy format)",
    "}{\"event_id\":",
    "\xef\xbf\xbd\xef\xbf\xbd\tbinary junk\t\xef\xbf\xbd",
};

void floe_orders_malformed(struct floe_orders *o, struct floe_rng *rng,
                           int64_t ts_ms, bool drift, struct floe_line *l)
{
    size_t s = (size_t)floe_rng_below(rng, FLOE_ORDERS_POOL);
    char fresh[FLOE_RNG_UUID_LEN + 1];
    struct floe_order tmp;
    const struct floe_order *ord = &o->slot[s];
    size_t cut;

    if (!o->used[s]) { /* a corrupted copy of an order about to open */
        create(o, rng, o->next_num, &tmp);
        ord = &tmp;
    }
    /* random ids are 122 bits: a fresh one never equals a valid one */
    floe_rng_uuid(rng, fresh);
    switch (floe_rng_below(rng, 4)) {
    case 0: /* truncated mid-line: a proper prefix of an object never
             * parses, because the closing brace is missing */
        format(ord, fresh, TOTAL_NUMBER, ts_ms, drift, l);
        cut = 10 + (size_t)floe_rng_below(rng, l->len - 10);
        l->len = cut;
        break;
    case 1:
        floe_line_reset(l);
        floe_line_adds(l, garbage[floe_rng_below(rng, N(garbage))]);
        break;
    case 2:
        format(ord, NULL, TOTAL_NUMBER, ts_ms, drift, l);
        break;
    default:
        format(ord, fresh, TOTAL_TEXT, ts_ms, drift, l);
        break;
    }
    floe_line_addc(l, '\n');
}
