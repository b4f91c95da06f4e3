/* test_warehouse.c - the DuckDB warehouse: lossless load, validation with
 * reasons, dedup within and across batches, customer versions, enrichment,
 * daily sales, Parquet unload, and idempotent re-runs (exact counts and
 * values, read back through DuckDB's read_parquet). */
#include "warehouse/duckapi.h"
#include <libdeflate.h>
#include <stdbool.h>

#include "core/util.h"
#include "store/store.h"
#include "test.h"
#include "warehouse/lines.h"
#include "warehouse/warehouse.h"

#define E(n) "00000000-0000-4000-8000-00000000000" #n

/* ---- lines.c ---- */

static void test_utf8_seq(void)
{
    static const struct {
        const char *s;
        size_t n, want;
    } cases[] = {
        { "a", 1, 1 },
        { "\0", 1, 0 },              /* NUL is not text here */
        { "\xC3\xA9", 2, 2 },        /* é */
        { "\xC3", 1, 0 },            /* truncated */
        { "\xC0\xAF", 2, 0 },        /* overlong */
        { "\xE2\x82\xAC", 3, 3 },    /* € */
        { "\xE0\x80\xAF", 3, 0 },    /* overlong */
        { "\xED\xA0\x80", 3, 0 },    /* surrogate */
        { "\xF0\x9F\x98\x80", 4, 4 },/* emoji */
        { "\xF4\x90\x80\x80", 4, 0 },/* past U+10FFFF */
        { "\xFF", 1, 0 },
        { "\x80", 1, 0 },            /* lone continuation */
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = floe_wh_utf8_seq((const unsigned char *)cases[i].s,
                                      cases[i].n);
        if (got != cases[i].want)
            fprintf(stderr, "  case %zu: got %zu\n", i, got);
        CHECK(got == cases[i].want);
    }
}

static void test_lines_split_and_repair(void)
{
    static const char text[] = "a\n\nb\xff" "c\r\n\0x\nlast";
    struct floe_wh_lines it;
    const char *line;
    size_t len;
    bool clean;
    int n = 0;

    CHECK(floe_wh_count_lines(text, sizeof(text) - 1) == 5);
    CHECK(floe_wh_count_lines("x\n", 2) == 1);
    CHECK(floe_wh_count_lines("", 0) == 0);
    floe_wh_lines_init(&it, text, sizeof(text) - 1);
    while (floe_wh_lines_next(&it, &line, &len, &clean) == 1) {
        n++;
        if (n == 1)
            CHECK(len == 1 && memcmp(line, "a", 1) == 0 && clean);
        if (n == 2)
            CHECK(len == 0 && clean);
        if (n == 3)
            CHECK(len == 6 && memcmp(line, "b\xEF\xBF\xBD" "c\r", 6) == 0 &&
                  !clean);
        if (n == 4)
            CHECK(len == 4 && memcmp(line, "\xEF\xBF\xBDx", 4) == 0 &&
                  !clean);
        if (n == 5)
            CHECK(len == 4 && memcmp(line, "last", 4) == 0 && clean);
    }
    CHECK(n == 5);
    floe_wh_lines_free(&it);
}

/* gzip `s` into out (one member). */
static void gz(const char *s, size_t n, struct floe_buf *out)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    size_t bound = libdeflate_gzip_compress_bound(c, n);

    floe_buf_reserve(out, bound);
    out->len += libdeflate_gzip_compress(c, s, n, out->data + out->len,
                                         bound);
    libdeflate_free_compressor(c);
}

static void test_inflate_members_and_plain(void)
{
    struct floe_buf in, out;
    char err[FLOE_ERR_LEN];

    floe_buf_init(&in, FLOE_BUF_UNLIMITED);
    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    gz("one\n", 4, &in);
    gz("two\n", 4, &in); /* concatenated members are one stream */
    CHECK(floe_wh_inflate(in.data, in.len, &out, err) == FLOE_OK);
    CHECK(out.len == 8 && memcmp(out.data, "one\ntwo\n", 8) == 0);
    floe_buf_reset(&out);
    CHECK(floe_wh_inflate("plain\n", 6, &out, err) == FLOE_OK);
    CHECK(out.len == 6 && memcmp(out.data, "plain\n", 6) == 0);
    floe_buf_reset(&out);
    in.data[in.len / 2] ^= 0x55; /* corrupt the first member */
    in.data[12] ^= 0x55;
    CHECK(floe_wh_inflate(in.data, in.len, &out, err) == FLOE_ECORRUPT);
    floe_buf_reset(&out);
    in.len = 10; /* truncated */
    CHECK(floe_wh_inflate(in.data, in.len, &out, err) == FLOE_ECORRUPT);
    floe_buf_free(&in);
    floe_buf_free(&out);
}

