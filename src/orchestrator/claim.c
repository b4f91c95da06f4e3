/* claim.c - sense landing/, claim objects into a batch, manifests.
 * Order of a claim: manifest (state "claiming") -> copy each object ->
 * delete its landing original -> manifest state "claimed". Any crash
 * leaves a manifest that floe_claim_resume() finishes: a destination that
 * exists is never copied again, a landing key already gone is fine. Only
 * the streams the warehouse's models declare are claimed; landing/errors/
 * and objects of other streams are counted and named.
 * Check after the moves: each copy is scanned once; one that cannot be
 * loaded is copied to quarantine (with a reason object), the manifest
 * records it, and only then is its processing/ copy deleted, so a crash at
 * any point re-runs to the same end. */
#define FLOE_LOG_MOD "orch.claim"
#include "orchestrator/claim.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "warehouse/lines.h"

#define LANDING_PREFIX FLOE_ZONE_LANDING "/"
#define ERRORS_STREAM "errors"
#define MANIFEST_MAX ((size_t)256 << 20)
#define MOVERS 8 /* objects moved at once: on S3 each move is four round
                    trips (two heads, copy, delete) */
#define QUARANTINE_PREFIX FLOE_ZONE_PROCESSED "/quarantine/objects/"

/* --- pending set --------------------------------------------------- */

void floe_pending_free(struct floe_pending *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n; i++) {
        free(p->v[i].source);
        free(p->v[i].key);
        free(p->v[i].reason);
    }
    free(p->v);
    memset(p, 0, sizeof(*p));
}

/* The stream of a landing key, or NULL; *out_len is its length. */
static const char *stream_of(const char *key, size_t *out_len)
{
    const char *s, *slash;

    if (strncmp(key, LANDING_PREFIX, strlen(LANDING_PREFIX)) != 0)
        return NULL;
    s = key + strlen(LANDING_PREFIX);
    slash = strchr(s, '/');
    if (slash == NULL || slash == s || slash[1] == '\0')
        return NULL;
    *out_len = (size_t)(slash - s);
    return s;
}

/* Remember a stream with no model in p->unknown_streams ("a, b"), once. */
static void note_unknown(struct floe_pending *p, const char *stream,
                         size_t slen)
{
    char *u = p->unknown_streams;
    const char *at = u;
    size_t n = strlen(u);

    while (*at != '\0') {
        size_t w = strcspn(at, ",");
        if (w == slen && strncmp(at, stream, slen) == 0)
            return;
        at += w;
        at += strspn(at, ", ");
    }
    if (n + slen + 3 > sizeof(p->unknown_streams))
        return; /* the count still says how many objects */
    snprintf(u + n, sizeof(p->unknown_streams) - n, "%s%.*s", n ? ", " : "",
             (int)slen, stream);
    floe_log_warn("landing/%.*s/: no model declares the stream '%.*s'; its "
                  "objects stay in landing/ (add a %.*s.stream.yaml to the "
                  "models)", (int)slen, stream, (int)slen, stream, (int)slen,
                  stream);
}

static int sense_one(const struct floe_obj_info *info, void *ud)
{
    struct floe_pending *p = ud;
    const char *const *known = p->streams;
    const char *stream;
    size_t slen = 0, i;

    stream = stream_of(info->key, &slen);
    if (stream != NULL && slen == strlen(ERRORS_STREAM) &&
        strncmp(stream, ERRORS_STREAM, slen) == 0) {
        p->errors++;
        p->error_bytes += info->size;
        return 0;
    }
    for (i = 0; stream != NULL && known[i] != NULL; i++)
        if (strlen(known[i]) == slen && strncmp(stream, known[i], slen) == 0)
            break;
    if (stream == NULL || known[i] == NULL) {
        if (stream != NULL)
            note_unknown(p, stream, slen);
        else if (p->unknown == 0)
            floe_log_warn("%s: not under a stream; left in landing/",
                          info->key);
        p->unknown++;
        return 0;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct floe_claim_obj *v = realloc(p->v, cap * sizeof(*v));

        if (v == NULL)
            return FLOE_ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
    p->v[p->n].source = strdup(info->key);
    if (p->v[p->n].source == NULL)
        return FLOE_ENOMEM;
    p->v[p->n].size = info->size;
    p->bytes += info->size;
    p->n++;
    return 0;
}

int floe_claim_sense(struct floe_store *st, const char *const *streams,
                     struct floe_pending *out, char *err)
{
    static const char *const none[] = { NULL };
    int rc;

    floe_pending_free(out);
    out->streams = streams != NULL ? streams : none;
    rc = floe_store_list(st, LANDING_PREFIX, sense_one, out);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "listing %s in %s failed: %s",
                        LANDING_PREFIX, floe_store_url(st),
                        floe_store_strerror(rc));
    return FLOE_OK;
}

