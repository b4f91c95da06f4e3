/* test_config.c - floe.yaml: parse errors with file:line:column, the tree
 * (scalars, nulls, nested mappings, sequences of mappings), and the way
 * floe_opt_parse() layers defaults < YAML < environment < argv. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/opt.h"
#include "core/util.h"
#include "test.h"

static struct floe_config *parse(const char *text, char *err)
{
    struct floe_config *doc = NULL;

    err[0] = '\0';
    if (floe_config_parse("t.yaml", text, strlen(text), &doc, err) != FLOE_OK)
        return NULL;
    return doc;
}

static void test_parse_errors_name_line_and_column(void)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        { "a:\n  x: 1\n  x: 2\n",
          "t.yaml:3:3: duplicate key 'x' (first at line 2)" },
        { "a:\n\tx: 1\n", "t.yaml:2:1: tab character in indentation" },
        { "a:\n  - \tx\n", "t.yaml:2:5: tab character" },
        { "- 1\n- 2\n", "t.yaml:1:1: the top level must be a mapping" },
        { "just text\n", "t.yaml:1:1: the top level must be a mapping" },
        { "a: &x 1\nb: *x\n", "t.yaml:2:4: aliases" },
        { "a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document" },
        { "? [k]\n: 1\n", "t.yaml:1:3: a key must be plain text" },
        { "a: [1, 2\nb: 3\n", "t.yaml:" },
        { "a: \"open\n", "while scanning a quoted scalar" },
        { "a:\n  b: 1\n c: 2\n", "t.yaml:3:2:" },
        { "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"
          "]]]]]]]]]]]]]]]]]]]]\n", "nested too deeply" },
    };
    char err[FLOE_ERR_LEN];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_config *doc = parse(cases[i].yaml, err);

        CHECK(doc == NULL);
        if (strstr(err, cases[i].want) == NULL) {
            fprintf(stderr, "  case %zu: got '%s', want '%s'\n", i, err,
                    cases[i].want);
            CHECK(!"error text");
        }
        floe_config_free(doc);
    }
}

static void test_empty_documents_are_empty_mappings(void)
{
    static const char *texts[] = { "", "# only a comment\n", "---\n", "~\n" };
    char err[FLOE_ERR_LEN];
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct floe_config *doc = parse(texts[i], err);

        CHECK(doc != NULL);
        CHECK(floe_config_root(doc) != NULL);
        CHECK(floe_config_section(doc, "firehose") == NULL);
        floe_config_free(doc);
    }
}

static void test_scalars_nulls_and_nested_sections(void)
{
    static const char *text =
        "# comment\n"
        "firehose:\n"
        "  port: 4573\n"
        "  bind: \"127.0.0.1\"\n"
        "  empty:\n"
        "  tilde: ~\n"
        "  quoted_null: 'null'\n"
        "  nested:\n"
        "    deeper: yes\n"
        "  list: [1, 2]\n"
        "run:\n"
        "  once: true\n";
    char err[FLOE_ERR_LEN];
    struct floe_config *doc = parse(text, err);
    const struct floe_config_map *fh, *nested;

    CHECK(doc != NULL);
    if (doc == NULL)
        return;
    CHECK(strcmp(floe_config_path(doc), "t.yaml") == 0);
    fh = floe_config_section(doc, "firehose");
    CHECK(fh != NULL);
    CHECK(strcmp(floe_config_where(fh), "t.yaml:3") == 0);
    CHECK(strcmp(floe_config_get(fh, "port"), "4573") == 0);
    CHECK(strcmp(floe_config_get(fh, "bind"), "127.0.0.1") == 0);
    CHECK(floe_config_kind(fh, "empty") == FLOE_CONFIG_NULL);
    CHECK(floe_config_get(fh, "empty") == NULL);
    CHECK(floe_config_kind(fh, "tilde") == FLOE_CONFIG_NULL);
    CHECK(floe_config_kind(fh, "quoted_null") == FLOE_CONFIG_SCALAR);
    CHECK(strcmp(floe_config_get(fh, "quoted_null"), "null") == 0);
    CHECK(floe_config_kind(fh, "nested") == FLOE_CONFIG_MAP);
    CHECK(floe_config_get(fh, "nested") == NULL); /* not a scalar */
    nested = floe_config_child(fh, "nested");
    CHECK(nested != NULL && strcmp(floe_config_get(nested, "deeper"),
                                   "yes") == 0);
    CHECK(floe_config_kind(fh, "list") == FLOE_CONFIG_SEQ);
    CHECK(floe_config_kind(fh, "missing") == FLOE_CONFIG_ABSENT);
    CHECK(floe_config_line(fh, "bind") == 4);
    CHECK(floe_config_line(fh, "missing") == 0);
    CHECK(strcmp(floe_config_file(fh), "t.yaml") == 0);
    CHECK(strcmp(floe_config_get(floe_config_section(doc, "run"), "once"),
                 "true") == 0);
    CHECK(floe_config_section(doc, "agent") == NULL);
    CHECK(floe_config_get(NULL, "x") == NULL);
    floe_config_free(doc);
}

