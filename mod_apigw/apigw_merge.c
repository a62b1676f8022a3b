/* Response shaping for aggregated endpoints: parsing and checking the
 * per-backend options (group, target, allow, deny, mapping, collection,
 * encoding), applying them to a decoded response in KrakenD's order, the
 * root merge, and dot-path lookups for sequential URLs. The semantics and
 * their deviations from KrakenD are described in apigw_merge.h. */
#include <stdlib.h>
#include <string.h>

#include <apr_escape.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "apigw_encode.h"
#include "apigw_merge.h"

/* A set of dot paths as a tree: a leaf names the whole field. */
typedef struct ftree ftree;
struct ftree {
    apr_hash_t *kids;            /* segment -> ftree *, for lookups */
    apr_array_header_t *names;   /* segments in order, for iteration */
    int leaf;
};

typedef struct {
    const char *from;
    const char *to;
} mapping_pair;

struct apigw_shape {
    const char *group;
    const char *target;               /* as written, NULL if none */
    apr_array_header_t *target_segs;  /* const char * */
    ftree *allow;
    ftree *deny;
    apr_array_header_t *mapping;      /* mapping_pair */
    apigw_input_encoding encoding;
    int encoding_set;
    int collection;
    int collection_set;
    const char *error_details;        /* error-details=, NULL if none */
    apigw_shape_ops_fn ops;           /* ApiFlatmap backend=, or NULL */
    const void *ops_data;
};

static const char *const KEYS[] = {
    "group", "target", "allow", "deny", "mapping", "collection", "encoding",
    "error-details", NULL
};

static const struct {
    const char *name;
    apigw_input_encoding enc;
} ENCODINGS[] = {
    { "json", APIGW_IN_JSON },
    { "safejson", APIGW_IN_SAFEJSON },
    { "xml", APIGW_IN_XML },
    { "rss", APIGW_IN_RSS },
    { "string", APIGW_IN_STRING },
    { "no-op", APIGW_IN_NOOP },
    { NULL, APIGW_IN_JSON }
};

apigw_shape *apigw_shape_create(apr_pool_t *p)
{
    apigw_shape *s = apr_pcalloc(p, sizeof(*s));

    s->encoding = APIGW_IN_JSON;
    return s;
}

