/* sources: mod_apigw_ratelimit/apigw_rl_headers.c */
/* Unit tests for mod_apigw_ratelimit/apigw_rl_headers.c: a limit as the
 * IETF draft's quota per window (whole seconds, never promising more than
 * the limit refills), and the RateLimit-Policy / RateLimit items. */
#define UNIT_POOL
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "unit_apr.h"
#include "apigw_rl_headers.h"

#define MS ((apr_uint64_t)1000000)
#define SEC ((apr_uint64_t)1000000000)

static void quota(apr_uint64_t avg, apr_uint64_t period, apr_uint64_t q,
                  apr_uint64_t w)
{
    apr_uint64_t gq, gw;
    apigw_rl_quota(avg, period, &gq, &gw);
    assert_int_equal(gq, q);
    assert_int_equal(gw, w);
}

static void test_quota(void **state)
{
    (void)state;
    quota(100, SEC, 100, 1);
    quota(5, 60 * SEC, 5, 60);
    quota(1000, 3600 * SEC, 1000, 3600);
    quota(5, 500 * MS, 10, 1);                /* 5 per 500 ms: 10 a second */
    quota(1, 1500 * MS, 1, 2);                /* rounded down: not 1.33 */
    quota(3, 250 * MS, 12, 1);
    quota(0, SEC, 0, 1);
    quota(1000000000, 100ULL * 365 * 86400 * SEC, 1000000000,
          100 * 365 * 86400ULL);              /* no overflow */
}

static void test_ceil_sec(void **state)
{
    (void)state;
    assert_int_equal(apigw_rl_ceil_sec(0), 0);
    assert_int_equal(apigw_rl_ceil_sec(1), 1);
    assert_int_equal(apigw_rl_ceil_sec(SEC), 1);
    assert_int_equal(apigw_rl_ceil_sec(SEC + 1), 2);
}

static void test_u64_text(void **state)
{
    (void)state;
    assert_string_equal(apigw_rl_u64_text(pool, 0), "0");
    assert_string_equal(apigw_rl_u64_text(pool, 7), "7");
    assert_string_equal(apigw_rl_u64_text(pool, 1000000000), "1000000000");
    assert_string_equal(apigw_rl_u64_text(pool, 18446744073709551615ULL),
                        "18446744073709551615");
    {
        apr_uint64_t v;
        char want[32];
        for (v = 0; v < 100000; v += (v < 1000 ? 1 : 997)) {
            snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
            assert_string_equal(apigw_rl_u64_text(pool, v), want);
        }
    }
}

static void test_items(void **state)
{
    (void)state;
    assert_string_equal(apigw_rl_quota_params(pool, 100, 60 * SEC),
                        ";q=100;w=60");
    assert_string_equal(apigw_rl_policy_item(pool, "search",
                            apigw_rl_quota_params(pool, 100, 60 * SEC)),
                        "\"search\";q=100;w=60");
    assert_string_equal(apigw_rl_policy_item(pool, "limit-1",
                            apigw_rl_quota_params(pool, 5, 500 * MS)),
                        "\"limit-1\";q=10;w=1");
    assert_string_equal(apigw_rl_state_item(pool, "search", 42, 11 * SEC + 1),
                        "\"search\";r=42;t=12");
    assert_string_equal(apigw_rl_state_item(pool, "a", 0, 0),
                        "\"a\";r=0;t=0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_quota),
        T(test_ceil_sec),
        T(test_u64_text),
        T(test_items),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
