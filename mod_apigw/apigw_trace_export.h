/* Spans sent to an OpenTelemetry collector as OTLP/HTTP JSON
 * (apigw_trace_export.c): ApiTraceExport, a bounded queue per child
 * filled at log_transaction and emptied by one thread per child. */
#ifndef APIGW_TRACE_EXPORT_H
#define APIGW_TRACE_EXPORT_H

#include "httpd.h"
#include "http_config.h"

/* Whether spans are exported (ApiTraceExport on the main server). */
int apigw_trace_export_on(void);

/* Queues one request's spans, text of OTLP span objects joined by ','
 * (copied). 0 when the queue is full: the spans are dropped, counted. */
int apigw_trace_export_push(const char *spans, apr_size_t len);

/* This child's counts since it started. */
void apigw_trace_export_counts(apr_uint64_t *exported, apr_uint64_t *dropped);

/* post_config: what ApiTraceExport says, for every child. */
void apigw_trace_export_post_config(server_rec *s);

/* child_init, after libcurl's global init (apigw_fetch_child_init). */
void apigw_trace_export_child_init(apr_pool_t *pchild, server_rec *s);

const char *apigw_trace_set_export(cmd_parms *cmd, void *dconf,
                                   const char *args);

#define APIGW_TRACE_EXPORT_CMDS \
    AP_INIT_RAW_ARGS("ApiTraceExport", apigw_trace_set_export, NULL, \
        RSRC_CONF, "ApiTraceExport URL [service=NAME] [queue=N]: sampled " \
        "spans sent to an OTLP/HTTP collector, e.g. " \
        "http://127.0.0.1:4318/v1/traces"),

#endif
