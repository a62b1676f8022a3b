/* The GraphQL executor: a schema built from SDL text, and requests
 * (query text, variables, operation name) validated against it and
 * executed with the caller's resolvers, answered as the JSON GraphQL's
 * specification (October 2021) describes ({"data", "errors"} with
 * message, locations, path, extensions.code). Introspection (__schema,
 * __type, __typename) is the executor's own, complete enough for
 * graphql-js's and graphql-core's getIntrospectionQuery and
 * build_client_schema. Values travel as jansson JSON: a resolver answers
 * a root field with the JSON of its value, and the executor completes
 * that value along the schema (an object type's field is the JSON
 * object's member of the same name). Pure: APR, jansson. A built schema
 * is immutable: threads may execute against it at once.
 * Files: apigw_gql_schema.c (SDL to schema), apigw_gql_validate.c (the
 * specification's validation rules), apigw_gql_exec.c (variables,
 * execution, value completion, errors), apigw_gql_introspect.c. */
#ifndef APIGW_GQL_EXEC_H
#define APIGW_GQL_EXEC_H

#include <apr_pools.h>

#include <jansson.h>

#include "apigw_gql_ast.h"

typedef struct apigw_gql_schema apigw_gql_schema;

/* Builds a schema from sdl (type system definitions; the root types are
 * "Query" and "Mutation" unless a schema { } says otherwise). Predefined:
 * Int, Float, String, Boolean, ID, @include, @skip, @deprecated,
 * @specifiedBy and the introspection types. Returns NULL or a message
 * naming line and column ("12:3: Route.cors: unknown type Cors"). */
const char *apigw_gql_schema_build(apr_pool_t *p, const char *sdl,
                                   apigw_gql_schema **out);

/* The bounds of one request (the admin location's directives). */
typedef struct {
    apr_size_t max_bytes;      /* of the query text */
    unsigned max_depth;        /* nesting (parser and selections with
                                * fragments expanded) */
    unsigned max_fields;       /* field selections, fragments expanded */
    unsigned max_aliases;      /* aliased fields in the document */
} apigw_gql_limits;

/* What a resolver reports when a field fails: message (from p, no
 * control character), code (extensions.code: "BAD_USER_INPUT",
 * "NOT_FOUND", "CONFLICT", "UNAUTHENTICATED", "FORBIDDEN",
 * "INTERNAL_SERVER_ERROR"), field (extensions.field, the argument path of
 * the culprit such as "input.cors.allowOrigins[2]"; NULL when none). */
typedef struct {
    const char *message;
    const char *code;
    const char *field;
} apigw_gql_fault;

/* Resolves a root field of the Query or Mutation type (type is its
 * name). args holds the field's arguments coerced to their types, with
 * defaults applied and variables substituted: Int as a JSON integer,
 * Float as a real, String, ID and enum values as strings, Boolean as
 * true/false, input objects as objects of the fields given (plus those
 * with defaults), lists as arrays, null as null. Returns a new reference
 * to the field's value (json_null() for null), or NULL with *fault
 * filled. Mutation fields are resolved one after the other, in order. */
typedef json_t *apigw_gql_resolve_fn(void *baton, apr_pool_t *p,
                                     const char *type, const char *field,
                                     json_t *args, apigw_gql_fault *fault);

typedef enum {
    APIGW_GQL_EXECUTED = 0,    /* ran (maybe with field errors): 200 */
    APIGW_GQL_REFUSED,         /* not run: a syntax or validation error,
                                * a bound, a variable's value, an unknown
                                * operationName: errors only (HTTP 200 in
                                * the application/json convention, 400
                                * for graphql-response+json) */
    APIGW_GQL_MUTATION_BY_GET  /* allow_mutation was 0 and the operation
                                * chosen is a mutation: not run (405) */
} apigw_gql_outcome;

/* Executes one request. query (qlen bytes, UTF-8), variables (a JSON
 * object or NULL), operation_name (NULL: the document's only operation).
 * *response is the answer's JSON text from p. */
apigw_gql_outcome apigw_gql_execute(apr_pool_t *p,
                                    const apigw_gql_schema *schema,
                                    const apigw_gql_limits *limits,
                                    const char *query, apr_size_t qlen,
                                    json_t *variables,
                                    const char *operation_name,
                                    int allow_mutation,
                                    apigw_gql_resolve_fn *resolve,
                                    void *baton, const char **response);

#endif
