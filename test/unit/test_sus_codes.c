/* sources: mod_apigw_breaker/apigw_sus_codes.c */
/* Unit tests for mod_apigw_breaker/apigw_sus_codes.c: the error-code lists
 * of the suspension policies (transport names, statuses, ranges, WSO2
 * aliases), their refusals, and the canonical form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_sus_codes.h"

static apigw_sus_codes parse_ok(const char *list)
{
    apigw_sus_codes c;
    const char *err = apigw_sus_codes_parse(pool, list, &c);
    if (err) {
        fail_msg("'%s' refused: %s", list, err);
    }
    return c;
}

static const char *parse_err(const char *list)
{
    apigw_sus_codes c;
    const char *err = apigw_sus_codes_parse(pool, list, &c);
    if (!err) {
        fail_msg("'%s' accepted", list);
    }
    assert_true(apigw_sus_codes_is_empty(&c));
    return err;
}

static void test_transport_names(void **state)
{
    apigw_sus_codes c;
    (void)state;

    c = parse_ok("connect-refused,read-timeout");
    assert_true(apigw_sus_codes_has_transport(&c, APIGW_SUS_CONNECT_REFUSED));
    assert_true(apigw_sus_codes_has_transport(&c, APIGW_SUS_READ_TIMEOUT));
    assert_false(apigw_sus_codes_has_transport(&c, APIGW_SUS_CONNECT_TIMEOUT));
    assert_false(apigw_sus_codes_has_transport(&c, APIGW_SUS_CLOSED));
    assert_false(apigw_sus_codes_has_status(&c, 503));

    c = parse_ok("CLOSED Tls\tdns , connect-timeout");
    assert_int_equal(c.transport, APIGW_SUS_CLOSED | APIGW_SUS_TLS
                     | APIGW_SUS_DNS | APIGW_SUS_CONNECT_TIMEOUT);
    assert_string_equal(apigw_sus_transport_name(APIGW_SUS_TLS), "tls");
    assert_null(apigw_sus_transport_name(0x40));
}

static void test_statuses_and_ranges(void **state)
{
    apigw_sus_codes c;
    int s;
    (void)state;

    c = parse_ok("503");
    assert_true(apigw_sus_codes_has_status(&c, 503));
    assert_false(apigw_sus_codes_has_status(&c, 502));
    assert_false(apigw_sus_codes_has_status(&c, 504));
    assert_int_equal(c.transport, 0);

    c = parse_ok("500-502,504");
    for (s = 100; s <= 599; s++) {
        assert_int_equal(apigw_sus_codes_has_status(&c, s),
                         (s >= 500 && s <= 502) || s == 504);
    }
    c = parse_ok("4xx");
    assert_true(apigw_sus_codes_has_status(&c, 400));
    assert_true(apigw_sus_codes_has_status(&c, 499));
    assert_false(apigw_sus_codes_has_status(&c, 500));
    c = parse_ok("100-599");
    assert_true(apigw_sus_codes_has_status(&c, 100));
    assert_true(apigw_sus_codes_has_status(&c, 599));
    /* outside the range the lists can hold */
    assert_false(apigw_sus_codes_has_status(&c, 99));
    assert_false(apigw_sus_codes_has_status(&c, 600));
    assert_false(apigw_sus_codes_has_status(&c, -1));
    assert_false(apigw_sus_codes_has_status(&c, 100000));
    c = parse_ok("502-502");
    assert_true(apigw_sus_codes_has_status(&c, 502));
}

static void test_wso2_aliases(void **state)
{
    apigw_sus_codes c;
    (void)state;

    c = parse_ok("101503");
    assert_int_equal(c.transport, APIGW_SUS_CONNECT_REFUSED | APIGW_SUS_DNS
                     | APIGW_SUS_TLS);
    c = parse_ok("101504");
    assert_int_equal(c.transport, APIGW_SUS_READ_TIMEOUT);
    c = parse_ok("101505,101508");
    assert_int_equal(c.transport, APIGW_SUS_CLOSED | APIGW_SUS_CONNECT_TIMEOUT);
    c = parse_ok("101000 101001 101500 101501 101506 101507 101509 101510");
    assert_int_equal(c.transport, APIGW_SUS_CLOSED | APIGW_SUS_CONNECT_REFUSED);
    /* WSO2 codes mix with the rest */
    c = parse_ok("101504, 503");
    assert_true(apigw_sus_codes_has_status(&c, 503));
    assert_true(apigw_sus_codes_has_transport(&c, APIGW_SUS_READ_TIMEOUT));
}

static void test_refusals(void **state)
{
    (void)state;
    assert_non_null(strstr(parse_err(""), "empty"));
    assert_non_null(strstr(parse_err(" , ,"), "empty"));
    assert_non_null(strstr(parse_err("timeout"), "'timeout'"));
    assert_non_null(strstr(parse_err("503,bogus"), "'bogus'"));
    assert_non_null(strstr(parse_err("99"), "HTTP status"));
    assert_non_null(strstr(parse_err("600"), "HTTP status"));
    assert_non_null(strstr(parse_err("5030"), "HTTP status"));
    assert_non_null(strstr(parse_err("504-500"), "empty"));
    assert_non_null(strstr(parse_err("500-600"), "range"));
    assert_non_null(strstr(parse_err("50-60"), "range"));
    assert_non_null(strstr(parse_err("500-"), "'500-'"));
    assert_non_null(strstr(parse_err("-500"), "'-500'"));
    assert_non_null(strstr(parse_err("101502"), "WSO2"));
    assert_non_null(strstr(parse_err("6xx"), "'6xx'"));
    assert_non_null(strstr(parse_err("connect-refused;closed"), "unknown"));
    /* a long token is shortened in the message */
    assert_true(strlen(parse_err("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))
                < 300);
}

static void test_format_round_trip(void **state)
{
    static const char *lists[] = {
        "closed,connect-refused", "503", "500-504,599", "5xx,101504",
        "tls,dns,400,402,404-406", "100-599,connect-timeout", NULL
    };
    static const char *canonical[] = {
        "connect-refused,closed", "503", "500-504,599",
        "read-timeout,500-599", "tls,dns,400,402,404-406",
        "connect-timeout,100-599", NULL
    };
    int i;
    (void)state;

    for (i = 0; lists[i]; i++) {
        apigw_sus_codes c = parse_ok(lists[i]), d;
        const char *f = apigw_sus_codes_format(pool, &c);
        assert_string_equal(f, canonical[i]);
        d = parse_ok(f);
        assert_memory_equal(&c, &d, sizeof(c));
    }
    {
        apigw_sus_codes empty;
        memset(&empty, 0, sizeof(empty));
        assert_string_equal(apigw_sus_codes_format(pool, &empty), "");
        assert_true(apigw_sus_codes_is_empty(&empty));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_transport_names),
        T(test_statuses_and_ranges),
        T(test_wso2_aliases),
        T(test_refusals),
        T(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
