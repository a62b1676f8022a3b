/* Streams through an endpoint (see apigw_stream.h).
 *
 * WebSocket: mod_proxy_http carries the upgrade (a ws:// or wss:// worker,
 * or one with upgrade=websocket) and runs the tunnel itself, in the
 * request's thread, with an idle timeout that is the longer of the client
 * and backend sockets' timeouts when the 101 arrives. The gateway checks
 * the handshake before any backend sees it (RFC 6455 4.2.1: GET over
 * HTTP/1.1 without a body, the Connection upgrade token, a 16-byte key,
 * version 13; the Origin against the endpoint's CORS list, against
 * cross-site WebSocket hijacking), sets
 * both sockets to ApiWebSocketIdleTimeout so the tunnel idles out exactly
 * then and never at ApiTimeout, and bounds the tunnels a child holds at
 * once (each holds a worker thread), so WebSockets cannot take every
 * thread from the other requests: past the bound a handshake is answered
 * 503 with Retry-After.
 *
 * Streaming responses: ApiTimeout bounds each backend read; a server-sent
 * event stream or a gRPC stream may stay silent longer between messages,
 * so once such a response's head arrived its reads wait
 * ApiStreamIdleTimeout instead. mod_proxy_http flushes to the client
 * whenever the backend pauses, so events reach the client as written.
 * A gRPC response's grpc-status is noted at its end, so breakers and
 * suspension judge it by that (apigw_outcome_status). */
#include "apigw_stream.h"
#include "apigw_ws_handshake.h"
#include "apigw_policy.h"
#include "apigw_parse.h"
#include "apigw_contract.h"
#include "apigw_grpc_status.h"
#include "apigw_json_error.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "ap_mpm.h"
#include "apr_atomic.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

ap_filter_rec_t *apigw_stream_filter_handle;

/* This child's open tunnels and how many it may hold (child_init). */
static apr_uint32_t ws_open;
static apr_uint32_t ws_max = 1;

/* ---- the handshake ---- */

int apigw_ws_requested(const request_rec *r)
{
    return apigw_ws_has_token(apr_table_get(r->headers_in, "Upgrade"),
                              "websocket");
}

/* The handshake itself (RFC 6455 4.1): 0, or the status and why. */
static int handshake_status(request_rec *r, const char **message)
{
    const char *clen = apr_table_get(r->headers_in, "Content-Length");
    const char *version;

    if (r->method_number != M_GET) {
        *message = "a WebSocket opens with GET";
        return HTTP_BAD_REQUEST;
    }
    if (r->proto_num < HTTP_VERSION(1, 1)) {
        /* httpd sends no 101 to an HTTP/1.0 client: the tunnel would
         * open without the client knowing */
        *message = "a WebSocket opens over HTTP/1.1";
        return HTTP_BAD_REQUEST;
    }
    if (apr_table_get(r->headers_in, "Transfer-Encoding")
        || (clen && strspn(clen, "0") != strlen(clen))) {
        *message = "a WebSocket handshake carries no body";
        return HTTP_BAD_REQUEST;
    }
    if (!apigw_ws_has_token(apr_table_get(r->headers_in, "Connection"),
                            "upgrade")) {
        *message = "a WebSocket handshake needs Connection: Upgrade";
        return HTTP_BAD_REQUEST;
    }
    version = apr_table_get(r->headers_in, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13") != 0) {
        apr_table_setn(r->err_headers_out, "Sec-WebSocket-Version", "13");
        *message = "only WebSocket version 13 is supported";
        return HTTP_UPGRADE_REQUIRED;
    }
    if (!apigw_ws_key_valid(apr_table_get(r->headers_in,
                                          "Sec-WebSocket-Key"))) {
        *message = "Sec-WebSocket-Key must be 16 bytes in base64";
        return HTTP_BAD_REQUEST;
    }
    return 0;
}

int apigw_ws_check(request_rec *r, const apigw_endpoint *ep,
                   const char **message)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    int status;

    if (ep->aggregate) {
        *message = "an aggregating endpoint cannot carry a WebSocket";
        return HTTP_BAD_REQUEST;
    }
    if (!APR_ARRAY_IDX(ep->conf->backends, 0, apigw_backend *)->websocket) {
        *message = "this endpoint does not accept WebSocket upgrades";
        return HTTP_BAD_REQUEST;
    }
    if ((status = handshake_status(r, message)) != 0) {
        return status;
    }
    if (!apigw_cors_ws_origin_allowed(ep, origin)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00801)
                      "endpoint %s: WebSocket refused, origin %s is not on "
                      "its CORS list", ep->pattern,
                      ap_escape_logitem(r->pool, origin));
        *message = "this origin may not open WebSockets here";
        return HTTP_FORBIDDEN;
    }
    /* mod_proxy_http upgrades on "websocket" alone, not on a list */
    apr_table_setn(r->headers_in, "Upgrade", "websocket");
    return 0;
}

