/* Prometheus metrics of the gateway (SetHandler apigw-metrics; the
 * families and their labels: docs/metrics.md). Counted in one retained
 * shared memory segment made at post_config, so every child adds to the
 * same numbers (relaxed atomics, no lock on the request path):
 *
 *   static endpoints are numbered at post_config (one slot per distinct
 *   pattern, endpoint->metrics_index); runtime routes claim a slot by
 *   (environment, route id, pattern) in a fixed pool with compare-and-
 *   swap the first time a child serves them, and count under one
 *   overflow series once the pool is full;
 *   each slot holds one series set per method (GET, HEAD, POST, PUT,
 *   DELETE, PATCH, OPTIONS, other).
 *
 * The segment outlives a graceful restart when the new configuration
 * numbers the same static patterns in the same order; otherwise it is
 * made afresh (counters start at zero). Requests are recorded at
 * log_transaction, off the response path; the other modules' numbers
 * (members, breakers, rate limits) are read at scrape time through
 * their optional functions (apigw_contract.h). */
#ifndef APIGW_METRICS_H
#define APIGW_METRICS_H

#include "apigw_request.h"

#define APIGW_METRICS_HANDLER "apigw-metrics"
/* runtime routes' slots in the shared segment (the overflow series aside) */
#define APIGW_METRICS_ROUTE_SLOTS 256

/* ApiMetrics On|Off (main server; default On): Off makes no segment,
 * counts nothing and has apigw-metrics answer 404. */
const char *apigw_metrics_set(cmd_parms *cmd, void *dconf, int on);

#define APIGW_METRICS_CMDS \
    AP_INIT_FLAG("ApiMetrics", apigw_metrics_set, NULL, RSRC_CONF, \
        "Off: no request counters, apigw-metrics answers 404 (default " \
        "On)"),

/* post_config: numbers every server's endpoints, makes or keeps the
 * segment. */
int apigw_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s);

/* translate_name, once rq->endpoint is set: the request is in flight
 * (until r->pool ends) and will be counted under that endpoint. */
void apigw_metrics_begin(request_rec *r, apigw_request *rq);

/* log_transaction: counts a request an endpoint served. */
int apigw_metrics_log(request_rec *r);

/* handler: the apigw-metrics scrape. */
int apigw_metrics_handler(request_rec *r);

/* Response cache events (apigw_policy_cache.c). */
typedef enum {
    APIGW_METRICS_CACHE_HIT,
    APIGW_METRICS_CACHE_MISS,
    APIGW_METRICS_CACHE_STORE,
    APIGW_METRICS_CACHE_EVENTS
} apigw_metrics_cache_event;
void apigw_metrics_cache(apigw_metrics_cache_event e);

/* Aggregation (apigw_agg.c): n backend calls made; one answer merged
 * with some backends failed. */
void apigw_metrics_agg_calls(int n);
void apigw_metrics_agg_partial(void);

/* Trace export (apigw_trace_export.c): requests' spans sent, dropped. */
void apigw_metrics_trace(apr_uint64_t exported, apr_uint64_t dropped);

#endif
