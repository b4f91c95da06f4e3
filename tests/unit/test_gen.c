/* test_gen.c - floe emit: determinism, the truth file agrees with the
 * files and the summary, valid lines meet the data contract (orders parse
 * with cJSON, customers with an RFC 4180 reader), malformed lines break
 * it, duplicates copy an earlier line byte for byte, statuses follow a
 * legal path per order, drift and append behave. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "gen/gen.h"
#include "gen/line.h"
#include "gen/rng.h"
#include "test.h"

/* ---- helpers ---------------------------------------------------------- */

static char *slurp(const char *dir, const char *name, size_t *out_len)
{
    char path[512];
    struct floe_buf b;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    floe_buf_init(&b, FLOE_BUF_UNLIMITED);
    if (floe_read_file(path, &b) != FLOE_OK) {
        floe_buf_free(&b);
        return NULL;
    }
    return floe_buf_take(&b, out_len);
}

/* Split `text` into lines in place (each line keeps no '\n'); returns
 * the count. lines[] is malloc'd, caller frees. */
static size_t split_lines(char *text, size_t len, char ***out)
{
    size_t n = 0, cap = 1024, i, start = 0;
    char **v = malloc(cap * sizeof(*v));

    for (i = 0; i < len; i++) {
        if (text[i] != '\n')
            continue;
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(*v));
        }
        text[i] = '\0';
        v[n++] = text + start;
        start = i + 1;
    }
    *out = v;
    return n;
}

/* RFC 4180 reader for one line (no newline): fields into f[max][256].
 * Returns the field count, or -1 on bad quoting. */
static int csv_split(const char *s, char f[][256], int max)
{
    int nf = 0;

    for (;;) {
        size_t o = 0;

        if (nf == max)
            return -1;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '\0')
                    return -1; /* unterminated */
                if (*s == '"' && s[1] == '"') {
                    f[nf][o++] = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    f[nf][o++] = *s++;
                }
                if (o >= 255)
                    return -1;
            }
            if (*s != ',' && *s != '\0')
                return -1; /* text after the closing quote */
        } else {
            while (*s != ',' && *s != '\0') {
                if (*s == '"' || o >= 255)
                    return -1;
                f[nf][o++] = *s++;
            }
        }
        f[nf++][o] = '\0';
        if (*s == '\0')
            return nf;
        s++; /* the comma */
    }
}

/* The contract for a customers.log row; on success the version id
 * "<customer_id>|<updated_at>" goes to id[520]. */
static bool customer_valid(const char *line, char *id)
{
    char f[16][256];
    int64_t ms;
    int n = csv_split(line, f, 16);
    size_t i;

    if (n != 7 || f[0][0] != 'C' || strlen(f[0]) < 7)
        return false;
    for (i = 1; f[0][i] != '\0'; i++)
        if (f[0][i] < '0' || f[0][i] > '9')
            return false;
    if (f[1][0] == '\0' || strchr(f[2], '@') == NULL || strlen(f[3]) != 2 ||
        f[4][0] == '\0')
        return false;
    if (floe_line_parse_iso(f[5], &ms) != FLOE_OK ||
        floe_line_parse_iso(f[6], &ms) != FLOE_OK)
        return false;
    snprintf(id, 520, "%s|%s", f[0], f[6]);
    return true;
}

static bool is_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

