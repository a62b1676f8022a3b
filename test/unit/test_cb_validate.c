/* sources: mod_apigw_breaker/apigw_cb_settings.c mod_apigw_breaker/apigw_cb_expr.c mod_apigw_breaker/apigw_cb_window.c mod_apigw_breaker/apigw_cb_url.c mod_apigw_breaker/apigw_sus_policy.c mod_apigw_breaker/apigw_sus_codes.c */
/* Unit tests for the validation of mod_apigw_breaker's settings, as the
 * directives and an admin API call it: apigw_cb_breaker_validate (one
 * circuit breaker: expression or preset, durations, status, min-requests,
 * fallback backend, scope) and apigw_sus_policy_validate (the fields of
 * one suspension policy). Valid settings give NULL; each mistake gives a
 * message naming its field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_cb_settings.h"
#include "apigw_cb_expr.h"
#include "apigw_sus_policy.h"

/* The breaker's settings with the defaults and an expression. */
static apigw_cb_settings breaker(const char *expression)
{
    apigw_cb_settings s;

    apigw_cb_settings_defaults(&s);
    s.expression = expression;
    return s;
}

/* validate gives a message holding every part. */
static void assert_cb_error(const apigw_cb_settings *s, const char *part1,
                            const char *part2)
{
    const char *err = apigw_cb_breaker_validate(pool, s);

    assert_non_null(err);
    if (!strstr(err, part1) || (part2 && !strstr(err, part2))) {
        fail_msg("'%s' lacks '%s' / '%s'", err, part1, part2 ? part2 : "");
    }
}

static void test_cb_valid(void **state)
{
    apigw_cb_settings s = breaker("errors-50");
    (void)state;

    assert_null(apigw_cb_breaker_validate(pool, &s));
    assert_string_equal(apigw_cb_settings_text(&s),
                        apigw_cb_expr_preset("errors-50"));
    s = breaker("NetworkErrorRatio() > 0.5 || "
                "LatencyAtQuantileMS(99.9) >= 1500");
    s.timing.check = apr_time_from_msec(1);
    s.timing.recovery = 0;
    s.status = 429;
    s.min_requests = 0;
    s.fallback_backend = "https://cache.example:8443/degraded";
    s.scope_backend = 1;
    assert_null(apigw_cb_breaker_validate(pool, &s));
    assert_string_equal(apigw_cb_settings_text(&s), s.expression);
}

static void test_cb_expression(void **state)
{
    apigw_cb_settings s = breaker(NULL);
    (void)state;

    assert_cb_error(&s, "the expression is missing", "errors-50");
    s = breaker("errors-40");
    assert_cb_error(&s, "'errors-40' is neither a preset", "errors-30");
    s = breaker("NetworkErrorRatio() > ");
    assert_cb_error(&s, "expression \"NetworkErrorRatio() > \"",
                    "error at position 23 (the end)");
    s = breaker("NetworkErrorRatio() = 0.5");
    assert_cb_error(&s, "error at position 21 (at \"= 0.5\")",
                    "use '==' to compare");
}

static void test_cb_fields(void **state)
{
    apigw_cb_settings s;
    (void)state;

    s = breaker("5xx");
    s.timing.check = 0;
    assert_cb_error(&s, "check= must be greater than zero", NULL);
    s = breaker("5xx");
    s.timing.fallback = -1;
    assert_cb_error(&s, "fallback= must be greater than zero", NULL);
    s = breaker("5xx");
    s.timing.recovery = 10;
    assert_cb_error(&s, "recovery= must be at least 1ms", NULL);
    s = breaker("5xx");
    s.timing.recovery = -1;
    assert_cb_error(&s, "recovery= must be zero or more", NULL);
    s = breaker("5xx");
    s.status = 200;
    assert_cb_error(&s, "status=200 must be an HTTP error status", NULL);
    s.status = 600;
    assert_cb_error(&s, "status=600", "from 400 to 599");
    s.status = 399;
    assert_cb_error(&s, "status=399", NULL);
    s.status = 400;
    assert_null(apigw_cb_breaker_validate(pool, &s));
    s.status = 599;
    assert_null(apigw_cb_breaker_validate(pool, &s));
    s = breaker("5xx");
    s.min_requests = APIGW_CB_MAX_MIN_REQUESTS;
    assert_null(apigw_cb_breaker_validate(pool, &s));
    s.min_requests = APIGW_CB_MAX_MIN_REQUESTS + 1;
    assert_cb_error(&s, "min-requests=1000000001",
                    "from 0 to 1000000000");
    s = breaker("5xx");
    s.fallback_backend = "ftp://h/";
    assert_cb_error(&s, "fallback-backend=ftp://h/", "http://");
    s.fallback_backend = "http://h/x?q=1";
    assert_cb_error(&s, "fallback-backend=http://h/x?q=1",
                    "must not have a query");
    s = breaker("5xx");
    s.scope_backend = 2;
    assert_cb_error(&s, "scope= must be endpoint", "or backend");
}

