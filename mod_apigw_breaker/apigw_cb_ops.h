/* The circuit breakers of the management API (apigw_cb_ops.c): the
 * optional functions apigw_ops_breakers and apigw_ops_reset_breaker of
 * apigw_contract.h. */
#ifndef APIGW_CB_OPS_H
#define APIGW_CB_OPS_H

#include "apigw_contract.h"

/* apigw_ops_breakers: [Breaker, ...], from r->pool. */
const char *apigw_ops_breakers(request_rec *r);

/* apigw_ops_reset_breaker: NULL and *breaker_json, or the problem
 * (*not_found: no state has this id). */
const char *apigw_ops_reset_breaker(request_rec *r, const char *id,
                                    const char **breaker_json,
                                    int *not_found);

#endif