size_t floe_claim_take(const struct floe_pending *p, size_t from,
                       int64_t max_objects, int64_t max_bytes)
{
    size_t i, n = 0;
    int64_t bytes = 0;

    for (i = from; i < p->n; i++, n++) {
        if (max_objects > 0 && (int64_t)n >= max_objects)
            break;
        if (n > 0 && max_bytes > 0 && bytes + p->v[i].size > max_bytes)
            break;
        bytes += p->v[i].size;
    }
    return n;
}

/* --- batch ids and keys -------------------------------------------- */

#define ID_TIME_LEN 17 /* "YYYYMMDDTHHMMSSZ-" */

static int parse_hex6(const char *s, unsigned long *out)
{
    char *end;
    size_t i;

    for (i = 0; i < 6; i++)
        if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
            return FLOE_EINVAL;
    if (s[6] != '\0')
        return FLOE_EINVAL;
    *out = strtoul(s, &end, 16);
    return FLOE_OK;
}

int floe_claim_batch_id(int64_t now_ms, const char *after,
                        char out[FLOE_CLAIM_ID_LEN + 1])
{
    time_t secs = (time_t)(now_ms / 1000);
    unsigned char rnd[3];
    unsigned long prev;
    struct tm tm;
    int rc;

    rc = floe_random(rnd, sizeof(rnd));
    if (rc != FLOE_OK)
        return rc;
    gmtime_r(&secs, &tm);
    if (strftime(out, FLOE_CLAIM_ID_LEN + 1, "%Y%m%dT%H%M%SZ-", &tm) !=
        ID_TIME_LEN)
        return FLOE_EINVAL;
    snprintf(out + ID_TIME_LEN, 7, "%02x%02x%02x", rnd[0], rnd[1], rnd[2]);
    /* Keep ids from one database in creation order, even within a second
     * or when the clock stepped back. */
    if (after != NULL && strlen(after) == FLOE_CLAIM_ID_LEN &&
        after[ID_TIME_LEN - 1] == '-' &&
        strncmp(after, out, ID_TIME_LEN) >= 0 &&
        parse_hex6(after + ID_TIME_LEN, &prev) == FLOE_OK &&
        prev < 0xffffffUL && strcmp(after, out) >= 0) {
        memcpy(out, after, ID_TIME_LEN);
        snprintf(out + ID_TIME_LEN, 7, "%06lx", prev + 1);
    }
    return FLOE_OK;
}

int floe_claim_check_id(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n > FLOE_CLAIM_ID_MAX || id[0] == '.')
        return FLOE_EINVAL;
    for (i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return FLOE_EINVAL;
    }
    return FLOE_OK;
}

int floe_claim_dest_key(const char *batch, const char *landing_key,
                        char *out, size_t n)
{
    size_t slen;
    int len;

    if (stream_of(landing_key, &slen) == NULL)
        return FLOE_EINVAL;
    len = snprintf(out, n, "%s/batch=%s/%s", FLOE_ZONE_PROCESSING, batch,
                   landing_key + strlen(LANDING_PREFIX));
    if (len < 0 || (size_t)len >= n || len > FLOE_STORE_KEY_MAX)
        return FLOE_ETOOBIG;
    return floe_store_key_check(out);
}

