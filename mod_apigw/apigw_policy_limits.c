/* Request body limits of endpoints, in one place. httpd applies
 * LimitRequestBody only to requests it does not proxy, so the gateway
 * applies it to endpoints itself, narrowed by the endpoint's
 * ApiRequestBodyLimit when that is smaller: a declared length over the
 * limit is 413 before any backend is contacted; a chunked body is counted
 * by an input filter while it streams, whose APR_ENOSPC mod_proxy (or an
 * aggregating endpoint's handler) answers 413. Pass-through endpoints are
 * checked in mod_apigw's handler (apigw_request.c); aggregating ones,
 * which read the body themselves (so httpd enforces LimitRequestBody on
 * them too), in the policies' fixups when they set ApiRequestBodyLimit.
 *
 * The response body limit (ApiResponseBodyLimit) is enforced by the
 * policy output filter (apigw_policy_hooks.c). */
#include "apigw_policy_conf.h"
#include "apigw_request.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "util_filter.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

ap_filter_rec_t *apigw_body_limit_filter_handle;

typedef struct {
    apr_off_t limit;
    apr_off_t seen;
    int own;                       /* ApiRequestBodyLimit, not httpd's */
} body_limit;

apr_status_t apigw_body_limit_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                     ap_input_mode_t mode,
                                     apr_read_type_e block,
                                     apr_off_t readbytes)
{
    body_limit *bl = f->ctx;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    apr_off_t len = 0;

    if (rv != APR_SUCCESS || mode != AP_MODE_READBYTES) {
        return rv;
    }
    apr_brigade_length(bb, 1, &len);
    bl->seen += len;
    if (bl->seen > bl->limit) {
        if (bl->own) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, f->r, APIGW_LOGNO(00640)
                          "request body over ApiRequestBodyLimit (%"
                          APR_OFF_T_FMT " bytes)", bl->limit);
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, f->r, APIGW_LOGNO(00111)
                          "request body over LimitRequestBody (%"
                          APR_OFF_T_FMT " bytes)", bl->limit);
        }
        apr_brigade_cleanup(bb);
        return APR_ENOSPC;
    }
    return APR_SUCCESS;
}

int apigw_body_limit_check(request_rec *r, const apigw_policy_conf *pol)
{
    apr_off_t limit = ap_get_limit_req_body(r), own;
    const char *cl;
    body_limit *bl;
    int is_own = 0;

    own = pol ? pol->request_body_limit : -1;
    if (own > 0 && (limit <= 0 || own <= limit)) {
        limit = own;
        is_own = 1;
    }
    if (limit <= 0) {
        return OK;
    }
    if ((cl = apr_table_get(r->headers_in, "Content-Length")) != NULL) {
        apr_off_t n;
        char *end;
        if (apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end
            && n > limit) {
            r->connection->keepalive = AP_CONN_CLOSE;
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        return OK;
    }
    if (r->read_chunked || apr_table_get(r->headers_in, "Transfer-Encoding")) {
        bl = apr_pcalloc(r->pool, sizeof(*bl));
        bl->limit = limit;
        bl->own = is_own;
        ap_add_input_filter_handle(apigw_body_limit_filter_handle, bl, r,
                                   r->connection);
    }
    return OK;
}
