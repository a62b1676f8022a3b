/* Backends as mod_proxy sees them (see apigw_backend.h).
 *
 * A direct backend (http://host:port/...) gets a worker of its own, made
 * with mod_proxy's API but kept out of mod_proxy's worker list, so ProxyPass
 * lookups never see it and it never sees theirs. Endpoints that share an
 * origin and a timeout share one worker, hence one pool of keep-alive
 * connections. The proxy_pre_request hook hands that worker to mod_proxy;
 * balancer:// backends are left to mod_proxy_balancer.
 *
 * ApiTimeout bounds the whole exchange: the worker's socket timeout bounds
 * connect, send and each read, and proxy_create_req shortens the wait for
 * the response head to what is left of the request's budget.
 *
 * proxy_create_req also checks the backend's status line: mod_proxy_http
 * takes anything it cannot parse for an HTTP/0.9 response and passes it on
 * as a 200, which an API gateway must answer 502 instead. */
#include "apigw_backend.h"
#include "apigw_request.h"
#include "apigw_agg.h"
#include "apigw_fetch.h"
#include "apigw_contract.h"
#include "apigw_stream.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_hash.h"
#include "apr_optional_hooks.h"
#include "util_filter.h"

ap_filter_rec_t *apigw_status_line_filter_handle;

APLOG_USE_MODULE(apigw);

/* Workers of this configuration generation, built in the parent before
 * the children fork and only read afterwards. */
static apr_array_header_t *apigw_workers;   /* proxy_worker * */
static int any_aggregate;                   /* start the curl clients */

static proxy_worker *worker_for(apr_pool_t *pconf, apr_hash_t *by_key,
                                const apigw_backend *be,
                                apr_interval_time_t timeout,
                                const char **err)
{
    const char *origin = apigw_template_origin(be->tpl);
    const char *key = apr_psprintf(pconf, "%s|%" APR_TIME_T_FMT "|%d", origin,
                                   timeout, be->websocket);
    proxy_worker *w = apr_hash_get(by_key, key, APR_HASH_KEY_STRING);

    if (w) {
        return w;
    }
    *err = ap_proxy_define_worker(pconf, &w, NULL, NULL, origin, 0);
    if (*err) {
        return NULL;
    }
    w->s->timeout = timeout;
    w->s->timeout_set = 1;
    if (be->websocket && strncmp(origin, "ws", 2) != 0) {
        /* http(s) with upgrade=websocket; ws:// workers upgrade anyway */
        apr_cpystrn(w->s->upgrade, "websocket", sizeof(w->s->upgrade));
    }
    apr_hash_set(by_key, key, APR_HASH_KEY_STRING, w);
    APR_ARRAY_PUSH(apigw_workers, proxy_worker *) = w;
    return w;
}

/* A balancer:// backend with upgrade=websocket: mod_proxy_http upgrades
 * only through members that take WebSockets (ws://, wss://, or their own
 * upgrade=websocket), so every member must. */
static int ws_members_check(apr_pool_t *pconf, const apigw_backend *be,
                            proxy_balancer *bal)
{
    int i;

    for (i = 0; i < bal->workers->nelts; i++) {
        proxy_worker *w = APR_ARRAY_IDX(bal->workers, i, proxy_worker *);
        int ws = !ap_cstr_casecmp(w->s->scheme, "ws")
                 || !ap_cstr_casecmp(w->s->scheme, "wss");

        if (!ap_proxy_worker_can_upgrade(pconf, w, "websocket",
                                         ws ? "websocket" : NULL)) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, NULL, APIGW_LOGNO(00105)
                         "ApiBackend %s upgrade=websocket (%s:%u): member %s "
                         "of the balancer takes no WebSocket; make it ws:// "
                         "or give it upgrade=websocket", be->url, be->file,
                         be->line, ap_proxy_worker_name(pconf, w));
            return !OK;
        }
    }
    return OK;
}

static int prepare_backend(apr_pool_t *pconf, apr_hash_t *by_key,
                           server_rec *s, apigw_endpoint *ep,
                           apigw_backend *be)
{
    const char *err = NULL;

    if (ep->aggregate && !be->is_balancer) {
        return OK;                 /* called through apigw_fetch.c */
    }
    if (be->is_balancer) {
        proxy_server_conf *pc = ap_get_module_config(s->module_config,
                                                     &proxy_module);
        proxy_balancer *bal = ap_proxy_get_balancer(pconf, pc, be->url, 0);

        if (!bal) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00101)
                         "ApiBackend %s (%s:%u): no <Proxy balancer://...> "
                         "with that name is defined for this server",
                         be->url, be->file, be->line);
            return !OK;
        }
        return be->websocket ? ws_members_check(pconf, be, bal) : OK;
    }
    be->worker = worker_for(pconf, by_key, be, ep->timeout, &err);
    if (!be->worker) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00102)
                     "ApiBackend %s (%s:%u): cannot create a proxy worker: %s",
                     be->url, be->file, be->line, err);
        return !OK;
    }
    return OK;
}

