/* Configuration of mod_apigw_ratelimit: the directive table, the
 * create/merge functions, and the structs the concern files share: the
 * per-directory and per-server configs, and a limit and its policies
 * built (ready for requests) from the settings an ApiRateLimit line and
 * its ApiRateLimitTier lines give (apigw_rl_spec.h). */
#ifndef APIGW_RL_CONFIG_H
#define APIGW_RL_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "ap_expr.h"
#include "apr_hash.h"

#include "apigw_module.h"
#include "apigw_rl_spec.h"
#include "apigw_rl_gcra.h"
#include "apigw_rl_table.h"
#include "apigw_rl_counters.h"
#include "apigw_rl_store.h"

APIGW_MODULE_EXPORT extern module AP_MODULE_DECLARE_DATA
    apigw_ratelimit_module;

#define APIGW_RL_DEFAULT_ZONE ((apr_off_t)1024 * 1024)

/* A key part ready for requests. */
typedef struct {
    apigw_rl_key key;
    ap_expr_info_t *expr;       /* APIGW_RL_BY_EXPR: key.name, parsed */
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
    apigw_rl_numbers numbers;
    apigw_rl_rate rate;
    const char *average_text;   /* RateLimit-Limit's value */
    const char *quota_params;   /* ";q=Q;w=W" of RateLimit-Policy */
    apigw_rl_counter *counter;  /* in shared memory; NULL before
                                   post_config (nothing is counted) */
    const char *file;
    unsigned line;
} apigw_rl_policy;

/* One ApiRateLimit line, built. */
typedef struct {
    apigw_rl_limit_spec spec;   /* what it says, validated */
    apigw_rl_policy base;       /* spec.numbers: the default tier */
    apr_array_header_t *by;     /* of apigw_rl_by: spec.by but its endpoint
                                   parts; empty: endpoint */
    apigw_rl_by *tier_by;       /* spec.tier, or NULL */
    apr_array_header_t *tiers;  /* of apigw_rl_policy *, in order */
    apr_hash_t *tier_of;        /* tier value -> apigw_rl_policy * */
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

extern const command_rec apigw_rl_cmds[];

#endif
