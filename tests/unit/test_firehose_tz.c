/* test_firehose_tz.c - CustomTimeZone offsets from the TZ database
 * (table of zones and instants around DST switches) and name checks. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "firehose/tz.h"
#include "test.h"

/* glibc's offset at `t` for the current TZ (set + tzset by the caller). */
static long glibc_off(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

/* Compare floe_fh_tz_offset with glibc's localtime_r for TZ=`tzenv` from
 * 1990 to 2100, every 7 h 13 min, and at the exact second of every switch
 * glibc makes between two samples. Returns the mismatches. */
static int compare_with_glibc(const struct floe_fh_tz *tz, const char *tzenv,
                              const char *label)
{
    const int64_t from = 631152000, to = 4133980800LL; /* 1990..2100 */
    const int64_t step = 7 * 3600 + 13 * 60;
    int64_t t, prev = from;
    long gprev;
    int bad = 0;

    setenv("TZ", tzenv, 1);
    tzset();
    gprev = glibc_off(from);
    for (t = from; t <= to && bad < 5; t += step) {
        long g = glibc_off(t);

        if (g != gprev) { /* find the switch: last second at gprev */
            int64_t lo = prev, hi = t;

            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;

                if (glibc_off(mid) == gprev)
                    lo = mid;
                else
                    hi = mid;
            }
            if (floe_fh_tz_offset(tz, lo * 1000) != gprev ||
                floe_fh_tz_offset(tz, hi * 1000) != glibc_off(hi)) {
                fprintf(stderr, "  %s: switch at %lld: %d/%d, glibc "
                        "%ld/%ld\n", label, (long long)hi,
                        floe_fh_tz_offset(tz, lo * 1000),
                        floe_fh_tz_offset(tz, hi * 1000), gprev,
                        glibc_off(hi));
                bad++;
            }
        }
        if (floe_fh_tz_offset(tz, t * 1000) != g) {
            fprintf(stderr, "  %s @%lld: %d, glibc %ld\n", label,
                    (long long)t, floe_fh_tz_offset(tz, t * 1000), g);
            bad++;
        }
        gprev = g;
        prev = t;
    }
    unsetenv("TZ");
    tzset();
    return bad;
}

/* Real zones against glibc through 2100: the system files end their
 * transitions in 2037 (fat) or earlier (slim); the footer rule goes on. */
static void test_tz_matches_glibc_through_2100(void)
{
    static const char *const zones[] = {
        "Europe/Berlin", "America/New_York", "Australia/Sydney",
        "Pacific/Auckland", "America/Santiago", "America/Nuuk",
        "Europe/Dublin", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Tehran",
        "Africa/Casablanca", "Pacific/Chatham", "Australia/Lord_Howe",
    };
    size_t i;

    for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        struct floe_fh_tz *tz = NULL;
        char err[FLOE_ERR_LEN], env[80];

        CHECK(floe_fh_tz_load(zones[i], &tz, err) == FLOE_OK);
        snprintf(env, sizeof(env), ":%s", zones[i]);
        CHECK(compare_with_glibc(tz, env, zones[i]) == 0);
        floe_fh_tz_free(tz);
    }
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A slim TZif v2 file `dir`/`name`: transitions at[] (n of them) to the
 * types offs[] (k of them, idx[] says which), then the footer. */
static int write_tzif(const char *dir, const char *name, const int64_t *at,
                      const unsigned char *idx, size_t n,
                      const int32_t *offs, size_t k, const char *footer)
{
    unsigned char buf[4096], *p = buf;
    char path[512];
    size_t i;
    FILE *f;

    for (int v = 0; v < 2; v++) { /* v1: one type, nothing else */
        size_t tn = v ? n : 0, kn = v ? k : 1;

        memset(p, 0, 44);
        memcpy(p, "TZif2", 5);
        put32(p + 36, (uint32_t)kn);
        put32(p + 40, 4);
        put32(p + 32, (uint32_t)tn);
        p += 44;
        for (i = 0; i < tn; i++, p += 8) {
            put32(p, (uint32_t)((uint64_t)at[i] >> 32));
            put32(p + 4, (uint32_t)at[i]);
        }
        for (i = 0; i < tn; i++)
            *p++ = idx[i];
        for (i = 0; i < kn; i++, p += 6) {
            put32(p, (uint32_t)offs[v ? i : 0]);
            p[4] = 0;
            p[5] = 0;
        }
        memcpy(p, "ZZZ", 4);
        p += 4;
    }
    p += (size_t)snprintf((char *)p, 200, "\n%s\n", footer);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    i = fwrite(buf, 1, (size_t)(p - buf), f);
    return fclose(f) == 0 && i == (size_t)(p - buf) ? 0 : -1;
}

