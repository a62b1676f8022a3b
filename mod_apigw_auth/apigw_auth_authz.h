/* The Require providers jwt-claim, jwt-scope, jwt-role and apikey-role
 * (apigw_auth_authz.c), registered with mod_authz_core. */
#ifndef APIGW_AUTH_AUTHZ_H
#define APIGW_AUTH_AUTHZ_H

#include "apr_pools.h"

void apigw_auth_register_providers(apr_pool_t *p);

#endif
