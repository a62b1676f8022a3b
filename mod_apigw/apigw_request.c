/* One request through an endpoint, phase by phase:
 *
 *   translate_name      match method+path (<ApiEndpoint>s first, then
 *                       runtime routes, apigw_rt_serve.c, whose rate
 *                       limit and breaker are handed to their modules),
 *                       or redirect a request no endpoint serves
 *                       (ApiRedirectTrailingSlash, ApiRedirectFixedPath),
 *                       check a WebSocket handshake (apigw_stream.c),
 *                       expand the backend URL, hand the request to
 *                       mod_proxy (proxy:URL, proxy-nocanon); an
 *                       aggregating endpoint keeps it (apigw_agg.c); a
 *                       URL with {JWT.name} waits for fixups
 *   map_to_storage      the gateway's own answers skip the filesystem walk
 *   post_perdir_config  merge the <ApiEndpoint> section over <Location>
 *                       and <Proxy>, before httpd's access checks
 *   fixups              the {JWT.name} variables from the token that
 *                       authenticated the request (mod_apigw_auth), the
 *                       URL expanded with them; the request's trace
 *                       (apigw_trace_request.c); forward only
 *                       allow-listed client headers (and a WebSocket
 *                       handshake's own), and the trace
 *   handler             enforce the request body limit (httpd skips
 *                       LimitRequestBody for proxied requests; see
 *                       apigw_policy_limits.c), take a WebSocket's tunnel
 *                       slot, add apigw_stream.c's filter, run mod_proxy's
 *                       handler through apigw_proxy_handler_run and answer
 *                       its errors in JSON (504 on timeout, 502 when
 *                       unreachable; a gRPC status to a gRPC call); an
 *                       aggregating endpoint's handler
 *   output filter       Cache-Control from ApiCacheTTL on 2xx responses
 *
 * It also owns an endpoint request's deadline, apigw_endpoint_deadline
 * (the optional function of common/apigw_contract.h). */
#include "apigw_request.h"
#include "apigw_agg.h"
#include "apigw_error.h"
#include "apigw_query.h"
#include "apigw_contract.h"
#include "apigw_rt_serve.h"
#include "apigw_route_store.h"
#include "apigw_stream.h"
#include "apigw_trace_request.h"
#include "apigw_metrics.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);


/* Kept at registration (mod_apigw.c): adding a filter by name costs a
 * lookup. */
ap_filter_rec_t *apigw_cache_control_filter_handle;

/* Headers kept whatever ApiInputHeaders says: those that describe the
 * body (without them it could not be read), Host (mod_proxy derives
 * X-Forwarded-Host from it and replaces it for the backend) and the
 * hop-by-hop ones httpd itself needs for the client connection's
 * keep-alive; mod_proxy strips the hop-by-hop ones before forwarding. */
typedef struct {
    const char *name;
    apr_size_t len;
} header_name;

#define HEADER_NAME(s) { s, sizeof(s) - 1 }
static const header_name always_kept[] = {
    HEADER_NAME("Content-Length"), HEADER_NAME("Content-Type"),
    HEADER_NAME("Content-Encoding"), HEADER_NAME("Transfer-Encoding"),
    HEADER_NAME("Expect"), HEADER_NAME("Host"), HEADER_NAME("Connection"),
    HEADER_NAME("Keep-Alive"), HEADER_NAME("TE"), HEADER_NAME("Upgrade"),
    { NULL, 0 }
};

apigw_request *apigw_request_get(const request_rec *r)
{
    return ap_get_module_config(r->request_config, &apigw_module);
}

static apigw_request *request_new(request_rec *r)
{
    apigw_request *rq = apr_pcalloc(r->pool, sizeof(*rq));
    ap_set_module_config(r->request_config, &apigw_module, rq);
    return rq;
}

static int answer_self(request_rec *r, apigw_request *rq, int status,
                       const char *message)
{
    rq->error_status = status;
    rq->error_message = message;
    r->handler = APIGW_HANDLER;
    r->filename = apr_pstrcat(r->pool, "apigw:", r->uri, NULL);
    return OK;
}

/* Static endpoints first: they always win. A path a static endpoint has
 * with other methods may still be a runtime route's with this one. */
