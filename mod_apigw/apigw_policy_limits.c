/* Body limits. The request body limit (ApiRequestBodyLimit) narrows the
 * LimitRequestBody enforcement apigw_request.c already does for endpoints
 * (a declared length over it is 413 before any backend is contacted; a
 * chunked body is counted while it streams): it only decides the number.
 * The response body limit (ApiResponseBodyLimit) is enforced by the policy
 * output filter in apigw_policy_config.c: a declared length over it is
 * answered 502, an undeclared body that crosses it aborts the connection.
 * Aggregating endpoints, which read the body themselves, get the request
 * limit from here (below). */
#include "apigw_policy_conf.h"
#include "apigw_log.h"

#include "http_log.h"
#include "http_protocol.h"
#include "util_filter.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

apr_off_t apigw_limits_request_body(const apigw_policy_conf *pol,
                                    apr_off_t httpd_limit)
{
    apr_off_t own = pol->request_body_limit;

    if (own <= 0) {
        return httpd_limit;
    }
    return httpd_limit > 0 && httpd_limit < own ? httpd_limit : own;
}

/* ---- aggregating endpoints ----
 *
 * An aggregating endpoint reads the client's body in its own handler, not
 * through mod_proxy, so ApiRequestBodyLimit is applied here, in fixups: a
 * declared length over it is 413 at once, a chunked body is counted by an
 * input filter whose APR_ENOSPC the handler maps to 413. */

typedef struct {
    apr_off_t limit;
    apr_off_t seen;
} agg_body_limit;

static ap_filter_rec_t *agg_limit_handle;

static apr_status_t agg_limit_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                     ap_input_mode_t mode,
                                     apr_read_type_e block, apr_off_t readbytes)
{
    agg_body_limit *bl = f->ctx;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    apr_off_t len = 0;

    if (rv != APR_SUCCESS || mode != AP_MODE_READBYTES) {
        return rv;
    }
    apr_brigade_length(bb, 1, &len);
    bl->seen += len;
    if (bl->seen > bl->limit) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, f->r, APIGW_LOGNO(00640)
                      "request body over ApiRequestBodyLimit (%" APR_OFF_T_FMT
                      " bytes)", bl->limit);
        apr_brigade_cleanup(bb);
        return APR_ENOSPC;
    }
    return APR_SUCCESS;
}

int apigw_limits_aggregate_request(request_rec *r, const apigw_policy_conf *pol)
{
    apr_off_t limit = pol->request_body_limit;
    const char *cl;
    agg_body_limit *bl;

    if (limit <= 0) {
        return OK;
    }
    if ((cl = apr_table_get(r->headers_in, "Content-Length")) != NULL) {
        apr_off_t n;
        char *end;
        if (apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end && n > limit) {
            r->connection->keepalive = AP_CONN_CLOSE;
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        return OK;
    }
    if (apr_table_get(r->headers_in, "Transfer-Encoding")) {
        bl = apr_pcalloc(r->pool, sizeof(*bl));
        bl->limit = limit;
        ap_add_input_filter_handle(agg_limit_handle, bl, r, r->connection);
    }
    return OK;
}

void apigw_limits_register(void)
{
    agg_limit_handle = ap_register_input_filter("APIGW_POLICY_BODY_LIMIT",
                                                agg_limit_filter, NULL,
                                                AP_FTYPE_RESOURCE);
}
