/* sources: mod_apigw/apigw_query.c */
/* Unit tests for mod_apigw/apigw_query.c: apigw_query_filter keeps the
 * pairs whose form-decoded name is allow-listed, in order, raw. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_query.h"

/* An allow-list from "a", "b", ..., NULL. */
static apr_array_header_t *names(const char *first, ...)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
    const char *n;
    va_list ap;

    va_start(ap, first);
    for (n = first; n; n = va_arg(ap, const char *)) {
        APR_ARRAY_PUSH(a, const char *) = n;
    }
    va_end(ap);
    return a;
}

static void kept(const char *args, const apr_array_header_t *allow,
                 const char *want)
{
    const char *got = apigw_query_filter(pool, args, 0, allow);

    if (!got) {
        fail_msg("\"%s\": nothing kept, want \"%s\"", args, want);
    }
    assert_string_equal(got, want);
}

static void nothing(const char *args, const apr_array_header_t *allow)
{
    const char *got = apigw_query_filter(pool, args, 0, allow);

    if (got) {
        fail_msg("\"%s\": kept \"%s\", want nothing (NULL)",
                 args ? args : "(null)", got);
    }
}

static void test_keeps_allowed_in_order(void **state)
{
    apr_array_header_t *allow = names("status", "page", NULL);

    (void)state;
    kept("status=open", allow, "status=open");
    kept("status=open&debug=1", allow, "status=open");
    kept("debug=1&status=open", allow, "status=open");
    kept("page=2&debug=1&status=open", allow, "page=2&status=open");
    kept("status=a&status=b", allow, "status=a&status=b");  /* repeats kept */
    kept("a=1&page=3&b=2&status=x&c=3", allow, "page=3&status=x");
}

static void test_nothing_kept_is_null(void **state)
{
    apr_array_header_t *allow = names("status", NULL);

    (void)state;
    nothing(NULL, allow);
    nothing("", allow);
    nothing("debug=1", allow);
    nothing("debug=1&x=2", allow);
    nothing("&&&", allow);
    nothing("Status=1", allow);                        /* case-sensitive */
    nothing("statuss=1", allow);
    nothing("statu=1", allow);
    nothing("=status", allow);
    nothing("status=1", NULL);                         /* no list */
    nothing("status=1", names(NULL));                  /* an empty list */
}

static void test_all(void **state)
{
    const char *args = "a=1&b=%20&&c";

    (void)state;
    assert_ptr_equal(apigw_query_filter(pool, args, 1, NULL), args);
    assert_ptr_equal(apigw_query_filter(pool, args, 1, names("x", NULL)), args);
    assert_null(apigw_query_filter(pool, NULL, 1, NULL));
    assert_null(apigw_query_filter(pool, "", 1, NULL));
}

static void test_raw_encoding_kept(void **state)
{
    apr_array_header_t *allow = names("q", NULL);

    (void)state;
    kept("q=a%20b+c&x=1", allow, "q=a%20b+c");
    kept("q=%2F%2e%2E&x=1", allow, "q=%2F%2e%2E");
    kept("q=caf\xc3\xa9", allow, "q=caf\xc3\xa9");
    kept("q==x=y", allow, "q==x=y");
    kept("q=", allow, "q=");
}

static void test_name_without_value(void **state)
{
    apr_array_header_t *allow = names("flag", "q", NULL);

    (void)state;
    kept("flag", allow, "flag");
    kept("x&flag&y", allow, "flag");
    kept("flag&q=1", allow, "flag&q=1");
}

/* Names are compared after form decoding: %XX and '+'. */
static void test_encoded_names(void **state)
{
    (void)state;
    kept("%71=1", names("q", NULL), "%71=1");
    kept("%51=1&q=2", names("Q", NULL), "%51=1");
    kept("first+name=a&first%20name=b&first name=c",
         names("first name", NULL),
         "first+name=a&first%20name=b&first name=c");
    kept("a%5Bb%5d=1&a[b]=2", names("a[b]", NULL), "a%5Bb%5d=1&a[b]=2");
    kept("a%3Db=1", names("a=b", NULL), "a%3Db=1");      /* an '=' in the name */
    kept("a%26b=1", names("a&b", NULL), "a%26b=1");
    kept("caf%C3%A9=1", names("caf\xc3\xa9", NULL), "caf%C3%A9=1");
    kept("%2B=1&+=2", names("+", NULL), "%2B=1");
    nothing("a+b=1", names("a+b", NULL));                  /* '+' is a space */
}