static apigw_route_status match(request_rec *r, const apigw_server_conf *sc,
                                apigw_route_match *m)
{
    apigw_route_status st = apigw_route_match_path(sc->routes, r->uri,
                                                   r->method, r->pool, m);
    apigw_route_match rm;

    if (st == APIGW_ROUTE_FOUND) {
        return st;
    }
    switch (apigw_rt_serve_match(r, r->method, &rm)) {
    case APIGW_ROUTE_FOUND:
        *m = rm;
        return APIGW_ROUTE_FOUND;
    case APIGW_ROUTE_NO_METHOD:
        if (st == APIGW_ROUTE_NONE) {
            *m = rm;
            return APIGW_ROUTE_NO_METHOD;
        }
        return st;
    case APIGW_ROUTE_NONE:
        break;
    }
    return st;
}

/* Expands the endpoint's backend URL with vars and hands r to mod_proxy
 * (proxy:URL, proxy-nocanon), or has the gateway answer a value that
 * cannot be sent. */
static int backend_url(request_rec *r, apigw_request *rq,
                       const apr_array_header_t *vars, const char *query)
{
    const apigw_endpoint *ep = rq->endpoint;
    const apigw_backend *be;
    const char *url, *bad;
    int status;

    be = rq->backend = APR_ARRAY_IDX(ep->conf->backends, 0, apigw_backend *);
    switch (apigw_template_expand(be->tpl, vars, query, r->pool, &url,
                                  &bad)) {
    case APIGW_EXPAND_OK:
        break;
    case APIGW_EXPAND_NOT_FOUND:
        rq->endpoint = NULL;
        return answer_self(r, rq, HTTP_NOT_FOUND, apr_psprintf(r->pool,
                           "no resource has that {%s}", bad));
    case APIGW_EXPAND_BAD_REQUEST:
        rq->endpoint = NULL;
        return answer_self(r, rq, HTTP_BAD_REQUEST, apr_psprintf(r->pool,
                           "{%s} holds a control character", bad));
    }
    /* edge policies: path rewrite, query deny-list */
    if (!(url = apigw_policy_backend_url(r, ep, url, &status))) {
        rq->endpoint = NULL;
        return answer_self(r, rq, status, status == HTTP_NOT_FOUND
                           ? "no resource has that path"
                           : "the backend path cannot be rewritten");
    }
    r->filename = apr_pstrcat(r->pool, "proxy:", url, NULL);
    r->proxyreq = PROXYREQ_REVERSE;
    r->handler = APIGW_HANDLER;
    apr_table_setn(r->notes, "proxy-nocanon", "1");
    /* the expanded URL may hold secrets from the path or query: log the
     * backend as configured */
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                  "endpoint %s matched, backend %s", ep->pattern, be->url);
    return OK;
}

/* ApiRedirectTrailingSlash, then ApiRedirectFixedPath, as Gin has them:
 * a request no endpoint serves is sent to the path an <ApiEndpoint> of
 * its method would serve, with its trailing slash toggled, else cleaned
 * and its static text compared case-insensitively; 301 for GET, 307
 * for any other method (HEAD too), the query kept. The Location is a
 * path of this host, escaped; never one starting "//" or "/\" (another
 * host to a browser). Returns the status, or 0: no redirect. */
