/* The GraphQL schema builder: SDL text (apigw_gql_parse) to the resolved
 * schema apigw_gql_int.h describes, with the predefined scalars,
 * directives and introspection types, checked as the specification's
 * type system rules ask (known types, input and output positions,
 * interfaces implemented, defaults of their type). Also the look-ups and
 * type reference helpers the validator and executor share. */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "apigw_gql_int.h"
#include "apigw_gql_parse.h"

/* Parsed like the caller's SDL, so the introspection types are ordinary
 * types to validation and execution. */
static const char PRELUDE[] =
    "scalar Int scalar Float scalar String scalar Boolean scalar ID\n"
    "directive @include(if: Boolean!)"
    " on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "directive @skip(if: Boolean!)"
    " on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
    "directive @deprecated(reason: String = \"No longer supported\")"
    " on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION"
    " | ENUM_VALUE\n"
    "directive @specifiedBy(url: String!) on SCALAR\n"
    "type __Schema { description: String types: [__Type!]!"
    " queryType: __Type! mutationType: __Type subscriptionType: __Type"
    " directives: [__Directive!]! }\n"
    "type __Type { kind: __TypeKind! name: String description: String"
    " fields(includeDeprecated: Boolean = false): [__Field!]"
    " interfaces: [__Type!] possibleTypes: [__Type!]"
    " enumValues(includeDeprecated: Boolean = false): [__EnumValue!]"
    " inputFields: [__InputValue!] ofType: __Type"
    " specifiedByURL: String }\n"
    "enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT"
    " LIST NON_NULL }\n"
    "type __Field { name: String! description: String"
    " args: [__InputValue!]! type: __Type! isDeprecated: Boolean!"
    " deprecationReason: String }\n"
    "type __InputValue { name: String! description: String type: __Type!"
    " defaultValue: String }\n"
    "type __EnumValue { name: String! description: String"
    " isDeprecated: Boolean! deprecationReason: String }\n"
    "type __Directive { name: String! description: String"
    " locations: [__DirectiveLocation!]! args: [__InputValue!]!"
    " isRepeatable: Boolean! }\n"
    "enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD"
    " FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT"
    " VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION"
    " ARGUMENT_DEFINITION INTERFACE UNION ENUM ENUM_VALUE INPUT_OBJECT"
    " INPUT_FIELD_DEFINITION }\n";

/* The SDL is trusted configuration, but still bounded: the parser
 * recurses. */
#define SDL_MAX_DEPTH 64

static const char *const LOCATIONS[] = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION",
    "FRAGMENT_SPREAD", "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA",
    "SCALAR", "OBJECT", "FIELD_DEFINITION", "ARGUMENT_DEFINITION",
    "INTERFACE", "UNION", "ENUM", "ENUM_VALUE", "INPUT_OBJECT",
    "INPUT_FIELD_DEFINITION", NULL
};

typedef struct {
    apr_pool_t *p;
    apigw_gql_schema *s;
    const char *err;           /* the first error */
} build_ctx;

/* ---- look-ups ---- */

gql_type *gql_type_get(const apigw_gql_schema *s, const char *name)
{
    return apr_hash_get(s->types, name, APR_HASH_KEY_STRING);
}

int gql_is_composite(const gql_type *t)
{
    return t && (t->kind == APIGW_GQL_DEF_OBJECT
                 || t->kind == APIGW_GQL_DEF_INTERFACE
                 || t->kind == APIGW_GQL_DEF_UNION);
}

int gql_is_abstract(const gql_type *t)
{
    return t && (t->kind == APIGW_GQL_DEF_INTERFACE
                 || t->kind == APIGW_GQL_DEF_UNION);
}

int gql_is_input_type(const gql_type *t)
{
    return t && (t->kind == APIGW_GQL_DEF_SCALAR
                 || t->kind == APIGW_GQL_DEF_ENUM
                 || t->kind == APIGW_GQL_DEF_INPUT_OBJECT);
}

int gql_is_leaf(const gql_type *t)
{
    return t && (t->kind == APIGW_GQL_DEF_SCALAR
                 || t->kind == APIGW_GQL_DEF_ENUM);
}

