/* Aggregating endpoints, inside view: the settings an endpoint's
 * aggregation directives fill (apigw_agg_config.c) and its handler reads
 * (apigw_agg.c). Only the aggregation files include this header: it
 * brings jansson and the output encodings. */
#ifndef APIGW_AGG_CONF_H
#define APIGW_AGG_CONF_H

#include "apigw_agg.h"
#include "apigw_encode.h"
#include "apigw_static.h"
#include "apigw_flatmap.h"
#include "ap_expr.h"

#include <jansson.h>

#define APIGW_DEFAULT_COMPLETED_HEADER "X-Apigw-Completed"
#define APIGW_DEFAULT_MAX_BACKEND_BODY (4 * 1024 * 1024)

/* One ApiFlatmap line. */
typedef struct {
    const char *backend;           /* backend=, or NULL: the merged answer */
    const apigw_flatmap *ops;      /* its one operation */
    const char *file;
    unsigned line;
} apigw_agg_flatmap;

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
    apr_array_header_t *flatmaps;  /* apigw_agg_flatmap, every ApiFlatmap
                                    * line in order; NULL if none */
    apigw_flatmap *flatmap;        /* those without backend=, for the
                                    * merged answer; NULL if none */
    const char *backend_ua;        /* ApiBackendUserAgent: NULL unset, ""
                                    * off; outside endpoints it is kept in
                                    * the server's lookup_defaults */
    int chunked_body;              /* ApiBackendChunkedBody: -1 unset, 0
                                    * Off, 1 On; kept as backend_ua is */
};

#endif
