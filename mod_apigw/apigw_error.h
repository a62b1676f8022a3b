/* The JSON error body the gateway sends when it answers a request itself. */
#ifndef APIGW_ERROR_H
#define APIGW_ERROR_H

#include "httpd.h"

/* Sends {"status":N,"error":"message"} as application/json with status N
 * and returns OK for the handler to return. */
int apigw_send_error(request_rec *r, int status, const char *message);

/* Errors httpd itself answers for an endpoint (401 and 403 from Require,
 * 413 from LimitRequestBody, ...) get the same JSON body instead of
 * httpd's HTML page, through an error filter. */
void apigw_error_register_hooks(apr_pool_t *p);

#endif
