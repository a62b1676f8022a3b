/* Aggregating endpoints, outside view: what the core files call of the
 * endpoints whose backends are called by the gateway itself (several
 * backends, data manipulation, output encodings, static data, status from
 * a backend, sequential and concurrent calls, dynamic hosts). The settings
 * themselves are in apigw_agg_conf.h, which only the aggregation files
 * include (it brings jansson). Single-backend pass-through endpoints never
 * come here: they stay on mod_proxy. */
#ifndef APIGW_AGG_H
#define APIGW_AGG_H

#include "apigw_config.h"

struct apigw_agg_conf;           /* apigw_agg_conf.h, aggregation only */

struct apigw_agg_conf *apigw_agg_create(apr_pool_t *p);
struct apigw_agg_conf *apigw_agg_merge(apr_pool_t *p,
                                       const struct apigw_agg_conf *base,
                                       const struct apigw_agg_conf *add);

/* After an endpoint's section is read: decides whether the gateway calls
 * its backends itself (ep->aggregate) and checks the settings against the
 * backends. Returns NULL or a message naming file and line. */
const char *apigw_agg_finish_endpoint(apr_pool_t *p, apigw_endpoint *ep);

/* ApiBackend options this file owns besides the data-manipulation ones:
 * name=. Returns NULL when key is not one of them, else sets it and
 * returns "" or an error message. */
const char *apigw_agg_backend_option(apr_pool_t *p, apigw_backend *be,
                                     const char *key, const char *value);

/* Does this template variable name a field of an earlier response
 * ({resp0_id})? Sets *index to the backend's index. */
int apigw_agg_is_resp_var(const char *name, int *index);

/* Answers an aggregating endpoint's request. */
int apigw_agg_handle(request_rec *r);

/* ApiBackendUserAgent (endpoint, else r->server's; nothing when off) on
 * the headers a backend gets: User-Agent when they carry none (the
 * client's was not forwarded), else X-Forwarded-Via. Aggregating
 * endpoints call it for their libcurl calls, apigw_request.c for
 * mod_proxy pass-through ones. */
void apigw_backend_identify(request_rec *r, const apigw_endpoint *ep,
                            apr_table_t *headers);

/* The ApiBackendUserAgent in force for ep (the endpoint's, else
 * r->server's), or NULL when off. */
const char *apigw_backend_user_agent(const request_rec *r,
                                     const apigw_endpoint *ep);

/* Server-level settings (ApiCompletedHeader, ApiMaxBackendBody outside
 * endpoints) live in apigw_server_conf; these resolve an endpoint's. */
void apigw_agg_resolve(apigw_endpoint *ep, const apigw_server_conf *sc);

#define APIGW_AGG_CMDS \
    AP_INIT_TAKE1("ApiOutputEncoding", apigw_agg_set_output, NULL, ACCESS_CONF, \
        "json, json-collection, xml, yaml, string, negotiate or no-op"), \
    AP_INIT_TAKE1("ApiReturnErrorDetails", apigw_agg_set_error_details, NULL, \
        ACCESS_CONF, "NAME: failed backends' status and body under error_NAME"), \
    AP_INIT_RAW_ARGS("ApiStatusFrom", apigw_agg_set_status_from, NULL, \
        ACCESS_CONF, "BACKEND [headers=A,B]: answer with that backend's status"), \
    AP_INIT_FLAG("ApiSequential", apigw_agg_set_sequential, NULL, ACCESS_CONF, \
        "On calls the backends one after the other ({resp0_field} in URLs)"), \
    AP_INIT_TAKE1("ApiConcurrentCalls", apigw_agg_set_concurrent, NULL, \
        ACCESS_CONF, "N copies of each backend call, the first success wins"), \
    AP_INIT_RAW_ARGS("ApiStatic", apigw_agg_set_static, NULL, ACCESS_CONF, \
        "[strategy=always|success|errored|incomplete|complete] JSON-OBJECT"), \
    AP_INIT_RAW_ARGS("ApiFlatmap", apigw_agg_set_flatmap, NULL, ACCESS_CONF, \
        "[backend=N] move FROM TO | del PATH... | append FROM TO: KrakenD's " \
        "flatmap_filter, on the merged answer or on backend N's response"), \
    AP_INIT_TAKE1("ApiCompletedHeader", apigw_agg_set_completed, NULL, \
        RSRC_CONF | ACCESS_CONF, "the header telling whether all backends " \
        "answered (default X-Apigw-Completed), or off"), \
    AP_INIT_TAKE1("ApiMaxBackendBody", apigw_agg_set_max_body, NULL, \
        RSRC_CONF | ACCESS_CONF, "largest backend body an aggregating " \
        "endpoint reads, e.g. 4M"), \
    AP_INIT_TAKE1("ApiBackendUserAgent", apigw_agg_set_user_agent, NULL, \
        RSRC_CONF | ACCESS_CONF, "the User-Agent backends get when the " \
        "client's is not forwarded (else sent as X-Forwarded-Via), or off"), \
    AP_INIT_FLAG("ApiBackendChunkedBody", apigw_agg_set_chunked_body, NULL, \
        RSRC_CONF | ACCESS_CONF, "On sends the client's body to backends " \
        "chunked, as KrakenD does; Off (default) with Content-Length"), \
    AP_INIT_TAKE1("ApiBackendHost", apigw_agg_set_host, NULL, ACCESS_CONF, \
        "header:NAME or expr:EXPRESSION: the backend host of this request"), \
    AP_INIT_ITERATE("ApiBackendHostAllow", apigw_agg_set_host_allow, NULL, \
        ACCESS_CONF, "the hosts (host or host:port) ApiBackendHost may pick")

const char *apigw_agg_set_output(cmd_parms *cmd, void *dconf, const char *arg);
const char *apigw_agg_set_error_details(cmd_parms *cmd, void *dconf,
                                        const char *arg);
const char *apigw_agg_set_status_from(cmd_parms *cmd, void *dconf,
                                      const char *args);
const char *apigw_agg_set_sequential(cmd_parms *cmd, void *dconf, int flag);
const char *apigw_agg_set_concurrent(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *apigw_agg_set_static(cmd_parms *cmd, void *dconf,
                                 const char *args);
const char *apigw_agg_set_flatmap(cmd_parms *cmd, void *dconf,
                                  const char *args);
const char *apigw_agg_set_completed(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *apigw_agg_set_max_body(cmd_parms *cmd, void *dconf,
                                   const char *arg);
const char *apigw_agg_set_user_agent(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *apigw_agg_set_chunked_body(cmd_parms *cmd, void *dconf,
                                       int flag);
const char *apigw_agg_set_host(cmd_parms *cmd, void *dconf, const char *arg);
const char *apigw_agg_set_host_allow(cmd_parms *cmd, void *dconf,
                                     const char *arg);

#endif
