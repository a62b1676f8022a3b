/* Per-request state of mod_apigw and the hooks that run an endpoint
 * through httpd's request phases. */
#ifndef APIGW_REQUEST_H
#define APIGW_REQUEST_H

#include "apigw_config.h"

#define APIGW_HANDLER "apigw-endpoint"

typedef struct {
    apigw_endpoint *endpoint;
    apigw_backend *backend;
    int error_status;               /* the gateway answers this itself */
    const char *error_message;
    const char *allow;              /* for 405 */
    apr_table_t *client_headers;    /* headers_in as the client sent them */
    apr_array_header_t *vars;       /* the route's variables */
    const char *query;              /* allow-listed query, encoded */
} apigw_request;

/* The request's state, or NULL when no endpoint matched. */
apigw_request *apigw_request_get(const request_rec *r);

void apigw_request_register_hooks(apr_pool_t *p);

#endif
