/* GraphQL validation: the specification's rules (October 2021) a request
 * document must pass before it runs, with graphql-js's messages:
 * executable definitions, operations and fragments (names, cycles, use,
 * type conditions, spreads), fields, arguments and directives against
 * the schema, values and variables (types, definitions, use, positions),
 * and overlapping fields. Each rule reports every breach it finds. */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "apigw_gql_int.h"

#define CODE "GRAPHQL_VALIDATION_FAILED"

/* A variable used where a value of type (NULL: unknown) is expected. */
typedef struct {
    const char *name;
    const gql_tref *type;
    int location_default;      /* the argument or field has a default */
    apigw_gql_loc loc;
} var_usage;

/* What walking one operation or fragment found, for the rules that look
 * across definitions. */
typedef struct {
    apr_array_header_t *usages;    /* var_usage */
    apr_array_header_t *spreads;   /* const apigw_gql_selection * */
} def_info;

typedef struct {
    apr_pool_t *p;
    const apigw_gql_schema *s;
    json_t *errors;
    int count;
    apr_hash_t *reported;          /* message+locations already given */
    apr_hash_t *fragments;         /* name -> apigw_gql_fragment * */
    apr_hash_t *infos;             /* fragment name -> def_info * */
    def_info *cur;
    int in_const;                  /* a default: no variable allowed */
    int cycles;                    /* a fragment spreads itself */
} vctx;

/* ---- reporting ---- */

/* The most errors one answer lists. */
#define MAX_ERRORS 100

static void report_locs(vctx *c, const apigw_gql_loc *a,
                        const apigw_gql_loc *b, const char *msg)
{
    const char *key = apr_psprintf(c->p, "%s@%u:%u/%u:%u", msg,
                                   a ? a->line : 0, a ? a->column : 0,
                                   b ? b->line : 0, b ? b->column : 0);
    json_t *e;

    if (c->count > MAX_ERRORS
        || apr_hash_get(c->reported, key, APR_HASH_KEY_STRING)) {
        return;
    }
    if (c->count == MAX_ERRORS) {
        /* as graphql-js: a document this wrong is not worth more */
        json_array_append_new(c->errors, gql_error("Too many validation "
                              "errors, error limit reached. Validation "
                              "aborted.", NULL, NULL, CODE, NULL));
        c->count++;
        return;
    }
    apr_hash_set(c->reported, key, APR_HASH_KEY_STRING, "");
    e = gql_error(msg, a, NULL, CODE, NULL);
    if (b) {
        json_t *l = json_object();
        json_object_set_new(l, "line", json_integer(b->line));
        json_object_set_new(l, "column", json_integer(b->column));
        json_array_append_new(json_object_get(e, "locations"), l);
    }
    json_array_append_new(c->errors, e);
    c->count++;
}

static void report(vctx *c, const apigw_gql_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(vctx *c, const apigw_gql_loc *loc, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    report_locs(c, loc, NULL, msg);
}

static def_info *info_make(apr_pool_t *p)
{
    def_info *i = apr_palloc(p, sizeof(*i));

    i->usages = apr_array_make(p, 4, sizeof(var_usage));
    i->spreads = apr_array_make(p, 4, sizeof(const apigw_gql_selection *));
    return i;
}

/* ---- values ---- */

static void check_value(vctx *c, const apigw_gql_value *v,
                        const gql_tref *t, int location_default);

static void use_variable(vctx *c, const apigw_gql_value *v,
                         const gql_tref *t, int location_default)
{
    var_usage *u;

    if (c->in_const) {
        report(c, &v->loc, "Unexpected variable \"$%s\" in constant value.",
               v->text);
        return;
    }
    u = &APR_ARRAY_PUSH(c->cur->usages, var_usage);
    u->name = v->text;
    u->type = t;
    u->location_default = location_default;
    u->loc = v->loc;
}

/* A value whose type is unknown (an unknown argument, a custom scalar):
 * only its variables matter. */
static void walk_untyped(vctx *c, const apigw_gql_value *v)
{
    int i;

    if (v->kind == APIGW_GQL_VARIABLE) {
        use_variable(c, v, NULL, 0);
    }
    for (i = 0; v->items && i < v->items->nelts; i++) {
        walk_untyped(c, APR_ARRAY_IDX(v->items, i, const apigw_gql_value *));
    }
    for (i = 0; v->fields && i < v->fields->nelts; i++) {
        walk_untyped(c, APR_ARRAY_IDX(v->fields, i,
                                      const apigw_gql_argument *)->value);
    }
}

/* A hash of the names seen: linear in the number of arguments (the
 * parser allows a thousand in one place). */
static void unique_names(vctx *c, const apr_array_header_t *args,
                         const char *what)
{
    apr_hash_t *seen;
    int i;

    if (!args || args->nelts < 2) {
        return;
    }
    seen = apr_hash_make(c->p);
    for (i = 0; i < args->nelts; i++) {
        const apigw_gql_argument *a =
            APR_ARRAY_IDX(args, i, const apigw_gql_argument *);
        const apigw_gql_argument *b = apr_hash_get(seen, a->name,
                                                   APR_HASH_KEY_STRING);
        if (b) {
            report_locs(c, &b->loc, &a->loc, apr_psprintf(
                c->p, "There can be only one %s named \"%s\".", what,
                a->name));
        }
        else {
            apr_hash_set(seen, a->name, APR_HASH_KEY_STRING, a);
        }
    }
}

static void check_object_value(vctx *c, const apigw_gql_value *v,
                               const gql_type *t)
{
    int i, j;

    unique_names(c, v->fields, "input field");
    for (i = 0; i < v->fields->nelts; i++) {
        const apigw_gql_argument *a =
            APR_ARRAY_IDX(v->fields, i, const apigw_gql_argument *);
        const gql_arg *f = gql_arg_get(t->input_index, a->name);

        if (!f) {
            report(c, &a->loc, "Field \"%s\" is not defined by type \"%s\".",
                   a->name, t->name);
            walk_untyped(c, a->value);
            continue;
        }
        check_value(c, a->value, f->type, f->default_value != NULL);
    }
    for (i = 0; i < t->input_fields->nelts; i++) {
        const gql_arg *f = APR_ARRAY_IDX(t->input_fields, i, gql_arg *);

        if (f->type->kind != APIGW_GQL_TYPE_NON_NULL || f->default_value) {
            continue;
        }
        for (j = 0; j < v->fields->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(v->fields, j,
                                      const apigw_gql_argument *)->name,
                        f->name)) {
                break;
            }
        }
        if (j == v->fields->nelts) {
            report(c, &v->loc, "Field \"%s.%s\" of required type \"%s\" was "
                   "not provided.", t->name, f->name,
                   gql_tref_str(c->p, f->type));
        }
    }
}

