/* The error responses httpd itself generates for an endpoint request
 * (401 and 403 from Require, 413 from LimitRequestBody, ...) rewritten to
 * the gateway's JSON body, {"status":N,"error":"..."}, by an output filter
 * added at insert_error_filter, so API clients never parse httpd's HTML
 * error pages. The body itself is common/apigw_json_error.c's. A request
 * to the admin API's GraphQL resource gets a GraphQL error instead
 * (UNAUTHENTICATED for a 401, FORBIDDEN for a 403, ...), a gRPC call a
 * gRPC status (common/apigw_json_error.h). */
#include "apigw_error.h"
#include "apigw_admin.h"
#include "apigw_admin_graphql.h"
#include "apigw_request.h"
#include "apigw_json_error.h"

#include "http_protocol.h"
#include "mod_core.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

ap_filter_rec_t *apigw_json_error_filter_handle;

/* The filter's state: the body (given at insertion, or the endpoint
 * JSON made on the first call) and whether the headers are set. */
typedef struct {
    const char *body;
    int headers_set;
    int grpc;                      /* a gRPC call: grpc-status, no body */
} error_body;

/* Replaces the HTML body of an error httpd generates with the JSON one:
 * every data bucket is dropped and the JSON goes in before the EOS. */
apr_status_t apigw_json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    error_body *eb = f->ctx;
    apr_bucket *b, *next;

    if (eb->grpc && !eb->headers_set) {
        eb->headers_set = 1;
        eb->body = "";
        apigw_grpc_error_headers(r, r->status, apigw_status_reason(r->status));
    }
    if (!eb->body) {
        eb->body = apigw_json_error_body(r, r->status,
                                         apigw_status_reason(r->status));
    }
    if (!eb->headers_set) {
        eb->headers_set = 1;
        ap_set_content_type(r, "application/json");
        ap_set_content_length(r, (apr_off_t)strlen(eb->body));
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_EOS(b)) {
            if (!r->header_only && *eb->body) {
                const char *body = eb->body;
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

/* The GraphQL code of an error status httpd answered. */
static const char *graphql_code(int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED:
        return "UNAUTHENTICATED";
    case HTTP_FORBIDDEN:
        return "FORBIDDEN";
    case HTTP_NOT_FOUND:
        return "NOT_FOUND";
    default:
        return status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_USER_INPUT";
    }
}

void apigw_error_insert_filter(request_rec *r)
{
    error_body *eb;
    const char *body = NULL;

    /* an ErrorDocument the operator wrote wins */
    if (r->status < 400
        || ap_response_code_string(r, ap_index_of_response(r->status))) {
        return;
    }
    /* outside endpoints, only the admin API's GraphQL resource and gRPC
     * calls get an error of their own shape */
    if (!apigw_request_get(r)) {
        if (apigw_admin_is_graphql(r)) {
            body = apigw_admin_graphql_error(r->pool, apr_psprintf(r->pool,
                       "%d %s", r->status, apigw_status_reason(r->status)),
                       graphql_code(r->status));
        }
        else if (!apigw_error_for_grpc(r)) {
            return;
        }
    }
    eb = apr_pcalloc(r->pool, sizeof(*eb));
    eb->body = body;
    eb->grpc = !body && apigw_error_for_grpc(r);
    ap_add_output_filter_handle(apigw_json_error_filter_handle, eb, r,
                                r->connection);
}
