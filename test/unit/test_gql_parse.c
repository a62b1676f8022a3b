/* sources: mod_apigw/apigw_gql_parse.c mod_apigw/apigw_gql_lex.c */
/* Unit tests for the GraphQL parser (mod_apigw/apigw_gql_parse.c and its
 * lexer, apigw_gql_lex.c): every token kind, every definition kind and
 * what the AST holds for it, locations (lines after \n, \r\n and \r,
 * columns in code points), string escapes and block string dedent, each
 * error's message and location, the depth bound, the counts, and the
 * time a megabyte takes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>
#include <apr_time.h>

#include "apigw_gql_parse.h"

#define DEPTH 32

/* ---- helpers ---- */

/* How much of a source a failure message quotes (sources need not be
 * NUL-terminated, and some are a megabyte). */
static int shown(apr_size_t len)
{
    return len < 200 ? (int)len : 200;
}

static apigw_gql_document *parse_n(const char *src, apr_size_t len,
                                   unsigned depth)
{
    apigw_gql_document *doc = NULL;
    const apigw_gql_syntax_error *e = apigw_gql_parse(pool, src, len, depth,
                                                      &doc);

    if (e) {
        fail_msg("\"%.*s\": unexpected error %u:%u %s", shown(len), src,
                 e->loc.line, e->loc.column, e->message);
    }
    assert_non_null(doc);
    assert_non_null(doc->definitions);
    return doc;
}

static apigw_gql_document *parse(const char *src)
{
    return parse_n(src, strlen(src), DEPTH);
}

static void err_n(const char *src, apr_size_t len, unsigned depth,
                  const char *msg, unsigned line, unsigned column)
{
    apigw_gql_document *doc = NULL;
    const apigw_gql_syntax_error *e = apigw_gql_parse(pool, src, len, depth,
                                                      &doc);

    if (!e) {
        fail_msg("\"%.*s\": accepted, want \"%s\"", shown(len), src, msg);
    }
    if (strcmp(e->message, msg) != 0 || e->loc.line != line
        || e->loc.column != column) {
        fail_msg("\"%.*s\":\n  got  %u:%u %s\n  want %u:%u %s", shown(len),
                 src, e->loc.line, e->loc.column, e->message, line, column,
                 msg);
    }
    assert_null(doc);
}

static void err(const char *src, const char *msg, unsigned line,
                unsigned column)
{
    err_n(src, strlen(src), DEPTH, msg, line, column);
}

#define SE "Syntax Error: "
#define NTH(arr, i, type) (((type **)(arr)->elts)[i])

static apigw_gql_definition *def(apigw_gql_document *doc, int i)
{
    assert_true(i < doc->definitions->nelts);
    return NTH(doc->definitions, i, apigw_gql_definition);
}

static apigw_gql_operation *op(apigw_gql_document *doc, int i)
{
    assert_int_equal(def(doc, i)->kind, APIGW_GQL_DEF_OPERATION);
    return def(doc, i)->u.operation;
}

static apigw_gql_selection *sel(apr_array_header_t *arr, int i)
{
    assert_non_null(arr);
    assert_true(i < arr->nelts);
    return NTH(arr, i, apigw_gql_selection);
}

static apigw_gql_argument *arg(apr_array_header_t *arr, int i)
{
    assert_non_null(arr);
    assert_true(i < arr->nelts);
    return NTH(arr, i, apigw_gql_argument);
}

static apigw_gql_value *item(apigw_gql_value *v, int i)
{
    assert_non_null(v->items);
    assert_true(i < v->items->nelts);
    return NTH(v->items, i, apigw_gql_value);
}

/* The value of the first argument of the first field of "{ f(a: V) }". */
static apigw_gql_value *value_of(const char *src)
{
    apigw_gql_document *doc = parse(src);

    return arg(sel(op(doc, 0)->selections, 0)->arguments, 0)->value;
}

static const char *string_of(const char *src)
{
    apigw_gql_value *v = value_of(src);

    assert_int_equal(v->kind, APIGW_GQL_STRING);
    return v->text;
}

static void loc_is(apigw_gql_loc loc, unsigned line, unsigned column)
{
    if (loc.line != line || loc.column != column) {
        fail_msg("location %u:%u, want %u:%u", loc.line, loc.column, line,
                 column);
    }
}

/* ---- tokens ---- */

static void test_punctuators_and_names(void **state)
{
    apigw_gql_document *doc;
    apigw_gql_operation *o;
    apigw_gql_selection *s;
    apigw_gql_variable_def *v;

    (void)state;
    /* ! $ ( ) : = @ [ ] { } ... and names with _ and digits */
    doc = parse("query _Q1($v_2: [Int!] = [1]) @d { _a: b_9(x: $v_2) "
                "...F ... on T { c } }");
    o = op(doc, 0);
    assert_int_equal(o->kind, APIGW_GQL_QUERY);
    assert_string_equal(o->name, "_Q1");
    v = NTH(o->variables, 0, apigw_gql_variable_def);
    assert_string_equal(v->name, "v_2");
    assert_int_equal(v->type->kind, APIGW_GQL_TYPE_LIST);
    assert_int_equal(v->type->of->kind, APIGW_GQL_TYPE_NON_NULL);
    assert_int_equal(v->type->of->of->kind, APIGW_GQL_TYPE_NAMED);
    assert_string_equal(v->type->of->of->name, "Int");
    assert_int_equal(v->default_value->kind, APIGW_GQL_LIST);
    assert_int_equal(o->directives->nelts, 1);
    s = sel(o->selections, 0);
    assert_string_equal(s->alias, "_a");
    assert_string_equal(s->name, "b_9");
    assert_int_equal(arg(s->arguments, 0)->value->kind, APIGW_GQL_VARIABLE);
    assert_string_equal(arg(s->arguments, 0)->value->text, "v_2");
    assert_int_equal(sel(o->selections, 1)->kind, APIGW_GQL_FRAGMENT_SPREAD);
    assert_int_equal(sel(o->selections, 2)->kind, APIGW_GQL_INLINE_FRAGMENT);
    /* & and | in the type system */
    doc = parse("type A implements & B & C { a: Int } union U = | A | B");
    assert_int_equal(def(doc, 0)->u.type->interfaces->nelts, 2);
    assert_int_equal(def(doc, 1)->u.type->members->nelts, 2);
}

