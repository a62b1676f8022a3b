/* URLs as the circuit breaker sees them (pure, APR pools only): the
 * backend a proxied request goes to, and the same request sent to a
 * fallback backend instead. */
#ifndef APIGW_CB_URL_H
#define APIGW_CB_URL_H

#include <apr_pools.h>

/* The origin of a proxied URL, "scheme://host[:port]" (the pool for
 * "balancer://name"; a "unix:/path|http://host" URL keeps its socket
 * part), or NULL when url is not absolute. */
const char *apigw_cb_url_origin(apr_pool_t *p, const char *url);

/* url sent to origin instead, with prefix ("" or "/path", no trailing
 * slash) put before its path; its path and query are kept. NULL when url
 * is not absolute. */
const char *apigw_cb_url_rebase(apr_pool_t *p, const char *url,
                                const char *origin, const char *prefix);

/* Checks a fallback-backend URL, http(s)://host[:port][/prefix], and
 * splits it. Returns NULL, or what is wrong with it. */
const char *apigw_cb_url_parse_fallback(apr_pool_t *p, const char *url,
                                        const char **origin,
                                        const char **prefix);

#endif
