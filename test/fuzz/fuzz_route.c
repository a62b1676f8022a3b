/* sources: mod_apigw/apigw_route.c */
/* libFuzzer target for mod_apigw/apigw_route.c. Builds a route table from
 * the input and matches paths against it, comparing every answer (add
 * errors, conflicts, FOUND data and variables, NO_METHOD Allow, NONE) with
 * a brute-force model that checks each pattern against the path directly.
 *
 * Input: lines. "r<m><pattern>" adds a route (flags 0), "i" with
 * APIGW_ROUTE_INNER_VARS, "s" with APIGW_ROUTE_SKIP_CONFLICT, "b" with
 * both; "q<m><path>" matches a path; any other line is matched as a GET
 * path. <m> is one byte choosing the method: its value modulo 8 indexes
 * METHODS ('0'..'7' read naturally). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_route.h"

#define MAX_ROUTES 48
#define MAX_REQUESTS 64
#define MAX_SEGS 64

static const char *const METHODS[8] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"
};

#define CHECK(cond, ...) do {                                             \
        if (!(cond)) {                                                    \
            fprintf(stderr, "fuzz_route: check failed: %s\n  ", #cond);   \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            abort();                                                      \
        }                                                                 \
    } while (0)

enum { K_STATIC = 0, K_PARAM = 1, K_WILD = 2 };

typedef struct {
    int kind;
    const char *text;          /* static */
    const char *pre, *name, *suf;
} mseg;

typedef struct {
    const char *pattern;
    const char *method;
    void *data;
    int nsegs;
    mseg segs[MAX_SEGS];
} mroute;

typedef struct {
    mroute routes[MAX_ROUTES];
    int n;
} model;

static char tags[MAX_ROUTES * 4 + MAX_REQUESTS];   /* distinct data pointers */

/* Splits an accepted pattern into model segments. */
static int model_parse(apr_pool_t *p, const char *pattern, mroute *r)
{
    const char *s = pattern + 1;

    r->nsegs = 0;
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);
        char *seg = apr_pstrmemdup(p, s, len);
        char *open = strchr(seg, '{');
        mseg *m;

        if (r->nsegs >= MAX_SEGS) {
            return 0;
        }
        m = &r->segs[r->nsegs++];
        memset(m, 0, sizeof(*m));
        if (!slash && strcmp(seg, "*") == 0) {
            m->kind = K_WILD;
        }
        else if (open) {
            char *close = strchr(open, '}');
            if (!close) {
                return 0;
            }
            m->kind = K_PARAM;
            m->pre = apr_pstrmemdup(p, seg, (size_t)(open - seg));
            m->name = apr_pstrmemdup(p, open + 1, (size_t)(close - open - 1));
            m->suf = close + 1;
        }
        else {
            m->kind = K_STATIC;
            m->text = seg;
        }
        if (!slash) {
            return 1;
        }
        s = slash + 1;
    }
}

/* Same trie node at this depth (variable names aside)? */
static int seg_same_node(const mseg *a, const mseg *b)
{
    if (a->kind != b->kind) {
        return 0;
    }
    switch (a->kind) {
    case K_STATIC:
        return strcmp(a->text, b->text) == 0;
    case K_PARAM:
        return strcmp(a->pre, b->pre) == 0 && strcmp(a->suf, b->suf) == 0;
    default:
        return 1;
    }
}

static int same_prefix(const mroute *a, const mroute *b, int depth)
{
    int i;

    if (a->nsegs < depth || b->nsegs < depth) {
        return 0;
    }
    for (i = 0; i < depth; i++) {
        if (!seg_same_node(&a->segs[i], &b->segs[i])) {
            return 0;
        }
    }
    return 1;
}

/* Index of the route that created r's node at depth (0-based). */
static int creator(const model *mo, const mroute *r, int depth)
{
    int j;

    for (j = 0; j < mo->n; j++) {
        if (same_prefix(&mo->routes[j], r, depth + 1)) {
            return j;
        }
    }
    CHECK(0, "no creator for %s at %d", r->pattern, depth);
    return -1;
}

/* ---- adding ---- */

