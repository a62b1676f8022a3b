/* sources: mod_apigw_ratelimit/apigw_rl_gcra.c */
/* Unit tests for mod_apigw_ratelimit/apigw_rl_gcra.c: exact admission
 * counts of the GCRA over simulated time (burst, refill, periods below and
 * above one second, average=0), its headers' numbers, delay= (waits that
 * end exactly when a token exists, never more admitted than without it),
 * and its refusals of impossible rates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "apigw_rl_gcra.h"

#define MS ((apr_uint64_t)1000000)
#define SEC ((apr_uint64_t)1000000000)
#define T0 ((apr_uint64_t)1700000000 * SEC)   /* a realistic "now" */

typedef struct {
    apigw_rl_rate rate;
    apr_uint64_t tat;
} bucket;

static void bucket_init_delay(bucket *b, apr_uint64_t avg,
                              apr_uint64_t period, apr_uint64_t burst,
                              apr_uint64_t delay)
{
    assert_null(apigw_rl_rate_init(&b->rate, avg, period, burst, delay));
    b->tat = 0;
}

static void bucket_init(bucket *b, apr_uint64_t avg, apr_uint64_t period,
                        apr_uint64_t burst)
{
    bucket_init_delay(b, avg, period, burst, 0);
}

static int take(bucket *b, apr_uint64_t now, apigw_rl_decision *d)
{
    apigw_rl_decision dd;
    b->tat = apigw_rl_gcra(&b->rate, b->tat, now, d ? d : &dd);
    return (d ? d : &dd)->admitted;
}

/* n requests at the same instant: how many pass */
static int admitted_at(bucket *b, apr_uint64_t now, int n)
{
    int i, ok = 0;
    for (i = 0; i < n; i++) {
        ok += take(b, now, NULL);
    }
    return ok;
}

static void test_default_burst_admits_one(void **state)
{
    bucket b;
    (void)state;
    bucket_init(&b, 10, SEC, 1);
    assert_int_equal(admitted_at(&b, T0, 5), 1);
    /* next token after exactly period/average */
    assert_int_equal(admitted_at(&b, T0 + 100 * MS - 1, 1), 0);
    assert_int_equal(admitted_at(&b, T0 + 100 * MS, 3), 1);
}

static void test_burst_then_refill(void **state)
{
    bucket b;
    apigw_rl_decision d;
    (void)state;
    bucket_init(&b, 5, 60 * SEC, 5);            /* 5 per minute, burst 5 */
    assert_true(take(&b, T0, &d));
    assert_int_equal(d.remaining, 4);
    assert_int_equal(d.reset_ns, 12 * SEC);
    assert_int_equal(admitted_at(&b, T0, 30), 4);
    take(&b, T0, &d);
    assert_false(d.admitted);
    assert_int_equal(d.remaining, 0);
    assert_int_equal(d.retry_ns, 12 * SEC);
    assert_int_equal(d.reset_ns, 60 * SEC);
    /* one token every 12 s */
    assert_int_equal(admitted_at(&b, T0 + 11 * SEC, 5), 0);
    assert_int_equal(admitted_at(&b, T0 + 12 * SEC, 5), 1);
    assert_int_equal(admitted_at(&b, T0 + 36 * SEC, 5), 2);
    /* a full period idle: the whole burst again, never more */
    assert_int_equal(admitted_at(&b, T0 + 1000 * SEC, 50), 5);
}

static void test_sustained_rate_is_exact(void **state)
{
    bucket b;
    apr_uint64_t t;
    int ok = 0;
    (void)state;
    /* 100 per second, burst 10, hammered every millisecond for 10 s:
     * the burst plus 100 per second */
    bucket_init(&b, 100, SEC, 10);
    for (t = 0; t < 10 * SEC; t += MS) {
        ok += take(&b, T0 + t, NULL);
    }
    assert_int_equal(ok, 10 + 999);
}

