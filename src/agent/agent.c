/* agent.c - stub entry point until this part lands. */
#include <stdio.h>

#include "agent/agent.h"

int floe_agent_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "floe %s: not built yet\n", argv[0]);
    return 1;
}
