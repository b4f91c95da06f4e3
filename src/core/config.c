/* config.c - floe.yaml: libyaml events parsed into a small tree of
 * mappings, sequences and scalars, each remembering its line, so every
 * later message can say "file:line". Strict on purpose: duplicate keys,
 * tabs in indentation, aliases, several documents and a top level that is
 * not a mapping are errors, never silently resolved. The only global is
 * the "current" document that main() sets once. */
#include "core/config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/util.h"

#define MAX_DEPTH 32
#define MAX_FILE (16u << 20)

struct node {
    enum floe_config_kind kind;
    int line;
    char *text;                  /* FLOE_CONFIG_SCALAR */
    bool quoted;                 /* scalar written '...', "..." or | > */
    struct floe_config_map *map; /* FLOE_CONFIG_MAP */
    struct node *items;          /* FLOE_CONFIG_SEQ */
    size_t n, cap;
};

struct entry {
    char *key;
    int line, col;
    struct node val;
};

struct floe_config_map {
    const struct floe_config *doc;
    char *where; /* "file:line" */
    struct entry *e; /* in file order */
    size_t n, cap;
    size_t *by_key;  /* indexes into e sorted by key (then line): lookups
                        and the duplicate check are O(log n) / O(n log n) */
};

struct floe_config {
    char *path;
    struct floe_config_map *root;
};

struct parser {
    yaml_parser_t yp;
    struct floe_config *doc;
    char *err;
};

static struct floe_config *g_current;

/* --- freeing --------------------------------------------------------- */

static void map_free(struct floe_config_map *m);

static void node_free(struct node *n)
{
    size_t i;

    free(n->text);
    map_free(n->map);
    for (i = 0; i < n->n; i++)
        node_free(&n->items[i]);
    free(n->items);
    memset(n, 0, sizeof(*n));
}

static void map_free(struct floe_config_map *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n; i++) {
        free(m->e[i].key);
        node_free(&m->e[i].val);
    }
    free(m->e);
    free(m->by_key);
    free(m->where);
    free(m);
}

void floe_config_free(struct floe_config *cfg)
{
    if (cfg == NULL)
        return;
    map_free(cfg->root);
    free(cfg->path);
    free(cfg);
}

/* --- parsing --------------------------------------------------------- */

static int at(struct parser *p, yaml_mark_t mk, const char *what)
{
    return floe_err(p->err, FLOE_EINVAL, "%s:%zu:%zu: %s", p->doc->path,
                    mk.line + 1, mk.column + 1, what);
}

static int next_event(struct parser *p, yaml_event_t *ev)
{
    if (yaml_parser_parse(&p->yp, ev))
        return FLOE_OK;
    memset(ev, 0, sizeof(*ev)); /* nothing to delete */
    if (p->yp.error == YAML_MEMORY_ERROR)
        return floe_err(p->err, FLOE_ENOMEM, "%s: out of memory",
                        p->doc->path);
    if (p->yp.context != NULL)
        return floe_err(p->err, FLOE_EINVAL, "%s:%zu:%zu: %s %s (line %zu)",
                        p->doc->path, p->yp.problem_mark.line + 1,
                        p->yp.problem_mark.column + 1, p->yp.problem,
                        p->yp.context, p->yp.context_mark.line + 1);
    return floe_err(p->err, FLOE_EINVAL, "%s:%zu:%zu: %s", p->doc->path,
                    p->yp.problem_mark.line + 1,
                    p->yp.problem_mark.column + 1,
                    p->yp.problem ? p->yp.problem : "invalid YAML");
}

