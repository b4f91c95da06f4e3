/* test_agent_config.c - agent.json parsing: defaults, comments, numbers as
 * strings, conversions, and a table of invalid configs with the key each
 * error message must name. */
#include <string.h>

#include <unistd.h>

#include "agent/config.h"
#include "core/log.h"
#include "core/util.h"
#include "test.h"

static int parse(const char *text, struct floe_agent_conf *c, char *err)
{
    err[0] = '\0';
    return floe_agent_conf_parse(text, strlen(text), c, err);
}

static void test_full_config(void)
{
    const char *text =
        "// a Kinesis Agent config\n"
        "{\n"
        "  \"firehose.endpoint\": \"http://127.0.0.1:4573\", /* local */\n"
        "  \"kinesis.region\": \"eu-west-1\",\n"
        "  \"awsAccessKeyId\": \"AK\", \"awsSecretAccessKey\": \"S//x\",\n"
        "  \"checkpointFile\": \"/tmp/ck.db\",\n"
        "  \"checkpointTimeToLiveDays\": 3,\n"
        "  \"cloudwatch.emitMetrics\": false,\n"
        "  \"flows\": [\n"
        "    { \"filePattern\": \"/var/log/app/orders.log*\",\n"
        "      \"deliveryStream\": \"orders\" },\n"
        "    { \"filePattern\": \"/var/log/app/customers.log\",\n"
        "      \"deliveryStream\": \"customers\",\n"
        "      \"initialPosition\": \"START_OF_FILE\",\n"
        "      \"maxBufferAgeMillis\": \"5000\",\n"
        "      \"maxBufferSizeBytes\": 1048576,\n"
        "      \"maxBufferSizeRecords\": 100,\n"
        "      \"skipHeaderLines\": 1,\n"
        "      \"truncatedRecordTerminator\": \"...\\n\",\n"
        "      \"dataProcessingOptions\": [\n"
        "        { \"optionName\": \"SINGLELINE\" },\n"
        "        { \"optionName\": \"CSVTOJSON\", \"delimiter\": \"\\\\|\",\n"
        "          \"customFieldNames\": [\"id\", \"name\"] } ] } ] }\n";
    struct floe_agent_conf c;
    char err[FLOE_ERR_LEN];
    const struct floe_agent_flow *f;

    CHECK(parse(text, &c, err) == FLOE_OK);
    CHECK(c.endpoint && strcmp(c.endpoint, "http://127.0.0.1:4573") == 0);
    CHECK(c.region && strcmp(c.region, "eu-west-1") == 0);
    CHECK(c.secret_key && strcmp(c.secret_key, "S//x") == 0);
    CHECK(c.checkpoint_file && strcmp(c.checkpoint_file, "/tmp/ck.db") == 0);
    CHECK(c.checkpoint_ttl_days == 3);
    CHECK(c.warnings == 1); /* cloudwatch.emitMetrics */
    CHECK(c.nflows == 2);
    f = &c.flows[0];
    CHECK(strcmp(f->id, "fh:orders:/var/log/app/orders.log*") == 0);
    CHECK(f->initial_position == FLOE_AGENT_END_OF_FILE);
    CHECK(f->max_buffer_age_ms == 60000 && f->max_buffer_bytes == 4194304 &&
          f->max_buffer_records == 500 && f->skip_header_lines == 0);
    CHECK(strcmp(f->trunc_term, "\n") == 0 && f->conv.n == 0);
    f = &c.flows[1];
    CHECK(f->initial_position == FLOE_AGENT_START_OF_FILE);
    CHECK(f->max_buffer_age_ms == 5000 && f->max_buffer_bytes == 1048576 &&
          f->max_buffer_records == 100 && f->skip_header_lines == 1);
    CHECK(strcmp(f->trunc_term, "...\n") == 0 && f->trunc_term_len == 4);
    CHECK(f->conv.n == 2);
    CHECK(f->conv.steps[0].kind == FLOE_CONVERT_SINGLELINE);
    CHECK(f->conv.steps[1].kind == FLOE_CONVERT_CSVTOJSON);
    CHECK(f->conv.steps[1].delim == '|' && f->conv.steps[1].nfields == 2);
    floe_agent_conf_free(&c);
}

struct bad_case {
    const char *json;
    const char *must_mention;
};

