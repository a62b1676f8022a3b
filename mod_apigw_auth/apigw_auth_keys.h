/* Where JWT verification keys come from (ApiJwtKeys): files and
 * environment secrets read at startup, and JWK set URLs fetched with
 * libcurl into shared memory for every child, refreshed in the
 * background by mod_watchdog (one child fetches for all), re-fetched on
 * an unknown kid at most once per refresh. Each child parses a changed
 * document once and keeps it as a snapshot requests pin while they use
 * it; the common path reads one shared counter and takes no lock shared
 * between processes. */
#ifndef APIGW_AUTH_KEYS_H
#define APIGW_AUTH_KEYS_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"

/* The ApiJwtKeys lines of one section; its address identifies the key
 * set (the verified-token cache keys on it). */
typedef struct apigw_key_sources apigw_key_sources;

/* ApiJwtKeys SOURCE [refresh=DURATION] [insecure]: adds a source to
 * *srcs (made on the first line). NULL or the error for configtest. */
const char *apigw_key_sources_add(cmd_parms *cmd, apigw_key_sources **srcs,
                                  int argc, char *const argv[]);

/* ApiJwtKeysCA FILE (server config): the CA bundle for https URLs. */
const char *apigw_key_sources_set_ca(cmd_parms *cmd, void *dummy,
                                     const char *file);

/* The keys of srcs for r (apigw_jwk *, the array from r->pool; the keys
 * stay valid until r->pool is cleared). A URL that never delivered keys
 * is fetched first (or waited for while another process fetches it);
 * *unavailable is set to the first URL that still has none. *gen gets
 * the generation of the keys given (comparable with
 * apigw_key_sources_generation; lower when this child could not follow a
 * change yet). */
const apr_array_header_t *apigw_key_sources_current(request_rec *r,
                                                    const apigw_key_sources *srcs,
                                                    const char **unavailable,
                                                    apr_uint64_t *gen);

/* A number that changes whenever a document of srcs' URLs changes (the
 * sum of their shared generations): what a token verified with these
 * keys was verified under. One atomic read per URL, no lock. */
apr_uint64_t apigw_key_sources_generation(const apigw_key_sources *srcs);

/* A token named a kid no key of srcs has: fetches srcs' URLs again,
 * each at most once per its refresh across all children. 1 when a
 * document changed (the caller asks for the current keys again). */
int apigw_key_sources_refetch(request_rec *r, const apigw_key_sources *srcs);

/* Hooks (mod_apigw_auth.c registers them). */
int apigw_auth_keys_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp);
int apigw_auth_keys_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s);
void apigw_auth_keys_child_init(apr_pool_t *p, server_rec *s);

#endif