/* ---- the warehouse end to end ---- */

static const char b1_orders_a[] =
    /* 1 */ "{\"event_id\":\"" E(1) "\",\"order_id\":\"O1\",\"customer_id\":"
    "\"C1\",\"status\":\"created\",\"items\":[{\"sku\":\"SKU-1\",\"qty\":2,"
    "\"unit_price\":19.99}],\"total\":39.98,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T19:56:00.123Z\"}\n"
    /* 2: drift: channel and an unknown key */
    "{\"event_id\":\"" E(2) "\",\"order_id\":\"O1\",\"customer_id\":\"C1\","
    "\"status\":\"paid\",\"items\":[{\"sku\":\"SKU-1\",\"qty\":2,"
    "\"unit_price\":19.99}],\"total\":39.98,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T19:57:00.000Z\",\"channel\":\"web\",\"foo\":{\"bar\":1}}\n"
    /* 3 */ "{\"event_id\":\"trunc\n"
    /* 4 */ "garbage text here\n"
    /* 5 */ "{\"order_id\":\"O9\",\"customer_id\":\"C1\",\"status\":\"paid\","
    "\"items\":[{\"sku\":\"S\",\"qty\":1,\"unit_price\":1}],\"total\":1,"
    "\"currency\":\"EUR\",\"ts\":\"2026-11-24T10:00:00Z\"}\n"
    /* 6 */ "{\"event_id\":\"" E(9) "\",\"order_id\":\"O9\",\"customer_id\":"
    "\"C1\",\"status\":\"paid\",\"items\":[{\"sku\":\"S\",\"qty\":1,"
    "\"unit_price\":1}],\"total\":\"abc\",\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T10:00:00Z\"}\n"
    /* 7: line 1 again, verbatim */
    "{\"event_id\":\"" E(1) "\",\"order_id\":\"O1\",\"customer_id\":"
    "\"C1\",\"status\":\"created\",\"items\":[{\"sku\":\"SKU-1\",\"qty\":2,"
    "\"unit_price\":19.99}],\"total\":39.98,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T19:56:00.123Z\"}\n"
    /* 8: unknown customer, late (previous day), coupon */
    "{\"event_id\":\"" E(3) "\",\"order_id\":\"O4\",\"customer_id\":"
    "\"C999\",\"status\":\"paid\",\"items\":[{\"sku\":\"SKU-4\",\"qty\":1,"
    "\"unit_price\":10}],\"total\":10,\"currency\":\"USD\",\"ts\":"
    "\"2026-11-23T23:59:59.999+00:00\",\"coupon\":\"WELCOME10\"}\n"
    /* 9 */ "{\"event_id\":\"" E(8) "\",\"order_id\":\"O8\",\"customer_id\":"
    "\"C1\",\"status\":\"paid\",\"items\":[],\"total\":1,\"currency\":"
    "\"EUR\",\"ts\":\"2026-11-24T10:00:00Z\"}\n"
    /* 10 */ "{\"event_id\":\"" E(8) "\",\"order_id\":\"O8\",\"customer_id\":"
    "\"C1\",\"status\":\"paid\",\"items\":[{\"sku\":\"S\",\"qty\":1,"
    "\"unit_price\":1}],\"total\":1,\"currency\":\"EUR\",\"ts\":"
    "\"yesterday\"}\n"
    /* 11 */ "{\"event_id\":\"not-a-uuid\",\"order_id\":\"O8\",\"customer_id\":"
    "\"C1\",\"status\":\"paid\",\"items\":[{\"sku\":\"S\",\"qty\":1,"
    "\"unit_price\":1}],\"total\":1,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T10:00:00Z\"}\n"
    /* 12 */ "{\"event_id\":\"" E(7) "\",\"order_id\":\"O8\",\"customer_id\":"
    "\"C1\",\"status\":\"paid\",\"items\":[{\"sku\":\"S\",\"qty\":0,"
    "\"unit_price\":1}],\"total\":1,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T10:00:00Z\"}\n"
    /* 13: +02:00 offset: 23:30 UTC on the 24th */
    "{\"event_id\":\"" E(4) "\",\"order_id\":\"O2\",\"customer_id\":\"C2\","
    "\"status\":\"paid\",\"items\":[{\"sku\":\"SKU-2\",\"qty\":1,"
    "\"unit_price\":5.5}],\"total\":5.5,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-25T01:30:00.000+02:00\"}\n";

