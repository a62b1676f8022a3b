/* sources: mod_apigw/apigw_ws_handshake.c */
/* Unit tests for mod_apigw/apigw_ws_handshake.c: the token lists of
 * Upgrade and Connection, and Sec-WebSocket-Key validation (RFC 6455). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "unit_apr.h"

#include "apigw_ws_handshake.h"

static void test_tokens(void **state)
{
    (void)state;
    assert_true(apigw_ws_has_token("websocket", "websocket"));
    assert_true(apigw_ws_has_token("WebSocket", "websocket"));
    assert_true(apigw_ws_has_token("keep-alive, Upgrade", "upgrade"));
    assert_true(apigw_ws_has_token("keep-alive,upgrade", "upgrade"));
    assert_true(apigw_ws_has_token(" \tUpgrade \t, x", "upgrade"));
    assert_true(apigw_ws_has_token(",,upgrade,,", "upgrade"));
    assert_true(apigw_ws_has_token("h2c, websocket", "websocket"));
    /* a token is a whole element, not a part of one */
    assert_false(apigw_ws_has_token("websockets", "websocket"));
    assert_false(apigw_ws_has_token("no-upgrade", "upgrade"));
    assert_false(apigw_ws_has_token("upgrade-x, y", "upgrade"));
    assert_false(apigw_ws_has_token("up grade", "upgrade"));
    assert_false(apigw_ws_has_token("upgrade x", "upgrade"));
    assert_false(apigw_ws_has_token("", "upgrade"));
    assert_false(apigw_ws_has_token(NULL, "upgrade"));
    assert_false(apigw_ws_has_token(" , ,", "upgrade"));
}

static void test_keys(void **state)
{
    (void)state;
    /* RFC 6455's own example, and the extremes of the alphabet */
    assert_true(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_true(apigw_ws_key_valid("AAAAAAAAAAAAAAAAAAAAAA=="));
    assert_true(apigw_ws_key_valid("/////////////////////w=="));
    assert_true(apigw_ws_key_valid("+++++++++++++++++++++g=="));
    /* the last character before the padding may carry 2 bits only */
    assert_false(apigw_ws_key_valid("AAAAAAAAAAAAAAAAAAAAAB=="));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25jZR=="));
    /* wrong lengths, padding, alphabet */
    assert_false(apigw_ws_key_valid(NULL));
    assert_false(apigw_ws_key_valid(""));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ="));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==="));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25jZQAA"));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25jZ==="));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25j-Q=="));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25j_Q=="));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25j Q=="));
    assert_false(apigw_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==\r"));
    /* base64 of 15 or 17 bytes */
    assert_false(apigw_ws_key_valid("AAAAAAAAAAAAAAAAAAAA"));
    assert_false(apigw_ws_key_valid("AAAAAAAAAAAAAAAAAAAAAAA="));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
