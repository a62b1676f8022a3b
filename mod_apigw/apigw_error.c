/* The gateway's own error responses: always JSON, {"status":N,"error":"..."},
 * so API clients never have to parse httpd's HTML error pages. */
#include "apigw_error.h"
#include "apigw_request.h"
#include "apigw_json_error.h"

#include "http_protocol.h"
#include "mod_core.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

#define ERROR_FILTER "APIGW_JSON_ERROR"

static ap_filter_rec_t *error_filter_handle;

/* Replaces the HTML body of an error httpd generates with the JSON one:
 * every data bucket is dropped and the JSON goes in before the EOS. */
static apr_status_t json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket *b, *next;

    if (!f->ctx) {
        const char *body = apigw_json_error_body(r, r->status,
                                                 apigw_status_reason(r->status));
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