/* v where a value of t is expected (t may be non-null). */
static void check_value(vctx *c, const apigw_gql_value *v,
                        const gql_tref *t, int location_default)
{
    const gql_tref *inner = t;
    int i;

    if (v->kind == APIGW_GQL_VARIABLE) {
        use_variable(c, v, t, location_default);
        return;
    }
    if (t->kind == APIGW_GQL_TYPE_NON_NULL) {
        inner = t->of;
        if (v->kind == APIGW_GQL_NULL) {
            report(c, &v->loc, "Expected value of type \"%s\", found null.",
                   gql_tref_str(c->p, t));
            return;
        }
    }
    if (v->kind == APIGW_GQL_NULL) {
        return;
    }
    if (inner->kind == APIGW_GQL_TYPE_LIST) {
        if (v->kind != APIGW_GQL_LIST) {
            check_value(c, v, inner->of, 0);   /* one item for a list */
            return;
        }
        for (i = 0; i < v->items->nelts; i++) {
            check_value(c, APR_ARRAY_IDX(v->items, i,
                                         const apigw_gql_value *),
                        inner->of, 0);
        }
        return;
    }
    if (inner->named->kind == APIGW_GQL_DEF_INPUT_OBJECT
        && v->kind == APIGW_GQL_OBJECT) {
        check_object_value(c, v, inner->named);
        return;
    }
    if (inner->named->kind == APIGW_GQL_DEF_SCALAR
        && inner->named->scalar == GQL_S_CUSTOM) {
        walk_untyped(c, v);    /* any literal; its variables still count */
        return;
    }
    if (inner->named->kind == APIGW_GQL_DEF_INPUT_OBJECT
        || v->kind == APIGW_GQL_LIST || v->kind == APIGW_GQL_OBJECT
        || !gql_leaf_literal_ok(inner->named, v)) {
        report(c, &v->loc, "Expected value of type \"%s\", found %s.",
               gql_tref_str(c->p, t), gql_print_short(c->p, v));
        walk_untyped(c, v);
    }
}

/* Arguments given to a field or directive (defs NULL: it is unknown;
 * owner names it in messages: "Route.id" or "@skip"). */
