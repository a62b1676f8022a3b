/* httpd's own error responses for endpoint requests, in JSON (the filter
 * and its insert_error_filter hook, registered by mod_apigw.c). */
#ifndef APIGW_ERROR_H
#define APIGW_ERROR_H

#include "httpd.h"
#include "util_filter.h"

#include "apigw_json_error.h"   /* apigw_send_error */
#include "apigw_error_filter.h"  /* apigw_error_filter */

/* Errors httpd itself answers for an endpoint (401 and 403 from Require,
 * 413 from LimitRequestBody, ...) get the same JSON body instead of
 * httpd's HTML page, through an error filter. */
void apigw_error_insert_filter(request_rec *r);
extern ap_filter_rec_t *apigw_json_error_filter_handle;

#endif
