/* sources: mod_apigw/apigw_gql_schema.c mod_apigw/apigw_gql_validate.c mod_apigw/apigw_gql_exec.c mod_apigw/apigw_gql_introspect.c mod_apigw/apigw_gql_parse.c mod_apigw/apigw_gql_lex.c */
/* libs: -ljansson -lm */
/* Unit tests for the GraphQL executor (apigw_gql_schema.c, _validate.c,
 * _exec.c, _introspect.c) against a toy schema and toy resolvers: each
 * validation rule both ways, variables and defaults, fragments, aliases,
 * @skip/@include, __typename, null bubbling, mutation order, bounds,
 * operationName, introspection, and the answer's JSON shape. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_gql_exec.h"

static const char SDL[] =
    "\"A number past 32 bits.\"\n"
    "scalar Long\n"
    "enum Color { RED GREEN BLUE @deprecated(reason: \"gone\") }\n"
    "interface Named { name: String! }\n"
    "type Pet implements Named { name: String! legs: Int owner: Person }\n"
    "type Person implements Named { name: String! age: Int nick: String!\n"
    "  friends: [Person!] pets: [Pet] }\n"
    "union Thing = Pet | Person\n"
    "input Filter { name: String color: Color = RED min: Int!\n"
    "  tags: [String!] nested: Filter }\n"
    "type Query {\n"
    "  \"Greets.\"\n"
    "  hello(name: String = \"world\"): String!\n"
    "  person(id: ID!): Person\n"
    "  people: [Person!]\n"
    "  thing(kind: String!): Thing\n"
    "  named: Named\n"
    "  echo(f: Filter, n: Int, x: Float, b: Boolean, l: Long, c: Color,\n"
    "       list: [Int!], req: Int! = 1, id: ID): String\n"
    "  big: Long\n"
    "  color: Color\n"
    "  badColor: Color\n"
    "  num: Int\n"
    "  failing: String\n"
    "  failingNonNull: String!\n"
    "  deep: Person!\n"
    "  old: String @deprecated\n"
    "}\n"
    "type Mutation { add(n: Int!): Int! fail: Int! log: [String!]! }\n";

static apigw_gql_schema *schema;
static apr_pool_t *schema_pool;
static json_t *mlog;           /* the mutations, in the order they ran */
static apigw_gql_limits limits = { 4096, 12, 200, 5 };

static json_t *resolve(void *baton, apr_pool_t *p, const char *type,
                       const char *field, json_t *args,
                       apigw_gql_fault *fault)
{
    (void)baton;
    if (!strcmp(type, "Mutation")) {
        if (!strcmp(field, "add")) {
            json_int_t n = json_integer_value(json_object_get(args, "n"));
            json_array_append_new(mlog, json_sprintf("add %d", (int)n));
            return json_integer(n * 2);
        }
        if (!strcmp(field, "fail")) {
            json_array_append_new(mlog, json_string("fail"));
            fault->message = "no";
            fault->code = "CONFLICT";
            return NULL;
        }
        return json_deep_copy(mlog);
    }
    if (!strcmp(field, "hello")) {
        return json_sprintf("hello %s", json_string_value(
            json_object_get(args, "name")));
    }
    if (!strcmp(field, "person")) {
        if (strcmp(json_string_value(json_object_get(args, "id")), "1")) {
            return json_null();
        }
        return json_pack("{s:s,s:i,s:s,s:[{s:s,s:s}],s:[{s:s,s:i}]}",
                         "name", "Ann", "age", 30, "nick", "a", "friends",
                         "name", "Bob", "nick", "b", "pets", "name", "Rex",
                         "legs", 4);
    }
    if (!strcmp(field, "people")) {
        return json_pack("[{s:s,s:s},{s:s,s:n}]", "name", "Ann", "nick", "a",
                         "name", "Bob", "nick");
    }
    if (!strcmp(field, "thing")) {
        return json_pack("{s:s,s:s,s:i}", "__typename",
                         strcmp(json_string_value(json_object_get(args,
                                                                  "kind")),
                                "pet") ? "Person" : "Pet",
                         "name", "Rex", "legs", 4);
    }
    if (!strcmp(field, "named")) {
        return json_pack("{s:s,s:s}", "__typename", "Pet", "name", "Rex");
    }
    if (!strcmp(field, "echo")) {
        char *s = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *out = json_string(s);
        free(s);
        return out;
    }
    if (!strcmp(field, "big")) {
        return json_integer(5000000000LL);
    }
    if (!strcmp(field, "color")) {
        return json_string("GREEN");
    }
    if (!strcmp(field, "badColor")) {
        return json_string("PURPLE");
    }
    if (!strcmp(field, "num")) {
        return json_integer(3000000000LL);
    }
    if (!strcmp(field, "deep")) {
        return json_pack("{s:s,s:n}", "name", "Ann", "nick");
    }
    if (!strcmp(field, "failing") || !strcmp(field, "failingNonNull")) {
        fault->message = apr_pstrdup(p, "boom");
        fault->code = "NOT_FOUND";
        fault->field = "id";
        return NULL;
    }
    return json_null();
}

