/* sources: mod_apigw/apigw_flatmap.c */
/* libs: -ljansson */
/* libFuzzer target for mod_apigw/apigw_flatmap.c (ApiFlatmap: KrakenD's
 * flatmap_filter).
 *
 * Each operation line goes through apigw_flatmap_add and an independent
 * reference validator (the three operations and their path counts; paths
 * of 1 to 64 non-empty segments, UTF-8 checked here without jansson, no
 * control character; move neither from a path ending in "*" nor to one, a
 * rename or an embedding keeping the source's parent path, no "*" in the
 * levels an embedding adds; append to a path without "*"): both must
 * accept or both refuse, a refusal with a message.
 *
 * The accepted operations then run on the document, and on a model that
 * holds it as KrakenD's flatmap library thinks of it: a flat list of
 * entries, one per value, each with the labels of its path from the root
 * (array elements labelled by their index, labels that never change until
 * the end), its kind, and whether it ever lost a member. There an
 * operation is a matter of path prefixes: del erases the entries under
 * each match; move rewrites the prefix of the entries under each match
 * into the destination (a "*" of it taking the label the source matched
 * at that position) after checking the destination can take it, making
 * the missing levels; append builds the new array's entries. At the end
 * the entries are read back into JSON: array elements in index order, an
 * entry that lost its last member null. Object key order is modelled too
 * (a key set anew goes last, a key replaced keeps its place), and the two
 * documents must be byte-identical in compact form.
 *
 * Input: lines of "OP PATH..." (at most 8, space separated), then the
 * document from the first line that begins with "{" (at most 200 values,
 * 24 levels deep; otherwise only the operations are checked). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>

#include "apigw_flatmap.h"

#define FUZZ_TARGET "fuzz_flatmap"
#include "fuzz_check.h"

#define MAX_OPS 8
#define MAX_ARGS 6
#define MAX_VALUES 200
#define MAX_DEPTH 24
#define MAX_SEGS 64

static apr_pool_t *pool;

/* ---- reference validator ---- */

typedef struct {
    int n;
    const char *seg[MAX_SEGS + 1];
} rpath;

static int ref_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned long cp;
        int need, k;

        if (*s < 0x80) {
            s++;
            continue;
        }
        if (*s >= 0xc2 && *s <= 0xdf) {
            need = 1;
            cp = *s & 0x1f;
        }
        else if (*s >= 0xe0 && *s <= 0xef) {
            need = 2;
            cp = *s & 0x0f;
        }
        else if (*s >= 0xf0 && *s <= 0xf4) {
            need = 3;
            cp = *s & 0x07;
        }
        else {
            return 0;
        }
        for (k = 1; k <= need; k++) {
            if ((s[k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[k] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return 0;
        }
        s += need + 1;
    }
    return 1;
}

static int ref_path(const char *text, rpath *out)
{
    const char *c, *start = text;

    if (!*text || !ref_utf8((const unsigned char *)text)) {
        return 0;
    }
    for (c = text; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            return 0;
        }
    }
    out->n = 0;
    for (c = text;; c++) {
        if (*c == '.' || !*c) {
            if (c == start || out->n == MAX_SEGS) {
                return 0;
            }
            out->seg[out->n++] = apr_pstrmemdup(pool, start,
                                                (apr_size_t)(c - start));
            if (!*c) {
                return 1;
            }
            start = c + 1;
        }
    }
}

static int star(const char *s)
{
    return strcmp(s, "*") == 0;
}

