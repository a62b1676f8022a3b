/* Edge policies of an endpoint (CORS, request/response shaping, body
 * limits, response cache): the interface the rest of mod_apigw composes.
 * Each policy is a plain struct with one function that applies it, so a
 * runtime route can later carry the same settings. The whole policy
 * config hangs off apigw_dir_conf.policy; the structs are in
 * apigw_policy_conf.h. */
#ifndef APIGW_POLICY_H
#define APIGW_POLICY_H

#include "httpd.h"
#include "http_config.h"

struct apigw_policy_conf;
struct apigw_endpoint;

struct apigw_policy_conf *apigw_policy_create(apr_pool_t *p);
struct apigw_policy_conf *apigw_policy_merge(apr_pool_t *p,
                                             const struct apigw_policy_conf *base,
                                             const struct apigw_policy_conf *add);
void apigw_policy_register_hooks(apr_pool_t *p);

/* The backend URL after the endpoint's path rewrite and query deny-list
 * (url as expanded from ApiBackend; returned unchanged when the endpoint
 * has neither). Called from translate_name. */
const char *apigw_policy_backend_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url);

/* An aggregating endpoint's backend URL (any of its backends) after the
 * endpoint's path rewrite; its query was filtered already. Returned
 * unchanged when the endpoint has no ApiPathRewrite. */
const char *apigw_policy_rewrite_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url);

/* The request body limit in force for an endpoint request: httpd's
 * LimitRequestBody (httpd_limit), or ApiRequestBodyLimit when smaller. */
apr_off_t apigw_policy_body_limit(request_rec *r, apr_off_t httpd_limit);

/* Directive handlers (apigw_policy_config.c). */
const char *apigw_policy_cmd_flag(cmd_parms *cmd, void *dconf, int flag);
const char *apigw_policy_cmd_list(cmd_parms *cmd, void *dconf, const char *w);
const char *apigw_policy_cmd_take1(cmd_parms *cmd, void *dconf, const char *a);
const char *apigw_policy_cmd_take23(cmd_parms *cmd, void *dconf,
                                    const char *a, const char *b,
                                    const char *c);
const char *apigw_policy_cmd_take12(cmd_parms *cmd, void *dconf,
                                    const char *a, const char *b);
const char *apigw_policy_cmd_argv(cmd_parms *cmd, void *dconf, int argc,
                                  char *const argv[]);

#define APIGW_POLICY_ANY (RSRC_CONF | ACCESS_CONF)

/* The policies' directives, spliced into apigw_cmds[]. Their handlers
 * receive the apigw_dir_conf * as mconfig and use ->policy; cmd->info
 * names the directive. */
#define APIGW_POLICY_CMDS \
    AP_INIT_FLAG("ApiCors", apigw_policy_cmd_flag, "cors", APIGW_POLICY_ANY, \
        "On answers CORS preflights and adds CORS headers"), \
    AP_INIT_ITERATE("ApiCorsAllowOrigins", apigw_policy_cmd_list, "origins", \
        APIGW_POLICY_ANY, "origins allowed: https://app.example.com, " \
        "https://*.example.com, or *"), \
    AP_INIT_ITERATE("ApiCorsAllowMethods", apigw_policy_cmd_list, "methods", \
        APIGW_POLICY_ANY, "methods a preflight may ask for"), \
    AP_INIT_ITERATE("ApiCorsAllowHeaders", apigw_policy_cmd_list, "headers", \
        APIGW_POLICY_ANY, "request headers a preflight may ask for, or *"), \
    AP_INIT_ITERATE("ApiCorsExposeHeaders", apigw_policy_cmd_list, "expose", \
        APIGW_POLICY_ANY, "response headers JavaScript may read"), \
    AP_INIT_FLAG("ApiCorsAllowCredentials", apigw_policy_cmd_flag, \
        "credentials", APIGW_POLICY_ANY, "On allows cookies and auth"), \
    AP_INIT_TAKE1("ApiCorsMaxAge", apigw_policy_cmd_take1, "maxage", \
        APIGW_POLICY_ANY, "how long a browser may cache a preflight"), \
    AP_INIT_FLAG("ApiCorsAllowPrivateNetwork", apigw_policy_cmd_flag, \
        "pna", APIGW_POLICY_ANY, "On answers private network preflights"), \
    AP_INIT_TAKE12("ApiCorsPreflight", apigw_policy_cmd_take12, "preflight", \
        APIGW_POLICY_ANY, "answer [STATUS] or passthrough"), \
    AP_INIT_TAKE23("ApiRequestHeader", apigw_policy_cmd_take23, "reqhdr", \
        APIGW_POLICY_ANY, "set|add|unset NAME [VALUE]: a header to the " \
        "backend"), \
    AP_INIT_TAKE23("ApiResponseHeader", apigw_policy_cmd_take23, "resphdr", \
        APIGW_POLICY_ANY, "set|add|unset NAME [VALUE]: a header to the " \
        "client"), \
    AP_INIT_FLAG("ApiSecurityHeaders", apigw_policy_cmd_flag, "security", \
        APIGW_POLICY_ANY, "On adds HSTS, nosniff, frame and referrer " \
        "headers"), \
    AP_INIT_TAKE23("ApiPathRewrite", apigw_policy_cmd_take23, "rewrite", \
        ACCESS_CONF, "strip-prefix P | add-prefix P | regex PATTERN " \
        "REPLACEMENT"), \
    AP_INIT_ITERATE("ApiDenyQueryStrings", apigw_policy_cmd_list, "qdeny", \
        ACCESS_CONF, "query string parameters never forwarded (all " \
        "others are)"), \
    AP_INIT_TAKE1("ApiRequestBodyLimit", apigw_policy_cmd_take1, "reqlimit", \
        APIGW_POLICY_ANY, "largest request body, e.g. 1M (413 above)"), \
    AP_INIT_TAKE1("ApiResponseBodyLimit", apigw_policy_cmd_take1, \
        "resplimit", APIGW_POLICY_ANY, "largest backend response body, " \
        "e.g. 10M (502 above)"), \
    AP_INIT_TAKE_ARGV("ApiCache", apigw_policy_cmd_argv, "cache", \
        APIGW_POLICY_ANY, "On|Off [authorization] [set-cookie] [private]"), \
    AP_INIT_TAKE1("ApiCacheStore", apigw_policy_cmd_take1, "store", \
        RSRC_CONF, "the socache provider: shmcb[:ARGS], memcache:HOST:PORT, " \
        "redis:HOST:PORT"), \
    AP_INIT_TAKE1("ApiCacheMaxEntrySize", apigw_policy_cmd_take1, "maxentry", \
        RSRC_CONF, "largest response the cache stores, e.g. 256k"),

#endif
