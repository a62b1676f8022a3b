/* Edge policies in the request phases: each hook reads the endpoint's
 * effective policy (apigw_policy_effective.c) and calls the policy files
 * (apigw_policy_{cors,headers,rewrite,limits,cache}.c) for the work.
 * mod_apigw.c registers them:
 *
 *   translate_name       a CORS preflight is answered here, before access
 *                        control (browsers send preflights without
 *                        credentials), once the bot policy admitted it
 *   header_parser        the bot policy (403 before access control,
 *                        authentication, rate limits and any backend);
 *                        an aggregating endpoint's query deny-list; the
 *                        CORS headers of a preflight passed through
 *   fixups               the request body limit of aggregating endpoints,
 *                        request header rules (after the allow-list), then
 *                        the cache lookup (after access control and rate
 *                        limits; never for a refused request)
 *   insert_filter        the response filter: body limit, cache capture,
 *   insert_error_filter  CORS and security headers into the response's
 *                        own headers as it starts, response header rules
 *
 * Also the backend URL of an endpoint after its path rewrite and query
 * deny-list (called from mod_apigw's translate_name). */
#include "apigw_policy_conf.h"
#include "apigw_config.h"
#include "apigw_rt_serve.h"
#include "apigw_request.h"
#include "apigw_query.h"
#include "apigw_json_error.h"
#include "apigw_error.h"
#include "apigw_contract.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_core.h"
#include "util_filter.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

#define REQ_KEY "apigw-policy-req"

ap_filter_rec_t *apigw_policy_filter_handle;


static const apigw_policy_conf *endpoint_policy(const apigw_endpoint *ep)
{
    return ep && ep->conf->policy ? ep->conf->policy->effective : NULL;
}

apigw_policy_req *apigw_policy_req_get(const request_rec *r)
{
    void *pr = NULL;
    apr_pool_userdata_get(&pr, REQ_KEY, r->pool);
    return pr;
}

/* The path of url (after its origin_len bytes of scheme://host:port, up
 * to any '?') through the endpoint's rewrites; *query gets what follows
 * the '?' (NULL when none). NULL when the rewrite failed: *status is 404
 * for a result climbing out with a dot segment (the client's path made
 * it), 500 for the regex engine's own failure (a limit). */
static const char *rewritten_path(request_rec *r,
                                  const struct apigw_endpoint *ep,
                                  const apigw_policy_conf *pol,
                                  const char *url, apr_size_t origin_len,
                                  const char **query, int *status)
{
    const char *q = strchr(url + origin_len, '?'), *path, *in, *err = NULL;

    path = q ? apr_pstrmemdup(r->pool, url + origin_len,
                              (apr_size_t)(q - url - origin_len))
             : url + origin_len;
    *query = q ? q + 1 : NULL;
    if (!pol->rewrites) {
        return path;
    }
    in = *path ? path : "/";
    path = apigw_rewrite_path(r->pool, pol->rewrites, in, &err);
    if (path) {
        return path;
    }
    if (err == apigw_rewrite_dot_segment) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00609)
                      "endpoint %s: ApiPathRewrite refused: %s", ep->pattern,
                      err);
        *status = HTTP_NOT_FOUND;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00605)
                      "endpoint %s: ApiPathRewrite failed (%s); the request "
                      "is refused", ep->pattern, err);
        *status = HTTP_INTERNAL_SERVER_ERROR;
    }
    return NULL;
}

/* url's origin (its first origin_len bytes), path and query. */
static const char *join_url(request_rec *r, const char *url,
                            apr_size_t origin_len, const char *path,
                            const char *query)
{
    return apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, url, origin_len),
                       path, query ? "?" : "", query ? query : "", NULL);
}

