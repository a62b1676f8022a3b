/* The route table (see apigw_route.h): a trie of path segments. A node's
 * children are static segments (hashed), {var} segments with an optional
 * literal prefix/suffix (most literal text first), and one trailing
 * wildcard. Matching tries them in that order and backtracks, so a static
 * segment wins over a variable and a variable over the wildcard. The
 * redirect candidates walk the same trie with static text compared
 * case-insensitively; every node is visited at most once per walk. */
#include "apigw_route.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#define APIGW_ROUTE_MAX_SEGMENTS 64

typedef struct route_node route_node;

typedef struct {
    const char *method;
    void *data;
    const char **names;          /* APIGW_ROUTE_OWN_NAMES: the route's own
                                  * variable names, in path order */
} route_leaf;

struct route_node {
    const char *prefix;          /* param node: literal before the {var} */
    const char *suffix;          /* param node: literal after it */
    apr_size_t prefix_len;
    apr_size_t suffix_len;
    const char *var;             /* param node: the variable's name */
    void *owner;                 /* data of the route that made this node */
    const char *first_key;       /* the first static child, inline: most */
    apr_size_t first_len;        /* nodes have one, and a hash per node */
    route_node *first;           /* costs a large table a lot of memory */
    apr_hash_t *statics;         /* the others: segment -> route_node * */
    apr_array_header_t *params;  /* route_node *, most literal text first */
    route_node *wildcard;
    apr_array_header_t *leaves;  /* route_leaf */
};

struct apigw_route_table {
    apr_pool_t *pool;
    route_node *root;
    int count;
};

typedef enum { SEG_STATIC, SEG_PARAM, SEG_WILDCARD } seg_kind;

typedef struct {
    seg_kind kind;
    const char *text;            /* static: the segment */
    const char *prefix;
    const char *var;
    const char *suffix;
} seg_spec;

static route_node *node_make(apr_pool_t *p, void *owner)
{
    route_node *n = apr_pcalloc(p, sizeof(*n));
    n->owner = owner;
    return n;
}

/* n's static child for the segment s (len bytes), or NULL. */
static route_node *static_child(const route_node *n, const char *s,
                                apr_size_t len)
{
    if (n->first && n->first_len == len && memcmp(n->first_key, s, len) == 0) {
        return n->first;
    }
    return n->statics ? apr_hash_get(n->statics, s, (apr_ssize_t)len) : NULL;
}

static void static_add(apr_pool_t *p, route_node *n, const char *key,
                       route_node *c)
{
    if (!n->first) {
        n->first_key = key;
        n->first_len = strlen(key);
        n->first = c;
        return;
    }
    if (!n->statics) {
        n->statics = apr_hash_make(p);
    }
    apr_hash_set(n->statics, key, APR_HASH_KEY_STRING, c);
}

apigw_route_table *apigw_route_table_make(apr_pool_t *p)
{
    apigw_route_table *t = apr_pcalloc(p, sizeof(*t));
    t->pool = p;
    t->root = node_make(p, NULL);
    return t;
}

const char *apigw_route_shape(apr_pool_t *p, const char *pattern)
{
    char *out = apr_palloc(p, strlen(pattern) + 1), *o = out;
    const char *c;

    for (c = pattern; *c; c++) {
        *o++ = *c;
        if (*c == '{') {
            const char *end = strchr(c, '}');
            if (end) {
                c = end - 1;       /* the loop copies the '}' next */
            }
        }
    }
    *o = '\0';
    return out;
}

int apigw_route_count(const apigw_route_table *t)
{
    return t->count;
}

static int valid_var_name(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > 64) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
            return 0;
        }
    }
    return 1;
}

