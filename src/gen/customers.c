/* customers.c - deterministic customer rows (see customers.h).
 * Each (customer, version) gets its own rng stream seeded from a hash of
 * (seed, index, version): rows are reproducible in any order and an
 * update can be rebuilt without remembering the first row. */
#include "gen/customers.h"

#include <string.h>

struct name {
    const char *text; /* as displayed, UTF-8 */
    const char *slug; /* ASCII for the email address */
};

static const struct name firsts[] = {
    { "James", "james" },     { "Mary", "mary" },
    { "José", "jose" },       { "Zoë", "zoe" },
    { "Björn", "bjorn" },     { "François", "francois" },
    { "Łukasz", "lukasz" },   { "Søren", "soren" },
    { "Aiko", "aiko" },       { "Chloé", "chloe" },
    { "Ahmed", "ahmed" },     { "Olga", "olga" },
    { "Li", "li" },           { "Priya", "priya" },
    { "Lars", "lars" },       { "Anna", "anna" },
    { "Mateo", "mateo" },     { "Fatima", "fatima" },
    { "Noah", "noah" },       { "Emma", "emma" },
    { "Jürgen", "jurgen" },   { "Siobhán", "siobhan" },
    { "Kenji", "kenji" },     { "Ingrid", "ingrid" },
};

static const struct name lasts[] = {
    { "Smith", "smith" },         { "Ñúñez", "nunez" },
    { "Müller", "muller" },       { "García", "garcia" },
    { "O'Brien", "obrien" },      { "Dvořák", "dvorak" },
    { "Kowalski", "kowalski" },   { "Nguyen", "nguyen" },
    { "Rossi", "rossi" },         { "Jensen", "jensen" },
    { "Øster", "oster" },         { "Dubois", "dubois" },
    { "Tanaka", "tanaka" },       { "Schmidt", "schmidt" },
    { "Silva", "silva" },         { "Andersson", "andersson" },
    { "Johnson", "johnson" },     { "Novak", "novak" },
    { "Papadopoulos", "papadopoulos" },
    { "van der Berg", "vanderberg" },
    { "Brown", "brown" },         { "Kim", "kim" },
    { "Haddad", "haddad" },       { "Petrović", "petrovic" },
};

static const char *const nicks[] = { "Bo", "Ace", "Red", "Kit", "Sunny" };
static const char *const domains[] = { "example.com", "example.org",
                                       "mail.example.net", "example.de" };
static const char *const countries[] = { "DE", "FR", "ES", "US", "GB", "PL",
                                         "SE", "NL", "IT", "JP", "BR", "IN" };
/* consumer three times as likely as the others */
static const char *const segments[] = { "consumer", "consumer", "consumer",
                                        "smb", "enterprise" };

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define YEAR_MS (365LL * 86400000)

struct person {
    const struct name *first, *last;
    int form;         /* 0 "First Last", 1 "Last, First", 2 with "Nick" */
    const char *nick;
    const char *domain, *country, *segment;
    int64_t created_ms;
};

static void stream(const struct floe_customers *c, int64_t idx, int version,
                   struct floe_rng *r)
{
    uint64_t h = c->seed ^ 0x6375737430303031ull; /* "cust0001" */

    h = floe_rng_mix(&h) ^ (uint64_t)idx;
    h = floe_rng_mix(&h) ^ (uint64_t)version;
    floe_rng_seed(r, floe_rng_mix(&h));
}

static void person(const struct floe_customers *c, int64_t idx, int version,
                   struct person *p)
{
    struct floe_rng r;
    uint64_t roll;

    stream(c, idx, 0, &r);
    p->first = &firsts[floe_rng_below(&r, N(firsts))];
    p->last = &lasts[floe_rng_below(&r, N(lasts))];
    roll = floe_rng_below(&r, 100);
    p->form = roll < 6 ? 1 : roll < 9 ? 2 : 0;
    p->nick = nicks[floe_rng_below(&r, N(nicks))];
    p->domain = domains[floe_rng_below(&r, N(domains))];
    p->country = countries[floe_rng_below(&r, N(countries))];
    p->segment = segments[floe_rng_below(&r, N(segments))];
    p->created_ms = c->start_ms - 1 - (int64_t)floe_rng_below(&r, YEAR_MS);
    if (version == 0)
        return;
    /* an update changes something a customer would change */
    stream(c, idx, version, &r);
    switch (floe_rng_below(&r, 3)) {
    case 0: p->domain = domains[floe_rng_below(&r, N(domains))]; break;
    case 1: p->country = countries[floe_rng_below(&r, N(countries))]; break;
    default: p->segment = segments[floe_rng_below(&r, N(segments))]; break;
    }
}

