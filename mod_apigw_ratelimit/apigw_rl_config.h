/* Configuration of mod_apigw_ratelimit: the structs the concern files
 * share, the directive table and the create/merge functions. */
#ifndef APIGW_RL_CONFIG_H
#define APIGW_RL_CONFIG_H

#include "httpd.h"
#include "http_config.h"

#include "apigw_rl_gcra.h"
#include "apigw_rl_store.h"

extern module AP_MODULE_DECLARE_DATA apigw_ratelimit_module;

#define APIGW_RL_DEFAULT_ZONE ((apr_off_t)1024 * 1024)

/* What a limit's key is made of (by=). */
typedef enum {
    APIGW_RL_BY_ENDPOINT,       /* nothing more: the limit line itself */
    APIGW_RL_BY_IP,             /* r->useragent_ip (mod_remoteip decides) */
    APIGW_RL_BY_HEADER,
    APIGW_RL_BY_COOKIE,
    APIGW_RL_BY_ENV
} apigw_rl_by_kind;

typedef struct {
    apigw_rl_by_kind kind;
    const char *name;           /* header, cookie or variable name */
} apigw_rl_by;

/* One ApiRateLimit line. */
typedef struct {
    const char *name;           /* name=, or NULL */
    const char *ident;          /* what its counters are keyed by: name (or
                                   file:line) and the numbers, so editing a
                                   limit starts it afresh */
    apr_uint64_t average;
    apr_interval_time_t period;
    apr_uint64_t burst;
    apigw_rl_rate rate;
    apr_array_header_t *by;     /* of apigw_rl_by; empty: endpoint */
    int status;                 /* answered when exceeded, default 429 */
    const char *file;
    unsigned line;
} apigw_rl_limit;

typedef struct {
    apr_array_header_t *limits; /* of apigw_rl_limit *, in order */
    int off;                    /* ApiRateLimit off: drop inherited ones */
} apigw_rl_dir_conf;

typedef struct {
    apr_off_t zone_size;        /* ApiRateLimitZone; 0: unset */
    apigw_rl_store *store;      /* ApiRateLimitStore; NULL: local zone */
    int failure_closed;         /* ApiRateLimitStoreFailure closed */
    int failure_set;
} apigw_rl_server_conf;

void *apigw_rl_create_dir_conf(apr_pool_t *p, char *dir);
void *apigw_rl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *apigw_rl_create_server_conf(apr_pool_t *p, server_rec *s);
void *apigw_rl_merge_server_conf(apr_pool_t *p, void *basev, void *addv);

extern const command_rec apigw_rl_cmds[];

#endif
