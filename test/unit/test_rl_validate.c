/* sources: mod_apigw_ratelimit/apigw_rl_spec.c mod_apigw_ratelimit/apigw_rl_gcra.c */
/* Unit tests for mod_apigw_ratelimit/apigw_rl_spec.c: the defaults of a
 * limit and of a tier, apigw_rl_limit_validate and apigw_rl_tier_validate
 * on plain settings (every message names its field first), the key parts
 * of by= and tier= read from text, and the texts the status document
 * shares. */
#define UNIT_POOL
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "unit_apr.h"
#include "apigw_rl_spec.h"

#define SEC APR_USEC_PER_SEC

/* A valid limit: average=10 period=1s, the defaults otherwise. */
static apigw_rl_limit_spec limit(void)
{
    apigw_rl_limit_spec l;

    apigw_rl_limit_defaults(pool, &l);
    l.numbers.average = 10;
    l.numbers.period = SEC;
    return l;
}

static void add_key(apigw_rl_limit_spec *l, apigw_rl_by_kind kind,
                    const char *name)
{
    apigw_rl_key *k = apr_array_push(l->by);

    k->kind = kind;
    k->name = name;
}

/* err is not NULL and begins with prefix */
static void fails_with(const char *err, const char *prefix)
{
    assert_non_null(err);
    if (strncmp(err, prefix, strlen(prefix)) != 0) {
        fail_msg("'%s' does not begin with '%s'", err, prefix);
    }
}

static void test_defaults(void **state)
{
    apigw_rl_limit_spec l;
    apigw_rl_tier_spec t;

    (void)state;
    apigw_rl_limit_defaults(pool, &l);
    assert_null(l.name);
    assert_int_equal(l.numbers.burst, 1);
    assert_int_equal(l.numbers.average, 0);
    assert_int_equal(l.numbers.period, 0);
    assert_int_equal(l.status, 429);
    assert_int_equal(l.by->nelts, 0);
    assert_null(l.tier);
    /* no period: the one field without a usable default */
    fails_with(apigw_rl_limit_validate(pool, &l), "period=");

    l = limit();
    l.numbers.burst = 7;
    l.numbers.delay = SEC / 2;
    apigw_rl_tier_defaults(pool, &t, &l);
    assert_int_equal(t.values->nelts, 0);
    assert_int_equal(t.numbers.average, 0);
    assert_int_equal(t.numbers.period, SEC);
    assert_int_equal(t.numbers.burst, 7);
    assert_int_equal(t.numbers.delay, SEC / 2);
}

static void test_valid_limits(void **state)
{
    apigw_rl_limit_spec l = limit();
    apigw_rl_key tier = { APIGW_RL_BY_ENV, "PLAN" };

    (void)state;
    assert_null(apigw_rl_limit_validate(pool, &l));
    l.name = "a-b_c.d:e9";
    l.numbers.average = 0;                      /* unlimited */
    l.numbers.burst = APIGW_RL_MAX_BURST;
    l.numbers.delay = APIGW_RL_MAX_DELAY;
    l.status = 503;
    add_key(&l, APIGW_RL_BY_ENDPOINT, NULL);
    add_key(&l, APIGW_RL_BY_IP, NULL);
    add_key(&l, APIGW_RL_BY_HEADER, "X-Key");
    add_key(&l, APIGW_RL_BY_COOKIE, "sid");
    add_key(&l, APIGW_RL_BY_EXPR, "%{REMOTE_USER}");
    l.tier = &tier;
    assert_null(apigw_rl_limit_validate(pool, &l));
    l.status = 400;
    l.numbers.average = APIGW_RL_MAX_AVERAGE;
    l.numbers.period = APIGW_RL_MAX_PERIOD;
    l.numbers.burst = 1;
    assert_null(apigw_rl_limit_validate(pool, &l));
}