int apigw_ws_handshake_header(const char *name, apr_size_t len)
{
    static const char prefix[] = "Sec-WebSocket-";
    const apr_size_t plen = sizeof(prefix) - 1;
    const char *rest;

    if (len <= plen || ap_cstr_casecmpn(name, prefix, plen) != 0) {
        return 0;
    }
    rest = name + plen;
    return !ap_cstr_casecmp(rest, "Key") || !ap_cstr_casecmp(rest, "Version")
        || !ap_cstr_casecmp(rest, "Protocol")
        || !ap_cstr_casecmp(rest, "Extensions");
}

/* ---- the tunnel ---- */

apr_interval_time_t apigw_ws_idle(const apigw_endpoint *ep)
{
    return ep->ws_idle ? ep->ws_idle : APIGW_DEFAULT_WS_IDLE;
}

apr_interval_time_t apigw_stream_idle(const apigw_endpoint *ep)
{
    return ep->stream_idle ? ep->stream_idle : APIGW_DEFAULT_STREAM_IDLE;
}

int apigw_ws_begin(request_rec *r, apigw_request *rq)
{
    if (apr_atomic_inc32(&ws_open) >= ws_max) {
        apr_atomic_dec32(&ws_open);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00802)
                      "endpoint %s: WebSocket refused, this child holds "
                      "%u already (ApiWebSocketMaxPerChild)",
                      rq->endpoint->pattern, (unsigned)ws_max);
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    rq->ws_slot = 1;
    rq->client_timeout = -1;
    return OK;
}

void apigw_ws_end(request_rec *r, apigw_request *rq)
{
    if (!rq->ws_slot) {
        return;
    }
    rq->ws_slot = 0;
    apr_atomic_dec32(&ws_open);
    if (rq->client_timeout >= 0) {
        apr_socket_timeout_set(ap_get_conn_socket(r->connection),
                               rq->client_timeout);
    }
}

/* The client side: its socket waits the idle timeout too, so the tunnel's
 * timeout (the longer of the two) is exactly the idle timeout. Not on an
 * HTTP/2 stream (RFC 8441): its connection's socket is mod_http2's, one
 * for every stream of the process. */
static void client_idle(request_rec *r, apigw_request *rq)
{
    apr_socket_t *csock = ap_get_conn_socket(r->connection);

    if (r->connection->master || !csock || rq->client_timeout >= 0
        || apr_socket_timeout_get(csock, &rq->client_timeout)
           != APR_SUCCESS) {
        return;
    }
    apr_socket_timeout_set(csock, apigw_ws_idle(rq->endpoint));
}

void apigw_ws_switched(request_rec *r, request_rec *rp)
{
    apigw_request *rq = apigw_request_get(r);
    apr_socket_t *sock = rp->connection ? ap_get_conn_socket(rp->connection)
                                        : NULL;
    apr_interval_time_t current;

    if (!rq || !rq->websocket || !rq->ws_slot || !sock
        || apr_socket_timeout_get(sock, &current) != APR_SUCCESS) {
        return;
    }
    apigw_socket_timeout_scoped(rp->pool, sock, apigw_ws_idle(rq->endpoint),
                                current);
    client_idle(r, rq);
}

/* ---- streaming responses ---- */

/* The backend connection is released (its request's pool destroyed, the
 * socket back in the pool or closed) before mod_proxy_http passes the
 * response's last brigade on: from then on the filter must not touch it. */
static apr_status_t backend_gone(void *data)
{
    apigw_request *rq = data;

    rq->backend_sock = NULL;
    rq->backend_pool = NULL;
    return APR_SUCCESS;
}

void apigw_stream_backend_seen(request_rec *r, request_rec *rp,
                               apr_socket_t *sock)
{
    apigw_request *rq = apigw_request_get(r);

    if (rq && !rq->websocket) {
        if (rq->backend_pool) {      /* an earlier attempt's, still held */
            apr_pool_cleanup_run(rq->backend_pool, rq, backend_gone);
        }
        rq->backend_sock = sock;
        rq->backend_pool = rp->pool;
        apr_pool_cleanup_register(rp->pool, rq, backend_gone,
                                  apr_pool_cleanup_null);
    }
}

static int is_stream_type(const char *ctype)
{
    return ctype && (ap_cstr_casecmpn(ctype, "text/event-stream", 17) == 0
                     || apigw_grpc_content_type(ctype));
}

/* A gRPC response's status, for apigw_outcome_status: in its trailers,
 * or in its headers when it is Trailers-Only. Read at the EOS, before
 * mod_http2 takes the trailers away to send them. */
