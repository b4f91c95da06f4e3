/* opt.c - option tables: defaults, floe.yaml section, environment,
 * command line (in that order, later wins), help and the YAML reference.
 * Every source goes through set_one(), so parsing and bounds are the same
 * wherever a value comes from; messages name the source. */
#include "core/opt.h"

#include "core/buf.h"
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD(cfg, o, T) ((T *)(void *)((char *)(cfg) + (o)->off))

static const struct floe_opt *find(const struct floe_opt *opts,
                                   const char *name, size_t n)
{
    for (; opts->name != NULL; opts++)
        if (strlen(opts->name) == n && strncmp(opts->name, name, n) == 0)
            return opts;
    return NULL;
}

static int parse_num(const char *s, double *out, const char **end)
{
    char *e;

    errno = 0;
    *out = strtod(s, &e);
    if (e == s || errno != 0 || !isfinite(*out))
        return FLOE_EINVAL;
    *end = e;
    return FLOE_OK;
}

int floe_parse_size(const char *s, int64_t *out)
{
    const char *e;
    double v, mul = 1;

    if (parse_num(s, &v, &e) != FLOE_OK)
        return FLOE_EINVAL;
    switch (toupper((unsigned char)*e)) {
    case '\0': break;
    case 'K': mul = 1024.0; e++; break;
    case 'M': mul = 1024.0 * 1024; e++; break;
    case 'G': mul = 1024.0 * 1024 * 1024; e++; break;
    default: return FLOE_EINVAL;
    }
    if (*e == 'i' || *e == 'I')
        e++;
    if (*e == 'B' || *e == 'b')
        e++;
    if (*e != '\0' || v < 0 || v * mul > 9e18)
        return FLOE_EINVAL;
    *out = (int64_t)(v * mul);
    return FLOE_OK;
}

int floe_parse_ms(const char *s, int64_t *out)
{
    const char *e;
    double v, mul = 1000; /* a bare number is seconds */

    if (parse_num(s, &v, &e) != FLOE_OK)
        return FLOE_EINVAL;
    if (strcmp(e, "ms") == 0)
        mul = 1;
    else if (strcmp(e, "s") == 0 || *e == '\0')
        mul = 1000;
    else if (strcmp(e, "m") == 0 || strcmp(e, "min") == 0)
        mul = 60000;
    else if (strcmp(e, "h") == 0)
        mul = 3600000;
    else
        return FLOE_EINVAL;
    if (v < 0 || v * mul > 9e15)
        return FLOE_EINVAL;
    *out = (int64_t)llround(v * mul);
    return FLOE_OK;
}

int floe_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = { "true", "yes", "on", "1", "t", "y" };
    static const char *no[] = { "false", "no", "off", "0", "f", "n" };
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return FLOE_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return FLOE_OK;
        }
    }
    return FLOE_EINVAL;
}

/* `label` names the source in messages: "--port" (command line and
 * environment) or "floe.yaml:3: firehose.port". */
