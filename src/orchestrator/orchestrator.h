/* orchestrator.h - entry points of the orchestrator: `floe run` (the
 * landing_to_processed DAG on the built-in scheduler) and `floe task` (one
 * task for one batch, what the Airflow DAG calls). The DAG itself is in
 * dag.h, claims and manifests in claim.h, the state database in state.h. */
#ifndef FLOE_ORCHESTRATOR_ORCHESTRATOR_H
#define FLOE_ORCHESTRATOR_ORCHESTRATOR_H

/* The 'floe run' / 'floe task' subcommands; argv[0] is the command name.
 * Exit status: 0 success, 1 a task failed, 2 bad usage. */
int floe_run_main(int argc, char **argv);
int floe_task_main(int argc, char **argv);
/* 'floe backfill' (re-process a past period) and 'floe runs' (history). */
int floe_backfill_main(int argc, char **argv);
int floe_runs_main(int argc, char **argv);

#endif
