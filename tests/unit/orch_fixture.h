/* orch_fixture.h - helpers shared by the orchestrator's unit tests
 * (test_orchestrator.c: ids, sense, claim, manifests, state;
 * test_orchestrator_dag.c: the DAG against the embedded warehouse):
 * listing and comparing store keys, gzip puts, the landing keys used
 * throughout, and collectors for state rows. */
#ifndef FLOE_TEST_ORCH_FIXTURE_H
#define FLOE_TEST_ORCH_FIXTURE_H

#include <stdint.h>
#include <zlib.h>

#include "orchestrator/state.h"
#include "store/store.h"
#include "test.h"

/* --- helpers ------------------------------------------------------- */

struct keys {
    char v[64][256];
    int n;
};

static inline int collect(const struct floe_obj_info *info, void *ud)
{
    struct keys *k = ud;

    if (k->n < 64)
        snprintf(k->v[k->n++], 256, "%s", info->key);
    return 0;
}

static inline int count_keys(struct floe_store *st, const char *prefix)
{
    struct keys k = { .n = 0 };

    floe_store_list(st, prefix, collect, &k);
    return k.n;
}

static inline bool has_key(struct floe_store *st, const char *key)
{
    struct floe_obj_info info;

    return floe_store_head(st, key, &info) == FLOE_OK;
}

static inline bool same_bytes(struct floe_store *st, const char *key,
                       const char *want)
{
    struct floe_buf b;
    bool ok;

    floe_buf_init(&b, 1 << 20);
    ok = floe_store_get(st, key, &b) == FLOE_OK && b.len == strlen(want) &&
         memcmp(b.data, want, b.len) == 0;
    floe_buf_free(&b);
    return ok;
}

/* Put `text` gzip-compressed (one member, as Firehose writes it). */
static inline int put_gz(struct floe_store *st, const char *key, const char *text)
{
    unsigned char out[16384];
    z_stream z;
    int rc;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return FLOE_EIO;
    z.next_in = (unsigned char *)(uintptr_t)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = sizeof(out);
    rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return FLOE_EIO;
    return floe_store_put(st, key, out, sizeof(out) - z.avail_out);
}

static const char *const landing[] = {
    "landing/customers/2026/11/24/19/customers-1-2026-11-24-19-56-00-a.gz",
    "landing/orders/2026/11/24/19/orders-1-2026-11-24-19-56-00-b.gz",
    "landing/orders/2026/11/24/19/orders-1-2026-11-24-19-57-00-c.gz",
};

struct runs {
    int n;
    int attempt[8];
    char state[8][16];
    char err[8][128];
    char counts[8][128];
};

static inline int collect_run(const struct floe_state_run *r, void *ud)
{
    struct runs *x = ud;

    if (x->n < 8) {
        x->attempt[x->n] = r->attempt;
        snprintf(x->state[x->n], 16, "%s", r->state);
        snprintf(x->err[x->n], 128, "%s", r->error);
        snprintf(x->counts[x->n], 128, "%s", r->counts);
        x->n++;
    }
    return 0;
}

static inline int collect_batch(const struct floe_state_batch *b, void *ud)
{
    struct keys *k = ud;

    if (k->n < 64)
        snprintf(k->v[k->n++], 256, "%s:%s", b->batch_id, b->state);
    return 0;
}


#endif
