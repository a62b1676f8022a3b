/* Aggregating endpoints: one request, several backend calls, one merged
 * answer (see apigw_agg.h; a request another module refused is answered
 * with its status and calls no backend).
 *
 *   1. the backend host (ApiBackendHost, checked against its allow-list),
 *      the client's body (read once, sent to every backend) and the
 *      headers every backend gets (each call its own traceparent)
 *   2. each backend's URL; balancer:// backends pick a member through
 *      mod_proxy_balancer (ap_proxy_pre_request) and report the outcome
 *      back (ap_proxy_post_request), so lbmethods, weights, disabled
 *      members and failonstatus apply
 *   3. the calls, all at once (apigw_fetch.c), or one backend after the
 *      other with ApiSequential, each ApiConcurrentCalls times
 *   4. decode (apigw_decode*.c), shape and merge the bodies
 *      (apigw_merge.c), static data (apigw_static.c), error details, the
 *      status, X-Apigw-Completed, and encode (apigw_encode*.c). A backend
 *      that fails, times out, answers a non-2xx status or a body that
 *      cannot be read counts as failed; the others still make a partial
 *      answer. */
#include "apigw_agg_conf.h"
#include "apigw_decode.h"
#include "apigw_merge.h"
#include "apigw_fetch.h"
#include "apigw_request.h"
#include "apigw_trace_request.h"
#include "apigw_metrics.h"
#include "apigw_policy.h"
#include "apigw_json_error.h"
#include "apigw_contract.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apigw);

/* A client body the gateway buffers to send to several backends. */
#define MAX_CLIENT_BODY (16 * 1024 * 1024)

typedef struct {
    apigw_fetch fetch;
    proxy_worker *worker;          /* balancer member, or NULL */
    proxy_balancer *balancer;
} agg_call;

typedef struct {
    apigw_backend *be;
    agg_call *calls;
    int ncalls;
    const apigw_fetch *result;     /* the winner, or the failure to report */
    const char *failure;           /* why it failed, or NULL */
    int errored;                   /* failed in transport or by status */
    json_t *raw;                   /* decoded body, for {respN_...} */
} agg_backend;

typedef struct {
    request_rec *r;
    apigw_request *rq;
    const apigw_endpoint *ep;
    const struct apigw_agg_conf *c;
    proxy_server_conf *proxy_conf;
    apr_time_t deadline;
    const char *host;              /* ApiBackendHost's choice, or NULL */
    const char *method;            /* what backends are called with */
    apr_table_t *headers;
    const char *body;
    apr_size_t body_len;
    int chunked;                   /* ApiBackendChunkedBody in force */
    agg_backend *backends;
    int n;
} agg_ctx;

/* ---- request side ---- */

static int host_allowed(const struct apigw_agg_conf *c, const char *host)
{
    int i;

    for (i = 0; i < c->host_allow->nelts; i++) {
        if (ap_cstr_casecmp(host, APR_ARRAY_IDX(c->host_allow, i,
                                                const char *)) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Returns OK, or the status to answer with (the host never leaves). */
static int pick_host(agg_ctx *x)
{
    const char *host = NULL, *err = NULL;

    if (x->c->host_source == APIGW_HOST_NONE) {
        return OK;
    }
    if (x->c->host_source == APIGW_HOST_HEADER) {
        apr_table_t *in = x->rq->client_headers ? x->rq->client_headers
                                                : x->r->headers_in;
        host = apr_table_get(in, x->c->host_header);
    }
    else {
        /* the expression sees the client's headers, not the allow-listed */
        apr_table_t *kept = x->r->headers_in;
        if (x->rq->client_headers) {
            x->r->headers_in = x->rq->client_headers;
        }
        host = ap_expr_str_exec(x->r, x->c->host_expr, &err);
        x->r->headers_in = kept;
        if (err) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, x->r, APIGW_LOGNO(00141)
                          "ApiBackendHost: the expression failed: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (!host || !*host || !host_allowed(x->c, host)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, x->r, APIGW_LOGNO(00142)
                      "endpoint %s: backend host %s is not on "
                      "ApiBackendHostAllow; refused", x->ep->pattern,
                      host && *host ? "requested" : "missing, so it");
        return HTTP_BAD_REQUEST;
    }
    x->host = host;
    return OK;
}

/* Reads the client's body once (LimitRequestBody applies as usual). */
static int read_body(agg_ctx *x)
{
    request_rec *r = x->r;
    apr_bucket_brigade *bb;
    char *buf = NULL;
    apr_size_t len = 0, cap = 0;
    int rc, seen_eos = 0;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (!ap_should_client_block(r)) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!seen_eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(b, &data, &n, APR_BLOCK_READ) != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if (len + n > MAX_CLIENT_BODY) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if (len + n > cap) {
                char *nbuf;
                cap = (len + n) * 2;
                nbuf = apr_palloc(r->pool, cap);
                if (len) {
                    memcpy(nbuf, buf, len);
                }
                buf = nbuf;
            }
            if (n) {
                memcpy(buf + len, data, n);
                len += n;
            }
        }
        apr_brigade_cleanup(bb);
    }
    x->body = buf;
    x->body_len = len;
    return OK;
}

