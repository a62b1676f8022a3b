/* mod_apigw_breaker: circuit breakers and balancer-member suspension. This
 * file is the table of contents: the module record, composing the two
 * halves' configs and directives (see apigw_br_module.h), and every hook
 * and provider of the module, registered here and only here.
 *
 * Circuit breakers, apigw_cb_*:
 *   apigw_cb_settings.c  one breaker's settings and their validation (pure)
 *   apigw_cb_expr.c      the expression language (pure)
 *   apigw_cb_window.c    the rolling window (pure)
 *   apigw_cb_state.c     states and their lock-free table (pure)
 *   apigw_cb_url.c       backend origins, fallback URLs (pure)
 *   apigw_cb_config.c    ApiCircuitBreaker, ApiRouteBreakerSlots,
 *                        create/merge, the registry
 *   apigw_cb_shm.c       the state table and the runtime routes' pool of
 *                        states in shared memory
 *   apigw_cb_route.c     runtime routes' breakers: prepare, attach, their
 *                        state in the pool
 *   apigw_cb_request.c   admission, refusal, fallback, outcomes
 *   apigw_cb_status.c    the apigw-breaker-status handler (JSON)
 *   apigw_cb_ops.c       the management API's breakers, their reset
 *
 * Member suspension, failover groups and retries, apigw_sus_*:
 *   apigw_sus_codes.c    error-code lists (pure)
 *   apigw_sus_policy.c   a policy's fields, their validation, the
 *                        suspension state machine (pure)
 *   apigw_sus_session.c  the session-affinity table (pure)
 *   apigw_sus_config.c   the directives, create/merge, configtest checks
 *   apigw_sus_balancer.c shared memory, the mutex, applying states
 *   apigw_sus_request.c  mod_proxy hooks: outcomes, retries, timeouts
 *   apigw_sus_lbmethod.c the "failover" and "roundrobin" lbmethods
 *   apigw_sus_ops.c      the management API's pools, resuming a member
 *
 * Hooks and providers, in the order a server and a request meet them
 * (within a phase, hooks of the same priority run in the order listed):
 *   optional fn     apigw_cb_route.c     apigw_cb_route_prepare and
 *                                        apigw_cb_route_attach, for
 *                                        mod_apigw's runtime routes
 *                                        (apigw_contract.h)
 *                   apigw_sus_ops.c      apigw_ops_pools and
 *                                        apigw_ops_resume_member,
 *                   apigw_cb_ops.c       apigw_ops_breakers and
 *                                        apigw_ops_reset_breaker, for
 *                                        mod_apigw's management API
 *   pre_config      apigw_cb_config.c    a new registry of breakers
 *                   apigw_sus_balancer.c the mutex type
 *   lbmethod        apigw_sus_lbmethod.c failover, roundrobin (looked up
 *                                        while the config is read)
 *   check_config    apigw_cb_request.c   the fallback backends' workers
 *                   apigw_sus_config.c   named balancers and members
 *                                        exist, member policies hold
 *   post_config     apigw_cb_shm.c       the breakers' state table, the
 *                                        runtime routes' pool
 *                   apigw_sus_balancer.c balancer pools, shm, mutex
 *   optional_fn_retrieve
 *                   apigw_sus_request.c  mod_apigw's endpoint deadline
 *   child_init      apigw_cb_request.c   fallback connection pools
 *                   apigw_sus_balancer.c the mutex in the child
 *   fixups          apigw_cb_request.c   admit, fall back or refuse (a
 *                                        section's breaker, or an attached
 *                                        runtime route's)
 *                   apigw_sus_request.c  the affinity session's key
 *   handler         apigw_cb_request.c   the refusal (REALLY_FIRST)
 *                   apigw_sus_request.c  retries around mod_proxy's
 *                   apigw_cb_status.c    apigw-breaker-status
 *   proxy pre_request    apigw_cb_request.c   timing, the fallback URL
 *                        apigw_sus_request.c  an attempt starts
 *   proxy create_req     apigw_sus_request.c  the backend connection
 *   proxy post_request   apigw_sus_request.c  the member chosen
 *   proxy request_status apigw_cb_request.c   mod_proxy's conclusion
 *                        apigw_sus_request.c  the attempt's outcome
 *   log_transaction apigw_cb_request.c   the outcome into the window */
#include "apigw_br_module.h"
#include "apigw_cb_config.h"
#include "apigw_cb_shm.h"
#include "apigw_cb_request.h"
#include "apigw_cb_route.h"
#include "apigw_cb_status.h"
#include "apigw_cb_ops.h"
#include "apigw_sus_config.h"
#include "apigw_sus_balancer.h"
#include "apigw_sus_request.h"
#include "apigw_sus_lbmethod.h"
#include "apigw_sus_ops.h"

#include "ap_provider.h"
#include "apr_optional_hooks.h"

static void *apigw_br_create_dir_conf(apr_pool_t *p, char *dir)
{
    apigw_br_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->cb = apigw_cb_create_dir_conf(p);
    c->sus = apigw_sus_create_dir_conf(p);
    return c;
}

static void *apigw_br_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    apigw_br_dir_conf *base = basev, *add = addv;
    apigw_br_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->cb = apigw_cb_merge_dir_conf(p, base->cb, add->cb);
    c->sus = apigw_sus_merge_dir_conf(p, base->sus, add->sus);
    return c;
}

