/* tags.c - delivery-stream tags. A request's tag list is validated whole
 * before anything changes, applied to a copy, then swapped in and
 * persisted; on a persist failure the old tags stay. */
#define FLOE_LOG_MOD "firehose.tags"

#include "firehose/tags.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "firehose/admin.h"

#define MAX_TAGS 50

/* Built only by appending to fresh objects: cJSON 1.7.15's
 * Duplicate/Insert leave the child list's tail link unset, which breaks
 * later appends. */
cJSON *floe_fh_tags_copy(const cJSON *tags)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *t;

    for (t = tags ? tags->child : NULL; o != NULL && t != NULL; t = t->next)
        if (cJSON_AddStringToObject(o, t->string,
                                    t->valuestring ? t->valuestring : "") ==
            NULL) {
            cJSON_Delete(o);
            o = NULL;
        }
    return o;
}

/* *obj with key -> value set, keys kept sorted (rebuilt). */
static int put_tag(cJSON **obj, const char *k, const char *v)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *t;
    bool done = false;

    for (t = (*obj)->child; o != NULL && t != NULL; t = t->next) {
        int c = strcmp(t->string, k);

        if (!done && c >= 0) {
            if (cJSON_AddStringToObject(o, k, v) == NULL)
                break;
            done = true;
        }
        if (c != 0 && cJSON_AddStringToObject(o, t->string,
                                              t->valuestring) == NULL)
            break;
    }
    if (o == NULL || t != NULL ||
        (!done && cJSON_AddStringToObject(o, k, v) == NULL)) {
        cJSON_Delete(o);
        return -1;
    }
    cJSON_Delete(*obj);
    *obj = o;
    return 0;
}

/* Validate a Tags list; -1 with e set. */
static int check_tags(const cJSON *tags, struct floe_fh_err *e)
{
    const cJSON *t;
    int n = 0;

    if (!cJSON_IsArray(tags))
        return floe_fh_fail(e, "SerializationException",
                            "Tags must be a list");
    cJSON_ArrayForEach(t, tags) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "Key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "Value");

        n++;
        if (!cJSON_IsString(k) || (v != NULL && !cJSON_IsNull(v) &&
                                   !cJSON_IsString(v)))
            return floe_fh_fail(e, "ValidationException",
                                "1 validation error detected: Value at "
                                "'tags.%d.member.key' failed to satisfy "
                                "constraint: Member must not be null", n);
        if (strlen(k->valuestring) < 1 || strlen(k->valuestring) > 128 ||
            (cJSON_IsString(v) && strlen(v->valuestring) > 256))
            return floe_fh_fail(e, "ValidationException",
                                "1 validation error detected: Value at "
                                "'tags.%d.member' failed to satisfy "
                                "constraint: key 1-128 and value 0-256 "
                                "characters", n);
        if (strncmp(k->valuestring, "aws:", 4) == 0)
            return floe_fh_fail(e, "InvalidArgumentException",
                                "Tag keys starting with 'aws:' are "
                                "reserved");
    }
    if (n < 1 || n > MAX_TAGS)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value at 'tags' "
                            "failed to satisfy constraint: Member must have "
                            "length between 1 and %d", MAX_TAGS);
    return 0;
}

/* *into gets every tag of `tags` (checked); -1 on a limit or OOM. */
static int merge(cJSON **into, const cJSON *tags, struct floe_fh_err *e)
{
    const cJSON *t;

    cJSON_ArrayForEach(t, tags) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "Value");

        if (put_tag(into,
                    cJSON_GetObjectItemCaseSensitive(t, "Key")->valuestring,
                    cJSON_IsString(v) ? v->valuestring : "") != 0)
            return floe_fh_fail(e, "ServiceUnavailableException",
                                "out of memory");
    }
    if (cJSON_GetArraySize(*into) > MAX_TAGS)
        return floe_fh_fail(e, "LimitExceededException",
                            "A delivery stream can have at most %d tags",
                            MAX_TAGS);
    return 0;
}

int floe_fh_tags_apply(struct floe_fh_stream *s, const cJSON *tags,
                       struct floe_fh_err *e)
{
    if (tags == NULL || cJSON_IsNull(tags))
        return 0;
    if (check_tags(tags, e) != 0)
        return -1;
    if (s->tags == NULL && (s->tags = cJSON_CreateObject()) == NULL)
        return floe_fh_fail(e, "ServiceUnavailableException",
                            "out of memory");
    return merge(&s->tags, tags, e);
}

/* Replace s->tags by `fresh` (taken), persist; undo on failure. */
static int commit(struct floe_fh_api *api, struct floe_fh_stream *s,
                  cJSON *fresh, struct floe_fh_err *e)
{
    cJSON *old = s->tags;

    s->tags = fresh;
    if (floe_fh_registry_save(api->reg) != FLOE_OK) {
        s->tags = old;
        cJSON_Delete(fresh);
        return floe_fh_fail(e, "ServiceUnavailableException",
                            "cannot persist the stream registry");
    }
    cJSON_Delete(old);
    return 0;
}

int floe_fh_tags_tag(struct floe_fh_api *api, const cJSON *req,
                     struct floe_buf *out, struct floe_fh_err *e)
{
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(req, "Tags");
    struct floe_fh_stream *s;
    const char *name;
    cJSON *fresh = NULL;
    int rc = -1;