static int redirect(request_rec *r, const apigw_server_conf *sc)
{
    const char *path = NULL, *loc, *c;
    apigw_route_match m;

    if ((sc->redirect_trailing_slash != 1 && sc->redirect_fixed_path != 1)
        || r->main || r->prev || r->method_number == M_CONNECT
        || strcmp(r->uri, "/") == 0) {
        return 0;
    }
    if (sc->redirect_trailing_slash == 1) {
        path = apigw_route_toggle_slash(r->pool, r->uri);
        if (path && apigw_route_match_path(sc->routes, path, r->method,
                                           r->pool, &m)
                    != APIGW_ROUTE_FOUND) {
            path = NULL;
        }
    }
    if (!path && sc->redirect_fixed_path == 1) {
        path = apigw_route_fix_path(sc->routes, r->uri, r->method, r->pool);
        /* what the walk found is checked as a request would be */
        if (path && apigw_route_match_path(sc->routes, path, r->method,
                                           r->pool, &m)
                    != APIGW_ROUTE_FOUND) {
            path = NULL;
        }
    }
    if (!path || strcmp(path, r->uri) == 0) {
        return 0;
    }
    loc = ap_escape_uri(r->pool, path);
    if (loc[0] != '/' || loc[1] == '/' || loc[1] == '\\') {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00121)
                      "no redirect to %s: it would name another host",
                      ap_escape_logitem(r->pool, loc));
        return 0;
    }
    if (r->args && *r->args) {
        for (c = r->args; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                return 0;          /* not for a header: no redirect */
            }
        }
        loc = apr_pstrcat(r->pool, loc, "?", r->args, NULL);
    }
    apr_table_setn(r->headers_out, "Location", loc);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00120)
                  "%s %s redirected to %s", r->method,
                  ap_escape_logitem(r->pool, r->uri),
                  ap_escape_logitem(r->pool, path));
    return strcmp(r->method, "GET") == 0 ? HTTP_MOVED_PERMANENTLY
                                         : HTTP_TEMPORARY_REDIRECT;
}

/* What the logs may say of the endpoint (LogFormat %{apigw-endpoint}n,
 * ...): its pattern, a runtime route's id and environment, and its
 * backends as configured (never the expanded URL: a path or query may
 * hold what must not be logged). */
static void note_endpoint(request_rec *r, const apigw_endpoint *ep)
{
    int i;

    apr_table_setn(r->notes, APIGW_NOTE_ENDPOINT, ep->pattern);
    if (ep->route_id) {
        const apigw_server_conf *sc = ap_get_module_config(
            r->server->module_config, &apigw_module);

        apr_table_setn(r->notes, APIGW_NOTE_ROUTE_ID, ep->route_id);
        apr_table_setn(r->notes, APIGW_NOTE_ENVIRONMENT,
                       sc->environment ? sc->environment
                                       : APIGW_ROUTE_STORE_DEFAULT_ENV);
    }
    for (i = 0; i < ep->conf->backends->nelts; i++) {
        const apigw_backend *be = APR_ARRAY_IDX(ep->conf->backends, i,
                                                apigw_backend *);
        if (i == 0) {
            apr_table_setn(r->notes, APIGW_NOTE_BACKEND, be->url);
        }
        else {
            apr_table_mergen(r->notes, APIGW_NOTE_BACKEND, be->url);
        }
    }
}

/* The time the backend exchange took, for the logs. */
static void note_backend_time(request_rec *r, const apigw_request *rq)
{
    apr_table_setn(r->notes, APIGW_NOTE_BACKEND_TIME,
                   apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                                rq->backend_end - rq->backend_start));
}

int apigw_request_translate(request_rec *r)
{
    const apigw_server_conf *sc;
    apigw_route_match m;
    apigw_request *rq;
    apigw_endpoint *ep;
    const char *query;
    int status;

    if (r->proxyreq || !r->uri || r->uri[0] != '/') {
        return DECLINED;
    }
    sc = ap_get_module_config(r->server->module_config, &apigw_module);
    switch (match(r, sc, &m)) {
    case APIGW_ROUTE_NONE:
        return (status = redirect(r, sc)) != 0 ? status : DECLINED;
    case APIGW_ROUTE_NO_METHOD:
        if ((status = redirect(r, sc)) != 0) {
            return status;
        }
        rq = request_new(r);
        rq->allow = m.allow;
        if (m.other) {
            /* the path's endpoint speaks for the 405 */
            apigw_error_format_endpoint(r, m.other);
            rq->completed_header =
                ((const apigw_endpoint *)m.other)->completed_header;
        }
        return answer_self(r, rq, HTTP_METHOD_NOT_ALLOWED,
                           apr_psprintf(r->pool, "method %s is not allowed "
                                        "here", r->method));
    case APIGW_ROUTE_FOUND:
        break;
    }
    rq = request_new(r);
    ep = rq->endpoint = m.data;
    apigw_metrics_begin(r, rq);
    note_endpoint(r, ep);
    apigw_error_format_endpoint(r, ep);
    if (ep->route_id) {
        apigw_rt_serve_attach(r, ep);
    }
    if (apigw_ws_requested(r)) {
        const char *why;

        rq->websocket = 1;
        if ((status = apigw_ws_check(r, ep, &why)) != 0) {
            rq->endpoint = NULL;
            return answer_self(r, rq, status, why);
        }
    }
    query = apigw_query_filter(r->pool, r->args, ep->conf->input_query.all,
                               ep->conf->input_query.names);
    if (ep->aggregate) {
        /* the gateway calls the backends itself, in its handler */
        rq->vars = m.vars;
        rq->query = query;
        r->handler = APIGW_HANDLER;
        r->filename = apr_pstrcat(r->pool, "apigw:", r->uri, NULL);
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "endpoint %s matched, %d backends", ep->pattern,
                      ep->conf->backends->nelts);
        return OK;
    }
    if (ep->claim_vars) {
        /* expanded at fixups, once a token has been checked */
        rq->vars = m.vars;
        rq->query = query;
        r->handler = APIGW_HANDLER;
        r->filename = apr_pstrcat(r->pool, "apigw:", r->uri, NULL);
        return OK;
    }
    return backend_url(r, rq, m.vars, query);
}