struct collect {
    char text[256];
    int calls, stop_at;
};

static int collect_item(const struct floe_config_map *item, void *ud)
{
    struct collect *c = ud;
    size_t n = strlen(c->text);

    c->calls++;
    snprintf(c->text + n, sizeof(c->text) - n, "%s=%s@%s;",
             floe_config_get(item, "name"), floe_config_get(item, "prefix"),
             floe_config_where(item));
    return c->calls == c->stop_at ? 42 : 0;
}

static int collect_key(const char *key, void *ud)
{
    struct collect *c = ud;
    size_t n = strlen(c->text);

    snprintf(c->text + n, sizeof(c->text) - n, "%s,", key);
    return 0;
}

static void test_sequences_of_mappings(void)
{
    static const char *text =
        "firehose:\n"
        "  streams:\n"
        "    - name: orders\n"
        "      prefix: orders/\n"
        "    - name: customers\n"
        "      prefix: customers/\n"
        "  none:\n"
        "  scalar: 3\n"
        "  mixed:\n"
        "    - name: a\n"
        "    - plain\n";
    char err[FLOE_ERR_LEN];
    struct floe_config *doc = parse(text, err);
    const struct floe_config_map *fh;
    struct collect c;

    CHECK(doc != NULL);
    if (doc == NULL)
        return;
    fh = floe_config_section(doc, "firehose");
    memset(&c, 0, sizeof(c));
    CHECK(floe_config_each(fh, "streams", collect_item, &c, err) == FLOE_OK);
    CHECK(strcmp(c.text, "orders=orders/@t.yaml:3;"
                         "customers=customers/@t.yaml:5;") == 0);
    memset(&c, 0, sizeof(c));
    c.stop_at = 1; /* a non-zero return stops and is returned */
    CHECK(floe_config_each(fh, "streams", collect_item, &c, err) == 42);
    CHECK(c.calls == 1);
    memset(&c, 0, sizeof(c));
    CHECK(floe_config_each(fh, "absent", collect_item, &c, err) == FLOE_OK);
    CHECK(floe_config_each(fh, "none", collect_item, &c, err) == FLOE_OK);
    CHECK(c.calls == 0);
    CHECK(floe_config_each(fh, "scalar", collect_item, &c, err) ==
          FLOE_EINVAL);
    CHECK(strstr(err, "t.yaml:8: 'scalar' must be a list") != NULL);
    CHECK(floe_config_each(fh, "mixed", collect_item, &c, err) ==
          FLOE_EINVAL);
    CHECK(strstr(err, "t.yaml:11: item 2 of 'mixed'") != NULL);
    CHECK(c.calls == 0); /* a bad list calls nothing */
    memset(&c, 0, sizeof(c));
    CHECK(floe_config_keys(fh, collect_key, &c) == FLOE_OK);
    CHECK(strcmp(c.text, "streams,none,scalar,mixed,") == 0);
    floe_config_free(doc);
}

/* --- floe_opt_parse with a current document ---------------------------- */

struct tcfg {
    int64_t port;
    int64_t max_bytes;
    int64_t wait_ms;
    bool flag;
    double ratio;
    char *name;
};

