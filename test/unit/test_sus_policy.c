/* sources: mod_apigw_breaker/apigw_sus_policy.c mod_apigw_breaker/apigw_sus_codes.c */
/* Unit tests for mod_apigw_breaker/apigw_sus_policy.c: how outcomes are
 * sorted, the suspension progression (initial, x factor, capped at max,
 * reset by a success), the timeout state (retries, retry delay), outcomes
 * of requests already in flight, disabled suspension, and the reason (the
 * error code) a member's state keeps while it is not active. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_sus_policy.h"

#define SEC(n) apr_time_from_sec(n)
#define MS(n) ((apr_interval_time_t)(n) * 1000)
#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

static apigw_sus_policy policy(const char *codes, apr_interval_time_t initial,
                               double factor, apr_interval_time_t max)
{
    apigw_sus_policy p;

    apigw_sus_policy_defaults(&p);
    if (codes) {
        assert_null(apigw_sus_codes_parse(pool, codes, &p.suspend_codes));
        p.suspend_codes_set = 1;
    }
    p.initial = initial;
    p.factor = factor;
    p.max = max;
    assert_null(apigw_sus_policy_check(&p));
    return p;
}

static apigw_sus_outcome transport(apr_uint32_t bit)
{
    apigw_sus_outcome o = { bit, 0 };
    return o;
}

static apigw_sus_outcome status(int s)
{
    apigw_sus_outcome o = { 0, s };
    return o;
}

/* The error code an outcome of class cls carries where a test does not
 * name one: a refused connection suspends, a read timeout marks. */
static apr_uint32_t code_of(apigw_sus_class cls)
{
    switch (cls) {
    case APIGW_SUS_FAIL_SUSPEND:
        return APIGW_SUS_CONNECT_REFUSED;
    case APIGW_SUS_FAIL_TIMEOUT:
        return APIGW_SUS_READ_TIMEOUT;
    case APIGW_SUS_NEUTRAL:
        return APIGW_SUS_TLS;
    default:
        return 0;
    }
}

/* One attempt of outcome o started at t and finished at t (a fresh
 * request). */
static apigw_sus_effect step_o(const apigw_sus_policy *p, apigw_sus_state *st,
                               apigw_sus_outcome o, apr_time_t t)
{
    apigw_sus_effect eff;
    apigw_sus_step(p, st, apigw_sus_classify(p, &o), apigw_sus_reason_of(&o),
                   t, t, &eff);
    return eff;
}

/* One attempt of class cls started at t and finished at t. */
static apigw_sus_effect step(const apigw_sus_policy *p, apigw_sus_state *st,
                             apigw_sus_class cls, apr_time_t t)
{
    apigw_sus_effect eff;
    apigw_sus_step(p, st, cls, code_of(cls), t, t, &eff);
    return eff;
}

static void test_classify(void **state)
{
    apigw_sus_policy any = policy(NULL, SEC(1), 2, SEC(8));
    apigw_sus_policy listed = policy("connect-refused,503", SEC(1), 2, SEC(8));
    apigw_sus_outcome o;
    (void)state;

    /* no codes: any transport error suspends, any answer is a success */
    o = transport(APIGW_SUS_READ_TIMEOUT);
    assert_int_equal(apigw_sus_classify(&any, &o), APIGW_SUS_FAIL_SUSPEND);
    o = status(503);
    assert_int_equal(apigw_sus_classify(&any, &o), APIGW_SUS_SUCCESS);
    o = status(200);
    assert_int_equal(apigw_sus_classify(&any, &o), APIGW_SUS_SUCCESS);

    /* listed codes only */
    o = transport(APIGW_SUS_CONNECT_REFUSED);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_FAIL_SUSPEND);
    o = transport(APIGW_SUS_CLOSED);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_NEUTRAL);
    o = status(503);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_FAIL_SUSPEND);
    o = status(500);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_SUCCESS);

    /* with a timeout state: its codes (default timeouts and closed) mark,
     * the suspend codes win where both list an error */
    listed.timeout_state = 1;
    any.timeout_state = 1;
    o = transport(APIGW_SUS_CLOSED);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_FAIL_TIMEOUT);
    o = transport(APIGW_SUS_READ_TIMEOUT);
    assert_int_equal(apigw_sus_classify(&any, &o), APIGW_SUS_FAIL_TIMEOUT);
    o = transport(APIGW_SUS_CONNECT_REFUSED);
    assert_int_equal(apigw_sus_classify(&any, &o), APIGW_SUS_FAIL_SUSPEND);
    assert_null(apigw_sus_codes_parse(pool, "connect-refused,504",
                                      &listed.timeout_codes));
    o = transport(APIGW_SUS_CONNECT_REFUSED);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_FAIL_SUSPEND);
    o = status(504);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_FAIL_TIMEOUT);
    o = transport(APIGW_SUS_TLS);
    assert_int_equal(apigw_sus_classify(&listed, &o), APIGW_SUS_NEUTRAL);
}

