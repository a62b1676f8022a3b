/* mod_apigw_krakend: a KrakenD configuration file loaded as it is.
 * `ApiImportKrakenD /etc/krakend/krakend.json` makes the file's endpoints
 * endpoints of the server or virtual host, exactly as if they had been
 * written there as <ApiEndpoint> blocks: the file is translated into those
 * blocks (and the sibling modules' directives) and handed to httpd's own
 * configuration walk, so every value is held to the rules of the
 * directive it becomes. Needs mod_apigw; uses mod_apigw_ratelimit,
 * mod_apigw_breaker, mod_apigw_auth and mod_proxy_balancer when loaded.
 * This file is the table of contents.
 *
 *   apigw_kd_config.c     the directive: read, translate, report, walk
 *   apigw_kd_translate.c  krakend.json → configuration lines (pure)
 *   apigw_kd_lines.c      JSON pointer → line in the file (pure)
 *
 * Registrations:
 *   pre_config   apigw_kd_config.c   balancer names start again
 */
#include "mod_apigw_krakend.h"
#include "apigw_kd_config.h"

static const command_rec kd_cmds[] = {
    AP_INIT_TAKE_ARGV("ApiImportKrakenD", apigw_kd_import, NULL, RSRC_CONF,
        "ApiImportKrakenD PATH [strict]: serve a krakend.json's endpoints"),
    { NULL }
};

static void kd_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(apigw_kd_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
}

APIGW_MODULE_EXPORT AP_DECLARE_MODULE(apigw_krakend) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    NULL,
    NULL,
    kd_cmds,
    kd_register_hooks
};