static bool is_num(const cJSON *o, const char *k)
{
    return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* The contract for an orders.log line; on success *out is the parsed
 * object (caller deletes). */
static bool order_valid(const char *line, cJSON **out)
{
    static const char *const st[] = { "created", "paid", "shipped",
                                      "delivered", "cancelled" };
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(line, &end, 1), *items, *it;
    double sum = 0;
    int64_t ms;
    bool ok = false;
    size_t i;

    *out = NULL;
    if (!cJSON_IsObject(j))
        goto done;
    if (!is_str(j, "event_id") || !is_str(j, "order_id") ||
        !is_str(j, "customer_id") || !is_str(j, "status") ||
        !is_num(j, "total") || !is_str(j, "currency") || !is_str(j, "ts"))
        goto done;
    if (strlen(cJSON_GetObjectItem(j, "event_id")->valuestring) != 36)
        goto done;
    if (floe_line_parse_iso(cJSON_GetObjectItem(j, "ts")->valuestring, &ms))
        goto done;
    for (i = 0; i < 5; i++)
        if (strcmp(cJSON_GetObjectItem(j, "status")->valuestring, st[i]) == 0)
            break;
    if (i == 5)
        goto done;
    items = cJSON_GetObjectItemCaseSensitive(j, "items");
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) < 1 ||
        cJSON_GetArraySize(items) > 4)
        goto done;
    cJSON_ArrayForEach(it, items)
    {
        double q, p;

        if (!is_str(it, "sku") || !is_num(it, "qty") ||
            !is_num(it, "unit_price"))
            goto done;
        q = cJSON_GetObjectItem(it, "qty")->valuedouble;
        p = cJSON_GetObjectItem(it, "unit_price")->valuedouble;
        if (q < 1 || q != floor(q) || p <= 0)
            goto done;
        sum += q * p;
    }
    if (fabs(sum - cJSON_GetObjectItem(j, "total")->valuedouble) > 0.005)
        goto done;
    ok = true;
    *out = j;
    j = NULL;
done:
    cJSON_Delete(j);
    return ok;
}

struct run_out {
    char dir[256];
    struct floe_gen_summary sum;
};

static int run_gen(struct run_out *o, int64_t orders, int64_t customers,
                   int64_t seed, double malformed, double dup)
{
    struct floe_gen_cfg cfg;
    char err[FLOE_ERR_LEN];
    int rc;

    if (test_tmpdir(o->dir, sizeof(o->dir)) == NULL)
        return FLOE_EIO;
    rc = floe_gen_cfg_init(&cfg, err);
    if (rc == FLOE_OK) {
        free(cfg.dir);
        cfg.dir = strdup(o->dir);
        cfg.orders = orders;
        cfg.customers = customers;
        cfg.seed = seed;
        cfg.malformed_rate = malformed;
        cfg.duplicate_rate = dup;
        cfg.late_rate = 0.02;
        cfg.unknown_customer_rate = 0.01;
        rc = floe_gen_run(&cfg, &o->sum, err);
    }
    if (rc != FLOE_OK)
        fprintf(stderr, "  floe_gen_run: %s\n", err);
    floe_gen_cfg_free(&cfg);
    return rc;
}

