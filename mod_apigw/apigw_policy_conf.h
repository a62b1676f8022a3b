/* Edge policies, inside view: the plain structs each policy is made of,
 * the per-request state they share, and the functions each policy file
 * exposes to the policies' directives (apigw_policy_config.c), effective
 * policies (apigw_policy_effective.c) and hooks (apigw_policy_hooks.c).
 *
 * Every policy is a plain struct of scalars and string arrays as the
 * operator wrote them (so a runtime route can carry the same settings),
 * plus what is compiled from them once, at startup. "Unset" is -1 for
 * numbers and flags and NULL for lists, so merging across server, virtual
 * host and endpoint is exact. */
#ifndef APIGW_POLICY_CONF_H
#define APIGW_POLICY_CONF_H

#include "httpd.h"
#include "http_config.h"
#include "ap_expr.h"
#include "ap_socache.h"
#include "util_filter.h"

#include "apigw_policy.h"
#include "apigw_policy_rewrite.h"
#include "apigw_policy_origin.h"
#include "apigw_policy_bots.h"

struct apigw_endpoint;

/* ---- CORS (apigw_policy_cors.c) ---- */

typedef struct {
    int enabled;                   /* -1 unset, 0 off, 1 on */
    int any_origin;                /* ApiCorsAllowOrigins * */
    apr_array_header_t *origins;   /* const char *, lower case; NULL unset */
    apr_array_header_t *methods;   /* NULL: whatever the path serves */
    int any_header;                /* ApiCorsAllowHeaders * */
    apr_array_header_t *headers;   /* NULL unset */
    apr_array_header_t *expose;    /* NULL unset */
    int credentials;               /* -1 unset */
    apr_int64_t max_age;           /* seconds, -1 unset */
    int private_network;           /* -1 unset */
    int passthrough;               /* -1 unset */
    int preflight_status;          /* 0 unset (204) */
    const char *file;              /* where the context's first ApiCors* is */
    unsigned line;
    /* compiled in an endpoint's effective policy */
    const char *expose_str;
    const char *max_age_str;
    const apigw_origin_pattern *origin_pats;   /* origins, taken apart */
    int n_origin_pats;
} apigw_cors_policy;

/* ---- headers (apigw_policy_headers.c) ---- */

typedef enum { APIGW_HDR_SET, APIGW_HDR_ADD, APIGW_HDR_UNSET } apigw_hdr_action;

typedef struct {
    apigw_hdr_action action;
    const char *name;
    const char *value;             /* as written; NULL for unset */
    ap_expr_info_t *expr;          /* NULL: value is a literal */
} apigw_header_rule;

/* ---- the response cache (apigw_policy_cache.c) ---- */

#define APIGW_CACHE_AUTHORIZATION 0x1  /* requests with Authorization */
#define APIGW_CACHE_SET_COOKIE    0x2  /* responses with Set-Cookie */
#define APIGW_CACHE_PRIVATE       0x4  /* Cache-Control private/no-store */

typedef struct {
    int enabled;                   /* -1 unset */
    int flags;                     /* -1 unset, else APIGW_CACHE_* */
    const char *file;
    unsigned line;
} apigw_cache_policy;

/* ---- all of an endpoint's (or a context's) policies ---- */

struct apigw_policy_conf {
    int any;                       /* this context sets something */
    apigw_cors_policy cors;
    apr_array_header_t *request_headers;   /* apigw_header_rule */
    apr_array_header_t *response_headers;  /* apigw_header_rule */
    int security_headers;          /* -1 unset */
    apr_array_header_t *rewrites;  /* apigw_rewrite_rule *, endpoint only */
    apr_array_header_t *query_deny;/* const char *, endpoint only */
    const char *query_deny_file;
    unsigned query_deny_line;
    apr_off_t request_body_limit;  /* -1 unset */
    apr_off_t response_body_limit; /* -1 unset */
    apigw_cache_policy cache;
    apigw_bot_policy bots;         /* apigw_policy_bots.h */

    /* An endpoint's own policy points at what is in force for it: its
     * settings over its server's (built at check_config). */
    struct apigw_policy_conf *effective;
    int response_work;             /* effective: anything for the filter */
    apr_interval_time_t cache_ttl; /* effective: from ApiCacheTTL */
};

typedef struct apigw_policy_conf apigw_policy_conf;

/* ---- per request ---- */

