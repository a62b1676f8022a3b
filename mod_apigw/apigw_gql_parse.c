/* The GraphQL parser (apigw_gql_parse.h): tokens from the lexer
 * (apigw_gql_lex.c) to a document (apigw_gql_ast.h), by recursive descent
 * over the specification's syntax grammar (October 2021), with
 * graphql-js's error messages. Recursion happens only where the grammar
 * nests (selection sets, list and object values, list types), and each
 * of those checks the depth bound before it recurses, so the stack a
 * document can use is bounded by the caller's max_depth.
 *
 * Locations: a node's loc is where its own first token is (the keyword
 * of a definition, the name of a field definition), not its
 * description: that is where a message about the node should point. */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "apigw_gql_lex.h"
#include "apigw_gql_parse.h"

typedef apigw_gql_tok_kind tok_kind;

typedef struct {
    apigw_gql_lexer lx;
    apr_pool_t *p;
    unsigned max_depth;
    unsigned depth;
    apigw_gql_document *doc;
} parser;

#define T_(k) APIGW_GQL_T_##k
#define TOK(ps) (&(ps)->lx.tok)

/* ---- tokens ---- */

static int advance(parser *ps)
{
    return apigw_gql_lex_next(&ps->lx);
}

static int peek(const parser *ps, tok_kind kind)
{
    return ps->lx.tok.kind == kind;
}

static int fail_unexpected(parser *ps)
{
    return apigw_gql_lex_fail(&ps->lx, TOK(ps)->loc, "Unexpected %s.",
                              apigw_gql_tok_desc(&ps->lx, TOK(ps)));
}

static int expect(parser *ps, tok_kind kind)
{
    if (peek(ps, kind)) {
        return advance(ps);
    }
    return apigw_gql_lex_fail(&ps->lx, TOK(ps)->loc, "Expected %s, found %s.",
                              apigw_gql_kind_desc(kind),
                              apigw_gql_tok_desc(&ps->lx, TOK(ps)));
}

/* 1 and past the token when it is kind, 0 when not, -1 on an error. */
static int skip(parser *ps, tok_kind kind)
{
    if (!peek(ps, kind)) {
        return 0;
    }
    return advance(ps) < 0 ? -1 : 1;
}

static int skip_keyword(parser *ps, const char *kw)
{
    if (!apigw_gql_tok_is(&ps->lx, kw)) {
        return 0;
    }
    return advance(ps) < 0 ? -1 : 1;
}

static int expect_keyword(parser *ps, const char *kw)
{
    if (apigw_gql_tok_is(&ps->lx, kw)) {
        return advance(ps);
    }
    return apigw_gql_lex_fail(&ps->lx, TOK(ps)->loc,
                              "Expected \"%s\", found %s.", kw,
                              apigw_gql_tok_desc(&ps->lx, TOK(ps)));
}

/* The current token's source text (a name or number), from the pool. */
static const char *tok_text(parser *ps)
{
    return apr_pstrmemdup(ps->p, (const char *)ps->lx.src + TOK(ps)->start,
                          TOK(ps)->end - TOK(ps)->start);
}

static int parse_name(parser *ps, const char **name, apigw_gql_loc *loc)
{
    if (!peek(ps, T_(NAME))) {
        return expect(ps, T_(NAME));
    }
    *name = tok_text(ps);
    if (loc) {
        *loc = TOK(ps)->loc;
    }
    return advance(ps);
}

static int peek_string(const parser *ps)
{
    return peek(ps, T_(STRING)) || peek(ps, T_(BLOCK_STRING));
}

/* An optional description (a string before a type system definition). */
static int parse_description(parser *ps, const char **desc)
{
    *desc = NULL;
    if (!peek_string(ps)) {
        return 0;
    }
    *desc = TOK(ps)->value;
    return advance(ps);
}

/* ---- nesting ---- */

/* Called on the token that opens a level, before recursing into it. */
static int enter(parser *ps)
{
    if (ps->depth >= ps->max_depth) {
        return apigw_gql_lex_fail(&ps->lx, TOK(ps)->loc,
                                  "the document is nested deeper than %u "
                                  "levels.", ps->max_depth);
    }
    ps->depth++;
    if (ps->depth > ps->doc->max_depth) {
        ps->doc->max_depth = ps->depth;
    }
    return 0;
}

