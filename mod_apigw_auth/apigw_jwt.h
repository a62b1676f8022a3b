/* A JSON Web Token in compact serialisation (RFC 7515/7519), split and
 * decoded: base64url, the header and the claims as JSON objects, the
 * signing input and the signature; and claim lookups by dotted path.
 * Pure: APR and jansson only, no httpd, no I/O. */
#ifndef APIGW_JWT_H
#define APIGW_JWT_H

#include "apr_pools.h"
#include <jansson.h>
#include "apigw_b64url.h"

/* The longest token accepted, in bytes, unless a caller passes less. */
#define APIGW_JWT_MAX_LEN 16384

typedef struct {
    const char *alg;                 /* header "alg" (a string) */
    const char *kid;                 /* header "kid", or NULL */
    json_t *header;                  /* the header object */
    json_t *claims;                  /* the payload object */
    const char *signing_input;       /* "HEADER.PAYLOAD", as sent */
    apr_size_t signing_input_len;
    const unsigned char *sig;        /* the decoded signature */
    apr_size_t sig_len;
} apigw_jwt;

/* Decodes token (of len bytes, not NUL-terminated necessarily) into *out,
 * from p: exactly three parts, each unpadded base64url (RFC 7515 2),
 * header and payload JSON objects (UTF-8, no duplicate keys), "alg" a
 * string, "kid" a string when present, "crit" refused, signature not
 * empty. The JSON objects are released by a cleanup of p. NULL on
 * success, else why not, short and without any part of the token
 * ("malformed token: payload is not a JSON object"). */
const char *apigw_jwt_decode(apr_pool_t *p, const char *token, apr_size_t len,
                             apr_size_t max_len, apigw_jwt *out);

/* The claim at a dotted path ("realm_access.roles": member "roles" of
 * the object "realm_access"), or NULL. A member whose own name holds a
 * dot is found too when the whole path names it ("https://x.io/roles"). */
json_t *apigw_jwt_claim(json_t *claims, const char *path);

/* Does claim v hold value? A string equals it; a number or boolean
 * matches its JSON spelling ("42", "true"); an array matches when any
 * element does (one level). */
int apigw_jwt_claim_has(const json_t *v, const char *value);

/* Does the token grant scope? "scope" or "scp" as a space-separated
 * string or as an array of strings. */
int apigw_jwt_has_scope(json_t *claims, const char *scope);

/* The claim as text for a header or a URL, from p: a string as it is, a
 * number or boolean in its JSON spelling, an array of those joined with
 * ","; NULL for objects, null and a missing claim. */
const char *apigw_jwt_claim_text(apr_pool_t *p, const json_t *v);

#endif
