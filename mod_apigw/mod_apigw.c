/* mod_apigw: API endpoints in httpd.conf. This file is the table of
 * contents: the module record, every hook, filter and optional function
 * of the module registered in one place, and which file owns each.
 *
 * Files:
 *   apigw_config.c            <ApiEndpoint>, the core Api* directives,
 *                             create/merge
 *   apigw_route.c             the route table, redirect candidates
 *                             (pure)
 *   apigw_template.c          backend URL templates and escaping (pure)
 *   apigw_query.c             query-string allow- and deny-lists (pure)
 *   apigw_backend.c           pooled workers, mod_proxy hooks, timeouts
 *   apigw_request.c           an endpoint through the request phases, its
 *                             deadline
 *   apigw_stream.c            WebSocket handshakes and tunnels, streaming
 *                             responses' idle timeouts
 *   apigw_error.c             httpd's own errors as JSON; the request's
 *                             ApiErrorFormat (json or krakend)
 *   apigw_agg*.c              aggregating endpoints: directives, handler
 *   apigw_static.c           ApiStatic data, when it applies (pure)
 *   apigw_flatmap.c           ApiFlatmap: KrakenD's flatmap_filter (pure)
 *   apigw_fetch.c             their backend calls (libcurl)
 *   apigw_merge.c, apigw_encode*.c, apigw_decode*.c
 *                             their data: merging, output and input formats
 *   apigw_policy_config.c     edge-policy directives, create/merge
 *   apigw_policy_validate.c   edge-policy validation (directives, admin API)
 *   apigw_policy_effective.c  each endpoint's effective policy
 *   apigw_policy_hooks.c      edge policies in the request phases
 *   apigw_policy_{cors,headers,rewrite,limits,cache,origin}.c
 *                             each policy's own work
 *   apigw_policy_bots.c       bot detection: User-Agent lists, patterns
 *   apigw_reqschema*.c        ApiRequestSchema: the directive, request
 *                             bodies checked and replayed
 *   apigw_schema.c            JSON Schema validation (pure)
 *   apigw_rt_model*.c         runtime routes as data: JSON, validation
 *   apigw_route_store.c       runtime routes' store (apr_dbd)
 *   apigw_health.c            the apigw-health handler (liveness,
 *                             readiness)
 *   apigw_openapi.c           the apigw-openapi handler (OpenAPI 3.1)
 *   apigw_metrics.c           the apigw-metrics handler, the counters in
 *                             shared memory (apigw_metrics_text.c: the
 *                             exposition text, pure)
 *   apigw_trace.c             W3C Trace Context headers read and written
 *                             (pure)
 *   apigw_trace_request.c     the trace of an endpoint request and its
 *                             backend calls; ApiTraceContext, ApiTraceSample
 *   apigw_trace_export.c      ApiTraceExport: spans to an OTLP/HTTP
 *                             collector (a queue and a thread per child)
 *   apigw_log_json.c          %{NAME}J: notes and fields as JSON values
 *                             for LogFormat (mod_log_config)
 *   apigw_admin.c             the management API's HTTP side and REST
 *                             resources (apigw-admin)
 *   apigw_admin_ops.c         its operations, shared by REST and GraphQL
 *   apigw_admin_graphql.c     its GraphQL resource: resolvers, bounds
 *   apigw_gql_parse.c, apigw_gql_{schema,validate,exec,introspect}.c
 *                             GraphQL itself: parser, executor (pure)
 *   apigw_console.c           the console's files (built in), and
 *                             the GraphQL schema (console/schema.graphql)
 *   apigw_rt_table.c          a runtime route table: shards, lock-free
 *                             hand-over to requests
 *   apigw_rt_compile.c        a runtime route as an endpoint
 *   apigw_rt_serve.c          runtime routes served: each child's builder,
 *                             the shared generation, the store poller; the
 *                             store's API keys loaded
 *   apigw_apikeys_table.c     those keys published to requests (pure)
 *
 * Hooks, in the order a server and a request meet them:
 *   pre_config          apigw_policy_cache.c      the cache's mutex type
 *                       apigw_log_json.c          %{NAME}J for LogFormat
 *   check_config        apigw_admin.c             an unguarded admin API
 *                       apigw_backend.c           timeouts, workers,
 *                                                 balancers
 *                       apigw_policy_effective.c  effective policies, the
 *                                                 cache's store
 *   post_config         apigw_admin.c             where the route store is,
 *                                                 the GraphQL schema
 *                       apigw_rt_serve.c          the shared generation, the
 *                                                 store poller (watchdog)
 *                       apigw_policy_cache.c      the cache's store, mutex
 *                       apigw_metrics.c           endpoints numbered, the
 *                                                 counters' shared memory
 *   optional_fn_retrieve apigw_request.c          mod_apigw_auth's claims
 *   post_read_request   apigw_error.c             the server's
 *                                                 ApiErrorFormat, as the
 *                                                 note every module's
 *                                                 error answers read (an
 *                                                 endpoint's: at its
 *                                                 match, translate_name)
 *   child_init          apigw_backend.c           worker pools, curl
 *                       apigw_trace_export.c      the span exporter
 *                       apigw_stream.c            the WebSocket bound
 *                       apigw_policy_cache.c      the cache's mutex
 *                       apigw_admin_ops.c         the route store's mutex
 *                       apigw_rt_serve.c          route tables, their builder
 *   translate_name      apigw_policy_hooks.c      CORS preflights (the bot
 *                                                 policy first)
 *                       apigw_request.c           route match (static, then
 *                                                 runtime), a WebSocket
 *                                                 handshake, backend URL;
 *                                                 ApiRedirect* redirects
 *   map_to_storage      apigw_request.c           no filesystem walk
 *   post_perdir_config  apigw_request.c           the endpoint's section
 *   header_parser       apigw_policy_hooks.c      bot policy, deny-list, CORS
 *                                                 passthrough
 *   fixups              apigw_request.c           {JWT.name} URLs expanded,
 *                                                 header allow-list
 *                       apigw_reqschema.c         ApiRequestSchema (after
 *                                                 limits and breakers,
 *                                                 before the cache lookup)
 *                       apigw_policy_hooks.c      header rules, body limit
 *                                                 (aggregating), cache lookup
 *   insert_filter       apigw_policy_hooks.c      the policy output filter
 *   insert_error_filter apigw_error.c             error bodies: JSON or
 *                                                 ApiErrorFormat krakend
 *                                                 (GraphQL errors on
 *                                                 graphql)
 *                       apigw_policy_hooks.c      the policy output filter
 *   handler             apigw_policy_cache.c      cache hits
 *                       apigw_request.c           mod_proxy or aggregation
 *                                                 (a WebSocket's slot and
 *                                                 timeouts: apigw_stream.c)
 *                       apigw_admin.c             apigw-admin (REST,
 *                                                 GraphQL, console)
 *                       apigw_health.c            apigw-health
 *                       apigw_openapi.c           apigw-openapi
 *                       apigw_metrics.c           apigw-metrics
 *   log_transaction     apigw_metrics.c           an endpoint's request
 *                                                 counted (in flight from
 *                                                 its match, translate_name)
 *                       apigw_trace_request.c     its spans queued for
 *                                                 ApiTraceExport
 *   proxy pre_request   apigw_backend.c           the endpoint's worker
 *   proxy create_req    apigw_backend.c           status line (a 101),
 *                                                 deadline, the socket for
 *                                                 apigw_stream.c's filter
 *
 * Optional functions, for the other modules (common/apigw_contract.h):
 * apigw_endpoint_deadline (apigw_request.c), apigw_store_apikey_find
 * (apigw_rt_serve.c: the route store's API keys, for mod_apigw_auth's
 * ApiKeyStore). */