static void test_period_below_one_second(void **state)
{
    bucket b;
    (void)state;
    bucket_init(&b, 1, 250 * MS, 2);
    assert_int_equal(admitted_at(&b, T0, 5), 2);
    assert_int_equal(admitted_at(&b, T0 + 249 * MS, 1), 0);
    assert_int_equal(admitted_at(&b, T0 + 250 * MS, 5), 1);
    assert_int_equal(admitted_at(&b, T0 + 1000 * MS, 5), 2);
}

static void test_period_above_one_second(void **state)
{
    bucket b;
    apigw_rl_decision d;
    apr_uint64_t t;
    int ok = 0;
    (void)state;
    bucket_init(&b, 6, 60 * SEC, 1);             /* one per 10 s */
    for (t = 0; t < 60 * SEC; t += SEC) {
        ok += take(&b, T0 + t, NULL);
    }
    assert_int_equal(ok, 6);
    take(&b, T0 + 51 * SEC, &d);
    assert_false(d.admitted);
    assert_int_equal(d.retry_ns, 9 * SEC);
}

static void test_interval_rounds_up(void **state)
{
    bucket b;
    (void)state;
    bucket_init(&b, 3, SEC, 3);                  /* 333333334 ns a token */
    assert_int_equal(b.rate.interval, 333333334);
    assert_int_equal(admitted_at(&b, T0, 10), 3);
    /* a token is back after a whole interval, not a nanosecond sooner */
    assert_int_equal(admitted_at(&b, T0 + 333333333, 10), 0);
    assert_int_equal(admitted_at(&b, T0 + 333333334, 10), 1);
    /* so three per second are never exceeded over the long run */
    assert_int_equal(admitted_at(&b, T0 + 100 * SEC - 1, 1000), 3);
}

static void test_average_zero_is_unlimited(void **state)
{
    bucket b;
    apigw_rl_decision d;
    (void)state;
    bucket_init(&b, 0, SEC, 1);
    assert_true(b.rate.unlimited);
    assert_int_equal(admitted_at(&b, T0, 100000), 100000);
    take(&b, T0, &d);
    assert_true(d.admitted);
    assert_int_equal(d.retry_ns, 0);
}

static void test_refund(void **state)
{
    bucket b;
    (void)state;
    bucket_init(&b, 1, 60 * SEC, 2);
    assert_int_equal(admitted_at(&b, T0, 2), 2);
    b.tat = apigw_rl_gcra_refund(&b.rate, b.tat);
    assert_int_equal(admitted_at(&b, T0, 5), 1);
    /* refunding a fresh bucket changes nothing */
    assert_int_equal(apigw_rl_gcra_refund(&b.rate, 0), 0);
}

static void test_time_going_backwards(void **state)
{
    bucket b;
    (void)state;
    bucket_init(&b, 1, SEC, 1);
    assert_int_equal(admitted_at(&b, T0, 1), 1);
    /* another process's clock read a little earlier: still one token */
    assert_int_equal(admitted_at(&b, T0 - 5 * MS, 3), 0);
}

static void test_bad_rates(void **state)
{
    apigw_rl_rate rt;
    (void)state;
    assert_string_equal(apigw_rl_rate_init(&rt, 1, 0, 1, 0),
                        "period must be greater than zero");
    assert_string_equal(apigw_rl_rate_init(&rt, 1, SEC, 0, 0),
                        "burst must be at least 1");
    assert_string_equal(apigw_rl_rate_init(&rt, 1, (apr_uint64_t)1 << 60,
                                           1000, 0),
                        "burst * period / average is too long");
    assert_null(apigw_rl_rate_init(&rt, 1000000000, SEC, 1000000000, 0));
    assert_string_equal(apigw_rl_rate_init(&rt, 1, SEC, 1,
                                           ((apr_uint64_t)1 << 62) + 1),
                        "delay is too long");
    assert_string_equal(apigw_rl_rate_init(&rt, 1, (apr_uint64_t)1 << 61, 1,
                                           (apr_uint64_t)1 << 62),
                        "burst * period / average + delay is too long");
    assert_null(apigw_rl_rate_init(&rt, 1, SEC, 1, 10 * SEC));
}

