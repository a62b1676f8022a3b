/* The JSON error body every mod_apigw module answers with when it, not a
 * backend, answers a request: {"status":N,"error":"..."} (see the header). */
#include "apigw_json_error.h"
#include "apigw_json.h"

#include "http_protocol.h"
#include "apr_strings.h"

const char *apigw_json_error_body(request_rec *r, int status, const char *message)
{
    return apr_psprintf(r->pool, "{\"status\":%d,\"error\":%s}\n",
                        status, apigw_json_str(r->pool, message));
}

const char *apigw_status_reason(int status)
{
    const char *line = ap_get_status_line(status);
    return strlen(line) > 4 ? line + 4 : line;
}

int apigw_send_error(request_rec *r, int status, const char *message)
{
    const char *body = apigw_json_error_body(r, status, message);
    apr_size_t len = strlen(body);

    r->status = status;
    r->status_line = NULL;          /* mod_proxy may have set its own */
    apr_table_unset(r->notes, "error-notes");
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