static void check_args(vctx *c, const apr_array_header_t *defs,
                       apr_hash_t *index, const apr_array_header_t *given,
                       const char *owner, int directive,
                       const apigw_gql_loc *loc)
{
    int i, j;

    unique_names(c, given, "argument");
    for (i = 0; given && i < given->nelts; i++) {
        const apigw_gql_argument *a =
            APR_ARRAY_IDX(given, i, const apigw_gql_argument *);
        const gql_arg *d = defs ? gql_arg_get(index, a->name) : NULL;

        if (!d) {
            if (defs) {
                report(c, &a->loc, "Unknown argument \"%s\" on %s \"%s\".",
                       a->name, directive ? "directive" : "field", owner);
            }
            walk_untyped(c, a->value);
            continue;
        }
        check_value(c, a->value, d->type, d->default_value != NULL);
    }
    for (i = 0; defs && i < defs->nelts; i++) {
        const gql_arg *d = APR_ARRAY_IDX(defs, i, const gql_arg *);

        if (d->type->kind != APIGW_GQL_TYPE_NON_NULL || d->default_value) {
            continue;
        }
        for (j = 0; given && j < given->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(given, j, const apigw_gql_argument *)
                            ->name, d->name)) {
                break;
            }
        }
        if (!given || j == given->nelts) {
            if (directive) {
                report(c, loc, "Directive \"%s\" argument \"%s\" of type "
                       "\"%s\" is required, but it was not provided.", owner,
                       d->name, gql_tref_str(c->p, d->type));
            }
            else {
                report(c, loc, "Field \"%s\" argument \"%s\" of type \"%s\" "
                       "is required, but it was not provided.",
                       strchr(owner, '.') + 1, d->name,
                       gql_tref_str(c->p, d->type));
            }
        }
    }
}

/* ---- directives ---- */

static int has_location(const gql_directive *d, const char *location)
{
    int i;

    for (i = 0; i < d->locations->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(d->locations, i, const char *),
                    location)) {
            return 1;
        }
    }
    return 0;
}

static void check_directives(vctx *c, const apr_array_header_t *dirs,
                             const char *location)
{
    int i, j;

    for (i = 0; dirs && i < dirs->nelts; i++) {
        const apigw_gql_directive *d =
            APR_ARRAY_IDX(dirs, i, const apigw_gql_directive *);
        const gql_directive *def = gql_directive_get(c->s, d->name);
        const char *owner = apr_pstrcat(c->p, "@", d->name, NULL);

        if (!def) {
            report(c, &d->loc, "Unknown directive \"@%s\".", d->name);
            check_args(c, NULL, NULL, d->arguments, owner, 1, &d->loc);
            continue;
        }
        if (!has_location(def, location)) {
            report(c, &d->loc, "Directive \"@%s\" may not be used on %s.",
                   d->name, location);
        }
        check_args(c, def->args, def->arg_index, d->arguments, owner, 1,
                   &d->loc);
        for (j = 0; !def->repeatable && j < i; j++) {
            const apigw_gql_directive *e =
                APR_ARRAY_IDX(dirs, j, const apigw_gql_directive *);
            if (!strcmp(e->name, d->name)) {
                report_locs(c, &e->loc, &d->loc, apr_psprintf(
                    c->p, "The directive \"@%s\" can only be used once at "
                    "this location.", d->name));
                break;
            }
        }
    }
}

/* ---- selections ---- */

/* Can an object be of both types? */
static int types_overlap(const gql_type *a, const gql_type *b)
{
    int i;

    if (a == b) {
        return 1;
    }
    if (a->kind == APIGW_GQL_DEF_OBJECT) {
        return gql_possible(b, a);
    }
    if (b->kind == APIGW_GQL_DEF_OBJECT) {
        return gql_possible(a, b);
    }
    for (i = 0; a->possible && i < a->possible->nelts; i++) {
        if (gql_possible(b, APR_ARRAY_IDX(a->possible, i, const gql_type *))) {
            return 1;
        }
    }
    return 0;
}

/* The type a fragment conditions on, or NULL after reporting why it
 * cannot (name NULL: an inline fragment). */
static const gql_type *condition_type(vctx *c, const char *cond,
                                      const char *name,
                                      const apigw_gql_loc *loc)
{
    const gql_type *t = gql_type_get(c->s, cond);

    if (!t) {
        report(c, loc, "Unknown type \"%s\".", cond);
        return NULL;
    }
    if (!gql_is_composite(t)) {
        if (name) {
            report(c, loc, "Fragment \"%s\" cannot condition on non "
                   "composite type \"%s\".", name, cond);
        }
        else {
            report(c, loc, "Fragment cannot condition on non composite type "
                   "\"%s\".", cond);
        }
        return NULL;
    }
    return t;
}

static void walk_set(vctx *c, const gql_type *parent,
                     const apr_array_header_t *sels);

static void walk_field(vctx *c, const gql_type *parent,
                       const apigw_gql_selection *f)
{
    const gql_field *def = parent ? gql_field_get(c->s, parent, f->name)
                                  : NULL;
    const gql_type *named = def ? gql_tref_named(def->type) : NULL;

    check_directives(c, f->directives, "FIELD");
    if (parent && !def) {
        report(c, &f->loc, "Cannot query field \"%s\" on type \"%s\".",
               f->name, parent->name);
    }
    check_args(c, def ? def->args : NULL, def ? def->arg_index : NULL,
               f->arguments, def ? apr_pstrcat(c->p, parent->name, ".",
                                               f->name, NULL) : f->name,
               0, &f->loc);
    if (named && gql_is_leaf(named) && f->selections) {
        report(c, &f->loc, "Field \"%s\" must not have a selection since "
               "type \"%s\" has no subfields.", f->name,
               gql_tref_str(c->p, def->type));
    }
    else if (named && !gql_is_leaf(named) && !f->selections) {
        report(c, &f->loc, "Field \"%s\" of type \"%s\" must have a "
               "selection of subfields. Did you mean \"%s { ... }\"?",
               f->name, gql_tref_str(c->p, def->type), f->name);
    }
    if (f->selections) {
        walk_set(c, gql_is_composite(named) ? named : NULL, f->selections);
    }
}

