/* Circuit breakers, one request at a time (apigw_cb_request.c): the hooks
 * mod_apigw_breaker.c registers, and how a breaker's state moves on, for
 * the status page too. */
#ifndef APIGW_CB_REQUEST_H
#define APIGW_CB_REQUEST_H

#include "apigw_cb_config.h"

/* ---- hooks ---- */

/* check_config: the fallback backends' workers. */
int apigw_cb_request_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                  apr_pool_t *ptemp, server_rec *s);
/* child_init: their connection pools. */
void apigw_cb_request_child_init(apr_pool_t *pchild, server_rec *s);
/* fixups: admit, send to the fallback backend, or refuse. */
int apigw_cb_request_fixups(request_rec *r);
/* handler: the refusal. */
int apigw_cb_request_handler(request_rec *r);
/* proxy pre_request: the proxied request is timed, or goes to the
 * fallback backend. */
int apigw_cb_request_pre_request(proxy_worker **worker,
                                 proxy_balancer **balancer, request_rec *r,
                                 proxy_server_conf *conf, char **url);
/* proxy request_status: what mod_proxy concluded. */
int apigw_cb_request_status(int *status, request_rec *r);
/* log_transaction: the outcome into the window. */
int apigw_cb_request_log_transaction(request_rec *r);

/* ---- the state machine's driver ---- */

/* Time transitions and the evaluation that is due, for one state; logs
 * any change it makes. Returns the state word in force. */
apr_uint64_t apigw_cb_advance(server_rec *s, const apigw_cb_breaker *b,
                              apigw_cb_slot *slot, const char *backend,
                              apr_time_t now);

/* The condition over slot's window now: term values into values (b's
 * nterms entries), the request count into *total. */
int apigw_cb_evaluate(const apigw_cb_breaker *b, apigw_cb_slot *slot,
                      apr_time_t now, double *values, apr_uint64_t *total);

#endif
