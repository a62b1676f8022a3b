/* Rate limits of runtime routes (mod_apigw's, registered through the
 * admin API): the two optional functions of apigw_contract.h that make a
 * route's rateLimit a limit like an ApiRateLimit line's, and hand it to a
 * request; and the building of a policy (rate, identity, hashes, header
 * texts), which ApiRateLimit lines share (apigw_rl_config.c).
 *
 * A route's limit is an apigw_rl_limit like a directive's: no name, no
 * tier, no delay, status 429, one by= key. Its identity (what its buckets
 * in the zone or on Redis are keyed by) is the route's id, its key and its
 * numbers: a route changed in other ways keeps its buckets, a route whose
 * limit changed starts afresh. It has no counter (the status page shows
 * the configuration's limits only). */
#ifndef APIGW_RL_ROUTE_H
#define APIGW_RL_ROUTE_H

#include "apigw_rl_config.h"
#include "apigw_contract.h"

/* apigw_rl_route_prepare (apigw_contract.h): spec validated and built
 * into *limit (an apigw_rl_limit) from p; NULL, or the problem, which
 * begins with the field of the admin API at fault:
 * "rateLimit.burst: 0 is out of range (1 to 1000000000)",
 * "rateLimit.by: unknown key 'x' (use ...)". by=expr: is parsed here with
 * ap_expr_parse (AP_EXPR_FLAG_RESTRICTED: no file functions). Touches no
 * shared memory and no static state: any thread, any time. */
const char *apigw_rl_route_prepare(apr_pool_t *p, const char *route_id,
                                   const apigw_rt_rate_limit *spec,
                                   void **limit);

/* apigw_rl_route_attach: r is to be limited by limit (a handle of
 * apigw_rl_route_prepare) as well as by the limits of its context; kept
 * in r->pool's user data. limit NULL detaches. */
void apigw_rl_route_attach(request_rec *r, void *limit);

/* The limit attached to r, or NULL. */
const apigw_rl_limit *apigw_rl_route_attached(request_rec *r);

/* pol from numbers n: its rate, identity (owner, a tier's name, the
 * numbers), hashes and header texts. owner: what the policy belongs to
 * (a limit's name or file:line, a route's identity). NULL, or the rate's
 * error (none after the validation). */
const char *apigw_rl_policy_build(apr_pool_t *p, apigw_rl_policy *pol,
                                  const apigw_rl_numbers *n,
                                  const char *owner);

#endif