const char *apigw_policy_backend_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url, int *status)
{
    const apigw_policy_conf *pol = endpoint_policy(ep);
    const char *origin, *path, *query;
    apr_size_t origin_len;

    if (!pol || (!pol->rewrites && !pol->query_deny)) {
        return url;
    }
    origin = apigw_template_origin(APR_ARRAY_IDX(ep->conf->backends, 0,
                                                 apigw_backend *)->tpl);
    origin_len = strlen(origin);
    if (strncmp(url, origin, origin_len) != 0) {
        return url;                     /* not ours to touch */
    }
    if (!(path = rewritten_path(r, ep, pol, url, origin_len, &query,
                                status))) {
        return NULL;
    }
    if (pol->query_deny) {
        const char *kept = apigw_query_filter_deny(r->pool, r->args,
                                                   pol->query_deny);
        if (kept) {
            query = query && *query
                    ? apr_pstrcat(r->pool, query,
                                  query[strlen(query) - 1] == '&' ? "" : "&",
                                  kept, NULL)
                    : kept;
        }
    }
    return join_url(r, url, origin_len, path, query);
}

const char *apigw_policy_rewrite_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url)
{
    const apigw_policy_conf *pol = endpoint_policy(ep);
    const char *sep, *path, *query;
    apr_size_t origin_len;
    int status;

    if (!pol || !pol->rewrites || !(sep = strstr(url, "://"))) {
        return url;
    }
    origin_len = strcspn(sep + 3, "/?") + (apr_size_t)(sep + 3 - url);
    path = rewritten_path(r, ep, pol, url, origin_len, &query, &status);
    return path ? join_url(r, url, origin_len, path, query) : NULL;
}

int apigw_policy_body_limit_check(request_rec *r,
                                  const struct apigw_endpoint *ep)
{
    return apigw_body_limit_check(r, endpoint_policy(ep));
}

/* r->notes: a preflight refused by the bot policy at translate_name,
 * before mod_apigw made it an endpoint request: its 403 gets the JSON
 * body here (apigw_policy_insert_error_filter). */
#define BOT_REFUSED_NOTE "apigw-bot-refused"

/* The endpoint's bot policy on r's User-Agent: OK, or 403 (logged, the
 * request marked refused). Costs nothing for a policy that refuses
 * nothing; allocates only to match patterns. */
static int bots_check(request_rec *r, const apigw_policy_conf *pol,
                      const apigw_endpoint *ep)
{
    const apigw_bot_policy *b = &pol->bots;
    const char *ua, *err = NULL, *why;
    apigw_bot_verdict v;
    int which;

    if (!APIGW_BOT_ACTIVE(b)) {
        return OK;
    }
    ua = apr_table_get(r->headers_in, "User-Agent");
    v = apigw_bot_check(r->pool, b, ua, ua ? strlen(ua) : 0, &which, &err);
    switch (v) {
    case APIGW_BOT_ADMIT:
    case APIGW_BOT_ALLOWED:
        return OK;
    case APIGW_BOT_DENIED:
        why = "the User-Agent is on ApiBotDeny";
        break;
    case APIGW_BOT_PATTERN:
        why = apr_psprintf(r->pool, "the User-Agent matches ApiBotPatterns "
                           "\"%s\"", APR_ARRAY_IDX(b->patterns, which,
                                                   const char *));
        break;
    case APIGW_BOT_EMPTY:
        why = "no User-Agent (ApiBotEmptyUserAgent deny)";
        break;
    case APIGW_BOT_FAILED:
    default:
        /* the pattern's cost, not the client's: the operator should know */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APIGW_LOGNO(00651)
                      "endpoint %s: ApiBotPatterns \"%s\" could not be "
                      "matched against the User-Agent (%s); the request is "
                      "refused", ep->pattern, which >= 0 && b->patterns
                      ? APR_ARRAY_IDX(b->patterns, which, const char *) : "",
                      err ? err : "unknown error");
        why = NULL;
        break;
    }
    if (why) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00650)
                      "endpoint %s: request refused by the bot policy: %s",
                      ep->pattern, why);
    }
    if (ua && APLOGrdebug(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00652)
                      "endpoint %s: the refused User-Agent: \"%s\"",
                      ep->pattern, ap_escape_logitem(r->pool, ua));
    }
    apigw_refuse(r, HTTP_FORBIDDEN);
    return HTTP_FORBIDDEN;
}

