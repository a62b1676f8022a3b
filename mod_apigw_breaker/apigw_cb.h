/* Circuit breakers: the interface mod_apigw_breaker.c composes. */
#ifndef APIGW_CB_H
#define APIGW_CB_H

#include "apigw_br_module.h"

struct apigw_cb_dir_conf *apigw_cb_create_dir_conf(apr_pool_t *p);
struct apigw_cb_dir_conf *apigw_cb_merge_dir_conf(apr_pool_t *p,
                                                  struct apigw_cb_dir_conf *base,
                                                  struct apigw_cb_dir_conf *add);
struct apigw_cb_server_conf *apigw_cb_create_server_conf(apr_pool_t *p,
                                                         server_rec *s);
struct apigw_cb_server_conf *apigw_cb_merge_server_conf(
    apr_pool_t *p, struct apigw_cb_server_conf *base,
    struct apigw_cb_server_conf *add);
void apigw_cb_register_hooks(apr_pool_t *p);

/* ApiCircuitBreaker "EXPR"|PRESET [key=value ...] | off; mconfig is the
 * module's apigw_br_dir_conf. */
const char *apigw_cb_set_breaker(cmd_parms *cmd, void *mconfig,
                                 const char *args);

/* The circuit breaker's directives, spliced into the module's table. */
#define APIGW_CB_CMDS                                                       \
    AP_INIT_RAW_ARGS("ApiCircuitBreaker", apigw_cb_set_breaker, NULL,       \
        ACCESS_CONF,                                                        \
        "ApiCircuitBreaker \"EXPRESSION\"|PRESET [check=DURATION] "          \
        "[fallback=DURATION] [recovery=DURATION] [status=CODE] "            \
        "[min-requests=N] [fallback-backend=URL] [scope=endpoint|backend], " \
        "or off"),

#endif