static bool is_null(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static int new_map(struct parser *p, int line, struct floe_config_map **out)
{
    struct floe_config_map *m = calloc(1, sizeof(*m));
    struct floe_buf w;

    *out = NULL;
    if (m == NULL)
        return floe_err(p->err, FLOE_ENOMEM, "out of memory");
    floe_buf_init(&w, FLOE_BUF_UNLIMITED);
    if (floe_buf_addf(&w, "%s:%d", p->doc->path, line) != FLOE_OK) {
        free(m);
        return floe_err(p->err, FLOE_ENOMEM, "out of memory");
    }
    m->doc = p->doc;
    m->where = floe_buf_take(&w, NULL);
    *out = m;
    return FLOE_OK;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    void *q;
    size_t c;

    if (n < *cap)
        return FLOE_OK;
    c = *cap ? *cap * 2 : 4;
    q = realloc(*arr, c * size);
    if (q == NULL)
        return FLOE_ENOMEM;
    *arr = q;
    *cap = c;
    return FLOE_OK;
}

static int parse_node(struct parser *p, yaml_event_t *ev, struct node *out,
                      int depth);

/* qsort_r is a GNU extension; the entries travel with the indexes. */
struct key_ref {
    const char *key;
    int line, col;
    size_t i;
};

static int key_ref_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c == 0)
        c = (x->line > y->line) - (x->line < y->line);
    return c != 0 ? c : (x->col > y->col) - (x->col < y->col);
}

/* Sort the keys of a finished mapping into m->by_key and refuse a key
 * written twice, naming both lines: O(n log n), where comparing each new
 * key with all earlier ones took minutes on 100,000 keys. */
static int index_map(struct parser *p, struct floe_config_map *m)
{
    struct key_ref *refs;
    size_t i;
    int rc = FLOE_OK, dup_line = 0;

    if (m->n == 0)
        return FLOE_OK;
    refs = malloc(m->n * sizeof(*refs));
    m->by_key = malloc(m->n * sizeof(*m->by_key));
    if (refs == NULL || m->by_key == NULL) {
        free(refs);
        return floe_err(p->err, FLOE_ENOMEM, "out of memory");
    }
    for (i = 0; i < m->n; i++)
        refs[i] = (struct key_ref){ m->e[i].key, m->e[i].line,
                                    m->e[i].col, i };
    qsort(refs, m->n, sizeof(*refs), key_ref_cmp);
    for (i = 0; i < m->n; i++) {
        m->by_key[i] = refs[i].i;
        /* The first repeat in file order is the one reported. */
        if (i > 0 && strcmp(refs[i].key, refs[i - 1].key) == 0 &&
            (rc == FLOE_OK || refs[i].line < dup_line)) {
            dup_line = refs[i].line;
            rc = floe_err(p->err, FLOE_EINVAL,
                          "%s:%d:%d: duplicate key '%s' (first at line %d)",
                          p->doc->path, refs[i].line, refs[i].col,
                          refs[i].key, refs[i - 1].line);
        }
    }
    free(refs);
    return rc;
}

/* After MAPPING_START (out->line set); consumes through MAPPING_END. */
static int parse_map(struct parser *p, struct node *out, int depth)
{
    yaml_event_t ev;
    struct entry *e;
    int rc;

    out->kind = FLOE_CONFIG_MAP;
    rc = new_map(p, out->line, &out->map);
    if (rc != FLOE_OK)
        return rc;
    for (;;) {
        rc = next_event(p, &ev);
        if (rc != FLOE_OK)
            return rc;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return index_map(p, out->map);
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            rc = at(p, ev.start_mark, "a key must be plain text, not a "
                                      "list, mapping or alias");
            yaml_event_delete(&ev);
            return rc;
        }
        if (grow((void **)&out->map->e, &out->map->cap, out->map->n,
                 sizeof(*e)) != FLOE_OK) {
            yaml_event_delete(&ev);
            return floe_err(p->err, FLOE_ENOMEM, "out of memory");
        }
        e = &out->map->e[out->map->n];
        memset(e, 0, sizeof(*e));
        e->key = strdup((const char *)ev.data.scalar.value);
        e->line = (int)ev.start_mark.line + 1;
        e->col = (int)ev.start_mark.column + 1;
        yaml_event_delete(&ev);
        if (e->key == NULL)
            return floe_err(p->err, FLOE_ENOMEM, "out of memory");
        out->map->n++; /* owned by the map from here, even half-built */
        rc = next_event(p, &ev);
        if (rc != FLOE_OK)
            return rc;
        rc = parse_node(p, &ev, &e->val, depth + 1);
        yaml_event_delete(&ev);
        if (rc != FLOE_OK)
            return rc;
    }
}

