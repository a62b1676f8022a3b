/* Enforcement: the request hooks of mod_apigw_ratelimit. */
#ifndef APIGW_RL_REQUEST_H
#define APIGW_RL_REQUEST_H

#include "httpd.h"

void apigw_rl_request_register_hooks(apr_pool_t *p);

/* child_init: the per-process cap on requests waiting (delay=). */
void apigw_rl_request_child_init(apr_pool_t *p, server_rec *s);

#endif