static bool same_file(const char *a, const char *b, const char *name)
{
    size_t na, nb;
    char *x = slurp(a, name, &na), *y = slurp(b, name, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;

    free(x);
    free(y);
    return same;
}

/* ---- tests ------------------------------------------------------------ */

static void test_rng_is_deterministic_and_bounded(void)
{
    struct floe_rng a, b, c;
    char u[FLOE_RNG_UUID_LEN + 1];
    int i, same = 1, diff = 0;

    floe_rng_seed(&a, 42);
    floe_rng_seed(&b, 42);
    floe_rng_seed(&c, 43);
    for (i = 0; i < 1000; i++) {
        uint64_t x = floe_rng_next(&a), y = floe_rng_next(&b);
        same &= x == y;
        diff += x != floe_rng_next(&c);
    }
    CHECK(same && diff > 990);
    for (i = 0; i < 10000; i++) {
        uint64_t v = floe_rng_below(&a, 7);
        double d = floe_rng_unit(&a);
        CHECK(v < 7);
        CHECK(d >= 0 && d < 1);
    }
    CHECK(floe_rng_below(&a, 0) == 0);
    CHECK(!floe_rng_chance(&a, 0) && floe_rng_chance(&a, 1));
    floe_rng_uuid(&a, u);
    CHECK(strlen(u) == 36 && u[8] == '-' && u[14] == '4' &&
          strchr("89ab", u[19]) != NULL);
}

static void test_iso_format_and_parse(void)
{
    static const struct {
        const char *in;
        int64_t ms;
        const char *out; /* NULL: must be rejected */
    } cases[] = {
        { "1970-01-01T00:00:00.000Z", 0, "1970-01-01T00:00:00.000Z" },
        { "2026-11-24T19:56:00.123Z", 1795550160123LL,
          "2026-11-24T19:56:00.123Z" },
        { "2024-02-29T23:59:59Z", 1709251199000LL,
          "2024-02-29T23:59:59.000Z" },
        { "2026-11-24T00:00:00.5Z", 1795478400500LL,
          "2026-11-24T00:00:00.500Z" },
        { "2026-11-24T00:00:00.123456Z", 1795478400123LL,
          "2026-11-24T00:00:00.123Z" },
        { "2025-02-29T00:00:00Z", 0, NULL },
        { "yesterday", 0, NULL },
        { "2026-11-24 00:00:00Z", 0, NULL },
        { "2026-11-24T00:00:00", 0, NULL },
        { "2026-13-01T00:00:00Z", 0, NULL },
        { "2026-11-24T24:00:00Z", 0, NULL },
        { "2026-11-24T00:00:00.Z", 0, NULL },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char iso[FLOE_LINE_ISO_LEN + 1];
        int64_t ms = -1;
        int rc = floe_line_parse_iso(cases[i].in, &ms);

        if (cases[i].out == NULL) {
            CHECK(rc == FLOE_EINVAL);
            continue;
        }
        CHECK(rc == FLOE_OK && ms == cases[i].ms);
        floe_line_iso(ms, iso);
        CHECK(strcmp(iso, cases[i].out) == 0);
    }
}

static void test_text_formats(void)
{
    static const struct {
        int64_t cents;
        const char *out;
    } money[] = { { 0, "0.00" }, { 5, "0.05" }, { 1999, "19.99" },
                  { 100000, "1000.00" }, { -250, "-2.50" } };
    static const char *const names[] = {
        "Smith, Jane", "Robert \"Bob\" Jones", "José Ñúñez", "plain",
        "\"\"", "a,\"b\",c",
    };
    struct floe_line l;
    char f[4][256];
    size_t i;

    for (i = 0; i < sizeof(money) / sizeof(money[0]); i++) {
        floe_line_reset(&l);
        floe_line_add_cents(&l, money[i].cents);
        CHECK(l.len == strlen(money[i].out) &&
              memcmp(l.buf, money[i].out, l.len) == 0);
    }
    /* CSV round trip: every name comes back as one field */
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        floe_line_reset(&l);
        floe_line_adds(&l, "C000001,");
        floe_line_add_csv(&l, names[i]);
        floe_line_adds(&l, ",x");
        floe_line_addc(&l, '\0');
        CHECK(csv_split(l.buf, f, 4) == 3);
        CHECK(strcmp(f[1], names[i]) == 0 && strcmp(f[2], "x") == 0);
    }
    floe_line_reset(&l);
    floe_line_add_csv(&l, "Smith, Jane");
    CHECK(l.len == 13 && memcmp(l.buf, "\"Smith, Jane\"", 13) == 0);
    floe_line_reset(&l);
    floe_line_add_json_str(&l, "a\"b\\c\n\x01");
    CHECK(l.len == 17 && memcmp(l.buf, "\"a\\\"b\\\\c\\n\\u0001\"", 17) == 0);
    /* overflow is sticky, never a write past the buffer */
    floe_line_reset(&l);
    for (i = 0; i < FLOE_LINE_MAX + 10; i++)
        floe_line_addc(&l, 'x');
    CHECK(l.overflow && l.len == FLOE_LINE_MAX);
}

static void test_same_seed_same_bytes(void)
{
    struct run_out a, b, c;

    CHECK(run_gen(&a, 3000, 300, 7, 0.02, 0.03) == FLOE_OK);
    CHECK(run_gen(&b, 3000, 300, 7, 0.02, 0.03) == FLOE_OK);
    CHECK(run_gen(&c, 3000, 300, 8, 0.02, 0.03) == FLOE_OK);
    CHECK(same_file(a.dir, b.dir, "orders.log"));
    CHECK(same_file(a.dir, b.dir, "customers.log"));
    CHECK(same_file(a.dir, b.dir, "emit-truth.tsv"));
    CHECK(!same_file(a.dir, c.dir, "orders.log"));
    CHECK(!same_file(a.dir, c.dir, "customers.log"));
    CHECK(a.sum.orders_valid == 3000 && c.sum.orders_valid == 3000);
    floe_rmtree(a.dir);
    floe_rmtree(b.dir);
    floe_rmtree(c.dir);
}

