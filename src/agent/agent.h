/* agent.h - `floe agent`: a Kinesis-Agent-compatible log tailer that
 * reads an agent.json, tails the files of each flow, converts lines,
 * batches them into PutRecordBatch calls to any Firehose endpoint and
 * checkpoints only what was acknowledged. */
#ifndef FLOE_AGENT_AGENT_H
#define FLOE_AGENT_AGENT_H

/* The 'floe agent' subcommand; argv[0] is the command name. Exit status:
 * 0 done (or stopped by a signal), 1 runtime failure, 2 bad usage or
 * configuration. */
int floe_agent_main(int argc, char **argv);

#endif