const gql_field *gql_field_get(const apigw_gql_schema *s, const gql_type *t,
                               const char *name)
{
    if (!gql_is_composite(t)) {
        return NULL;
    }
    if (strcmp(name, "__typename") == 0) {
        return s->typename_field;
    }
    if (t == s->query) {
        if (strcmp(name, "__schema") == 0) {
            return s->schema_field;
        }
        if (strcmp(name, "__type") == 0) {
            return s->type_field;
        }
    }
    return t->field_index
        ? apr_hash_get(t->field_index, name, APR_HASH_KEY_STRING) : NULL;
}

const gql_directive *gql_directive_get(const apigw_gql_schema *s,
                                       const char *name)
{
    return apr_hash_get(s->directive_index, name, APR_HASH_KEY_STRING);
}

const gql_arg *gql_arg_get(apr_hash_t *index, const char *name)
{
    return index ? apr_hash_get(index, name, APR_HASH_KEY_STRING) : NULL;
}

int gql_possible(const gql_type *t, const gql_type *obj)
{
    int i;

    if (t == obj) {
        return 1;
    }
    if (!t->possible) {
        return 0;
    }
    for (i = 0; i < t->possible->nelts; i++) {
        if (APR_ARRAY_IDX(t->possible, i, const gql_type *) == obj) {
            return 1;
        }
    }
    return 0;
}

gql_type *gql_tref_named(const gql_tref *r)
{
    while (r->kind != APIGW_GQL_TYPE_NAMED) {
        r = r->of;
    }
    return r->named;
}

const char *gql_tref_str(apr_pool_t *p, const gql_tref *r)
{
    switch (r->kind) {
    case APIGW_GQL_TYPE_LIST:
        return apr_pstrcat(p, "[", gql_tref_str(p, r->of), "]", NULL);
    case APIGW_GQL_TYPE_NON_NULL:
        return apr_pstrcat(p, gql_tref_str(p, r->of), "!", NULL);
    default:
        return r->named->name;
    }
}

const gql_tref *gql_tref_from_ast(apr_pool_t *p, const apigw_gql_schema *s,
                                  const apigw_gql_type_ref *r)
{
    gql_tref *out;
    const gql_tref *of;
    gql_type *t;

    if (r->kind == APIGW_GQL_TYPE_NAMED) {
        t = gql_type_get(s, r->name);
        return t ? &t->ref : NULL;
    }
    of = gql_tref_from_ast(p, s, r->of);
    if (!of) {
        return NULL;
    }
    out = apr_pcalloc(p, sizeof(*out));
    out->kind = r->kind;
    out->of = of;
    return out;
}

int gql_tref_equal(const gql_tref *a, const gql_tref *b)
{
    if (a->kind != b->kind) {
        return 0;
    }
    if (a->kind == APIGW_GQL_TYPE_NAMED) {
        return a->named == b->named;
    }
    return gql_tref_equal(a->of, b->of);
}

int gql_tref_subtype(const gql_tref *sub, const gql_tref *sup)
{
    if (sup->kind == APIGW_GQL_TYPE_NON_NULL) {
        return sub->kind == APIGW_GQL_TYPE_NON_NULL
            && gql_tref_subtype(sub->of, sup->of);
    }
    if (sub->kind == APIGW_GQL_TYPE_NON_NULL) {
        return gql_tref_subtype(sub->of, sup);
    }
    if (sup->kind == APIGW_GQL_TYPE_LIST) {
        return sub->kind == APIGW_GQL_TYPE_LIST
            && gql_tref_subtype(sub->of, sup->of);
    }
    if (sub->kind == APIGW_GQL_TYPE_LIST) {
        return 0;
    }
    return sub->named == sup->named
        || (gql_is_abstract(sup->named) && gql_possible(sup->named,
                                                        sub->named));
}

/* ---- building ---- */

