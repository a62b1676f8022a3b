/* The JSON error body the mod_apigw modules answer with when they, not a
 * backend, answer a request. */
#ifndef APIGW_JSON_ERROR_H
#define APIGW_JSON_ERROR_H

#include "httpd.h"

/* Sends {"status":N,"error":"message"} as application/json with status N,
 * Cache-Control: no-store, and returns OK for a handler to return. */
int apigw_send_error(request_rec *r, int status, const char *message);

/* The body alone, from r->pool. */
const char *apigw_json_error_body(request_rec *r, int status,
                                  const char *message);

/* The reason phrase of a status: "Unauthorized" for 401. */
const char *apigw_status_reason(int status);

#endif
