/* The output filter that gives an error httpd generates itself (401 and
 * 403 from Require, 413 from LimitRequestBody, ...) the gateway's body
 * instead of httpd's HTML page: {"status":N,"error":"..."}, a GraphQL
 * error, or a gRPC status. Each module that shapes errors registers the
 * filter function under a name of its own and adds it at
 * insert_error_filter; the first to add it for a request owns the error
 * (APIGW_NOTE_ERROR_OWNED), so two modules never both reshape one. */
#ifndef APIGW_ERROR_FILTER_H
#define APIGW_ERROR_FILTER_H

#include "httpd.h"
#include "util_filter.h"

/* r->notes: a module already added its error filter for this error. */
#define APIGW_NOTE_ERROR_OWNED "apigw-error-owned"

apr_status_t apigw_error_filter(ap_filter_t *f, apr_bucket_brigade *bb);

/* Adds handle (registered with apigw_error_filter) to r's error response:
 * body as given (JSON), or when NULL the error of r->status (as it is
 * when the body is sent) with message (NULL: the status's reason phrase)
 * in r's ApiErrorFormat (apigw_error_body), or for a gRPC call a gRPC
 * status with no body. Marks r's error owned. */
void apigw_error_filter_add(request_rec *r, ap_filter_rec_t *handle,
                            const char *body, const char *message);

/* Has a module taken r's error already? */
int apigw_error_owned(const request_rec *r);

#endif
