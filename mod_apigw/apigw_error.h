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
 * httpd's HTML page, through an error filter; with ApiErrorFormat
 * krakend, KrakenD's answer instead, and a host's own 404 too. */
void apigw_error_insert_filter(request_rec *r);
extern ap_filter_rec_t *apigw_json_error_filter_handle;

struct apigw_endpoint;

/* post_read_request: r's server's ApiErrorFormat, when it is not JSON, in
 * the note every module's error answers read (APIGW_NOTE_ERROR_FORMAT). */
int apigw_error_post_read_request(request_rec *r);

/* An endpoint's own ApiErrorFormat, when it has one, in place of its
 * server's: called once r is known to be ep's (also for a 405 or a
 * refused preflight on ep's path). */
void apigw_error_format_endpoint(request_rec *r,
                                 const struct apigw_endpoint *ep);

#endif
