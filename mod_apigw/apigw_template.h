/* Backend URL templates: "http://host:port/users/{user}?id={user}" compiled
 * once at startup and expanded per request with every variable value
 * percent-encoded. Pure logic over APR. */
#ifndef APIGW_TEMPLATE_H
#define APIGW_TEMPLATE_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct apigw_template apigw_template;

typedef enum {
    APIGW_EXPAND_OK = 0,
    APIGW_EXPAND_NOT_FOUND,    /* a value that cannot name one path segment:
                                * ".", "..", or one holding '/' */
    APIGW_EXPAND_BAD_REQUEST   /* a control character in a value */
} apigw_expand_status;

/* Compiles url. The scheme and authority ("http://127.0.0.1:9001") may not
 * hold variables; "{*}" stands for an endpoint's wildcard tail. Returns NULL
 * or a message from p. */
const char *apigw_template_compile(apr_pool_t *p, const char *url,
                                   apigw_template **out);

/* "http", "balancer", ... */
const char *apigw_template_scheme(const apigw_template *t);

/* "http://127.0.0.1:9001": scheme and authority as written. */
const char *apigw_template_origin(const apigw_template *t);

/* The template's variable names (const char *), each once. */
const apr_array_header_t *apigw_template_vars(const apigw_template *t);

/* Expands with vars (apigw_route_var from the route match) and appends
 * query (already encoded, may be NULL or "") to the URL's query. On
 * failure *bad names the offending variable. */
apigw_expand_status apigw_template_expand(const apigw_template *t,
                                          const apr_array_header_t *vars,
                                          const char *query, apr_pool_t *p,
                                          const char **url, const char **bad);

#endif
