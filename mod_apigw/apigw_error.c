/* The gateway's own error responses: always JSON, {"status":N,"error":"..."},
 * so API clients never have to parse httpd's HTML error pages. */
#include "apigw_error.h"
#include "apigw_request.h"

#include "http_protocol.h"
#include "mod_core.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

#define ERROR_FILTER "APIGW_JSON_ERROR"

static ap_filter_rec_t *error_filter_handle;

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

static const char *error_body(request_rec *r, int status, const char *message)
{
    return apr_psprintf(r->pool, "{\"status\":%d,\"error\":\"%s\"}\n",
                        status, json_escape(r->pool, message));
}

/* The reason phrase of a status: "Unauthorized" for 401. */
static const char *reason(int status)
{
    const char *line = ap_get_status_line(status);
    return strlen(line) > 4 ? line + 4 : line;
}

int apigw_send_error(request_rec *r, int status, const char *message)
{
    const char *body = error_body(r, status, message);
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

/* Replaces the HTML body of an error httpd generates with the JSON one:
 * every data bucket is dropped and the JSON goes in before the EOS. */
static apr_status_t json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket *b, *next;

    if (!f->ctx) {
        const char *body = error_body(r, r->status, reason(r->status));
        f->ctx = (void *)body;
        ap_set_content_type(r, "application/json");
        ap_set_content_length(r, (apr_off_t)strlen(body));
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_EOS(b)) {
            if (!r->header_only) {
                const char *body = f->ctx;
                APR_BUCKET_INSERT_BEFORE(b, apr_bucket_immortal_create(
                    body, strlen(body), f->c->bucket_alloc));
            }
            ap_remove_output_filter(f);
            break;
        }
        if (!APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
        }
    }
    return ap_pass_brigade(f->next, bb);
}

static void insert_json_error(request_rec *r)
{
    /* an ErrorDocument the operator wrote wins */
    if (r->status >= 400 && apigw_request_get(r)
        && !ap_response_code_string(r, ap_index_of_response(r->status))) {
        ap_add_output_filter_handle(error_filter_handle, NULL, r,
                                    r->connection);
    }
}

void apigw_error_register_hooks(apr_pool_t *p)
{
    (void)p;
    error_filter_handle = ap_register_output_filter(ERROR_FILTER,
                                                    json_error_filter, NULL,
                                                    AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(insert_json_error, NULL, NULL, APR_HOOK_MIDDLE);
}