/* The big one: walk both files alongside the truth file. */
static void test_files_match_truth_and_contract(void)
{
    struct run_out r;
    size_t no, nc, nt, ot, ct, tt, i, oi = 0, ci = 0;
    char *otext, *ctext, *ttext, **ol, **cl, **tl;
    int64_t v_o = 0, i_o = 0, d_o = 0, v_c = 0, i_c = 0, upd = 0;
    int64_t unknown = 0, backwards = 0, drift_early = 0, drift_late = 0;
    int64_t quoted_comma = 0, doubled_quote = 0, utf8 = 0;
    int64_t max_ms = INT64_MIN;
    /* per order number: index of the last status (-1 none) */
    static signed char last[40000];
    bool ok_paths = true;

    memset(last, -1, sizeof(last));
    CHECK(run_gen(&r, 20000, 2000, 3, 0.02, 0.03) == FLOE_OK);
    otext = slurp(r.dir, "orders.log", &ot);
    ctext = slurp(r.dir, "customers.log", &ct);
    ttext = slurp(r.dir, "emit-truth.tsv", &tt);
    CHECK(otext && ctext && ttext);
    if (!otext || !ctext || !ttext)
        return;
    no = split_lines(otext, ot, &ol);
    nc = split_lines(ctext, ct, &cl);
    nt = split_lines(ttext, tt, &tl);
    CHECK(nt == no + nc);
    CHECK((int64_t)(no + nc) == r.sum.lines);
    CHECK((int64_t)(ot + ct) == r.sum.bytes);

    for (i = 0; i < nt; i++) {
        char kind[16], id[128], status[16];

        if (sscanf(tl[i], "%15[^\t]\t%127[^\t]\t%15s", kind, id, status) !=
            3) {
            CHECK(!"bad truth line");
            break;
        }
        if (strcmp(kind, "order") == 0) {
            const char *line = oi < no ? ol[oi++] : "";
            cJSON *j = NULL;

            if (strcmp(status, "valid") == 0) {
                v_o++;
                CHECK(order_valid(line, &j));
                if (j == NULL)
                    continue;
                const char *eid =
                    cJSON_GetObjectItem(j, "event_id")->valuestring;
                const char *cid =
                    cJSON_GetObjectItem(j, "customer_id")->valuestring;
                const char *ts = cJSON_GetObjectItem(j, "ts")->valuestring;
                const char *stt =
                    cJSON_GetObjectItem(j, "status")->valuestring;
                long onum = strtol(
                    cJSON_GetObjectItem(j, "order_id")->valuestring + 1, NULL,
                    10);
                int64_t ms = 0;

                CHECK(strcmp(eid, id) == 0);
                CHECK(strcmp(cJSON_GetObjectItem(j, "currency")->valuestring,
                             "EUR") == 0);
                unknown += strtol(cid + 1, NULL, 10) > 2000;
                floe_line_parse_iso(ts, &ms);
                backwards += ms < max_ms;
                if (ms > max_ms)
                    max_ms = ms;
                if (cJSON_GetObjectItem(j, "channel") != NULL) {
                    if (v_o <= 10000)
                        drift_early++;
                    else
                        drift_late++;
                }
                /* legal path: created -> paid|cancelled; paid ->
                 * shipped|cancelled; shipped -> delivered */
                if (onum > 0 && onum < (long)sizeof(last)) {
                    int s = stt[0] == 'c' && stt[1] == 'r' ? 0
                            : stt[0] == 'p'               ? 1
                            : stt[0] == 's'               ? 2
                            : stt[0] == 'd'               ? 3
                                                          : 4;
                    int p = last[onum];
                    bool legal = (p == -1 && s == 0) ||
                                 (p == 0 && (s == 1 || s == 4)) ||
                                 (p == 1 && (s == 2 || s == 4)) ||
                                 (p == 2 && s == 3);
                    if (!legal)
                        ok_paths = false;
                    last[onum] = (signed char)s;
                } else {
                    ok_paths = false;
                }
                cJSON_Delete(j);
            } else if (strcmp(status, "duplicate") == 0) {
                size_t k;
                bool found = false;

                d_o++;
                for (k = oi - 1; k-- > 0;) {
                    if (strcmp(ol[k], line) == 0) {
                        found = strstr(line, id) != NULL;
                        break;
                    }
                }
                CHECK(found);
            } else {
                i_o++;
                CHECK(strcmp(id, "-") == 0);
                CHECK(!order_valid(line, &j));
                cJSON_Delete(j);
            }
        } else {
            const char *line = ci < nc ? cl[ci++] : "";
            char vid[520];

            if (strcmp(status, "valid") == 0) {
                v_c++;
                CHECK(customer_valid(line, vid));
                CHECK(strcmp(vid, id) == 0);
                upd += strncmp(vid + 8, "2026-11-24", 10) == 0;
                quoted_comma += strstr(line, ", ") != NULL &&
                                strchr(line, '"') != NULL;
                doubled_quote += strstr(line, "\"\"") != NULL;
                utf8 += strstr(line, "\xc3") != NULL; /* é, ñ, ü, ... */
            } else {
                i_c++;
                CHECK(strcmp(status, "invalid") == 0 && strcmp(id, "-") == 0);
                CHECK(!customer_valid(line, vid));
            }
        }
    }
    CHECK(oi == no && ci == nc);
    CHECK(v_o == r.sum.orders_valid && i_o == r.sum.orders_invalid &&
          d_o == r.sum.orders_duplicates);
    CHECK(v_c == r.sum.customers_valid && i_c == r.sum.customers_invalid);
    CHECK(upd == r.sum.customer_updates && upd == 400); /* 0.2 * 2000 */
    CHECK(v_c == 2400);
    CHECK(unknown == r.sum.unknown_customer_events && unknown > 0);
    /* rates land near their targets */
    CHECK(d_o > 400 && d_o < 800);      /* 0.03 of 20000 */
    CHECK(i_o > 250 && i_o < 600);      /* ~0.02 of ~20600 lines */
    CHECK(r.sum.late_events > 250 && r.sum.late_events < 600);
    CHECK(backwards > 0 && backwards <= r.sum.late_events);
    CHECK(drift_early == 0 && drift_late > 9000);
    CHECK(ok_paths);
    CHECK(quoted_comma > 0 && doubled_quote > 0 && utf8 > 0);

    free(ol);
    free(cl);
    free(tl);
    free(otext);
    free(ctext);
    free(ttext);
    floe_rmtree(r.dir);
}