/* Parses one pattern segment [s, s+len) into spec. */
static const char *parse_segment(apr_pool_t *p, const char *s, apr_size_t len,
                                 int last, int flags, seg_spec *spec)
{
    const char *open = memchr(s, '{', len);
    const char *close;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) {
            return "the path contains a space or a control character";
        }
    }
    memset(spec, 0, sizeof(*spec));
    if (!open) {
        if (memchr(s, '}', len)) {
            return "'}' without a matching '{'";
        }
        if (len == 1 && s[0] == '*') {
            if (!last) {
                return "'*' is only allowed as the whole last segment (/*)";
            }
            spec->kind = SEG_WILDCARD;
            return NULL;
        }
        if (memchr(s, '*', len)) {
            return "'*' is only allowed as the whole last segment (/*)";
        }
        spec->kind = SEG_STATIC;
        spec->text = apr_pstrmemdup(p, s, len);
        return NULL;
    }
    close = memchr(open, '}', len - (apr_size_t)(open - s));
    if (!close) {
        return "'{' without a matching '}'";
    }
    if (!valid_var_name(open + 1, (apr_size_t)(close - open - 1))) {
        return "a variable name must be letters, digits and '_', "
               "not starting with a digit";
    }
    if (memchr(close + 1, '{', len - (apr_size_t)(close + 1 - s))
        || memchr(close + 1, '}', len - (apr_size_t)(close + 1 - s))
        || memchr(s, '}', (apr_size_t)(open - s))) {
        return "only one {variable} is allowed per segment";
    }
    if (memchr(s, '*', len)) {
        return "'*' is only allowed as the whole last segment (/*)";
    }
    spec->kind = SEG_PARAM;
    spec->prefix = apr_pstrmemdup(p, s, (apr_size_t)(open - s));
    spec->var = apr_pstrmemdup(p, open + 1, (apr_size_t)(close - open - 1));
    spec->suffix = apr_pstrmemdup(p, close + 1,
                                  len - (apr_size_t)(close + 1 - s));
    if ((*spec->prefix || *spec->suffix) && !(flags & APIGW_ROUTE_INNER_VARS)) {
        return "a variable inside a segment (like /file.{ext}) needs "
               "ApiDisableRest on";
    }
    return NULL;
}

/* Splits and checks a whole pattern. */
static const char *parse_pattern(apr_pool_t *p, const char *pattern, int flags,
                                 apr_array_header_t **out)
{
    apr_array_header_t *segs;
    const char *s;
    int i, j;

    if (!pattern || pattern[0] != '/') {
        return "the path must start with '/'";
    }
    /* as many as the pattern has: a table keeps them */
    for (i = 0, s = pattern; *s; s++) {
        i += *s == '/';
    }
    segs = apr_array_make(p, i < APIGW_ROUTE_MAX_SEGMENTS
                             ? i : APIGW_ROUTE_MAX_SEGMENTS, sizeof(seg_spec));
    s = pattern + 1;
    for (;;) {
        const char *slash = strchr(s, '/');
        apr_size_t len = slash ? (apr_size_t)(slash - s) : strlen(s);
        seg_spec *spec;
        const char *err;

        if (segs->nelts >= APIGW_ROUTE_MAX_SEGMENTS) {
            return "the path has too many segments";
        }
        spec = apr_array_push(segs);
        err = parse_segment(p, s, len, slash == NULL, flags, spec);
        if (err) {
            return err;
        }
        if (!slash) {
            break;
        }
        s = slash + 1;
    }
    for (i = 0; i < segs->nelts; i++) {
        const seg_spec *a = &APR_ARRAY_IDX(segs, i, seg_spec);
        for (j = i + 1; a->kind == SEG_PARAM && j < segs->nelts; j++) {
            const seg_spec *b = &APR_ARRAY_IDX(segs, j, seg_spec);
            if (b->kind == SEG_PARAM && strcmp(a->var, b->var) == 0) {
                return apr_psprintf(p, "the variable {%s} appears twice",
                                    a->var);
            }
        }
    }
    *out = segs;
    return NULL;
}

const char *apigw_route_check(apr_pool_t *p, const char *pattern, int flags)
{
    apr_array_header_t *segs;
    return parse_pattern(p, pattern, flags, &segs);
}

static route_node *find_param(const route_node *n, const seg_spec *spec)
{
    int i;

    for (i = 0; n->params && i < n->params->nelts; i++) {
        route_node *c = APR_ARRAY_IDX(n->params, i, route_node *);
        if (strcmp(c->prefix, spec->prefix) == 0
            && strcmp(c->suffix, spec->suffix) == 0) {
            return c;
        }
    }
    return NULL;
}

/* Keeps params ordered by literal length, longest first, so the most
 * specific {var} segment is tried first. */
