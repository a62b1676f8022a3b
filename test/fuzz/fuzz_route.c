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
 * METHODS ('0'..'7' read naturally).
 *
 * Every request path is asked with its method and with HEAD; every
 * accepted route's own path with each of the 8 methods, and a second
 * instance of it (other variable text, a longer wildcard) with the
 * route's method. The model's answer for a path (which routes match it)
 * is worked out once and serves every method asked of that path, and a
 * (path, method) pair already asked is not asked again: the table does
 * not change while it is matched, so the answer could not differ.
 *
 * Every request path also goes through the redirect candidates: its
 * cleaned path has one leading '/', no "//", no dot segment and cleans to
 * itself; a fixed path is the cleaned path (or it with the trailing slash
 * toggled) but for ASCII case, and is matched (FOUND) by the table with
 * the method; a clean path the table matches is always fixed.
 *
 * Cost: one pool for the process, cleared per input; the model lives in
 * static storage; segment lengths and each route's "creator" at every
 * depth (the earliest route sharing its node there, which orders {var}
 * nodes of equal literal length) are worked out once when the route is
 * added instead of at every comparison. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_route.h"

/* At most 24 routes (of at most 96 add attempts) and 32 requests per
 * input. Every edge the fuzzer reaches is reached with 8 of each
 * (replaying a 2,700-input corpus grown with bounds of 48 and 64 gives
 * the same 256 edges with any bound from 8 up), and 11 seeded mutations
 * of apigw_route.c fail on nearly the same inputs of that corpus with
 * 24/32 as with 48/64 (at most 15 fewer); a full input at 48/64 costs 2
 * to 3.5 times one at 24/32 (every route's own path is matched 9 times
 * against every route), and inputs grow that big once the length limit
 * reaches 4 KB. */
#define MAX_ROUTES 24
#define MAX_REQUESTS 32
#define MAX_SEGS 64

#define M_GET 0
#define M_HEAD 1
static const char *const METHODS[8] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"
};

#define FUZZ_TARGET "fuzz_route"
#include "fuzz_check.h"

/* The model's own computations carry no coverage instrumentation: their
 * branches and comparisons (pattern text against path text, both from the
 * input) say nothing about the library, and tracing them cost more than
 * the library calls. What the library does, and every check of it, stays
 * instrumented. noinline keeps them out of instrumented callers. */
#define MODEL __attribute__((no_sanitize("coverage"), noinline))

enum { K_STATIC = 0, K_PARAM = 1, K_WILD = 2 };

typedef struct {
    int kind;
    const char *text;          /* static */
    size_t text_len;
    const char *pre, *name, *suf;
    size_t pre_len, suf_len;
} mseg;

typedef struct {
    const char *pattern;
    int method;                /* index into METHODS */
    void *data;
    int nsegs;
    int creator[MAX_SEGS];     /* index of the route that made the node at
                                * each depth (this route's own, if new) */
    mseg segs[MAX_SEGS];
} mroute;

typedef struct {
    mroute routes[MAX_ROUTES];
    int n;
} model;

static char tags[MAX_ROUTES * 4 + MAX_REQUESTS];   /* distinct data pointers */
static int by_name[8];           /* METHODS indexes in strcmp order, once */
static apr_pool_t *pool;                           /* cleared per input */
static model the_model;

/* Splits an accepted pattern into model segments. */
MODEL
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
            m->pre_len = strlen(m->pre);
            m->suf_len = strlen(m->suf);
        }
        else {
            m->kind = K_STATIC;
            m->text = seg;
            m->text_len = len;
        }
        if (!slash) {
            return 1;
        }
        s = slash + 1;
    }
}

/* strcmp(a, b) == 0, in the model's own loop: libc's would feed
 * libFuzzer's comparison tables with pairs of input text. */
MODEL
static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Same trie node at this depth (variable names aside)? */
MODEL
static int seg_same_node(const mseg *a, const mseg *b)
{
    if (a->kind != b->kind) {
        return 0;
    }
    switch (a->kind) {
    case K_STATIC:
        return str_eq(a->text, b->text);
    case K_PARAM:
        return str_eq(a->pre, b->pre) && str_eq(a->suf, b->suf);
    default:
        return 1;
    }
}