int floe_claim_quarantine_key(const char *dest_key, char *out, size_t n)
{
    const char *zone = FLOE_ZONE_PROCESSING "/";
    int len;

    if (strncmp(dest_key, zone, strlen(zone)) != 0)
        return FLOE_EINVAL;
    len = snprintf(out, n, "%s%s", QUARANTINE_PREFIX,
                   dest_key + strlen(zone));
    if (len < 0 || (size_t)len >= n || len > FLOE_STORE_KEY_MAX)
        return FLOE_ETOOBIG;
    return floe_store_key_check(out);
}

int floe_claim_manifest_key(const char *batch, char *out, size_t n)
{
    int len = snprintf(out, n, "%s/batch=%s/%s", FLOE_ZONE_PROCESSING, batch,
                       FLOE_MANIFEST_NAME);

    return len < 0 || (size_t)len >= n ? FLOE_ETOOBIG : FLOE_OK;
}

/* --- manifests ----------------------------------------------------- */

void floe_manifest_free(struct floe_manifest *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n; i++) {
        free(m->v[i].source);
        free(m->v[i].key);
        free(m->v[i].reason);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static int json_str_field(cJSON *obj, const char *name, const char **out)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!cJSON_IsString(it) || it->valuestring == NULL)
        return FLOE_ECORRUPT;
    *out = it->valuestring;
    return FLOE_OK;
}

static int parse_manifest(const char *batch, const char *text, size_t len,
                          struct floe_manifest *m, char *err)
{
    char prefix[FLOE_STORE_KEY_MAX + 1];
    cJSON *root, *objs, *it;
    const char *id, *created, *state;
    size_t i = 0, plen;
    int rc = FLOE_OK;

    root = cJSON_ParseWithLength(text, len);
    if (root == NULL)
        return floe_err(err, FLOE_ECORRUPT, "not valid JSON");
    objs = cJSON_GetObjectItemCaseSensitive(root, "objects");
    if (json_str_field(root, "batch_id", &id) != FLOE_OK ||
        json_str_field(root, "created_at", &created) != FLOE_OK ||
        json_str_field(root, "state", &state) != FLOE_OK ||
        !cJSON_IsArray(objs)) {
        rc = floe_err(err, FLOE_ECORRUPT,
                      "needs batch_id, created_at, state and objects");
        goto cleanup;
    }
    if (strcmp(id, batch) != 0) {
        rc = floe_err(err, FLOE_ECORRUPT, "batch_id is '%s', not '%s'", id,
                      batch);
        goto cleanup;
    }
    snprintf(m->batch_id, sizeof(m->batch_id), "%s", id);
    snprintf(m->created_at, sizeof(m->created_at), "%s", created);
    snprintf(m->state, sizeof(m->state), "%s", state);
    plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/batch=%s/",
                            FLOE_ZONE_PROCESSING, batch);
    m->n = (size_t)cJSON_GetArraySize(objs);
    m->v = m->n ? calloc(m->n, sizeof(*m->v)) : NULL;
    if (m->n && m->v == NULL) {
        m->n = 0;
        rc = floe_err(err, FLOE_ENOMEM, "out of memory");
        goto cleanup;
    }
    cJSON_ArrayForEach(it, objs) {
        cJSON *size = cJSON_GetObjectItemCaseSensitive(it, "size");
        cJSON *missing = cJSON_GetObjectItemCaseSensitive(it, "missing");
        cJSON *checked = cJSON_GetObjectItemCaseSensitive(it, "checked");
        cJSON *why = cJSON_GetObjectItemCaseSensitive(it, "quarantined");
        const char *src, *key;

        if (json_str_field(it, "source", &src) != FLOE_OK ||
            json_str_field(it, "key", &key) != FLOE_OK ||
            !cJSON_IsNumber(size) || !(size->valuedouble >= 0 &&
                                       size->valuedouble < 9e18) ||
            strncmp(key, prefix, plen) != 0 ||
            floe_store_key_check(src) != FLOE_OK ||
            floe_store_key_check(key) != FLOE_OK) {
            rc = floe_err(err, FLOE_ECORRUPT,
                          "object %zu needs a source key, a key under %s "
                          "and a size", i, prefix);
            goto cleanup;
        }
        m->v[i].source = strdup(src);
        m->v[i].key = strdup(key);
        m->v[i].size = (int64_t)size->valuedouble;
        m->v[i].missing = cJSON_IsTrue(missing);
        m->v[i].checked = cJSON_IsTrue(checked);
        if (cJSON_IsString(why) && why->valuestring != NULL &&
            (m->v[i].reason = strdup(why->valuestring)) == NULL) {
            rc = floe_err(err, FLOE_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (m->v[i].source == NULL || m->v[i].key == NULL) {
            rc = floe_err(err, FLOE_ENOMEM, "out of memory");
            goto cleanup;
        }
        i++;
    }
cleanup:
    cJSON_Delete(root);
    return rc;
}

int floe_manifest_read(struct floe_store *st, const char *batch,
                       struct floe_manifest *out, char *err)
{
    char key[FLOE_STORE_KEY_MAX + 1], why[FLOE_ERR_LEN];
    struct floe_buf b;
    int rc;

    memset(out, 0, sizeof(*out));
    floe_buf_init(&b, MANIFEST_MAX);
    rc = floe_claim_manifest_key(batch, key, sizeof(key));
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "batch id too long");
        goto cleanup;
    }
    rc = floe_store_get(st, key, &b);
    if (rc == FLOE_ENOTFOUND) {
        rc = floe_err(err, rc, "no manifest %s", key);
        goto cleanup;
    }
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "cannot read %s: %s", key, floe_store_strerror(rc));
        goto cleanup;
    }
    rc = parse_manifest(batch, b.data ? b.data : "", b.len, out, why);
    if (rc != FLOE_OK) {
        floe_manifest_free(out);
        rc = floe_err(err, rc, "manifest %s is damaged: %s", key, why);
    }