static int name_in(const char *const *names, const char *key)
{
    int i;

    for (i = 0; names[i]; i++) {
        if (ap_cstr_casecmp(key, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Headers that describe the client's connection or body as it arrived;
 * libcurl writes its own. An allow-listed Accept-Encoding is sent as the
 * client wrote it (apigw_fetch.c asks for gzip otherwise). */
static const char *const request_hop_headers[] = {
    "Host", "Content-Length", "Transfer-Encoding", "Connection",
    "Keep-Alive", "TE", "Trailer", "Upgrade", "Expect",
    "Proxy-Authorization", "Proxy-Connection", NULL
};

/* What httpd writes itself, or what describes the backend connection. */
static const char *const response_hop_headers[] = {
    "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
    "Proxy-Connection", "TE", "Trailer", "Upgrade", "Content-Type",
    "Date", "Server", NULL
};

static int copy_header(void *data, const char *key, const char *value)
{
    if (!name_in(request_hop_headers, key)) {
        apr_table_addn(data, key, value);
    }
    return 1;
}

const char *apigw_backend_user_agent(const request_rec *r,
                                     const apigw_endpoint *ep)
{
    const char *ua = ep && ep->conf && ep->conf->agg
                     ? ep->conf->agg->backend_ua : NULL;

    if (!ua) {
        const apigw_dir_conf *sdc = ap_get_module_config(
            r->server->lookup_defaults, &apigw_module);
        ua = sdc && sdc->agg ? sdc->agg->backend_ua : NULL;
    }
    return ua && *ua ? ua : NULL;
}

/* ApiBackendChunkedBody in force for ep: the endpoint's, else
 * r->server's, else Off. */
static int chunked_body(const request_rec *r, const apigw_endpoint *ep)
{
    int on = ep->conf->agg->chunked_body;

    if (on == -1) {
        const apigw_dir_conf *sdc = ap_get_module_config(
            r->server->lookup_defaults, &apigw_module);
        on = sdc && sdc->agg ? sdc->agg->chunked_body : -1;
    }
    return on == 1;
}

void apigw_backend_identify(request_rec *r, const apigw_endpoint *ep,
                            apr_table_t *headers)
{
    const char *ua = apigw_backend_user_agent(r, ep);

    if (!ua) {
        return;
    }
    if (apr_table_get(headers, "User-Agent")) {
        apr_table_setn(headers, "X-Forwarded-Via", ua);
    }
    else {
        apr_table_setn(headers, "User-Agent", ua);
    }
}

/* The (allow-listed) client headers plus X-Forwarded-For and -Host, and
 * the gateway's User-Agent (ApiBackendUserAgent), as KrakenD sends them. */
static apr_table_t *backend_headers(request_rec *r)
{
    apr_table_t *h = apr_table_make(r->pool, 12);
    const char *xff = apr_table_get(r->headers_in, "X-Forwarded-For");
    const char *host = apr_table_get(r->headers_in, "Host");
    const apigw_request *rq = apigw_request_get(r);

    apr_table_do(copy_header, h, r->headers_in, NULL);
    apr_table_setn(h, "X-Forwarded-For",
                   xff ? apr_pstrcat(r->pool, xff, ", ", r->useragent_ip, NULL)
                       : r->useragent_ip);
    if (host) {
        apr_table_setn(h, "X-Forwarded-Host", host);
    }
    apigw_backend_identify(r, rq ? rq->endpoint : NULL, h);
    if (rq && rq->trace) {
        /* each call carries a traceparent of its own (apigw_fetch's) */
        apr_table_unset(h, "traceparent");
        apr_table_unset(h, "tracestate");
        if (rq->trace->tracestate) {
            apr_table_setn(h, "tracestate", rq->trace->tracestate);
        }
    }
    return h;
}

/* ---- backend calls ---- */

/* Route variables plus the {respN_path} ones this backend uses. NULL when
 * an earlier response lacks one (*why says which). */
static apr_array_header_t *vars_for(agg_ctx *x, const apigw_backend *be,
                                    const char **why)
{
    const apr_array_header_t *names = apigw_template_vars(be->tpl);
    apr_array_header_t *vars = NULL;
    int i, idx;

    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        apigw_route_var *v;
        const char *value;

        if (!apigw_agg_is_resp_var(name, &idx)) {
            continue;
        }
        value = x->backends[idx].raw
                ? apigw_json_path_string(x->r->pool, x->backends[idx].raw,
                                         strchr(name, '_') + 1)
                : NULL;
        if (!value) {
            *why = apr_psprintf(x->r->pool, "{%s} is not in backend %s's "
                                "response", name, x->backends[idx].be->name);
            return NULL;
        }
        if (!vars) {
            vars = apr_array_copy(x->r->pool, x->rq->vars);
        }
        v = apr_array_push(vars);
        v->name = name;
        v->value = value;
    }
    return vars ? vars : x->rq->vars;
}

/* The URL with the host ApiBackendHost chose in place of the written one. */
static const char *with_host(agg_ctx *x, const apigw_backend *be,
                             const char *url)
{
    const char *origin = apigw_template_origin(be->tpl);

    if (!x->host) {
        return url;
    }
    return apr_pstrcat(x->r->pool, apigw_template_scheme(be->tpl), "://",
                       x->host, url + strlen(origin), NULL);
}

/* A balancer member through mod_proxy_balancer, which rewrites *url. */
static int pick_member(agg_ctx *x, agg_call *call, char **url)
{
    request_rec *r = x->r;
    const char *filename = r->filename;
    int proxyreq = r->proxyreq, rc;

    r->proxyreq = PROXYREQ_REVERSE;
    apr_table_setn(r->notes, "proxy-nocanon", "1");
    rc = ap_proxy_pre_request(&call->worker, &call->balancer, r,
                              x->proxy_conf, url);
    apr_table_unset(r->notes, "proxy-nocanon");
    r->proxyreq = proxyreq;
    r->filename = (char *)filename;
    if (rc != OK || !call->worker) {
        if (call->worker && call->balancer) {
            ap_proxy_post_request(call->worker, call->balancer, r,
                                  x->proxy_conf);
        }
        call->worker = NULL;
        call->balancer = NULL;
        return 0;
    }
    return 1;
}

static void prepare_backend(agg_ctx *x, agg_backend *ab)
{
    const apigw_backend *be = ab->be;
    int copies = x->c->concurrent_calls > 1 ? x->c->concurrent_calls : 1;
    const char *url, *bad = NULL, *why = NULL;
    apr_array_header_t *vars = vars_for(x, be, &why);
    int i;

    ab->calls = apr_pcalloc(x->r->pool, sizeof(agg_call) * copies);
    ab->ncalls = copies;
    if (!vars) {
        ab->failure = why;
        return;
    }
    if (apigw_template_expand(be->tpl, vars, x->rq->query, x->r->pool, &url,
                              &bad) != APIGW_EXPAND_OK) {
        ab->failure = apr_psprintf(x->r->pool, "{%s} cannot be part of its "
                                   "URL", bad);
        return;
    }
    url = apigw_policy_rewrite_url(x->r, x->ep, with_host(x, be, url));
    if (!url) {
        ab->failure = "its path cannot be rewritten";
        return;
    }
    for (i = 0; i < copies; i++) {
        agg_call *call = &ab->calls[i];
        apigw_fetch *f = &call->fetch;
        char *u = apr_pstrdup(x->r->pool, url);

        f->url = NULL;
        if (be->is_balancer && !pick_member(x, call, &u)) {
            continue;              /* no member ready: this copy is not run */
        }
        f->url = u;
        f->method = be->method ? be->method : x->method;
        f->headers = x->headers;
        f->traceparent = x->rq->trace ? apigw_trace_call(x->r, x->rq->trace,
                                                         be->url, f) : NULL;
        f->body = x->body;
        f->body_len = x->body_len;
        f->chunked = x->chunked;
        f->max_body = x->ep->max_backend_body;
        f->race = copies > 1 ? be->index : -1;
        /* no-op passes the body on: encoded as the client accepts it
         * when its Accept-Encoding is forwarded, else decoded */
        f->decode = x->ep->output != APIGW_OUT_NOOP
                    || !apr_table_get(x->headers, "Accept-Encoding");
    }
}

/* The transport outcome as the status mod_proxy would have answered. */
static int outcome_status(const apigw_fetch *f)
{
    switch (f->outcome) {
    case APIGW_FETCH_OK:
        return f->status;
    case APIGW_FETCH_TIMEOUT:
        return HTTP_GATEWAY_TIME_OUT;
    case APIGW_FETCH_NOT_RUN:
        return HTTP_SERVICE_UNAVAILABLE;
    default:
        return HTTP_BAD_GATEWAY;
    }
}

/* Tells mod_proxy_balancer (and whoever else hooks post_request) how its
 * member did, the way mod_proxy's own handler would. */
static void report_member(agg_ctx *x, agg_call *call)
{
    request_rec *r = x->r;
    proxy_worker *w = call->worker;
    int status = r->status, timed_out;

    if (!w) {
        return;
    }
    if (call->fetch.outcome == APIGW_FETCH_CONNECT
        && !(w->s->status & PROXY_WORKER_IGNORE_ERRORS)) {
        w->s->error_time = apr_time_now();
        w->s->status |= PROXY_WORKER_IN_ERROR;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00143)
                      "endpoint %s: balancer member %s is unreachable (%s); "
                      "it is put in error state", x->ep->pattern,
                      w->s->name_ex, call->fetch.error);
    }
    timed_out = call->fetch.outcome == APIGW_FETCH_TIMEOUT;
    if (timed_out) {
        apr_table_setn(r->notes, "proxy_timedout", "1");
    }
    r->status = outcome_status(&call->fetch);
    ap_proxy_post_request(w, call->balancer, r, x->proxy_conf);
    r->status = status;
    if (timed_out) {
        apr_table_unset(r->notes, "proxy_timedout");
    }
}

static int is_success(const apigw_fetch *f)
{
    return f->outcome == APIGW_FETCH_OK && f->status >= 200 && f->status < 300;
}

/* The call that speaks for the backend: a success if any, else an HTTP
 * answer, else the first failure. */
static const apigw_fetch *representative(const agg_backend *ab)
{
    const apigw_fetch *answer = NULL, *any = NULL;
    int i;

    for (i = 0; i < ab->ncalls; i++) {
        const apigw_fetch *f = &ab->calls[i].fetch;
        if (is_success(f)) {
            return f;
        }
        if (f->outcome == APIGW_FETCH_OK && !answer) {
            answer = f;
        }
        if (f->outcome != APIGW_FETCH_CANCELLED && !any) {
            any = f;
        }
    }
    return answer ? answer : any ? any : &ab->calls[0].fetch;
}

static void finish_backend(agg_ctx *x, agg_backend *ab)
{
    const char *err = NULL;
    int i;

    for (i = 0; i < ab->ncalls; i++) {
        report_member(x, &ab->calls[i]);
    }
    if (ab->failure) {
        ab->errored = 1;
        return;
    }
    ab->result = representative(ab);
    if (!is_success(ab->result)) {
        ab->errored = 1;
        ab->failure = ab->result->outcome == APIGW_FETCH_OK
            ? apr_psprintf(x->r->pool, "status %d", ab->result->status)
            : ab->result->outcome == APIGW_FETCH_NOT_RUN && !ab->result->url
            ? "no balancer member is available"
            : apr_pstrcat(x->r->pool, apigw_fetch_outcome_text(
                              ab->result->outcome), ": ",
                          ab->result->error ? ab->result->error : "", NULL);
        return;
    }
    if (x->ep->output == APIGW_OUT_NOOP) {
        return;                    /* passed through as it is */
    }
    ab->raw = apigw_decode(x->r->pool, ab->be->shape, ab->result->resp_body,
                           ab->result->resp_len, &err);
    if (!ab->raw) {
        ab->failure = apr_pstrcat(x->r->pool, "unreadable body: ",
                                  err ? err : "?", NULL);
    }
}

static void run_calls(agg_ctx *x, int from, int to)
{
    apigw_fetch **calls;
    int i, j, n = 0;

    for (i = from; i < to; i++) {
        n += x->backends[i].ncalls;
    }
    calls = apr_palloc(x->r->pool, sizeof(*calls) * (n ? n : 1));
    n = 0;
    for (i = from; i < to; i++) {
        for (j = 0; j < x->backends[i].ncalls; j++) {
            apigw_fetch *f = &x->backends[i].calls[j].fetch;
            if (f->url) {
                calls[n++] = f;
            }
            else {
                f->outcome = APIGW_FETCH_NOT_RUN;
            }
        }
    }
    if (n && apigw_fetch_run(x->r, calls, n, x->deadline) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, x->r, APIGW_LOGNO(00144)
                      "endpoint %s: the backend client is not available",
                      x->ep->pattern);
        return;
    }
    apigw_metrics_agg_calls(n);
}

