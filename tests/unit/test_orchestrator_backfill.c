/* test_orchestrator_backfill.c - the hour a landing key carries and the
 * times `floe backfill` accepts (the re-processing itself is tested end
 * to end: tests/integration/test_backfill.py). */
#include "orchestrator/backfill.h"
#include "core/err.h"
#include "test.h"

/* CHECK, naming the table row when it fails. */
#define CHECK_MSG(cond, ...)                                            \
    do {                                                                \
        if (!(cond))                                                    \
            fprintf(stderr, __VA_ARGS__), fputc('\n', stderr);          \
        CHECK(cond);                                                    \
    } while (0)

#define H 3600000LL
#define T_2026_11_24 1795478400000LL /* 2026-11-24T00:00:00Z */

static void test_key_hour(void)
{
    static const struct {
        const char *key;
        int rc;
        int64_t ms;
    } cases[] = {
        { "landing/orders/2026/11/24/19/"
          "orders-1-2026-11-24-19-56-00-0a1b2c3d.gz", FLOE_OK,
          T_2026_11_24 + 19 * H },
        /* the name wins over the folders (a custom prefix) */
        { "landing/x/2026/01/01/00/my-stream-2-1-2026-11-24-07-00-59-u.gz",
          FLOE_OK, T_2026_11_24 + 7 * H },
        { "landing/orders/2026/11/24/23/other.gz", FLOE_OK,
          T_2026_11_24 + 23 * H },
        { "processing/batch=b/orders/2026/11/25/00/o-1-x.gz", FLOE_OK,
          T_2026_11_24 + 24 * H },
        { "landing/orders/o-1-2026-13-24-19-56-00-x.gz", FLOE_EINVAL, 0 },
        { "landing/orders/2026/11/24/o.gz", FLOE_EINVAL, 0 },
        { "landing/orders/2026/02/30/01/o.gz", FLOE_EINVAL, 0 },
        { "", FLOE_EINVAL, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -1;
        int rc = floe_backfill_key_hour(cases[i].key, &ms);

        CHECK_MSG(rc == cases[i].rc, "%s", cases[i].key);
        if (rc == FLOE_OK)
            CHECK_MSG(ms == cases[i].ms, "%s: %lld", cases[i].key,
                      (long long)ms);
    }
}

static void test_parse_time(void)
{
    static const struct {
        const char *s;
        int rc;
        int64_t ms;
    } cases[] = {
        { "2026-11-24", FLOE_OK, T_2026_11_24 },
        { "2026-11-24T19", FLOE_OK, T_2026_11_24 + 19 * H },
        { "2026-11-24T19Z", FLOE_OK, T_2026_11_24 + 19 * H },
        { "2026-11-24 19:30", FLOE_OK, T_2026_11_24 + 19 * H + 1800000 },
        { "2026-11-24T19:30:05Z", FLOE_OK,
          T_2026_11_24 + 19 * H + 1805000 },
        { "2024-02-29", FLOE_OK, 1709164800000LL },
        { "2026-02-29", FLOE_EINVAL, 0 },
        { "2026-11-24T24", FLOE_EINVAL, 0 },
        { "2026-11-24T19:3", FLOE_EINVAL, 0 },
        { "2026-11-24T19:30:05.123Z", FLOE_EINVAL, 0 },
        { "2026-11-24T19:30+02:00", FLOE_EINVAL, 0 },
        { "yesterday", FLOE_EINVAL, 0 },
        { "", FLOE_EINVAL, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -1;
        int rc = floe_backfill_parse_time(cases[i].s, &ms);

        CHECK_MSG(rc == cases[i].rc, "%s", cases[i].s);
        if (rc == FLOE_OK)
            CHECK_MSG(ms == cases[i].ms, "%s: %lld", cases[i].s,
                      (long long)ms);
    }
}

FLOE_TESTS({ "key_hour", test_key_hour }, { "parse_time", test_parse_time });
