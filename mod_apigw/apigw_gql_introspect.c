/* GraphQL introspection: the fields of __Schema, __Type, __Field,
 * __InputValue, __EnumValue and __Directive (October 2021) answered from
 * the built schema, one field at a time as the executor asks, since the
 * type graph has cycles and cannot be written out as JSON ahead. */
#include <string.h>

#include <apr_strings.h>

#include "apigw_gql_int.h"

typedef struct {
    apr_pool_t *p;
    const apigw_gql_schema *s;
    json_t *args;
    json_t *keep;
    gql_val *out;
} intro_ctx;

static void out_json(intro_ctx *c, json_t *j)
{
    memset(c->out, 0, sizeof(*c->out));
    c->out->kind = GQL_V_JSON;
    if (j) {
        json_array_append_new(c->keep, j);
    }
    c->out->json = j;          /* NULL: null */
}

static void out_string(intro_ctx *c, const char *s)
{
    out_json(c, s ? json_string(s) : NULL);
}

static void out_object(intro_ctx *c, gql_intro_kind k, const void *ptr)
{
    memset(c->out, 0, sizeof(*c->out));
    if (!ptr) {
        c->out->kind = GQL_V_JSON;
        return;
    }
    c->out->kind = GQL_V_INTRO;
    c->out->ikind = k;
    c->out->ptr = ptr;
}

/* A list of introspection objects of kind k. */
static apr_array_header_t *out_list(intro_ctx *c)
{
    memset(c->out, 0, sizeof(*c->out));
    c->out->kind = GQL_V_LIST;
    c->out->items = apr_array_make(c->p, 8, sizeof(gql_val));
    return c->out->items;
}

static void push(apr_array_header_t *items, gql_intro_kind k, const void *ptr)
{
    gql_val *v = &APR_ARRAY_PUSH(items, gql_val);

    memset(v, 0, sizeof(*v));
    v->kind = GQL_V_INTRO;
    v->ikind = k;
    v->ptr = ptr;
}

static int include_deprecated(intro_ctx *c)
{
    return json_is_true(json_object_get(c->args, "includeDeprecated"));
}

static void out_type_list(intro_ctx *c, const apr_array_header_t *types)
{
    apr_array_header_t *items = out_list(c);
    int i;

    for (i = 0; types && i < types->nelts; i++) {
        push(items, GQL_I_TYPE, &APR_ARRAY_IDX(types, i, gql_type *)->ref);
    }
}

static void out_args(intro_ctx *c, const apr_array_header_t *args)
{
    apr_array_header_t *items = out_list(c);
    int i;

    for (i = 0; i < args->nelts; i++) {
        push(items, GQL_I_INPUT_VALUE, APR_ARRAY_IDX(args, i, gql_arg *));
    }
}

static void schema_field(intro_ctx *c, const char *f)
{
    const apigw_gql_schema *s = c->s;
    apr_array_header_t *items;
    int i;

    if (!strcmp(f, "types")) {
        out_type_list(c, s->type_list);
    }
    else if (!strcmp(f, "queryType")) {
        out_object(c, GQL_I_TYPE, &s->query->ref);
    }
    else if (!strcmp(f, "mutationType")) {
        out_object(c, GQL_I_TYPE, s->mutation ? &s->mutation->ref : NULL);
    }
    else if (!strcmp(f, "subscriptionType")) {
        out_object(c, GQL_I_TYPE,
                   s->subscription ? &s->subscription->ref : NULL);
    }
    else if (!strcmp(f, "directives")) {
        items = out_list(c);
        for (i = 0; i < s->directives->nelts; i++) {
            push(items, GQL_I_DIRECTIVE,
                 APR_ARRAY_IDX(s->directives, i, gql_directive *));
        }
    }
    else {
        out_json(c, NULL);     /* description: the AST keeps none */
    }
}

static const char *kind_name(const gql_tref *r)
{
    static const char *const NAMES[] = {
        "SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT"
    };

    if (r->kind == APIGW_GQL_TYPE_LIST) {
        return "LIST";
    }
    if (r->kind == APIGW_GQL_TYPE_NON_NULL) {
        return "NON_NULL";
    }
    return NAMES[r->named->kind];
}

static void type_fields(intro_ctx *c, const gql_type *t)
{
    apr_array_header_t *items;
    int i, all = include_deprecated(c);

    if (t->kind != APIGW_GQL_DEF_OBJECT
        && t->kind != APIGW_GQL_DEF_INTERFACE) {
        out_json(c, NULL);
        return;
    }
    items = out_list(c);
    for (i = 0; i < t->fields->nelts; i++) {
        const gql_field *f = APR_ARRAY_IDX(t->fields, i, gql_field *);
        if (all || !f->deprecation) {
            push(items, GQL_I_FIELD, f);
        }
    }
}

static void type_enum_values(intro_ctx *c, const gql_type *t)
{
    apr_array_header_t *items;
    int i, all = include_deprecated(c);

    if (t->kind != APIGW_GQL_DEF_ENUM) {
        out_json(c, NULL);
        return;
    }
    items = out_list(c);
    for (i = 0; i < t->values->nelts; i++) {
        const gql_enum_value *v = APR_ARRAY_IDX(t->values, i,
                                                gql_enum_value *);
        if (all || !v->deprecation) {
            push(items, GQL_I_ENUM_VALUE, v);
        }
    }
}