static void test_ignored_tokens(void **state)
{
    apigw_gql_document *doc;

    (void)state;
    /* BOM, tabs, commas, comments, all three line terminators */
    doc = parse("\xEF\xBB\xBF# comment\r\n{\ta,,,b # c\r\n,c\rd\n}");
    assert_int_equal(op(doc, 0)->selections->nelts, 4);
    loc_is(sel(op(doc, 0)->selections, 0)->loc, 2, 3);
    loc_is(sel(op(doc, 0)->selections, 2)->loc, 3, 2);
    loc_is(sel(op(doc, 0)->selections, 3)->loc, 4, 1);
    /* a comment runs to the end of the line, whatever it holds but a
     * control character (graphql-js's and graphql-core's rule) */
    doc = parse("{ a } # } { \xC3\xA9 \t \"\n");
    assert_int_equal(doc->definitions->nelts, 1);
    err("{ a } # \x01\n", SE "Unexpected character: U+0001.", 1, 9);
}

static void test_numbers(void **state)
{
    static const struct {
        const char *src;
        apigw_gql_value_kind kind;
        const char *text;
    } cases[] = {
        { "{ f(a: 0) }", APIGW_GQL_INT, "0" },
        { "{ f(a: -0) }", APIGW_GQL_INT, "-0" },
        { "{ f(a: 123) }", APIGW_GQL_INT, "123" },
        { "{ f(a: -12) }", APIGW_GQL_INT, "-12" },
        { "{ f(a: 1.5) }", APIGW_GQL_FLOAT, "1.5" },
        { "{ f(a: -0.25) }", APIGW_GQL_FLOAT, "-0.25" },
        { "{ f(a: 1e10) }", APIGW_GQL_FLOAT, "1e10" },
        { "{ f(a: 1.5E-3) }", APIGW_GQL_FLOAT, "1.5E-3" },
        { "{ f(a: 2e+3) }", APIGW_GQL_FLOAT, "2e+3" },
        { "{ f(a: 0.0e0) }", APIGW_GQL_FLOAT, "0.0e0" },
        { "{ f(a: 123,) }", APIGW_GQL_INT, "123" },
    };
    size_t i;
    apigw_gql_value *v;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        v = value_of(cases[i].src);
        assert_int_equal(v->kind, cases[i].kind);
        assert_string_equal(v->text, cases[i].text);
    }
}

static void test_other_values(void **state)
{
    apigw_gql_value *v;

    (void)state;
    v = value_of("{ f(a: [true, false, null, RED, \"s\", $v, [], {}, "
                 "{x: 1, y: [2]}]) }");
    assert_int_equal(v->kind, APIGW_GQL_LIST);
    assert_null(v->fields);
    assert_int_equal(v->items->nelts, 9);
    assert_int_equal(item(v, 0)->kind, APIGW_GQL_BOOLEAN);
    assert_int_equal(item(v, 0)->boolean, 1);
    assert_int_equal(item(v, 1)->kind, APIGW_GQL_BOOLEAN);
    assert_int_equal(item(v, 1)->boolean, 0);
    assert_int_equal(item(v, 2)->kind, APIGW_GQL_NULL);
    assert_int_equal(item(v, 3)->kind, APIGW_GQL_ENUM);
    assert_string_equal(item(v, 3)->text, "RED");
    assert_int_equal(item(v, 4)->kind, APIGW_GQL_STRING);
    assert_int_equal(item(v, 5)->kind, APIGW_GQL_VARIABLE);
    assert_string_equal(item(v, 5)->text, "v");
    assert_int_equal(item(v, 6)->items->nelts, 0);
    assert_int_equal(item(v, 7)->kind, APIGW_GQL_OBJECT);
    assert_null(item(v, 7)->items);
    assert_int_equal(item(v, 7)->fields->nelts, 0);
    assert_string_equal(arg(item(v, 8)->fields, 1)->name, "y");
    assert_int_equal(arg(item(v, 8)->fields, 1)->value->kind,
                     APIGW_GQL_LIST);
    loc_is(arg(item(v, 8)->fields, 1)->loc, 1, 57);
}

static void test_string_escapes(void **state)
{
    (void)state;
    assert_string_equal(string_of("{ f(a: \"\") }"), "");
    assert_string_equal(string_of("{ f(a: \"plain text\") }"), "plain text");
    assert_string_equal(string_of("{ f(a: \"\\\" \\\\ \\/ \\b \\f \\n \\r "
                                  "\\t\") }"), "\" \\ / \b \f \n \r \t");
    assert_string_equal(string_of("{ f(a: \"\\u0041\\u00e9\\u20AC\") }"),
                        "A\xC3\xA9\xE2\x82\xAC");
    /* a surrogate pair is one code point */
    assert_string_equal(string_of("{ f(a: \"\\uD83D\\uDE00\") }"),
                        "\xF0\x9F\x98\x80");
    /* UTF-8 and tabs pass through */
    assert_string_equal(string_of("{ f(a: \"h\xC3\xA9 \xE6\x97\xA5 \t\") }"),
                        "h\xC3\xA9 \xE6\x97\xA5 \t");
}