static void call_backends(agg_ctx *x)
{
    int i;

    if (x->c->sequential == 1) {
        for (i = 0; i < x->n; i++) {
            prepare_backend(x, &x->backends[i]);
            run_calls(x, i, i + 1);
            finish_backend(x, &x->backends[i]);
        }
        return;
    }
    for (i = 0; i < x->n; i++) {
        prepare_backend(x, &x->backends[i]);
    }
    run_calls(x, 0, x->n);
    for (i = 0; i < x->n; i++) {
        finish_backend(x, &x->backends[i]);
    }
}

/* ---- the answer ---- */

/* A backend's own error-details=NAME (KrakenD's backend/http
 * return_error_details) covers an answer with a failing status, not a
 * call that failed in transport or a body that could not be read: NULL
 * when it does not apply. */
static const char *own_details(const agg_backend *ab)
{
    const char *name = apigw_shape_error_details(ab->be->shape);
    const apigw_fetch *f = ab->result;

    return name && f && f->outcome == APIGW_FETCH_OK && !is_success(f)
           ? name : NULL;
}

/* What a failed backend adds to the answer: KrakenD's object for its own
 * error-details= (the body as a string, its Content-Type), else
 * ApiReturnErrorDetails' (the body as JSON when it is JSON, the failure
 * in words). NULL when memory runs out. */
