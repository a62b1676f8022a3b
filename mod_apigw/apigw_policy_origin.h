/* CORS origin patterns: exact origins ("https://app.example.com:8443") and
 * wildcard subdomains ("https://" "*.example.com", any depth, same scheme
 * and port). Pure logic over APR. */
#ifndef APIGW_POLICY_ORIGIN_H
#define APIGW_POLICY_ORIGIN_H

#include <apr_pools.h>

/* A pattern as written: NULL if valid, else why not (a static string). */
const char *apigw_cors_origin_check(apr_pool_t *p, const char *pattern);

/* A valid pattern taken apart once, at startup, for matching. */
typedef struct {
    const char *pattern;           /* as written (lower case in a policy) */
    apr_size_t len;
    apr_size_t scheme_len;         /* wildcard: length of "https://"; 0 exact */
} apigw_origin_pattern;

void apigw_cors_origin_compile(apigw_origin_pattern *op, const char *pattern);

/* Does origin (as a browser sends it, olen bytes) match? Case-insensitive. */
int apigw_cors_origin_matches(const apigw_origin_pattern *op,
                              const char *origin, apr_size_t olen);

/* The same for a pattern not compiled yet. */
int apigw_cors_origin_match(const char *pattern, const char *origin);

#endif