static int group_setup_all(void **state)
{
    const char *err;

    if (group_setup(state) != 0
        || apr_pool_create(&schema_pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    err = apigw_gql_schema_build(schema_pool, SDL, &schema);
    if (err) {
        fprintf(stderr, "schema: %s\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown_all(void **state)
{
    apr_pool_destroy(schema_pool);
    return group_teardown(state);
}

/* The answer to a request, parsed; outcome into *oc when not NULL. */
static json_t *ask_full(const char *q, const char *vars, const char *op,
                        int allow_mutation, apigw_gql_outcome *oc)
{
    json_t *v = vars ? json_loads(vars, 0, NULL) : NULL, *out;
    const char *resp;
    apigw_gql_outcome o;

    if (vars) {
        assert_non_null(v);
    }
    o = apigw_gql_execute(pool, schema, &limits, q, strlen(q), v, op,
                          allow_mutation, resolve, NULL, &resp);
    json_decref(v);
    out = json_loads(resp, 0, NULL);
    if (!out) {
        fail_msg("not JSON: %s", resp);
    }
    if (oc) {
        *oc = o;
    }
    /* every error: message, extensions.code */
    {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(out, "errors"), i, e) {
            assert_true(json_is_string(json_object_get(e, "message")));
            assert_true(json_is_string(json_object_get(
                json_object_get(e, "extensions"), "code")));
        }
    }
    return out;
}

static json_t *ask(const char *q, const char *vars)
{
    return ask_full(q, vars, NULL, 1, NULL);
}

/* The answer as compact JSON text (pool), for exact comparisons. */
static const char *text(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *out = apr_pstrdup(pool, s);

    free(s);
    json_decref(j);
    return out;
}

static const char *run_text(const char *q, const char *vars)
{
    return text(ask(q, vars));
}

/* The first error's message of a refused request with code code. */
static const char *refused(const char *q, const char *vars, const char *code)
{
    apigw_gql_outcome oc;
    json_t *r = ask_full(q, vars, NULL, 1, &oc);
    json_t *e = json_array_get(json_object_get(r, "errors"), 0);
    const char *msg;

    if (oc != APIGW_GQL_REFUSED || !e || json_object_get(r, "data")) {
        fail_msg("not refused: %s -> %s", q, text(r));
    }
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(e, "extensions"), "code")), code);
    msg = apr_pstrdup(pool, json_string_value(json_object_get(e,
                                                              "message")));
    json_decref(r);
    return msg;
}

#define INVALID(q, needle) do {                                           \
        const char *m_ = refused((q), NULL, "GRAPHQL_VALIDATION_FAILED"); \
        if (!strstr(m_, (needle))) {                                      \
            fail_msg("%s: got \"%s\", want \"%s\"", (q), m_, (needle));   \
        }                                                                 \
    } while (0)

#define VALID(q) do {                                                     \
        apigw_gql_outcome oc_;                                            \
        json_t *r_ = ask_full((q), NULL, NULL, 1, &oc_);                  \
        if (oc_ != APIGW_GQL_EXECUTED) {                                  \
            fail_msg("refused: %s -> %s", (q), text(r_));                 \
        }                                                                 \
        json_decref(r_);                                                  \
    } while (0)

/* ---- execution ---- */

static void test_basic_and_order(void **state)
{
    (void)state;
    assert_string_equal(run_text("{ b: hello(name: \"x\") hello __typename }",
                                 NULL),
        "{\"data\":{\"b\":\"hello x\",\"hello\":\"hello world\","
        "\"__typename\":\"Query\"}}");
    assert_string_equal(run_text("{ person(id: 1) { age name friends { name "
                                 "} pets { legs __typename } } }", NULL),
        "{\"data\":{\"person\":{\"age\":30,\"name\":\"Ann\",\"friends\":"
        "[{\"name\":\"Bob\"}],\"pets\":[{\"legs\":4,\"__typename\":\"Pet\"}]"
        "}}}");
    assert_string_equal(run_text("{ person(id: \"2\") { name } }", NULL),
                        "{\"data\":{\"person\":null}}");
    /* a member the JSON lacks is null */
    assert_string_equal(run_text("{ person(id: 1) { friends { age } } }",
                                 NULL),
        "{\"data\":{\"person\":{\"friends\":[{\"age\":null}]}}}");
}

static void test_abstract_and_fragments(void **state)
{
    (void)state;
    assert_string_equal(run_text(
        "{ thing(kind: \"pet\") { __typename ... on Pet { legs } "
        "... on Person { age } ...N } } fragment N on Named { name }", NULL),
        "{\"data\":{\"thing\":{\"__typename\":\"Pet\",\"legs\":4,"
        "\"name\":\"Rex\"}}}");
    assert_string_equal(run_text(
        "{ named { ... on Pet { n: name } name } }", NULL),
        "{\"data\":{\"named\":{\"n\":\"Rex\",\"name\":\"Rex\"}}}");
    /* fields merged from several selections of one key */
    assert_string_equal(run_text(
        "{ person(id: 1) { name } ...F } fragment F on Query { person(id: 1)"
        " { age } }", NULL),
        "{\"data\":{\"person\":{\"name\":\"Ann\",\"age\":30}}}");
}

