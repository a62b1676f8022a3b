/* One request to a balancer:// backend (a ProxyPass or an <ApiEndpoint>'s
 * ApiBackend), through mod_proxy's own hooks (registered in
 * mod_apigw_breaker.c):
 *
 *   optional_fn_retrieve  mod_apigw's apigw_endpoint_deadline, when it is
 *                   loaded: an <ApiEndpoint>'s ApiTimeout bounds the
 *                   retries
 *   fixups          the affinity session's key, before mod_apigw filters
 *                   the client's headers
 *   handler         (when retries or a timeout action apply) runs
 *                   mod_proxy's handler (apigw_proxy_handler_run), again
 *                   on another member while a failed attempt can be
 *                   replayed and the budget lasts, then applies the
 *                   timeout action
 *   proxy pre_request    an attempt starts; when mod_proxy itself fails
 *                   over after a refused connection, the failed member's
 *                   outcome is reported here
 *   proxy create_req     the backend connection: reused? no timeout for
 *                   ApiBalancerTimeoutAction never
 *   proxy post_request   the member mod_proxy_balancer chose
 *   proxy request_status the attempt's outcome: reported to the member's
 *                   state (apigw_sus_report), remembered for the retry loop
 *
 * Nothing here holds a lock across backend I/O: apigw_sus_report takes
 * the module's mutex for a state change only, after the exchange. */
#include "apigw_sus_request.h"
#include "apigw_sus_lbmethod.h"
#include "apigw_contract.h"
#include "apigw_json_error.h"
#include "apigw_log.h"

#include <strings.h>

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cookies.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_breaker);

/* short: apr_pool_userdata_get hashes it on every call */
#define REQ_KEY "agw.s"
#define PROXY_PREFIX "proxy:"
#define BALANCER_PREFIX_LC "balancer://"

/* mod_apigw's, or NULL when it is not loaded */
static APR_OPTIONAL_FN_TYPE(apigw_endpoint_deadline) *endpoint_deadline;

void apigw_sus_request_retrieve_fns(void)
{
    endpoint_deadline = APR_RETRIEVE_OPTIONAL_FN(apigw_endpoint_deadline);
}

/* ---- request state ----
 *
 * Kept as userdata of the request's pool (the module's request_config slot
 * belongs to the breaker half). Every hook of a proxied request asks for
 * it, so each thread remembers the last answer: valid while the request
 * (the same request_rec, arrival time and connection) is the same, which
 * is checked without touching the remembered state. */
typedef struct {
    const request_rec *r;
    apr_time_t request_time;
    long conn_id;
    apigw_sus_req *st;
} req_cache;

static __thread req_cache last_req;

static void remember(request_rec *r, apigw_sus_req *st)
{
    last_req.r = r;
    last_req.request_time = r->request_time;
    last_req.conn_id = r->connection->id;
    last_req.st = st;
}

apigw_sus_req *apigw_sus_req_get(request_rec *r)
{
    void *st = NULL;

    if (last_req.r == r && last_req.request_time == r->request_time
        && last_req.conn_id == r->connection->id) {
        return last_req.st;
    }
    apr_pool_userdata_get(&st, REQ_KEY, r->pool);
    remember(r, st);
    return st;
}

static apigw_sus_req *req_make(request_rec *r)
{
    apigw_sus_req *st = apigw_sus_req_get(r);

    if (!st) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        apr_pool_userdata_setn(st, REQ_KEY, NULL, r->pool);
        remember(r, st);
    }
    return st;
}

int apigw_sus_req_tried(const apigw_sus_req *st, const proxy_worker *w)
{
    int idx = w->s->index;

    if (!st || idx < 0 || idx >= 128) {
        return 0;
    }
    return (st->tried[idx / 64] >> (idx % 64)) & 1;
}

static void mark_tried(apigw_sus_req *st, const proxy_worker *w)
{
    int idx = w->s->index;

    if (idx >= 0 && idx < 128) {
        st->tried[idx / 64] |= (apr_uint64_t)1 << (idx % 64);
    }
}