/* Plain (not gzipped); bad UTF-8, an empty line, no final newline. */
static const char b1_orders_b[] =
    "{\"event_id\":\"" E(5) "\",\"order_id\":\"O2\",\"customer_id\":\"C2\","
    "\"status\":\"shipped\",\"items\":[{\"sku\":\"SKU-2\",\"qty\":1,"
    "\"unit_price\":5.5}],\"total\":5.5,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T21:00:00Z\"}\n"
    "{\"event_id\":\"\xff\"}\n"
    "\n"
    "{\"event_id\":\"" E(6) "\",\"order_id\":\"O3\",\"customer_id\":\"C1\","
    "\"status\":\"paid\",\"items\":[{\"sku\":\"SKU-3\",\"qty\":1,"
    "\"unit_price\":7.25}],\"total\":7.25,\"currency\":\"USD\",\"ts\":"
    "\"2026-11-24T08:00:00Z\"}";

#define CUST(id, name, email, seg, upd)                                    \
    "{\"customer_id\":" id ",\"name\":" name ",\"email\":" email           \
    ",\"country\":\"DE\",\"segment\":" seg ",\"created_at\":"              \
    "\"2026-01-01T00:00:00.000Z\",\"updated_at\":" upd "}"

static const char b1_customers[] =
    CUST("\"C1\"", "\"Smith, Jane\"", "\"jane@x.com\"", "\"retail\"",
         "\"2026-11-01T00:00:00.000Z\"") "\n"
    CUST("\"C2\"", "\"Bob\"", "\"bob@x.com\"", "null",
         "\"2026-11-02T00:00:00.000Z\"") "\n"
    CUST("\"C3\"", "\"Carl\"", "\"c@x.com\"", "\"retail\"", "null") "\n"
    CUST("\"\"", "\"Nobody\"", "\"n@x.com\"", "\"retail\"",
         "\"2026-11-02T00:00:00.000Z\"") "\n"
    CUST("\"C4\"", "\"Dan\"", "\"d@x.com\"", "\"retail\"", "\"notadate\"") "\n"
    CUST("\"C5\"", "\"Eve\"", "\"nope\"", "\"retail\"",
         "\"2026-11-02T00:00:00.000Z\"") "\n"
    CUST("\"C1\"", "\"Smith, Jane\"", "\"jane@x.com\"", "\"retail\"",
         "\"2026-11-01T00:00:00.000Z\"") "\n";

static const char b2_orders[] =
    "{\"event_id\":\"" E(1) "\",\"order_id\":\"O1\",\"customer_id\":"
    "\"C1\",\"status\":\"created\",\"items\":[{\"sku\":\"SKU-1\",\"qty\":2,"
    "\"unit_price\":19.99}],\"total\":39.98,\"currency\":\"EUR\",\"ts\":"
    "\"2026-11-24T19:56:00.123Z\"}\n"
    "{\"event_id\":\"00000000-0000-4000-8000-000000000010\",\"order_id\":"
    "\"O5\",\"customer_id\":\"C1\",\"status\":\"paid\",\"items\":[{\"sku\":"
    "\"SKU-5\",\"qty\":1,\"unit_price\":1}],\"total\":1,\"currency\":"
    "\"EUR\",\"ts\":\"2026-11-24T12:00:00Z\"}\n";

static const char b2_customers[] =
    CUST("\"C1\"", "\"Jane Smith\"", "\"jane@y.com\"", "\"vip\"",
         "\"2026-11-20T00:00:00.000Z\"") "\n"
    CUST("\"C2\"", "\"Old Bob\"", "\"bob@x.com\"", "\"retail\"",
         "\"2026-10-01T00:00:00.000Z\"") "\n";