static void test_skip_include(void **state)
{
    (void)state;
    assert_string_equal(run_text(
        "query($t: Boolean!) { a: hello @skip(if: true) b: hello "
        "@include(if: $t) c: hello @include(if: false) ... @skip(if: $t) "
        "{ d: hello } ...F @include(if: $t) } fragment F on Query { e: big }",
        "{\"t\": true}"),
        "{\"data\":{\"b\":\"hello world\",\"e\":5000000000}}");
}

static void test_leaves(void **state)
{
    json_t *r;

    (void)state;
    assert_string_equal(run_text("{ big color }", NULL),
        "{\"data\":{\"big\":5000000000,\"color\":\"GREEN\"}}");
    r = ask("{ num badColor hello }", NULL);
    assert_string_equal(text(r),
        "{\"data\":{\"num\":null,\"badColor\":null,\"hello\":\"hello world\""
        "},\"errors\":[{\"message\":\"Int cannot represent non 32-bit signed"
        " integer value: 3000000000\",\"locations\":[{\"line\":1,\"column\":"
        "3}],\"path\":[\"num\"],\"extensions\":{\"code\":"
        "\"INTERNAL_SERVER_ERROR\"}},{\"message\":\"Enum \\\"Color\\\" cannot"
        " represent value: \\\"PURPLE\\\"\",\"locations\":[{\"line\":1,"
        "\"column\":7}],\"path\":[\"badColor\"],\"extensions\":{\"code\":"
        "\"INTERNAL_SERVER_ERROR\"}}]}");
}

static void test_null_bubbling(void **state)
{
    (void)state;
    /* Bob's nick is null: his entry is non-null, so the list goes null */
    assert_string_equal(run_text("{ people { nick } hello }", NULL),
        "{\"data\":{\"people\":null,\"hello\":\"hello world\"},\"errors\":"
        "[{\"message\":\"Cannot return null for non-nullable field "
        "Person.nick.\",\"locations\":[{\"line\":1,\"column\":12}],\"path\":"
        "[\"people\",1,\"nick\"],\"extensions\":{\"code\":"
        "\"INTERNAL_SERVER_ERROR\"}}]}");
    /* up to the root: data is null */
    assert_string_equal(run_text("{ deep { nick } }", NULL),
        "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for "
        "non-nullable field Person.nick.\",\"locations\":[{\"line\":1,"
        "\"column\":10}],\"path\":[\"deep\",\"nick\"],\"extensions\":"
        "{\"code\":\"INTERNAL_SERVER_ERROR\"}}]}");
}

static void test_faults(void **state)
{
    (void)state;
    assert_string_equal(run_text("{ failing hello }", NULL),
        "{\"data\":{\"failing\":null,\"hello\":\"hello world\"},\"errors\":"
        "[{\"message\":\"boom\",\"locations\":[{\"line\":1,\"column\":3}],"
        "\"path\":[\"failing\"],\"extensions\":{\"code\":\"NOT_FOUND\","
        "\"field\":\"id\"}}]}");
    assert_string_equal(run_text("{ failingNonNull }", NULL),
        "{\"data\":null,\"errors\":[{\"message\":\"boom\",\"locations\":"
        "[{\"line\":1,\"column\":3}],\"path\":[\"failingNonNull\"],"
        "\"extensions\":{\"code\":\"NOT_FOUND\",\"field\":\"id\"}}]}");
}

static void test_mutations_in_order(void **state)
{
    apigw_gql_outcome oc;
    json_t *r;

    (void)state;
    mlog = json_array();
    assert_string_equal(run_text("mutation { a: add(n: 1) b: add(n: 2) "
                                 "log }", NULL),
        "{\"data\":{\"a\":2,\"b\":4,\"log\":[\"add 1\",\"add 2\"]}}");
    /* a non-null failure stops the rest */
    json_array_clear(mlog);
    r = ask("mutation { fail add(n: 3) }", NULL);
    assert_non_null(json_object_get(r, "errors"));
    assert_true(json_is_null(json_object_get(r, "data")));
    json_decref(r);
    assert_int_equal(json_array_size(mlog), 1);
    /* by GET */
    r = ask_full("mutation { add(n: 1) }", NULL, NULL, 0, &oc);
    assert_int_equal(oc, APIGW_GQL_MUTATION_BY_GET);
    assert_null(json_object_get(r, "data"));
    json_decref(r);
    assert_int_equal(json_array_size(mlog), 1);
    /* a query by GET is fine */
    r = ask_full("{ hello }", NULL, NULL, 0, &oc);
    assert_int_equal(oc, APIGW_GQL_EXECUTED);
    json_decref(r);
    json_decref(mlog);
    mlog = NULL;
}

/* ---- variables and arguments ---- */

