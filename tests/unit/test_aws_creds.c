/* test_aws_creds.c - credentials, region and endpoint found as the AWS
 * tools find them: environment first, then the profile in the files. */
#include <stdlib.h>

#include "aws/creds.h"
#include "core/err.h"
#include "core/util.h"
#include "test.h"

static void clear_env(void)
{
    static const char *vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL", "AWS_PROFILE", NULL
    };
    for (int i = 0; vars[i] != NULL; i++)
        unsetenv(vars[i]);
}

static void test_profile_files(void)
{
    struct floe_aws_env e;
    char dir[256], cred[300], conf[300];
    const char *c =
        "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sd\n"
        "[work]\naws_access_key_id=AKWORK\naws_secret_access_key=sw\n"
        "aws_session_token = tok\n";
    const char *k =
        "[default]\nregion = eu-west-1\n"
        "[profile work]\nregion = ap-south-1\n"
        "endpoint_url = http://127.0.0.1:9\n"
        "s3 =\n  addressing_style = path\n"
        "other = 1\n";

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(cred, sizeof(cred), "%s/credentials", dir);
    snprintf(conf, sizeof(conf), "%s/config", dir);
    CHECK(floe_write_file_atomic(cred, c, strlen(c)) == FLOE_OK);
    CHECK(floe_write_file_atomic(conf, k, strlen(k)) == FLOE_OK);
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_CONFIG_FILE", conf, 1);

    CHECK(floe_aws_env_load("S3", &e) == FLOE_OK);
    CHECK(e.access_key && strcmp(e.access_key, "AKDEF") == 0);
    CHECK(e.token == NULL && strcmp(e.region, "eu-west-1") == 0);
    CHECK(e.endpoint == NULL && e.addressing == NULL);
    floe_aws_env_free(&e);

    setenv("AWS_PROFILE", "work", 1);
    CHECK(floe_aws_env_load("S3", &e) == FLOE_OK);
    CHECK(e.access_key && strcmp(e.access_key, "AKWORK") == 0);
    CHECK(e.token && strcmp(e.token, "tok") == 0);
    CHECK(strcmp(e.region, "ap-south-1") == 0);
    CHECK(e.endpoint && strcmp(e.endpoint, "http://127.0.0.1:9") == 0);
    CHECK(e.addressing && strcmp(e.addressing, "path") == 0);
    floe_aws_env_free(&e);

    /* the environment wins, as a pair */
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    CHECK(floe_aws_env_load("S3", &e) == FLOE_OK);
    CHECK(strcmp(e.access_key, "AKWORK") == 0); /* no secret in env */
    floe_aws_env_free(&e);
    setenv("AWS_SECRET_ACCESS_KEY", "se", 1);
    setenv("AWS_REGION", "us-west-2", 1);
    setenv("AWS_ENDPOINT_URL", "http://a", 1);
    setenv("AWS_ENDPOINT_URL_S3", "http://b", 1);
    CHECK(floe_aws_env_load("S3", &e) == FLOE_OK);
    CHECK(strcmp(e.access_key, "AKENV") == 0 && e.token == NULL);
    CHECK(strcmp(e.region, "us-west-2") == 0);
    CHECK(strcmp(e.endpoint, "http://b") == 0);
    CHECK(strcmp(e.source, "environment") == 0);
    floe_aws_env_free(&e);
    clear_env();
    floe_rmtree(dir);
}

static void test_nothing_found(void)
{
    struct floe_aws_env e;

    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/c", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/k", 1);
    CHECK(floe_aws_env_load("S3", &e) == FLOE_OK);
    CHECK(e.access_key == NULL && e.secret == NULL);
    CHECK(strcmp(e.region, "us-east-1") == 0 && e.endpoint == NULL);
    floe_aws_env_free(&e);
    floe_aws_env_free(NULL);
}

FLOE_TESTS({ "profile_files", test_profile_files },
           { "nothing_found", test_nothing_found })