static void walk_spread(vctx *c, const gql_type *parent,
                        const apigw_gql_selection *s)
{
    const apigw_gql_fragment *f = apr_hash_get(c->fragments, s->name,
                                               APR_HASH_KEY_STRING);
    const gql_type *t;

    check_directives(c, s->directives, "FRAGMENT_SPREAD");
    APR_ARRAY_PUSH(c->cur->spreads, const apigw_gql_selection *) = s;
    if (!f) {
        report(c, &s->loc, "Unknown fragment \"%s\".", s->name);
        return;
    }
    t = gql_type_get(c->s, f->type_condition);
    if (parent && gql_is_composite(t) && !types_overlap(parent, t)) {
        report(c, &s->loc, "Fragment \"%s\" cannot be spread here as objects "
               "of type \"%s\" can never be of type \"%s\".", s->name,
               parent->name, t->name);
    }
}

static void walk_inline(vctx *c, const gql_type *parent,
                        const apigw_gql_selection *s)
{
    const gql_type *t = parent;

    check_directives(c, s->directives, "INLINE_FRAGMENT");
    if (s->type_condition) {
        t = condition_type(c, s->type_condition, NULL, &s->loc);
        if (t && parent && !types_overlap(parent, t)) {
            report(c, &s->loc, "Fragment cannot be spread here as objects of "
                   "type \"%s\" can never be of type \"%s\".", parent->name,
                   t->name);
        }
    }
    walk_set(c, t, s->selections);
}

static void walk_set(vctx *c, const gql_type *parent,
                     const apr_array_header_t *sels)
{
    int i;

    for (i = 0; sels && i < sels->nelts; i++) {
        const apigw_gql_selection *s =
            APR_ARRAY_IDX(sels, i, const apigw_gql_selection *);

        switch (s->kind) {
        case APIGW_GQL_FIELD:
            walk_field(c, parent, s);
            break;
        case APIGW_GQL_FRAGMENT_SPREAD:
            walk_spread(c, parent, s);
            break;
        default:
            walk_inline(c, parent, s);
            break;
        }
    }
}

/* ---- overlapping fields ---- */

/* A field selection as the merge rule sees it: where it is selected. */
typedef struct {
    const apigw_gql_selection *sel;
    const gql_type *parent;        /* NULL: unknown */
    const gql_field *def;          /* NULL: unknown */
} merge_field;

typedef struct {
    apr_array_header_t *keys;      /* const char * */
    apr_hash_t *groups;            /* key -> apr_array_header_t of
                                    * merge_field */
    apr_hash_t *expanded;          /* fragments already taken in */
} merge_set;

static merge_set *merge_set_make(apr_pool_t *p)
{
    merge_set *m = apr_palloc(p, sizeof(*m));

    m->keys = apr_array_make(p, 8, sizeof(const char *));
    m->groups = apr_hash_make(p);
    m->expanded = apr_hash_make(p);
    return m;
}

/* The fields a selection set selects, fragments expanded (each once:
 * the same fragment gives the same fields, and cycles end). */
static void merge_collect(vctx *c, const gql_type *parent,
                          const apr_array_header_t *sels, merge_set *m)
{
    int i;

    for (i = 0; sels && i < sels->nelts; i++) {
        const apigw_gql_selection *s =
            APR_ARRAY_IDX(sels, i, const apigw_gql_selection *);
        const apigw_gql_fragment *f;
        const gql_type *t;

        if (s->kind == APIGW_GQL_FIELD) {
            const char *key = s->alias ? s->alias : s->name;
            apr_array_header_t *g = apr_hash_get(m->groups, key,
                                                 APR_HASH_KEY_STRING);
            merge_field *mf;

            if (!g) {
                g = apr_array_make(c->p, 2, sizeof(merge_field));
                apr_hash_set(m->groups, key, APR_HASH_KEY_STRING, g);
                APR_ARRAY_PUSH(m->keys, const char *) = key;
            }
            mf = &APR_ARRAY_PUSH(g, merge_field);
            mf->sel = s;
            mf->parent = parent;
            mf->def = parent ? gql_field_get(c->s, parent, s->name) : NULL;
        }
        else if (s->kind == APIGW_GQL_INLINE_FRAGMENT) {
            t = s->type_condition ? gql_type_get(c->s, s->type_condition)
                                  : parent;
            merge_collect(c, gql_is_composite(t) ? t : NULL, s->selections,
                          m);
        }
        else if (!apr_hash_get(m->expanded, s->name, APR_HASH_KEY_STRING)) {
            apr_hash_set(m->expanded, s->name, APR_HASH_KEY_STRING, "");
            f = apr_hash_get(c->fragments, s->name, APR_HASH_KEY_STRING);
            if (f) {
                t = gql_type_get(c->s, f->type_condition);
                merge_collect(c, gql_is_composite(t) ? t : NULL,
                              f->selections, m);
            }
        }
    }
}

