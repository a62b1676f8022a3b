/* Edge policies of an endpoint (CORS, request/response shaping, body
 * limits, response cache, bot detection), outside view: what the rest of mod_apigw calls
 * (create/merge, the backend URL after rewrites, the body limit check),
 * the policies' hooks and filter for mod_apigw.c to register, and their
 * directives. The whole policy config hangs off apigw_dir_conf.policy;
 * the plain structs, and what each policy file exposes, are in
 * apigw_policy_conf.h; their validation in apigw_policy_validate.h. */
#ifndef APIGW_POLICY_H
#define APIGW_POLICY_H

#include "httpd.h"
#include "http_config.h"
#include "util_filter.h"

struct apigw_policy_conf;
struct apigw_endpoint;

struct apigw_policy_conf *apigw_policy_create(apr_pool_t *p);
struct apigw_policy_conf *apigw_policy_merge(apr_pool_t *p,
                                             const struct apigw_policy_conf *base,
                                             const struct apigw_policy_conf *add);

/* The backend URL after the endpoint's path rewrite and query deny-list
 * (url as expanded from ApiBackend; returned unchanged when the endpoint
 * has neither). NULL when the rewrite failed: *status says how to answer
 * (404, 500), the reason is logged. Called from translate_name. */
const char *apigw_policy_backend_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url, int *status);

/* An aggregating endpoint's backend URL (any of its backends) after the
 * endpoint's path rewrite; its query was filtered already. Returned
 * unchanged when the endpoint has no ApiPathRewrite; NULL when the
 * rewrite failed (logged). */
const char *apigw_policy_rewrite_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url);

/* May a WebSocket handshake from origin (NULL: no Origin header, not a
 * browser) open on ep? Only when ep's CORS policy has an origin list does
 * it decide: the same list as its CORS answers (apigw_policy_cors.c). */
int apigw_cors_ws_origin_allowed(const struct apigw_endpoint *ep,
                                 const char *origin);

/* Enforces the request body limit of an endpoint request: httpd's
 * LimitRequestBody, or ApiRequestBodyLimit when smaller (see
 * apigw_policy_limits.c). Returns OK or 413. */
int apigw_policy_body_limit_check(request_rec *r,
                                  const struct apigw_endpoint *ep);

/* The hooks and filters of the policies (apigw_policy_hooks.c,
 * apigw_policy_effective.c, apigw_policy_limits.c), registered by
 * mod_apigw.c. */
int apigw_policy_check_config(apr_pool_t *pconf, server_rec *s,
                              int runtime_routes);

/* A runtime route's endpoint: its effective policy (server_pol, its
 * server's, may be NULL, merged with ep->conf->policy) built, checked and
 * compiled into p, as check_config does for <ApiEndpoint>s. NULL, or the
 * problem with *field naming the route's field. */
const char *apigw_policy_effective_runtime(apr_pool_t *p,
                                           const struct apigw_policy_conf *server_pol,
                                           struct apigw_endpoint *ep,
                                           const char **field);
int apigw_policy_cache_used(void);
int apigw_policy_translate(request_rec *r);
int apigw_policy_header_parser(request_rec *r);
int apigw_policy_fixups(request_rec *r);
void apigw_policy_insert_filter(request_rec *r);
void apigw_policy_insert_error_filter(request_rec *r);
apr_status_t apigw_policy_out_filter(ap_filter_t *f, apr_bucket_brigade *bb);
extern ap_filter_rec_t *apigw_policy_filter_handle;

/* Directive handlers (apigw_policy_config.c), one per directive. */
const char *apigw_policy_set_cors(cmd_parms *cmd, void *dconf, int flag);
const char *apigw_policy_set_cors_origins(cmd_parms *cmd, void *dconf,
                                          const char *w);
const char *apigw_policy_set_cors_methods(cmd_parms *cmd, void *dconf,
                                          const char *w);
const char *apigw_policy_set_cors_headers(cmd_parms *cmd, void *dconf,
                                          const char *w);
const char *apigw_policy_set_cors_expose(cmd_parms *cmd, void *dconf,
                                         const char *w);
const char *apigw_policy_set_cors_credentials(cmd_parms *cmd, void *dconf,
                                              int flag);
const char *apigw_policy_set_cors_max_age(cmd_parms *cmd, void *dconf,
                                          const char *a);
const char *apigw_policy_set_cors_pna(cmd_parms *cmd, void *dconf, int flag);
const char *apigw_policy_set_cors_preflight(cmd_parms *cmd, void *dconf,
                                            const char *a, const char *b);
const char *apigw_policy_set_request_header(cmd_parms *cmd, void *dconf,
                                            const char *a, const char *b,
                                            const char *c);
const char *apigw_policy_set_response_header(cmd_parms *cmd, void *dconf,
                                             const char *a, const char *b,
                                             const char *c);
const char *apigw_policy_set_security_headers(cmd_parms *cmd, void *dconf,
                                              int flag);
const char *apigw_policy_set_path_rewrite(cmd_parms *cmd, void *dconf,
                                          const char *a, const char *b,
                                          const char *c);
const char *apigw_policy_set_deny_query(cmd_parms *cmd, void *dconf,
                                        const char *w);
const char *apigw_policy_set_request_body_limit(cmd_parms *cmd, void *dconf,
                                                const char *a);
const char *apigw_policy_set_response_body_limit(cmd_parms *cmd, void *dconf,
                                                 const char *a);
const char *apigw_policy_set_cache(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[]);
const char *apigw_policy_set_bot_allow(cmd_parms *cmd, void *dconf,
                                       const char *w);
const char *apigw_policy_set_bot_deny(cmd_parms *cmd, void *dconf,
                                      const char *w);