static void fail(build_ctx *c, apigw_gql_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(build_ctx *c, apigw_gql_loc loc, const char *fmt, ...)
{
    va_list ap;

    if (c->err) {
        return;                /* the first error is the one worth reading */
    }
    va_start(ap, fmt);
    c->err = apr_psprintf(c->p, "%u:%u: %s", loc.line, loc.column,
                          apr_pvsprintf(c->p, fmt, ap));
    va_end(ap);
}

/* A reference of the SDL, marking the types it names as used. */
static const gql_tref *resolve_ref(build_ctx *c, const apigw_gql_type_ref *r,
                                   const char *where)
{
    const apigw_gql_type_ref *n = r;
    const gql_tref *out;

    while (n->kind != APIGW_GQL_TYPE_NAMED) {
        n = n->of;
    }
    out = gql_tref_from_ast(c->p, c->s, r);
    if (!out) {
        fail(c, n->loc, "%s: unknown type %s", where, n->name);
        return NULL;
    }
    gql_tref_named(out)->used = 1;
    return out;
}

/* The string argument arg of directive name among dirs: 1 and *out when
 * the directive is there (*out NULL when the argument is not a string). */
static int directive_string(apr_array_header_t *dirs, const char *name,
                            const char *arg, const char **out)
{
    int i, j;

    for (i = 0; dirs && i < dirs->nelts; i++) {
        const apigw_gql_directive *d =
            APR_ARRAY_IDX(dirs, i, const apigw_gql_directive *);
        if (strcmp(d->name, name) != 0) {
            continue;
        }
        *out = NULL;
        for (j = 0; d->arguments && j < d->arguments->nelts; j++) {
            const apigw_gql_argument *a =
                APR_ARRAY_IDX(d->arguments, j, const apigw_gql_argument *);
            if (strcmp(a->name, arg) == 0
                && a->value->kind == APIGW_GQL_STRING) {
                *out = a->value->text;
            }
        }
        return 1;
    }
    return 0;
}

static const char *deprecation_of(apr_array_header_t *dirs)
{
    const char *reason;

    if (!directive_string(dirs, "deprecated", "reason", &reason)) {
        return NULL;
    }
    return reason ? reason : "No longer supported";
}

static void check_default(build_ctx *c, const gql_arg *a, const char *where)
{
    json_t *v = NULL;

    if (!a->default_value || !a->type) {
        return;
    }
    if (gql_coerce_literal(c->p, a->type, a->default_value, NULL, &v) != 0) {
        fail(c, a->default_value->loc, "%s: the default %s is not a %s",
             where, gql_print_value(c->p, a->default_value),
             gql_tref_str(c->p, a->type));
    }
    json_decref(v);
}

/* Arguments or input fields: defs (apigw_gql_input_value_def *) into
 * *list and *index. */
static void build_inputs(build_ctx *c, const apr_array_header_t *defs,
                         const char *owner, apr_array_header_t **list,
                         apr_hash_t **index)
{
    int i;

    *list = apr_array_make(c->p, defs ? defs->nelts : 0, sizeof(gql_arg *));
    *index = apr_hash_make(c->p);
    for (i = 0; defs && i < defs->nelts; i++) {
        const apigw_gql_input_value_def *d =
            APR_ARRAY_IDX(defs, i, const apigw_gql_input_value_def *);
        gql_arg *a = apr_pcalloc(c->p, sizeof(*a));
        const char *where = apr_pstrcat(c->p, owner, ".", d->name, NULL);

        a->name = d->name;
        a->description = d->description;
        a->default_value = d->default_value;
        a->loc = d->loc;
        a->type = resolve_ref(c, d->type, where);
        if (a->type && !gql_is_input_type(gql_tref_named(a->type))) {
            fail(c, d->loc, "%s: %s is not an input type", where,
                 gql_tref_str(c->p, a->type));
        }
        if (apr_hash_get(*index, a->name, APR_HASH_KEY_STRING)) {
            fail(c, d->loc, "%s is defined twice", where);
        }
        apr_hash_set(*index, a->name, APR_HASH_KEY_STRING, a);
        APR_ARRAY_PUSH(*list, gql_arg *) = a;
    }
}

static void build_fields(build_ctx *c, gql_type *t)
{
    const apr_array_header_t *defs = t->def->fields;
    int i;

    t->fields = apr_array_make(c->p, defs->nelts, sizeof(gql_field *));
    t->field_index = apr_hash_make(c->p);
    if (defs->nelts == 0) {
        fail(c, t->def->loc, "%s: a type needs at least one field", t->name);
    }
    for (i = 0; i < defs->nelts; i++) {
        const apigw_gql_field_def *d =
            APR_ARRAY_IDX(defs, i, const apigw_gql_field_def *);
        gql_field *f = apr_pcalloc(c->p, sizeof(*f));
        const char *where = apr_pstrcat(c->p, t->name, ".", d->name, NULL);

        f->name = d->name;
        f->label = where;
        f->description = d->description;
        f->deprecation = deprecation_of(d->directives);
        f->type = resolve_ref(c, d->type, where);
        if (f->type && gql_tref_named(f->type)->kind
                       == APIGW_GQL_DEF_INPUT_OBJECT) {
            fail(c, d->loc, "%s: %s is not an output type", where,
                 gql_tref_str(c->p, f->type));
        }
        if (!t->builtin && strncmp(d->name, "__", 2) == 0) {
            fail(c, d->loc, "%s: names starting with __ are reserved", where);
        }
        build_inputs(c, d->arguments, where, &f->args, &f->arg_index);
        if (apr_hash_get(t->field_index, f->name, APR_HASH_KEY_STRING)) {
            fail(c, d->loc, "%s is defined twice", where);
        }
        apr_hash_set(t->field_index, f->name, APR_HASH_KEY_STRING, f);
        APR_ARRAY_PUSH(t->fields, gql_field *) = f;
    }
}

static void build_enum(build_ctx *c, gql_type *t)
{
    const apr_array_header_t *defs = t->def->values;
    int i;

    t->values = apr_array_make(c->p, defs->nelts, sizeof(gql_enum_value *));
    t->value_index = apr_hash_make(c->p);
    if (defs->nelts == 0) {
        fail(c, t->def->loc, "%s: an enum needs at least one value", t->name);
    }
    for (i = 0; i < defs->nelts; i++) {
        const apigw_gql_enum_value_def *d =
            APR_ARRAY_IDX(defs, i, const apigw_gql_enum_value_def *);
        gql_enum_value *v = apr_pcalloc(c->p, sizeof(*v));

        v->name = d->name;
        v->description = d->description;
        v->deprecation = deprecation_of(d->directives);
        if (!strcmp(v->name, "true") || !strcmp(v->name, "false")
            || !strcmp(v->name, "null")) {
            fail(c, d->loc, "%s: %s cannot be an enum value", t->name,
                 v->name);
        }
        if (apr_hash_get(t->value_index, v->name, APR_HASH_KEY_STRING)) {
            fail(c, d->loc, "%s.%s is defined twice", t->name, v->name);
        }
        apr_hash_set(t->value_index, v->name, APR_HASH_KEY_STRING, v);
        APR_ARRAY_PUSH(t->values, gql_enum_value *) = v;
    }
}

static void add_possible(build_ctx *c, gql_type *abstract, gql_type *obj)
{
    if (!abstract->possible) {
        abstract->possible = apr_array_make(c->p, 4, sizeof(gql_type *));
    }
    if (!gql_possible(abstract, obj)) {
        APR_ARRAY_PUSH(abstract->possible, gql_type *) = obj;
    }
}

static void build_links(build_ctx *c, gql_type *t)
{
    const apigw_gql_type_def *d = t->def;
    int i;

    t->interfaces = apr_array_make(c->p, 2, sizeof(gql_type *));
    for (i = 0; d->interfaces && i < d->interfaces->nelts; i++) {
        const char *n = APR_ARRAY_IDX(d->interfaces, i, const char *);
        gql_type *it = gql_type_get(c->s, n);

        if (!it || it->kind != APIGW_GQL_DEF_INTERFACE) {
            fail(c, d->loc, "%s: %s is not an interface", t->name, n);
            continue;
        }
        it->used = 1;
        APR_ARRAY_PUSH(t->interfaces, gql_type *) = it;
        if (t->kind == APIGW_GQL_DEF_OBJECT) {
            add_possible(c, it, t);
        }
    }
    for (i = 0; d->members && i < d->members->nelts; i++) {
        const char *n = APR_ARRAY_IDX(d->members, i, const char *);
        gql_type *m = gql_type_get(c->s, n);

        if (!m || m->kind != APIGW_GQL_DEF_OBJECT) {
            fail(c, d->loc, "%s: %s is not an object type", t->name, n);
            continue;
        }
        m->used = 1;
        add_possible(c, t, m);
    }
    if (t->kind == APIGW_GQL_DEF_UNION && !t->possible) {
        fail(c, d->loc, "%s: a union needs at least one member", t->name);
    }
}

/* Every field of each interface t implements, with the same arguments
 * and a type that is a subtype of the interface's. */
static void check_implements(build_ctx *c, const gql_type *t)
{
    int i, j, k;

    for (i = 0; i < t->interfaces->nelts; i++) {
        const gql_type *it = APR_ARRAY_IDX(t->interfaces, i, gql_type *);

        for (j = 0; it->fields && j < it->fields->nelts; j++) {
            const gql_field *want = APR_ARRAY_IDX(it->fields, j, gql_field *);
            const gql_field *have = apr_hash_get(t->field_index, want->name,
                                                 APR_HASH_KEY_STRING);

            if (!have || !have->type || !want->type
                || !gql_tref_subtype(have->type, want->type)) {
                fail(c, t->def->loc, "%s: %s.%s is not implemented as "
                     "the interface declares it", t->name, it->name,
                     want->name);
                continue;
            }
            for (k = 0; k < want->args->nelts; k++) {
                const gql_arg *wa = APR_ARRAY_IDX(want->args, k, gql_arg *);
                const gql_arg *ha = gql_arg_get(have->arg_index, wa->name);

                if (!ha || !ha->type || !wa->type
                    || !gql_tref_equal(ha->type, wa->type)) {
                    fail(c, t->def->loc, "%s.%s: argument %s of %s is "
                         "missing or of another type", t->name, want->name,
                         wa->name, it->name);
                }
            }
        }
    }
}

static void build_type_bodies(build_ctx *c, gql_type *t)
{
    const apigw_gql_type_def *d = t->def;
    const char *url;

    switch (d->kind) {
    case APIGW_GQL_DEF_OBJECT:
    case APIGW_GQL_DEF_INTERFACE:
        build_fields(c, t);
        break;
    case APIGW_GQL_DEF_ENUM:
        build_enum(c, t);
        break;
    case APIGW_GQL_DEF_INPUT_OBJECT:
        build_inputs(c, d->input_fields, t->name, &t->input_fields,
                     &t->input_index);
        if (t->input_fields->nelts == 0) {
            fail(c, d->loc, "%s: an input type needs at least one field",
                 t->name);
        }
        break;
    case APIGW_GQL_DEF_SCALAR:
        if (directive_string(d->directives, "specifiedBy", "url", &url)) {
            t->specified_by = url;
        }
        break;
    default:
        break;
    }
    build_links(c, t);
}

static gql_scalar scalar_of(const char *name)
{
    static const struct { const char *name; gql_scalar s; } B[] = {
        { "Int", GQL_S_INT }, { "Float", GQL_S_FLOAT },
        { "String", GQL_S_STRING }, { "Boolean", GQL_S_BOOLEAN },
        { "ID", GQL_S_ID }
    };
    size_t i;

    for (i = 0; i < sizeof(B) / sizeof(B[0]); i++) {
        if (strcmp(B[i].name, name) == 0) {
            return B[i].s;
        }
    }
    return GQL_S_CUSTOM;
}

static void add_type(build_ctx *c, const apigw_gql_type_def *d, int builtin)
{
    gql_type *t;

    if (!builtin && strncmp(d->name, "__", 2) == 0) {
        fail(c, d->loc, "%s: names starting with __ are reserved", d->name);
        return;
    }
    if (gql_type_get(c->s, d->name)) {
        fail(c, d->loc, "type %s is defined twice", d->name);
        return;
    }
    t = apr_pcalloc(c->p, sizeof(*t));
    t->kind = d->kind;
    t->name = d->name;
    t->description = d->description;
    t->def = d;
    t->builtin = builtin;
    t->scalar = builtin ? scalar_of(d->name) : GQL_S_CUSTOM;
    t->ref.kind = APIGW_GQL_TYPE_NAMED;
    t->ref.named = t;
    apr_hash_set(c->s->types, t->name, APR_HASH_KEY_STRING, t);
}

static void add_directive(build_ctx *c, const apigw_gql_directive_def *d)
{
    gql_directive *g;
    int i, j;

    if (gql_directive_get(c->s, d->name)) {
        fail(c, d->loc, "directive @%s is defined twice", d->name);
        return;
    }
    g = apr_pcalloc(c->p, sizeof(*g));
    g->name = d->name;
    g->description = d->description;
    g->repeatable = d->repeatable;
    g->locations = d->locations;
    for (i = 0; i < d->locations->nelts; i++) {
        const char *l = APR_ARRAY_IDX(d->locations, i, const char *);
        for (j = 0; LOCATIONS[j] && strcmp(LOCATIONS[j], l) != 0; j++)
            ;
        if (!LOCATIONS[j]) {
            fail(c, d->loc, "@%s: unknown location %s", d->name, l);
        }
    }
    build_inputs(c, d->arguments, apr_pstrcat(c->p, "@", d->name, NULL),
                 &g->args, &g->arg_index);
    apr_hash_set(c->s->directive_index, g->name, APR_HASH_KEY_STRING, g);
    APR_ARRAY_PUSH(c->s->directives, gql_directive *) = g;
}

/* The type and directive definitions of a document, in order; the
 * schema { } definition into *sdef. */
static void collect(build_ctx *c, const apigw_gql_document *doc, int builtin,
                    const apigw_gql_schema_def **sdef)
{
    int i;

    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);

        switch (d->kind) {
        case APIGW_GQL_DEF_TYPE:
            add_type(c, d->u.type, builtin);
            break;
        case APIGW_GQL_DEF_DIRECTIVE:
            add_directive(c, d->u.directive);
            break;
        case APIGW_GQL_DEF_SCHEMA:
            if (*sdef) {
                fail(c, d->loc, "schema is defined twice");
            }
            *sdef = d->u.schema;
            break;
        default:
            fail(c, d->loc, "a schema holds type definitions only");
            break;
        }
    }
}

