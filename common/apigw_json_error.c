/* The JSON error body every mod_apigw module answers with when it, not a
 * backend, answers a request: {"status":N,"error":"..."}, or a gRPC
 * status when the request is a gRPC call (see the header). */
#include "apigw_json_error.h"
#include "apigw_json.h"
#include "apigw_grpc_status.h"

#include "http_protocol.h"
#include "apr_strings.h"

const char *apigw_json_error_body(request_rec *r, int status,
                                  const char *message)
{
    return apr_psprintf(r->pool, "{\"status\":%d,\"error\":%s}\n",
                        status, apigw_json_str(r->pool, message));
}

const char *apigw_status_reason(int status)
{
    const char *line = ap_get_status_line(status);
    return strlen(line) > 4 ? line + 4 : line;
}

int apigw_error_for_grpc(const request_rec *r)
{
    /* every gRPC call is a POST */
    return r->method_number == M_POST
           && apigw_grpc_content_type(apr_table_get(r->headers_in,
                                                    "Content-Type"));
}

/* What every answer of the gateway's own has: its status, type, length,
 * never cached, no note of mod_proxy's left for httpd's error page. */
static void error_head(request_rec *r, int status, const char *ctype,
                       apr_size_t len)
{
    r->status = status;
    r->status_line = NULL;          /* mod_proxy may have set its own */
    apr_table_unset(r->notes, "error-notes");
    ap_set_content_type(r, ctype);
    ap_set_content_length(r, (apr_off_t)len);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
}

void apigw_grpc_error_headers(request_rec *r, int status, const char *message)
{
    apr_table_setn(r->notes, APIGW_NOTE_STATUS,
                   apr_itoa(r->pool, status));
    error_head(r, HTTP_OK, "application/grpc", 0);
    apr_table_setn(r->headers_out, "grpc-status",
                   apr_itoa(r->pool, apigw_grpc_status_for_http(status)));
    apr_table_setn(r->headers_out, "grpc-message",
                   apigw_grpc_message_encode(r->pool, message));
}

int apigw_send_error(request_rec *r, int status, const char *message)
{
    const char *body;
    apr_size_t len;

    if (apigw_error_for_grpc(r)) {
        /* a Trailers-Only answer a gRPC client reads as a status */
        apigw_grpc_error_headers(r, status, message);
        return OK;
    }
    body = apigw_json_error_body(r, status, message);
    len = strlen(body);
    error_head(r, status, "application/json", len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

int apigw_outcome_status(const request_rec *r)
{
    const char *v = apr_table_get(r->notes, APIGW_NOTE_STATUS);
    int g;

    if (v) {
        return atoi(v);
    }
    g = apigw_grpc_status_parse(apr_table_get(r->notes,
                                              APIGW_NOTE_GRPC_STATUS));
    return g >= 0 ? apigw_http_status_for_grpc(g) : r->status;
}
