/* orchestrator.h - entry points of the orchestrator (stub until it lands). */
#ifndef FLOE_ORCHESTRATOR_ORCHESTRATOR_H
#define FLOE_ORCHESTRATOR_ORCHESTRATOR_H

int floe_run_main(int argc, char **argv);
int floe_task_main(int argc, char **argv);

#endif