/* A field of a named type's __Type. */
static void named_type_field(intro_ctx *c, const gql_type *t, const char *f)
{
    int composite_fields = t->kind == APIGW_GQL_DEF_OBJECT
                           || t->kind == APIGW_GQL_DEF_INTERFACE;

    if (!strcmp(f, "name")) {
        out_string(c, t->name);
    }
    else if (!strcmp(f, "description")) {
        out_string(c, t->description);
    }
    else if (!strcmp(f, "fields")) {
        type_fields(c, t);
    }
    else if (!strcmp(f, "interfaces")) {
        if (composite_fields) {
            out_type_list(c, t->interfaces);
        }
        else {
            out_json(c, NULL);
        }
    }
    else if (!strcmp(f, "possibleTypes")) {
        if (gql_is_abstract(t)) {
            out_type_list(c, t->possible);
        }
        else {
            out_json(c, NULL);
        }
    }
    else if (!strcmp(f, "enumValues")) {
        type_enum_values(c, t);
    }
    else if (!strcmp(f, "inputFields")) {
        if (t->kind == APIGW_GQL_DEF_INPUT_OBJECT) {
            out_args(c, t->input_fields);
        }
        else {
            out_json(c, NULL);
        }
    }
    else if (!strcmp(f, "specifiedByURL")) {
        out_string(c, t->kind == APIGW_GQL_DEF_SCALAR ? t->specified_by
                                                      : NULL);
    }
    else {
        out_json(c, NULL);     /* ofType */
    }
}

static void type_field(intro_ctx *c, const gql_tref *r, const char *f)
{
    if (!strcmp(f, "kind")) {
        out_string(c, kind_name(r));
    }
    else if (r->kind == APIGW_GQL_TYPE_NAMED) {
        named_type_field(c, r->named, f);
    }
    else if (!strcmp(f, "ofType")) {
        out_object(c, GQL_I_TYPE, r->of);
    }
    else {
        out_json(c, NULL);     /* a wrapper has no name, fields, ... */
    }
}

static void field_field(intro_ctx *c, const gql_field *fd, const char *f)
{
    if (!strcmp(f, "name")) {
        out_string(c, fd->name);
    }
    else if (!strcmp(f, "description")) {
        out_string(c, fd->description);
    }
    else if (!strcmp(f, "args")) {
        out_args(c, fd->args);
    }
    else if (!strcmp(f, "type")) {
        out_object(c, GQL_I_TYPE, fd->type);
    }
    else if (!strcmp(f, "isDeprecated")) {
        out_json(c, json_boolean(fd->deprecation != NULL));
    }
    else {
        out_string(c, fd->deprecation);
    }
}

static void input_value_field(intro_ctx *c, const gql_arg *a, const char *f)
{
    if (!strcmp(f, "name")) {
        out_string(c, a->name);
    }
    else if (!strcmp(f, "description")) {
        out_string(c, a->description);
    }
    else if (!strcmp(f, "type")) {
        out_object(c, GQL_I_TYPE, a->type);
    }
    else {
        /* defaultValue: the literal as GraphQL source, e.g. "false" */
        out_string(c, a->default_value ? gql_print_value(c->p,
                                                         a->default_value)
                                       : NULL);
    }
}

static void enum_value_field(intro_ctx *c, const gql_enum_value *v,
                             const char *f)
{
    if (!strcmp(f, "name")) {
        out_string(c, v->name);
    }
    else if (!strcmp(f, "description")) {
        out_string(c, v->description);
    }
    else if (!strcmp(f, "isDeprecated")) {
        out_json(c, json_boolean(v->deprecation != NULL));
    }
    else {
        out_string(c, v->deprecation);
    }
}

static void directive_field(intro_ctx *c, const gql_directive *d,
                            const char *f)
{
    json_t *locs;
    int i;

    if (!strcmp(f, "name")) {
        out_string(c, d->name);
    }
    else if (!strcmp(f, "description")) {
        out_string(c, d->description);
    }
    else if (!strcmp(f, "isRepeatable")) {
        out_json(c, json_boolean(d->repeatable));
    }
    else if (!strcmp(f, "locations")) {
        locs = json_array();
        for (i = 0; i < d->locations->nelts; i++) {
            json_array_append_new(locs, json_string(
                APR_ARRAY_IDX(d->locations, i, const char *)));
        }
        out_json(c, locs);
    }
    else {
        out_args(c, d->args);
    }
}

void gql_intro_field(apr_pool_t *p, const apigw_gql_schema *s,
                     const gql_val *src, const char *field, json_t *args,
                     json_t *keep, gql_val *out)
{
    intro_ctx c;

    c.p = p;
    c.s = s;
    c.args = args;
    c.keep = keep;
    c.out = out;
    switch (src->ikind) {
    case GQL_I_SCHEMA:
        schema_field(&c, field);
        break;
    case GQL_I_TYPE:
        type_field(&c, src->ptr, field);
        break;
    case GQL_I_FIELD:
        field_field(&c, src->ptr, field);
        break;
    case GQL_I_INPUT_VALUE:
        input_value_field(&c, src->ptr, field);
        break;
    case GQL_I_ENUM_VALUE:
        enum_value_field(&c, src->ptr, field);
        break;
    default:
        directive_field(&c, src->ptr, field);
        break;
    }
}
