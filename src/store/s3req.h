/* s3req.h - one signed S3 REST request with bounded retries (inside the
 * store part only; s3.c is its user).
 * A request is SigV4-signed by src/aws with x-amz-content-sha256 always
 * set, keys encoded once per segment, the query sorted. Transient
 * failures (no answer, a reset, 5xx, SlowDown, RequestTimeout) are tried
 * again with exponential backoff and full jitter, up to `attempts` in all;
 * permanent ones return at once. A GET cut short resumes with Range and
 * If-Match on the first answer's ETag (the whole object again if it
 * changed). The answer's S3 error code and message
 * become the store's error text (floe_store_set_error). */
#ifndef FLOE_STORE_S3REQ_H
#define FLOE_STORE_S3REQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/creds.h"
#include "aws/sigv4.h"
#include "core/buf.h"

#define S3_POOL_MAX 16
#define S3_MAX_EXTRA 6

/* Where a bucket is and how to reach it; shared by threads (the handle
 * pool is guarded). */
struct s3_conn {
    char *bucket;
    char *prefix;      /* "" or "dir/" */
    char *origin;      /* "http://127.0.0.1:9000", "https://b.s3.r.amazonaws.com" */
    char *host;        /* the Host header: host[:port] */
    char *base_path;   /* "/bucket" (path-style) or "" (virtual-hosted) */
    struct floe_aws_env env;
    int attempts;      /* tries per request, >= 1 */
    pthread_mutex_t mu;
    void *pool[S3_POOL_MAX]; /* idle CURL handles (keep their connections) */
    int npool;
};

struct s3_req {
    const char *method;          /* GET HEAD PUT POST DELETE */
    const char *key;             /* full key (prefix included) or NULL */
    const char *query;           /* encoded, without '?', or NULL */
    struct floe_sigv4_hdr extra[S3_MAX_EXTRA]; /* signed too */
    size_t nextra;
    const void *body;            /* borrowed */
    size_t len;
    struct floe_buf *out;        /* the answer's body (2xx), or NULL */
    int out_fd;                  /* or stream a 2xx body into this fd; -1 */
    const char *what;            /* for messages: "put landing/x" */
    /* filled in */
    long status;
    char etag[256];
    int64_t size;                /* Content-Length of the answer */
    int64_t mtime_ms;            /* Last-Modified, or 0 */
    char code[64];               /* S3 error code, "" if none */
};

/* Perform `r` with retries. FLOE_OK on a 2xx answer without an <Error>
 * body. Otherwise a store code: FLOE_ENOTFOUND (404 NoSuchKey / HEAD 404),
 * FLOE_EEXIST (412), FLOE_EAGAIN (transient, tries used up), FLOE_EREMOTE
 * (refused: AccessDenied, SignatureDoesNotMatch, NoSuchBucket...),
 * FLOE_ETOOBIG (answer over out->max), FLOE_EIO (local file). */
int s3_do(struct s3_conn *c, struct s3_req *r);

/* Append `s` percent-encoded as SigV4 wants: unreserved bytes kept, '/'
 * kept when `keep_slash`, everything else %XX. */
int s3_uri_encode(struct floe_buf *out, const char *s, bool keep_slash);

/* Walk an XML document: `cb` gets each element's path ("A/B/C") and text
 * when the element ends; a non-zero return stops the walk. FLOE_EREMOTE
 * if the body is not XML. */
typedef int (*s3_xml_cb)(void *ud, const char *path, const char *text);
int s3_xml_walk(const char *body, size_t len, s3_xml_cb cb, void *ud);

void s3_conn_free_pool(struct s3_conn *c);

#endif
