/* mod_apigw_ratelimit: exact request-rate limits (GCRA, i.e. token
 * buckets) whose buckets live in shared memory, so every child process
 * of one httpd enforces the same numbers, or on Redis, so several
 * gateways do. It loads alone, without mod_apigw, and also inside
 * mod_apigw's <ApiEndpoint>. This file is the table of contents: the
 * module record, and which concern file owns each hook.
 *
 *   apigw_rl_config.c    the directives, create/merge, the list of limits
 *   apigw_rl_gcra.c      the GCRA math, delay= included (pure)
 *   apigw_rl_table.c     key hashing and the lock-free slot table (pure)
 *   apigw_rl_counters.c  per-policy counters over shared memory (pure)
 *   apigw_rl_headers.c   RateLimit-* header values (pure)
 *   apigw_rl_redis.c     cluster mode's script, arguments, replies (pure)
 *   apigw_rl_zone.c      the shared memory, kept across restarts
 *   apigw_rl_store.c     cluster mode's connections (hiredis)
 *   apigw_rl_request.c   enforcement: fixups, delay, headers, the refusal
 *   apigw_rl_status.c    the apigw-ratelimit-status handler (JSON)
 *
 * Hooks, in the order a server and a request meet them:
 *   pre_config     apigw_rl_config.c   a new list of limits
 *   check_config   apigw_rl_config.c   tier= without ApiRateLimitTier
 *   post_config    apigw_rl_zone.c     zone and counters
 *   child_init     apigw_rl_store.c    Redis connection pools
 *                  apigw_rl_request.c  the cap on waiting requests
 *   fixups         apigw_rl_request.c  tokens, waits, headers
 *   handler        apigw_rl_request.c  the refusal (REALLY_FIRST)
 *                  apigw_rl_status.c   apigw-ratelimit-status */
#include "apigw_rl_config.h"
#include "apigw_rl_zone.h"
#include "apigw_rl_request.h"
#include "apigw_rl_status.h"
#include "apigw_rl_store.h"

static void apigw_rl_child_init(apr_pool_t *p, server_rec *s)
{
    apigw_rl_store_child_init(p, s);
    apigw_rl_request_child_init(p, s);
}

static void apigw_rl_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(apigw_rl_config_pre_config, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_check_config(apigw_rl_config_check, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(apigw_rl_zone_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_rl_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    apigw_rl_request_register_hooks(p);
    apigw_rl_status_register_hooks(p);
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