static void leave(parser *ps)
{
    ps->depth--;
}

static apr_array_header_t *list_make(parser *ps)
{
    return apr_array_make(ps->p, 0, sizeof(void *));
}

#define PUSH(arr, v) (*(void **)apr_array_push(arr) = (v))

/* How many arguments, directives, variables, list items or object fields
 * one place may hold. Far beyond any real document, and a bound on what
 * validation does per place (its checks compare names and values pair
 * by pair, and print values in messages). */
#define MAX_ITEMS 1000

/* Before pushing onto arr: a syntax error when it is full. */
static int room(parser *ps, const apr_array_header_t *arr, const char *what)
{
    if (arr->nelts < MAX_ITEMS) {
        return 0;
    }
    return apigw_gql_lex_fail(&ps->lx, TOK(ps)->loc, "more than %d %s in "
                              "one place.", MAX_ITEMS, what);
}

/* ---- values ---- */

static int parse_value(parser *ps, int is_const, apigw_gql_value **out);

static apigw_gql_value *value_make(parser *ps, apigw_gql_value_kind kind)
{
    apigw_gql_value *v = apr_pcalloc(ps->p, sizeof(*v));

    v->kind = kind;
    v->loc = TOK(ps)->loc;
    return v;
}

static int parse_variable(parser *ps, apigw_gql_value **out)
{
    apigw_gql_value *v = value_make(ps, APIGW_GQL_VARIABLE);

    if (expect(ps, T_(DOLLAR)) < 0 || parse_name(ps, &v->text, NULL) < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* name: value, an argument or an object field. */
static int parse_argument(parser *ps, int is_const, apigw_gql_argument **out)
{
    apigw_gql_argument *a = apr_pcalloc(ps->p, sizeof(*a));

    if (parse_name(ps, &a->name, &a->loc) < 0 || expect(ps, T_(COLON)) < 0
        || parse_value(ps, is_const, &a->value) < 0) {
        return -1;
    }
    *out = a;
    return 0;
}

/* [ values ] or { fields }: closer ends the list, which may be empty. */
static int parse_compound(parser *ps, int is_const, apigw_gql_value **out)
{
    int is_list = peek(ps, T_(BRACKET_L));
    tok_kind closer = is_list ? T_(BRACKET_R) : T_(BRACE_R);
    apigw_gql_value *v = value_make(ps, is_list ? APIGW_GQL_LIST
                                                : APIGW_GQL_OBJECT);
    apr_array_header_t *arr = list_make(ps);
    apigw_gql_value *item;
    apigw_gql_argument *field;
    int r;

    if (enter(ps) < 0 || advance(ps) < 0) {
        return -1;
    }
    while ((r = skip(ps, closer)) == 0) {
        if (room(ps, arr, is_list ? "list items" : "object fields") < 0) {
            return -1;
        }
        if (is_list) {
            if (parse_value(ps, is_const, &item) < 0) {
                return -1;
            }
            PUSH(arr, item);
        }
        else {
            if (parse_argument(ps, is_const, &field) < 0) {
                return -1;
            }
            PUSH(arr, field);
        }
    }
    if (r < 0) {
        return -1;
    }
    leave(ps);
    if (is_list) {
        v->items = arr;
    }
    else {
        v->fields = arr;
    }
    *out = v;
    return 0;
}

static int parse_name_value(parser *ps, apigw_gql_value **out)
{
    apigw_gql_value *v;

    if (apigw_gql_tok_is(&ps->lx, "true")
        || apigw_gql_tok_is(&ps->lx, "false")) {
        v = value_make(ps, APIGW_GQL_BOOLEAN);
        v->boolean = apigw_gql_tok_is(&ps->lx, "true");
    }
    else if (apigw_gql_tok_is(&ps->lx, "null")) {
        v = value_make(ps, APIGW_GQL_NULL);
    }
    else {
        v = value_make(ps, APIGW_GQL_ENUM);
        v->text = tok_text(ps);
    }
    *out = v;
    return advance(ps);
}

/* A variable where only a constant may stand: graphql-js's message when a
 * name follows the '$', else the '$' is what is unexpected. */
static int fail_const_variable(parser *ps)
{
    apigw_gql_loc loc = TOK(ps)->loc;

    if (advance(ps) < 0) {
        return -1;
    }
    if (peek(ps, T_(NAME))) {
        return apigw_gql_lex_fail(&ps->lx, loc, "Unexpected variable \"$%s\" "
                                  "in constant value.", tok_text(ps));
    }
    return apigw_gql_lex_fail(&ps->lx, loc, "Unexpected \"$\".");
}

static int parse_value(parser *ps, int is_const, apigw_gql_value **out)
{
    apigw_gql_value *v;

    switch (TOK(ps)->kind) {
    case T_(BRACKET_L):
    case T_(BRACE_L):
        return parse_compound(ps, is_const, out);
    case T_(INT):
    case T_(FLOAT):
        v = value_make(ps, peek(ps, T_(INT)) ? APIGW_GQL_INT
                                             : APIGW_GQL_FLOAT);
        v->text = tok_text(ps);
        break;
    case T_(STRING):
    case T_(BLOCK_STRING):
        v = value_make(ps, APIGW_GQL_STRING);
        v->text = TOK(ps)->value;
        break;
    case T_(NAME):
        return parse_name_value(ps, out);
    case T_(DOLLAR):
        return is_const ? fail_const_variable(ps) : parse_variable(ps, out);
    default:
        return fail_unexpected(ps);
    }
    *out = v;
    return advance(ps);
}

/* ---- directives, arguments, types ---- */

/* ( arguments ), or nothing: *out is an empty array then. */
static int parse_arguments(parser *ps, int is_const, apr_array_header_t **out)
{
    apigw_gql_argument *a;
    int r;

    *out = list_make(ps);
    if ((r = skip(ps, T_(PAREN_L))) <= 0) {
        return r;
    }
    do {
        if (room(ps, *out, "arguments") < 0
            || parse_argument(ps, is_const, &a) < 0) {
            return -1;
        }
        PUSH(*out, a);
    } while ((r = skip(ps, T_(PAREN_R))) == 0);
    return r < 0 ? -1 : 0;
}

static int parse_directives(parser *ps, int is_const,
                            apr_array_header_t **out)
{
    apigw_gql_directive *d;

    *out = list_make(ps);
    while (peek(ps, T_(AT))) {
        if (room(ps, *out, "directives") < 0) {
            return -1;
        }
        d = apr_pcalloc(ps->p, sizeof(*d));
        d->loc = TOK(ps)->loc;
        if (advance(ps) < 0 || parse_name(ps, &d->name, NULL) < 0
            || parse_arguments(ps, is_const, &d->arguments) < 0) {
            return -1;
        }
        PUSH(*out, d);
    }
    return 0;
}

/* Name, [Type], Type! */
static int parse_type_ref(parser *ps, apigw_gql_type_ref **out)
{
    apigw_gql_type_ref *t = apr_pcalloc(ps->p, sizeof(*t)), *nn;
    int r;

    t->loc = TOK(ps)->loc;
    if (peek(ps, T_(BRACKET_L))) {
        t->kind = APIGW_GQL_TYPE_LIST;
        if (enter(ps) < 0 || advance(ps) < 0 || parse_type_ref(ps, &t->of) < 0
            || expect(ps, T_(BRACKET_R)) < 0) {
            return -1;
        }
        leave(ps);
    }
    else {
        t->kind = APIGW_GQL_TYPE_NAMED;
        if (parse_name(ps, &t->name, NULL) < 0) {
            return -1;
        }
    }
    if ((r = skip(ps, T_(BANG))) < 0) {
        return -1;
    }
    if (r) {
        nn = apr_pcalloc(ps->p, sizeof(*nn));
        nn->kind = APIGW_GQL_TYPE_NON_NULL;
        nn->of = t;
        nn->loc = t->loc;
        t = nn;
    }
    *out = t;
    return 0;
}

/* ---- selections ---- */

static int parse_selection_set(parser *ps, apr_array_header_t **out);

static void count_field(parser *ps, const apigw_gql_selection *s)
{
    /* saturating: the caller compares with its bounds */
    if (ps->doc->fields < (unsigned)-1) {
        ps->doc->fields++;
    }
    if (s->alias && ps->doc->aliases < (unsigned)-1) {
        ps->doc->aliases++;
    }
}

static int parse_field(parser *ps, apigw_gql_selection *s)
{
    const char *first = NULL;
    int r;

    s->kind = APIGW_GQL_FIELD;
    if (parse_name(ps, &first, NULL) < 0 || (r = skip(ps, T_(COLON))) < 0) {
        return -1;
    }
    if (r) {
        s->alias = first;
        if (parse_name(ps, &s->name, NULL) < 0) {
            return -1;
        }
    }
    else {
        s->name = first;
    }
    if (parse_arguments(ps, 0, &s->arguments) < 0
        || parse_directives(ps, 0, &s->directives) < 0) {
        return -1;
    }
    count_field(ps, s);
    if (peek(ps, T_(BRACE_L))) {
        return parse_selection_set(ps, &s->selections);
    }
    return 0;
}

/* ...Name directives, or ... on Type directives { }, or ... directives { } */
static int parse_fragment_selection(parser *ps, apigw_gql_selection *s)
{
    int r;

    s->arguments = list_make(ps);
    if (advance(ps) < 0 || (r = skip_keyword(ps, "on")) < 0) {
        return -1;
    }
    if (!r && peek(ps, T_(NAME))) {
        s->kind = APIGW_GQL_FRAGMENT_SPREAD;
        return parse_name(ps, &s->name, NULL) < 0
               || parse_directives(ps, 0, &s->directives) < 0 ? -1 : 0;
    }
    s->kind = APIGW_GQL_INLINE_FRAGMENT;
    if ((r && parse_name(ps, &s->type_condition, NULL) < 0)
        || parse_directives(ps, 0, &s->directives) < 0) {
        return -1;
    }
    return parse_selection_set(ps, &s->selections);
}

static int parse_selection(parser *ps, apigw_gql_selection **out)
{
    apigw_gql_selection *s = apr_pcalloc(ps->p, sizeof(*s));

    s->loc = TOK(ps)->loc;
    *out = s;
    return peek(ps, T_(SPREAD)) ? parse_fragment_selection(ps, s)
                                : parse_field(ps, s);
}

/* { selections }: at least one. */
static int parse_selection_set(parser *ps, apr_array_header_t **out)
{
    apigw_gql_selection *s;
    int r;

    if (!peek(ps, T_(BRACE_L))) {
        return expect(ps, T_(BRACE_L));
    }
    if (enter(ps) < 0 || advance(ps) < 0) {
        return -1;
    }
    *out = list_make(ps);
    do {
        if (parse_selection(ps, &s) < 0) {
            return -1;
        }
        PUSH(*out, s);
    } while ((r = skip(ps, T_(BRACE_R))) == 0);
    if (r < 0) {
        return -1;
    }
    leave(ps);
    return 0;
}

/* ---- executable definitions ---- */

static int parse_variable_def(parser *ps, apigw_gql_variable_def **out)
{
    apigw_gql_variable_def *v = apr_pcalloc(ps->p, sizeof(*v));
    int r;

    v->loc = TOK(ps)->loc;
    if (expect(ps, T_(DOLLAR)) < 0 || parse_name(ps, &v->name, NULL) < 0
        || expect(ps, T_(COLON)) < 0 || parse_type_ref(ps, &v->type) < 0
        || (r = skip(ps, T_(EQUALS))) < 0
        || (r && parse_value(ps, 1, &v->default_value) < 0)
        || parse_directives(ps, 1, &v->directives) < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_variable_defs(parser *ps, apr_array_header_t **out)
{
    apigw_gql_variable_def *v;
    int r;

    *out = list_make(ps);
    if ((r = skip(ps, T_(PAREN_L))) <= 0) {
        return r;
    }
    do {
        if (room(ps, *out, "variable definitions") < 0
            || parse_variable_def(ps, &v) < 0) {
            return -1;
        }
        PUSH(*out, v);
    } while ((r = skip(ps, T_(PAREN_R))) == 0);
    return r < 0 ? -1 : 0;
}

/* query, mutation or subscription at the current name; -1 (and no error
 * set) for another name. */
static int operation_kind(parser *ps, apigw_gql_operation_kind *kind)
{
    if (apigw_gql_tok_is(&ps->lx, "query")) {
        *kind = APIGW_GQL_QUERY;
    }
    else if (apigw_gql_tok_is(&ps->lx, "mutation")) {
        *kind = APIGW_GQL_MUTATION;
    }
    else if (apigw_gql_tok_is(&ps->lx, "subscription")) {
        *kind = APIGW_GQL_SUBSCRIPTION;
    }
    else {
        return -1;
    }
    return 0;
}

static int parse_operation(parser *ps, apigw_gql_definition *def)
{
    apigw_gql_operation *op = apr_pcalloc(ps->p, sizeof(*op));

    def->kind = APIGW_GQL_DEF_OPERATION;
    def->u.operation = op;
    op->loc = TOK(ps)->loc;
    if (peek(ps, T_(BRACE_L))) {
        op->kind = APIGW_GQL_QUERY;
        op->variables = list_make(ps);
        op->directives = list_make(ps);
        return parse_selection_set(ps, &op->selections);
    }
    if (operation_kind(ps, &op->kind) < 0) {
        return fail_unexpected(ps);
    }
    if (advance(ps) < 0
        || (peek(ps, T_(NAME)) && parse_name(ps, &op->name, NULL) < 0)
        || parse_variable_defs(ps, &op->variables) < 0
        || parse_directives(ps, 0, &op->directives) < 0) {
        return -1;
    }
    return parse_selection_set(ps, &op->selections);
}

static int parse_fragment_def(parser *ps, apigw_gql_definition *def)
{
    apigw_gql_fragment *f = apr_pcalloc(ps->p, sizeof(*f));

    def->kind = APIGW_GQL_DEF_FRAGMENT;
    def->u.fragment = f;
    f->loc = TOK(ps)->loc;
    if (advance(ps) < 0) {
        return -1;
    }
    if (apigw_gql_tok_is(&ps->lx, "on")) {
        /* "on" cannot name a fragment: "...on" starts an inline one */
        return fail_unexpected(ps);
    }
    if (parse_name(ps, &f->name, NULL) < 0 || expect_keyword(ps, "on") < 0
        || parse_name(ps, &f->type_condition, NULL) < 0
        || parse_directives(ps, 0, &f->directives) < 0) {
        return -1;
    }
    return parse_selection_set(ps, &f->selections);
}

/* ---- type system definitions ---- */

static int parse_input_value_def(parser *ps, apigw_gql_input_value_def **out)
{
    apigw_gql_input_value_def *v = apr_pcalloc(ps->p, sizeof(*v));
    int r;

    if (parse_description(ps, &v->description) < 0
        || parse_name(ps, &v->name, &v->loc) < 0
        || expect(ps, T_(COLON)) < 0 || parse_type_ref(ps, &v->type) < 0
        || (r = skip(ps, T_(EQUALS))) < 0
        || (r && parse_value(ps, 1, &v->default_value) < 0)
        || parse_directives(ps, 1, &v->directives) < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* open definitions close, at least one, or nothing when the current
 * token is not open: *out stays an empty array. */
typedef int (*item_parser)(parser *ps, void **out);

static int parse_block(parser *ps, tok_kind open, tok_kind close,
                       item_parser item, apr_array_header_t **out)
{
    void *v;
    int r;

    *out = list_make(ps);
    if ((r = skip(ps, open)) <= 0) {
        return r;
    }
    do {
        if (item(ps, &v) < 0) {
            return -1;
        }
        PUSH(*out, v);
    } while ((r = skip(ps, close)) == 0);
    return r < 0 ? -1 : 0;
}

static int input_value_item(parser *ps, void **out)
{
    apigw_gql_input_value_def *v = NULL;
    int rc = parse_input_value_def(ps, &v);

    *out = v;
    return rc;
}

static int field_def_item(parser *ps, void **out)
{
    apigw_gql_field_def *f = apr_pcalloc(ps->p, sizeof(*f));

    *out = f;
    if (parse_description(ps, &f->description) < 0
        || parse_name(ps, &f->name, &f->loc) < 0
        || parse_block(ps, T_(PAREN_L), T_(PAREN_R), input_value_item,
                       &f->arguments) < 0
        || expect(ps, T_(COLON)) < 0 || parse_type_ref(ps, &f->type) < 0) {
        return -1;
    }
    return parse_directives(ps, 1, &f->directives);
}

static int enum_value_item(parser *ps, void **out)
{
    apigw_gql_enum_value_def *e = apr_pcalloc(ps->p, sizeof(*e));

    *out = e;
    if (parse_description(ps, &e->description) < 0) {
        return -1;
    }
    if (apigw_gql_tok_is(&ps->lx, "true") || apigw_gql_tok_is(&ps->lx, "false")
        || apigw_gql_tok_is(&ps->lx, "null")) {
        return apigw_gql_lex_fail(&ps->lx, TOK(ps)->loc, "%s is reserved and "
                                  "cannot be used for an enum value.",
                                  apigw_gql_tok_desc(&ps->lx, TOK(ps)));
    }
    if (parse_name(ps, &e->name, &e->loc) < 0) {
        return -1;
    }
    return parse_directives(ps, 1, &e->directives);
}

/* A list of names after an optional leading delim, separated by delim:
 * implements & A & B, = | A | B. */
static int parse_name_list(parser *ps, tok_kind delim,
                           apr_array_header_t *out)
{
    const char *name = NULL;
    int r;

    if (skip(ps, delim) < 0) {
        return -1;
    }
    do {
        if (parse_name(ps, &name, NULL) < 0) {
            return -1;
        }
        PUSH(out, (void *)name);
    } while ((r = skip(ps, delim)) == 1);
    return r;
}

static const struct {
    const char *keyword;
    apigw_gql_type_def_kind kind;
} TYPE_KEYWORDS[] = {
    { "scalar", APIGW_GQL_DEF_SCALAR },
    { "type", APIGW_GQL_DEF_OBJECT },
    { "interface", APIGW_GQL_DEF_INTERFACE },
    { "union", APIGW_GQL_DEF_UNION },
    { "enum", APIGW_GQL_DEF_ENUM },
    { "input", APIGW_GQL_DEF_INPUT_OBJECT },
};

/* The body after name and interfaces: directives, then what the kind
 * has (fields, members, values, input fields). */
static int parse_type_body(parser *ps, apigw_gql_type_def *t)
{
    int r;

    if (parse_directives(ps, 1, &t->directives) < 0) {
        return -1;
    }
    switch (t->kind) {
    case APIGW_GQL_DEF_OBJECT:
    case APIGW_GQL_DEF_INTERFACE:
        return parse_block(ps, T_(BRACE_L), T_(BRACE_R), field_def_item,
                           &t->fields);
    case APIGW_GQL_DEF_UNION:
        if ((r = skip(ps, T_(EQUALS))) <= 0) {
            return r;
        }
        return parse_name_list(ps, T_(PIPE), t->members);
    case APIGW_GQL_DEF_ENUM:
        return parse_block(ps, T_(BRACE_L), T_(BRACE_R), enum_value_item,
                           &t->values);
    case APIGW_GQL_DEF_INPUT_OBJECT:
        return parse_block(ps, T_(BRACE_L), T_(BRACE_R), input_value_item,
                           &t->input_fields);
    default:
        return 0;
    }
}

static int parse_type_def(parser *ps, apigw_gql_type_def_kind kind,
                          const char *desc, apigw_gql_definition *def)
{
    apigw_gql_type_def *t = apr_pcalloc(ps->p, sizeof(*t));
    int r;

    def->kind = APIGW_GQL_DEF_TYPE;
    def->u.type = t;
    t->kind = kind;
    t->description = desc;
    t->loc = TOK(ps)->loc;
    /* every array present, empty where the kind has none */
    t->interfaces = list_make(ps);
    t->fields = list_make(ps);
    t->input_fields = list_make(ps);
    t->values = list_make(ps);
    t->members = list_make(ps);
    if (advance(ps) < 0 || parse_name(ps, &t->name, NULL) < 0) {
        return -1;
    }
    if (kind == APIGW_GQL_DEF_OBJECT || kind == APIGW_GQL_DEF_INTERFACE) {
        if ((r = skip_keyword(ps, "implements")) < 0
            || (r && parse_name_list(ps, T_(AMP), t->interfaces) < 0)) {
            return -1;
        }
    }
    return parse_type_body(ps, t);
}

/* schema { query: Q ... }: each operation type once. */
static int parse_schema_def(parser *ps, const char *desc,
                            apigw_gql_definition *def)
{
    apigw_gql_schema_def *s = apr_pcalloc(ps->p, sizeof(*s));
    apigw_gql_operation_kind kind;
    const char **slot, *kw;
    apigw_gql_loc loc;
    int r;

    def->kind = APIGW_GQL_DEF_SCHEMA;
    def->u.schema = s;
    s->description = desc;
    s->loc = TOK(ps)->loc;
    if (advance(ps) < 0 || parse_directives(ps, 1, &s->directives) < 0
        || expect(ps, T_(BRACE_L)) < 0) {
        return -1;
    }
    do {
        if (!peek(ps, T_(NAME))) {
            return expect(ps, T_(NAME));
        }
        if (operation_kind(ps, &kind) < 0) {
            return fail_unexpected(ps);
        }
        loc = TOK(ps)->loc;
        kw = kind == APIGW_GQL_QUERY ? "query"
             : kind == APIGW_GQL_MUTATION ? "mutation" : "subscription";
        slot = kind == APIGW_GQL_QUERY ? &s->query
               : kind == APIGW_GQL_MUTATION ? &s->mutation : &s->subscription;
        if (*slot) {
            /* the AST keeps one of each: a second is refused here */
            return apigw_gql_lex_fail(&ps->lx, loc, "There can be only one "
                                      "%s type in schema.", kw);
        }
        if (advance(ps) < 0 || expect(ps, T_(COLON)) < 0
            || parse_name(ps, slot, NULL) < 0) {
            return -1;
        }
    } while ((r = skip(ps, T_(BRACE_R))) == 0);
    return r < 0 ? -1 : 0;
}

static const char *const DIRECTIVE_LOCATIONS[] = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION",
    "FRAGMENT_SPREAD", "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA",
    "SCALAR", "OBJECT", "FIELD_DEFINITION", "ARGUMENT_DEFINITION",
    "INTERFACE", "UNION", "ENUM", "ENUM_VALUE", "INPUT_OBJECT",
    "INPUT_FIELD_DEFINITION"
};

static int parse_directive_location(parser *ps, apr_array_header_t *out)
{
    apr_size_t i;

    if (!peek(ps, T_(NAME))) {
        return expect(ps, T_(NAME));
    }
    for (i = 0; i < sizeof(DIRECTIVE_LOCATIONS) / sizeof(*DIRECTIVE_LOCATIONS);
         i++) {
        if (apigw_gql_tok_is(&ps->lx, DIRECTIVE_LOCATIONS[i])) {
            PUSH(out, (void *)DIRECTIVE_LOCATIONS[i]);
            return advance(ps);
        }
    }
    return fail_unexpected(ps);
}

/* directive @name(args) repeatable on A | B */
static int parse_directive_def(parser *ps, const char *desc,
                               apigw_gql_definition *def)
{
    apigw_gql_directive_def *d = apr_pcalloc(ps->p, sizeof(*d));
    int r;

    def->kind = APIGW_GQL_DEF_DIRECTIVE;
    def->u.directive = d;
    d->description = desc;
    d->loc = TOK(ps)->loc;
    d->locations = list_make(ps);
    if (advance(ps) < 0 || expect(ps, T_(AT)) < 0
        || parse_name(ps, &d->name, NULL) < 0
        || parse_block(ps, T_(PAREN_L), T_(PAREN_R), input_value_item,
                       &d->arguments) < 0
        || (r = skip_keyword(ps, "repeatable")) < 0
        || expect_keyword(ps, "on") < 0 || skip(ps, T_(PIPE)) < 0) {
        return -1;
    }
    d->repeatable = r;
    do {
        if (parse_directive_location(ps, d->locations) < 0) {
            return -1;
        }
    } while ((r = skip(ps, T_(PIPE))) == 1);
    return r;
}

/* A type system definition at the current keyword; 1 when the keyword
 * names none (nothing consumed). */
static int parse_type_system(parser *ps, const char *desc,
                             apigw_gql_definition *def)
{
    apr_size_t i;

    for (i = 0; i < sizeof(TYPE_KEYWORDS) / sizeof(*TYPE_KEYWORDS); i++) {
        if (apigw_gql_tok_is(&ps->lx, TYPE_KEYWORDS[i].keyword)) {
            return parse_type_def(ps, TYPE_KEYWORDS[i].kind, desc, def);
        }
    }
    if (apigw_gql_tok_is(&ps->lx, "schema")) {
        return parse_schema_def(ps, desc, def);
    }
    if (apigw_gql_tok_is(&ps->lx, "directive")) {
        return parse_directive_def(ps, desc, def);
    }
    return 1;
}

/* ---- the document ---- */

static int parse_definition(parser *ps, apigw_gql_definition **out)
{
    apigw_gql_definition *def = apr_pcalloc(ps->p, sizeof(*def));
    apigw_gql_loc desc_loc = TOK(ps)->loc;
    const char *desc;
    int r;

    *out = def;
    if (peek(ps, T_(BRACE_L))) {
        def->loc = TOK(ps)->loc;
        return parse_operation(ps, def);
    }
    if (parse_description(ps, &desc) < 0) {
        return -1;
    }
    def->loc = TOK(ps)->loc;
    if (!peek(ps, T_(NAME))) {
        return fail_unexpected(ps);
    }
    if ((r = parse_type_system(ps, desc, def)) <= 0) {
        return r;
    }
    if (desc) {
        return apigw_gql_lex_fail(&ps->lx, desc_loc, "Unexpected description, "
                                  "descriptions are supported only on type "
                                  "definitions.");
    }
    if (apigw_gql_tok_is(&ps->lx, "query")
        || apigw_gql_tok_is(&ps->lx, "mutation")
        || apigw_gql_tok_is(&ps->lx, "subscription")) {
        return parse_operation(ps, def);
    }
    if (apigw_gql_tok_is(&ps->lx, "fragment")) {
        return parse_fragment_def(ps, def);
    }
    if (apigw_gql_tok_is(&ps->lx, "extend")) {
        return apigw_gql_lex_fail(&ps->lx, def->loc, "type system extensions "
                                  "are not supported.");
    }
    return fail_unexpected(ps);
}

const apigw_gql_syntax_error *apigw_gql_parse(apr_pool_t *p, const char *src,
                                              apr_size_t len,
                                              unsigned max_depth,
                                              apigw_gql_document **out)
{
    parser ps;
    apigw_gql_definition *def;

    memset(&ps, 0, sizeof(ps));
    ps.p = p;
    ps.max_depth = max_depth;
    ps.doc = apr_pcalloc(p, sizeof(*ps.doc));
    ps.doc->definitions = apr_array_make(p, 4, sizeof(void *));
    apigw_gql_lex_init(&ps.lx, p, src, len);
    if (advance(&ps) < 0) {
        return ps.lx.err;
    }
    do {
        if (parse_definition(&ps, &def) < 0) {
            return ps.lx.err;
        }
        PUSH(ps.doc->definitions, def);
    } while (!peek(&ps, T_(EOF)));
    *out = ps.doc;
    return NULL;
}
