/* The circuit breakers' status page (apigw_cb_status.c). */
#ifndef APIGW_CB_STATUS_H
#define APIGW_CB_STATUS_H

#include "httpd.h"

/* The handler name of the status page: SetHandler apigw-breaker-status */
#define APIGW_CB_STATUS_HANDLER "apigw-breaker-status"

/* handler: GET answers every breaker's settings and states as JSON. */
int apigw_cb_status_handler(request_rec *r);

#endif