static void test_delay_waits_for_the_next_token(void **state)
{
    bucket b;
    apigw_rl_decision d;
    int i;
    (void)state;
    /* 10 per second, burst 1, requests may wait 300 ms */
    bucket_init_delay(&b, 10, SEC, 1, 300 * MS);
    for (i = 0; i < 4; i++) {
        assert_true(take(&b, T0, &d));
        assert_int_equal(d.wait_ns, (apr_uint64_t)i * 100 * MS);
        assert_int_equal(d.remaining, 0);
        assert_int_equal(d.retry_ns, 0);
    }
    /* the fifth would wait 400 ms: refused, a token in 400 ms */
    assert_false(take(&b, T0, &d));
    assert_int_equal(d.wait_ns, 0);
    assert_int_equal(d.retry_ns, 400 * MS);
    /* 50 ms later the queue moved on: a 350 ms wait is still too long,
     * 250 ms after that it is 300 ms: admitted */
    assert_false(take(&b, T0 + 50 * MS, &d));
    assert_true(take(&b, T0 + 100 * MS, &d));
    assert_int_equal(d.wait_ns, 300 * MS);
    /* a refused request changed nothing */
    assert_int_equal(b.tat, T0 + 500 * MS);
}

static void test_delay_with_burst(void **state)
{
    bucket b;
    apigw_rl_decision d;
    (void)state;
    /* burst 3 passes at once, then one every 100 ms may wait 150 ms */
    bucket_init_delay(&b, 10, SEC, 3, 150 * MS);
    assert_int_equal(admitted_at(&b, T0, 3), 3);
    assert_true(take(&b, T0, &d));
    assert_int_equal(d.wait_ns, 100 * MS);
    assert_false(take(&b, T0, &d));          /* would wait 200 ms */
    assert_int_equal(d.retry_ns, 200 * MS);
}

/* Requests every millisecond for 10 s against 100/s burst 10 with a delay
 * of 500 ms: counted at the moment they proceed (arrival + wait), exactly
 * as many pass within the 10 s as without delay; the rest proceed later,
 * never earlier than a token exists. */
static void test_delay_keeps_the_count_exact(void **state)
{
    bucket plain, delayed;
    apigw_rl_decision d;
    apr_uint64_t t, last_start = 0;
    int ok_plain = 0, ok_within = 0, ok_later = 0;
    (void)state;
    bucket_init(&plain, 100, SEC, 10);
    bucket_init_delay(&delayed, 100, SEC, 10, 500 * MS);
    for (t = 0; t < 10 * SEC; t += MS) {
        ok_plain += take(&plain, T0 + t, NULL);
        if (take(&delayed, T0 + t, &d)) {
            apr_uint64_t start = t + d.wait_ns;
            assert_true(d.wait_ns <= 500 * MS);
            assert_true(start >= last_start);  /* first come, first served */
            last_start = start;
            if (start < 10 * SEC) {
                ok_within++;
            }
            else {
                ok_later++;
            }
        }
    }
    assert_int_equal(ok_plain, 10 + 999);
    assert_int_equal(ok_within, 10 + 999);
    assert_int_equal(ok_later, 50);          /* 500 ms of tokens reserved */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_burst_admits_one),
        cmocka_unit_test(test_burst_then_refill),
        cmocka_unit_test(test_sustained_rate_is_exact),
        cmocka_unit_test(test_period_below_one_second),
        cmocka_unit_test(test_period_above_one_second),
        cmocka_unit_test(test_interval_rounds_up),
        cmocka_unit_test(test_average_zero_is_unlimited),
        cmocka_unit_test(test_refund),
        cmocka_unit_test(test_time_going_backwards),
        cmocka_unit_test(test_bad_rates),
        cmocka_unit_test(test_delay_waits_for_the_next_token),
        cmocka_unit_test(test_delay_with_burst),
        cmocka_unit_test(test_delay_keeps_the_count_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
