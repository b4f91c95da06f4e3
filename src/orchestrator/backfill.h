/* backfill.h - which objects `floe backfill --from T --to T` re-processes:
 * the hour a landing key carries, and the times the command accepts. The
 * re-processing itself is floe_dag_backfill (dag.h). */
#ifndef FLOE_ORCHESTRATOR_BACKFILL_H
#define FLOE_ORCHESTRATOR_BACKFILL_H

#include <stdint.h>

#define FLOE_HOUR_MS (3600 * 1000LL)

/* The start of the hour (ms since the epoch, UTC) a landing key carries:
 * from Firehose's object name "<stream>-<n>-YYYY-MM-DD-HH-MM-SS-<id>", else
 * from a ".../YYYY/MM/DD/HH/..." folder. FLOE_EINVAL when it carries
 * neither. */
int floe_backfill_key_hour(const char *key, int64_t *out_ms);

/* A UTC time: "YYYY-MM-DD", "YYYY-MM-DDTHH", "YYYY-MM-DDTHH:MM" or
 * "YYYY-MM-DDTHH:MM:SS", with an optional "Z" (a space may stand for the
 * 'T'). FLOE_EINVAL for anything else, out of range fields included. */
int floe_backfill_parse_time(const char *s, int64_t *out_ms);

#endif