static gql_type *root_type(build_ctx *c, const char *name, int named,
                           apigw_gql_loc loc)
{
    gql_type *t = gql_type_get(c->s, name);

    if (!t) {
        if (named) {
            fail(c, loc, "schema: unknown type %s", name);
        }
        return NULL;
    }
    if (t->kind != APIGW_GQL_DEF_OBJECT) {
        fail(c, loc, "schema: %s is not an object type", name);
        return NULL;
    }
    t->used = 1;
    return t;
}

static void build_roots(build_ctx *c, const apigw_gql_schema_def *sd)
{
    apigw_gql_loc loc = { 1, 1 };

    if (sd) {
        loc = sd->loc;
    }
    c->s->query = root_type(c, sd && sd->query ? sd->query : "Query",
                            sd && sd->query, loc);
    c->s->mutation = root_type(c, sd && sd->mutation ? sd->mutation
                                  : (sd ? "" : "Mutation"),
                               sd && sd->mutation, loc);
    c->s->subscription = root_type(c, sd && sd->subscription
                                      ? sd->subscription
                                      : (sd ? "" : "Subscription"),
                                   sd && sd->subscription, loc);
    if (!c->s->query) {
        fail(c, loc, "schema: no query type");
    }
}

/* The types the documents define, in their order: the SDL's, then the
 * predefined ones. */