static void test_numbers(void **state)
{
    apigw_rl_limit_spec l;

    (void)state;
    l = limit();
    l.numbers.average = APIGW_RL_MAX_AVERAGE + 1;
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "average=1000000001 is out of range "
                        "(0 to 1000000000)");
    l = limit();
    l.numbers.period = 0;
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "period= must be greater than zero");
    l.numbers.period = -SEC;
    fails_with(apigw_rl_limit_validate(pool, &l), "period= must be greater");
    l.numbers.period = APIGW_RL_MAX_PERIOD + 1;
    fails_with(apigw_rl_limit_validate(pool, &l), "period=31622400.000001s "
               "is longer than 366 days");
    l = limit();
    l.numbers.burst = 0;
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "burst=0 is out of range (1 to 1000000000)");
    l.numbers.burst = APIGW_RL_MAX_BURST + 1;
    fails_with(apigw_rl_limit_validate(pool, &l), "burst=1000000001 is out");
    l = limit();
    l.numbers.delay = -1;
    fails_with(apigw_rl_limit_validate(pool, &l), "delay= must not be");
    l.numbers.delay = 20 * SEC;
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "delay=20s is longer than the 10 s a request may "
                        "wait");
    l.numbers.delay = 10 * SEC + 500000;
    fails_with(apigw_rl_limit_validate(pool, &l), "delay=10.5s is longer");
}

/* each number in range, together too long to count in nanoseconds */
static void test_numbers_together(void **state)
{
    apigw_rl_limit_spec l = limit();

    (void)state;
    l.numbers.average = 1;
    l.numbers.period = 3600 * SEC;
    l.numbers.burst = APIGW_RL_MAX_BURST;
    fails_with(apigw_rl_limit_validate(pool, &l),
               "burst=1000000000 with average=1 period=3600s: ");
    l.numbers.average = 0;                      /* unlimited: no interval */
    assert_null(apigw_rl_limit_validate(pool, &l));
}

static void test_status_and_name(void **state)
{
    apigw_rl_limit_spec l = limit();

    (void)state;
    l.status = 200;
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "status=200 must be an HTTP error status from 400 "
                        "to 599");
    l.status = 600;
    fails_with(apigw_rl_limit_validate(pool, &l), "status=600 must be");
    l.status = -1;
    fails_with(apigw_rl_limit_validate(pool, &l), "status=-1 must be");
    l = limit();
    l.name = "a b";
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "name=a b is not a valid name (letters, digits and "
                        ". _ : -)");
    l.name = "a/b";
    fails_with(apigw_rl_limit_validate(pool, &l), "name=a/b is not a valid");
    l.name = "";
    fails_with(apigw_rl_limit_validate(pool, &l), "name= is not a valid");
    l.name = "\"x\"";                           /* would break JSON */
    fails_with(apigw_rl_limit_validate(pool, &l), "name=\"x\" is not");
}

static void test_keys(void **state)
{
    apigw_rl_limit_spec l;

    (void)state;
    l = limit();
    add_key(&l, APIGW_RL_BY_HEADER, "");
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "key 'header:' in by= needs a name, like "
                        "header:X-Api-Key");
    l = limit();
    add_key(&l, APIGW_RL_BY_ENV, NULL);
    fails_with(apigw_rl_limit_validate(pool, &l),
               "key 'env' in by= needs a name, like env:X-Api-Key");
    l = limit();
    add_key(&l, APIGW_RL_BY_EXPR, "");
    fails_with(apigw_rl_limit_validate(pool, &l),
               "key 'expr:' in by= needs an expression, like "
               "expr:%{REMOTE_USER}");
    l = limit();
    add_key(&l, APIGW_RL_BY_IP, "x");
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "key 'ip:x' in by= takes no name (use ip)");
    l = limit();
    add_key(&l, (apigw_rl_by_kind)42, "x");
    fails_with(apigw_rl_limit_validate(pool, &l), "unknown key '?:x' in by=");
}

static void test_tier_key(void **state)
{
    apigw_rl_limit_spec l = limit();
    apigw_rl_key endpoint = { APIGW_RL_BY_ENDPOINT, NULL };
    apigw_rl_key nameless = { APIGW_RL_BY_HEADER, NULL };
    apigw_rl_key header = { APIGW_RL_BY_HEADER, "X-Plan" };

    (void)state;
    l.tier = &header;
    fails_with(apigw_rl_limit_validate(pool, &l), "tier= needs name=");
    l.name = "plan";
    assert_null(apigw_rl_limit_validate(pool, &l));
    l.tier = &endpoint;
    assert_string_equal(apigw_rl_limit_validate(pool, &l),
                        "unknown key 'endpoint' in tier= (use ip, "
                        "header:NAME, cookie:NAME, env:NAME or "
                        "expr:EXPRESSION)");
    l.tier = &nameless;
    fails_with(apigw_rl_limit_validate(pool, &l),
               "key 'header' in tier= needs a name");
}

