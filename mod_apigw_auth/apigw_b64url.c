/* Unpadded, strict base64url (RFC 4648 5), the encoding of every part of
 * a JWT and of the members of a JWK (see apigw_b64url.h). */
#include "apigw_b64url.h"

/* The value of a base64url character, or -1. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

int apigw_b64url_decode(apr_pool_t *p, const char *in, apr_size_t len,
                        unsigned char **out, apr_size_t *out_len)
{
    apr_size_t rem = len % 4, n, i, o = 0;
    unsigned char *buf;
    apr_uint32_t acc = 0;
    int bits = 0, v;

    if (rem == 1 || (len > 0 && !in)) {
        return 0;
    }
    n = len / 4 * 3 + (rem ? rem - 1 : 0);
    buf = apr_palloc(p, n + 1);
    for (i = 0; i < len; i++) {
        if ((v = b64url_value((unsigned char)in[i])) < 0) {
            return 0;
        }
        acc = ((acc << 6) | (apr_uint32_t)v) & 0xFFFFFFu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* the bits left over must be zero: 2 (rem 3) or 4 (rem 2) of them */
    if (bits && (acc & ((1u << bits) - 1)) != 0) {
        return 0;
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 1;
}
