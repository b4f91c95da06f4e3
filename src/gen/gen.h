/* gen.h - entry point of this part (stub until it lands). */
#ifndef FLOE_GEN_GEN_H
#define FLOE_GEN_GEN_H

/* The 'floe' subcommand; argv[0] is the command name. Exit status. */
int floe_emit_main(int argc, char **argv);

#endif
