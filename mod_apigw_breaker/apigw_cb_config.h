/* Circuit breakers: the ApiCircuitBreaker directive and what the
 * configuration holds, shared by the cb files. One ApiCircuitBreaker line
 * is one breaker, owned by the section that holds it (<ApiEndpoint>,
 * <Location>, <Proxy>) and shared by every request that section (or a
 * section below it) serves. */
#ifndef APIGW_CB_CONFIG_H
#define APIGW_CB_CONFIG_H

#include "apigw_br_module.h"
#include "apigw_cb_settings.h"
#include "apigw_cb_expr.h"
#include "apigw_cb_state.h"

#include "mod_proxy.h"

/* One breaker: its settings, validated, and what it runs on. */
typedef struct {
    apigw_cb_settings set;          /* as written */
    const char *preset;             /* the preset's name, or NULL */
    apigw_cb_expr *expr;
    const char *fallback_origin;    /* scheme://host:port */
    const char *fallback_prefix;    /* "" or "/path" */
    proxy_worker *fallback_worker;  /* made in check_config */
    const char *section;            /* <Location "/x">, for logs */
    const char *file;
    unsigned line;
    const char *id;                 /* identity: the same across restarts */
    apr_uint64_t owner;             /* apigw_cb_key(id, NULL) */
    apigw_cb_slot *slot;            /* scope=endpoint: its state, or NULL */
} apigw_cb_breaker;

struct apigw_cb_dir_conf {
    apigw_cb_breaker *breaker;      /* NULL: none (or off) */
    int set;                        /* ApiCircuitBreaker given here */
    const char *file;               /* where, for "given twice" */
    unsigned line;
};

struct apigw_cb_server_conf {
    int route_slots;                /* ApiRouteBreakerSlots; 0: unset */
};

struct apigw_cb_dir_conf *apigw_cb_create_dir_conf(apr_pool_t *p);
struct apigw_cb_dir_conf *apigw_cb_merge_dir_conf(
    apr_pool_t *p, struct apigw_cb_dir_conf *base,
    struct apigw_cb_dir_conf *add);
struct apigw_cb_server_conf *apigw_cb_create_server_conf(apr_pool_t *p,
                                                         server_rec *s);
struct apigw_cb_server_conf *apigw_cb_merge_server_conf(
    apr_pool_t *p, struct apigw_cb_server_conf *base,
    struct apigw_cb_server_conf *add);

/* pre_config: a new generation reads its breakers into a new registry. */
int apigw_cb_config_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp);

/* Every breaker of this configuration, in the order read. */
apr_array_header_t *apigw_cb_breakers(void);

/* ApiCircuitBreaker "EXPR"|PRESET [key=value ...] | off; mconfig is the
 * module's apigw_br_dir_conf. */
const char *apigw_cb_set_breaker(cmd_parms *cmd, void *mconfig,
                                 const char *args);

/* ApiRouteBreakerSlots N (server config only): the runtime routes'
 * breaker states in shared memory. */
const char *apigw_cb_set_route_slots(cmd_parms *cmd, void *mconfig,
                                     const char *arg);

/* The number of runtime route states of the main server s: the
 * directive's, or APIGW_CB_ROUTE_DEFAULT_SLOTS. */
int apigw_cb_route_slots(server_rec *s);

/* The circuit breaker's directives, spliced into the module's table. */
#define APIGW_CB_CMDS                                                       \
    AP_INIT_RAW_ARGS("ApiCircuitBreaker", apigw_cb_set_breaker, NULL,       \
        ACCESS_CONF,                                                        \
        "ApiCircuitBreaker \"EXPRESSION\"|PRESET [check=DURATION] "          \
        "[fallback=DURATION] [recovery=DURATION] [status=CODE] "            \
        "[min-requests=N] [fallback-backend=URL] [scope=endpoint|backend], " \
        "or off"),                                                          \
    AP_INIT_TAKE1("ApiRouteBreakerSlots", apigw_cb_set_route_slots, NULL,   \
        RSRC_CONF,                                                          \
        "ApiRouteBreakerSlots N: states in shared memory for the circuit "   \
        "breakers of runtime routes (16 to 65536, default 256)"),

#endif