/* A '%' not followed by two hex digits is a literal '%'. */
static void test_malformed_percent(void **state)
{
    (void)state;
    kept("a%=1", names("a%", NULL), "a%=1");
    kept("a%4=1", names("a%4", NULL), "a%4=1");
    kept("a%zz=1", names("a%zz", NULL), "a%zz=1");
    kept("a%4z=1", names("a%4z", NULL), "a%4z=1");
    kept("%=1", names("%", NULL), "%=1");
    kept("%%41=1", names("%A", NULL), "%%41=1");
    nothing("a%4=1", names("a", NULL));
    /* "%00" decodes to a NUL, which no configured name holds */
    nothing("a%00=1", names("a", NULL));
    nothing("%00=1", names("", "x", NULL));
}

static void test_empty_name(void **state)
{
    (void)state;
    kept("=1&x=2", names("", NULL), "=1");
    nothing("a=1", names("", NULL));
}

static void test_empty_pairs_dropped(void **state)
{
    apr_array_header_t *allow = names("a", "b", NULL);

    (void)state;
    kept("&a=1&&b=2&", allow, "a=1&b=2");
    kept("&&a=1", allow, "a=1");
    kept("a=1&&&", allow, "a=1");
    /* an empty pair is not a pair with an empty name */
    kept("&=1&&x=2&", names("", NULL), "=1");
}

static void test_long_query(void **state)
{
    apr_array_header_t *allow = names("k", NULL);
    const char *args = "", *want = "", *got;
    int i;

    (void)state;
    for (i = 0; i < 2000; i++) {
        args = apr_pstrcat(pool, args, i ? "&" : "", i % 2 ? "k" : "x", "=",
                           apr_itoa(pool, i), NULL);
        if (i % 2) {
            want = apr_pstrcat(pool, want, *want ? "&" : "", "k=",
                               apr_itoa(pool, i), NULL);
        }
    }
    got = apigw_query_filter(pool, args, 0, allow);
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void test_input_unchanged(void **state)
{
    char args[] = "a=1&b=2&c=3";
    const char *got;

    (void)state;
    got = apigw_query_filter(pool, args, 0, names("c", "a", NULL));
    assert_string_equal(got, "a=1&c=3");
    assert_string_equal(args, "a=1&b=2&c=3");
    assert_ptr_not_equal(got, args);
}

/* ApiDenyQueryStrings: every pair but the denied names, order and raw
 * encoding kept; names decoded the same way as for the allow-list. */
static void denied(const char *args, const apr_array_header_t *deny,
                   const char *want)
{
    const char *got = apigw_query_filter_deny(pool, args, deny);

    if (!want) {
        if (got) {
            fail_msg("\"%s\": kept \"%s\", want nothing", args, got);
        }
        return;
    }
    if (!got) {
        fail_msg("\"%s\": nothing kept, want \"%s\"", args, want);
    }
    assert_string_equal(got, want);
}

static void test_deny_list(void **state)
{
    apr_array_header_t *deny = names("debug", "token", NULL);

    (void)state;
    denied("a=1&debug=1&b=2", deny, "a=1&b=2");
    denied("debug=1", deny, NULL);
    denied("token=x&debug&token", deny, NULL);
    denied("d%65bug=1&x=%20y", deny, "x=%20y");      /* decoded names */
    denied("Debug=1&debugx=2", deny, "Debug=1&debugx=2");
    denied("&&a=1&&", deny, "a=1");
    denied("a=1&a=2&token=t&a=3", deny, "a=1&a=2&a=3");
    denied(NULL, deny, NULL);
    denied("", deny, NULL);
    denied("a=1&debug=2", NULL, "a=1&debug=2");       /* nothing denied */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_keeps_allowed_in_order),
        T(test_nothing_kept_is_null),
        T(test_all),
        T(test_raw_encoding_kept),
        T(test_name_without_value),
        T(test_encoded_names),
        T(test_malformed_percent),
        T(test_empty_name),
        T(test_empty_pairs_dropped),
        T(test_long_query),
        T(test_input_unchanged),
        T(test_deny_list),
    };
    return cmocka_run_group_tests_name("apigw_query", tests, group_setup,
                                       group_teardown);
}