static void test_block_strings(void **state)
{
    (void)state;
    assert_string_equal(string_of("{ f(a: \"\"\"\"\"\") }"), "");
    assert_string_equal(string_of("{ f(a: \"\"\"  raw \\n \"\"\") }"),
                        "  raw \\n ");
    /* the specification's example: common indentation and blank leading
     * and trailing lines go, the first line keeps its own */
    assert_string_equal(string_of("{ f(a: \"\"\"\n"
                                  "    Hello,\n"
                                  "      World!\n"
                                  "\n"
                                  "    Yours,\n"
                                  "      GraphQL.\n"
                                  "  \"\"\") }"),
                        "Hello,\n  World!\n\nYours,\n  GraphQL.");
    assert_string_equal(string_of("{ f(a: \"\"\"first\n  second\n    third"
                                  "\"\"\") }"), "first\nsecond\n  third");
    /* whitespace-only lines do not count for the indentation; tabs do */
    assert_string_equal(string_of("{ f(a: \"\"\"\n\t\ta\n \n\t\tb\n\"\"\") }"),
                        "a\n\nb");
    /* \r\n and \r end lines too, and come out as \n */
    assert_string_equal(string_of("{ f(a: \"\"\"\r\n  a\r  b\r\n\"\"\") }"),
                        "a\nb");
    /* \""" is an escaped delimiter; other escapes are text */
    assert_string_equal(string_of("{ f(a: \"\"\"say \\\"\"\" and \\\" "
                                  "\"\"\") }"), "say \"\"\" and \\\" ");
    assert_string_equal(string_of("{ f(a: \"\"\"  \n   \n\"\"\") }"), "");
    assert_string_equal(string_of("{ f(a: \"\"\"a \"\" b\"\"\") }"),
                        "a \"\" b");
}

/* ---- definitions ---- */

static void test_operations(void **state)
{
    apigw_gql_document *doc;

    (void)state;
    doc = parse("{ a } query { b } query Q { c } mutation M { d } "
                "subscription S { e }");
    assert_int_equal(doc->definitions->nelts, 5);
    assert_int_equal(op(doc, 0)->kind, APIGW_GQL_QUERY);
    assert_null(op(doc, 0)->name);
    assert_int_equal(op(doc, 0)->variables->nelts, 0);
    assert_int_equal(op(doc, 0)->directives->nelts, 0);
    assert_null(op(doc, 1)->name);
    assert_string_equal(op(doc, 2)->name, "Q");
    assert_int_equal(op(doc, 3)->kind, APIGW_GQL_MUTATION);
    assert_string_equal(op(doc, 3)->name, "M");
    assert_int_equal(op(doc, 4)->kind, APIGW_GQL_SUBSCRIPTION);
    loc_is(op(doc, 4)->loc, 1, 50);
    loc_is(def(doc, 4)->loc, 1, 50);
}

static void test_variables(void **state)
{
    apigw_gql_document *doc;
    apigw_gql_variable_def *v;

    (void)state;
    doc = parse("query Q($a: Int, $b: [String!]! = [\"x\"] @c(d: 1), "
                "$e: In = {f: [1, {g: E}]}) { h }");
    assert_int_equal(op(doc, 0)->variables->nelts, 3);
    v = NTH(op(doc, 0)->variables, 0, apigw_gql_variable_def);
    assert_null(v->default_value);
    assert_int_equal(v->directives->nelts, 0);
    loc_is(v->loc, 1, 9);
    v = NTH(op(doc, 0)->variables, 1, apigw_gql_variable_def);
    assert_string_equal(v->name, "b");
    assert_int_equal(v->type->kind, APIGW_GQL_TYPE_NON_NULL);
    assert_int_equal(v->type->of->kind, APIGW_GQL_TYPE_LIST);
    loc_is(v->type->loc, 1, 22);
    loc_is(v->type->of->of->loc, 1, 23);
    assert_int_equal(v->directives->nelts, 1);
    assert_string_equal(NTH(v->directives, 0, apigw_gql_directive)->name,
                        "c");
    v = NTH(op(doc, 0)->variables, 2, apigw_gql_variable_def);
    assert_int_equal(v->default_value->kind, APIGW_GQL_OBJECT);
}

static void test_selections(void **state)
{
    apigw_gql_document *doc;
    apigw_gql_selection *s;

    (void)state;
    doc = parse("{ a b: c(x: 1) @skip(if: true) { d } ...F @i "
                "... on T @j { e } ... @k { f } ... { g } }");
    s = sel(op(doc, 0)->selections, 0);
    assert_int_equal(s->kind, APIGW_GQL_FIELD);
    assert_null(s->alias);
    assert_string_equal(s->name, "a");
    assert_int_equal(s->arguments->nelts, 0);
    assert_int_equal(s->directives->nelts, 0);
    assert_null(s->selections);
    s = sel(op(doc, 0)->selections, 1);
    assert_string_equal(s->alias, "b");
    assert_string_equal(s->name, "c");
    assert_int_equal(s->arguments->nelts, 1);
    assert_string_equal(NTH(s->directives, 0, apigw_gql_directive)->name,
                        "skip");
    loc_is(NTH(s->directives, 0, apigw_gql_directive)->loc, 1, 16);
    assert_int_equal(s->selections->nelts, 1);
    s = sel(op(doc, 0)->selections, 2);
    assert_int_equal(s->kind, APIGW_GQL_FRAGMENT_SPREAD);
    assert_string_equal(s->name, "F");
    assert_int_equal(s->directives->nelts, 1);
    assert_null(s->selections);
    loc_is(s->loc, 1, 38);
    s = sel(op(doc, 0)->selections, 3);
    assert_int_equal(s->kind, APIGW_GQL_INLINE_FRAGMENT);
    assert_null(s->name);
    assert_string_equal(s->type_condition, "T");
    assert_int_equal(s->directives->nelts, 1);
    assert_int_equal(s->selections->nelts, 1);
    s = sel(op(doc, 0)->selections, 4);
    assert_null(s->type_condition);
    assert_int_equal(s->directives->nelts, 1);
    s = sel(op(doc, 0)->selections, 5);
    assert_int_equal(s->kind, APIGW_GQL_INLINE_FRAGMENT);
    assert_null(s->type_condition);
    assert_int_equal(s->directives->nelts, 0);
    /* "...on" then "}" is a spread of nothing: "on" is the keyword */
    err("{ ...on }", SE "Expected Name, found \"}\".", 1, 9);
    /* keywords are names elsewhere */
    doc = parse("{ query: fragment(on: on) ...onX }");
    s = sel(op(doc, 0)->selections, 0);
    assert_string_equal(s->alias, "query");
    assert_string_equal(arg(s->arguments, 0)->value->text, "on");
    assert_string_equal(sel(op(doc, 0)->selections, 1)->name, "onX");
}