/* 'm', 'd', 'a' for a valid operation, 0 for one to refuse. */
static int ref_valid(const char *op, int n, char **args, rpath *p)
{
    int i, type;

    type = strcmp(op, "move") == 0 ? 'm' : strcmp(op, "del") == 0 ? 'd'
           : strcmp(op, "append") == 0 ? 'a' : 0;
    if (!type || (type == 'd' && n < 1) || (type != 'd' && n != 2)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!ref_path(args[i], &p[i])) {
            return 0;
        }
    }
    if (type == 'm') {
        const rpath *s = &p[0], *d = &p[1];

        if (star(s->seg[s->n - 1]) || star(d->seg[d->n - 1])) {
            return 0;
        }
        if (d->n >= s->n) {
            for (i = 0; i < s->n - 1; i++) {
                if (strcmp(s->seg[i], d->seg[i]) != 0) {
                    return 0;
                }
            }
            for (i = s->n - 1; d->n > s->n && i < d->n; i++) {
                if (star(d->seg[i])) {
                    return 0;
                }
            }
        }
    }
    if (type == 'a') {
        for (i = 0; i < p[1].n; i++) {
            if (star(p[1].seg[i])) {
                return 0;
            }
        }
    }
    return type;
}

/* ---- the model: a flat list of entries ---- */

typedef struct {
    int id;
    int n;                      /* levels below the root */
    const char **lab;           /* the path's labels */
    char kind;                  /* 'o', 'a' or 's' */
    json_t *val;                /* 's': the scalar (the input's) */
    size_t alen;                /* 'a': labels 0..alen-1 may be used */
    int lost;                   /* lost a member */
} ment;

typedef struct {
    apr_array_header_t *e;      /* ment; an ancestor before its members */
    int ids;
    json_t *keep;               /* what the scalars are borrowed from */
} model;

typedef struct {
    int n;
    const char **lab;
} mpath;

#define ENT(m, i) (&APR_ARRAY_IDX((m)->e, i, ment))

