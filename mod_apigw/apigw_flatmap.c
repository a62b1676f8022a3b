/* KrakenD's flatmap_filter: parsing and checking the operations, and
 * running them on a jansson document. The semantics, and where they
 * deviate from KrakenD, are described in apigw_flatmap.h.
 *
 * How a run works: each operation first collects what its path matches
 * (a record per value: its parent, the value and the labels of the path
 * that led there), then handles the records one after the other; a record
 * whose path no longer leads to the same value (an earlier record of the
 * same operation moved or replaced it) is skipped. An array element that
 * goes away is replaced by a sentinel (a "hole"), so the other elements
 * keep their indices; every container that lost a member is remembered
 * ("touched"). After the last operation one walk closes the arrays up and
 * turns the touched containers left empty into null. */
#include <stdio.h>
#include <string.h>

#include <apr_escape.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "apigw_flatmap.h"

typedef enum {
    FM_MOVE,
    FM_DEL,
    FM_APPEND
} fm_type;

typedef struct {
    int n;
    const char **seg;              /* "*" matches every member */
} fm_path;

typedef struct {
    fm_type type;
    int nargs;
    const fm_path *args;
} fm_op;

struct apigw_flatmap {
    apr_array_header_t *ops;       /* fm_op, in order */
};

static const char WILD[] = "*";

static int is_wild(const char *seg)
{
    return seg[0] == '*' && seg[1] == '\0';
}

apigw_flatmap *apigw_flatmap_create(apr_pool_t *p)
{
    apigw_flatmap *fm = apr_pcalloc(p, sizeof(*fm));

    fm->ops = apr_array_make(p, 4, sizeof(fm_op));
    return fm;
}

void apigw_flatmap_extend(apigw_flatmap *dst, const apigw_flatmap *src)
{
    apr_array_cat(dst->ops, src->ops);
}

int apigw_flatmap_size(const apigw_flatmap *fm)
{
    return fm->ops->nelts;
}

/* ---- parsing ---- */

static const char *shown(apr_pool_t *p, const char *s)
{
    return apr_pescape_echo(p, s, 0);
}

/* Splits a dot path into its segments, or returns a message. */
static const char *parse_path(apr_pool_t *p, const char *op,
                              const char *text, fm_path *out)
{
    const char *start = text, *dot, *c;
    apr_array_header_t *segs;
    json_t *utf8;

    if (!*text) {
        return apr_psprintf(p, "%s: an empty path", op);
    }
    for (c = text; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            return apr_psprintf(p, "%s: \"%s\" holds a control character",
                                op, shown(p, text));
        }
    }
    /* jansson refuses what is not UTF-8, as it would as a key */
    if (!(utf8 = json_string(text))) {
        return apr_psprintf(p, "%s: \"%s\" is not valid UTF-8", op,
                            shown(p, text));
    }
    json_decref(utf8);
    segs = apr_array_make(p, 4, sizeof(const char *));
    for (;;) {
        dot = strchr(start, '.');
        if (!dot) {
            dot = start + strlen(start);
        }
        if (dot == start) {
            return apr_psprintf(p, "%s: \"%s\" is not a dot path (a segment "
                                "is empty)", op, text);
        }
        if (segs->nelts == APIGW_FLATMAP_MAX_SEGMENTS) {
            return apr_psprintf(p, "%s: \"%s\" has more than %d segments",
                                op, text, APIGW_FLATMAP_MAX_SEGMENTS);
        }
        APR_ARRAY_PUSH(segs, const char *) =
            (dot - start == 1 && *start == '*')
            ? WILD : apr_pstrmemdup(p, start, (apr_size_t)(dot - start));
        if (!*dot) {
            break;
        }
        start = dot + 1;
    }
    out->n = segs->nelts;
    out->seg = (const char **)segs->elts;
    return NULL;
}

