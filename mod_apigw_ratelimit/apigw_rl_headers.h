/* The values of the rate-limit response headers, pure (APR pools only):
 * the legacy RateLimit-Limit/-Remaining/-Reset numbers, and the items of
 * the IETF draft's RateLimit-Policy and RateLimit structured fields
 * (draft-ietf-httpapi-ratelimit-headers-08 onward):
 *
 *   RateLimit-Policy: "search";q=100;w=60
 *   RateLimit: "search";r=42;t=12
 *
 * q is the quota per window of w seconds, r the tokens left, t the seconds
 * until the bucket is full again. */
#ifndef APIGW_RL_HEADERS_H
#define APIGW_RL_HEADERS_H

#include <apr.h>
#include <apr_pools.h>

/* A limit of average tokens per period_ns as a quota q per w whole
 * seconds: w is the period rounded up to a second (at least 1), q what
 * the limit refills in w, rounded down, so a client pacing itself by q/w
 * is never refused. */
void apigw_rl_quota(apr_uint64_t average, apr_uint64_t period_ns,
                    apr_uint64_t *q, apr_uint64_t *w);

/* Nanoseconds as whole seconds, rounded up. */
apr_uint64_t apigw_rl_ceil_sec(apr_uint64_t ns);

/* A number as text, from p, without the printf machinery (per request). */
const char *apigw_rl_u64_text(apr_pool_t *p, apr_uint64_t v);

/* ";q=Q;w=W": the policy's parameters, made once per limit. */
const char *apigw_rl_quota_params(apr_pool_t *p, apr_uint64_t average,
                                  apr_uint64_t period_ns);

/* "NAME";q=Q;w=W from the parameters above. name: letters, digits and
 * . _ : - only (ApiRateLimit name= allows no others), so it needs no
 * escaping. */
const char *apigw_rl_policy_item(apr_pool_t *p, const char *name,
                                 const char *quota_params);

/* "NAME";r=R;t=T */
const char *apigw_rl_state_item(apr_pool_t *p, const char *name,
                                apr_uint64_t remaining, apr_uint64_t reset_ns);

#endif
