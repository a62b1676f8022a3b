/* mod_apigw_ratelimit: exact request-rate limits (GCRA, i.e. token
 * buckets) whose buckets live in shared memory, so every child process
 * of one httpd enforces the same numbers, or on Redis, so several
 * gateways do. It loads alone, without mod_apigw, and also inside
 * mod_apigw's <ApiEndpoint>. This file is the table of contents: the
 * module record, which concern file owns what, and every registration of
 * the module, each hook with the neighbours it runs before and after.
 *
 *   apigw_rl_config.c    the directives, create/merge, the built limits
 *   apigw_rl_spec.c      a limit's and a tier's settings, validated (pure)
 *   apigw_rl_limits.c    the list of every limit of the configuration
 *   apigw_rl_gcra.c      the GCRA math, delay= included (pure)
 *   apigw_rl_table.c     key hashing and the lock-free slot table (pure)
 *   apigw_rl_counters.c  per-policy counters over shared memory (pure)
 *   apigw_rl_headers.c   RateLimit-* header values (pure)
 *   apigw_rl_redis.c     cluster mode's script, arguments, replies (pure)
 *   apigw_rl_zone.c      the shared memory, kept across restarts
 *   apigw_rl_store.c     cluster mode's connections (hiredis)
 *   apigw_rl_request.c   enforcement: fixups, delay, headers, the refusal
 *   apigw_rl_route.c     runtime routes' limits: prepare, attach; the
 *                        policy building every limit shares
 *   apigw_rl_status.c    the apigw-ratelimit-status handler (JSON)
 *   apigw_rl_ops.c       the management API's rate-limit counters
 *
 * Registrations, in the order a server and a request meet them:
 *   optional fn    apigw_rl_status.c   apigw_rl_status_json, for a
 *                                      status page of another module
 *                  apigw_rl_route.c    apigw_rl_route_prepare and
 *                                      apigw_rl_route_attach, for
 *                                      mod_apigw's runtime routes
 *                                      (apigw_contract.h)
 *                  apigw_rl_ops.c      apigw_ops_rate_limits, for
 *                                      mod_apigw's management API
 *   pre_config     apigw_rl_limits.c   a new list of limits
 *   check_config   apigw_rl_limits.c   tier= without ApiRateLimitTier
 *   post_config    apigw_rl_zone.c     zone and counters
 *   child_init     apigw_rl_store.c    Redis connection pools
 *                  apigw_rl_request.c  the cap on waiting requests
 *   fixups         apigw_rl_request.c  tokens, waits, headers; a refusal
 *                                      noted and marked (apigw_refuse);
 *                                      the context's limits and an
 *                                      attached runtime route's
 *   handler        apigw_rl_request.c  the refusal (REALLY_FIRST)
 *                  apigw_rl_status.c   apigw-ratelimit-status */
#include "mod_apigw_ratelimit.h"
#include "apigw_rl_config.h"
#include "apigw_rl_limits.h"
#include "apigw_rl_zone.h"
#include "apigw_rl_store.h"
#include "apigw_rl_request.h"
#include "apigw_rl_route.h"
#include "apigw_rl_status.h"
#include "apigw_rl_ops.h"

#include "http_request.h"

static void apigw_rl_register_hooks(apr_pool_t *p)
{
    /* The fixup runs after mod_env's and mod_rewrite's per-directory
     * fixups, so variables set with SetEnv (also inside <If>) or a
     * RewriteRule [E=] are visible to env: keys and tiers; and before
     * mod_apigw's own fixup, which strips the client headers an endpoint
     * does not forward (by=header:NAME sees what the client sent), and
     * before mod_headers's RequestHeader edits. (Why fixups at all: see
     * apigw_rl_request.c.) */
    static const char *const fixups_after[] = { "mod_env.c",
                                                "mod_rewrite.c", NULL };
    static const char *const fixups_before[] = { "mod_apigw.c",
                                                 "mod_headers.c", NULL };
    /* A refusal is answered before anything could answer for a backend:
     * mod_apigw's handlers (its response cache too) and mod_proxy's. */
    static const char *const refusal_before[] = { "mod_apigw.c",
                                                  "mod_proxy.c", NULL };

    (void)p;
    APR_REGISTER_OPTIONAL_FN(apigw_rl_status_json);
    APR_REGISTER_OPTIONAL_FN(apigw_rl_route_prepare);
    APR_REGISTER_OPTIONAL_FN(apigw_rl_route_attach);
    APR_REGISTER_OPTIONAL_FN(apigw_ops_rate_limits);
    ap_hook_pre_config(apigw_rl_limits_pre_config, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_check_config(apigw_rl_limits_check_config, NULL, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_post_config(apigw_rl_zone_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_rl_store_child_init, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_rl_request_child_init, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_fixups(apigw_rl_fixups, fixups_after, fixups_before,
                   APR_HOOK_MIDDLE);
    ap_hook_handler(apigw_rl_refusal_handler, NULL, refusal_before,
                    APR_HOOK_REALLY_FIRST);
    ap_hook_handler(apigw_rl_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

APIGW_MODULE_EXPORT AP_DECLARE_MODULE(apigw_ratelimit) = {
    STANDARD20_MODULE_STUFF,
    apigw_rl_create_dir_conf,
    apigw_rl_merge_dir_conf,
    apigw_rl_create_server_conf,
    apigw_rl_merge_server_conf,
    apigw_rl_cmds,
    apigw_rl_register_hooks
};