static void put_gz(struct floe_store *st, const char *key, const char *s)
{
    struct floe_buf b;

    floe_buf_init(&b, FLOE_BUF_UNLIMITED);
    gz(s, strlen(s), &b);
    CHECK(floe_store_put(st, key, b.data, b.len) == FLOE_OK);
    floe_buf_free(&b);
}

/* First cell of `sql` as text (the query casts), "" for NULL, "ERR: ..."
 * on error. */
static void q1(duckdb_connection con, const char *sql, char *out, size_t n);

/* ATTACH the warehouse file of `state` as w (the warehouse is closed). */
static void attach(duckdb_connection con, const char *state, bool read_only)
{
    char q[600], got[512];

    snprintf(q, sizeof(q), "ATTACH '%s/warehouse.duckdb' AS w%s", state,
             read_only ? " (READ_ONLY)" : "");
    q1(con, q, got, sizeof(got));
    CHECK(strncmp(got, "ERR", 3) != 0);
}

static void q1(duckdb_connection con, const char *sql, char *out, size_t n)
{
    duckdb_data_chunk chunk;
    duckdb_result res;

    out[0] = '\0';
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        snprintf(out, n, "ERR: %s", duckdb_result_error(&res));
        fprintf(stderr, "  %s\n  in %s\n", out, sql);
    } else if ((chunk = duckdb_fetch_chunk(res)) != NULL) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
        if (duckdb_data_chunk_get_size(chunk) > 0 &&
            duckdb_validity_row_is_valid(duckdb_vector_get_validity(v), 0)) {
            duckdb_string_t *s = duckdb_vector_get_data(v);
            const char *p = duckdb_string_is_inlined(s[0])
                                ? s[0].value.inlined.inlined
                                : s[0].value.pointer.ptr;
            snprintf(out, n, "%.*s", (int)duckdb_string_t_length(s[0]), p);
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
}

/* Run `sql` (with %s = the directory) and compare its first cell. */
static bool expect(duckdb_connection con, const char *dir, const char *sql,
                   const char *want)
{
    char q[4096], got[4096];

    snprintf(q, sizeof(q), sql, dir, dir);
    q1(con, q, got, sizeof(got));
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "  query: %s\n  got:  %s\n  want: %s\n", q, got,
                want);
        return false;
    }
    return true;
}

#define EXPECT(sql, want) CHECK(expect(con, dir, sql, want))

struct counts_want {
    int64_t new_orders, dup_orders, q_orders, new_cv, dup_c, q_c, enriched;
};

static bool counts_are(const struct floe_wh_counts *c,
                       const struct counts_want *w)
{
    bool ok = c->new_orders == w->new_orders &&
              c->duplicate_orders == w->dup_orders &&
              c->quarantined_orders == w->q_orders &&
              c->new_customer_versions == w->new_cv &&
              c->duplicate_customers == w->dup_c &&
              c->quarantined_customers == w->q_c &&
              c->enriched_orders == w->enriched;

    if (!ok)
        fprintf(stderr, "  counts: new %lld dup %lld q %lld cv %lld dupc "
                "%lld qc %lld enriched %lld\n", (long long)c->new_orders,
                (long long)c->duplicate_orders,
                (long long)c->quarantined_orders,
                (long long)c->new_customer_versions,
                (long long)c->duplicate_customers,
                (long long)c->quarantined_customers,
                (long long)c->enriched_orders);
    return ok;
}

static const struct counts_want b1_want = { 6, 1, 10, 2, 1, 4, 6 };

static void run_b1(struct floe_wh *wh, struct floe_store *st)
{
    struct floe_wh_counts c;
    char err[FLOE_ERR_LEN];

    CHECK(floe_wh_load(wh, st, "b1", &c, err) == FLOE_OK);
    CHECK(c.objects == 3 && c.raw_orders == 17 && c.raw_customers == 7);
    CHECK(floe_wh_transform(wh, "b1", &c, err) == FLOE_OK);
    CHECK(counts_are(&c, &b1_want));
    CHECK(floe_wh_unload(wh, st, "b1", &c, err) == FLOE_OK);
    CHECK(c.parquet_files == 9);
}