#define F(m) offsetof(struct tcfg, m)
static const struct floe_opt topts[] = {
    { "port", FLOE_OPT_INT, "1", F(port), 0, 65535, 0, "Port." },
    { "max-bytes", FLOE_OPT_SIZE, "1K", F(max_bytes), 0, 1 << 20, 0, "B." },
    { "wait", FLOE_OPT_MS, "1s", F(wait_ms), 0, 60000, 0, "Wait." },
    { "flag", FLOE_OPT_BOOL, "false", F(flag), 0, 0, 0, "Flag." },
    { "ratio", FLOE_OPT_DOUBLE, "0.5", F(ratio), 0, 1, 0, "Ratio." },
    { "name", FLOE_OPT_STR, "dflt", F(name), 0, 0, 0, "Name." },
    { NULL, 0, NULL, 0, 0, 0, 0, NULL },
};
#undef F
static const char *const tkeys[] = { "streams", NULL };
static const struct floe_cmd tcmd = { "cfgtest", "floe cfgtest", "Test.",
                                      topts, NULL, tkeys };
/* A command's own check: port 13 is refused beyond its table's bounds. */
static int tcheck(const void *cfg, char *err)
{
    const struct tcfg *c = cfg;

    return c->port == 13 ? floe_err(err, FLOE_EINVAL, "port 13 is unlucky")
                         : FLOE_OK;
}
static const struct floe_cmd tcmd_checked = { "cfgtest", "floe cfgtest",
                                              "Test.", topts, NULL, tkeys,
                                              tcheck };
static const struct floe_cmd tcmd_nokeys = { "cfgtest", "floe cfgtest",
                                             "Test.", topts, NULL };

static void set_doc(const char *text)
{
    char err[FLOE_ERR_LEN];
    struct floe_config *doc = text ? parse(text, err) : NULL;

    CHECK(text == NULL || doc != NULL);
    floe_config_set_current(doc); /* frees the previous one */
}

static int run_parse(const struct floe_cmd *cmd, struct tcfg *c, int argc,
                     char **argv, char *err)
{
    int next;

    memset(c, 0, sizeof(*c));
    err[0] = '\0';
    return floe_opt_parse(cmd, c, argc, argv, &next, err);
}

static void test_precedence_defaults_yaml_env_argv(void)
{
    static const struct {
        const char *yaml, *env, *arg;
        int64_t port;
    } cases[] = {
        { NULL, NULL, NULL, 1 },
        { "cfgtest:\n  port: 2\n", NULL, NULL, 2 },
        { "cfgtest:\n  port: 2\n", "3", NULL, 3 },
        { "cfgtest:\n  port: 2\n", "3", "--port=4", 4 },
        { "cfgtest:\n  port: 2\n", NULL, "--port=4", 4 },
        { NULL, "3", NULL, 3 },
        { "other:\n  port: 9\n", NULL, NULL, 1 }, /* another section */
        { "cfgtest:\n", NULL, NULL, 1 },          /* empty section */
    };
    char err[FLOE_ERR_LEN];
    struct tcfg c;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[] = { (char *)"cfgtest", (char *)cases[i].arg, NULL };

        set_doc(cases[i].yaml);
        if (cases[i].env != NULL)
            setenv("FLOE_CFGTEST_PORT", cases[i].env, 1);
        else
            unsetenv("FLOE_CFGTEST_PORT");
        CHECK(run_parse(&tcmd, &c, cases[i].arg ? 2 : 1, argv, err) ==
              FLOE_OK);
        if (c.port != cases[i].port) {
            fprintf(stderr, "  case %zu: port %lld, want %lld (%s)\n", i,
                    (long long)c.port, (long long)cases[i].port, err);
            CHECK(!"precedence");
        }
        floe_opt_free(topts, &c);
    }
    unsetenv("FLOE_CFGTEST_PORT");
    set_doc(NULL);
}