static void insert_param(apr_pool_t *p, route_node *n, route_node *c)
{
    int i;
    apr_size_t lit = c->prefix_len + c->suffix_len;

    if (!n->params) {
        n->params = apr_array_make(p, 2, sizeof(route_node *));
    }
    apr_array_push(n->params);
    for (i = n->params->nelts - 1; i > 0; i--) {
        route_node *prev = APR_ARRAY_IDX(n->params, i - 1, route_node *);
        if (prev->prefix_len + prev->suffix_len >= lit) {
            break;
        }
        APR_ARRAY_IDX(n->params, i, route_node *) = prev;
    }
    APR_ARRAY_IDX(n->params, i, route_node *) = c;
}

/* Walks the segments from the root. With create=0 it only looks for a
 * conflict; with create=1 it builds the missing nodes. Returns the final
 * node, or NULL with *conflict set (or NULL when create=0 and the path is
 * simply new). */
static route_node *walk(apigw_route_table *t, const apr_array_header_t *segs,
                        void *data, int create, int flags, void **conflict,
                        const char **why)
{
    route_node *n = t->root;
    int i;

    for (i = 0; i < segs->nelts; i++) {
        const seg_spec *spec = &APR_ARRAY_IDX(segs, i, seg_spec);
        route_node *c = NULL;

        switch (spec->kind) {
        case SEG_STATIC:
            c = static_child(n, spec->text, strlen(spec->text));
            if (!c && create) {
                c = node_make(t->pool, data);
                static_add(t->pool, n, spec->text, c);
            }
            break;
        case SEG_PARAM:
            c = find_param(n, spec);
            if (c && strcmp(c->var, spec->var) != 0
                && !(flags & APIGW_ROUTE_OWN_NAMES)) {
                *conflict = c->owner;
                *why = apr_psprintf(t->pool, "{%s} is named {%s} by an earlier "
                                    "route at the same position",
                                    spec->var, c->var);
                return NULL;
            }
            if (!c && create) {
                c = node_make(t->pool, data);
                c->prefix = spec->prefix;
                c->suffix = spec->suffix;
                c->prefix_len = strlen(spec->prefix);
                c->suffix_len = strlen(spec->suffix);
                c->var = spec->var;
                insert_param(t->pool, n, c);
            }
            break;
        case SEG_WILDCARD:
            c = n->wildcard;
            if (!c && create) {
                c = n->wildcard = node_make(t->pool, data);
            }
            break;
        }
        if (!c) {
            return NULL;
        }
        n = c;
    }
    return n;
}

/* The variable names of a parsed pattern, in order ("*" for a wildcard). */
static const char **var_names(apr_pool_t *p, const apr_array_header_t *segs)
{
    const char **names = apr_pcalloc(p, sizeof(char *) * ((apr_size_t)segs->nelts
                                                          + 1));
    int i, n = 0;

    for (i = 0; i < segs->nelts; i++) {
        const seg_spec *spec = &APR_ARRAY_IDX(segs, i, seg_spec);
        if (spec->kind == SEG_PARAM) {
            names[n++] = spec->var;
        }
        else if (spec->kind == SEG_WILDCARD) {
            names[n++] = "*";
        }
    }
    return names;
}

static route_leaf *leaf_for(const route_node *n, const char *method)
{
    int i;

    for (i = 0; n->leaves && i < n->leaves->nelts; i++) {
        route_leaf *l = &APR_ARRAY_IDX(n->leaves, i, route_leaf);
        if (strcmp(l->method, method) == 0) {
            return l;
        }
    }
    return NULL;
}

