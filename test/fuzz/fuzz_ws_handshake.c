/* sources: mod_apigw/apigw_ws_handshake.c common/apigw_grpc_status.c */
/* libs: -laprutil-1 */
/* libFuzzer target for the WebSocket handshake checks of
 * mod_apigw/apigw_ws_handshake.c and the gRPC status helpers of
 * common/apigw_grpc_status.c, each against an independent reference
 * written here:
 *
 * - apigw_ws_has_token(value, token) is true exactly when splitting value
 *   on ',' gives an element that, with spaces and tabs stripped from both
 *   ends, equals token ignoring ASCII case;
 * - apigw_ws_key_valid(key) is true exactly when key is 24 characters
 *   that APR decodes as base64 to 16 bytes and that APR's encoding of
 *   those 16 bytes gives back unchanged (no stray bits, "==" padding);
 * - apigw_grpc_status_parse gives back n for the decimal spelling of every
 *   n in 0..99 without leading zeros, and any answer is -1 or in 0..99;
 *   apigw_grpc_message_encode's output is printable ASCII, and decoding
 *   its %XX gives the input back.
 *
 * Input: the first line is the token, the second a key, the rest the
 * header value (also given to the gRPC helpers). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_base64.h>
#include <apr_strings.h>

#include "apigw_ws_handshake.h"
#include "apigw_grpc_status.h"

#define FUZZ_TARGET "fuzz_ws_handshake"
#include "fuzz_check.h"

static apr_pool_t *pool;

static int ref_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;

    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p, *e = end;

        while (b < e && (*b == ' ' || *b == '\t')) {
            b++;
        }
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if ((size_t)(e - b) == tlen && tlen > 0
            && strncasecmp(b, token, tlen) == 0) {
            return 1;
        }
        if (!comma) {
            return 0;
        }
        p = comma + 1;
    }
}

static int ref_key_valid(const char *key)
{
    char bytes[64], again[64];
    int n;

    if (strlen(key) != 24) {
        return 0;
    }
    for (n = 0; n < 24; n++) {
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789+/=", key[n])) {
            return 0;
        }
    }
    n = apr_base64_decode_binary((unsigned char *)bytes, key);
    if (n != 16) {
        return 0;
    }
    apr_base64_encode_binary(again, (const unsigned char *)bytes, 16);
    return strcmp(again, key) == 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c - 'A' + 10;
}

static void check_grpc(const char *value)
{
    const char *enc = apigw_grpc_message_encode(pool, value);
    char *dec = apr_palloc(pool, strlen(enc) + 1), *d = dec;
    const char *s;
    int g = apigw_grpc_status_parse(value);

    CHECK(g >= -1 && g <= 99, "status parse of [%s] gave %d", value, g);
    if (g >= 0) {
        CHECK(strcmp(apr_itoa(pool, g), value) == 0
              || (value[0] == '0' && strlen(value) == 2),
              "[%s] parsed as %d", value, g);
    }
    for (s = enc; *s; s++) {
        CHECK(*s >= 0x20 && *s <= 0x7E, "encoded byte 0x%02x in [%s]",
              (unsigned char)*s, enc);
        if (*s == '%') {
            CHECK(s[1] && s[2] && strchr("0123456789ABCDEF", s[1])
                  && strchr("0123456789ABCDEF", s[2]),
                  "bad escape in [%s]", enc);
            *d++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        }
        else {
            *d++ = *s;
        }
    }
    *d = '\0';
    CHECK(strcmp(dec, value) == 0, "[%s] encoded as [%s]", value, enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *token, *key, *value, *nl;
    int got, want, n;

    if (!pool) {
        apr_initialize();
        apr_pool_create(&pool, NULL);
    }
    buf = apr_pstrmemdup(pool, (const char *)data, size);  /* cut at NUL */
    token = buf;
    key = value = "";
    if ((nl = strchr(token, '\n')) != NULL) {
        *nl = '\0';
        key = nl + 1;
        if ((nl = strchr(key, '\n')) != NULL) {
            *nl = '\0';
            value = nl + 1;
        }
    }
    got = apigw_ws_has_token(value, token);
    want = ref_has_token(value, token);
    CHECK(got == want, "has_token([%s], [%s]) = %d, want %d", value, token,
          got, want);
    got = apigw_ws_key_valid(key);
    want = ref_key_valid(key);
    CHECK(got == want, "key_valid([%s]) = %d, want %d", key, got, want);
    check_grpc(value);
    for (n = 0; n < 100; n++) {
        CHECK(apigw_grpc_status_parse(apr_itoa(pool, n)) == n, "%d", n);
    }
    apr_pool_clear(pool);
    return 0;
}