/* How many leading segments a and b share as trie nodes: a and b have the
 * same prefix of depth d exactly when d <= common_depth(a, b). */
MODEL
static int common_depth(const mroute *a, const mroute *b)
{
    int i;

    for (i = 0; i < a->nsegs && i < b->nsegs; i++) {
        if (!seg_same_node(&a->segs[i], &b->segs[i])) {
            break;
        }
    }
    return i;
}

/* ---- adding ---- */

static void do_add(apr_pool_t *p, apigw_route_table *t, model *mo,
                   const char *pattern, int method, void *data, int flags)
{
    const char *check = apigw_route_check(p, pattern, flags);
    void *conflict = (void *)&conflict;
    int before = apigw_route_count(t);
    const char *err = apigw_route_add(t, pattern, METHODS[method], data,
                                      flags, &conflict);
    mroute *r;
    const char *want_err = NULL;
    void *want_conflict = NULL;
    int common[MAX_ROUTES];
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
    for (j = 0; j < mo->n; j++) {
        common[j] = common_depth(&mo->routes[j], r);
    }

    /* Walk the existing routes depth by depth, as the trie would: the
     * node at depth i exists when an earlier route shares r's first i+1
     * segments, and the first such route made it. */
    depth_ok = 1;
    for (i = 0; i < r->nsegs && depth_ok; i++) {
        int first = -1;
        for (j = 0; j < mo->n; j++) {
            if (common[j] >= i + 1) {
                first = j;
                break;
            }
        }
        if (first < 0) {
            depth_ok = 0;              /* a new node: nothing below exists */
            break;
        }
        r->creator[i] = first;
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
    for (; i < r->nsegs; i++) {
        r->creator[i] = mo->n;         /* nodes this route makes */
    }
    if (!want_err && depth_ok) {
        for (j = 0; j < mo->n; j++) {
            const mroute *o = &mo->routes[j];
            if (o->nsegs == r->nsegs && common[j] >= r->nsegs
                && o->method == method) {
                want_err = apr_psprintf(p, "%s %s is defined twice",
                                        METHODS[method], pattern);
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
                  "want \"%s\"", METHODS[method], pattern,
                  err ? err : "(null)", want_err);
        }
        CHECK(conflict == want_conflict, "%s %s: wrong conflict data",
              METHODS[method], pattern);
        CHECK(apigw_route_count(t) == before, "count changed on conflict");
        return;
    }
    CHECK(err == NULL, "%s %s refused: %s", METHODS[method], pattern, err);
    CHECK(conflict == NULL, "%s %s: conflict set on success",
          METHODS[method], pattern);
    CHECK(apigw_route_count(t) == before + 1, "count not incremented");
    mo->n++;
}

/* ---- matching ---- */

/* A path cut at its slashes once: seg i starts at off[i] (after the '/')
 * and is len[i] long. Only the first MAX_SEGS + 1 segments are kept; a
 * path with more has nsegs == MAX_SEGS + 1, which no pattern's segment
 * count equals. */
typedef struct {
    const char *path;
    int nsegs;
    size_t off[MAX_SEGS + 1];
    size_t len[MAX_SEGS + 1];
} mpath;

MODEL
static void path_split(const char *path, mpath *pp)
{
    const char *s = path + 1;

    pp->path = path;
    pp->nsegs = 0;
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);

        pp->off[pp->nsegs] = (size_t)(s - path);
        pp->len[pp->nsegs] = len;
        pp->nsegs++;
        if (!slash || pp->nsegs == MAX_SEGS + 1) {
            return;
        }
        s = slash + 1;
    }
}

typedef struct {
    int nvars;
    const char *names[MAX_SEGS];
    const char *values[MAX_SEGS];
} mvars;

/* n bytes equal? The model's own loop: libc's memcmp would feed
 * libFuzzer's comparison tables with model-against-input pairs. */
