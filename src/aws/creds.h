/* creds.h - AWS credentials, region and endpoint found the way the AWS
 * tools find them: the environment first (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION,
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), then the shared files
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CONFIG_FILE or
 * ~/.aws/config) for the profile AWS_PROFILE (default "default").
 * Instance-profile, SSO and web-identity credentials are not read (yet).
 * Secrets are never logged. */
#ifndef FLOE_AWS_CREDS_H
#define FLOE_AWS_CREDS_H

#include <stdbool.h>

struct floe_aws_env {
    char *access_key;  /* NULL when none found */
    char *secret;
    char *token;       /* session token or NULL */
    char *region;      /* never NULL after load: "us-east-1" by default */
    char *endpoint;    /* S3 endpoint override ("http://host:port") or NULL */
    char *addressing;  /* profile's s3.addressing_style ("path", ...) or NULL */
    char *profile;     /* the profile read */
    char *source;      /* where the keys came from ("environment", ...) */
};

/* Fill `out` (owned by the caller, floe_aws_env_free). A missing file is
 * not an error; FLOE_ENOMEM only. `service` picks the endpoint variable
 * (AWS_ENDPOINT_URL_<SERVICE>, e.g. "S3"). */
int floe_aws_env_load(const char *service, struct floe_aws_env *out);
void floe_aws_env_free(struct floe_aws_env *e); /* NULL is a no-op */

#endif