int apigw_request_map_to_storage(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);
    return (rq && (rq->error_status || (rq->endpoint && rq->endpoint->aggregate)))
           ? OK : DECLINED;
}

int apigw_request_post_perdir_config(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);

    if (rq && rq->endpoint && rq->endpoint->foreign_config) {
        r->per_dir_config = ap_merge_per_dir_configs(r->pool, r->per_dir_config,
                                                     rq->endpoint->foreign_config);
    }
    return OK;
}

static int keep_header(void *data, const char *key, const char *value)
{
    void **ctx = data;
    apr_table_t *out = ctx[0];
    const apigw_allow_list *allow = ctx[1];
    const apigw_request *rq = ctx[2];
    int i;

    apr_size_t len = strlen(key);

    for (i = 0; always_kept[i].name; i++) {
        if (len == always_kept[i].len
            && ap_cstr_casecmp(key, always_kept[i].name) == 0) {
            apr_table_addn(out, key, value);
            return 1;
        }
    }
    if (apigw_allow_list_has(allow, key, 1)
        || (rq->websocket && apigw_ws_handshake_header(key, len))) {
        apr_table_addn(out, key, value);
    }
    return 1;
}

/* mod_apigw_auth's claims, when it is loaded */
static APR_OPTIONAL_FN_TYPE(apigw_auth_claim) *claim_of;

void apigw_request_retrieve_optional_fns(void)
{
    claim_of = APR_RETRIEVE_OPTIONAL_FN(apigw_auth_claim);
}

/* The route's variables and each {JWT.name} of the endpoint's backends
 * (the claims of the token that authenticated r); NULL with *missing
 * naming a claim the request does not have. */
static apr_array_header_t *claim_vars(request_rec *r, const apigw_request *rq,
                                      const char **missing)
{
    const apr_size_t plen = sizeof(APIGW_CLAIM_VAR_PREFIX) - 1;
    apr_array_header_t *vars = rq->vars
        ? apr_array_copy(r->pool, rq->vars)
        : apr_array_make(r->pool, 2, sizeof(apigw_route_var));
    int i, j;

    for (i = 0; i < rq->endpoint->conf->backends->nelts; i++) {
        const apigw_backend *be = APR_ARRAY_IDX(rq->endpoint->conf->backends,
                                                i, apigw_backend *);
        const apr_array_header_t *names = apigw_template_vars(be->tpl);

        for (j = 0; j < names->nelts; j++) {
            const char *name = APR_ARRAY_IDX(names, j, const char *);
            apigw_route_var *v;
            const char *value;

            if (strncmp(name, APIGW_CLAIM_VAR_PREFIX, plen) != 0) {
                continue;
            }
            if (!claim_of || !(value = claim_of(r, name + plen))) {
                *missing = name;
                return NULL;
            }
            v = apr_array_push(vars);
            v->name = name;
            v->value = value;
        }
    }
    return vars;
}

/* An endpoint whose backend URLs name claims: its variables completed
 * now that authentication has run, and the URL expanded. */
