/* gRPC status codes and HTTP statuses, both ways, and grpc-message's
 * percent-encoding (the gRPC over HTTP/2 protocol). Pure functions over
 * APR: the error answers of common/apigw_json_error.c and the outcome
 * the breaker and the suspension judge a gRPC response by use them. */
#ifndef APIGW_GRPC_STATUS_H
#define APIGW_GRPC_STATUS_H

#include <apr_pools.h>

/* Is this Content-Type a gRPC one (application/grpc, +proto, +json,
 * grpc-web)? NULL is not. */
int apigw_grpc_content_type(const char *ctype);

/* The gRPC status a gateway answer of this HTTP status becomes: 429 and
 * 413 RESOURCE_EXHAUSTED, 504 DEADLINE_EXCEEDED, 502/503 UNAVAILABLE,
 * 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404/405/501
 * UNIMPLEMENTED, other 4xx INVALID_ARGUMENT, other 5xx INTERNAL. */
int apigw_grpc_status_for_http(int http_status);

/* The HTTP status a gRPC status counts as, for breakers, suspension and
 * logs: OK 200, UNAVAILABLE 503, DEADLINE_EXCEEDED 504, RESOURCE_EXHAUSTED
 * 429, UNIMPLEMENTED 501, INTERNAL/UNKNOWN/DATA_LOSS 500, CANCELLED 499,
 * UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
 * ALREADY_EXISTS/ABORTED 409, the other client errors 400; a value out of
 * range 500. */
int apigw_http_status_for_grpc(int grpc_status);

/* Parses a grpc-status header value (decimal, 0..99): the code, or -1. */
int apigw_grpc_status_parse(const char *value);

/* message percent-encoded as grpc-message wants it: bytes outside
 * 0x20..0x7E and '%' become %XX. */
const char *apigw_grpc_message_encode(apr_pool_t *p, const char *message);

#endif