static json_t *error_details(const agg_backend *ab)
{
    json_t *d, *body = NULL;
    const apigw_fetch *f = ab->result;

    if (own_details(ab)) {
        return apigw_error_details_object(
            f->status, f->resp_body, f->resp_len,
            f->resp_headers ? apr_table_get(f->resp_headers, "Content-Type")
                            : NULL);
    }
    d = json_object();
    if (f && f->outcome == APIGW_FETCH_OK) {
        json_object_set_new(d, "http_status_code", json_integer(f->status));
        body = json_loadb(f->resp_body, f->resp_len, JSON_DECODE_ANY, NULL);
        if (!body) {
            body = json_stringn(f->resp_body, f->resp_len);
        }
        json_object_set_new(d, "http_body",
                            body ? body : json_string("(not UTF-8 text)"));
    }
    else {
        json_object_set_new(d, "http_status_code",
                            json_integer(f ? outcome_status(f)
                                           : HTTP_BAD_GATEWAY));
    }
    json_object_set_new(d, "error", json_string(ab->failure ? ab->failure
                                                            : "failed"));
    return d;
}

static const char *details_key(const agg_ctx *x, const agg_backend *ab)
{
    const char *own = own_details(ab);

    if (own) {
        return apr_pstrcat(x->r->pool, "error_", own, NULL);
    }
    return x->n == 1 ? apr_pstrcat(x->r->pool, "error_", x->c->error_details,
                                   NULL)
                     : apr_pstrcat(x->r->pool, "error_", x->c->error_details,
                                   "_", ab->be->name, NULL);
}

