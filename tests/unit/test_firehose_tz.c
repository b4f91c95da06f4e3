/* test_firehose_tz.c - CustomTimeZone offsets from the TZ database
 * (table of zones and instants around DST switches) and name checks. */
#include <string.h>

#include "firehose/tz.h"
#include "test.h"

static void test_tz_offsets(void)
{
    static const struct {
        const char *zone;
        int64_t s;      /* seconds since the epoch */
        int32_t want;   /* offset, seconds */
    } cases[] = {
        { "UTC", 1700000000, 0 },
        { "Asia/Tokyo", 1700000000, 9 * 3600 },
        { "Asia/Tokyo", 1688169600, 9 * 3600 },
        { "Europe/Paris", 1700000000, 3600 },        /* 2023-11-14 */
        { "Europe/Paris", 1688169600, 7200 },        /* 2023-07-01 */
        /* 2023-03-26 01:00:00Z is the switch to CEST */
        { "Europe/Paris", 1679792399, 3600 },
        { "Europe/Paris", 1679792400, 7200 },
        { "America/New_York", 1700000000, -5 * 3600 },
        { "America/New_York", 1688169600, -4 * 3600 },
        { "Asia/Kolkata", 1700000000, 5 * 3600 + 1800 },
        { "Australia/Sydney", 1700000000, 11 * 3600 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_fh_tz *tz = NULL;
        char err[FLOE_ERR_LEN];
        int32_t got;

        CHECK(floe_fh_tz_load(cases[i].zone, &tz, err) == FLOE_OK);
        got = floe_fh_tz_offset(tz, cases[i].s * 1000);
        if (got != cases[i].want) {
            fprintf(stderr, "  %s @%lld: %d want %d\n", cases[i].zone,
                    (long long)cases[i].s, got, cases[i].want);
            CHECK(0);
        }
        floe_fh_tz_free(tz);
    }
    CHECK(floe_fh_tz_offset(NULL, 1700000000000LL) == 0);
}

static void test_tz_names(void)
{
    static const struct {
        const char *zone;
        int want;
    } cases[] = {
        { "Nowhere/Atlantis", FLOE_ENOTFOUND },
        { "../etc/passwd", FLOE_EINVAL },
        { "/etc/passwd", FLOE_EINVAL },
        { "Europe//Paris", FLOE_EINVAL },
        { "Europe/Paris;rm", FLOE_EINVAL },
        { "", FLOE_EINVAL },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_fh_tz *tz = NULL;
        char err[FLOE_ERR_LEN] = "";

        CHECK(floe_fh_tz_load(cases[i].zone, &tz, err) == cases[i].want);
        CHECK(tz == NULL && err[0] != '\0');
    }
}

FLOE_TESTS({ "tz_offsets", test_tz_offsets }, { "tz_names", test_tz_names });
