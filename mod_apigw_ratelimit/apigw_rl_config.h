/* Configuration of mod_apigw_ratelimit: the structs the concern files
 * share, the directive table, the create/merge functions, and the list of
 * every limit of the configuration (for the counters and the checks that
 * need the whole configuration). */
#ifndef APIGW_RL_CONFIG_H
#define APIGW_RL_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "ap_expr.h"
#include "apr_hash.h"

#include "apigw_rl_gcra.h"
#include "apigw_rl_table.h"
#include "apigw_rl_counters.h"
#include "apigw_rl_store.h"

extern module AP_MODULE_DECLARE_DATA apigw_ratelimit_module;

#define APIGW_RL_DEFAULT_ZONE ((apr_off_t)1024 * 1024)
#define APIGW_RL_MAX_DELAY apr_time_from_sec(10)

/* What a key is made of (by=, tier=). */
typedef enum {
    APIGW_RL_BY_ENDPOINT,       /* nothing more: the limit line itself */
    APIGW_RL_BY_IP,             /* r->useragent_ip (mod_remoteip decides) */
    APIGW_RL_BY_HEADER,
    APIGW_RL_BY_COOKIE,
    APIGW_RL_BY_ENV,
    APIGW_RL_BY_EXPR            /* an ap_expr string expression */
} apigw_rl_by_kind;

typedef struct {
    apigw_rl_by_kind kind;
    const char *name;           /* header, cookie or variable name; the
                                   expression's text */
    ap_expr_info_t *expr;       /* APIGW_RL_BY_EXPR */
} apigw_rl_by;

/* A policy: the numbers one bucket follows. Every limit has one (its own
 * numbers); each ApiRateLimitTier of it adds one. */
typedef struct {
    const char *ident;          /* what its buckets and counters are keyed
                                   by: the limit's name (or file:line), the
                                   tier and the numbers, so editing a limit
                                   starts it afresh */
    apigw_rl_hash seed;         /* the hash state after ident: a request's
                                   key continues from here */
    apigw_rl_hash ident_hash;   /* ident alone, finished: its counters */
    const char *tier;           /* the tier's first value; NULL: default */
    apr_uint64_t average;
    apr_interval_time_t period;
    apr_uint64_t burst;
    apr_interval_time_t delay;
    apigw_rl_rate rate;
    const char *average_text;   /* RateLimit-Limit's value */
    const char *quota_params;   /* ";q=Q;w=W" of RateLimit-Policy */
    apigw_rl_counter *counter;  /* in shared memory; NULL before
                                   post_config (nothing is counted) */
    const char *file;
    unsigned line;
} apigw_rl_policy;

/* One ApiRateLimit line. */
typedef struct {
    const char *name;           /* name=, or NULL */
    apigw_rl_policy base;       /* its own numbers: the default tier */
    apr_array_header_t *by;     /* of apigw_rl_by; empty: endpoint */
    apigw_rl_by *tier_by;       /* tier=, or NULL */
    apr_array_header_t *tiers;  /* of apigw_rl_policy *, in order */
    apr_hash_t *tier_of;        /* tier value -> apigw_rl_policy * */
    int status;                 /* answered when exceeded, default 429 */
    const char *file;
    unsigned line;
} apigw_rl_limit;

/* ApiRateLimitHeaders */
typedef enum {
    APIGW_RL_HEADERS_UNSET = -1,
    APIGW_RL_HEADERS_OFF = 0,
    APIGW_RL_HEADERS_LEGACY = 1,    /* RateLimit-Limit/-Remaining/-Reset */
    APIGW_RL_HEADERS_DRAFT = 2,     /* RateLimit-Policy + RateLimit */
    APIGW_RL_HEADERS_BOTH = 3
} apigw_rl_headers_mode;

typedef struct {
    apr_array_header_t *limits; /* of apigw_rl_limit *, in order */
    int off;                    /* ApiRateLimit off: drop inherited ones */
    int headers;                /* apigw_rl_headers_mode; UNSET: legacy */
    int headers_admitted;       /* ApiRateLimitHeadersAdmitted; -1: on */
} apigw_rl_dir_conf;

typedef struct {
    apr_off_t zone_size;        /* ApiRateLimitZone; 0: unset */
    apigw_rl_store *store;      /* ApiRateLimitStore; NULL: local zone */
    int failure_closed;         /* ApiRateLimitStoreFailure closed */
    int failure_set;
    int max_delayed;            /* ApiRateLimitMaxDelayed; -1: unset */
} apigw_rl_server_conf;

void *apigw_rl_create_dir_conf(apr_pool_t *p, char *dir);
void *apigw_rl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *apigw_rl_create_server_conf(apr_pool_t *p, server_rec *s);
void *apigw_rl_merge_server_conf(apr_pool_t *p, void *basev, void *addv);

/* The effective settings, defaults applied. */
apigw_rl_headers_mode apigw_rl_headers(const apigw_rl_dir_conf *dc);
int apigw_rl_headers_admitted(const apigw_rl_dir_conf *dc);

/* pre_config: starts the list of limits of a new configuration. */
int apigw_rl_config_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp);

/* check_config: what only the whole configuration can tell (a tier= limit
 * without any ApiRateLimitTier), logged with the line's file:line. */
int apigw_rl_config_check(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s);

/* Every limit of the configuration, in the order they were read. */
apr_array_header_t *apigw_rl_config_limits(void);

/* The policy of limit l for a tier value (NULL: none): its tier, or its
 * own numbers. */
const apigw_rl_policy *apigw_rl_tier_policy(const apigw_rl_limit *l,
                                            const char *value);

extern const command_rec apigw_rl_cmds[];

#endif
