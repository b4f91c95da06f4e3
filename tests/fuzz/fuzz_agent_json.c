/* fuzz_agent_json.c - the Kinesis Agent agent.json reader
 * (agent/config.h): Jackson-style comments and string numbers, flows with
 * their dataProcessingOptions (CSVTOJSON, LOGTOJSON with custom regexes,
 * multiLineStartPattern...). Oracles: parse or a clear error, never a
 * crash or leak; on error the configuration is left zeroed; a parsed
 * configuration has what every flow needs. */
#include "agent/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct floe_agent_conf conf;
    struct floe_buf stripped;
    char err[FLOE_ERR_LEN];
    size_t i;

    floe_buf_init(&stripped, FLOE_BUF_UNLIMITED);
    if (floe_agent_json_strip_comments((const char *)data, size, &stripped) ==
        FLOE_OK)
        FUZZ_CHECK(stripped.len <= size);
    floe_buf_free(&stripped);

    memset(&conf, 0, sizeof(conf));
    err[0] = '\0';
    if (floe_agent_conf_parse((const char *)data, size, &conf, err) ==
        FLOE_OK) {
        for (i = 0; i < conf.nflows; i++) {
            FUZZ_CHECK(conf.flows[i].file_pattern != NULL);
            FUZZ_CHECK(conf.flows[i].stream != NULL);
        }
    } else {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(conf.flows == NULL && conf.nflows == 0);
    }
    floe_agent_conf_free(&conf);
    return 0;
}
