/* The JSON error body the mod_apigw modules answer with when they, not a
 * backend, answer a request. */
#ifndef APIGW_JSON_ERROR_H
#define APIGW_JSON_ERROR_H

#include "httpd.h"

/* Sends {"status":N,"error":"message"} as application/json with status N,
 * Cache-Control: no-store, and returns OK for a handler to return.
 * A gRPC call (apigw_error_for_grpc) gets its error the way gRPC
 * clients read one instead: 200, application/grpc, no body, grpc-status
 * (common/apigw_grpc_status.h) and grpc-message headers, and N in the
 * note APIGW_NOTE_STATUS for the log and the other modules. */
int apigw_send_error(request_rec *r, int status, const char *message);

/* Is r a gRPC call (a POST with a gRPC Content-Type)? */
int apigw_error_for_grpc(const request_rec *r);

/* The gRPC error's headers alone (see apigw_send_error). */
void apigw_grpc_error_headers(request_rec *r, int status, const char *message);

/* r->notes: the HTTP status a gateway answer reshaped for gRPC stands
 * for; and the grpc-status a gRPC response ended with (apigw_stream.c). */
#define APIGW_NOTE_STATUS      "apigw-status"
#define APIGW_NOTE_GRPC_STATUS "apigw-grpc-status"

/* The HTTP status r's outcome counts as, for breakers, suspension and
 * logs: APIGW_NOTE_STATUS, else a gRPC response's grpc-status
 * (APIGW_NOTE_GRPC_STATUS) as an HTTP status, else r->status. */
int apigw_outcome_status(const request_rec *r);

/* The body alone, from r->pool. */
const char *apigw_json_error_body(request_rec *r, int status,
                                  const char *message);

/* The reason phrase of a status: "Unauthorized" for 401. */
const char *apigw_status_reason(int status);

#endif