static void test_fragments(void **state)
{
    apigw_gql_document *doc;
    apigw_gql_fragment *f;

    (void)state;
    doc = parse("fragment F on T @d { a }\nfragment G on U { ...F }");
    assert_int_equal(def(doc, 0)->kind, APIGW_GQL_DEF_FRAGMENT);
    f = def(doc, 0)->u.fragment;
    assert_string_equal(f->name, "F");
    assert_string_equal(f->type_condition, "T");
    assert_int_equal(f->directives->nelts, 1);
    assert_int_equal(f->selections->nelts, 1);
    loc_is(f->loc, 1, 1);
    loc_is(def(doc, 1)->u.fragment->loc, 2, 1);
}

static void test_type_definitions(void **state)
{
    apigw_gql_document *doc;
    apigw_gql_type_def *t;
    apigw_gql_field_def *f;
    apigw_gql_input_value_def *a;
    apigw_gql_enum_value_def *e;

    (void)state;
    doc = parse("\"A scalar\" scalar Long @specifiedBy(url: \"x\")\n"
                "\"\"\"\n  An object\n\"\"\"\n"
                "type Route implements Node & Named @key {\n"
                "  \"the id\" id: ID!\n"
                "  routes(\"which\" env: String = \"default\" @d, "
                "first: Int): [Route!]! @deprecated(reason: \"no\")\n"
                "}\n"
                "interface Named implements Node { name: String }\n"
                "interface Node { id: ID! }\n"
                "union Thing @u = Route | Node\n"
                "enum Color { \"red\" RED @x GREEN }\n"
                "input In { \"a\" a: Int = 1 @d, b: [In!] }\n"
                "type Empty\n");
    assert_int_equal(doc->definitions->nelts, 8);
    t = def(doc, 0)->u.type;
    assert_int_equal(def(doc, 0)->kind, APIGW_GQL_DEF_TYPE);
    assert_int_equal(t->kind, APIGW_GQL_DEF_SCALAR);
    assert_string_equal(t->description, "A scalar");
    assert_string_equal(t->name, "Long");
    assert_int_equal(t->directives->nelts, 1);
    loc_is(t->loc, 1, 12);
    t = def(doc, 1)->u.type;
    assert_int_equal(t->kind, APIGW_GQL_DEF_OBJECT);
    assert_string_equal(t->description, "An object");
    loc_is(t->loc, 5, 1);
    loc_is(def(doc, 1)->loc, 5, 1);
    assert_int_equal(t->interfaces->nelts, 2);
    assert_string_equal(NTH(t->interfaces, 1, const char), "Named");
    assert_int_equal(t->directives->nelts, 1);
    assert_int_equal(t->fields->nelts, 2);
    f = NTH(t->fields, 0, apigw_gql_field_def);
    assert_string_equal(f->description, "the id");
    assert_string_equal(f->name, "id");
    assert_int_equal(f->arguments->nelts, 0);
    loc_is(f->loc, 6, 12);
    f = NTH(t->fields, 1, apigw_gql_field_def);
    assert_null(f->description);
    assert_int_equal(f->arguments->nelts, 2);
    a = NTH(f->arguments, 0, apigw_gql_input_value_def);
    assert_string_equal(a->description, "which");
    assert_string_equal(a->name, "env");
    assert_string_equal(a->default_value->text, "default");
    assert_int_equal(a->directives->nelts, 1);
    assert_int_equal(f->type->kind, APIGW_GQL_TYPE_NON_NULL);
    assert_int_equal(f->directives->nelts, 1);
    t = def(doc, 2)->u.type;
    assert_int_equal(t->kind, APIGW_GQL_DEF_INTERFACE);
    assert_int_equal(t->interfaces->nelts, 1);
    t = def(doc, 4)->u.type;
    assert_int_equal(t->kind, APIGW_GQL_DEF_UNION);
    assert_int_equal(t->members->nelts, 2);
    assert_string_equal(NTH(t->members, 0, const char), "Route");
    assert_int_equal(t->directives->nelts, 1);
    t = def(doc, 5)->u.type;
    assert_int_equal(t->kind, APIGW_GQL_DEF_ENUM);
    assert_int_equal(t->values->nelts, 2);
    e = NTH(t->values, 0, apigw_gql_enum_value_def);
    assert_string_equal(e->description, "red");
    assert_string_equal(e->name, "RED");
    assert_int_equal(e->directives->nelts, 1);
    t = def(doc, 6)->u.type;
    assert_int_equal(t->kind, APIGW_GQL_DEF_INPUT_OBJECT);
    assert_int_equal(t->input_fields->nelts, 2);
    assert_int_equal(NTH(t->input_fields, 0,
                         apigw_gql_input_value_def)->default_value->kind,
                     APIGW_GQL_INT);
    assert_int_equal(t->fields->nelts, 0);
    t = def(doc, 7)->u.type;
    assert_int_equal(t->fields->nelts, 0);
    assert_int_equal(t->interfaces->nelts, 0);
    assert_int_equal(doc->fields, 0);
}