cleanup:
    floe_buf_free(&b);
    return rc;
}

int floe_manifest_write(struct floe_store *st, const struct floe_manifest *m,
                        char *err)
{
    char key[FLOE_STORE_KEY_MAX + 1];
    struct floe_buf b;
    size_t i;
    int rc;

    floe_buf_init(&b, MANIFEST_MAX);
    rc = floe_claim_manifest_key(m->batch_id, key, sizeof(key));
    rc = rc ? rc : floe_buf_adds(&b, "{\"batch_id\":");
    rc = rc ? rc : floe_buf_add_json_str(&b, m->batch_id,
                                         strlen(m->batch_id));
    rc = rc ? rc : floe_buf_adds(&b, ",\n \"created_at\":");
    rc = rc ? rc : floe_buf_add_json_str(&b, m->created_at,
                                         strlen(m->created_at));
    rc = rc ? rc : floe_buf_adds(&b, ",\n \"state\":");
    rc = rc ? rc : floe_buf_add_json_str(&b, m->state, strlen(m->state));
    rc = rc ? rc : floe_buf_adds(&b, ",\n \"objects\":[");
    for (i = 0; rc == FLOE_OK && i < m->n; i++) {
        const struct floe_claim_obj *o = &m->v[i];

        rc = floe_buf_adds(&b, i ? ",\n  {\"source\":" : "\n  {\"source\":");
        rc = rc ? rc : floe_buf_add_json_str(&b, o->source,
                                             strlen(o->source));
        rc = rc ? rc : floe_buf_adds(&b, ",\"key\":");
        rc = rc ? rc : floe_buf_add_json_str(&b, o->key, strlen(o->key));
        rc = rc ? rc : floe_buf_addf(&b, ",\"size\":%lld%s%s",
                                     (long long)o->size,
                                     o->missing ? ",\"missing\":true" : "",
                                     o->checked ? ",\"checked\":true" : "");
        if (rc == FLOE_OK && o->reason != NULL) {
            rc = floe_buf_adds(&b, ",\"quarantined\":");
            rc = rc ? rc : floe_buf_add_json_str(&b, o->reason,
                                                 strlen(o->reason));
        }
        rc = rc ? rc : floe_buf_adds(&b, "}");
    }
    rc = rc ? rc : floe_buf_adds(&b, "]}\n");
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "manifest of batch %s: %s", m->batch_id,
                      floe_strerror(rc));
        goto cleanup;
    }
    rc = floe_store_put(st, key, b.data, b.len);
    if (rc != FLOE_OK)
        rc = floe_err(err, rc, "cannot write %s: %s", key,
                      floe_store_strerror(rc));
