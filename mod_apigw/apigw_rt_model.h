/* Runtime routes, the model: a route registered through the admin API as
 * plain data (the policy groups as the plain structs the edge policies'
 * validators take), decoded from the API's JSON with errors that name the
 * field, validated by the functions the directives call, encoded back to
 * JSON and converted to and from the store's row (apigw_route_record.h).
 * Pure: APR, jansson, PCRE2 (through apigw_rewrite_compile); no httpd
 * symbol, only httpd's headers for the policy structs.
 *
 * The JSON of a route (camelCase; every group optional):
 *   id               output only (a v4 UUID the gateway assigns)
 *   environment      1-64 of [A-Za-z0-9._-], default "default"
 *   path             <ApiEndpoint> path syntax: {vars}, a trailing / *
 *   targetUrl        http://, https://, ws://, wss:// (a WebSocket route)
 *                    or balancer://NAME/...; {vars} of the path ({*} for
 *                    its wildcard)
 *   methods          ["GET", ...] upper case, no duplicates; default GET
 *   enabled          default true
 *   createdAt, updatedAt   output only, RFC 3339 UTC
 *   cors             {allowOrigins, allowMethods, allowHeaders,
 *                     exposeHeaders: [strings], allowCredentials: bool,
 *                     maxAgeSeconds: int}
 *   rateLimit        {average: int, period: duration string ("1s",
 *                     "500ms", "1m"), burst: int (default 1), by: one key
 *                     ("endpoint", "ip", "header:NAME", "cookie:NAME",
 *                     "env:NAME", "expr:EXPRESSION"; default endpoint)}
 *   requestHeaders, responseHeaders  [{action: set|add|unset, name, value}]
 *   pathRewrite      {type: stripPrefix|addPrefix|regex, value,
 *                     replacement (regex only)}
 *   queryPolicy      {mode: all|allow|deny, names: [strings] (not for all)}
 *   bodyLimits       {requestBytes, responseBytes}
 *   timeoutSeconds   1 to 300
 *   circuitBreaker   {preset: errors-50|errors-30|5xx|high-latency, or
 *                     expression: "NetworkErrorRatio() > 0.5", and
 *                     checkSeconds, fallbackSeconds, recoverySeconds:
 *                     numbers, millisecond precision}
 *   cacheTtlSeconds  0 (off) or more: GET responses kept that long
 * On PATCH a field present replaces the route's; a group replaces the
 * whole group, and null removes a group. */
#ifndef APIGW_RT_MODEL_H
#define APIGW_RT_MODEL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "apigw_policy_conf.h"
#include "apigw_route_record.h"
#include "apigw_route_policy.h"

#define APIGW_RT_MAX_BODY (1024 * 1024)  /* bytes of a request body */
#define APIGW_RT_MAX_DEPTH 32            /* nesting of arrays and objects */
#define APIGW_RT_MAX_TIMEOUT 300         /* timeoutSeconds */

/* What is wrong: field is the JSON path ("cors.allowOrigins[2]",
 * "timeoutSeconds"; "" for the body as a whole), message the problem. */
typedef struct {
    const char *field;
    const char *message;
} apigw_rt_error;

/* pathRewrite, as ApiPathRewrite writes it. */
typedef struct {
    apigw_rewrite_kind kind;
    const char *value;             /* the prefix, or the pattern */
    const char *replacement;       /* regex only */
} apigw_rt_rewrite;

typedef enum {
    APIGW_RT_QUERY_NONE = 0,       /* no queryPolicy: none forwarded */
    APIGW_RT_QUERY_ALL,            /* ApiInputQueryStrings * */
    APIGW_RT_QUERY_ALLOW,          /* ApiInputQueryStrings NAME ... */
    APIGW_RT_QUERY_DENY            /* ApiDenyQueryStrings NAME ... */
} apigw_rt_query_mode;

typedef struct apigw_rt_route {
    const char *id;                /* NULL until assigned */
    const char *environment;
    const char *path;
    const char *target_url;
    apr_array_header_t *methods;   /* const char *, the method table's */
    int enabled;
    apr_time_t created_at;         /* 0: not stored yet */
    apr_time_t updated_at;
    /* policy groups: each absent unless said otherwise */
    apigw_cors_policy cors;        /* cors.enabled == 1: present */
    apigw_rt_rate_limit *rate_limit;
    apr_array_header_t *request_headers;   /* apigw_header_rule */
    apr_array_header_t *response_headers;  /* apigw_header_rule */
    apigw_rt_rewrite *path_rewrite;
    apigw_rt_query_mode query_mode;
    apr_array_header_t *query_names;       /* const char *, allow or deny */
    apr_off_t request_body_limit;  /* bytes, -1 none */
    apr_off_t response_body_limit; /* bytes, -1 none */
    apr_interval_time_t timeout;   /* 0: the server's ApiTimeout */
    apigw_rt_breaker *breaker;
    apr_interval_time_t cache_ttl; /* 0: off */
} apigw_rt_route;

