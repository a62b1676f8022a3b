/* The JSON error body every mod_apigw module answers with when it, not a
 * backend, answers a request: {"status":N,"error":"..."}, or a gRPC
 * status when the request is a gRPC call (see the header). */
#include "apigw_json_error.h"
#include "apigw_json.h"
#include "apigw_grpc_status.h"
#include "apigw_contract.h"

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

#define FORMAT_KRAKEND          "krakend"
#define FORMAT_KRAKEND_MESSAGES "krakend messages"

apigw_error_format apigw_error_format_of(const request_rec *r)
{
    const char *v = apr_table_get(r->notes, APIGW_NOTE_ERROR_FORMAT);

    if (!v) {
        return APIGW_ERRORS_JSON;
    }
    return strcmp(v, FORMAT_KRAKEND_MESSAGES) == 0
           ? APIGW_ERRORS_KRAKEND_MESSAGES : APIGW_ERRORS_KRAKEND;
}

const char *apigw_error_format_note(apigw_error_format format)
{
    switch (format) {
    case APIGW_ERRORS_KRAKEND:
        return FORMAT_KRAKEND;
    case APIGW_ERRORS_KRAKEND_MESSAGES:
        return FORMAT_KRAKEND_MESSAGES;
    default:
        return NULL;
    }
}

/* KrakenD's answers: gin's own texts for a path no endpoint takes and a
 * method the path does not; a router that returns error messages
 * (return_error_msg) writes a failure's text, as Go types it; everything
 * else (its middlewares' refusals: JWT, bot detector, rate limits) is
 * an empty body without a type. */
static const char *krakend_body(const request_rec *r, apigw_error_format f,
                                int status, const char *message,
                                const char **ctype)
{
    switch (status) {
    case HTTP_NOT_FOUND:
        *ctype = "text/plain";
        return "404 page not found";
    case HTTP_METHOD_NOT_ALLOWED:
        *ctype = "text/plain";
        return "405 method not allowed";
    default:
        break;
    }
    if (f == APIGW_ERRORS_KRAKEND_MESSAGES && ap_is_HTTP_SERVER_ERROR(status)
        && *message && !apigw_refused(r)) {
        *ctype = "text/plain; charset=utf-8";
        return message;
    }
    *ctype = NULL;
    return "";
}

const char *apigw_error_body(request_rec *r, int status, const char *message,
                             const char **ctype)
{
    apigw_error_format f = apigw_error_format_of(r);

    if (!message) {
        message = apigw_status_reason(status);
    }
    if (f == APIGW_ERRORS_JSON) {
        *ctype = "application/json";
        return apigw_json_error_body(r, status, message);
    }
    return krakend_body(r, f, status, message, ctype);
}

/* What every answer of the gateway's own has: its status, type (ctype
 * NULL: none), length, no note of mod_proxy's left for httpd's error
 * page, and never cached when no_store. */
static void error_head(request_rec *r, int status, const char *ctype,
                       apr_size_t len, int no_store)
{
    r->status = status;
    r->status_line = NULL;          /* mod_proxy may have set its own */
    apr_table_unset(r->notes, "error-notes");
    if (ctype) {
        ap_set_content_type(r, ctype);
    }
    else {
        r->content_type = NULL;     /* httpd then sends no Content-Type */
    }
    ap_set_content_length(r, (apr_off_t)len);
    if (no_store) {
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
}

const char *apigw_error_prepare(request_rec *r, int status,
                                const char *message)
{
    const char *ctype;
    const char *body = apigw_error_body(r, status, message, &ctype);

    error_head(r, status, ctype, strlen(body),
               apigw_error_format_of(r) == APIGW_ERRORS_JSON);
    return body;
}

void apigw_grpc_error_headers(request_rec *r, int status, const char *message)
{
    apr_table_setn(r->notes, APIGW_NOTE_STATUS,
                   apr_itoa(r->pool, status));
    error_head(r, HTTP_OK, "application/grpc", 0, 1);
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
    body = apigw_error_prepare(r, status, message);
    len = strlen(body);
    if (!r->header_only && len) {
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
