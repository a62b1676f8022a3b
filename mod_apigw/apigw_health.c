/* The apigw-health handler (see apigw_health.h). It answers from the
 * child that took the request, so a 200 says that child serves; it reads
 * no shared state and takes no lock. */
#include "apigw_health.h"

#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "apr_time.h"

#include <string.h>

int apigw_health_handler(request_rec *r)
{
    apr_time_exp_t t;
    const char *body;

    if (!r->handler || strcmp(r->handler, "apigw-health") != 0) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    apr_time_exp_gmt(&t, r->request_time);
    body = apr_psprintf(r->pool, "{\"agents\":{},\"now\":\"%04d-%02d-%02dT"
                        "%02d:%02d:%02dZ\",\"status\":\"ok\"}",
                        t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                        t.tm_min, t.tm_sec);
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}
