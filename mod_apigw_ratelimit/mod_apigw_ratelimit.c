/* mod_apigw_ratelimit: exact request-rate limits (GCRA, i.e. token
 * buckets) whose counters live in shared memory, so every child process
 * of one httpd enforces the same numbers. It loads alone, without
 * mod_apigw, and also inside mod_apigw's <ApiEndpoint>. This file is the
 * table of contents: the module record, and which concern file owns each
 * hook.
 *
 *   apigw_rl_config.c   ApiRateLimit, ApiRateLimitZone, create/merge
 *   apigw_rl_gcra.c     the GCRA math (pure)
 *   apigw_rl_table.c    key hashing and the lock-free slot table (pure)
 *   apigw_rl_zone.c     the shared-memory zone, kept across restarts
 *   apigw_rl_store.c    cluster mode: buckets on Redis (hiredis, EVALSHA)
 *   apigw_rl_request.c  enforcement: fixups, RateLimit-* headers, the 429
 *
 * Not yet: tiers, delay=, ap_expr keys. */
#include "apigw_rl_config.h"
#include "apigw_rl_zone.h"
#include "apigw_rl_request.h"
#include "apigw_rl_store.h"

static void apigw_rl_child_init(apr_pool_t *p, server_rec *s)
{
    apigw_rl_store_child_init(p, s);
}

static void apigw_rl_register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(apigw_rl_zone_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_rl_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    apigw_rl_request_register_hooks(p);
}

AP_DECLARE_MODULE(apigw_ratelimit) = {
    STANDARD20_MODULE_STUFF,
    apigw_rl_create_dir_conf,
    apigw_rl_merge_dir_conf,
    apigw_rl_create_server_conf,
    apigw_rl_merge_server_conf,
    apigw_rl_cmds,
    apigw_rl_register_hooks
};