static const char *check_move(apr_pool_t *p, const char *from,
                              const fm_path *s, const char *to,
                              const fm_path *d)
{
    int i;

    if (is_wild(s->seg[s->n - 1])) {
        return apr_psprintf(p, "move: \"%s\" ends in *: name the field to "
                            "move (KrakenD moves nothing here); del "
                            "removes every member", from);
    }
    if (is_wild(d->seg[d->n - 1])) {
        return apr_psprintf(p, "move: the destination \"%s\" cannot end "
                            "in *", to);
    }
    /* a rename or an embedding keeps the source's parent path */
    for (i = 0; d->n >= s->n && i < s->n - 1; i++) {
        if (strcmp(s->seg[i], d->seg[i]) != 0) {
            return apr_psprintf(p, "move: \"%s\" to \"%s\": %s keeps the "
                                "path before the source's last segment "
                                "(segment %d differs)", from, to,
                                d->n == s->n ? "a rename" : "an embedding",
                                i + 1);
        }
    }
    for (i = s->n - 1; i < d->n && d->n > s->n; i++) {
        if (is_wild(d->seg[i])) {
            return apr_psprintf(p, "move: \"%s\" to \"%s\": the levels the "
                                "destination adds cannot hold * (it stands "
                                "for what the source matched)", from, to);
        }
    }
    return NULL;
}

static const char *check_append(apr_pool_t *p, const char *to,
                                const fm_path *d)
{
    int i;

    for (i = 0; i < d->n; i++) {
        if (is_wild(d->seg[i])) {
            return apr_psprintf(p, "append: the destination \"%s\" cannot "
                                "hold * (it names one array)", to);
        }
    }
    return NULL;
}

const char *apigw_flatmap_add(apr_pool_t *p, apigw_flatmap *fm,
                              const char *op, int nargs,
                              const char *const *args)
{
    fm_op o;
    fm_path *paths;
    const char *err;
    int i;

    if (!op) {
        op = "";
    }
    if (strcmp(op, "move") == 0) {
        o.type = FM_MOVE;
    }
    else if (strcmp(op, "del") == 0) {
        o.type = FM_DEL;
    }
    else if (strcmp(op, "append") == 0) {
        o.type = FM_APPEND;
    }
    else {
        return apr_psprintf(p, "unknown operation \"%s\" (move, del or "
                            "append)", shown(p, op));
    }
    if (o.type == FM_DEL && nargs < 1) {
        return "del needs at least one path";
    }
    if (o.type != FM_DEL && nargs != 2) {
        return apr_psprintf(p, "%s needs two paths (%s), got %d", op,
                            o.type == FM_MOVE ? "from and to"
                                              : "the array to append and "
                                                "the array it goes after",
                            nargs < 0 ? 0 : nargs);
    }
    paths = apr_pcalloc(p, sizeof(*paths) * (apr_size_t)nargs);
    for (i = 0; i < nargs; i++) {
        if ((err = parse_path(p, op, args[i] ? args[i] : "", &paths[i]))) {
            return err;
        }
    }
    if (o.type == FM_MOVE
        && (err = check_move(p, args[0], &paths[0], args[1], &paths[1]))) {
        return err;
    }
    if (o.type == FM_APPEND
        && (err = check_append(p, args[1], &paths[1]))) {
        return err;
    }
    o.nargs = nargs;
    o.args = paths;
    APR_ARRAY_PUSH(fm->ops, fm_op) = o;
    return NULL;
}

/* ---- running ---- */

typedef struct {
    json_t *hole;                  /* stands in for a removed element */
    json_t *touched;               /* "%p" -> a container that lost one */
    int oom;
} fm_run;

/* A label: a key (it may hold NUL bytes) or an index, as text. */
typedef struct {
    const char *s;
    size_t len;
} fm_label;

#define PTR_KEY_SIZE 32

static void ptr_key(const json_t *v, char *buf)
{
    snprintf(buf, PTR_KEY_SIZE, "%p", (const void *)v);
}

static int is_container(const json_t *v)
{
    return json_is_object(v) || json_is_array(v);
}

