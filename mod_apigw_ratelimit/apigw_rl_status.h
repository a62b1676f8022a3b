/* The status document of mod_apigw_ratelimit: the apigw-ratelimit-status
 * handler and the apigw_rl_status_json optional function (both registered
 * in mod_apigw_ratelimit.c). */
#ifndef APIGW_RL_STATUS_H
#define APIGW_RL_STATUS_H

#include "apigw_rl_config.h"

#include "httpd.h"

#define APIGW_RL_STATUS_HANDLER "apigw-ratelimit-status"

/* A policy's counts, summed over every child (0 before post_config). */
typedef struct {
    apr_uint64_t admitted;
    apr_uint64_t rejected;
    apr_uint64_t delayed;
    apr_uint64_t errors;
} apigw_rl_status_counted;

void apigw_rl_status_counts(const apigw_rl_policy *pol,
                            apigw_rl_status_counted *c);

/* A limit's by= as the document writes it: "endpoint", "ip",
 * "header:X-Api-Key,ip". */
const char *apigw_rl_status_by_text(apr_pool_t *p, const apigw_rl_limit *l);

/* The document, from r->pool (see mod_apigw_ratelimit.h). */
const char *apigw_rl_status_json(request_rec *r);

/* handler: GET on `SetHandler apigw-ratelimit-status` answers the
 * document; DECLINED for other handlers. */
int apigw_rl_status_handler(request_rec *r);

#endif