static void test_schema_and_directive_definitions(void **state)
{
    apigw_gql_document *doc;
    apigw_gql_schema_def *s;
    apigw_gql_directive_def *d;

    (void)state;
    doc = parse("\"The API\" schema @s { query: Q mutation: M "
                "subscription: S }\n"
                "\"Marks\" directive @mark(why: String = \"x\") repeatable "
                "on FIELD | QUERY\n"
                "directive @other on | SCHEMA | INPUT_FIELD_DEFINITION\n"
                "schema { query: Q }");
    assert_int_equal(def(doc, 0)->kind, APIGW_GQL_DEF_SCHEMA);
    s = def(doc, 0)->u.schema;
    assert_string_equal(s->description, "The API");
    assert_int_equal(s->directives->nelts, 1);
    assert_string_equal(s->query, "Q");
    assert_string_equal(s->mutation, "M");
    assert_string_equal(s->subscription, "S");
    loc_is(s->loc, 1, 11);
    assert_int_equal(def(doc, 1)->kind, APIGW_GQL_DEF_DIRECTIVE);
    d = def(doc, 1)->u.directive;
    assert_string_equal(d->description, "Marks");
    assert_string_equal(d->name, "mark");
    assert_int_equal(d->arguments->nelts, 1);
    assert_int_equal(d->repeatable, 1);
    assert_int_equal(d->locations->nelts, 2);
    assert_string_equal(NTH(d->locations, 1, const char), "QUERY");
    loc_is(d->loc, 2, 9);
    d = def(doc, 2)->u.directive;
    assert_int_equal(d->repeatable, 0);
    assert_int_equal(d->arguments->nelts, 0);
    assert_int_equal(d->locations->nelts, 2);
    s = def(doc, 3)->u.schema;
    assert_null(s->description);
    assert_null(s->mutation);
    assert_int_equal(s->directives->nelts, 0);
}

/* ---- locations ---- */

static void test_locations(void **state)
{
    apigw_gql_document *doc;
    apigw_gql_selection *s;

    (void)state;
    /* columns count code points: "é" is two bytes, "😀" four, the BOM
     * three, each one column */
    doc = parse("\xEF\xBB\xBF{ a(x: \"\xC3\xA9\xF0\x9F\x98\x80\") b }");
    s = sel(op(doc, 0)->selections, 1);
    loc_is(s->loc, 1, 15);
    loc_is(op(doc, 0)->loc, 1, 2);
    /* block strings span lines */
    doc = parse("{ a(x: \"\"\"\r\n\r\n\n\"\"\") b\r\n  c }");
    loc_is(sel(op(doc, 0)->selections, 1)->loc, 4, 6);
    loc_is(sel(op(doc, 0)->selections, 2)->loc, 5, 3);
    err("{ a(x: \"\"\"\n\xC3\xA9\xC3\xA9\"\"\") b \n", SE "Expected Name, "
        "found <EOF>.", 3, 1);
    /* value locations */
    doc = parse("{\n  a(x: [1,\n    $v])\n}");
    s = sel(op(doc, 0)->selections, 0);
    loc_is(arg(s->arguments, 0)->loc, 2, 5);
    loc_is(arg(s->arguments, 0)->value->loc, 2, 8);
    loc_is(item(arg(s->arguments, 0)->value, 1)->loc, 3, 5);
}

/* ---- errors ---- */

static void test_lexical_errors(void **state)
{
    (void)state;
    err("{ a(x: \"abc) }", SE "Unterminated string.", 1, 15);
    err("{ a(x: \"abc\n\") }", SE "Unterminated string.", 1, 12);
    err("{ a(x: \"abc\r\") }", SE "Unterminated string.", 1, 12);
    err("{ a(x: \"\"\"abc) }", SE "Unterminated string.", 1, 17);
    err("{ a(x: \"\"\"a\nb\\\"\"\") }", SE "Unterminated string.", 2, 9);
    err("{ a(x: \"\\q\") }", SE "Invalid character escape sequence: "
        "\"\\q\".", 1, 9);
    err("{ a(x: \"\\", SE "Invalid character escape sequence: \"\\\".", 1, 9);
    err("{ a(x: \"\\\xC3\xA9\") }", SE "Invalid character escape sequence: "
        "\"\\\xC3\xA9\".", 1, 9);
    err("{ a(x: \"\\u12\") }", SE "Invalid Unicode escape sequence: "
        "\"\\u12\")\".", 1, 9);
    err("{ a(x: \"\\uXYZW\") }", SE "Invalid Unicode escape sequence: "
        "\"\\uXYZW\".", 1, 9);
    err("{ a(x: \"\\uD83D\") }", SE "Invalid Unicode escape sequence: "
        "\"\\uD83D\".", 1, 9);
    err("{ a(x: \"\\uDE00\\uD83D\") }", SE "Invalid Unicode escape "
        "sequence: \"\\uDE00\".", 1, 9);
    err("{ a(x: \"\\uD83D\\u0041\") }", SE "Invalid Unicode escape "
        "sequence: \"\\uD83D\".", 1, 9);
    err("{ a(x: \"\\u0000\") }", SE "Invalid Unicode escape sequence: "
        "\"\\u0000\".", 1, 9);
    /* the braced form is refused, as graphql-core refuses it */
    err("{ a(x: \"\\u{41}\") }", SE "Invalid Unicode escape sequence: "
        "\"\\u{41}\".", 1, 9);
    /* a control character in a message is written \xNN */
    err("{ a(x: \"\\u1\n", SE "Invalid Unicode escape sequence: "
        "\"\\u1\\x0A\".", 1, 9);
    err("{ a(x: 1.) }", SE "Invalid number, expected digit but got: \")\".",
        1, 10);
    err("{ a(x: 01) }", SE "Invalid number, unexpected digit after 0: "
        "\"1\".", 1, 9);
    err("{ a(x: 1e) }", SE "Invalid number, expected digit but got: \")\".",
        1, 10);
    err("{ a(x: 1e+", SE "Invalid number, expected digit but got: <EOF>.",
        1, 11);
    err("{ a(x: 0x1) }", SE "Invalid number, expected digit but got: \"x\".",
        1, 9);
    err("{ a(x: 123abc) }", SE "Invalid number, expected digit but got: "
        "\"a\".", 1, 11);
    err("{ a(x: 1.5.) }", SE "Invalid number, expected digit but got: "
        "\".\".", 1, 11);
    err("{ a(x: 1_) }", SE "Invalid number, expected digit but got: \"_\".",
        1, 9);
    err("{ a(x: -x) }", SE "Invalid number, expected digit but got: \"x\".",
        1, 9);
    err("{ a(x: 1.e1) }", SE "Invalid number, expected digit but got: "
        "\"e\".", 1, 10);
    /* a quote may follow a number directly */
    err("{ a(x: 1\"s\") }", SE "Expected Name, found String \"s\".", 1, 9);
    err("{ a(x: \"s\"1) }", SE "Expected Name, found Int \"1\".", 1, 11);
    err("{ a(x: .5) }", SE "Unexpected character: \".\".", 1, 8);
    err("{ a(x: ..) }", SE "Unexpected character: \".\".", 1, 8);
    err("{ a(x: +1) }", SE "Unexpected character: \"+\".", 1, 8);
    err("{ a(x: 'x') }", SE "Unexpected single quote character ('), did you "
        "mean to use a double quote (\")?", 1, 8);
    err("{ a \x07 }", SE "Unexpected character: U+0007.", 1, 5);
    err("{ a \xC3\xA9 }", SE "Unexpected character: U+00E9.", 1, 5);
    err("{ a \xE2\x80\xA8 }", SE "Unexpected character: U+2028.", 1, 5);
}