static void test_yaml_values_use_option_parsers(void)
{
    char err[FLOE_ERR_LEN];
    struct tcfg c;
    char *argv[] = { (char *)"cfgtest", NULL };

    set_doc("cfgtest:\n"
            "  max_bytes: 4K\n" /* '_' spelling */
            "  wait: 250ms\n"
            "  flag: yes\n"
            "  ratio: 0.25\n"
            "  name: \"Smith, Jane\"\n"
            "  streams:\n" /* structured: read by the command */
            "    - name: orders\n");
    CHECK(run_parse(&tcmd, &c, 1, argv, err) == FLOE_OK);
    CHECK(c.max_bytes == 4096);
    CHECK(c.wait_ms == 250);
    CHECK(c.flag == true);
    CHECK(c.ratio == 0.25);
    CHECK(c.name != NULL && strcmp(c.name, "Smith, Jane") == 0);
    CHECK(c.port == 1);
    floe_opt_free(topts, &c);

    set_doc("cfgtest:\n  name:\n"); /* null unsets a text option */
    CHECK(run_parse(&tcmd, &c, 1, argv, err) == FLOE_OK);
    CHECK(c.name == NULL);
    floe_opt_free(topts, &c);
    set_doc(NULL);
}

static void test_yaml_errors_name_file_and_line(void)
{
    static const struct {
        const struct floe_cmd *cmd;
        const char *yaml, *want;
    } cases[] = {
        { &tcmd, "cfgtest:\n  port: 2\n  prot: 3\n",
          "t.yaml:3: unknown key 'prot' in section 'cfgtest' (see 'floe "
          "cfgtest --help')" },
        { &tcmd_nokeys, "cfgtest:\n  streams: []\n",
          "t.yaml:2: unknown key 'streams' in section 'cfgtest'" },
        { &tcmd, "cfgtest:\n  port: 70000\n",
          "t.yaml:2: cfgtest.port: 70000 is out of range [0, 65535]" },
        { &tcmd, "cfgtest:\n\n  max-bytes: 2M\n",
          "t.yaml:3: cfgtest.max-bytes: 2M is out of range" },
        { &tcmd, "cfgtest:\n  ratio: 1.5\n", "t.yaml:2: cfgtest.ratio: 1.5 "
                                             "is out of range" },
        { &tcmd, "cfgtest:\n  port: abc\n",
          "t.yaml:2: cfgtest.port: 'abc' is not a valid number" },
        { &tcmd, "cfgtest:\n  wait: soon\n", "is not a valid duration" },
        { &tcmd, "cfgtest:\n  flag: maybe\n",
          "t.yaml:2: cfgtest.flag: 'maybe' is not a boolean" },
        { &tcmd, "cfgtest:\n  port: [1, 2]\n",
          "t.yaml:2: cfgtest.port: must be a single value, not a list" },
        { &tcmd, "cfgtest:\n  name:\n    a: 1\n",
          "t.yaml:2: cfgtest.name: must be a single value" },
        { &tcmd, "cfgtest:\n  port:\n", "t.yaml:2: cfgtest.port: has no "
                                        "value" },
        { &tcmd, "cfgtest:\n  max-bytes: 1K\n  max_bytes: 2K\n",
          "t.yaml:3: 'max_bytes' sets option 'max-bytes' again (already set "
          "at line 2)" },
        { &tcmd, "x: 1\ncfgtest: 5\n",
          "t.yaml:2: section 'cfgtest' must be a mapping" },
        { &tcmd, "cfgtest:\n  - port: 1\n", "t.yaml:1: section 'cfgtest' "
                                            "must be a mapping" },
    };
    char err[FLOE_ERR_LEN];
    struct tcfg c;
    size_t i;
    char *argv[] = { (char *)"cfgtest", NULL };

    unsetenv("FLOE_CFGTEST_PORT");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        set_doc(cases[i].yaml);
        CHECK(run_parse(cases[i].cmd, &c, 1, argv, err) == FLOE_EINVAL);
        if (strstr(err, cases[i].want) == NULL) {
            fprintf(stderr, "  case %zu: got '%s', want '%s'\n", i, err,
                    cases[i].want);
            CHECK(!"error text");
        }
        floe_opt_free(topts, &c);
    }
    set_doc(NULL);
}