static void test_progression_and_cap(void **state)
{
    apigw_sus_policy p = policy(NULL, SEC(1), 2, SEC(5));
    apigw_sus_state st;
    apigw_sus_effect eff;
    apr_time_t t = T0;
    static const int expect[] = { 1000, 2000, 4000, 5000, 5000 };
    int i;
    (void)state;

    memset(&st, 0, sizeof(st));
    for (i = 0; i < 5; i++) {
        eff = step(&p, &st, APIGW_SUS_FAIL_SUSPEND, t);
        assert_int_equal(eff.action, APIGW_SUS_MARK);
        assert_int_equal(eff.error_time, t);
        assert_int_equal(eff.retry, MS(expect[i]));
        assert_true(eff.changed);
        assert_int_equal(st.state, APIGW_SUS_SUSPENDED);
        assert_int_equal(st.suspensions, i + 1);
        /* the probe once the suspension is over */
        t += MS(expect[i]) + MS(1);
    }
    /* a success resets: the next suspension is initial again */
    eff = step(&p, &st, APIGW_SUS_SUCCESS, t);
    assert_int_equal(eff.action, APIGW_SUS_ACTIVATE);
    assert_int_equal(eff.retry, SEC(1));
    assert_true(eff.changed);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);
    assert_false(apigw_sus_state_dirty(&st));
    eff = step(&p, &st, APIGW_SUS_SUCCESS, t + 1);
    assert_int_equal(eff.action, APIGW_SUS_KEEP);
    eff = step(&p, &st, APIGW_SUS_FAIL_SUSPEND, t + 2);
    assert_int_equal(eff.retry, SEC(1));
    assert_int_equal(st.suspensions, 1);
}

static void test_fractional_factor(void **state)
{
    apigw_sus_policy p = policy(NULL, MS(400), 1.5, SEC(1));
    (void)state;

    assert_int_equal(apigw_sus_next_suspension(&p, 0), MS(400));
    assert_int_equal(apigw_sus_next_suspension(&p, MS(400)), MS(600));
    assert_int_equal(apigw_sus_next_suspension(&p, MS(600)), MS(900));
    assert_int_equal(apigw_sus_next_suspension(&p, MS(900)), SEC(1));
    /* factor 1: the same length every time */
    p.factor = 1;
    assert_int_equal(apigw_sus_next_suspension(&p, MS(400)), MS(400));
}

