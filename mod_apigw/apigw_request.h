/* Per-request state of mod_apigw and the hooks that run an endpoint
 * through httpd's request phases (registered by mod_apigw.c). */
#ifndef APIGW_REQUEST_H
#define APIGW_REQUEST_H

#include "apigw_config.h"

#define APIGW_HANDLER "apigw-endpoint"

/* Request notes for LogFormat's %{NAME}n (docs/logging.md); the trace's
 * are apigw_trace_request.h's, the rate limit's, breaker's and cache's
 * common/apigw_contract.h's. */
#define APIGW_NOTE_ENDPOINT     "apigw-endpoint"     /* the pattern */
#define APIGW_NOTE_ROUTE_ID     "apigw-route-id"     /* runtime routes */
#define APIGW_NOTE_ENVIRONMENT  "apigw-environment"  /* runtime routes */
#define APIGW_NOTE_BACKEND      "apigw-backend"      /* as configured,
                                                      * ", " between */
#define APIGW_NOTE_BACKEND_TIME "apigw-backend-time" /* microseconds */

typedef struct {
    apigw_endpoint *endpoint;
    apigw_backend *backend;
    int error_status;               /* the gateway answers this itself */
    const char *error_message;
    const char *allow;              /* for 405 */
    const char *completed_header;   /* for 405: the path's endpoint's
                                     * ApiCompletedHeader ("" off) */
    apr_table_t *client_headers;    /* headers_in as the client sent them */
    apr_array_header_t *vars;       /* the route's variables */
    const char *query;              /* allow-listed query, encoded */
    int websocket;                  /* a WebSocket handshake */
    int ws_slot;                    /* holds one of the child's tunnels */
    apr_interval_time_t client_timeout; /* the client socket's, saved */
    /* the backend connection of a proxied request (proxy create_req) */
    apr_socket_t *backend_sock;     /* NULL once the connection is released */
    apr_pool_t *backend_pool;       /* ends when the connection is released */
    struct apigw_trace_state *trace; /* the request's W3C trace, from
                                     * fixups; NULL when off */
    /* the backend exchange (mod_proxy's run or the aggregation), 0 none */
    apr_time_t backend_start, backend_end;
    void *metrics;                  /* apigw_metrics.c's series, NULL none */
} apigw_request;

/* optional_fn_retrieve: mod_apigw_auth's apigw_auth_claim, once. */
void apigw_request_retrieve_optional_fns(void);

/* The request's state, or NULL when no endpoint matched. */
apigw_request *apigw_request_get(const request_rec *r);

/* The absolute time by which an endpoint request must be answered (the
 * request time plus the endpoint's ApiTimeout), or 0 when r is not an
 * endpoint request. Offered to the other modules as the optional
 * function apigw_endpoint_deadline (apigw_contract.h). */
apr_time_t apigw_endpoint_deadline(request_rec *r);

int apigw_request_translate(request_rec *r);
int apigw_request_map_to_storage(request_rec *r);
int apigw_request_post_perdir_config(request_rec *r);
int apigw_request_fixups(request_rec *r);
int apigw_request_handler(request_rec *r);
apr_status_t apigw_cache_control_filter(ap_filter_t *f, apr_bucket_brigade *bb);
extern ap_filter_rec_t *apigw_cache_control_filter_handle;

#endif
