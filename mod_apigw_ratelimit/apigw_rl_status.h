/* The status document of mod_apigw_ratelimit: the apigw-ratelimit-status
 * handler and the apigw_rl_status_json optional function (both registered
 * in mod_apigw_ratelimit.c). */
#ifndef APIGW_RL_STATUS_H
#define APIGW_RL_STATUS_H

#include "httpd.h"

#define APIGW_RL_STATUS_HANDLER "apigw-ratelimit-status"

/* The document, from r->pool (see mod_apigw_ratelimit.h). */
const char *apigw_rl_status_json(request_rec *r);

/* handler: GET on `SetHandler apigw-ratelimit-status` answers the
 * document; DECLINED for other handlers. */
int apigw_rl_status_handler(request_rec *r);

#endif
