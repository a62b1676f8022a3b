/* sources: common/apigw_json.c */
/* Unit tests for common/apigw_json.c: the JSON string literal every module
 * writes (error bodies, status pages), byte for byte; text made valid
 * UTF-8 (apigw_utf8_clean). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_json.h"

static void test_plain_and_null(void **state)
{
    (void)state;
    assert_string_equal(apigw_json_str(pool, ""), "\"\"");
    assert_string_equal(apigw_json_str(pool, "/v1/users/{id}"),
                        "\"/v1/users/{id}\"");
    assert_string_equal(apigw_json_str(pool, NULL), "null");
}

static void test_escapes(void **state)
{
    (void)state;
    assert_string_equal(apigw_json_str(pool, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(apigw_json_str(pool, "x\r\ny\tz"),
                        "\"x\\u000d\\u000ay\\u0009z\"");
    assert_string_equal(apigw_json_str(pool, "\x01\x1f\x7f"),
                        "\"\\u0001\\u001f\\u007f\"");
}

static void test_other_bytes_kept(void **state)
{
    /* UTF-8 and bytes above 0x7f pass as they are */
    (void)state;
    assert_string_equal(apigw_json_str(pool, "caf\xc3\xa9 \xff"),
                        "\"caf\xc3\xa9 \xff\"");
}

static void test_length_is_exact(void **state)
{
    /* every byte an escape: the buffer is sized for the worst case */
    char in[257];
    const char *out;
    int i;

    (void)state;
    for (i = 0; i < 256; i++) {
        in[i] = (char)(i % 2 ? '"' : 0x01);
    }
    in[256] = '\0';
    out = apigw_json_str(pool, in);
    assert_int_equal(strlen(out), 2 + 128 * 2 + 128 * 6);
}

#define FFFD "\xef\xbf\xbd"

static void test_utf8_valid_kept(void **state)
{
    static const char *const ok[] = {
        "", "plain", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\x01\x7f", NULL
    };
    int i;

    (void)state;
    for (i = 0; ok[i]; i++) {
        /* the very same string: nothing copied */
        assert_ptr_equal(apigw_utf8_clean(pool, ok[i]), ok[i]);
    }
}

static void test_utf8_each_bad_byte_replaced(void **state)
{
    (void)state;
    assert_string_equal(apigw_utf8_clean(pool, "a\xff" "b"), "a" FFFD "b");
    assert_string_equal(apigw_utf8_clean(pool, "\xff\xfe"), FFFD FFFD);
    /* overlong forms, surrogates, above U+10FFFF, stray continuations */
    assert_string_equal(apigw_utf8_clean(pool, "\xc0\xaf"), FFFD FFFD);
    assert_string_equal(apigw_utf8_clean(pool, "\xe0\x80\xaf"),
                        FFFD FFFD FFFD);
    assert_string_equal(apigw_utf8_clean(pool, "\xed\xa0\x80"),
                        FFFD FFFD FFFD);
    assert_string_equal(apigw_utf8_clean(pool, "\xf4\x90\x80\x80"),
                        FFFD FFFD FFFD FFFD);
    assert_string_equal(apigw_utf8_clean(pool, "\x80x"), FFFD "x");
    /* cut short, by the end or by another character */
    assert_string_equal(apigw_utf8_clean(pool, "\xe2\x82"), FFFD FFFD);
    assert_string_equal(apigw_utf8_clean(pool, "\xe2x\xc3\xa9"),
                        FFFD "x\xc3\xa9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_plain_and_null),
        T(test_escapes),
        T(test_other_bytes_kept),
        T(test_length_is_exact),
        T(test_utf8_valid_kept),
        T(test_utf8_each_bad_byte_replaced),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
