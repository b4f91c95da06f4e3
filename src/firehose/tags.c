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

/* A required list member (`what`: "tags", "tagKeys") absent or null. */
static int null_list(const char *what, struct floe_fh_err *e)
{
    return floe_fh_fail(e, "ValidationException",
                        "1 validation error detected: Value null at '%s' "
                        "failed to satisfy constraint: Member must not be "
                        "null", what);
}

/* A list member's length must be 1..MAX_TAGS; -1 with e set. */
static int check_len(const char *what, int n, struct floe_fh_err *e)
{
    if (n >= 1 && n <= MAX_TAGS)
        return 0;
    return floe_fh_fail(e, "ValidationException",
                        "1 validation error detected: Value at '%s' failed "
                        "to satisfy constraint: Member must have length "
                        "between 1 and %d", what, MAX_TAGS);
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
    return check_len("tags", n, e);
}

/* Validate a TagKeys list; -1 with e set. */
static int check_keys(const cJSON *keys, struct floe_fh_err *e)
{
    const cJSON *k;

    if (!cJSON_IsArray(keys))
        return null_list("tagKeys", e);
    if (check_len("tagKeys", cJSON_GetArraySize(keys), e) != 0)
        return -1;
    cJSON_ArrayForEach(k, keys)
        if (!cJSON_IsString(k))
            return floe_fh_fail(e, "SerializationException",
                                "TagKeys must be strings");
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

/* *tags without the keys listed in `keys` (unknown ones are ignored,
 * like AWS). */
static int drop_keys(cJSON **tags, const cJSON *keys, struct floe_fh_err *e)
{
    const cJSON *k;

    (void)e;
    cJSON_ArrayForEach(k, keys)
        cJSON_DeleteItemFromObjectCaseSensitive(*tags, k->valuestring);
    return 0;
}

/* Under the registry write lock: let `fn` change a copy of stream `name`'s
 * tags with the (checked) `list`, persist it, reply {}. */
static int edit_tags(struct floe_fh_api *api, const char *name,
                     const cJSON *list,
                     int (*fn)(cJSON **tags, const cJSON *list,
                               struct floe_fh_err *e),
                     struct floe_buf *out, struct floe_fh_err *e)
{
    struct floe_fh_stream *s;
    cJSON *fresh = NULL;
    int rc = -1;

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
    if (fn(&fresh, list, e) != 0)
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

/* The Tags member of TagDeliveryStream: required, then check_tags. */
static int check_tag_req(const cJSON *tags, struct floe_fh_err *e)
{
    if (tags == NULL || cJSON_IsNull(tags))
        return null_list("tags", e);
    return check_tags(tags, e);
}

/* Tag and Untag: the stream name, the list `member` checked by `check`,
 * then edit_tags with `fn`. */
static int tags_op(struct floe_fh_api *api, const cJSON *req,
                   const char *member,
                   int (*check)(const cJSON *list, struct floe_fh_err *e),
                   int (*fn)(cJSON **tags, const cJSON *list,
                             struct floe_fh_err *e),
                   struct floe_buf *out, struct floe_fh_err *e)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, member);
    const char *name;

    if (floe_fh_admin_name(req, &name, e) != 0 || check(list, e) != 0)
        return -1;
    return edit_tags(api, name, list, fn, out, e);
}

int floe_fh_tags_tag(struct floe_fh_api *api, const cJSON *req,
                     struct floe_buf *out, struct floe_fh_err *e)
{
    return tags_op(api, req, "Tags", check_tag_req, merge, out, e);
}

int floe_fh_tags_untag(struct floe_fh_api *api, const cJSON *req,
                       struct floe_buf *out, struct floe_fh_err *e)
{
    return tags_op(api, req, "TagKeys", check_keys, drop_keys, out, e);
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
