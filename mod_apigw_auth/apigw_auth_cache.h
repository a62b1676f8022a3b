/* Each child's cache of verified tokens (ApiJwtCache): a token seen again
 * costs a SHA-256 and a lookup instead of a signature check. An entry
 * remembers the key set it was verified against and that set's
 * generation (a changed JWK set document misses every entry made before),
 * and lives until the token's exp or for at most a few minutes. Claims are held as
 * jansson objects (atomic reference counts); the registered claims are
 * checked again on every use. */
#ifndef APIGW_AUTH_CACHE_H
#define APIGW_AUTH_CACHE_H

#include "httpd.h"
#include <jansson.h>

#define APIGW_AUTH_CACHE_HASH 32

/* ApiJwtCache N (server config): entries per child; 0 turns it off. */
const char *apigw_auth_cache_set_size(cmd_parms *cmd, void *dummy,
                                      const char *arg);

/* The claims cached for hash under key_set at generation gen, with a
 * reference the caller owns (json_decref), and in *alg the algorithm the
 * token was signed with; or NULL. */
json_t *apigw_auth_cache_get(const unsigned char *hash, const void *key_set,
                             apr_uint64_t gen, int *alg);

/* Remembers claims (a reference is taken) for hash under key_set until
 * expires (0: no exp). */
void apigw_auth_cache_put(const unsigned char *hash, const void *key_set,
                          apr_uint64_t gen, int alg, json_t *claims,
                          apr_time_t expires);

int apigw_auth_cache_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp);
void apigw_auth_cache_child_init(apr_pool_t *p, server_rec *s);

#endif
