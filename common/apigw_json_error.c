/* The JSON error body every mod_apigw module answers with when it, not a
 * backend, answers a request: {"status":N,"error":"..."} (see the header). */
#include "apigw_json_error.h"

#include "http_protocol.h"
#include "apr_strings.h"

/* Escapes for a JSON string; messages are ours, but may quote a path. */
static const char *json_escape(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t n = 0;
    const char *c;
    char *out, *o;

    for (c = s; *c; c++) {
        n += ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\') ? 6 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u < 0x20 || u == '"' || u == '\\') {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[u >> 4];
            *o++ = hex[u & 0xf];
        }
        else {
            *o++ = (char)u;
        }
    }
    *o = '\0';
    return out;
}

const char *apigw_json_error_body(request_rec *r, int status, const char *message)
{
    return apr_psprintf(r->pool, "{\"status\":%d,\"error\":\"%s\"}\n",
                        status, json_escape(r->pool, message));
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