static apr_array_header_t *types_in_order(build_ctx *c,
                                          const apigw_gql_document *prelude,
                                          const apigw_gql_document *doc)
{
    const apigw_gql_document *docs[2] = { doc, prelude };
    apr_array_header_t *out = apr_array_make(c->p, 64, sizeof(gql_type *));
    int k, i;

    for (k = 0; k < 2; k++) {
        for (i = 0; i < docs[k]->definitions->nelts; i++) {
            const apigw_gql_definition *d = APR_ARRAY_IDX(
                docs[k]->definitions, i, const apigw_gql_definition *);
            gql_type *t;

            if (d->kind != APIGW_GQL_DEF_TYPE) {
                continue;
            }
            t = gql_type_get(c->s, d->u.type->name);
            if (t && t->def == d->u.type) {
                APR_ARRAY_PUSH(out, gql_type *) = t;
            }
        }
    }
    return out;
}

static gql_field *meta_field(build_ctx *c, const char *name,
                             const char *type, int non_null)
{
    gql_field *f = apr_pcalloc(c->p, sizeof(*f));
    gql_type *t = gql_type_get(c->s, type);
    gql_tref *nn;

    f->name = name;
    f->label = name;
    f->args = apr_array_make(c->p, 1, sizeof(gql_arg *));
    f->arg_index = apr_hash_make(c->p);
    f->type = &t->ref;
    if (non_null) {
        nn = apr_pcalloc(c->p, sizeof(*nn));
        nn->kind = APIGW_GQL_TYPE_NON_NULL;
        nn->of = &t->ref;
        f->type = nn;
    }
    return f;
}

