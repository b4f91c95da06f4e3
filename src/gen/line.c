/* line.c - bounded line building and text formats (see line.h).
 * Dates use Howard Hinnant's days<->civil algorithms: pure integer math,
 * no time zone, locale or libc state, so output is reproducible and fast. */
#include "gen/line.h"

#include <string.h>

#include "core/err.h"

void floe_line_add(struct floe_line *l, const char *p, size_t n)
{
    if (l->overflow || n > FLOE_LINE_MAX - l->len) {
        l->overflow = true;
        return;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

void floe_line_adds(struct floe_line *l, const char *s)
{
    floe_line_add(l, s, strlen(s));
}

void floe_line_addc(struct floe_line *l, char c)
{
    floe_line_add(l, &c, 1);
}

void floe_line_add_u64(struct floe_line *l, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width && n < (int)sizeof(tmp))
        tmp[sizeof(tmp) - 1 - n++] = '0';
    floe_line_add(l, tmp + sizeof(tmp) - n, (size_t)n);
}

void floe_line_add_cents(struct floe_line *l, int64_t cents)
{
    uint64_t a;

    if (cents < 0) {
        floe_line_addc(l, '-');
        a = (uint64_t)0 - (uint64_t)cents;
    } else {
        a = (uint64_t)cents;
    }
    floe_line_add_u64(l, a / 100, 0);
    floe_line_addc(l, '.');
    floe_line_add_u64(l, a % 100, 2);
}

/* Days since 1970-01-01 -> civil date. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, yy;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void floe_line_iso(int64_t ms, char out[FLOE_LINE_ISO_LEN + 1])
{
    struct floe_line l;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000, y;
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    floe_line_reset(&l);
    floe_line_add_u64(&l, (uint64_t)(y < 0 ? 0 : y), 4);
    floe_line_addc(&l, '-');
    floe_line_add_u64(&l, m, 2);
    floe_line_addc(&l, '-');
    floe_line_add_u64(&l, d, 2);
    floe_line_addc(&l, 'T');
    floe_line_add_u64(&l, (uint64_t)(rem / 3600000), 2);
    floe_line_addc(&l, ':');
    floe_line_add_u64(&l, (uint64_t)(rem / 60000 % 60), 2);
    floe_line_addc(&l, ':');
    floe_line_add_u64(&l, (uint64_t)(rem / 1000 % 60), 2);
    floe_line_addc(&l, '.');
    floe_line_add_u64(&l, (uint64_t)(rem % 1000), 3);
    floe_line_addc(&l, 'Z');
    /* years past 9999 would be longer; clamp so out[] never overflows */
    if (l.len > FLOE_LINE_ISO_LEN)
        l.len = FLOE_LINE_ISO_LEN;
    memcpy(out, l.buf, l.len);
    out[l.len] = '\0';
}

void floe_line_add_iso(struct floe_line *l, int64_t ms)
{
    char iso[FLOE_LINE_ISO_LEN + 1];

    floe_line_iso(ms, iso);
    floe_line_adds(l, iso);
}

void floe_line_add_json_str(struct floe_line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    floe_line_addc(l, '"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        floe_line_add(l, run, (size_t)(s - run));
        run = s + 1;
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            floe_line_add(l, esc, 2);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            floe_line_add(l, esc, 2);
        } else {
            floe_line_add(l, esc, 6);
        }
    }
    floe_line_add(l, run, (size_t)(s - run));
    floe_line_addc(l, '"');
}

void floe_line_add_csv(struct floe_line *l, const char *s)
{
    const char *q;

    if (strpbrk(s, ",\"\r\n") == NULL) {
        floe_line_adds(l, s);
        return;
    }
    floe_line_addc(l, '"');
    while ((q = strchr(s, '"')) != NULL) {
        floe_line_add(l, s, (size_t)(q - s) + 1);
        floe_line_addc(l, '"'); /* the quote, doubled */
        s = q + 1;
    }
    floe_line_adds(l, s);
    floe_line_addc(l, '"');
}

static int digits(const char **p, int n, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return FLOE_EINVAL;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return FLOE_OK;
}

int floe_line_parse_iso(const char *s, int64_t *out_ms)
{
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31 };
    unsigned y, mo, d, h, mi, sec, frac = 0, scale = 1000;
    int n;

    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
        *s++ != '-' || digits(&s, 2, &d) || (*s != 'T' && *s != 't'))
        return FLOE_EINVAL;
    s++;
    if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
        *s++ != ':' || digits(&s, 2, &sec))
        return FLOE_EINVAL;
    if (*s == '.') {
        s++;
        for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
            if (n < 3) {
                scale /= 10;
                frac += (unsigned)(s[n] - '0') * scale;
            }
        }
        if (n == 0 || n > 9)
            return FLOE_EINVAL;
        s += n;
    }
    if ((*s != 'Z' && *s != 'z') || s[1] != '\0')
        return FLOE_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || sec > 59)
        return FLOE_EINVAL;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return FLOE_EINVAL;
    *out_ms = days_from_civil(y, mo, d) * 86400000 +
              (int64_t)(h * 3600 + mi * 60 + sec) * 1000 + frac;
    return FLOE_OK;
}