static int set_one(const struct floe_opt *o, void *cfg, const char *value,
                   const char *label, char *err)
{
    int64_t iv = 0;
    double dv = 0;
    const char *e;
    int rc = FLOE_OK;

    switch (o->type) {
    case FLOE_OPT_STR: {
        char *copy = value ? strdup(value) : NULL;

        if (value != NULL && copy == NULL)
            return floe_err(err, FLOE_ENOMEM, "out of memory");
        free(*FIELD(cfg, o, char *));
        *FIELD(cfg, o, char *) = copy;
        return FLOE_OK;
    }
    case FLOE_OPT_BOOL:
        if (value == NULL) {
            *FIELD(cfg, o, bool) = false;
            return FLOE_OK;
        }
        if (floe_parse_bool(value, FIELD(cfg, o, bool)) != FLOE_OK)
            return floe_err(err, FLOE_EINVAL,
                            "%s: '%s' is not a boolean (use true or false)",
                            label, value);
        return FLOE_OK;
    case FLOE_OPT_INT:
        if (value != NULL) {
            rc = parse_num(value, &dv, &e);
            if (rc == FLOE_OK && (*e != '\0' || dv != floor(dv)))
                rc = FLOE_EINVAL;
            /* converting a double outside int64_t is undefined */
            if (rc == FLOE_OK && !(dv >= -0x1p63 && dv < 0x1p63))
                return floe_err(err, FLOE_EINVAL, "%s: %s is out of range",
                                label, value);
            if (rc == FLOE_OK)
                iv = (int64_t)dv;
        }
        break;
    case FLOE_OPT_SIZE:
        if (value != NULL)
            rc = floe_parse_size(value, &iv);
        dv = (double)iv;
        break;
    case FLOE_OPT_MS:
        if (value != NULL)
            rc = floe_parse_ms(value, &iv);
        dv = (double)iv;
        break;
    case FLOE_OPT_DOUBLE:
        if (value != NULL) {
            rc = parse_num(value, &dv, &e);
            if (rc == FLOE_OK && *e != '\0')
                rc = FLOE_EINVAL;
        }
        break;
    }
    if (rc != FLOE_OK)
        return floe_err(err, FLOE_EINVAL, "%s: '%s' is not a valid %s",
                        label, value,
                        o->type == FLOE_OPT_SIZE ? "size (e.g. 4M)"
                        : o->type == FLOE_OPT_MS ? "duration (e.g. 500ms, 2s)"
                                                 : "number");
    if (o->min <= o->max && (dv < o->min || dv > o->max))
        return floe_err(err, FLOE_EINVAL, "%s: %s is out of range [%g, %g]",
                        label, value, o->min, o->max);
    if (o->type == FLOE_OPT_DOUBLE)
        *FIELD(cfg, o, double) = dv;
    else
        *FIELD(cfg, o, int64_t) = iv;
    return FLOE_OK;
}

static int set_cli(const struct floe_opt *o, void *cfg, const char *value,
                   char *err)
{
    char label[80];

    snprintf(label, sizeof(label), "--%s", o->name);
    return set_one(o, cfg, value, label, err);
}

int floe_opt_set(const struct floe_opt *opts, void *cfg, const char *name,
                 const char *value, char *err)
{
    const struct floe_opt *o = find(opts, name, strlen(name));

    if (o == NULL)
        return floe_err(err, FLOE_EINVAL, "unknown option '%s'", name);
    return set_cli(o, cfg, value, err);
}

static int apply_env(const struct floe_cmd *cmd, void *cfg, char *err)
{
    const struct floe_opt *o;
    char key[128];
    size_t i, n;
    int rc;

    for (o = cmd->opts; o->name != NULL; o++) {
        n = (size_t)snprintf(key, sizeof(key), "FLOE_%s_%s", cmd->name,
                             o->name);
        for (i = 0; i < n && i < sizeof(key); i++)
            key[i] = key[i] == '-' ? '_' : (char)toupper((unsigned char)key[i]);
        const char *v = getenv(key);
        if (v == NULL)
            continue;
        rc = set_cli(o, cfg, v, err);
        if (rc != FLOE_OK) {
            size_t l = strlen(err);
            snprintf(err + l, FLOE_ERR_LEN - l, " (from %s)", key);
            return rc;
        }
    }
    return FLOE_OK;
}

/* --- floe.yaml ------------------------------------------------------ */

/* `key` with '_' read as '-' (both spellings are accepted in YAML). */
static void normalize(const char *key, char *out, size_t n)
{
    size_t i;

    for (i = 0; key[i] != '\0' && i + 1 < n; i++)
        out[i] = key[i] == '_' ? '-' : key[i];
    out[i] = '\0';
}

static bool is_yaml_key(const struct floe_cmd *cmd, const char *norm)
{
    const char *const *k;
    char n[128];

    for (k = cmd->yaml_keys; k != NULL && *k != NULL; k++) {
        normalize(*k, n, sizeof(n));
        if (strcmp(n, norm) == 0)
            return true;
    }
    return false;
}

struct yaml_ctx {
    const struct floe_cmd *cmd;
    const struct floe_config_map *sec;
    void *cfg;
    char *err;
    int *seen; /* per option: line it was set on, 0 = not yet */
    int rc;    /* the latest problem (its text in err), FLOE_OK if none */
};