static int label_eq(fm_label a, fm_label b)
{
    return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

static fm_label label_of(const json_t *s)
{
    fm_label l;

    l.s = json_string_value(s);
    l.len = json_string_length(s);
    return l;
}

static fm_label seg_label(const char *seg)
{
    fm_label l;

    l.s = seg;
    l.len = strlen(seg);
    return l;
}

/* A canonical array index: digits, no leading zero unless "0". */
static int parse_index(fm_label l, size_t *out)
{
    size_t v = 0, i;

    if (l.len == 0 || (l.s[0] == '0' && l.len > 1)) {
        return 0;
    }
    for (i = 0; i < l.len; i++) {
        if (!apr_isdigit(l.s[i]) || v > ((size_t)-1 - 9) / 10) {
            return 0;
        }
        v = v * 10 + (size_t)(l.s[i] - '0');
    }
    *out = v;
    return 1;
}

static int touch(fm_run *r, json_t *c)
{
    char key[PTR_KEY_SIZE];

    ptr_key(c, key);
    if (json_object_get(r->touched, key)) {
        return 0;
    }
    if (json_object_set(r->touched, key, c) != 0) {
        r->oom = 1;
        return -1;
    }
    return 0;
}

static int was_touched(const fm_run *r, const json_t *c)
{
    char key[PTR_KEY_SIZE];

    ptr_key(c, key);
    return json_object_get(r->touched, key) != NULL;
}

/* Members of c, holes not counted; 0 for a scalar. */
static size_t live_size(const fm_run *r, const json_t *c)
{
    size_t i, n = 0;

    if (json_is_object(c)) {
        return json_object_size(c);
    }
    for (i = 0; json_is_array(c) && i < json_array_size(c); i++) {
        n += json_array_get(c, i) != r->hole;
    }
    return n;
}

/* A container that lost its last member: null in the answer. */
static int emptied(const fm_run *r, const json_t *c)
{
    return is_container(c) && live_size(r, c) == 0 && was_touched(r, c);
}

static json_t *child(const fm_run *r, json_t *node, fm_label l)
{
    size_t idx;
    json_t *c;

    if (json_is_object(node)) {
        return json_object_getn(node, l.s, l.len);
    }
    if (json_is_array(node) && parse_index(l, &idx)) {
        c = json_array_get(node, idx);
        return c == r->hole ? NULL : c;
    }
    return NULL;
}

/* ---- matching ---- */

/* A record is a JSON array [parent, value, label0, label1, ...]: the
 * labels lead from the document to the value. */
#define REC_PARENT(rec) json_array_get(rec, 0)
#define REC_VALUE(rec) json_array_get(rec, 1)
#define REC_LABEL(rec, i) label_of(json_array_get(rec, (i) + 2))
#define REC_NLABELS(rec) (json_array_size(rec) - 2)

static int collect(fm_run *r, json_t *node, const fm_path *p, int i,
                   json_t *labels, json_t *out);

/* Goes down from node to its member c (label: a new reference). */
static int visit(fm_run *r, json_t *node, json_t *c, json_t *label,
                 const fm_path *p, int i, json_t *labels, json_t *out)
{
    json_t *rec;
    int rc = 0;

    if (!label || json_array_append_new(labels, label) != 0) {
        r->oom = 1;
        return -1;
    }
    if (i < p->n - 1) {
        rc = collect(r, c, p, i + 1, labels, out);
    }
    else if (!(rec = json_array()) || json_array_append(rec, node) != 0
             || json_array_append(rec, c) != 0
             || json_array_extend(rec, labels) != 0) {
        json_decref(rec);
        r->oom = 1;
        rc = -1;
    }
    else if (json_array_append_new(out, rec) != 0) {
        r->oom = 1;
        rc = -1;
    }
    json_array_remove(labels, json_array_size(labels) - 1);
    return rc;
}

/* Appends to out a record for each value the segments of p from i on
 * match below node. */
static int collect(fm_run *r, json_t *node, const fm_path *p, int i,
                   json_t *labels, json_t *out)
{
    const char *seg = p->seg[i];

    if (!is_wild(seg)) {
        json_t *c = child(r, node, seg_label(seg));

        return c ? visit(r, node, c, json_string(seg), p, i, labels, out)
                 : 0;
    }
    if (json_is_object(node)) {
        const char *key;
        json_t *c;

        json_object_foreach(node, key, c) {
            size_t len = json_object_iter_key_len(
                json_object_key_to_iter(key));

            if (visit(r, node, c, json_stringn(key, len), p, i, labels,
                      out) != 0) {
                return -1;
            }
        }
    }
    else if (json_is_array(node)) {
        size_t idx;
        char buf[24];

        for (idx = 0; idx < json_array_size(node); idx++) {
            json_t *c = json_array_get(node, idx);

            if (c == r->hole) {
                continue;
            }
            snprintf(buf, sizeof(buf), "%zu", idx);
            if (visit(r, node, c, json_string(buf), p, i, labels, out) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* What p matches in doc: a JSON array of records, or NULL (r->oom). */
static json_t *matches(fm_run *r, json_t *doc, const fm_path *p)
{
    json_t *out = json_array(), *labels = json_array();

    if (!out || !labels || collect(r, doc, p, 0, labels, out) != 0) {
        r->oom = 1;
        json_decref(out);
        out = NULL;
    }
    json_decref(labels);
    return out;
}

/* Does the record's path still lead from doc to its value? */
static int still_there(const fm_run *r, json_t *doc, json_t *rec)
{
    size_t i, n = REC_NLABELS(rec);
    json_t *cur = doc, *parent = NULL;

    for (i = 0; i < n && cur; i++) {
        parent = cur;
        cur = child(r, cur, REC_LABEL(rec, i));
    }
    return cur && cur == REC_VALUE(rec) && parent == REC_PARENT(rec);
}

/* Takes the member l out of parent. */
static int take_out(fm_run *r, json_t *parent, fm_label l)
{
    size_t idx;

    if (json_is_object(parent)) {
        json_object_deln(parent, l.s, l.len);
    }
    else if (parse_index(l, &idx)) {
        json_array_set(parent, idx, r->hole);
    }
    return touch(r, parent);
}

/* ---- del ---- */

static int run_del(fm_run *r, json_t *doc, const fm_path *p)
{
    json_t *recs = matches(r, doc, p);
    size_t i;

    for (i = 0; recs && !r->oom && i < json_array_size(recs); i++) {
        json_t *rec = json_array_get(recs, i);

        if (still_there(r, doc, rec)) {
            take_out(r, REC_PARENT(rec),
                     REC_LABEL(rec, REC_NLABELS(rec) - 1));
        }
    }
    json_decref(recs);
    return r->oom ? -1 : 0;
}

/* ---- move ---- */

/* Can value go to the place the labels d name once it has left its own
 * place (from, in parent)? Levels that are missing, scalars, or the
 * value's own place are made objects; an array cannot be the parent, nor
 * can an index past its end be a level; going through the value itself
 * (were it shared) would make a cycle. */
static int placeable(const fm_run *r, json_t *doc, const fm_label *d,
                     int n, json_t *parent, fm_label from,
                     const json_t *value)
{
    json_t *cur = doc, *next;
    size_t idx;
    int i;

    for (i = 0; i < n - 1; i++) {
        if (cur == parent && label_eq(d[i], from)) {
            return 1;
        }
        next = child(r, cur, d[i]);
        if (!next) {
            return json_is_object(cur)
                   || (parse_index(d[i], &idx) && idx < json_array_size(cur));
        }
        if (next == value) {
            return 0;
        }
        if (!is_container(next)) {
            return 1;
        }
        cur = next;
    }
    return json_is_object(cur);
}

/* Puts value at d, making the levels placeable() allows. */
static int place(fm_run *r, json_t *doc, const fm_label *d, int n,
                 json_t *value)
{
    json_t *cur = doc, *next;
    size_t idx;
    int i;

    for (i = 0; i < n - 1; i++) {
        next = child(r, cur, d[i]);
        if (!next || !is_container(next)) {
            if (!(next = json_object())) {
                r->oom = 1;
                return -1;
            }
            if (json_is_object(cur)
                ? json_object_setn_new(cur, d[i].s, d[i].len, next) != 0
                : !parse_index(d[i], &idx)
                  || json_array_set_new(cur, idx, next) != 0) {
                r->oom = 1;
                return -1;
            }
        }
        cur = next;
    }
    if (json_object_setn(cur, d[n - 1].s, d[n - 1].len, value) != 0) {
        r->oom = 1;
        return -1;
    }
    return 0;
}

static int run_move(fm_run *r, json_t *doc, const fm_path *s,
                    const fm_path *d)
{
    json_t *recs = matches(r, doc, s);
    fm_label to[APIGW_FLATMAP_MAX_SEGMENTS];
    size_t i;
    int j, same;

    for (i = 0; recs && !r->oom && i < json_array_size(recs); i++) {
        json_t *rec = json_array_get(recs, i);
        json_t *parent = REC_PARENT(rec), *value = REC_VALUE(rec);
        fm_label from = REC_LABEL(rec, REC_NLABELS(rec) - 1);

        if (!still_there(r, doc, rec)) {
            continue;
        }
        same = d->n == s->n;
        for (j = 0; j < d->n; j++) {
            /* check_move() lets a * stand only where the source has a
             * label: j < s->n */
            to[j] = is_wild(d->seg[j]) && (size_t)j < REC_NLABELS(rec)
                    ? REC_LABEL(rec, j) : seg_label(d->seg[j]);
            same = same && label_eq(to[j], REC_LABEL(rec, j));
        }
        if (same || !placeable(r, doc, to, d->n, parent, from, value)) {
            continue;
        }
        json_incref(value);
        if (take_out(r, parent, from) == 0) {
            place(r, doc, to, d->n, value);
        }
        json_decref(value);
    }
    json_decref(recs);
    return r->oom ? -1 : 0;
}

/* ---- append ---- */

/* KrakenD's Get: the value at p below node (a new reference), an array of
 * them for each "*" (null where one is missing), null for an emptied
 * container; NULL when there is nothing (or r->oom). */
static json_t *get(fm_run *r, json_t *node, const fm_path *p, int i)
{
    json_t *arr, *c, *v;
    const char *key;
    size_t idx;

    if (i == p->n) {
        return emptied(r, node) ? json_null() : json_incref(node);
    }
    if (live_size(r, node) == 0) {
        return NULL;
    }
    if (!is_wild(p->seg[i])) {
        c = child(r, node, seg_label(p->seg[i]));
        return c ? get(r, c, p, i + 1) : NULL;
    }
    if (!(arr = json_array())) {
        r->oom = 1;
        return NULL;
    }
    if (json_is_object(node)) {
        json_object_foreach(node, key, c) {
            v = get(r, c, p, i + 1);
            if (r->oom || json_array_append_new(arr, v ? v : json_null())) {
                goto oom;
            }
        }
        return arr;
    }
    for (idx = 0; idx < json_array_size(node); idx++) {
        if ((c = json_array_get(node, idx)) == r->hole) {
            continue;
        }
        v = get(r, c, p, i + 1);
        if (r->oom || json_array_append_new(arr, v ? v : json_null())) {
            goto oom;
        }
    }
    return arr;
oom:
    r->oom = 1;
    json_decref(arr);
    return NULL;
}

/* A copy of v for another place: arrays closed up, an emptied container
 * null (scalars are shared: nothing here changes one). Appended values are
 * copies so that no value ends up in two places, whatever is deleted
 * after. NULL when memory runs out. */
static json_t *copy(fm_run *r, json_t *v)
{
    json_t *out, *c, *cc;
    const char *key;
    size_t i;

    if (emptied(r, v)) {
        return json_null();
    }
    if (json_is_object(v)) {
        if (!(out = json_object())) {
            return NULL;
        }
        json_object_foreach(v, key, c) {
            size_t len = json_object_iter_key_len(
                json_object_key_to_iter(key));

            if (!(cc = copy(r, c))
                || json_object_setn_new(out, key, len, cc) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (!json_is_array(v)) {
        return json_incref(v);
    }
    if (!(out = json_array())) {
        return NULL;
    }
    for (i = 0; i < json_array_size(v); i++) {
        if ((c = json_array_get(v, i)) == r->hole) {
            continue;
        }
        if (!(cc = copy(r, c)) || json_array_append_new(out, cc) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Adds a's members, holes left out, to out. */
static int add_members(const fm_run *r, json_t *out, const json_t *a)
{
    size_t i;

    for (i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);

        if (e != r->hole && json_array_append(out, e) != 0) {
            return -1;
        }
    }
    return 0;
}

static int run_append(fm_run *r, json_t *doc, const fm_path *s,
                      const fm_path *d)
{
    json_t *src = get(r, doc, s, 0), *dst, *parent = doc, *joined = NULL;
    fm_label last = seg_label(d->seg[d->n - 1]);
    size_t idx, k;
    int i, rc = 0;

    if (!json_is_array(src)) {
        goto done;
    }
    for (i = 0; i < d->n - 1 && parent; i++) {
        parent = child(r, parent, seg_label(d->seg[i]));
    }
    dst = parent ? child(r, parent, last) : NULL;
    if (!json_is_array(dst) || emptied(r, dst)) {
        goto done;
    }
    if (!(joined = json_array()) || add_members(r, joined, dst) != 0) {
        goto oom;
    }
    for (k = 0; k < json_array_size(src); k++) {
        json_t *e = json_array_get(src, k), *c;

        if (e != r->hole
            && (!(c = copy(r, e)) || json_array_append_new(joined, c) != 0)) {
            goto oom;
        }
    }
    if (json_is_object(parent)
        ? json_object_setn(parent, last.s, last.len, joined) != 0
        : !parse_index(last, &idx)
          || json_array_set(parent, idx, joined) != 0) {
        goto oom;
    }
    rc = run_del(r, doc, s);
    goto done;
oom:
    r->oom = 1;
    rc = -1;
done:
    json_decref(joined);
    json_decref(src);
    return r->oom ? -1 : rc;
}

/* ---- the end of a run ---- */

/* Closes a touched array's holes up. */
static int close_up(fm_run *r, json_t *a)
{
    json_t *kept;
    size_t i, n = json_array_size(a);

    for (i = 0; i < n && json_array_get(a, i) != r->hole; i++) {
    }
    if (i == n) {
        return 0;
    }
    if (!(kept = json_array()) || add_members(r, kept, a) != 0
        || json_array_clear(a) != 0 || json_array_extend(a, kept) != 0) {
        json_decref(kept);
        r->oom = 1;
        return -1;
    }
    json_decref(kept);
    return 0;
}

/* Below node: arrays closed up, emptied containers made null. */
static int finish(fm_run *r, json_t *node)
{
    size_t i;

    if (json_is_object(node)) {
        void *it;

        for (it = json_object_iter(node); it;
             it = json_object_iter_next(node, it)) {
            json_t *v = json_object_iter_value(it);

            if (finish(r, v) != 0
                || (emptied(r, v)
                    && json_object_iter_set_new(node, it, json_null()))) {
                r->oom = 1;
                return -1;
            }
        }
        return 0;
    }
    if (!json_is_array(node)
        || (was_touched(r, node) && close_up(r, node) != 0)) {
        return r->oom ? -1 : 0;
    }
    for (i = 0; i < json_array_size(node); i++) {
        json_t *v = json_array_get(node, i);

        if (finish(r, v) != 0
            || (emptied(r, v) && json_array_set_new(node, i, json_null()))) {
            r->oom = 1;
            return -1;
        }
    }
    return 0;
}

int apigw_flatmap_apply(const apigw_flatmap *fm, json_t *doc,
                        const char **err)
{
    fm_run r;
    int i;

    if (!json_is_object(doc)) {
        *err = "the response is not a JSON object";
        return -1;
    }
    if (fm->ops->nelts == 0) {
        return 0;
    }
    r.oom = 0;
    r.hole = json_object();
    r.touched = json_object();
    for (i = 0; r.hole && r.touched && i < fm->ops->nelts && !r.oom; i++) {
        const fm_op *o = &APR_ARRAY_IDX(fm->ops, i, fm_op);
        int a;

        switch (o->type) {
        case FM_MOVE:
            run_move(&r, doc, &o->args[0], &o->args[1]);
            break;
        case FM_APPEND:
            run_append(&r, doc, &o->args[0], &o->args[1]);
            break;
        case FM_DEL:
            for (a = 0; a < o->nargs && !r.oom; a++) {
                run_del(&r, doc, &o->args[a]);
            }
            break;
        }
    }
    if (!r.hole || !r.touched) {
        r.oom = 1;
    }
    if (!r.oom && json_object_size(r.touched) > 0) {
        finish(&r, doc);
    }
    json_decref(r.touched);
    json_decref(r.hole);
    if (r.oom) {
        *err = "out of memory while running ApiFlatmap";
        return -1;
    }
    return 0;
}
