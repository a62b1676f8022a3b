/* mod_apigw_breaker: circuit breakers and balancer-member suspension. This
 * is the module record only: the breakers themselves are the subject of
 * their own issue. It loads alone, without mod_apigw, so the build and the
 * packaging are in place. */
#include "httpd.h"
#include "http_config.h"

static void apigw_br_register_hooks(apr_pool_t *p)
{
    (void)p;
}

AP_DECLARE_MODULE(apigw_breaker) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    apigw_br_register_hooks
};