static const struct bad_case bad[] = {
    { "not json", "not a JSON object" },
    { "{}", "flows" },
    { "{\"flows\": []}", "flows" },
    { "{\"flows\": [{\"deliveryStream\": \"s\"}]}", "filePattern" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\"}]}", "deliveryStream" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"kinesisStream\": \"k\"}]}",
      "kinesisStream" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"maxBufferSizeRecords\": 501}]}", "maxBufferSizeRecords" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"maxBufferSizeBytes\": 4194305}]}", "maxBufferSizeBytes" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"maxBufferAgeMillis\": 10}]}", "maxBufferAgeMillis" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"maxBufferAgeMillis\": \"soon\"}]}", "maxBufferAgeMillis" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"initialPosition\": \"MIDDLE\"}]}", "initialPosition" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"dataProcessingOptions\": [{\"optionName\": \"CSVTOJSON\"}]}]}",
      "customFieldNames" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"dataProcessingOptions\": [{\"optionName\": \"CSVTOJSON\", "
      "\"customFieldNames\": [\"a\"], \"delimiter\": \",+\"}]}]}",
      "delimiter" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"dataProcessingOptions\": [{\"optionName\": \"NOPE\"}]}]}", "NOPE" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"dataProcessingOptions\": [{\"optionName\": \"LOGTOJSON\"}]}]}",
      "LOGTOJSON" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\"},"
      "{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\"}]}",
      "same flow" },
    { "{\"firehose.endpoint\": true, \"flows\": []}", "firehose.endpoint" },
#define FLOW_OPT(o) "{\"flows\": [{\"filePattern\": \"/a/b\", " \
    "\"deliveryStream\": \"s\", \"dataProcessingOptions\": [" o "]}]}"
    { FLOW_OPT("{\"optionName\": \"LOGTOJSON\", \"logFormat\": \"NCSA\"}"),
      "logFormat" },
    { FLOW_OPT("{\"optionName\": \"LOGTOJSON\", \"logFormat\": \"SYSLOG\", "
               "\"matchPattern\": \"(a)\"}"), "customFieldNames" },
    { FLOW_OPT("{\"optionName\": \"LOGTOJSON\", \"logFormat\": \"SYSLOG\", "
               "\"matchPattern\": \"(a)(b)\", \"customFieldNames\": "
               "[\"x\"]}"), "capturing groups" },
    { FLOW_OPT("{\"optionName\": \"LOGTOJSON\", \"logFormat\": \"SYSLOG\", "
               "\"matchPattern\": \"[a&&b](b)\", \"customFieldNames\": "
               "[\"x\"]}"), "&&" },
    { FLOW_OPT("{\"optionName\": \"LOGTOJSON\", \"logFormat\": \"SYSLOG\", "
               "\"matchPattern\": \"(a)(b\", \"customFieldNames\": "
               "[\"x\", \"y\"]}"), "missing closing parenthesis at offset 5" },
    { FLOW_OPT("{\"optionName\": \"CSVTOJSON\", \"delimiter\": \"\xe9\", "
               "\"customFieldNames\": [\"x\"]}"), "ASCII" },
    { FLOW_OPT("{\"optionName\": \"LOGTOJSON\", \"logFormat\": \"SYSLOG\", "
               "\"jsonFormat\": \"PRETTYPRINT\"}"), "jsonFormat" },
    { FLOW_OPT("{\"optionName\": \"ADDMETADATA\", \"timestamp\": 1}"),
      "timestamp" },
    { FLOW_OPT("{\"optionName\": \"ADDMETADATA\", \"matchPattern\": \"a\"}"),
      "logFormat" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"multiLineStartPattern\": \"([a\"}]}", "multiLineStartPattern" },
    { "{\"flows\": [{\"filePattern\": \"/a/b\", \"deliveryStream\": \"s\", "
      "\"multiLineStartPattern\": \"(?U)\\\\w\"}]}", "(?U)" },
    { "{\"flows\": [{\"filePattern\": \"/var/*/x.log\", "
      "\"deliveryStream\": \"s\"}]}", "must be literal" },
    { "{\"flows\": [{\"filePattern\": \"/var/log/\", "
      "\"deliveryStream\": \"s\"}]}", "no file name" },
};

static void test_bad_configs(void)
{
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct floe_agent_conf c;
        char err[FLOE_ERR_LEN];
        int rc = parse(bad[i].json, &c, err);

        CHECK(rc != FLOE_OK);
        if (strstr(err, bad[i].must_mention) == NULL) {
            fprintf(stderr, "  case %zu: error '%s' does not mention %s\n",
                    i, err, bad[i].must_mention);
            CHECK(0);
        }
        CHECK(c.flows == NULL && c.nflows == 0); /* freed on error */
    }
}