static void test_bytes_errors(void **state)
{
    (void)state;
    /* NUL anywhere */
    err_n("{ a }\0", 6, DEPTH, SE "Unexpected character: U+0000.", 1, 6);
    err_n("{ a } # \0\n", 10, DEPTH, SE "Unexpected character: U+0000.",
          1, 9);
    err_n("{ a(x: \"\0\") }", 13, DEPTH, SE "Invalid character within "
          "String: U+0000.", 1, 9);
    err_n("{ a(x: \"\"\"\0\"\"\") }", 17, DEPTH, SE "Invalid character "
          "within String: U+0000.", 1, 11);
    /* bytes that are not UTF-8 */
    err("{ a }\xFF", SE "Invalid character: \\xFF.", 1, 6);
    err("{ a } # \xC3(\n", SE "Invalid character: \\xC3.", 1, 9);
    err("{ a(x: \"\xED\xA0\x80\") }", SE "Invalid character within String: "
        "\\xED.", 1, 9);
    err("{ a(x: \"\xC0\xAF\") }", SE "Invalid character within String: "
        "\\xC0.", 1, 9);
    err("{ a(x: \"\xF4\x90\x80\x80\") }", SE "Invalid character within "
        "String: \\xF4.", 1, 9);
    err("{ a(x: \"\xE2\x82\") }", SE "Invalid character within String: "
        "\\xE2.", 1, 9);
    err("{ a(x: \"\"\"\n\x80\"\"\") }", SE "Invalid character within "
        "String: \\x80.", 2, 1);
    err("{ a(x: 1\xFF) }", SE "Invalid character: \\xFF.", 1, 9);
    /* the source is len bytes: what follows is not read */
    parse_n("{ a }garbage", 5, DEPTH);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    err("", SE "Unexpected <EOF>.", 1, 1);
    err("  \n # c\n", SE "Unexpected <EOF>.", 3, 1);
    err("{", SE "Expected Name, found <EOF>.", 1, 2);
    err("{}", SE "Expected Name, found \"}\".", 1, 2);
    err("{ a }}", SE "Unexpected \"}\".", 1, 6);
    err("{ a } garbage", SE "Unexpected Name \"garbage\".", 1, 7);
    err("query", SE "Expected \"{\", found <EOF>.", 1, 6);
    err("query Q() { a }", SE "Expected \"$\", found \")\".", 1, 9);
    err("query Q(x: Int) { a }", SE "Expected \"$\", found Name \"x\".", 1, 9);
    err("query Q($x) { a }", SE "Expected \":\", found \")\".", 1, 11);
    err("query Q($x: Int!!) { a }", SE "Expected \"$\", found \"!\".", 1, 17);
    err("query Q($x: [Int) { a }", SE "Expected \"]\", found \")\".", 1, 17);
    err("query Q($x: Int = $y) { a }", SE "Unexpected variable \"$y\" in "
        "constant value.", 1, 19);
    err("query Q($x: In = {a: [$y]}) { a }", SE "Unexpected variable \"$y\" "
        "in constant value.", 1, 23);
    err("query Q($x: Int = $) { a }", SE "Unexpected \"$\".", 1, 19);
    err("query Q($x: Int @d(a: $y)) { a }", SE "Unexpected variable \"$y\" "
        "in constant value.", 1, 23);
    err("type T { f(a: Int = $v): Int }", SE "Unexpected variable \"$v\" in "
        "constant value.", 1, 21);
    err("type T @d(a: $v)", SE "Unexpected variable \"$v\" in constant "
        "value.", 1, 14);
    err("{ a(x: $) }", SE "Expected Name, found \")\".", 1, 9);
    err("{ a(x: 1 }", SE "Expected Name, found \"}\".", 1, 10);
    err("{ a() }", SE "Expected Name, found \")\".", 1, 5);
    err("{ a(x: [1, 2) }", SE "Unexpected \")\".", 1, 13);
    err("{ a(x: ...) }", SE "Unexpected \"...\".", 1, 8);
    err("{ a(x: \"s\" \"t\") }", SE "Expected Name, found String \"t\".",
        1, 12);
    err("{ a(x: 1 2) }", SE "Expected Name, found Int \"2\".", 1, 10);
    err("{ a(x: 1 2.5) }", SE "Expected Name, found Float \"2.5\".", 1, 10);
    err("{ a(x: 1 \"\"\"b\n\"\"\") }", SE "Expected Name, found BlockString "
        "\"b\".", 1, 10);
    err("{ a(x: 1 \"\\n\\u0001\") }", SE "Expected Name, found String "
        "\"\\x0A\\x01\".", 1, 10);
    err("{ a @ }", SE "Expected Name, found \"}\".", 1, 7);
    err("{ a & }", SE "Expected Name, found \"&\".", 1, 5);
    err("{ ... }", SE "Expected \"{\", found \"}\".", 1, 7);
    err("{ ... on { a } }", SE "Expected Name, found \"{\".", 1, 10);
    err("fragment on on T { a }", SE "Unexpected Name \"on\".", 1, 10);
    err("fragment F { a }", SE "Expected \"on\", found \"{\".", 1, 12);
    err("fragment F on T", SE "Expected \"{\", found <EOF>.", 1, 16);
    err("\"desc\" query { a }", SE "Unexpected description, descriptions are "
        "supported only on type definitions.", 1, 1);
    err("\"desc\" { a }", SE "Unexpected \"{\".", 1, 8);
    err("\"desc\"", SE "Unexpected <EOF>.", 1, 7);
    err("extend type A { a: Int }", SE "type system extensions are not "
        "supported.", 1, 1);
    err("\n  extend schema @d", SE "type system extensions are not "
        "supported.", 2, 3);
    err("notakeyword { a }", SE "Unexpected Name \"notakeyword\".", 1, 1);
    err(":", SE "Unexpected \":\".", 1, 1);
    err("type T {}", SE "Expected Name, found \"}\".", 1, 9);
    err("type T { a }", SE "Expected \":\", found \"}\".", 1, 12);
    err("type T { a(): Int }", SE "Expected Name, found \")\".", 1, 12);
    err("type T implements { a: Int }", SE "Expected Name, found \"{\".",
        1, 19);
    err("union U = ", SE "Expected Name, found <EOF>.", 1, 11);
    err("enum E { true }", SE "Name \"true\" is reserved and cannot be used "
        "for an enum value.", 1, 10);
    err("enum E { A null }", SE "Name \"null\" is reserved and cannot be "
        "used for an enum value.", 1, 12);
    err("input I { a: Int = }", SE "Unexpected \"}\".", 1, 20);
    err("directive @d on FOO", SE "Unexpected Name \"FOO\".", 1, 17);
    err("directive @d(a: Int)", SE "Expected \"on\", found <EOF>.", 1, 21);
    err("directive d on FIELD", SE "Expected \"@\", found Name \"d\".", 1, 11);
    err("schema { query: Q query: R }", SE "There can be only one query "
        "type in schema.", 1, 19);
    err("schema { q: Q }", SE "Unexpected Name \"q\".", 1, 10);
    err("schema query: Q", SE "Expected \"{\", found Name \"query\".", 1, 8);
    err("schema { }", SE "Expected Name, found \"}\".", 1, 10);
}