const char *apigw_route_add(apigw_route_table *t, const char *pattern,
                            const char *method, void *data, int flags,
                            void **conflict)
{
    apr_array_header_t *segs;
    const char *err, *why = NULL;
    route_node *n;
    route_leaf *leaf;

    *conflict = NULL;
    err = parse_pattern(t->pool, pattern, flags, &segs);
    if (err) {
        return err;
    }
    /* Look before building, so a refused route leaves no trace. */
    n = walk(t, segs, data, 0, flags, conflict, &why);
    if (!n && *conflict) {
        return (flags & APIGW_ROUTE_SKIP_CONFLICT) ? NULL : why;
    }
    if (n && (leaf = leaf_for(n, method)) != NULL) {
        *conflict = leaf->data;
        return (flags & APIGW_ROUTE_SKIP_CONFLICT)
            ? NULL : apr_psprintf(t->pool, "%s %s is defined twice",
                                  method, pattern);
    }
    n = walk(t, segs, data, 1, flags, conflict, &why);
    if (!n->leaves) {
        n->leaves = apr_array_make(t->pool, 2, sizeof(route_leaf));
    }
    leaf = apr_array_push(n->leaves);
    leaf->method = apr_pstrdup(t->pool, method);
    leaf->data = data;
    leaf->names = (flags & APIGW_ROUTE_OWN_NAMES) ? var_names(t->pool, segs)
                                                  : NULL;
    t->count++;
    return NULL;
}

/* ---- matching ---- */

#define MAX_ALLOW 16

typedef struct {
    const char *name;
    const char *value;
    apr_size_t len;
} capture;

typedef struct {
    const char *method;
    route_leaf *leaf;
    capture caps[APIGW_ROUTE_MAX_SEGMENTS];
    int ncaps;
    int nfound;                        /* caps in force when leaf was found */
    const char *allow[MAX_ALLOW];
    int nallow;
    void *other;                       /* the first leaf noted */
} match_ctx;

static void note_methods(match_ctx *ctx, const route_node *n)
{
    int i, j;

    if (!ctx->other && n->leaves->nelts) {
        ctx->other = APR_ARRAY_IDX(n->leaves, 0, route_leaf).data;
    }
    for (i = 0; i < n->leaves->nelts; i++) {
        const char *m = APR_ARRAY_IDX(n->leaves, i, route_leaf).method;
        for (j = 0; j < ctx->nallow && strcmp(ctx->allow[j], m) != 0; j++)
            ;
        if (j == ctx->nallow && ctx->nallow < MAX_ALLOW) {
            ctx->allow[ctx->nallow++] = m;
        }
    }
}

/* A terminal node: the path is consumed. */
static int match_terminal(const route_node *n, match_ctx *ctx)
{
    route_leaf *l;

    if (!n->leaves) {
        return 0;
    }
    l = leaf_for(n, ctx->method);
    if (!l && strcmp(ctx->method, "HEAD") == 0) {
        l = leaf_for(n, "GET");
    }
    if (l) {
        ctx->leaf = l;
        ctx->nfound = ctx->ncaps;
        return 1;
    }
    note_methods(ctx, n);
    return 0;
}

/* rest: what follows the '/' that ended the previous segment, or NULL when
 * the path ended there. */
