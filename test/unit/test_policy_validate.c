/* sources: mod_apigw/apigw_policy_validate.c mod_apigw/apigw_policy_origin.c common/apigw_parse.c */
/* cflags: -I/usr/include/apache2 */
/* Unit tests for mod_apigw/apigw_policy_validate.c: each edge policy's
 * settings checked as plain structs, as the directives and the admin API
 * fill them, with the offending field named. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_policy_validate.h"

static apr_array_header_t *list(const char *first, ...)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
    va_list ap;
    const char *s;

    va_start(ap, first);
    for (s = first; s; s = va_arg(ap, const char *)) {
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    va_end(ap);
    return a;
}

static apigw_cors_policy cors(void)
{
    apigw_cors_policy c;

    memset(&c, 0, sizeof(c));
    c.enabled = 1;
    c.credentials = -1;
    c.max_age = -1;
    return c;
}

static void expect(const apigw_invalid *inv, const char *field,
                   const char *needle)
{
    if (!inv) {
        fail_msg("accepted; expected %s: ...%s...", field, needle);
    }
    assert_string_equal(inv->field, field);
    if (!strstr(inv->problem, needle)) {
        fail_msg("%s: '%s' lacks '%s'", inv->field, inv->problem, needle);
    }
}

static void test_cors_valid(void **state)
{
    apigw_cors_policy c = cors();

    (void)state;
    c.origins = list("https://app.example.com", "https://*.example.com",
                     NULL);
    c.methods = list("GET", "POST", NULL);
    c.headers = list("*", NULL);
    c.expose = list("X-Total", NULL);
    c.credentials = 1;
    c.max_age = 600;
    c.preflight_status = 200;
    assert_null(apigw_cors_validate(pool, &c));
}

static void test_cors_fields(void **state)
{
    apigw_cors_policy c = cors();

    (void)state;
    c.origins = list("https://ok.example.com", "example.com", NULL);
    expect(apigw_cors_validate(pool, &c), "cors.allowOrigins[1]", "example.com");
    c = cors();
    c.methods = list("GET", "get", NULL);
    expect(apigw_cors_validate(pool, &c), "cors.allowMethods[1]", "unknown method");
    c = cors();
    c.headers = list("X:Y", NULL);
    expect(apigw_cors_validate(pool, &c), "cors.allowHeaders[0]",
           "not a valid header name");
    c = cors();
    c.expose = list("X Total", NULL);
    expect(apigw_cors_validate(pool, &c), "cors.exposeHeaders[0]",
           "not a valid header name");
    c = cors();
    c.max_age = -5;
    expect(apigw_cors_validate(pool, &c), "cors.maxAgeSeconds", "negative");
    c = cors();
    c.preflight_status = 404;
    expect(apigw_cors_validate(pool, &c), "cors.preflightStatus", "2xx");
    c = cors();
    c.any_origin = 1;
    c.origins = list("*", NULL);
    c.credentials = 1;
    expect(apigw_cors_validate(pool, &c), "cors.allowCredentials",
           "cannot be combined");
}

static apr_array_header_t *rules(apigw_hdr_action action, const char *name,
                                 const char *value)
{
    apr_array_header_t *a = apr_array_make(pool, 2, sizeof(apigw_header_rule));
    apigw_header_rule *r = apr_array_push(a);

    memset(r, 0, sizeof(*r));
    r = apr_array_push(a);
    memset(r, 0, sizeof(*r));
    APR_ARRAY_IDX(a, 0, apigw_header_rule).action = APIGW_HDR_SET;
    APR_ARRAY_IDX(a, 0, apigw_header_rule).name = "X-Ok";
    APR_ARRAY_IDX(a, 0, apigw_header_rule).value = "fine";
    r->action = action;
    r->name = name;
    r->value = value;
    return a;
}

static void test_header_rules(void **state)
{
    (void)state;
    assert_null(apigw_header_rules_validate(pool, "requestHeaders",
                rules(APIGW_HDR_UNSET, "X-Gone", NULL)));
    assert_null(apigw_header_rules_validate(pool, "requestHeaders",
                rules(APIGW_HDR_ADD, "X-Tab", "a\tb")));
    expect(apigw_header_rules_validate(pool, "responseHeaders",
           rules(APIGW_HDR_SET, "X-A", "a\r\nX-Evil: 1")),
           "responseHeaders[1]", "CR, LF");
    expect(apigw_header_rules_validate(pool, "responseHeaders",
           rules(APIGW_HDR_SET, "X-A", "a\\nb")),
           "responseHeaders[1]", "CR, LF");
    expect(apigw_header_rules_validate(pool, "requestHeaders",
           rules(APIGW_HDR_SET, "Bad:Name", "x")),
           "requestHeaders[1]", "not a valid header name");
    expect(apigw_header_rules_validate(pool, "requestHeaders",
           rules(APIGW_HDR_SET, "X-A", NULL)), "requestHeaders[1]",
           "needs a value");
    expect(apigw_header_rules_validate(pool, "requestHeaders",
           rules(APIGW_HDR_UNSET, "X-A", "x")), "requestHeaders[1]",
           "takes no value");
    expect(apigw_header_rules_validate(pool, "requestHeaders",
           rules((apigw_hdr_action)42, "X-A", "x")), "requestHeaders[1]",
           "unknown action");
}

/* A value holding '\' is an ap_expr string: its escapes that make a
 * control character are refused like the character, those that do not
 * are not (found by fuzz_headers; checked against httpd 2.4.71's
 * lexer: "\015" is CR, "\b" a backspace, "\0" ends the value, "\\r"
 * a backslash and an 'r', "\x0d" the text "x0d"). */