static void log_failure(const agg_ctx *x, const agg_backend *ab)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, x->r, APIGW_LOGNO(00145)
                  "endpoint %s: backend %s (%s) failed: %s; answering "
                  "without it", x->ep->pattern, ab->be->name, ab->be->url,
                  ab->failure);
}

/* Merges every backend's body into doc, then runs the endpoint's
 * ApiFlatmap lines on it (before ApiStatic, as KrakenD); counts what
 * failed. A backend's own error details (error-details=) count in *ok
 * too: KrakenD answers them as data, so they make a 200 answer even when
 * every backend failed. */
static void merge_backends(agg_ctx *x, json_t *doc, int *ok, int *failed,
                           int *errored)
{
    const char *ferr = NULL;
    int i;

    for (i = 0; i < x->n; i++) {
        agg_backend *ab = &x->backends[i];
        const char *err = NULL;
        json_t *v = NULL;

        if (!ab->failure) {
            /* the shape works on the body in place: it is no longer
             * needed for {respN_...} by now */
            v = apigw_shape_apply(ab->be->shape, ab->raw, &err);
            ab->raw = NULL;
            if (!v) {
                ab->failure = apr_pstrcat(x->r->pool, "cannot shape its "
                                          "body: ", err ? err : "?", NULL);
            }
        }
        if (v) {
            apigw_merge_into(doc, v);
            json_decref(v);
            (*ok)++;
            continue;
        }
        (*failed)++;
        *errored |= ab->errored;
        log_failure(x, ab);
        if (own_details(ab) || x->c->error_details) {
            json_t *d = error_details(ab);

            if (d && json_object_set_new(doc, details_key(x, ab), d) == 0
                && own_details(ab)) {
                (*ok)++;
            }
        }
    }
    if (x->c->flatmap && apigw_flatmap_apply(x->c->flatmap, doc, &ferr)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, x->r, APIGW_LOGNO(00146)
                      "endpoint %s: ApiFlatmap on the merged answer failed: "
                      "%s", x->ep->pattern, ferr);
        json_object_clear(doc);
        *ok = 0;
        *failed = x->n;
    }
}

