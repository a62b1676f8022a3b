/* sources: common/apigw_parse.c */
/* Unit tests for common/apigw_parse.c: apigw_parse_duration and
 * apigw_parse_size, every accepted form and every error message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "unit_apr.h"

#include <apr_general.h>

#include "apigw_parse.h"

#define MSG_EMPTY    "empty duration"
#define MSG_NUMBER   "duration must be a number followed by a unit " \
                     "(ns, us, ms, s, m, h), e.g. 2s or 1500ms"
#define MSG_NOUNIT   "duration term without a unit"
#define MSG_UNIT     "unknown duration unit (use ns, us, ms, s, m or h)"
#define MSG_LONG     "duration too long (at most one year)"

#define SZ_EMPTY     "empty size"
#define SZ_NUMBER    "size must be a number with an optional unit k, M or G"
#define SZ_UNIT      "unknown size unit (use k, M or G)"
#define SZ_TRAILING  "trailing characters after size"
#define SZ_LARGE     "size too large"

#define YEAR_US ((apr_int64_t)366 * 24 * 3600 * 1000000)

/* ---- helpers ---- */

static void duration_ok(const char *s, apr_int64_t want)
{
    apr_interval_time_t out = -12345;
    const char *err = apigw_parse_duration(s, &out);

    if (err) {
        fail_msg("\"%s\": unexpected error \"%s\"", s, err);
    }
    if ((apr_int64_t)out != want) {
        fail_msg("\"%s\": got %lld us, want %lld us", s, (long long)out,
                 (long long)want);
    }
}

static void duration_err(const char *s, const char *want)
{
    apr_interval_time_t out = -12345;
    const char *err = apigw_parse_duration(s, &out);

    if (!err) {
        fail_msg("\"%s\": accepted as %lld us, want error \"%s\"",
                 s ? s : "(null)", (long long)out, want);
    }
    assert_string_equal(err, want);
    assert_int_equal(out, -12345);       /* *out untouched on error */
}

static void size_ok(const char *s, apr_int64_t want)
{
    apr_off_t out = -12345;
    const char *err = apigw_parse_size(s, &out);

    if (err) {
        fail_msg("\"%s\": unexpected error \"%s\"", s, err);
    }
    if ((apr_int64_t)out != want) {
        fail_msg("\"%s\": got %lld, want %lld", s, (long long)out,
                 (long long)want);
    }
}

static void size_err(const char *s, const char *want)
{
    apr_off_t out = -12345;
    const char *err = apigw_parse_size(s, &out);

    if (!err) {
        fail_msg("\"%s\": accepted as %lld, want error \"%s\"",
                 s ? s : "(null)", (long long)out, want);
    }
    assert_string_equal(err, want);
    assert_int_equal(out, -12345);
}

/* ---- durations: accepted forms ---- */

static void test_duration_units(void **state)
{
    (void)state;
    duration_ok("2s", 2000000);
    duration_ok("1500ms", 1500000);
    duration_ok("250us", 250);
    duration_ok("250\xc2\xb5s", 250);          /* MICRO SIGN */
    duration_ok("250\xce\xbcs", 250);          /* GREEK SMALL LETTER MU */
    duration_ok("10ns", 1);                    /* rounds up */
    duration_ok("1000ns", 1);
    duration_ok("1m", 60000000);
    duration_ok("1h", (apr_int64_t)3600 * 1000000);
    duration_ok("0s", 0);
    duration_ok("0ms", 0);
    duration_ok("0h", 0);
}

static void test_duration_bare_number_is_seconds(void **state)
{
    (void)state;
    duration_ok("5", 5000000);
    duration_ok("0", 0);
    duration_ok("0.25", 250000);
    duration_ok("300", 300000000);
    duration_ok("007", 7000000);               /* leading zeros are fine */
}

static void test_duration_fractions(void **state)
{
    (void)state;
    duration_ok("0.5s", 500000);
    duration_ok(".5s", 500000);
    duration_ok("1.s", 1000000);
    duration_ok("1.5h", (apr_int64_t)5400 * 1000000);
    duration_ok("0.1m", 6000000);
    duration_ok("2.5ms", 2500);
    duration_ok("0.3s", 300000);
    duration_ok("0.7ms", 700);
    duration_ok("1.000001s", 1000001);
    duration_ok("2.000001ms", 2001);            /* 2000.001 us rounds up */
    duration_ok("0.123456789s", 123457);
    duration_ok("1.5us", 2);
    duration_ok("0.000000000s", 0);
    duration_ok("0.0000000000000s", 0);         /* zeros past 1e-9 */
}

static void test_duration_multiple_terms(void **state)
{
    (void)state;
    duration_ok("1m30s", 90000000);
    duration_ok("1h30m", (apr_int64_t)5400 * 1000000);
    duration_ok("1h2m3s4ms5us6ns",
                (apr_int64_t)3723 * 1000000 + 4000 + 5 + 1);
    duration_ok("1s1s", 2000000);               /* repeated units add up */
    duration_ok("500ms500ms", 1000000);
    duration_ok("1.5m0.5s", 90500000);
    duration_ok("999ns1ns", 1);
    duration_ok("1us1ns", 2);
}

