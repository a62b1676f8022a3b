/* The status document of mod_apigw_ratelimit: the apigw-ratelimit-status
 * handler and the apigw_rl_status_json optional function. */
#ifndef APIGW_RL_STATUS_H
#define APIGW_RL_STATUS_H

#include "httpd.h"

#define APIGW_RL_STATUS_HANDLER "apigw-ratelimit-status"

void apigw_rl_status_register_hooks(apr_pool_t *p);

#endif