static void test_in_flight_outcomes(void **state)
{
    apigw_sus_policy p = policy(NULL, SEC(2), 2, SEC(60));
    apigw_sus_state st;
    apigw_sus_effect eff;
    (void)state;

    memset(&st, 0, sizeof(st));
    eff = step(&p, &st, APIGW_SUS_FAIL_SUSPEND, T0);
    assert_int_equal(eff.retry, SEC(2));
    /* more failures of requests that were in flight: no escalation, the
     * member stays in error for what is left of its suspension */
    apigw_sus_step(&p, &st, APIGW_SUS_FAIL_SUSPEND, APIGW_SUS_READ_TIMEOUT,
                   T0 - MS(100), T0 + MS(50), &eff);
    assert_int_equal(eff.action, APIGW_SUS_MARK);
    assert_int_equal(eff.error_time, T0);
    assert_int_equal(eff.retry, SEC(2));
    assert_false(eff.changed);
    assert_int_equal(st.suspensions, 1);
    assert_int_equal(st.reason, APIGW_SUS_CONNECT_REFUSED);
    /* a late success of a request sent before the failure: no reset */
    apigw_sus_step(&p, &st, APIGW_SUS_SUCCESS, 0, T0 - MS(100), T0 + MS(60),
                   &eff);
    assert_int_equal(eff.action, APIGW_SUS_KEEP);
    assert_int_equal(st.state, APIGW_SUS_SUSPENDED);
    assert_int_equal(st.reason, APIGW_SUS_CONNECT_REFUSED);
    /* a failure inside the window (forced recovery tried it) re-asserts */
    apigw_sus_step(&p, &st, APIGW_SUS_FAIL_SUSPEND, APIGW_SUS_CLOSED,
                   T0 + SEC(1), T0 + SEC(1), &eff);
    assert_int_equal(eff.action, APIGW_SUS_MARK);
    assert_int_equal(eff.error_time, T0);
    assert_int_equal(st.suspensions, 1);
    /* an uncounted error inside the window also keeps it in error */
    apigw_sus_step(&p, &st, APIGW_SUS_NEUTRAL, APIGW_SUS_TLS, T0 + SEC(1),
                   T0 + SEC(1), &eff);
    assert_int_equal(eff.action, APIGW_SUS_MARK);
    assert_int_equal(st.reason, APIGW_SUS_CONNECT_REFUSED);
    /* the probe after the window fails: 4s from now */
    eff = step(&p, &st, APIGW_SUS_FAIL_SUSPEND, T0 + SEC(3));
    assert_int_equal(eff.error_time, T0 + SEC(3));
    assert_int_equal(eff.retry, SEC(4));
    assert_int_equal(st.suspensions, 2);
    /* an uncounted error of an active member: undo mod_proxy's mark */
    eff = step(&p, &st, APIGW_SUS_SUCCESS, T0 + SEC(8));
    eff = step(&p, &st, APIGW_SUS_NEUTRAL, T0 + SEC(9));
    assert_int_equal(eff.action, APIGW_SUS_UNMARK);
    /* a failure of a request sent before the member came back */
    apigw_sus_step(&p, &st, APIGW_SUS_FAIL_SUSPEND, APIGW_SUS_CONNECT_REFUSED,
                   T0 + SEC(7), T0 + SEC(9), &eff);
    assert_int_equal(eff.action, APIGW_SUS_UNMARK);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);
}

static void test_timeout_state(void **state)
{
    apigw_sus_policy p = policy("connect-refused", SEC(3), 2, SEC(10));
    apigw_sus_state st;
    apigw_sus_effect eff;
    apr_time_t t = T0;
    (void)state;

    p.timeout_state = 1;
    p.retries = 2;
    p.retry_delay = SEC(1);
    assert_null(apigw_sus_policy_check(&p));
    memset(&st, 0, sizeof(st));

    /* two timeouts: skipped for the delay each time */
    eff = step(&p, &st, APIGW_SUS_FAIL_TIMEOUT, t);
    assert_int_equal(eff.action, APIGW_SUS_MARK);
    assert_int_equal(eff.retry, SEC(1));
    assert_int_equal(st.state, APIGW_SUS_TIMEOUT);
    assert_int_equal(st.timeouts, 1);
    /* an in-flight timeout during the delay uses up no retry */
    apigw_sus_step(&p, &st, APIGW_SUS_FAIL_TIMEOUT, APIGW_SUS_CLOSED,
                   t - MS(10), t + MS(10), &eff);
    assert_int_equal(st.timeouts, 1);
    t += SEC(1) + MS(1);
    eff = step(&p, &st, APIGW_SUS_FAIL_TIMEOUT, t);
    assert_int_equal(eff.retry, SEC(1));
    assert_int_equal(st.timeouts, 2);
    /* the third: suspended for initial */
    t += SEC(1) + MS(1);
    eff = step(&p, &st, APIGW_SUS_FAIL_TIMEOUT, t);
    assert_int_equal(eff.action, APIGW_SUS_MARK);
    assert_int_equal(eff.retry, SEC(3));
    assert_int_equal(st.state, APIGW_SUS_SUSPENDED);
    /* its failed probe, even a timeout, escalates the suspension */
    t += SEC(3) + MS(1);
    eff = step(&p, &st, APIGW_SUS_FAIL_TIMEOUT, t);
    assert_int_equal(eff.retry, SEC(6));
    /* a success: active, and the retries are whole again */
    t += SEC(6) + MS(1);
    eff = step(&p, &st, APIGW_SUS_SUCCESS, t);
    assert_int_equal(eff.action, APIGW_SUS_ACTIVATE);
    assert_int_equal(st.timeouts, 0);
    eff = step(&p, &st, APIGW_SUS_FAIL_TIMEOUT, t + 1);
    assert_int_equal(st.state, APIGW_SUS_TIMEOUT);

    /* a success in the timeout state returns the member to active */
    t += SEC(2);
    eff = step(&p, &st, APIGW_SUS_SUCCESS, t);
    assert_int_equal(eff.action, APIGW_SUS_ACTIVATE);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);

    /* no delay: the member is not skipped, only counted */
    p.retry_delay = 0;
    eff = step(&p, &st, APIGW_SUS_FAIL_TIMEOUT, t + 1);
    assert_int_equal(eff.action, APIGW_SUS_UNMARK);
    assert_int_equal(st.timeouts, 1);
    /* a suspend-on-failure error skips the timeout state */
    eff = step(&p, &st, APIGW_SUS_FAIL_SUSPEND, t + 2);
    assert_int_equal(eff.retry, SEC(3));
    assert_int_equal(st.state, APIGW_SUS_SUSPENDED);
}

