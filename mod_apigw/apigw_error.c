/* The error responses httpd itself generates for an endpoint request
 * (401 and 403 from Require, 413 from LimitRequestBody, ...) rewritten to
 * the gateway's JSON body, {"status":N,"error":"..."}, by an output filter
 * added at insert_error_filter, so API clients never parse httpd's HTML
 * error pages. The body itself is common/apigw_json_error.c's. */
#include "apigw_error.h"
#include "apigw_request.h"
#include "apigw_json_error.h"

#include "http_protocol.h"
#include "mod_core.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

ap_filter_rec_t *apigw_json_error_filter_handle;

/* Replaces the HTML body of an error httpd generates with the JSON one:
 * every data bucket is dropped and the JSON goes in before the EOS. */
apr_status_t apigw_json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
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

void apigw_error_insert_filter(request_rec *r)
{
    /* an ErrorDocument the operator wrote wins */
    if (r->status >= 400 && apigw_request_get(r)
        && !ap_response_code_string(r, ap_index_of_response(r->status))) {
        ap_add_output_filter_handle(apigw_json_error_filter_handle, NULL, r,
                                    r->connection);
    }
}
