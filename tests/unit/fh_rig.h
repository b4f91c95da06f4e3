/* fh_rig.h - a whole firehose without HTTP for unit tests: registry,
 * store, WAL, deliverer and the transport-free API in a temp directory
 * (test_firehose.c, test_firehose_race.c). */
#ifndef FLOE_TEST_FH_RIG_H
#define FLOE_TEST_FH_RIG_H

#include <stdbool.h>
#include <string.h>

#include "core/util.h"
#include "firehose/api.h"
#include "firehose/deliver.h"
#include "firehose/stream.h"
#include "firehose/wal.h"
#include "store/store.h"
#include "test.h"

/* A whole firehose without HTTP: registry, store, WAL, deliverer, API. */
struct rig {
    char dir[256];
    struct floe_fh_registry *reg;
    struct floe_store *store;
    struct floe_fh_wal *wal;
    struct floe_fh_deliver *dlv;
    struct floe_metrics *metrics;
    struct floe_fh_api api;
};

static inline void rig_replay(void *ud, const struct floe_fh_wal_pos *pos,
                       const char *stream, int64_t ms, const void *data,
                       size_t len)
{
    struct rig *r = ud;
    struct floe_fh_stream *s = floe_fh_registry_find(r->reg, stream);

    if (s == NULL)
        floe_fh_wal_release(r->wal, pos->seg, 1);
    else
        floe_fh_deliver_replay(r->dlv, s, pos, ms, data, len);
}

static inline int rig_up(struct rig *r, bool reuse)
{
    char path[512], err[FLOE_ERR_LEN];
    struct floe_fh_deliver_cfg dc;
    size_t i;

    if (!reuse && test_tmpdir(r->dir, sizeof(r->dir)) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/state", r->dir);
    if (floe_fh_registry_open(path, &r->reg, err) != FLOE_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/lake", r->dir);
    if (floe_store_open(path, &r->store, err) != FLOE_OK)
        return -1;
    if (floe_metrics_create(&r->metrics) != FLOE_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/state/wal", r->dir);
    if (floe_fh_wal_open(path, 1 << 20, r->metrics, &r->wal, err) !=
        FLOE_OK)
        return -1;
    memset(&dc, 0, sizeof(dc));
    dc.store = r->store;
    dc.wal = r->wal;
    dc.metrics = r->metrics;
    dc.max_buffered = 64 << 20;
    dc.workers = 2;
    if (floe_fh_deliver_start(&dc, &r->dlv, err) != FLOE_OK)
        return -1;
    for (i = 0; i < floe_fh_registry_count(r->reg); i++)
        floe_fh_deliver_attach(r->dlv, floe_fh_registry_at(r->reg, i));
    if (floe_fh_wal_replay(r->wal, rig_replay, r, NULL) != FLOE_OK)
        return -1;
    return floe_fh_api_init(&r->api, r->reg, r->dlv, r->metrics) == FLOE_OK
               ? 0
               : -1;
}

static inline void rig_down(struct rig *r, bool keep)
{
    size_t i;

    for (i = 0; r->reg && i < floe_fh_registry_count(r->reg); i++)
        floe_fh_deliver_detach(r->dlv, floe_fh_registry_at(r->reg, i));
    floe_fh_deliver_stop(r->dlv);
    floe_metrics_destroy(r->metrics);
    r->metrics = NULL;
    floe_fh_wal_close(r->wal);
    floe_fh_registry_close(r->reg);
    floe_store_close(r->store);
    r->dlv = NULL;
    r->wal = NULL;
    r->reg = NULL;
    r->store = NULL;
    if (!keep)
        floe_rmtree(r->dir);
}

/* Call op with body; returns status, *type (or NULL) and reply in out. */
static inline int call(struct rig *r, const char *op, const char *body,
                struct floe_buf *out, const char **type)
{
    floe_buf_reset(out);
    return floe_fh_api_call(&r->api, op, body, strlen(body), out, type);
}

#endif
