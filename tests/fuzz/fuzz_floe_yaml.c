/* fuzz_floe_yaml.c - floe.yaml (core/config.h) as `floe config --check`
 * reads it: the YAML document, every section as JSON (how parts hand a
 * subtree to their native readers), then each command's own --config-check
 * (option tables, firehose streams as CreateDeliveryStream checks them,
 * agent flows as agent.json). Oracles: a clear error or a document, never
 * a crash or leak; the JSON form of any section is valid JSON. The
 * document is the process-wide current one only during the run. */
#include <cjson/cJSON.h>

#include "agent/agent.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "demo/demo.h"
#include "firehose/firehose.h"
#include "fuzz.h"
#include "gen/gen.h"
#include "orchestrator/orchestrator.h"

static const struct {
    const char *name;
    int (*main)(int argc, char **argv);
} commands[] = {
    { "firehose", floe_firehose_main }, { "agent", floe_agent_main },
    { "run", floe_run_main },           { "task", floe_task_main },
    { "emit", floe_emit_main },         { "demo", floe_demo_main },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

static int section_json(const char *key, void *ud)
{
    const struct floe_config_map *root = ud;
    struct floe_buf out;
    cJSON *j;

    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    FUZZ_CHECK(floe_config_json(root, key, &out) == FLOE_OK);
    j = cJSON_ParseWithLength(out.data, out.len);
    if (j == NULL)
        fprintf(stderr, "section %s: not JSON: %s\n", key, out.data);
    FUZZ_CHECK(j != NULL);
    cJSON_Delete(j);
    floe_buf_free(&out);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct floe_config *doc = NULL;
    const struct floe_config_map *root;
    char err[FLOE_ERR_LEN];
    size_t i;

    err[0] = '\0';
    if (floe_config_parse("fuzz.yaml", (const char *)data, size, &doc, err) !=
        FLOE_OK) {
        FUZZ_CHECK(doc == NULL && strncmp(err, "fuzz.yaml", 9) == 0);
        return 0;
    }
    root = floe_config_root(doc);
    FUZZ_CHECK(root != NULL);
    floe_config_keys(root, section_json, (void *)root);
    floe_config_set_current(doc); /* takes it */
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char *args[] = { (char *)commands[i].name, (char *)"--config-check",
                         NULL };

        if (floe_config_kind(root, commands[i].name) != FLOE_CONFIG_ABSENT)
            commands[i].main(2, args);
    }
    floe_config_set_current(NULL); /* frees it */
    return 0;
}