static int apply_key(const char *key, void *ud)
{
    struct yaml_ctx *y = ud;
    const struct floe_opt *o;
    const char *file = floe_config_file(y->sec);
    int line = floe_config_line(y->sec, key);
    char norm[128], label[FLOE_ERR_LEN / 2];
    size_t idx;

    normalize(key, norm, sizeof(norm));
    o = strlen(key) < sizeof(norm) ? find(y->cmd->opts, norm, strlen(norm))
                                   : NULL;
    if (o == NULL) {
        if (is_yaml_key(y->cmd, norm))
            return FLOE_OK; /* read by the command itself */
        return floe_err(y->err, FLOE_EINVAL,
                        "%s:%d: unknown key '%s' in section '%s' (see "
                        "'floe %s --help')", file, line, key, y->cmd->name,
                        y->cmd->name);
    }
    idx = (size_t)(o - y->cmd->opts);
    if (y->seen[idx] != 0)
        return floe_err(y->err, FLOE_EINVAL,
                        "%s:%d: '%s' sets option '%s' again (already set "
                        "at line %d)", file, line, key, o->name,
                        y->seen[idx]);
    y->seen[idx] = line;
    snprintf(label, sizeof(label), "%s:%d: %s.%s", file, line, y->cmd->name,
             key);
    switch (floe_config_kind(y->sec, key)) {
    case FLOE_CONFIG_SCALAR:
        return set_one(o, y->cfg, floe_config_get(y->sec, key), label,
                       y->err);
    case FLOE_CONFIG_NULL:
        if (o->type == FLOE_OPT_STR) /* `key:` or `key: ~` unsets text */
            return set_one(o, y->cfg, NULL, label, y->err);
        return floe_err(y->err, FLOE_EINVAL, "%s: has no value", label);
    default:
        return floe_err(y->err, FLOE_EINVAL, "%s: must be a single value, "
                        "not a list or mapping", label);
    }
}

/* Every key is tried, so every problem is reported: each one before the
 * latest goes to stderr now, the latest stays in y->err for the caller. */
static int apply_each(const char *key, void *ud)
{
    struct yaml_ctx *y = ud;
    char cur[FLOE_ERR_LEN], *out = y->err;
    int rc;

    cur[0] = '\0';
    y->err = cur;
    rc = apply_key(key, y);
    y->err = out;
    if (rc == FLOE_OK)
        return 0;
    if (y->rc != FLOE_OK)
        fprintf(stderr, "floe %s: %s\n", y->cmd->name, out);
    memcpy(out, cur, FLOE_ERR_LEN);
    y->rc = rc;
    return rc == FLOE_ENOMEM ? rc : 0;
}

