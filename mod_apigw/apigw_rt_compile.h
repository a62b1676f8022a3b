/* A runtime route as an endpoint: the store's row turned into the same
 * apigw_endpoint an <ApiEndpoint> section makes, so the request phases
 * serve both alike. Validation is the route model's (the functions the
 * directives call); what only a running server knows (its timeout and
 * policies, its balancers, a pooled worker per backend origin, the rate
 * limiter's and breaker's handles) comes from the context. */
#ifndef APIGW_RT_COMPILE_H
#define APIGW_RT_COMPILE_H

#include "apigw_config.h"
#include "apigw_rt_model.h"
#include "apigw_contract.h"

typedef struct {
    server_rec *s;                       /* the server serving the routes */
    const struct apigw_policy_conf *server_policy;  /* may be NULL */
    apr_interval_time_t server_timeout;
    /* a pooled worker for origin (NULL: mod_proxy's default one) */
    proxy_worker *(*worker)(void *ctx, const char *origin,
                            apr_interval_time_t timeout);
    void *worker_ctx;
    const apigw_rt_checks *checks;       /* the model's outside checks */
    APR_OPTIONAL_FN_TYPE(apigw_rl_route_prepare) *rl_prepare;  /* or NULL */
    APR_OPTIONAL_FN_TYPE(apigw_cb_route_prepare) *cb_prepare;  /* or NULL */
} apigw_rt_compile_ctx;

/* value as a header rule's expression (*out from p), restricted as the
 * admin API's expressions are; NULL or the problem. */
const char *apigw_rt_header_expr(apr_pool_t *p, const char *value,
                                 const char *file, ap_expr_info_t **out);

/* rec as an endpoint allocated from p (nothing kept from rec); scratch
 * (or NULL) holds what only validation needs. NULL, or the problem and
 * *field (the route's JSON field). */
const char *apigw_rt_compile(apr_pool_t *p, apr_pool_t *scratch,
                             const apigw_rt_compile_ctx *cx,
                             const apigw_route_record *rec,
                             apigw_endpoint **out, const char **field);

#endif
