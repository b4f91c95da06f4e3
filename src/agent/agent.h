/* agent.h - entry point of this part (stub until it lands). */
#ifndef FLOE_AGENT_AGENT_H
#define FLOE_AGENT_AGENT_H

/* The 'floe' subcommand; argv[0] is the command name. Exit status. */
int floe_agent_main(int argc, char **argv);

#endif
