/* Aggregating endpoints, inside view: the settings an endpoint's
 * aggregation directives fill (apigw_agg_config.c) and its handler reads
 * (apigw_agg.c). Only the aggregation files include this header: it
 * brings jansson and the output encodings. */
#ifndef APIGW_AGG_CONF_H
#define APIGW_AGG_CONF_H

#include "apigw_agg.h"
#include "apigw_encode.h"
#include "apigw_static.h"
#include "ap_expr.h"

#include <jansson.h>

#define APIGW_DEFAULT_COMPLETED_HEADER "X-Apigw-Completed"
#define APIGW_DEFAULT_MAX_BACKEND_BODY (4 * 1024 * 1024)

typedef enum {
    APIGW_HOST_NONE = 0,
    APIGW_HOST_HEADER,
    APIGW_HOST_EXPR
} apigw_host_source;

struct apigw_agg_conf {
    int output_set;
    apigw_output_encoding output;
    const char *error_details;     /* ApiReturnErrorDetails NAME, or NULL */
    const char *status_from;       /* a backend's name, or NULL */
    apr_array_header_t *status_headers; /* const char *, to copy */
    int sequential;                /* -1 unset */
    int concurrent_calls;          /* 0 unset */
    apr_array_header_t *statics;   /* apigw_static */
    const char *completed_header;  /* NULL: the server's */
    int max_body_set;
    apr_off_t max_body;
    apigw_host_source host_source;
    const char *host_header;
    ap_expr_info_t *host_expr;
    apr_array_header_t *host_allow; /* const char *, "host" or "host:port" */
};

#endif
