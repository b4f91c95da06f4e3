/* tz.c - TZif reader (RFC 8536): skips the v1 block, reads the 64-bit v2
 * transition times and their local time types, and the footer: the POSIX
 * TZ string (std offset [dst [offset] [,start[/time],end[/time]]], dates
 * as Jn, n or Mm.w.d) that gives the offset after the last transition,
 * which is all there is after 2037 in "fat" files and after the last
 * rule change in "slim" ones. Names are checked like zone ids (letters,
 * digits, "_+-", '/' between parts, no "..") so they cannot escape the
 * database directory. */
#define FLOE_LOG_MOD "firehose.tz"

#include "firehose/tz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"

/* A transition date of a POSIX TZ rule. */
struct rule_date {
    char kind;       /* 'J' (Jn, 1..365, no Feb 29), 'D' (n, 0..365), 'M' */
    int day;         /* J / D: the day; M: weekday 0 (Sunday) .. 6 */
    int month, week; /* M only: 1..12, 1..5 (5 = last) */
    int32_t time;    /* seconds after local midnight, -167 h .. 167 h */
};

/* The footer: std offset, and DST between start and end if has_dst. */
struct posix_tz {
    bool set;        /* the file had a usable footer */
    bool has_dst;
    int32_t std_off, dst_off; /* UTC offsets, seconds east */
    struct rule_date start, end;
};

struct floe_fh_tz {
    int64_t *at;     /* transition times, seconds, ascending */
    int32_t *off;    /* offset in force from at[i] */
    size_t n;
    int32_t off0;    /* before the first transition */
    struct posix_tz rule; /* after the last transition */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int name_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 64 || s[0] == '/' || s[n - 1] == '/' ||
        strstr(s, "..") != NULL || strstr(s, "//") != NULL)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' ||
              c == '/'))
            return 0;
    }
    return 1;
}

