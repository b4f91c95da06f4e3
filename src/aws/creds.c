/* creds.c - AWS credentials, region and endpoint (creds.h).
 * The shared files are INI: "[name]" in credentials, "[profile name]" (or
 * "[default]") in config; "key = value"; a "key =" line followed by
 * indented lines is a nested section (s3 =\n  addressing_style = path),
 * read here as "key.sub". */
#include "aws/creds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static char *env_dup(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? strdup(v) : NULL;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Is this section header line (already trimmed, without brackets) the
 * profile wanted? In config files a non-default profile is "profile X". */
static bool section_is(const char *sec, const char *profile, bool config)
{
    if (strcmp(sec, profile) == 0)
        return !config || strcmp(profile, "default") == 0 ||
               strncmp(sec, "profile ", 8) == 0;
    if (config && strncmp(sec, "profile ", 8) == 0) {
        const char *name = sec + 8;

        while (*name == ' ')
            name++;
        return strcmp(name, profile) == 0;
    }
    return false;
}

/* The value of `key` ("a" or "a.b" for a nested one) in the profile's
 * section of `path`, or NULL. Owned by the caller. */
static char *ini_get(const char *path, const char *profile, bool config,
                     const char *key)
{
    char line[4096], parent[128] = "", *val = NULL;
    bool in = false;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return NULL;
    while (val == NULL && fgets(line, sizeof(line), f) != NULL) {
        bool indented = line[0] == ' ' || line[0] == '\t';
        char *s = trim(line), *eq, *k, *v, full[256];

        if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
            continue;
        if (s[0] == '[') {
            char *end = strchr(s, ']');

            if (end != NULL)
                *end = '\0';
            in = section_is(trim(s + 1), profile, config);
            parent[0] = '\0';
            continue;
        }
        if (!in || (eq = strchr(s, '=')) == NULL)
            continue;
        *eq = '\0';
        k = trim(s);
        v = trim(eq + 1);
        if (!indented)
            parent[0] = '\0';
        if (!indented && v[0] == '\0') {
            snprintf(parent, sizeof(parent), "%s", k);
            continue;
        }
        if (indented && parent[0] != '\0')
            snprintf(full, sizeof(full), "%s.%s", parent, k);
        else
            snprintf(full, sizeof(full), "%s", k);
        if (strcmp(full, key) == 0)
            val = strdup(v);
    }
    fclose(f);
    return val;
}

static char *file_path(const char *env, const char *name)
{
    const char *v = getenv(env), *home = getenv("HOME");
    char buf[4096];

    if (v != NULL && v[0] != '\0')
        return strdup(v);
    if (home == NULL || home[0] == '\0')
        return NULL;
    snprintf(buf, sizeof(buf), "%s/.aws/%s", home, name);
    return strdup(buf);
}

void floe_aws_env_free(struct floe_aws_env *e)
{
    if (e == NULL)
        return;
    if (e->secret != NULL) /* scrub: it may sit in freed memory otherwise */
        memset(e->secret, 0, strlen(e->secret));
    free(e->access_key);
    free(e->secret);
    free(e->token);
    free(e->region);
    free(e->endpoint);
    free(e->addressing);
    free(e->profile);
    free(e->source);
    memset(e, 0, sizeof(*e));
}

int floe_aws_env_load(const char *service, struct floe_aws_env *out)
{
    char *cred_file = NULL, *conf_file = NULL, var[64];
    const char *src = NULL;
    int rc = FLOE_OK;

    memset(out, 0, sizeof(*out));
    out->profile = env_dup("AWS_PROFILE");
    if (out->profile == NULL)
        out->profile = strdup("default");
    cred_file = file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    conf_file = file_path("AWS_CONFIG_FILE", "config");
    if (out->profile == NULL)
        goto nomem;

    /* Keys: the environment as a pair, else the credentials file, else
     * the config file (the AWS CLI accepts keys there too). */
    out->access_key = env_dup("AWS_ACCESS_KEY_ID");
    out->secret = env_dup("AWS_SECRET_ACCESS_KEY");
    if (out->access_key != NULL && out->secret != NULL) {
        out->token = env_dup("AWS_SESSION_TOKEN");
        src = "environment";
    } else {
        free(out->access_key);
        free(out->secret);
        out->access_key = out->secret = NULL;
        for (int i = 0; i < 2 && src == NULL; i++) {
            const char *f = i == 0 ? cred_file : conf_file;

            if (f == NULL)
                continue;
            out->access_key = ini_get(f, out->profile, i == 1,
                                      "aws_access_key_id");
            out->secret = ini_get(f, out->profile, i == 1,
                                  "aws_secret_access_key");
            if (out->access_key != NULL && out->secret != NULL) {
                out->token = ini_get(f, out->profile, i == 1,
                                     "aws_session_token");
                src = i == 0 ? "shared credentials file"
                             : "shared config file";
            } else {
                free(out->access_key);
                free(out->secret);
                out->access_key = out->secret = NULL;
            }
        }
    }
    if (src != NULL && (out->source = strdup(src)) == NULL)
        goto nomem;

    out->region = env_dup("AWS_REGION");
    if (out->region == NULL)
        out->region = env_dup("AWS_DEFAULT_REGION");
    if (out->region == NULL && conf_file != NULL)
        out->region = ini_get(conf_file, out->profile, true, "region");
    if (out->region == NULL && (out->region = strdup("us-east-1")) == NULL)
        goto nomem;

    snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", service);
    out->endpoint = env_dup(var);
    if (out->endpoint == NULL)
        out->endpoint = env_dup("AWS_ENDPOINT_URL");
    if (out->endpoint == NULL && conf_file != NULL)
        out->endpoint = ini_get(conf_file, out->profile, true,
                                "endpoint_url");
    if (conf_file != NULL)
        out->addressing = ini_get(conf_file, out->profile, true,
                                  "s3.addressing_style");
    goto done;
nomem:
    rc = FLOE_ENOMEM;
    floe_aws_env_free(out);
done:
    free(cred_file);
    free(conf_file);
    return rc;
}
