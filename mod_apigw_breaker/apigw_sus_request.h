/* One request to a balancer:// backend, as the suspension half follows it
 * through mod_proxy's hooks. */
#ifndef APIGW_SUS_REQUEST_H
#define APIGW_SUS_REQUEST_H

#include "apigw_sus_balancer.h"

typedef struct {
    apigw_sus_pool *pool;           /* the balancer of the current attempt */
    proxy_worker *worker;           /* its member, once the exchange is over */
    proxy_worker *attempt_worker;   /* its member, from before any I/O */
    apr_time_t attempt_start;
    apr_time_t deadline;            /* 0 until the budget is known */
    apr_uint64_t tried[2];          /* members tried, by index (< 128) */
    proxy_worker *probe;            /* the member this request probes */
    apigw_sus_outcome outcome;      /* the last attempt's */
    apr_uint64_t session_key;       /* 0: no affinity session */
    int reused;                     /* its backend connection was reused */
    int wrapping;                   /* inside our retry loop */
    int failed;                     /* the last attempt failed (member's fault) */
    int unavailable;                /* no member could be chosen */
    int timed_out;                  /* it ended with a read timeout */
} apigw_sus_req;

/* The request's state, or NULL when it is not a balancer request. */
apigw_sus_req *apigw_sus_req_get(request_rec *r);

/* Has this request tried member w already? */
int apigw_sus_req_tried(const apigw_sus_req *st, const proxy_worker *w);

void apigw_sus_request_register_hooks(apr_pool_t *p);

#endif