static void note_grpc_status(request_rec *r)
{
    const char *g = r->trailers_out ? apr_table_get(r->trailers_out,
                                                    "grpc-status") : NULL;

    if (!g) {
        g = apr_table_get(r->headers_out, "grpc-status");
    }
    if (g && !apr_table_get(r->notes, APIGW_NOTE_STATUS)) {
        apr_table_setn(r->notes, APIGW_NOTE_GRPC_STATUS, g);
    }
}

/* f->ctx: NULL before the head, then grpc_watch while a gRPC response
 * is watched for its end. */
static char grpc_watch;

apr_status_t apigw_stream_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apigw_request *rq = apigw_request_get(r);
    apr_bucket *b;

    if (!f->ctx) {
        if (rq && rq->endpoint && rq->backend_sock
            && is_stream_type(r->content_type)) {
            apr_interval_time_t current;

            if (apr_socket_timeout_get(rq->backend_sock, &current)
                == APR_SUCCESS) {
                apigw_socket_timeout_scoped(rq->backend_pool,
                                            rq->backend_sock,
                                            apigw_stream_idle(rq->endpoint),
                                            current);
            }
        }
        if (!apigw_grpc_content_type(r->content_type)) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        f->ctx = &grpc_watch;
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_EOS(b)) {
            note_grpc_status(r);
            ap_remove_output_filter(f);
            break;
        }
    }
    return ap_pass_brigade(f->next, bb);
}

/* ---- configuration ---- */

int apigw_stream_prepare(apigw_endpoint *ep, const apigw_server_conf *sc)
{
    const apigw_backend *be;
    const char *scheme;

    ep->ws_idle = ep->conf->ws_idle ? ep->conf->ws_idle : sc->ws_idle;
    ep->stream_idle = ep->conf->stream_idle ? ep->conf->stream_idle
                                            : sc->stream_idle;
    if (ep->aggregate || !ep->conf->stream_idle
        || ep->conf->backends->nelts != 1) {
        return OK;
    }
    /* mod_proxy_http2 waits on its connection with the worker's timeout:
     * an endpoint's own ApiStreamIdleTimeout would be a promise not kept */
    be = APR_ARRAY_IDX(ep->conf->backends, 0, apigw_backend *);
    scheme = apigw_template_scheme(be->tpl);
    if (strcmp(scheme, "h2") == 0 || strcmp(scheme, "h2c") == 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, NULL, APIGW_LOGNO(00800)
                     "<ApiEndpoint %s> (%s:%u): ApiStreamIdleTimeout has no "
                     "effect on an %s:// backend, whose streams wait "
                     "ApiTimeout between messages; give a streaming method "
                     "an endpoint of its own with a longer ApiTimeout",
                     ep->pattern, ep->file, ep->line, scheme);
        return !OK;
    }
    return OK;
}

void apigw_stream_child_init(apr_pool_t *pchild, server_rec *s)
{
    const apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                       &apigw_module);
    int threads = 1;

    (void)pchild;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    if (sc->ws_max_per_child > 0) {
        ws_max = (apr_uint32_t)sc->ws_max_per_child;
    }
    else {
        /* a quarter of the threads stays for everything else */
        ws_max = threads > 3 ? (apr_uint32_t)(threads - threads / 4) : 1;
    }
    apr_atomic_set32(&ws_open, 0);
}

const char *apigw_stream_set_idle(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    int ws = strcmp(cmd->info, "ws") == 0;
    apr_interval_time_t t;
    const char *err;

    if (cmd->path && !apigw_cmd_in_endpoint(cmd)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " belongs in the "
                           "server config, a <VirtualHost> or an "
                           "<ApiEndpoint>", NULL);
    }
    if ((err = apigw_parse_duration(arg, &t)) != NULL) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, arg, err);
    }
    if (t < apr_time_from_sec(1) || t > apr_time_from_sec(86400)) {
        return apr_psprintf(cmd->pool, "%s %s: must be between 1s and 24h",
                            cmd->cmd->name, arg);
    }
    if (cmd->path) {
        apigw_dir_conf *c = dconf;
        *(ws ? &c->ws_idle : &c->stream_idle) = t;
    }
    else {
        apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                     &apigw_module);
        *(ws ? &sc->ws_idle : &sc->stream_idle) = t;
    }
    return NULL;
}

const char *apigw_stream_set_ws_max(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                 &apigw_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t n;
    char *end;

    (void)dconf;
    if (err) {
        return err;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || n < 1 || n > 100000) {
        return apr_psprintf(cmd->pool, "ApiWebSocketMaxPerChild %s: must be "
                            "a whole number from 1 to 100000", arg);
    }
    sc->ws_max_per_child = (int)n;
    return NULL;
}
