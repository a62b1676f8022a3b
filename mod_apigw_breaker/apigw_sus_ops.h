/* The balancer pools of the management API (apigw_sus_ops.c): the
 * optional functions apigw_ops_pools and apigw_ops_resume_member of
 * apigw_contract.h. */
#ifndef APIGW_SUS_OPS_H
#define APIGW_SUS_OPS_H

#include "apigw_contract.h"

/* apigw_ops_pools: [Pool, ...] of r's server, from r->pool. */
const char *apigw_ops_pools(request_rec *r);

/* apigw_ops_resume_member: NULL and *member_json, or the problem
 * (*not_found: no such pool or member). */
const char *apigw_ops_resume_member(request_rec *r, const char *pool,
                                    const char *member,
                                    const char **member_json,
                                    int *not_found);

#endif