cleanup:
    floe_buf_free(&b);
    return rc;
}

int floe_manifest_set_state(struct floe_store *st, const char *batch,
                            const char *state, char *err)
{
    struct floe_manifest m;
    int rc;

    rc = floe_manifest_read(st, batch, &m, err);
    if (rc != FLOE_OK)
        return rc;
    if (strcmp(m.state, state) != 0) {
        snprintf(m.state, sizeof(m.state), "%s", state);
        rc = floe_manifest_write(st, &m, err);
    }
    floe_manifest_free(&m);
    return rc;
}

/* --- moving objects ------------------------------------------------ */

/* Move one manifest entry; safe to repeat. Sets o->missing when neither
 * the landing object nor its copy exists. */
static int move_one(struct floe_store *st, struct floe_claim_obj *o,
                    struct floe_claim_counts *c, char *err)
{
    struct floe_obj_info dst, src;
    int rc, src_rc;

    rc = floe_store_head(st, o->key, &dst);
    if (rc != FLOE_OK && rc != FLOE_ENOTFOUND)
        return floe_err(err, rc, "cannot check %s: %s", o->key,
                        floe_store_strerror(rc));
    src_rc = floe_store_head(st, o->source, &src);
    if (src_rc != FLOE_OK && src_rc != FLOE_ENOTFOUND)
        return floe_err(err, src_rc, "cannot check %s: %s", o->source,
                        floe_store_strerror(src_rc));
    if (src_rc == FLOE_ENOTFOUND) {
        if (rc == FLOE_ENOTFOUND && !o->missing) {
            floe_log_warn("%s vanished from landing/ before it was copied "
                          "to %s; recorded as missing in the manifest",
                          o->source, o->key);
            o->missing = true;
        }
        if (rc == FLOE_OK)
            o->missing = false;
        return FLOE_OK;
    }
    /* A copy is atomic, so an existing destination of the right size is
     * the finished copy of this very object. */
    if (rc == FLOE_ENOTFOUND || dst.size != src.size) {
        rc = floe_store_copy(st, o->source, o->key);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "cannot copy %s to %s: %s", o->source,
                            o->key, floe_store_strerror(rc));
        c->copied++;
    }
    o->missing = false;
    rc = floe_store_delete(st, o->source);
    if (rc != FLOE_OK)
        return floe_err(err, rc, "cannot delete %s: %s", o->source,
                        floe_store_strerror(rc));
    c->deleted++;
    return FLOE_OK;
}

/* Set object `o` of `batch` aside: copy it to quarantine with a reason
 * object beside it. Its processing/ copy goes once the manifest says so. */
static int quarantine(struct floe_store *st, const char *batch,
                      struct floe_claim_obj *o, const char *why, char *err)
{
    char qkey[FLOE_STORE_KEY_MAX + 1], rkey[FLOE_STORE_KEY_MAX + 16];
    struct floe_buf r;
    int rc;

    floe_buf_init(&r, 64 * 1024);
    rc = floe_claim_quarantine_key(o->key, qkey, sizeof(qkey));
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "no quarantine key for %s", o->key);
        goto cleanup;
    }
    snprintf(rkey, sizeof(rkey), "%s.reason.json", qkey);
    rc = floe_buf_adds(&r, "{\"batch_id\":");
    rc = rc ? rc : floe_buf_add_json_str(&r, batch, strlen(batch));
    rc = rc ? rc : floe_buf_adds(&r, ",\"source\":");
    rc = rc ? rc : floe_buf_add_json_str(&r, o->source, strlen(o->source));
    rc = rc ? rc : floe_buf_adds(&r, ",\"key\":");
    rc = rc ? rc : floe_buf_add_json_str(&r, qkey, strlen(qkey));
    rc = rc ? rc : floe_buf_adds(&r, ",\"reason\":");
    rc = rc ? rc : floe_buf_add_json_str(&r, why, strlen(why));
    rc = rc ? rc : floe_buf_adds(&r, "}\n");
    if (rc == FLOE_OK)
        rc = floe_store_copy(st, o->key, qkey);
    if (rc == FLOE_OK)
        rc = floe_store_put(st, rkey, r.data, r.len);
    if (rc == FLOE_OK)
        o->reason = strdup(why);
    if (rc == FLOE_OK && o->reason == NULL)
        rc = FLOE_ENOMEM;
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "cannot quarantine %s as %s: %s", o->key,
                      qkey, floe_store_strerror(rc));
        goto cleanup;
    }
    floe_log_warn("batch %s: %s cannot be loaded (%s); set aside as %s, the "
                  "rest of the batch goes on",
                  batch, o->source, why, qkey);
