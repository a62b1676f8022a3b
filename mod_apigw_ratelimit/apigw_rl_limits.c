/* The list of every limit of the configuration; see apigw_rl_limits.h.
 * It lives in pconf: a new configuration (restart) starts a new one. */
#include "apigw_rl_limits.h"
#include "apigw_log.h"

#include "http_log.h"

APLOG_USE_MODULE(apigw_ratelimit);

static apr_array_header_t *all_limits;

int apigw_rl_limits_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    all_limits = apr_array_make(pconf, 16, sizeof(apigw_rl_limit *));
    return OK;
}

void apigw_rl_limits_add(apigw_rl_limit *l)
{
    if (all_limits) {
        APR_ARRAY_PUSH(all_limits, apigw_rl_limit *) = l;
    }
}

apr_array_header_t *apigw_rl_limits(void)
{
    return all_limits;
}

int apigw_rl_limits_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                 apr_pool_t *ptemp, server_rec *s)
{
    int i, rv = OK;

    (void)pconf;
    (void)plog;
    (void)ptemp;
    for (i = 0; all_limits && i < all_limits->nelts; i++) {
        const apigw_rl_limit *l = APR_ARRAY_IDX(all_limits, i,
                                                apigw_rl_limit *);
        if (l->tier_by && l->tiers->nelts == 0) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                         APIGW_LOGNO(01010) "ApiRateLimit name=%s (%s:%u) "
                         "has tier= but no ApiRateLimitTier %s line follows "
                         "it in its context", l->spec.name, l->file, l->line,
                         l->spec.name);
            rv = !OK;
        }
    }
    return rv;
}
