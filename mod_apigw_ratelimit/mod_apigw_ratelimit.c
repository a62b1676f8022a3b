/* mod_apigw_ratelimit: request-rate limits (token buckets in shared memory,
 * cluster-wide on Redis). This is the module record only: the limits
 * themselves are the subject of their own issue. It loads alone, without
 * mod_apigw, so the build and the packaging are in place. */
#include "httpd.h"
#include "http_config.h"

static void apigw_rl_register_hooks(apr_pool_t *p)
{
    (void)p;
}

AP_DECLARE_MODULE(apigw_ratelimit) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    apigw_rl_register_hooks
};
