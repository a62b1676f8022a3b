/* The JSON error body the gateway sends when it answers a request itself. */
#ifndef APIGW_ERROR_H
#define APIGW_ERROR_H

#include "httpd.h"

/* Sends {"status":N,"error":"message"} as application/json with status N
 * and returns OK for the handler to return. */
int apigw_send_error(request_rec *r, int status, const char *message);

#endif
