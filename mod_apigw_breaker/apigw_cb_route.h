/* Circuit breakers of runtime routes (mod_apigw's, registered through the
 * admin API): the two optional functions of apigw_contract.h that make a
 * route's circuitBreaker a breaker like an ApiCircuitBreaker line's, and
 * hand it to a request; and the slot of its state in the pool of runtime
 * slots (apigw_cb_shm.c makes the pool, apigw_cb_state.c claims in it).
 *
 * A route's breaker is an apigw_cb_breaker like a directive's: the preset
 * or expression, check=, fallback=, recovery= of the route, and the
 * defaults for the rest (status=503, min-requests=10, scope=endpoint, no
 * fallback backend). Its identity is the route's id, its expression and
 * its durations: a route changed in other ways finds its state again, a
 * route whose breaker changed starts in standby. The state is claimed in
 * the pool at the route's first proxied request and aged out when no
 * request used it for APIGW_CB_ROUTE_IDLE_SECS (or taken by another route
 * when the pool is full). Pure but for httpd's headers: APR only. */
#ifndef APIGW_CB_ROUTE_H
#define APIGW_CB_ROUTE_H

#include "apigw_cb_config.h"
#include "apigw_contract.h"

#define APIGW_CB_ROUTE_IDLE_SECS 600
#define APIGW_CB_ROUTE_DEFAULT_SLOTS 256
#define APIGW_CB_ROUTE_MIN_SLOTS 16
#define APIGW_CB_ROUTE_MAX_SLOTS 65536

/* The handle apigw_cb_route_prepare makes. */
typedef struct {
    apigw_cb_breaker breaker;       /* section "runtime route ID", no
                                       file, no slot of its own */
    const char *route_id;
} apigw_cb_route;

/* apigw_cb_route_prepare (apigw_contract.h): spec validated and built
 * into *breaker (an apigw_cb_route) from p; NULL, or the problem, which
 * begins with the field of the admin API at fault:
 * "circuitBreaker.checkSeconds: must be greater than zero",
 * "circuitBreaker.expression: error at position 5 (the end): ...".
 * Touches no shared memory and no static state: any thread, any time. */
const char *apigw_cb_route_prepare(apr_pool_t *p, const char *route_id,
                                   const apigw_rt_breaker *spec,
                                   void **breaker);

/* apigw_cb_route_attach: r is to go through breaker (a handle of
 * apigw_cb_route_prepare) instead of its context's, if any; kept in
 * r->pool's user data. breaker NULL detaches. */
void apigw_cb_route_attach(request_rec *r, void *breaker);

/* The breaker attached to r, or NULL. */
const apigw_cb_route *apigw_cb_route_attached(request_rec *r);

/* The state of route rt in pool at now, found or claimed; NULL without a
 * pool, or when every try lost a race. */
apigw_cb_slot *apigw_cb_route_slot(apigw_cb_table *pool,
                                   const apigw_cb_route *rt, apr_time_t now);

#endif