int floe_opt_apply_config(const struct floe_cmd *cmd, void *cfg,
                          const struct floe_config *doc, char *err)
{
    const struct floe_config_map *root = floe_config_root(doc);
    struct yaml_ctx y;
    size_t n = 0;
    int rc;

    switch (floe_config_kind(root, cmd->name)) {
    case FLOE_CONFIG_ABSENT:
    case FLOE_CONFIG_NULL:
        return FLOE_OK;
    case FLOE_CONFIG_MAP:
        break;
    default:
        return floe_err(err, FLOE_EINVAL, "%s:%d: section '%s' must be a "
                        "mapping of options (key: value lines indented "
                        "below it)", floe_config_path(doc),
                        floe_config_line(root, cmd->name), cmd->name);
    }
    while (cmd->opts[n].name != NULL)
        n++;
    y.cmd = cmd;
    y.sec = floe_config_section(doc, cmd->name);
    y.cfg = cfg;
    y.err = err;
    y.rc = FLOE_OK;
    y.seen = calloc(n + 1, sizeof(*y.seen));
    if (y.seen == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    rc = floe_config_keys(y.sec, apply_each, &y);
    free(y.seen);
    return rc != FLOE_OK ? rc : y.rc;
}

int floe_opt_parse(const struct floe_cmd *cmd, void *cfg, int argc,
                   char **argv, int *out_next, char *err)
{
    const struct floe_opt *o;
    int i, rc;

    *out_next = argc;
    if (argc > 1 && strcmp(argv[1], "--config-doc") == 0) {
        floe_opt_doc(cmd, stdout);
        return FLOE_EHELP;
    }
    for (o = cmd->opts; o->name != NULL; o++) {
        rc = set_cli(o, cfg, o->def, err);
        if (rc != FLOE_OK)
            return rc;
    }
    rc = floe_opt_apply_config(cmd, cfg, floe_config_current(), err);
    if (argc > 1 && strcmp(argv[1], "--config-check") == 0) {
        if (rc == FLOE_OK && cmd->check != NULL)
            rc = cmd->check(cfg, err);
        return rc != FLOE_OK ? rc : FLOE_EHELP;
    }
    if (rc != FLOE_OK)
        return rc;
    rc = apply_env(cmd, cfg, err);
    if (rc != FLOE_OK)
        return rc;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *name, *eq, *val;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            floe_opt_help(cmd, stdout);
            return FLOE_EHELP;
        }
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            break;
        name = a + 2;
        eq = strchr(name, '=');
        o = find(cmd->opts, name, eq ? (size_t)(eq - name) : strlen(name));
        if (o == NULL)
            return floe_err(err, FLOE_EINVAL,
                            "unknown option '%s' (see 'floe %s --help')", a,
                            cmd->name);
        if (eq != NULL)
            val = eq + 1;
        else if (o->type == FLOE_OPT_BOOL)
            val = "true";
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return floe_err(err, FLOE_EINVAL, "option --%s needs a value",
                            o->name);
        rc = set_cli(o, cfg, val, err);
        if (rc != FLOE_OK)
            return rc;
    }
    for (o = cmd->opts; o->name != NULL; o++)
        if ((o->flags & FLOE_OPT_REQUIRED) && o->type == FLOE_OPT_STR &&
            *FIELD(cfg, o, char *) == NULL)
            return floe_err(err, FLOE_EINVAL,
                            "option --%s is required (see 'floe %s --help')",
                            o->name, cmd->name);
    *out_next = i;
    return FLOE_OK;
}

int floe_opt_main(const struct floe_cmd *cmd, void *cfg, int argc,
                  char **argv, int *out_next)
{
    char err[FLOE_ERR_LEN];
    int next, rc;

    rc = floe_opt_parse(cmd, cfg, argc, argv, &next, err);
    if (rc == FLOE_EHELP)
        return 0;
    if (rc == FLOE_OK && out_next == NULL && next < argc)
        rc = floe_err(err, FLOE_EINVAL,
                      "unexpected argument '%s' (see 'floe %s --help')",
                      argv[next], cmd->name);
    if (rc != FLOE_OK) {
        fprintf(stderr, "floe %s: %s\n", cmd->name, err);
        return 2;
    }
    if (out_next != NULL)
        *out_next = next;
    return FLOE_OPT_GO;
}

static const char *type_hint(enum floe_opt_type t)
{
    switch (t) {
    case FLOE_OPT_STR: return "TEXT";
    case FLOE_OPT_INT: return "N";
    case FLOE_OPT_SIZE: return "SIZE";
    case FLOE_OPT_MS: return "DURATION";
    case FLOE_OPT_DOUBLE: return "X";
    case FLOE_OPT_BOOL: return "";
    }
    return "";
}