/* Consumes through SEQUENCE_END. */
static int parse_seq(struct parser *p, struct node *out, int depth)
{
    yaml_event_t ev;
    int rc;

    out->kind = FLOE_CONFIG_SEQ;
    for (;;) {
        rc = next_event(p, &ev);
        if (rc != FLOE_OK)
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return FLOE_OK;
        }
        if (grow((void **)&out->items, &out->cap, out->n,
                 sizeof(*out->items)) != FLOE_OK) {
            yaml_event_delete(&ev);
            return floe_err(p->err, FLOE_ENOMEM, "out of memory");
        }
        memset(&out->items[out->n], 0, sizeof(*out->items));
        rc = parse_node(p, &ev, &out->items[out->n++], depth + 1);
        yaml_event_delete(&ev);
        if (rc != FLOE_OK)
            return rc;
    }
}

/* `ev` (borrowed: the caller deletes it) starts the node. */
static int parse_node(struct parser *p, yaml_event_t *ev, struct node *out,
                      int depth)
{
    out->line = (int)ev->start_mark.line + 1;
    if (depth > MAX_DEPTH)
        return at(p, ev->start_mark, "nested too deeply");
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (is_null(ev)) {
            out->kind = FLOE_CONFIG_NULL;
            return FLOE_OK;
        }
        if (strlen((const char *)ev->data.scalar.value) !=
            ev->data.scalar.length)
            return at(p, ev->start_mark, "a value contains a NUL byte");
        out->kind = FLOE_CONFIG_SCALAR;
        out->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        out->text = strdup((const char *)ev->data.scalar.value);
        if (out->text == NULL)
            return floe_err(p->err, FLOE_ENOMEM, "out of memory");
        return FLOE_OK;
    case YAML_MAPPING_START_EVENT:
        return parse_map(p, out, depth);
    case YAML_SEQUENCE_START_EVENT:
        return parse_seq(p, out, depth);
    case YAML_ALIAS_EVENT:
        return at(p, ev->start_mark, "aliases (*name) are not supported; "
                                     "write the value out");
    default:
        return at(p, ev->start_mark, "unexpected YAML event");
    }
}

/* Tabs are legal in some YAML positions, but in indentation they are
 * either an error or a trap; name the exact spot. */
static int check_tabs(struct parser *p, const char *text, size_t len)
{
    size_t i, line = 1, col = 1;
    bool lead = true;

    for (i = 0; i < len; i++) {
        char c = text[i];

        if (c == '\n') {
            line++;
            col = 1;
            lead = true;
            continue;
        }
        if (lead && c == '\t')
            return floe_err(p->err, FLOE_EINVAL,
                            "%s:%zu:%zu: tab character in indentation "
                            "(YAML indents with spaces)", p->doc->path, line,
                            col);
        if (c != ' ' && c != '-')
            lead = false;
        col++;
    }
    return FLOE_OK;
}

