/* The circuit breakers' status page (apigw_cb_status.c). */
#ifndef APIGW_CB_STATUS_H
#define APIGW_CB_STATUS_H

#include "apigw_cb_config.h"

#include "httpd.h"

/* The handler name of the status page: SetHandler apigw-breaker-status */
#define APIGW_CB_STATUS_HANDLER "apigw-breaker-status"

/* t as a JSON string, RFC 3339 UTC with milliseconds
 * ("2025-01-02T03:04:05.678Z", quotes included), from p; null when it
 * cannot be written. */
const char *apigw_cb_status_time(apr_pool_t *p, apr_time_t t);

/* One state of a breaker (backend: scope=backend's, else NULL) or of a
 * runtime route (backend: the slot's label, the route id); n counts from
 * 0. */
typedef void apigw_cb_status_state_fn(void *baton, apigw_cb_slot *slot,
                                      const char *backend, int n);

/* Calls fn for each state of b in table (its own, or one per backend,
 * the backend copied into p): the states the status page shows. Returns
 * how many. */
int apigw_cb_status_each_state(apr_pool_t *p, const apigw_cb_breaker *b,
                               apigw_cb_table *table,
                               apigw_cb_status_state_fn *fn, void *baton);

/* Calls fn for each state in use in the runtime routes' pool (NULL: none).
 * Returns how many. */
int apigw_cb_status_each_route(apigw_cb_table *pool,
                               apigw_cb_status_state_fn *fn, void *baton);

/* handler: GET answers every breaker's settings and states as JSON. */
int apigw_cb_status_handler(request_rec *r);

#endif
