/* api.h - the Firehose JSON 1.1 operations of `floe firehose`.
 * Validates requests like AWS (ValidationException, SerializationException,
 * InvalidArgumentException, ResourceNotFound/InUse, ServiceUnavailable)
 * and answers with AWS-shaped JSON. Transport-free core (floe_fh_api_call)
 * plus the HTTP handler that wraps it. */
#ifndef FLOE_FIREHOSE_API_H
#define FLOE_FIREHOSE_API_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/buf.h"
#include "firehose/auth.h"
#include "firehose/deliver.h"
#include "firehose/stream.h"
#include "http/server.h"
#include "metrics/metrics.h"

#define FLOE_FH_TARGET_PREFIX "Firehose_20150804."
#define FLOE_FH_MAX_RECORD 1024000
#define FLOE_FH_MAX_BATCH_RECORDS 500
#define FLOE_FH_MAX_BATCH_BYTES (4 << 20)

/* Shared by every request thread; members are borrowed. */
struct floe_fh_api {
    struct floe_fh_registry *reg;
    struct floe_fh_deliver *dlv;
    struct floe_fh_wal *wal;    /* GET /ready asks it; NULL = no WAL */
    struct floe_fh_auth auth;   /* empty key id = no authentication */
    char run_id[17];            /* random per process: RecordIds unique */
    unsigned char run_bytes[8]; /* the same, as bytes: request ids */
    atomic_ullong record_seq, request_seq;
    struct floe_metrics *metrics; /* GET /metrics renders it */
    struct floe_counter *requests, *errors, *records, *auth_failures;
};

/* An API error: AWS error name, HTTP status, message. */
struct floe_fh_err {
    const char *type;  /* "ValidationException"; NULL = no error */
    int status;        /* 400 or 500 */
    char msg[FLOE_ERR_LEN];
};

/* Set `e` (status follows the name) and return -1 for chaining. */
int floe_fh_fail(struct floe_fh_err *e, const char *type, const char *fmt,
                 ...) FLOE_PRINTF(3, 4);

/* Fill run_id and register the request counters in `metrics` (borrowed,
 * the registry the deliverer counts into too: /metrics shows it whole). */
int floe_fh_api_init(struct floe_fh_api *api, struct floe_fh_registry *reg,
                     struct floe_fh_deliver *dlv,
                     struct floe_metrics *metrics);

/* Run operation `op` ("PutRecordBatch", without the target prefix; NULL =
 * missing target) on the JSON `body` (borrowed, `len` bytes). The reply
 * (success or {"__type","message"}) is appended to `out`; returns the HTTP
 * status; *out_type is the error name or NULL on success. */
int floe_fh_api_call(struct floe_fh_api *api, const char *op,
                     const char *body, size_t len, struct floe_buf *out,
                     const char **out_type);

/* floe_http_handler for the Firehose endpoint (ud = struct floe_fh_api *):
 * POST / with X-Amz-Target (SigV4-checked when api->auth has a key), plus
 * GET /metrics (for Prometheus) and GET /ready (200, or 503 while the WAL
 * is unhealthy: for a load balancer), never authenticated. */
void floe_fh_api_handle(void *ud, const struct floe_http_req *req,
                        struct floe_http_resp *resp);

#endif
