/* sources: mod_apigw/apigw_trace.c */
/* Unit tests for mod_apigw/apigw_trace.c (W3C Trace Context): the
 * specification's own traceparent examples and each way one is invalid
 * (lengths, versions, case, zero ids, separators), a later version with
 * more fields, the header written back; tracestate members, keys of both
 * forms at their limits, values, empty members, duplicates, the member
 * and length limits; the sampling ratio. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_trace.h"

#define EXAMPLE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void test_traceparent_example(void **state)
{
    static const unsigned char trace[16] = {
        0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
        0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
    static const unsigned char parent[8] = {
        0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
    apigw_traceparent tp;
    (void)state;

    assert_true(apigw_traceparent_parse(EXAMPLE, &tp));
    assert_memory_equal(tp.trace_id, trace, 16);
    assert_memory_equal(tp.parent_id, parent, 8);
    assert_int_equal(tp.flags, APIGW_TRACE_SAMPLED);
    assert_string_equal(apigw_traceparent_format(pool, tp.trace_id,
                                                 tp.parent_id, tp.flags),
                        EXAMPLE);
    /* not sampled */
    assert_true(apigw_traceparent_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &tp));
    assert_int_equal(tp.flags, 0);
    /* other flag bits are read as they are */
    assert_true(apigw_traceparent_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", &tp));
    assert_int_equal(tp.flags, 0xff);
}

static void test_traceparent_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "00",
        /* one short, one long */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
        /* version 00 with more after it */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what",
        /* version ff, a version not hex */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        /* upper case */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
        /* zero ids */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        /* separators */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
        /* a field shifted: a digit missing here, one more there */
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        /* spaces, a second header merged in by httpd */
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, "
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        /* a later version whose 56th character is not '-' */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        /* control characters */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\r",
    };
    apigw_traceparent tp;
    size_t i;
    (void)state;

    assert_false(apigw_traceparent_parse(NULL, &tp));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&tp, 0x5a, sizeof(tp));
        if (apigw_traceparent_parse(bad[i], &tp)) {
            fail_msg("accepted: \"%s\"", bad[i]);
        }
        assert_int_equal(tp.flags, 0x5a);    /* untouched */
    }
}

static void test_traceparent_later_version(void **state)
{
    apigw_traceparent tp;
    (void)state;

    /* its first four fields as version 00's; more after a '-' */
    assert_true(apigw_traceparent_parse(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
    assert_true(apigw_traceparent_parse(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        &tp));
    assert_int_equal(tp.flags, 1);
    assert_string_equal(apigw_traceparent_format(pool, tp.trace_id,
                                                 tp.parent_id, tp.flags),
                        EXAMPLE);              /* written back as 00 */
}

static const char *repeat(char c, int n)
{
    char *s = apr_palloc(pool, (apr_size_t)n + 1);

    memset(s, c, (apr_size_t)n);
    s[n] = '\0';
    return s;
}

static void test_tracestate_valid(void **state)
{
    static const char *const good[] = {
        "rojo=00f067aa0ba902b7",
        "congo=t61rcWkgMzE",
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        " rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE\t",
        "a=1,,b=2",                          /* an empty member */
        "fw529a3039@dt=1",                   /* tenant@system */
        "0tenant@sys_-*/9=x",
        "a_-*/0=printable ~!\"#$%&'()*+-./:;<>?@[\\]^_`{|}",
        "k= leading space is fine",
        "k=trailing spaces are the list's ",   /* OWS, not the value's */
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!apigw_tracestate_valid(good[i])) {
            fail_msg("refused: \"%s\"", good[i]);
        }
    }
    /* keys and values at their limits */
    assert_true(apigw_tracestate_valid(apr_pstrcat(pool, "a",
                                                   repeat('b', 255), "=v",
                                                   NULL)));
    assert_true(apigw_tracestate_valid(apr_pstrcat(pool, "k=",
                                                   repeat('v', 256), NULL)));
    assert_true(apigw_tracestate_valid(apr_pstrcat(pool, repeat('t', 241),
                                                   "@", repeat('s', 14),
                                                   "=v", NULL)));
}

static void test_tracestate_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        " , ,",                              /* members, but all empty */
        "rojo",                              /* no '=' */
        "=v",
        "Rojo=1",                            /* upper case key */
        "1rojo=1",                           /* a simple key starts lcalpha */
        "ro jo=1",
        "rojo=",                             /* empty value */
        "rojo=a,b",                          /* then "b": no '=' */
        "rojo=a=b",
        "rojo=tab\there",
        "rojo=caf\xc3\xa9",
        "rojo=1\r\nX-Injected: 1",
        "rojo=1,rojo=2",                     /* a key twice */
        "@sys=1", "tenant@=1", "tenant@1sys=1", "t@s@x=1",
        "_tenant@sys=1",
    };
    char many[2048];
    size_t i;
    int n;
    (void)state;

    assert_false(apigw_tracestate_valid(NULL));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (apigw_tracestate_valid(bad[i])) {
            fail_msg("accepted: \"%s\"", bad[i]);
        }
    }
    assert_false(apigw_tracestate_valid(apr_pstrcat(pool, "a",
                                                    repeat('b', 256), "=v",
                                                    NULL)));
    assert_false(apigw_tracestate_valid(apr_pstrcat(pool, "k=",
                                                    repeat('v', 257), NULL)));
    assert_false(apigw_tracestate_valid(apr_pstrcat(pool, repeat('t', 242),
                                                    "@s=v", NULL)));
    assert_false(apigw_tracestate_valid(apr_pstrcat(pool, "t@",
                                                    repeat('s', 15), "=v",
                                                    NULL)));
    /* 32 members pass, 33 do not */
    many[0] = '\0';
    for (n = 0; n < 32; n++) {
        snprintf(many + strlen(many), sizeof(many) - strlen(many),
                 "%sk%d=v", n ? "," : "", n);
    }
    assert_true(apigw_tracestate_valid(many));
    strcat(many, ",k32=v");
    assert_false(apigw_tracestate_valid(many));
    /* at most 512 characters in all */
    assert_true(apigw_tracestate_valid(apr_pstrcat(pool, "k=",
                                                   repeat('v', 250), ",j=",
                                                   repeat('w', 256), NULL)));
    assert_false(apigw_tracestate_valid(apr_pstrcat(pool, "k=",
                                                    repeat('v', 252), ",j=",
                                                    repeat('w', 256),
                                                    NULL)));
}

static void test_sample(void **state)
{
    int i, kept = 0;
    apr_uint64_t x = 88172645463325252ULL;
    (void)state;

    assert_true(apigw_trace_sample(1.0, 0));
    assert_true(apigw_trace_sample(1.0, ~(apr_uint64_t)0));
    assert_true(apigw_trace_sample(2.0, 12345));
    assert_false(apigw_trace_sample(0.0, 0));
    assert_false(apigw_trace_sample(-1.0, 0));
    assert_false(apigw_trace_sample(0.5, ~(apr_uint64_t)0));
    assert_true(apigw_trace_sample(0.5, 0));
    /* about the ratio over many (xorshift numbers) */
    for (i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        kept += apigw_trace_sample(0.25, x);
    }
    assert_in_range(kept, 24000, 26000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_traceparent_example),
        T(test_traceparent_invalid),
        T(test_traceparent_later_version),
        T(test_tracestate_valid),
        T(test_tracestate_invalid),
        T(test_sample),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