cleanup:
    floe_buf_free(&r);
    return rc;
}

/* Read the copy of `o` once and judge it. Only a verdict on the data
 * quarantines; a failed read is an error (the claim is retried). */
static int check_one(struct floe_store *st, const char *batch,
                     struct floe_claim_obj *o, char *err)
{
    struct floe_buf b;
    char why[FLOE_ERR_LEN];
    int rc;

    floe_buf_init(&b, FLOE_WH_OBJECT_MAX);
    rc = floe_store_get(st, o->key, &b);
    if (rc != FLOE_OK) {
        rc = floe_err(err, rc, "cannot read %s: %s", o->key,
                      floe_store_strerror(rc));
        goto cleanup;
    }
    why[0] = '\0';
    rc = floe_wh_scan(b.data, b.len, FLOE_WH_LINE_MAX, FLOE_WH_OBJECT_MAX,
                      NULL, why);
    if (rc == FLOE_ECORRUPT || rc == FLOE_ETOOBIG)
        rc = quarantine(st, batch, o, why, err);
    else if (rc != FLOE_OK)
        rc = floe_err(err, rc, "%s: %s", o->key, why);
    if (rc == FLOE_OK)
        o->checked = true;
cleanup:
    floe_buf_free(&b);
    return rc;
}

/* Objects moved by MOVERS threads taking the next index; the first
 * failure stops them all (objects are independent: each move is
 * idempotent and the manifest is written before any of them). */
struct movers {
    struct floe_store *st;
    struct floe_manifest *m;
    atomic_size_t next;
    atomic_bool stop;
    pthread_mutex_t mu;   /* guards the fields below */
    int rc;
    char err[FLOE_ERR_LEN];
    int64_t copied, deleted;
};

static void *mover(void *arg)
{
    struct movers *mv = arg;
    struct floe_claim_counts c = { 0 };
    char err[FLOE_ERR_LEN] = "";
    int rc = FLOE_OK;
    size_t i;

    while (!atomic_load(&mv->stop) &&
           (i = atomic_fetch_add(&mv->next, 1)) < mv->m->n) {
        if (mv->m->v[i].reason != NULL) /* set aside: nothing to move */
            continue;
        rc = move_one(mv->st, &mv->m->v[i], &c, err);
        if (rc != FLOE_OK) {
            atomic_store(&mv->stop, true);
            break;
        }
    }
    pthread_mutex_lock(&mv->mu);
    mv->copied += c.copied;
    mv->deleted += c.deleted;
    if (rc != FLOE_OK && mv->rc == FLOE_OK) {
        mv->rc = rc;
        memcpy(mv->err, err, sizeof(err));
    }
    pthread_mutex_unlock(&mv->mu);
    return NULL;
}

static int move_each(struct floe_store *st, struct floe_manifest *m,
                     struct floe_claim_counts *c, char *err)
{
    struct movers mv = { .st = st, .m = m, .rc = FLOE_OK };
    pthread_t t[MOVERS];
    size_t k, nt = m->n < MOVERS ? m->n : MOVERS, started = 0;

