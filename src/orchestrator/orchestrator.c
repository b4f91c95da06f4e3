/* orchestrator.c - stub entry points until this part lands. */
#include <stdio.h>

#include "orchestrator/orchestrator.h"

int floe_run_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "floe %s: not built yet\n", argv[0]);
    return 1;
}

int floe_task_main(int argc, char **argv)
{
    return floe_run_main(argc, argv);
}
