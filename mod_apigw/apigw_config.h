/* Configuration of mod_apigw: the structs every concern file shares, the
 * directive table and the create/merge functions. */
#ifndef APIGW_CONFIG_H
#define APIGW_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "mod_proxy.h"

#include "apigw_route.h"
#include "apigw_template.h"
#include "apigw_policy.h"
#include "apigw_parse.h"
#include "apigw_module.h"

APIGW_MODULE_EXPORT extern module AP_MODULE_DECLARE_DATA apigw_module;

#define APIGW_DEFAULT_TIMEOUT apr_time_from_sec(2)

typedef struct apigw_endpoint apigw_endpoint;

/* One ApiBackend line. */
typedef struct {
    const char *url;               /* as written */
    apigw_template *tpl;
    const char *method;            /* NULL: the request's own method */
    apr_table_t *options;          /* every key=value as written */
    int is_balancer;               /* balancer://: mod_proxy_balancer picks */
    int websocket;                 /* ws://, wss:// or upgrade=websocket */
    proxy_worker *worker;          /* direct backends: our pooled worker */
    struct apigw_shape *shape;     /* data manipulation (apigw_merge.h) */
    int shaped;                    /* any manipulation option given */
    const char *name;              /* name=, else group=, else its index */
    int index;                     /* position in the endpoint, from 0 */
    const char *file;
    unsigned line;
} apigw_backend;

/* An allow-list: unset, everything ("*"), or these names. */
typedef struct {
    int set;
    int all;
    apr_array_header_t *names;     /* const char * */
} apigw_allow_list;

/* Per-directory config. Inside <ApiEndpoint> it holds the endpoint's
 * settings; fields start unset so merging across levels is exact. */
typedef struct {
    apr_array_header_t *backends;  /* apigw_backend * */
    apigw_allow_list input_headers;
    apigw_allow_list input_query;
    apr_interval_time_t timeout;
    apr_interval_time_t cache_ttl;
    int timeout_set;
    int cache_ttl_set;
    int disable_rest;              /* -1 unset */
    apr_interval_time_t ws_idle;   /* ApiWebSocketIdleTimeout, 0 unset */
    apr_interval_time_t stream_idle; /* ApiStreamIdleTimeout, 0 unset */
    struct apigw_policy_conf *policy; /* edge policies, apigw_policy.h */
    struct apigw_agg_conf *agg;    /* aggregation settings, apigw_agg_conf.h */
    const struct apigw_schema *request_schema; /* ApiRequestSchema
                                    * (apigw_reqschema*.c), NULL none */
    /* the admin API's GraphQL bounds (ApiGraphQLMax*); 0 unset */
    apr_size_t gql_max_bytes;
    unsigned gql_max_depth;
    unsigned gql_max_fields;
    unsigned gql_max_aliases;
    int error_format;              /* ApiErrorFormat (apigw_error_format),
                                    * 0 unset */
} apigw_dir_conf;

/* {JWT.name} in a backend URL: a claim of the token that authenticated
 * the request (mod_apigw_auth's apigw_auth_claim). */
#define APIGW_CLAIM_VAR_PREFIX "JWT."

struct apigw_endpoint {
    const char *pattern;
    apr_array_header_t *methods;   /* const char *, upper case */
    const char *file;
    unsigned line;
    ap_conf_vector_t *section_config;
    ap_conf_vector_t *foreign_config; /* other modules' part of it, merged
                                    * into each request; NULL if none */
    apigw_dir_conf *conf;          /* this module's part of section_config */
    apr_interval_time_t timeout;   /* in force: endpoint, else server, else 2s */
    apr_interval_time_t ws_idle;   /* in force (apigw_stream.c); 0 default */
    apr_interval_time_t stream_idle;
    const char *cache_control;     /* "public, max-age=N" or NULL */
    int aggregate;                 /* the gateway calls the backends itself
                                    * (apigw_agg.c) instead of mod_proxy */
    int output;                    /* apigw_output_encoding in force */
    int status_from;               /* ApiStatusFrom's backend index or -1 */
    const char *completed_header;  /* "" when off */
    apr_size_t max_backend_body;
    int claim_vars;                /* a backend URL uses {JWT.name}: it is
                                    * expanded at fixups, after auth */
    /* a runtime route's (apigw_rt_compile.c); NULL for <ApiEndpoint>s */
    const char *route_id;
    void *rt_limit;                /* mod_apigw_ratelimit's handle */
    void *rt_breaker;              /* mod_apigw_breaker's handle */
    int metrics_index;             /* apigw_metrics.c's slot + 1; 0 not yet
                                    * numbered (runtime: -1 overflow) */
};

typedef struct {
    apr_array_header_t *endpoints; /* apigw_endpoint *, declared here */
    apigw_route_table *routes;     /* own endpoints, then inherited ones */
    apr_interval_time_t timeout;
    int timeout_set;
    const char *completed_header;  /* ApiCompletedHeader, NULL unset */
    const char *route_store;       /* ApiRouteStore, main server only */
    apr_interval_time_t route_refresh; /* ApiRouteRefresh, 0 unset */
    const char *environment;       /* ApiEnvironment, NULL unset */
    struct apigw_rt_env *rt_env;   /* in a child: the runtime routes it
                                    * serves (apigw_rt_serve.c) */
    apr_off_t max_backend_body;
    int max_backend_body_set;
    apr_interval_time_t ws_idle;   /* ApiWebSocketIdleTimeout, 0 unset */
    apr_interval_time_t stream_idle; /* ApiStreamIdleTimeout, 0 unset */
    int ws_max_per_child;          /* ApiWebSocketMaxPerChild, 0 unset */
    int error_format;              /* ApiErrorFormat (apigw_error_format),
                                    * 0 unset: JSON */
    int redirect_fixed_path;       /* ApiRedirectFixedPath, -1 unset */
    int redirect_trailing_slash;   /* ApiRedirectTrailingSlash, -1 unset */
    const char *openapi_title;     /* ApiOpenApiInfo (apigw_openapi.c), */
    const char *openapi_version;   /* NULL unset */
    int trace_context;             /* ApiTraceContext, -1 unset (On) */
    double trace_sample;           /* ApiTraceSample, < 0 unset (1) */
    const char *trace_export;      /* ApiTraceExport's URL (main server) */
    const char *trace_service;     /* its service=, NULL: mod_apigw */
    int trace_queue;               /* its queue=, 0: the default */
} apigw_server_conf;

extern const command_rec apigw_cmds[];

void *apigw_create_dir_conf(apr_pool_t *p, char *dir);
void *apigw_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *apigw_create_server_conf(apr_pool_t *p, server_rec *s);
void *apigw_merge_server_conf(apr_pool_t *p, void *basev, void *addv);

/* The timeout a server's endpoints use unless they set their own. */
apr_interval_time_t apigw_server_timeout(const apigw_server_conf *sc);

/* The server config a directive of server config or virtual host context
 * sets; NULL and *err when it stands in another context. */
apigw_server_conf *apigw_cmd_server_conf(cmd_parms *cmd, const char **err);

/* Is this directive inside an <ApiEndpoint> section? */
int apigw_cmd_in_endpoint(const cmd_parms *cmd);

/* Is name (case-insensitively for headers) on the list? */
int apigw_allow_list_has(const apigw_allow_list *l, const char *name,
                         int nocase);

#endif