static int match_node(const route_node *n, const char *rest, match_ctx *ctx)
{
    const char *slash, *next;
    apr_size_t len;
    int i;

    if (!rest) {
        return match_terminal(n, ctx);
    }
    slash = strchr(rest, '/');
    len = slash ? (apr_size_t)(slash - rest) : strlen(rest);
    next = slash ? slash + 1 : NULL;

    if (n->first) {
        const route_node *c = static_child(n, rest, len);
        if (c && match_node(c, next, ctx)) {
            return 1;
        }
    }
    for (i = 0; n->params && i < n->params->nelts; i++) {
        const route_node *c = APR_ARRAY_IDX(n->params, i, route_node *);
        capture *cap;

        if (len <= c->prefix_len + c->suffix_len
            || memcmp(rest, c->prefix, c->prefix_len) != 0
            || memcmp(rest + len - c->suffix_len, c->suffix,
                      c->suffix_len) != 0) {
            continue;
        }
        cap = &ctx->caps[ctx->ncaps++];
        cap->name = c->var;
        cap->value = rest + c->prefix_len;
        cap->len = len - c->prefix_len - c->suffix_len;
        if (match_node(c, next, ctx)) {
            return 1;
        }
        ctx->ncaps--;
    }
    if (n->wildcard) {
        capture *cap = &ctx->caps[ctx->ncaps++];
        cap->name = "*";
        cap->value = rest;
        cap->len = strlen(rest);
        if (match_terminal(n->wildcard, ctx)) {
            return 1;
        }
        ctx->ncaps--;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *allow_header(apr_pool_t *p, match_ctx *ctx)
{
    int i, has_get = 0, has_head = 0;
    char *out = "";

    for (i = 0; i < ctx->nallow; i++) {
        has_get |= strcmp(ctx->allow[i], "GET") == 0;
        has_head |= strcmp(ctx->allow[i], "HEAD") == 0;
    }
    if (has_get && !has_head && ctx->nallow < MAX_ALLOW) {
        ctx->allow[ctx->nallow++] = "HEAD";
    }
    qsort(ctx->allow, (size_t)ctx->nallow, sizeof(char *), cmp_str);
    for (i = 0; i < ctx->nallow; i++) {
        out = apr_pstrcat(p, out, i ? ", " : "", ctx->allow[i], NULL);
    }
    return out;
}

apigw_route_status apigw_route_match_path(const apigw_route_table *t,
                                          const char *path,
                                          const char *method,
                                          apr_pool_t *p,
                                          apigw_route_match *m)
{
    match_ctx ctx;
    int i;

    memset(m, 0, sizeof(*m));
    if (!path || path[0] != '/' || t->count == 0) {
        return APIGW_ROUTE_NONE;
    }
    ctx.method = method;
    ctx.leaf = NULL;
    ctx.ncaps = ctx.nfound = ctx.nallow = 0;
    ctx.other = NULL;
    if (!match_node(t->root, path + 1, &ctx)) {
        if (ctx.nallow == 0) {
            return APIGW_ROUTE_NONE;
        }
        m->allow = allow_header(p, &ctx);
        m->other = ctx.other;
        return APIGW_ROUTE_NO_METHOD;
    }
    m->data = ctx.leaf->data;
    m->vars = apr_array_make(p, ctx.nfound ? ctx.nfound : 1,
                             sizeof(apigw_route_var));
    for (i = 0; i < ctx.nfound; i++) {
        apigw_route_var *v = apr_array_push(m->vars);
        v->name = ctx.leaf->names ? ctx.leaf->names[i] : ctx.caps[i].name;
        v->value = apr_pstrmemdup(p, ctx.caps[i].value, ctx.caps[i].len);
    }
    return APIGW_ROUTE_FOUND;
}

/* ---- redirect candidates ---- */

const char *apigw_route_toggle_slash(apr_pool_t *p, const char *path)
{
    apr_size_t n;

    if (!path || path[0] != '/' || !path[1]) {
        return NULL;
    }
    n = strlen(path);
    return path[n - 1] == '/' ? apr_pstrmemdup(p, path, n - 1)
                              : apr_pstrcat(p, path, "/", NULL);
}

const char *apigw_route_clean_path(apr_pool_t *p, const char *path)
{
    apr_size_t n = strlen(path), o = 0, len;
    char *out = apr_palloc(p, n + 2);  /* a leading '/' more at most */
    const char *s = path, *e = path + n, *seg;
    int trailing = 0;

    while (s < e) {
        while (s < e && *s == '/') {
            s++;
        }
        seg = s;
        while (s < e && *s != '/') {
            s++;
        }
        len = (apr_size_t)(s - seg);
        if (len == 0) {
            break;                          /* only slashes were left */
        }
        if (len == 1 && seg[0] == '.') {
            trailing = 1;
        }
        else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;                           /* out[o] is that '/' */
            trailing = 1;
        }
        else {
            out[o++] = '/';
            memcpy(out + o, seg, len);
            o += len;
            trailing = 0;
        }
    }
    if (n > 0 && path[n - 1] == '/') {
        trailing = 1;
    }
    if (o == 0 || trailing) {
        out[o++] = '/';
    }
    out[o] = '\0';
    return out;
}

/* Bounds the case-insensitive walk: variants of one segment's spelling
 * in several routes could make it try many branches. */
#define FIX_MAX_STEPS 4096

typedef struct {
    const char *method;
    char *out;                   /* the fixed path, as long as the input */
    apr_pool_t *p;
    int steps;
} fix_ctx;

static int same_nocase(const char *a, const char *b, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') {
            x = (unsigned char)(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = (unsigned char)(y - 'A' + 'a');
        }
        if (x != y) {
            return 0;
        }
    }
    return 1;
}