static apigw_rl_tier_spec tier(const char *v1, const char *v2)
{
    apigw_rl_limit_spec l = limit();
    apigw_rl_tier_spec t;

    apigw_rl_tier_defaults(pool, &t, &l);
    t.numbers.average = 100;
    if (v1) {
        APR_ARRAY_PUSH(t.values, const char *) = v1;
    }
    if (v2) {
        APR_ARRAY_PUSH(t.values, const char *) = v2;
    }
    return t;
}

static void test_tiers(void **state)
{
    apigw_rl_tier_spec t;

    (void)state;
    t = tier("gold", "platinum");
    assert_null(apigw_rl_tier_validate(pool, &t));
    t.numbers.average = 0;                      /* unlimited */
    assert_null(apigw_rl_tier_validate(pool, &t));
    t = tier(NULL, NULL);
    assert_string_equal(apigw_rl_tier_validate(pool, &t),
                        "values: name at least one value of the tier key "
                        "(e.g. gold)");
    t = tier("gold", "");
    fails_with(apigw_rl_tier_validate(pool, &t), "values: a value");
    t = tier("gold", "gold");
    assert_string_equal(apigw_rl_tier_validate(pool, &t),
                        "values: 'gold' is given twice");
    t = tier("gold", NULL);
    t.numbers.burst = 0;
    assert_string_equal(apigw_rl_tier_validate(pool, &t),
                        "burst=0 is out of range (1 to 1000000000)");
    t = tier("gold", NULL);
    t.numbers.delay = 11 * SEC;
    fails_with(apigw_rl_tier_validate(pool, &t), "delay=11s is longer than");
    t = tier("gold", NULL);
    t.numbers.average = APIGW_RL_MAX_AVERAGE + 1;
    fails_with(apigw_rl_tier_validate(pool, &t), "average=1000000001 is out");
}

static void test_key_parse(void **state)
{
    apigw_rl_key k;

    (void)state;
    assert_null(apigw_rl_key_parse(pool, "by", "ip", &k));
    assert_int_equal(k.kind, APIGW_RL_BY_IP);
    assert_null(k.name);
    assert_null(apigw_rl_key_parse(pool, "by", "Header:X-Key", &k));
    assert_int_equal(k.kind, APIGW_RL_BY_HEADER);
    assert_string_equal(k.name, "X-Key");
    assert_null(apigw_rl_key_parse(pool, "by", "expr:%{HTTP:a:b}", &k));
    assert_int_equal(k.kind, APIGW_RL_BY_EXPR);
    assert_string_equal(k.name, "%{HTTP:a:b}");      /* the first colon */
    assert_null(apigw_rl_key_parse(pool, "by", "cookie:", &k));
    assert_string_equal(k.name, "");            /* for the validation */
    assert_null(apigw_rl_key_parse(pool, "tier", "endpoint", &k));
    assert_int_equal(k.kind, APIGW_RL_BY_ENDPOINT);
    assert_string_equal(apigw_rl_key_parse(pool, "by", "user", &k),
                        "unknown key 'user' in by= (use endpoint, ip, "
                        "header:NAME, cookie:NAME, env:NAME or "
                        "expr:EXPRESSION)");
    assert_string_equal(apigw_rl_key_parse(pool, "tier", "bogus:x", &k),
                        "unknown key 'bogus:x' in tier= (use ip, "
                        "header:NAME, cookie:NAME, env:NAME or "
                        "expr:EXPRESSION)");
}

static void test_texts(void **state)
{
    apigw_rl_key ip = { APIGW_RL_BY_IP, NULL };
    apigw_rl_key env = { APIGW_RL_BY_ENV, "TIER" };

    (void)state;
    assert_string_equal(apigw_rl_key_text(pool, &ip), "ip");
    assert_string_equal(apigw_rl_key_text(pool, &env), "env:TIER");
    assert_string_equal(apigw_rl_seconds_text(pool, 0), "0");
    assert_string_equal(apigw_rl_seconds_text(pool, 60 * SEC), "60");
    assert_string_equal(apigw_rl_seconds_text(pool, SEC / 2), "0.5");
    assert_string_equal(apigw_rl_seconds_text(pool, 250), "0.00025");
    assert_string_equal(apigw_rl_seconds_text(pool, 10 * SEC + 1),
                        "10.000001");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_valid_limits),
        T(test_numbers),
        T(test_numbers_together),
        T(test_status_and_name),
        T(test_keys),
        T(test_tier_key),
        T(test_tiers),
        T(test_key_parse),
        T(test_texts),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
