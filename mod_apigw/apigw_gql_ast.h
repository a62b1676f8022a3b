/* GraphQL documents as the parser (apigw_gql_parse.c) leaves them: the
 * executable definitions a client sends (operations, fragments) and the
 * type system definitions the admin schema is written in (scalar, type,
 * interface, union, enum, input, schema). Every node lives in the pool
 * the document was parsed from; strings are NUL-terminated UTF-8 (a
 * string value holding U+0000 is refused by the parser); arrays are APR
 * arrays of pointers to nodes (never NULL: empty when the source has
 * none), except where a comment says NULL. Pure data: no functions. */
#ifndef APIGW_GQL_AST_H
#define APIGW_GQL_AST_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Where a node starts in the source: 1-based line and column (columns
 * count Unicode code points, as GraphQL's locations do). */
typedef struct {
    unsigned line;
    unsigned column;
} apigw_gql_loc;

/* ---- values ---- */

typedef enum {
    APIGW_GQL_VARIABLE,        /* $name: text is the name, without '$' */
    APIGW_GQL_INT,             /* text is the literal as written: "-12" */
    APIGW_GQL_FLOAT,           /* text is the literal as written: "1.5e3" */
    APIGW_GQL_STRING,          /* text is the decoded value (block strings
                                * dedented as the spec says) */
    APIGW_GQL_BOOLEAN,         /* boolean is 0 or 1 */
    APIGW_GQL_NULL,
    APIGW_GQL_ENUM,            /* text is the name */
    APIGW_GQL_LIST,            /* items: apigw_gql_value * */
    APIGW_GQL_OBJECT           /* fields: apigw_gql_argument * */
} apigw_gql_value_kind;

typedef struct apigw_gql_value apigw_gql_value;

/* An argument (name: value), or one field of an object value. */
typedef struct {
    const char *name;
    apigw_gql_value *value;
    apigw_gql_loc loc;         /* of the name */
} apigw_gql_argument;

struct apigw_gql_value {
    apigw_gql_value_kind kind;
    apigw_gql_loc loc;
    const char *text;          /* VARIABLE, INT, FLOAT, STRING, ENUM */
    int boolean;               /* BOOLEAN */
    apr_array_header_t *items; /* LIST; NULL otherwise */
    apr_array_header_t *fields;/* OBJECT; NULL otherwise */
};

/* @name(arguments) */
typedef struct {
    const char *name;
    apr_array_header_t *arguments;   /* apigw_gql_argument * */
    apigw_gql_loc loc;               /* of the '@' */
} apigw_gql_directive;

/* ---- types as written: Name, [T], T! ---- */

typedef enum {
    APIGW_GQL_TYPE_NAMED,
    APIGW_GQL_TYPE_LIST,
    APIGW_GQL_TYPE_NON_NULL
} apigw_gql_type_kind;

typedef struct apigw_gql_type_ref apigw_gql_type_ref;
struct apigw_gql_type_ref {
    apigw_gql_type_kind kind;
    const char *name;                /* NAMED */
    apigw_gql_type_ref *of;          /* LIST, NON_NULL (never a NON_NULL
                                      * inside a NON_NULL) */
    apigw_gql_loc loc;
};

/* ---- executable definitions ---- */

typedef enum {
    APIGW_GQL_FIELD,
    APIGW_GQL_FRAGMENT_SPREAD,       /* ...Name */
    APIGW_GQL_INLINE_FRAGMENT        /* ... on Type { } or ... { } */
} apigw_gql_selection_kind;

typedef struct apigw_gql_selection apigw_gql_selection;
struct apigw_gql_selection {
    apigw_gql_selection_kind kind;
    apigw_gql_loc loc;               /* of the alias, name or "..." */
    const char *alias;               /* FIELD: NULL without one */
    const char *name;                /* FIELD: the field; SPREAD: the
                                      * fragment; INLINE: NULL */
    apr_array_header_t *arguments;   /* FIELD: apigw_gql_argument * */
    apr_array_header_t *directives;  /* apigw_gql_directive * */
    const char *type_condition;      /* INLINE: NULL without "on Type" */
    apr_array_header_t *selections;  /* FIELD: NULL without a selection
                                      * set; INLINE: its selections;
                                      * SPREAD: NULL */
};

typedef struct {
    const char *name;                /* without '$' */
    apigw_gql_type_ref *type;
    apigw_gql_value *default_value;  /* NULL without one */
    apr_array_header_t *directives;
    apigw_gql_loc loc;               /* of the '$' */
} apigw_gql_variable_def;