/* --- the POSIX TZ string of the footer ------------------------------ */

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static const char *tz_name(const char *s)
{
    const char *p = s;

    if (*p == '<') {
        for (p++; *p != '>'; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
                return NULL;
        return p - s >= 4 ? p + 1 : NULL;
    }
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h; seconds into *out. */
static const char *tz_hms(const char *s, int max_h, int32_t *out)
{
    int sign = 1, part[3] = { 0, 0, 0 }, i, d;

    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    for (i = 0; i < 3; i++) {
        if (i > 0) {
            if (*s != ':')
                break;
            s++;
        }
        if (*s < '0' || *s > '9')
            return NULL;
        for (d = 0; *s >= '0' && *s <= '9' && d < 3; d++)
            part[i] = part[i] * 10 + (*s++ - '0');
        if (i > 0 && part[i] > 59)
            return NULL;
    }
    if (part[0] > max_h)
        return NULL;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return s;
}

static const char *tz_num(const char *s, int lo, int hi, int *out)
{
    int v = 0, d;

    for (d = 0; *s >= '0' && *s <= '9' && d < 4; d++)
        v = v * 10 + (*s++ - '0');
    if (d == 0 || v < lo || v > hi)
        return NULL;
    *out = v;
    return s;
}

/* date[/time] */
static const char *tz_date(const char *s, struct rule_date *r)
{
    if (*s == 'M') {
        r->kind = 'M';
        s = tz_num(s + 1, 1, 12, &r->month);
        if (s == NULL || *s++ != '.' ||
            (s = tz_num(s, 1, 5, &r->week)) == NULL || *s++ != '.' ||
            (s = tz_num(s, 0, 6, &r->day)) == NULL)
            return NULL;
    } else if (*s == 'J') {
        r->kind = 'J';
        if ((s = tz_num(s + 1, 1, 365, &r->day)) == NULL)
            return NULL;
    } else {
        r->kind = 'D';
        if ((s = tz_num(s, 0, 365, &r->day)) == NULL)
            return NULL;
    }
    r->time = 2 * 3600;
    if (*s == '/')
        s = tz_hms(s + 1, 167, &r->time); /* RFC 8536 extension */
    return s;
}

/* Parse `s` (NUL-terminated). A POSIX offset counts hours west of
 * Greenwich, so it is negated into seconds east. */
static int posix_parse(const char *s, struct posix_tz *tz)
{
    int32_t off;

    memset(tz, 0, sizeof(*tz));
    if ((s = tz_name(s)) == NULL || (s = tz_hms(s, 24, &off)) == NULL)
        return FLOE_ECORRUPT;
    tz->std_off = -off;
    if (*s != '\0') {
        if ((s = tz_name(s)) == NULL)
            return FLOE_ECORRUPT;
        tz->has_dst = true;
        tz->dst_off = tz->std_off + 3600;
        if (*s != ',' && *s != '\0') {
            if ((s = tz_hms(s, 24, &off)) == NULL)
                return FLOE_ECORRUPT;
            tz->dst_off = -off;
        }
        if (*s == '\0') { /* no rule: the US one, as glibc assumes */
            tz->start = (struct rule_date){ 'M', 0, 3, 2, 7200 };
            tz->end = (struct rule_date){ 'M', 0, 11, 1, 7200 };
        } else if (*s++ != ',' || (s = tz_date(s, &tz->start)) == NULL ||
                   *s++ != ',' || (s = tz_date(s, &tz->end)) == NULL) {
            return FLOE_ECORRUPT;
        }
    }
    if (*s != '\0')
        return FLOE_ECORRUPT;
    tz->set = true;
    return FLOE_OK;
}

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of(int64_t days)
{
    int64_t z = days + 719468, era, doe, yoe, doy, mp;

    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

/* Local seconds since the epoch (as if UTC) of the rule's moment in y. */
static int64_t rule_local(const struct rule_date *r, int64_t y)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                 30, 31 };
    int64_t jan1 = days_from_civil(y, 1, 1), day;

    if (r->kind == 'J')
        day = jan1 + r->day - 1 + (leap_year(y) && r->day >= 60);
    else if (r->kind == 'D')
        day = jan1 + r->day;
    else {
        int64_t first = days_from_civil(y, r->month, 1);
        int len = mdays[r->month - 1] + (r->month == 2 && leap_year(y));
        int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01: Thu */
        int dom = (r->day - wd + 7) % 7 + 7 * (r->week - 1);

        while (dom >= len)
            dom -= 7;
        day = first + dom;
    }
    return day * 86400 + r->time;
}

static int32_t posix_offset(const struct posix_tz *tz, int64_t t)
{
    int64_t y = year_of(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
    int64_t best = INT64_MIN, yy;
    int32_t off = tz->std_off;

    if (!tz->has_dst)
        return tz->std_off;
    /* The latest switch at or before t, among those of the years around
     * it (southern zones' DST spans the new year). The start is written
     * in standard time, the end in daylight time. */
    for (yy = y - 1; yy <= y + 1; yy++) {
        int64_t on = rule_local(&tz->start, yy) - tz->std_off;
        int64_t offt = rule_local(&tz->end, yy) - tz->dst_off;

        if (offt <= t && offt > best) {
            best = offt;
            off = tz->std_off;
        }
        /* On a tie DST starts: "0/0,J365/25" is daylight time all year. */
        if (on <= t && on >= best) {
            best = on;
            off = tz->dst_off;
        }
    }
    return off;
}

/* Parse the v2 block of a TZif file into tz. */
static int parse(const unsigned char *p, size_t len, struct floe_fh_tz *tz)
{
    uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
    size_t v1, need, i;
    const unsigned char *h = p, *times, *idx, *types, *foot, *end;

    if (len < 44 || memcmp(p, "TZif", 4) != 0 || p[4] < '2')
        return FLOE_ECORRUPT;
    isut = be32(h + 20);
    isstd = be32(h + 24);
    leap = be32(h + 28);
    timecnt = be32(h + 32);
    typecnt = be32(h + 36);
    charcnt = be32(h + 40);
    v1 = (size_t)timecnt * 5 + (size_t)typecnt * 6 + charcnt +
         (size_t)leap * 8 + isstd + isut;
    if (len < 44 + v1 + 44)
        return FLOE_ECORRUPT;
    h = p + 44 + v1;
    if (memcmp(h, "TZif", 4) != 0)
        return FLOE_ECORRUPT;
    isut = be32(h + 20);
    isstd = be32(h + 24);
    leap = be32(h + 28);
    timecnt = be32(h + 32);
    typecnt = be32(h + 36);
    charcnt = be32(h + 40);
    need = (size_t)timecnt * 9 + (size_t)typecnt * 6;
    if (typecnt == 0 || len - (size_t)(h + 44 - p) < need)
        return FLOE_ECORRUPT;
    times = h + 44;
    idx = times + (size_t)timecnt * 8;
    types = idx + timecnt;
    tz->off0 = (int32_t)be32(types);
    tz->at = calloc(timecnt ? timecnt : 1, sizeof(*tz->at));
    tz->off = calloc(timecnt ? timecnt : 1, sizeof(*tz->off));
    if (tz->at == NULL || tz->off == NULL)
        return FLOE_ENOMEM;
    for (i = 0; i < timecnt; i++) {
        uint64_t t = (uint64_t)be32(times + 8 * i) << 32 |
                     be32(times + 8 * i + 4);

        if (idx[i] >= typecnt || (i > 0 && (int64_t)t < tz->at[i - 1]))
            return FLOE_ECORRUPT;
        tz->at[i] = (int64_t)t;
        tz->off[i] = (int32_t)be32(types + 6 * (size_t)idx[i]);
    }
    tz->n = timecnt;
    /* The footer: "\n<POSIX TZ string>\n" after the v2 data; empty when
     * the zone has no rule (the last offset then holds). */
    foot = types + (size_t)typecnt * 6 + charcnt + (size_t)leap * 12 +
           isstd + isut;
    if (foot >= p + len || *foot != '\n')
        return FLOE_OK; /* none (or a truncated file): as before */
    end = memchr(foot + 1, '\n', (size_t)(p + len - foot - 1));
    if (end != NULL && end > foot + 1 && end - foot < 128) {
        char text[128];

        memcpy(text, foot + 1, (size_t)(end - foot - 1));
        text[end - foot - 1] = '\0';
        if (posix_parse(text, &tz->rule) != FLOE_OK)
            return FLOE_ECORRUPT;
    }
    return FLOE_OK;
}

int floe_fh_tz_load(const char *name, struct floe_fh_tz **out, char *err)
{
    const char *dir = getenv("TZDIR");
    struct floe_fh_tz *tz = NULL;
    struct floe_buf path, data;
    int rc;

    *out = NULL;
    if (!name_ok(name))
        return floe_err(err, FLOE_EINVAL, "'%.80s' is not a time zone name",
                        name);
    floe_buf_init(&path, 4096);
    floe_buf_init(&data, 1 << 20);
    tz = calloc(1, sizeof(*tz));
    if (tz == NULL) {
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (strcmp(name, "UTC") == 0) { /* always known, no file needed */
        rc = FLOE_OK;
        goto done;
    }
    rc = floe_buf_addf(&path, "%s/%s", dir && dir[0] ? dir
                                                      : "/usr/share/zoneinfo",
                       name);
    if (rc == FLOE_OK && !floe_path_exists(path.data))
        rc = floe_err(err, FLOE_ENOTFOUND,
                      "unknown time zone '%s' (not in the TZ database)",
                      name);
    if (rc != FLOE_OK)
        goto cleanup;
    rc = floe_read_file(path.data, &data);
    if (rc == FLOE_OK)
        rc = parse((const unsigned char *)data.data, data.len, tz);
    if (rc != FLOE_OK) {
        floe_err(err, rc, "cannot read time zone '%s' from %s", name,
                 path.data);
        goto cleanup;
    }
done:
    *out = tz;
    tz = NULL;
cleanup:
    floe_fh_tz_free(tz);
    floe_buf_free(&path);
    floe_buf_free(&data);
    return rc;
}

int32_t floe_fh_tz_offset(const struct floe_fh_tz *tz, int64_t ms)
{
    int64_t t = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    size_t lo = 0, hi;

    if (tz == NULL)
        return 0;
    if (tz->rule.set && (tz->n == 0 || t >= tz->at[tz->n - 1]))
        return posix_offset(&tz->rule, t);
    if (tz->n == 0 || t < tz->at[0])
        return tz->off0;
    hi = tz->n; /* last i with at[i] <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;

        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[lo];
}

void floe_fh_tz_free(struct floe_fh_tz *tz)
{
    if (tz == NULL)
        return;
    free(tz->at);
    free(tz->off);
    free(tz);
}