static void test_log_options_chain(void)
{
    struct floe_agent_conf c;
    struct floe_buf out;
    char err[FLOE_ERR_LEN];

    CHECK(parse("{\"flows\": [{\"filePattern\": \"/a/b\", "
                "\"deliveryStream\": \"s\", "
                "\"multiLineStartPattern\": \"\\\\d{4}-\", "
                "\"dataProcessingOptions\": ["
                "{\"optionName\": \"SINGLELINE\"},"
                "{\"optionName\": \"LOGTOJSON\", \"logFormat\": \"SYSLOG\","
                " \"matchPattern\": \"(\\\\S+) (.*)\", "
                "\"customFieldNames\": [\"day\", \"msg\"]},"
                "{\"optionName\": \"ADDMETADATA\", \"timestamp\": \"false\","
                " \"metadata\": {\"env\": \"prod\", \"n\": [1, true]}}]}]}",
                &c, err) == FLOE_OK);
    CHECK(c.nflows == 1 && c.flows[0].conv.n == 3);
    CHECK(c.flows[0].start_re != NULL);
    CHECK(floe_jregex_match(c.flows[0].start_re, "2026-11-24 x", 12, NULL));
    CHECK(!floe_jregex_match(c.flows[0].start_re, "  at x", 6, NULL));
    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_convert_apply(&c.flows[0].conv, "2026-11-24 boom\n  at "
                             "f()\n", 25, &out) == FLOE_OK);
    CHECK(out.data && strcmp(out.data, "{\"metadata\":{\"env\":\"prod\","
                             "\"n\":[1,true]},\"data\":\"{\\\"day\\\":"
                             "\\\"2026-11-24\\\",\\\"msg\\\":\\\"boomat "
                             "f()\\\"}\"}\n") == 0);
    floe_buf_reset(&out);
    CHECK(floe_convert_apply(&c.flows[0].conv, "nospace\n", 8, &out) ==
          FLOE_ENOTFOUND && out.len == 0);
    floe_buf_free(&out);
    floe_agent_conf_free(&c);
}

static void test_unknown_keys_warn(void)
{
    struct floe_agent_conf c;
    char err[FLOE_ERR_LEN];

    CHECK(parse("{\"bogus\": 1, \"flows\": [{\"filePattern\": \"/a/b\", "
                "\"deliveryStream\": \"s\", \"whatever\": true, "
                "\"publishQueueCapacity\": 5}]}",
                &c, err) == FLOE_OK);
    CHECK(c.warnings == 3);
    floe_agent_conf_free(&c);
}

static void test_strip_comments_keeps_strings(void)
{
    struct floe_buf out;
    const char *in = "{\"a\": \"http://x/*y*/\" // c\n, /* b */ \"b\": 1}";

    floe_buf_init(&out, FLOE_BUF_UNLIMITED);
    CHECK(floe_agent_json_strip_comments(in, strlen(in), &out) == FLOE_OK);
    CHECK(strcmp(out.data, "{\"a\": \"http://x/*y*/\" \n,   \"b\": 1}") == 0);
    floe_buf_free(&out);
}

