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
#include "apigw_error_filter.h"

#include "http_protocol.h"
#include "mod_core.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

ap_filter_rec_t *apigw_json_error_filter_handle;

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
    const char *body = NULL;

    /* an ErrorDocument the operator wrote wins; so does a module that
     * shapes this error itself (mod_apigw_auth's 401s) */
    if (r->status < 400 || apigw_error_owned(r)
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
    apigw_error_filter_add(r, apigw_json_error_filter_handle, body, NULL);
}