MODEL
static int bytes_eq(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* Does r's pattern match the path? With v, also its variables. */
MODEL
static int model_match(apr_pool_t *p, const mroute *r, const mpath *pp,
                       mvars *v)
{
    int i;

    if (v) {
        v->nvars = 0;
    }
    /* A pattern matches only a path with as many segments, or with at
     * least as many when it ends in the wildcard. */
    if (r->segs[r->nsegs - 1].kind == K_WILD ? pp->nsegs < r->nsegs
                                             : pp->nsegs != r->nsegs) {
        return 0;
    }
    for (i = 0; i < r->nsegs; i++) {
        const mseg *m = &r->segs[i];
        const char *rest;
        size_t len;

        if (i >= pp->nsegs) {
            return 0;                  /* path ended before the pattern */
        }
        rest = pp->path + pp->off[i];
        len = pp->len[i];
        if (m->kind == K_WILD) {
            if (v) {
                v->names[v->nvars] = "*";
                v->values[v->nvars++] = rest;
            }
            return 1;
        }
        if (m->kind == K_STATIC) {
            if (m->text_len != len || !bytes_eq(m->text, rest, len)) {
                return 0;
            }
        }
        else {
            size_t pl = m->pre_len, sl = m->suf_len;
            if (len <= pl + sl || !bytes_eq(rest, m->pre, pl)
                || !bytes_eq(rest + len - sl, m->suf, sl)) {
                return 0;
            }
            if (v) {
                v->names[v->nvars] = m->name;
                v->values[v->nvars++] = apr_pstrmemdup(p, rest + pl,
                                                       len - pl - sl);
            }
        }
    }
    return r->nsegs == pp->nsegs;      /* and the path ended with it */
}

/* <0 when a's node comes first in the matcher's order. Both match the
 * same path. */
MODEL
static int rank_cmp(const mroute *a, const mroute *b)
{
    int i;

    for (i = 0; i < a->nsegs && i < b->nsegs; i++) {
        const mseg *x = &a->segs[i], *y = &b->segs[i];
        if (x->kind != y->kind) {
            return x->kind - y->kind;
        }
        if (x->kind == K_PARAM) {
            size_t lx = x->pre_len + x->suf_len;
            size_t ly = y->pre_len + y->suf_len;
            if (lx != ly) {
                return lx > ly ? -1 : 1;
            }
            if (a->creator[i] != b->creator[i]) {
                return a->creator[i] - b->creator[i];
            }
        }
    }
    CHECK(a->nsegs == b->nsegs, "ranks tie with different depths: %s, %s",
          a->pattern, b->pattern);
    return 0;
}

static int cmp_method(const void *a, const void *b)
{
    return strcmp(METHODS[*(const int *)a], METHODS[*(const int *)b]);
}

/* What the model says of one path, whatever the method. */
typedef struct {
    mpath pp;
    int matching[MAX_ROUTES], nmatching;
    unsigned asked;                    /* methods already matched */
    const char *allow;                 /* the Allow a NO_METHOD must give */
} mquery;

MODEL
static mquery *query_for(apr_pool_t *p, apr_hash_t *seen, const model *mo,
                         const char *path)
{
    mquery *q = apr_hash_get(seen, path, APR_HASH_KEY_STRING);
    int i;

    if (q) {
        return q;
    }
    q = apr_palloc(p, sizeof(*q));
    q->nmatching = 0;
    q->asked = 0;
    q->allow = NULL;
    if (path[0] == '/') {
        path_split(path, &q->pp);
        for (i = 0; i < mo->n; i++) {
            if (model_match(p, &mo->routes[i], &q->pp, NULL)) {
                q->matching[q->nmatching++] = i;
            }
        }
    }
    apr_hash_set(seen, path, APR_HASH_KEY_STRING, q);
    return q;
}

/* The methods of the routes matching the path, HEAD added when GET is
 * there without it, in strcmp order, joined with ", ". */
MODEL
static const char *want_allow(apr_pool_t *p, const model *mo, mquery *q)
{
    unsigned has = 0;
    const char *want = "";
    int i, n = 0;

    if (q->allow) {
        return q->allow;
    }
    for (i = 0; i < q->nmatching; i++) {
        has |= 1u << mo->routes[q->matching[i]].method;
    }
    if (has & (1u << M_GET)) {
        has |= 1u << M_HEAD;
    }
    for (i = 0; i < 8; i++) {
        if (has & (1u << by_name[i])) {
            want = apr_pstrcat(p, want, n++ ? ", " : "", METHODS[by_name[i]],
                               NULL);
        }
    }
    return q->allow = want;
}

/* The best node holding a leaf for method (HEAD falls back to GET only
 * within a node that has no HEAD leaf), or NULL. */
MODEL
static const mroute *model_best(const model *mo, const mquery *q,
                                int method)
{
    const mroute *best = NULL;
    int i, j;

    for (i = 0; i < q->nmatching; i++) {
        const mroute *r = &mo->routes[q->matching[i]];
        int ok = r->method == method;

        if (!ok && method == M_HEAD && r->method == M_GET) {
            ok = 1;
            for (j = 0; j < q->nmatching; j++) {
                const mroute *o = &mo->routes[q->matching[j]];
                if (o->method == M_HEAD && rank_cmp(o, r) == 0) {
                    ok = 0;            /* that node answers HEAD itself */
                }
            }
        }
        if (ok && (!best || rank_cmp(r, best) < 0)) {
            best = r;
        }
    }
    return best;
}

static void do_match(apr_pool_t *p, const apigw_route_table *t,
                     const model *mo, apr_hash_t *seen, const char *path,
                     int method)
{
    mquery *q = query_for(p, seen, mo, path);
    const char *mname = METHODS[method];
    apigw_route_match m;
    apigw_route_status st;
    const mroute *best;
    mvars vars;
    int i;

    if (q->asked & (1u << method)) {
        return;                        /* asked already: same answer */
    }
    q->asked |= 1u << method;
    st = apigw_route_match_path(t, path, mname, p, &m);
    best = model_best(mo, q, method);
    if (best) {
        CHECK(model_match(p, best, &q->pp, &vars), "best does not match");
        CHECK(st == APIGW_ROUTE_FOUND, "%s %s: status %d, want FOUND (%s %s)",
              mname, path, (int)st, METHODS[best->method], best->pattern);
        CHECK(m.data == best->data, "%s %s: wrong route, want %s %s", mname,
              path, METHODS[best->method], best->pattern);
        CHECK(m.allow == NULL, "allow set on FOUND");
        CHECK(m.vars && m.vars->nelts == vars.nvars,
              "%s %s: %d vars, want %d", mname, path,
              m.vars ? m.vars->nelts : -1, vars.nvars);
        for (i = 0; i < m.vars->nelts; i++) {
            const apigw_route_var *v = &APR_ARRAY_IDX(m.vars, i,
                                                      apigw_route_var);
            CHECK(str_eq(v->name, vars.names[i])
                  && str_eq(v->value, vars.values[i]),
                  "%s %s: var %d is %s=%s, want %s=%s", mname, path, i,
                  v->name, v->value, vars.names[i], vars.values[i]);
        }
        return;
    }
    CHECK(m.data == NULL && m.vars == NULL, "data/vars set without FOUND");
    if (q->nmatching == 0) {
        CHECK(st == APIGW_ROUTE_NONE, "%s %s: status %d, want NONE", mname,
              path, (int)st);
        CHECK(m.allow == NULL, "allow set on NONE");
        return;
    }
    {
        const char *want = want_allow(p, mo, q);

        CHECK(st == APIGW_ROUTE_NO_METHOD, "%s %s: status %d, want NO_METHOD",
              mname, path, (int)st);
        CHECK(m.allow && str_eq(m.allow, want),
              "%s %s: allow \"%s\", want \"%s\"", mname, path,
              m.allow ? m.allow : "(null)", want);
    }
}

static int has_dot_segment(const char *s)
{
    for (; *s; s++) {
        if (s[0] == '/' && s[1] == '.'
            && (s[2] == '/' || !s[2]
                || (s[2] == '.' && (s[3] == '/' || !s[3])))) {
            return 1;
        }
    }
    return 0;
}

static void do_fix(apr_pool_t *p, const apigw_route_table *t,
                   const char *path, int method)
{
    const char *mname = METHODS[method];
    const char *clean, *toggled, *fixed;
    apigw_route_match m;

    if (path[0] != '/') {
        return;
    }
    clean = apigw_route_clean_path(p, path);
    CHECK(clean[0] == '/' && !strstr(clean, "//") && !has_dot_segment(clean),
          "clean(%s) = \"%s\"", path, clean);
    CHECK(str_eq(apigw_route_clean_path(p, clean), clean),
          "clean(%s) = \"%s\" does not clean to itself", path, clean);
    toggled = apigw_route_toggle_slash(p, clean);
    fixed = apigw_route_fix_path(t, path, mname, p);
    if (!fixed) {
        CHECK(!str_eq(clean, path)
              || apigw_route_match_path(t, path, mname, p, &m)
                 != APIGW_ROUTE_FOUND,
              "%s %s: matched, but not fixed", mname, path);
        return;
    }
    CHECK(strcasecmp(fixed, clean) == 0
          || (toggled && strcasecmp(fixed, toggled) == 0),
          "%s %s: fixed \"%s\" is not \"%s\" but for case or slash", mname,
          path, fixed, clean);
    CHECK(fixed[0] == '/' && fixed[1] != '/',
          "%s %s: fixed \"%s\" names a host", mname, path, fixed);
    CHECK(apigw_route_match_path(t, fixed, mname, p, &m) == APIGW_ROUTE_FOUND,
          "%s %s: fixed \"%s\" is not matched", mname, path, fixed);
}

/* A path that r's pattern certainly matches. */
MODEL
static const char *instantiate(apr_pool_t *p, const mroute *r, int variant)
{
    size_t total = 1, pos = 0;
    char *out;
    int i;

    for (i = 0; i < r->nsegs; i++) {
        total += 1 + r->segs[i].text_len + r->segs[i].pre_len
                 + r->segs[i].suf_len + 4;
    }
    out = apr_palloc(p, total);
    for (i = 0; i < r->nsegs; i++) {
        const mseg *m = &r->segs[i];

        out[pos++] = '/';
        switch (m->kind) {
        case K_STATIC:
            memcpy(out + pos, m->text, m->text_len);
            pos += m->text_len;
            break;
        case K_PARAM:
            memcpy(out + pos, m->pre, m->pre_len);
            pos += m->pre_len;
            memcpy(out + pos, variant ? "me" : "v", variant ? 2 : 1);
            pos += variant ? 2 : 1;
            memcpy(out + pos, m->suf, m->suf_len);
            pos += m->suf_len;
            break;
        default:
            if (variant) {
                memcpy(out + pos, "w/x/", 4);
                pos += 4;
            }
            break;
        }
    }
    out[pos] = '\0';
    return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int i;

    (void)argc;
    (void)argv;
    apr_initialize();
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        abort();
    }
    for (i = 0; i < 8; i++) {
        by_name[i] = i;
    }
    qsort(by_name, 8, sizeof(int), cmp_method);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = pool;
    apigw_route_table *t;
    model *mo = &the_model;
    apr_hash_t *seen;
    const char *reqs[MAX_REQUESTS];
    int req_methods[MAX_REQUESTS];
    int nreqs = 0, attempts = 0, i, k;
    size_t pos = 0;

    t = apigw_route_table_make(p);
    seen = apr_hash_make(p);
    mo->n = 0;

    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *line = apr_pstrmemdup(p, (const char *)data + pos, len);
        char kind = len ? line[0] : 'q';
        int method = len > 1 ? (unsigned char)line[1] % 8 : 0;
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
            method = M_GET;
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
        do_match(p, t, mo, seen, reqs[i], req_methods[i]);
        do_match(p, t, mo, seen, reqs[i], M_HEAD);
        do_fix(p, t, reqs[i], req_methods[i]);
    }
    /* every route's own paths, with every method */
    for (i = 0; i < mo->n; i++) {
        const char *own = instantiate(p, &mo->routes[i], 0);

        for (k = 0; k < 8; k++) {
            do_match(p, t, mo, seen, own, k);
        }
        do_match(p, t, mo, seen, instantiate(p, &mo->routes[i], 1),
                 mo->routes[i].method);
    }
    apr_pool_clear(p);
    return 0;
}