/* r->notes: a preflight whose requested method an endpoint on the path
 * serves, for a preflight passed through (header_parser, where the
 * OPTIONS request's own endpoint is known). */
#define CORS_SERVED_NOTE "apigw-cors-served"

/* The endpoint whose CORS policy answers a preflight for acrm on r's
 * path, static endpoints first, then runtime routes (whose table, when
 * one matches, stays held until r ends), as apigw_request.c matches:
 * the one serving acrm (*served = 1); else, when endpoints have the path
 * with other methods, the one serving OPTIONS there (a passed-through
 * preflight is its request), or one of them (*served = 0). NULL when no
 * endpoint has the path. */
static const apigw_endpoint *preflight_endpoint(request_rec *r,
                                                const apigw_server_conf *sc,
                                                const char *acrm, int *served)
{
    apigw_route_match m;
    apigw_route_status st;
    const apigw_endpoint *other = NULL;

    *served = 0;
    st = apigw_route_match_path(sc->routes, r->uri, acrm, r->pool, &m);
    if (st == APIGW_ROUTE_FOUND) {
        *served = 1;
        return m.data;
    }
    if (st == APIGW_ROUTE_NO_METHOD) {
        other = m.other;
    }
    st = apigw_rt_serve_match(r, acrm, &m);
    if (st == APIGW_ROUTE_FOUND) {
        *served = 1;
        return m.data;
    }
    if (!other && st == APIGW_ROUTE_NO_METHOD) {
        other = m.other;
    }
    if (other && strcmp(acrm, "OPTIONS") != 0
        && (apigw_route_match_path(sc->routes, r->uri, "OPTIONS", r->pool,
                                   &m) == APIGW_ROUTE_FOUND
            || apigw_rt_serve_match(r, "OPTIONS", &m) == APIGW_ROUTE_FOUND)) {
        return m.data;
    }
    return other;
}

/* A preflight is OPTIONS with Origin and Access-Control-Request-Method. */
int apigw_policy_translate(request_rec *r)
{
    const apigw_server_conf *sc;
    const apigw_policy_conf *pol;
    const apigw_endpoint *ep;
    const char *acrm;
    int status, served;

    if (r->method_number != M_OPTIONS || r->main || r->prev
        || !r->uri || r->uri[0] != '/'
        || !(acrm = apr_table_get(r->headers_in,
                                  "Access-Control-Request-Method"))
        || !apr_table_get(r->headers_in, "Origin")) {
        return DECLINED;
    }
    sc = ap_get_module_config(r->server->module_config, &apigw_module);
    if (!(ep = preflight_endpoint(r, sc, acrm, &served))) {
        return DECLINED;                /* not a path of the gateway's */
    }
    pol = endpoint_policy(ep);
    if (!pol || pol->cors.enabled != 1 || pol->cors.passthrough == 1) {
        /* routed as any OPTIONS request: to the backend, or 405 */
        if (served) {
            apr_table_setn(r->notes, CORS_SERVED_NOTE, "1");
        }
        return DECLINED;
    }
    /* a preflight the gateway answers here is checked here; one it does
     * not (no CORS, or passed through) is at header_parser */
    if ((status = bots_check(r, pol, ep)) != OK) {
        apr_table_setn(r->notes, BOT_REFUSED_NOTE, "1");
        apigw_error_format_endpoint(r, ep);     /* its 403 is ep's */
        return status;
    }
    return apigw_cors_preflight(r, pol, ep, served);
}

/* The policy state of an endpoint request, or NULL. Only the cache keeps
 * state between phases (pool userdata, created at fixups); without it
 * each phase reads the effective policy from the endpoint directly. */
