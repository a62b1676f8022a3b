/* ApiRequestSchema (KrakenD's validation/json-schema), outside view: an
 * endpoint's request bodies must match a JSON Schema. The directive
 * (apigw_reqschema_config.c) compiles the schema at configtest
 * (apigw_schema.c); at fixups, once access control, authentication, rate
 * limits and circuit breakers have let the request through, the body is
 * read into the request's pool, checked, and either refused (400 with
 * the first mismatch, 413 past the bounds) or replayed to whichever
 * reads it next (mod_proxy, or an aggregating endpoint's handler) by an
 * input filter (apigw_reqschema.c). mod_apigw.c registers the hook and
 * the filter; apigw_config.c lists the directive. */
#ifndef APIGW_REQSCHEMA_H
#define APIGW_REQSCHEMA_H

#include "httpd.h"
#include "http_config.h"
#include "util_filter.h"

/* ApiRequestSchema JSON-SCHEMA | file:PATH, inside <ApiEndpoint>. */
const char *apigw_reqschema_set(cmd_parms *cmd, void *dconf,
                                const char *args);

#define APIGW_REQSCHEMA_CMDS \
    AP_INIT_RAW_ARGS("ApiRequestSchema", apigw_reqschema_set, NULL, \
        ACCESS_CONF, "JSON-SCHEMA or file:PATH: request bodies must match " \
        "this JSON Schema (400 otherwise)"),

/* fixups: the body of a request to an endpoint with a schema, checked. */
int apigw_reqschema_fixups(request_rec *r);

/* The input filter that gives a checked body to its next reader. */
apr_status_t apigw_body_replay_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                      ap_input_mode_t mode,
                                      apr_read_type_e block,
                                      apr_off_t readbytes);
extern ap_filter_rec_t *apigw_body_replay_filter_handle;

#endif
