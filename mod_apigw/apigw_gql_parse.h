/* The GraphQL parser (apigw_gql_parse.c): source text to a document
 * (apigw_gql_ast.h), as the GraphQL specification (October 2021) reads
 * it: the lexer (UTF-8 source, BOM, commas and comments ignored, names,
 * numbers with their "no letter or '.' right after" rule, strings with
 * escapes incl. surrogate pairs, block strings), then the executable and
 * type system definitions. Bounded: the caller gives the deepest nesting
 * the parser will follow (it recurses), so no input can exhaust the
 * stack, and one place holds at most 1,000 arguments, directives,
 * variables, list items or object fields. Pure: APR only. */
#ifndef APIGW_GQL_PARSE_H
#define APIGW_GQL_PARSE_H

#include <apr_pools.h>

#include "apigw_gql_ast.h"

/* A syntax error: message in graphql-js's words ("Syntax Error: Expected
 * Name, found <EOF>."), and where. The message never holds a control
 * character or invalid UTF-8 (a bad byte is written as \xNN). */
typedef struct {
    const char *message;
    apigw_gql_loc loc;
} apigw_gql_syntax_error;

/* Parses len bytes of src (need not be NUL-terminated; a NUL byte is a
 * syntax error) into *out, from p. max_depth bounds the nesting of
 * selection sets, list and object values and list types together (a
 * document nested deeper is a syntax error naming the bound). Returns
 * NULL or the error (from p). An empty document (no definition) is an
 * error, as in graphql-js. */
const apigw_gql_syntax_error *apigw_gql_parse(apr_pool_t *p, const char *src,
                                              apr_size_t len,
                                              unsigned max_depth,
                                              apigw_gql_document **out);

#endif
