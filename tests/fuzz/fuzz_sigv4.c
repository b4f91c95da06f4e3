/* fuzz_sigv4.c - SigV4 header parsing and verification as the firehose
 * front door runs them (aws/sigv4.h through firehose/auth.h).
 * Input: header lines "Name: value" (pseudo-headers ":method" and ":path"
 * set those), an empty line, then the body. The server's clock is fixed
 * at 2023-11-14T22:13:20Z and its key is AK / SECRET below. Oracles: no
 * crash or over-read on any header set; a refusal names an AWS error and
 * never quotes the secret; every Authorization-like value parses or is
 * refused without writing past the parsed fields. */
#include <strings.h>

#include "aws/sigv4.h"
#include "core/err.h"
#include "firehose/auth.h"
#include "fuzz.h"

#define NOW_MS 1700000000000LL
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define MAX_HDRS 80

struct hdrs {
    const char *name[MAX_HDRS], *value[MAX_HDRS];
    size_t n;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

static const char *get(void *ud, const char *name)
{
    const struct hdrs *h = ud;
    size_t i;

    for (i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct floe_fh_auth auth = { "AKIDEXAMPLE", SECRET };
    struct floe_fh_auth_err e;
    struct floe_sigv4_auth a;
    const char *method = "POST", *path = "/", *body = "";
    char err[FLOE_ERR_LEN], *text, *line, *next;
    struct hdrs h;
    size_t body_len = 0, i;
    int rc;

    text = fuzz_cstr(data, size);
    FUZZ_CHECK(text != NULL);
    h.n = 0;
    for (line = text; line != NULL; line = next) {
        char *colon;

        next = memchr(line, '\n', size - (size_t)(line - text));
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '\0') { /* blank line: the body follows */
            if (next != NULL) {
                body = next;
                body_len = size - (size_t)(next - text);
            }
            break;
        }
        colon = strchr(line + 1, ':');
        if (colon == NULL || h.n == MAX_HDRS)
            continue;
        *colon++ = '\0';
        while (*colon == ' ')
            colon++;
        if (strcmp(line, ":method") == 0)
            method = colon;
        else if (strcmp(line, ":path") == 0)
            path = colon;
        else {
            h.name[h.n] = line;
            h.value[h.n++] = colon;
        }
    }
    for (i = 0; i < h.n; i++)
        if (floe_sigv4_parse_authorization(h.value[i], &a, err) ==
            FLOE_OK) {
            FUZZ_CHECK(strlen(a.signature) == FLOE_SIGV4_HEX_LEN);
            FUZZ_CHECK(strlen(a.date) == 8 && a.access_key[0] != '\0');
        }
    memset(&e, 0, sizeof(e));
    rc = floe_fh_auth_check(&auth, method, path, body, body_len, get, &h,
                            NOW_MS, &e);
    if (rc != 0) {
        FUZZ_CHECK(e.type != NULL && (e.status == 400 || e.status == 403));
        /* (quoting the client's own text is fine, even if it holds it) */
        FUZZ_CHECK(strstr(e.msg, SECRET) == NULL ||
                   memmem(data, size, SECRET, strlen(SECRET)) != NULL);
    }
    free(text);
    return 0;
}