static void test_config_check_and_doc_modes(void)
{
    char err[FLOE_ERR_LEN], *text = NULL;
    struct tcfg c;
    char *check[] = { (char *)"cfgtest", (char *)"--config-check", NULL };
    size_t len = 0;
    FILE *mem;

    /* --config-check validates the section only: a bad environment value
     * does not fail a file check, a bad file does. */
    setenv("FLOE_CFGTEST_PORT", "not-a-port", 1);
    set_doc("cfgtest:\n  port: 7\n");
    CHECK(run_parse(&tcmd, &c, 2, check, err) == FLOE_EHELP);
    CHECK(c.port == 7);
    floe_opt_free(topts, &c);
    set_doc("cfgtest:\n  port: -1\n");
    CHECK(run_parse(&tcmd, &c, 2, check, err) == FLOE_EINVAL);
    CHECK(strstr(err, "t.yaml:2: cfgtest.port") != NULL);
    floe_opt_free(topts, &c);
    unsetenv("FLOE_CFGTEST_PORT");
    /* cmd->check runs after the options, in check mode only */
    set_doc("cfgtest:\n  port: 13\n");
    CHECK(run_parse(&tcmd_checked, &c, 2, check, err) == FLOE_EINVAL);
    CHECK(strstr(err, "unlucky") != NULL);
    floe_opt_free(topts, &c);
    CHECK(run_parse(&tcmd, &c, 2, check, err) == FLOE_EHELP);
    floe_opt_free(topts, &c);
    set_doc(NULL);

    mem = open_memstream(&text, &len);
    CHECK(mem != NULL);
    if (mem == NULL)
        return;
    floe_opt_doc(&tcmd, mem);
    fclose(mem);
    CHECK(strncmp(text, "cfgtest:\n", 9) == 0);
    CHECK(strstr(text, "  port:\n    type: integer\n    default: \"1\"\n"
                       "    min: 0\n    max: 65535\n"
                       "    env: FLOE_CFGTEST_PORT\n    flag: --port\n"
                       "    doc: \"Port.\"\n") != NULL);
    CHECK(strstr(text, "  max-bytes:\n    type: size\n") != NULL);
    CHECK(strstr(text, "  streams:\n    type: structured\n") != NULL);
    free(text);
}

static void test_load_from_file(void)
{
    char dir[256], path[512], err[FLOE_ERR_LEN];
    struct floe_config *doc = NULL;
    static const char text[] = "firehose:\n  port: 4600\n";

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(path, sizeof(path), "%s/floe.yaml", dir);
    CHECK(floe_config_load(path, &doc, err) == FLOE_ENOTFOUND);
    CHECK(strstr(err, "floe.yaml: no such file") != NULL);
    CHECK(doc == NULL);
    CHECK(floe_write_file_atomic(path, text, sizeof(text) - 1) == FLOE_OK);
    CHECK(floe_config_load(path, &doc, err) == FLOE_OK);
    CHECK(doc != NULL && strcmp(floe_config_path(doc), path) == 0);
    CHECK(strcmp(floe_config_get(floe_config_section(doc, "firehose"),
                                 "port"), "4600") == 0);
    floe_config_set_current(doc);
    CHECK(floe_config_current() == doc);
    floe_config_set_current(NULL);
    CHECK(floe_config_current() == NULL);
    floe_rmtree(dir);
}

/* floe_config_json: a subtree as JSON, typed as YAML 1.2's core schema
 * reads plain scalars; quoted scalars always stay strings. */