static void *apigw_br_create_server_conf(apr_pool_t *p, server_rec *s)
{
    apigw_br_server_conf *c = apr_pcalloc(p, sizeof(*c));
    c->cb = apigw_cb_create_server_conf(p, s);
    c->sus = apigw_sus_create_server_conf(p, s);
    return c;
}

static void *apigw_br_merge_server_conf(apr_pool_t *p, void *basev,
                                        void *addv)
{
    apigw_br_server_conf *base = basev, *add = addv;
    apigw_br_server_conf *c = apr_pcalloc(p, sizeof(*c));
    c->cb = apigw_cb_merge_server_conf(p, base->cb, add->cb);
    c->sus = apigw_sus_merge_server_conf(p, base->sus, add->sus);
    return c;
}

static const command_rec apigw_br_cmds[] = {
    APIGW_CB_CMDS
    APIGW_SUS_CMDS
    {NULL}
};

static void apigw_br_register_server_hooks(apr_pool_t *p)
{
    /* mod_proxy_balancer shares its balancers and members in post_config:
     * the pools are made from them after that */
    static const char *const after_balancer[] = { "mod_proxy_balancer.c",
                                                  NULL };

    APR_REGISTER_OPTIONAL_FN(apigw_cb_route_prepare);
    APR_REGISTER_OPTIONAL_FN(apigw_cb_route_attach);
    APR_REGISTER_OPTIONAL_FN(apigw_ops_pools);
    APR_REGISTER_OPTIONAL_FN(apigw_ops_resume_member);
    APR_REGISTER_OPTIONAL_FN(apigw_ops_breakers);
    APR_REGISTER_OPTIONAL_FN(apigw_ops_reset_breaker);
    ap_hook_pre_config(apigw_cb_config_pre_config, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_pre_config(apigw_sus_balancer_pre_config, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_register_provider(p, PROXY_LBMETHOD, "failover", "0",
                         &apigw_sus_lbmethod_failover);
    ap_register_provider(p, PROXY_LBMETHOD, "roundrobin", "0",
                         &apigw_sus_lbmethod_roundrobin);
    /* after the whole config is read, virtual hosts merged; configtest
     * runs them too */
    ap_hook_check_config(apigw_cb_request_check_config, NULL, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_check_config(apigw_sus_config_check, NULL, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_post_config(apigw_cb_shm_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_post_config(apigw_sus_balancer_post_config, after_balancer, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(apigw_sus_request_retrieve_fns, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_cb_request_child_init, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_sus_balancer_child_init, NULL, NULL,
                       APR_HOOK_MIDDLE);
}

static void apigw_br_register_request_hooks(void)
{
    /* rate limits refuse first; a per-dir RewriteRule [P] proxies first */
    static const char *const after_limits[] = { "mod_apigw_ratelimit.c",
                                                "mod_rewrite.c", NULL };
    /* before mod_apigw's fixups, which drops the client headers an
     * endpoint does not forward (the affinity header among them) */
    static const char *const before_apigw[] = { "mod_apigw.c", NULL };
    /* wraps mod_proxy's handler (mod_apigw's hands requests to it by
     * running the handler phase again) */
    static const char *const before_proxy[] = { "mod_proxy.c", NULL };
    /* mod_proxy_balancer's pre/post_request are RUN_FIRST hooks that
     * answer: the suspension half's only watch, so they go before it */
    static const char *const before_balancer[] = { "mod_proxy_balancer.c",
                                                   NULL };

    ap_hook_fixups(apigw_cb_request_fixups, after_limits, NULL,
                   APR_HOOK_FIRST);
    ap_hook_fixups(apigw_sus_request_fixups, NULL, before_apigw,
                   APR_HOOK_FIRST);
    ap_hook_handler(apigw_cb_request_handler, NULL, NULL,
                    APR_HOOK_REALLY_FIRST);
    ap_hook_handler(apigw_sus_request_handler, NULL, before_proxy,
                    APR_HOOK_FIRST);
    ap_hook_handler(apigw_cb_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* the breaker's first: a request it sends to the fallback backend
     * (OK ends the phase) is not a balancer attempt */
    proxy_hook_pre_request(apigw_cb_request_pre_request, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    proxy_hook_pre_request(apigw_sus_request_pre_request, NULL,
                           before_balancer, APR_HOOK_REALLY_FIRST);
    /* after mod_apigw's, which shortens the socket's timeout */
    APR_OPTIONAL_HOOK(proxy, create_req, apigw_sus_request_create_req, NULL,
                      NULL, APR_HOOK_LAST);
    proxy_hook_post_request(apigw_sus_request_post_request, NULL,
                            before_balancer, APR_HOOK_REALLY_FIRST);
    APR_OPTIONAL_HOOK(proxy, request_status, apigw_cb_request_status, NULL,
                      NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(proxy, request_status, apigw_sus_request_status, NULL,
                      NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(apigw_cb_request_log_transaction, NULL, NULL,
                            APR_HOOK_MIDDLE);
}

static void apigw_br_register_hooks(apr_pool_t *p)
{
    apigw_br_register_server_hooks(p);
    apigw_br_register_request_hooks();
}

APIGW_MODULE_EXPORT AP_DECLARE_MODULE(apigw_breaker) = {
    STANDARD20_MODULE_STUFF,
    apigw_br_create_dir_conf,
    apigw_br_merge_dir_conf,
    apigw_br_create_server_conf,
    apigw_br_merge_server_conf,
    apigw_br_cmds,
    apigw_br_register_hooks
};