int apigw_shape_is_key(const char *key)
{
    int i;

    if (!key) {
        return 0;
    }
    for (i = 0; KEYS[i]; i++) {
        if (strcmp(key, KEYS[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *apigw_input_encoding_name(apigw_input_encoding enc)
{
    int i;

    for (i = 0; ENCODINGS[i].name; i++) {
        if (ENCODINGS[i].enc == enc) {
            return ENCODINGS[i].name;
        }
    }
    return "json";
}

/* ---- option parsing ---- */

/* NULL when s (len bytes) may name a field: UTF-8 without control
 * characters (jansson refuses other keys); else a message from p. */
static const char *bad_name(apr_pool_t *p, const char *opt, const char *s,
                            apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, need, k;
    const char *why = NULL;

    while (i < len && !why) {
        unsigned char c = u[i];
        unsigned long cp;

        if (c < 0x20 || c == 0x7f) {
            why = "holds a control character";
            break;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
               : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        cp = c & (need == 1 ? 0x1f : need == 2 ? 0x0f : 0x07);
        if (need == 0 || len - i <= need) {
            why = "is not valid UTF-8";
            break;
        }
        for (k = 1; k <= need; k++) {
            if ((u[i + k] & 0xc0) != 0x80) {
                break;
            }
            cp = (cp << 6) | (u[i + k] & 0x3f);
        }
        if (k <= need || (need == 2 && cp < 0x800)
            || (need == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff)) {
            why = "is not valid UTF-8";
            break;
        }
        i += need + 1;
    }
    if (!why) {
        return NULL;
    }
    return apr_psprintf(p, "%s: \"%s\" %s", opt,
                        apr_pescape_echo(p, apr_pstrndup(p, s, len), 0), why);
}

/* Splits "a.b.c" (len bytes) into segments, or returns a message. */
static const char *split_path(apr_pool_t *p, const char *opt,
                              const char *path, apr_size_t len,
                              apr_array_header_t **out)
{
    apr_array_header_t *segs = apr_array_make(p, 4, sizeof(const char *));
    const char *start = path, *end = path + len, *dot, *err;
    const char *shown = apr_pstrndup(p, path, len);

    if (len == 0) {
        return apr_psprintf(p, "%s: empty field name", opt);
    }
    if ((err = bad_name(p, opt, path, len)) != NULL) {
        return err;
    }
    for (;;) {
        dot = memchr(start, '.', (apr_size_t)(end - start));
        if (!dot) {
            dot = end;
        }
        if (dot == start) {
            return apr_psprintf(p, "%s: \"%s\" is not a dot path (a "
                                "segment is empty)", opt, shown);
        }
        APR_ARRAY_PUSH(segs, const char *) =
            apr_pstrndup(p, start, (apr_size_t)(dot - start));
        if (dot == end) {
            break;
        }
        start = dot + 1;
        if (start == end) {
            return apr_psprintf(p, "%s: \"%s\" is not a dot path (a "
                                "segment is empty)", opt, shown);
        }
    }
    *out = segs;
    return NULL;
}

static ftree *ftree_make(apr_pool_t *p)
{
    ftree *t = apr_pcalloc(p, sizeof(*t));

    t->kids = apr_hash_make(p);
    t->names = apr_array_make(p, 4, sizeof(const char *));
    return t;
}

/* Adds one path; a leaf (whole field) is never narrowed by a longer path,
 * and a shorter path turns a subtree into a leaf. */
static void ftree_add(apr_pool_t *p, ftree *root,
                      const apr_array_header_t *segs)
{
    ftree *node = root;
    int i;

    for (i = 0; i < segs->nelts; i++) {
        const char *seg = APR_ARRAY_IDX(segs, i, const char *);
        ftree *kid = apr_hash_get(node->kids, seg, APR_HASH_KEY_STRING);

        if (!kid) {
            kid = ftree_make(p);
            apr_hash_set(node->kids, seg, APR_HASH_KEY_STRING, kid);
            APR_ARRAY_PUSH(node->names, const char *) = seg;
        }
        if (kid->leaf) {
            return;
        }
        if (i == segs->nelts - 1) {
            kid->leaf = 1;
            return;
        }
        node = kid;
    }
}

/* "a,b.c": adds each entry to *tree (created on first use). */
static const char *parse_list(apr_pool_t *p, const char *opt,
                              const char *value, ftree **tree)
{
    const char *start = value, *comma;
    apr_array_header_t *segs;
    const char *err;
    ftree *t = *tree ? *tree : ftree_make(p);

    for (;;) {
        comma = strchr(start, ',');
        if (!comma) {
            comma = start + strlen(start);
        }
        if (comma == start) {
            return apr_psprintf(p, "%s: empty field name in \"%s\"",
                                opt, value);
        }
        err = split_path(p, opt, start, (apr_size_t)(comma - start), &segs);
        if (err) {
            return err;
        }
        ftree_add(p, t, segs);
        if (*comma == '\0') {
            break;
        }
        start = comma + 1;
    }
    *tree = t;
    return NULL;
}

static const char *parse_mapping(apr_pool_t *p, apigw_shape *s,
                                 const char *value)
{
    const char *start = value, *comma, *colon;
    int i;

    if (!s->mapping) {
        s->mapping = apr_array_make(p, 4, sizeof(mapping_pair));
    }
    for (;;) {
        mapping_pair pair;
        const char *entry, *err;
        apr_size_t len;

        comma = strchr(start, ',');
        if (!comma) {
            comma = start + strlen(start);
        }
        len = (apr_size_t)(comma - start);
        entry = apr_pstrndup(p, start, len);
        if (len == 0) {
            return apr_psprintf(p, "mapping: empty entry in \"%s\"", value);
        }
        colon = strchr(entry, ':');
        if (!colon) {
            return apr_psprintf(p, "mapping: \"%s\" has no colon (write "
                                "old:new)", entry);
        }
        if (colon == entry || colon[1] == '\0') {
            return apr_psprintf(p, "mapping: \"%s\" needs a field name on "
                                "both sides of the colon", entry);
        }
        if (strchr(colon + 1, ':')) {
            return apr_psprintf(p, "mapping: \"%s\" has more than one "
                                "colon", entry);
        }
        if (strchr(entry, '.')) {
            return apr_psprintf(p, "mapping: \"%s\": mapping renames "
                                "top-level fields only, names may not "
                                "hold a dot", entry);
        }
        if ((err = bad_name(p, "mapping", entry, len)) != NULL) {
            return err;
        }
        pair.from = apr_pstrndup(p, entry, (apr_size_t)(colon - entry));
        pair.to = colon + 1;
        for (i = 0; i < s->mapping->nelts; i++) {
            const mapping_pair *o = &APR_ARRAY_IDX(s->mapping, i,
                                                   mapping_pair);

            if (strcmp(o->from, pair.from) == 0) {
                return apr_psprintf(p, "mapping: field \"%s\" is renamed "
                                    "twice", pair.from);
            }
            if (strcmp(o->to, pair.to) == 0) {
                return apr_psprintf(p, "mapping: fields \"%s\" and \"%s\" "
                                    "are both renamed to \"%s\"",
                                    o->from, pair.from, pair.to);
            }
        }
        APR_ARRAY_PUSH(s->mapping, mapping_pair) = pair;
        if (*comma == '\0') {
            break;
        }
        start = comma + 1;
    }
    return NULL;
}

const char *apigw_shape_set(apr_pool_t *p, apigw_shape *s, const char *key,
                            const char *value)
{
    const char *err;
    int i;

    if (!key || !apigw_shape_is_key(key)) {
        return apr_psprintf(p, "unknown backend option \"%s\" (known: "
                            "group, target, allow, deny, mapping, "
                            "collection, encoding, error-details)",
                            key ? key : "");
    }
    if (strcmp(key, "collection") == 0) {
        if (s->collection_set) {
            return "collection: given twice";
        }
        if (!value || strcasecmp(value, "on") == 0
            || strcasecmp(value, "true") == 0) {
            s->collection = 1;
        }
        else if (strcasecmp(value, "off") == 0
                 || strcasecmp(value, "false") == 0) {
            s->collection = 0;
        }
        else {
            return apr_psprintf(p, "collection: \"%s\" is not on or off "
                                "(a bare \"collection\" means on)", value);
        }
        s->collection_set = 1;
        return NULL;
    }
    if (!value) {
        return apr_psprintf(p, "%s needs a value (%s=...)", key, key);
    }
    if (strcmp(key, "group") == 0) {
        if (s->group) {
            return "group: given twice";
        }
        if (!*value) {
            return "group: empty name";
        }
        if ((err = bad_name(p, "group", value, strlen(value))) != NULL) {
            return err;
        }
        s->group = apr_pstrdup(p, value);
        return NULL;
    }
    if (strcmp(key, "target") == 0) {
        if (s->target) {
            return "target: given twice";
        }
        err = split_path(p, "target", value, strlen(value), &s->target_segs);
        if (err) {
            return err;
        }
        s->target = apr_pstrdup(p, value);
        return NULL;
    }
    if (strcmp(key, "allow") == 0 || strcmp(key, "deny") == 0) {
        int allow = key[0] == 'a';

        if (allow ? s->deny != NULL : s->allow != NULL) {
            return "allow and deny cannot be used together on one backend "
                   "(use one or the other)";
        }
        return parse_list(p, key, value, allow ? &s->allow : &s->deny);
    }
    if (strcmp(key, "mapping") == 0) {
        return parse_mapping(p, s, value);
    }
    if (strcmp(key, "error-details") == 0) {
        const char *c;

        if (s->error_details) {
            return "error-details: given twice";
        }
        for (c = value; *c; c++) {
            if (!apr_isalnum(*c) && *c != '_' && *c != '-') {
                break;
            }
        }
        if (!*value || *c) {
            return "error-details: the name may hold letters, digits, '_' "
                   "and '-'";
        }
        s->error_details = apr_pstrdup(p, value);
        return NULL;
    }
    /* encoding */
    if (s->encoding_set) {
        return "encoding: given twice";
    }
    for (i = 0; ENCODINGS[i].name; i++) {
        if (strcasecmp(value, ENCODINGS[i].name) == 0) {
            s->encoding = ENCODINGS[i].enc;
            s->encoding_set = 1;
            return NULL;
        }
    }
    return apr_psprintf(p, "encoding: unknown encoding \"%s\" (json, "
                        "safejson, xml, rss, string or no-op)", value);
}

const char *apigw_shape_check(apr_pool_t *p, const apigw_shape *s)
{
    if (s->allow && s->deny) {
        return "allow and deny cannot be used together on one backend "
               "(use one or the other)";
    }
    if (s->encoding == APIGW_IN_NOOP
        && (s->group || s->target || s->allow || s->deny || s->mapping
            || s->collection)) {
        return "encoding=no-op passes the body through untouched: group, "
               "target, allow, deny, mapping and collection do not apply";
    }
    if (s->encoding == APIGW_IN_NOOP && s->error_details) {
        return "encoding=no-op passes the answer through whatever its "
               "status: error-details does not apply";
    }
    if (s->collection && s->encoding != APIGW_IN_JSON
        && s->encoding != APIGW_IN_XML) {
        return apr_psprintf(p, "collection applies to the json and xml "
                            "encodings only, not %s",
                            apigw_input_encoding_name(s->encoding));
    }
    return NULL;
}

const char *apigw_shape_group(const apigw_shape *s)
{
    return s->group;
}

apigw_input_encoding apigw_shape_encoding(const apigw_shape *s)
{
    return s->encoding;
}

int apigw_shape_collection(const apigw_shape *s)
{
    return s->collection;
}

const char *apigw_shape_error_details(const apigw_shape *s)
{
    return s->error_details;
}

int apigw_shape_has_filters(const apigw_shape *s)
{
    return s->allow || s->deny || s->mapping;
}

void apigw_shape_set_ops(apigw_shape *s, apigw_shape_ops_fn fn,
                         const void *data)
{
    s->ops = fn;
    s->ops_data = data;
}

/* ---- applying ---- */

/* Keeps only what the tree names; returns 1 when obj ends up empty. */
static int allow_prune(const ftree *t, json_t *obj)
{
    const char *key;
    json_t *val;
    void *tmp;

    json_object_foreach_safe(obj, tmp, key, val) {
        const ftree *kid = apr_hash_get(t->kids, key, APR_HASH_KEY_STRING);

        if (kid && kid->leaf) {
            continue;
        }
        if (kid && json_is_object(val) && !allow_prune(kid, val)) {
            continue;
        }
        json_object_del(obj, key);
    }
    return json_object_size(obj) == 0;
}

static void deny_prune(const ftree *t, json_t *obj)
{
    int i;

    for (i = 0; i < t->names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(t->names, i, const char *);
        const ftree *kid = apr_hash_get(t->kids, name, APR_HASH_KEY_STRING);
        json_t *val = json_object_get(obj, name);

        if (!val) {
            continue;
        }
        if (kid->leaf) {
            json_object_del(obj, name);
        }
        else if (json_is_object(val)) {
            deny_prune(kid, val);
        }
    }
}

/* Takes over doc; returns the object at the target path, or {}. */
static json_t *extract_target(const apr_array_header_t *segs, json_t *doc)
{
    json_t *cur = doc, *out;
    int i;

    for (i = 0; i < segs->nelts; i++) {
        cur = json_object_get(cur, APR_ARRAY_IDX(segs, i, const char *));
        if (!json_is_object(cur)) {
            json_decref(doc);
            return json_object();
        }
    }
    out = json_incref(cur);
    json_decref(doc);
    return out;
}

static int apply_mapping(const apr_array_header_t *mapping, json_t *doc)
{
    json_t *moved = json_object();
    int i, rc = 0;

    if (!moved) {
        return -1;
    }
    for (i = 0; i < mapping->nelts; i++) {
        const mapping_pair *m = &APR_ARRAY_IDX(mapping, i, mapping_pair);
        json_t *v = json_object_get(doc, m->from);

        if (v && json_object_set(moved, m->to, v) != 0) {
            rc = -1;
            goto done;
        }
    }
    if (json_object_size(moved) == 0) {
        goto done;
    }
    for (i = 0; i < mapping->nelts; i++) {
        json_object_del(doc, APR_ARRAY_IDX(mapping, i, mapping_pair).from);
    }
    rc = json_object_update(doc, moved);
done:
    json_decref(moved);
    return rc;
}

json_t *apigw_shape_apply(const apigw_shape *s, json_t *decoded,
                          const char **err)
{
    json_t *doc = decoded;

    if (!json_is_object(doc)) {
        json_decref(doc);
        *err = "the backend response is not a JSON object";
        return NULL;
    }
    if (s->target_segs) {
        doc = extract_target(s->target_segs, doc);
        if (!doc) {
            goto oom;
        }
    }
    if (s->ops) {
        /* KrakenD's flatmap: allow, deny and mapping do not apply */
        if (s->ops(s->ops_data, doc, err) != 0) {
            json_decref(doc);
            return NULL;
        }
    }
    else if (s->allow) {
        allow_prune(s->allow, doc);
    }
    else if (s->deny) {
        deny_prune(s->deny, doc);
    }
    if (!s->ops && s->mapping && apply_mapping(s->mapping, doc) != 0) {
        json_decref(doc);
        goto oom;
    }
    if (s->group) {
        json_t *wrap = json_object();

        if (!wrap || json_object_set_new(wrap, s->group, doc) != 0) {
            /* json_object_set_new releases doc on failure */
            json_decref(wrap);
            goto oom;
        }
        doc = wrap;
    }
    return doc;
oom:
    *err = "out of memory while shaping the backend response";
    return NULL;
}

int apigw_merge_into(json_t *dst, const json_t *src)
{
    if (!json_is_object(dst) || !json_is_object(src)) {
        return -1;
    }
    if (dst == src) {
        return 0;
    }
    return json_object_update(dst, (json_t *)src) == 0 ? 0 : -1;
}

/* ---- error details ---- */

/* The length of the UTF-8 sequence at u (left bytes), 0 when it is not
 * one: shortest form, no surrogates, at most U+10FFFF. */
static apr_size_t utf8_len(const unsigned char *u, apr_size_t left)
{
    apr_size_t need, k;
    unsigned long cp;

    if (u[0] < 0x80) {
        return 1;
    }
    need = u[0] >= 0xc2 && u[0] <= 0xdf ? 1 : u[0] >= 0xe0 && u[0] <= 0xef
           ? 2 : u[0] >= 0xf0 && u[0] <= 0xf4 ? 3 : 0;
    if (need == 0 || left <= need) {
        return 0;
    }
    cp = u[0] & (need == 1 ? 0x1f : need == 2 ? 0x0f : 0x07);
    for (k = 1; k <= need; k++) {
        if ((u[k] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (u[k] & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return need + 1;
}

/* body as a JSON string, each byte that is not part of a UTF-8 sequence
 * replaced by U+FFFD. */
static json_t *text_string(const char *body, size_t len)
{
    static const char REPLACEMENT[] = "\xef\xbf\xbd";
    const unsigned char *u = (const unsigned char *)body;
    size_t i = 0, n, bad = 0;
    char *buf, *out;
    json_t *s;

    while (i < len) {
        n = utf8_len(u + i, len - i);
        bad += n == 0;
        i += n ? n : 1;
    }
    if (!bad) {
        return json_stringn(body, len);
    }
    if (len > ((size_t)-1) / 3 || !(buf = malloc(len + 2 * bad))) {
        return NULL;
    }
    for (i = 0, out = buf; i < len;) {
        n = utf8_len(u + i, len - i);
        if (n) {
            memcpy(out, body + i, n);
            out += n;
            i += n;
        }
        else {
            memcpy(out, REPLACEMENT, 3);
            out += 3;
            i++;
        }
    }
    s = json_stringn(buf, (size_t)(out - buf));
    free(buf);
    return s;
}

json_t *apigw_error_details_object(int status, const char *body,
                                   size_t len, const char *ctype)
{
    json_t *d = json_object(), *v;

    if (!d || json_object_set_new(d, "http_status_code",
                                  json_integer(status)) != 0) {
        goto oom;
    }
    if (len > 0) {
        v = text_string(body, len);
        if (!v || json_object_set_new(d, "http_body", v) != 0) {
            goto oom;
        }
    }
    if (ctype && *ctype) {
        v = text_string(ctype, strlen(ctype));
        if (!v || json_object_set_new(d, "http_body_encoding", v) != 0) {
            goto oom;
        }
    }
    return d;
oom:
    json_decref(d);
    return NULL;
}

/* ---- dot-path lookup ---- */

/* A canonical array index: digits, no leading zero unless "0". */
static int parse_index(const char *seg, size_t *out)
{
    size_t v = 0;
    const char *c;

    if (!*seg || (seg[0] == '0' && seg[1])) {
        return 0;
    }
    for (c = seg; *c; c++) {
        if (!apr_isdigit(*c) || v > ((size_t)-1 - 9) / 10) {
            return 0;
        }
        v = v * 10 + (size_t)(*c - '0');
    }
    *out = v;
    return 1;
}

static const char *scalar_string(apr_pool_t *p, const json_t *v)
{
    char buf[APIGW_REAL_BUFSIZE];

    switch (json_typeof(v)) {
    case JSON_STRING:
        if (memchr(json_string_value(v), '\0', json_string_length(v))) {
            return NULL;
        }
        return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_integer_value(v));
    case JSON_REAL:
        apigw_format_real(json_real_value(v), buf, sizeof(buf));
        return apr_pstrdup(p, buf);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return NULL;
    }
}

const char *apigw_json_path_string(apr_pool_t *p, const json_t *root,
                                   const char *path)
{
    const json_t *cur = root;
    const char *start, *dot;
    size_t i, n;

    if (!root || !path || !*path) {
        return NULL;
    }
    start = path;
    for (;;) {
        char *seg;
        size_t idx;

        dot = strchr(start, '.');
        seg = dot ? apr_pstrndup(p, start, (apr_size_t)(dot - start))
                  : apr_pstrdup(p, start);
        if (!*seg) {
            return NULL;
        }
        if (json_is_object(cur)) {
            cur = json_object_get(cur, seg);
        }
        else if (json_is_array(cur) && parse_index(seg, &idx)) {
            cur = json_array_get(cur, idx);
        }
        else {
            return NULL;
        }
        if (!cur) {
            return NULL;
        }
        if (!dot) {
            break;
        }
        start = dot + 1;
    }
    if (!json_is_array(cur)) {
        return scalar_string(p, cur);
    }
    n = json_array_size(cur);
    {
        const char **parts = apr_palloc(p, (n ? n : 1) * sizeof(*parts));
        struct iovec *vec = apr_palloc(p, (n ? 2 * n : 1) * sizeof(*vec));
        apr_size_t total;

        for (i = 0; i < n; i++) {
            parts[i] = scalar_string(p, json_array_get(cur, i));
            if (!parts[i]) {
                return NULL;
            }
            vec[2 * i].iov_base = (void *)",";
            vec[2 * i].iov_len = 1;
            vec[2 * i + 1].iov_base = (void *)parts[i];
            vec[2 * i + 1].iov_len = strlen(parts[i]);
        }
        if (n == 0) {
            return "";
        }
        return apr_pstrcatv(p, vec + 1, 2 * n - 1, &total);
    }
}
