/* Circuit breakers: what the configuration holds, shared by the cb files.
 * One ApiCircuitBreaker line is one breaker, owned by the section that
 * holds it (<ApiEndpoint>, <Location>, <Proxy>) and shared by every
 * request that section (or a section below it) serves. */
#ifndef APIGW_CB_CONFIG_H
#define APIGW_CB_CONFIG_H

#include "apigw_cb.h"
#include "apigw_cb_expr.h"
#include "apigw_cb_state.h"

#include "mod_proxy.h"

#define APIGW_CB_DEFAULT_CHECK apr_time_from_msec(100)
#define APIGW_CB_DEFAULT_FALLBACK apr_time_from_sec(10)
#define APIGW_CB_DEFAULT_RECOVERY apr_time_from_sec(10)
#define APIGW_CB_DEFAULT_STATUS 503
#define APIGW_CB_DEFAULT_MIN_REQUESTS 10

/* The handler name of the status page: SetHandler apigw-breaker-status */
#define APIGW_CB_STATUS_HANDLER "apigw-breaker-status"

typedef struct {
    const char *written;            /* the expression or preset, as written */
    const char *preset;             /* the preset's name, or NULL */
    apigw_cb_expr *expr;
    apigw_cb_timing timing;         /* check, fallback, recovery */
    int status;                     /* answered while open */
    apr_uint64_t min_requests;      /* in the window, before it may trip */
    const char *fallback_url;       /* fallback-backend=, as written */
    const char *fallback_origin;    /* scheme://host:port */
    const char *fallback_prefix;    /* "" or "/path" */
    proxy_worker *fallback_worker;  /* made in check_config */
    int scope_backend;              /* scope=backend: a state per backend */
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
    int unused;
};

/* Every breaker of this configuration, in the order read. */
apr_array_header_t *apigw_cb_breakers(void);

/* ---- the other cb files' hooks, registered by apigw_cb_register_hooks */

/* apigw_cb_shm.c: the table in shared memory (NULL until post_config, or
 * when no breaker is configured). */
int apigw_cb_shm_post_config(apr_pool_t *pconf, server_rec *s);
apigw_cb_table *apigw_cb_shm_table(void);

/* apigw_cb_request.c */
void apigw_cb_request_register_hooks(apr_pool_t *p);
int apigw_cb_request_check_config(apr_pool_t *pconf, server_rec *s);
void apigw_cb_request_child_init(apr_pool_t *pchild, server_rec *s);

/* Time transitions and the evaluation that is due, for one state; logs
 * any change it makes. Returns the state word in force. */
apr_uint64_t apigw_cb_advance(server_rec *s, const apigw_cb_breaker *b,
                              apigw_cb_slot *slot, const char *backend,
                              apr_time_t now);

/* The condition over slot's window now: term values into values (b's
 * nterms entries), the request count into *total. */
int apigw_cb_evaluate(const apigw_cb_breaker *b, apigw_cb_slot *slot,
                      apr_time_t now, double *values, apr_uint64_t *total);

/* apigw_cb_status.c */
void apigw_cb_status_register_hooks(apr_pool_t *p);

#endif
