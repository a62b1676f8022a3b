/* The JSON error body the gateway sends when it answers a request itself. */
#ifndef APIGW_ERROR_H
#define APIGW_ERROR_H

#include "httpd.h"

#include "apigw_json_error.h"   /* apigw_send_error */

/* Errors httpd itself answers for an endpoint (401 and 403 from Require,
 * 413 from LimitRequestBody, ...) get the same JSON body instead of
 * httpd's HTML page, through an error filter. */
void apigw_error_register_hooks(apr_pool_t *p);

#endif