static void test_variables(void **state)
{
    (void)state;
    assert_string_equal(run_text(
        "query($f: Filter, $n: Int = 7, $l: [Int!], $x: Float, $c: Color, "
        "$big: Long) { echo(f: $f, n: $n, list: $l, x: $x, c: $c, l: $big) }",
        "{\"f\": {\"min\": 1, \"tags\": \"one\"}, \"l\": 5, \"x\": 2, "
        "\"c\": \"BLUE\", \"big\": {\"any\": [1]}}"),
        "{\"data\":{\"echo\":\"{\\\"c\\\":\\\"BLUE\\\",\\\"f\\\":{"
        "\\\"color\\\":\\\"RED\\\",\\\"min\\\":1,\\\"tags\\\":[\\\"one\\\"]},"
        "\\\"l\\\":{\\\"any\\\":[1]},\\\"list\\\":[5],\\\"n\\\":7,"
        "\\\"req\\\":1,\\\"x\\\":2.0}\"}}");
    /* literals: lists from one value, input objects with defaults, custom
     * scalars as JSON, ID from an int, a variable inside a literal */
    assert_string_equal(run_text(
        "query($m: Int!) { echo(f: {min: $m, nested: {min: 2}}, list: 3, "
        "l: 1.5, id: 12, req: 2) }", "{\"m\": 4}"),
        "{\"data\":{\"echo\":\"{\\\"f\\\":{\\\"color\\\":\\\"RED\\\","
        "\\\"min\\\":4,\\\"nested\\\":{\\\"color\\\":\\\"RED\\\","
        "\\\"min\\\":2}},\\\"id\\\":\\\"12\\\",\\\"l\\\":1.5,\\\"list\\\":"
        "[3],\\\"req\\\":2}\"}}");
}

static void test_variable_errors(void **state)
{
    const char *m;

    (void)state;
    m = refused("query($f: Filter!) { echo(f: $f) }", NULL,
                "BAD_USER_INPUT");
    assert_string_equal(m, "Variable \"$f\" of required type \"Filter!\" "
                        "was not provided.");
    m = refused("query($f: Filter!) { echo(f: $f) }", "{\"f\": null}",
                "BAD_USER_INPUT");
    assert_string_equal(m, "Variable \"$f\" of non-null type \"Filter!\" "
                        "must not be null.");
    m = refused("query($f: Filter) { echo(f: $f) }",
                "{\"f\": {\"min\": \"x\"}}", "BAD_USER_INPUT");
    assert_string_equal(m, "Variable \"$f\" got invalid value \"x\" at "
                        "\"f.min\"; Int cannot represent non-integer value: "
                        "\"x\"");
    m = refused("query($f: Filter) { echo(f: $f) }", "{\"f\": {}}",
                "BAD_USER_INPUT");
    assert_string_equal(m, "Variable \"$f\" got invalid value {}; Field "
                        "\"min\" of required type \"Int!\" was not "
                        "provided.");
    m = refused("query($f: Filter) { echo(f: $f) }",
                "{\"f\": {\"min\": 1, \"zz\": 1}}", "BAD_USER_INPUT");
    assert_non_null(strstr(m, "Field \"zz\" is not defined by type "
                           "\"Filter\"."));
    m = refused("query($c: Color) { echo(c: $c) }", "{\"c\": \"PINK\"}",
                "BAD_USER_INPUT");
    assert_string_equal(m, "Variable \"$c\" got invalid value \"PINK\"; "
                        "Value \"PINK\" does not exist in \"Color\" enum.");
    m = refused("query($l: [Int!]) { echo(list: $l) }", "{\"l\": [1, null]}",
                "BAD_USER_INPUT");
    assert_string_equal(m, "Variable \"$l\" got invalid value null at "
                        "\"l[1]\"; Expected non-nullable type \"Int!\" not "
                        "to be null.");
    m = refused("query($n: Int) { echo(n: $n) }", "{\"n\": 1.5}",
                "BAD_USER_INPUT");
    assert_non_null(strstr(m, "non-integer value: 1.5"));
    m = refused("query($n: Int) { echo(n: $n) }", "{\"n\": 2147483648}",
                "BAD_USER_INPUT");
    assert_non_null(strstr(m, "non 32-bit"));
    m = refused("query($b: Boolean) { echo(b: $b) }", "{\"b\": 1}",
                "BAD_USER_INPUT");
    assert_non_null(strstr(m, "Boolean cannot represent"));
    m = refused("{ hello }", "[1]", "BAD_USER_INPUT");
    assert_non_null(strstr(m, "JSON object"));
}

/* ---- operations ---- */

static void test_operation_name(void **state)
{
    apigw_gql_outcome oc;
    json_t *r;
    const char *two = "query A { a: hello } query B { b: hello }";

    (void)state;
    r = ask_full(two, NULL, "B", 1, &oc);
    assert_string_equal(text(r), "{\"data\":{\"b\":\"hello world\"}}");
    assert_string_equal(refused(two, NULL, "OPERATION_RESOLUTION_FAILURE"),
                        "Must provide operation name if query contains "
                        "multiple operations.");
    r = ask_full(two, NULL, "C", 1, &oc);
    assert_int_equal(oc, APIGW_GQL_REFUSED);
    assert_string_equal(text(r), "{\"errors\":[{\"message\":\"Unknown "
                        "operation named \\\"C\\\".\",\"extensions\":"
                        "{\"code\":\"OPERATION_RESOLUTION_FAILURE\"}}]}");
}