static void test_message_shortens_long_values(void **state)
{
    char src[300];
    const char *want = SE "Expected Name, found String \""
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\".";

    (void)state;
    memset(src, 0, sizeof(src));
    strcpy(src, "{ a(x: 1 \"");
    memset(src + strlen(src), 'x', 200);
    strcat(src, "\") }");
    err(src, want, 1, 10);
}

/* ---- depth and counts ---- */

static void test_depth_bound(void **state)
{
    apigw_gql_document *doc;

    (void)state;
    doc = parse_n("{ a { b { c } } }", 17, 3);
    assert_int_equal(doc->max_depth, 3);
    err_n("{ a { b { c { d } } } }", 23, 3, SE "the document is nested "
          "deeper than 3 levels.", 1, 13);
    /* values and list types count with the selection sets */
    doc = parse_n("{ a(x: [[1]]) }", 15, 3);
    assert_int_equal(doc->max_depth, 3);
    err_n("{ a(x: [{y: [1]}]) }", 20, 3, SE "the document is nested deeper "
          "than 3 levels.", 1, 13);
    doc = parse_n("query ($x: [[Int]]) { a }", 25, 2);
    assert_int_equal(doc->max_depth, 2);
    err_n("query ($x: [[[Int]]]) { a }", 27, 2, SE "the document is nested "
          "deeper than 2 levels.", 1, 14);
    err_n("type T { f: [[[Int]]] }", 23, 2, SE "the document is nested "
          "deeper than 2 levels.", 1, 15);
    err_n("{ a }", 5, 0, SE "the document is nested deeper than 0 levels.",
          1, 1);
    doc = parse_n("scalar S", 8, 0);
    assert_int_equal(doc->max_depth, 0);
    /* inline fragments nest too; siblings do not add up */
    err_n("{ ... { ... { a } } }", 21, 2, SE "the document is nested "
          "deeper than 2 levels.", 1, 13);
    doc = parse_n("{ a { b } c { d } } { e(x: [1]) { f } }", 39, 2);
    assert_int_equal(doc->max_depth, 2);
}

