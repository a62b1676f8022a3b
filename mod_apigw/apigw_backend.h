/* Backends of endpoints as mod_proxy sees them: pooled workers for direct
 * URLs, balancer lookups, and the mod_proxy hooks that apply an endpoint's
 * worker and timeout to each proxied request. */
#ifndef APIGW_BACKEND_H
#define APIGW_BACKEND_H

#include "apigw_config.h"

/* After the whole config is read (check_config): works out each endpoint's
 * timeout, gives every direct backend a pooled worker and checks that every
 * balancer:// backend names a defined balancer. Logs and returns !OK on a
 * mistake, so configtest reports it. */
int apigw_backends_prepare(apr_pool_t *pconf, server_rec *s);

/* Initializes the workers' connection pools in a new child. */
void apigw_backends_child_init(apr_pool_t *pchild, server_rec *s);

void apigw_backend_register_hooks(apr_pool_t *p);

#endif