static int fix_terminal(const route_node *n, const fix_ctx *ctx)
{
    return n->leaves && (leaf_for(n, ctx->method)
                         || (strcmp(ctx->method, "HEAD") == 0
                             && leaf_for(n, "GET")));
}

/* As match_node, writing the path it matches into ctx->out from o (the
 * '/' before rest's segment); static text compared case-insensitively. */
static int fix_node(const route_node *n, const char *rest, apr_size_t o,
                    fix_ctx *ctx)
{
    const char *slash, *next;
    apr_size_t len;
    int i;

    if (!rest) {
        ctx->out[o] = '\0';
        return fix_terminal(n, ctx);
    }
    if (++ctx->steps > FIX_MAX_STEPS) {
        return 0;
    }
    slash = strchr(rest, '/');
    len = slash ? (apr_size_t)(slash - rest) : strlen(rest);
    next = slash ? slash + 1 : NULL;
    ctx->out[o] = '/';

    if (n->first) {
        const route_node *c = static_child(n, rest, len);
        apr_hash_index_t *hi;

        if (c) {                         /* the exact spelling first */
            memcpy(ctx->out + o + 1, rest, len);
            if (fix_node(c, next, o + 1 + len, ctx)) {
                return 1;
            }
        }
        if (n->first != c && n->first_len == len
            && same_nocase(n->first_key, rest, len)) {
            memcpy(ctx->out + o + 1, n->first_key, len);
            if (fix_node(n->first, next, o + 1 + len, ctx)) {
                return 1;
            }
        }
        for (hi = n->statics ? apr_hash_first(ctx->p, n->statics) : NULL; hi;
             hi = apr_hash_next(hi)) {
            const void *key;
            apr_ssize_t klen;
            void *val;

            apr_hash_this(hi, &key, &klen, &val);
            if ((apr_size_t)klen != len || val == c
                || !same_nocase(key, rest, len)) {
                continue;
            }
            memcpy(ctx->out + o + 1, key, len);
            if (fix_node(val, next, o + 1 + len, ctx)) {
                return 1;
            }
        }
    }
    for (i = 0; n->params && i < n->params->nelts; i++) {
        const route_node *c = APR_ARRAY_IDX(n->params, i, route_node *);

        if (len <= c->prefix_len + c->suffix_len
            || !same_nocase(rest, c->prefix, c->prefix_len)
            || !same_nocase(rest + len - c->suffix_len, c->suffix,
                            c->suffix_len)) {
            continue;
        }
        memcpy(ctx->out + o + 1, c->prefix, c->prefix_len);
        memcpy(ctx->out + o + 1 + c->prefix_len, rest + c->prefix_len,
               len - c->prefix_len - c->suffix_len);
        memcpy(ctx->out + o + 1 + len - c->suffix_len, c->suffix,
               c->suffix_len);
        if (fix_node(c, next, o + 1 + len, ctx)) {
            return 1;
        }
    }
    if (n->wildcard) {
        len = strlen(rest);
        memcpy(ctx->out + o + 1, rest, len);
        ctx->out[o + 1 + len] = '\0';
        if (fix_terminal(n->wildcard, ctx)) {
            return 1;
        }
    }
    return 0;
}

static const char *fix_one(const apigw_route_table *t, const char *path,
                           fix_ctx *ctx)
{
    ctx->out = apr_palloc(ctx->p, strlen(path) + 1);
    ctx->steps = 0;
    return fix_node(t->root, path + 1, 0, ctx) ? ctx->out : NULL;
}

const char *apigw_route_fix_path(const apigw_route_table *t, const char *path,
                                 const char *method, apr_pool_t *p)
{
    const char *clean, *toggled, *fixed;
    fix_ctx ctx;

    if (!path || path[0] != '/' || !method || t->count == 0) {
        return NULL;
    }
    ctx.method = method;
    ctx.p = p;
    clean = apigw_route_clean_path(p, path);
    if ((fixed = fix_one(t, clean, &ctx)) != NULL) {
        return fixed;
    }
    toggled = apigw_route_toggle_slash(p, clean);
    return toggled ? fix_one(t, toggled, &ctx) : NULL;
}