/* validate gives a message holding part. */
static void assert_sus_error(const apigw_sus_fields *f, const char *part)
{
    const char *err = apigw_sus_policy_validate(pool, f);

    assert_non_null(err);
    if (!strstr(err, part)) {
        fail_msg("'%s' lacks '%s'", err, part);
    }
}

static void test_sus_valid(void **state)
{
    apigw_sus_fields f;
    (void)state;

    memset(&f, 0, sizeof(f));
    assert_null(apigw_sus_policy_validate(pool, &f));
    f.initial = apr_time_from_sec(2);
    f.initial_set = 1;
    f.max = apr_time_from_sec(60);
    f.max_set = 1;
    f.factor = 2;
    f.factor_set = 1;
    f.retries = 3;
    f.retries_set = 1;
    f.retry_delay = apr_time_from_msec(500);
    f.retry_delay_set = 1;
    assert_null(apigw_sus_policy_validate(pool, &f));
    /* -1 and 0 turn suspension off */
    f.initial = -1;
    assert_null(apigw_sus_policy_validate(pool, &f));
    f.initial = 0;
    f.max = 0;
    assert_null(apigw_sus_policy_validate(pool, &f));
}

static void test_sus_fields(void **state)
{
    apigw_sus_fields f;
    (void)state;

    memset(&f, 0, sizeof(f));
    f.factor = 0.5;
    f.factor_set = 1;
    assert_sus_error(&f, "factor=0.5: a number from 1 to 1000");
    f.factor = 1001;
    assert_sus_error(&f, "factor=1001");
    f.factor = 1000.00001;
    assert_sus_error(&f, "factor=1000.00001");
    f.factor = NAN;
    assert_non_null(apigw_sus_policy_validate(pool, &f));
    f.factor = 1000;
    assert_null(apigw_sus_policy_validate(pool, &f));
    f.factor = 1;
    assert_null(apigw_sus_policy_validate(pool, &f));

    memset(&f, 0, sizeof(f));
    f.initial = apr_time_from_sec(60);
    f.initial_set = 1;
    f.max = apr_time_from_sec(30);
    f.max_set = 1;
    assert_sus_error(&f, "max= must not be shorter than initial=");
    f.max = 0;
    assert_sus_error(&f, "max=0 disables suspension");
    /* max alone: the balancer's line may say initial=0 */
    f.initial_set = 0;
    assert_null(apigw_sus_policy_validate(pool, &f));
    f.max = -2;
    assert_sus_error(&f, "max= must be a duration");

    memset(&f, 0, sizeof(f));
    f.retries = -1;
    f.retries_set = 1;
    assert_sus_error(&f, "retries=-1: a whole number from 0 to 1000");
    f.retries = 1001;
    assert_sus_error(&f, "retries=1001");
    f.retries = 1000;
    assert_null(apigw_sus_policy_validate(pool, &f));
    f.retries = 0;
    assert_null(apigw_sus_policy_validate(pool, &f));

    memset(&f, 0, sizeof(f));
    f.retry_delay = -1;
    f.retry_delay_set = 1;
    assert_sus_error(&f, "retry-delay= must not be negative");
}

/* The fields applied over the defaults make the policy a member runs
 * with, which apigw_sus_policy_check accepts. */
static void test_sus_apply(void **state)
{
    apigw_sus_fields f;
    apigw_sus_policy p;
    (void)state;

    memset(&f, 0, sizeof(f));
    f.initial = apr_time_from_sec(2);
    f.initial_set = 1;
    f.retries = 3;              /* not set: not applied */
    f.mark_line = 1;
    apigw_sus_policy_defaults(&p);
    apigw_sus_policy_apply(&p, &f);
    assert_int_equal(p.initial, apr_time_from_sec(2));
    assert_int_equal(p.max, APIGW_SUS_DEFAULT_MAX);
    assert_int_equal(p.retries, 0);
    assert_true(p.timeout_state);
    assert_null(apigw_sus_policy_check(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cb_valid),
        T(test_cb_expression),
        T(test_cb_fields),
        T(test_sus_valid),
        T(test_sus_fields),
        T(test_sus_apply),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