static void test_reason(void **state)
{
    apigw_sus_policy p = policy("connect-refused,503", SEC(2), 2, SEC(60));
    apigw_sus_state st;
    apigw_sus_effect eff;
    apigw_sus_outcome o;
    apr_time_t t = T0;
    (void)state;

    /* the codes and their names, as an error-code list writes them */
    o = transport(APIGW_SUS_CONNECT_REFUSED);
    assert_int_equal(apigw_sus_reason_of(&o), APIGW_SUS_CONNECT_REFUSED);
    assert_string_equal(apigw_sus_reason_name(pool, APIGW_SUS_CONNECT_REFUSED),
                        "connect-refused");
    o = transport(APIGW_SUS_READ_TIMEOUT);
    assert_string_equal(apigw_sus_reason_name(pool, apigw_sus_reason_of(&o)),
                        "read-timeout");
    o = status(503);
    assert_int_equal(apigw_sus_reason_of(&o), 503);
    assert_string_equal(apigw_sus_reason_name(pool, 503), "503");
    o = status(0);
    assert_int_equal(apigw_sus_reason_of(&o), 0);
    assert_null(apigw_sus_reason_name(pool, 0));
    assert_null(apigw_sus_reason_name(pool, APIGW_SUS_CONNECT_REFUSED
                                            | APIGW_SUS_CLOSED));
    assert_null(apigw_sus_reason_name(pool, 600));

    /* the members' error counters: the six transport errors, 500-504 and
     * any other 5xx; an answer below 500 is no error */
    o = transport(APIGW_SUS_CONNECT_REFUSED);
    assert_string_equal(apigw_sus_error_kind_name(apigw_sus_error_kind(&o)),
                        "connect-refused");
    o = transport(APIGW_SUS_DNS);
    assert_string_equal(apigw_sus_error_kind_name(apigw_sus_error_kind(&o)),
                        "dns");
    o = transport(APIGW_SUS_CONNECT_REFUSED | APIGW_SUS_CLOSED);
    assert_int_equal(apigw_sus_error_kind(&o), -1);
    o = status(500);
    assert_string_equal(apigw_sus_error_kind_name(apigw_sus_error_kind(&o)),
                        "500");
    o = status(504);
    assert_string_equal(apigw_sus_error_kind_name(apigw_sus_error_kind(&o)),
                        "504");
    o = status(507);
    assert_string_equal(apigw_sus_error_kind_name(apigw_sus_error_kind(&o)),
                        "5xx");
    o = status(404);
    assert_int_equal(apigw_sus_error_kind(&o), -1);
    o = status(200);
    assert_int_equal(apigw_sus_error_kind(&o), -1);
    o = status(600);
    assert_int_equal(apigw_sus_error_kind(&o), -1);
    assert_null(apigw_sus_error_kind_name(-1));
    assert_null(apigw_sus_error_kind_name(APIGW_SUS_ERROR_KINDS));

    memset(&st, 0, sizeof(st));
    /* a refused connection suspends: its code is the reason */
    eff = step_o(&p, &st, transport(APIGW_SUS_CONNECT_REFUSED), t);
    assert_int_equal(eff.action, APIGW_SUS_MARK);
    assert_int_equal(st.state, APIGW_SUS_SUSPENDED);
    assert_int_equal(st.reason, APIGW_SUS_CONNECT_REFUSED);
    /* an error the policy does not count, even after the window: kept */
    eff = step_o(&p, &st, transport(APIGW_SUS_CLOSED), t + SEC(3));
    assert_int_equal(st.reason, APIGW_SUS_CONNECT_REFUSED);
    /* the failed probe suspends again: the reason is its code */
    t += SEC(2) + MS(1);
    eff = step_o(&p, &st, status(503), t);
    assert_int_equal(eff.retry, SEC(4));
    assert_int_equal(st.state, APIGW_SUS_SUSPENDED);
    assert_int_equal(st.reason, 503);
    assert_string_equal(apigw_sus_reason_name(pool, st.reason), "503");
    /* the probe succeeds: active, no reason */
    t += SEC(4) + MS(1);
    eff = step_o(&p, &st, status(200), t);
    assert_int_equal(eff.action, APIGW_SUS_ACTIVATE);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);
    assert_int_equal(st.reason, 0);

    /* the timeout state keeps the code that marked the member, then the
     * one that used up its retries */
    p.timeout_state = 1;
    p.retries = 1;
    p.retry_delay = SEC(1);
    assert_null(apigw_sus_codes_parse(pool, "read-timeout,closed,504",
                                      &p.timeout_codes));
    assert_null(apigw_sus_policy_check(&p));
    t += SEC(1);
    eff = step_o(&p, &st, transport(APIGW_SUS_READ_TIMEOUT), t);
    assert_int_equal(st.state, APIGW_SUS_TIMEOUT);
    assert_int_equal(st.reason, APIGW_SUS_READ_TIMEOUT);
    t += SEC(1) + MS(1);
    eff = step_o(&p, &st, status(504), t);
    assert_int_equal(st.state, APIGW_SUS_SUSPENDED);
    assert_int_equal(st.reason, 504);
    /* a success clears it */
    t += SEC(2) + MS(1);
    eff = step_o(&p, &st, status(204), t);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);
    assert_int_equal(st.reason, 0);
    /* and so does a success in the timeout state */
    eff = step_o(&p, &st, transport(APIGW_SUS_CLOSED), t + 1);
    assert_int_equal(st.state, APIGW_SUS_TIMEOUT);
    assert_int_equal(st.reason, APIGW_SUS_CLOSED);
    eff = step_o(&p, &st, status(200), t + SEC(2));
    assert_int_equal(eff.action, APIGW_SUS_ACTIVATE);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);
    assert_int_equal(st.reason, 0);
    assert_false(apigw_sus_state_dirty(&st));

    /* suspension disabled: the member stays active, with no reason */
    p = policy(NULL, 0, 1, 0);
    memset(&st, 0, sizeof(st));
    eff = step_o(&p, &st, transport(APIGW_SUS_CONNECT_REFUSED), T0);
    assert_int_equal(eff.action, APIGW_SUS_UNMARK);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);
    assert_int_equal(st.reason, 0);
}

