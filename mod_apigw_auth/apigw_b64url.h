/* base64url without padding, decoded strictly: what JWTs and JWKs are
 * written in. Pure: APR only. */
#ifndef APIGW_B64URL_H
#define APIGW_B64URL_H

#include "apr_pools.h"

/* Unpadded base64url (RFC 4648 5) of in[0..len): 1 and the bytes (NUL
 * terminated, *out_len excludes it) from p; 0 for any character outside
 * the alphabet, '=' included, a length of 1 mod 4, or stray low bits in
 * the last character. */
int apigw_b64url_decode(apr_pool_t *p, const char *in, apr_size_t len,
                        unsigned char **out, apr_size_t *out_len);

#endif