#include "apigw_config.h"
#include "apigw_backend.h"
#include "apigw_request.h"
#include "apigw_error.h"
#include "apigw_policy.h"
#include "apigw_policy_conf.h"
#include "apigw_contract.h"
#include "apigw_admin.h"
#include "apigw_health.h"
#include "apigw_openapi.h"
#include "apigw_metrics.h"
#include "apigw_rt_serve.h"
#include "apigw_stream.h"
#include "apigw_reqschema.h"
#include "apigw_log_json.h"
#include "apigw_trace_request.h"
#include "apigw_module.h"

#include "apr_optional_hooks.h"

static int apigw_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    apigw_cache_pre_config(pconf);
    apigw_log_json_register(pconf);
    return OK;
}

/* Backends before policies: they resolve each endpoint's timeout. */
static int apigw_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    /* the admin API's locations first: they mean runtime routes */
    if (apigw_admin_check_config(pconf, s) != OK
        || apigw_backends_prepare(pconf, s) != OK) {
        return !OK;
    }
    return apigw_policy_check_config(pconf, s, apigw_rt_serve_wanted(s,
                                     apigw_admin_in_use()));
}

static int apigw_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    apigw_trace_export_post_config(s);
    if (apigw_admin_post_config(pconf, s) != OK
        || apigw_rt_serve_post_config(pconf, s, apigw_admin_store_spec(),
                                      apigw_admin_in_use()) != OK) {
        return !OK;
    }
    return apigw_cache_post_config(pconf, ptemp, s, apigw_policy_cache_used());
}

static void apigw_child_init(apr_pool_t *pchild, server_rec *s)
{
    apigw_backends_child_init(pchild, s);
    apigw_trace_export_child_init(pchild, s);   /* after libcurl's init */
    apigw_stream_child_init(pchild, s);
    apigw_cache_child_init(pchild, s);
    apigw_admin_child_init(pchild, s);
    apigw_rt_serve_child_init(pchild, s);
}

