/* The apigw-health handler: the gateway's liveness and readiness as JSON
 * (docs/guides/operations.md, docs/reference/handlers.md). */
#ifndef APIGW_HEALTH_H
#define APIGW_HEALTH_H

#include "httpd.h"

/* `SetHandler apigw-health`, GET and HEAD only (else 405 with Allow), all
 * answers application/json with Cache-Control: no-store:
 *
 *   <location>        200 {"agents":{},"now":"<RFC 3339 UTC>","status":"ok"}
 *                     (KrakenD's /__health document, byte for byte; agents
 *                     is always empty: the gateway runs no async agents)
 *   <location>/live   200 {"status":"alive","now":"..."}: this child
 *                     answers
 *   <location>/ready  200 (status "ready" or "degraded") or 503 ("unready")
 *                     {"status":..,"now":..,"checks":{"routes":{..},
 *                     "pools":{..}}}: the runtime routes of the request's
 *                     host are served (from the store, or the snapshot:
 *                     degraded), and every balancer:// pool its endpoints
 *                     use has a usable member.
 *
 * /live and /ready are any URL the handler gets whose last segment is that
 * word, after a non-empty prefix. Reads only: the route builder's atomics
 * (apigw_rt_serve_stats) and mod_proxy_balancer's shared member states;
 * allocates from r->pool. */
int apigw_health_handler(request_rec *r);

#endif