static int is_balancer_url(const char *url)
{
    return url && strncasecmp(url, BALANCER_PREFIX_LC,
                              sizeof(BALANCER_PREFIX_LC) - 1) == 0;
}

/* The pool of a request mod_proxy is to send to a balancer, or NULL. */
static apigw_sus_pool *pool_of_request(request_rec *r)
{
    if (!r->filename || strncmp(r->filename, PROXY_PREFIX,
                                sizeof(PROXY_PREFIX) - 1) != 0
        || !is_balancer_url(r->filename + sizeof(PROXY_PREFIX) - 1)) {
        return NULL;
    }
    return apigw_sus_pool_of_url(r->server, r->pool,
                                 r->filename + sizeof(PROXY_PREFIX) - 1);
}

/* The timeout mod_proxy connects to member w with. */
static apr_interval_time_t connect_timeout(request_rec *r,
                                           const proxy_worker *w)
{
    proxy_server_conf *pc;

    if (w->s->conn_timeout_set) {
        return w->s->conn_timeout;
    }
    if (w->s->timeout_set) {
        return w->s->timeout;
    }
    pc = ap_get_module_config(r->server->module_config, &proxy_module);
    return pc->timeout_set ? pc->timeout : r->server->timeout;
}

/* ---- fixups: the affinity session ---- */

int apigw_sus_request_fixups(request_rec *r)
{
    apigw_sus_pool *pool;
    const char *value = NULL;

    if (!apigw_sus_affinity_in_use || !r->proxyreq
        || !(pool = pool_of_request(r)) || !pool->affinity) {
        return DECLINED;
    }
    switch (pool->affinity->kind) {
    case APIGW_SUS_AFFINITY_COOKIE:
        if (ap_cookie_read(r, pool->affinity->name, &value, 0) != APR_SUCCESS) {
            value = NULL;
        }
        break;
    case APIGW_SUS_AFFINITY_HEADER:
        value = apr_table_get(r->headers_in, pool->affinity->name);
        break;
    case APIGW_SUS_AFFINITY_NONE:
        break;
    }
    if (value && *value) {
        req_make(r)->session_key = apigw_sus_session_key(value, strlen(value));
    }
    return DECLINED;
}

/* ---- proxy hooks ---- */

int apigw_sus_request_pre_request(proxy_worker **worker,
                                  proxy_balancer **balancer, request_rec *r,
                                  proxy_server_conf *conf, char **url)
{
    apigw_sus_req *st;

    (void)conf;
    if (!*balancer) {
        /* an attempt starts (the first of this run of mod_proxy) */
        if (!is_balancer_url(*url)) {
            return DECLINED;
        }
        if (!(st = apigw_sus_req_get(r))) {
            apigw_sus_pool *pool = apigw_sus_pool_of_url(r->server, r->pool,
                                                         *url);
            /* every balancer's: its members' counters (apigw_sus_report)
             * are kept for any pool, with a policy of ours or not */
            if (!pool) {
                return DECLINED;
            }
            st = req_make(r);
            st->pool = pool;
        }
    }
    else {
        /* mod_proxy fails over: the connection to *worker failed */
        if (!(st = apigw_sus_req_get(r))) {
            return DECLINED;
        }
        if (*worker) {
            apigw_sus_pool *pool = apigw_sus_pool_of(r->server, *balancer);
            apr_interval_time_t took = apr_time_now() - st->attempt_start;
            apigw_sus_outcome o;

            o.status = 0;
            o.transport = apr_table_get(r->notes, "proxy_timedout")
                          ? APIGW_SUS_READ_TIMEOUT      /* 100-continue */
                          : took >= connect_timeout(r, *worker) * 9 / 10
                          ? APIGW_SUS_CONNECT_TIMEOUT
                          : APIGW_SUS_CONNECT_REFUSED;
            mark_tried(st, *worker);
            if (pool) {
                apigw_sus_report(r, pool, *worker, &o, st->attempt_start);
            }
            if (st->probe == *worker) {
                st->probe = NULL;
            }
        }
    }
    st->attempt_start = apr_time_now();
    st->worker = NULL;
    st->reused = 0;
    return DECLINED;
}