int apigw_backends_prepare(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *by_key = apr_hash_make(pconf);

    apigw_workers = apr_array_make(pconf, 8, sizeof(proxy_worker *));
    any_aggregate = 0;
    for (; s; s = s->next) {
        apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                     &apigw_module);
        int i, j;

        for (i = 0; i < sc->endpoints->nelts; i++) {
            apigw_endpoint *ep = APR_ARRAY_IDX(sc->endpoints, i,
                                               apigw_endpoint *);
            ep->timeout = ep->conf->timeout_set ? ep->conf->timeout
                                                : apigw_server_timeout(sc);
            apigw_agg_resolve(ep, sc);
            any_aggregate |= ep->aggregate;
            if (apigw_stream_prepare(ep, sc) != OK) {
                return !OK;
            }
            for (j = 0; j < ep->conf->backends->nelts; j++) {
                apigw_backend *be = APR_ARRAY_IDX(ep->conf->backends, j,
                                                  apigw_backend *);
                if (prepare_backend(pconf, by_key, s, ep, be) != OK) {
                    return !OK;
                }
            }
        }
    }
    return OK;
}

void apigw_backends_child_init(apr_pool_t *pchild, server_rec *s)
{
    int i;

    if (any_aggregate) {
        apigw_fetch_child_init(pchild, s);
    }
    for (i = 0; apigw_workers && i < apigw_workers->nelts; i++) {
        proxy_worker *w = APR_ARRAY_IDX(apigw_workers, i, proxy_worker *);
        apr_status_t rv = ap_proxy_initialize_worker(w, s, pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(00103)
                         "cannot initialize the connection pool to %s; "
                         "its endpoints will answer 502",
                         w->s->name_ex);
        }
    }
}

int apigw_backend_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                             request_rec *r, proxy_server_conf *conf,
                             char **url)
{
    apigw_request *rq = apigw_request_get(r);

    (void)conf;
    (void)url;
    if (!rq || !rq->backend || !rq->backend->worker) {
        return DECLINED;
    }
    if (!PROXY_WORKER_IS_INITIALIZED(rq->backend->worker)) {
        return HTTP_BAD_GATEWAY;
    }
    *worker = rq->backend->worker;
    *balancer = NULL;
    return OK;
}

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* "HTTP/d.d ddd": what mod_proxy_http can parse as a status line. */
static int is_status_line(const char *s, apr_size_t len)
{
    return len >= 12 && memcmp(s, "HTTP/", 5) == 0 && IS_DIGIT(s[5])
        && s[6] == '.' && IS_DIGIT(s[7]) && s[8] == ' ' && IS_DIGIT(s[9])
        && IS_DIGIT(s[10]) && IS_DIGIT(s[11]);
}

/* Reads the backend's first non-empty line and fails the read unless it is
 * an HTTP/1.x status line; then steps aside. A 101 tells apigw_stream.c
 * (f->ctx is the client's request) that the tunnel begins. */
apr_status_t apigw_status_line_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                       ap_input_mode_t mode,
                                       apr_read_type_e block,
                                       apr_off_t readbytes)
{
    char line[16];
    apr_size_t len = sizeof(line) - 1;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);

    if (rv != APR_SUCCESS || mode != AP_MODE_GETLINE) {
        return rv;
    }
    if (apr_brigade_flatten(bb, line, &len) != APR_SUCCESS || len == 0) {
        return rv;
    }
    line[len] = '\0';
    if (line[0] == '\r' || line[0] == '\n') {
        return rv;                     /* a stray CRLF, mod_proxy skips it */
    }
    ap_remove_input_filter(f);
    if (is_status_line(line, len)) {
        if (f->ctx && memcmp(line + 9, "101", 3) == 0) {
            apigw_ws_switched(f->ctx, f->r);
        }
        return rv;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, f->r, APIGW_LOGNO(00104)
                  "the backend's response does not start with an HTTP "
                  "status line");
    apr_brigade_cleanup(bb);
    return APR_EGENERAL;
}

/* rp is the request mod_proxy_http reads the backend's response with, on
 * the backend connection; its pool ends when the connection is released,
 * which is when the socket gets its own timeout back. */
int apigw_backend_create_req(request_rec *r, request_rec *rp)
{
    apigw_request *rq = apigw_request_get(r);
    apr_socket_t *sock;
    apr_interval_time_t left, current;

    if (!rq || !rq->endpoint || !rp->connection) {
        return DECLINED;
    }
    ap_add_input_filter_handle(apigw_status_line_filter_handle, r, rp,
                               rp->connection);
    sock = ap_get_conn_socket(rp->connection);
    if (!sock || apr_socket_timeout_get(sock, &current) != APR_SUCCESS) {
        return DECLINED;
    }
    apigw_stream_backend_seen(r, rp, sock);
    left = apigw_endpoint_deadline(r) - apr_time_now();
    if (left < apr_time_from_msec(1)) {
        left = apr_time_from_msec(1);
    }
    /* Our own workers already carry the endpoint's timeout: only shorten
     * it when the budget is clearly smaller, so the common case costs no
     * cleanup registration. */
    if (current >= 0 && current - left < apr_time_from_msec(10)) {
        return DECLINED;
    }
    apigw_socket_timeout_scoped(rp->pool, sock, left, current);
    return OK;
}