/* STREAM_START, then nothing or one document whose root is a mapping. */
static int parse_stream(struct parser *p)
{
    yaml_event_t ev;
    struct node root;
    int rc;

    memset(&root, 0, sizeof(root));
    rc = next_event(p, &ev); /* STREAM_START */
    if (rc != FLOE_OK)
        return rc;
    yaml_event_delete(&ev);
    rc = next_event(p, &ev);
    if (rc != FLOE_OK)
        return rc;
    if (ev.type == YAML_STREAM_END_EVENT) { /* empty or only comments */
        yaml_event_delete(&ev);
        return new_map(p, 1, &p->doc->root);
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    rc = next_event(p, &ev);
    if (rc != FLOE_OK)
        return rc;
    if (ev.type == YAML_SCALAR_EVENT && is_null(&ev)) {
        rc = new_map(p, (int)ev.start_mark.line + 1, &p->doc->root);
    } else if (ev.type != YAML_MAPPING_START_EVENT) {
        rc = at(p, ev.start_mark, "the top level must be a mapping of "
                                  "sections (e.g. 'firehose:' with options "
                                  "indented below it)");
    } else {
        root.line = (int)ev.start_mark.line + 1;
        rc = parse_map(p, &root, 1);
        p->doc->root = root.map; /* even half-built: freed with the doc */
    }
    yaml_event_delete(&ev);
    if (rc != FLOE_OK)
        return rc;
    rc = next_event(p, &ev); /* DOCUMENT_END */
    if (rc != FLOE_OK)
        return rc;
    yaml_event_delete(&ev);
    rc = next_event(p, &ev);
    if (rc != FLOE_OK)
        return rc;
    if (ev.type != YAML_STREAM_END_EVENT)
        rc = at(p, ev.start_mark, "only one YAML document is allowed "
                                  "(remove the second '---')");
    yaml_event_delete(&ev);
    return rc;
}

int floe_config_parse(const char *name, const char *text, size_t len,
                      struct floe_config **out, char *err)
{
    struct parser p;
    int rc;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    p.err = err;
    p.doc = calloc(1, sizeof(*p.doc));
    if (p.doc == NULL || (p.doc->path = strdup(name)) == NULL) {
        free(p.doc);
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    }
    if (!yaml_parser_initialize(&p.yp)) {
        floe_config_free(p.doc);
        return floe_err(err, FLOE_ENOMEM, "out of memory");
    }
    rc = check_tabs(&p, text, len);
    if (rc == FLOE_OK) {
        yaml_parser_set_input_string(&p.yp, (const unsigned char *)text,
                                     len);
        yaml_parser_set_encoding(&p.yp, YAML_UTF8_ENCODING);
        rc = parse_stream(&p);
    }
    yaml_parser_delete(&p.yp);
    if (rc != FLOE_OK) {
        floe_config_free(p.doc);
        return rc;
    }
    *out = p.doc;
    return FLOE_OK;
}

int floe_config_load(const char *path, struct floe_config **out, char *err)
{
    struct floe_buf text;
    char ebuf[128];
    int rc;

    *out = NULL;
    floe_buf_init(&text, MAX_FILE);
    errno = 0;
    rc = floe_read_file(path, &text);
    if (rc == FLOE_ENOTFOUND)
        rc = floe_err(err, rc, "%s: no such file", path);
    else if (rc == FLOE_ETOOBIG)
        rc = floe_err(err, rc, "%s: larger than %u MiB; not a config file",
                      path, MAX_FILE >> 20);
    else if (rc == FLOE_ENOMEM)
        rc = floe_err(err, rc, "%s: out of memory", path);
    else if (rc != FLOE_OK)
        rc = floe_err(err, rc, "%s: cannot read: %s", path,
                      strerror_r(errno ? errno : EIO, ebuf, sizeof(ebuf)));
    else
        rc = floe_config_parse(path, text.data, text.len, out, err);
    floe_buf_free(&text);
    return rc;
}

/* --- the current document -------------------------------------------- */

const struct floe_config *floe_config_current(void)
{
    return g_current;
}

void floe_config_set_current(struct floe_config *cfg)
{
    if (g_current != cfg)
        floe_config_free(g_current);
    g_current = cfg;
}

/* --- reading --------------------------------------------------------- */

static const struct entry *find(const struct floe_config_map *m,
                                const char *key)
{
    size_t lo = 0, hi;

    if (m == NULL || key == NULL || m->by_key == NULL)
        return NULL;
    hi = m->n; /* binary search in the sorted index */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->e[m->by_key[mid]].key, key);

        if (c == 0)
            return &m->e[m->by_key[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct floe_config_map *floe_config_root(const struct floe_config *cfg)
{
    return cfg != NULL ? cfg->root : NULL;
}

const char *floe_config_path(const struct floe_config *cfg)
{
    return cfg != NULL ? cfg->path : NULL;
}

const struct floe_config_map *floe_config_section(
    const struct floe_config *cfg, const char *section)
{
    return floe_config_child(floe_config_root(cfg), section);
}

const struct floe_config_map *floe_config_child(
    const struct floe_config_map *m, const char *key)
{
    const struct entry *e = find(m, key);

    return e != NULL && e->val.kind == FLOE_CONFIG_MAP ? e->val.map : NULL;
}

enum floe_config_kind floe_config_kind(const struct floe_config_map *m,
                                       const char *key)
{
    const struct entry *e = find(m, key);

    return e != NULL ? e->val.kind : FLOE_CONFIG_ABSENT;
}

const char *floe_config_get(const struct floe_config_map *m, const char *key)
{
    const struct entry *e = find(m, key);

    return e != NULL && e->val.kind == FLOE_CONFIG_SCALAR ? e->val.text
                                                          : NULL;
}

int floe_config_line(const struct floe_config_map *m, const char *key)
{
    const struct entry *e = find(m, key);

    return e != NULL ? e->line : 0;
}

const char *floe_config_file(const struct floe_config_map *m)
{
    return m != NULL ? m->doc->path : NULL;
}

const char *floe_config_where(const struct floe_config_map *m)
{
    return m != NULL ? m->where : "";
}

int floe_config_each(const struct floe_config_map *m, const char *key,
                     int (*cb)(const struct floe_config_map *item, void *ud),
                     void *ud, char *err)
{
    const struct entry *e = find(m, key);
    size_t i;
    int rc;

    if (e == NULL || e->val.kind == FLOE_CONFIG_NULL)
        return FLOE_OK;
    if (e->val.kind != FLOE_CONFIG_SEQ)
        return floe_err(err, FLOE_EINVAL, "%s:%d: '%s' must be a list of "
                        "mappings ('- name: ...' lines)", m->doc->path,
                        e->line, key);
    /* All items are checked first so a bad list calls `cb` not at all. */
    for (i = 0; i < e->val.n; i++)
        if (e->val.items[i].kind != FLOE_CONFIG_MAP)
            return floe_err(err, FLOE_EINVAL, "%s:%d: item %zu of '%s' "
                            "must be a mapping (key: value lines)",
                            m->doc->path, e->val.items[i].line, i + 1, key);
    for (i = 0; i < e->val.n; i++) {
        rc = cb(e->val.items[i].map, ud);
        if (rc != 0)
            return rc;
    }
    return FLOE_OK;
}

int floe_config_keys(const struct floe_config_map *m,
                     int (*cb)(const char *key, void *ud), void *ud)
{
    size_t i;
    int rc;

    for (i = 0; m != NULL && i < m->n; i++) {
        rc = cb(m->e[i].key, ud);
        if (rc != 0)
            return rc;
    }
    return FLOE_OK;
}

/* --- as JSON --------------------------------------------------------- */

/* A plain scalar in JSON's number syntax (which YAML 1.2's core schema
 * also reads as a number); "+1", ".5", "0x1f" or "inf" stay strings. */
static bool plain_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        if (*++s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        if (*++s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int node_json(const struct node *n, struct floe_buf *out);

static int map_json(const struct floe_config_map *m, struct floe_buf *out)
{
    size_t i;
    int rc = floe_buf_addc(out, '{');

    for (i = 0; rc == FLOE_OK && i < m->n; i++) {
        if (i > 0)
            rc = floe_buf_addc(out, ',');
        if (rc == FLOE_OK)
            rc = floe_buf_add_json_str(out, m->e[i].key,
                                       strlen(m->e[i].key));
        if (rc == FLOE_OK)
            rc = floe_buf_addc(out, ':');
        if (rc == FLOE_OK)
            rc = node_json(&m->e[i].val, out);
    }
    return rc != FLOE_OK ? rc : floe_buf_addc(out, '}');
}

static int node_json(const struct node *n, struct floe_buf *out)
{
    size_t i;
    int rc;

    switch (n->kind) {
    case FLOE_CONFIG_SCALAR:
        if (!n->quoted && (plain_number(n->text) ||
                           strcmp(n->text, "true") == 0 ||
                           strcmp(n->text, "false") == 0))
            return floe_buf_adds(out, n->text);
        return floe_buf_add_json_str(out, n->text, strlen(n->text));
    case FLOE_CONFIG_MAP:
        return map_json(n->map, out);
    case FLOE_CONFIG_SEQ:
        rc = floe_buf_addc(out, '[');
        for (i = 0; rc == FLOE_OK && i < n->n; i++) {
            if (i > 0)
                rc = floe_buf_addc(out, ',');
            if (rc == FLOE_OK)
                rc = node_json(&n->items[i], out);
        }
        return rc != FLOE_OK ? rc : floe_buf_addc(out, ']');
    default:
        return floe_buf_adds(out, "null");
    }
}

int floe_config_json(const struct floe_config_map *m, const char *key,
                     struct floe_buf *out)
{
    const struct entry *e = find(m, key);

    return node_json(e != NULL ? &e->val : &(struct node){ 0 }, out);
}