static void test_parse_error(void **state)
{
    apigw_gql_outcome oc;
    json_t *r = ask_full("{ hello", NULL, NULL, 1, &oc);
    json_t *e = json_array_get(json_object_get(r, "errors"), 0);

    (void)state;
    assert_int_equal(oc, APIGW_GQL_REFUSED);
    assert_null(json_object_get(r, "data"));
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(e, "extensions"), "code")), "GRAPHQL_PARSE_FAILED");
    assert_non_null(json_object_get(e, "locations"));
    json_decref(r);
}

/* ---- bounds ---- */

static void test_bounds(void **state)
{
    char big[5000];
    const char *m;

    (void)state;
    memset(big, ' ', sizeof(big));
    memcpy(big, "{ hello }", 9);
    big[sizeof(big) - 1] = '\0';
    m = refused(big, NULL, "BAD_USER_INPUT");
    assert_non_null(strstr(m, "ApiGraphQLMaxBytes"));
    m = refused("{ a: hello b: hello c: hello d: hello e: hello f: hello }",
                NULL, "BAD_USER_INPUT");
    assert_non_null(strstr(m, "ApiGraphQLMaxAliases"));
    VALID("{ a: hello b: hello c: hello d: hello e: hello }");
    /* depth 13 by the parser's count; 12 with fragments expanded */
    m = refused("{ person(id: 1) { friends { friends { friends { friends { "
                "friends { friends { friends { friends { friends { friends {"
                " friends { name } } } } } } } } } } } } }", NULL,
                "BAD_USER_INPUT");
    assert_non_null(strstr(m, "ApiGraphQLMaxDepth"));
    m = refused("{ person(id: 1) { ...A } } fragment A on Person { friends "
                "{ ...B } } fragment B on Person { friends { friends { "
                "friends { friends { friends { friends { friends { friends "
                "{ friends { friends { name } } } } } } } } } } }", NULL,
                "BAD_USER_INPUT");
    assert_non_null(strstr(m, "ApiGraphQLMaxDepth"));
    VALID("{ person(id: 1) { friends { friends { friends { friends { "
          "friends { friends { friends { friends { friends { friends { name "
          "} } } } } } } } } } } }");
}

static void test_fragment_bomb(void **state)
{
    const char *bomb;
    const char *m;
    int i;

    (void)state;
    bomb = "{ ...F30 } fragment F0 on Query { hello }";
    for (i = 1; i <= 30; i++) {
        bomb = apr_psprintf(pool, "%s fragment F%d on Query { ...F%d ...F%d "
                            "...F%d }", bomb, i, i - 1, i - 1, i - 1);
    }
    limits.max_bytes = 100000;
    m = refused(bomb, NULL, "BAD_USER_INPUT");
    limits.max_bytes = 4096;
    assert_non_null(strstr(m, "ApiGraphQLMaxFields"));
    /* 3^4 = 81 fields: under the 200 bound */
    VALID("{ ...F4 } fragment F0 on Query { hello } fragment F1 on Query { "
          "...F0 ...F0 ...F0 } fragment F2 on Query { ...F1 ...F1 ...F1 } "
          "fragment F3 on Query { ...F2 ...F2 ...F2 } fragment F4 on Query "
          "{ ...F3 ...F3 ...F3 }");
    m = refused("{ ...F5 } fragment F0 on Query { hello } fragment F1 on "
                "Query { ...F0 ...F0 ...F0 } fragment F2 on Query { ...F1 "
                "...F1 ...F1 } fragment F3 on Query { ...F2 ...F2 ...F2 } "
                "fragment F4 on Query { ...F3 ...F3 ...F3 } fragment F5 on "
                "Query { ...F4 ...F4 ...F4 }", NULL, "BAD_USER_INPUT");
    assert_non_null(strstr(m, "ApiGraphQLMaxFields"));
}

/* ---- validation: each rule, broken and kept ---- */

static void test_rules_documents(void **state)
{
    apigw_gql_outcome oc;

    (void)state;
    INVALID("{ hello } type X { a: Int }",
            "The \"X\" definition is not executable.");
    INVALID("query A { hello } query A { big }",
            "There can be only one operation named \"A\".");
    json_decref(ask_full("query A { hello } query B { big }", NULL, "A", 1,
                         &oc));
    assert_int_equal(oc, APIGW_GQL_EXECUTED);
    INVALID("{ hello } query B { big }",
            "This anonymous operation must be the only defined operation.");
    INVALID("subscription { hello }", "Subscriptions are not supported");
}

