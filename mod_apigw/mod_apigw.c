/* mod_apigw: API endpoints in httpd.conf. This file is the table of
 * contents: the module record, and which concern file owns each hook.
 *
 *   apigw_config.c    <ApiEndpoint>, Api* directives, create/merge
 *   apigw_route.c     the route table (pure)
 *   apigw_template.c  backend URL templates and escaping (pure)
 *   apigw_query.c     query-string allow-lists (pure)
 *   apigw_backend.c   pooled workers, mod_proxy hooks, timeouts
 *   apigw_request.c   the request phases of an endpoint
 *   apigw_error.c     the gateway's JSON error responses
 *   apigw_policy_*.c  edge policies: CORS, shaping, limits, cache
 */
#include "apigw_config.h"
#include "apigw_backend.h"
#include "apigw_request.h"
#include "apigw_error.h"
#include "apigw_policy.h"



static int apigw_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    return apigw_backends_prepare(pconf, s);
}

static void apigw_child_init(apr_pool_t *pchild, server_rec *s)
{
    apigw_backends_child_init(pchild, s);
}

static void apigw_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(apigw_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    apigw_request_register_hooks(p);
    apigw_backend_register_hooks(p);
    apigw_error_register_hooks(p);
    apigw_policy_register_hooks(p);
}

AP_DECLARE_MODULE(apigw) = {
    STANDARD20_MODULE_STUFF,
    apigw_create_dir_conf,
    apigw_merge_dir_conf,
    apigw_create_server_conf,
    apigw_merge_server_conf,
    apigw_cmds,
    apigw_register_hooks
};