static void test_header_value_escapes(void **state)
{
    static const char *const refused[] = {
        "a\\015b", "a\\12", "a\\0", "a\\177", "\\33[31m", "a\\bb",
        "a\\fb", "a\\\\\\rb", NULL
    };
    static const char *const accepted[] = {
        "a\\\\rb", "a\\\\nb", "a\\101b", "a\\x0db", "a\\tb", "a\\40b",
        "%{REMOTE_ADDR}\\\\", "a\\", NULL
    };
    int i;

    (void)state;
    for (i = 0; refused[i]; i++) {
        expect(apigw_header_rules_validate(pool, "responseHeaders",
               rules(APIGW_HDR_SET, "X-A", refused[i])),
               "responseHeaders[1]", "control character");
    }
    for (i = 0; accepted[i]; i++) {
        const apigw_invalid *inv = apigw_header_rules_validate(pool,
            "responseHeaders", rules(APIGW_HDR_ADD, "X-A", accepted[i]));
        if (inv) {
            fail_msg("\"%s\" refused: %s", accepted[i], inv->problem);
        }
    }
}

static void test_query_limits_times(void **state)
{
    (void)state;
    assert_null(apigw_query_deny_validate(pool, list("debug", "token", NULL)));
    expect(apigw_query_deny_validate(pool, list("ok", "a&b", NULL)),
           "queryPolicy.names[1]", "not a valid query string name");
    expect(apigw_query_deny_validate(pool, list("", NULL)),
           "queryPolicy.names[0]", "not a valid");
    assert_null(apigw_body_limit_validate(pool, "requestBodyLimit", -1));
    assert_null(apigw_body_limit_validate(pool, "requestBodyLimit", 1));
    expect(apigw_body_limit_validate(pool, "responseBodyLimit", 0),
           "responseBodyLimit", "greater than zero");
    assert_null(apigw_timeout_validate(pool, 1));
    expect(apigw_timeout_validate(pool, 0), "timeoutSeconds", "greater than zero");
    assert_null(apigw_cache_ttl_validate(pool, 0));
    assert_null(apigw_cache_ttl_validate(pool, apr_time_from_sec(1)));
    expect(apigw_cache_ttl_validate(pool, apr_time_from_msec(500)),
           "cacheTtlSeconds", "at least 1s");
    expect(apigw_cache_ttl_validate(pool, -1), "cacheTtlSeconds", "greater");
}

static void test_endpoint_together(void **state)
{
    apigw_policy_conf eff;

    (void)state;
    memset(&eff, 0, sizeof(eff));
    eff.cors = cors();
    eff.cache.enabled = -1;
    assert_null(apigw_policy_validate_endpoint(pool, &eff, 0, 0));
    eff.cors.credentials = 1;           /* no list of origins */
    expect(apigw_policy_validate_endpoint(pool, &eff, 0, 0),
           "cors.allowCredentials", "list of origins");
    eff.cors.origins = list("https://a.example.com", NULL);
    assert_null(apigw_policy_validate_endpoint(pool, &eff, 0, 0));
    eff.query_deny = list("debug", NULL);
    expect(apigw_policy_validate_endpoint(pool, &eff, 1, 0),
           "queryPolicy.names", "cannot both be used");
    eff.cache.enabled = 1;
    expect(apigw_policy_validate_endpoint(pool, &eff, 0, 0), "cacheTtlSeconds",
           "needs a TTL");
    assert_null(apigw_policy_validate_endpoint(pool, &eff, 0,
                                               apr_time_from_sec(5)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cors_valid),
        T(test_cors_fields),
        T(test_header_rules),
        T(test_header_value_escapes),
        T(test_query_limits_times),
        T(test_endpoint_together),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