static void test_rules_fields(void **state)
{
    (void)state;
    INVALID("{ person(id: 1) { x } }",
            "Cannot query field \"x\" on type \"Person\".");
    INVALID("{ thing(kind: \"a\") { name } }",
            "Cannot query field \"name\" on type \"Thing\".");
    VALID("{ thing(kind: \"a\") { __typename ... on Named { name } } }");
    INVALID("{ hello { x } }", "Field \"hello\" must not have a selection "
            "since type \"String!\" has no subfields.");
    INVALID("{ person(id: 1) }", "Field \"person\" of type \"Person\" must "
            "have a selection of subfields. Did you mean \"person { ... }\"?");
    INVALID("{ hello(nme: \"x\") }",
            "Unknown argument \"nme\" on field \"Query.hello\".");
    INVALID("{ person { name } }", "Field \"person\" argument \"id\" of type "
            "\"ID!\" is required, but it was not provided.");
    VALID("{ echo }");       /* req has a default */
    INVALID("{ hello(name: \"a\", name: \"b\") }",
            "There can be only one argument named \"name\".");
}

static void test_rules_values(void **state)
{
    (void)state;
    INVALID("{ echo(n: \"1\") }",
            "Expected value of type \"Int\", found \"1\".");
    INVALID("{ echo(n: 2147483648) }",
            "Expected value of type \"Int\", found 2147483648.");
    INVALID("{ echo(req: null) }",
            "Expected value of type \"Int!\", found null.");
    INVALID("{ echo(c: PINK) }",
            "Expected value of type \"Color\", found PINK.");
    INVALID("{ echo(c: \"RED\") }",
            "Expected value of type \"Color\", found \"RED\".");
    INVALID("{ echo(f: {min: 1, zz: 2}) }",
            "Field \"zz\" is not defined by type \"Filter\".");
    INVALID("{ echo(f: {name: \"a\"}) }",
            "Field \"Filter.min\" of required type \"Int!\" was not "
            "provided.");
    INVALID("{ echo(f: {min: null}) }",
            "Expected value of type \"Int!\", found null.");
    INVALID("{ echo(f: {min: 1, min: 2}) }",
            "There can be only one input field named \"min\".");
    INVALID("{ echo(list: [1, \"2\"]) }",
            "Expected value of type \"Int!\", found \"2\".");
    INVALID("{ echo(f: 3) }", "Expected value of type \"Filter\", found 3.");
    VALID("{ echo(x: 1, id: 5, l: {a: [1, 2.5, \"x\", RED, null]}, "
          "list: 1, b: false, c: BLUE, f: {min: 1, tags: \"t\"}) }");
}

static void test_rules_fragments(void **state)
{
    (void)state;
    INVALID("{ ...Nope }", "Unknown fragment \"Nope\".");
    INVALID("{ ...F } fragment F on Query { hello } fragment F on Query "
            "{ big }", "There can be only one fragment named \"F\".");
    INVALID("{ ...F } fragment F on Color { hello }",
            "Fragment \"F\" cannot condition on non composite type "
            "\"Color\".");
    INVALID("{ ... on Long { hello } }",
            "Fragment cannot condition on non composite type \"Long\".");
    INVALID("{ ... on Nope { hello } }", "Unknown type \"Nope\".");
    INVALID("{ person(id: 1) { ...P } } fragment P on Pet { legs }",
            "Fragment \"P\" cannot be spread here as objects of type "
            "\"Person\" can never be of type \"Pet\".");
    INVALID("{ person(id: 1) { ... on Pet { legs } } }",
            "Fragment cannot be spread here as objects of type \"Person\" "
            "can never be of type \"Pet\".");
    VALID("{ named { ... on Pet { legs } ... on Thing { __typename } } }");
    INVALID("{ ...A } fragment A on Query { ...B } fragment B on Query "
            "{ ...A }", "Cannot spread fragment \"A\" within itself via "
            "\"B\".");
    INVALID("{ ...A } fragment A on Query { hello ...A }",
            "Cannot spread fragment \"A\" within itself.");
    INVALID("{ hello } fragment U on Query { hello }",
            "Fragment \"U\" is never used.");
}

static void test_rules_variables(void **state)
{
    (void)state;
    INVALID("query($a: Int, $a: Int) { echo(n: $a) }",
            "There can be only one variable named \"$a\".");
    INVALID("query($a: Person) { hello }",
            "Variable \"$a\" cannot be non-input type \"Person\".");
    INVALID("query($a: Nope) { echo(n: $a) }", "Unknown type \"Nope\".");
    INVALID("query Q { echo(n: $a) }",
            "Variable \"$a\" is not defined by operation \"Q\".");
    INVALID("{ ...F } fragment F on Query { echo(n: $a) }",
            "Variable \"$a\" is not defined.");
    INVALID("query Q($a: Int) { hello }",
            "Variable \"$a\" is never used in operation \"Q\".");
    VALID("query Q($a: Int) { ...F } fragment F on Query { echo(n: $a) }");
    INVALID("query($a: String) { echo(n: $a) }",
            "Variable \"$a\" of type \"String\" used in position expecting "
            "type \"Int\".");
    INVALID("query($a: Int) { add: echo(list: [$a]) }",
            "Variable \"$a\" of type \"Int\" used in position expecting "
            "type \"Int!\".");
    INVALID("query($a: Int) { person(id: 1) { name } echo(f: {min: $a}) }",
            "Variable \"$a\" of type \"Int\" used in position expecting "
            "type \"Int!\".");
    /* a nullable variable with a default, or where the position has one */
    VALID("query($a: Int = 3) { echo(list: [$a]) }");
    VALID("query($a: Int) { echo(req: $a) }");
    VALID("query($a: [Int!]! = [1]) { echo(list: $a) }");
    INVALID("query($a: Int = \"x\") { echo(n: $a) }",
            "Expected value of type \"Int\", found \"x\".");
}

