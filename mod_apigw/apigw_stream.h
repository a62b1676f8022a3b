/* Streams through an endpoint (apigw_stream.c): WebSocket upgrades
 * (the handshake checked at the edge, its headers forwarded whatever
 * ApiInputHeaders says, a bounded number of tunnels per child, the
 * tunnel's idle timeout) and long responses (server-sent events, gRPC
 * streams) whose backend reads wait ApiStreamIdleTimeout instead of
 * ApiTimeout once their head arrived. */
#ifndef APIGW_STREAM_H
#define APIGW_STREAM_H

#include "apigw_config.h"
#include "apigw_request.h"

#define APIGW_DEFAULT_WS_IDLE     apr_time_from_sec(300)
#define APIGW_DEFAULT_STREAM_IDLE apr_time_from_sec(300)

/* Is r a WebSocket opening handshake (an Upgrade header naming
 * websocket)? */
int apigw_ws_requested(const request_rec *r);

/* translate_name, for a handshake to endpoint ep: 0 when it may go on,
 * else the status to answer with and *message (an Allow or
 * Sec-WebSocket-Version header already set on r when one belongs). */
int apigw_ws_check(request_rec *r, const apigw_endpoint *ep,
                   const char **message);

/* One of the handshake's headers (Sec-WebSocket-Key, -Version, -Protocol,
 * -Extensions), kept for the backend whatever ApiInputHeaders says? */
int apigw_ws_handshake_header(const char *name, apr_size_t len);

/* handler, before mod_proxy: takes one of this child's tunnel slots. OK,
 * or 503 when every slot is taken (answered by the caller). apigw_ws_end
 * gives it back, and the client socket's own timeout. */
int apigw_ws_begin(request_rec *r, apigw_request *rq);
void apigw_ws_end(request_rec *r, apigw_request *rq);

/* The backend answered 101 on rp (its response as mod_proxy_http reads
 * it): both connections wait the idle timeout from now on. */
void apigw_ws_switched(request_rec *r, request_rec *rp);

/* proxy create_req: where the backend connection of r is, for the
 * stream filter, for as long as r holds it (rp->pool). */
void apigw_stream_backend_seen(request_rec *r, request_rec *rp,
                               apr_socket_t *sock);

/* Output filter of a proxied endpoint response: a streaming one (server-
 * sent events, gRPC) gets ApiStreamIdleTimeout on its backend reads once
 * its head arrived; then it steps aside. */
apr_status_t apigw_stream_filter(ap_filter_t *f, apr_bucket_brigade *bb);
extern ap_filter_rec_t *apigw_stream_filter_handle;

/* The idle timeouts in force for an endpoint. */
apr_interval_time_t apigw_ws_idle(const apigw_endpoint *ep);
apr_interval_time_t apigw_stream_idle(const apigw_endpoint *ep);

/* check_config: the endpoint's idle timeouts resolved (endpoint, else
 * server, else the defaults); an endpoint's own ApiStreamIdleTimeout over
 * an h2/h2c backend refused (mod_proxy_http2 cannot keep it). Logs and
 * returns !OK on a mistake. */
int apigw_stream_prepare(apigw_endpoint *ep, const apigw_server_conf *sc);

/* child_init: the number of tunnels this child may hold. */
void apigw_stream_child_init(apr_pool_t *pchild, server_rec *s);

/* Directives (apigw_stream.c). */
const char *apigw_stream_set_idle(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *apigw_stream_set_ws_max(cmd_parms *cmd, void *dconf,
                                    const char *arg);

#define APIGW_STREAM_CMDS \
    AP_INIT_TAKE1("ApiWebSocketIdleTimeout", apigw_stream_set_idle, "ws", \
        RSRC_CONF | ACCESS_CONF, "how long an open WebSocket may stay " \
        "silent both ways before it is closed, e.g. 5m (default 5m)"), \
    AP_INIT_TAKE1("ApiStreamIdleTimeout", apigw_stream_set_idle, "stream", \
        RSRC_CONF | ACCESS_CONF, "how long a streaming response (server-" \
        "sent events, gRPC) may wait for its next bytes, e.g. 5m"), \
    AP_INIT_TAKE1("ApiWebSocketMaxPerChild", apigw_stream_set_ws_max, NULL, \
        RSRC_CONF, "how many WebSockets one child process holds at once " \
        "(default three quarters of ThreadsPerChild)"),

#endif