    if (floe_fh_admin_name(req, &name, e) != 0)
        return -1;
    if (tags == NULL || cJSON_IsNull(tags))
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'tags' failed to satisfy constraint: Member "
                            "must not be null");
    if (check_tags(tags, e) != 0)
        return -1;
    floe_fh_registry_wrlock(api->reg);
    s = floe_fh_registry_find(api->reg, name);
    if (s == NULL) {
        floe_fh_admin_not_found(name, e);
        goto out;
    }
    fresh = floe_fh_tags_copy(s->tags);
    if (fresh == NULL) {
        floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
        goto out;
    }
    if (merge(&fresh, tags, e) != 0)
        goto out;
    rc = commit(api, s, fresh, e);
    fresh = NULL;
out:
    floe_fh_registry_unlock(api->reg);
    cJSON_Delete(fresh);
    if (rc == 0)
        floe_buf_adds(out, "{}");
    return rc;
}

int floe_fh_tags_untag(struct floe_fh_api *api, const cJSON *req,
                       struct floe_buf *out, struct floe_fh_err *e)
{
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(req, "TagKeys"), *k;
    struct floe_fh_stream *s;
    const char *name;
    cJSON *fresh = NULL;
    int rc = -1, n;

    if (floe_fh_admin_name(req, &name, e) != 0)
        return -1;
    if (!cJSON_IsArray(keys))
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value null at "
                            "'tagKeys' failed to satisfy constraint: Member "
                            "must not be null");
    n = cJSON_GetArraySize(keys);
    if (n < 1 || n > MAX_TAGS)
        return floe_fh_fail(e, "ValidationException",
                            "1 validation error detected: Value at "
                            "'tagKeys' failed to satisfy constraint: Member "
                            "must have length between 1 and %d", MAX_TAGS);
    cJSON_ArrayForEach(k, keys)
        if (!cJSON_IsString(k))
            return floe_fh_fail(e, "SerializationException",
                                "TagKeys must be strings");
    floe_fh_registry_wrlock(api->reg);
    s = floe_fh_registry_find(api->reg, name);
    if (s == NULL) {
        floe_fh_admin_not_found(name, e);
        goto out;
    }
    fresh = floe_fh_tags_copy(s->tags);
    if (fresh == NULL) {
        floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
        goto out;
    }
    cJSON_ArrayForEach(k, keys) /* unknown keys are ignored, like AWS */
        cJSON_DeleteItemFromObjectCaseSensitive(fresh, k->valuestring);
    rc = commit(api, s, fresh, e);
    fresh = NULL;
out:
    floe_fh_registry_unlock(api->reg);
    cJSON_Delete(fresh);
    if (rc == 0)
        floe_buf_adds(out, "{}");
    return rc;
}

int floe_fh_tags_list(struct floe_fh_api *api, const cJSON *req,
                      struct floe_buf *out, struct floe_fh_err *e)
{
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(
                    req, "ExclusiveStartTagKey"),
                *lim = cJSON_GetObjectItemCaseSensitive(req, "Limit"), *t;
    const struct floe_fh_stream *s;
    const char *name;
    int limit = MAX_TAGS, listed = 0, rc = 0;
    bool more = false;

    if (floe_fh_admin_name(req, &name, e) != 0)
        return -1;
    if (start != NULL && !cJSON_IsNull(start) && !cJSON_IsString(start))
        return floe_fh_fail(e, "SerializationException",
                            "ExclusiveStartTagKey must be a string");
    if (lim != NULL && !cJSON_IsNull(lim)) {
        if (!cJSON_IsNumber(lim))
            return floe_fh_fail(e, "SerializationException",
                                "Limit must be an integer");
        if (lim->valuedouble < 1 || lim->valuedouble > MAX_TAGS)
            return floe_fh_fail(e, "ValidationException",
                                "1 validation error detected: Value at "
                                "'limit' failed to satisfy constraint: "
                                "Member must have value between 1 and %d",
                                MAX_TAGS);
        limit = (int)lim->valuedouble;
    }
    floe_fh_registry_rdlock(api->reg);
    s = floe_fh_registry_find(api->reg, name);
    if (s == NULL) {
        rc = floe_fh_admin_not_found(name, e);
        goto out;
    }
    floe_buf_adds(out, "{\"Tags\":[");
    for (t = s->tags ? s->tags->child : NULL; t != NULL; t = t->next) {
        if (cJSON_IsString(start) &&
            strcmp(t->string, start->valuestring) <= 0)
            continue;
        if (listed == limit) {
            more = true;
            break;
        }
        if (listed++ > 0)
            floe_buf_addc(out, ',');
        floe_buf_adds(out, "{\"Key\":");
        floe_buf_add_json_str(out, t->string, strlen(t->string));
        floe_buf_adds(out, ",\"Value\":");
        floe_buf_add_json_str(out, t->valuestring, strlen(t->valuestring));
        floe_buf_addc(out, '}');
    }
    if (floe_buf_addf(out, "],\"HasMoreTags\":%s}",
                      more ? "true" : "false") != FLOE_OK)
        rc = floe_fh_fail(e, "ServiceUnavailableException", "out of memory");
out:
    floe_fh_registry_unlock(api->reg);
    return rc;
}
