/* mod_apigw_auth's per-directory settings: the Api Jwt* and ApiKey*
 * directives, create and merge. Every setting is inherited from the
 * enclosing section unless the section sets it; ApiJwtKeys and
 * ApiJwtPropagate lines add up within a section and a section that has
 * any replaces the enclosing section's list as a whole. */
#ifndef APIGW_AUTH_CONFIG_H
#define APIGW_AUTH_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"
#include "apigw_jwt_verify.h"
#include "apigw_apikey.h"
#include "apigw_auth_keys.h"

/* ApiJwtPropagate CLAIM HEADER */
typedef struct {
    const char *claim;
    const char *header;
} apigw_auth_propagate;

typedef struct {
    /* JWT */
    apigw_key_sources *sources;      /* ApiJwtKeys; NULL: unset */
    apigw_alg_set algs;              /* ApiJwtAlgorithms; 0: unset */
    apr_array_header_t *issuers;     /* ApiJwtIssuer; NULL: unset */
    apr_array_header_t *audiences;   /* ApiJwtAudience; NULL: unset */
    apr_interval_time_t leeway;      /* ApiJwtLeeway; -1: unset */
    const char *cookie;              /* ApiJwtCookie */
    const char *header;              /* ApiJwtHeader */
    const char *roles_claim;         /* ApiJwtRolesClaim */
    const char *user_claim;          /* ApiJwtUserClaim */
    apr_array_header_t *propagate;   /* ApiJwtPropagate; NULL: unset */
    /* API keys */
    const char *key_header;          /* ApiKeyHeader */
    apigw_apikey_set *keys;          /* ApiKeyFile; NULL: unset */
    const char *key_file;
    int key_store;                   /* ApiKeyStore; -1: unset */
} apigw_auth_dir_conf;

#define APIGW_AUTH_DEFAULT_ROLES_CLAIM "roles"
#define APIGW_AUTH_DEFAULT_USER_CLAIM "sub"
#define APIGW_AUTH_DEFAULT_KEY_HEADER "X-API-Key"

void *apigw_auth_create_dir_conf(apr_pool_t *p, char *dir);
void *apigw_auth_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

extern const command_rec apigw_auth_cmds[];

/* pre_config and check_config: ApiKeyStore On without mod_apigw is
 * refused at configtest. */
int apigw_auth_config_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                 apr_pool_t *ptemp);
int apigw_auth_config_check(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s);

/* The settings in force for r. */
const apigw_auth_dir_conf *apigw_auth_conf(const request_rec *r);

#endif
