/* firehose.h - entry point of `floe firehose`, the Firehose-compatible
 * delivery-stream server (see api.h, deliver.h, wal.h for the parts). */
#ifndef FLOE_FIREHOSE_FIREHOSE_H
#define FLOE_FIREHOSE_FIREHOSE_H

/* The 'floe' subcommand; argv[0] is the command name. Exit status. */
int floe_firehose_main(int argc, char **argv);

#endif
