/* sources: mod_apigw_breaker/apigw_sus_session.c */
/* libs: -lpthread */
/* Unit tests for mod_apigw_breaker/apigw_sus_session.c: the session-
 * affinity table (find, timeout, refresh, replacement, a full
 * neighbourhood, threads on one table) and the session value of a
 * backend's Set-Cookie. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "unit_apr.h"

#include "apigw_sus_session.h"

#define SEC(n) apr_time_from_sec(n)
#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)
#define N 64

static apigw_sus_session table[N];

static apr_uint64_t key(const char *s)
{
    return apigw_sus_session_key(s, strlen(s));
}

static void test_put_find_timeout(void **state)
{
    (void)state;
    memset(table, 0, sizeof(table));
    assert_int_equal(apigw_sus_session_find(table, N, key("u1"), T0, SEC(10)), -1);
    apigw_sus_session_put(table, N, key("u1"), 2, T0, SEC(10));
    apigw_sus_session_put(table, N, key("u2"), 0, T0, SEC(10));
    assert_int_equal(apigw_sus_session_find(table, N, key("u1"), T0 + SEC(1), SEC(10)), 2);
    assert_int_equal(apigw_sus_session_find(table, N, key("u2"), T0 + SEC(1), SEC(10)), 0);
    /* each use refreshes it: still alive 19 s after it was made */
    assert_int_equal(apigw_sus_session_find(table, N, key("u1"), T0 + SEC(9), SEC(10)), 2);
    assert_int_equal(apigw_sus_session_find(table, N, key("u1"), T0 + SEC(18), SEC(10)), 2);
    /* u2 was idle: gone */
    assert_int_equal(apigw_sus_session_find(table, N, key("u2"), T0 + SEC(12), SEC(10)), -1);
    /* moved to another member */
    apigw_sus_session_put(table, N, key("u1"), 1, T0 + SEC(19), SEC(10));
    assert_int_equal(apigw_sus_session_find(table, N, key("u1"), T0 + SEC(19), SEC(10)), 1);
    assert_int_not_equal(key(""), 0);
}

static void test_full_neighbourhood_evicts_oldest(void **state)
{
    apigw_sus_session small[8];
    char name[16];
    int i;
    (void)state;

    memset(small, 0, sizeof(small));
    for (i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        apigw_sus_session_put(small, 8, key(name), i, T0 + SEC(i), SEC(100));
    }
    for (i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        assert_int_equal(apigw_sus_session_find(small, 8, key(name), T0 + SEC(8), SEC(100)), i);
    }
    /* a ninth key in a full table replaces the least recently used one:
     * use every session again but s3 */
    for (i = 0; i < 8; i++) {
        if (i != 3) {
            snprintf(name, sizeof(name), "s%d", i);
            apigw_sus_session_find(small, 8, key(name), T0 + SEC(20), SEC(100));
        }
    }
    apigw_sus_session_put(small, 8, key("new"), 5, T0 + SEC(21), SEC(100));
    assert_int_equal(apigw_sus_session_find(small, 8, key("new"), T0 + SEC(21), SEC(100)), 5);
    assert_int_equal(apigw_sus_session_find(small, 8, key("s3"), T0 + SEC(21), SEC(100)), -1);
    assert_int_equal(apigw_sus_session_find(small, 8, key("s4"), T0 + SEC(21), SEC(100)), 4);
    /* out of range members are refused */
    apigw_sus_session_put(small, 8, key("bad"), -1, T0, SEC(100));
    apigw_sus_session_put(small, 8, key("bad"), 70000, T0, SEC(100));
    assert_int_equal(apigw_sus_session_find(small, 8, key("bad"), T0, SEC(100)), -1);
    assert_int_equal(apigw_sus_session_find(small, 0, key("bad"), T0, SEC(100)), -1);
}

static void *writer(void *arg)
{
    int id = (int)(size_t)arg, i;
    char name[32];

    for (i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "t%d-%d", id, i % 40);
        apigw_sus_session_put(table, N, key(name), id, T0 + i, SEC(100));
        int m = apigw_sus_session_find(table, N, key(name), T0 + i, SEC(100));
        if (m != -1 && (m < 0 || m > 3)) {
            return (void *)1;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t t[4];
    void *rv;
    int i;
    (void)state;

    memset(table, 0, sizeof(table));
    for (i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, writer, (void *)(size_t)i);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], &rv);
        assert_null(rv);
    }
}

/* The value of SESSION in h, or NULL. */
static const char *set_cookie(const char *h)
{
    static char buf[64];
    const char *v = NULL;
    apr_size_t n = 0;

    if (!apigw_sus_set_cookie_value(h, "SESSION", 7, &v, &n)) {
        return NULL;
    }
    assert_true(v >= h && v + n <= h + strlen(h));
    assert_true(n > 0 && n < sizeof(buf));
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

static void test_set_cookie_value(void **state)
{
    (void)state;
    assert_string_equal(set_cookie("SESSION=abc123"), "abc123");
    assert_string_equal(set_cookie("SESSION=abc; Path=/; HttpOnly"), "abc");
    assert_string_equal(set_cookie("SESSION=a=b"), "a=b");
    /* quotes are part of the value: the client sends them back */
    assert_string_equal(set_cookie("SESSION=\"q v\"; Secure"), "\"q v\"");
    /* the name exactly, case counts */
    assert_null(set_cookie("xSESSION=abc"));
    assert_null(set_cookie("SESSIONx=abc"));
    assert_null(set_cookie("session=abc"));
    assert_null(set_cookie("SESSION"));
    assert_null(set_cookie("Path=/; SESSION=abc"));
    /* the cookie being cleared */
    assert_null(set_cookie("SESSION=; Max-Age=0"));
}

/* Found by fuzz_affinity: a client stores name and value without the
 * white space around them (RFC 6265 5.2) and sends back SESSION=abc, and
 * httpd's ap_cookie_read ends a value at ','; the value hashed from
 * Set-Cookie was "abc " or "a,b" (or none for "SESSION = abc"), so the
 * client's next request had another key. */
static void test_set_cookie_value_as_sent_back(void **state)
{
    (void)state;
    assert_string_equal(set_cookie("SESSION=abc ; Path=/"), "abc");
    assert_string_equal(set_cookie("SESSION = abc ; Path=/"), "abc");
    assert_string_equal(set_cookie(" SESSION=\t abc\t"), "abc");
    assert_string_equal(set_cookie("SESSION=a,b; Path=/"), "a");
    assert_string_equal(set_cookie("SESSION=a ,b"), "a ");
    assert_null(set_cookie("SESSION=   ; Path=/"));
    assert_null(set_cookie("SESSION=,b"));
    assert_int_equal(key("abc"), apigw_sus_session_key("abc ; x", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_find_timeout),
        cmocka_unit_test(test_full_neighbourhood_evicts_oldest),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_set_cookie_value),
        cmocka_unit_test(test_set_cookie_value_as_sent_back),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
