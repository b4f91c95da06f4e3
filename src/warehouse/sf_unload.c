/* sf_unload.c - Snowflake engine, unload step (placeholder until the
 * unload lands): refuses, so a DAG on Snowflake stops before finalize. */
#define FLOE_LOG_MOD "warehouse.snowflake"
#include "warehouse/snowflake.h"

int floe_sf_unload(void *ctx, struct floe_store *st, const char *batch,
                   struct floe_wh_counts *out, char *err)
{
    (void)ctx;
    (void)st;
    (void)out;
    return floe_err(err, FLOE_ENOTSUP, "snowflake unload of %s: not yet",
                    batch);
}
