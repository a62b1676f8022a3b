/* sources: mod_apigw/apigw_policy_bots.c mod_apigw/apigw_policy_validate.c mod_apigw/apigw_policy_origin.c common/apigw_parse.c */
/* libs: -lpcre2-8 */
/* cflags: -I/usr/include/apache2 */
/* Unit tests for mod_apigw/apigw_policy_bots.c: the bot policy's verdict
 * on a User-Agent (allow-list, deny-list, patterns, the empty User-Agent,
 * in that order), patterns searched unanchored, a pattern too costly to
 * match cut off at its bound, patterns that do not compile, and the
 * validation of the lists (apigw_bots_validate). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_policy_bots.h"
#include "apigw_policy_validate.h"

static void add(apigw_bot_policy *b, apigw_bot_list list, const char *v)
{
    const char *err = apigw_bot_add(pool, b, list, v);
    if (err) {
        fail_msg("%s: %s", v, err);
    }
}

static apigw_bot_verdict check(const apigw_bot_policy *b, const char *ua,
                               int *which)
{
    const char *err = NULL;
    int w;
    apigw_bot_verdict v = apigw_bot_check(pool, b, ua, ua ? strlen(ua) : 0,
                                          &w, &err);
    if (which) {
        *which = w;
    }
    return v;
}

static void test_unset_refuses_nothing(void **state)
{
    apigw_bot_policy b;

    (void)state;
    apigw_bot_init(&b);
    assert_false(APIGW_BOT_ACTIVE(&b));
    assert_int_equal(check(&b, "curl/8", NULL), APIGW_BOT_ADMIT);
    assert_int_equal(check(&b, NULL, NULL), APIGW_BOT_ADMIT);
    assert_int_equal(check(&b, "", NULL), APIGW_BOT_ADMIT);
    /* an allow-list alone refuses nothing either */
    add(&b, APIGW_BOT_LIST_ALLOW, "Monitor/1");
    assert_false(APIGW_BOT_ACTIVE(&b));
    assert_int_equal(check(&b, "Monitor/1", NULL), APIGW_BOT_ALLOWED);
}

static void test_deny_list_is_exact(void **state)
{
    apigw_bot_policy b;

    (void)state;
    apigw_bot_init(&b);
    add(&b, APIGW_BOT_LIST_DENY, "EvilBot/1.0");
    add(&b, APIGW_BOT_LIST_DENY, "Mozilla/5.0 (compatible; Bad/2)");
    assert_true(APIGW_BOT_ACTIVE(&b));
    assert_int_equal(check(&b, "EvilBot/1.0", NULL), APIGW_BOT_DENIED);
    assert_int_equal(check(&b, "Mozilla/5.0 (compatible; Bad/2)", NULL),
                     APIGW_BOT_DENIED);
    assert_int_equal(check(&b, "evilbot/1.0", NULL), APIGW_BOT_ADMIT);
    assert_int_equal(check(&b, "EvilBot/1.0 ", NULL), APIGW_BOT_ADMIT);
    assert_int_equal(check(&b, "EvilBot/1.", NULL), APIGW_BOT_ADMIT);
    assert_int_equal(check(&b, NULL, NULL), APIGW_BOT_ADMIT);
    assert_int_equal(b.deny->nelts, 2);
}

static void test_length_is_the_callers(void **state)
{
    apigw_bot_policy b;
    const char *err = NULL;
    int which;

    (void)state;
    apigw_bot_init(&b);
    add(&b, APIGW_BOT_LIST_DENY, "Evil");
    /* a value that is not NUL-terminated where the caller says it ends */
    assert_int_equal(apigw_bot_check(pool, &b, "EvilBot", 4, &which, &err),
                     APIGW_BOT_DENIED);
    assert_int_equal(apigw_bot_check(pool, &b, "EvilBot", 7, &which, &err),
                     APIGW_BOT_ADMIT);
}

static void test_patterns_search_unanchored(void **state)
{
    apigw_bot_policy b;
    int which;

    (void)state;
    apigw_bot_init(&b);
    add(&b, APIGW_BOT_LIST_PATTERN, "^Scrapy/");
    add(&b, APIGW_BOT_LIST_PATTERN, "(?i)(bot|crawler|spider)");
    assert_int_equal(check(&b, "Scrapy/2.11", &which), APIGW_BOT_PATTERN);
    assert_int_equal(which, 0);
    assert_int_equal(check(&b, "Mozilla/5.0 (compatible; Googlebot/2.1)",
                           &which), APIGW_BOT_PATTERN);
    assert_int_equal(which, 1);
    assert_int_equal(check(&b, "A WebCRAWLER", &which), APIGW_BOT_PATTERN);
    assert_int_equal(check(&b, "NotScrapy/2", &which), APIGW_BOT_ADMIT);
    assert_int_equal(which, -1);
    assert_int_equal(check(&b, "Mozilla/5.0 Firefox/128.0", NULL),
                     APIGW_BOT_ADMIT);
    assert_string_equal(APR_ARRAY_IDX(b.patterns, 1, const char *),
                        "(?i)(bot|crawler|spider)");
}