static apigw_policy_req *policy_req(request_rec *r, int create)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_policy_conf *pol;
    apigw_policy_req *pr;

    if (!rq || !rq->endpoint || !(pol = endpoint_policy(rq->endpoint))) {
        return NULL;
    }
    if (pol->cache.enabled == 1 && (pr = apigw_policy_req_get(r)) != NULL) {
        return pr;
    }
    if (!create) {
        return NULL;
    }
    pr = apr_pcalloc(r->pool, sizeof(*pr));
    pr->pol = pol;
    pr->ep = rq->endpoint;
    if (pol->cache.enabled == 1) {
        apr_pool_userdata_setn(pr, REQ_KEY, NULL, r->pool);
    }
    return pr;
}

int apigw_policy_header_parser(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_policy_conf *pol;
    int status;

    if (!rq || !rq->endpoint || !(pol = endpoint_policy(rq->endpoint))
        || r->prev || r->main) {
        return DECLINED;
    }
    /* before access control, authentication and rate limits: the 403
     * takes the gateway's error path (JSON, apigw_error.c) */
    if ((status = bots_check(r, pol, rq->endpoint)) != OK) {
        return status;
    }
    if (rq->endpoint->aggregate && pol->query_deny) {
        /* an aggregating endpoint builds its backend URLs in its handler,
         * from rq->query */
        rq->query = apigw_query_filter_deny(r->pool, r->args, pol->query_deny);
    }
    if (pol->cors.enabled == 1 && pol->cors.passthrough == 1) {
        apigw_cors_passthrough_preflight(r, &pol->cors,
                                         apr_table_get(r->notes,
                                                       CORS_SERVED_NOTE)
                                         != NULL);
    }
    return DECLINED;
}

int apigw_policy_fixups(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_policy_conf *pol;

    if (!rq || !rq->endpoint || !(pol = endpoint_policy(rq->endpoint))
        || r->main) {
        return DECLINED;
    }
    if (rq->endpoint->aggregate && pol->request_body_limit > 0) {
        int status = apigw_body_limit_check(r, pol);
        if (status != OK) {
            return status;
        }
    }
    if (pol->request_headers) {
        /* The client's own table stays for the logs: with no allow-list
         * the gateway has not copied it yet, so copy it now (apigw_request.c
         * puts rq->client_headers back once the backend has answered). */
        if (!rq->client_headers) {
            rq->client_headers = r->headers_in;
            r->headers_in = apr_table_copy(r->pool, r->headers_in);
        }
        apigw_headers_apply(r, pol->request_headers, r->headers_in, NULL);
    }
    if (pol->cache.enabled == 1 && r->handler
        && strcmp(r->handler, APIGW_HANDLER) == 0 && !apigw_refused(r)) {
        apigw_cache_lookup(r, policy_req(r, 1));
    }
    return DECLINED;
}

/* ---- the response filter ---- */

typedef struct {
    apigw_policy_req *pr;          /* the request's policy state */
    int started;
    int error_path;                /* added by insert_error_filter */
    int dead;                      /* answered 502 ourselves: drop the rest */
    apr_off_t seen;
    void *cache_state;
} policy_filter_ctx;

static apr_status_t answer_too_large(ap_filter_t *f, apr_bucket_brigade *bb,
                                     apr_off_t limit)
{
    request_rec *r = f->r;
    const char *body;
    apr_size_t len;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00606)
                  "endpoint response declared over ApiResponseBodyLimit (%"
                  APR_OFF_T_FMT " bytes); answered 502", limit);
    apr_brigade_cleanup(bb);
    apr_table_clear(r->headers_out);
    /* in the request's ApiErrorFormat: status, type, length */
    body = apigw_error_prepare(r, HTTP_BAD_GATEWAY, apr_psprintf(r->pool,
               "the backend's response is larger than %" APR_OFF_T_FMT
               " bytes", limit));
    len = strlen(body);
    r->connection->keepalive = AP_CONN_CLOSE;
    if (!r->header_only && len) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_immortal_create(body, len,
                                f->c->bucket_alloc));
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_pass_brigade(f->next, bb);
    apr_brigade_cleanup(bb);
    /* the handler stops sending (mod_proxy closes the backend connection) */
    return AP_FILTER_ERROR;
}