void floe_customers_init(struct floe_customers *c, uint64_t seed,
                         int64_t count, int64_t start_ms)
{
    c->seed = seed;
    c->count = count;
    c->start_ms = start_ms;
}

int64_t floe_customers_created(const struct floe_customers *c, int64_t idx)
{
    struct person p;

    person(c, idx, 0, &p);
    return p.created_ms;
}

void floe_customers_add_id(struct floe_line *l, int64_t idx)
{
    floe_line_addc(l, 'C');
    floe_line_add_u64(l, (uint64_t)idx, 6);
}

static void add_name(struct floe_line *l, const struct person *p)
{
    struct floe_line n;

    floe_line_reset(&n);
    if (p->form == 1) {
        floe_line_adds(&n, p->last->text);
        floe_line_adds(&n, ", ");
        floe_line_adds(&n, p->first->text);
    } else {
        floe_line_adds(&n, p->first->text);
        if (p->form == 2) {
            floe_line_adds(&n, " \"");
            floe_line_adds(&n, p->nick);
            floe_line_addc(&n, '"');
        }
        floe_line_addc(&n, ' ');
        floe_line_adds(&n, p->last->text);
    }
    floe_line_addc(&n, '\0');
    floe_line_add_csv(l, n.buf);
}

static void add_email(struct floe_line *l, const struct person *p,
                      int64_t idx)
{
    floe_line_adds(l, p->first->slug);
    floe_line_addc(l, '.');
    floe_line_adds(l, p->last->slug);
    floe_line_add_u64(l, (uint64_t)idx, 0);
    floe_line_addc(l, '@');
    floe_line_adds(l, p->domain);
}

/* id, name, email, country, segment, created_at: the first six columns */
static void add_head(struct floe_line *l, const struct person *p,
                     int64_t idx, int cols)
{
    floe_customers_add_id(l, idx);
    floe_line_addc(l, ',');
    add_name(l, p);
    floe_line_addc(l, ',');
    add_email(l, p, idx);
    if (cols <= 3)
        return;
    floe_line_addc(l, ',');
    floe_line_adds(l, p->country);
    floe_line_addc(l, ',');
    floe_line_adds(l, p->segment);
    floe_line_addc(l, ',');
    floe_line_add_iso(l, p->created_ms);
}

void floe_customers_row(const struct floe_customers *c, int64_t idx,
                        int version, int64_t updated_ms, struct floe_line *l,
                        char *id_out)
{
    struct floe_line id;
    struct person p;

    person(c, idx, version, &p);
    if (version == 0)
        updated_ms = p.created_ms;
    floe_line_reset(l);
    add_head(l, &p, idx, 6);
    floe_line_addc(l, ',');
    floe_line_add_iso(l, updated_ms);
    floe_line_addc(l, '\n');

    floe_line_reset(&id);
    floe_customers_add_id(&id, idx);
    floe_line_addc(&id, '|');
    floe_line_add_iso(&id, updated_ms);
    if (id.len >= FLOE_CUSTOMER_VERSION_ID_MAX)
        id.len = FLOE_CUSTOMER_VERSION_ID_MAX - 1;
    memcpy(id_out, id.buf, id.len);
    id_out[id.len] = '\0';
}

void floe_customers_malformed(const struct floe_customers *c,
                              struct floe_rng *rng, int64_t now_ms,
                              struct floe_line *l)
{
    int64_t idx = 1 + (int64_t)floe_rng_below(rng, (uint64_t)c->count);
    struct person p;
    size_t comma;

    person(c, idx, 0, &p);
    floe_line_reset(l);
    switch (floe_rng_below(rng, 3)) {
    case 0: /* too few columns: the row stops after the email */
        add_head(l, &p, idx, 3);
        break;
    case 1: /* empty customer_id */
        add_head(l, &p, idx, 6);
        floe_line_addc(l, ',');
        floe_line_add_iso(l, now_ms);
        comma = (size_t)((char *)memchr(l->buf, ',', l->len) - l->buf);
        memmove(l->buf, l->buf + comma, l->len - comma);
        l->len -= comma;
        break;
    default: /* unparsable updated_at */
        add_head(l, &p, idx, 6);
        floe_line_adds(l, ",yesterday");
        break;
    }
    floe_line_addc(l, '\n');
}