static int same_arguments(vctx *c, const apr_array_header_t *a,
                          const apr_array_header_t *b)
{
    int i, j;

    (void)c;
    if (a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; i++) {
        const apigw_gql_argument *x =
            APR_ARRAY_IDX(a, i, const apigw_gql_argument *);
        for (j = 0; j < b->nelts; j++) {
            const apigw_gql_argument *y =
                APR_ARRAY_IDX(b, j, const apigw_gql_argument *);
            if (!strcmp(x->name, y->name)) {
                break;
            }
        }
        if (j == b->nelts
            || !gql_value_equal(x->value, APR_ARRAY_IDX(
                   b, j, const apigw_gql_argument *)->value)) {
            return 0;
        }
    }
    return 1;
}

/* Would the two types give answers of different shapes? */
static int types_conflict(const gql_tref *a, const gql_tref *b)
{
    if (a->kind == APIGW_GQL_TYPE_LIST || b->kind == APIGW_GQL_TYPE_LIST
        || a->kind == APIGW_GQL_TYPE_NON_NULL
        || b->kind == APIGW_GQL_TYPE_NON_NULL) {
        return a->kind != b->kind || types_conflict(a->of, b->of);
    }
    if (gql_is_leaf(a->named) || gql_is_leaf(b->named)) {
        return a->named != b->named;
    }
    return 0;
}

/* Why the two selections of one response key cannot be merged, or
 * NULL. */
static const char *merge_conflict(vctx *c, const merge_field *a,
                                  const merge_field *b)
{
    /* fields of two different object types never answer together */
    int exclusive = a->parent && b->parent && a->parent != b->parent
                    && a->parent->kind == APIGW_GQL_DEF_OBJECT
                    && b->parent->kind == APIGW_GQL_DEF_OBJECT;

    if (!exclusive) {
        if (strcmp(a->sel->name, b->sel->name)) {
            return apr_psprintf(c->p, "\"%s\" and \"%s\" are different "
                                "fields", a->sel->name, b->sel->name);
        }
        if (!same_arguments(c, a->sel->arguments, b->sel->arguments)) {
            return "they have differing arguments";
        }
    }
    if (a->def && b->def && types_conflict(a->def->type, b->def->type)) {
        return apr_psprintf(c->p, "they return conflicting types \"%s\" and "
                            "\"%s\"", gql_tref_str(c->p, a->def->type),
                            gql_tref_str(c->p, b->def->type));
    }
    return NULL;
}

static void check_merge(vctx *c, const merge_set *m);

/* The pairs of one response key, then the selections under it, merged. */
static void check_group(vctx *c, const char *key,
                        const apr_array_header_t *g)
{
    merge_set *sub = NULL;
    int i, j;

    for (i = 0; i < g->nelts; i++) {
        const merge_field *a = &APR_ARRAY_IDX(g, i, merge_field);

        for (j = 0; j < i; j++) {
            const merge_field *b = &APR_ARRAY_IDX(g, j, merge_field);
            const char *why;

            if (a->sel == b->sel && a->parent == b->parent) {
                continue;
            }
            why = merge_conflict(c, b, a);
            if (why) {
                report_locs(c, &b->sel->loc, &a->sel->loc, apr_psprintf(
                    c->p, "Fields \"%s\" conflict because %s. Use different "
                    "aliases on the fields to fetch both if this was "
                    "intentional.", key, why));
            }
        }
        if (a->sel->selections && g->nelts > 1) {
            const gql_type *t = a->def ? gql_tref_named(a->def->type) : NULL;
            if (!sub) {
                sub = merge_set_make(c->p);
            }
            apr_hash_clear(sub->expanded);
            merge_collect(c, gql_is_composite(t) ? t : NULL,
                          a->sel->selections, sub);
        }
    }
    if (sub) {
        check_merge(c, sub);
    }
}

static void check_merge(vctx *c, const merge_set *m)
{
    int i;

    for (i = 0; i < m->keys->nelts; i++) {
        const char *key = APR_ARRAY_IDX(m->keys, i, const char *);
        const apr_array_header_t *g = apr_hash_get(m->groups, key,
                                                   APR_HASH_KEY_STRING);
        int j;

        check_group(c, key, g);
        /* one selection alone: what it selects must merge too */
        for (j = 0; g->nelts == 1 && j < 1; j++) {
            const merge_field *a = &APR_ARRAY_IDX(g, 0, merge_field);
            const gql_type *t = a->def ? gql_tref_named(a->def->type) : NULL;
            merge_set *sub;

            if (!a->sel->selections) {
                continue;
            }
            sub = merge_set_make(c->p);
            merge_collect(c, gql_is_composite(t) ? t : NULL,
                          a->sel->selections, sub);
            check_merge(c, sub);
        }
    }
}

