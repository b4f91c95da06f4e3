/* backfill.c - the hour of a landing key and the times `floe backfill`
 * takes. Pure functions: no store, no state. */
#include "orchestrator/backfill.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at s into *out; false unless all are digits. */
static bool digits(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int to_ms(int y, int mo, int d, int h, int mi, int sec, int64_t *out)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                 30, 31 };
    struct tm tm;

    if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
        sec > 59)
        return FLOE_EINVAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) * 1000;
    return FLOE_OK;
}

/* "YYYY<sep>MM<sep>DD<sep>HH" at s (sep: one character each). */
static bool ymdh(const char *s, char sep, int *y, int *mo, int *d, int *h)
{
    return digits(s, 4, y) && s[4] == sep && digits(s + 5, 2, mo) &&
           s[7] == sep && digits(s + 8, 2, d) && s[10] == sep &&
           digits(s + 11, 2, h);
}

int floe_backfill_key_hour(const char *key, int64_t *out_ms)
{
    const char *name = strrchr(key, '/');
    const char *p;
    int y, mo, d, h, mi, sec;
    size_t n;

    name = name ? name + 1 : key;
    /* <stream>-<n>-YYYY-MM-DD-HH-MM-SS-<id>: the stream may hold '-', so
     * try every '-' followed by a well-formed time and another '-'. */
    n = strlen(name);
    for (p = strchr(name, '-'); p != NULL; p = strchr(p + 1, '-')) {
        if ((size_t)(p - name) + 21 > n || p[20] != '-')
            continue;
        if (ymdh(p + 1, '-', &y, &mo, &d, &h) && p[14] == '-' &&
            digits(p + 15, 2, &mi) && p[17] == '-' &&
            digits(p + 18, 2, &sec) &&
            to_ms(y, mo, d, h, 0, 0, out_ms) == FLOE_OK)
            return FLOE_OK;
    }
    /* .../YYYY/MM/DD/HH/... */
    for (p = key; (p = strchr(p, '/')) != NULL; p++) {
        if (strlen(p + 1) >= 14 && ymdh(p + 1, '/', &y, &mo, &d, &h) &&
            p[14] == '/' && to_ms(y, mo, d, h, 0, 0, out_ms) == FLOE_OK)
            return FLOE_OK;
    }
    return FLOE_EINVAL;
}

int floe_backfill_parse_time(const char *s, int64_t *out_ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t n = strlen(s);

    if (n > 0 && s[n - 1] == 'Z')
        n--;
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' ||
        !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
        return FLOE_EINVAL;
    if (n > 10 && ((s[10] != 'T' && s[10] != ' ') || n < 13 ||
                   !digits(s + 11, 2, &h)))
        return FLOE_EINVAL;
    if (n > 13 && (n < 16 || s[13] != ':' || !digits(s + 14, 2, &mi)))
        return FLOE_EINVAL;
    if (n > 16 && (n != 19 || s[16] != ':' || !digits(s + 17, 2, &sec)))
        return FLOE_EINVAL;
    if (n != 10 && n != 13 && n != 16 && n != 19)
        return FLOE_EINVAL;
    return to_ms(y, mo, d, h, mi, sec, out_ms);
}
