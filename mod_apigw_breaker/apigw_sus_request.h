/* One request to a balancer:// backend, as the suspension half follows it
 * through mod_proxy's hooks (apigw_sus_request.c): its state, and the
 * hooks mod_apigw_breaker.c registers. */
#ifndef APIGW_SUS_REQUEST_H
#define APIGW_SUS_REQUEST_H

#include "apigw_sus_balancer.h"

typedef struct {
    apigw_sus_pool *pool;           /* the balancer of the current attempt */
    proxy_worker *worker;           /* its member, once the exchange is over */
    apr_time_t attempt_start;
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

/* ---- hooks ---- */

/* optional_fn_retrieve: mod_apigw's apigw_endpoint_deadline, if loaded. */
void apigw_sus_request_retrieve_fns(void);
/* fixups: the affinity session's key. */
int apigw_sus_request_fixups(request_rec *r);
/* handler: wraps mod_proxy's (retries, the timeout action). */
int apigw_sus_request_handler(request_rec *r);
/* proxy pre_request: an attempt starts, or mod_proxy failed over. */
int apigw_sus_request_pre_request(proxy_worker **worker,
                                  proxy_balancer **balancer, request_rec *r,
                                  proxy_server_conf *conf, char **url);
/* proxy create_req: the backend connection (reused? its timeout). */
int apigw_sus_request_create_req(request_rec *r, request_rec *rp);
/* proxy post_request: the member mod_proxy_balancer chose. */
int apigw_sus_request_post_request(proxy_worker *worker,
                                   proxy_balancer *balancer, request_rec *r,
                                   proxy_server_conf *conf);
/* proxy request_status: the attempt's outcome. */
int apigw_sus_request_status(int *status, request_rec *r);

#endif