static void test_deep_hostile(void **state)
{
    apr_size_t n = 100000, i;
    char *src = apr_palloc(pool, 2 * n + 16);
    apigw_gql_document *doc;

    (void)state;
    /* 100,000 levels against a bound of 64: refused at the 65th */
    for (i = 0; i < n; i++) {
        src[2 * i] = '{';
        src[2 * i + 1] = 'a';
    }
    memset(src + 2 * n, '}', 1);
    err_n(src, 2 * n + 1, 64, SE "the document is nested deeper than 64 "
          "levels.", 1, 129);
    for (i = 0; i < n; i++) {
        src[i] = '[';
    }
    err_n(src, n, 64, SE "Unexpected \"[\".", 1, 1);
    /* the selection set is the first level, the 64th '[' the 65th */
    memcpy(src, "{ a(x: ", 7);
    err_n(src, n, 64, SE "the document is nested deeper than 64 levels.",
          1, 71);
    /* exactly at a large bound */
    src = apr_pstrcat(pool, "{", NULL);
    for (i = 1; i < 500; i++) {
        src = apr_pstrcat(pool, src, "a{", NULL);
    }
    src = apr_pstrcat(pool, src, "b", NULL);
    for (i = 0; i < 500; i++) {
        src = apr_pstrcat(pool, src, "}", NULL);
    }
    doc = parse_n(src, strlen(src), 500);
    assert_int_equal(doc->max_depth, 500);
    assert_int_equal(doc->fields, 500);
    err_n(src, strlen(src), 499, SE "the document is nested deeper than "
          "499 levels.", 1, 999);
}

static void test_counts(void **state)
{
    apigw_gql_document *doc;

    (void)state;
    doc = parse("query Q { a b: c { d e: f(x: [[1]]) } ... on T { g: h } "
                "...F } fragment F on T { i { j } } type T { k: Int }");
    assert_int_equal(doc->fields, 7);
    assert_int_equal(doc->aliases, 3);
    assert_int_equal(doc->max_depth, 4);
    doc = parse("{ __typename }");
    assert_int_equal(doc->fields, 1);
    assert_int_equal(doc->aliases, 0);
    assert_int_equal(doc->max_depth, 1);
}

/* ---- size ---- */

static void test_megabyte(void **state)
{
    apr_size_t cap = (1 << 20) + 256, n = 0;
    char *src = apr_palloc(pool, cap);
    apigw_gql_document *doc = NULL;
    const apigw_gql_syntax_error *e;
    unsigned count = 0;
    apr_time_t t;

    (void)state;
    src[n++] = '{';
    while (n < (1 << 20)) {
        n += (apr_size_t)apr_snprintf(src + n, cap - n,
                                      "a%u:__typename ", count++);
    }
    src[n++] = '}';
    t = apr_time_now();
    e = apigw_gql_parse(pool, src, n, DEPTH, &doc);
    t = apr_time_now() - t;
    assert_null(e);
    assert_int_equal(doc->fields, count);
    assert_int_equal(doc->aliases, count);
    /* about 10 ms optimised; this build has ASan and UBSan */
    if (t > apr_time_from_msec(500)) {
        fail_msg("a megabyte of aliases took %" APR_TIME_T_FMT " us", t);
    }
    /* a megabyte of string, never closed */
    src[0] = '"';
    memset(src + 1, 'x', n - 1);
    t = apr_time_now();
    err_n(src, n, DEPTH, SE "Unterminated string.", 1, (unsigned)n + 1);
    assert_true(apr_time_now() - t < apr_time_from_msec(500));
}

/* A document with n copies of item in one place: head, then the copies
 * (each numbered by %d), then tail. */
static const char *many(const char *head, const char *item, int n,
                        const char *tail)
{
    const char *out = head;
    int i;

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(pool, out, apr_psprintf(pool, item, i), NULL);
    }
    return apr_pstrcat(pool, out, tail, NULL);
}

/* One place holds at most 1,000 of anything: the thousand-and-first is
 * refused where it starts. */
static void test_items_bound(void **state)
{
    static const struct {
        const char *head, *item, *tail, *what;
    } cases[] = {
        { "{ f(a: [", "%d ", "]) }", "list items" },
        { "{ f(a: {", "x%d: 1 ", "}) }", "object fields" },
        { "{ f(", "a%d: 1 ", ") }", "arguments" },
        { "{ f ", "@d%d ", "}", "directives" },
        { "query q(", "$v%d: Int ", ") { f }", "variable definitions" },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *ok = many(cases[i].head, cases[i].item, 1000,
                              cases[i].tail);
        const char *over = many(cases[i].head, cases[i].item, 1001,
                                cases[i].tail);
        const char *msg = apr_psprintf(pool, SE "more than 1000 %s in one "
                                       "place.", cases[i].what);
        const apigw_gql_syntax_error *e;
        apigw_gql_document *doc = NULL;

        parse(ok);
        e = apigw_gql_parse(pool, over, strlen(over), DEPTH, &doc);
        if (!e || strcmp(e->message, msg) != 0) {
            fail_msg("%s: got %s, want %s", cases[i].what,
                     e ? e->message : "no error", msg);
        }
        assert_null(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_punctuators_and_names),
        T(test_ignored_tokens),
        T(test_numbers),
        T(test_other_values),
        T(test_string_escapes),
        T(test_block_strings),
        T(test_operations),
        T(test_variables),
        T(test_selections),
        T(test_fragments),
        T(test_type_definitions),
        T(test_schema_and_directive_definitions),
        T(test_locations),
        T(test_lexical_errors),
        T(test_bytes_errors),
        T(test_syntax_errors),
        T(test_message_shortens_long_values),
        T(test_depth_bound),
        T(test_deep_hostile),
        T(test_counts),
        T(test_megabyte),
        T(test_items_bound),
    };

    return cmocka_run_group_tests_name("apigw_gql_parse", tests, group_setup,
                                       group_teardown);
}