/* rp reads the member's response on the backend connection. Runs after
 * mod_apigw's create_req, which shortens the socket's timeout to what is
 * left of an endpoint's ApiTimeout when that is clearly less; "never"
 * lifts any timeout for this exchange. */
int apigw_sus_request_create_req(request_rec *r, request_rec *rp)
{
    apigw_sus_req *st = apigw_sus_req_get(r);
    const struct apigw_sus_dir_conf *dc;
    apr_socket_t *sock;
    apr_interval_time_t current;

    if (!st || !rp->connection) {
        return DECLINED;
    }
    st->reused = rp->connection->keepalives > 0;
    dc = apigw_sus_dir(r);
    if (!dc || dc->timeout_action != APIGW_SUS_ACTION_NEVER) {
        return DECLINED;
    }
    sock = ap_get_conn_socket(rp->connection);
    if (sock && apr_socket_timeout_get(sock, &current) == APR_SUCCESS
        && current >= 0) {
        apigw_socket_timeout_scoped(rp->pool, sock, -1, current);
    }
    return DECLINED;
}

int apigw_sus_request_post_request(proxy_worker *worker,
                                   proxy_balancer *balancer, request_rec *r,
                                   proxy_server_conf *conf)
{
    apigw_sus_req *st = apigw_sus_req_get(r);

    (void)conf;
    if (st && worker && balancer) {
        st->worker = worker;
        if (!st->pool || st->pool->balancer->s != balancer->s) {
            st->pool = apigw_sus_pool_of(r->server, balancer);
        }
        mark_tried(st, worker);
    }
    /* mod_proxy_balancer's own post_request runs after us */
    return DECLINED;
}

typedef struct {
    const char *name;
    apr_size_t name_len;
    const char *value;
    apr_size_t value_len;
} cookie_find;

/* apr_table_do over Set-Cookie headers: stops at the first one that sets
 * the affinity cookie to a value. */
static int find_set_cookie(void *data, const char *key, const char *val)
{
    cookie_find *cf = data;

    (void)key;
    return !apigw_sus_set_cookie_value(val, cf->name, cf->name_len,
                                       &cf->value, &cf->value_len);
}

/* A successful answer: the session (the request's, or the one the member
 * just set with Set-Cookie) now goes to this member. */
static void remember_session(request_rec *r, apigw_sus_req *st)
{
    const apigw_sus_affinity_conf *a = st->pool->affinity;
    apr_uint64_t key = st->session_key;

    if (a->kind == APIGW_SUS_AFFINITY_COOKIE) {
        cookie_find cf = { a->name, strlen(a->name), NULL, 0 };
        apr_table_do(find_set_cookie, &cf, r->headers_out, "Set-Cookie", NULL);
        if (!cf.value) {
            apr_table_do(find_set_cookie, &cf, r->err_headers_out,
                         "Set-Cookie", NULL);
        }
        if (cf.value) {
            key = apigw_sus_session_key(cf.value, cf.value_len);
        }
    }
    if (key) {
        apigw_sus_session_put(st->pool->sessions,
                              (apr_uint32_t)a->sessions, key,
                              st->worker->s->index, apr_time_now(),
                              a->timeout);
    }
}

/* What the attempt came to, from what mod_proxy left: its status, the
 * notes mod_proxy_http sets, and how long a failed connect took. Returns
 * 0 when the outcome says nothing about the member (the client went
 * away, the client's request was refused). */