/* ---- definitions ---- */

static const char *const KIND_LOCATION[] = { "QUERY", "MUTATION",
                                             "SUBSCRIPTION" };

static void check_variable_defs(vctx *c, const apigw_gql_operation *op)
{
    int i, j;

    for (i = 0; i < op->variables->nelts; i++) {
        const apigw_gql_variable_def *d =
            APR_ARRAY_IDX(op->variables, i, const apigw_gql_variable_def *);
        const gql_tref *t = gql_tref_from_ast(c->p, c->s, d->type);

        for (j = 0; j < i; j++) {
            const apigw_gql_variable_def *e = APR_ARRAY_IDX(
                op->variables, j, const apigw_gql_variable_def *);
            if (!strcmp(e->name, d->name)) {
                report_locs(c, &e->loc, &d->loc, apr_psprintf(
                    c->p, "There can be only one variable named \"$%s\".",
                    d->name));
                break;
            }
        }
        check_directives(c, d->directives, "VARIABLE_DEFINITION");
        if (!t) {
            const apigw_gql_type_ref *n = d->type;
            while (n->kind != APIGW_GQL_TYPE_NAMED) {
                n = n->of;
            }
            report(c, &n->loc, "Unknown type \"%s\".", n->name);
            continue;
        }
        if (!gql_is_input_type(gql_tref_named(t))) {
            report(c, &d->type->loc, "Variable \"$%s\" cannot be non-input "
                   "type \"%s\".", d->name, gql_tref_str(c->p, t));
            continue;
        }
        if (d->default_value) {
            c->in_const = 1;
            check_value(c, d->default_value, t, 0);
            c->in_const = 0;
        }
    }
}

