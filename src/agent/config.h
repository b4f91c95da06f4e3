/* config.h - an Amazon Kinesis Agent agent.json, read unchanged.
 * Jackson-style leniency: // and / * * / comments, numbers written as
 * strings. Supported keys are applied; known-but-unsupported and unknown
 * keys get a warning naming them; invalid values are errors (the caller
 * exits 2). Credentials fall back to the AWS_* environment and are never
 * logged. */
#ifndef FLOE_AGENT_CONFIG_H
#define FLOE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/convert.h"
#include "agent/jregex.h"

enum floe_agent_initpos {
    FLOE_AGENT_END_OF_FILE = 0,
    FLOE_AGENT_START_OF_FILE = 1,
};

struct floe_agent_flow {
    char *id;                   /* "fh:<stream>:<filePattern>" */
    char *file_pattern;         /* dir (literal) / glob on names */
    char *stream;               /* deliveryStream */
    enum floe_agent_initpos initial_position;
    int64_t max_buffer_age_ms;  /* 1000..900000, default 60000 */
    int64_t max_buffer_bytes;   /* 1..4194304 */
    int64_t max_buffer_records; /* 1..500 */
    int64_t agg_bytes;          /* aggregatedRecordSizeBytes: pack whole
                                   lines into records up to this (0: off) */
    int64_t skip_header_lines;
    int64_t poll_ms;            /* minTimeBetweenFilePollsMillis */
    int64_t retry_initial_ms;   /* retryInitialBackoffMillis */
    int64_t retry_max_ms;       /* retryMaxBackoffMillis */
    char *trunc_term;           /* truncatedRecordTerminator, owned */
    size_t trunc_term_len;
    struct floe_convert conv;   /* dataProcessingOptions */
    struct floe_jregex *start_re; /* multiLineStartPattern, owned or NULL */
};

struct floe_agent_conf {
    char *endpoint;        /* firehose.endpoint (NULL: AWS for region) */
    char *region;          /* kinesis.region, or NULL */
    char *access_key;      /* secret-ish: never logged */
    char *secret_key;      /* secret: never logged */
    char *session_token;   /* from AWS_SESSION_TOKEN only */
    char *checkpoint_file; /* NULL: the caller's default */
    int64_t checkpoint_ttl_days; /* checkpointTimeToLiveDays, default 7 */
    struct floe_agent_flow *flows; /* owned, nflows */
    size_t nflows;
    unsigned warnings;     /* unknown/unsupported keys seen */
};

/* Parse agent.json text (borrowed). On error err names the key and the
 * problem (not the source: the caller prefixes it); `out` is freed and
 * zeroed. Environment credentials are NOT
 * applied here (see floe_agent_conf_env). */
int floe_agent_conf_parse(const char *text, size_t len,
                          struct floe_agent_conf *out, char *err);
/* Read and parse the file at `path`. */
int floe_agent_conf_load(const char *path, struct floe_agent_conf *out,
                         char *err);
/* Fill missing credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN. */
int floe_agent_conf_env(struct floe_agent_conf *c);
void floe_agent_conf_free(struct floe_agent_conf *c); /* NULL ok */

/* Words about a filePattern (borrowed) the agent takes but that is
 * likely a mistake: relative (resolved against floe's working directory;
 * the Kinesis Agent wants an absolute path and refuses a bare file name),
 * or in a directory that does not exist (yet) or cannot be listed. On
 * true `warn` (char[FLOE_ERR_LEN]) holds them. Flow loading logs them,
 * so `floe agent` and `floe config --check` both say them. */
bool floe_agent_conf_path_warning(const char *file_pattern, char *warn);

/* Remove // and / * * / comments outside strings into `out` (reset). */
int floe_agent_json_strip_comments(const char *text, size_t len,
                                   struct floe_buf *out);

#endif
