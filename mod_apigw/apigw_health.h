/* The apigw-health handler: the gateway's liveness as JSON. */
#ifndef APIGW_HEALTH_H
#define APIGW_HEALTH_H

#include "httpd.h"

/* `SetHandler apigw-health`: GET/HEAD answer 200
 * {"agents":{},"now":"<RFC 3339 UTC>","status":"ok"} (KrakenD's
 * /__health document; agents is always empty: the gateway runs no async
 * agents). */
int apigw_health_handler(request_rec *r);

#endif