/* An undeclared body crossed the limit after the head went out: the
 * client must not take what it got for the whole body. */
static apr_status_t abort_too_large(ap_filter_t *f, apr_bucket_brigade *bb,
                                    apr_off_t limit)
{
    request_rec *r = f->r;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00607)
                  "endpoint response body crossed ApiResponseBodyLimit (%"
                  APR_OFF_T_FMT " bytes) while streaming; connection aborted",
                  limit);
    apr_brigade_cleanup(bb);
    r->connection->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL,
                            r->pool, f->c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_pass_brigade(f->next, bb);
    apr_brigade_cleanup(bb);
    return AP_FILTER_ERROR;
}

apr_status_t apigw_policy_out_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    policy_filter_ctx *ctx = f->ctx;
    apigw_policy_req *pr = ctx->pr;
    const apigw_policy_conf *pol = pr->pol;
    apr_off_t limit;

    limit = pol->response_body_limit;
    if (ctx->dead) {
        apr_brigade_cleanup(bb);
        return AP_FILTER_ERROR;
    }
    if (!ctx->started && limit > 0 && !ctx->error_path && !pr->cache_hit) {
        const char *cl = apr_table_get(r->headers_out, "Content-Length");
        apr_off_t n;
        char *end;
        if (cl && apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end
            && n > limit) {
            ctx->dead = 1;
            return answer_too_large(f, bb, limit);
        }
    }
    if (limit > 0 && !ctx->error_path && !pr->cache_hit) {
        apr_off_t len = 0;
        apr_brigade_length(bb, 1, &len);
        ctx->seen += len;
        if (ctx->seen > limit) {
            ctx->dead = 1;
            return abort_too_large(f, bb, limit);
        }
    }
    /* the cache keeps the response as the backend sent it (before the
     * header rules, which run again on every hit) */
    if (pol->cache.enabled == 1 && !ctx->error_path && !pr->cache_hit) {
        apr_status_t rv = apigw_cache_capture(f, pr, bb, &ctx->cache_state);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!ctx->started) {
        /* the gateway's own CORS and security headers win over the
         * backend's; they go into the response's own headers now (on an
         * error of httpd's, headers_out is what err_headers_out was) */
        ctx->started = 1;
        if (pol->cors.enabled == 1) {
            apigw_cors_response(r, &pol->cors, r->headers_out,
                                !ctx->error_path);
        }
        if (pol->security_headers == 1) {
            apigw_security_headers_apply(r->headers_out);
        }
        if (pol->response_headers) {
            apigw_headers_apply(r, pol->response_headers, r->headers_out,
                                r->err_headers_out);
        }
    }
    return ap_pass_brigade(f->next, bb);
}

static void add_policy_filter(request_rec *r, int error_path)
{
    apigw_policy_req *pr = r->main ? NULL : policy_req(r, 1);
    policy_filter_ctx *ctx;

    if (!pr || !pr->pol->response_work) {
        return;
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->pr = pr;
    ctx->error_path = error_path;
    ap_add_output_filter_handle(apigw_policy_filter_handle, ctx, r, r->connection);
}

void apigw_policy_insert_filter(request_rec *r)
{
    add_policy_filter(r, 0);
}

/* httpd's own error responses start a fresh filter chain. A preflight
 * refused by the bot policy is no endpoint request yet (apigw_error.c
 * leaves it alone): its 403 gets the same JSON body, unless an
 * ErrorDocument or another module shapes it. */
void apigw_policy_insert_error_filter(request_rec *r)
{
    if (r->status == HTTP_FORBIDDEN && !apigw_error_owned(r)
        && apr_table_get(r->notes, BOT_REFUSED_NOTE)
        && !ap_response_code_string(r, ap_index_of_response(r->status))) {
        apigw_error_filter_add(r, apigw_json_error_filter_handle, NULL, NULL);
    }
    add_policy_filter(r, 1);
}