/* Sub-microsecond remainders round up: a non-zero duration never becomes
 * zero, and a duration is never shortened. */
static void test_duration_rounds_up(void **state)
{
    (void)state;
    duration_ok("1ns", 1);
    duration_ok("999ns", 1);
    duration_ok("1001ns", 2);
    duration_ok("1999ns", 2);
    duration_ok("2000ns", 2);
    duration_ok("0.5ns", 1);
    duration_ok("0.001us", 1);
    duration_ok("0.0005us", 1);
    duration_ok("0.000001001s", 2);             /* 1001 ns */
    duration_ok("0.07700098ms", 78);            /* 77000.98 ns */
    duration_ok("0.796000880ms", 797);
    duration_ok("0.0000000001s", 1);            /* past 1e-9: still > 0 */
    duration_ok("0.00000000001h", 1);
    duration_ok("1.0000000001s", 1000001);
    /* minutes and hours keep nanosecond precision past nine digits */
    duration_ok("0.0000000166751m", 2);         /* 1000.506 ns */
    duration_ok("0.0000000166666m", 1);         /* 999.996 ns */
    duration_ok("0.000000000277777h", 1);       /* 999.9972 ns */
    duration_ok("0.000000000277778h", 2);       /* 1000.0008 ns */
    duration_ok("0.00000000000000000001h", 1);  /* past 1e-17: still > 0 */
    duration_ok("0.99999999999999999999h", (apr_int64_t)3600 * 1000000);
}

static void test_duration_one_year_limit(void **state)
{
    (void)state;
    duration_ok("8784h", YEAR_US);
    duration_ok("527040m", YEAR_US);
    duration_ok("31622400s", YEAR_US);
    duration_ok("31622400000ms", YEAR_US);
    duration_ok("31622400000000us", YEAR_US);
    duration_ok("31622400000000000ns", YEAR_US);
    duration_ok("8783h59m60s", YEAR_US);
    duration_ok("8783.5h30m", YEAR_US);
    duration_err("8785h", MSG_LONG);
    duration_err("8784.0000001h", MSG_LONG);
    duration_err("527041m", MSG_LONG);
    duration_err("31622401s", MSG_LONG);
    duration_err("31622400001ms", MSG_LONG);
    duration_err("31622400000001us", MSG_LONG);
    duration_err("31622400000000001ns", MSG_LONG);
    duration_err("8784h1ns", MSG_LONG);
    duration_err("8000h8000h", MSG_LONG);
    duration_err("31622401", MSG_LONG);          /* bare seconds too */
}

/* Huge numbers are "too long", never an overflow or a parse error. */
static void test_duration_huge_numbers(void **state)
{
    (void)state;
    duration_err("99999999999999999999", MSG_LONG);
    duration_err("99999999999999999999ns", MSG_LONG);
    duration_err("9223372036854775807ns", MSG_LONG);
    duration_err("18446744073709551617s", MSG_LONG);
    duration_err("9999999999999999999999999999999999999999h", MSG_LONG);
    duration_err("100000000000000000000000.5m", MSG_LONG);
    /* long but within a year, in nanoseconds (about 11.6 days) */
    duration_ok("1000000000000000ns", 1000000000000);
}

static void test_duration_long_fraction(void **state)
{
    char buf[300];

    (void)state;
    /* 1.000...0001 s with a few hundred digits: accepted, rounds up */
    memset(buf, '0', sizeof(buf));
    buf[0] = '1';
    buf[1] = '.';
    buf[sizeof(buf) - 3] = '1';
    buf[sizeof(buf) - 2] = 's';
    buf[sizeof(buf) - 1] = '\0';
    duration_ok(buf, 1000001);
    buf[sizeof(buf) - 3] = '0';
    duration_ok(buf, 1000000);
}

/* ---- durations: errors ---- */

static void test_duration_empty(void **state)
{
    (void)state;
    duration_err(NULL, MSG_EMPTY);
    duration_err("", MSG_EMPTY);
}

static void test_duration_not_a_number(void **state)
{
    (void)state;
    duration_err("s", MSG_NUMBER);
    duration_err("ms", MSG_NUMBER);
    duration_err(".", MSG_NUMBER);
    duration_err(".s", MSG_NUMBER);
    duration_err("-1s", MSG_NUMBER);
    duration_err("+1s", MSG_NUMBER);
    duration_err(" 1s", MSG_NUMBER);
    duration_err("abc", MSG_NUMBER);
    duration_err("1s.", MSG_NUMBER);             /* second term is "." */
    duration_err("1sx", MSG_NUMBER);
    duration_err("1sec", MSG_NUMBER);           /* "1s" then "ec" */
    duration_err("1s-1s", MSG_NUMBER);
}

