/* Verification keys: a JWK set, one JWK, or PEM (public keys and X.509
 * certificates), and HMAC secrets, parsed into OpenSSL 3 EVP_PKEYs or
 * byte strings. Pure: APR, jansson and libcrypto, no httpd, no I/O. */
#ifndef APIGW_JWK_H
#define APIGW_JWK_H

#include "apr_pools.h"
#include "apr_tables.h"
#include <openssl/evp.h>

typedef enum {
    APIGW_KTY_RSA,                   /* RS256/384/512, PS256/384/512 */
    APIGW_KTY_EC,                    /* ES256 (P-256), ES384 (P-384),
                                        ES512 (P-521) */
    APIGW_KTY_OKP,                   /* EdDSA (Ed25519, Ed448) */
    APIGW_KTY_OCT                    /* HS256/384/512 */
} apigw_kty;

/* RSA keys shorter than this are refused (RFC 7518 3.3). */
#define APIGW_JWK_MIN_RSA_BITS 2048
/* HMAC secrets shorter than this are refused (RFC 7518 3.2: at least the
 * hash size; 32 bytes is HS256's). */
#define APIGW_JWK_MIN_SECRET 32

typedef struct {
    const char *kid;                 /* "kid", or NULL */
    const char *alg;                 /* the JWK's "alg", or NULL */
    apigw_kty kty;
    const char *crv;                 /* EC/OKP curve: "P-256", "Ed25519" */
    EVP_PKEY *pkey;                  /* RSA/EC/OKP; freed by p's cleanup */
    const unsigned char *secret;     /* OCT */
    apr_size_t secret_len;
    int bits;                        /* RSA modulus or EC field size */
} apigw_jwk;

/* Parses data (len bytes) into keys (an array of apigw_jwk *) from p:
 * a JWK set {"keys":[...]}, a single JWK object, or one or more PEM
 * blocks (PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE). A key that is not
 * for signatures ("use" other than "sig", "key_ops" without "verify"),
 * of an unknown type or curve, malformed, private, or too small is
 * skipped, and a line saying which and why is pushed on skipped (an
 * array of const char *, may be NULL). NULL on success with at least one
 * key, else why not ("not a JWK set, a JWK or PEM", "no usable key: ..."). */
const char *apigw_jwk_parse(apr_pool_t *p, const char *data, apr_size_t len,
                            apr_array_header_t *keys,
                            apr_array_header_t *skipped);

/* An HMAC key of the secret's bytes (copied), or NULL with *why set when
 * it is shorter than APIGW_JWK_MIN_SECRET. */
apigw_jwk *apigw_jwk_secret(apr_pool_t *p, const unsigned char *secret,
                            apr_size_t len, const char **why);

#endif
