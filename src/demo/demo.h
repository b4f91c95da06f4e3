/* demo.h - entry point of this part `floe demo` and `floe reconcile`. */
#ifndef FLOE_DEMO_DEMO_H
#define FLOE_DEMO_DEMO_H

/* The 'floe' subcommand; argv[0] is the command name. Exit status. */
int floe_demo_main(int argc, char **argv);

/* `floe reconcile`: the demo's record-by-record check on any lake. */
int floe_reconcile_main(int argc, char **argv);

#endif