static void build_meta(build_ctx *c)
{
    gql_arg *name = apr_pcalloc(c->p, sizeof(*name));

    c->s->typename_field = meta_field(c, "__typename", "String", 1);
    c->s->schema_field = meta_field(c, "__schema", "__Schema", 1);
    c->s->type_field = meta_field(c, "__type", "__Type", 0);
    name->name = "name";
    name->type = c->s->typename_field->type;     /* String! */
    APR_ARRAY_PUSH(c->s->type_field->args, gql_arg *) = name;
    apr_hash_set(c->s->type_field->arg_index, "name", APR_HASH_KEY_STRING,
                 name);
}

/* Defaults are checked once every type is complete: an input object's
 * default needs its fields. */
static void check_defaults(build_ctx *c, const gql_type *t)
{
    int i, j;

    for (i = 0; t->input_fields && i < t->input_fields->nelts; i++) {
        const gql_arg *a = APR_ARRAY_IDX(t->input_fields, i, gql_arg *);
        check_default(c, a, apr_pstrcat(c->p, t->name, ".", a->name, NULL));
    }
    for (i = 0; t->fields && i < t->fields->nelts; i++) {
        const gql_field *f = APR_ARRAY_IDX(t->fields, i, gql_field *);
        for (j = 0; j < f->args->nelts; j++) {
            const gql_arg *a = APR_ARRAY_IDX(f->args, j, gql_arg *);
            check_default(c, a, apr_pstrcat(c->p, t->name, ".", f->name, "(",
                                            a->name, ")", NULL));
        }
    }
}