/* The checks that live in other modules (mod_apigw_ratelimit,
 * mod_apigw_breaker), which mod_apigw cannot link: the serving side fills
 * them from those modules' optional functions. Each returns NULL or the
 * problem; either may be NULL (not loaded: the model's own checks only). */
typedef struct {
    const char *(*rate_limit)(apr_pool_t *p, const apigw_rt_rate_limit *rl);
    const char *(*breaker)(apr_pool_t *p, const apigw_rt_breaker *cb);
    /* a header rule's value holding '%' or '\\': an ap_expr string, as
     * ApiRequestHeader reads it (the serving side's, which links httpd) */
    const char *(*header_value)(apr_pool_t *p, const char *value);
} apigw_rt_checks;

/* An outside check's message as an error: "rateLimit.burst: too big"
 * names its own field; any other message is group's. */
const apigw_rt_error *apigw_rt_outside_error(apr_pool_t *p,
                                             const char *group,
                                             const char *msg);

/* A route with every default and no group. */
apigw_rt_route *apigw_rt_route_make(apr_pool_t *p);

/* A group's defaults: burst 1; check 100ms, fallback 10s, recovery 10s. */
void apigw_rt_rate_limit_defaults(apigw_rt_rate_limit *rl);
void apigw_rt_breaker_defaults(apigw_rt_breaker *cb);

/* NULL when r may be served, else its first problem: every field alone
 * (through apigw_cors_validate, apigw_header_rules_validate,
 * apigw_query_deny_validate, apigw_body_limit_validate,
 * apigw_timeout_validate, apigw_cache_ttl_validate, apigw_rewrite_compile,
 * apigw_route_check, apigw_template_compile and the model's own rules),
 * then together (apigw_policy_validate_endpoint), then checks, if any. */
const apigw_rt_error *apigw_rt_route_validate(apr_pool_t *p,
                                              const apigw_rt_route *r,
                                              const apigw_rt_checks *checks);

/* Decodes and validates a register (POST) body of len bytes (not
 * NUL-terminated; at most APIGW_RT_MAX_BODY). id, createdAt and
 * updatedAt are refused: the caller assigns them. */
const apigw_rt_error *apigw_rt_route_decode(apr_pool_t *p, const char *json,
                                            apr_size_t len,
                                            const apigw_rt_checks *checks,
                                            apigw_rt_route **out);

/* PATCH: the fields present in json over a copy of base (base is left
 * alone), then validated. id, created_at and updated_at are base's. */
const apigw_rt_error *apigw_rt_route_patch(apr_pool_t *p,
                                           const apigw_rt_route *base,
                                           const char *json, apr_size_t len,
                                           const apigw_rt_checks *checks,
                                           apigw_rt_route **out);

/* The route as the API answers it: compact JSON text from p. */
char *apigw_rt_route_encode(apr_pool_t *p, const apigw_rt_route *r);

/* The same as a jansson object (a new reference; strings copied). */
struct json_t;
struct json_t *apigw_rt_route_json(apr_pool_t *p, const apigw_rt_route *r);

/* The store's row; strings from p (policies "{}" without groups). */
void apigw_rt_route_to_record(apr_pool_t *p, const apigw_rt_route *r,
                              apigw_route_record *rec);

/* A route from the store's row, validated as a registered one is (a row
 * written by an older gateway may break a newer rule). What validation
 * compiles goes to scratch, the caller's to clear, or (NULL) to a pool of
 * its own, freed before it returns. */
const apigw_rt_error *apigw_rt_route_from_record(apr_pool_t *p,
                                                 apr_pool_t *scratch,
                                                 const apigw_route_record *rec,
                                                 const apigw_rt_checks *checks,
                                                 apigw_rt_route **out);

/* NULL when e may name an environment: 1 to 64 of [A-Za-z0-9._-]. */
const apigw_rt_error *apigw_rt_environment_check(apr_pool_t *p,
                                                const char *e);

/* A fresh version 4 UUID, lower case, from apr_generate_random_bytes;
 * NULL if the system has no randomness to give. */
const char *apigw_rt_uuid(apr_pool_t *p);

/* Is s a UUID as apigw_rt_uuid writes them (36 characters, lower-case
 * hex, dashes at 8, 13, 18, 23)? */
int apigw_rt_is_uuid(const char *s);

/* t as RFC 3339 UTC with milliseconds: "2026-11-22T23:25:37.399Z". */
const char *apigw_rt_time_text(apr_pool_t *p, apr_time_t t);

#endif