static int expand_with_claims(request_rec *r, apigw_request *rq)
{
    const char *missing = NULL;
    apr_array_header_t *vars = claim_vars(r, rq, &missing);

    if (!vars) {
        rq->endpoint = NULL;
        return answer_self(r, rq, HTTP_FORBIDDEN, apr_psprintf(r->pool,
                           "the request carries no token claim for {%s}",
                           missing));
    }
    if (rq->endpoint->aggregate) {
        rq->vars = vars;
        return OK;
    }
    return backend_url(r, rq, vars, rq->query);
}

/* A pass-through endpoint's backend gets the gateway's User-Agent (or
 * X-Forwarded-Via) as an aggregating one's does (apigw_agg.c adds it to
 * its own calls): added to the table mod_proxy forwards, never to the
 * client's own, which the logs keep seeing. */
static apr_table_t *forwarded_headers(request_rec *r, apigw_request *rq)
{
    if (!rq->client_headers) {
        rq->client_headers = r->headers_in;
        r->headers_in = apr_table_copy(r->pool, r->headers_in);
    }
    return r->headers_in;
}

static void identify_gateway(request_rec *r, apigw_request *rq)
{
    if (rq->endpoint->aggregate || rq->error_status
        || !apigw_backend_user_agent(r, rq->endpoint)) {
        return;
    }
    apigw_backend_identify(r, rq->endpoint, forwarded_headers(r, rq));
}

/* A pass-through endpoint's backend call carries the trace (an aggregating
 * endpoint's calls get theirs in apigw_agg.c, one span each). */
static void propagate_trace(request_rec *r, apigw_request *rq)
{
    if (!rq->trace || rq->endpoint->aggregate || rq->error_status) {
        return;
    }
    apigw_trace_headers(r, rq->trace, rq->backend->url,
                        forwarded_headers(r, rq));
}

/* Runs before mod_headers' fixup, so RequestHeader lines of the operator
 * still reach the backend; the client's own table is restored for logging
 * once the backend has answered. */
int apigw_request_fixups(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_allow_list *allow;
    apr_table_t *kept;
    void *ctx[3];

    if (!rq || !rq->endpoint) {
        return DECLINED;
    }
    if (rq->endpoint->claim_vars && !rq->error_status) {
        expand_with_claims(r, rq);
        if (!rq->endpoint) {
            return OK;                 /* the gateway answers */
        }
    }
    rq->trace = apigw_trace_begin(r, r->headers_in);
    allow = &rq->endpoint->conf->input_headers;
    if (!allow->all) {
        kept = apr_table_make(r->pool, 8);
        ctx[0] = kept;
        ctx[1] = (void *)allow;
        ctx[2] = rq;
        apr_table_do(keep_header, ctx, r->headers_in, NULL);
        rq->client_headers = r->headers_in;
        r->headers_in = kept;
    }
    identify_gateway(r, rq);
    propagate_trace(r, rq);
    return OK;
}

