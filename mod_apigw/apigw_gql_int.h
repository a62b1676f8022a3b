/* What the GraphQL executor's files share (apigw_gql_schema.c,
 * apigw_gql_validate.c, apigw_gql_exec.c, apigw_gql_introspect.c): the
 * built schema's types, fields and directives with their type references
 * resolved, the value helpers both validation and execution use, and the
 * seams between the files. Private to those files. */
#ifndef APIGW_GQL_INT_H
#define APIGW_GQL_INT_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include <jansson.h>

#include "apigw_gql_ast.h"
#include "apigw_gql_exec.h"

/* How a scalar reads and writes values: the five of the specification,
 * or a custom one that passes JSON through. */
typedef enum {
    GQL_S_CUSTOM = 0,
    GQL_S_INT,
    GQL_S_FLOAT,
    GQL_S_STRING,
    GQL_S_BOOLEAN,
    GQL_S_ID
} gql_scalar;

typedef struct gql_type gql_type;
typedef struct gql_tref gql_tref;

/* A type as a field or argument uses it: a named type, or a list or
 * non-null wrapper around another reference. */
struct gql_tref {
    apigw_gql_type_kind kind;
    gql_type *named;           /* NAMED */
    const gql_tref *of;        /* LIST, NON_NULL */
};

/* An argument, or a field of an input object. The default stays the
 * literal written in the SDL: it is coerced where it is used, and printed
 * as it is for __InputValue.defaultValue. */
typedef struct {
    const char *name;
    const char *description;
    const gql_tref *type;
    const apigw_gql_value *default_value;   /* NULL without one */
    apigw_gql_loc loc;
} gql_arg;

typedef struct {
    const char *name;
    const char *description;
    apr_array_header_t *args;               /* gql_arg * */
    apr_hash_t *arg_index;
    const gql_tref *type;
    const char *deprecation;                /* reason; NULL: current */
    const char *label;                      /* "Type.field", for messages */
} gql_field;

typedef struct {
    const char *name;
    const char *description;
    const char *deprecation;
} gql_enum_value;

struct gql_type {
    apigw_gql_type_def_kind kind;
    gql_scalar scalar;                      /* SCALAR */
    const char *name;
    const char *description;
    const char *specified_by;               /* SCALAR: @specifiedBy url */
    apr_array_header_t *fields;             /* OBJECT, INTERFACE */
    apr_hash_t *field_index;
    apr_array_header_t *interfaces;         /* gql_type *: implemented */
    apr_array_header_t *possible;           /* gql_type *: union members,
                                             * an interface's objects */
    apr_array_header_t *values;             /* ENUM: gql_enum_value * */
    apr_hash_t *value_index;
    apr_array_header_t *input_fields;       /* INPUT_OBJECT: gql_arg * */
    apr_hash_t *input_index;
    gql_tref ref;                           /* NAMED, pointing here */
    const apigw_gql_type_def *def;
    int builtin;                            /* predefined */
    int used;                               /* referenced somewhere */
};

typedef struct {
    const char *name;
    const char *description;
    apr_array_header_t *args;               /* gql_arg * */
    apr_hash_t *arg_index;
    apr_array_header_t *locations;          /* const char * */
    int repeatable;
} gql_directive;

struct apigw_gql_schema {
    apr_hash_t *types;                      /* name -> gql_type * */
    apr_array_header_t *type_list;          /* __schema.types, in order */
    gql_type *query;
    gql_type *mutation;                     /* NULL without one */
    gql_type *subscription;
    apr_array_header_t *directives;         /* gql_directive * */
    apr_hash_t *directive_index;
    /* the meta-fields no type lists: __typename on every composite type,
     * __schema and __type on the query root */
    gql_field *typename_field;
    gql_field *schema_field;
    gql_field *type_field;
};

/* ---- schema look-ups (apigw_gql_schema.c) ---- */

gql_type *gql_type_get(const apigw_gql_schema *s, const char *name);
/* The field name of t, meta-fields included; NULL when none. */
const gql_field *gql_field_get(const apigw_gql_schema *s, const gql_type *t,
                               const char *name);
const gql_directive *gql_directive_get(const apigw_gql_schema *s,
                                       const char *name);