static void test_rules_directives(void **state)
{
    (void)state;
    INVALID("{ hello @nope }", "Unknown directive \"@nope\".");
    INVALID("{ hello @deprecated }",
            "Directive \"@deprecated\" may not be used on FIELD.");
    INVALID("query @skip(if: true) { hello }",
            "Directive \"@skip\" may not be used on QUERY.");
    INVALID("{ hello @skip(if: true) @skip(if: false) }",
            "The directive \"@skip\" can only be used once at this "
            "location.");
    INVALID("{ hello @skip }", "Directive \"@skip\" argument \"if\" of type "
            "\"Boolean!\" is required, but it was not provided.");
    INVALID("{ hello @skip(if: 1) }",
            "Expected value of type \"Boolean!\", found 1.");
    VALID("{ hello @skip(if: false) @include(if: true) }");
}

static void test_rules_overlap(void **state)
{
    (void)state;
    INVALID("{ x: hello x: big }", "Fields \"x\" conflict because \"hello\" "
            "and \"big\" are different fields. Use different aliases on the "
            "fields to fetch both if this was intentional.");
    INVALID("{ hello(name: \"a\") hello(name: \"b\") }",
            "Fields \"hello\" conflict because they have differing "
            "arguments.");
    INVALID("{ hello ...F } fragment F on Query { hello(name: \"b\") }",
            "Fields \"hello\" conflict because they have differing "
            "arguments.");
    INVALID("{ person(id: 1) { n: name } person(id: 1) { n: age } }",
            "Fields \"n\" conflict because \"name\" and \"age\" are "
            "different fields.");
    INVALID("{ named { ... on Pet { v: legs } ... on Person { v: name } } }",
            "Fields \"v\" conflict because they return conflicting types "
            "\"Int\" and \"String!\".");
    VALID("{ hello hello person(id: 1) { name } person(id: 1) { age } }");
    VALID("{ named { ... on Pet { v: name } ... on Person { v: nick } } }");
}

/* ---- introspection ---- */