static void test_env_credentials(void)
{
    struct floe_agent_conf c;
    char err[FLOE_ERR_LEN];

    setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    setenv("AWS_SESSION_TOKEN", "TOK", 1);
    CHECK(parse("{\"flows\": [{\"filePattern\": \"b\", "
                "\"deliveryStream\": \"s\"}]}", &c, err) == FLOE_OK);
    CHECK(floe_agent_conf_env(&c) == FLOE_OK);
    CHECK(c.access_key && strcmp(c.access_key, "ENVAK") == 0);
    CHECK(c.session_token && strcmp(c.session_token, "TOK") == 0);
    floe_agent_conf_free(&c);
    /* Keys in the file win; no mixing with the environment. */
    CHECK(parse("{\"awsAccessKeyId\": \"F\", \"awsSecretAccessKey\": \"G\", "
                "\"flows\": [{\"filePattern\": \"b\", "
                "\"deliveryStream\": \"s\"}]}", &c, err) == FLOE_OK);
    CHECK(floe_agent_conf_env(&c) == FLOE_OK);
    CHECK(strcmp(c.access_key, "F") == 0 && c.session_token == NULL);
    floe_agent_conf_free(&c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
}

/* A filePattern floe can use but that is likely a mistake gets words,
 * at load time (so `floe config --check` says them too). */
static void test_file_pattern_warnings(void)
{
    char tmp[256], path[512], warn[FLOE_ERR_LEN], cwd[256];
    FILE *f;

    CHECK(test_tmpdir(tmp, sizeof(tmp)) != NULL);
    snprintf(path, sizeof(path), "%s/app.log*", tmp);
    CHECK(!floe_agent_conf_path_warning(path, warn) && warn[0] == '\0');
    snprintf(path, sizeof(path), "%s/nope/app.log", tmp);
    CHECK(floe_agent_conf_path_warning(path, warn));
    CHECK(strstr(warn, "/nope does not exist (yet)") != NULL);
    CHECK(strstr(warn, "relative") == NULL);
    snprintf(path, sizeof(path), "%s/file", tmp);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL)
        fclose(f);
    snprintf(path, sizeof(path), "%s/file/app.log", tmp);
    CHECK(floe_agent_conf_path_warning(path, warn) &&
          strstr(warn, "is not a directory") != NULL);
    /* Relative: said with the directory it resolves against. */
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(chdir(tmp) == 0);
    CHECK(floe_agent_conf_path_warning("app.log", warn));
    CHECK(strstr(warn, "'app.log' is relative") && strstr(warn, tmp) &&
          strstr(warn, "absolute") && !strstr(warn, "does not exist"));
    CHECK(floe_agent_conf_path_warning("logs/app.log", warn));
    CHECK(strstr(warn, "relative") && strstr(warn, "logs does not exist"));
    CHECK(chdir(cwd) == 0);
    floe_rmtree(tmp);
}

static void quiet(void)
{
    floe_log_level = FLOE_LOG_ERROR; /* the warnings are expected */
}

/* Jackson coerces a number where a string belongs (a stream named 2024,
 * unquoted in floe.yaml); a boolean stays an error. */
static void test_number_as_string(void)
{
    struct floe_agent_conf c;
    char err[FLOE_ERR_LEN];

    CHECK(parse("{\"flows\": [{\"filePattern\": \"/a/b\", "
                "\"deliveryStream\": 2024}]}", &c, err) == FLOE_OK);
    CHECK(c.nflows == 1 && strcmp(c.flows[0].stream, "2024") == 0);
    floe_agent_conf_free(&c);
    CHECK(parse("{\"flows\": [{\"filePattern\": \"/a/b\", "
                "\"deliveryStream\": 1.5}]}", &c, err) == FLOE_OK);
    CHECK(c.nflows == 1 && strcmp(c.flows[0].stream, "1.5") == 0);
    floe_agent_conf_free(&c);
    CHECK(parse("{\"flows\": [{\"filePattern\": \"/a/b\", "
                "\"deliveryStream\": false}]}", &c, err) == FLOE_EINVAL);
}

/* Found by tests/fuzz/fuzz_agent_json (UBSan): a string option given as
 * a number beyond long long (filePattern: 3e42) was cast before any range
 * check, which is undefined (this test aborts under the ASan/UBSan
 * build before the fix). Numbers are taken as their text. */
static void test_huge_number_as_string(void)
{
    struct floe_agent_conf c;
    char err[FLOE_ERR_LEN];

    CHECK(parse("{\"flows\": [{\"filePattern\": 3e42, \"deliveryStream\": "
                "-9223372036854775808}]}", &c, err) == FLOE_OK);
    CHECK(c.nflows == 1 && strchr(c.flows[0].file_pattern, 'e') != NULL);
    CHECK(strcmp(c.flows[0].stream, "-9223372036854775808") == 0);
    floe_agent_conf_free(&c);
    CHECK(parse("{\"flows\": [{\"filePattern\": \"/a\", \"deliveryStream\": "
                "9223372036854775808}]}", &c, err) == FLOE_OK);
    CHECK(strcmp(c.flows[0].stream, "9.2233720368547758e+18") == 0);
    floe_agent_conf_free(&c);
}

FLOE_TESTS({ "quiet", quiet }, { "full_config", test_full_config },
           { "huge_number_as_string", test_huge_number_as_string },
           { "bad_configs", test_bad_configs },
           { "log_options_chain", test_log_options_chain },
           { "unknown_keys_warn", test_unknown_keys_warn },
           { "strip_comments_keeps_strings",
             test_strip_comments_keeps_strings },
           { "env_credentials", test_env_credentials },
           { "file_pattern_warnings", test_file_pattern_warnings },
           { "number_as_string", test_number_as_string });
