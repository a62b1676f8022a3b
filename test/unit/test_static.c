/* sources: mod_apigw/apigw_static.c mod_apigw/apigw_merge.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_buf.c */
/* libs: -ljansson */
/* Unit tests for mod_apigw/apigw_static.c: ApiStatic's arguments (the
 * strategy word, the JSON object, each message), which strategies apply
 * to which outcome, and adding the data in configuration order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_static.h"

static void test_parse_strategies(void **state)
{
    static const struct {
        const char *args;
        apigw_static_strategy s;
    } cases[] = {
        { "{\"a\": 1}", APIGW_STATIC_ALWAYS },
        { "  strategy=always {\"a\": 1}", APIGW_STATIC_ALWAYS },
        { "strategy=success {\"a\": 1}", APIGW_STATIC_SUCCESS },
        { "strategy=errored\t{\"a\": 1}", APIGW_STATIC_ERRORED },
        { "strategy=incomplete {\"a\": 1}", APIGW_STATIC_INCOMPLETE },
        { "strategy=complete   {\"a\": 1}", APIGW_STATIC_COMPLETE },
    };
    apigw_static st;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_null(apigw_static_parse(pool, cases[i].args, &st));
        assert_int_equal(st.strategy, cases[i].s);
        assert_true(json_is_object(st.data));
        assert_int_equal(json_integer_value(json_object_get(st.data, "a")), 1);
    }
}

static void test_parse_messages(void **state)
{
    apigw_static st;
    (void)state;

    assert_string_equal(apigw_static_parse(pool, "strategy=sometimes {}", &st),
                        "ApiStatic strategy=sometimes: strategy is always, "
                        "success, errored, incomplete or complete");
    assert_null(st.data);
    assert_string_equal(apigw_static_parse(pool, "strategy=Always {}", &st),
                        "ApiStatic strategy=Always: strategy is always, "
                        "success, errored, incomplete or complete");
    assert_string_equal(apigw_static_parse(pool, "strategy=always{}", &st),
                        "ApiStatic strategy=always{}: strategy is always, "
                        "success, errored, incomplete or complete");
    assert_string_equal(apigw_static_parse(pool, "{\"a\": }", &st),
                        "ApiStatic: not valid JSON at character 7: "
                        "unexpected token near '}'");
    assert_null(st.data);
    assert_non_null(strstr(apigw_static_parse(pool, "{\"a\": 1, \"a\": 2}",
                                              &st), "duplicate object key"));
    assert_string_equal(apigw_static_parse(pool, "[1]", &st),
                        "ApiStatic: the data must be a JSON object, like "
                        "{\"source\": \"gateway\"}");
    assert_null(st.data);
    assert_non_null(strstr(apigw_static_parse(pool, "strategy=always", &st),
                           "ApiStatic: not valid JSON at character 0"));
}

static void test_applies(void **state)
{
    (void)state;
    /* complete, errored */
    assert_true(apigw_static_applies(APIGW_STATIC_ALWAYS, 0, 1));
    assert_true(apigw_static_applies(APIGW_STATIC_SUCCESS, 1, 0));
    assert_false(apigw_static_applies(APIGW_STATIC_SUCCESS, 0, 1));
    assert_true(apigw_static_applies(APIGW_STATIC_SUCCESS, 0, 0));
    assert_true(apigw_static_applies(APIGW_STATIC_ERRORED, 0, 1));
    assert_false(apigw_static_applies(APIGW_STATIC_ERRORED, 0, 0));
    assert_true(apigw_static_applies(APIGW_STATIC_INCOMPLETE, 0, 0));
    assert_false(apigw_static_applies(APIGW_STATIC_INCOMPLETE, 1, 0));
    assert_true(apigw_static_applies(APIGW_STATIC_COMPLETE, 1, 0));
    assert_false(apigw_static_applies(APIGW_STATIC_COMPLETE, 0, 1));
}

static void test_add_in_order(void **state)
{
    static const char *const args[] = {
        "{\"source\": \"gateway\", \"n\": 1}",
        "strategy=errored {\"degraded\": true, \"n\": 2}",
        "strategy=complete {\"n\": {\"x\": 3}}",
    };
    apr_array_header_t *statics = apr_array_make(pool, 3, sizeof(apigw_static));
    json_t *doc = json_pack("{s:i, s:{s:i}}", "a", 1, "n", "y", 9);
    char *text;
    size_t i;
    (void)state;

    for (i = 0; i < 3; i++) {
        assert_null(apigw_static_parse(pool, args[i],
                                       apr_array_push(statics)));
    }
    apigw_static_add(doc, statics, 1, 0);
    text = json_dumps(doc, JSON_COMPACT);
    /* n keeps its place and is replaced whole by the last static */
    assert_string_equal(text, "{\"a\":1,\"n\":{\"x\":3},\"source\":\"gateway\"}");
    free(text);
    json_decref(doc);

    doc = json_object();
    apigw_static_add(doc, statics, 0, 1);
    text = json_dumps(doc, JSON_COMPACT);
    assert_string_equal(text, "{\"source\":\"gateway\",\"n\":2,"
                              "\"degraded\":true}");
    free(text);
    json_decref(doc);
    apigw_static_add(NULL, NULL, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_parse_strategies),
        T(test_parse_messages),
        T(test_applies),
        T(test_add_in_order),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
