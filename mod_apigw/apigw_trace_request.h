/* W3C Trace Context in an endpoint request (apigw_trace_request.c): the
 * trace a request belongs to, the traceparent and tracestate its backend
 * calls carry, the notes the logs read, and the two directives. */
#ifndef APIGW_TRACE_REQUEST_H
#define APIGW_TRACE_REQUEST_H

#include "httpd.h"
#include "http_config.h"

#include "apigw_trace.h"
#include "apigw_trace_export.h"

/* Request notes for LogFormat's %{NAME}n. */
#define APIGW_NOTE_TRACE_ID "apigw-trace-id"
#define APIGW_NOTE_SPAN_ID  "apigw-span-id"
#define APIGW_NOTE_TRACE_SAMPLED "apigw-trace-sampled"

/* The trace of one request. */
typedef struct apigw_trace_state {
    unsigned char trace_id[APIGW_TRACE_ID_LEN];
    unsigned char span_id[APIGW_SPAN_ID_LEN];   /* the gateway's span */
    unsigned char parent_id[APIGW_SPAN_ID_LEN]; /* the client's span; zero
                                                 * when started here */
    unsigned char flags;
    int continued;                 /* from the client's traceparent */
    const char *tracestate;        /* the client's, when valid; else NULL */
    apr_array_header_t *calls;     /* apigw_trace_call_rec, when its spans
                                    * are exported (ApiTraceExport); NULL
                                    * otherwise */
} apigw_trace_state;

/* A backend call's span, for the exporter. */
typedef struct {
    unsigned char span_id[APIGW_SPAN_ID_LEN];
    const char *name;              /* the backend as configured */
    const void *fetch;             /* an aggregated call's apigw_fetch (its
                                    * outcome); NULL: mod_proxy's exchange */
} apigw_trace_call_rec;

/* The request's trace, read from the client's headers (client, before any
 * allow-list) or started; NULL when ApiTraceContext is Off for r's host.
 * Sets the notes above. Call once, at fixups. */
apigw_trace_state *apigw_trace_begin(request_rec *r,
                                     const apr_table_t *client);

/* The traceparent one backend call carries: a new span id, child of the
 * gateway's span, recorded for the exporter with the backend's name (as
 * configured) and, for an aggregated call, its apigw_fetch. */
const char *apigw_trace_call(request_rec *r, apigw_trace_state *t,
                             const char *name, const void *fetch);

/* headers (the table mod_proxy sends) carry the trace: traceparent of a new
 * call span, the valid tracestate or none. Never the client's own. */
void apigw_trace_headers(request_rec *r, apigw_trace_state *t,
                         const char *name, apr_table_t *headers);

/* log_transaction: the spans of an endpoint request whose trace is
 * sampled, queued for ApiTraceExport. */
int apigw_trace_log(request_rec *r);

const char *apigw_trace_set_context(cmd_parms *cmd, void *dconf, int flag);
const char *apigw_trace_set_sample(cmd_parms *cmd, void *dconf,
                                   const char *arg);

#define APIGW_TRACE_CMDS \
    AP_INIT_FLAG("ApiTraceContext", apigw_trace_set_context, NULL, \
        RSRC_CONF, "On (default) continues or starts a W3C trace for each " \
        "endpoint request and passes it to the backends"), \
    AP_INIT_TAKE1("ApiTraceSample", apigw_trace_set_sample, NULL, \
        RSRC_CONF, "the share of traces started here that are sampled, " \
        "0 to 1 (default 1)"), \
    APIGW_TRACE_EXPORT_CMDS

#endif
