/* sources: mod_apigw/apigw_policy_origin.c */
/* Unit tests for mod_apigw/apigw_policy_origin.c: which CORS origin
 * patterns configtest accepts, and which origins each one matches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_policy_origin.h"

static void valid(const char *pattern)
{
    const char *err = apigw_cors_origin_check(pool, pattern);
    if (err) {
        fail_msg("\"%s\" refused: %s", pattern, err);
    }
}

static void invalid(const char *pattern, const char *why)
{
    const char *err = apigw_cors_origin_check(pool, pattern);
    if (!err) {
        fail_msg("\"%s\" accepted", pattern);
    }
    if (!strstr(err, why)) {
        fail_msg("\"%s\": \"%s\" does not say \"%s\"", pattern, err, why);
    }
}

static void test_check(void **state)
{
    (void)state;
    valid("https://app.example.com");
    valid("http://127.0.0.1:8080");
    valid("https://*.example.com");
    valid("http://*.example.test:9000");
    valid("null");
    valid("app+x-1.2://host");
    invalid("example.com", "scheme://host");
    invalid("://example.com", "scheme://host");
    invalid("https://", "host is missing");
    invalid("https://*.", "host is missing");
    invalid("https://:80", "host is missing");
    invalid("https://example.com/", "no path");
    invalid("https://example.com/x", "no path");
    invalid("https://a.*.example.com", "first label");
    invalid("https://*example.com", "first label");
    invalid("https://example.com:", "port");
    invalid("https://example.com:123456", "port");
    invalid("https://example.com:8a", "invalid character");
    invalid("https://exa mple.com", "invalid character");
    invalid("ht tp://example.com", "scheme");
}

#define MATCH(p, o) assert_true(apigw_cors_origin_match(p, o))
#define NO_MATCH(p, o) assert_false(apigw_cors_origin_match(p, o))

static void test_exact(void **state)
{
    (void)state;
    MATCH("https://app.example.com", "https://app.example.com");
    MATCH("https://app.example.com", "HTTPS://APP.Example.com");
    NO_MATCH("https://app.example.com", "http://app.example.com");
    NO_MATCH("https://app.example.com", "https://app.example.com:443");
    NO_MATCH("https://app.example.com", "https://app.example.com.evil");
    NO_MATCH("https://app.example.com", "");
    MATCH("null", "null");
}

static void test_wildcard(void **state)
{
    (void)state;
    MATCH("https://*.example.com", "https://a.example.com");
    MATCH("https://*.example.com", "https://a.b.example.com");
    MATCH("https://*.example.com", "https://A-1.Example.COM");
    NO_MATCH("https://*.example.com", "https://example.com");
    NO_MATCH("https://*.example.com", "https://.example.com");
    NO_MATCH("https://*.example.com", "http://a.example.com");
    NO_MATCH("https://*.example.com", "https://a.example.com:8443");
    NO_MATCH("https://*.example.com", "https://aexample.com");
    NO_MATCH("https://*.example.com", "https://a.example.com.evil.org");
    NO_MATCH("https://*.example.com", "https://evil.org/.example.com");
    NO_MATCH("https://*.example.com", "https://user@a.example.com");
    NO_MATCH("https://*.example.com", "https:/");
    MATCH("http://*.example.test:9000", "http://api.example.test:9000");
    NO_MATCH("http://*.example.test:9000", "http://api.example.test:900");
    NO_MATCH("http://*.example.test:9000", "http://api.example.test");
}

/* A wildcard stands for one or more labels, none of them empty: these
 * are not subdomains of example.com (found by test/fuzz/fuzz_cors.c). */
static void test_wildcard_empty_label(void **state)
{
    (void)state;
    NO_MATCH("https://*.example.com", "https://..example.com");
    NO_MATCH("https://*.example.com", "https://...example.com");
    NO_MATCH("https://*.example.com", "https://.a.example.com");
    NO_MATCH("https://*.example.com", "https://a..example.com");
    NO_MATCH("https://*.example.com", "https://a..b.example.com");
    NO_MATCH("http://*.example.test:9000", "http://..example.test:9000");
    MATCH("https://*.example.com", "https://a.b.example.com");
    MATCH("https://*.example.com", "https://-.example.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_check),
        T(test_exact),
        T(test_wildcard),
        T(test_wildcard_empty_label),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
