/* Balancer-member suspension, failover groups and retries: the interface
 * mod_apigw_breaker.c composes. The files behind it:
 *
 *   apigw_sus_codes.c     error-code lists (pure)
 *   apigw_sus_policy.c    the suspension state machine (pure)
 *   apigw_sus_session.c   the session-affinity table (pure)
 *   apigw_sus_config.c    directives, create/merge, configtest checks
 *   apigw_sus_balancer.c  shared memory, applying states to members
 *   apigw_sus_request.c   mod_proxy hooks: outcomes, retries, timeouts
 *   apigw_sus_lbmethod.c  the "failover" and "roundrobin" lbmethods
 */
#ifndef APIGW_SUS_H
#define APIGW_SUS_H

#include "apigw_br_module.h"

struct apigw_sus_dir_conf *apigw_sus_create_dir_conf(apr_pool_t *p);
struct apigw_sus_dir_conf *apigw_sus_merge_dir_conf(
    apr_pool_t *p, struct apigw_sus_dir_conf *base,
    struct apigw_sus_dir_conf *add);
struct apigw_sus_server_conf *apigw_sus_create_server_conf(apr_pool_t *p,
                                                           server_rec *s);
struct apigw_sus_server_conf *apigw_sus_merge_server_conf(
    apr_pool_t *p, struct apigw_sus_server_conf *base,
    struct apigw_sus_server_conf *add);
void apigw_sus_register_hooks(apr_pool_t *p);

/* Directive handlers (apigw_sus_config.c). */
const char *apigw_sus_cmd_suspend(cmd_parms *cmd, void *mconfig,
                                  const char *args);
const char *apigw_sus_cmd_mark(cmd_parms *cmd, void *mconfig,
                               const char *args);
const char *apigw_sus_cmd_affinity(cmd_parms *cmd, void *mconfig,
                                   const char *args);
const char *apigw_sus_cmd_retries(cmd_parms *cmd, void *mconfig,
                                  const char *args);
const char *apigw_sus_cmd_timeout_action(cmd_parms *cmd, void *mconfig,
                                         const char *arg);

/* The suspension directives, spliced into the module's table. */
#define APIGW_SUS_CMDS                                                      \
    AP_INIT_RAW_ARGS("ApiBalancerSuspend", apigw_sus_cmd_suspend, NULL,     \
        RSRC_CONF | ACCESS_CONF,                                            \
        "balancer://NAME [MEMBER-URL] [codes=LIST] [initial=DURATION] "     \
        "[factor=N] [max=DURATION]: suspend failing members"),              \
    AP_INIT_RAW_ARGS("ApiBalancerMarkForSuspension", apigw_sus_cmd_mark,    \
        NULL, RSRC_CONF | ACCESS_CONF,                                      \
        "balancer://NAME [MEMBER-URL] [codes=LIST] [retries=N] "            \
        "[retry-delay=DURATION]: the timeout state before suspension"),     \
    AP_INIT_RAW_ARGS("ApiBalancerAffinity", apigw_sus_cmd_affinity, NULL,   \
        RSRC_CONF | ACCESS_CONF,                                            \
        "balancer://NAME none|cookie=NAME|header=NAME "                     \
        "[timeout=DURATION] [sessions=N]: session affinity"),               \
    AP_INIT_RAW_ARGS("ApiBalancerRetries", apigw_sus_cmd_retries, NULL,     \
        RSRC_CONF | ACCESS_CONF,                                            \
        "COUNT [delay=DURATION] [within=DURATION]: retry failed requests "  \
        "to balancer:// backends on another member"),                       \
    AP_INIT_TAKE1("ApiBalancerTimeoutAction", apigw_sus_cmd_timeout_action, \
        NULL, RSRC_CONF | ACCESS_CONF,                                      \
        "fault|discard|never: what a timed-out balancer:// backend gets"),

#endif