static void apigw_register_filters(void)
{
    /* the status line is read from the protocol filters */
    apigw_status_line_filter_handle =
        ap_register_input_filter("APIGW_STATUS_LINE", apigw_status_line_filter,
                                 NULL, AP_FTYPE_PROTOCOL);
    apigw_body_limit_filter_handle =
        ap_register_input_filter("APIGW_BODY_LIMIT", apigw_body_limit_filter,
                                 NULL, AP_FTYPE_RESOURCE);
    apigw_body_replay_filter_handle =
        ap_register_input_filter("APIGW_BODY_REPLAY",
                                 apigw_body_replay_filter, NULL,
                                 AP_FTYPE_RESOURCE);
    apigw_cache_control_filter_handle =
        ap_register_output_filter("APIGW_CACHE_CONTROL",
                                  apigw_cache_control_filter, NULL,
                                  AP_FTYPE_CONTENT_SET);
    apigw_stream_filter_handle =
        ap_register_output_filter("APIGW_STREAM", apigw_stream_filter, NULL,
                                  AP_FTYPE_CONTENT_SET);
    apigw_json_error_filter_handle =
        ap_register_output_filter("APIGW_JSON_ERROR", apigw_error_filter,
                                  NULL, AP_FTYPE_CONTENT_SET);
    apigw_policy_filter_handle =
        ap_register_output_filter("APIGW_POLICY_OUT", apigw_policy_out_filter,
                                  NULL, AP_FTYPE_RESOURCE);
    apigw_cache_status_filter_handle =
        ap_register_output_filter("APIGW_CACHE_STATUS",
                                  apigw_cache_status_filter, NULL,
                                  AP_FTYPE_RESOURCE);
}

static void apigw_register_hooks(apr_pool_t *p)
{
    /* the route match runs after mod_rewrite and before mod_proxy's and
     * mod_alias's own translation; a CORS preflight is answered just
     * before it */
    static const char *const after_rewrite[] = { "mod_rewrite.c", NULL };
    static const char *const before_proxy[] = { "mod_proxy.c", "mod_alias.c",
                                                NULL };
    /* RequestHeader lines of the operator still reach the backend */
    static const char *const before_headers[] = { "mod_headers.c", NULL };
    /* mod_proxy's handler takes any request with a proxy: filename */
    static const char *const before_proxy_handler[] = { "mod_proxy.c", NULL };

    (void)p;
    ap_hook_pre_config(apigw_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(apigw_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(apigw_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(apigw_metrics_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_child_init, NULL, NULL, APR_HOOK_MIDDLE);

    /* first: every later phase's error answers read the format */
    ap_hook_post_read_request(apigw_error_post_read_request, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_translate_name(apigw_policy_translate, after_rewrite, NULL,
                           APR_HOOK_FIRST - 1);
    ap_hook_translate_name(apigw_request_translate, after_rewrite,
                           before_proxy, APR_HOOK_FIRST);
    ap_hook_map_to_storage(apigw_request_map_to_storage, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_post_perdir_config(apigw_request_post_perdir_config, NULL, NULL,
                               APR_HOOK_MIDDLE);
    ap_hook_header_parser(apigw_policy_header_parser, NULL, NULL,
                          APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(apigw_request_retrieve_optional_fns, NULL,
                                 NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(apigw_request_fixups, NULL, before_headers,
                   APR_HOOK_MIDDLE);
    /* after the allow-list and the rate limiter (MIDDLE); a request body
     * is checked against its schema before the cache is looked up */
    ap_hook_fixups(apigw_reqschema_fixups, NULL, NULL, APR_HOOK_LAST - 1);
    ap_hook_fixups(apigw_policy_fixups, NULL, NULL, APR_HOOK_LAST);
    ap_hook_insert_filter(apigw_policy_insert_filter, NULL, NULL,
                          APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(apigw_error_insert_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(apigw_policy_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_handler(apigw_cache_handler, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_handler(apigw_request_handler, NULL, before_proxy_handler,
                    APR_HOOK_FIRST);
    ap_hook_handler(apigw_admin_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(apigw_health_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(apigw_openapi_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(apigw_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* off the response path: the client has its answer */
    ap_hook_log_transaction(apigw_metrics_log, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(apigw_trace_log, NULL, NULL, APR_HOOK_MIDDLE);

    proxy_hook_pre_request(apigw_backend_pre_request, NULL, NULL,
                           APR_HOOK_FIRST);
    APR_OPTIONAL_HOOK(proxy, create_req, apigw_backend_create_req, NULL, NULL,
                      APR_HOOK_MIDDLE);

    APR_REGISTER_OPTIONAL_FN(apigw_endpoint_deadline);
    APR_REGISTER_OPTIONAL_FN(apigw_store_apikey_find);
    apigw_register_filters();
}

APIGW_MODULE_EXPORT AP_DECLARE_MODULE(apigw) = {
    STANDARD20_MODULE_STUFF,
    apigw_create_dir_conf,
    apigw_merge_dir_conf,
    apigw_create_server_conf,
    apigw_merge_server_conf,
    apigw_cmds,
    apigw_register_hooks
};