apr_status_t apigw_cache_control_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apigw_request *rq = apigw_request_get(r);

    if (rq && rq->endpoint && rq->endpoint->cache_control
        && ap_is_HTTP_SUCCESS(r->status)) {
        apr_table_setn(r->headers_out, "Cache-Control",
                       rq->endpoint->cache_control);
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* Maps what mod_proxy's handler returned to the gateway's answer. */
static int proxy_error(request_rec *r, const apigw_request *rq, int status)
{
    /* mod_proxy_http notes a timeout; mod_proxy_http2 answers 503 without
     * a note, so a failure once the deadline passed is taken for one */
    int timed_out = apr_table_get(r->notes, "proxy_timedout") != NULL
        || ((status == HTTP_BAD_GATEWAY || status == HTTP_SERVICE_UNAVAILABLE)
            && apr_time_now() >= apigw_endpoint_deadline(r));

    if (timed_out && (status == HTTP_BAD_GATEWAY
                      || status == HTTP_SERVICE_UNAVAILABLE)) {
        return apigw_send_error(r, HTTP_GATEWAY_TIME_OUT, apr_psprintf(r->pool,
                                "the backend did not answer within %" APR_TIME_T_FMT
                                "ms", apr_time_as_msec(rq->endpoint->timeout)));
    }
    if (status == HTTP_SERVICE_UNAVAILABLE && !rq->backend->is_balancer) {
        return apigw_send_error(r, HTTP_BAD_GATEWAY, "the backend is unreachable");
    }
    switch (status) {
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        r->connection->keepalive = AP_CONN_CLOSE;
        return apigw_send_error(r, status, "the request body is too large");
    case HTTP_BAD_GATEWAY:
        return apigw_send_error(r, status, "the backend failed to answer");
    case HTTP_SERVICE_UNAVAILABLE:
        return apigw_send_error(r, status, "no backend is available");
    case HTTP_GATEWAY_TIME_OUT:
        return apigw_send_error(r, status, "the backend timed out");
    default:
        return apigw_send_error(r, status, ap_get_status_line(status) + 4);
    }
}

/* Hands the request to mod_proxy's handler with the backend's method;
 * ours declines on re-entry because r->handler is no longer ours. */
static int run_proxy(request_rec *r, const apigw_request *rq)
{
    const char *method = r->method;
    int method_number = r->method_number, status;

    if (rq->endpoint->cache_control) {
        ap_add_output_filter_handle(apigw_cache_control_filter_handle, NULL, r,
                                    r->connection);
    }
    if (!rq->websocket) {
        ap_add_output_filter_handle(apigw_stream_filter_handle, NULL, r,
                                    r->connection);
    }
    if (rq->backend->method && strcmp(rq->backend->method, r->method) != 0) {
        r->method = rq->backend->method;
        r->method_number = ap_method_number_of(r->method);
    }
    status = apigw_proxy_handler_run(r);
    r->method = method;
    r->method_number = method_number;
    return status;
}

int apigw_request_handler(request_rec *r)
{
    apigw_request *rq;
    int status;

    if (!r->handler || strcmp(r->handler, APIGW_HANDLER) != 0
        || !(rq = apigw_request_get(r))) {
        return DECLINED;
    }
    if (rq->error_status) {
        if (rq->allow) {
            apr_table_setn(r->headers_out, "Allow", rq->allow);
            /* KrakenD's 405 says its answer is not complete */
            if (rq->completed_header && *rq->completed_header
                && apigw_error_format_of(r) != APIGW_ERRORS_JSON) {
                apr_table_setn(r->headers_out, rq->completed_header, "false");
            }
        }
        return apigw_send_error(r, rq->error_status, rq->error_message);
    }
    if (rq->endpoint->aggregate) {
        rq->backend_start = apr_time_now();
        status = apigw_agg_handle(r);
        rq->backend_end = apr_time_now();
        note_backend_time(r, rq);
        if (rq->client_headers) {
            r->headers_in = rq->client_headers;
        }
        return status;
    }
    if (!rq->backend) {
        /* a {JWT.name} URL never expanded: the fixups did not run */
        return apigw_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                "the backend URL was not prepared");
    }
    status = apigw_policy_body_limit_check(r, rq->endpoint);
    if (status == OK && rq->websocket) {
        status = apigw_ws_begin(r, rq);
        if (status != OK) {
            if (rq->client_headers) {
                r->headers_in = rq->client_headers;
            }
            return apigw_send_error(r, status, "too many WebSockets are open "
                                    "on this gateway; try again later");
        }
    }
    if (status == OK) {
        rq->backend_start = apr_time_now();
        status = run_proxy(r, rq);
        rq->backend_end = apr_time_now();
        note_backend_time(r, rq);
    }
    apigw_ws_end(r, rq);
    /* from here on the request is the client's again (logging, errors) */
    if (rq->client_headers) {
        r->headers_in = rq->client_headers;
    }
    if (status == OK || status == DONE) {
        return status;
    }
    if (status == DECLINED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00110)
                      "endpoint %s: mod_proxy did not take the request; is "
                      "mod_proxy_http (or the backend scheme's module) loaded?",
                      rq->endpoint->pattern);
        return apigw_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                "the gateway cannot reach this backend type");
    }
    if (r->sent_bodyct) {
        return status;              /* the response is under way already */
    }
    return proxy_error(r, rq, status);
}

apr_time_t apigw_endpoint_deadline(request_rec *r)
{
    const apigw_request *rq = apigw_request_get(r);

    return rq && rq->endpoint ? r->request_time + rq->endpoint->timeout : 0;
}