    atomic_init(&mv.next, 0);
    atomic_init(&mv.stop, false);
    pthread_mutex_init(&mv.mu, NULL);
    for (k = 1; k < nt; k++) /* this thread is the first mover */
        if (pthread_create(&t[started], NULL, mover, &mv) == 0)
            started++;
    mover(&mv);
    for (k = 0; k < started; k++)
        pthread_join(t[k], NULL);
    pthread_mutex_destroy(&mv.mu);
    c->copied += mv.copied;
    c->deleted += mv.deleted;
    if (mv.rc != FLOE_OK && err != NULL)
        memcpy(err, mv.err, FLOE_ERR_LEN);
    return mv.rc;
}

static int move_all(struct floe_store *st, struct floe_manifest *m,
                    struct floe_claim_counts *c, char *err)
{
    bool unfinished, changed = false;
    size_t i;
    int rc;

    rc = move_each(st, m, c, err);
    if (rc != FLOE_OK)
        return rc;
    for (i = 0; i < m->n; i++) {
        if (m->v[i].missing || m->v[i].checked)
            continue;
        rc = check_one(st, m->batch_id, &m->v[i], err);
        if (rc != FLOE_OK)
            return rc;
        changed = true;
    }
    for (i = 0; i < m->n; i++) {
        c->objects++;
        c->bytes += m->v[i].size;
        c->missing += m->v[i].missing;
        c->quarantined += m->v[i].reason != NULL;
    }
    /* A claim that had not finished (or gave up) is now complete; the
     * write also records entries found missing or checked. */
    unfinished = strcmp(m->state, FLOE_MANIFEST_CLAIMING) == 0 ||
                 strcmp(m->state, FLOE_MANIFEST_FAILED) == 0;
    if (unfinished)
        snprintf(m->state, sizeof(m->state), "%s", FLOE_MANIFEST_CLAIMED);
    if (unfinished || changed || c->missing > 0) {
        rc = floe_manifest_write(st, m, err);
        if (rc != FLOE_OK)
            return rc;
    }
    /* The manifest knows: the load must not see them. */
    for (i = 0; i < m->n; i++) {
        if (m->v[i].reason == NULL)
            continue;
        rc = floe_store_delete(st, m->v[i].key);
        if (rc != FLOE_OK)
            return floe_err(err, rc, "cannot delete %s: %s", m->v[i].key,
                            floe_store_strerror(rc));
    }
    return FLOE_OK;
}

int floe_claim_new(struct floe_store *st, const char *batch,
                   const char *created_at, const struct floe_claim_obj *objs,
                   size_t n, struct floe_claim_counts *out, char *err)
{
    struct floe_manifest m;
    char key[FLOE_STORE_KEY_MAX + 1];
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    if (floe_claim_check_id(batch) != FLOE_OK)
        return floe_err(err, FLOE_EINVAL, "bad batch id '%s'", batch);
    snprintf(m.batch_id, sizeof(m.batch_id), "%s", batch);
    snprintf(m.created_at, sizeof(m.created_at), "%s", created_at);
    snprintf(m.state, sizeof(m.state), "%s", FLOE_MANIFEST_CLAIMING);
    m.v = n ? calloc(n, sizeof(*m.v)) : NULL;
    if (n && m.v == NULL)
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    m.n = n;
    for (i = 0; i < n; i++) {
        rc = floe_claim_dest_key(batch, objs[i].source, key, sizeof(key));
        if (rc != FLOE_OK) {
            rc = floe_err(err, rc, "cannot claim %s: no valid destination "
                          "key under processing/", objs[i].source);
            goto cleanup;
        }
        m.v[i].source = strdup(objs[i].source);
        m.v[i].key = strdup(key);
        m.v[i].size = objs[i].size;
        if (m.v[i].source == NULL || m.v[i].key == NULL) {
            rc = floe_err(err, FLOE_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    rc = floe_manifest_write(st, &m, err); /* before any object moves */
    if (rc == FLOE_OK)
        rc = move_all(st, &m, out, err);
cleanup:
    floe_manifest_free(&m);
    return rc;
}

int floe_claim_resume(struct floe_store *st, const char *batch,
                      struct floe_claim_counts *out, char *err)
{
    struct floe_manifest m;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = floe_manifest_read(st, batch, &m, err);
    if (rc != FLOE_OK)
        return rc;
    rc = move_all(st, &m, out, err);
    floe_manifest_free(&m);
    return rc;
}