static void test_duration_term_without_unit(void **state)
{
    (void)state;
    duration_err("1s5", MSG_NOUNIT);
    duration_err("1m30", MSG_NOUNIT);
    duration_err("1h0", MSG_NOUNIT);
    duration_err("1ms0.5", MSG_NOUNIT);
}

static void test_duration_unknown_unit(void **state)
{
    (void)state;
    duration_err("1x", MSG_UNIT);
    duration_err("1S", MSG_UNIT);               /* units are lower case */
    duration_err("1H", MSG_UNIT);
    duration_err("1MS", MSG_UNIT);
    duration_err("1d", MSG_UNIT);
    duration_err("1 s", MSG_UNIT);
    duration_err("1s ", MSG_NUMBER);
    duration_err("1\xc2s", MSG_UNIT);           /* a truncated micro sign */
    duration_err("1\xc2\xb5", MSG_UNIT);        /* micro sign without s */
    duration_err("1u", MSG_UNIT);
    duration_err("1n", MSG_UNIT);
    duration_err("5m3x", MSG_UNIT);
    duration_err("1.5.5s", MSG_UNIT);
    duration_err("1..5s", MSG_UNIT);
    duration_err("1e3s", MSG_UNIT);
}

/* ---- sizes ---- */

static void test_size_plain(void **state)
{
    (void)state;
    size_ok("0", 0);
    size_ok("1", 1);
    size_ok("512", 512);
    size_ok("00012", 12);
    size_ok("512B", 512);
    size_ok("512b", 512);
    size_ok("1125899906842624", (apr_int64_t)1 << 50);
}

static void test_size_units(void **state)
{
    (void)state;
    size_ok("10k", 10240);
    size_ok("10K", 10240);
    size_ok("10kB", 10240);
    size_ok("10kb", 10240);
    size_ok("10KB", 10240);
    size_ok("2M", 2 * 1024 * 1024);
    size_ok("2m", 2 * 1024 * 1024);
    size_ok("2MB", 2 * 1024 * 1024);
    size_ok("1G", (apr_int64_t)1 << 30);
    size_ok("1g", (apr_int64_t)1 << 30);
    size_ok("1Gb", (apr_int64_t)1 << 30);
    size_ok("0k", 0);
    size_ok("8G", (apr_int64_t)8 << 30);
    size_ok("1048576G", (apr_int64_t)1 << 50);
    size_ok("1073741824M", (apr_int64_t)1 << 50);
    size_ok("1099511627776k", (apr_int64_t)1 << 50);
}

static void test_size_errors(void **state)
{
    (void)state;
    size_err(NULL, SZ_EMPTY);
    size_err("", SZ_EMPTY);

    size_err("k", SZ_NUMBER);
    size_err("B", SZ_NUMBER);
    size_err("-1", SZ_NUMBER);
    size_err("+1", SZ_NUMBER);
    size_err(" 1", SZ_NUMBER);
    size_err(".5k", SZ_NUMBER);

    size_err("1T", SZ_UNIT);
    size_err("1x", SZ_UNIT);
    size_err("1 k", SZ_UNIT);
    size_err("1.5k", SZ_UNIT);
    size_err("1\xc2\xb5", SZ_UNIT);

    size_err("1kk", SZ_TRAILING);
    size_err("1kBB", SZ_TRAILING);
    size_err("1k ", SZ_TRAILING);
    size_err("10KiB", SZ_TRAILING);
    size_err("1BB", SZ_TRAILING);
    size_err("1Mx", SZ_TRAILING);
}

/* The limit is 1 PiB, whether written as a number or with a multiple,
 * and no input overflows on the way there. */
static void test_size_too_large(void **state)
{
    (void)state;
    size_err("1125899906842625", SZ_LARGE);
    size_err("99999999999999999999999999", SZ_LARGE);
    size_err("1048577G", SZ_LARGE);
    size_err("1073741825M", SZ_LARGE);
    size_err("1099511627777k", SZ_LARGE);
    size_err("1125899906842624G", SZ_LARGE);     /* would be 2^80 */
    size_err("10000000000000M", SZ_LARGE);       /* would overflow int64 */
    size_err("9007199254740992k", SZ_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_duration_bare_number_is_seconds),
        cmocka_unit_test(test_duration_fractions),
        cmocka_unit_test(test_duration_multiple_terms),
        cmocka_unit_test(test_duration_rounds_up),
        cmocka_unit_test(test_duration_one_year_limit),
        cmocka_unit_test(test_duration_huge_numbers),
        cmocka_unit_test(test_duration_long_fraction),
        cmocka_unit_test(test_duration_empty),
        cmocka_unit_test(test_duration_not_a_number),
        cmocka_unit_test(test_duration_term_without_unit),
        cmocka_unit_test(test_duration_unknown_unit),
        cmocka_unit_test(test_size_plain),
        cmocka_unit_test(test_size_units),
        cmocka_unit_test(test_size_errors),
        cmocka_unit_test(test_size_too_large),
    };
    return cmocka_run_group_tests_name("apigw_parse", tests, group_setup,
                                       group_teardown);
}