typedef struct {
    const apigw_policy_conf *pol;  /* the endpoint's effective policy */
    const struct apigw_endpoint *ep;
    /* cache */
    const char *cache_key;         /* NULL: not cacheable */
    apr_size_t cache_key_len;
    const char *cache_lock_key;    /* set while this request fills */
    apr_size_t cache_lock_key_len;
    int cache_hit;
    unsigned char *cache_entry;    /* a hit, as retrieved */
    apr_size_t cache_entry_len;
} apigw_policy_req;

/* The request's policy state, or NULL when it is not an endpoint request
 * with policies. */
apigw_policy_req *apigw_policy_req_get(const request_rec *r);

/* ---- what each policy file exposes ---- */

/* CORS: answers a preflight (returns DONE) or DECLINED. served: an
 * endpoint on the path serves the requested method (else the preflight
 * is refused: its status without CORS headers). */
int apigw_cors_preflight(request_rec *r, const apigw_policy_conf *pol,
                         const struct apigw_endpoint *ep, int served);
/* A preflight passed through to the backend (ApiCorsPreflight
 * passthrough): the gateway's answer headers into err_headers_out, at
 * header_parser; served as for apigw_cors_preflight. Does nothing for
 * other requests. */
void apigw_cors_passthrough_preflight(request_rec *r,
                                      const apigw_cors_policy *c, int served);
/* The CORS headers of an actual request into t, the response's headers
 * as the response starts (nothing for a preflight). from_backend: t holds
 * the backend's headers, whose own Access-Control-* fields go first. */
void apigw_cors_response(request_rec *r, const apigw_cors_policy *c,
                         apr_table_t *t, int from_backend);
/* Compiles the header strings of an effective policy; NULL or an error. */
const char *apigw_cors_compile(apr_pool_t *p, apigw_cors_policy *c,
                               const struct apigw_endpoint *ep);

/* Header rules: applies rules to t (request or response headers); for
 * responses, also_remove is err_headers_out, where set/unset remove the
 * name too. */
void apigw_headers_apply(request_rec *r, const apr_array_header_t *rules,
                         apr_table_t *t, apr_table_t *also_remove);
/* The security headers preset into t, replacing any of the same name. */
void apigw_security_headers_apply(apr_table_t *t);
/* Parses one ApiRequestHeader/ApiResponseHeader line onto rules (the
 * list the admin API calls field), validated and compiled. */
const char *apigw_header_rule_parse(cmd_parms *cmd, apr_array_header_t **rules,
                                    const char *field, const char *action,
                                    const char *name, const char *value);

/* Request body limits (apigw_policy_limits.c): LimitRequestBody, or the
 * endpoint's ApiRequestBodyLimit (pol may be NULL) when smaller, enforced
 * on r; OK or 413. */
int apigw_body_limit_check(request_rec *r, const apigw_policy_conf *pol);
apr_status_t apigw_body_limit_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                     ap_input_mode_t mode,
                                     apr_read_type_e block,
                                     apr_off_t readbytes);
extern ap_filter_rec_t *apigw_body_limit_filter_handle;

/* Cache. */
void apigw_cache_pre_config(apr_pool_t *pconf);
const char *apigw_cache_set_store(cmd_parms *cmd, const char *arg);
const char *apigw_cache_set_max_entry(cmd_parms *cmd, const char *arg);
int apigw_cache_check_config(apr_pool_t *pconf, server_rec *s, int used);
/* Is a store at hand without more configuration (an ApiCacheStore, or
 * mod_socache_shmcb loaded)? */
int apigw_cache_available(void);
int apigw_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s, int used);
void apigw_cache_child_init(apr_pool_t *pchild, server_rec *s);
/* In fixups: looks the request up; a hit switches r->handler. */
void apigw_cache_lookup(request_rec *r, apigw_policy_req *pr);
/* The output filter's part: captures a storable response. */
apr_status_t apigw_cache_capture(ap_filter_t *f, apigw_policy_req *pr,
                                 apr_bucket_brigade *bb, void **state);
int apigw_cache_handler(request_rec *r);
#define APIGW_CACHE_HIT_HANDLER "apigw-cache-hit"
/* Entries the store dropped before they expired, to make room: the
 * "CacheDiscardCount" its provider's short status reports (shmcb's), read
 * at the time of the call (r answers a scrape, nothing is sent on it); -1
 * when there is no store or it does not report one. */
apr_int64_t apigw_cache_evictions(request_rec *r);
/* The output filter that keeps a provider's status text (registered by
 * mod_apigw.c). */
apr_status_t apigw_cache_status_filter(ap_filter_t *f, apr_bucket_brigade *bb);
extern ap_filter_rec_t *apigw_cache_status_filter_handle;

#endif