static int outcome_of(request_rec *r, apigw_sus_req *st, int status,
                      apigw_sus_outcome *o)
{
    const char *ps, *notes;

    o->transport = 0;
    o->status = 0;
    if (status == OK) {
        /* the member's, as mod_proxy passed it (a gRPC one's grpc-status) */
        o->status = apigw_outcome_status(r);
        return 1;
    }
    if (status == DONE) {
        /* mod_proxy_http answers DONE when the client aborted or the
         * member broke off its response */
        if (r->connection->aborted) {
            return 0;
        }
        o->transport = APIGW_SUS_CLOSED;
        return 1;
    }
    ps = apr_table_get(r->notes, "proxy-status");
    if (ps && apr_table_get(r->notes, "proxy-error-override")) {
        o->status = atoi(ps);
        return 1;
    }
    if (apr_table_get(r->notes, "proxy_timedout")) {
        o->transport = APIGW_SUS_READ_TIMEOUT;
        return 1;
    }
    switch (status) {
    case HTTP_SERVICE_UNAVAILABLE:
        o->transport = apr_time_now() - st->attempt_start
                       >= connect_timeout(r, st->worker) * 9 / 10
                       ? APIGW_SUS_CONNECT_TIMEOUT : APIGW_SUS_CONNECT_REFUSED;
        return 1;
    case HTTP_INTERNAL_SERVER_ERROR:
        notes = apr_table_get(r->notes, "error-notes");
        if (notes && ap_strstr_c(notes, "DNS lookup failure")) {
            o->transport = APIGW_SUS_DNS;
        }
        else if (notes && ap_strstr_c(notes, "SSL Handshake")) {
            o->transport = APIGW_SUS_TLS;
        }
        else {
            o->transport = APIGW_SUS_CLOSED;
        }
        return 1;
    case HTTP_BAD_GATEWAY:
        o->transport = APIGW_SUS_CLOSED;
        return 1;
    case HTTP_GATEWAY_TIME_OUT:
        o->transport = APIGW_SUS_READ_TIMEOUT;
        return 1;
    default:
        return 0;
    }
}

/* Did the attempt fail in a way a retry on another member may cure? */
static int attempt_failed(const apigw_sus_req *st, const apigw_sus_outcome *o)
{
    const apigw_sus_policy *pol;
    apigw_sus_class cls;

    if (o->transport) {
        return 1;
    }
    pol = st->pool ? apigw_sus_policy_of(st->pool, st->worker) : NULL;
    if (pol) {
        cls = apigw_sus_classify(pol, o);
        if (cls == APIGW_SUS_FAIL_SUSPEND || cls == APIGW_SUS_FAIL_TIMEOUT) {
            return 1;
        }
    }
    return o->status == HTTP_BAD_GATEWAY
           || o->status == HTTP_SERVICE_UNAVAILABLE
           || o->status == HTTP_GATEWAY_TIME_OUT;
}

int apigw_sus_request_status(int *status, request_rec *r)
{
    apigw_sus_req *st = apigw_sus_req_get(r);
    apigw_sus_outcome o;
    int counts;

    if (!st) {
        return DECLINED;
    }
    st->failed = 0;
    st->timed_out = 0;
    st->unavailable = 0;
    if (!st->worker || !st->pool) {
        /* no member was chosen: all in error, or none usable */
        st->unavailable = *status == HTTP_SERVICE_UNAVAILABLE;
        return DECLINED;
    }
    counts = outcome_of(r, st, *status, &o);
    st->outcome = o;
    if (!counts) {
        return DECLINED;
    }
    st->timed_out = o.transport == APIGW_SUS_READ_TIMEOUT;
    st->failed = (*status != OK || o.transport) && attempt_failed(st, &o);
    if (o.transport == APIGW_SUS_CLOSED && st->reused) {
        /* a kept-alive backend connection the member had closed: its
         * keep-alive race, not a failure of the member (the request may
         * still be replayed) */
        counts = 0;
    }
    if (counts) {
        apigw_sus_report(r, st->pool, st->worker, &o, st->attempt_start);
    }
    if (st->probe == st->worker) {
        apigw_sus_probe_release(st->pool, st->worker);
        st->probe = NULL;
    }
    if (*status == OK && !st->failed && st->pool->affinity
        && st->pool->sessions) {
        remember_session(r, st);
    }
    return DECLINED;
}