static void test_subtree_as_json(void)
{
    static const struct {
        const char *yaml, *json;
    } cases[] = {
        { "v: 12", "12" },
        { "v: -0.5e3", "-0.5e3" },
        { "v: '12'", "\"12\"" },
        { "v: \"true\"", "\"true\"" },
        { "v: true", "true" },
        { "v: True", "\"True\"" }, /* 1.2 core: only lower case */
        { "v: +1", "\"+1\"" },
        { "v: .5", "\".5\"" },
        { "v: 0x1f", "\"0x1f\"" },
        { "v: 012", "\"012\"" },
        { "v: -inf", "\"-inf\"" },
        { "v: 1.", "\"1.\"" },
        { "v: ~", "null" },
        { "w: 1", "null" },
        { "v: a \"b\" \\ caf\u00e9", "\"a \\\"b\\\" \\\\ caf\u00e9\"" },
        { "v:\n  - {a: 1, b: [x, '2']}\n  - c: |\n      two\n      lines\n",
          "[{\"a\":1,\"b\":[\"x\",\"2\"]},{\"c\":\"two\\nlines\\n\"}]" },
    };
    char err[FLOE_ERR_LEN];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct floe_config *doc = parse(cases[i].yaml, err);
        struct floe_buf b;

        CHECK(doc != NULL);
        if (doc == NULL)
            continue;
        floe_buf_init(&b, FLOE_BUF_UNLIMITED);
        CHECK(floe_config_json(floe_config_root(doc), "v", &b) == FLOE_OK);
        if (b.data == NULL || strcmp(b.data, cases[i].json) != 0) {
            fprintf(stderr, "  case %zu: got %s, want %s\n", i,
                    b.data ? b.data : "(nothing)", cases[i].json);
            CHECK(false);
        }
        floe_buf_free(&b);
        floe_config_free(doc);
    }
}

/* 100,000 keys: every one found with its value and line, keys() keeps
 * file order, and one key written again is refused naming both lines. */
static void test_many_keys_lookup_and_duplicate(void)
{
    enum { N = 100000 };
    struct floe_config *doc;
    const struct floe_config_map *m;
    struct floe_buf y;
    char err[FLOE_ERR_LEN], key[32], val[32];
    size_t i;
    int bad = 0;

    floe_buf_init(&y, FLOE_BUF_UNLIMITED);
    CHECK(floe_buf_adds(&y, "big:\n") == FLOE_OK);
    for (i = 0; i < N; i++) /* not in sorted order */
        CHECK(floe_buf_addf(&y, "  k%zu: v%zu\n", (i * 7919) % N, i) ==
              FLOE_OK);
    doc = parse(y.data, err);
    CHECK(doc != NULL);
    m = floe_config_section(doc, "big");
    for (i = 0; i < N && m != NULL; i++) {
        const char *v;

        snprintf(key, sizeof(key), "k%zu", (i * 7919) % N);
        snprintf(val, sizeof(val), "v%zu", i);
        v = floe_config_get(m, key);
        if (v == NULL || strcmp(v, val) != 0 ||
            floe_config_line(m, key) != (int)i + 2)
            bad++;
    }
    CHECK(bad == 0);
    CHECK(floe_config_get(m, "k100000") == NULL);
    CHECK(floe_config_get(m, "") == NULL);
    floe_config_free(doc);
    /* line 77,782 repeats the key of line 2 (k0) */
    floe_buf_reset(&y);
    CHECK(floe_buf_adds(&y, "big:\n") == FLOE_OK);
    for (i = 0; i < N; i++)
        CHECK(floe_buf_addf(&y, "  k%zu: 1\n", i == 77780 ? 0 : i) ==
              FLOE_OK);
    doc = parse(y.data, err);
    CHECK(doc == NULL);
    CHECK(strstr(err, "t.yaml:77782:3: duplicate key 'k0' (first at line 2)"
                 ) != NULL || (fprintf(stderr, "  got '%s'\n", err), 0));
    floe_buf_free(&y);
}

FLOE_TESTS({ "parse_errors", test_parse_errors_name_line_and_column },
           { "many_keys", test_many_keys_lookup_and_duplicate },
           { "empty_documents", test_empty_documents_are_empty_mappings },
           { "scalars_nested", test_scalars_nulls_and_nested_sections },
           { "sequences", test_sequences_of_mappings },
           { "precedence", test_precedence_defaults_yaml_env_argv },
           { "yaml_values", test_yaml_values_use_option_parsers },
           { "yaml_errors", test_yaml_errors_name_file_and_line },
           { "check_and_doc", test_config_check_and_doc_modes },
           { "load_file", test_load_from_file },
           { "subtree_json", test_subtree_as_json });
