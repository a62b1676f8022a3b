/* sources: common/apigw_grpc_status.c */
/* Unit tests for common/apigw_grpc_status.c: gRPC statuses for the
 * gateway's HTTP answers and back, grpc-status parsing, grpc-message
 * encoding, gRPC content types. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_grpc_status.h"

static void test_content_types(void **state)
{
    (void)state;
    assert_true(apigw_grpc_content_type("application/grpc"));
    assert_true(apigw_grpc_content_type("Application/GRPC"));
    assert_true(apigw_grpc_content_type("application/grpc+proto"));
    assert_true(apigw_grpc_content_type("application/grpc+json"));
    assert_true(apigw_grpc_content_type("application/grpc-web"));
    assert_true(apigw_grpc_content_type("application/grpc; charset=x"));
    assert_false(apigw_grpc_content_type("application/grpcx"));
    assert_false(apigw_grpc_content_type("application/json"));
    assert_false(apigw_grpc_content_type("application/grp"));
    assert_false(apigw_grpc_content_type(""));
    assert_false(apigw_grpc_content_type(NULL));
}

static void test_http_to_grpc(void **state)
{
    (void)state;
    assert_int_equal(apigw_grpc_status_for_http(200), 0);
    assert_int_equal(apigw_grpc_status_for_http(400), 3);
    assert_int_equal(apigw_grpc_status_for_http(401), 16);
    assert_int_equal(apigw_grpc_status_for_http(403), 7);
    assert_int_equal(apigw_grpc_status_for_http(404), 12);
    assert_int_equal(apigw_grpc_status_for_http(405), 12);
    assert_int_equal(apigw_grpc_status_for_http(413), 8);
    assert_int_equal(apigw_grpc_status_for_http(429), 8);
    assert_int_equal(apigw_grpc_status_for_http(431), 3);
    assert_int_equal(apigw_grpc_status_for_http(500), 13);
    assert_int_equal(apigw_grpc_status_for_http(501), 12);
    assert_int_equal(apigw_grpc_status_for_http(502), 14);
    assert_int_equal(apigw_grpc_status_for_http(503), 14);
    assert_int_equal(apigw_grpc_status_for_http(504), 4);
    assert_int_equal(apigw_grpc_status_for_http(599), 13);
    assert_int_equal(apigw_grpc_status_for_http(302), 2);
}

static void test_grpc_to_http(void **state)
{
    static const int want[17] = {
        200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501,
        500, 503, 500, 401
    };
    int g;

    (void)state;
    for (g = 0; g < 17; g++) {
        assert_int_equal(apigw_http_status_for_grpc(g), want[g]);
    }
    assert_int_equal(apigw_http_status_for_grpc(17), 500);
    assert_int_equal(apigw_http_status_for_grpc(-1), 500);
    /* the gateway's own answers come back as failures of their kind */
    assert_int_equal(apigw_http_status_for_grpc(
                         apigw_grpc_status_for_http(503)), 503);
    assert_int_equal(apigw_http_status_for_grpc(
                         apigw_grpc_status_for_http(504)), 504);
    assert_int_equal(apigw_http_status_for_grpc(
                         apigw_grpc_status_for_http(429)), 429);
}

static void test_status_parse(void **state)
{
    (void)state;
    assert_int_equal(apigw_grpc_status_parse("0"), 0);
    assert_int_equal(apigw_grpc_status_parse("14"), 14);
    assert_int_equal(apigw_grpc_status_parse("99"), 99);
    assert_int_equal(apigw_grpc_status_parse("100"), -1);
    assert_int_equal(apigw_grpc_status_parse(""), -1);
    assert_int_equal(apigw_grpc_status_parse(" 1"), -1);
    assert_int_equal(apigw_grpc_status_parse("1 "), -1);
    assert_int_equal(apigw_grpc_status_parse("-1"), -1);
    assert_int_equal(apigw_grpc_status_parse("0x1"), -1);
    assert_int_equal(apigw_grpc_status_parse(NULL), -1);
}

static void test_message_encode(void **state)
{
    (void)state;
    assert_string_equal(apigw_grpc_message_encode(pool, "rate limit"),
                        "rate limit");
    assert_string_equal(apigw_grpc_message_encode(pool, "100% done"),
                        "100%25 done");
    assert_string_equal(apigw_grpc_message_encode(pool, "a\r\nb"),
                        "a%0D%0Ab");
    assert_string_equal(apigw_grpc_message_encode(pool, "caf\xc3\xa9"),
                        "caf%C3%A9");
    assert_string_equal(apigw_grpc_message_encode(pool, "\x7f~ "),
                        "%7F~ ");
    assert_string_equal(apigw_grpc_message_encode(pool, ""), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_content_types),
        T(test_http_to_grpc),
        T(test_grpc_to_http),
        T(test_status_parse),
        T(test_message_encode),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
