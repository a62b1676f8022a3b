/* Validation of the edge policies' settings, apart from the directives
 * that fill them: each function takes a plain struct (or value) as a
 * directive or the admin API fills it and says what is wrong with it, so
 * httpd.conf and routes registered at run time obey the same rules.
 *
 * A function returns NULL when the settings are valid, else what is
 * wrong: the field, named as the admin API names it ("cors.allowOrigins[2]"),
 * and the problem, which quotes the offending value but names neither
 * field nor directive, so each caller prefixes its own name for it. */
#ifndef APIGW_POLICY_VALIDATE_H
#define APIGW_POLICY_VALIDATE_H

#include "apigw_policy_conf.h"

typedef struct {
    const char *field;             /* "cors.allowOrigins[2]", "timeoutSeconds" */
    const char *problem;
} apigw_invalid;

/* CORS: every origin, method, header and exposed header, the max age,
 * the preflight status, and any origin (*) never with credentials. */
const apigw_invalid *apigw_cors_validate(apr_pool_t *p,
                                         const apigw_cors_policy *c);

/* Bot detection: every User-Agent of the allow- and deny-lists and every
 * pattern non-empty and without CR, LF or another control character, the
 * exact values without a space or tab at either end (httpd strips them),
 * emptyUserAgent -1, 0 or 1. Whether a pattern compiles is
 * apigw_bot_add()'s (apigw_policy_bots.h). */
const apigw_invalid *apigw_bots_validate(apr_pool_t *p,
                                         const apigw_bot_policy *b);

/* Header rules (apigw_header_rule): a valid name, a value for set and
 * add and none for unset, no CR, LF or other control character. field
 * names the list ("requestHeaders", "responseHeaders"). */
const apigw_invalid *apigw_header_rules_validate(apr_pool_t *p,
                                                 const char *field,
                                                 const apr_array_header_t *rules);

/* Query deny-list names (const char *): non-empty, no '&', '=', space or
 * tab. */
const apigw_invalid *apigw_query_deny_validate(apr_pool_t *p,
                                               const apr_array_header_t *names);

/* A body limit in bytes: -1 (unset) or more than zero. field is
 * "requestBodyLimit" or "responseBodyLimit". */
const apigw_invalid *apigw_body_limit_validate(apr_pool_t *p,
                                               const char *field,
                                               apr_off_t limit);

/* An endpoint's timeout: more than zero. */
const apigw_invalid *apigw_timeout_validate(apr_pool_t *p,
                                            apr_interval_time_t t);

/* A cache TTL: 0 (off) or at least one second (Cache-Control counts
 * seconds). */
const apigw_invalid *apigw_cache_ttl_validate(apr_pool_t *p,
                                              apr_interval_time_t ttl);

/* Path rewrites are validated by compiling them: apigw_rewrite_compile()
 * (apigw_policy_rewrite.h) refuses what it cannot apply. */

/* The settings in force for one endpoint, each valid alone, together:
 * credentials need a list of origins, a query deny-list excludes a query
 * allow-list (has_allow_list), the cache needs a TTL (cache_ttl). */
const apigw_invalid *apigw_policy_validate_endpoint(apr_pool_t *p,
                                                    const apigw_policy_conf *eff,
                                                    int has_allow_list,
                                                    apr_interval_time_t cache_ttl);

#endif