static void test_introspection(void **state)
{
    json_t *r, *types, *t;
    size_t i;
    int seen = 0;

    (void)state;
    assert_string_equal(run_text(
        "{ __type(name: \"Filter\") { kind name inputFields { name "
        "defaultValue type { kind ofType { name } } } } }", NULL),
        "{\"data\":{\"__type\":{\"kind\":\"INPUT_OBJECT\",\"name\":"
        "\"Filter\",\"inputFields\":[{\"name\":\"name\",\"defaultValue\":"
        "null,\"type\":{\"kind\":\"SCALAR\",\"ofType\":null}},{\"name\":"
        "\"color\",\"defaultValue\":\"RED\",\"type\":{\"kind\":\"ENUM\","
        "\"ofType\":null}},{\"name\":\"min\",\"defaultValue\":null,\"type\":"
        "{\"kind\":\"NON_NULL\",\"ofType\":{\"name\":\"Int\"}}},{\"name\":"
        "\"tags\",\"defaultValue\":null,\"type\":{\"kind\":\"LIST\","
        "\"ofType\":{\"name\":null}}},{\"name\":\"nested\",\"defaultValue\":"
        "null,\"type\":{\"kind\":\"INPUT_OBJECT\",\"ofType\":null}}]}}}");
    assert_string_equal(run_text(
        "{ __type(name: \"Color\") { enumValues { name } all: enumValues("
        "includeDeprecated: true) { name isDeprecated deprecationReason } "
        "fields { name } } }", NULL),
        "{\"data\":{\"__type\":{\"enumValues\":[{\"name\":\"RED\"},{\"name\""
        ":\"GREEN\"}],\"all\":[{\"name\":\"RED\",\"isDeprecated\":false,"
        "\"deprecationReason\":null},{\"name\":\"GREEN\",\"isDeprecated\":"
        "false,\"deprecationReason\":null},{\"name\":\"BLUE\",\"isDeprecated"
        "\":true,\"deprecationReason\":\"gone\"}],\"fields\":null}}}");
    assert_string_equal(run_text(
        "{ __type(name: \"Named\") { kind possibleTypes { name } } "
        "p: __type(name: \"Pet\") { interfaces { name } } "
        "n: __type(name: \"Nope\") { name } "
        "l: __type(name: \"Long\") { description specifiedByURL } }", NULL),
        "{\"data\":{\"__type\":{\"kind\":\"INTERFACE\",\"possibleTypes\":"
        "[{\"name\":\"Pet\"},{\"name\":\"Person\"}]},\"p\":{\"interfaces\":"
        "[{\"name\":\"Named\"}]},\"n\":null,\"l\":{\"description\":\"A "
        "number past 32 bits.\",\"specifiedByURL\":null}}}");
    assert_string_equal(run_text(
        "{ __schema { queryType { name } mutationType { name } "
        "subscriptionType { name } directives { name isRepeatable locations "
        "args { name defaultValue } } } }", NULL),
        "{\"data\":{\"__schema\":{\"queryType\":{\"name\":\"Query\"},"
        "\"mutationType\":{\"name\":\"Mutation\"},\"subscriptionType\":null,"
        "\"directives\":[{\"name\":\"include\",\"isRepeatable\":false,"
        "\"locations\":[\"FIELD\",\"FRAGMENT_SPREAD\",\"INLINE_FRAGMENT\"],"
        "\"args\":[{\"name\":\"if\",\"defaultValue\":null}]},{\"name\":"
        "\"skip\",\"isRepeatable\":false,\"locations\":[\"FIELD\","
        "\"FRAGMENT_SPREAD\",\"INLINE_FRAGMENT\"],\"args\":[{\"name\":\"if\","
        "\"defaultValue\":null}]},{\"name\":\"deprecated\",\"isRepeatable\":"
        "false,\"locations\":[\"FIELD_DEFINITION\",\"ARGUMENT_DEFINITION\","
        "\"INPUT_FIELD_DEFINITION\",\"ENUM_VALUE\"],\"args\":[{\"name\":"
        "\"reason\",\"defaultValue\":\"\\\"No longer supported\\\"\"}]},"
        "{\"name\":\"specifiedBy\",\"isRepeatable\":false,\"locations\":"
        "[\"SCALAR\"],\"args\":[{\"name\":\"url\",\"defaultValue\":null}]}]}"
        "}}");
    /* every type once, with the built-in scalars used and __ types */
    r = ask("{ __schema { types { name } } __type(name: \"Query\") { fields "
            "{ name description } } }", NULL);
    types = json_object_get(json_object_get(json_object_get(r, "data"),
                                            "__schema"), "types");
    json_array_foreach(types, i, t) {
        const char *n = json_string_value(json_object_get(t, "name"));
        seen |= (strcmp(n, "ID") == 0) | (strcmp(n, "__Directive") == 0) << 1
                | (strcmp(n, "Long") == 0) << 2
                | (strcmp(n, "Boolean") == 0) << 3;
    }
    assert_int_equal(seen, 15);
    t = json_array_get(json_object_get(json_object_get(json_object_get(
        r, "data"), "__type"), "fields"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "description")),
                        "Greets.");
    assert_int_equal(json_array_size(json_object_get(json_object_get(
        json_object_get(r, "data"), "__type"), "fields")), 13);  /* no old */
    json_decref(r);
    INVALID("{ person(id: 1) { __schema { types { name } } } }",
            "Cannot query field \"__schema\" on type \"Person\".");
}

static void test_schema_errors(void **state)
{
    apigw_gql_schema *s;
    const char *e;

    (void)state;
    e = apigw_gql_schema_build(pool, "type Query {\n  a: Nope }", &s);
    assert_string_equal(e, "2:6: Query.a: unknown type Nope");
    e = apigw_gql_schema_build(pool, "type Query { a: Int }\n"
                               "type Query { b: Int }", &s);
    assert_non_null(strstr(e, "2:1: type Query is defined twice"));
    e = apigw_gql_schema_build(pool, "type Foo { a: Int }", &s);
    assert_non_null(strstr(e, "no query type"));
    e = apigw_gql_schema_build(pool, "input I { a: Int } type Query "
                               "{ a: I }", &s);
    assert_non_null(strstr(e, "not an output type"));
    e = apigw_gql_schema_build(pool, "type Query { a(x: Int = \"s\"): Int }",
                               &s);
    assert_non_null(strstr(e, "default"));
    e = apigw_gql_schema_build(pool, "interface I { a: Int } type Query "
                               "implements I { b: Int }", &s);
    assert_non_null(strstr(e, "I.a"));
    e = apigw_gql_schema_build(pool, "type Query { a: Int", &s);
    assert_non_null(strstr(e, "1:"));
    assert_null(apigw_gql_schema_build(pool, "schema { query: Q } "
                                       "type Q { a: Int }", &s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_basic_and_order),
        T(test_abstract_and_fragments),
        T(test_skip_include),
        T(test_leaves),
        T(test_null_bubbling),
        T(test_faults),
        T(test_mutations_in_order),
        T(test_variables),
        T(test_variable_errors),
        T(test_operation_name),
        T(test_parse_error),
        T(test_bounds),
        T(test_fragment_bomb),
        T(test_rules_documents),
        T(test_rules_fields),
        T(test_rules_values),
        T(test_rules_fragments),
        T(test_rules_variables),
        T(test_rules_directives),
        T(test_rules_overlap),
        T(test_introspection),
        T(test_schema_errors),
    };

    return cmocka_run_group_tests(tests, group_setup_all,
                                  group_teardown_all);
}