static void check_b1_parquet(duckdb_connection con, const char *dir)
{
    EXPECT("SELECT string_agg(event_id[36:] || '|' || status || '|' || "
           "total || '|' || ts || '|' || coalesce(channel, '-') || '|' || "
           "coalesce(coupon, '-') || '|' || dt || '|' || items[1].qty, ' ' "
           "ORDER BY event_id) FROM read_parquet('%s/processed/orders/"
           "dt=2026-11-24/part-b1.parquet')",
           "1|created|39.98|2026-11-24 19:56:00.123|-|-|2026-11-24|2 "
           "2|paid|39.98|2026-11-24 19:57:00|web|-|2026-11-24|2 "
           "4|paid|5.50|2026-11-24 23:30:00|-|-|2026-11-24|1 "
           "5|shipped|5.50|2026-11-24 21:00:00|-|-|2026-11-24|1 "
           "6|paid|7.25|2026-11-24 08:00:00|-|-|2026-11-24|1");
    EXPECT("SELECT string_agg(event_id || '|' || customer_id || '|' || "
           "coupon || '|' || typeof(total) || '|' || typeof(ts) || '|' || "
           "typeof(items), ',') FROM read_parquet('%s/processed/orders/"
           "dt=2026-11-23/part-b1.parquet')",
           E(3) "|C999|WELCOME10|DECIMAL(12,2)|TIMESTAMP|"
           "STRUCT(sku VARCHAR, qty INTEGER, unit_price DECIMAL(12,2))[]");
    EXPECT("SELECT string_agg(event_id[36:] || '|' || customer_known || "
           "'|' || coalesce(customer_name, '-') || '|' || "
           "coalesce(customer_segment, '-'), ' ' ORDER BY event_id) FROM "
           "read_parquet('%s/processed/orders_enriched/*/part-b1.parquet')",
           "1|true|Smith, Jane|retail 2|true|Smith, Jane|retail "
           "3|false|-|- 4|true|Bob|- 5|true|Bob|- 6|true|Smith, Jane|retail");
    EXPECT("SELECT string_agg(line_no || ':' || reason, ',' ORDER BY "
           "source_key, line_no) FROM read_parquet('%s/processed/quarantine/"
           "orders/part-b1.parquet')",
           "3:invalid JSON,4:invalid JSON,5:missing event_id,"
           "6:total not numeric,9:empty items,10:invalid ts,"
           "11:event_id not a uuid,12:bad item (sku, qty or unit_price),"
           "2:invalid UTF-8 or NUL byte,3:empty line");
    EXPECT("SELECT string_agg(table_name || '|' || batch_id || '|' || "
           "line_no || '|' || reason || '|' || raw, ',' ORDER BY line_no) "
           "FROM read_parquet('%s/processed/quarantine/customers/"
           "part-b1.parquet')",
           "customers|b1|3|missing updated_at|" CUST("\"C3\"", "\"Carl\"",
           "\"c@x.com\"", "\"retail\"", "null") ","
           "customers|b1|4|missing customer_id|" CUST("\"\"", "\"Nobody\"",
           "\"n@x.com\"", "\"retail\"", "\"2026-11-02T00:00:00.000Z\"") ","
           "customers|b1|5|invalid updated_at|" CUST("\"C4\"", "\"Dan\"",
           "\"d@x.com\"", "\"retail\"", "\"notadate\"") ","
           "customers|b1|6|bad email|" CUST("\"C5\"", "\"Eve\"", "\"nope\"",
           "\"retail\"", "\"2026-11-02T00:00:00.000Z\""));
    EXPECT("SELECT count(*)::VARCHAR FROM read_parquet('%s/processed/"
           "quarantine/orders/part-b1.parquet') WHERE raw = 'garbage text "
           "here'", "1");
}

static const char sales_sql[] =
    "SELECT string_agg(dt || '|' || currency || '|' || orders || '|' || "
    "events || '|' || paid_events || '|' || revenue, ' ' ORDER BY dt, "
    "currency) FROM read_parquet('%s/processed/daily_sales/"
    "daily_sales.parquet')";
static const char customers_sql[] =
    "SELECT string_agg(customer_id || '|' || name || '|' || "
    "coalesce(segment, '-') || '|' || updated_at, ' ' ORDER BY customer_id)"
    " FROM read_parquet('%s/processed/customers/customers.parquet')";

