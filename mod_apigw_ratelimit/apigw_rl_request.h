/* Enforcement: the request hooks of mod_apigw_ratelimit (registered in
 * mod_apigw_ratelimit.c). */
#ifndef APIGW_RL_REQUEST_H
#define APIGW_RL_REQUEST_H

#include "httpd.h"

/* child_init: the per-process cap on requests waiting (delay=). */
void apigw_rl_request_child_init(apr_pool_t *p, server_rec *s);

/* fixups: every limit of r's context takes its token (or r waits for it);
 * the rate-limit headers; a refusal is noted for the handler below and
 * marked with apigw_refuse(). Always DECLINED. */
int apigw_rl_fixups(request_rec *r);

/* handler: answers a request the fixup refused (JSON, Retry-After);
 * DECLINED for any other. */
int apigw_rl_refusal_handler(request_rec *r);

#endif