typedef enum {
    APIGW_GQL_QUERY,
    APIGW_GQL_MUTATION,
    APIGW_GQL_SUBSCRIPTION
} apigw_gql_operation_kind;

typedef struct {
    apigw_gql_operation_kind kind;   /* a bare { } is a QUERY */
    const char *name;                /* NULL when anonymous */
    apr_array_header_t *variables;   /* apigw_gql_variable_def * */
    apr_array_header_t *directives;
    apr_array_header_t *selections;  /* apigw_gql_selection * */
    apigw_gql_loc loc;
} apigw_gql_operation;

typedef struct {
    const char *name;
    const char *type_condition;
    apr_array_header_t *directives;
    apr_array_header_t *selections;
    apigw_gql_loc loc;               /* of "fragment" */
} apigw_gql_fragment;

/* ---- type system definitions ---- */

/* An argument of a field or directive definition, or a field of an
 * input type. */
typedef struct {
    const char *description;         /* NULL without one */
    const char *name;
    apigw_gql_type_ref *type;
    apigw_gql_value *default_value;  /* NULL without one */
    apr_array_header_t *directives;
    apigw_gql_loc loc;
} apigw_gql_input_value_def;

typedef struct {
    const char *description;
    const char *name;
    apr_array_header_t *arguments;   /* apigw_gql_input_value_def * */
    apigw_gql_type_ref *type;
    apr_array_header_t *directives;  /* @deprecated(reason: "...") */
    apigw_gql_loc loc;
} apigw_gql_field_def;

typedef struct {
    const char *description;
    const char *name;
    apr_array_header_t *directives;
    apigw_gql_loc loc;
} apigw_gql_enum_value_def;

typedef enum {
    APIGW_GQL_DEF_SCALAR,
    APIGW_GQL_DEF_OBJECT,            /* type */
    APIGW_GQL_DEF_INTERFACE,
    APIGW_GQL_DEF_UNION,
    APIGW_GQL_DEF_ENUM,
    APIGW_GQL_DEF_INPUT_OBJECT       /* input */
} apigw_gql_type_def_kind;

typedef struct {
    apigw_gql_type_def_kind kind;
    const char *description;
    const char *name;
    apr_array_header_t *interfaces;  /* const char *: implements A & B */
    apr_array_header_t *directives;
    apr_array_header_t *fields;      /* OBJECT, INTERFACE:
                                      * apigw_gql_field_def * */
    apr_array_header_t *input_fields;/* INPUT_OBJECT:
                                      * apigw_gql_input_value_def * */
    apr_array_header_t *values;      /* ENUM: apigw_gql_enum_value_def * */
    apr_array_header_t *members;     /* UNION: const char * */
    apigw_gql_loc loc;
} apigw_gql_type_def;

/* schema { query: Q mutation: M subscription: S } */
typedef struct {
    const char *query;               /* NULL when not named */
    const char *mutation;
    const char *subscription;
    apigw_gql_loc loc;
    const char *description;         /* NULL without one */
    apr_array_header_t *directives;  /* apigw_gql_directive * */
} apigw_gql_schema_def;

/* directive @name(args) repeatable on LOCATION | ... */
typedef struct {
    const char *description;
    const char *name;                /* without '@' */
    apr_array_header_t *arguments;   /* apigw_gql_input_value_def * */
    int repeatable;
    apr_array_header_t *locations;   /* const char *: "FIELD", ... */
    apigw_gql_loc loc;
} apigw_gql_directive_def;

/* ---- the document ---- */

typedef enum {
    APIGW_GQL_DEF_OPERATION,
    APIGW_GQL_DEF_FRAGMENT,
    APIGW_GQL_DEF_TYPE,
    APIGW_GQL_DEF_SCHEMA,
    APIGW_GQL_DEF_DIRECTIVE          /* "extend ..." is refused by the
                                      * parser: a request has no use for
                                      * it, the schema is one document */
} apigw_gql_definition_kind;

typedef struct {
    apigw_gql_definition_kind kind;
    apigw_gql_loc loc;
    union {
        apigw_gql_operation *operation;
        apigw_gql_fragment *fragment;
        apigw_gql_type_def *type;
        apigw_gql_schema_def *schema;
        apigw_gql_directive_def *directive;
    } u;
} apigw_gql_definition;

typedef struct {
    apr_array_header_t *definitions; /* apigw_gql_definition *, in order */
    /* counts over the whole document, for the caller's bounds */
    unsigned fields;                 /* field selections */
    unsigned aliases;                /* of them, with an alias */
    unsigned max_depth;              /* deepest nesting of selection sets,
                                      * values and list types */
} apigw_gql_document;

#endif