static void test_order_allow_deny_patterns_empty(void **state)
{
    apigw_bot_policy b;

    (void)state;
    apigw_bot_init(&b);
    add(&b, APIGW_BOT_LIST_ALLOW, "curl/8.0 (monitor)");
    add(&b, APIGW_BOT_LIST_ALLOW, "EvilBot/1.0");
    add(&b, APIGW_BOT_LIST_DENY, "EvilBot/1.0");
    add(&b, APIGW_BOT_LIST_DENY, "curl/7");
    add(&b, APIGW_BOT_LIST_PATTERN, "curl");
    b.empty_ua = 1;
    /* the allow-list beats the deny-list and the patterns */
    assert_int_equal(check(&b, "curl/8.0 (monitor)", NULL), APIGW_BOT_ALLOWED);
    assert_int_equal(check(&b, "EvilBot/1.0", NULL), APIGW_BOT_ALLOWED);
    /* the deny-list before the patterns */
    assert_int_equal(check(&b, "curl/7", NULL), APIGW_BOT_DENIED);
    assert_int_equal(check(&b, "curl/8.0", NULL), APIGW_BOT_PATTERN);
    /* the empty User-Agent last */
    assert_int_equal(check(&b, NULL, NULL), APIGW_BOT_EMPTY);
    assert_int_equal(check(&b, "", NULL), APIGW_BOT_EMPTY);
    b.empty_ua = 0;
    assert_int_equal(check(&b, NULL, NULL), APIGW_BOT_ADMIT);
    b.empty_ua = -1;
    assert_int_equal(check(&b, "", NULL), APIGW_BOT_ADMIT);
}

static void test_empty_denied_alone(void **state)
{
    apigw_bot_policy b;

    (void)state;
    apigw_bot_init(&b);
    b.empty_ua = 1;
    assert_true(APIGW_BOT_ACTIVE(&b));
    assert_int_equal(check(&b, NULL, NULL), APIGW_BOT_EMPTY);
    assert_int_equal(check(&b, "x", NULL), APIGW_BOT_ADMIT);
}

static void test_costly_pattern_is_cut_off(void **state)
{
    apigw_bot_policy b;
    const char *err = NULL;
    char ua[64];
    int which;

    (void)state;
    apigw_bot_init(&b);
    add(&b, APIGW_BOT_LIST_PATTERN, "^Fine/");
    add(&b, APIGW_BOT_LIST_PATTERN, "^(a+)+$");
    memset(ua, 'a', 40);
    ua[40] = '!';
    ua[41] = '\0';
    assert_int_equal(apigw_bot_check(pool, &b, ua, strlen(ua), &which, &err),
                     APIGW_BOT_FAILED);
    assert_int_equal(which, 1);
    assert_non_null(err);
    assert_true(strstr(err, "limit") != NULL);
    /* short inputs still match */
    assert_int_equal(check(&b, "aaaa", &which), APIGW_BOT_PATTERN);
    assert_int_equal(check(&b, "aab", &which), APIGW_BOT_ADMIT);
}

static void test_bad_patterns_are_refused(void **state)
{
    apigw_bot_policy b;
    const char *err;

    (void)state;
    apigw_bot_init(&b);
    err = apigw_bot_add(pool, &b, APIGW_BOT_LIST_PATTERN, "(unclosed");
    assert_non_null(err);
    assert_non_null(strstr(err, "\"(unclosed\" does not compile at offset 9"));
    assert_non_null(strstr(err, "missing closing parenthesis"));
    err = apigw_bot_add(pool, &b, APIGW_BOT_LIST_PATTERN, "a{2,1}");
    assert_non_null(err);
    assert_non_null(strstr(err, "out of order"));
    /* nothing was kept */
    assert_null(b.patterns);
    assert_null(b.codes);
    assert_non_null(apigw_bot_add(pool, &b, APIGW_BOT_LIST_DENY, ""));
    assert_null(b.deny);
}

static void test_validate(void **state)
{
    apigw_bot_policy b;
    const apigw_invalid *inv;

    (void)state;
    apigw_bot_init(&b);
    assert_null(apigw_bots_validate(pool, &b));
    add(&b, APIGW_BOT_LIST_ALLOW, "Monitor/1.0");
    add(&b, APIGW_BOT_LIST_DENY, "Evil\tBot");      /* a tab inside: fine */
    add(&b, APIGW_BOT_LIST_PATTERN, " bot$");       /* patterns: anything */
    b.empty_ua = 1;
    assert_null(apigw_bots_validate(pool, &b));

    add(&b, APIGW_BOT_LIST_DENY, "Bad\001Bot");
    inv = apigw_bots_validate(pool, &b);
    assert_non_null(inv);
    assert_string_equal(inv->field, "bots.deny[1]");
    assert_non_null(strstr(inv->problem, "control character"));
    apr_array_pop(b.deny);

    add(&b, APIGW_BOT_LIST_ALLOW, "Monitor/2.0 ");
    inv = apigw_bots_validate(pool, &b);
    assert_non_null(inv);
    assert_string_equal(inv->field, "bots.allow[1]");
    assert_non_null(strstr(inv->problem, "'Monitor/2.0 ' starts or ends"));
    apr_array_pop(b.allow);

    add(&b, APIGW_BOT_LIST_PATTERN, "a\rb");
    inv = apigw_bots_validate(pool, &b);
    assert_non_null(inv);
    assert_string_equal(inv->field, "bots.patterns[1]");
    apr_array_pop(b.patterns);

    assert_null(apigw_bots_validate(pool, &b));
    b.empty_ua = 2;
    inv = apigw_bots_validate(pool, &b);
    assert_non_null(inv);
    assert_string_equal(inv->field, "bots.emptyUserAgent");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_unset_refuses_nothing),
        T(test_deny_list_is_exact),
        T(test_length_is_the_callers),
        T(test_patterns_search_unanchored),
        T(test_order_allow_deny_patterns_empty),
        T(test_empty_denied_alone),
        T(test_costly_pattern_is_cut_off),
        T(test_bad_patterns_are_refused),
        T(test_validate),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
