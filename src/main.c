/* main.c - the floe command: dispatch to each part's entry point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "core/log.h"
#include "demo/demo.h"
#include "firehose/firehose.h"
#include "gen/gen.h"
#include "orchestrator/orchestrator.h"

struct command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "demo", floe_demo_main,
      "Run the whole pipeline on this machine and reconcile it." },
    { "emit", floe_emit_main,
      "Write customers.log and orders.log with realistic faults." },
    { "agent", floe_agent_main,
      "Tail log files and send them to a Firehose endpoint." },
    { "firehose", floe_firehose_main,
      "Serve the Kinesis Data Firehose API; deliver to the landing zone." },
    { "run", floe_run_main,
      "Run the landing_to_processed DAG (built-in scheduler)." },
    { "task", floe_task_main,
      "Run one DAG task for one batch (what Airflow calls)." },
    { NULL, NULL, NULL },
};

static void usage(FILE *out)
{
    const struct command *c;

    fprintf(out,
            "Usage: floe [--log-level LEVEL] <command> [options]\n\n"
            "Floe carries application logs, nothing lost and nothing "
            "doubled, from log\nfiles through a Firehose-compatible "
            "delivery stream and an object store\n(landing -> processing "
            "-> processed) to deduplicated, typed Parquet tables.\n\n"
            "Commands:\n");
    for (c = commands; c->name != NULL; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out,
            "  %-10s %s\n\n"
            "Global options:\n"
            "  --log-level LEVEL  error, warn, info or debug (default info; "
            "also FLOE_LOG_LEVEL)\n"
            "  -h, --help         Show this help; 'floe <command> --help' "
            "shows a command's options.\n"
            "  --version          Print the version.\n\n"
            "Start with 'floe demo': it emits logs, runs firehose and agent, "
            "runs the DAG\nand prints a reconciliation (lost = 0, doubled = "
            "0).\n",
            "version", "Print the version.");
}

static int set_level(const char *name)
{
    int lvl = floe_log_parse_level(name);

    if (lvl < 0) {
        fprintf(stderr, "floe: unknown log level '%s' (use error, warn, "
                        "info or debug)\n", name);
        return -1;
    }
    floe_log_level = lvl;
    return 0;
}

int main(int argc, char **argv)
{
    const struct command *c;
    const char *env = getenv("FLOE_LOG_LEVEL");
    int i = 1;

    if (env != NULL && set_level(env) != 0)
        return 2;
    while (i < argc && strncmp(argv[i], "--log-level", 11) == 0) {
        const char *v = argv[i][11] == '=' ? argv[i] + 12
                        : i + 1 < argc    ? argv[++i]
                                          : "";
        if (set_level(v) != 0)
            return 2;
        i++;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
        strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "version") == 0) {
        printf("floe %s\n", FLOE_VERSION);
        return 0;
    }
    for (c = commands; c->name != NULL; c++)
        if (strcmp(argv[i], c->name) == 0)
            return c->main(argc - i, argv + i);
    fprintf(stderr, "floe: unknown command '%s' (see 'floe --help')\n",
            argv[i]);
    return 2;
}