static int path_eq(const char **a, int an, const char **b, int bn)
{
    int i;

    if (an != bn) {
        return 0;
    }
    for (i = 0; i < an; i++) {
        if (strcmp(a[i], b[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

static int under(const ment *e, const char **p, int n)
{
    return e->n >= n && path_eq(e->lab, n, p, n);
}

static int find(const model *m, const char **p, int n)
{
    int i;

    for (i = 0; i < m->e->nelts; i++) {
        if (path_eq(ENT(m, i)->lab, ENT(m, i)->n, p, n)) {
            return i;
        }
    }
    return -1;
}

static const char **extend(const char **p, int n, const char *label)
{
    const char **q = apr_palloc(pool, sizeof(*q) * (apr_size_t)(n + 1));

    if (n) {
        memcpy(q, p, sizeof(*q) * (apr_size_t)n);
    }
    q[n] = label;
    return q;
}

static int canonical(const char *s, size_t *out)
{
    size_t v = 0;

    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 18) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return 1;
}

/* The members of the entry at p: object members in list order, array
 * members in index order. */
static apr_array_header_t *members(const model *m, const char **p, int n)
{
    apr_array_header_t *out = apr_array_make(pool, 4, sizeof(int));
    int at = find(m, p, n), i, j;

    for (i = 0; i < m->e->nelts; i++) {
        if (ENT(m, i)->n == n + 1 && under(ENT(m, i), p, n)) {
            APR_ARRAY_PUSH(out, int) = i;
        }
    }
    if (at >= 0 && ENT(m, at)->kind == 'a') {
        for (i = 1; i < out->nelts; i++) {      /* insertion sort by index */
            int x = APR_ARRAY_IDX(out, i, int);
            size_t xi = 0, yi = 0;

            canonical(ENT(m, x)->lab[n], &xi);
            for (j = i - 1; j >= 0; j--) {
                canonical(ENT(m, APR_ARRAY_IDX(out, j, int))->lab[n], &yi);
                if (yi <= xi) {
                    break;
                }
                APR_ARRAY_IDX(out, j + 1, int) = APR_ARRAY_IDX(out, j, int);
            }
            APR_ARRAY_IDX(out, j + 1, int) = x;
        }
    }
    return out;
}

static int is_empty(const model *m, int at)
{
    const ment *e = ENT(m, at);
    int i;

    for (i = 0; i < m->e->nelts; i++) {
        if (ENT(m, i)->n == e->n + 1 && under(ENT(m, i), e->lab, e->n)) {
            return 0;
        }
    }
    return 1;
}

static int emptied(const model *m, int at)
{
    return ENT(m, at)->kind != 's' && ENT(m, at)->lost && is_empty(m, at);
}

/* Entries for v at p, appended (pre-order). */
static void flatten(model *m, json_t *v, const char **p, int n)
{
    ment e;

    memset(&e, 0, sizeof(e));
    e.id = ++m->ids;
    e.n = n;
    e.lab = p;
    e.kind = json_is_object(v) ? 'o' : json_is_array(v) ? 'a' : 's';
    e.val = e.kind == 's' ? v : NULL;
    e.alen = json_is_array(v) ? json_array_size(v) : 0;
    APR_ARRAY_PUSH(m->e, ment) = e;
    if (json_is_object(v)) {
        const char *key;
        json_t *c;

        json_object_foreach(v, key, c) {
            flatten(m, c, extend(p, n, apr_pstrdup(pool, key)), n + 1);
        }
    }
    else if (json_is_array(v)) {
        size_t i;

        for (i = 0; i < json_array_size(v); i++) {
            const char *label = apr_psprintf(pool, "%" APR_SIZE_T_FMT, i);

            flatten(m, json_array_get(v, i), extend(p, n, label), n + 1);
        }
    }
}

/* Removes the entries at and under p; their parent lost a member when
 * lose. */
static void erase(model *m, const char **p, int n, int lose)
{
    int i, parent = lose ? find(m, p, n - 1) : -1;

    for (i = m->e->nelts - 1; i >= 0; i--) {
        if (under(ENT(m, i), p, n)) {
            memmove(ENT(m, i), ENT(m, i + 1),
                    sizeof(ment) * (apr_size_t)(m->e->nelts - i - 1));
            m->e->nelts--;
            if (parent > i) {
                parent--;
            }
        }
    }
    if (parent >= 0) {
        ENT(m, parent)->lost = 1;
    }
}

/* Inserts the entries of block (n0 levels deep at its top) at index at,
 * their paths' first n0 labels replaced by p (n levels). */
static void insert_at(model *m, int at, const ment *block, int count,
                      int n0, const char **p, int n)
{
    int i, k;

    for (i = 0; i < count; i++) {
        (void)apr_array_push(m->e);
    }
    memmove(ENT(m, at + count), ENT(m, at),
            sizeof(ment) * (apr_size_t)(m->e->nelts - count - at));
    for (i = 0; i < count; i++) {
        ment e = block[i];
        const char **lab = apr_palloc(pool, sizeof(*lab)
                                      * (apr_size_t)(e.n - n0 + n + 1));

        for (k = 0; k < n; k++) {
            lab[k] = p[k];
        }
        for (k = n0; k < e.n; k++) {
            lab[n + k - n0] = e.lab[k];
        }
        e.lab = lab;
        e.n = e.n - n0 + n;
        *ENT(m, at + i) = e;
    }
}

/* A record of a match: the value's identity and path. */
typedef struct {
    int id;
    int n;
    const char **lab;
} mrec;

static void match(const model *m, const rpath *pat, const char **p, int n,
                  apr_array_header_t *out)
{
    apr_array_header_t *kids = members(m, p, n);
    int i;

    for (i = 0; i < kids->nelts; i++) {
        const ment *c = ENT(m, APR_ARRAY_IDX(kids, i, int));

        if (!star(pat->seg[n]) && strcmp(pat->seg[n], c->lab[n]) != 0) {
            continue;
        }
        if (n + 1 == pat->n) {
            mrec r;

            r.id = c->id;
            r.n = c->n;
            r.lab = c->lab;
            APR_ARRAY_PUSH(out, mrec) = r;
        }
        else {
            match(m, pat, c->lab, n + 1, out);
        }
    }
}

static int still_there(const model *m, const mrec *r)
{
    int at = find(m, r->lab, r->n);

    return at >= 0 && ENT(m, at)->id == r->id;
}

static void m_del(model *m, const rpath *pat)
{
    apr_array_header_t *recs = apr_array_make(pool, 4, sizeof(mrec));
    int i;

    match(m, pat, NULL, 0, recs);
    for (i = 0; i < recs->nelts; i++) {
        const mrec *r = &APR_ARRAY_IDX(recs, i, mrec);

        if (still_there(m, r)) {
            erase(m, r->lab, r->n, 1);
        }
    }
}

static int m_placeable(const model *m, const char **d, int k,
                       const mrec *src)
{
    int i, cur = find(m, NULL, 0), next;
    size_t idx;

    for (i = 0; i < k - 1; i++) {
        if (path_eq(d, i, src->lab, src->n - 1)
            && strcmp(d[i], src->lab[src->n - 1]) == 0) {
            return 1;
        }
        next = find(m, d, i + 1);
        if (next < 0) {
            return ENT(m, cur)->kind == 'o'
                   || (canonical(d[i], &idx) && idx < ENT(m, cur)->alen);
        }
        if (ENT(m, next)->id == src->id) {
            return 0;
        }
        if (ENT(m, next)->kind == 's') {
            return 1;
        }
        cur = next;
    }
    return ENT(m, cur)->kind == 'o';
}

static void new_object(model *m, int at, const char **p, int n)
{
    ment e;

    memset(&e, 0, sizeof(e));
    e.id = ++m->ids;
    e.n = n;
    e.lab = p;
    e.kind = 'o';
    insert_at(m, at, &e, 1, n, p, n);
}

/* Puts block (copied: entries at and under a path n0 levels deep) at d,
 * making the missing levels; a value there is replaced in its place. */
static void put(model *m, const char **d, int k, const ment *block,
                int count, int n0)
{
    int i, at;

    for (i = 0; i < k - 1; i++) {
        at = find(m, d, i + 1);
        if (at >= 0 && ENT(m, at)->kind == 's') {
            erase(m, d, i + 1, 0);
            new_object(m, at, d, i + 1);
        }
        else if (at < 0) {
            new_object(m, m->e->nelts, d, i + 1);
        }
    }
    at = find(m, d, k);
    if (at >= 0) {
        erase(m, d, k, 0);
    }
    else {
        at = m->e->nelts;
    }
    insert_at(m, at, block, count, n0, d, k);
}

/* The entries at and under p, copied, in list order. */
static ment *subtree(const model *m, const char **p, int n, int *count)
{
    ment *out = apr_palloc(pool, sizeof(ment) * (apr_size_t)m->e->nelts + 1);
    int i;

    *count = 0;
    for (i = 0; i < m->e->nelts; i++) {
        if (under(ENT(m, i), p, n)) {
            out[(*count)++] = *ENT(m, i);
        }
    }
    return out;
}

static void m_move(model *m, const rpath *s, const rpath *d)
{
    apr_array_header_t *recs = apr_array_make(pool, 4, sizeof(mrec));
    int i, j, same, count;

    match(m, s, NULL, 0, recs);
    for (i = 0; i < recs->nelts; i++) {
        const mrec *r = &APR_ARRAY_IDX(recs, i, mrec);
        const char **to = apr_palloc(pool, sizeof(*to) * (apr_size_t)d->n);
        ment *block;

        if (!still_there(m, r)) {
            continue;
        }
        same = d->n == r->n;
        for (j = 0; j < d->n; j++) {
            to[j] = star(d->seg[j]) ? r->lab[j] : d->seg[j];
            same = same && strcmp(to[j], r->lab[j]) == 0;
        }
        if (same || !m_placeable(m, to, d->n, r)) {
            continue;
        }
        block = subtree(m, r->lab, r->n, &count);
        erase(m, r->lab, r->n, 1);
        put(m, to, d->n, block, count, r->n);
    }
}

/* JSON of the entry at index at: arrays in index order, an emptied
 * container null unless top. */
static json_t *expand(const model *m, int at, int top)
{
    const ment *e = ENT(m, at);
    apr_array_header_t *kids;
    json_t *out;
    int i;

    if (e->kind == 's') {
        return json_incref(e->val);
    }
    if (!top && emptied(m, at)) {
        return json_null();
    }
    kids = members(m, e->lab, e->n);
    out = e->kind == 'o' ? json_object() : json_array();
    for (i = 0; i < kids->nelts; i++) {
        int c = APR_ARRAY_IDX(kids, i, int);
        json_t *v = expand(m, c, 0);

        if (e->kind == 'o') {
            json_object_set_new(out, ENT(m, c)->lab[e->n], v);
        }
        else {
            json_array_append_new(out, v);
        }
    }
    return out;
}

/* KrakenD's Get, as JSON; NULL for nothing. */
static json_t *m_get(const model *m, const rpath *s, const char **p, int n)
{
    apr_array_header_t *kids;
    json_t *arr;
    int at = find(m, p, n), i;

    if (n == s->n) {
        return expand(m, at, 0);
    }
    if (ENT(m, at)->kind == 's' || is_empty(m, at)) {
        return NULL;
    }
    if (!star(s->seg[n])) {
        const char **q = extend(p, n, s->seg[n]);

        return find(m, q, n + 1) >= 0 ? m_get(m, s, q, n + 1) : NULL;
    }
    kids = members(m, p, n);
    arr = json_array();
    for (i = 0; i < kids->nelts; i++) {
        json_t *v = m_get(m, s, ENT(m, APR_ARRAY_IDX(kids, i, int))->lab,
                          n + 1);

        json_array_append_new(arr, v ? v : json_null());
    }
    return arr;
}

static void m_append(model *m, const rpath *s, const rpath *d)
{
    json_t *src = m_get(m, s, NULL, 0);
    const char **to_seg = (const char **)d->seg;
    apr_array_header_t *kids;
    int dst = find(m, to_seg, d->n), i, k;
    size_t next = 0;
    ment arr;

    if (!json_is_array(src) || dst < 0 || ENT(m, dst)->kind != 'a'
        || emptied(m, dst)) {
        json_decref(src);
        return;
    }
    /* the array's members keep their entries, numbered afresh */
    kids = members(m, to_seg, d->n);
    for (i = 0; i < kids->nelts; i++) {
        const char *from = ENT(m, APR_ARRAY_IDX(kids, i, int))->lab[d->n];
        const char *to = apr_psprintf(pool, "%" APR_SIZE_T_FMT, next++);

        for (k = 0; k < m->e->nelts; k++) {
            ment *e = ENT(m, k);

            if (e->n > d->n && under(e, to_seg, d->n)
                && strcmp(e->lab[d->n], from) == 0) {
                const char **lab = apr_pmemdup(pool, e->lab, sizeof(*lab)
                                               * (apr_size_t)e->n);
                lab[d->n] = to;
                e->lab = lab;
            }
        }
    }
    /* a new array in the old one's place (a fresh value) */
    arr = *ENT(m, dst);
    arr.id = ++m->ids;
    arr.lost = 0;
    arr.alen = next + json_array_size(src);
    *ENT(m, dst) = arr;
    /* then FROM's values, new entries at the end */
    for (i = 0; i < (int)json_array_size(src); i++) {
        const char *label = apr_psprintf(pool, "%" APR_SIZE_T_FMT, next++);

        flatten(m, json_array_get(src, (size_t)i),
                extend(to_seg, d->n, label), d->n + 1);
    }
    json_array_append_new(m->keep, src);
    m_del(m, s);
}

/* ---- the target ---- */

static size_t count_values(const json_t *v, int depth, int *too_deep)
{
    size_t n = 1, i;
    const char *key;
    json_t *c;

    if (depth > MAX_DEPTH) {
        *too_deep = 1;
        return 0;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, c) {
            n += count_values(c, depth + 1, too_deep);
        }
    }
    for (i = 0; json_is_array(v) && i < json_array_size(v); i++) {
        n += count_values(json_array_get(v, i), depth + 1, too_deep);
    }
    return n;
}

typedef struct {
    int type;
    int n;
    rpath p[MAX_ARGS];
} rop;

/* Splits "OP PATH..." on spaces; NULL op for an empty line. */
static int split(char *line, const char **op, char **args)
{
    char *tok, *last;
    int n = 0;

    *op = apr_strtok(line, " ", &last);
    while (*op && n < MAX_ARGS + 2
           && (tok = apr_strtok(NULL, " ", &last)) != NULL) {
        args[n++] = tok;
    }
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apigw_flatmap *fm;
    rop ops[MAX_OPS];
    int nops = 0, i, a, too_deep = 0;
    size_t pos = 0;
    json_t *in = NULL, *doc;
    const char *err = NULL;
    model m;
    char *got, *want;

    if (size > 4096) {
        return 0;
    }
    apr_pool_clear(pool);
    fm = apigw_flatmap_create(pool);
    while (pos < size && nops < MAX_OPS) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        char *text = apr_pstrmemdup(pool, (const char *)data + pos, len);
        char *copy = apr_pstrdup(pool, text), *args[MAX_ARGS + 2];
        const char *op, *msg;
        int n, type, before = apigw_flatmap_size(fm);

        if (len && data[pos] == '{') {
            in = json_loadb((const char *)data + pos, size - pos, 0, NULL);
            break;
        }
        pos += len + 1;
        n = split(copy, &op, args);
        if (!op || n > MAX_ARGS) {
            continue;
        }
        type = ref_valid(op, n, args, ops[nops].p);
        msg = apigw_flatmap_add(pool, fm, op, n, (const char *const *)args);
        CHECK(!msg == !!type, "\"%s\": the reference %s it, the code %s "
              "(%s)", text, type ? "accepts" : "refuses",
              msg ? "refuses" : "accepts", msg ? msg : "");
        CHECK(!msg || *msg, "\"%s\": an empty message", text);
        CHECK(apigw_flatmap_size(fm) == before + (msg ? 0 : 1),
              "\"%s\": %d operations after %d", text,
              apigw_flatmap_size(fm), before);
        if (!msg) {
            ops[nops].type = type;
            ops[nops].n = n;
            nops++;
        }
    }
    if (!json_is_object(in)
        || count_values(in, 0, &too_deep) > MAX_VALUES || too_deep) {
        json_decref(in);
        return 0;
    }
    doc = json_deep_copy(in);
    CHECK(apigw_flatmap_apply(fm, doc, &err) == 0, "apply failed: %s", err);

    m.e = apr_array_make(pool, 64, sizeof(ment));
    m.ids = 0;
    m.keep = json_array();
    flatten(&m, in, NULL, 0);
    for (i = 0; i < nops; i++) {
        switch (ops[i].type) {
        case 'm':
            m_move(&m, &ops[i].p[0], &ops[i].p[1]);
            break;
        case 'a':
            m_append(&m, &ops[i].p[0], &ops[i].p[1]);
            break;
        default:
            for (a = 0; a < ops[i].n; a++) {
                m_del(&m, &ops[i].p[a]);
            }
        }
    }
    {
        json_t *ref = expand(&m, find(&m, NULL, 0), 1);

        got = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
        want = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
        CHECK(got && want && strcmp(got, want) == 0,
              "the document and the model differ\n  got  %s\n  want %s",
              got ? got : "(null)", want ? want : "(null)");
        json_decref(ref);
    }
    free(got);
    free(want);
    json_decref(m.keep);
    json_decref(doc);
    json_decref(in);
    return 0;
}