/* Slim files: no transitions (or two, then the rule), every form of the
 * POSIX TZ string, compared with glibc reading the same string. */
static void test_tz_slim_footer_rules(void)
{
    static const char *const rules[] = {
        "CET-1CEST,M3.5.0,M10.5.0/3",            /* Mm.w.d, /time */
        "EST5EDT,M3.2.0,M11.1.0",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",          /* southern */
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24",       /* <names>, 24:00 */
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",       /* negative time */
        "IST-1GMT0,M10.5.0,M3.5.0/1",            /* negative DST */
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",  /* half-hour offsets */
        "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
        "XXX3YYY,J60/2,J300/2",                  /* Jn: Mar 1, no Feb 29 */
        "XXX3YYY,59/2,299/2",                    /* n: counts Feb 29 */
        "<+0330>-3:30<+0430>,J79/24,J263/24",
        "<+01>-1",                               /* standard time only */
        "HST10",
    };
    static const int32_t offs[] = { 3600, 7200 };
    static const unsigned char idx[] = { 1, 0 };
    static const int64_t at[] = { 946684800, 1262304000 }; /* 2000, 2010 */
    char dir[256], env[300];
    size_t i;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    setenv("TZDIR", dir, 1);
    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        struct floe_fh_tz *tz = NULL;
        char err[FLOE_ERR_LEN];

        CHECK(write_tzif(dir, "Slim", NULL, NULL, 0, offs, 1, rules[i]) ==
              0);
        CHECK(floe_fh_tz_load("Slim", &tz, err) == FLOE_OK);
        snprintf(env, sizeof(env), "%s", rules[i]);
        CHECK(compare_with_glibc(tz, env, rules[i]) == 0);
        floe_fh_tz_free(tz);
    }
    /* Transitions first: the table holds until 2010, the rule after. */
    {
        struct floe_fh_tz *tz = NULL;
        char err[FLOE_ERR_LEN];

        CHECK(write_tzif(dir, "Two", at, idx, 2, offs, 2,
                         "EST5EDT,M3.2.0,M11.1.0") == 0);
        CHECK(floe_fh_tz_load("Two", &tz, err) == FLOE_OK);
        CHECK(floe_fh_tz_offset(tz, 900000000000LL) == 3600);   /* 1998 */
        CHECK(floe_fh_tz_offset(tz, 1000000000000LL) == 7200);  /* 2001 */
        CHECK(floe_fh_tz_offset(tz, 1278000000000LL) == -14400); /* 7/2010 */
        CHECK(floe_fh_tz_offset(tz, 4102444800000LL) == -18000); /* 2100 */
        floe_fh_tz_free(tz);
        /* DST with no rule: the US one */
        CHECK(write_tzif(dir, "Dflt", NULL, NULL, 0, offs, 1, "AAA3BBB") ==
              0);
        CHECK(floe_fh_tz_load("Dflt", &tz, err) == FLOE_OK);
        CHECK(floe_fh_tz_offset(tz, 2540246400000LL) == -7200);  /* 7/2050 */
        CHECK(floe_fh_tz_offset(tz, 2524608000000LL) == -10800); /* 1/2050 */
        floe_fh_tz_free(tz);
        /* DST all year, as RFC 8536 reads it (glibc leaves hours of
         * standard time around each new year) */
        CHECK(write_tzif(dir, "Always", NULL, NULL, 0, offs, 1,
                         "EST5EDT,0/0,J365/25") == 0);
        CHECK(floe_fh_tz_load("Always", &tz, err) == FLOE_OK);
        CHECK(floe_fh_tz_offset(tz, 2524608000000LL) == -14400); /* 1/1 */
        CHECK(floe_fh_tz_offset(tz, 2524625000000LL) == -14400);
        CHECK(floe_fh_tz_offset(tz, 2540246400000LL) == -14400); /* 7/1 */
        floe_fh_tz_free(tz);
        /* a footer that is not a TZ string: refused, not guessed */
        CHECK(write_tzif(dir, "Bad", NULL, NULL, 0, offs, 1, "C3T,M13.1.0,"
                         "M1.1.0") == 0);
        CHECK(floe_fh_tz_load("Bad", &tz, err) == FLOE_ECORRUPT);
    }
    unsetenv("TZDIR");
}

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

FLOE_TESTS({ "tz_offsets", test_tz_offsets }, { "tz_names", test_tz_names },
           { "glibc_2100", test_tz_matches_glibc_through_2100 },
           { "slim_footer", test_tz_slim_footer_rules });