static void test_end_to_end(void)
{
    char tmp[256], dir[300], state[300], err[FLOE_ERR_LEN];
    struct floe_store *st = NULL;
    struct floe_wh *wh = NULL;
    struct floe_wh_counts c;
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    static const struct counts_want b2_want = { 1, 1, 0, 2, 0, 0, 1 };

    /* dir: the store (EXPECT's queries read Parquet under it) */
    CHECK(test_tmpdir(tmp, sizeof(tmp)) != NULL);
    snprintf(dir, sizeof(dir), "%s/lake", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    put_gz(st, "processing/batch=b1/orders/2026/11/24/19/"
               "orders-1-2026-11-24-19-56-00-a.gz", b1_orders_a);
    CHECK(floe_store_put(st, "processing/batch=b1/orders/2026/11/24/20/"
                             "orders-1-2026-11-24-20-00-00-b",
                         b1_orders_b, sizeof(b1_orders_b) - 1) == FLOE_OK);
    put_gz(st, "processing/batch=b1/customers/2026/11/24/19/"
               "customers-1-2026-11-24-19-56-00-c.gz", b1_customers);
    CHECK(floe_store_put(st, "processing/batch=b1/_manifest.json", "{}", 2) ==
          FLOE_OK);
    put_gz(st, "processing/batch=b2/orders/x.gz", b2_orders);
    put_gz(st, "processing/batch=b2/customers/x.gz", b2_customers);
    put_gz(st, "processing/batch=b3/elsewhere/x.gz", b2_orders);

    CHECK(floe_wh_open("nosuch", state, NULL, &wh, err) == FLOE_ENOTSUP);
    if (floe_wh_open(NULL, state, NULL, &wh, err) != FLOE_OK) {
        fprintf(stderr, "  open: %s\n", err);
        CHECK(0);
        floe_store_close(st);
        return;
    }
    CHECK(floe_wh_load(wh, st, "b'1", &c, err) == FLOE_EINVAL);
    CHECK(floe_wh_load(wh, st, "b3", &c, err) == FLOE_EINVAL);

    run_b1(wh, st);
    CHECK(duckdb_open(NULL, &db) == DuckDBSuccess);
    CHECK(duckdb_connect(db, &con) == DuckDBSuccess);
    check_b1_parquet(con, dir);
    {
        EXPECT(sales_sql, "2026-11-23|USD|1|1|1|10.00 "
                          "2026-11-24|EUR|2|4|2|45.48 "
                          "2026-11-24|USD|1|1|1|7.25");
        EXPECT(customers_sql, "C1|Smith, Jane|retail|2026-11-01 00:00:00 "
                              "C2|Bob|-|2026-11-02 00:00:00");
        EXPECT("SELECT count(*)::VARCHAR FROM read_parquet('%s/processed/"
               "customer_versions/part-b1.parquet')", "2");

        /* Re-running every step gives the same result, nothing doubled. */
        run_b1(wh, st);
        check_b1_parquet(con, dir);
        EXPECT("SELECT count(*)::VARCHAR FROM read_parquet('%s/processed/"
               "orders/*/*.parquet')", "6");

        /* b2 repeats e1 and updates C1 (and brings an older C2). */
        CHECK(floe_wh_load(wh, st, "b2", &c, err) == FLOE_OK);
        CHECK(c.objects == 2 && c.raw_orders == 2 && c.raw_customers == 2);
        CHECK(floe_wh_transform(wh, "b2", &c, err) == FLOE_OK);
        CHECK(counts_are(&c, &b2_want));
        CHECK(floe_wh_unload(wh, st, "b2", &c, err) == FLOE_OK);
        /* no quarantine file for a batch without rejects */
        CHECK(c.parquet_files == 5);
        EXPECT("SELECT string_agg(event_id[35:], ',') FROM read_parquet("
               "'%s/processed/orders/*/part-b2.parquet')", "10");
        EXPECT("SELECT count(*)::VARCHAR FROM read_parquet('%s/processed/"
               "orders/*/*.parquet')", "7");
        EXPECT(customers_sql, "C1|Jane Smith|vip|2026-11-20 00:00:00 "
                              "C2|Bob|-|2026-11-02 00:00:00");
        EXPECT(sales_sql, "2026-11-23|USD|1|1|1|10.00 "
                          "2026-11-24|EUR|3|5|3|46.48 "
                          "2026-11-24|USD|1|1|1|7.25");

        /* b1 again after b2: same counts, the newer C1 stays. */
        CHECK(floe_wh_transform(wh, "b1", &c, err) == FLOE_OK);
        CHECK(counts_are(&c, &b1_want));
        CHECK(floe_wh_unload(wh, st, "b1", &c, err) == FLOE_OK);
        EXPECT(customers_sql, "C1|Jane Smith|vip|2026-11-20 00:00:00 "
                              "C2|Bob|-|2026-11-02 00:00:00");
        EXPECT(sales_sql, "2026-11-23|USD|1|1|1|10.00 "
                          "2026-11-24|EUR|3|5|3|46.48 "
                          "2026-11-24|USD|1|1|1|7.25");
        floe_wh_close(wh);
        wh = NULL;

        /* The database itself: versions, latest customers, raw JSON. */
        attach(con, state, true);
        EXPECT("SELECT string_agg(customer_id || '@' || updated_at::DATE || "
               "'/' || _batch_id, ' ' ORDER BY customer_id, updated_at) "
               "FROM w.core.customer_versions",
               "C1@2026-11-01/b1 C1@2026-11-20/b2 C2@2026-10-01/b2 "
               "C2@2026-11-02/b1");
        EXPECT("SELECT string_agg(customer_id || '/' || _batch_id, ' ' "
               "ORDER BY customer_id) FROM w.core.customers",
               "C1/b2 C2/b1");
        EXPECT("SELECT (raw->>'$.foo.bar') || '/' || (raw->>'$.channel') "
               "FROM w.core.orders WHERE event_id = '" E(2) "'", "1/web");
        EXPECT("SELECT count(*)::VARCHAR FROM w.core.orders", "7");
        EXPECT("SELECT string_agg(_batch_id, ',') FROM w.core.orders WHERE "
               "event_id = '" E(1) "'", "b1");
        EXPECT("SELECT count(*)::VARCHAR || '/' || (SELECT count(*) FROM "
               "w.raw.customers) FROM w.raw.orders", "19/9");
        EXPECT("SELECT count(*)::VARCHAR FROM w.mart.orders_enriched", "7");
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
    floe_wh_close(wh);
    floe_store_close(st);
    floe_rmtree(tmp);
}

/* ---- first occurrence across objects, and the floe 0.1 layout ---- */

#define ORD(n, status)                                                     \
    "{\"event_id\":\"" E(n) "\",\"order_id\":\"O" #n "\",\"customer_id\":" \
    "\"C" #n "\",\"status\":\"" status "\",\"items\":[{\"sku\":\"S\","    \
    "\"qty\":1,\"unit_price\":2}],\"total\":2,\"currency\":\"EUR\","      \
    "\"ts\":\"2026-11-24T10:00:00Z\"}\n"

/* Raw SQL on the closed warehouse's file (the test's own connection). */
static void on_file(duckdb_connection con, const char *state,
                    const char *sql)
{
    char got[512];

    attach(con, state, false);
    q1(con, sql, got, sizeof(got));
    CHECK(strncmp(got, "ERR", 3) != 0);
    q1(con, "DETACH w", got, sizeof(got));
}

static void test_first_occurrence_and_migration(void)
{
    char tmp[256], dir[300], state[300], err[FLOE_ERR_LEN];
    struct floe_store *st = NULL;
    struct floe_wh *wh = NULL;
    struct floe_wh_counts c;
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    static const struct counts_want d1_want = { 3, 3, 0, 0, 0, 0, 3 };
    static const struct counts_want d2_want = { 1, 1, 0, 0, 0, 0, 1 };
    static const char statuses[] =
        "SELECT string_agg(event_id[36:] || status, ' ' ORDER BY event_id) "
        "FROM read_parquet('%s/processed/orders/*/part-d1.parquet')";
    static const char enriched[] =
        "SELECT string_agg(event_id[36:] || status || customer_known, ' ' "
        "ORDER BY event_id) FROM read_parquet('%s/processed/"
        "orders_enriched/*/part-d1.parquet')";

    CHECK(test_tmpdir(tmp, sizeof(tmp)) != NULL);
    snprintf(dir, sizeof(dir), "%s/lake", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    CHECK(floe_store_open(dir, &st, err) == FLOE_OK);
    /* 5 and 6 repeat in a later object, 6 also within it: the first line
     * in (source_key, line_no) order wins, whatever it says. */
    put_gz(st, "processing/batch=d1/orders/a.gz",
           ORD(6, "created") ORD(5, "paid"));
    put_gz(st, "processing/batch=d1/orders/b.gz",
           ORD(5, "shipped") ORD(6, "cancelled") ORD(7, "paid")
               ORD(6, "paid"));
    put_gz(st, "processing/batch=d2/orders/a.gz", ORD(7, "shipped")
                                                     ORD(8, "paid"));
    CHECK(duckdb_open(NULL, &db) == DuckDBSuccess);
    CHECK(duckdb_connect(db, &con) == DuckDBSuccess);
    CHECK(floe_wh_open(NULL, state, NULL, &wh, err) == FLOE_OK);
    CHECK(floe_wh_load(wh, st, "d1", &c, err) == FLOE_OK);
    CHECK(c.raw_orders == 6);
    CHECK(floe_wh_transform(wh, "d1", &c, err) == FLOE_OK);
    CHECK(counts_are(&c, &d1_want)); /* 6 valid lines: 5, 6 and 7 */
    CHECK(floe_wh_unload(wh, st, "d1", &c, err) == FLOE_OK);
    EXPECT(statuses, "5paid 6created 7paid");
    EXPECT(enriched, "5paidfalse 6createdfalse 7paidfalse");
    CHECK(floe_wh_load(wh, st, "d2", &c, err) == FLOE_OK);
    CHECK(floe_wh_transform(wh, "d2", &c, err) == FLOE_OK);
    CHECK(counts_are(&c, &d2_want));
    floe_wh_close(wh);
    wh = NULL;

    /* Rewrite the file into the floe 0.1 layout (mart.orders_enriched a
     * table of whole rows, core.orders a table with the line copied into
     * its raw column): opening it migrates, nothing is lost. */
    on_file(con, state,
            "BEGIN; CREATE TABLE w.mart.legacy AS "
            "SELECT * FROM w.mart.orders_enriched; "
            "DELETE FROM w.mart.order_customers; "
            "DROP VIEW w.mart.orders_enriched; "
            "CREATE TABLE w.mart.orders_enriched AS "
            "SELECT * FROM w.mart.legacy; DROP TABLE w.mart.legacy; "
            "CREATE TABLE w.core.legacy AS SELECT * FROM w.core.orders; "
            "DELETE FROM w.core.order_events; DROP VIEW w.core.orders; "
            "CREATE TABLE w.core.orders AS SELECT * FROM w.core.legacy; "
            "DROP TABLE w.core.legacy; COMMIT");
    CHECK(floe_wh_open(NULL, state, NULL, &wh, err) == FLOE_OK);
    CHECK(floe_wh_unload(wh, st, "d1", &c, err) == FLOE_OK);
    EXPECT(statuses, "5paid 6created 7paid");
    EXPECT(enriched, "5paidfalse 6createdfalse 7paidfalse");
    floe_wh_close(wh);
    wh = NULL;
    attach(con, state, true);
    EXPECT("SELECT (SELECT count(*) FROM w.mart.order_customers) || '/' || "
           "(SELECT count(*) FROM w.mart.orders_enriched) || '/' || "
           "(SELECT table_type FROM information_schema.tables WHERE "
           "table_catalog = 'w' AND table_schema = 'mart' AND "
           "table_name = 'orders_enriched')",
           "4/4/VIEW");
    EXPECT("SELECT (SELECT count(*) FROM w.core.order_events) || '/' || "
           "(SELECT string_agg(raw->>'$.status', ',' ORDER BY event_id) "
           "FROM w.core.orders) || '/' || (SELECT table_type FROM "
           "information_schema.tables WHERE table_catalog = 'w' AND "
           "table_schema = 'core' AND table_name = 'orders')",
           "4/paid,created,paid,paid/VIEW");
    duckdb_disconnect(&con);
    duckdb_close(&db);
    floe_store_close(st);
    floe_rmtree(tmp);
}

FLOE_TESTS({ "utf8_seq", test_utf8_seq },
           { "lines_split_and_repair", test_lines_split_and_repair },
           { "inflate_members_and_plain", test_inflate_members_and_plain },
           { "end_to_end", test_end_to_end },
           { "first_occurrence_and_migration",
             test_first_occurrence_and_migration });
