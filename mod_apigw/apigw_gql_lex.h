/* The GraphQL lexer (apigw_gql_lex.c), private to the parser
 * (apigw_gql_parse.c): turns UTF-8 source into tokens one at a time, as
 * the specification's lexical grammar (October 2021) reads it, bar two
 * things graphql-core (our reference) refuses and so refused here too:
 * \u{...} escapes and control characters other than tab in strings and
 * comments. It skips the ignored tokens (BOM, white space, line
 * terminators, commas, comments), decodes string values (escapes, block
 * string dedent) and keeps the line and column (in code points) of every
 * token. Errors are graphql-js's words, with every byte a message quotes
 * made printable. */
#ifndef APIGW_GQL_LEX_H
#define APIGW_GQL_LEX_H

#include <apr_pools.h>

#include "apigw_gql_parse.h"

typedef enum {
    APIGW_GQL_T_SOF,
    APIGW_GQL_T_EOF,
    APIGW_GQL_T_BANG,
    APIGW_GQL_T_DOLLAR,
    APIGW_GQL_T_AMP,
    APIGW_GQL_T_PAREN_L,
    APIGW_GQL_T_PAREN_R,
    APIGW_GQL_T_SPREAD,
    APIGW_GQL_T_COLON,
    APIGW_GQL_T_EQUALS,
    APIGW_GQL_T_AT,
    APIGW_GQL_T_BRACKET_L,
    APIGW_GQL_T_BRACKET_R,
    APIGW_GQL_T_BRACE_L,
    APIGW_GQL_T_PIPE,
    APIGW_GQL_T_BRACE_R,
    APIGW_GQL_T_NAME,
    APIGW_GQL_T_INT,
    APIGW_GQL_T_FLOAT,
    APIGW_GQL_T_STRING,
    APIGW_GQL_T_BLOCK_STRING
} apigw_gql_tok_kind;

typedef struct {
    apigw_gql_tok_kind kind;
    apr_size_t start, end;     /* bytes of the source */
    apigw_gql_loc loc;         /* of start */
    const char *value;         /* STRING, BLOCK_STRING: the decoded value,
                                * NUL-terminated, from the pool; NULL for
                                * the other kinds (their text is the
                                * source between start and end) */
    apr_size_t value_len;
} apigw_gql_token;

typedef struct {
    apr_pool_t *p;
    const unsigned char *src;
    apr_size_t len;
    apr_size_t pos;            /* next byte to read */
    unsigned line;             /* of pos */
    apr_size_t mark;           /* a byte on pos's line whose column ... */
    unsigned mark_col;         /* ... is known: columns are counted lazily,
                                * from the mark onwards, so a long line
                                * costs one pass however many tokens */
    char *buf;                 /* scratch for string values, reused */
    apr_size_t buf_len, buf_cap;
    apigw_gql_token tok;       /* the current token */
    const apigw_gql_syntax_error *err;  /* set when a call returned -1 */
} apigw_gql_lexer;

/* Readies lx for len bytes of src; the current token is SOF. */
void apigw_gql_lex_init(apigw_gql_lexer *lx, apr_pool_t *p, const char *src,
                        apr_size_t len);

/* Reads the next token into lx->tok: 0, or -1 with lx->err set. */
int apigw_gql_lex_next(apigw_gql_lexer *lx);

/* Sets lx->err to "Syntax Error: " and the formatted text, at loc;
 * returns -1 for the caller to pass on. */
int apigw_gql_lex_fail(apigw_gql_lexer *lx, apigw_gql_loc loc,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* graphql-js's description of a token for messages: "}" (quoted
 * punctuators), Name "id", String "..." (long values shortened, control
 * characters as \xNN), <EOF>. */
const char *apigw_gql_tok_desc(apigw_gql_lexer *lx, const apigw_gql_token *t);

/* A token kind as messages name it: "}", Name, <EOF>. */
const char *apigw_gql_kind_desc(apigw_gql_tok_kind kind);

/* Whether the current token is the name kw. */
int apigw_gql_tok_is(const apigw_gql_lexer *lx, const char *kw);

#endif