static void copy_status_headers(agg_ctx *x, const apigw_fetch *f)
{
    int i;

    for (i = 0; x->c->status_headers && i < x->c->status_headers->nelts; i++) {
        const char *name = APR_ARRAY_IDX(x->c->status_headers, i,
                                         const char *);
        const char *v = apr_table_get(f->resp_headers, name);
        if (v) {
            apr_table_setn(x->r->headers_out, name, v);
        }
    }
}

static int send_body(request_rec *r, int status, const char *ctype,
                     const char *body, apr_size_t len)
{
    r->status = status;
    if (ctype) {
        ap_set_content_type(r, ctype);
    }
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only && len) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

static void mark_complete(agg_ctx *x, int complete)
{
    request_rec *r = x->r;

    if (*x->ep->completed_header) {
        apr_table_setn(r->headers_out, x->ep->completed_header,
                       complete ? "true" : "false");
    }
    if (complete && x->ep->cache_control) {
        apr_table_setn(r->headers_out, "Cache-Control", x->ep->cache_control);
    }
}

static int copy_response_header(void *data, const char *key, const char *value)
{
    if (!name_in(response_hop_headers, key)) {
        apr_table_addn(data, key, value);
    }
    return 1;
}

/* ---- KrakenD's words for a failure (ApiErrorFormat krakend) ---- */

/* A backend's URL pattern as lura names it in its errors: the path and
 * query of the ApiBackend URL with a leading '/', each {var} written
 * {{.Var}} (config.initBackendURLMappings). */