const gql_arg *gql_arg_get(apr_hash_t *index, const char *name);
int gql_is_composite(const gql_type *t);
int gql_is_abstract(const gql_type *t);
int gql_is_input_type(const gql_type *t);
int gql_is_leaf(const gql_type *t);
/* May an object of type obj be of type t (t itself, or a member)? */
int gql_possible(const gql_type *t, const gql_type *obj);
gql_type *gql_tref_named(const gql_tref *r);
/* "[Route!]!" */
const char *gql_tref_str(apr_pool_t *p, const gql_tref *r);
/* The reference a document writes, against the schema; NULL when it
 * names an unknown type. */
const gql_tref *gql_tref_from_ast(apr_pool_t *p, const apigw_gql_schema *s,
                                  const apigw_gql_type_ref *r);
/* Is a value of type sub acceptable where sup is expected? */
int gql_tref_subtype(const gql_tref *sub, const gql_tref *sup);
int gql_tref_equal(const gql_tref *a, const gql_tref *b);

/* ---- values (apigw_gql_exec.c) ---- */

/* A literal printed as GraphQL source: "false", "[GET, POST]",
 * "{a: \"x\"}". */
const char *gql_print_value(apr_pool_t *p, const apigw_gql_value *v);
/* The same, at most 120 bytes (then "..."): for messages. */
const char *gql_print_short(apr_pool_t *p, const apigw_gql_value *v);
/* Are two literals the same (as written: same kinds, texts, items and
 * fields in order)? */
int gql_value_equal(const apigw_gql_value *a, const apigw_gql_value *b);
/* A JSON value shown in a message (compact, cut when long). */
const char *gql_show_json(apr_pool_t *p, const json_t *v);
/* A literal coerced to type t, variables read from vars (NULL: a
 * variable is invalid, as in a default value). Returns 0 and *out (a new
 * reference), or -1 when the literal cannot be of that type. A variable
 * missing from vars counts as null within lists and is left out of
 * input objects, as the specification's valueFromAST does. */
int gql_coerce_literal(apr_pool_t *p, const gql_tref *t,
                       const apigw_gql_value *v, json_t *vars,
                       json_t **out);
/* Whether a scalar literal (no variable, list or object unless custom)
 * can be of scalar or enum type t. */
int gql_leaf_literal_ok(const gql_type *t, const apigw_gql_value *v);

/* ---- validation (apigw_gql_validate.c) ---- */

/* Appends an error (message, locations) for each rule the document
 * breaks to errors, a JSON array. Returns how many. */
int gql_validate(apr_pool_t *p, const apigw_gql_schema *s,
                 const apigw_gql_document *doc, json_t *errors);

/* ---- errors (apigw_gql_exec.c) ---- */

/* A new error object: message, locations (when loc), path (when not
 * NULL: stolen), extensions.code, extensions.field (when field). */
json_t *gql_error(const char *message, const apigw_gql_loc *loc,
                  json_t *path, const char *code, const char *field);

/* ---- introspection (apigw_gql_introspect.c) ---- */

/* The objects introspection answers with, which the executor completes
 * like any other: they are resolved field by field, lazily, since the
 * type graph has cycles. */
typedef enum {
    GQL_I_SCHEMA,              /* ptr: apigw_gql_schema */
    GQL_I_TYPE,                /* ptr: gql_tref (wrappers included) */
    GQL_I_FIELD,               /* ptr: gql_field */
    GQL_I_INPUT_VALUE,         /* ptr: gql_arg */
    GQL_I_ENUM_VALUE,          /* ptr: gql_enum_value */
    GQL_I_DIRECTIVE            /* ptr: gql_directive */
} gql_intro_kind;

/* A value on its way to completion: JSON (borrowed: the executor keeps
 * what it holds alive until the answer is written), the root object, an
 * introspection object, or a list of values. */
typedef struct gql_val gql_val;
struct gql_val {
    enum { GQL_V_JSON, GQL_V_ROOT, GQL_V_INTRO, GQL_V_LIST } kind;
    json_t *json;              /* JSON; NULL reads as null */
    gql_intro_kind ikind;      /* INTRO */
    const void *ptr;           /* INTRO */
    apr_array_header_t *items; /* LIST: gql_val */
};

/* Field field of the introspection object src, with its coerced args.
 * New JSON goes into keep (an array the caller releases at the end). */
void gql_intro_field(apr_pool_t *p, const apigw_gql_schema *s,
                     const gql_val *src, const char *field, json_t *args,
                     json_t *keep, gql_val *out);

#endif