static const char *parse_sdl(apr_pool_t *p, const char *src,
                             apigw_gql_document **doc)
{
    const apigw_gql_syntax_error *e = apigw_gql_parse(p, src, strlen(src),
                                                      SDL_MAX_DEPTH, doc);

    return e ? apr_psprintf(p, "%u:%u: %s", e->loc.line, e->loc.column,
                            e->message) : NULL;
}

const char *apigw_gql_schema_build(apr_pool_t *p, const char *sdl,
                                   apigw_gql_schema **out)
{
    build_ctx c;
    apigw_gql_document *prelude, *doc;
    const apigw_gql_schema_def *sdef = NULL, *none = NULL;
    apr_array_header_t *all;
    const char *err;
    int i;

    *out = NULL;
    err = parse_sdl(p, PRELUDE, &prelude);
    if (err) {
        return apr_pstrcat(p, "the predefined types: ", err, NULL);
    }
    err = parse_sdl(p, sdl, &doc);
    if (err) {
        return err;
    }
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.s = apr_pcalloc(p, sizeof(*c.s));
    c.s->types = apr_hash_make(p);
    c.s->type_list = apr_array_make(p, 64, sizeof(gql_type *));
    c.s->directives = apr_array_make(p, 8, sizeof(gql_directive *));
    c.s->directive_index = apr_hash_make(p);

    collect(&c, prelude, 1, &none);
    collect(&c, doc, 0, &sdef);
    if (c.err) {
        return c.err;
    }
    all = types_in_order(&c, prelude, doc);
    for (i = 0; i < all->nelts; i++) {
        build_type_bodies(&c, APR_ARRAY_IDX(all, i, gql_type *));
    }
    build_roots(&c, sdef);
    if (c.err) {
        return c.err;
    }
    build_meta(&c);
    for (i = 0; i < all->nelts; i++) {
        gql_type *t = APR_ARRAY_IDX(all, i, gql_type *);

        if (t->kind == APIGW_GQL_DEF_OBJECT
            || t->kind == APIGW_GQL_DEF_INTERFACE) {
            check_implements(&c, t);
        }
        check_defaults(&c, t);
        /* the predefined scalars only when something uses them, as
         * graphql-js lists them */
        if (!t->builtin || t->used || strncmp(t->name, "__", 2) == 0) {
            APR_ARRAY_PUSH(c.s->type_list, gql_type *) = t;
        }
    }
    for (i = 0; i < c.s->directives->nelts; i++) {
        const gql_directive *d = APR_ARRAY_IDX(c.s->directives, i,
                                               gql_directive *);
        int j;
        for (j = 0; j < d->args->nelts; j++) {
            const gql_arg *a = APR_ARRAY_IDX(d->args, j, gql_arg *);
            check_default(&c, a, apr_pstrcat(p, "@", d->name, "(", a->name,
                                             ")", NULL));
        }
    }
    if (c.err) {
        return c.err;
    }
    *out = c.s;
    return NULL;
}