const char *apigw_policy_set_bot_patterns(cmd_parms *cmd, void *dconf,
                                          const char *w);
const char *apigw_policy_set_bot_empty_ua(cmd_parms *cmd, void *dconf,
                                          const char *a);
const char *apigw_policy_set_cache_store(cmd_parms *cmd, void *dconf,
                                         const char *a);
const char *apigw_policy_set_cache_max_entry(cmd_parms *cmd, void *dconf,
                                             const char *a);

#define APIGW_POLICY_ANY (RSRC_CONF | ACCESS_CONF)

/* The policies' directives, spliced into apigw_cmds[]. Their handlers
 * receive the apigw_dir_conf * as mconfig and use ->policy. */
#define APIGW_POLICY_CMDS \
    AP_INIT_FLAG("ApiCors", apigw_policy_set_cors, NULL, APIGW_POLICY_ANY, \
        "On answers CORS preflights and adds CORS headers"), \
    AP_INIT_ITERATE("ApiCorsAllowOrigins", apigw_policy_set_cors_origins, NULL, \
        APIGW_POLICY_ANY, "origins allowed: https://app.example.com, " \
        "https://*.example.com, or *"), \
    AP_INIT_ITERATE("ApiCorsAllowMethods", apigw_policy_set_cors_methods, NULL, \
        APIGW_POLICY_ANY, "methods a preflight may ask for"), \
    AP_INIT_ITERATE("ApiCorsAllowHeaders", apigw_policy_set_cors_headers, NULL, \
        APIGW_POLICY_ANY, "request headers a preflight may ask for, or *"), \
    AP_INIT_ITERATE("ApiCorsExposeHeaders", apigw_policy_set_cors_expose, NULL, \
        APIGW_POLICY_ANY, "response headers JavaScript may read"), \
    AP_INIT_FLAG("ApiCorsAllowCredentials", \
        apigw_policy_set_cors_credentials, NULL, APIGW_POLICY_ANY, "On allows cookies and auth"), \
    AP_INIT_TAKE1("ApiCorsMaxAge", apigw_policy_set_cors_max_age, NULL, \
        APIGW_POLICY_ANY, "how long a browser may cache a preflight"), \
    AP_INIT_FLAG("ApiCorsAllowPrivateNetwork", \
        apigw_policy_set_cors_pna, NULL, APIGW_POLICY_ANY, "On answers private network preflights"), \
    AP_INIT_TAKE12("ApiCorsPreflight", apigw_policy_set_cors_preflight, NULL, \
        APIGW_POLICY_ANY, "answer [STATUS] or passthrough"), \
    AP_INIT_TAKE23("ApiRequestHeader", apigw_policy_set_request_header, NULL, \
        APIGW_POLICY_ANY, "set|add|unset NAME [VALUE]: a header to the " \
        "backend"), \
    AP_INIT_TAKE23("ApiResponseHeader", apigw_policy_set_response_header, NULL, \
        APIGW_POLICY_ANY, "set|add|unset NAME [VALUE]: a header to the " \
        "client"), \
    AP_INIT_FLAG("ApiSecurityHeaders", apigw_policy_set_security_headers, NULL, \
        APIGW_POLICY_ANY, "On adds HSTS, nosniff, frame and referrer " \
        "headers"), \
    AP_INIT_TAKE23("ApiPathRewrite", apigw_policy_set_path_rewrite, NULL, \
        ACCESS_CONF, "strip-prefix P | add-prefix P | regex PATTERN " \
        "REPLACEMENT"), \
    AP_INIT_ITERATE("ApiDenyQueryStrings", apigw_policy_set_deny_query, NULL, \
        ACCESS_CONF, "query string parameters never forwarded (all " \
        "others are)"), \
    AP_INIT_TAKE1("ApiRequestBodyLimit", apigw_policy_set_request_body_limit, NULL, \
        APIGW_POLICY_ANY, "largest request body, e.g. 1M (413 above)"), \
    AP_INIT_TAKE1("ApiResponseBodyLimit", \
        apigw_policy_set_response_body_limit, NULL, APIGW_POLICY_ANY, "largest backend response body, " \
        "e.g. 10M (502 above)"), \
    AP_INIT_TAKE_ARGV("ApiCache", apigw_policy_set_cache, NULL, \
        APIGW_POLICY_ANY, "On|Off [authorization] [set-cookie] [private]"), \
    AP_INIT_TAKE1("ApiCacheStore", apigw_policy_set_cache_store, NULL, \
        RSRC_CONF, "the socache provider: shmcb[:ARGS], memcache:HOST:PORT, " \
        "redis:HOST:PORT"), \
    AP_INIT_TAKE1("ApiCacheMaxEntrySize", apigw_policy_set_cache_max_entry, NULL, \
        RSRC_CONF, "largest response the cache stores, e.g. 256k"), \
    AP_INIT_ITERATE("ApiBotAllow", apigw_policy_set_bot_allow, NULL, \
        APIGW_POLICY_ANY, "User-Agent values always admitted (exact)"), \
    AP_INIT_ITERATE("ApiBotDeny", apigw_policy_set_bot_deny, NULL, \
        APIGW_POLICY_ANY, "User-Agent values refused 403 (exact)"), \
    AP_INIT_ITERATE("ApiBotPatterns", apigw_policy_set_bot_patterns, NULL, \
        APIGW_POLICY_ANY, "regular expressions: a User-Agent one matches " \
        "is refused 403"), \
    AP_INIT_TAKE1("ApiBotEmptyUserAgent", apigw_policy_set_bot_empty_ua, \
        NULL, APIGW_POLICY_ANY, "allow|deny: a request without " \
        "User-Agent"),

#endif