static void do_add(apr_pool_t *p, apigw_route_table *t, model *mo,
                   const char *pattern, const char *method, void *data,
                   int flags)
{
    const char *check = apigw_route_check(p, pattern, flags);
    void *conflict = (void *)&conflict;
    int before = apigw_route_count(t);
    const char *err = apigw_route_add(t, pattern, method, data, flags,
                                      &conflict);
    mroute *r;
    const char *want_err = NULL;
    void *want_conflict = NULL;
    int i, j, depth_ok;

    if (check) {
        CHECK(err && strcmp(err, check) == 0, "add/check disagree on %s: "
              "\"%s\" vs \"%s\"", pattern, err ? err : "(null)", check);
        CHECK(conflict == NULL, "parse error with a conflict: %s", pattern);
        CHECK(apigw_route_count(t) == before, "count changed on error");
        return;
    }
    CHECK(pattern[0] == '/', "accepted without '/': %s", pattern);
    CHECK(mo->n < MAX_ROUTES, "model full");
    r = &mo->routes[mo->n];
    CHECK(model_parse(p, pattern, r), "model cannot parse accepted %s",
          pattern);
    r->pattern = pattern;
    r->method = method;
    r->data = data;

    /* Walk the existing routes depth by depth, as the trie would. */
    depth_ok = 1;
    for (i = 0; i < r->nsegs && depth_ok; i++) {
        int first = -1;
        for (j = 0; j < mo->n; j++) {
            if (same_prefix(&mo->routes[j], r, i + 1)) {
                first = j;
                break;
            }
        }
        if (first < 0) {
            depth_ok = 0;              /* a new node: nothing below exists */
            break;
        }
        if (r->segs[i].kind == K_PARAM
            && strcmp(mo->routes[first].segs[i].name, r->segs[i].name) != 0) {
            want_err = apr_psprintf(p, "{%s} is named {%s} by an earlier "
                                    "route at the same position",
                                    r->segs[i].name,
                                    mo->routes[first].segs[i].name);
            want_conflict = mo->routes[first].data;
            break;
        }
    }
    if (!want_err && depth_ok) {
        for (j = 0; j < mo->n; j++) {
            const mroute *o = &mo->routes[j];
            if (o->nsegs == r->nsegs && same_prefix(o, r, r->nsegs)
                && strcmp(o->method, method) == 0) {
                want_err = apr_psprintf(p, "%s %s is defined twice", method,
                                        pattern);
                want_conflict = o->data;
                break;
            }
        }
    }
    if (want_err) {
        if (flags & APIGW_ROUTE_SKIP_CONFLICT) {
            CHECK(err == NULL, "SKIP_CONFLICT returned \"%s\"", err);
        }
        else {
            CHECK(err && strcmp(err, want_err) == 0, "%s %s: got \"%s\", "
                  "want \"%s\"", method, pattern, err ? err : "(null)",
                  want_err);
        }
        CHECK(conflict == want_conflict, "%s %s: wrong conflict data",
              method, pattern);
        CHECK(apigw_route_count(t) == before, "count changed on conflict");
        return;
    }
    CHECK(err == NULL, "%s %s refused: %s", method, pattern, err);
    CHECK(conflict == NULL, "%s %s: conflict set on success", method, pattern);
    CHECK(apigw_route_count(t) == before + 1, "count not incremented");
    mo->n++;
}

/* ---- matching ---- */

typedef struct {
    int nvars;
    const char *names[MAX_SEGS];
    const char *values[MAX_SEGS];
} mvars;

/* Does r's pattern match path (after its leading '/')? */
static int model_match(apr_pool_t *p, const mroute *r, const char *rest,
                       mvars *v)
{
    int i;

    v->nvars = 0;
    for (i = 0; i < r->nsegs; i++) {
        const mseg *m = &r->segs[i];
        const char *slash;
        size_t len;

        if (!rest) {
            return 0;                  /* path ended before the pattern */
        }
        if (m->kind == K_WILD) {
            v->names[v->nvars] = "*";
            v->values[v->nvars++] = rest;
            return 1;
        }
        slash = strchr(rest, '/');
        len = slash ? (size_t)(slash - rest) : strlen(rest);
        if (m->kind == K_STATIC) {
            if (strlen(m->text) != len || memcmp(m->text, rest, len) != 0) {
                return 0;
            }
        }
        else {
            size_t pl = strlen(m->pre), sl = strlen(m->suf);
            if (len <= pl + sl || memcmp(rest, m->pre, pl) != 0
                || memcmp(rest + len - sl, m->suf, sl) != 0) {
                return 0;
            }
            v->names[v->nvars] = m->name;
            v->values[v->nvars++] = apr_pstrmemdup(p, rest + pl, len - pl - sl);
        }
        rest = slash ? slash + 1 : NULL;
    }
    return rest == NULL;
}