static const char *lura_pattern(apr_pool_t *p, const apigw_backend *be)
{
    const char *s = be->url + strlen(apigw_template_origin(be->tpl));
    const char *open, *close, *out = "/";

    if (*s == '/') {
        s++;
    }
    while ((open = strchr(s, '{')) != NULL
           && (close = strchr(open + 1, '}')) != NULL) {
        const char *inner = open + 1;

        if (close == inner || memchr(inner, '{', (apr_size_t)(close - inner))) {
            out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)
                              (open - s + 1)), NULL);
            s = open + 1;
            continue;
        }
        out = apr_psprintf(p, "%s%.*s{{.%c%.*s}}", out, (int)(open - s), s,
                           apr_toupper(*inner), (int)(close - inner - 1),
                           inner + 1);
        s = close + 1;
    }
    return apr_pstrcat(p, out, s, NULL);
}

/* What lura's error says of a failed backend (NULL: it did not fail):
 * its HTTP client's status error, the request context's deadline, Go's
 * url.Error for a call that failed in transport (with libcurl's reason
 * where Go gives the dialer's), else the gateway's own words. */
static const char *krakend_failure(const agg_ctx *x, const agg_backend *ab)
{
    apr_pool_t *p = x->r->pool;
    const apigw_fetch *f = ab->result;
    const char *method = ab->be->method ? ab->be->method : x->method;
    char *op;

    if (f && f->url) {
        switch (f->outcome) {
        case APIGW_FETCH_OK:
            if (!is_success(f)) {
                return apr_psprintf(p, "invalid status code %d [%s %s]: %s",
                                    f->status, method,
                                    lura_pattern(p, ab->be), f->url);
            }
            break;                  /* a body it could not read or shape */
        case APIGW_FETCH_TIMEOUT:
            return "context deadline exceeded";
        case APIGW_FETCH_CONNECT:
        case APIGW_FETCH_BROKEN:
        case APIGW_FETCH_TOO_BIG:
            /* Go names the operation "Get", "Post", ... */
            op = apr_pstrdup(p, method);
            ap_str_tolower(op + 1);
            return apr_psprintf(p, "%s \"%s\": %s", op, f->url,
                                f->error ? f->error
                                : apigw_fetch_outcome_text(f->outcome));
        default:
            break;
        }
    }
    return ab->failure;
}

/* Every backend failed: a 500. KrakenD's says its answer is incomplete
 * and, with messages, carries lura's error: the failures one a line, as
 * its merge error joins them (lura's own when none says more). */
static int answer_failed(agg_ctx *x)
{
    request_rec *r = x->r;
    apigw_error_format f = apigw_error_format_of(r);
    const char *text = "";
    int i;

    if (f == APIGW_ERRORS_JSON) {
        return apigw_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                x->n == 1 ? "the backend failed"
                                          : "every backend failed");
    }
    mark_complete(x, 0);
    for (i = 0; f == APIGW_ERRORS_KRAKEND_MESSAGES && i < x->n; i++) {
        const char *why = krakend_failure(x, &x->backends[i]);
        if (why) {
            text = *text ? apr_pstrcat(r->pool, text, "\n", why, NULL) : why;
        }
    }
    return apigw_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                            *text ? text : "internal server error");
}

/* ApiOutputEncoding no-op: the one backend's answer, as it is, marked
 * incomplete (as KrakenD marks every no-op answer). */
static int answer_passthrough(agg_ctx *x)
{
    const agg_backend *ab = &x->backends[0];
    const apigw_fetch *f = ab->result;

    if (!f || f->outcome != APIGW_FETCH_OK) {
        int timed_out = f && f->outcome == APIGW_FETCH_TIMEOUT;
        const char *why = timed_out ? "the backend timed out"
                                    : "the backend failed to answer";

        log_failure(x, ab);
        if (apigw_error_format_of(x->r) != APIGW_ERRORS_JSON) {
            const char *kd = krakend_failure(x, ab);
            mark_complete(x, 0);
            why = kd ? kd : why;
        }
        return apigw_send_error(x->r, timed_out ? HTTP_GATEWAY_TIME_OUT
                                                : HTTP_BAD_GATEWAY, why);
    }
    apr_table_do(copy_response_header, x->r->headers_out, f->resp_headers,
                 NULL);
    /* KrakenD never marks a no-op answer complete (its response has no
     * data): "false" whatever the status. ApiCacheTTL still applies to a
     * 2xx, as on a no-op endpoint mod_proxy carries. */
    mark_complete(x, 0);
    if (is_success(f) && x->ep->cache_control) {
        apr_table_setn(x->r->headers_out, "Cache-Control",
                       x->ep->cache_control);
    }
    return send_body(x->r, f->status,
                     apr_table_get(f->resp_headers, "Content-Type"),
                     f->resp_body, f->resp_len);
}