static void test_no_faults_when_rates_are_zero(void)
{
    struct floe_gen_cfg cfg;
    struct floe_gen_summary s;
    char dir[256], err[FLOE_ERR_LEN];

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_gen_cfg_init(&cfg, err) == FLOE_OK);
    free(cfg.dir);
    cfg.dir = strdup(dir);
    cfg.orders = 2000;
    cfg.customers = 100;
    cfg.malformed_rate = cfg.duplicate_rate = cfg.late_rate = 0;
    cfg.unknown_customer_rate = cfg.update_rate = 0;
    CHECK(floe_gen_run(&cfg, &s, err) == FLOE_OK);
    CHECK(s.orders_valid == 2000 && s.orders_invalid == 0 &&
          s.orders_duplicates == 0 && s.late_events == 0 &&
          s.unknown_customer_events == 0 && s.customers_valid == 100 &&
          s.customers_invalid == 0 && s.customer_updates == 0 &&
          s.lines == 2100);
    floe_gen_cfg_free(&cfg);
    floe_rmtree(dir);
}

static void test_append_continues(void)
{
    struct floe_gen_cfg cfg;
    struct floe_gen_summary s1, s2;
    char dir[256], err[FLOE_ERR_LEN], *o, *t, **ol, **tl;
    size_t on, tn, no, nt, i, k, dupids = 0;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_gen_cfg_init(&cfg, err) == FLOE_OK);
    free(cfg.dir);
    cfg.dir = strdup(dir);
    cfg.orders = 500;
    cfg.customers = 50;
    cfg.duplicate_rate = 0;
    CHECK(floe_gen_run(&cfg, &s1, err) == FLOE_OK);
    cfg.append = true;
    CHECK(floe_gen_run(&cfg, &s2, err) == FLOE_OK);
    o = slurp(dir, "orders.log", &on);
    t = slurp(dir, "emit-truth.tsv", &tn);
    CHECK(o && t);
    if (o && t) {
        no = split_lines(o, on, &ol);
        nt = split_lines(t, tn, &tl);
        CHECK((int64_t)no == s1.orders_valid + s1.orders_invalid +
                                 s2.orders_valid + s2.orders_invalid);
        CHECK((int64_t)nt == s1.lines + s2.lines);
        /* the second run's first order is numbered after the first run */
        CHECK(strstr(ol[no - (size_t)(s2.orders_valid + s2.orders_invalid)],
                     "\"order_id\":\"O00000001\"") == NULL);
        /* no event id repeats across the two runs */
        for (i = 0; i < nt; i++) {
            if (strncmp(tl[i], "order\t", 6) != 0 || strstr(tl[i], "\t-\t"))
                continue;
            for (k = i + 1; k < nt; k++)
                if (strcmp(tl[i], tl[k]) == 0)
                    dupids++;
        }
        CHECK(dupids == 0);
        free(ol);
        free(tl);
    }
    free(o);
    free(t);
    floe_gen_cfg_free(&cfg);
    floe_rmtree(dir);
}

