/* sources: common/apigw_json.c */
/* Unit tests for common/apigw_json.c: the JSON string literal every module
 * writes (error bodies, status pages), byte for byte. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_plain_and_null),
        T(test_escapes),
        T(test_other_bytes_kept),
        T(test_length_is_exact),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