static int answer_merged(agg_ctx *x)
{
    request_rec *r = x->r;
    json_t *doc = json_object();
    int ok = 0, failed = 0, errored = 0, status = HTTP_OK, enc;
    const char *body, *ctype;
    apr_size_t len;

    merge_backends(x, doc, &ok, &failed, &errored);
    apigw_static_add(doc, x->c->statics, failed == 0, errored);
    if (x->ep->status_from >= 0) {
        const agg_backend *ab = &x->backends[x->ep->status_from];
        if (ab->result) {
            status = outcome_status(ab->result);
            if (ab->result->outcome == APIGW_FETCH_OK) {
                copy_status_headers(x, ab->result);
            }
        }
        else {
            status = HTTP_BAD_GATEWAY;
        }
    }
    else if (ok == 0) {
        if (!x->c->error_details) {
            json_decref(doc);
            return answer_failed(x);
        }
        status = HTTP_INTERNAL_SERVER_ERROR;
    }
    enc = x->ep->output;
    if (enc == APIGW_OUT_NEGOTIATE) {
        enc = apigw_negotiate(apr_table_get(x->rq->client_headers
                                            ? x->rq->client_headers
                                            : r->headers_in, "Accept"));
        apr_table_mergen(r->headers_out, "Vary", "Accept");
    }
    body = apigw_encode(r->pool, doc, (apigw_output_encoding)enc, &len,
                        &ctype);
    json_decref(doc);
    if (!body) {
        return apigw_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                "the response cannot be encoded");
    }
    if (ok && failed) {
        apigw_metrics_agg_partial();
    }
    mark_complete(x, failed == 0 && ap_is_HTTP_SUCCESS(status));
    return send_body(r, status, ctype, body, len);
}

static void release(agg_ctx *x)
{
    int i;

    for (i = 0; i < x->n; i++) {
        json_decref(x->backends[i].raw);
        x->backends[i].raw = NULL;
    }
}

int apigw_agg_handle(request_rec *r)
{
    agg_ctx x;
    int rc, i;

    if ((rc = apigw_refused(r)) != 0) {
        return rc;                  /* no backend call for a refused request */
    }
    memset(&x, 0, sizeof(x));
    x.r = r;
    x.rq = apigw_request_get(r);
    x.ep = x.rq->endpoint;
    x.c = x.ep->conf->agg;
    x.proxy_conf = ap_get_module_config(r->server->module_config,
                                        &proxy_module);
    x.deadline = apigw_endpoint_deadline(r);
    x.method = r->header_only ? "GET" : r->method;
    if ((rc = pick_host(&x)) != OK) {
        return apigw_send_error(r, rc, rc == HTTP_BAD_REQUEST
                                ? "this backend host is not allowed"
                                : "the backend host cannot be worked out");
    }
    if ((rc = read_body(&x)) != OK) {
        return apigw_send_error(r, rc, rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                                ? "the request body is too large"
                                : "the request body cannot be read");
    }
    x.headers = backend_headers(r);
    x.chunked = chunked_body(r, x.ep);
    x.n = x.ep->conf->backends->nelts;
    x.backends = apr_pcalloc(r->pool, sizeof(agg_backend) * x.n);
    for (i = 0; i < x.n; i++) {
        x.backends[i].be = APR_ARRAY_IDX(x.ep->conf->backends, i,
                                         apigw_backend *);
    }
    call_backends(&x);
    rc = x.ep->output == APIGW_OUT_NOOP ? answer_passthrough(&x)
                                        : answer_merged(&x);
    release(&x);
    return rc;
}