/* ---- the retry loop and the timeout action ---- */

static int is_idempotent(const request_rec *r)
{
    switch (r->method_number) {
    case M_GET:
    case M_PUT:
    case M_DELETE:
    case M_OPTIONS:
    case M_TRACE:
        return 1;
    default:
        return 0;
    }
}

/* A request that can be sent again as it is: idempotent, no body. */
static int is_replayable(const request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    if (!is_idempotent(r) || apr_table_get(r->headers_in, "Transfer-Encoding")
        || r->read_chunked) {
        return 0;
    }
    return !cl || strcmp(cl, "0") == 0;
}

static int nothing_sent(const request_rec *r)
{
    return !r->sent_bodyct && !r->eos_sent && !r->bytes_sent
           && !r->connection->aborted;
}

/* What mod_proxy left of a failed attempt, cleared for the next one;
 * headers_out goes back to what other modules had set before it. */
static void reset_attempt(request_rec *r, const char *filename,
                          const char *max_forwards, apr_table_t *headers_out)
{
    static const char *const notes[] = {
        "proxy_timedout", "proxy-status", "proxy-error-override",
        "error-notes", "verbose-error-to", "proxy-source-port",
        "session-sticky", "session-route", NULL
    };
    int i;

    r->filename = (char *)filename;
    r->status = HTTP_OK;
    r->status_line = NULL;
    r->content_type = NULL;
    r->content_encoding = NULL;
    for (i = 0; notes[i]; i++) {
        apr_table_unset(r->notes, notes[i]);
    }
    r->headers_out = headers_out ? apr_table_copy(r->pool, headers_out)
                                 : apr_table_make(r->pool, 8);
    if (max_forwards) {
        apr_table_set(r->headers_in, "Max-Forwards", max_forwards);
    }
    else {
        apr_table_unset(r->headers_in, "Max-Forwards");
    }
}

/* How long the attempts may take, from the request's arrival: within=,
 * else ProxyTimeout (or Timeout), and inside an <ApiEndpoint> no longer
 * than its ApiTimeout, whatever within= says (mod_apigw's deadline, read
 * only here, once an attempt failed: also when it failed before any
 * backend connection). */
static apr_time_t budget_end(request_rec *r,
                             const struct apigw_sus_dir_conf *dc)
{
    proxy_server_conf *pc = ap_get_module_config(r->server->module_config,
                                                 &proxy_module);
    apr_time_t end, deadline;

    if (dc && dc->within > 0) {
        end = r->request_time + dc->within;
    }
    else {
        end = r->request_time + (pc->timeout_set ? pc->timeout
                                                 : r->server->timeout);
    }
    deadline = endpoint_deadline ? endpoint_deadline(r) : 0;
    return deadline > 0 && deadline < end ? deadline : end;
}

/* Closes the client connection without a response. */
static int discard_response(request_rec *r)
{
    conn_rec *c = r->connection;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, c->bucket_alloc);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(02512)
                  "the balancer member timed out: closing the client "
                  "connection without a response (ApiBalancerTimeoutAction "
                  "discard)");
    r->status = HTTP_GATEWAY_TIME_OUT;
    r->status_line = NULL;
    c->keepalive = AP_CONN_CLOSE;
    /* the end-of-connection bucket makes httpd's header filter step
     * aside, so not even a status line is written */
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_eoc_create(c->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return DONE;
}

static int run_proxy_once(request_rec *r, int may_retry)
{
    conn_rec *c = r->connection;
    int keepalives = c->keepalives, status;

    /* On a kept-alive client connection mod_proxy_http answers a member
     * that closed before answering by closing the client connection (the
     * client may replay). While we can replay the request ourselves, it
     * must answer an error instead; the count of kept-alive requests is
     * restored (plus any this response added). */
    if (may_retry) {
        c->keepalives = 0;
    }
    status = apigw_proxy_handler_run(r);
    if (may_retry) {
        c->keepalives += keepalives;
    }
    return status;
}

