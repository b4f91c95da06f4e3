/* tz.c - TZif reader (RFC 8536): skips the v1 block, reads the 64-bit v2
 * transition times and their local time types. Names are checked like
 * zone ids (letters, digits, "_+-", '/' between parts, no "..") so they
 * cannot escape the database directory. */
#define FLOE_LOG_MOD "firehose.tz"

#include "firehose/tz.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"

struct floe_fh_tz {
    int64_t *at;     /* transition times, seconds, ascending */
    int32_t *off;    /* offset in force from at[i] */
    size_t n;
    int32_t off0;    /* before the first transition */
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

/* Parse the v2 block of a TZif file into tz. */
static int parse(const unsigned char *p, size_t len, struct floe_fh_tz *tz)
{
    uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
    size_t v1, need, i;
    const unsigned char *h = p, *times, *idx, *types;

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
    timecnt = be32(h + 32);
    typecnt = be32(h + 36);
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