/* The fragments an operation reaches, each once, into seen. */
static void reach(vctx *c, const def_info *info, apr_hash_t *seen,
                  apr_array_header_t *order)
{
    int i;

    for (i = 0; i < info->spreads->nelts; i++) {
        const apigw_gql_selection *s =
            APR_ARRAY_IDX(info->spreads, i, const apigw_gql_selection *);
        const def_info *fi = apr_hash_get(c->infos, s->name,
                                          APR_HASH_KEY_STRING);

        if (!fi || apr_hash_get(seen, s->name, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(seen, s->name, APR_HASH_KEY_STRING, "");
        APR_ARRAY_PUSH(order, const def_info *) = fi;
        reach(c, fi, seen, order);
    }
}

static const apigw_gql_variable_def *variable_def(
    const apigw_gql_operation *op, const char *name)
{
    int i;

    for (i = 0; i < op->variables->nelts; i++) {
        const apigw_gql_variable_def *d =
            APR_ARRAY_IDX(op->variables, i, const apigw_gql_variable_def *);
        if (!strcmp(d->name, name)) {
            return d;
        }
    }
    return NULL;
}

static void check_position(vctx *c, const apigw_gql_variable_def *d,
                           const var_usage *u)
{
    const gql_tref *vt = gql_tref_from_ast(c->p, c->s, d->type);
    const gql_tref *want = u->type;

    if (!vt || !want || !gql_is_input_type(gql_tref_named(vt))) {
        return;
    }
    /* a nullable variable may fill a non-null position that has a default
     * (of its own or the variable's) */
    if (want->kind == APIGW_GQL_TYPE_NON_NULL
        && vt->kind != APIGW_GQL_TYPE_NON_NULL
        && ((d->default_value && d->default_value->kind != APIGW_GQL_NULL)
            || u->location_default)) {
        want = want->of;
    }
    if (!gql_tref_subtype(vt, want)) {
        report_locs(c, &d->loc, &u->loc, apr_psprintf(
            c->p, "Variable \"$%s\" of type \"%s\" used in position "
            "expecting type \"%s\".", u->name, gql_tref_str(c->p, vt),
            gql_tref_str(c->p, u->type)));
    }
}

/* Variables defined and used, across the fragments the operation
 * reaches; those fragments are marked used. */
static void check_variables(vctx *c, const apigw_gql_operation *op,
                            const def_info *own, apr_hash_t *used_frags)
{
    apr_hash_t *seen = apr_hash_make(c->p), *used = apr_hash_make(c->p);
    apr_array_header_t *infos = apr_array_make(c->p, 4,
                                               sizeof(const def_info *));
    apr_hash_index_t *hi;
    int i, j;

    APR_ARRAY_PUSH(infos, const def_info *) = own;
    reach(c, own, seen, infos);
    for (hi = apr_hash_first(c->p, seen); hi; hi = apr_hash_next(hi)) {
        apr_hash_set(used_frags, apr_hash_this_key(hi), APR_HASH_KEY_STRING,
                     "");
    }
    for (i = 0; i < infos->nelts; i++) {
        const def_info *fi = APR_ARRAY_IDX(infos, i, const def_info *);
        for (j = 0; j < fi->usages->nelts; j++) {
            const var_usage *u = &APR_ARRAY_IDX(fi->usages, j, var_usage);
            const apigw_gql_variable_def *d = variable_def(op, u->name);

            apr_hash_set(used, u->name, APR_HASH_KEY_STRING, "");
            if (!d && op->name) {
                report_locs(c, &u->loc, &op->loc, apr_psprintf(
                    c->p, "Variable \"$%s\" is not defined by operation "
                    "\"%s\".", u->name, op->name));
            }
            else if (!d) {
                report_locs(c, &u->loc, &op->loc, apr_psprintf(
                    c->p, "Variable \"$%s\" is not defined.", u->name));
            }
            else {
                check_position(c, d, u);
            }
        }
    }
    for (i = 0; i < op->variables->nelts; i++) {
        const apigw_gql_variable_def *d =
            APR_ARRAY_IDX(op->variables, i, const apigw_gql_variable_def *);
        if (apr_hash_get(used, d->name, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (op->name) {
            report(c, &d->loc, "Variable \"$%s\" is never used in operation "
                   "\"%s\".", d->name, op->name);
        }
        else {
            report(c, &d->loc, "Variable \"$%s\" is never used.", d->name);
        }
    }
}

static void check_operation(vctx *c, const apigw_gql_operation *op,
                            apr_hash_t *used_frags)
{
    const gql_type *root = op->kind == APIGW_GQL_QUERY ? c->s->query
                         : op->kind == APIGW_GQL_MUTATION ? c->s->mutation
                         : NULL;
    def_info *own = info_make(c->p);
    merge_set *m;

    c->cur = own;
    if (op->kind == APIGW_GQL_SUBSCRIPTION) {
        report(c, &op->loc, "Subscriptions are not supported: this API "
               "answers queries and mutations only.");
    }
    else if (!root) {
        report(c, &op->loc, "Schema is not configured to execute mutation "
               "operation.");
    }
    check_variable_defs(c, op);
    check_directives(c, op->directives, KIND_LOCATION[op->kind]);
    walk_set(c, root, op->selections);
    check_variables(c, op, own, used_frags);
    if (c->cycles) {
        return;                /* merging would expand them without end */
    }
    m = merge_set_make(c->p);
    merge_collect(c, root, op->selections, m);
    check_merge(c, m);
}

static void check_fragment(vctx *c, const apigw_gql_fragment *f)
{
    const gql_type *t = condition_type(c, f->type_condition, f->name,
                                       &f->loc);

    c->cur = info_make(c->p);
    apr_hash_set(c->infos, f->name, APR_HASH_KEY_STRING, c->cur);
    check_directives(c, f->directives, "FRAGMENT_DEFINITION");
    walk_set(c, t, f->selections);
}

/* ---- fragment cycles ---- */

typedef struct {
    apr_hash_t *done;              /* fragments whose cycles are known */
    apr_array_header_t *stack;     /* const apigw_gql_selection *: spreads */
    apr_hash_t *on_stack;          /* name -> index + 1 in stack */
} cycle_ctx;

static void find_cycles(vctx *c, cycle_ctx *cc, const char *name)
{
    const def_info *fi = apr_hash_get(c->infos, name, APR_HASH_KEY_STRING);
    int *idx;
    int i, k;

    if (!fi || apr_hash_get(cc->done, name, APR_HASH_KEY_STRING)) {
        return;
    }
    apr_hash_set(cc->done, name, APR_HASH_KEY_STRING, "");
    idx = apr_palloc(c->p, sizeof(*idx));
    *idx = cc->stack->nelts;
    apr_hash_set(cc->on_stack, name, APR_HASH_KEY_STRING, idx);
    for (i = 0; i < fi->spreads->nelts; i++) {
        const apigw_gql_selection *s =
            APR_ARRAY_IDX(fi->spreads, i, const apigw_gql_selection *);
        const int *at = apr_hash_get(cc->on_stack, s->name,
                                     APR_HASH_KEY_STRING);

        APR_ARRAY_PUSH(cc->stack, const apigw_gql_selection *) = s;
        if (!at) {
            find_cycles(c, cc, s->name);
        }
        else {
            /* the spreads from there to here make the cycle; those before
             * this one are the fragments it goes through */
            const char *via = "";
            for (k = *at; k < cc->stack->nelts - 1 && k < *at + 8; k++) {
                via = apr_pstrcat(c->p, via, k > *at ? ", " : "", "\"",
                                  APR_ARRAY_IDX(cc->stack, k,
                                                const apigw_gql_selection *)
                                      ->name, "\"", NULL);
            }
            if (k < cc->stack->nelts - 1) {
                via = apr_pstrcat(c->p, via, ", ...", NULL);
            }
            report(c, &s->loc, "Cannot spread fragment \"%s\" within "
                   "itself%s%s.", s->name, *via ? " via " : "", via);
            c->cycles = 1;
        }
        apr_array_pop(cc->stack);
    }
    apr_hash_set(cc->on_stack, name, APR_HASH_KEY_STRING, NULL);
}

static void check_cycles(vctx *c, const apigw_gql_document *doc)
{
    cycle_ctx cc;
    int i;

    cc.done = apr_hash_make(c->p);
    cc.stack = apr_array_make(c->p, 8, sizeof(const apigw_gql_selection *));
    cc.on_stack = apr_hash_make(c->p);
    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        if (d->kind == APIGW_GQL_DEF_FRAGMENT) {
            find_cycles(c, &cc, d->u.fragment->name);
        }
    }
}

/* ---- the document ---- */

static const char *definition_name(apr_pool_t *p,
                                   const apigw_gql_definition *d)
{
    if (d->kind == APIGW_GQL_DEF_TYPE) {
        return apr_pstrcat(p, "\"", d->u.type->name, "\"", NULL);
    }
    if (d->kind == APIGW_GQL_DEF_DIRECTIVE) {
        return apr_pstrcat(p, "\"", d->u.directive->name, "\"", NULL);
    }
    return "schema";
}

/* Executable definitions only; operation and fragment names unique; an
 * anonymous operation alone. Fragments are indexed by name. */
static void check_definitions(vctx *c, const apigw_gql_document *doc)
{
    apr_hash_t *ops = apr_hash_make(c->p);
    int i, nops = 0, anonymous = 0;

    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        const apigw_gql_operation *op, *prev_op;
        const apigw_gql_fragment *f, *prev;

        switch (d->kind) {
        case APIGW_GQL_DEF_OPERATION:
            op = d->u.operation;
            nops++;
            if (!op->name) {
                anonymous++;
                break;
            }
            prev_op = apr_hash_get(ops, op->name, APR_HASH_KEY_STRING);
            if (prev_op) {
                report_locs(c, &prev_op->loc, &op->loc, apr_psprintf(
                    c->p, "There can be only one operation named \"%s\".",
                    op->name));
            }
            else {
                apr_hash_set(ops, op->name, APR_HASH_KEY_STRING, op);
            }
            break;
        case APIGW_GQL_DEF_FRAGMENT:
            f = d->u.fragment;
            prev = apr_hash_get(c->fragments, f->name, APR_HASH_KEY_STRING);
            if (prev) {
                report_locs(c, &prev->loc, &f->loc, apr_psprintf(
                    c->p, "There can be only one fragment named \"%s\".",
                    f->name));
            }
            else {
                apr_hash_set(c->fragments, f->name, APR_HASH_KEY_STRING, f);
            }
            break;
        default:
            report(c, &d->loc, "The %s definition is not executable.",
                   definition_name(c->p, d));
            break;
        }
    }
    if (anonymous && nops > 1) {
        for (i = 0; i < doc->definitions->nelts; i++) {
            const apigw_gql_definition *d = APR_ARRAY_IDX(
                doc->definitions, i, const apigw_gql_definition *);
            if (d->kind == APIGW_GQL_DEF_OPERATION && !d->u.operation->name) {
                report(c, &d->u.operation->loc, "This anonymous operation "
                       "must be the only defined operation.");
            }
        }
    }
}

int gql_validate(apr_pool_t *p, const apigw_gql_schema *s,
                 const apigw_gql_document *doc, json_t *errors)
{
    vctx c;
    apr_hash_t *used = apr_hash_make(p);
    int i;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.s = s;
    c.errors = errors;
    c.reported = apr_hash_make(p);
    c.fragments = apr_hash_make(p);
    c.infos = apr_hash_make(p);
    check_definitions(&c, doc);
    /* fragments first: an operation's variables are found through them */
    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        if (d->kind == APIGW_GQL_DEF_FRAGMENT
            && apr_hash_get(c.fragments, d->u.fragment->name,
                            APR_HASH_KEY_STRING) == d->u.fragment) {
            check_fragment(&c, d->u.fragment);
        }
    }
    check_cycles(&c, doc);
    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        if (d->kind == APIGW_GQL_DEF_OPERATION) {
            check_operation(&c, d->u.operation, used);
        }
    }
    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        if (d->kind == APIGW_GQL_DEF_FRAGMENT
            && !apr_hash_get(used, d->u.fragment->name,
                             APR_HASH_KEY_STRING)) {
            report(&c, &d->u.fragment->loc, "Fragment \"%s\" is never used.",
                   d->u.fragment->name);
        }
    }
    return c.count;
}
