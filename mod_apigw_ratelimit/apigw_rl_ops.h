/* The rate limits of the management API (apigw_rl_ops.c): the optional
 * function apigw_ops_rate_limits of apigw_contract.h. */
#ifndef APIGW_RL_OPS_H
#define APIGW_RL_OPS_H

#include "apigw_contract.h"

/* apigw_ops_rate_limits: [RateLimitCounter, ...], from r->pool. */
const char *apigw_ops_rate_limits(request_rec *r);

#endif