void floe_opt_help(const struct floe_cmd *cmd, FILE *out)
{
    const struct floe_opt *o;
    char left[64];

    fprintf(out, "Usage: %s\n\n%s\n\nOptions:\n", cmd->usage, cmd->summary);
    for (o = cmd->opts; o->name != NULL; o++) {
        if (o->type == FLOE_OPT_BOOL)
            snprintf(left, sizeof(left), "--%s", o->name);
        else
            snprintf(left, sizeof(left), "--%s %s", o->name,
                     type_hint(o->type));
        fprintf(out, "  %-28s %s", left, o->doc);
        if (o->flags & FLOE_OPT_REQUIRED)
            fprintf(out, " (required)");
        else if (o->def != NULL && !(o->flags & FLOE_OPT_SECRET))
            fprintf(out, " [default: %s]", o->def);
        fputc('\n', out);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "Show this help and exit.");
    {
        char sect[64];
        size_t i;

        for (i = 0; cmd->name[i] != '\0' && i + 1 < sizeof(sect); i++)
            sect[i] = (char)toupper((unsigned char)cmd->name[i]);
        sect[i] = '\0';
        fprintf(out, "\nEvery option can also be set in the environment as "
                     "FLOE_%s_<OPTION> (upper case, '-' as '_'),\nor in "
                     "floe.yaml under '%s:' (floe --config FILE %s; see "
                     "'floe config --help').\n", sect, cmd->name,
                cmd->name);
    }
    if (cmd->epilog != NULL)
        fprintf(out, "\n%s\n", cmd->epilog);
}

void floe_opt_free(const struct floe_opt *opts, void *cfg)
{
    for (; opts->name != NULL; opts++) {
        if (opts->type == FLOE_OPT_STR) {
            free(*FIELD(cfg, opts, char *));
            *FIELD(cfg, opts, char *) = NULL;
        }
    }
}

static const char *type_name(enum floe_opt_type t)
{
    switch (t) {
    case FLOE_OPT_STR: return "text";
    case FLOE_OPT_INT: return "integer";
    case FLOE_OPT_SIZE: return "size";
    case FLOE_OPT_MS: return "duration";
    case FLOE_OPT_DOUBLE: return "number";
    case FLOE_OPT_BOOL: return "boolean";
    }
    return "text";
}

/* A YAML double-quoted scalar; JSON escaping is a subset of YAML's. */
static void put_quoted(FILE *out, const char *s)
{
    struct floe_buf b;

    floe_buf_init(&b, FLOE_BUF_UNLIMITED);
    if (floe_buf_add_json_str(&b, s, strlen(s)) == FLOE_OK)
        fputs(b.data, out);
    else
        fputs("\"\"", out);
    floe_buf_free(&b);
}

static void put_number(FILE *out, double v)
{
    if (v == floor(v) && fabs(v) < 9e18)
        fprintf(out, "%lld", (long long)v);
    else
        fprintf(out, "%.17g", v);
}

void floe_opt_doc(const struct floe_cmd *cmd, FILE *out)
{
    const struct floe_opt *o;
    const char *const *k;
    char env[128];
    size_t i, n;

    fprintf(out, "%s:\n", cmd->name);
    for (o = cmd->opts; o->name != NULL; o++) {
        n = (size_t)snprintf(env, sizeof(env), "FLOE_%s_%s", cmd->name,
                             o->name);
        for (i = 0; i < n && i < sizeof(env); i++)
            env[i] = env[i] == '-' ? '_' : (char)toupper((unsigned char)env[i]);
        fprintf(out, "  %s:\n    type: %s\n", o->name, type_name(o->type));
        if (o->flags & FLOE_OPT_REQUIRED)
            fprintf(out, "    required: true\n");
        if (o->flags & FLOE_OPT_SECRET) {
            fprintf(out, "    secret: true\n");
        } else if (o->def != NULL) {
            fprintf(out, "    default: ");
            put_quoted(out, o->def);
            fputc('\n', out);
        }
        if (o->min <= o->max && o->type != FLOE_OPT_STR &&
            o->type != FLOE_OPT_BOOL) {
            fprintf(out, "    min: ");
            put_number(out, o->min);
            fprintf(out, "\n    max: ");
            put_number(out, o->max);
            fputc('\n', out);
        }
        fprintf(out, "    env: %s\n    flag: --%s\n    doc: ", env, o->name);
        put_quoted(out, o->doc != NULL ? o->doc : "");
        fputc('\n', out);
    }
    for (k = cmd->yaml_keys; k != NULL && *k != NULL; k++) {
        fprintf(out, "  %s:\n    type: structured\n    doc: ", *k);
        fprintf(out, "\"Read by 'floe %s' itself (lists or mappings); see "
                     "'floe %s --help'.\"\n", cmd->name, cmd->name);
    }
}
