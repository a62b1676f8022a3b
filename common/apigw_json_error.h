/* The JSON error body the mod_apigw modules answer with when they, not a
 * backend, answer a request. */
#ifndef APIGW_JSON_ERROR_H
#define APIGW_JSON_ERROR_H

#include "httpd.h"

/* Sends {"status":N,"error":"message"} as application/json with status N,
 * Cache-Control: no-store (or KrakenD's answer, when r's ApiErrorFormat
 * is krakend: apigw_error_body), and returns OK for a handler to return.
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

/* ApiErrorFormat (mod_apigw's directive): the shape of the answers the
 * gateway gives itself. */
typedef enum {
    APIGW_ERRORS_JSON = 1,          /* {"status":N,"error":"..."} */
    APIGW_ERRORS_KRAKEND,           /* KrakenD's: gin's 404 and 405 texts,
                                     * every other answer empty */
    APIGW_ERRORS_KRAKEND_MESSAGES   /* and, as its router option
                                     * return_error_msg, a failure's text */
} apigw_error_format;

/* r->notes: r's format when it is not JSON, "krakend" or "krakend
 * messages". mod_apigw sets it for every request of a server (or
 * endpoint) whose ApiErrorFormat is krakend (apigw_contract.h). */
#define APIGW_NOTE_ERROR_FORMAT "apigw-error-format"

/* r's format: APIGW_NOTE_ERROR_FORMAT, else JSON. */
apigw_error_format apigw_error_format_of(const request_rec *r);

/* The note's value for a format: "krakend", "krakend messages", or NULL
 * for JSON (no note). */
const char *apigw_error_format_note(apigw_error_format format);

/* The body of the gateway's own answer with status in r's format, from
 * r->pool (possibly ""), and *ctype its Content-Type (NULL: none).
 * KrakenD's: "404 page not found" and "405 method not allowed" as
 * text/plain; with messages a 5xx that is no refusal (apigw_refused)
 * has message as text/plain; charset=utf-8; every other answer is
 * empty, without a type. message NULL: the status's reason phrase. */
const char *apigw_error_body(request_rec *r, int status, const char *message,
                             const char **ctype);

/* Makes r the gateway's own answer with status in r's format: status,
 * Content-Type, Content-Length and, for JSON, Cache-Control: no-store
 * (KrakenD sends none). Returns the body for the caller to send. Not for
 * gRPC calls (apigw_send_error answers those). */
const char *apigw_error_prepare(request_rec *r, int status,
                                const char *message);

/* The reason phrase of a status: "Unauthorized" for 401. */
const char *apigw_status_reason(int status);

#endif
