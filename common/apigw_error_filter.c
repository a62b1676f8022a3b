/* The error-body filter every module shares (see apigw_error_filter.h):
 * it drops the data httpd generated and puts the gateway's body before
 * the EOS, setting the type, length and Cache-Control once; in the
 * request's ApiErrorFormat (apigw_json_error.h) unless the body is
 * given. */
#include "apigw_error_filter.h"
#include "apigw_json_error.h"

#include "http_protocol.h"
#include "apr_strings.h"

typedef struct {
    const char *body;               /* given, or made on the first call */
    const char *message;            /* for the made one; NULL: reason */
    int headers_set;
    int grpc;                       /* a gRPC call: grpc-status, no body */
} error_body;

static void set_headers(request_rec *r, error_body *eb)
{
    const char *message = eb->message ? eb->message
                                      : apigw_status_reason(r->status);

    if (eb->grpc) {
        eb->body = "";
        apigw_grpc_error_headers(r, r->status, message);
        return;
    }
    if (!eb->body) {
        eb->body = apigw_error_prepare(r, r->status, message);
        return;
    }
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)strlen(eb->body));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
}

apr_status_t apigw_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    error_body *eb = f->ctx;
    apr_bucket *b, *next;

    if (!eb->headers_set) {
        eb->headers_set = 1;
        set_headers(r, eb);
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_EOS(b)) {
            if (!r->header_only && *eb->body) {
                APR_BUCKET_INSERT_BEFORE(b, apr_bucket_immortal_create(
                    eb->body, strlen(eb->body), f->c->bucket_alloc));
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

void apigw_error_filter_add(request_rec *r, ap_filter_rec_t *handle,
                            const char *body, const char *message)
{
    error_body *eb = apr_pcalloc(r->pool, sizeof(*eb));

    eb->body = body;
    eb->message = message;
    eb->grpc = !body && apigw_error_for_grpc(r);
    apr_table_setn(r->notes, APIGW_NOTE_ERROR_OWNED, "1");
    ap_add_output_filter_handle(handle, eb, r, r->connection);
}

int apigw_error_owned(const request_rec *r)
{
    return apr_table_get(r->notes, APIGW_NOTE_ERROR_OWNED) != NULL;
}