static void test_disabled_suspension(void **state)
{
    apigw_sus_policy p = policy(NULL, 0, 1, 0);
    apigw_sus_state st;
    apigw_sus_effect eff;
    (void)state;

    assert_false(apigw_sus_suspension_enabled(&p));
    memset(&st, 0, sizeof(st));
    eff = step(&p, &st, APIGW_SUS_FAIL_SUSPEND, T0);
    assert_int_equal(eff.action, APIGW_SUS_UNMARK);
    assert_int_equal(st.state, APIGW_SUS_ACTIVE);
    assert_int_equal(apigw_sus_next_suspension(&p, 0), 0);
    /* WSO2's -1 */
    p.initial = -1;
    assert_null(apigw_sus_policy_check(&p));
    assert_false(apigw_sus_suspension_enabled(&p));
}

static void test_policy_check(void **state)
{
    apigw_sus_policy p;
    (void)state;

    apigw_sus_policy_defaults(&p);
    assert_null(apigw_sus_policy_check(&p));
    p.factor = 0.5;
    assert_non_null(apigw_sus_policy_check(&p));
    p.factor = 2;
    p.max = SEC(10);
    p.initial = SEC(20);
    assert_non_null(apigw_sus_policy_check(&p));
    p.initial = SEC(1);
    p.max = 0;
    assert_non_null(apigw_sus_policy_check(&p));
    p.max = SEC(1);
    p.retries = -1;
    assert_non_null(apigw_sus_policy_check(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_classify),
        T(test_progression_and_cap),
        T(test_fractional_factor),
        T(test_in_flight_outcomes),
        T(test_timeout_state),
        T(test_disabled_suspension),
        T(test_reason),
        T(test_policy_check),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
