/* CORS origin patterns: exact origins ("https://app.example.com:8443") and
 * wildcard subdomains ("https://" "*.example.com", any depth, same scheme
 * and port). Pure logic over APR. */
#ifndef APIGW_POLICY_ORIGIN_H
#define APIGW_POLICY_ORIGIN_H

#include <apr_pools.h>

/* A pattern as written: NULL if valid, else why not (a static string). */
const char *apigw_cors_origin_check(apr_pool_t *p, const char *pattern);

/* Does origin (as a browser sends it) match pattern? Case-insensitive. */
int apigw_cors_origin_match(const char *pattern, const char *origin);

#endif