static void test_bad_config_is_rejected(void)
{
    struct floe_gen_cfg cfg;
    struct floe_gen_summary s;
    char dir[256], err[FLOE_ERR_LEN];

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    CHECK(floe_gen_cfg_init(&cfg, err) == FLOE_OK);
    free(cfg.dir);
    cfg.dir = strdup(dir);
    free(cfg.start);
    cfg.start = strdup("tomorrow");
    CHECK(floe_gen_run(&cfg, &s, err) == FLOE_EINVAL);
    CHECK(strstr(err, "--start") != NULL);
    floe_gen_cfg_free(&cfg);
    floe_rmtree(dir);
}

static void test_command_line(void)
{
    char dir[256], arg[300], *o;
    size_t n;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(arg, sizeof(arg), "--dir=%s", dir);
    {
        char *argv[] = { "emit", arg, "--orders", "100", "--customers", "10",
                         "--seed", "5", "--json", NULL };
        char *bad[] = { "emit", arg, "--orders", "-1", NULL };
        char *help[] = { "emit", "--help", NULL };

        /* keep the JSON summary and help text out of the test log */
        int saved = dup(1), null = open("/dev/null", O_WRONLY);

        fflush(stdout);
        dup2(null, 1);
        CHECK(floe_emit_main(9, argv) == 0);
        CHECK(floe_emit_main(4, bad) == 2);
        CHECK(floe_emit_main(2, help) == 0);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        close(null);
    }
    o = slurp(dir, "orders.log", &n);
    CHECK(o != NULL && n > 100 * 150);
    free(o);
    floe_rmtree(dir);
}

FLOE_TESTS({ "rng", test_rng_is_deterministic_and_bounded },
           { "iso", test_iso_format_and_parse },
           { "text_formats", test_text_formats },
           { "same_seed_same_bytes", test_same_seed_same_bytes },
           { "files_match_truth_and_contract",
             test_files_match_truth_and_contract },
           { "no_faults_when_rates_are_zero",
             test_no_faults_when_rates_are_zero },
           { "append_continues", test_append_continues },
           { "bad_config_is_rejected", test_bad_config_is_rejected },
           { "command_line", test_command_line });
