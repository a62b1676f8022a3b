/* Checking a decoded JWT: the algorithm (from an allow list, never
 * "none", a key only with its own family and curve), the signature with
 * OpenSSL 3, and the registered claims (exp, nbf, iat, iss, aud). Pure:
 * APR, jansson and libcrypto. */
#ifndef APIGW_JWT_VERIFY_H
#define APIGW_JWT_VERIFY_H

#include "apigw_jwt.h"
#include "apigw_jwk.h"

typedef enum {
    APIGW_ALG_RS256, APIGW_ALG_RS384, APIGW_ALG_RS512,
    APIGW_ALG_PS256, APIGW_ALG_PS384, APIGW_ALG_PS512,
    APIGW_ALG_ES256, APIGW_ALG_ES384, APIGW_ALG_ES512,
    APIGW_ALG_EDDSA,
    APIGW_ALG_HS256, APIGW_ALG_HS384, APIGW_ALG_HS512,
    APIGW_ALG_COUNT
} apigw_alg;

/* A bit per apigw_alg. */
typedef unsigned int apigw_alg_set;
#define APIGW_ALG_BIT(a) (1u << (a))
#define APIGW_ALG_ALL ((1u << APIGW_ALG_COUNT) - 1)

/* The algorithm named name (exact JOSE spelling: "RS256", "EdDSA"), or -1
 * (for "none" and anything unknown). */
int apigw_alg_from_name(const char *name);
const char *apigw_alg_name(apigw_alg alg);

/* May key k verify a signature made with alg? Its type's family (RSA for
 * RS/PS, EC for ES with the curve of the algorithm, OKP for EdDSA, OCT
 * for HS), and the JWK's own "alg" when it has one. */
int apigw_alg_fits_key(apigw_alg alg, const apigw_jwk *k);

/* The key of keys (apigw_jwk *) to verify t with under allowed: the
 * token's alg must be in allowed; with a kid, the key of that kid (which
 * must fit the alg); without one, the first key that fits. NULL with
 * *why ("algorithm not allowed", "unknown key id", "no key for
 * algorithm ES256", "key id names a key of another type"), and
 * *unknown_kid set to 1 when the only trouble is a kid no key has (a
 * caller may refresh its keys then). */
const apigw_jwk *apigw_jwt_pick_key(const apigw_jwt *t,
                                    const apr_array_header_t *keys,
                                    apigw_alg_set allowed, const char **why,
                                    int *unknown_kid);

/* As apigw_jwt_pick_key, looking from keys[*from] on, and setting *from
 * past the key it gives: a caller whose signature check failed with that
 * key asks for the next one that fits (several keys without kids, as
 * while a secret is being rotated). */
const apigw_jwk *apigw_jwt_pick_next_key(const apigw_jwt *t,
                                         const apr_array_header_t *keys,
                                         int *from, apigw_alg_set allowed,
                                         const char **why, int *unknown_kid);

/* Verifies t's signature with k under t's alg (which must fit k): RSA
 * PKCS#1 v1.5 and PSS (salt length = hash length), ECDSA with the JOSE
 * r||s encoding (exact length for the curve), Ed25519/Ed448, HMAC
 * compared in constant time. NULL when it holds, else why not. */
const char *apigw_jwt_verify_sig(apr_pool_t *p, const apigw_jwt *t,
                                 const apigw_jwk *k);

typedef struct {
    apr_time_t now;                  /* the clock, in apr_time_t */
    apr_interval_time_t leeway;      /* allowed clock skew */
    const apr_array_header_t *issuers;    /* const char *; NULL: any */
    const apr_array_header_t *audiences;  /* const char *; NULL: any */
} apigw_jwt_rules;

/* Checks t's registered claims: "exp" (required only when present; a
 * number), "nbf", "iat" (not in the future beyond leeway), "iss" equal
 * to one of issuers, "aud" (a string or an array) holding one of
 * audiences. NULL when they hold, else why not ("token expired",
 * "token not valid yet", "issuer not accepted", "audience not accepted",
 * "exp is not a number"). *exp_out gets exp as apr_time_t, or 0 without
 * one. */
const char *apigw_jwt_check_claims(const apigw_jwt *t,
                                   const apigw_jwt_rules *rules,
                                   apr_time_t *exp_out);

#endif
