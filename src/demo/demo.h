/* demo.h - entry point of this part (stub until it lands). */
#ifndef FLOE_DEMO_DEMO_H
#define FLOE_DEMO_DEMO_H

/* The 'floe' subcommand; argv[0] is the command name. Exit status. */
int floe_demo_main(int argc, char **argv);

#endif