/* <0 when a's node comes first in the matcher's order. Both match the
 * same path. */
static int rank_cmp(const model *mo, const mroute *a, const mroute *b)
{
    int i;

    for (i = 0; i < a->nsegs && i < b->nsegs; i++) {
        const mseg *x = &a->segs[i], *y = &b->segs[i];
        if (x->kind != y->kind) {
            return x->kind - y->kind;
        }
        if (x->kind == K_PARAM) {
            size_t lx = strlen(x->pre) + strlen(x->suf);
            size_t ly = strlen(y->pre) + strlen(y->suf);
            int cx, cy;
            if (lx != ly) {
                return lx > ly ? -1 : 1;
            }
            cx = creator(mo, a, i);
            cy = creator(mo, b, i);
            if (cx != cy) {
                return cx - cy;
            }
        }
    }
    CHECK(a->nsegs == b->nsegs, "ranks tie with different depths: %s, %s",
          a->pattern, b->pattern);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void do_match(apr_pool_t *p, const apigw_route_table *t,
                     const model *mo, const char *path, const char *method)
{
    apigw_route_match m;
    apigw_route_status st = apigw_route_match_path(t, path, method, p, &m);
    int matching[MAX_ROUTES], nmatching = 0;
    mvars vars[MAX_ROUTES];
    const mroute *best = NULL;
    int best_i = -1, i, j;

    if (path[0] == '/') {
        for (i = 0; i < mo->n; i++) {
            if (model_match(p, &mo->routes[i], path + 1, &vars[i])) {
                matching[nmatching++] = i;
            }
        }
    }
    /* The best node holding a leaf for method (HEAD falls back to GET
     * only within a node that has no HEAD leaf). */
    for (i = 0; i < nmatching; i++) {
        const mroute *r = &mo->routes[matching[i]];
        int ok = strcmp(r->method, method) == 0;

        if (!ok && strcmp(method, "HEAD") == 0
            && strcmp(r->method, "GET") == 0) {
            ok = 1;
            for (j = 0; j < nmatching; j++) {
                const mroute *o = &mo->routes[matching[j]];
                if (strcmp(o->method, "HEAD") == 0 && rank_cmp(mo, o, r) == 0) {
                    ok = 0;            /* that node answers HEAD itself */
                }
            }
        }
        if (ok && (!best || rank_cmp(mo, r, best) < 0)) {
            best = r;
            best_i = matching[i];
        }
    }

    if (best) {
        CHECK(st == APIGW_ROUTE_FOUND, "%s %s: status %d, want FOUND (%s %s)",
              method, path, (int)st, best->method, best->pattern);
        CHECK(m.data == best->data, "%s %s: wrong route, want %s %s", method,
              path, best->method, best->pattern);
        CHECK(m.allow == NULL, "allow set on FOUND");
        CHECK(m.vars && m.vars->nelts == vars[best_i].nvars,
              "%s %s: %d vars, want %d", method, path,
              m.vars ? m.vars->nelts : -1, vars[best_i].nvars);
        for (i = 0; i < m.vars->nelts; i++) {
            const apigw_route_var *v = &APR_ARRAY_IDX(m.vars, i,
                                                      apigw_route_var);
            CHECK(strcmp(v->name, vars[best_i].names[i]) == 0
                  && strcmp(v->value, vars[best_i].values[i]) == 0,
                  "%s %s: var %d is %s=%s, want %s=%s", method, path, i,
                  v->name, v->value, vars[best_i].names[i],
                  vars[best_i].values[i]);
        }
        return;
    }
    CHECK(m.data == NULL && m.vars == NULL, "data/vars set without FOUND");
    if (nmatching == 0) {
        CHECK(st == APIGW_ROUTE_NONE, "%s %s: status %d, want NONE", method,
              path, (int)st);
        CHECK(m.allow == NULL, "allow set on NONE");
        return;
    }
    {
        const char *allow[MAX_ROUTES + 1], *want = "";
        int nallow = 0, has_get = 0, has_head = 0;

        for (i = 0; i < nmatching; i++) {
            const char *meth = mo->routes[matching[i]].method;
            for (j = 0; j < nallow && strcmp(allow[j], meth) != 0; j++)
                ;
            if (j == nallow) {
                allow[nallow++] = meth;
                has_get |= strcmp(meth, "GET") == 0;
                has_head |= strcmp(meth, "HEAD") == 0;
            }
        }
        if (has_get && !has_head) {
            allow[nallow++] = "HEAD";
        }
        qsort(allow, (size_t)nallow, sizeof(char *), cmp_str);
        for (i = 0; i < nallow; i++) {
            want = apr_pstrcat(p, want, i ? ", " : "", allow[i], NULL);
        }
        CHECK(st == APIGW_ROUTE_NO_METHOD, "%s %s: status %d, want NO_METHOD",
              method, path, (int)st);
        CHECK(m.allow && strcmp(m.allow, want) == 0,
              "%s %s: allow \"%s\", want \"%s\"", method, path,
              m.allow ? m.allow : "(null)", want);
    }
}

/* A path that r's pattern certainly matches. */
static const char *instantiate(apr_pool_t *p, const mroute *r, int variant)
{
    const char *out = "";
    int i;

    for (i = 0; i < r->nsegs; i++) {
        const mseg *m = &r->segs[i];
        const char *seg;

        switch (m->kind) {
        case K_STATIC:
            seg = m->text;
            break;
        case K_PARAM:
            seg = apr_pstrcat(p, m->pre, variant ? "me" : "v", m->suf, NULL);
            break;
        default:
            seg = variant ? "w/x/" : "";
            break;
        }
        out = apr_pstrcat(p, out, "/", seg, NULL);
    }
    return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apigw_route_table *t;
    model *mo;
    const char *reqs[MAX_REQUESTS];
    const char *req_methods[MAX_REQUESTS];
    int nreqs = 0, attempts = 0, i, k;
    size_t pos = 0;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    t = apigw_route_table_make(p);
    mo = apr_pcalloc(p, sizeof(*mo));

    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *line = apr_pstrmemdup(p, (const char *)data + pos, len);
        char kind = len ? line[0] : 'q';
        const char *method = METHODS[len > 1 ? (unsigned char)line[1] % 8 : 0];
        const char *rest = len > 2 ? line + 2 : "";
        int flags = -1;

        pos += len + 1;
        switch (kind) {
        case 'r': flags = 0; break;
        case 'i': flags = APIGW_ROUTE_INNER_VARS; break;
        case 's': flags = APIGW_ROUTE_SKIP_CONFLICT; break;
        case 'b': flags = APIGW_ROUTE_INNER_VARS | APIGW_ROUTE_SKIP_CONFLICT;
                  break;
        case 'q': break;
        default:
            method = "GET";
            rest = line;
            break;
        }
        if (flags >= 0) {
            if (attempts < MAX_ROUTES * 4 && mo->n < MAX_ROUTES) {
                do_add(p, t, mo, rest, method, &tags[attempts], flags);
                attempts++;
            }
        }
        else if (nreqs < MAX_REQUESTS) {
            req_methods[nreqs] = method;
            reqs[nreqs++] = rest;
        }
    }

    for (i = 0; i < nreqs; i++) {
        do_match(p, t, mo, reqs[i], req_methods[i]);
        do_match(p, t, mo, reqs[i], "HEAD");
    }
    /* every route's own paths, with every method */
    for (i = 0; i < mo->n; i++) {
        for (k = 0; k < 8; k++) {
            do_match(p, t, mo, instantiate(p, &mo->routes[i], 0), METHODS[k]);
        }
        do_match(p, t, mo, instantiate(p, &mo->routes[i], 1),
                 mo->routes[i].method);
    }
    apr_pool_destroy(p);
    return 0;
}