int apigw_sus_request_handler(request_rec *r)
{
    const struct apigw_sus_dir_conf *dc;
    proxy_balancer *b;
    apigw_sus_pool *pool;
    apigw_sus_req *st;
    const char *filename, *max_forwards;
    apr_table_t *headers_out = NULL;
    int retries, action, attempt, status, replayable;

    if (!r->handler || strcmp(r->handler, "proxy-server") != 0) {
        return DECLINED;
    }
    st = apigw_sus_req_get(r);
    if (st && st->wrapping) {
        return DECLINED;            /* our own run of mod_proxy's handler */
    }
    if (!(pool = pool_of_request(r))) {
        return DECLINED;
    }
    b = pool->balancer;
    dc = apigw_sus_dir(r);
    retries = (dc && dc->retries >= 0) ? dc->retries
              : apigw_sus_lbmethod_is_failover(b) ? b->workers->nelts - 1 : 0;
    action = dc ? dc->timeout_action : APIGW_SUS_ACTION_UNSET;
    /* the default action where any of ours applies to the request */
    if (action == APIGW_SUS_ACTION_UNSET
        && (pool->managed || retries > 0 || (dc && dc->retries >= 0))) {
        action = APIGW_SUS_ACTION_FAULT;
    }
    if (retries <= 0 && (action == APIGW_SUS_ACTION_UNSET
                         || action == APIGW_SUS_ACTION_NEVER)) {
        return DECLINED;
    }

    st = req_make(r);
    st->pool = pool;
    st->wrapping = 1;
    filename = r->filename;
    max_forwards = apr_table_get(r->headers_in, "Max-Forwards");
    if (max_forwards) {
        max_forwards = apr_pstrdup(r->pool, max_forwards);
    }
    replayable = is_replayable(r);
    if (retries > 0 && !apr_is_empty_table(r->headers_out)) {
        headers_out = apr_table_copy(r->pool, r->headers_out);
    }
    for (attempt = 0;; attempt++) {
        apr_interval_time_t delay = dc ? dc->retry_delay : 0;
        apr_time_t now;

        status = run_proxy_once(r, replayable && attempt < retries);
        if ((status == OK || status == DONE) && !st->failed) {
            break;
        }
        if (attempt >= retries || !nothing_sent(r)
            || !(st->failed || st->unavailable)) {
            break;
        }
        /* a refused or failed connection sent nothing: any request may go
         * again; otherwise only what can be replayed */
        if (!replayable && !st->unavailable
            && !(st->outcome.transport & (APIGW_SUS_CONNECT_REFUSED
                                          | APIGW_SUS_CONNECT_TIMEOUT
                                          | APIGW_SUS_DNS))) {
            break;
        }
        now = apr_time_now();
        if (now + delay >= budget_end(r, dc)) {
            break;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(02511)
                      "%s: attempt %d failed (%s%s): trying again%s",
                      b->s->name, attempt + 1,
                      st->unavailable ? "no member available"
                                      : apigw_sus_outcome_text(r->pool,
                                                               &st->outcome),
                      st->worker ? apr_pstrcat(r->pool, " on ",
                                               st->worker->s->name_ex, NULL)
                                 : "",
                      delay ? apr_psprintf(r->pool, " in %" APR_TIME_T_FMT
                                           "ms", apr_time_as_msec(delay))
                            : "");
        if (delay > 0) {
            apr_sleep(delay);
        }
        reset_attempt(r, filename, max_forwards, headers_out);
    }
    st->wrapping = 0;

    if (st->timed_out && status != OK && status != DONE && nothing_sent(r)) {
        switch (action) {
        case APIGW_SUS_ACTION_FAULT:
            return apigw_send_error(r, HTTP_GATEWAY_TIME_OUT,
                                    "the backend did not answer in time");
        case APIGW_SUS_ACTION_DISCARD:
            return discard_response(r);
        default:
            break;
        }
    }
    return status;
}
